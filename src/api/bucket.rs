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

/// Region names as AWS spells them (`us-east-1`, `eu-central-2`, `us-gov-west-1`…).
fn plausible_region(r: &str) -> bool {
    let parts: Vec<&str> = r.split('-').collect();
    parts.len() >= 3
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
        && parts
            .last()
            .is_some_and(|p| p.bytes().all(|c| c.is_ascii_digit()))
}

pub async fn create_bucket(ctx: &Ctx, body: ReqBody) -> S3Result<Resp> {
    let name = ctx.bucket_name();
    if !valid_bucket_name(name) {
        return Err(S3Error::new(Code::InvalidBucketName).extra("BucketName", name));
    }
    let spec = BodySpec::from_headers(&ctx.headers)?;
    let doc = receive(body, &spec, None, MAX_XML_BODY).await?.into_bytes();
    let server_region = ctx.state.config.region.as_str();
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
    let region = match constraint {
        Some(c) if c == "us-east-1" || (!plausible_region(&c) && c != "EU") => {
            return Err(
                S3Error::new(Code::InvalidLocationConstraint).extra("LocationConstraint", c)
            );
        }
        Some(c) if server_region != "us-east-1" && c != server_region => {
            return Err(S3Error::with_message(
                Code::IllegalLocationConstraintException,
                format!("The {c} location constraint is incompatible for the region specific endpoint this request was sent to."),
            ));
        }
        Some(c) if c == "EU" => "eu-west-1".to_string(),
        Some(c) => c,
        None if server_region != "us-east-1" => {
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
        // us-east-1 keeps its legacy answer: re-creating your own bucket succeeds.
        Created::AlreadyOwned { region } if region == "us-east-1" => {}
        Created::AlreadyOwned { .. } => {
            return Err(S3Error::new(Code::BucketAlreadyOwnedByYou).extra("BucketName", name));
        }
    }
    let mut resp = empty(200);
    set_header(&mut resp, "location", &format!("/{name}"));
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
    // us-east-1 is the empty constraint, as S3 reports it.
    let region = if bucket.region == "us-east-1" {
        ""
    } else {
        bucket.region.as_str()
    };
    w.root("LocationConstraint").text(region);
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
        assert!(plausible_region("eu-west-1"));
        assert!(plausible_region("us-gov-west-1"));
        assert!(!plausible_region("mars"));
    }
}
