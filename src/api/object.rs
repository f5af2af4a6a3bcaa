//! Single-object reads and writes: PutObject, GetObject, HeadObject.

use super::conditional::{WriteConditions, READ};
use super::object_lock;
use super::sse::{self, Echo, KeyHeaders};
use super::{Ctx, ReqBody};
use crate::checksum::{ChecksumAlgorithm, ChecksumType};
use crate::clock::{http_date, Millis};
use crate::error::{Code, S3Error, S3Result};
use crate::lifecycle;
use crate::server::response::{
    empty, names, set_header, set_header_bytes, set_static, Resp, ResponseBody,
};
use crate::store::{
    is_archived, storage_class_named, Body, Bucket, Object, ObjectHeaders, Restore, StorageClass,
    Versioning,
};
use crate::wire::headers::{self, encode_metadata_value, parse_range, parse_tagging};
use crate::wire::request_body::{receive_into, BodySpec};
use http::{header, HeaderMap, HeaderValue};
use std::sync::Arc;

/// Largest single PUT S3 accepts: 5 GiB.
pub const MAX_PUT_SIZE: u64 = 5 * 1024 * 1024 * 1024;
/// Longest key, in UTF-8 bytes.
pub const MAX_KEY_LEN: usize = 1024;

pub fn check_key(key: &str) -> S3Result<()> {
    if key.len() > MAX_KEY_LEN {
        return Err(S3Error::new(Code::KeyTooLongError)
            .extra("Size", key.len().to_string())
            .extra("MaxSizeAllowed", MAX_KEY_LEN.to_string()));
    }
    Ok(())
}

pub fn storage_class(headers: &HeaderMap) -> S3Result<StorageClass> {
    match headers
        .get("x-amz-storage-class")
        .and_then(|v| v.to_str().ok())
    {
        None => Ok(StorageClass::STANDARD),
        Some(c) => storage_class_named(c)
            .filter(|c| !NOT_FOR_BUCKETS.contains(&c.as_str()))
            .ok_or_else(|| {
                S3Error::new(Code::InvalidStorageClass).extra("StorageClassRequested", c)
            }),
    }
}

/// Storage classes S3 knows but refuses in a general-purpose bucket: they belong to Outposts,
/// Snow devices, directory buckets and FSx.
const NOT_FOR_BUCKETS: [&str; 4] = ["OUTPOSTS", "SNOW", "EXPRESS_ONEZONE", "FSX_OPENZFS"];

/// The stored HTTP properties from a request's headers. Content-Encoding is kept as sent
/// (spacing included), minus the `aws-chunked` token, which is transport.
pub fn object_headers(h: &HeaderMap) -> ObjectHeaders {
    let content_encoding = headers::text(h, "content-encoding").and_then(|ce| {
        let kept: Vec<&str> = ce
            .split(',')
            .filter(|p| !p.trim().eq_ignore_ascii_case("aws-chunked"))
            .collect();
        let kept = kept.join(",");
        let kept = kept.trim();
        (!kept.is_empty()).then(|| kept.to_string())
    });
    ObjectHeaders {
        content_type: headers::text(h, "content-type"),
        content_encoding,
        content_disposition: headers::text(h, "content-disposition"),
        content_language: headers::text(h, "content-language"),
        cache_control: headers::text(h, "cache-control"),
        expires: headers::text(h, "expires"),
        website_redirect_location: headers::text(h, "x-amz-website-redirect-location"),
    }
}

pub fn request_tags(h: &HeaderMap) -> S3Result<Vec<(String, String)>> {
    match headers::text(h, "x-amz-tagging") {
        Some(t) => parse_tagging(&t),
        None => Ok(Vec::new()),
    }
}

/// An object described by the request's headers (metadata, content headers, storage class,
/// tags, ACL), with an empty body: PutObject fills the body, CreateMultipartUpload keeps it as the
/// template of the object to come.
pub fn object_from_headers(ctx: &Ctx, key: &str) -> S3Result<Object> {
    let mut o = Object::new(key, Body::default(), "", ctx.run.now());
    o.storage_class = storage_class(&ctx.headers)?;
    let tags = request_tags(&ctx.headers)?;
    if !tags.is_empty() {
        o.extra_mut().tags = tags.into();
    }
    o.metadata = headers::user_metadata(&ctx.headers)?.into();
    o.headers = object_headers(&ctx.headers).shared();
    o.acl = super::acl::request_object_acl(ctx)?;
    Ok(o)
}

