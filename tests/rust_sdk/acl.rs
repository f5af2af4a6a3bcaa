//! ACLs (Get/PutBucketAcl, Get/PutObjectAcl, ACL headers on creates) and S3 Object Ownership,
//! as the S3 API reference and the "Access control list (ACL) overview" / "Controlling
//! ownership of objects" user-guide pages describe them.

use crate::common::*;
use aws_sdk_s3::types::{
    AccessControlPolicy, BucketCannedAcl, BucketVersioningStatus, CompletedMultipartUpload,
    CompletedPart, Grant, Grantee, ObjectCannedAcl, ObjectOwnership, Owner, Permission, Type,
};
use aws_sdk_s3::Client;

const ALL_USERS: &str = "http://acs.amazonaws.com/groups/global/AllUsers";
const AUTHENTICATED_USERS: &str = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers";
const LOG_DELIVERY: &str = "http://acs.amazonaws.com/groups/s3/LogDelivery";
/// The canonical user that `aws-exec-read` grants READ (Amazon EC2, to read AMI bundles).
const EC2_READER: &str = "6aa5a366c34c1cbe25dc49211496e913e0351eb0e8c37aa3477e40942ec6b97c";

/// A grant as (permission, grantee type, id / uri / email).
type Summary = (String, String, String);

/// The grants, sorted: ACL comparisons ignore order.
fn summary(grants: &[Grant]) -> Vec<Summary> {
    let mut out: Vec<_> = grants
        .iter()
        .map(|g| {
            let grantee = g.grantee().expect("grantee");
            let who = grantee
                .id()
                .or(grantee.uri())
                .or(grantee.email_address())
                .unwrap_or("")
                .to_string();
            (
                g.permission().expect("permission").as_str().to_string(),
                grantee.r#type().as_str().to_string(),
                who,
            )
        })
        .collect();
    out.sort();
    out
}

fn g(permission: &str, kind: &str, who: &str) -> Summary {
    (permission.into(), kind.into(), who.into())
}

fn sorted(mut v: Vec<Summary>) -> Vec<Summary> {
    v.sort();
    v
}

/// The account's canonical id, as the owner of a new bucket's ACL shows it.
async fn owner_id(c: &Client, b: &str) -> String {
    c.get_bucket_acl()
        .bucket(b)
        .send()
        .await
        .expect("get bucket acl")
        .owner()
        .and_then(|o| o.id())
        .expect("owner id")
        .to_string()
}

/// A bucket that accepts ACLs, public ones included: created with an ownership setting other
/// than BucketOwnerEnforced, and without the Block Public Access configuration new buckets get.
async fn acl_bucket(c: &Client, tag: &str, ownership: ObjectOwnership) -> String {
    let name = bucket_name(tag);
    c.create_bucket()
        .bucket(&name)
        .object_ownership(ownership)
        .send()
        .await
        .expect("create bucket");
    c.delete_public_access_block()
        .bucket(&name)
        .send()
        .await
        .expect("delete public access block");
    name
}

async fn object_grants(c: &Client, b: &str, k: &str) -> Vec<Summary> {
    let out = c
        .get_object_acl()
        .bucket(b)
        .key(k)
        .send()
        .await
        .expect("get object acl");
    summary(out.grants())
}

async fn bucket_grants(c: &Client, b: &str) -> Vec<Summary> {
    let out = c
        .get_bucket_acl()
        .bucket(b)
        .send()
        .await
        .expect("get bucket acl");
    summary(out.grants())
}

fn group_grant(uri: &str, permission: Permission) -> Grant {
    Grant::builder()
        .grantee(
            Grantee::builder()
                .r#type(Type::Group)
                .uri(uri)
                .build()
                .expect("grantee"),
        )
        .permission(permission)
        .build()
}

fn user_grant(id: &str, permission: Permission) -> Grant {
    Grant::builder()
        .grantee(
            Grantee::builder()
                .r#type(Type::CanonicalUser)
                .id(id)
                .build()
                .expect("grantee"),
        )
        .permission(permission)
        .build()
}

