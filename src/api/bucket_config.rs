//! Bucket configuration documents: tagging, CORS, policy, lifecycle, encryption, website,
//! public access block, request payment, accelerate, logging, notification and object lock.
//! Each is validated the way S3 validates it, stored as sent (so it round-trips byte for
//! byte), and answered with S3's "no such configuration" error — or S3's default document —
//! when unset.

use super::bucket::MAX_XML_BODY;
use super::{Ctx, ReqBody};
use crate::error::{Code, S3Error, S3Result};
use crate::server::response::{bytes, empty, set_header, xml, Resp};
use crate::store::{Bucket, ConfigKind, ObjectOwnership, Versioning, STORAGE_CLASSES};
use crate::wire::headers::validate_tag;
use crate::wire::request_body::{receive, BodySpec};
use crate::wire::xml::{self as xmlp, Element, XmlWriter, S3_NS};

/// The default document S3 answers for a kind that was never put, if it has one.
fn default_doc(kind: ConfigKind) -> Option<String> {
    let doc = |body: &str| {
        format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{body}").replace("{NS}", S3_NS)
    };
    match kind {
        // Every bucket is encrypted with SSE-S3 by default (since 2023).
        ConfigKind::Encryption => Some(doc("<ServerSideEncryptionConfiguration xmlns=\"{NS}\"><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256</SSEAlgorithm></ApplyServerSideEncryptionByDefault><BucketKeyEnabled>false</BucketKeyEnabled></Rule></ServerSideEncryptionConfiguration>")),
        ConfigKind::RequestPayment => Some(doc("<RequestPaymentConfiguration xmlns=\"{NS}\"><Payer>BucketOwner</Payer></RequestPaymentConfiguration>")),
        ConfigKind::Accelerate => Some(doc("<AccelerateConfiguration xmlns=\"{NS}\"></AccelerateConfiguration>")),
        ConfigKind::Logging => Some(doc("<BucketLoggingStatus xmlns=\"{NS}\"></BucketLoggingStatus>")),
        ConfigKind::Notification => Some(doc("<NotificationConfiguration xmlns=\"{NS}\"></NotificationConfiguration>")),
        _ => None,
    }
}

/// The document new buckets start with (Block Public Access is on for new buckets since 2023).
pub fn initial_public_access_block() -> String {
    let mut w = XmlWriter::new();
    w.root("PublicAccessBlockConfiguration")
        .elem("BlockPublicAcls", "true")
        .elem("IgnorePublicAcls", "true")
        .elem("BlockPublicPolicy", "true")
        .elem("RestrictPublicBuckets", "true");
    w.finish()
}

/// The object-lock document of a bucket created with `x-amz-bucket-object-lock-enabled: true`.
pub fn initial_object_lock() -> String {
    let mut w = XmlWriter::new();
    w.root("ObjectLockConfiguration")
        .elem("ObjectLockEnabled", "Enabled");
    w.finish()
}

fn missing(kind: ConfigKind, bucket: &str) -> S3Error {
    let code = match kind {
        ConfigKind::Cors => Code::NoSuchCORSConfiguration,
        ConfigKind::Policy => Code::NoSuchBucketPolicy,
        ConfigKind::Lifecycle => Code::NoSuchLifecycleConfiguration,
        ConfigKind::Website => Code::NoSuchWebsiteConfiguration,
        ConfigKind::Tagging => Code::NoSuchTagSet,
        ConfigKind::ObjectLock => Code::ObjectLockConfigurationNotFoundError,
        ConfigKind::PublicAccessBlock => Code::NoSuchPublicAccessBlockConfiguration,
        ConfigKind::Replication => Code::ReplicationConfigurationNotFoundError,
        _ => Code::ServerSideEncryptionConfigurationNotFoundError,
    };
    S3Error::new(code).extra("BucketName", bucket)
}

pub fn get_config(ctx: &Ctx, kind: ConfigKind) -> S3Result<Resp> {
    let bucket = ctx.run.bucket(ctx.bucket_name())?;
    let doc = bucket
        .config(kind)
        .or_else(|| default_doc(kind))
        .ok_or_else(|| missing(kind, &bucket.name))?;
    Ok(match kind {
        ConfigKind::Policy => bytes(200, "application/json", doc),
        ConfigKind::Lifecycle => {
            let mut resp = xml(200, doc);
            set_minimum_size_header(&mut resp, &bucket);
            resp
        }
        _ => xml(200, doc),
    })
}