/// `x-amz-expiration` when a lifecycle Expiration rule applies to the object.
pub fn set_expiration_header(resp: &mut Resp, bucket: &Bucket, object: &Object) {
    if let Some((due, rule)) = lifecycle::expiration_of(&lifecycle::bucket_rules(bucket), object) {
        set_header(
            resp,
            "x-amz-expiration",
            &format!("expiry-date=\"{}\", rule-id=\"{}\"", http_date(due), rule),
        );
    }
}

/// Whether an archived object has a readable restored copy at `now`.
pub fn restored(object: &Object, now: Millis) -> bool {
    object
        .restore()
        .is_some_and(|r| r.ready_at <= now && now < r.expires_at)
}

/// The `x-amz-restore` header: while a restore runs or its copy exists; gone once it expired.
pub fn restore_header(r: &Restore, now: Millis) -> Option<String> {
    if now < r.ready_at {
        Some("ongoing-request=\"true\"".to_string())
    } else if now < r.expires_at {
        Some(format!(
            "ongoing-request=\"false\", expiry-date=\"{}\"",
            http_date(r.expires_at)
        ))
    } else {
        None
    }
}

/// `x-amz-version-id` is shown once a bucket has had versioning turned on.
pub fn set_version_header(resp: &mut Resp, bucket: &Bucket, object: &Object) {
    if bucket.versioning().0 != Versioning::Unversioned {
        set_header(resp, names::VERSION_ID, &object.version_id);
    }
}

/// A write (PUT, copy, complete) answers `x-amz-version-id` only when it made a real version:
/// into an unversioned or Suspended bucket AWS sends none, not even `null`.
pub fn set_written_version_header(resp: &mut Resp, object: &Object) {
    if &*object.version_id != crate::store::NULL_VERSION {
        set_header(resp, names::VERSION_ID, &object.version_id);
    }
}

pub async fn put_object(ctx: &Ctx, body: ReqBody) -> S3Result<Resp> {
    let key = ctx.key_name();
    check_key(key)?;
    let bucket = ctx.run.bucket(ctx.bucket_name())?;
    let conditions = WriteConditions::from_headers(&ctx.headers)?;
    let mut object = object_from_headers(ctx, key)?;
    let encryption = sse::for_write(ctx, &bucket, key, "s3:PutObject")?;
    let spec = BodySpec::from_headers(&ctx.headers)?;
    if spec.length.is_none() {
        return Err(S3Error::new(Code::MissingContentLength));
    }
    let lock = object_lock::lock_config(&bucket);
    let requested = object_lock::requested_lock(ctx, lock.as_deref())?;
    object_lock::check_integrity_header(&spec, &requested, lock.as_deref())?;
    object_lock::stamp(&mut object, requested);
    let mut received = receive_into(
        body,
        &spec,
        Some(ChecksumAlgorithm::Crc64Nvme),
        MAX_PUT_SIZE,
        ctx.run.body_files(),
    )
    .await?;
    let client_checksum = spec.header_checksum.is_some() || spec.trailer_checksum.is_some();
    object.etag = sse::etag(&encryption, received.md5);
    object.encryption = Some(encryption);
    object.body = received.take_body();
    object.checksum = received.checksum;
    object.last_modified = ctx.run.now();
    object_lock::apply_default(&mut object, lock.as_deref());
    let stored = bucket.put_checked(object, |current| conditions.check(key, current))?;
    ctx.notify_object(&bucket, crate::events::EventName::Put, &stored);
    let mut resp = empty(200);
    set_header(&mut resp, "etag", &stored.quoted_etag());
    sse::echo(&mut resp, stored.encryption.as_deref(), Echo::Write);
    set_written_version_header(&mut resp, &stored);
    set_expiration_header(&mut resp, &bucket, &stored);
    if client_checksum {
        if let Some(c) = &stored.checksum {
            set_header(&mut resp, c.algorithm.header(), &c.value);
            set_header(&mut resp, "x-amz-checksum-type", c.kind.name());
        }
    }
    Ok(resp)
}

