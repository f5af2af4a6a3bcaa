//! The authorize stage (enforce mode): the Op's IAM action and resource ARN, the request's
//! condition keys, then the bucket policy (an explicit Deny wins), the bucket owner's
//! account, the ACLs when the bucket's ownership allows them, and Block Public Access.

use super::acl_eval;
use super::policy::condition::Facts;
use super::policy::eval::{evaluate, Decision, PolicyRequest};
use super::policy::Policy;
use super::{Auth, Principal};
use crate::clock::iso8601;
use crate::error::{Code, S3Error, S3Result};
use crate::server::query::Query;
use crate::server::router::Op;
use crate::store::{Acl, Bucket, ConfigKind, Grantee, Owner, Permission, Run};
use http::HeaderMap;
use std::sync::Arc;

/// The IAM action S3 checks for an operation (`versioned`: a `versionId` was given).
pub fn iam_action(op: Op, versioned: bool) -> String {
    let name = op.name();
    let v = |plain: &str, version: &str| {
        if versioned {
            version.to_string()
        } else {
            plain.to_string()
        }
    };
    let action = match name {
        "ListBuckets" => "ListAllMyBuckets".to_string(),
        "HeadBucket" | "ListObjects" | "ListObjectsV2" => "ListBucket".to_string(),
        "ListObjectVersions" => "ListBucketVersions".to_string(),
        "GetObject" | "HeadObject" => v("GetObject", "GetObjectVersion"),
        "DeleteObject" | "DeleteObjects" => v("DeleteObject", "DeleteObjectVersion"),
        "GetObjectAcl" => v("GetObjectAcl", "GetObjectVersionAcl"),
        "PutObjectAcl" => v("PutObjectAcl", "PutObjectVersionAcl"),
        "GetObjectTagging" => v("GetObjectTagging", "GetObjectVersionTagging"),
        "PutObjectTagging" => v("PutObjectTagging", "PutObjectVersionTagging"),
        "DeleteObjectTagging" => v("DeleteObjectTagging", "DeleteObjectVersionTagging"),
        "GetObjectAttributes" => v("GetObjectAttributes", "GetObjectVersionAttributes"),
        "CopyObject"
        | "CreateMultipartUpload"
        | "UploadPart"
        | "UploadPartCopy"
        | "CompleteMultipartUpload"
        | "PostObject" => "PutObject".to_string(),
        // The website endpoint serves objects: reading one is s3:GetObject.
        "WebsiteRequest" => "GetObject".to_string(),
        "ListParts" => "ListMultipartUploadParts".to_string(),
        "ListMultipartUploads" => "ListBucketMultipartUploads".to_string(),
        "DeleteBucketOwnershipControls" => "PutBucketOwnershipControls".to_string(),
        "GetBucketCors" => "GetBucketCORS".to_string(),
        "PutBucketCors" | "DeleteBucketCors" => "PutBucketCORS".to_string(),
        "GetBucketLifecycleConfiguration" => "GetLifecycleConfiguration".to_string(),
        "PutBucketLifecycleConfiguration" | "DeleteBucketLifecycle" => {
            "PutLifecycleConfiguration".to_string()
        }
        "GetBucketEncryption" => "GetEncryptionConfiguration".to_string(),
        "PutBucketEncryption" | "DeleteBucketEncryption" => {
            "PutEncryptionConfiguration".to_string()
        }
        "GetPublicAccessBlock" => "GetBucketPublicAccessBlock".to_string(),
        "PutPublicAccessBlock" | "DeletePublicAccessBlock" => {
            "PutBucketPublicAccessBlock".to_string()
        }
        "DeleteBucketTagging" => "PutBucketTagging".to_string(),
        "GetObjectLockConfiguration" => "GetBucketObjectLockConfiguration".to_string(),
        "PutObjectLockConfiguration" => "PutBucketObjectLockConfiguration".to_string(),
        "GetBucketNotificationConfiguration" => "GetBucketNotification".to_string(),
        "PutBucketNotificationConfiguration" => "PutBucketNotification".to_string(),
        "GetBucketReplication" => "GetReplicationConfiguration".to_string(),
        "PutBucketReplication" | "DeleteBucketReplication" => {
            "PutReplicationConfiguration".to_string()
        }
        "GetBucketAccelerateConfiguration" => "GetAccelerateConfiguration".to_string(),
        "PutBucketAccelerateConfiguration" => "PutAccelerateConfiguration".to_string(),
        other => {
            // The id-keyed families: Get/List → Get…Configuration, Put/Delete → Put….
            let family = ["Analytics", "IntelligentTiering", "Inventory", "Metrics"]
                .into_iter()
                .find(|f| other.contains(f));
            match family {
                Some(f) if other.starts_with("Get") || other.starts_with("List") => {
                    format!("Get{f}Configuration")
                }
                Some(f) => format!("Put{f}Configuration"),
                None => other.to_string(),
            }
        }
    };
    format!("s3:{action}")
}

