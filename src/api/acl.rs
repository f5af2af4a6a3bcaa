//! Access control lists: GetBucketAcl, PutBucketAcl, GetObjectAcl, PutObjectAcl, and the ACL a
//! request that creates a bucket or an object asks for (`x-amz-acl`, `x-amz-grant-*`), under the
//! bucket's S3 Object Ownership setting. ACLs are stored and shown, not enforced.

use super::bucket::MAX_XML_BODY;
use super::object::read_subresource_version;
use super::{Ctx, ReqBody};
use crate::error::{Code, S3Error, S3Result};
use crate::events::EventName;
use crate::server::response::{empty, xml, Resp};
use crate::store::{
    Acl, Bucket, CannedAcl, Grant, Grantee, Object, ObjectOwnership, Owner, Permission, GROUPS,
    MAX_GRANTS, OWNER_ID,
};
use crate::wire::request_body::{receive, BodySpec};
use crate::wire::xml::{self as xmlp, Element, XmlWriter};
use std::sync::Arc;

const XSI_NS: &str = "http://www.w3.org/2001/XMLSchema-instance";

/// The grant headers and the permission each grants.
const GRANT_HEADERS: [(&str, Permission); 5] = [
    ("x-amz-grant-full-control", Permission::FullControl),
    ("x-amz-grant-read", Permission::Read),
    ("x-amz-grant-read-acp", Permission::ReadAcp),
    ("x-amz-grant-write", Permission::Write),
    ("x-amz-grant-write-acp", Permission::WriteAcp),
];

/// The ACL a request asks for.
enum Requested {
    Canned(CannedAcl),
    /// Grant headers or an `AccessControlPolicy` document (with the owner id it names):
    /// exactly these grants.
    Grants(Vec<Grant>, Option<String>),
}

impl Requested {
    /// Whether a bucket with ACLs disabled (`BucketOwnerEnforced`) accepts it: no ACL but
    /// `private`, `bucket-owner-full-control`, or grants of FULL_CONTROL to the owner only.
    fn allowed_without_acls(&self, owner: &str) -> bool {
        match self {
            Requested::Canned(c) => c.allowed_without_acls(),
            Requested::Grants(grants, _) => {
                !grants.is_empty() && grants.iter().all(|g| {
                    g.permission == Permission::FullControl
                        && matches!(&g.grantee, Grantee::CanonicalUser { id, .. } if id == owner)
                })
            }
        }
    }

    /// The ACL of a resource `owner` owns in a bucket `bucket_owner` owns. The account's
    /// `private` ACL is the shared one.
    fn into_acl(self, owner: &Owner, bucket_owner: &str) -> S3Result<Arc<Acl>> {
        let acl = match self {
            Requested::Canned(c) => Acl::canned_for(c, owner.clone(), bucket_owner),
            Requested::Grants(grants, named) => {
                // An ACL cannot give the resource another owner.
                if named.is_some_and(|id| id != owner.id) {
                    return Err(S3Error::new(Code::AccessDenied));
                }
                Acl {
                    owner: owner.clone(),
                    grants,
                }
            }
        };
        Ok(
            if owner.id == OWNER_ID && acl.is_owner_full_control_only() {
                Acl::private()
            } else {
                Arc::new(acl)
            },
        )
    }
}

/// Email grantees: S3 stopped accepting them on October 1, 2025 (the regions that had them
/// answer 405; the others never took them). The caller names the method and resource.
fn email_grantee_refused() -> S3Error {
    S3Error::new(Code::MethodNotAllowed)
}

/// `email_grantee_refused` with the request's method and resource type, as a 405 carries.
fn with_resource(e: S3Error, ctx: &Ctx, for_bucket: bool) -> S3Error {
    if e.code != Code::MethodNotAllowed || !e.extras.is_empty() {
        return e;
    }
    e.extra("Method", ctx.method.as_str())
        .extra("ResourceType", if for_bucket { "BUCKET" } else { "OBJECT" })
}

fn acl_not_supported() -> S3Error {
    S3Error::new(Code::AccessControlListNotSupported)
}