/// Writes the headers GET and HEAD share for an object.
fn write_object_headers<'a>(resp: &mut Resp, o: &'a Object, ctx: &'a Ctx) {
    let q = &ctx.query;
    let pick = |param: &str, stored: &'a Option<String>| -> Option<&'a str> {
        q.get(param).or(stored.as_deref())
    };
    set_header(resp, header::ETAG, &o.quoted_etag());
    set_header_bytes(
        resp,
        header::LAST_MODIFIED,
        &crate::clock::http_date_bytes(o.last_modified),
    );
    set_static(resp, header::ACCEPT_RANGES, "bytes");
    match pick("response-content-type", &o.headers.content_type) {
        Some(t) => set_header(resp, header::CONTENT_TYPE, t),
        None => set_static(resp, header::CONTENT_TYPE, "binary/octet-stream"),
    }
    let optional = [
        (
            "content-encoding",
            pick("response-content-encoding", &o.headers.content_encoding),
        ),
        (
            "content-disposition",
            pick(
                "response-content-disposition",
                &o.headers.content_disposition,
            ),
        ),
        (
            "content-language",
            pick("response-content-language", &o.headers.content_language),
        ),
        (
            "cache-control",
            pick("response-cache-control", &o.headers.cache_control),
        ),
        ("expires", pick("response-expires", &o.headers.expires)),
        (
            "x-amz-website-redirect-location",
            o.headers.website_redirect_location.as_deref(),
        ),
    ];
    for (name, value) in optional {
        if let Some(v) = value {
            set_header(resp, name, v);
        }
    }
    for (name, value) in &o.metadata {
        let header = format!("x-amz-meta-{name}");
        if let (Ok(n), Ok(v)) = (
            http::HeaderName::from_bytes(header.as_bytes()),
            http::HeaderValue::from_str(&encode_metadata_value(value)),
        ) {
            resp.headers_mut().append(n, v);
        }
    }
    if o.storage_class != "STANDARD" {
        set_header(resp, names::STORAGE_CLASS, &o.storage_class);
    }
    sse::echo(resp, o.encryption.as_deref(), Echo::Read);
    if !o.tags().is_empty() {
        set_header(resp, "x-amz-tagging-count", &o.tags().len().to_string());
    }
    object_lock::set_lock_headers(resp, o);
}

/// The version a read addresses: `?versionId=` or the current one, with S3's errors for
/// missing versions and delete markers.
pub fn read_version(ctx: &Ctx, bucket: &Bucket, key: &str, method: &str) -> S3Result<Arc<Object>> {
    match ctx.query.get("versionId") {
        Some(v) => {
            check_version_id(v)?;
            let o = bucket
                .version(key, v)
                .ok_or_else(|| no_such_version(key, v))?;
            if o.delete_marker {
                return Err(method_not_allowed_on_marker(&o, method));
            }
            Ok(o)
        }
        None => match bucket.current(key) {
            Some(o) if !o.delete_marker => Ok(o),
            current => Err(missing(key, current.as_deref())),
        },
    }
}

/// The version an ACL or tagging operation addresses. Unlike GET, these answer 405 for a
/// delete marker even when it is only the current version (AWS: `ResourceType` DeleteMarker).
pub fn read_subresource_version(
    ctx: &Ctx,
    bucket: &Bucket,
    key: &str,
    method: &str,
) -> S3Result<Arc<Object>> {
    if ctx.query.get("versionId").is_none() {
        if let Some(marker) = bucket.current(key).filter(|o| o.delete_marker) {
            return Err(method_not_allowed_on_marker(&marker, method));
        }
    }
    read_version(ctx, bucket, key, method)
}

/// A version id S3 could have issued: `null` or the 32 characters of `ids::version_id`.
/// Anything else is refused as malformed before any lookup, as AWS does.
pub fn check_version_id(v: &str) -> S3Result<()> {
    if v == crate::store::NULL_VERSION || crate::ids::is_version_id(v) {
        return Ok(());
    }
    Err(S3Error::invalid_argument(
        "Invalid version id specified",
        "versionId",
        v,
    ))
}

pub fn no_such_version(key: &str, version_id: &str) -> S3Error {
    S3Error::new(Code::NoSuchVersion)
        .extra("Key", key)
        .extra("VersionId", version_id)
}

/// NoSuchKey, with the delete-marker headers when the current version is a delete marker.
pub fn missing(key: &str, current: Option<&Object>) -> S3Error {
    let mut e = S3Error::no_such_key(key);
    if let Some(dm) = current.filter(|o| o.delete_marker) {
        e = e
            .header("x-amz-delete-marker", "true")
            .header("x-amz-version-id", dm.version_id.to_string());
    }
    e
}

/// Addressing a delete marker by version id: 405, as S3 answers.
fn method_not_allowed_on_marker(marker: &Object, method: &str) -> S3Error {
    S3Error::new(Code::MethodNotAllowed)
        .extra("Method", method)
        .extra("ResourceType", "DeleteMarker")
        .header("x-amz-delete-marker", "true")
        .header("x-amz-version-id", marker.version_id.to_string())
        .header("allow", "DELETE")
        .header("last-modified", http_date(marker.last_modified))
}

