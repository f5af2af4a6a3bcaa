//! Multipart uploads: Create, UploadPart, UploadPartCopy, Complete, Abort, ListParts and
//! ListMultipartUploads.

use super::bucket::MAX_XML_BODY;
use super::conditional::WriteConditions;
use super::copy::resolve_copy_source;
use super::object::{check_key, object_from_headers, set_written_version_header, MAX_PUT_SIZE};
use super::sse::{self, Echo};
use super::{write_owner, Ctx, ReqBody, OWNER_ID};
use crate::checksum::{self, Checksum, ChecksumAlgorithm, ChecksumType};
use crate::clock::xml_timestamp;
use crate::error::{Code, S3Error, S3Result};
use crate::events::EventName;
use crate::server::query::url_encode;
use crate::server::response::{empty, set_header, xml, Resp};
use crate::store::{CompleteClaims, CompletedPart, Object, Part, UploadSummary, MAX_PART_NUMBER};
use crate::wire::headers::parse_range;
use crate::wire::request_body::{receive, receive_into, BodySpec};
use crate::wire::xml::{self as xmlp, XmlWriter};
use md5::{Digest, Md5};

fn part_number(ctx: &Ctx) -> S3Result<u32> {
    let raw = ctx.query.get("partNumber").unwrap_or("");
    raw.parse::<u32>()
        .ok()
        .filter(|n| (1..=MAX_PART_NUMBER).contains(n))
        .ok_or_else(|| {
            S3Error::invalid_argument(
                "Part number must be an integer between 1 and 10000, inclusive",
                "partNumber",
                raw,
            )
        })
}

fn upload_id(ctx: &Ctx) -> &str {
    ctx.query.get("uploadId").unwrap_or("")
}

/// `x-amz-checksum-type`, if sent.
fn checksum_type_header(ctx: &Ctx) -> S3Result<Option<ChecksumType>> {
    match ctx.header("x-amz-checksum-type") {
        None => Ok(None),
        Some(t) if t.eq_ignore_ascii_case("FULL_OBJECT") => Ok(Some(ChecksumType::FullObject)),
        Some(t) if t.eq_ignore_ascii_case("COMPOSITE") => Ok(Some(ChecksumType::Composite)),
        Some(t) => Err(S3Error::invalid_request(format!(
            "Value for x-amz-checksum-type header is invalid: {t}"
        ))),
    }
}

/// The algorithm and type of checksum an upload keeps, from its Create request.
fn upload_checksum(ctx: &Ctx) -> S3Result<(Option<ChecksumAlgorithm>, ChecksumType)> {
    let algo = match ctx.header("x-amz-checksum-algorithm") {
        None => None,
        Some(a) => Some(ChecksumAlgorithm::from_name(a).ok_or_else(|| {
            S3Error::invalid_request("Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]")
        })?),
    };
    let kind = checksum_type_header(ctx)?;
    let invalid = |a: ChecksumAlgorithm, t: ChecksumType| {
        S3Error::invalid_request(format!(
            "The {} checksum type cannot be used with the {} checksum algorithm.",
            t.name(),
            a.name().to_lowercase()
        ))
    };
    match (algo, kind) {
        (None, Some(_)) => Err(S3Error::invalid_request(
            "The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header.",
        )),
        // Without an explicit algorithm S3 keeps a full-object CRC64NVME, but shows no
        // algorithm for the upload itself.
        (None, None) => Ok((None, ChecksumType::FullObject)),
        (Some(a), None) if a == ChecksumAlgorithm::Crc64Nvme => Ok((Some(a), ChecksumType::FullObject)),
        (Some(a), None) => Ok((Some(a), ChecksumType::Composite)),
        (Some(a), Some(t)) if t == ChecksumType::FullObject && !a.combinable() => Err(invalid(a, t)),
        (Some(a), Some(t)) if t == ChecksumType::Composite && a == ChecksumAlgorithm::Crc64Nvme => Err(invalid(a, t)),
        (Some(a), Some(t)) => Ok((Some(a), t)),
    }
}

/// A part's ETag: its MD5, or for SSE-KMS and SSE-C uploads an opaque tag, as S3's.
fn part_etag(upload: &UploadSummary, md5: [u8; 16]) -> [u8; 16] {
    match upload.encryption.as_deref() {
        Some(e) => sse::etag(e, md5).md5,
        None => md5,
    }
}