/// Header and values of PutBucketLifecycleConfiguration's `TransitionDefaultMinimumObjectSize`.
const MINIMUM_SIZE_HEADER: &str = "x-amz-transition-default-minimum-object-size";
const MINIMUM_SIZE_DEFAULT: &str = "all_storage_classes_128K";
pub const MINIMUM_SIZE_VARIES: &str = "varies_by_storage_class";

fn set_minimum_size_header(resp: &mut Resp, bucket: &Bucket) {
    let value = bucket.config(ConfigKind::TransitionMinimumSize);
    set_header(
        resp,
        MINIMUM_SIZE_HEADER,
        value.as_deref().unwrap_or(MINIMUM_SIZE_DEFAULT),
    );
}

/// The request's `x-amz-transition-default-minimum-object-size`: `Some` for the non-default
/// value; an unknown one is refused as S3 refuses it.
fn requested_minimum_size(ctx: &Ctx) -> S3Result<Option<&'static str>> {
    match ctx.header(MINIMUM_SIZE_HEADER) {
        None | Some(MINIMUM_SIZE_DEFAULT) => Ok(None),
        Some(MINIMUM_SIZE_VARIES) => Ok(Some(MINIMUM_SIZE_VARIES)),
        Some(other) => Err(S3Error::invalid_request(format!(
            "Invalid TransitionDefaultMinimumObjectSize found: {other}"
        ))),
    }
}

/// The lifecycle document to store: as sent, unless a rule has no `ID`; then rewritten with
/// one generated for each such rule, as S3 does (its answer to Get shows them).
fn with_rule_ids(text: String, root: &Element) -> String {
    if root.children_named("Rule").all(|r| r.child("ID").is_some()) {
        return text;
    }
    let mut root = root.clone();
    for rule in root.children.iter_mut().filter(|c| c.name == "Rule") {
        if rule.child("ID").is_none() {
            rule.children.insert(
                0,
                Element {
                    name: "ID".into(),
                    text: crate::ids::lifecycle_rule_id(),
                    children: Vec::new(),
                },
            );
        }
    }
    let mut w = XmlWriter::new();
    w.root("LifecycleConfiguration").children_of(&root);
    w.finish()
}

/// A lifecycle document from elsewhere than PutBucketLifecycleConfiguration (seeds, the
/// embedded API), validated and given rule IDs the same way.
pub fn prepare_lifecycle_doc(doc: String) -> S3Result<String> {
    let root = xmlp::parse(doc.as_bytes())?;
    validate_lifecycle(&root)?;
    Ok(with_rule_ids(doc, &root))
}

pub async fn put_config(ctx: &Ctx, kind: ConfigKind, body: ReqBody) -> S3Result<Resp> {
    let bucket = ctx.run.bucket(ctx.bucket_name())?;
    let spec = BodySpec::from_headers(&ctx.headers)?;
    let raw = receive(body, &spec, None, MAX_XML_BODY).await?.into_bytes();
    let text = String::from_utf8(raw.to_vec()).map_err(|_| match kind {
        ConfigKind::Policy => S3Error::new(Code::MalformedPolicy),
        _ => S3Error::malformed_xml(),
    })?;
    let minimum_size = match kind {
        ConfigKind::Lifecycle => requested_minimum_size(ctx)?,
        _ => None,
    };
    let text = if kind == ConfigKind::Policy {
        validate_policy(&text)?;
        crate::auth::authorize::check_new_policy(&ctx.auth, &bucket, &text)?;
        text
    } else {
        let root = xmlp::parse(text.as_bytes())?;
        validate(kind, &root, ctx, &bucket)?;
        match kind {
            ConfigKind::Lifecycle => with_rule_ids(text, &root),
            ConfigKind::Notification => crate::events::config::with_ids(text, &root),
            _ => text,
        }
    };
    bucket.set_config(kind, Some(text));
    if kind == ConfigKind::Notification {
        ctx.run
            .events
            .configuration_put(&bucket, ctx.run.now(), &ctx.origin());
    }
    Ok(match kind {
        ConfigKind::Policy | ConfigKind::Tagging => empty(204),
        ConfigKind::Lifecycle => {
            bucket.set_config(
                ConfigKind::TransitionMinimumSize,
                minimum_size.map(str::to_string),
            );
            let mut resp = empty(200);
            set_minimum_size_header(&mut resp, &bucket);
            resp
        }
        _ => empty(200),
    })
}