fn policy(owner: &str, grants: Vec<Grant>) -> AccessControlPolicy {
    AccessControlPolicy::builder()
        .owner(Owner::builder().id(owner).build())
        .set_grants(Some(grants))
        .build()
}

#[tokio::test]
async fn new_buckets_and_objects_are_private() {
    let t = Twin::start().await;
    let c = &t.client;
    let b = new_bucket(c, "aclpriv").await;
    let acl = c.get_bucket_acl().bucket(&b).send().await.expect("get");
    let owner = acl.owner().expect("owner");
    let id = owner.id().expect("owner id").to_string();
    assert!(!id.is_empty());
    assert_eq!(
        summary(acl.grants()),
        [g("FULL_CONTROL", "CanonicalUser", &id)],
        "private: the owner gets FULL_CONTROL, nobody else anything"
    );
    put(c, &b, "k", b"data").await;
    let oacl = c
        .get_object_acl()
        .bucket(&b)
        .key("k")
        .send()
        .await
        .expect("get object acl");
    assert_eq!(oacl.owner().and_then(|o| o.id()), Some(id.as_str()));
    assert_eq!(
        summary(oacl.grants()),
        [g("FULL_CONTROL", "CanonicalUser", &id)]
    );
}

#[tokio::test]
async fn new_buckets_have_acls_disabled() {
    let t = Twin::start().await;
    let c = &t.client;
    // Since April 2023 new buckets are BucketOwnerEnforced: only the owner's full control
    // may be asked for, any other ACL is AccessControlListNotSupported.
    let b = new_bucket(c, "aclenf").await;
    let id = owner_id(c, &b).await;
    put(c, &b, "k", b"data").await;
    let not_supported = ("AccessControlListNotSupported".to_string(), 400);

    let e = c
        .put_bucket_acl()
        .bucket(&b)
        .acl(BucketCannedAcl::PublicRead)
        .send()
        .await
        .expect_err("public-read");
    assert_eq!(error_parts(&e), not_supported);
    for canned in [
        BucketCannedAcl::Private,
        BucketCannedAcl::from("bucket-owner-full-control"),
    ] {
        c.put_bucket_acl()
            .bucket(&b)
            .acl(canned.clone())
            .send()
            .await
            .unwrap_or_else(|e| panic!("{canned:?}: {e:?}"));
    }

    let e = c
        .put_object_acl()
        .bucket(&b)
        .key("k")
        .grant_read(format!("uri=\"{ALL_USERS}\""))
        .send()
        .await
        .expect_err("grant to everyone");
    assert_eq!(error_parts(&e), not_supported);
    let e = c
        .put_object_acl()
        .bucket(&b)
        .key("k")
        .access_control_policy(policy(
            &id,
            vec![
                user_grant(&id, Permission::FullControl),
                group_grant(AUTHENTICATED_USERS, Permission::Read),
            ],
        ))
        .send()
        .await
        .expect_err("document granting others");
    assert_eq!(error_parts(&e), not_supported);
    // The equivalents of bucket-owner-full-control are accepted.
    c.put_object_acl()
        .bucket(&b)
        .key("k")
        .access_control_policy(policy(&id, vec![user_grant(&id, Permission::FullControl)]))
        .send()
        .await
        .expect("owner full control as a document");
    c.put_object_acl()
        .bucket(&b)
        .key("k")
        .grant_full_control(format!("id=\"{id}\""))
        .send()
        .await
        .expect("owner full control as a header");
    c.put_object_acl()
        .bucket(&b)
        .key("k")
        .acl(ObjectCannedAcl::BucketOwnerFullControl)
        .send()
        .await
        .expect("bucket-owner-full-control");

    // Writes that carry an ACL.
    let e = c
        .put_object()
        .bucket(&b)
        .key("p")
        .acl(ObjectCannedAcl::PublicRead)
        .body(b"x".to_vec().into())
        .send()
        .await
        .expect_err("put with public-read");
    assert_eq!(error_parts(&e), not_supported);
    c.put_object()
        .bucket(&b)
        .key("p")
        .acl(ObjectCannedAcl::BucketOwnerFullControl)
        .body(b"x".to_vec().into())
        .send()
        .await
        .expect("put with bucket-owner-full-control");
    let e = c
        .copy_object()
        .bucket(&b)
        .key("copy")
        .copy_source(format!("{b}/k"))
        .acl(ObjectCannedAcl::AuthenticatedRead)
        .send()
        .await
        .expect_err("copy with authenticated-read");
    assert_eq!(error_parts(&e), not_supported);
    let e = c
        .create_multipart_upload()
        .bucket(&b)
        .key("mpu")
        .grant_read(format!("uri=\"{ALL_USERS}\""))
        .send()
        .await
        .expect_err("multipart with a grant");
    assert_eq!(error_parts(&e), not_supported);

    // Reading ACLs still works and shows the owner's full control.
    assert_eq!(
        object_grants(c, &b, "p").await,
        [g("FULL_CONTROL", "CanonicalUser", &id)]
    );
    assert_eq!(
        bucket_grants(c, &b).await,
        [g("FULL_CONTROL", "CanonicalUser", &id)]
    );
}

