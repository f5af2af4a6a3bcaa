//! DeleteObject and DeleteObjects.

use super::bucket::MAX_XML_BODY;
use super::{Ctx, ReqBody};
use crate::error::{Code, S3Error, S3Result};
use crate::server::response::{empty, xml, Resp};
use crate::wire::request_body::{receive, BodySpec};
use crate::wire::xml::{self, XmlWriter};

/// Most keys one DeleteObjects request may name.
const MAX_DELETE_KEYS: usize = 1000;

pub fn delete_object(ctx: &Ctx) -> S3Result<Resp> {
    let bucket = ctx.run.bucket(ctx.bucket_name())?;
    // Objects are unversioned (the "null" version); any other version id names nothing,
    // and deleting nothing succeeds, as S3's deletes are idempotent.
    if ctx.query.get("versionId").is_none_or(|v| v == "null") {
        bucket.delete(ctx.key_name());
    }
    Ok(empty(204))
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
    let doc = receive(body, &spec, None, MAX_XML_BODY).await?.into_bytes();
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
        match version.as_deref() {
            Some(v) if v != "null" => {
                let e = S3Error::new(Code::NoSuchVersion);
                w.open("Error")
                    .elem("Key", key)
                    .elem("VersionId", v)
                    .elem("Code", e.code.as_str())
                    .elem("Message", &e.message)
                    .close();
            }
            _ => {
                bucket.delete(key);
                if !quiet {
                    w.open("Deleted").elem("Key", key);
                    w.elem_opt("VersionId", version.as_deref());
                    w.close();
                }
            }
        }
    }
    Ok(xml(200, w.finish()))
}
