//! Object tagging: GetObjectTagging, PutObjectTagging, DeleteObjectTagging.

use super::bucket::MAX_XML_BODY;
use super::object::{read_subresource_version, set_version_header};
use super::{Ctx, ReqBody};
use crate::error::{Code, S3Error, S3Result};
use crate::events::EventName;
use crate::server::response::{empty, xml, Resp};
use crate::store::Object;
use crate::wire::headers::{too_many_object_tags, validate_object_tag, MAX_OBJECT_TAGS};
use crate::wire::request_body::{receive, BodySpec};
use crate::wire::xml::{self as xmlp, XmlWriter};

pub fn get_object_tagging(ctx: &Ctx) -> S3Result<Resp> {
    let bucket = ctx.run.bucket(ctx.bucket_name())?;
    let object = read_subresource_version(ctx, &bucket, ctx.key_name(), "GET")?;
    let mut w = XmlWriter::new();
    w.root("Tagging").open("TagSet");
    for (k, v) in object.tags() {
        w.open("Tag").elem("Key", k).elem("Value", v).close();
    }
    let mut resp = xml(200, w.finish());
    set_version_header(&mut resp, &bucket, &object);
    Ok(resp)
}

/// Parses a `<Tagging><TagSet><Tag>…` document with AWS's limits.
pub fn parse_tag_set(doc: &[u8]) -> S3Result<Vec<(String, String)>> {
    let root = xmlp::parse(doc)?;
    if root.name != "Tagging" {
        return Err(S3Error::malformed_xml());
    }
    let set = root.child("TagSet").ok_or_else(S3Error::malformed_xml)?;
    // The count first: the duplicate check below is quadratic, so it only ever sees ten.
    if set.children_named("Tag").count() > MAX_OBJECT_TAGS {
        return Err(too_many_object_tags());
    }
    let mut tags: Vec<(String, String)> = Vec::new();
    for tag in set.children_named("Tag") {
        let key = tag.child_text("Key").ok_or_else(S3Error::malformed_xml)?;
        let value = tag.child_text("Value").unwrap_or("");
        validate_object_tag(key, value)?;
        if tags.iter().any(|(k, _)| k == key) {
            return Err(S3Error::with_message(
                Code::InvalidTag,
                "Cannot provide multiple Tags with the same key",
            )
            .extra("TagKey", key));
        }
        tags.push((key.to_string(), value.to_string()));
    }
    Ok(tags)
}

pub async fn put_object_tagging(ctx: &Ctx, body: ReqBody) -> S3Result<Resp> {
    let bucket = ctx.run.bucket(ctx.bucket_name())?;
    let spec = BodySpec::from_headers(&ctx.headers)?;
    let doc = receive(body, &spec, None, MAX_XML_BODY).await?.into_bytes();
    let tags = parse_tag_set(&doc)?;
    let key = ctx.key_name();
    read_subresource_version(ctx, &bucket, key, "PUT")?;
    let version = ctx.query.get("versionId");
    let object = bucket
        .modify(key, version, |o: &mut Object| {
            o.extra_mut().tags = tags.into()
        })
        .ok_or_else(|| S3Error::no_such_key(key))?;
    ctx.notify_object(&bucket, EventName::TaggingPut, &object);
    let mut resp = empty(200);
    set_version_header(&mut resp, &bucket, &object);
    Ok(resp)
}

pub fn delete_object_tagging(ctx: &Ctx) -> S3Result<Resp> {
    let bucket = ctx.run.bucket(ctx.bucket_name())?;
    let key = ctx.key_name();
    read_subresource_version(ctx, &bucket, key, "DELETE")?;
    let object = bucket
        .modify(key, ctx.query.get("versionId"), |o: &mut Object| {
            o.extra_mut().tags = Box::default()
        })
        .ok_or_else(|| S3Error::no_such_key(key))?;
    ctx.notify_object(&bucket, EventName::TaggingDelete, &object);
    let mut resp = empty(204);
    set_version_header(&mut resp, &bucket, &object);
    Ok(resp)
}