#[tokio::test]
async fn create_bucket_ownership_and_acl() {
    let t = Twin::start().await;
    let c = &t.client;
    // Default (BucketOwnerEnforced) or explicit, a bucket ACL is refused at creation.
    for explicit in [false, true] {
        let name = bucket_name("aclcreate");
        let mut req = c
            .create_bucket()
            .bucket(&name)
            .acl(BucketCannedAcl::PublicRead);
        if explicit {
            req = req.object_ownership(ObjectOwnership::BucketOwnerEnforced);
        }
        let e = req.send().await.expect_err("acl with enforced ownership");
        assert_eq!(
            error_parts(&e),
            ("InvalidBucketAclWithObjectOwnership".to_string(), 400)
        );
        let e = c
            .head_bucket()
            .bucket(&name)
            .send()
            .await
            .expect_err("not created");
        assert_eq!(e.raw_response().map(|r| r.status().as_u16()), Some(404));
    }
    // `private` is the owner's full control: accepted.
    let name = bucket_name("aclcreate");
    c.create_bucket()
        .bucket(&name)
        .acl(BucketCannedAcl::Private)
        .send()
        .await
        .expect("private");

    let e = c
        .create_bucket()
        .bucket(bucket_name("aclcreate"))
        .object_ownership(ObjectOwnership::from("Nobody"))
        .send()
        .await
        .expect_err("unknown ownership");
    assert_eq!(error_parts(&e), ("InvalidArgument".to_string(), 400));

    // With ACLs enabled the ACL a CreateBucket asks for is the bucket's (a log bucket).
    let name = bucket_name("acllog");
    c.create_bucket()
        .bucket(&name)
        .object_ownership(ObjectOwnership::BucketOwnerPreferred)
        .grant_write(format!("uri=\"{LOG_DELIVERY}\""))
        .grant_read_acp(format!("uri=\"{LOG_DELIVERY}\""))
        .send()
        .await
        .expect("create with grants");
    assert_eq!(
        bucket_grants(c, &name).await,
        sorted(vec![
            g("WRITE", "Group", LOG_DELIVERY),
            g("READ_ACP", "Group", LOG_DELIVERY),
        ]),
        "grant headers give exactly their grants"
    );
    // Once ACLs are enabled, PutBucketAcl is accepted.
    c.put_bucket_acl()
        .bucket(&name)
        .acl(BucketCannedAcl::from("log-delivery-write"))
        .send()
        .await
        .expect("log-delivery-write");
    let id = owner_id(c, &name).await;
    assert_eq!(
        bucket_grants(c, &name).await,
        sorted(vec![
            g("FULL_CONTROL", "CanonicalUser", &id),
            g("WRITE", "Group", LOG_DELIVERY),
            g("READ_ACP", "Group", LOG_DELIVERY),
        ])
    );
}