/// A canonical user id as S3 writes them: 64 hex digits.
fn valid_canonical_id(id: &str) -> bool {
    id.len() == 64 && id.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The grantees of one grant header: `id="…"` or `uri="…"` (`emailAddress="…"` is refused), separated by
/// commas (quotes optional).
fn parse_grant_header(header: &'static str, value: &str) -> S3Result<Vec<Grantee>> {
    let mut out = Vec::new();
    for item in value.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        let unrecognized =
            || S3Error::invalid_argument("Argument format not recognized", header, item);
        let (kind, target) = item.split_once('=').ok_or_else(unrecognized)?;
        let target = target.trim();
        let target = target
            .strip_prefix('"')
            .and_then(|t| t.strip_suffix('"'))
            .unwrap_or(target);
        match kind.trim().to_ascii_lowercase().as_str() {
            "id" => {
                if !valid_canonical_id(target) {
                    return Err(S3Error::invalid_argument("Invalid id", "id", target));
                }
                out.push(Grantee::user(target));
            }
            "uri" => {
                if !GROUPS.contains(&target) {
                    return Err(S3Error::invalid_argument(
                        "Invalid group uri",
                        "uri",
                        target,
                    ));
                }
                out.push(Grantee::group(target));
            }
            "emailaddress" => return Err(email_grantee_refused()),
            _ => return Err(unrecognized()),
        }
    }
    Ok(out)
}

/// The ACL the request's headers ask for, if any. A canned ACL and grant headers together are
/// refused, as S3 refuses them.
fn requested_from_headers(ctx: &Ctx, for_bucket: bool) -> S3Result<Option<Requested>> {
    let canned = crate::wire::headers::get(&ctx.headers, "x-amz-acl");
    // One pass over the request's few header names rather than a hashed lookup of each grant
    // header: every PUT asks, and almost none has one.
    let has_grants = ctx.headers.keys().any(|n| {
        n.as_str().starts_with("x-amz-grant-") && GRANT_HEADERS.iter().any(|(h, _)| n == *h)
    });
    if canned.is_some() && has_grants {
        return Err(S3Error::invalid_request(
            "Specifying both Canned ACLs and Header Grants is not allowed",
        ));
    }
    if let Some(raw) = canned {
        let name = raw.to_str().unwrap_or("");
        // S3 answers an unknown canned ACL with an empty message.
        let canned = CannedAcl::from_name(name, for_bucket)
            .ok_or_else(|| S3Error::invalid_argument("", "x-amz-acl", name))?;
        return Ok(Some(Requested::Canned(canned)));
    }
    if !has_grants {
        return Ok(None);
    }
    let mut grants = Vec::new();
    for (header, permission) in GRANT_HEADERS {
        for value in ctx.headers.get_all(header) {
            let value = value.to_str().map_err(|_| {
                S3Error::invalid_argument("Argument format not recognized", header, "")
            })?;
            for grantee in
                parse_grant_header(header, value).map_err(|e| with_resource(e, ctx, for_bucket))?
            {
                grants.push(Grant::new(grantee, permission));
            }
        }
    }
    if grants.len() > MAX_GRANTS {
        return Err(S3Error::new(Code::MalformedACLError));
    }
    Ok(Some(Requested::Grants(grants, None)))
}

fn malformed_acl() -> S3Error {
    S3Error::new(Code::MalformedACLError)
}

fn grantee_from_xml(grantee: &Element) -> S3Result<Grantee> {
    // The grantee's type is its `xsi:type`; the element it carries says the same.
    if let Some(id) = grantee.child_text("ID") {
        let id = id.trim();
        if !valid_canonical_id(id) {
            return Err(S3Error::invalid_argument(
                "Invalid id",
                "CanonicalUser/ID",
                id,
            ));
        }
        return Ok(Grantee::user(id));
    }
    if let Some(uri) = grantee.child_text("URI") {
        let uri = uri.trim();
        if !GROUPS.contains(&uri) {
            return Err(S3Error::invalid_argument(
                "Invalid group uri",
                "Group/URI",
                uri,
            ));
        }
        return Ok(Grantee::group(uri));
    }
    if grantee.child("EmailAddress").is_some() {
        return Err(email_grantee_refused());
    }
    Err(malformed_acl())
}

