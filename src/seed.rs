//! Seed documents: JSON descriptions of buckets (with versioning and lifecycle rules) and
//! objects, loaded into a run all at once or not at all. Also the built-in presets.

use crate::api::{prepare_lifecycle_doc, valid_bucket_name};
use crate::checksum::{self, Checksum, ChecksumAlgorithm, ChecksumType};
use crate::clock::{iso8601, parse_rfc3339, Millis, MAX_INSTANT};
use crate::error::S3Error;
use crate::store::{
    storage_class_named, Acl, Body, ConfigKind, ETag, Encryption, Grant, Grantee, IdConfigKind,
    LockMode, Object, ObjectHeaders, ObjectOwnership, Owner, PartInfo, Permission, Restore,
    Retention, Run, SseKind, Versioning, MAX_GRANTS, NULL_VERSION,
};
use crate::wire::xml::XmlWriter;
use bytes::Bytes;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SeedDoc {
    /// The run's clock (an export's; see `SeedClock`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clock: Option<SeedClock>,
    /// Strict mode for the run (as `POST /_s3twin/runs` takes it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strict: Option<bool>,
    /// The run's auth mode, `none` or `enforce`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<String>,
    #[serde(default)]
    pub buckets: Vec<SeedBucket>,
    /// Chaos rules and preset names, as `POST /_s3twin/chaos` takes them (a list).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chaos: Option<Value>,
    /// Notification webhooks for the run: destination ARN → `http://` URL.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub webhooks: BTreeMap<String, String>,
    /// Identities of the run (besides the server's).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub users: Vec<SeedUser>,
}

/// `{"now": "2026-…Z", "frozen": true, "rate": 1.0}`: the instant the run's clock shows, and
/// whether it stands still there or runs from it at `rate`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SeedClock {
    pub now: String,
    #[serde(default)]
    pub frozen: bool,
    #[serde(default = "one")]
    pub rate: f64,
}

fn one() -> f64 {
    1.0
}

/// `{"accessKeyId", "secretAccessKey", "name"?, "accountId"?}`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SeedUser {
    pub access_key_id: String,
    pub secret_access_key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
}

impl SeedUser {
    pub fn spec(&self) -> Result<crate::auth::identity::UserSpec, String> {
        crate::auth::identity::UserSpec::checked(
            &self.access_key_id,
            &self.secret_access_key,
            self.name.clone(),
            self.account_id.clone(),
        )
    }
}

/// A field that may be absent (a default applies), `null` (explicitly none) or a value.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SeedBucket {
    pub name: String,
    /// The bucket's region (the server's when absent), or `EU`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// CreationDate, RFC 3339 (the run's now when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub versioning: Option<String>,
    /// The MFADelete element as last put: `Enabled` or `Disabled`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mfa_delete: Option<String>,
    /// Rules in boto3's `LifecycleConfiguration["Rules"]` shape, or `{"expirationDays": N,
    /// "prefix"?: "…"}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifecycle: Option<Value>,
    /// Configuration documents as S3 takes them (XML; the policy JSON), by name (`cors`,
    /// `policy`, `lifecycle`… see `config_kind`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub configurations: BTreeMap<String, String>,
    /// The id-keyed documents: family (`analytics`, `intelligentTiering`, `inventory`,
    /// `metrics`) → id → XML document.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub id_configurations: BTreeMap<String, BTreeMap<String, String>>,
    /// The bucket's ACL (`private` when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acl: Option<SeedAcl>,
    /// `BucketOwnerEnforced` (the default), `BucketOwnerPreferred`, `ObjectWriter`, or `null`
    /// for a bucket whose ownership controls were deleted.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub object_ownership: Option<Option<String>>,
    /// Versions and delete markers; a key's versions oldest first (the last one current).
    #[serde(default)]
    pub objects: Vec<SeedObject>,
}

