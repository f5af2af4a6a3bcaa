//! A seed checked and built into what will be stored, before anything is: names, sizes,
//! instants, version ids, ETags, checksums, ACLs and configuration documents, each refused with
//! a message naming the bucket and object.

use super::format::*;
use super::lifecycle_xml;
use crate::api::{prepare_lifecycle_doc, valid_bucket_name};
use crate::checksum::{self, Checksum, ChecksumAlgorithm, ChecksumType};
use crate::clock::{iso8601, parse_rfc3339, Millis, MAX_INSTANT};
use crate::error::S3Error;
use crate::store::Extra;
use crate::store::{
    storage_class_named, Acl, Body, ConfigKind, ETag, Encryption, Grant, Grantee, IdConfigKind,
    LockMode, Object, ObjectHeaders, ObjectOwnership, Owner, PartInfo, Permission, Restore,
    Retention, SseKind, Versioning, MAX_GRANTS, NULL_VERSION,
};
use bytes::Bytes;
use serde_json::Value;
use std::collections::HashSet;
use std::sync::Arc;

/// Largest object a seed may describe (S3's): 5 TiB.
pub const MAX_OBJECT_SIZE: u64 = 5 << 40;

/// Most bytes of filler (omitted bodies) one seed may ask for: they cost no memory until read,
/// but every 16 MiB of them is a segment.
pub const MAX_FILLER_BYTES: u64 = 5 << 40;

/// The shared zeros omitted bodies are made of (allocated zeroed, so untouched pages cost no
/// memory).
const FILLER_CHUNK: usize = 16 << 20;

fn filler(size: u64) -> Body {
    static ZEROS: std::sync::OnceLock<Bytes> = std::sync::OnceLock::new();
    if size == 0 {
        return Body::default();
    }
    let chunk = ZEROS.get_or_init(|| Bytes::from(vec![0u8; FILLER_CHUNK]));
    let whole = size / FILLER_CHUNK as u64;
    let rest = (size % FILLER_CHUNK as u64) as usize;
    let mut segments = vec![chunk.clone(); whole as usize];
    segments.push(chunk.slice(..rest));
    Body::from_segments(segments)
}

/// A seed checked and turned into what will be stored, before anything is.
pub(super) struct Prepared {
    pub(super) name: String,
    pub(super) region: String,
    pub(super) created: Option<Millis>,
    pub(super) versioning: Option<Versioning>,
    pub(super) mfa_delete: Option<String>,
    pub(super) configs: Vec<(ConfigKind, String)>,
    pub(super) id_configs: Vec<(IdConfigKind, String, String)>,
    pub(super) acl: Option<Arc<Acl>>,
    pub(super) ownership: Option<Option<ObjectOwnership>>,
    pub(super) objects: Vec<PreparedObject>,
}

/// An object ready to store; `last_modified` `None` is the run's now at apply time.
pub(super) struct PreparedObject {
    pub(super) object: Object,
    pub(super) last_modified: Option<Millis>,
}

/// The configuration kind of a seed's document name.
pub fn config_kind(name: &str) -> Option<ConfigKind> {
    CONFIG_NAMES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, k)| *k)
}

/// Every configuration kind with its name in seed documents.
pub const CONFIG_NAMES: [(&str, ConfigKind); 14] = [
    ("accelerate", ConfigKind::Accelerate),
    ("cors", ConfigKind::Cors),
    ("encryption", ConfigKind::Encryption),
    ("lifecycle", ConfigKind::Lifecycle),
    ("logging", ConfigKind::Logging),
    ("notification", ConfigKind::Notification),
    ("objectLock", ConfigKind::ObjectLock),
    ("policy", ConfigKind::Policy),
    ("publicAccessBlock", ConfigKind::PublicAccessBlock),
    ("replication", ConfigKind::Replication),
    ("requestPayment", ConfigKind::RequestPayment),
    ("tagging", ConfigKind::Tagging),
    ("website", ConfigKind::Website),
    (
        "transitionDefaultMinimumObjectSize",
        ConfigKind::TransitionMinimumSize,
    ),
];