pub fn delete_config(ctx: &Ctx, kind: ConfigKind) -> S3Result<Resp> {
    let bucket = ctx.run.bucket(ctx.bucket_name())?;
    bucket.set_config(kind, None);
    if kind == ConfigKind::Lifecycle {
        bucket.set_config(ConfigKind::TransitionMinimumSize, None);
    }
    Ok(empty(204))
}

fn expect_root(root: &Element, name: &str) -> S3Result<()> {
    if root.name == name {
        Ok(())
    } else {
        Err(S3Error::malformed_xml())
    }
}

fn positive_int(text: Option<&str>) -> Option<u64> {
    text.and_then(|t| t.trim().parse::<u64>().ok())
        .filter(|n| *n > 0)
}

/// Lifecycle day counts are `xs:int` in S3's schema: a number beyond it does not validate
/// (`MalformedXML`), whatever the action.
fn check_schema_ints(rule: &Element) -> S3Result<()> {
    const FIELDS: [(&str, &str); 6] = [
        ("Expiration", "Days"),
        ("Transition", "Days"),
        ("NoncurrentVersionTransition", "NoncurrentDays"),
        ("NoncurrentVersionExpiration", "NoncurrentDays"),
        ("NoncurrentVersionExpiration", "NewerNoncurrentVersions"),
        ("AbortIncompleteMultipartUpload", "DaysAfterInitiation"),
    ];
    for (action, field) in FIELDS {
        for holder in rule.children_named(action) {
            let Some(text) = holder.child_text(field) else {
                continue;
            };
            let t = text.trim();
            let digits = t.strip_prefix(['-', '+']).unwrap_or(t);
            if !digits.is_empty()
                && digits.bytes().all(|b| b.is_ascii_digit())
                && t.parse::<i32>().is_err()
            {
                return Err(S3Error::malformed_xml());
            }
        }
    }
    Ok(())
}

/// Most noncurrent versions a rule may keep (`NewerNoncurrentVersions`).
const MAX_NEWER_NONCURRENT_VERSIONS: u64 = 100;

fn one_of<'a>(text: Option<&'a str>, allowed: &[&str]) -> S3Result<&'a str> {
    text.map(str::trim)
        .filter(|t| allowed.contains(t))
        .ok_or_else(S3Error::malformed_xml)
}

fn validate(kind: ConfigKind, root: &Element, ctx: &Ctx, bucket: &Bucket) -> S3Result<()> {
    match kind {
        ConfigKind::Tagging => validate_bucket_tagging(root),
        ConfigKind::Cors => validate_cors(root),
        ConfigKind::Lifecycle => validate_lifecycle(root),
        ConfigKind::Encryption => validate_encryption(root),
        ConfigKind::Website => validate_website(root),
        ConfigKind::PublicAccessBlock => {
            expect_root(root, "PublicAccessBlockConfiguration")?;
            for c in &root.children {
                one_of(Some(&c.text), &["true", "false"])?;
            }
            Ok(())
        }
        ConfigKind::RequestPayment => {
            expect_root(root, "RequestPaymentConfiguration")?;
            one_of(root.child_text("Payer"), &["Requester", "BucketOwner"]).map(|_| ())
        }
        ConfigKind::Accelerate => {
            expect_root(root, "AccelerateConfiguration")?;
            one_of(root.child_text("Status"), &["Enabled", "Suspended"])?;
            if bucket.name.contains('.') {
                return Err(S3Error::invalid_request(
                    "S3 Transfer Acceleration is not supported for buckets with periods (.) in their names",
                ));
            }
            Ok(())
        }
        ConfigKind::Logging => {
            expect_root(root, "BucketLoggingStatus")?;
            if let Some(enabled) = root.child("LoggingEnabled") {
                let target = enabled
                    .child_text("TargetBucket")
                    .ok_or_else(S3Error::malformed_xml)?;
                enabled
                    .child("TargetPrefix")
                    .ok_or_else(S3Error::malformed_xml)?;
                let Ok(target_bucket) = ctx.run.bucket(target) else {
                    return Err(S3Error::new(Code::InvalidTargetBucketForLogging)
                        .extra("TargetBucket", target));
                };
                if target_bucket.region != bucket.region {
                    return Err(S3Error::new(Code::CrossLocationLoggingProhibitted)
                        .extra("TargetBucketLocation", target_bucket.region.clone())
                        .extra("SourceBucketLocation", bucket.region.clone()));
                }
            }
            Ok(())
        }
        ConfigKind::Notification => {
            crate::events::config::parse(root, Some(&bucket.region)).map(|_| ())
        }
        ConfigKind::ObjectLock => validate_object_lock(root, bucket),
        ConfigKind::Replication => super::replication::validate_replication(root, ctx, bucket),
        ConfigKind::Policy | ConfigKind::TransitionMinimumSize => Ok(()),
    }
}