pub fn create_multipart_upload(ctx: &Ctx) -> S3Result<Resp> {
    let key = ctx.key_name();
    check_key(key)?;
    let bucket = ctx.run.bucket(ctx.bucket_name())?;
    let mut template = object_from_headers(ctx, key)?;
    let lock = super::object_lock::lock_config(&bucket);
    super::object_lock::stamp(
        &mut template,
        super::object_lock::requested_lock(ctx, lock.as_deref())?,
    );
    template.encryption = Some(sse::for_write(ctx, &bucket, key, "s3:PutObject")?);
    let (algo, kind) = upload_checksum(ctx)?;
    let encryption = template.encryption.clone();
    let upload_id = bucket.create_upload(template, algo, kind, ctx.run.now())?;
    let mut w = XmlWriter::new();
    w.root("InitiateMultipartUploadResult")
        .elem("Bucket", &bucket.name)
        .elem("Key", key)
        .elem("UploadId", &upload_id);
    let mut resp = xml(200, w.finish());
    sse::echo(&mut resp, encryption.as_deref(), Echo::Write);
    if ctx.headers.contains_key("x-amz-checksum-algorithm") {
        if let Some(a) = algo {
            set_header(&mut resp, "x-amz-checksum-algorithm", a.name());
            set_header(&mut resp, "x-amz-checksum-type", kind.name());
        }
    }
    Ok(resp)
}

pub async fn upload_part(ctx: &Ctx, body: ReqBody) -> S3Result<Resp> {
    let bucket = ctx.run.bucket(ctx.bucket_name())?;
    let number = part_number(ctx)?;
    let key = ctx.key_name();
    let id = upload_id(ctx);
    let upload = bucket.upload_summary(key, id)?;
    sse::check_part(ctx, upload.encryption.as_deref())?;
    let spec = BodySpec::from_headers(&ctx.headers)?;
    if spec.length.is_none() {
        return Err(S3Error::new(crate::error::Code::MissingContentLength));
    }
    let kept = upload.kept_algorithm();
    let sent = spec
        .header_checksum
        .as_ref()
        .map(|(a, _)| *a)
        .or(spec.trailer_checksum);
    if let (Some(declared), Some(sent)) = (upload.checksum_algorithm, sent) {
        if declared != sent {
            return Err(S3Error::invalid_request(format!(
                "Checksum Type mismatch occurred, expected checksum Type: {}, actual checksum Type: {}",
                declared.name().to_lowercase(),
                sent.name().to_lowercase()
            )));
        }
    }
    let mut received =
        receive_into(body, &spec, Some(kept), MAX_PUT_SIZE, ctx.run.body_files()).await?;
    let client_sent = spec.header_checksum.is_some() || spec.trailer_checksum.is_some();
    let checksum = received.checksum_for(kept);
    let client_checksum = received
        .checksum
        .clone()
        .filter(|c| client_sent && Some(c) != checksum.as_ref());
    let tag = part_etag(&upload, received.md5);
    let part = Part {
        number,
        etag: hex::encode(tag),
        md5: tag,
        body: received.take_body(),
        last_modified: ctx.run.now(),
        checksum,
        client_checksum,
    };
    let mut resp = empty(200);
    set_header(&mut resp, "etag", &format!("\"{}\"", part.etag));
    sse::echo(&mut resp, upload.encryption.as_deref(), Echo::Read);
    if client_sent {
        if let Some(c) = part.client_checksum.as_ref().or(part.checksum.as_ref()) {
            set_header(&mut resp, c.algorithm.header(), &c.value);
        }
    }
    bucket.put_part(key, id, part)?;
    Ok(resp)
}