/// Every id-keyed family with its name in seed documents.
pub const ID_CONFIG_NAMES: [(&str, IdConfigKind); 4] = [
    ("analytics", IdConfigKind::Analytics),
    ("intelligentTiering", IdConfigKind::IntelligentTiering),
    ("inventory", IdConfigKind::Inventory),
    ("metrics", IdConfigKind::Metrics),
];

/// The root element each XML configuration kind has.
fn config_root(kind: ConfigKind) -> Option<&'static str> {
    Some(match kind {
        ConfigKind::Accelerate => "AccelerateConfiguration",
        ConfigKind::Cors => "CORSConfiguration",
        ConfigKind::Encryption => "ServerSideEncryptionConfiguration",
        ConfigKind::Lifecycle => "LifecycleConfiguration",
        ConfigKind::Logging => "BucketLoggingStatus",
        ConfigKind::Notification => "NotificationConfiguration",
        ConfigKind::ObjectLock => "ObjectLockConfiguration",
        ConfigKind::PublicAccessBlock => "PublicAccessBlockConfiguration",
        ConfigKind::Replication => "ReplicationConfiguration",
        ConfigKind::RequestPayment => "RequestPaymentConfiguration",
        ConfigKind::Tagging => "Tagging",
        ConfigKind::Website => "WebsiteConfiguration",
        ConfigKind::Policy | ConfigKind::TransitionMinimumSize => return None,
    })
}

/// Largest configuration document (as S3's XML request bodies).
const MAX_CONFIG_DOC: usize = 4 * 1024 * 1024;

/// Most id-keyed documents of one family a bucket holds.
pub(super) const MAX_ID_CONFIGS: usize = 1000;

fn s3_message(e: S3Error) -> String {
    format!("{}: {}", e.code.as_str(), e.message)
}

/// Checks a configuration document as far as it can be without a request: its size, its
/// syntax and root element; lifecycle rules and notification targets fully.
fn check_config(kind: ConfigKind, doc: String, region: &str) -> Result<String, String> {
    if doc.len() > MAX_CONFIG_DOC {
        return Err("the document is larger than 4 MiB".into());
    }
    match kind {
        ConfigKind::Policy => {
            let ok = serde_json::from_str::<Value>(&doc).is_ok_and(|v| v.is_object());
            return if ok {
                Ok(doc)
            } else {
                Err("a policy is a JSON object".into())
            };
        }
        ConfigKind::TransitionMinimumSize => {
            return if doc == "varies_by_storage_class" {
                Ok(doc)
            } else {
                Err("the only value besides the default is varies_by_storage_class".into())
            };
        }
        ConfigKind::Lifecycle => return prepare_lifecycle_doc(doc).map_err(s3_message),
        _ => {}
    }
    let root = crate::wire::xml::parse(doc.as_bytes()).map_err(s3_message)?;
    if Some(root.name.as_str()) != config_root(kind) {
        return Err(format!(
            "the root element must be {}",
            config_root(kind).unwrap_or("")
        ));
    }
    if kind == ConfigKind::Notification {
        crate::events::config::parse(&root, Some(region)).map_err(s3_message)?;
    }
    Ok(doc)
}

/// An RFC 3339 instant a run's clock can show.
pub(super) fn instant(text: &str, what: &str) -> Result<Millis, String> {
    parse_rfc3339(text)
        .filter(|t| (0..=MAX_INSTANT).contains(t))
        .ok_or_else(|| {
            format!(
                "{what}: {text:?} is not an RFC 3339 instant from 1970 to {}",
                iso8601(MAX_INSTANT)
            )
        })
}

/// Text sent back in a header: no control characters.
fn header_text(v: &str, what: &str) -> Result<(), String> {
    if v.len() > 8192 || v.chars().any(|c| c.is_control() && c != '\t') {
        return Err(format!("{what}: at most 8 KiB, without control characters"));
    }
    Ok(())
}

