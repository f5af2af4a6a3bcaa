//! Server-side encryption on the wire: the SSE-S3 / SSE-KMS / DSSE-KMS headers and the SSE-C
//! key headers, checked as S3 checks them, turned into the store's `Encryption` (the bucket's
//! default when a write names none), and echoed on the responses S3 echoes them on.
//!
//! Nothing is encrypted: bodies stay as sent. An SSE-C key is never kept; the object keeps an
//! HMAC-SHA256 of it under a per-process random secret, so a later request's key can be judged.

use super::Ctx;
use crate::error::{Code, S3Error, S3Result};
use crate::server::response::{set_header, Resp};
use crate::store::{Bucket, ConfigKind, ETag, Encryption, Object, SseKind};
use base64::Engine as _;
use hmac::{Hmac, KeyInit, Mac};
use md5::Digest as _;
use sha2::Sha256;
use std::sync::{Arc, OnceLock};

const SSE: &str = "x-amz-server-side-encryption";
const KMS_KEY_ID: &str = "x-amz-server-side-encryption-aws-kms-key-id";
const CONTEXT: &str = "x-amz-server-side-encryption-context";
const BUCKET_KEY: &str = "x-amz-server-side-encryption-bucket-key-enabled";
const CUSTOMER_ALGORITHM: &str = "x-amz-server-side-encryption-customer-algorithm";
const CUSTOMER_KEY_MD5: &str = "x-amz-server-side-encryption-customer-key-md5";

/// Which SSE-C header trio a request carries the key in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyHeaders {
    /// `x-amz-server-side-encryption-customer-*`: the object read or written.
    Object,
    /// `x-amz-copy-source-server-side-encryption-customer-*`: a copy's source.
    CopySource,
}

impl KeyHeaders {
    fn names(self) -> [&'static str; 3] {
        match self {
            KeyHeaders::Object => [
                CUSTOMER_ALGORITHM,
                "x-amz-server-side-encryption-customer-key",
                CUSTOMER_KEY_MD5,
            ],
            KeyHeaders::CopySource => [
                "x-amz-copy-source-server-side-encryption-customer-algorithm",
                "x-amz-copy-source-server-side-encryption-customer-key",
                "x-amz-copy-source-server-side-encryption-customer-key-md5",
            ],
        }
    }
}

/// Which headers a response echoes (S3's response syntax per operation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Echo {
    /// PutObject, CopyObject, CreateMultipartUpload: everything, the context included.
    Write,
    /// GetObject, HeadObject, UploadPart, UploadPartCopy: everything but the context.
    Read,
    /// CompleteMultipartUpload: the SSE-S3 / KMS headers only.
    Complete,
}

/// The SSE-C trio of a request, its algorithm checked.
struct CustomerKey {
    key: Vec<u8>,
    md5: Option<String>,
}

impl CustomerKey {
    fn md5_matches(&self) -> bool {
        self.md5
            .as_deref()
            .is_none_or(|m| m == crate::checksum::b64(&md5::Md5::digest(&self.key)))
    }
}

fn argument(message: &str, value: &str) -> S3Error {
    S3Error::invalid_argument(message, SSE, value)
}

fn md5_mismatch() -> S3Error {
    argument(
        "The calculated MD5 hash of the key did not match the hash that was provided.",
        "null",
    )
}

fn header<'a>(ctx: &'a Ctx, name: &str) -> Option<&'a str> {
    // A value that is not visible ASCII is as good as a wrong one.
    crate::wire::headers::get(&ctx.headers, name).map(|v| v.to_str().unwrap_or("\u{0}"))
}