#[tokio::test]
async fn canned_acls_expand_as_documented() {
    let t = Twin::start().await;
    let c = &t.client;
    let b = acl_bucket(c, "aclcanned", ObjectOwnership::ObjectWriter).await;
    let id = owner_id(c, &b).await;
    put(c, &b, "k", b"data").await;
    let owner = g("FULL_CONTROL", "CanonicalUser", &id);
    let cases: Vec<(&str, Vec<Summary>)> = vec![
        (
            "public-read",
            vec![owner.clone(), g("READ", "Group", ALL_USERS)],
        ),
        (
            "public-read-write",
            vec![
                owner.clone(),
                g("READ", "Group", ALL_USERS),
                g("WRITE", "Group", ALL_USERS),
            ],
        ),
        (
            "authenticated-read",
            vec![owner.clone(), g("READ", "Group", AUTHENTICATED_USERS)],
        ),
        (
            "aws-exec-read",
            vec![owner.clone(), g("READ", "CanonicalUser", EC2_READER)],
        ),
        ("private", vec![owner.clone()]),
    ];
    for (name, expected) in cases {
        c.put_object_acl()
            .bucket(&b)
            .key("k")
            .acl(ObjectCannedAcl::from(name))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{name}: {e:?}"));
        assert_eq!(object_grants(c, &b, "k").await, sorted(expected), "{name}");
    }
    // The bucket owner is the object owner here: these give the owner's grants only.
    for name in ["bucket-owner-read", "bucket-owner-full-control"] {
        c.put_object_acl()
            .bucket(&b)
            .key("k")
            .acl(ObjectCannedAcl::from(name))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{name}: {e:?}"));
        let grants = object_grants(c, &b, "k").await;
        assert!(grants.contains(&owner), "{name}: {grants:?}");
        assert!(
            grants
                .iter()
                .all(|(_, kind, who)| kind == "CanonicalUser" && who == &id),
            "{name}: {grants:?}"
        );
    }
    // The same expansions on the bucket.
    c.put_bucket_acl()
        .bucket(&b)
        .acl(BucketCannedAcl::PublicReadWrite)
        .send()
        .await
        .expect("bucket public-read-write");
    assert_eq!(
        bucket_grants(c, &b).await,
        sorted(vec![
            owner.clone(),
            g("READ", "Group", ALL_USERS),
            g("WRITE", "Group", ALL_USERS),
        ])
    );
    let e = c
        .put_object_acl()
        .bucket(&b)
        .key("k")
        .acl(ObjectCannedAcl::from("public-everything"))
        .send()
        .await
        .expect_err("unknown canned ACL");
    assert_eq!(error_parts(&e), ("InvalidArgument".to_string(), 400));
    let e = c
        .put_bucket_acl()
        .bucket(&b)
        .acl(BucketCannedAcl::from("Private"))
        .send()
        .await
        .expect_err("canned names are case-sensitive");
    assert_eq!(error_parts(&e), ("InvalidArgument".to_string(), 400));
}

