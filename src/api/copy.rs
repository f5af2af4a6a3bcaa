//! CopyObject: a new object sharing the source's body segments (no byte is copied).

use super::conditional::{WriteConditions, COPY_SOURCE};
use super::object::{
    check_key, no_such_version, object_headers, request_tags, restored, set_written_version_header,
    storage_class,
};
use super::sse::{self, Echo, KeyHeaders};
use super::Ctx;
use crate::checksum::{self, Checksum, ChecksumAlgorithm, ChecksumType};
use crate::clock::xml_timestamp;
use crate::error::{S3Error, S3Result};
use crate::server::query::decode_path;
use crate::server::response::{set_header, xml, Resp};
use crate::store::Extra;
use crate::store::{is_archived, Body, Bucket, ETag, Object, Versioning};
use crate::wire::headers;
use crate::wire::xml::XmlWriter;
use std::sync::Arc;

/// `x-amz-copy-source` → (bucket, key, versionId).
pub fn parse_copy_source(raw: &str) -> S3Result<(String, String, Option<String>)> {
    let invalid =
        || S3Error::invalid_argument("Invalid copy source object key", "x-amz-copy-source", raw);
    let (path, query) = match raw.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (raw, None),
    };
    // AWS decodes the header as a form value: a literal '+' is a space (a '+' in a key
    // travels as %2B).
    let path = decode_path(&path.replace('+', " ")).ok_or_else(invalid)?;
    let path = path.strip_prefix('/').unwrap_or(&path);
    let (bucket, key) = path.split_once('/').ok_or_else(invalid)?;
    if bucket.is_empty() || key.is_empty() {
        return Err(invalid());
    }
    let version = match query {
        Some(q) => match q.strip_prefix("versionId=") {
            Some(v) => Some(crate::server::query::decode_component(v)),
            None => return Err(invalid()),
        },
        None => None,
    };
    Ok((bucket.to_string(), key.to_string(), version))
}

fn directive(ctx: &Ctx, header: &'static str, what: &str) -> S3Result<bool> {
    match ctx.header(header) {
        None | Some("COPY") => Ok(false),
        Some("REPLACE") => Ok(true),
        Some(other) => Err(S3Error::invalid_argument(
            format!("Unknown {what} directive."),
            header,
            other,
        )),
    }
}

pub fn copy_object(ctx: &Ctx) -> S3Result<Resp> {
    let key = ctx.key_name();
    check_key(key)?;
    let dest = ctx.run.bucket(ctx.bucket_name())?;
    let replace_metadata = directive(ctx, "x-amz-metadata-directive", "metadata")?;
    let replace_tags = directive(ctx, "x-amz-tagging-directive", "tagging")?;
    let conditions = WriteConditions::from_headers(&ctx.headers)?;
    let CopySource {
        bucket: source_bucket,
        key: src_key,
        version: src_version,
        object: source,
    } = resolve_copy_source(ctx)?;
    let src_bucket = source_bucket.name.clone();

    let storage_class = storage_class(&ctx.headers)?;
    // The copy's lock comes from its own headers or the destination's default, never from
    // the source.
    let lock = super::object_lock::lock_config(&dest);
    let lock_requested = super::object_lock::requested_lock(ctx, lock.as_deref())?;
    // The target is encrypted as the request says, else as the destination bucket's default;
    // never as the source was.
    let encryption = sse::for_write(ctx, &dest, key, "s3:CopyObject")?;
    let changes_something = replace_metadata
        || ctx.headers.contains_key("x-amz-storage-class")
        || sse::names_encryption(ctx)
        // S3 allows a copy in place when the bucket has a default encryption configured.
        || dest.config(crate::store::ConfigKind::Encryption).is_some()
        || ctx.headers.contains_key("x-amz-website-redirect-location");
    if src_bucket == ctx.bucket_name()
        && src_key == key
        && src_version.is_none()
        && !changes_something
    {
        return Err(S3Error::invalid_request(
            "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
        ));
    }

    let (object_hdrs, metadata) = if replace_metadata {
        (
            object_headers(&ctx.headers).shared(),
            headers::user_metadata(&ctx.headers)?,
        )
    } else {
        (source.headers.clone(), source.metadata.to_vec())
    };
    let tags = if replace_tags {
        request_tags(&ctx.headers)?
    } else {
        source.tags().to_vec()
    };
    let wanted_algo = match ctx.header("x-amz-checksum-algorithm") {
        Some(name) => Some(ChecksumAlgorithm::from_name(name).ok_or_else(|| {
            S3Error::invalid_request("Value for x-amz-checksum-algorithm header is invalid.")
        })?),
        None => None,
    };
    let (etag, checksum) = copy_etag_and_checksum(&source, wanted_algo);
    let etag = sse::copy_etag(&encryption, &source, etag);
    let mut object = Object {
        body: source.body.clone(),
        etag,
        headers: object_hdrs,
        metadata: metadata.into(),
        storage_class,
        checksum,
        encryption: Some(encryption),
        // A copy gets the ACL its request asks for (private by default), not the source's.
        acl: super::acl::request_object_acl(ctx)?,
        ..Object::new(key, Body::default(), "", ctx.run.now())
    };
    // A copy is a single object (no parts), whatever its source was made of.
    object.set_extra(Extra {
        tags: tags.into(),
        ..Extra::default()
    });
    super::object_lock::stamp(&mut object, lock_requested);
    super::object_lock::apply_default(&mut object, lock.as_deref());
    let stored = dest.put_checked(object, |current| conditions.check(key, current))?;
    ctx.notify_object(&dest, crate::events::EventName::Copy, &stored);

    let mut w = XmlWriter::new();
    w.root("CopyObjectResult")
        .elem("ETag", &stored.quoted_etag())
        .elem("LastModified", &xml_timestamp(stored.last_modified));
    if let Some(c) = &stored.checksum {
        w.elem("ChecksumType", c.kind.name())
            .elem(c.algorithm.xml_element(), &c.value);
    }
    let mut resp = xml(200, w.finish());
    sse::echo(&mut resp, stored.encryption.as_deref(), Echo::Write);
    set_written_version_header(&mut resp, &stored);
    if source_bucket.versioning().0 != Versioning::Unversioned {
        set_header(
            &mut resp,
            "x-amz-copy-source-version-id",
            &source.version_id,
        );
    }
    Ok(resp)
}