/// `hex` (32 digits) or `hex-N` with N parts from 1 to 10,000.
fn parse_etag(text: &str) -> Option<ETag> {
    let (hex_part, parts) = match text.split_once('-') {
        Some((h, n)) => {
            let n: u32 = n.parse().ok().filter(|n| (1..=10_000).contains(n))?;
            (h, n)
        }
        None => (text, 0),
    };
    let mut md5 = [0u8; 16];
    hex::decode_to_slice(hex_part, &mut md5).ok()?;
    Some(ETag { md5, parts })
}

fn parse_checksum(c: &SeedChecksum) -> Result<Checksum, String> {
    let algorithm = ChecksumAlgorithm::ALL
        .into_iter()
        .find(|a| a.name() == c.algorithm)
        .ok_or_else(|| format!("checksum algorithm {:?} is not one S3 has", c.algorithm))?;
    let kind = match c.kind.as_str() {
        "FULL_OBJECT" => ChecksumType::FullObject,
        "COMPOSITE" => ChecksumType::Composite,
        other => {
            return Err(format!(
                "checksum type {other:?} is not FULL_OBJECT or COMPOSITE"
            ))
        }
    };
    let (digest, parts) = match c.value.split_once('-') {
        Some((d, n)) => (d, Some(n)),
        None => (c.value.as_str(), None),
    };
    let digest_ok = checksum::b64_decode(digest).is_some_and(|d| d.len() == algorithm.digest_len());
    let parts_ok = parts.is_none_or(|n| n.parse::<u32>().is_ok_and(|n| (1..=10_000).contains(&n)));
    if !digest_ok || !parts_ok || c.value.trim() != c.value {
        return Err(format!(
            "checksum {:?} is not a base64 {} value",
            c.value, c.algorithm
        ));
    }
    Ok(Checksum {
        algorithm,
        value: c.value.as_str().into(),
        kind,
    })
}

fn parse_encryption(e: &SeedEncryption) -> Result<Encryption, String> {
    let kind = match e.algorithm.as_str() {
        "AES256" => SseKind::S3,
        "aws:kms" => SseKind::Kms,
        "aws:kms:dsse" => SseKind::KmsDsse,
        "SSE-C" => SseKind::Customer,
        other => {
            return Err(format!(
                "encryption {other:?} is not AES256, aws:kms, aws:kms:dsse or SSE-C"
            ))
        }
    };
    let customer_key_hash = match &e.customer_key_hash {
        None => None,
        Some(h) => {
            let mut out = [0u8; 32];
            hex::decode_to_slice(h, &mut out)
                .map_err(|_| "customerKeyHash must be 64 hex digits".to_string())?;
            Some(out)
        }
    };
    if kind == SseKind::Customer && customer_key_hash.is_none() {
        return Err("an SSE-C object needs its customerKeyHash".into());
    }
    for (v, what) in [
        (&e.kms_key_id, "kmsKeyId"),
        (&e.context, "context"),
        (&e.customer_key_md5, "customerKeyMd5"),
    ] {
        if let Some(v) = v {
            header_text(v, what)?;
        }
    }
    Ok(Encryption {
        kind,
        kms_key_id: e.kms_key_id.as_deref().map(Arc::from),
        context: e.context.as_deref().map(Arc::from),
        bucket_key: e.bucket_key,
        customer_key_hash,
        customer_key_md5: e.customer_key_md5.as_deref().map(Arc::from),
    })
}