#[tokio::test]
async fn grant_headers_and_documents() {
    let t = Twin::start().await;
    let c = &t.client;
    let b = acl_bucket(c, "aclgrant", ObjectOwnership::BucketOwnerPreferred).await;
    let id = owner_id(c, &b).await;
    put(c, &b, "k", b"data").await;

    // Grant headers: lists of id= / uri= grantees; the ACL is exactly these grants.
    c.put_object_acl()
        .bucket(&b)
        .key("k")
        .grant_read(format!("uri=\"{ALL_USERS}\", id=\"{EC2_READER}\""))
        .grant_full_control(format!("id=\"{id}\""))
        .grant_write_acp(format!("uri=\"{LOG_DELIVERY}\""))
        .send()
        .await
        .expect("grant headers");
    assert_eq!(
        object_grants(c, &b, "k").await,
        sorted(vec![
            g("READ", "Group", ALL_USERS),
            g("READ", "CanonicalUser", EC2_READER),
            g("FULL_CONTROL", "CanonicalUser", &id),
            g("WRITE_ACP", "Group", LOG_DELIVERY),
        ])
    );

    // A document: GetObjectAcl's answer, changed, goes back with PutObjectAcl.
    let current = c
        .get_object_acl()
        .bucket(&b)
        .key("k")
        .send()
        .await
        .expect("get");
    let mut grants = current.grants().to_vec();
    grants.retain(|g| g.grantee().and_then(|x| x.uri()) != Some(LOG_DELIVERY));
    grants.push(group_grant(AUTHENTICATED_USERS, Permission::ReadAcp));
    c.put_object_acl()
        .bucket(&b)
        .key("k")
        .access_control_policy(
            AccessControlPolicy::builder()
                .set_owner(current.owner().cloned())
                .set_grants(Some(grants))
                .build(),
        )
        .send()
        .await
        .expect("document");
    assert_eq!(
        object_grants(c, &b, "k").await,
        sorted(vec![
            g("READ", "Group", ALL_USERS),
            g("READ", "CanonicalUser", EC2_READER),
            g("FULL_CONTROL", "CanonicalUser", &id),
            g("READ_ACP", "Group", AUTHENTICATED_USERS),
        ])
    );
    let acl = c
        .get_object_acl()
        .bucket(&b)
        .key("k")
        .send()
        .await
        .expect("get");
    let own = acl
        .grants()
        .iter()
        .find_map(|g| g.grantee().filter(|x| x.id() == Some(id.as_str())))
        .expect("owner grant");
    assert_eq!(own.r#type(), &Type::CanonicalUser);
    // AWS stopped returning DisplayName in 2025, for owners and grantees alike.
    assert_eq!(own.display_name(), None);
    assert_eq!(acl.owner().and_then(|o| o.display_name()), None);
    assert_eq!(acl.owner().and_then(|o| o.id()), Some(id.as_str()));

    // The bucket takes grant headers and documents the same way.
    c.put_bucket_acl()
        .bucket(&b)
        .grant_read(format!("uri=\"{AUTHENTICATED_USERS}\""))
        .grant_full_control(format!("id=\"{id}\""))
        .send()
        .await
        .expect("bucket grant headers");
    assert_eq!(
        bucket_grants(c, &b).await,
        sorted(vec![
            g("READ", "Group", AUTHENTICATED_USERS),
            g("FULL_CONTROL", "CanonicalUser", &id),
        ])
    );
    c.put_bucket_acl()
        .bucket(&b)
        .access_control_policy(policy(&id, vec![user_grant(&id, Permission::FullControl)]))
        .send()
        .await
        .expect("bucket document");
    assert_eq!(
        bucket_grants(c, &b).await,
        [g("FULL_CONTROL", "CanonicalUser", &id)]
    );
}

#[tokio::test]
async fn acl_requests_that_s3_refuses() {
    let t = Twin::start().await;
    let c = &t.client;
    let b = acl_bucket(c, "aclerr", ObjectOwnership::ObjectWriter).await;
    let id = owner_id(c, &b).await;
    put(c, &b, "k", b"data").await;

    // Canned ACL and grant headers together.
    let e = c
        .put_object_acl()
        .bucket(&b)
        .key("k")
        .acl(ObjectCannedAcl::PublicRead)
        .grant_read(format!("uri=\"{ALL_USERS}\""))
        .send()
        .await
        .expect_err("both");
    assert_eq!(error_parts(&e), ("InvalidRequest".to_string(), 400));
    let e = c
        .put_object()
        .bucket(&b)
        .key("both")
        .acl(ObjectCannedAcl::Private)
        .grant_read(format!("uri=\"{ALL_USERS}\""))
        .body(b"x".to_vec().into())
        .send()
        .await
        .expect_err("both on put");
    assert_eq!(error_parts(&e), ("InvalidRequest".to_string(), 400));
    let e = c
        .create_bucket()
        .bucket(bucket_name("aclboth"))
        .object_ownership(ObjectOwnership::ObjectWriter)
        .acl(BucketCannedAcl::Private)
        .grant_read(format!("uri=\"{ALL_USERS}\""))
        .send()
        .await
        .expect_err("both on create bucket");
    assert_eq!(error_parts(&e), ("InvalidRequest".to_string(), 400));

    // Headers and a document together: the document is unexpected.
    let e = c
        .put_object_acl()
        .bucket(&b)
        .key("k")
        .acl(ObjectCannedAcl::Private)
        .access_control_policy(policy(&id, vec![user_grant(&id, Permission::FullControl)]))
        .send()
        .await
        .expect_err("canned and document");
    assert_eq!(error_parts(&e), ("UnexpectedContent".to_string(), 400));

    // No ACL at all.
    let e = c
        .put_bucket_acl()
        .bucket(&b)
        .send()
        .await
        .expect_err("nothing");
    assert_eq!(error_parts(&e), ("MissingSecurityHeader".to_string(), 400));

    // Grant headers S3 cannot read.
    for bad in [
        "uri=\"http://acs.amazonaws.com/groups/global/Everybody\"".to_string(),
        "name=\"someone\"".to_string(),
        "id=\"not-a-canonical-id\"".to_string(),
    ] {
        let e = c
            .put_object_acl()
            .bucket(&b)
            .key("k")
            .grant_read(bad.clone())
            .send()
            .await
            .expect_err(&bad);
        assert_eq!(
            error_parts(&e),
            ("InvalidArgument".to_string(), 400),
            "{bad}"
        );
    }

    // Documents S3's schema refuses.
    let e = c
        .put_object_acl()
        .bucket(&b)
        .key("k")
        .access_control_policy(policy(&id, vec![user_grant(&id, Permission::from("ALL"))]))
        .send()
        .await
        .expect_err("unknown permission");
    assert_eq!(error_parts(&e), ("MalformedACLError".to_string(), 400));
    let e = c
        .put_object_acl()
        .bucket(&b)
        .key("k")
        .access_control_policy(policy(
            &id,
            vec![group_grant(
                "http://acs.amazonaws.com/groups/global/Everybody",
                Permission::Read,
            )],
        ))
        .send()
        .await
        .expect_err("unknown group");
    assert_eq!(error_parts(&e), ("InvalidArgument".to_string(), 400));

    // A document that is not XML at all.
    let body = "<AccessControlPolicy><Owner>";
    let req = format!(
        "PUT /{b}/k?acl HTTP/1.1\r\nHost: {}\r\nContent-Length: {}\r\n\r\n{body}",
        t.addr(),
        body.len()
    );
    let (status, text) = raw(&t.addr(), req.as_bytes()).await;
    assert_eq!(status, 400);
    assert_eq!(
        xml_value(&text, "Code").as_deref(),
        Some("MalformedACLError")
    );
    assert_eq!(
        xml_value(&text, "Message").as_deref(),
        Some("The XML you provided was not well-formed or did not validate against our published schema")
    );

    // Nothing of the above changed the ACL.
    assert_eq!(
        object_grants(c, &b, "k").await,
        [g("FULL_CONTROL", "CanonicalUser", &id)]
    );

    // Unknown keys and buckets.
    let e = c
        .get_object_acl()
        .bucket(&b)
        .key("missing")
        .send()
        .await
        .expect_err("no key");
    assert_eq!(error_parts(&e), ("NoSuchKey".to_string(), 404));
    let e = c
        .put_object_acl()
        .bucket(&b)
        .key("missing")
        .acl(ObjectCannedAcl::Private)
        .send()
        .await
        .expect_err("no key");
    assert_eq!(error_parts(&e), ("NoSuchKey".to_string(), 404));
    let nb = bucket_name("nobucket");
    let e = c
        .get_bucket_acl()
        .bucket(&nb)
        .send()
        .await
        .expect_err("no bucket");
    assert_eq!(error_parts(&e), ("NoSuchBucket".to_string(), 404));
    let e = c
        .put_bucket_acl()
        .bucket(&nb)
        .acl(BucketCannedAcl::Private)
        .send()
        .await
        .expect_err("no bucket");
    assert_eq!(error_parts(&e), ("NoSuchBucket".to_string(), 404));
    let e = c
        .get_object_acl()
        .bucket(&nb)
        .key("k")
        .send()
        .await
        .expect_err("no bucket");
    assert_eq!(error_parts(&e), ("NoSuchBucket".to_string(), 404));
}

#[tokio::test]
async fn acls_of_new_objects_and_versions() {
    let t = Twin::start().await;
    let c = &t.client;
    let b = acl_bucket(c, "aclnew", ObjectOwnership::ObjectWriter).await;
    let id = owner_id(c, &b).await;
    let owner = g("FULL_CONTROL", "CanonicalUser", &id);

    // PutObject keeps the ACL it asks for.
    c.put_object()
        .bucket(&b)
        .key("pub")
        .acl(ObjectCannedAcl::PublicRead)
        .body(b"x".to_vec().into())
        .send()
        .await
        .expect("put public-read");
    assert_eq!(
        object_grants(c, &b, "pub").await,
        sorted(vec![owner.clone(), g("READ", "Group", ALL_USERS)])
    );
    c.put_object()
        .bucket(&b)
        .key("granted")
        .grant_read(format!("uri=\"{AUTHENTICATED_USERS}\""))
        .body(b"x".to_vec().into())
        .send()
        .await
        .expect("put with grant");
    assert_eq!(
        object_grants(c, &b, "granted").await,
        [g("READ", "Group", AUTHENTICATED_USERS)]
    );

    // A copy does not take its source's ACL: private, or what the copy asks for.
    c.copy_object()
        .bucket(&b)
        .key("copy")
        .copy_source(format!("{b}/pub"))
        .send()
        .await
        .expect("copy");
    assert_eq!(
        object_grants(c, &b, "copy").await,
        std::slice::from_ref(&owner)
    );
    c.copy_object()
        .bucket(&b)
        .key("copy2")
        .copy_source(format!("{b}/pub"))
        .acl(ObjectCannedAcl::AuthenticatedRead)
        .send()
        .await
        .expect("copy with acl");
    assert_eq!(
        object_grants(c, &b, "copy2").await,
        sorted(vec![owner.clone(), g("READ", "Group", AUTHENTICATED_USERS)])
    );

    // The object a multipart upload makes takes the upload's ACL.
    let up = c
        .create_multipart_upload()
        .bucket(&b)
        .key("mpu")
        .acl(ObjectCannedAcl::PublicReadWrite)
        .send()
        .await
        .expect("create upload");
    let id_up = up.upload_id().expect("upload id");
    let part = c
        .upload_part()
        .bucket(&b)
        .key("mpu")
        .upload_id(id_up)
        .part_number(1)
        .body(b"part".to_vec().into())
        .send()
        .await
        .expect("part");
    c.complete_multipart_upload()
        .bucket(&b)
        .key("mpu")
        .upload_id(id_up)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .parts(
                    CompletedPart::builder()
                        .part_number(1)
                        .e_tag(part.e_tag().expect("etag"))
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .expect("complete");
    assert_eq!(
        object_grants(c, &b, "mpu").await,
        sorted(vec![
            owner.clone(),
            g("READ", "Group", ALL_USERS),
            g("WRITE", "Group", ALL_USERS),
        ])
    );

    // Each version has its own ACL; versionId addresses one.
    set_versioning(c, &b, BucketVersioningStatus::Enabled).await;
    let v1 = c
        .put_object()
        .bucket(&b)
        .key("v")
        .body(b"1".to_vec().into())
        .send()
        .await
        .expect("v1")
        .version_id()
        .expect("v1 id")
        .to_string();
    c.put_object()
        .bucket(&b)
        .key("v")
        .body(b"2".to_vec().into())
        .send()
        .await
        .expect("v2");
    c.put_object_acl()
        .bucket(&b)
        .key("v")
        .version_id(&v1)
        .acl(ObjectCannedAcl::PublicRead)
        .send()
        .await
        .expect("acl of v1");
    let v1_grants = c
        .get_object_acl()
        .bucket(&b)
        .key("v")
        .version_id(&v1)
        .send()
        .await
        .expect("get v1 acl");
    assert_eq!(
        summary(v1_grants.grants()),
        sorted(vec![owner.clone(), g("READ", "Group", ALL_USERS)])
    );
    assert_eq!(
        object_grants(c, &b, "v").await,
        std::slice::from_ref(&owner)
    );

    // A delete marker has no ACL: AWS answers 405 (ResourceType DeleteMarker), whether the
    // marker is addressed by id or is just the current version.
    let marker = c
        .delete_object()
        .bucket(&b)
        .key("v")
        .send()
        .await
        .expect("delete")
        .version_id()
        .expect("marker id")
        .to_string();
    let e = c
        .get_object_acl()
        .bucket(&b)
        .key("v")
        .send()
        .await
        .expect_err("current is a delete marker");
    assert_eq!(error_parts(&e), ("MethodNotAllowed".to_string(), 405));
    let e = c
        .get_object_acl()
        .bucket(&b)
        .key("v")
        .version_id(&marker)
        .send()
        .await
        .expect_err("the delete marker by id");
    assert_eq!(error_parts(&e).1, 405);
    let e = c
        .get_object_acl()
        .bucket(&b)
        .key("pub")
        .version_id(&v1)
        .send()
        .await
        .expect_err("a version of another key");
    assert_eq!(error_parts(&e), ("NoSuchVersion".to_string(), 404));
}

/// Email grantees: AWS stopped accepting them on October 1, 2025 ("the request will receive
/// an HTTP 405 (Method Not Allowed) error", in the regions that had them). Grant headers,
/// `AccessControlPolicy` documents and ACL headers on writes are all refused, and nothing
/// is stored.
#[tokio::test]
async fn email_grantees_are_refused_with_405() {
    let t = Twin::start().await;
    let c = &t.client;
    let b = acl_bucket(c, "acl-email", ObjectOwnership::ObjectWriter).await;
    put(c, &b, "k", b"v").await;
    let before = object_grants(c, &b, "k").await;
    let err = c
        .put_object_acl()
        .bucket(&b)
        .key("k")
        .grant_read("emailAddress=\"someone@example.com\"")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_parts(&err), ("MethodNotAllowed".to_string(), 405));
    let email_grant = Grant::builder()
        .grantee(
            Grantee::builder()
                .r#type(Type::AmazonCustomerByEmail)
                .email_address("someone@example.com")
                .build()
                .unwrap(),
        )
        .permission(Permission::Read)
        .build();
    let owner = owner_id(c, &b).await;
    let err = c
        .put_bucket_acl()
        .bucket(&b)
        .access_control_policy(policy(&owner, vec![email_grant]))
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_parts(&err), ("MethodNotAllowed".to_string(), 405));
    let err = c
        .put_object()
        .bucket(&b)
        .key("new")
        .grant_full_control("emailAddress=\"someone@example.com\"")
        .body(b"x".to_vec().into())
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_parts(&err), ("MethodNotAllowed".to_string(), 405));
    assert_eq!(object_grants(c, &b, "k").await, before);
    assert!(c.head_object().bucket(&b).key("new").send().await.is_err());

    // The whole envelope, as raw HTTP shows it.
    let req = format!(
        "PUT /{b}/k?acl HTTP/1.1\r\nHost: {}\r\nx-amz-grant-read: emailAddress=\"a@example.com\"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        t.addr()
    );
    let (status, text) = raw(&t.addr(), req.as_bytes()).await;
    assert_eq!(status, 405, "{text}");
    assert_eq!(
        xml_value(&text, "Message").as_deref(),
        Some("The specified method is not allowed against this resource.")
    );
    assert_eq!(xml_value(&text, "Method").as_deref(), Some("PUT"));
    assert_eq!(xml_value(&text, "ResourceType").as_deref(), Some("OBJECT"));
}