/// A copy's ETag and checksum. A copy is one object: S3 gives the copy of a multipart object
/// the MD5 of its bytes as ETag, and a full-object checksum (a composite one is computed
/// again over the bytes, in its algorithm, unless the request names another). The bytes are
/// read only when a value cannot be carried over, in one pass.
fn copy_etag_and_checksum(
    source: &Object,
    wanted: Option<ChecksumAlgorithm>,
) -> (ETag, Option<Checksum>) {
    enum Plan {
        Keep(Option<Checksum>),
        Compute(ChecksumAlgorithm),
    }
    let plan = match (wanted, &source.checksum) {
        (Some(a), Some(c)) if c.algorithm == a && c.kind == ChecksumType::FullObject => {
            Plan::Keep(Some(c.clone()))
        }
        (Some(a), _) => Plan::Compute(a),
        (None, Some(c)) if c.kind == ChecksumType::Composite => Plan::Compute(c.algorithm),
        (None, c) => Plan::Keep(c.clone()),
    };
    let mut md5 = source.parts().is_some().then(checksum::md5_hasher);
    let mut hasher = match &plan {
        Plan::Compute(a) => Some(a.hasher()),
        Plan::Keep(_) => None,
    };
    if md5.is_some() || hasher.is_some() {
        for slice in source.body.slices(0, source.size()) {
            if let Some(m) = md5.as_mut() {
                md5::Digest::update(m, &slice);
            }
            if let Some(h) = hasher.as_mut() {
                h.update(&slice);
            }
        }
    }
    let etag = match md5 {
        Some(m) => ETag::from_md5(md5::Digest::finalize(m).into()),
        None => source.etag,
    };
    let checksum = match (plan, hasher) {
        (Plan::Keep(c), _) => c,
        (Plan::Compute(a), Some(h)) => Some(Checksum {
            algorithm: a,
            value: checksum::b64_value(&h.finish()),
            kind: ChecksumType::FullObject,
        }),
        (Plan::Compute(_), None) => None,
    };
    (etag, checksum)
}

/// What `x-amz-copy-source` names, resolved and checked against `x-amz-copy-source-if-*`.
pub struct CopySource {
    pub bucket: Arc<Bucket>,
    pub key: String,
    pub version: Option<String>,
    pub object: Arc<Object>,
}

pub fn resolve_copy_source(ctx: &Ctx) -> S3Result<CopySource> {
    let raw = ctx.header("x-amz-copy-source").unwrap_or("");
    let (bucket, key, version) = parse_copy_source(raw)?;
    super::check_expected_owner(ctx, "x-amz-source-expected-bucket-owner", &bucket)?;
    let bucket = ctx.run.bucket(&bucket)?;
    let object = copy_source_object(&bucket, &key, version.as_deref(), ctx.run.now())?;
    sse::check_read(ctx, &object, KeyHeaders::CopySource)?;
    COPY_SOURCE.check(
        &ctx.headers,
        &object.etag.to_string(),
        object.last_modified,
        ctx.run.now(),
    )?;
    Ok(CopySource {
        bucket,
        key,
        version,
        object,
    })
}

/// The object a copy source names, with S3's errors (a delete marker cannot be copied).
pub fn copy_source_object(
    bucket: &Bucket,
    key: &str,
    version: Option<&str>,
    now: crate::clock::Millis,
) -> S3Result<Arc<Object>> {
    match version {
        Some(v) => {
            let o = bucket
                .version(key, v)
                .ok_or_else(|| no_such_version(key, v))?;
            if o.delete_marker {
                return Err(S3Error::invalid_request(
                    "The source of a copy request may not specifically refer to a delete marker by version id.",
                ));
            }
            Ok(o)
        }
        None => bucket.get(key).ok_or_else(|| S3Error::no_such_key(key)),
    }
    .and_then(|o| {
        // An archived object can only be copied from a restored copy.
        if is_archived(&o.storage_class) && !restored(&o, now) {
            return Err(S3Error::new(crate::error::Code::InvalidObjectState)
                .extra("StorageClass", o.storage_class));
        }
        Ok(o)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_sources() {
        assert_eq!(
            parse_copy_source("/b/dir/a%20b%2Bc").ok(),
            Some(("b".into(), "dir/a b+c".into(), None))
        );
        assert_eq!(
            parse_copy_source("b/a+b").ok(),
            Some(("b".into(), "a b".into(), None))
        );
        assert_eq!(
            parse_copy_source("b/k?versionId=xyz").ok(),
            Some(("b".into(), "k".into(), Some("xyz".into())))
        );
        assert!(parse_copy_source("nokey").is_err());
        assert!(parse_copy_source("/b/").is_err());
    }
}
