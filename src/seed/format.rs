//! The seed document format: what `POST /_s3twin/runs`, `POST /_s3twin/seed` and `--seed`
//! read and what an export writes (serde both ways). Every field beyond `buckets[].name` is
//! optional, so a hand-written seed stays short and older seeds keep their meaning.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use std::collections::BTreeMap;

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
        match Form::deserialize(d) {
            Ok(Form::Map(m)) => Ok(Pairs(m.into_iter().collect())),
            Ok(Form::List(l)) => Ok(Pairs(l)),
            Err(_) => Err(serde::de::Error::custom(
                "metadata and tags are an object of names to string values, or a list of [name, value] pairs",
            )),
        }
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