/// Parses an `AccessControlPolicy` document. Not XML, or XML that S3's schema refuses:
/// MalformedACLError (S3 answers no MalformedXML here).
fn parse_policy(doc: &[u8]) -> S3Result<Requested> {
    let root = xmlp::parse(doc).map_err(|_| malformed_acl())?;
    if root.name != "AccessControlPolicy" {
        return Err(malformed_acl());
    }
    let owner_id = root
        .child("Owner")
        .and_then(|o| o.child_text("ID"))
        .map(str::trim)
        .ok_or_else(malformed_acl)?;
    if !valid_canonical_id(owner_id) {
        return Err(S3Error::invalid_argument(
            "Invalid id",
            "CanonicalUser/ID",
            owner_id,
        ));
    }
    let list = root.child("AccessControlList").ok_or_else(malformed_acl)?;
    if list.children.iter().any(|c| c.name != "Grant") || list.children.len() > MAX_GRANTS {
        return Err(malformed_acl());
    }
    let mut grants = Vec::with_capacity(list.children.len());
    for g in &list.children {
        let permission = g
            .child_text("Permission")
            .map(str::trim)
            .and_then(Permission::from_name)
            .ok_or_else(malformed_acl)?;
        let grantee = grantee_from_xml(g.child("Grantee").ok_or_else(malformed_acl)?)?;
        grants.push(Grant::new(grantee, permission));
    }
    Ok(Requested::Grants(grants, Some(owner_id.to_string())))
}

/// The ACL a PutBucketAcl / PutObjectAcl asks for: a canned ACL, grant headers, or a document,
/// exactly one of them.
async fn requested_acl(ctx: &Ctx, body: ReqBody, for_bucket: bool) -> S3Result<Requested> {
    let from_headers = requested_from_headers(ctx, for_bucket);
    let spec = BodySpec::from_headers(&ctx.headers)?;
    let doc = receive(body, &spec, None, MAX_XML_BODY).await?.into_bytes();
    match (from_headers?, doc.is_empty()) {
        (None, true) => Err(S3Error::with_message(
            Code::MissingSecurityHeader,
            "Your request was missing a required header",
        )
        .extra("MissingHeaderName", "x-amz-acl")),
        (Some(_), false) => Err(S3Error::new(Code::UnexpectedContent)),
        (Some(r), true) => Ok(r),
        (None, false) => parse_policy(&doc).map_err(|e| with_resource(e, ctx, for_bucket)),
    }
}

/// The bucket refuses an ACL it cannot have: anything but the owner's full control while ACLs
/// are disabled.
fn check_ownership(bucket: &Bucket, requested: &Requested) -> S3Result<()> {
    if !bucket.acls_enabled() && !requested.allowed_without_acls(&bucket.acl().owner.id) {
        return Err(acl_not_supported());
    }
    Ok(())
}

/// The ACL of an object a request creates (PutObject, CopyObject, CreateMultipartUpload,
/// POST): `private` unless its headers ask for another one the bucket accepts, owned as the
/// bucket's Object Ownership says (`object_owner`).
pub fn request_object_acl(ctx: &Ctx) -> S3Result<Arc<Acl>> {
    let requested = requested_from_headers(ctx, false)?;
    // Without enforcement everything is the account's: no bucket to look at.
    if requested.is_none() && !ctx.auth.enforced() {
        return Ok(Acl::private());
    }
    let bucket = ctx.run.bucket(ctx.bucket_name())?;
    if let Some(r) = &requested {
        check_ownership(&bucket, r)?;
    }
    let bucket_owner = bucket.acl().owner.clone();
    let owner = object_owner(ctx, &bucket, &bucket_owner, requested.as_ref());
    requested
        .unwrap_or(Requested::Canned(CannedAcl::Private))
        .into_acl(&owner, &bucket_owner.id)
}

/// The ACL of a delete marker a request stacks: the deleter's account owns it (enforce mode,
/// another account than the server's); `None` keeps the account's.
pub fn marker_acl(ctx: &Ctx, bucket: &Bucket) -> Option<Arc<Acl>> {
    let crate::auth::Principal::User(id) = &ctx.auth.principal else {
        return None;
    };
    if id.canonical_id == OWNER_ID {
        return None;
    }
    let owner = Owner {
        id: id.canonical_id.clone(),
        display_name: id.name.clone(),
    };
    Some(Arc::new(Acl::canned_for(
        CannedAcl::Private,
        owner,
        &bucket.acl().owner.id,
    )))
}

/// Who owns an object a request writes (enforce mode): the bucket owner under
/// `BucketOwnerEnforced`, and under `BucketOwnerPreferred` when the writer grants it
/// `bucket-owner-full-control`; the writer otherwise (`ObjectWriter`). An anonymous writer's
/// object is the bucket owner's.
fn object_owner(
    ctx: &Ctx,
    bucket: &Bucket,
    bucket_owner: &Owner,
    requested: Option<&Requested>,
) -> Owner {
    let writer = match &ctx.auth.principal {
        crate::auth::Principal::User(id) => Owner {
            id: id.canonical_id.clone(),
            display_name: id.name.clone(),
        },
        _ => return bucket_owner.clone(),
    };
    match bucket.object_ownership() {
        None | Some(ObjectOwnership::BucketOwnerEnforced) => bucket_owner.clone(),
        Some(ObjectOwnership::BucketOwnerPreferred)
            if matches!(
                requested,
                Some(Requested::Canned(CannedAcl::BucketOwnerFullControl))
            ) =>
        {
            bucket_owner.clone()
        }
        Some(_) => writer,
    }
}