/// The SSE-C trio, `None` when the request has none of it. `sse` is the request's
/// `x-amz-server-side-encryption`, which SSE-C excludes.
fn customer_key(ctx: &Ctx, which: KeyHeaders, sse: Option<&str>) -> S3Result<Option<CustomerKey>> {
    let [alg_name, key_name, md5_name] = which.names();
    let (algorithm, key, md5) = (
        header(ctx, alg_name),
        header(ctx, key_name),
        header(ctx, md5_name),
    );
    if algorithm.is_none() && key.is_none() && md5.is_none() {
        return Ok(None);
    }
    if ctx.state.config.strict || ctx.run.strict() {
        // AWS refuses SSE-C over plain HTTP; s3twin only listens on HTTP.
        return Err(S3Error::invalid_request(
            "Requests specifying Server Side Encryption with Customer provided keys must be made over a secure connection.",
        ));
    }
    if let (Some(sse), true) = (sse, algorithm.is_some() || key.is_some()) {
        return Err(argument(
            "Server Side Encryption with Customer provided key is incompatible with the encryption method specified",
            sse,
        ));
    }
    let Some(algorithm) = algorithm else {
        return Err(argument(
            "Requests specifying Server Side Encryption with Customer provided keys must provide a valid encryption algorithm.",
            "null",
        ));
    };
    let Some(key) = key else {
        return Err(argument(
            "Requests specifying Server Side Encryption with Customer provided keys must provide an appropriate secret key.",
            "null",
        ));
    };
    if algorithm != "AES256" {
        return Err(S3Error::new(Code::InvalidEncryptionAlgorithmError)
            .extra("ArgumentName", SSE)
            .extra("ArgumentValue", algorithm));
    }
    let key = base64::engine::general_purpose::STANDARD
        .decode(key.trim())
        .unwrap_or_default();
    Ok(Some(CustomerKey {
        key,
        md5: md5.map(str::to_string),
    }))
}

/// A write's SSE-C key, checked as writes check it: the MD5 first, then the key's length.
fn write_key(ctx: &Ctx, sse: Option<&str>) -> S3Result<Option<CustomerKey>> {
    let Some(k) = customer_key(ctx, KeyHeaders::Object, sse)? else {
        return Ok(None);
    };
    if !k.md5_matches() {
        return Err(md5_mismatch());
    }
    if k.key.len() != 32 {
        return Err(argument(
            "The secret key was invalid for the specified algorithm.",
            "null",
        ));
    }
    Ok(Some(k))
}

fn secret() -> &'static [u8; 32] {
    static SECRET: OnceLock<[u8; 32]> = OnceLock::new();
    SECRET.get_or_init(|| {
        // RandomState is seeded from the OS's randomness; four of its hashes make the secret.
        use std::hash::{BuildHasher, Hasher};
        let mut out = [0u8; 32];
        for chunk in out.chunks_mut(8) {
            let mut h = std::collections::hash_map::RandomState::new().build_hasher();
            h.write_u64(crate::ids::next_u64());
            chunk.copy_from_slice(&h.finish().to_le_bytes());
        }
        out
    })
}

fn key_hash(key: &[u8]) -> [u8; 32] {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret()) else {
        return [0; 32];
    };
    mac.update(key);
    mac.finalize().into_bytes().into()
}

/// The bucket's default encryption, parsed once per stored document.
#[derive(Debug)]
struct BucketDefault {
    kind: SseKind,
    kms_key_id: Option<String>,
    bucket_key: bool,
    blocks_sse_c: bool,
}

fn parse_default(doc: &str) -> BucketDefault {
    let mut d = BucketDefault {
        kind: SseKind::S3,
        kms_key_id: None,
        bucket_key: false,
        blocks_sse_c: false,
    };
    let Ok(root) = crate::wire::xml::parse(doc.as_bytes()) else {
        return d;
    };
    let Some(rule) = root.child("Rule") else {
        return d;
    };
    if let Some(by_default) = rule.child("ApplyServerSideEncryptionByDefault") {
        d.kind = match by_default.child_text("SSEAlgorithm").map(str::trim) {
            Some("aws:kms") => SseKind::Kms,
            Some("aws:kms:dsse") => SseKind::KmsDsse,
            _ => SseKind::S3,
        };
        d.kms_key_id = by_default
            .child_text("KMSMasterKeyID")
            .map(|k| k.trim().to_string())
            .filter(|k| !k.is_empty());
    }
    d.bucket_key = rule.child_text("BucketKeyEnabled").map(str::trim) == Some("true");
    d.blocks_sse_c = rule.child("BlockedEncryptionTypes").is_some_and(|b| {
        b.children_named("EncryptionType")
            .any(|t| t.text.trim() == "SSE-C")
    });
    d
}

