//! GetObjectAttributes: an object's ETag, checksum, parts, storage class and size, without
//! its body.

use super::object::{read_version, set_version_header};
use super::Ctx;
use crate::checksum::ChecksumType;
use crate::clock::http_date;
use crate::error::{S3Error, S3Result};
use crate::server::response::{set_header, xml, Resp};
use crate::wire::xml::XmlWriter;

/// The attributes `x-amz-object-attributes` may name (case-sensitive).
const ATTRIBUTES: [&str; 5] = [
    "ETag",
    "Checksum",
    "ObjectParts",
    "StorageClass",
    "ObjectSize",
];

/// Most parts listed at once, and the default.
const MAX_PARTS: usize = 1000;

#[derive(Default)]
struct Wanted {
    etag: bool,
    checksum: bool,
    parts: bool,
    storage_class: bool,
    size: bool,
}

fn wanted(ctx: &Ctx) -> S3Result<Wanted> {
    let values: Vec<&str> = ctx
        .headers
        .get_all("x-amz-object-attributes")
        .iter()
        .map(|v| v.to_str().unwrap_or("\u{0}"))
        .collect();
    if values.is_empty() {
        return Err(S3Error::invalid_request(
            "Missing required header for this request: x-amz-object-attributes",
        ));
    }
    let raw = values.join(",");
    let invalid = || {
        S3Error::invalid_argument(
            "Invalid attribute name specified.",
            "x-amz-object-attributes",
            raw.as_str(),
        )
    };
    let mut w = Wanted::default();
    for name in raw.split(',').map(str::trim) {
        match ATTRIBUTES.iter().position(|a| *a == name) {
            Some(0) => w.etag = true,
            Some(1) => w.checksum = true,
            Some(2) => w.parts = true,
            Some(3) => w.storage_class = true,
            Some(4) => w.size = true,
            _ => return Err(invalid()),
        }
    }
    Ok(w)
}

/// A non-negative integer header (`x-amz-max-parts`, `x-amz-part-number-marker`).
fn int_header(ctx: &Ctx, name: &'static str) -> S3Result<Option<u64>> {
    match ctx.header(name) {
        None => Ok(None),
        Some(v) => v.trim().parse::<u64>().map(Some).map_err(|_| {
            S3Error::invalid_argument(
                format!("Provided {name} not an integer or within integer range"),
                name,
                v,
            )
        }),
    }
}

pub fn get_object_attributes(ctx: &Ctx) -> S3Result<Resp> {
    let bucket = ctx.run.bucket(ctx.bucket_name())?;
    let wanted = wanted(ctx)?;
    let max_parts =
        int_header(ctx, "x-amz-max-parts")?.map_or(MAX_PARTS, |n| (n as usize).min(MAX_PARTS));
    let marker = int_header(ctx, "x-amz-part-number-marker")?.unwrap_or(0);
    let object = read_version(ctx, &bucket, ctx.key_name(), "GET")?;
    super::sse::check_read(ctx, &object, super::sse::KeyHeaders::Object)?;

    let mut w = XmlWriter::new();
    w.root("GetObjectAttributesResponse");
    if wanted.etag {
        w.elem("ETag", &object.etag.to_string());
    }
    if let (true, Some(c)) = (wanted.checksum, &object.checksum) {
        // A composite checksum is shown without its "-N" part count.
        let value = match c.kind {
            ChecksumType::Composite => c.value.split('-').next().unwrap_or(&c.value),
            ChecksumType::FullObject => c.value.as_str(),
        };
        w.open("Checksum")
            .elem(c.algorithm.xml_element(), value)
            .elem("ChecksumType", c.kind.name())
            .close();
    }
    if let (true, Some(parts)) = (wanted.parts, object.parts()) {
        w.open("ObjectParts")
            .elem("PartsCount", &parts.len().to_string());
        // S3 lists the parts of objects with composite checksums (per-part checksums) only.
        let composite = object
            .checksum
            .as_ref()
            .is_some_and(|c| c.kind == ChecksumType::Composite);
        if composite {
            let mut after = parts.iter().filter(|p| u64::from(p.number) > marker);
            let page: Vec<_> = after.by_ref().take(max_parts).collect();
            let truncated = after.next().is_some();
            let next = page.last().map_or(0, |p| p.number);
            w.elem("PartNumberMarker", &marker.to_string())
                .elem("NextPartNumberMarker", &next.to_string())
                .elem("MaxParts", &max_parts.to_string())
                .elem("IsTruncated", if truncated { "true" } else { "false" });
            for p in page {
                w.open("Part")
                    .elem("PartNumber", &p.number.to_string())
                    .elem("Size", &p.size.to_string());
                if let Some(c) = &p.checksum {
                    w.elem(c.algorithm.xml_element(), &c.value);
                }
                w.close();
            }
        }
        w.close();
    }
    if wanted.storage_class {
        w.elem("StorageClass", &object.storage_class);
    }
    if wanted.size {
        w.elem("ObjectSize", &object.size().to_string());
    }
    let mut resp = xml(200, w.finish());
    set_header(&mut resp, "last-modified", &http_date(object.last_modified));
    set_version_header(&mut resp, &bucket, &object);
    Ok(resp)
}
