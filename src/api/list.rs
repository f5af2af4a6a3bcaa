//! ListObjects (v1) and ListObjectsV2.

use super::{listing_owner, write_owner_id, Ctx};
use crate::checksum;
use crate::error::{S3Error, S3Result};
use crate::server::query::url_encode;
use crate::server::response::{set_header, xml, Resp};
use crate::store::{ListEntry, ListQuery};
use crate::wire::xml::XmlWriter;
use std::borrow::Cow;

const MAX_KEYS: usize = 1000;

pub(super) fn parse_max_keys(raw: Option<&str>) -> S3Result<(usize, String)> {
    match raw {
        None => Ok((MAX_KEYS, MAX_KEYS.to_string())),
        Some(v) => {
            let n: i64 = v.trim().parse().map_err(|_| {
                S3Error::invalid_argument(
                    "Provided max-keys not an integer or within integer range",
                    "max-keys",
                    v,
                )
            })?;
            if n < 0 {
                return Err(S3Error::invalid_argument(
                    "Argument maxKeys must be an integer between 0 and 2147483647",
                    "maxKeys",
                    v,
                ));
            }
            Ok(((n as usize).min(MAX_KEYS), n.to_string()))
        }
    }
}

/// Continuation tokens are the base64 of the name a page ended at, behind four bytes of its
/// MD5: like S3's opaque tokens, one the twin did not issue is refused, not read as a name.
pub(super) fn encode_token(name: &str) -> String {
    let mut raw = checksum::md5_digest(name.as_bytes())[..TOKEN_TAG].to_vec();
    raw.extend_from_slice(name.as_bytes());
    checksum::b64(&raw)
}

const TOKEN_TAG: usize = 4;

pub(super) fn decode_token(t: &str) -> S3Result<String> {
    checksum::b64_decode(t)
        .filter(|b| b.len() > TOKEN_TAG)
        .and_then(|b| {
            let (tag, name) = b.split_at(TOKEN_TAG);
            (checksum::md5_digest(name)[..TOKEN_TAG] == *tag)
                .then(|| String::from_utf8(name.to_vec()).ok())
                .flatten()
        })
        .ok_or_else(|| {
            S3Error::invalid_argument(
                "The continuation token provided is incorrect",
                "continuation-token",
                t,
            )
        })
}

/// `encoding-type=url` → true; absent → false; anything else is an error.
pub(super) fn parse_encoding(ctx: &Ctx) -> S3Result<bool> {
    match ctx.query.get("encoding-type") {
        None => Ok(false),
        Some(e) if e.eq_ignore_ascii_case("url") => Ok(true),
        Some(e) => Err(S3Error::invalid_argument(
            "Invalid Encoding Method specified in Request",
            "encoding-type",
            e,
        )),
    }
}

/// A name as the listing shows it: URL-encoded under `encoding-type=url`, else as stored.
fn enc(url: bool, s: &str) -> Cow<'_, str> {
    if url {
        Cow::Owned(url_encode(s))
    } else {
        Cow::Borrowed(s)
    }
}

pub fn list_objects(ctx: &Ctx, v2: bool) -> S3Result<Resp> {
    let bucket = ctx.run.bucket(ctx.bucket_name())?;
    let q = &ctx.query;
    let url = parse_encoding(ctx)?;
    let prefix = q.get("prefix").unwrap_or("");
    let delimiter = q.get("delimiter").filter(|d| !d.is_empty());
    let (max, max_text) = parse_max_keys(q.get("max-keys"))?;

    let token = match (v2, q.get("continuation-token")) {
        (true, Some(t)) => Some(decode_token(t)?),
        _ => None,
    };
    let start_after = if v2 { q.get("start-after") } else { None };
    let marker = if v2 { None } else { q.get("marker") };
    let after = token
        .as_deref()
        .or(start_after)
        .or(marker)
        .filter(|a| !a.is_empty());

    let page = bucket.list(&ListQuery {
        prefix,
        delimiter,
        after,
        max,
    });

    // About 330 bytes a key with its owner: the document is written once, never regrown.
    let mut w = XmlWriter::with_capacity(1024 + page.entries.len() * 384);
    w.root("ListBucketResult")
        .elem("Name", &bucket.name)
        .elem("Prefix", &enc(url, prefix));
    if v2 {
        // A continuation token supersedes start-after, which S3 then does not echo.
        if let (Some(sa), false) = (start_after, q.has("continuation-token")) {
            w.elem("StartAfter", &enc(url, sa));
        }
        if let Some(t) = q.get("continuation-token") {
            w.elem("ContinuationToken", t);
        }
        if page.truncated {
            if let Some(last) = page.last_name() {
                w.elem("NextContinuationToken", &encode_token(last));
            }
        }
        w.elem("KeyCount", &page.entries.len().to_string());
    } else {
        w.elem("Marker", &enc(url, marker.unwrap_or("")));
        if page.truncated && delimiter.is_some() {
            if let Some(last) = page.last_name() {
                w.elem("NextMarker", &enc(url, last));
            }
        }
    }
    w.elem("MaxKeys", &max_text);
    if let Some(d) = delimiter {
        w.elem("Delimiter", &enc(url, d));
    }
    w.elem("IsTruncated", if page.truncated { "true" } else { "false" });
    if url {
        w.elem("EncodingType", "url");
    }
    let with_owner = !v2
        || q.get("fetch-owner")
            .is_some_and(|f| f.eq_ignore_ascii_case("true"));
    let everyones = if with_owner {
        listing_owner(&bucket)
    } else {
        None
    };
    for entry in &page.entries {
        if let ListEntry::Object(o) = entry {
            w.open("Contents")
                .elem("Key", &enc(url, &o.key))
                .elem_timestamp("LastModified", o.last_modified)
                .elem_verbatim("ETag", &["&quot;", &o.etag.text(false), "&quot;"]);
            if let Some(c) = &o.checksum {
                w.elem_verbatim("ChecksumAlgorithm", &[c.algorithm.name()])
                    .elem_verbatim("ChecksumType", &[c.kind.name()]);
            }
            w.elem_u64("Size", o.size());
            if with_owner {
                let acl = everyones.as_ref().unwrap_or(&o.acl);
                write_owner_id(&mut w, &acl.owner.id);
            }
            w.elem_verbatim("StorageClass", &[o.storage_class.as_str()])
                .close();
        }
    }
    for entry in &page.entries {
        if let ListEntry::Prefix(p) = entry {
            w.open("CommonPrefixes")
                .elem("Prefix", &enc(url, p))
                .close();
        }
    }
    let mut resp = xml(200, w.finish());
    set_header(&mut resp, "x-amz-bucket-region", &bucket.region);
    Ok(resp)
}