/// GetObject and HeadObject (`head` drops the body).
pub fn get_object(ctx: &Ctx, head: bool) -> S3Result<Resp> {
    let bucket = ctx.run.bucket(ctx.bucket_name())?;
    let key = ctx.key_name();
    let object = read_version(ctx, &bucket, key, if head { "HEAD" } else { "GET" })?;
    sse::refuse_sse_header(ctx)?;
    sse::check_read(ctx, &object, KeyHeaders::Object)?;
    // One reading of the run's clock serves the conditions, the archive and the restore.
    let now = ctx.run.now();
    READ.check(
        &ctx.headers,
        &object.etag.text(false),
        object.last_modified,
        now,
    )?;
    if !head && is_archived(&object.storage_class) && !restored(&object, now) {
        return Err(
            S3Error::new(Code::InvalidObjectState).extra("StorageClass", object.storage_class)
        );
    }

    let size = object.size();
    let range_header = ctx.header("range").map(str::to_string);
    let part_number = match ctx.query.get("partNumber") {
        None => None,
        Some(p) => Some(
            p.parse::<u32>()
                .ok()
                .filter(|n| (1..=10_000).contains(n))
                .ok_or_else(|| {
                    S3Error::invalid_argument(
                        "Part number must be an integer between 1 and 10000, inclusive",
                        "partNumber",
                        p,
                    )
                })?,
        ),
    };
    if part_number.is_some() && range_header.is_some() {
        return Err(S3Error::invalid_request(
            "Cannot specify both Range header and partNumber query parameter",
        ));
    }
    // (start, end inclusive) when a part of the object is served.
    let part_count = object.parts().map_or(1, |p| p.len());
    let window = match (part_number, &range_header) {
        (Some(n), _) if n as usize > part_count => {
            return Err(S3Error::new(Code::InvalidPartNumber)
                .extra("PartNumberRequested", n.to_string())
                .extra("ActualPartCount", part_count.to_string()))
        }
        (Some(n), _) => match object.parts() {
            Some(parts) => {
                let start: u64 = parts[..n as usize - 1].iter().map(|p| p.size).sum();
                let len = parts[n as usize - 1].size;
                (len > 0).then(|| (start, start + len - 1))
            }
            None => (size > 0).then(|| (0, size - 1)),
        },
        (None, Some(raw)) => match parse_range(raw) {
            Some(r) => Some(r.resolve(size, raw)?),
            None => None,
        },
        (None, None) => None,
    };

    let (status, start, end) = match window {
        Some((s, e)) => (206, s, e + 1),
        None => (200, 0, size),
    };
    let mut resp = if head {
        empty(status)
    } else {
        let mut r = http::Response::new(ResponseBody::Slices(object.body.slices(start, end)));
        *r.status_mut() = crate::server::response::status(status);
        r
    };
    write_object_headers(&mut resp, &object, ctx);
    set_version_header(&mut resp, &bucket, &object);
    set_expiration_header(&mut resp, &bucket, &object);
    if let Some(h) = object.restore().and_then(|r| restore_header(r, now)) {
        set_header(&mut resp, "x-amz-restore", &h);
    }
    if let (Some(_), Some(parts)) = (part_number, object.parts()) {
        set_header(&mut resp, "x-amz-mp-parts-count", &parts.len().to_string());
    }
    resp.headers_mut()
        .insert(header::CONTENT_LENGTH, HeaderValue::from(end - start));
    if status == 206 {
        set_header(
            &mut resp,
            "content-range",
            &format!("bytes {}-{}/{}", start, end - 1, size),
        );
    }
    let whole = start == 0 && end == size;
    if ctx
        .header("x-amz-checksum-mode")
        .is_some_and(|m| m.eq_ignore_ascii_case("ENABLED"))
    {
        // A part of a multipart object shows its own checksum when the object's is composite
        // (a checksum of part checksums), and none otherwise.
        let shown = match (part_number, object.parts()) {
            (Some(n), Some(parts)) => object
                .checksum
                .as_ref()
                .filter(|c| c.kind == ChecksumType::Composite)
                .and_then(|_| parts.get(n as usize - 1))
                .and_then(|p| p.checksum.as_ref())
                .map(|c| (c.algorithm, c.value.as_str(), ChecksumType::Composite)),
            _ => object
                .checksum
                .as_ref()
                .filter(|_| whole)
                .map(|c| (c.algorithm, c.value.as_str(), c.kind)),
        };
        if let Some((algorithm, value, kind)) = shown {
            set_header(&mut resp, algorithm.header(), value);
            set_header(&mut resp, "x-amz-checksum-type", kind.name());
        }
    }
    Ok(resp)
}