pub fn upload_part_copy(ctx: &Ctx) -> S3Result<Resp> {
    let bucket = ctx.run.bucket(ctx.bucket_name())?;
    let number = part_number(ctx)?;
    let key = ctx.key_name();
    let id = upload_id(ctx);
    let upload = bucket.upload_summary(key, id)?;
    sse::check_part(ctx, upload.encryption.as_deref())?;
    let source = resolve_copy_source(ctx)?.object;
    let size = source.size();
    let (start, end) = match ctx.header("x-amz-copy-source-range") {
        None => (0, size),
        Some(r) => {
            let bad_form = || {
                S3Error::invalid_argument(
                "The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy",
                "x-amz-copy-source-range",
                r,
            )
            };
            match parse_range(r) {
                Some(crate::wire::headers::ByteRange::From {
                    first,
                    last: Some(last),
                }) => {
                    // A range that starts past the end is refused differently from one
                    // that only ends past it.
                    if first >= size {
                        return Err(S3Error::invalid_request(
                            "The specified copy range is invalid for the source object size",
                        ));
                    }
                    if last >= size {
                        return Err(S3Error::invalid_argument(
                            format!(
                                "Range specified is not valid for source object of size: {size}"
                            ),
                            "x-amz-copy-source-range",
                            r,
                        ));
                    }
                    (first, last + 1)
                }
                _ => return Err(bad_form()),
            }
        }
    };
    // The part shares the source's segments or file ranges; only hashes read the bytes.
    let shared = source.body.range(start, end);
    // A slot of a pack is reclaimed whole: part of one gets a slot of its own (`--data-dir`).
    let shared = match ctx.run.body_files() {
        Some(f) => f
            .own_slots(shared)
            .map_err(crate::wire::request_body::body_file_error)?,
        None => shared,
    };
    let mut md5 = Md5::new();
    let kept = upload.kept_algorithm();
    let mut hasher = kept.hasher();
    for s in shared.slices(0, shared.len()) {
        md5.update(&s);
        hasher.update(&s);
    }
    let md5 = part_etag(&upload, md5.finalize().into());
    let checksum = Some(Checksum {
        algorithm: kept,
        value: checksum::b64_value(&hasher.finish()),
        kind: ChecksumType::FullObject,
    });
    let part = Part {
        number,
        etag: hex::encode(md5),
        md5,
        body: shared,
        last_modified: ctx.run.now(),
        checksum,
        client_checksum: None,
    };
    let mut w = XmlWriter::new();
    w.root("CopyPartResult")
        .elem("ETag", &format!("\"{}\"", part.etag))
        .elem("LastModified", &xml_timestamp(part.last_modified));
    // The part's checksum in the upload's algorithm; uploads created without one show none.
    if let (Some(c), Some(_)) = (&part.checksum, upload.checksum_algorithm) {
        w.elem(c.algorithm.xml_element(), &c.value);
    }
    bucket.put_part(key, id, part)?;
    let mut resp = xml(200, w.finish());
    sse::echo(&mut resp, upload.encryption.as_deref(), Echo::Read);
    Ok(resp)
}

fn parse_complete(doc: &[u8]) -> S3Result<Vec<CompletedPart>> {
    if doc.iter().all(u8::is_ascii_whitespace) {
        return Err(S3Error::invalid_request(
            "You must specify at least one part",
        ));
    }
    let root = xmlp::parse(doc)?;
    if root.name != "CompleteMultipartUpload" {
        return Err(S3Error::malformed_xml());
    }
    let mut parts = Vec::new();
    for p in root.children_named("Part") {
        let number = p
            .child_text("PartNumber")
            .and_then(|n| n.trim().parse::<u32>().ok())
            .ok_or_else(S3Error::malformed_xml)?;
        let etag = p
            .child_text("ETag")
            .ok_or_else(S3Error::malformed_xml)?
            .to_string();
        let checksums = ChecksumAlgorithm::ALL
            .into_iter()
            .filter_map(|a| {
                p.child_text(a.xml_element())
                    .map(|v| (a, v.trim().to_string()))
            })
            .collect();
        parts.push(CompletedPart {
            number,
            etag,
            checksums,
        });
    }
    Ok(parts)
}

