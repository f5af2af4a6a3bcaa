//! Replication configuration (`?replication`): the checks PutBucketReplication makes before
//! the document is stored with the other bucket configurations (`bucket_config.rs`).

use super::Ctx;
use crate::error::{S3Error, S3Result};
use crate::store::{Bucket, Versioning};
use crate::wire::xml::Element;

/// Most rules a replication configuration may hold.
const MAX_RULES: usize = 1000;

pub(super) fn validate_replication(root: &Element, ctx: &Ctx, bucket: &Bucket) -> S3Result<()> {
    if root.name != "ReplicationConfiguration" || root.child("Role").is_none() {
        return Err(S3Error::malformed_xml());
    }
    let rules: Vec<&Element> = root.children_named("Rule").collect();
    if rules.is_empty() || rules.len() > MAX_RULES {
        return Err(S3Error::malformed_xml());
    }
    let mut destinations = Vec::with_capacity(rules.len());
    for rule in &rules {
        match rule.child_text("Status").map(str::trim) {
            Some("Enabled" | "Disabled") => {}
            _ => return Err(S3Error::malformed_xml()),
        }
        if rule.child("Filter").is_some() && rule.child("Prefix").is_some() {
            return Err(S3Error::malformed_xml());
        }
        // A rule with a Filter is of the second schema, which needs these two (S3's messages,
        // spacing included).
        if rule.child("Filter").is_some() {
            if rule.child("Priority").is_none() {
                return Err(S3Error::invalid_request(
                    "Priority must be specified for this version of Cross Region Replication configuration schema.Please refer to S3 Developer Guide for more information.",
                ));
            }
            if rule.child("DeleteMarkerReplication").is_none() {
                return Err(S3Error::invalid_request(
                    "DeleteMarkerReplication must be specified for this version of Cross Region Replication configuration schema. Please refer to S3 Developer Guide for more information.",
                ));
            }
        }
        let dest = rule
            .child("Destination")
            .and_then(|d| d.child_text("Bucket"))
            .map(str::trim)
            .ok_or_else(S3Error::malformed_xml)?;
        destinations.push(dest);
    }
    if bucket.versioning().0 != Versioning::Enabled {
        return Err(S3Error::invalid_request(
            "Versioning must be 'Enabled' on the bucket to apply a replication configuration",
        ));
    }
    for dest in destinations {
        // Destinations are bucket ARNs; every bucket of the twin is in its one account.
        let name = dest.strip_prefix("arn:aws:s3:::").unwrap_or(dest);
        if name == bucket.name {
            return Err(S3Error::invalid_request(
                "Destination bucket cannot be the same as the source bucket.",
            ));
        }
        let target = ctx
            .run
            .bucket(name)
            .map_err(|_| S3Error::invalid_request("Destination bucket must exist."))?;
        if target.versioning().0 != Versioning::Enabled {
            return Err(S3Error::invalid_request(
                "Destination bucket must have versioning enabled.",
            ));
        }
    }
    Ok(())
}