/// Largest bucket policy AWS accepts: 20 KB.
pub const MAX_POLICY_BYTES: usize = 20 * 1024;

fn validate_policy(text: &str) -> S3Result<()> {
    let value: serde_json::Value = serde_json::from_str(text)
        .ok()
        .filter(|_| text.trim_start().starts_with('{'))
        .ok_or_else(|| S3Error::new(Code::MalformedPolicy))?;
    // AWS measures the policy without insignificant whitespace.
    if serde_json::to_string(&value).map_or(0, |s| s.len()) > MAX_POLICY_BYTES {
        return Err(S3Error::with_message(
            Code::MalformedPolicy,
            "Policy exceeds the maximum allowed document size.",
        ));
    }
    let statement = value.get("Statement").ok_or_else(|| {
        S3Error::with_message(Code::MalformedPolicy, "Missing required field Statement")
    })?;
    let statements: Vec<&serde_json::Value> = match statement {
        serde_json::Value::Array(a) => a.iter().collect(),
        other => vec![other],
    };
    if statements.is_empty() {
        return Err(S3Error::with_message(
            Code::MalformedPolicy,
            "Could not parse the policy: Statement is empty!",
        ));
    }
    for s in statements {
        match s.get("Effect").and_then(|e| e.as_str()) {
            Some("Allow" | "Deny") => {}
            _ => {
                return Err(S3Error::with_message(
                    Code::MalformedPolicy,
                    "Invalid effect: missing or not Allow/Deny",
                ))
            }
        }
        if s.get("Action").is_none() && s.get("NotAction").is_none() {
            return Err(S3Error::with_message(
                Code::MalformedPolicy,
                "Missing required field Action",
            ));
        }
    }
    Ok(())
}

/// Most tags a bucket may carry.
const MAX_BUCKET_TAGS: usize = 50;

fn validate_bucket_tagging(root: &Element) -> S3Result<()> {
    expect_root(root, "Tagging")?;
    let set = root.child("TagSet").ok_or_else(S3Error::malformed_xml)?;
    // The count first: the duplicate check below is quadratic, so it only ever sees fifty.
    if set.children_named("Tag").count() > MAX_BUCKET_TAGS {
        return Err(too_many_bucket_tags());
    }
    let mut keys: Vec<&str> = Vec::new();
    for tag in set.children_named("Tag") {
        let key = tag.child_text("Key").ok_or_else(S3Error::malformed_xml)?;
        let value = tag.child_text("Value").ok_or_else(S3Error::malformed_xml)?;
        validate_tag(key, value)?;
        if key.to_ascii_lowercase().starts_with("aws:") {
            return Err(S3Error::with_message(
                Code::InvalidTag,
                "System tags cannot be added/updated by requester",
            ));
        }
        if keys.contains(&key) {
            return Err(S3Error::with_message(
                Code::InvalidTag,
                "Cannot provide multiple Tags with the same key",
            )
            .extra("TagKey", key));
        }
        keys.push(key);
    }
    Ok(())
}

