//! Bucket lifecycle: CreateBucket, DeleteBucket, HeadBucket, GetBucketLocation.

use super::bucket_config;
use super::{Ctx, ReqBody};
use crate::error::{Code, S3Error, S3Result};
use crate::server::response::{empty, set_header, xml, Resp};
use crate::store::{ConfigKind, Created, Versioning};
use crate::wire::request_body::{receive, BodySpec};
use crate::wire::xml::{self, XmlWriter};

/// Largest request document s3twin reads into memory (bucket configuration, delete lists).
pub const MAX_XML_BODY: u64 = 4 * 1024 * 1024;

/// AWS's bucket naming rules for new buckets.
pub fn valid_bucket_name(name: &str) -> bool {
    let b = name.as_bytes();
    if !(3..=63).contains(&b.len()) {
        return false;
    }
    if !b
        .iter()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'.' || *c == b'-')
    {
        return false;
    }
    let edge_ok = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    if !edge_ok(b[0]) || !edge_ok(b[b.len() - 1]) {
        return false;
    }
    if name.contains("..") || name.contains(".-") || name.contains("-.") {
        return false;
    }
    if name.parse::<std::net::Ipv4Addr>().is_ok() {
        return false;
    }
    const BAD_PREFIXES: [&str; 4] = ["xn--", "sthree-", "amzn-s3-demo-", "sthree-configurator"];
    const BAD_SUFFIXES: [&str; 5] = ["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"];
    !BAD_PREFIXES.iter().any(|p| name.starts_with(p))
        && !BAD_SUFFIXES.iter().any(|s| name.ends_with(s))
}

/// The regions of AWS's commercial partition other than us-east-1, and S3's `EU` alias of
/// eu-west-1: the location constraints the us-east-1 endpoint accepts. (GovCloud and China
/// are other partitions; a request signed for one of them is checked against its own region.)
const OTHER_REGIONS: [&str; 34] = [
    "EU",
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-6",
    "ap-southeast-7",
    "ca-central-1",
    "ca-west-1",
    "eu-central-1",
    "eu-central-2",
    "eu-north-1",
    "eu-south-1",
    "eu-south-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "mx-central-1",
    "sa-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
];

/// The region a location constraint names (`EU` is eu-west-1).
fn constraint_region(c: &str) -> &str {
    if c == "EU" {
        "eu-west-1"
    } else {
        c
    }
}