fn bucket_default(bucket: &Bucket) -> Option<Arc<BucketDefault>> {
    bucket.parsed_config(ConfigKind::Encryption, parse_default)
}

/// A UUID-shaped key id derived from `seed`: the same name gives the same key, run after run.
fn derived_key_id(seed: &str) -> String {
    let h = sha2::Sha256::digest(seed.as_bytes());
    let x = hex::encode(&h[..16]);
    format!(
        "{}-{}-4{}-a{}-{}",
        &x[..8],
        &x[8..12],
        &x[13..16],
        &x[17..20],
        &x[20..32]
    )
}

fn key_arn(region: &str, account: &str, id: &str) -> String {
    format!("arn:aws:kms:{region}:{account}:key/{id}")
}

/// The ARN of the AWS managed key `aws/s3` of an account in a region (what S3 reports for
/// `aws:kms` without a key id).
pub fn default_kms_key_arn(region: &str, account: &str) -> String {
    key_arn(
        region,
        account,
        &derived_key_id(&format!("aws/s3:{account}:{region}")),
    )
}

fn is_key_id(id: &str) -> bool {
    let hex = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_hexdigit());
    let uuid = {
        let p: Vec<&str> = id.split('-').collect();
        p.len() == 5
            && [8, 4, 4, 4, 12]
                .iter()
                .zip(&p)
                .all(|(n, s)| s.len() == *n && hex(s))
    };
    let multi_region = id
        .strip_prefix("mrk-")
        .is_some_and(|r| r.len() == 32 && hex(r));
    uuid || multi_region
}

fn is_alias_name(name: &str) -> bool {
    (1..=250).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/_-".contains(&b))
}

/// The key ARN S3 reports for a key named by id, ARN, alias or alias ARN. Aliases resolve to a
/// key derived from their name (`alias/aws/s3` to the managed key); a malformed name is
/// `KMS.NotFoundException`, as KMS answers S3.
fn resolve_kms_key(id: &str, region: &str, account: &str) -> S3Result<String> {
    let invalid = || S3Error::with_message(Code::KmsNotFound, format!("Invalid keyId '{id}'"));
    let alias_key = |region: &str, account: &str, name: &str| {
        if name == "aws/s3" {
            default_kms_key_arn(region, account)
        } else {
            key_arn(
                region,
                account,
                &derived_key_id(&format!("alias/{name}:{account}:{region}")),
            )
        }
    };
    if let Some(rest) = id.strip_prefix("arn:") {
        let parts: Vec<&str> = rest.splitn(5, ':').collect();
        let [partition, service, arn_region, arn_account, resource] = parts[..] else {
            return Err(invalid());
        };
        let region_ok = !arn_region.is_empty()
            && arn_region
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !partition.starts_with("aws")
            || service != "kms"
            || !region_ok
            || !crate::config::is_account_id(arn_account)
        {
            return Err(invalid());
        }
        if arn_region != region {
            return Err(S3Error::with_message(
                Code::KmsNotFound,
                format!("Invalid arn {arn_region}"),
            ));
        }
        return match (
            resource.strip_prefix("key/"),
            resource.strip_prefix("alias/"),
        ) {
            (Some(k), _) if is_key_id(k) => Ok(id.to_string()),
            (_, Some(a)) if is_alias_name(a) => Ok(alias_key(arn_region, arn_account, a)),
            _ => Err(invalid()),
        };
    }
    if let Some(name) = id.strip_prefix("alias/") {
        return if is_alias_name(name) {
            Ok(alias_key(region, account, name))
        } else {
            Err(invalid())
        };
    }
    if is_key_id(id) {
        return Ok(key_arn(region, account, id));
    }
    Err(invalid())
}