fn too_many_bucket_tags() -> S3Error {
    S3Error::with_message(
        Code::InvalidTag,
        "Bucket tag count cannot be greater than 50",
    )
}

fn validate_cors(root: &Element) -> S3Result<()> {
    expect_root(root, "CORSConfiguration")?;
    let rules: Vec<&Element> = root.children_named("CORSRule").collect();
    if rules.is_empty() || rules.len() > 100 {
        return Err(S3Error::malformed_xml());
    }
    for rule in rules {
        let mut methods = rule.children_named("AllowedMethod").peekable();
        if methods.peek().is_none() || rule.child("AllowedOrigin").is_none() {
            return Err(S3Error::malformed_xml());
        }
        for m in methods {
            if !["GET", "PUT", "HEAD", "POST", "DELETE"].contains(&m.text.trim()) {
                return Err(S3Error::invalid_request(format!(
                    "Found unsupported HTTP method in CORS config. Unsupported method is {}",
                    m.text.trim()
                )));
            }
        }
    }
    Ok(())
}

const LIFECYCLE_ACTIONS: [&str; 5] = [
    "Expiration",
    "Transition",
    "NoncurrentVersionExpiration",
    "NoncurrentVersionTransition",
    "AbortIncompleteMultipartUpload",
];

/// Validates a lifecycle document as PutBucketLifecycleConfiguration would.
pub fn validate_lifecycle_doc(doc: &str) -> S3Result<()> {
    validate_lifecycle(&xmlp::parse(doc.as_bytes())?)
}

fn validate_lifecycle(root: &Element) -> S3Result<()> {
    expect_root(root, "LifecycleConfiguration")?;
    let rules: Vec<&Element> = root.children_named("Rule").collect();
    if rules.is_empty() || rules.len() > 1000 {
        return Err(S3Error::malformed_xml());
    }
    let mut ids: Vec<&str> = Vec::new();
    for rule in rules {
        if let Some(id) = rule.child_text("ID") {
            if id.chars().count() > 255 {
                return Err(S3Error::invalid_argument(
                    "ID length should not exceed allowed limit of 255",
                    "ID",
                    id,
                ));
            }
            if ids.contains(&id) {
                return Err(S3Error::invalid_argument(
                    "Rule ID must be unique. Found same ID for more than one rule",
                    "ID",
                    id,
                ));
            }
            ids.push(id);
        }
        one_of(rule.child_text("Status"), &["Enabled", "Disabled"])?;
        check_schema_ints(rule)?;
        if rule.child("Filter").is_some() && rule.child("Prefix").is_some() {
            return Err(S3Error::malformed_xml());
        }
        if let Some(filter) = rule.child("Filter") {
            validate_lifecycle_filter(filter)?;
        }
        if !LIFECYCLE_ACTIONS.iter().any(|a| rule.child(a).is_some()) {
            return Err(S3Error::invalid_request(
                "At least one action needs to be specified in a rule",
            ));
        }
        if let Some(exp) = rule.child("Expiration") {
            let given = ["Days", "Date", "ExpiredObjectDeleteMarker"]
                .iter()
                .filter(|n| exp.child(n).is_some())
                .count();
            if given != 1 {
                return Err(S3Error::malformed_xml());
            }
            if exp.child("Days").is_some() && positive_int(exp.child_text("Days")).is_none() {
                return Err(S3Error::invalid_argument(
                    "'Days' for Expiration action must be a positive integer",
                    "Days",
                    exp.child_text("Days").unwrap_or(""),
                ));
            }
            if let Some(date) = exp.child_text("Date") {
                check_midnight(date)?;
            }
            if let Some(m) = exp.child_text("ExpiredObjectDeleteMarker") {
                one_of(Some(m), &["true", "false"])?;
            }
        }
        for t in rule.children_named("Transition") {
            validate_transition(t, "Days")?;
        }
        for t in rule.children_named("NoncurrentVersionTransition") {
            validate_transition(t, "NoncurrentDays")?;
        }
        if let Some(nve) = rule.child("NoncurrentVersionExpiration") {
            if positive_int(nve.child_text("NoncurrentDays")).is_none() {
                return Err(S3Error::invalid_argument(
                    "'NoncurrentDays' for NoncurrentVersionExpiration action must be a positive integer",
                    "NoncurrentDays",
                    nve.child_text("NoncurrentDays").unwrap_or(""),
                ));
            }
            if nve.child("NewerNoncurrentVersions").is_some()
                && positive_int(nve.child_text("NewerNoncurrentVersions"))
                    .filter(|n| *n <= MAX_NEWER_NONCURRENT_VERSIONS)
                    .is_none()
            {
                return Err(S3Error::invalid_argument(
                    "'NewerNoncurrentVersions' for NoncurrentVersionExpiration action must be an integer between 1 and 100",
                    "NewerNoncurrentVersions",
                    nve.child_text("NewerNoncurrentVersions").unwrap_or(""),
                ));
            }
        }
        if let Some(abort) = rule.child("AbortIncompleteMultipartUpload") {
            if positive_int(abort.child_text("DaysAfterInitiation")).is_none() {
                return Err(S3Error::invalid_argument(
                    "'DaysAfterInitiation' for AbortIncompleteMultipartUpload action must be a positive integer",
                    "DaysAfterInitiation",
                    abort.child_text("DaysAfterInitiation").unwrap_or(""),
                ));
            }
        }
        check_filter_fits_actions(rule)?;
    }
    Ok(())
}

