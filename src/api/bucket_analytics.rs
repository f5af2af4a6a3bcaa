//! Id-keyed bucket configurations: analytics, intelligent-tiering, inventory and metrics
//! (`?metrics&id=…`). Each Put is validated the way S3 validates it and stored as sent under
//! its id; Get answers it, List pages through them in id order, Delete removes one.

use super::bucket::MAX_XML_BODY;
use super::list::{decode_token, encode_token};
use super::{Ctx, ReqBody};
use crate::error::{Code, S3Error, S3Result};
use crate::server::response::{empty, xml, Resp};
use crate::server::router::IdConfigMethod;
use crate::store::IdConfigKind;
use crate::wire::request_body::{receive, BodySpec};
use crate::wire::xml::{self as xmlp, Element, XmlWriter};

/// Most configurations of one family a bucket may hold.
const MAX_CONFIGS: usize = 1000;

/// Configurations per List page.
const PAGE: usize = 100;

/// The longest an object may wait for an archive tier: two years.
const MAX_TIERING_DAYS: i32 = 730;

/// Metrics ids: at most 64 characters.
const MAX_METRICS_ID: usize = 64;

/// The document's root element, and the List result's root, for a family.
fn names(kind: IdConfigKind) -> (&'static str, &'static str) {
    match kind {
        IdConfigKind::Analytics => (
            "AnalyticsConfiguration",
            "ListBucketAnalyticsConfigurationResult",
        ),
        IdConfigKind::IntelligentTiering => (
            "IntelligentTieringConfiguration",
            "ListBucketIntelligentTieringConfigurationsOutput",
        ),
        IdConfigKind::Inventory => (
            "InventoryConfiguration",
            "ListInventoryConfigurationsResult",
        ),
        IdConfigKind::Metrics => ("MetricsConfiguration", "ListMetricsConfigurationsResult"),
    }
}

pub async fn handle(
    ctx: &Ctx,
    method: IdConfigMethod,
    kind: IdConfigKind,
    body: ReqBody,
) -> S3Result<Resp> {
    // S3 checks the bucket before anything in the request.
    let bucket = ctx.run.bucket(ctx.bucket_name())?;
    if method == IdConfigMethod::List {
        return list(ctx, &bucket, kind);
    }
    let id = ctx
        .query
        .get("id")
        .filter(|id| !id.is_empty())
        .ok_or_else(|| S3Error::new(Code::InvalidConfigurationId))?;
    match method {
        IdConfigMethod::Get => {
            let doc = bucket
                .id_config(kind, id)
                .ok_or_else(|| S3Error::new(Code::NoSuchConfiguration))?;
            Ok(xml(200, doc.to_string()))
        }
        IdConfigMethod::Delete => {
            if bucket.delete_id_config(kind, id) {
                Ok(empty(204))
            } else {
                Err(S3Error::new(Code::NoSuchConfiguration))
            }
        }
        _ => {
            if kind == IdConfigKind::Metrics && !valid_metrics_id(id) {
                return Err(S3Error::new(Code::InvalidConfigurationId));
            }
            let spec = BodySpec::from_headers(&ctx.headers)?;
            let raw = receive(body, &spec, None, MAX_XML_BODY).await?.into_bytes();
            let text = String::from_utf8(raw.to_vec()).map_err(|_| S3Error::malformed_xml())?;
            let root = xmlp::parse(text.as_bytes())?;
            if root.name != names(kind).0 {
                return Err(S3Error::malformed_xml());
            }
            match root.child_text("Id").map(str::trim) {
                None | Some("") => return Err(S3Error::new(Code::InvalidConfigurationId)),
                Some(body_id) if body_id != id => return Err(S3Error::malformed_xml()),
                Some(_) => {}
            }
            validate(kind, &root)?;
            if !bucket.put_id_config(kind, id, text, MAX_CONFIGS) {
                return Err(S3Error::new(Code::TooManyConfigurations));
            }
            Ok(empty(if kind == IdConfigKind::Metrics {
                204
            } else {
                200
            }))
        }
    }
}

/// Letters, digits, periods, dashes and underscores, 1–64 of them (S3's `MetricsId`).
fn valid_metrics_id(id: &str) -> bool {
    id.len() <= MAX_METRICS_ID
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
}

fn list(ctx: &Ctx, bucket: &crate::store::Bucket, kind: IdConfigKind) -> S3Result<Resp> {
    let token = ctx.query.get("continuation-token");
    let after = token.map(decode_token).transpose()?;
    let page = bucket.id_configs(kind, after.as_deref(), PAGE);
    let (doc_root, list_root) = names(kind);
    let mut w = XmlWriter::new();
    w.root(list_root)
        .elem("IsTruncated", if page.truncated { "true" } else { "false" });
    w.elem_opt("ContinuationToken", token);
    if page.truncated {
        if let Some((last, _)) = page.docs.last() {
            w.elem("NextContinuationToken", &encode_token(last));
        }
    }
    for (_, doc) in &page.docs {
        // Stored documents were parsed when put; one that no longer parses is skipped.
        if let Ok(root) = xmlp::parse(doc.as_bytes()) {
            w.open(doc_root);
            write_children(&mut w, &root);
            w.close();
        }
    }
    Ok(xml(200, w.finish()))
}