fn parse_acl(a: &SeedAcl) -> Result<Acl, String> {
    if a.grants.len() > MAX_GRANTS {
        return Err(format!("acl: at most {MAX_GRANTS} grants"));
    }
    let short = |v: &str, what: &str| {
        if v.is_empty() || v.len() > 1024 || v.chars().any(char::is_control) {
            Err(format!(
                "acl: {what} must be 1 to 1024 bytes without control characters"
            ))
        } else {
            Ok(())
        }
    };
    short(&a.owner.id, "owner id")?;
    header_text(&a.owner.display_name, "acl: owner displayName")?;
    let mut grants = Vec::with_capacity(a.grants.len());
    for g in &a.grants {
        let permission = Permission::from_name(&g.permission)
            .ok_or_else(|| format!("acl: unknown permission {:?}", g.permission))?;
        let e = &g.grantee;
        let grantee = match (e.kind.as_str(), &e.id, &e.uri, &e.email) {
            ("CanonicalUser", Some(id), None, None) => {
                short(id, "grantee id")?;
                if let Some(n) = &e.display_name {
                    header_text(n, "acl: grantee displayName")?;
                }
                Grantee::CanonicalUser {
                    id: id.clone(),
                    display_name: e.display_name.clone(),
                }
            }
            ("Group", None, Some(uri), None) => {
                short(uri, "group uri")?;
                Grantee::Group { uri: uri.clone() }
            }
            ("AmazonCustomerByEmail", None, None, Some(email)) => {
                short(email, "email")?;
                Grantee::AmazonCustomerByEmail {
                    email: email.clone(),
                }
            }
            _ => {
                return Err(
                    "acl: a grantee is {\"type\":\"CanonicalUser\",\"id\"}, {\"type\":\"Group\",\"uri\"} or {\"type\":\"AmazonCustomerByEmail\",\"email\"}"
                        .into(),
                )
            }
        };
        grants.push(Grant::new(grantee, permission));
    }
    Ok(Acl {
        owner: Owner {
            id: a.owner.id.clone(),
            display_name: a.owner.display_name.clone(),
        },
        grants,
    })
}

fn check_pairs(p: &Pairs, what: &str, key: &str) -> Result<(), String> {
    let mut seen = HashSet::new();
    for (k, v) in &p.0 {
        if !seen.insert(k.to_ascii_lowercase()) {
            return Err(format!("object {key}: {what} {k:?} given twice"));
        }
        header_text(v, &format!("object {key}: {what} {k:?}"))?;
    }
    Ok(())
}