/// `{"owner": {"id", "displayName"}, "grants": [{"grantee": {"type", "id"?, "displayName"?,
/// "uri"?, "email"?}, "permission"}]}`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SeedAcl {
    pub owner: SeedOwner,
    #[serde(default)]
    pub grants: Vec<SeedGrant>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SeedOwner {
    pub id: String,
    pub display_name: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SeedGrant {
    pub grantee: SeedGrantee,
    pub permission: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SeedGrantee {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// Name/value pairs in order: written as a JSON object when their names are sorted and
/// distinct (the usual case), else as a list of `[name, value]` pairs; both are read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pairs(pub Vec<(String, String)>);

impl Pairs {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<'de> Deserialize<'de> for Pairs {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Form {
            Map(BTreeMap<String, String>),
            List(Vec<(String, String)>),
        }
        Ok(match Form::deserialize(d)? {
            Form::Map(m) => Pairs(m.into_iter().collect()),
            Form::List(l) => Pairs(l),
        })
    }
}

impl Serialize for Pairs {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.0.windows(2).all(|w| w[0].0 < w[1].0) {
            s.collect_map(self.0.iter().map(|(k, v)| (k, v)))
        } else {
            s.collect_seq(self.0.iter().map(|(k, v)| [k, v]))
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SeedChecksum {
    /// `CRC32`, `CRC32C`, `CRC64NVME`, `SHA1`, `SHA256`.
    pub algorithm: String,
    /// Base64 (composite ones `…-N`).
    pub value: String,
    /// `FULL_OBJECT` or `COMPOSITE`.
    #[serde(rename = "type")]
    pub kind: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SeedEncryption {
    /// `AES256`, `aws:kms`, `aws:kms:dsse` or `SSE-C`.
    pub algorithm: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kms_key_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub bucket_key: bool,
    /// The keyed hash s3twin keeps of an SSE-C key (hex), so the same key reads the copy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_key_hash: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_key_md5: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SeedPart {
    pub number: u32,
    pub size: u64,
    pub etag: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum: Option<SeedChecksum>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SeedRestore {
    pub ready_at: String,
    pub expires_at: String,
    #[serde(default)]
    pub ready_announced: bool,
    #[serde(default)]
    pub expiry_announced: bool,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SeedRetention {
    /// `GOVERNANCE` or `COMPLIANCE`.
    pub mode: String,
    /// RFC 3339.
    pub until: String,
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SeedObject {
    pub key: String,
    /// Kept as given (`null` or a 32-character S3 version id); absent: what a PUT would get.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub delete_marker: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_base64: Option<String>,
    /// The body was larger than the export's cap and left out: the object is recreated with
    /// `size` zero bytes (and its ETag, without a checksum).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub body_omitted: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// Kept as given (`hex` or `hex-N`); absent: the body's MD5.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    /// RFC 3339; absent: the run's now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_encoding: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_disposition: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_language: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub website_redirect_location: Option<String>,
    #[serde(default, skip_serializing_if = "Pairs::is_empty")]
    pub metadata: Pairs,
    #[serde(default, skip_serializing_if = "Pairs::is_empty")]
    pub tags: Pairs,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_class: Option<String>,
    /// Absent: a CRC64NVME of the body; `null`: none.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub checksum: Option<Option<SeedChecksum>>,
    /// Absent: SSE-S3 (none for delete markers); `null`: none.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub encryption: Option<Option<SeedEncryption>>,
    /// The parts of a multipart object (their sizes add up to the object's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parts: Option<Vec<SeedPart>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acl: Option<SeedAcl>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restore: Option<SeedRestore>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention: Option<SeedRetention>,
    /// `true` (ON) or `false` (OFF); absent: never set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legal_hold: Option<bool>,
}

/// What a seed put into a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    pub buckets: usize,
    pub objects: usize,
}

/// A seed: a preset name (a JSON string) or a document.
pub fn from_json(value: &Value) -> Result<SeedDoc, String> {
    match value {
        Value::String(name) => preset(name),
        other => serde_json::from_value(other.clone()).map_err(|e| format!("invalid seed: {e}")),
    }
}

/// The built-in presets, by name.
pub fn preset(name: &str) -> Result<SeedDoc, String> {
    match name {
        "invoice-store" => {
            let pdf = |n: u32, amount: &str| {
                SeedObject {
                key: format!("2026/inv-{n:03}.pdf"),
                body: Some(format!(
                    "%PDF-1.4\n% s3twin sample invoice\n1 0 obj << /Title (Invoice INV-{n:03}) /Amount ({amount}) >> endobj\n%%EOF\n"
                )),
                content_type: Some("application/pdf".into()),
                metadata: Pairs(vec![("invoice-id".into(), format!("INV-{n:03}"))]),
                ..SeedObject::default()
            }
            };
            let mut draft = pdf(3, "0.00");
            draft.key = "tmp/inv-003-draft.pdf".into();
            Ok(SeedDoc {
                buckets: vec![SeedBucket {
                    name: "invoices".into(),
                    lifecycle: Some(serde_json::json!([{
                        "ID": "expire-tmp",
                        "Status": "Enabled",
                        "Filter": {"Prefix": "tmp/"},
                        "Expiration": {"Days": 7}
                    }])),
                    objects: vec![pdf(1, "120.00"), pdf(2, "89.50"), draft],
                    ..SeedBucket::default()
                }],
                ..SeedDoc::default()
            })
        }
        other => Err(format!(
            "unknown seed preset {other:?} (known: invoice-store)"
        )),
    }
}

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
struct Prepared {
    name: String,
    region: String,
    created: Option<Millis>,
    versioning: Option<Versioning>,
    mfa_delete: Option<String>,
    configs: Vec<(ConfigKind, String)>,
    id_configs: Vec<(IdConfigKind, String, String)>,
    acl: Option<Arc<Acl>>,
    ownership: Option<Option<ObjectOwnership>>,
    objects: Vec<PreparedObject>,
}

/// An object ready to store; `last_modified` `None` is the run's now at apply time.
struct PreparedObject {
    object: Object,
    last_modified: Option<Millis>,
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
const MAX_ID_CONFIGS: usize = 1000;

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
fn instant(text: &str, what: &str) -> Result<Millis, String> {
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
        value: c.value.clone(),
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
                value: checksum::b64(&crc.finish()),
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
            Ok::<_, String>(Box::new(Restore {
                ready_at: instant(&r.ready_at, &err("restore.readyAt"))?,
                expires_at: instant(&r.expires_at, &err("restore.expiresAt"))?,
                ready_announced: r.ready_announced,
                expiry_announced: r.expiry_announced,
            }))
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
    object.tags = o.tags.0.into_iter().collect();
    object.storage_class = storage_class;
    object.checksum = checksum;
    object.encryption = encryption;
    object.parts = parts;
    if let Some(acl) = acl {
        object.acl = Arc::new(acl);
    }
    object.restore = restore;
    object.retention = retention;
    object.legal_hold = o.legal_hold;
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

fn prepare(buckets: Vec<SeedBucket>, region: &str) -> Result<Vec<Prepared>, String> {
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

/// Loads a seed into a run: everything is checked first, so a bad seed changes nothing.
///
/// A seed's clock is shown as given in a run that holds no bucket yet (a new run, an
/// export replayed); a run in use only moves its clock forward to it.
pub fn apply(run: &Run, region: &str, mut doc: SeedDoc) -> Result<Summary, String> {
    let users = std::mem::take(&mut doc.users)
        .iter()
        .map(SeedUser::spec)
        .collect::<Result<Vec<_>, _>>()?;
    let chaos = match doc.chaos.take() {
        None | Some(Value::Null) => Vec::new(),
        Some(v) => crate::chaos::parse_list(&v).map_err(|e| format!("chaos: {e}"))?,
    };
    for (arn, url) in &doc.webhooks {
        crate::events::check_arn(arn)
            .and_then(|()| crate::events::check_webhook_url(url))
            .map_err(|e| format!("webhooks: {e}"))?;
    }
    let auth = match doc.auth.as_deref() {
        None => None,
        Some(a) => Some(
            crate::auth::identity::AuthMode::parse(a)
                .ok_or("auth must be \"none\" or \"enforce\"")?,
        ),
    };
    let clock = match &doc.clock {
        None => None,
        Some(c) => {
            let now = instant(&c.now, "clock.now")?;
            let rate = crate::clock::check_rate(c.rate).map_err(|e| format!("clock: {e}"))?;
            if run.bucket_count() > 0 && now < run.now() {
                return Err(format!(
                    "clock: time never moves backwards: {} is before the run's now ({})",
                    c.now,
                    iso8601(run.now())
                ));
            }
            Some((now, c.frozen, rate))
        }
    };
    let webhooks = std::mem::take(&mut doc.webhooks);
    let prepared = prepare(std::mem::take(&mut doc.buckets), region)?;
    // The last check that can refuse (too many rules in the run), before anything is stored.
    run.chaos.add(chaos).map_err(|e| format!("chaos: {e}"))?;
    for (arn, url) in webhooks {
        run.events.set_webhook(&arn, &url)?;
    }
    for spec in users {
        run.auth.add_user(spec);
    }
    if let Some(strict) = doc.strict {
        run.set_strict(strict);
    }
    if let Some(mode) = auth {
        run.auth.set_mode(mode);
    }
    if let Some((now, frozen, rate)) = clock {
        run.clock
            .restore(now, frozen, rate)
            .map_err(|e| format!("clock: {e}"))?;
    }
    let mut summary = Summary {
        buckets: 0,
        objects: 0,
    };
    for p in prepared {
        let now = run.now();
        run.create_bucket_at(&p.name, &p.region, p.created.unwrap_or(now));
        let bucket = run.bucket(&p.name).map_err(|e| e.message)?;
        summary.buckets += 1;
        if let Some(v) = p.versioning {
            bucket.set_versioning(v, p.mfa_delete);
        }
        for (kind, doc) in p.configs {
            bucket.set_config(kind, Some(doc));
        }
        // Writes look for events only when the configuration configures some (as after a Put).
        let configured = bucket
            .parsed_config(
                ConfigKind::Notification,
                crate::events::config::Notification::from_doc,
            )
            .is_some_and(|n| !n.is_empty());
        bucket.set_notifies(configured);
        for (kind, id, doc) in p.id_configs {
            bucket.put_id_config(kind, &id, doc, MAX_ID_CONFIGS);
        }
        if let Some(acl) = p.acl {
            bucket.set_acl(acl);
        }
        if let Some(o) = p.ownership {
            bucket.set_object_ownership(o);
        }
        for PreparedObject {
            mut object,
            last_modified,
        } in p.objects
        {
            object.last_modified = last_modified.unwrap_or(now);
            bucket.import_version(object).map_err(|e| e.message)?;
            summary.objects += 1;
        }
    }
    Ok(summary)
}

/// Element names of JSON lists in boto3's rule shape: the list key → the repeated element.
fn list_element(key: &str) -> &str {
    match key {
        "Rules" => "Rule",
        "Transitions" => "Transition",
        "NoncurrentVersionTransitions" => "NoncurrentVersionTransition",
        "Tags" => "Tag",
        other => other,
    }
}

fn write_value(w: &mut XmlWriter, name: &str, v: &Value) -> Result<(), String> {
    match v {
        Value::Array(items) => {
            for item in items {
                write_value(w, list_element(name), item)?;
            }
        }
        Value::Object(map) => {
            w.open_dyn(name);
            for (k, v) in map {
                write_value(w, k, v)?;
            }
            w.close();
        }
        Value::String(s) => {
            w.elem(name, s);
        }
        Value::Number(n) => {
            w.elem(name, &n.to_string());
        }
        Value::Bool(b) => {
            w.elem(name, if *b { "true" } else { "false" });
        }
        Value::Null => return Err(format!("{name}: null is not a value")),
    }
    Ok(())
}

/// A lifecycle document from a seed's rules (boto3 shape) or `{"expirationDays": N}`.
pub fn lifecycle_xml(v: &Value) -> Result<String, String> {
    let rules = match v {
        Value::Array(_) => v.clone(),
        Value::Object(m) if m.contains_key("expirationDays") => {
            let days = m
                .get("expirationDays")
                .and_then(Value::as_u64)
                .ok_or("expirationDays must be a positive integer")?;
            let prefix = m.get("prefix").and_then(Value::as_str).unwrap_or("");
            serde_json::json!([{
                "ID": format!("expire-after-{days}-days"),
                "Status": "Enabled",
                "Filter": {"Prefix": prefix},
                "Expiration": {"Days": days}
            }])
        }
        Value::Object(m) if m.contains_key("Rules") => m["Rules"].clone(),
        _ => return Err("lifecycle must be a list of rules or {\"expirationDays\": N}".into()),
    };
    let mut w = XmlWriter::new();
    w.root("LifecycleConfiguration");
    write_value(&mut w, "Rules", &rules)?;
    Ok(w.finish())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    #[test]
    fn bad_seeds_change_nothing() {
        let store = Store::new();
        let run = store.run("r");
        let doc: Value =
            serde_json::json!({"buckets": [{"name": "good-one"}, {"name": "Bad_Name"}]});
        let err = apply(&run, "us-east-1", from_json(&doc).expect("parses")).unwrap_err();
        assert!(err.contains("Bad_Name"), "{err}");
        assert_eq!(run.bucket_count(), 0);
        let unknown = serde_json::json!({"buckets": [{"name": "x-bucket", "colour": "red"}]});
        assert!(from_json(&unknown).is_err());
    }

    #[test]
    fn preset_and_lifecycle_shapes() {
        let store = Store::new();
        let run = store.run("r");
        let summary =
            apply(&run, "us-east-1", preset("invoice-store").expect("preset")).expect("applies");
        assert_eq!(
            summary,
            Summary {
                buckets: 1,
                objects: 3
            }
        );
        let doc = lifecycle_xml(&serde_json::json!({"expirationDays": 7})).expect("xml");
        assert!(
            doc.contains("<Expiration><Days>7</Days></Expiration>"),
            "{doc}"
        );
        let rules = crate::lifecycle::parse_rules(&doc);
        assert_eq!(rules.len(), 1);
    }
}
