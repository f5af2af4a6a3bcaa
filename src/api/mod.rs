//! S3 operations, one file per area. Each handler parses its request, calls the store and
//! renders the S3 response; errors are `S3Error`s, rendered by the front layer.

mod acl;
mod attributes;
mod bucket;
mod bucket_analytics;
mod bucket_config;
pub(crate) mod conditional;
mod copy;
pub(crate) mod cors;
mod delete;
mod list;
mod multipart;
mod object;
mod object_lock;
mod policy_status;
pub(crate) mod post_object;
mod replication;
mod restore;
mod service;
mod sse;
mod tagging;
mod versioning;
pub(crate) mod website;

use crate::error::{S3Error, S3Result};
use crate::events::{Change, EventName, Origin};
use crate::server::query::Query;
use crate::server::response::Resp;
use crate::server::router::{ConfigMethod, Op};
use crate::server::AppState;
use crate::store::{Bucket, Run};
use http::{HeaderMap, Method};
use hyper::body::Incoming;
use std::sync::Arc;

/// Request bodies as hyper delivers them, behind the idle timeout.
pub type ReqBody = crate::wire::timed_body::TimedBody<Incoming>;

/// Everything a handler knows about its request, besides the body.
pub struct Ctx {
    pub state: Arc<AppState>,
    pub run: Arc<Run>,
    pub method: Method,
    pub headers: HeaderMap,
    pub query: Query,
    pub bucket: Option<String>,
    pub key: Option<String>,
    /// The request's `x-amz-request-id` and `x-amz-id-2` (event records carry them).
    pub ids: crate::ids::RequestIds,
    /// Who sent the request (`auth::authenticate`).
    pub auth: crate::auth::Auth,
}

impl Ctx {
    pub fn bucket_name(&self) -> &str {
        self.bucket.as_deref().unwrap_or("")
    }

    pub fn key_name(&self) -> &str {
        self.key.as_deref().unwrap_or("")
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        crate::wire::headers::value(&self.headers, name)
    }

    /// Hands what this request changed in `bucket` to the run's events. Costs one atomic
    /// load when the bucket has no notification configuration: `change` is built only then.
    pub fn notify(&self, bucket: &Bucket, change: impl FnOnce() -> Change) {
        if bucket.notifies() {
            self.run
                .events
                .raise(bucket, self.run.now(), &self.origin(), change());
        }
    }

    /// `notify` for an event about a stored version.
    pub fn notify_object(&self, bucket: &Bucket, event: EventName, object: &crate::store::Object) {
        self.notify(bucket, || Change::object(event, object));
    }

    pub fn origin(&self) -> Origin {
        Origin::request(
            self.ids.request_id(),
            self.ids.host_id(),
            &self.state.config.account_id,
        )
    }
}