/// The whole-object checksum a Complete request sends: one `x-amz-checksum-*` header whose
/// value may carry a composite's `-N` part count.
fn claimed_checksum(ctx: &Ctx) -> S3Result<Option<(ChecksumAlgorithm, String)>> {
    let mut found = None;
    for (name, value) in &ctx.headers {
        let Some(algo) = ChecksumAlgorithm::from_header(name.as_str()) else {
            continue;
        };
        if found.is_some() {
            return Err(S3Error::invalid_request(
                "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.",
            ));
        }
        let invalid =
            || S3Error::invalid_request(format!("Value for {} header is invalid.", algo.header()));
        let value = value.to_str().map_err(|_| invalid())?.trim();
        let digest = match value.rsplit_once('-') {
            Some((d, n)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => d,
            _ => value,
        };
        if checksum::b64_decode(digest).is_none_or(|d| d.len() != algo.digest_len()) {
            return Err(invalid());
        }
        found = Some((algo, value.to_string()));
    }
    Ok(found)
}

/// `x-amz-mp-object-size`: the object size the client expects.
fn claimed_size(ctx: &Ctx) -> S3Result<Option<u64>> {
    let Some(raw) = ctx.header("x-amz-mp-object-size") else {
        return Ok(None);
    };
    let n: i64 = raw.trim().parse().map_err(|_| {
        S3Error::invalid_request(format!(
            "Value for x-amz-mp-object-size header is invalid: '{raw}'"
        ))
    })?;
    u64::try_from(n).map(Some).map_err(|_| {
        S3Error::invalid_request(format!(
            "Value for x-amz-mp-object-size header is less than zero: '{raw}'"
        ))
    })
}

pub async fn complete_multipart_upload(ctx: &Ctx, body: ReqBody) -> S3Result<Resp> {
    let bucket = ctx.run.bucket(ctx.bucket_name())?;
    let key = ctx.key_name();
    let id = upload_id(ctx);
    let conditions = WriteConditions::from_headers(&ctx.headers)?;
    let pending = bucket.upload_summary(key, id);
    // The x-amz-checksum-* headers describe the object, not this XML document.
    let mut body_headers = ctx.headers.clone();
    for a in ChecksumAlgorithm::ALL {
        body_headers.remove(a.header());
    }
    body_headers.remove("x-amz-sdk-checksum-algorithm");
    let spec = BodySpec::from_headers(&body_headers)?;
    let doc = receive(body, &spec, None, MAX_XML_BODY).await?.into_bytes();
    let wanted = match (pending, parse_complete(&doc)) {
        (Ok(_), parsed) => parsed?,
        // A retried Complete of an upload just completed gets the first answer again.
        (Err(e), Ok(wanted)) => {
            return match bucket.completed_upload(key, id, &wanted) {
                Some(stored) => Ok(complete_result(ctx, &bucket, &stored)),
                None => Err(e),
            }
        }
        (Err(e), Err(_)) => return Err(e),
    };
    let claims = CompleteClaims {
        checksum_type: checksum_type_header(ctx)?,
        checksum: claimed_checksum(ctx)?,
        object_size: claimed_size(ctx)?,
    };
    let mut object = bucket.assemble_upload(
        key,
        id,
        &wanted,
        &claims,
        ctx.state.config.strict || ctx.run.strict(),
        ctx.run.now(),
    )?;
    // The default retention counts from the object's creation: Complete.
    let lock = super::object_lock::lock_config(&bucket);
    super::object_lock::apply_default(&mut object, lock.as_deref());
    // A write or delete of the key while the upload was open conflicts with a conditional
    // Complete (409; the upload must start over), once the condition itself holds.
    let key_changed = bucket.upload_summary(key, id).is_ok_and(|u| u.key_changed);
    let stored = bucket.put_checked(object, |current| {
        conditions.check(key, current)?;
        if key_changed && !conditions.is_empty() {
            return Err(S3Error::new(Code::ConditionalRequestConflict)
                .extra("Condition", conditions.name())
                .extra("Key", key));
        }
        Ok(())
    })?;
    bucket.finish_upload(key, id, &wanted, &stored);
    ctx.notify_object(&bucket, EventName::CompleteMultipartUpload, &stored);
    Ok(complete_result(ctx, &bucket, &stored))
}

/// The object's URL as the client addressed the bucket: `http://{bucket}.{host}/{key}` for
/// virtual-hosted requests (the bucket is in the Host already), else `http://{host}/{bucket}/{key}`
/// (`https://` over TLS, as S3 answers).
pub(crate) fn location(ctx: &Ctx, bucket: &str, key: &str) -> String {
    let host = ctx.header("host").unwrap_or("localhost");
    let scheme = ctx.state.config.scheme();
    let run = if ctx.run.id == crate::store::DEFAULT_RUN {
        String::new()
    } else {
        format!("/t/{}", ctx.run.id)
    };
    if crate::server::addressing::bucket_from_host(host, &ctx.state.config.domains).is_some() {
        format!("{scheme}://{host}{run}/{}", url_encode(key))
    } else {
        format!("{scheme}://{host}{run}/{bucket}/{}", url_encode(key))
    }
}

fn complete_result(ctx: &Ctx, bucket: &crate::store::Bucket, stored: &Object) -> Resp {
    let key = &*stored.key;
    let mut w = XmlWriter::new();
    w.root("CompleteMultipartUploadResult")
        .elem("Location", &location(ctx, &bucket.name, key))
        .elem("Bucket", &bucket.name)
        .elem("Key", key)
        .elem("ETag", &stored.quoted_etag());
    if let Some(c) = &stored.checksum {
        w.elem(c.algorithm.xml_element(), &c.value)
            .elem("ChecksumType", c.kind.name());
    }
    let mut resp = xml(200, w.finish());
    sse::echo(&mut resp, stored.encryption.as_deref(), Echo::Complete);
    set_written_version_header(&mut resp, stored);
    resp
}

pub fn abort_multipart_upload(ctx: &Ctx) -> S3Result<Resp> {
    let bucket = ctx.run.bucket(ctx.bucket_name())?;
    bucket.abort_upload(ctx.key_name(), upload_id(ctx))?;
    Ok(empty(204))
}

fn parse_limit(ctx: &Ctx, name: &str) -> S3Result<usize> {
    // S3 takes an empty integer parameter as an absent one.
    match ctx.query.get(name).filter(|v| !v.is_empty()) {
        None => Ok(1000),
        Some(v) => v
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 0)
            .map(|n| (n as usize).min(1000))
            .ok_or_else(|| {
                S3Error::invalid_argument(
                    format!("Argument {name} must be an integer between 0 and 2147483647"),
                    name,
                    v,
                )
            }),
    }
}