/// `x-amz-server-side-encryption-context`: base64 of a JSON object of strings.
fn check_context(raw: &str) -> S3Result<()> {
    let valid = base64::engine::general_purpose::STANDARD
        .decode(raw.trim())
        .ok()
        .and_then(|json| serde_json::from_slice::<serde_json::Value>(&json).ok())
        .is_some_and(|v| {
            v.as_object()
                .is_some_and(|m| m.values().all(|v| v.is_string()))
        });
    if valid {
        Ok(())
    } else {
        Err(S3Error::invalid_argument(
            "The header 'x-amz-server-side-encryption-context' shall be Base64-encoded UTF-8 string holding JSON which represents a string-string map",
            CONTEXT,
            raw,
        ))
    }
}

/// Whether a request names any encryption (a copy onto itself may then proceed).
pub fn names_encryption(ctx: &Ctx) -> bool {
    [SSE, KMS_KEY_ID, CUSTOMER_ALGORITHM, BUCKET_KEY, CONTEXT]
        .iter()
        .any(|h| ctx.headers.contains_key(*h))
}

/// The encryption a write asks for (PutObject, CopyObject's target, CreateMultipartUpload),
/// or the bucket's default when it names none. `action` is the IAM action a bucket that blocks
/// SSE-C names in its refusal.
pub fn for_write(ctx: &Ctx, bucket: &Bucket, key: &str, action: &str) -> S3Result<Arc<Encryption>> {
    let sse = header(ctx, SSE);
    let default = bucket_default(bucket);
    if let Some(k) = write_key(ctx, sse)? {
        if default.as_ref().is_some_and(|d| d.blocks_sse_c) {
            return Err(S3Error::with_message(
                Code::AccessDenied,
                format!(
                    "User: arn:aws:iam::{}:root is not authorized to perform: {action} on resource: \"arn:aws:s3:::{}/{key}\" because this bucket has blocked upload requests that specify Server Side Encryption with Customer provided keys (SSE-C). Please specify a different server-side encryption type",
                    ctx.state.config.account_id, bucket.name
                ),
            ));
        }
        let md5 = crate::checksum::b64(&md5::Md5::digest(&k.key));
        return Ok(Arc::new(Encryption {
            customer_key_hash: Some(key_hash(&k.key)),
            customer_key_md5: Some(md5.into()),
            ..Encryption::of(SseKind::Customer)
        }));
    }
    let requested = match sse {
        None => None,
        Some("AES256") => Some(SseKind::S3),
        Some("aws:kms") => Some(SseKind::Kms),
        Some("aws:kms:dsse") => Some(SseKind::KmsDsse),
        Some(other) => {
            return Err(argument(
                "The encryption method specified is not supported",
                other,
            ))
        }
    };
    let kms_key_id = header(ctx, KMS_KEY_ID);
    let is_kms = |k: Option<SseKind>| matches!(k, Some(SseKind::Kms | SseKind::KmsDsse));
    if kms_key_id.is_some() && !is_kms(requested) {
        return Err(argument(
            "Server Side Encryption with AWS KMS managed key requires HTTP header x-amz-server-side-encryption : aws:kms",
            "null",
        ));
    }
    let kind = requested
        .or(default.as_ref().map(|d| d.kind))
        .unwrap_or(SseKind::S3);
    if kind == SseKind::S3 {
        return Ok(Encryption::sse_s3());
    }
    let context = match header(ctx, CONTEXT) {
        Some(c) => {
            check_context(c)?;
            Some(Arc::from(c))
        }
        None => None,
    };
    // A request that names its own algorithm uses its own key (or aws/s3), not the default's.
    let named = match kms_key_id {
        Some(id) => Some(id.trim().to_string()),
        None if requested.is_none() => default.as_ref().and_then(|d| d.kms_key_id.clone()),
        None => None,
    };
    let region = &bucket.region;
    let account = &ctx.state.config.account_id;
    let arn = match named {
        Some(id) => resolve_kms_key(&id, region, account)?,
        None => default_kms_key_arn(region, account),
    };
    let bucket_key = match header(ctx, BUCKET_KEY) {
        Some(v) => v.trim().eq_ignore_ascii_case("true"),
        None => default.as_ref().is_some_and(|d| d.bucket_key),
    };
    Ok(Arc::new(Encryption {
        kms_key_id: Some(arn.into()),
        context,
        // S3 Bucket Keys do not apply to DSSE-KMS.
        bucket_key: bucket_key && kind == SseKind::Kms,
        ..Encryption::of(kind)
    }))
}