/// The four Block Public Access flags of a bucket.
#[derive(Debug, Default, Clone, Copy)]
pub struct PublicAccessBlock {
    pub block_public_acls: bool,
    pub ignore_public_acls: bool,
    pub block_public_policy: bool,
    pub restrict_public_buckets: bool,
}

impl PublicAccessBlock {
    fn parse(doc: &str) -> PublicAccessBlock {
        let root = crate::wire::xml::parse(doc.as_bytes()).ok();
        let flag = |name: &str| {
            root.as_ref()
                .and_then(|r| r.child_text(name))
                .is_some_and(|t| t.trim().eq_ignore_ascii_case("true"))
        };
        PublicAccessBlock {
            block_public_acls: flag("BlockPublicAcls"),
            ignore_public_acls: flag("IgnorePublicAcls"),
            block_public_policy: flag("BlockPublicPolicy"),
            restrict_public_buckets: flag("RestrictPublicBuckets"),
        }
    }

    pub fn of(bucket: &Bucket) -> PublicAccessBlock {
        bucket
            .parsed_config(ConfigKind::PublicAccessBlock, PublicAccessBlock::parse)
            .map(|p| *p)
            .unwrap_or_default()
    }
}

/// The bucket's policy, parsed once per stored document.
pub fn policy_of(bucket: &Bucket) -> Option<Arc<Policy>> {
    bucket.parsed_config(ConfigKind::Policy, Policy::parse)
}

fn denied() -> S3Error {
    S3Error::new(Code::AccessDenied)
}

/// Everything a request brings for authorization besides its principal.
pub struct Request<'a> {
    pub run: &'a Run,
    pub op: Op,
    pub bucket: Option<&'a str>,
    pub key: Option<&'a str>,
    pub headers: &'a HeaderMap,
    pub query: &'a Query,
}

fn header<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

const PUBLIC_CANNED: [&str; 3] = ["public-read", "public-read-write", "authenticated-read"];

/// An `x-amz-acl` / `x-amz-grant-*` that makes the resource public.
fn public_acl_headers(h: &HeaderMap) -> bool {
    if header(h, "x-amz-acl").is_some_and(|a| PUBLIC_CANNED.contains(&a.trim())) {
        return true;
    }
    h.iter().any(|(n, v)| {
        n.as_str().starts_with("x-amz-grant-")
            && v.to_str().is_ok_and(|v| {
                v.contains("acs.amazonaws.com/groups/global/AllUsers")
                    || v.contains("acs.amazonaws.com/groups/global/AuthenticatedUsers")
            })
    })
}

fn facts_of(auth: &Auth, r: &Request) -> Facts {
    let mut f = Facts::default();
    // An IPv4 client of a dual-stack listener arrives as `::ffff:a.b.c.d`.
    f.set(
        "aws:SourceIp",
        auth.peer.addr.ip().to_canonical().to_string(),
    );
    f.set(
        "aws:SecureTransport",
        if auth.peer.secure { "true" } else { "false" },
    );
    let now = r.run.now();
    f.set("aws:CurrentTime", format!("{}Z", &iso8601(now)[..19]));
    f.set("aws:EpochTime", (now / 1000).to_string());
    match &auth.principal {
        Principal::User(id) => {
            f.set("aws:PrincipalArn", id.arn.clone());
            f.set("aws:PrincipalAccount", id.account_id.clone());
            f.set("aws:username", id.name.clone());
            f.set("aws:userid", id.access_key.clone());
            f.set("aws:PrincipalType", "User");
        }
        _ => f.set("aws:PrincipalType", "Anonymous"),
    }
    if let Some(v) = header(r.headers, "referer") {
        f.set("aws:Referer", v);
    }
    if let Some(v) = header(r.headers, "user-agent") {
        f.set("aws:UserAgent", v);
    }
    for (name, value) in r.headers {
        if name.as_str().starts_with("x-amz-") {
            if let Ok(v) = value.to_str() {
                f.set(&format!("s3:{}", name.as_str()), v.trim());
            }
        }
    }
    if matches!(
        r.op,
        Op::ListObjects | Op::ListObjectsV2 | Op::ListObjectVersions
    ) {
        for (param, key) in [
            ("prefix", "s3:prefix"),
            ("delimiter", "s3:delimiter"),
            ("max-keys", "s3:max-keys"),
        ] {
            if let Some(v) = r.query.get(param) {
                f.set(key, v);
            }
        }
    }
    if let Some(v) = r.query.get("versionId") {
        f.set("s3:VersionId", v);
    }
    if let Some(v) = auth.signature_version {
        f.set("s3:signatureversion", v);
    }
    if let Some(v) = auth.auth_type {
        f.set("s3:authType", v);
    }
    if let Some(tagging) = header(r.headers, "x-amz-tagging") {
        if let Ok(tags) = crate::wire::headers::parse_tagging(tagging) {
            for (k, v) in &tags {
                f.set(&format!("s3:RequestObjectTag/{k}"), v.clone());
            }
            f.set_many(
                "s3:RequestObjectTagKeys",
                tags.into_iter().map(|(k, _)| k).collect(),
            );
        }
    }
    f
}