fn write_initiator(w: &mut XmlWriter) {
    w.open("Initiator").elem("ID", OWNER_ID).close();
}

pub fn list_parts(ctx: &Ctx) -> S3Result<Resp> {
    let bucket = ctx.run.bucket(ctx.bucket_name())?;
    let key = ctx.key_name();
    let upload = bucket.upload(key, upload_id(ctx))?;
    let max = parse_limit(ctx, "max-parts")?;
    let marker_text = ctx
        .query
        .get("part-number-marker")
        .filter(|m| !m.is_empty())
        .unwrap_or("0");
    let marker: u32 = marker_text.trim().parse().map_err(|_| {
        S3Error::invalid_argument(
            "Argument part-number-marker must be an integer between 0 and 2147483647",
            "part-number-marker",
            marker_text,
        )
    })?;
    let mut parts = upload.parts.range(marker.saturating_add(1)..);
    let page: Vec<&Part> = parts.by_ref().take(max).map(|(_, p)| p).collect();
    let truncated = parts.next().is_some();

    let mut w = XmlWriter::new();
    w.root("ListPartsResult")
        .elem("Bucket", &bucket.name)
        .elem("Key", key)
        .elem("UploadId", &upload.upload_id)
        .elem("PartNumberMarker", &marker.to_string())
        // S3 sends it on every page: the page's last part, or 0 on an empty page.
        .elem(
            "NextPartNumberMarker",
            &page.last().map_or(0, |p| p.number).to_string(),
        )
        .elem("MaxParts", &max.to_string())
        .elem("IsTruncated", if truncated { "true" } else { "false" });
    for p in &page {
        w.open("Part")
            .elem("PartNumber", &p.number.to_string())
            .elem("LastModified", &xml_timestamp(p.last_modified))
            .elem("ETag", &format!("\"{}\"", p.etag))
            .elem("Size", &p.body.len().to_string());
        // Parts of uploads created without an algorithm show no checksum.
        if let (Some(c), Some(_)) = (&p.checksum, upload.checksum_algorithm) {
            w.elem(c.algorithm.xml_element(), &c.value);
        }
        w.close();
    }
    write_initiator(&mut w);
    write_owner(&mut w);
    w.elem("StorageClass", &upload.template.storage_class);
    if let Some(a) = upload.checksum_algorithm {
        w.elem("ChecksumAlgorithm", a.name())
            .elem("ChecksumType", upload.checksum_type.name());
    }
    Ok(xml(200, w.finish()))
}