pub async fn create_bucket(ctx: &Ctx, body: ReqBody) -> S3Result<Resp> {
    let name = ctx.bucket_name();
    if !valid_bucket_name(name) {
        return Err(S3Error::new(Code::InvalidBucketName).extra("BucketName", name));
    }
    let spec = BodySpec::from_headers(&ctx.headers)?;
    let doc = receive(body, &spec, None, MAX_XML_BODY).await?.into_bytes();
    // The endpoint's region is the one the request was signed for, as on S3 (s3twin's
    // configured region for unsigned and SigV2 requests).
    let endpoint_region = crate::auth::signing_region(&ctx.headers, &ctx.query)
        .unwrap_or(ctx.state.config.region.as_str());
    let constraint = if doc.iter().all(|b| b.is_ascii_whitespace()) {
        None
    } else {
        let root = xml::parse(&doc)?;
        if root.name != "CreateBucketConfiguration" {
            return Err(S3Error::malformed_xml());
        }
        root.child_text("LocationConstraint")
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    // us-east-1 creates buckets in any region but itself named; every other endpoint only
    // in its own region (an unknown name there is merely incompatible).
    let region = match constraint {
        Some(c) if endpoint_region == "us-east-1" && !OTHER_REGIONS.contains(&c.as_str()) => {
            return Err(
                S3Error::new(Code::InvalidLocationConstraint).extra("LocationConstraint", c)
            );
        }
        Some(c) if endpoint_region != "us-east-1" && constraint_region(&c) != endpoint_region => {
            return Err(S3Error::with_message(
                Code::IllegalLocationConstraintException,
                format!("The {c} location constraint is incompatible for the region specific endpoint this request was sent to."),
            ));
        }
        Some(c) => c,
        None if endpoint_region != "us-east-1" => {
            return Err(S3Error::new(Code::IllegalLocationConstraintException));
        }
        None => "us-east-1".to_string(),
    };
    let (ownership, acl) = super::acl::create_bucket_acl(ctx)?;
    match ctx.run.create_bucket(name, &region) {
        Created::New => {
            let bucket = ctx.run.bucket(name)?;
            bucket.set_object_ownership(Some(ownership));
            if let Some(acl) = acl {
                bucket.set_acl(acl);
            }
            bucket.set_config(
                ConfigKind::PublicAccessBlock,
                Some(bucket_config::initial_public_access_block()),
            );
            // Object Lock at creation turns versioning on, as S3 does.
            if ctx
                .header("x-amz-bucket-object-lock-enabled")
                .is_some_and(|v| v.eq_ignore_ascii_case("true"))
            {
                bucket.set_versioning(Versioning::Enabled, None);
                bucket.set_config(
                    ConfigKind::ObjectLock,
                    Some(bucket_config::initial_object_lock()),
                );
            }
        }
        // us-east-1 keeps its legacy answer: re-creating your own bucket there, through the
        // us-east-1 endpoint without a constraint, succeeds.
        Created::AlreadyOwned { region: existing }
            if existing == "us-east-1" && region == "us-east-1" => {}
        Created::AlreadyOwned { .. } => {
            return Err(S3Error::new(Code::BucketAlreadyOwnedByYou).extra("BucketName", name));
        }
    }
    let mut resp = empty(200);
    // S3 answers a path in us-east-1 and the bucket's global URL elsewhere.
    let location = if region == "us-east-1" {
        format!("/{name}")
    } else {
        format!("http://{name}.s3.amazonaws.com/")
    };
    set_header(&mut resp, "location", &location);
    set_header(&mut resp, "x-amz-bucket-arn", &bucket_arn(name));
    Ok(resp)
}

/// A general purpose bucket's ARN (no region or account: bucket names are global).
pub fn bucket_arn(name: &str) -> String {
    format!("arn:aws:s3:::{name}")
}

pub fn delete_bucket(ctx: &Ctx) -> S3Result<Resp> {
    ctx.run.delete_bucket(ctx.bucket_name())?;
    Ok(empty(204))
}

pub fn head_bucket(ctx: &Ctx) -> S3Result<Resp> {
    let bucket = ctx.run.bucket(ctx.bucket_name())?;
    let mut resp = empty(200);
    set_header(&mut resp, "x-amz-bucket-arn", &bucket_arn(&bucket.name));
    set_header(&mut resp, "x-amz-bucket-region", &bucket.region);
    set_header(&mut resp, "x-amz-access-point-alias", "false");
    Ok(resp)
}

pub fn get_bucket_location(ctx: &Ctx) -> S3Result<Resp> {
    let bucket = ctx.run.bucket(ctx.bucket_name())?;
    let mut w = XmlWriter::new();
    // us-east-1 is the empty constraint, as S3 reports it; `EU` stays `EU`.
    w.root("LocationConstraint")
        .text(&bucket.location_constraint);
    Ok(xml(200, w.finish()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_names() {
        for ok in ["abc", "my-bucket", "my.bucket.1", "a1b", "0ab"] {
            assert!(valid_bucket_name(ok), "{ok}");
        }
        for bad in [
            "ab",
            "UPPER",
            "a..b",
            "-abc",
            "abc-",
            "192.168.1.1",
            "xn--abc",
            "a_b",
            "a.-b",
            "abc-s3alias",
            &"a".repeat(64),
        ] {
            assert!(!valid_bucket_name(bad), "{bad}");
        }
        assert_eq!(constraint_region("EU"), "eu-west-1");
        assert!(OTHER_REGIONS.contains(&"eu-west-1") && !OTHER_REGIONS.contains(&"us-east-1"));
    }
}