/// Delete markers and uploads have neither tags nor a size, so S3 refuses a rule that would
/// pick them by either.
fn check_filter_fits_actions(rule: &Element) -> S3Result<()> {
    let filter = rule.child("Filter");
    let holders = || {
        [filter, filter.and_then(|f| f.child("And"))]
            .into_iter()
            .flatten()
    };
    let tags = holders().any(|f| f.child("Tag").is_some());
    let sizes = holders().any(|f| {
        f.child("ObjectSizeGreaterThan").is_some() || f.child("ObjectSizeLessThan").is_some()
    });
    let marker = rule
        .child("Expiration")
        .is_some_and(|e| e.child("ExpiredObjectDeleteMarker").is_some());
    let abort = rule.child("AbortIncompleteMultipartUpload").is_some();
    for (action, applies) in [
        ("ExpiredObjectDeleteMarker", marker),
        ("AbortIncompleteMultipartUpload", abort),
    ] {
        if applies && tags {
            return Err(S3Error::invalid_request(format!(
                "{action} cannot be specified with Tags."
            )));
        }
        if applies && sizes {
            return Err(S3Error::invalid_request(format!(
                "{action} cannot be specified with Object Size."
            )));
        }
    }
    Ok(())
}

/// The largest object size a lifecycle filter may name (1,000 TiB).
const MAX_FILTER_SIZE: u64 = 1_099_511_627_776_000;

fn validate_lifecycle_filter(filter: &Element) -> S3Result<()> {
    const PREDICATES: [&str; 5] = [
        "Prefix",
        "Tag",
        "And",
        "ObjectSizeGreaterThan",
        "ObjectSizeLessThan",
    ];
    let given: Vec<&Element> = filter
        .children
        .iter()
        .filter(|c| PREDICATES.contains(&c.name.as_str()))
        .collect();
    if given.len() > 1 || given.len() != filter.children.len() {
        return Err(S3Error::malformed_xml());
    }
    let tags = |e: &Element| -> S3Result<()> {
        for t in e.children_named("Tag") {
            let k = t.child_text("Key").ok_or_else(S3Error::malformed_xml)?;
            validate_tag(k, t.child_text("Value").unwrap_or(""))?;
        }
        Ok(())
    };
    tags(filter)?;
    if let Some(and) = filter.child("And") {
        tags(and)?;
    }
    for holder in [Some(filter), filter.child("And")].into_iter().flatten() {
        let mut sizes = [None, None];
        for (i, (size, min)) in [("ObjectSizeGreaterThan", 0), ("ObjectSizeLessThan", 1)]
            .into_iter()
            .enumerate()
        {
            if let Some(v) = holder.child_text(size) {
                let n = v
                    .trim()
                    .parse::<u64>()
                    .map_err(|_| S3Error::malformed_xml())?;
                if !(min..=MAX_FILTER_SIZE).contains(&n) {
                    return Err(S3Error::invalid_request(format!(
                        "'{size}' should be between {min} and {MAX_FILTER_SIZE}."
                    )));
                }
                sizes[i] = Some(n);
            }
        }
        if let [Some(greater), Some(less)] = sizes {
            if less <= greater {
                return Err(S3Error::invalid_request(
                    "'ObjectSizeLessThan' has to be a value greater than 'ObjectSizeGreaterThan'.",
                ));
            }
        }
    }
    if let Some(and) = filter.child("And") {
        // Sorted, so the check stays O(n log n) however many tags a client sends.
        let mut keys: Vec<&str> = and
            .children_named("Tag")
            .filter_map(|t| t.child_text("Key"))
            .collect();
        keys.sort_unstable();
        if keys.windows(2).any(|w| w[0] == w[1]) {
            return Err(S3Error::invalid_request(
                "Duplicate Tag Keys are not allowed.",
            ));
        }
    }
    Ok(())
}