/// A read of `object` (GET, HEAD, GetObjectAttributes, or a copy's source with
/// `KeyHeaders::CopySource`): an SSE-C object needs its key; other objects take no SSE-C headers.
pub fn check_read(ctx: &Ctx, object: &Object, which: KeyHeaders) -> S3Result<()> {
    let stored = object
        .encryption
        .as_deref()
        .filter(|e| e.kind == SseKind::Customer);
    let given = customer_key(ctx, which, None)?;
    match (stored, given) {
        (None, None) => Ok(()),
        (None, Some(_)) => Err(S3Error::invalid_request(
            "The encryption parameters are not applicable to this object.",
        )),
        (Some(_), None) => Err(S3Error::invalid_request(
            "The object was stored using a form of Server Side Encryption. The correct parameters must be provided to retrieve the object.",
        )),
        (Some(e), Some(k)) => {
            if e.customer_key_hash != Some(key_hash(&k.key)) {
                return Err(match which {
                    KeyHeaders::Object => S3Error::with_message(
                        Code::AccessDenied,
                        "Requests specifying Server Side Encryption with Customer provided keys must provide the correct secret key.",
                    ),
                    KeyHeaders::CopySource => S3Error::new(Code::AccessDenied),
                });
            }
            if !k.md5_matches() {
                return Err(md5_mismatch());
            }
            Ok(())
        }
    }
}

/// GET and HEAD take no `x-amz-server-side-encryption`: the method is fixed when the object is
/// written (AWS answers 400).
pub fn refuse_sse_header(ctx: &Ctx) -> S3Result<()> {
    match header(ctx, SSE) {
        Some(v) => Err(argument(
            "x-amz-server-side-encryption header is not supported for this operation.",
            v,
        )),
        None => Ok(()),
    }
}

/// UploadPart and UploadPartCopy's target: the parts of an SSE-C upload carry its key, the
/// parts of other uploads none.
pub fn check_part(ctx: &Ctx, upload: Option<&Encryption>) -> S3Result<()> {
    let given = write_key(ctx, None)?;
    let stored = upload.filter(|e| e.kind == SseKind::Customer);
    let must_include = || {
        S3Error::invalid_request(
            "The multipart upload initiate requested encryption. Subsequent part requests must include the appropriate encryption parameters.",
        )
    };
    match (stored, given) {
        (None, None) => Ok(()),
        (Some(_), None) | (None, Some(_)) => Err(must_include()),
        (Some(e), Some(k)) if e.customer_key_hash != Some(key_hash(&k.key)) => {
            Err(S3Error::invalid_request(
                "The provided encryption parameters did not match the ones used originally.",
            ))
        }
        (Some(_), Some(_)) => Ok(()),
    }
}

/// The ETag of a write of bytes with MD5 `md5`: the MD5 for SSE-S3, and for SSE-KMS and SSE-C
/// an opaque tag, different for every write, as S3's is.
pub fn etag(encryption: &Encryption, md5: [u8; 16]) -> ETag {
    if encryption.etag_is_md5() {
        return ETag::from_md5(md5);
    }
    let mut tag = [0u8; 16];
    tag[..8].copy_from_slice(&crate::ids::next_u64().to_le_bytes());
    tag[8..].copy_from_slice(&crate::ids::next_u64().to_le_bytes());
    ETag::from_md5(tag)
}

