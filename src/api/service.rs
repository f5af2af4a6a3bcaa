//! Service-level operations: ListBuckets.

use super::list::{decode_token, encode_token};
use super::{write_owner, Ctx};
use crate::clock::xml_timestamp;
use crate::error::{S3Error, S3Result};
use crate::server::response::{xml, Resp};
use crate::wire::xml::XmlWriter;

pub fn list_buckets(ctx: &Ctx) -> S3Result<Resp> {
    let prefix = ctx.query.get("prefix").unwrap_or("");
    let region_filter = ctx.query.get("bucket-region");
    let max = match ctx.query.get("max-buckets") {
        None => None,
        Some(v) => Some(
            v.parse::<usize>()
                .ok()
                .filter(|n| (1..=10_000).contains(n))
                .ok_or_else(|| {
                    S3Error::invalid_argument(
                        "Argument max-buckets must be an integer between 1 and 10000.",
                        "max-buckets",
                        v,
                    )
                })?,
        ),
    };
    // An empty token is no token (S3 lists from the start).
    let after = match ctx
        .query
        .get("continuation-token")
        .filter(|t| !t.is_empty())
    {
        None => None,
        Some(t) => Some(decode_token(t)?),
    };
    let mut buckets: Vec<_> = ctx
        .run
        .buckets()
        .into_iter()
        .filter(|b| crate::auth::authorize::owns(&ctx.auth, b))
        .filter(|b| b.name.starts_with(prefix))
        .filter(|b| region_filter.is_none_or(|r| b.region == r))
        .filter(|b| after.as_deref().is_none_or(|a| b.name.as_str() > a))
        .collect();
    let truncated = max.is_some_and(|m| buckets.len() > m);
    if let Some(m) = max {
        buckets.truncate(m);
    }

    let mut w = XmlWriter::new();
    w.root("ListAllMyBucketsResult");
    match crate::auth::authorize::caller_canonical_id(&ctx.auth) {
        Some(id) => {
            w.open("Owner").elem("ID", id).close();
        }
        None => write_owner(&mut w),
    }
    w.open("Buckets");
    for b in &buckets {
        w.open("Bucket")
            .elem("Name", &b.name)
            .elem("CreationDate", &xml_timestamp(b.created))
            .elem("BucketRegion", &b.region)
            .elem("BucketArn", &super::bucket::bucket_arn(&b.name))
            .close();
    }
    w.close();
    if truncated {
        if let Some(last) = buckets.last() {
            w.elem("ContinuationToken", &encode_token(&last.name));
        }
    }
    if ctx.query.has("prefix") {
        w.elem("Prefix", prefix);
    }
    Ok(xml(200, w.finish()))
}