fn validate_transition(t: &Element, days_name: &str) -> S3Result<()> {
    let class = t.child_text("StorageClass").map(str::trim).unwrap_or("");
    if class == "STANDARD" || !STORAGE_CLASSES.contains(&class) {
        return Err(S3Error::malformed_xml());
    }
    let days = t.child_text(days_name).map(|d| d.trim().parse::<u64>());
    match (days, t.child_text("Date")) {
        (Some(Ok(d)), None) => {
            if matches!(class, "STANDARD_IA" | "ONEZONE_IA") && d < 30 {
                return Err(S3Error::invalid_argument(
                    format!("'{days_name}' in Transition action must be greater than or equal to 30 for storageClass '{class}'"),
                    days_name,
                    d.to_string(),
                ));
            }
            Ok(())
        }
        (None, Some(date)) if days_name == "Days" => check_midnight(date),
        _ => Err(S3Error::malformed_xml()),
    }
}

/// Lifecycle dates must be midnight UTC (`2027-01-01T00:00:00Z` or with `.000Z`).
fn check_midnight(date: &str) -> S3Result<()> {
    let d = date.trim();
    let parsed = time::OffsetDateTime::parse(d, &time::format_description::well_known::Rfc3339);
    match parsed {
        Ok(t) if t.hour() == 0 && t.minute() == 0 && t.second() == 0 && t.nanosecond() == 0 => {
            Ok(())
        }
        Ok(_) => Err(S3Error::invalid_argument(
            "'Date' must be at midnight GMT",
            "Date",
            d,
        )),
        Err(_) => Err(S3Error::malformed_xml()),
    }
}

fn validate_encryption(root: &Element) -> S3Result<()> {
    expect_root(root, "ServerSideEncryptionConfiguration")?;
    // One rule, no more (S3 answers MalformedXML for none and for two).
    let rules: Vec<&Element> = root.children_named("Rule").collect();
    if rules.len() != 1 {
        return Err(S3Error::malformed_xml());
    }
    for rule in rules {
        if let Some(by_default) = rule.child("ApplyServerSideEncryptionByDefault") {
            let algo = one_of(
                by_default.child_text("SSEAlgorithm"),
                &["AES256", "aws:kms", "aws:kms:dsse"],
            )?;
            if algo == "AES256" && by_default.child("KMSMasterKeyID").is_some() {
                return Err(S3Error::invalid_argument(
                    "a KMSMasterKeyID is not applicable if the default sse algorithm is not aws:kms or aws:kms:dsse",
                    "ApplyServerSideEncryptionByDefault",
                    "",
                ));
            }
        }
        if let Some(b) = rule.child_text("BucketKeyEnabled") {
            one_of(Some(b), &["true", "false"])?;
        }
        if let Some(blocked) = rule.child("BlockedEncryptionTypes") {
            for t in blocked.children_named("EncryptionType") {
                one_of(Some(&t.text), &["NONE", "SSE-C"])?;
            }
        }
    }
    Ok(())
}