pub async fn dispatch(op: Op, ctx: &Ctx, mut body: ReqBody) -> S3Result<Resp> {
    ctx.auth.attach(&mut body);
    crate::auth::authorize::authorize(
        &ctx.auth,
        &crate::auth::authorize::Request {
            run: &ctx.run,
            op,
            bucket: ctx.bucket.as_deref(),
            key: ctx.key.as_deref(),
            headers: &ctx.headers,
            query: &ctx.query,
        },
    )?;
    if !matches!(op, Op::ListBuckets | Op::CreateBucket) {
        check_expected_owner(ctx, "x-amz-expected-bucket-owner", ctx.bucket_name())?;
    }
    match op {
        Op::ListBuckets => service::list_buckets(ctx),
        Op::CreateBucket => {
            let created = bucket::create_bucket(ctx, body).await;
            if created.is_ok() {
                crate::auth::authorize::claim_bucket(&ctx.auth, &ctx.run, ctx.bucket_name());
            }
            created
        }
        Op::DeleteBucket => bucket::delete_bucket(ctx),
        Op::HeadBucket => bucket::head_bucket(ctx),
        Op::GetBucketLocation => bucket::get_bucket_location(ctx),
        Op::ListObjects => list::list_objects(ctx, false),
        Op::ListObjectsV2 => list::list_objects(ctx, true),
        Op::DeleteObjects => delete::delete_objects(ctx, body).await,
        Op::PutObject => object::put_object(ctx, body).await,
        Op::CopyObject => copy::copy_object(ctx),
        Op::GetObject => object::get_object(ctx, false),
        Op::HeadObject => object::get_object(ctx, true),
        Op::DeleteObject => delete::delete_object(ctx),
        Op::GetObjectTagging => tagging::get_object_tagging(ctx),
        Op::PutObjectTagging => tagging::put_object_tagging(ctx, body).await,
        Op::DeleteObjectTagging => tagging::delete_object_tagging(ctx),
        Op::GetBucketVersioning => versioning::get_bucket_versioning(ctx),
        Op::PutBucketVersioning => versioning::put_bucket_versioning(ctx, body).await,
        Op::ListObjectVersions => versioning::list_object_versions(ctx),
        Op::CreateMultipartUpload => multipart::create_multipart_upload(ctx),
        Op::UploadPart => multipart::upload_part(ctx, body).await,
        Op::UploadPartCopy => multipart::upload_part_copy(ctx),
        Op::CompleteMultipartUpload => multipart::complete_multipart_upload(ctx, body).await,
        Op::AbortMultipartUpload => multipart::abort_multipart_upload(ctx),
        Op::ListParts => multipart::list_parts(ctx),
        Op::ListMultipartUploads => multipart::list_multipart_uploads(ctx),
        Op::GetBucketAcl => acl::get_bucket_acl(ctx),
        Op::PutBucketAcl => acl::put_bucket_acl(ctx, body).await,
        Op::GetObjectAcl => acl::get_object_acl(ctx),
        Op::PutObjectAcl => acl::put_object_acl(ctx, body).await,
        Op::GetObjectAttributes => attributes::get_object_attributes(ctx),
        Op::RestoreObject => restore::restore_object(ctx, body).await,
        Op::GetObjectRetention => object_lock::get_object_retention(ctx),
        Op::PutObjectRetention => object_lock::put_object_retention(ctx, body).await,
        Op::GetObjectLegalHold => object_lock::get_object_legal_hold(ctx),
        Op::PutObjectLegalHold => object_lock::put_object_legal_hold(ctx, body).await,
        Op::GetBucketOwnershipControls => bucket_config::get_ownership_controls(ctx),
        Op::PutBucketOwnershipControls => bucket_config::put_ownership_controls(ctx, body).await,
        Op::DeleteBucketOwnershipControls => bucket_config::delete_ownership_controls(ctx),
        Op::Config(ConfigMethod::Get, kind) => bucket_config::get_config(ctx, kind),
        Op::Config(ConfigMethod::Put, kind) => bucket_config::put_config(ctx, kind, body).await,
        Op::Config(ConfigMethod::Delete, kind) => bucket_config::delete_config(ctx, kind),
        Op::IdConfig(method, kind) => bucket_analytics::handle(ctx, method, kind, body).await,
        Op::PostObject => post_object::post_object(ctx, body).await,
        Op::CorsPreflight => cors::preflight(ctx),
        Op::Website => website::serve(ctx),
        Op::Unimplemented("GetBucketPolicyStatus") => policy_status::get_bucket_policy_status(ctx),
        Op::Unimplemented(name) => {
            // S3 checks the bucket before the operation.
            if ctx.bucket.is_some() {
                ctx.run.bucket(ctx.bucket_name())?;
            }
            Err(S3Error::not_implemented(format!(
                "{name} is not implemented by s3twin yet."
            )))
        }
    }
}

/// `x-amz-expected-bucket-owner` (and `x-amz-source-expected-bucket-owner` for a copy's
/// source): malformed → 400; a bucket of another account → 403, as AWS. A missing bucket is
/// left to the operation (NoSuchBucket).
pub(crate) fn check_expected_owner(ctx: &Ctx, header: &str, bucket: &str) -> S3Result<()> {
    let Some(expected) = crate::wire::headers::get(&ctx.headers, header) else {
        return Ok(());
    };
    let expected = expected.to_str().unwrap_or("");
    if !crate::config::is_account_id(expected) {
        return Err(S3Error::with_message(
            crate::error::Code::InvalidBucketOwnerAWSAccountID,
            format!(
                "The value of the expected bucket owner parameter must be an AWS Account ID... [{expected}]"
            ),
        ));
    }
    // The bucket's owner is an account's canonical user (another account's when a user of it
    // created the bucket in enforce mode).
    let owned = |b: &crate::store::Bucket| {
        b.acl().owner.id
            == crate::auth::identity::canonical_id(expected, &ctx.state.config.account_id)
    };
    if ctx.run.bucket(bucket).is_ok_and(|b| !owned(&b)) {
        return Err(S3Error::new(crate::error::Code::AccessDenied));
    }
    Ok(())
}

/// The canonical user that owns everything in s3twin (S3 shows an owner on buckets, listings
/// and ACLs; there is one account).
pub use crate::store::{OWNER_ID, OWNER_NAME};
pub use bucket::valid_bucket_name;
pub use bucket_config::{prepare_lifecycle_doc, validate_lifecycle_doc};
pub use restore::RestoreDurations;

/// An `Owner` element. AWS stopped sending `DisplayName` in 2025: the ID alone.
pub(crate) fn write_owner(w: &mut crate::wire::xml::XmlWriter) {
    write_owner_id(w, OWNER_ID);
}

/// Who a listing shows as the owner of its objects: the bucket owner while ACLs are disabled
/// (`BucketOwnerEnforced` owns everything), else each object's own (`None`).
pub(crate) fn listing_owner(bucket: &Bucket) -> Option<Arc<crate::store::Acl>> {
    (!bucket.acls_enabled()).then(|| bucket.acl())
}

/// An `Owner` element for an object's owner (its ACL's: the writer's account under
/// `ObjectWriter`).
pub(crate) fn write_owner_id(w: &mut crate::wire::xml::XmlWriter, id: &str) {
    w.open("Owner").elem("ID", id).close();
}