/// The ETag of a copy of `source` encrypted as `encryption`, given the one a plain copy would
/// get (`etag`): the MD5 of the bytes under SSE-S3 (computed here when the source's ETag was an
/// SSE-KMS / SSE-C tag), an opaque tag otherwise.
pub fn copy_etag(encryption: &Encryption, source: &Object, etag: ETag) -> ETag {
    if !encryption.etag_is_md5() {
        return self::etag(encryption, [0; 16]);
    }
    // A tag other than the source's was computed from the bytes; the source's own is the MD5
    // unless the source was SSE-KMS or SSE-C.
    let source_tag_is_md5 = source
        .encryption
        .as_deref()
        .is_none_or(Encryption::etag_is_md5);
    if etag != source.etag || source_tag_is_md5 {
        return etag;
    }
    let mut md5 = md5::Md5::new();
    for slice in source.body.slices(0, source.size()) {
        md5.update(&slice);
    }
    ETag::from_md5(md5.finalize().into())
}

/// Echoes an object's (or upload's) encryption as `which` response shows it.
pub fn echo(resp: &mut Resp, encryption: Option<&Encryption>, which: Echo) {
    let Some(e) = encryption else {
        return;
    };
    if let Some(v) = e.kind.header_value() {
        set_header(resp, SSE, v);
    }
    if let Some(id) = &e.kms_key_id {
        set_header(resp, KMS_KEY_ID, id);
    }
    if e.bucket_key {
        set_header(resp, BUCKET_KEY, "true");
    }
    if which == Echo::Write {
        if let Some(c) = &e.context {
            set_header(resp, CONTEXT, c);
        }
    }
    if which != Echo::Complete {
        if let Some(md5) = &e.customer_key_md5 {
            set_header(resp, CUSTOMER_ALGORITHM, "AES256");
            set_header(resp, CUSTOMER_KEY_MD5, md5);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kms_key_names() {
        let (r, a) = ("us-east-1", "000000000000");
        let id = "1234abcd-12ab-34cd-56ef-1234567890ab";
        assert_eq!(
            resolve_kms_key(id, r, a).ok(),
            Some(format!("arn:aws:kms:us-east-1:000000000000:key/{id}"))
        );
        let arn = format!("arn:aws:kms:us-east-1:111122223333:key/{id}");
        assert_eq!(resolve_kms_key(&arn, r, a).ok(), Some(arn.clone()));
        assert_eq!(
            resolve_kms_key("alias/aws/s3", r, a).ok(),
            Some(default_kms_key_arn(r, a))
        );
        let alias = resolve_kms_key("alias/app", r, a).ok();
        assert!(alias
            .as_deref()
            .is_some_and(|k| k.starts_with("arn:aws:kms:us-east-1:000000000000:key/")));
        assert_eq!(alias, resolve_kms_key("alias/app", r, a).ok());
        for bad in [
            "fake-key-id",
            "aws/s3",
            "",
            "alias/",
            "arn:aws:kms:us-east-1:1:key/x",
        ] {
            assert!(resolve_kms_key(bad, r, a).is_err(), "{bad}");
        }
        let other_region = format!("arn:aws:kms:us-west-2:111122223333:key/{id}");
        assert_eq!(
            resolve_kms_key(&other_region, r, a)
                .err()
                .map(|e| e.message),
            Some("Invalid arn us-west-2".to_string())
        );
    }

    #[test]
    fn default_key_is_stable_and_uuid_shaped() {
        let k = default_kms_key_arn("eu-west-1", "123456789012");
        assert_eq!(k, default_kms_key_arn("eu-west-1", "123456789012"));
        let id = k.rsplit('/').next().unwrap_or("");
        assert!(is_key_id(id), "{k}");
        assert_ne!(k, default_kms_key_arn("us-east-1", "123456789012"));
    }

    #[test]
    fn contexts() {
        let b64 = |s: &str| crate::checksum::b64(s.as_bytes());
        assert!(check_context(&b64(r#"{"a":"b"}"#)).is_ok());
        assert!(check_context(&b64(r#"{"a":{"b":"c"}}"#)).is_err());
        assert!(check_context(&b64("[1]")).is_err());
        assert!(check_context("not base64!").is_err());
    }
}
