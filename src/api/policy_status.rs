//! GetBucketPolicyStatus: whether the bucket's policy is public, judged as AWS judges it
//! (`auth::policy::Policy::is_public`).

use super::Ctx;
use crate::error::{Code, S3Error, S3Result};
use crate::server::response::{xml, Resp};
use crate::wire::xml::XmlWriter;

pub fn get_bucket_policy_status(ctx: &Ctx) -> S3Result<Resp> {
    let bucket = ctx.run.bucket(ctx.bucket_name())?;
    let policy = crate::auth::authorize::policy_of(&bucket).ok_or_else(|| {
        S3Error::new(Code::NoSuchBucketPolicy).extra("BucketName", ctx.bucket_name())
    })?;
    let mut w = XmlWriter::new();
    w.root("PolicyStatus")
        .elem(
            "IsPublic",
            if policy.is_public() { "true" } else { "false" },
        )
        .close();
    Ok(xml(200, w.finish()))
}