/// One seed object checked and built (its version id decided by `prepare_bucket`).
fn prepare_object(
    o: SeedObject,
    version_id: Arc<str>,
    filler_left: &mut u64,
) -> Result<PreparedObject, String> {
    let key = o.key.clone();
    let err = |m: &str| format!("object {key}: {m}");
    let last_modified = o
        .last_modified
        .as_deref()
        .map(|t| instant(t, &format!("object {key}: lastModified")))
        .transpose()?;
    let acl = o.acl.as_ref().map(parse_acl).transpose()?;
    if o.delete_marker {
        let content = o.body.is_some()
            || o.body_base64.is_some()
            || o.body_omitted
            || o.size.is_some()
            || o.etag.is_some()
            || o.parts.is_some()
            || !o.metadata.is_empty()
            || !o.tags.is_empty()
            || o.retention.is_some()
            || o.legal_hold.is_some()
            || o.restore.is_some();
        if content {
            return Err(err(
                "a delete marker has no body, ETag, parts, metadata, tags or lock",
            ));
        }
        let mut marker = Object::delete_marker(&key, version_id, 0);
        if let Some(acl) = acl {
            marker.acl = Arc::new(acl);
        }
        return Ok(PreparedObject {
            object: marker,
            last_modified,
        });
    }
    let (body, filled) = match (&o.body, &o.body_base64, o.body_omitted) {
        (Some(t), None, false) => (Body::from_segments(vec![Bytes::from(t.clone())]), false),
        (None, Some(b64), false) => (
            Body::from_segments(vec![Bytes::from(
                checksum::b64_decode(b64).ok_or_else(|| err("bodyBase64 is not base64"))?,
            )]),
            false,
        ),
        (None, None, false) => (Body::default(), false),
        (None, None, true) => {
            let size = o
                .size
                .ok_or_else(|| err("an object whose body was omitted needs its size"))?;
            if size > MAX_OBJECT_SIZE || size > *filler_left {
                return Err(err(
                    "the omitted bodies of a seed are at most 5 TiB, together",
                ));
            }
            *filler_left -= size;
            (filler(size), true)
        }
        (_, _, true) => return Err(err("an omitted body (bodyOmitted) has no body")),
        (Some(_), Some(_), _) => return Err(err("give body or bodyBase64, not both")),
    };
    if o.size.is_some_and(|s| s != body.len()) {
        return Err(err("size is not the body's length"));
    }
    let etag = match &o.etag {
        Some(t) => parse_etag(t).ok_or_else(|| err("etag must be 32 hex digits, or hex-N"))?,
        None if filled => return Err(err("an object whose body was omitted needs its ETag")),
        None => ETag::from_md5(checksum::md5_digest(&body.to_bytes())),
    };
    for (v, what) in [
        (&o.content_type, "contentType"),
        (&o.content_encoding, "contentEncoding"),
        (&o.content_disposition, "contentDisposition"),
        (&o.content_language, "contentLanguage"),
        (&o.cache_control, "cacheControl"),
        (&o.expires, "expires"),
        (&o.website_redirect_location, "websiteRedirectLocation"),
    ] {
        if let Some(v) = v {
            header_text(v, &err(what))?;
        }
    }
    check_pairs(&o.metadata, "metadata", &key)?;
    for (k, _) in &o.metadata.0 {
        let token = !k.is_empty()
            && k.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
        if !token {
            return Err(err(&format!("metadata name {k:?} is not a header name")));
        }
    }
    check_pairs(&o.tags, "tag", &key)?;
    if o.tags.0.len() > 10 {
        return Err(err("at most 10 tags"));
    }
    for (k, v) in &o.tags.0 {
        crate::wire::headers::validate_tag(k, v)
            .map_err(|e| err(&format!("tag {k:?}: {}", e.message)))?;
    }
    let storage_class = match &o.storage_class {
        None => crate::store::StorageClass::STANDARD,
        Some(c) => storage_class_named(c).ok_or_else(|| err(&format!("no storage class {c:?}")))?,
    };
    let checksum = match &o.checksum {
        // A filler body has none of the original's bytes: a checksum would not match them.
        _ if filled => None,
        None => {
            let mut crc = ChecksumAlgorithm::Crc64Nvme.hasher();
            for s in body.slices(0, body.len()) {
                crc.update(&s);
            }
            Some(Checksum {
                algorithm: ChecksumAlgorithm::Crc64Nvme,
                value: checksum::b64_value(&crc.finish()),
                kind: ChecksumType::FullObject,
            })
        }
        Some(None) => None,
        Some(Some(c)) => Some(parse_checksum(c).map_err(|e| err(&e))?),
    };
    let encryption = match &o.encryption {
        None => Some(Encryption::sse_s3()),
        Some(None) => None,
        Some(Some(e)) => Some(Arc::new(parse_encryption(e).map_err(|e| err(&e))?)),
    };
    let parts = match &o.parts {
        None => None,
        Some(list) => {
            if list.is_empty() || list.len() > 10_000 {
                return Err(err("parts: 1 to 10,000 of them"));
            }
            let mut total: u64 = 0;
            let mut last = 0;
            let mut out = Vec::with_capacity(list.len());
            for p in list {
                if p.number <= last || p.number > 10_000 {
                    return Err(err("parts: numbers from 1 to 10,000, increasing"));
                }
                last = p.number;
                total = total
                    .checked_add(p.size)
                    .ok_or_else(|| err("parts: sizes overflow"))?;
                header_text(&p.etag, &err("parts: etag"))?;
                out.push(PartInfo {
                    number: p.number,
                    size: p.size,
                    etag: p.etag.clone(),
                    checksum: p
                        .checksum
                        .as_ref()
                        .map(parse_checksum)
                        .transpose()
                        .map_err(|e| err(&e))?,
                });
            }
            if total != body.len() {
                return Err(err("parts: their sizes do not add up to the object's"));
            }
            Some(Arc::from(out))
        }
    };
    let restore = o
        .restore
        .as_ref()
        .map(|r| {
            Ok::<_, String>(Restore {
                ready_at: instant(&r.ready_at, &err("restore.readyAt"))?,
                expires_at: instant(&r.expires_at, &err("restore.expiresAt"))?,
                ready_announced: r.ready_announced,
                expiry_announced: r.expiry_announced,
            })
        })
        .transpose()?;
    let retention = o
        .retention
        .as_ref()
        .map(|r| {
            Ok::<_, String>(Retention {
                mode: LockMode::from_name(&r.mode)
                    .ok_or_else(|| err("retention mode is GOVERNANCE or COMPLIANCE"))?,
                until: instant(&r.until, &err("retention.until"))?,
            })
        })
        .transpose()?;
    let mut object = Object::new(key, body, etag, 0);
    object.version_id = version_id;
    object.headers = ObjectHeaders {
        content_type: o.content_type,
        content_encoding: o.content_encoding,
        content_disposition: o.content_disposition,
        content_language: o.content_language,
        cache_control: o.cache_control,
        expires: o.expires,
        website_redirect_location: o.website_redirect_location,
    }
    .shared();
    object.metadata = o
        .metadata
        .0
        .into_iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v))
        .collect();
    object.storage_class = storage_class;
    object.checksum = checksum;
    object.encryption = encryption;
    if let Some(acl) = acl {
        object.acl = Arc::new(acl);
    }
    object.set_extra(Extra {
        tags: o.tags.0.into_iter().collect(),
        parts,
        restore,
        retention,
        legal_hold: o.legal_hold,
    });
    Ok(PreparedObject {
        object,
        last_modified,
    })
}

