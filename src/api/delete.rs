//! DeleteObject and DeleteObjects, with S3's versioning semantics (delete markers, deleting a
//! version for good).

use super::bucket::MAX_XML_BODY;
use super::{Ctx, ReqBody};
use crate::error::{S3Error, S3Result};
use crate::server::response::{empty, set_header, xml, Resp};
use crate::store::{Bucket, Bypass, Deleted};
use crate::wire::request_body::{receive, BodySpec};
use crate::wire::xml::{self, XmlWriter};

/// Most keys one DeleteObjects request may name.
const MAX_DELETE_KEYS: usize = 1000;

/// A delete without a version id only adds a delete marker, which Object Lock allows; a
/// delete of a version is refused while the version is locked.
fn delete_one(
    ctx: &Ctx,
    bucket: &Bucket,
    key: &str,
    version: Option<&str>,
    bypass: Bypass,
) -> S3Result<Deleted> {
    let deleted = match version {
        Some(v) => bucket.delete_version(key, v, ctx.run.now(), bypass),
        None => bucket.delete_by(key, ctx.run.now(), super::acl::marker_acl(ctx, bucket)),
    }?;
    ctx.notify(bucket, || {
        crate::events::Change::deleted(key, &deleted, version.is_some())
    });
    Ok(deleted)
}

pub fn delete_object(ctx: &Ctx) -> S3Result<Resp> {
    let bucket = ctx.run.bucket(ctx.bucket_name())?;
    let version = ctx.query.get("versionId");
    if let Some(v) = version {
        super::object::check_version_id(v)?;
    }
    let bypass = super::object_lock::bypass(ctx, &bucket)?;
    let deleted = delete_one(ctx, &bucket, ctx.key_name(), version, bypass)?;
    let mut resp = empty(204);
    if deleted.delete_marker {
        set_header(&mut resp, "x-amz-delete-marker", "true");
    }
    if let Some(v) = &deleted.version_id {
        set_header(&mut resp, "x-amz-version-id", v);
    }
    Ok(resp)
}

pub async fn delete_objects(ctx: &Ctx, body: ReqBody) -> S3Result<Resp> {
    let bucket = ctx.run.bucket(ctx.bucket_name())?;
    let spec = BodySpec::from_headers(&ctx.headers)?;
    if spec.content_md5.is_none()
        && spec.header_checksum.is_none()
        && spec.trailer_checksum.is_none()
    {
        return Err(S3Error::invalid_request(
            "Missing required header for this request: Content-MD5",
        ));
    }
    // The body is read before the header checks that can refuse, so that a refusal leaves
    // the connection usable (an unread body would close it).
    let doc = receive(body, &spec, None, MAX_XML_BODY).await?.into_bytes();
    let bypass = super::object_lock::bypass(ctx, &bucket)?;
    let root = xml::parse(&doc)?;
    if root.name != "Delete" {
        return Err(S3Error::malformed_xml());
    }
    let quiet = root
        .child_text("Quiet")
        .is_some_and(|q| q.trim().eq_ignore_ascii_case("true"));
    let mut targets = Vec::new();
    for o in root.children_named("Object") {
        let key = o.child_text("Key").ok_or_else(S3Error::malformed_xml)?;
        targets.push((
            key.to_string(),
            o.child_text("VersionId").map(str::to_string),
        ));
    }
    if targets.is_empty() || targets.len() > MAX_DELETE_KEYS {
        return Err(S3Error::malformed_xml());
    }

    let mut w = XmlWriter::new();
    w.root("DeleteResult");
    for (key, version) in &targets {
        // A version id that was never issued names nothing S3 could delete.
        let known = version
            .as_deref()
            .is_none_or(|v| v == crate::store::NULL_VERSION || bucket.version(key, v).is_some());
        let allowed = crate::auth::authorize::authorize_delete_key(
            &ctx.auth,
            &ctx.run,
            &bucket.name,
            key,
            version.as_deref(),
            &ctx.headers,
        );
        let result = if let Err(e) = allowed {
            Err(e)
        } else if known {
            delete_one(ctx, &bucket, key, version.as_deref(), bypass)
        } else {
            Err(super::object::no_such_version(
                key,
                version.as_deref().unwrap_or(""),
            ))
        };
        match result {
            Ok(d) => {
                if quiet {
                    continue;
                }
                w.open("Deleted").elem("Key", key);
                w.elem_opt("VersionId", version.as_deref());
                if d.delete_marker {
                    w.elem("DeleteMarker", "true");
                    if version.is_none() {
                        w.elem_opt("DeleteMarkerVersionId", d.version_id.as_deref());
                    }
                }
                w.close();
            }
            Err(e) => {
                w.open("Error").elem("Key", key);
                w.elem_opt("VersionId", version.as_deref());
                w.elem("Code", e.code.as_str())
                    .elem("Message", &e.message)
                    .close();
            }
        }
    }
    Ok(xml(200, w.finish()))
}