/// Judges a request (`auth::Auth` from the authenticate stage). Nothing is checked unless
/// the run enforces auth. A copy also needs `s3:GetObject` (`…Version`) on its source.
pub fn authorize(auth: &Auth, r: &Request) -> S3Result<()> {
    // A CORS preflight carries no credentials and is judged by the bucket's CORS rules alone;
    // a POST form is judged once its fields are read, a website request once the object it
    // serves is known (`authorize_resolved`).
    if !auth.enforced() || matches!(r.op, Op::CorsPreflight | Op::PostObject | Op::Website) {
        return Ok(());
    }
    judge(auth, r)?;
    if matches!(r.op, Op::CopyObject | Op::UploadPartCopy) {
        if let Some((bucket, key, version)) =
            header(r.headers, "x-amz-copy-source").and_then(copy_source)
        {
            let query = match &version {
                Some(v) => Query::parse(Some(&format!(
                    "versionId={}",
                    crate::server::query::url_encode(v)
                ))),
                None => Query::default(),
            };
            judge(
                auth,
                &Request {
                    run: r.run,
                    op: Op::GetObject,
                    bucket: Some(&bucket),
                    key: Some(&key),
                    headers: r.headers,
                    query: &query,
                },
            )?;
        }
    }
    Ok(())
}

/// A request judged once its handler knows what it acts on (enforce mode): a POST form as the
/// principal its signature established, with the form's fields as the request's headers
/// (`x-amz-acl`, `x-amz-server-side-encryption`…); a website request as GetObject of the
/// object it serves (an index document for a folder).
pub fn authorize_resolved(auth: &Auth, r: &Request) -> S3Result<()> {
    if !auth.enforced() {
        return Ok(());
    }
    judge(auth, r)
}

/// `bucket/key[?versionId=v]` (optionally with a leading `/`, percent-encoded).
fn copy_source(v: &str) -> Option<(String, String, Option<String>)> {
    let (path, version) = match v.split_once("?versionId=") {
        Some((p, ver)) => (p, Some(crate::server::query::decode_component(ver))),
        None => (v, None),
    };
    let path = crate::server::query::decode_path(path.trim_start_matches('/'))?;
    let (bucket, key) = path.split_once('/')?;
    Some((bucket.to_string(), key.to_string(), version))
}