pub fn list_multipart_uploads(ctx: &Ctx) -> S3Result<Resp> {
    let bucket = ctx.run.bucket(ctx.bucket_name())?;
    let q = &ctx.query;
    let url = super::list::parse_encoding(ctx)?;
    let enc = |s: &str| if url { url_encode(s) } else { s.to_string() };
    let prefix = q.get("prefix").unwrap_or("");
    let delimiter = q.get("delimiter").filter(|d| !d.is_empty());
    let max = parse_limit(ctx, "max-uploads")?;
    let key_marker = q.get("key-marker").unwrap_or("");
    let id_marker = q.get("upload-id-marker").filter(|_| !key_marker.is_empty());

    enum Entry {
        Upload(UploadSummary),
        Prefix(String),
    }
    let mut entries: Vec<Entry> = Vec::new();
    let mut truncated = false;
    for u in bucket.uploads() {
        let k = u.key.as_str();
        if !k.starts_with(prefix) {
            continue;
        }
        let after_marker = match id_marker {
            Some(id) => k > key_marker || (k == key_marker && u.upload_id.as_str() > id),
            None => k > key_marker,
        };
        if !after_marker {
            continue;
        }
        let cp = delimiter.and_then(|d| {
            k[prefix.len()..]
                .find(d)
                .map(|i| k[..prefix.len() + i + d.len()].to_string())
        });
        if let Some(cp) = &cp {
            if matches!(entries.last(), Some(Entry::Prefix(p)) if p == cp) {
                continue;
            }
            if key_marker.starts_with(cp.as_str()) && !key_marker.is_empty() {
                continue;
            }
        }
        if entries.len() >= max {
            truncated = true;
            break;
        }
        entries.push(match cp {
            Some(cp) => Entry::Prefix(cp),
            None => Entry::Upload(u),
        });
    }

    let mut w = XmlWriter::new();
    w.root("ListMultipartUploadsResult")
        .elem("Bucket", &bucket.name)
        .elem("KeyMarker", &enc(key_marker))
        .elem("UploadIdMarker", id_marker.unwrap_or(""));
    // S3 sends both on every page: the page's last upload, or empty when it lists none.
    let last_upload = entries.iter().rev().find_map(|e| match e {
        Entry::Upload(u) => Some(u),
        Entry::Prefix(_) => None,
    });
    w.elem(
        "NextKeyMarker",
        &last_upload.map_or(String::new(), |u| enc(&u.key)),
    )
    .elem(
        "NextUploadIdMarker",
        last_upload.map_or("", |u| u.upload_id.as_str()),
    );
    if let Some(d) = delimiter {
        w.elem("Delimiter", &enc(d));
    }
    // Prefix only when the request had one.
    if q.has("prefix") {
        w.elem("Prefix", &enc(prefix));
    }
    w.elem("MaxUploads", &max.to_string())
        .elem("IsTruncated", if truncated { "true" } else { "false" });
    if url {
        w.elem("EncodingType", "url");
    }
    for e in &entries {
        if let Entry::Upload(u) = e {
            w.open("Upload")
                .elem("Key", &enc(&u.key))
                .elem("UploadId", &u.upload_id);
            write_initiator(&mut w);
            write_owner(&mut w);
            w.elem("StorageClass", &u.storage_class)
                .elem("Initiated", &xml_timestamp(u.initiated));
            if let Some(a) = u.checksum_algorithm {
                w.elem("ChecksumAlgorithm", a.name())
                    .elem("ChecksumType", u.checksum_type.name());
            }
            w.close();
        }
    }
    for e in &entries {
        if let Entry::Prefix(p) = e {
            w.open("CommonPrefixes").elem("Prefix", &enc(p)).close();
        }
    }
    Ok(xml(200, w.finish()))
}