/// The object ownership and the ACL a CreateBucket asks for. With ACLs disabled (the default)
/// only the owner's full control may be asked for: InvalidBucketAclWithObjectOwnership.
pub fn create_bucket_acl(ctx: &Ctx) -> S3Result<(ObjectOwnership, Option<Arc<Acl>>)> {
    let ownership = match crate::wire::headers::get(&ctx.headers, "x-amz-object-ownership") {
        None => ObjectOwnership::BucketOwnerEnforced,
        Some(raw) => {
            let v = raw.to_str().unwrap_or("");
            ObjectOwnership::from_name(v).ok_or_else(|| {
                S3Error::invalid_argument(
                    format!("Invalid x-amz-object-ownership header: {v}"),
                    "x-amz-object-ownership",
                    v,
                )
            })?
        }
    };
    let requested = requested_from_headers(ctx, true)?;
    if ownership == ObjectOwnership::BucketOwnerEnforced
        && requested
            .as_ref()
            .is_some_and(|r| !r.allowed_without_acls(OWNER_ID))
    {
        return Err(S3Error::new(Code::InvalidBucketAclWithObjectOwnership));
    }
    // The bucket is the account's until `claim_bucket` hands it to its creator's account.
    let acl = requested
        .map(|r| r.into_acl(&Owner::account(), OWNER_ID))
        .transpose()?;
    Ok((ownership, acl))
}

/// An `AccessControlPolicy` document.
fn policy_document(acl: &Acl) -> String {
    let mut w = XmlWriter::new();
    w.root("AccessControlPolicy")
        .open("Owner")
        .elem("ID", &acl.owner.id)
        .close()
        .open("AccessControlList");
    for g in &acl.grants {
        w.open("Grant").open_attrs(
            "Grantee",
            &[("xmlns:xsi", XSI_NS), ("xsi:type", g.grantee.type_name())],
        );
        match &g.grantee {
            // No DisplayName: AWS stopped returning it in 2025.
            Grantee::CanonicalUser { id, .. } => {
                w.elem("ID", id);
            }
            Grantee::Group { uri } => {
                w.elem("URI", uri);
            }
            Grantee::AmazonCustomerByEmail { email } => {
                w.elem("EmailAddress", email);
            }
        }
        w.close().elem("Permission", g.permission.name()).close();
    }
    w.finish()
}

fn policy_response(acl: &Acl) -> Resp {
    xml(200, policy_document(acl))
}

/// With ACLs disabled, reads show the bucket owner's full control whatever was stored
/// before (the bucket owner owns every object then).
fn shown(bucket: &Bucket, acl: Arc<Acl>) -> Arc<Acl> {
    if bucket.acls_enabled() {
        return acl;
    }
    let owner = bucket.acl().owner.clone();
    if owner.id == OWNER_ID {
        Acl::private()
    } else {
        // A bucket of another account (auth enforced): that account's full control.
        Arc::new(Acl {
            grants: vec![Grant::new(
                Grantee::user(&owner.id),
                Permission::FullControl,
            )],
            owner,
        })
    }
}

pub fn get_bucket_acl(ctx: &Ctx) -> S3Result<Resp> {
    let bucket = ctx.run.bucket(ctx.bucket_name())?;
    Ok(policy_response(&shown(&bucket, bucket.acl())))
}

pub async fn put_bucket_acl(ctx: &Ctx, body: ReqBody) -> S3Result<Resp> {
    let bucket = ctx.run.bucket(ctx.bucket_name())?;
    let requested = requested_acl(ctx, body, true).await?;
    check_ownership(&bucket, &requested)?;
    let owner = bucket.acl().owner.clone();
    let acl = requested.into_acl(&owner, &owner.id)?;
    crate::auth::authorize::check_new_acl(&ctx.auth, &bucket, &acl)?;
    bucket.set_acl(acl);
    Ok(empty(200))
}

