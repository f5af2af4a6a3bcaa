//! Versioning: Get/PutBucketVersioning and ListObjectVersions.

use super::bucket::MAX_XML_BODY;
use super::list::{parse_encoding, parse_max_keys};
use super::{listing_owner, write_owner_id, Ctx, ReqBody};
use crate::clock::xml_timestamp;
use crate::error::{Code, S3Error, S3Result};
use crate::server::query::url_encode;
use crate::server::response::{empty, xml, Resp};
use crate::store::{ConfigKind, VersionEntry, Versioning, VersionsQuery};
use crate::wire::request_body::{receive, BodySpec};
use crate::wire::xml::{self as xmlp, XmlWriter};

pub fn get_bucket_versioning(ctx: &Ctx) -> S3Result<Resp> {
    let bucket = ctx.run.bucket(ctx.bucket_name())?;
    let (state, mfa) = bucket.versioning();
    let mut w = XmlWriter::new();
    w.root("VersioningConfiguration");
    match state {
        Versioning::Unversioned => {}
        Versioning::Enabled => {
            w.elem("Status", "Enabled");
        }
        Versioning::Suspended => {
            w.elem("Status", "Suspended");
        }
    }
    w.elem_opt("MfaDelete", mfa.as_deref());
    Ok(xml(200, w.finish()))
}

pub async fn put_bucket_versioning(ctx: &Ctx, body: ReqBody) -> S3Result<Resp> {
    let bucket = ctx.run.bucket(ctx.bucket_name())?;
    let spec = BodySpec::from_headers(&ctx.headers)?;
    let doc = receive(body, &spec, None, MAX_XML_BODY).await?.into_bytes();
    let root = xmlp::parse(&doc)?;
    if root.name != "VersioningConfiguration" {
        return Err(S3Error::malformed_xml());
    }
    let status = match root.child_text("Status").map(str::trim) {
        Some("Enabled") => Some(Versioning::Enabled),
        Some("Suspended") => Some(Versioning::Suspended),
        None => None,
        Some(_) => return Err(S3Error::malformed_xml()),
    };
    let mfa = match root.child_text("MfaDelete").map(str::trim) {
        Some(m @ ("Enabled" | "Disabled")) => Some(m.to_string()),
        None => None,
        Some(_) => return Err(S3Error::malformed_xml()),
    };
    let (current, current_mfa) = bucket.versioning();
    // Turning MFA delete on, or changing versioning while it is on, needs the device's code.
    // The twin has no device to check the code against: any value is taken.
    let mfa_on = |m: Option<&str>| m == Some("Enabled");
    if (mfa_on(mfa.as_deref()) || mfa_on(current_mfa.as_deref()))
        && ctx.header("x-amz-mfa").is_none_or(|v| v.trim().is_empty())
    {
        return Err(S3Error::with_message(
            Code::AccessDenied,
            "Mfa Authentication must be used for this request",
        ));
    }
    if mfa_on(mfa.as_deref()) && bucket.config(ConfigKind::Lifecycle).is_some() {
        return Err(S3Error::with_message(
            Code::InvalidBucketState,
            "Mfa Authentication is not supported on a bucket with lifecycle configuration. Delete lifecycle configuration before enabling Mfa Authentication.",
        ));
    }
    if status == Some(Versioning::Suspended) && bucket.config(ConfigKind::ObjectLock).is_some() {
        return Err(S3Error::with_message(
            Code::InvalidBucketState,
            "An Object Lock configuration is present on this bucket, so the versioning state cannot be changed.",
        ));
    }
    bucket.set_versioning(status.unwrap_or(current), mfa);
    Ok(empty(200))
}

pub fn list_object_versions(ctx: &Ctx) -> S3Result<Resp> {
    let bucket = ctx.run.bucket(ctx.bucket_name())?;
    let q = &ctx.query;
    let url = parse_encoding(ctx)?;
    let enc = |s: &str| if url { url_encode(s) } else { s.to_string() };
    let prefix = q.get("prefix").unwrap_or("");
    let delimiter = q.get("delimiter").filter(|d| !d.is_empty());
    let (max, max_text) = parse_max_keys(q.get("max-keys"))?;
    let key_marker = q.get("key-marker");
    let version_id_marker = q.get("version-id-marker");
    if version_id_marker.is_some_and(|v| !v.is_empty()) && key_marker.is_none_or(str::is_empty) {
        return Err(S3Error::invalid_argument(
            "A version-id marker cannot be specified without a key marker.",
            "version-id-marker",
            version_id_marker.unwrap_or(""),
        ));
    }
    let page = bucket.list_versions(&VersionsQuery {
        prefix,
        delimiter,
        key_marker,
        version_id_marker,
        max,
    });

    let mut w = XmlWriter::new();
    w.root("ListVersionsResult")
        .elem("Name", &bucket.name)
        .elem("Prefix", &enc(prefix))
        .elem("KeyMarker", &enc(key_marker.unwrap_or("")))
        .elem("VersionIdMarker", version_id_marker.unwrap_or(""));
    if let Some(k) = &page.next_key_marker {
        w.elem("NextKeyMarker", &enc(k));
    }
    w.elem_opt(
        "NextVersionIdMarker",
        page.next_version_id_marker.as_deref(),
    );
    w.elem("MaxKeys", &max_text);
    if let Some(d) = delimiter {
        w.elem("Delimiter", &enc(d));
    }
    w.elem("IsTruncated", if page.truncated { "true" } else { "false" });
    if url {
        w.elem("EncodingType", "url");
    }
    let everyones = listing_owner(&bucket);
    for entry in &page.entries {
        let VersionEntry::Version { object: o, latest } = entry else {
            continue;
        };
        let latest = if *latest { "true" } else { "false" };
        if o.delete_marker {
            w.open("DeleteMarker");
            write_owner_id(&mut w, &everyones.as_ref().unwrap_or(&o.acl).owner.id);
            w.elem("Key", &enc(&o.key))
                .elem("VersionId", &o.version_id)
                .elem("IsLatest", latest)
                .elem("LastModified", &xml_timestamp(o.last_modified))
                .close();
        } else {
            w.open("Version")
                .elem("ETag", &o.quoted_etag())
                .elem("Size", &o.size().to_string());
            write_owner_id(&mut w, &everyones.as_ref().unwrap_or(&o.acl).owner.id);
            w.elem("StorageClass", &o.storage_class)
                .elem("Key", &enc(&o.key))
                .elem("VersionId", &o.version_id)
                .elem("IsLatest", latest)
                .elem("LastModified", &xml_timestamp(o.last_modified));
            if let Some(c) = &o.checksum {
                w.elem("ChecksumAlgorithm", c.algorithm.name())
                    .elem("ChecksumType", c.kind.name());
            }
            w.close();
        }
    }
    for entry in &page.entries {
        if let VersionEntry::Prefix(p) = entry {
            w.open("CommonPrefixes").elem("Prefix", &enc(p)).close();
        }
    }
    Ok(xml(200, w.finish()))
}