fn judge(auth: &Auth, r: &Request) -> S3Result<()> {
    let user = match &auth.principal {
        Principal::User(id) => Some(id),
        _ => None,
    };
    if r.op == Op::ListBuckets {
        return if user.is_some() {
            Ok(())
        } else {
            Err(denied())
        };
    }
    let Some(name) = r.bucket else {
        return Ok(());
    };
    // A missing bucket is the operation's to report (NoSuchBucket), as on S3.
    let Ok(bucket) = r.run.bucket(name) else {
        if r.op == Op::CreateBucket && user.is_none() {
            return Err(denied());
        }
        return Ok(());
    };
    let bucket_acl = bucket.acl();
    let owner = user.is_some_and(|id| id.canonical_id == bucket_acl.owner.id);
    if r.op == Op::CreateBucket {
        return if owner {
            Ok(())
        } else {
            Err(S3Error::new(Code::BucketAlreadyExists).extra("BucketName", name))
        };
    }
    // DeleteObjects is judged key by key, as s3:DeleteObject (`authorize_delete_key`).
    if r.op == Op::DeleteObjects {
        return Ok(());
    }
    let bpa = PublicAccessBlock::of(&bucket);
    // With ACLs disabled the operation refuses any ACL itself (AccessControlListNotSupported).
    if bpa.block_public_acls
        && bucket.acls_enabled()
        && matches!(
            r.op,
            Op::PutBucketAcl
                | Op::PutObjectAcl
                | Op::PutObject
                | Op::PostObject
                | Op::CopyObject
                | Op::CreateMultipartUpload
        )
        && public_acl_headers(r.headers)
    {
        return Err(denied());
    }
    let object = r.key.and_then(|k| match r.query.get("versionId") {
        Some(v) => bucket.version(k, v),
        None => bucket.current(k),
    });
    let policy = policy_of(&bucket);
    // The condition keys are gathered only for a bucket with a policy: most requests (the
    // owner's, in a bucket without one) need none, and they cost more than the rest.
    let facts = std::cell::OnceCell::new();
    let facts = || {
        facts.get_or_init(|| {
            let mut facts = facts_of(auth, r);
            if let Some(o) = object.as_ref().filter(|o| !o.delete_marker) {
                for (k, v) in o.tags().iter() {
                    facts.set(&format!("s3:ExistingObjectTag/{k}"), v.clone());
                }
            }
            facts
        })
    };
    let policy_allows = |action: &str, resource: &str| -> Option<bool> {
        let policy = policy.as_ref()?;
        let request = PolicyRequest {
            principal: &auth.principal,
            action,
            resource,
            facts: facts(),
        };
        match evaluate(policy, &request) {
            Decision::Deny => Some(false),
            // RestrictPublicBuckets: a public policy lets in only the owner's account.
            Decision::Allow { public } => {
                (!(public && bpa.restrict_public_buckets && !owner)).then_some(true)
            }
            Decision::Silent => None,
        }
    };
    // Reading a key that does not exist: S3 answers 404 only to who may list the bucket, and
    // 403 to the others, so that a public object's neighbours cannot be probed.
    let missing = matches!(r.op, Op::GetObject | Op::HeadObject) && object.is_none();
    let may_list = || {
        owner
            || match policy_allows("s3:ListBucket", &format!("arn:aws:s3:::{name}")) {
                Some(allowed) => allowed,
                None => {
                    bucket.acls_enabled()
                        && acl_eval::allows(
                            &bucket_acl,
                            &auth.principal,
                            Permission::Read,
                            bpa.ignore_public_acls,
                        )
                }
            }
    };
    let action_and_resource = || {
        let action = iam_action(r.op, r.query.has("versionId"));
        let resource = match r.key {
            Some(k) => format!("arn:aws:s3:::{name}/{k}"),
            None => format!("arn:aws:s3:::{name}"),
        };
        (action, resource)
    };
    let decision = match policy {
        Some(_) => {
            let (action, resource) = action_and_resource();
            policy_allows(&action, &resource)
        }
        None => None,
    };
    match decision {
        Some(false) => return Err(denied()),
        Some(true) if missing && !may_list() => return Err(denied()),
        Some(true) => return Ok(()),
        None => {}
    }
    // The bucket owner may do anything, but read an object another account owns (written
    // under ObjectWriter or BucketOwnerPreferred): that takes the object's ACL.
    let foreign_object = || {
        bucket.acls_enabled()
            && matches!(
                r.op,
                Op::GetObject
                    | Op::HeadObject
                    | Op::GetObjectAttributes
                    | Op::GetObjectTagging
                    | Op::GetObjectAcl
                    | Op::PutObjectAcl
            )
            && object
                .as_ref()
                .is_some_and(|o| !o.delete_marker && o.acl.owner.id != bucket_acl.owner.id)
    };
    if owner && !foreign_object() {
        return Ok(());
    }
    if !bucket.acls_enabled() {
        return Err(denied());
    }
    let ignore = bpa.ignore_public_acls;
    let on_bucket = |p| acl_eval::allows(&bucket_acl, &auth.principal, p, ignore);
    let allowed = match r.op {
        Op::GetObject | Op::HeadObject | Op::GetObjectAttributes | Op::GetObjectTagging => {
            match &object {
                Some(o) => acl_eval::allows(&o.acl, &auth.principal, Permission::Read, ignore),
                // A missing key: NoSuchKey for who may list the bucket.
                None => on_bucket(Permission::Read),
            }
        }
        Op::GetObjectAcl => object.as_ref().is_some_and(|o| {
            acl_eval::allows(&o.acl, &auth.principal, Permission::ReadAcp, ignore)
        }),
        Op::PutObjectAcl => object.as_ref().is_some_and(|o| {
            acl_eval::allows(&o.acl, &auth.principal, Permission::WriteAcp, ignore)
        }),
        Op::GetBucketAcl => on_bucket(Permission::ReadAcp),
        Op::PutBucketAcl => on_bucket(Permission::WriteAcp),
        Op::ListObjects
        | Op::ListObjectsV2
        | Op::ListObjectVersions
        | Op::ListMultipartUploads
        | Op::HeadBucket => on_bucket(Permission::Read),
        Op::PutObject
        | Op::PostObject
        | Op::CopyObject
        | Op::DeleteObject
        | Op::DeleteObjects
        | Op::CreateMultipartUpload
        | Op::UploadPart
        | Op::UploadPartCopy
        | Op::CompleteMultipartUpload
        | Op::AbortMultipartUpload
        | Op::ListParts => on_bucket(Permission::Write),
        _ => false,
    };
    if allowed {
        Ok(())
    } else {
        Err(denied())
    }
}

