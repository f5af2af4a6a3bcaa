//! Object tagging: GetObjectTagging, PutObjectTagging, DeleteObjectTagging.

use super::bucket::MAX_XML_BODY;
use super::{Ctx, ReqBody};
use crate::error::{Code, S3Error, S3Result};
use crate::server::response::{empty, xml, Resp};
use crate::wire::headers::validate_tag;
use crate::wire::request_body::{receive, BodySpec};
use crate::wire::xml::{self as xmlp, XmlWriter};

/// Most tags an object may carry.
pub const MAX_OBJECT_TAGS: usize = 10;

/// Only the current ("null") version exists until versioning lands.
fn check_version(ctx: &Ctx) -> S3Result<()> {
    match ctx.query.get("versionId") {
        Some(v) if v != "null" => Err(S3Error::new(Code::NoSuchVersion)
            .extra("Key", ctx.key_name())
            .extra("VersionId", v)),
        _ => Ok(()),
    }
}

pub fn get_object_tagging(ctx: &Ctx) -> S3Result<Resp> {
    let bucket = ctx.run.bucket(ctx.bucket_name())?;
    check_version(ctx)?;
    let key = ctx.key_name();
    let object = bucket.get(key).ok_or_else(|| S3Error::no_such_key(key))?;
    let mut w = XmlWriter::new();
    w.root("Tagging").open("TagSet");
    for (k, v) in &object.tags {
        w.open("Tag").elem("Key", k).elem("Value", v).close();
    }
    Ok(xml(200, w.finish()))
}

/// Parses a `<Tagging><TagSet><Tag>…` document with AWS's limits.
pub fn parse_tag_set(doc: &[u8]) -> S3Result<Vec<(String, String)>> {
    let root = xmlp::parse(doc)?;
    if root.name != "Tagging" {
        return Err(S3Error::malformed_xml());
    }
    let set = root.child("TagSet").ok_or_else(S3Error::malformed_xml)?;
    let mut tags: Vec<(String, String)> = Vec::new();
    for tag in set.children_named("Tag") {
        let key = tag.child_text("Key").ok_or_else(S3Error::malformed_xml)?;
        let value = tag.child_text("Value").unwrap_or("");
        validate_tag(key, value)?;
        if tags.iter().any(|(k, _)| k == key) {
            return Err(S3Error::with_message(
                Code::InvalidTag,
                "Cannot provide multiple Tags with the same key",
            )
            .extra("TagKey", key));
        }
        tags.push((key.to_string(), value.to_string()));
    }
    if tags.len() > MAX_OBJECT_TAGS {
        return Err(S3Error::with_message(
            Code::InvalidTag,
            "Object tags cannot be greater than 10",
        ));
    }
    Ok(tags)
}

pub async fn put_object_tagging(ctx: &Ctx, body: ReqBody) -> S3Result<Resp> {
    let bucket = ctx.run.bucket(ctx.bucket_name())?;
    check_version(ctx)?;
    let spec = BodySpec::from_headers(&ctx.headers)?;
    let doc = receive(body, &spec, None, MAX_XML_BODY).await?.into_bytes();
    let tags = parse_tag_set(&doc)?;
    let key = ctx.key_name();
    bucket
        .modify(key, |o| o.tags = tags)
        .ok_or_else(|| S3Error::no_such_key(key))?;
    Ok(empty(200))
}

pub fn delete_object_tagging(ctx: &Ctx) -> S3Result<Resp> {
    let bucket = ctx.run.bucket(ctx.bucket_name())?;
    check_version(ctx)?;
    let key = ctx.key_name();
    bucket
        .modify(key, |o| o.tags.clear())
        .ok_or_else(|| S3Error::no_such_key(key))?;
    Ok(empty(204))
}