/// Writes an element's children as parsed (namespaces and the declaration dropped). The tree is
/// at most `xml::MAX_DEPTH` deep, so the recursion is bounded.
fn write_children(w: &mut XmlWriter, el: &Element) {
    for c in &el.children {
        if c.children.is_empty() {
            w.elem(&c.name, &c.text);
        } else {
            w.open_dyn(&c.name);
            write_children(w, c);
            w.close();
        }
    }
}

fn one_of(text: Option<&str>, allowed: &[&str]) -> S3Result<()> {
    text.map(str::trim)
        .filter(|t| allowed.contains(t))
        .map(|_| ())
        .ok_or_else(S3Error::malformed_xml)
}

fn required<'a>(el: &'a Element, name: &str) -> S3Result<&'a Element> {
    el.child(name).ok_or_else(S3Error::malformed_xml)
}

/// The schema checks S3 makes of each family (a document that does not validate is
/// `MalformedXML`).
fn validate(kind: IdConfigKind, root: &Element) -> S3Result<()> {
    match kind {
        IdConfigKind::Metrics => {
            if let Some(filter) = root.child("Filter") {
                check_filter(filter, &["Prefix", "Tag", "AccessPointArn", "And"])?;
            }
            Ok(())
        }
        IdConfigKind::Analytics => {
            if let Some(filter) = root.child("Filter") {
                check_filter(filter, &["Prefix", "Tag", "And"])?;
            }
            let analysis = required(root, "StorageClassAnalysis")?;
            if let Some(export) = analysis.child("DataExport") {
                one_of(export.child_text("OutputSchemaVersion"), &["V_1"])?;
                let dest = required(required(export, "Destination")?, "S3BucketDestination")?;
                required(dest, "Bucket")?;
                one_of(dest.child_text("Format"), &["CSV"])?;
            }
            Ok(())
        }
        IdConfigKind::Inventory => {
            one_of(root.child_text("IsEnabled"), &["true", "false"])?;
            let dest = required(required(root, "Destination")?, "S3BucketDestination")?;
            required(dest, "Bucket")?;
            one_of(dest.child_text("Format"), &["CSV", "ORC", "Parquet"])?;
            one_of(
                required(root, "Schedule")?.child_text("Frequency"),
                &["Daily", "Weekly"],
            )?;
            one_of(
                root.child_text("IncludedObjectVersions"),
                &["All", "Current"],
            )
        }
        IdConfigKind::IntelligentTiering => {
            one_of(root.child_text("Status"), &["Enabled", "Disabled"])?;
            if let Some(filter) = root.child("Filter") {
                check_filter(filter, &["Prefix", "Tag", "And"])?;
            }
            let mut tierings = root.children_named("Tiering").peekable();
            if tierings.peek().is_none() {
                return Err(S3Error::malformed_xml());
            }
            for t in tierings {
                let days = t
                    .child_text("Days")
                    .and_then(|d| d.trim().parse::<i32>().ok())
                    .ok_or_else(S3Error::malformed_xml)?;
                let tier = t.child_text("AccessTier").map(str::trim);
                let min = match tier {
                    Some("ARCHIVE_ACCESS") => 90,
                    Some("DEEP_ARCHIVE_ACCESS") => 180,
                    _ => return Err(S3Error::malformed_xml()),
                };
                let tier = tier.unwrap_or_default();
                if days < min {
                    return Err(S3Error::with_message(
                        Code::InvalidArgument,
                        format!("Days specified in {tier} tier should not be less than {min}."),
                    ));
                }
                if days > MAX_TIERING_DAYS {
                    return Err(S3Error::with_message(
                        Code::InvalidArgument,
                        format!(
                            "Days specified in {tier} tier should not be more than {MAX_TIERING_DAYS}."
                        ),
                    ));
                }
            }
            Ok(())
        }
    }
}

/// A filter holds one predicate; tags need a key.
fn check_filter(filter: &Element, predicates: &[&str]) -> S3Result<()> {
    if filter.children.len() > 1
        || filter
            .children
            .iter()
            .any(|c| !predicates.contains(&c.name.as_str()))
    {
        return Err(S3Error::malformed_xml());
    }
    for holder in [Some(filter), filter.child("And")].into_iter().flatten() {
        for tag in holder.children_named("Tag") {
            required(tag, "Key")?;
        }
    }
    Ok(())
}