/// A region name (`us-east-1`, `EU`…): letters, digits and dashes.
fn valid_region(r: &str) -> bool {
    !r.is_empty()
        && r.len() <= 32
        && r.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        || r == "EU"
}

fn prepare_bucket(
    b: SeedBucket,
    server_region: &str,
    filler_left: &mut u64,
) -> Result<Prepared, String> {
    let name = b.name;
    let err = |m: String| format!("bucket {name}: {m}");
    if !valid_bucket_name(&name) {
        return Err(format!("invalid bucket name {name:?}"));
    }
    let region = b.region.unwrap_or_else(|| server_region.to_string());
    if !valid_region(&region) {
        return Err(err(format!("{region:?} is not a region name")));
    }
    let created = b
        .created
        .as_deref()
        .map(|t| instant(t, &err("created".into())))
        .transpose()?;
    let versioning = match b.versioning.as_deref() {
        None => None,
        Some("Enabled") => Some(Versioning::Enabled),
        Some("Suspended") => Some(Versioning::Suspended),
        Some(v) => {
            return Err(err(format!(
                "versioning must be Enabled or Suspended, not {v:?}"
            )))
        }
    };
    let mfa_delete = match b.mfa_delete.as_deref() {
        None => None,
        Some(v @ ("Enabled" | "Disabled")) => Some(v.to_string()),
        Some(v) => {
            return Err(err(format!(
                "mfaDelete must be Enabled or Disabled, not {v:?}"
            )))
        }
    };
    let mut configs = Vec::new();
    if let Some(v) = &b.lifecycle {
        if b.configurations.contains_key("lifecycle") {
            return Err(err(
                "give lifecycle (rules) or configurations.lifecycle, not both".into(),
            ));
        }
        let doc = lifecycle_xml(v).map_err(&err)?;
        let doc = prepare_lifecycle_doc(doc)
            .map_err(|e: S3Error| err(format!("lifecycle: {}", s3_message(e))))?;
        configs.push((ConfigKind::Lifecycle, doc));
    }
    for (kind_name, doc) in b.configurations {
        let kind = config_kind(&kind_name).ok_or_else(|| {
            err(format!(
                "unknown configuration {kind_name:?} (known: {})",
                CONFIG_NAMES.map(|(n, _)| n).join(", ")
            ))
        })?;
        let doc = check_config(kind, doc, &region).map_err(|e| err(format!("{kind_name}: {e}")))?;
        configs.push((kind, doc));
    }
    let mut id_configs = Vec::new();
    for (family, docs) in b.id_configurations {
        let kind = ID_CONFIG_NAMES
            .iter()
            .find(|(n, _)| *n == family)
            .map(|(_, k)| *k)
            .ok_or_else(|| {
                err(format!(
                    "unknown id-keyed configuration {family:?} (known: {})",
                    ID_CONFIG_NAMES.map(|(n, _)| n).join(", ")
                ))
            })?;
        if docs.len() > MAX_ID_CONFIGS {
            return Err(err(format!("{family}: at most {MAX_ID_CONFIGS} documents")));
        }
        for (id, doc) in docs {
            if id.is_empty() || id.len() > 1024 || doc.len() > MAX_CONFIG_DOC {
                return Err(err(format!(
                    "{family}: ids are 1 to 1024 bytes, documents at most 4 MiB"
                )));
            }
            crate::wire::xml::parse(doc.as_bytes())
                .map_err(|e| err(format!("{family} {id:?}: {}", s3_message(e))))?;
            id_configs.push((kind, id, doc));
        }
    }
    let acl = b
        .acl
        .as_ref()
        .map(parse_acl)
        .transpose()
        .map_err(&err)?
        .map(Arc::new);
    let ownership = match b.object_ownership {
        None => None,
        Some(None) => Some(None),
        Some(Some(o)) => Some(Some(ObjectOwnership::from_name(&o).ok_or_else(|| {
            err(format!(
                "objectOwnership {o:?} is not BucketOwnerEnforced, BucketOwnerPreferred or ObjectWriter"
            ))
        })?)),
    };
    let state = versioning.unwrap_or_default();
    let mut given_ids: HashSet<(String, String)> = HashSet::new();
    let mut objects = Vec::new();
    for o in b.objects {
        if o.key.is_empty() || o.key.len() > 1024 {
            return Err(err("object keys are 1 to 1024 bytes".into()));
        }
        let version_id: Arc<str> = match &o.version_id {
            Some(v) => {
                if v != NULL_VERSION && !crate::ids::is_version_id(v) {
                    return Err(err(format!(
                        "object {}: version id {v:?} is neither null nor 32 characters of S3's",
                        o.key
                    )));
                }
                if state == Versioning::Unversioned && v != NULL_VERSION {
                    return Err(err(format!(
                        "object {}: an unversioned bucket holds only null versions",
                        o.key
                    )));
                }
                if !given_ids.insert((o.key.clone(), v.clone())) {
                    return Err(err(format!("object {}: version {v:?} given twice", o.key)));
                }
                Arc::from(v.as_str())
            }
            None if state == Versioning::Enabled => Arc::from(crate::ids::version_id()),
            None => Arc::from(NULL_VERSION),
        };
        if o.delete_marker && state == Versioning::Unversioned {
            return Err(err(format!(
                "object {}: an unversioned bucket holds no delete markers",
                o.key
            )));
        }
        objects.push(prepare_object(o, version_id, filler_left).map_err(&err)?);
    }
    Ok(Prepared {
        name,
        region,
        created,
        versioning,
        mfa_delete,
        configs,
        id_configs,
        acl,
        ownership,
        objects,
    })
}

pub(super) fn prepare(buckets: Vec<SeedBucket>, region: &str) -> Result<Vec<Prepared>, String> {
    let mut seen = HashSet::new();
    let mut filler_left = MAX_FILLER_BYTES;
    let mut out = Vec::with_capacity(buckets.len());
    for b in buckets {
        if !seen.insert(b.name.clone()) {
            return Err(format!("bucket {} given twice", b.name));
        }
        out.push(prepare_bucket(b, region, &mut filler_left)?);
    }
    Ok(out)
}