/// A bucket created by an identity of another account than the server's belongs to that
/// account: its ACL's owner (and the owner's grants) are that account's canonical user.
pub fn claim_bucket(auth: &Auth, run: &Run, name: &str) {
    let Principal::User(id) = &auth.principal else {
        return;
    };
    let Ok(bucket) = run.bucket(name) else {
        return;
    };
    let acl = bucket.acl();
    if acl.owner.id == id.canonical_id {
        return;
    }
    let home = acl.owner.id.clone();
    let grants = acl
        .grants
        .iter()
        .map(|g| match &g.grantee {
            Grantee::CanonicalUser { id: gid, .. } if *gid == home => crate::store::Grant::new(
                Grantee::CanonicalUser {
                    id: id.canonical_id.clone(),
                    display_name: Some(id.name.clone()),
                },
                g.permission,
            ),
            _ => g.clone(),
        })
        .collect();
    bucket.set_acl(Arc::new(Acl {
        owner: Owner {
            id: id.canonical_id.clone(),
            display_name: id.name.clone(),
        },
        grants,
    }));
}

/// BlockPublicAcls (enforce mode): an ACL that grants anything to AllUsers or
/// AuthenticatedUsers is refused, however it was asked for (canned, grant headers or an
/// `AccessControlPolicy` document).
pub fn check_new_acl(auth: &Auth, bucket: &Bucket, acl: &Acl) -> S3Result<()> {
    if auth.enforced()
        && bucket.acls_enabled()
        && acl_eval::is_public(acl)
        && PublicAccessBlock::of(bucket).block_public_acls
    {
        return Err(denied());
    }
    Ok(())
}

/// BlockPublicPolicy (enforce mode): a public policy is refused on a bucket that blocks them.
pub fn check_new_policy(auth: &Auth, bucket: &Bucket, doc: &str) -> S3Result<()> {
    if auth.enforced()
        && PublicAccessBlock::of(bucket).block_public_policy
        && Policy::parse(doc).is_public()
    {
        return Err(denied());
    }
    Ok(())
}

/// One key of a DeleteObjects request, judged as DeleteObject (DeleteObjectVersion with a
/// version id) on that key.
pub fn authorize_delete_key(
    auth: &Auth,
    run: &Run,
    bucket: &str,
    key: &str,
    version: Option<&str>,
    headers: &HeaderMap,
) -> S3Result<()> {
    if !auth.enforced() {
        return Ok(());
    }
    let query = match version {
        Some(v) => Query::parse(Some(&format!(
            "versionId={}",
            crate::server::query::url_encode(v)
        ))),
        None => Query::default(),
    };
    authorize(
        auth,
        &Request {
            run,
            op: Op::DeleteObject,
            bucket: Some(bucket),
            key: Some(key),
            headers,
            query: &query,
        },
    )
}

/// Whether the caller's account owns `bucket` (ListBuckets shows those only); always true
/// when auth is not enforced.
pub fn owns(auth: &Auth, bucket: &Bucket) -> bool {
    match &auth.principal {
        Principal::Unchecked => true,
        Principal::User(id) => bucket.acl().owner.id == id.canonical_id,
        Principal::Anonymous => false,
    }
}

/// The caller's canonical user id (enforce mode, with credentials).
pub fn caller_canonical_id(auth: &Auth) -> Option<&str> {
    match &auth.principal {
        Principal::User(id) => Some(&id.canonical_id),
        _ => None,
    }
}