pub fn get_object_acl(ctx: &Ctx) -> S3Result<Resp> {
    let bucket = ctx.run.bucket(ctx.bucket_name())?;
    let object = read_subresource_version(ctx, &bucket, ctx.key_name(), "GET")?;
    Ok(policy_response(&shown(&bucket, object.acl.clone())))
}

pub async fn put_object_acl(ctx: &Ctx, body: ReqBody) -> S3Result<Resp> {
    let bucket = ctx.run.bucket(ctx.bucket_name())?;
    let requested = requested_acl(ctx, body, false).await?;
    let key = ctx.key_name();
    let current = read_subresource_version(ctx, &bucket, key, "PUT")?;
    check_ownership(&bucket, &requested)?;
    // The object keeps its owner; a canned ACL is expanded for it.
    let acl = requested.into_acl(&current.acl.owner, &bucket.acl().owner.id)?;
    crate::auth::authorize::check_new_acl(&ctx.auth, &bucket, &acl)?;
    let object = bucket
        .modify(key, ctx.query.get("versionId"), |o: &mut Object| {
            o.acl = acl
        })
        .ok_or_else(|| S3Error::no_such_key(key))?;
    ctx.notify_object(&bucket, EventName::AclPut, &object);
    Ok(empty(200))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grant_headers() {
        let g = parse_grant_header(
            "x-amz-grant-read",
            &format!("id=\"{OWNER_ID}\", uri=\"http://acs.amazonaws.com/groups/global/AllUsers\""),
        )
        .expect("valid");
        assert_eq!(g.len(), 2);
        assert_eq!(g[0], Grantee::user(OWNER_ID));
        assert_eq!(g[1].type_name(), "Group");
        assert_eq!(
            parse_grant_header("x-amz-grant-read", "emailAddress=a@b.c")
                .unwrap_err()
                .code,
            Code::MethodNotAllowed
        );
        for bad in [
            "name=\"x\"",
            "id=\"short\"",
            "uri=\"http://example.com\"",
            "noequals",
        ] {
            let e = parse_grant_header("x-amz-grant-read", bad).unwrap_err();
            assert_eq!(e.code, Code::InvalidArgument, "{bad}");
        }
    }

    #[test]
    fn policy_documents() {
        let doc = format!(
            "<AccessControlPolicy><Owner><ID>{OWNER_ID}</ID></Owner><AccessControlList>\
             <Grant><Grantee xmlns:xsi=\"{XSI_NS}\" xsi:type=\"CanonicalUser\"><ID>{OWNER_ID}</ID></Grantee><Permission>FULL_CONTROL</Permission></Grant>\
             <Grant><Grantee xmlns:xsi=\"{XSI_NS}\" xsi:type=\"Group\"><URI>http://acs.amazonaws.com/groups/s3/LogDelivery</URI></Grantee><Permission>WRITE</Permission></Grant>\
             </AccessControlList></AccessControlPolicy>"
        );
        let Ok(Requested::Grants(grants, Some(owner))) = parse_policy(doc.as_bytes()) else {
            panic!("valid");
        };
        assert_eq!(owner, OWNER_ID);
        assert_eq!(grants.len(), 2);
        assert_eq!(grants[1].permission, Permission::Write);
        let code = |d: &str| parse_policy(d.as_bytes()).err().map(|e| e.code);
        assert_eq!(code("<AccessControlPolicy>"), Some(Code::MalformedACLError));
        assert_eq!(code("<Other/>"), Some(Code::MalformedACLError));
        assert_eq!(
            code(&doc.replace("FULL_CONTROL", "EVERYTHING")),
            Some(Code::MalformedACLError)
        );
        assert_eq!(
            code(&format!(
                "<AccessControlPolicy><Owner><ID>{OWNER_ID}</ID></Owner></AccessControlPolicy>"
            )),
            Some(Code::MalformedACLError)
        );
    }

    #[test]
    fn rendering_has_typed_grantees() {
        let doc = policy_document(&Acl::canned(CannedAcl::PublicRead));
        assert!(doc.contains(&format!(
            "<Grantee xmlns:xsi=\"{XSI_NS}\" xsi:type=\"CanonicalUser\"><ID>{OWNER_ID}</ID></Grantee><Permission>FULL_CONTROL</Permission>"
        )));
        assert!(doc.contains(&format!(
            "<Grantee xmlns:xsi=\"{XSI_NS}\" xsi:type=\"Group\"><URI>http://acs.amazonaws.com/groups/global/AllUsers</URI></Grantee><Permission>READ</Permission>"
        )));
    }
}