fn validate_website(root: &Element) -> S3Result<()> {
    expect_root(root, "WebsiteConfiguration")?;
    if let Some(redirect) = root.child("RedirectAllRequestsTo") {
        if root.child("IndexDocument").is_some()
            || root.child("ErrorDocument").is_some()
            || root.child("RoutingRules").is_some()
        {
            return Err(S3Error::invalid_request(
                "RedirectAllRequestsTo cannot be provided in conjunction with other Routing Rules.",
            ));
        }
        redirect
            .child_text("HostName")
            .filter(|h| !h.trim().is_empty())
            .ok_or_else(S3Error::malformed_xml)?;
        return Ok(());
    }
    let suffix = root
        .child("IndexDocument")
        .and_then(|i| i.child_text("Suffix"))
        .ok_or_else(|| {
            S3Error::invalid_argument(
                "A value for IndexDocument Suffix must be provided if RedirectAllRequestsTo is empty",
                "IndexDocument",
                "",
            )
        })?;
    if suffix.is_empty() || suffix.contains('/') {
        return Err(S3Error::invalid_argument(
            "The IndexDocument Suffix is not well formed",
            "IndexDocument",
            suffix,
        ));
    }
    Ok(())
}

fn validate_object_lock(root: &Element, bucket: &Bucket) -> S3Result<()> {
    expect_root(root, "ObjectLockConfiguration")?;
    one_of(root.child_text("ObjectLockEnabled"), &["Enabled"])?;
    if let Some(rule) = root.child("Rule") {
        let retention = rule
            .child("DefaultRetention")
            .ok_or_else(S3Error::malformed_xml)?;
        one_of(retention.child_text("Mode"), &["GOVERNANCE", "COMPLIANCE"])?;
        let days = retention.child_text("Days");
        let years = retention.child_text("Years");
        match (days, years) {
            (Some(_), Some(_)) | (None, None) => return Err(S3Error::malformed_xml()),
            (Some(d), None) | (None, Some(d)) => {
                if positive_int(Some(d)).is_none() {
                    return Err(S3Error::invalid_argument(
                        "Default retention period must be a positive integer value",
                        if days.is_some() { "Days" } else { "Years" },
                        d,
                    ));
                }
            }
        }
    }
    if bucket.versioning().0 != Versioning::Enabled {
        return Err(S3Error::with_message(
            Code::InvalidBucketState,
            "Versioning must be 'Enabled' on the bucket to apply a Object Lock configuration",
        ));
    }
    Ok(())
}

/// GetBucketOwnershipControls: `BucketOwnerEnforced` for new buckets, as S3 reports it.
pub fn get_ownership_controls(ctx: &Ctx) -> S3Result<Resp> {
    let bucket = ctx.run.bucket(ctx.bucket_name())?;
    let ownership = bucket.object_ownership().ok_or_else(|| {
        S3Error::new(Code::OwnershipControlsNotFoundError).extra("BucketName", bucket.name.clone())
    })?;
    let mut w = XmlWriter::new();
    w.root("OwnershipControls")
        .open("Rule")
        .elem("ObjectOwnership", ownership.name());
    Ok(xml(200, w.finish()))
}

pub async fn put_ownership_controls(ctx: &Ctx, body: ReqBody) -> S3Result<Resp> {
    let bucket = ctx.run.bucket(ctx.bucket_name())?;
    let spec = BodySpec::from_headers(&ctx.headers)?;
    let doc = receive(body, &spec, None, MAX_XML_BODY).await?.into_bytes();
    let root = xmlp::parse(&doc)?;
    expect_root(&root, "OwnershipControls")?;
    let rules: Vec<&Element> = root.children_named("Rule").collect();
    if rules.len() != 1 {
        return Err(S3Error::malformed_xml());
    }
    let ownership = rules[0]
        .child_text("ObjectOwnership")
        .and_then(|o| ObjectOwnership::from_name(o.trim()))
        .ok_or_else(S3Error::malformed_xml)?;
    // Enforcing bucket-owner ownership is refused while the bucket ACL grants others access.
    if ownership == ObjectOwnership::BucketOwnerEnforced
        && !bucket.acl().is_owner_full_control_only()
    {
        return Err(S3Error::new(Code::InvalidBucketAclWithObjectOwnership));
    }
    bucket.set_object_ownership(Some(ownership));
    Ok(empty(200))
}

pub fn delete_ownership_controls(ctx: &Ctx) -> S3Result<Resp> {
    let bucket = ctx.run.bucket(ctx.bucket_name())?;
    bucket.set_object_ownership(None);
    Ok(empty(204))
}
