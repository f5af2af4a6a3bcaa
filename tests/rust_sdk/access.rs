//! Authorization in enforce mode (issue 13): bucket policies (the AWS documentation's
//! examples), ACLs, Block Public Access and GetBucketPolicyStatus, for identities of two
//! accounts and anonymous requests.

use crate::common::*;
use aws_sdk_s3::types::{
    ObjectCannedAcl, ObjectOwnership, OwnershipControls, OwnershipControlsRule,
    ServerSideEncryption,
};
use aws_sdk_s3::Client;

/// An enforcing run with the owner (parlel, the server's account) and alice of account
/// 111122223333; (run, owner client, alice client).
async fn two_accounts(t: &Twin, tag: &str) -> (String, Client, Client) {
    let run = enforcing_run(t, tag).await;
    let (s, body) = admin(
        t,
        "POST",
        &format!("/_s3twin/users?runId={run}"),
        Some(serde_json::json!({ "accessKeyId": "AKALICE", "secretAccessKey": "alice-secret", "name": "alice", "accountId": "111122223333" })),
    )
    .await;
    assert_eq!(s, 201, "{body}");
    let owner = keyed_client(t, &run, "parlel", "parlel");
    let alice = keyed_client(t, &run, "AKALICE", "alice-secret");
    (run, owner, alice)
}

/// An unsigned request: (status, response text).
async fn anonymous(t: &Twin, method: &str, path: &str) -> (u16, String) {
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        t.addr()
    );
    raw(&t.addr(), req.as_bytes()).await
}

async fn set_policy(c: &Client, bucket: &str, policy: serde_json::Value) {
    c.put_bucket_policy()
        .bucket(bucket)
        .policy(policy.to_string())
        .send()
        .await
        .expect("put policy");
}

async fn denied_code<T, E: aws_sdk_s3::error::ProvideErrorMetadata + std::fmt::Debug>(
    r: Result<T, aws_sdk_s3::error::SdkError<E, aws_smithy_runtime_api::http::Response>>,
) -> (String, u16) {
    match r {
        Ok(_) => ("ok".to_string(), 200),
        Err(e) => error_parts(&e),
    }
}

fn denied() -> (String, u16) {
    ("AccessDenied".to_string(), 403)
}

#[tokio::test]
async fn anonymous_and_other_accounts_are_denied_by_default() {
    let t = Twin::start().await;
    let (run, owner, alice) = two_accounts(&t, "acc-default").await;
    let b = new_bucket(&owner, "private").await;
    put(&owner, &b, "k", b"secret").await;
    let (status, text) = anonymous(&t, "GET", &format!("/t/{run}/{b}/k")).await;
    assert_eq!(status, 403, "{text}");
    assert_eq!(xml_value(&text, "Code").as_deref(), Some("AccessDenied"));
    assert_eq!(
        xml_value(&text, "Message").as_deref(),
        Some("Access Denied")
    );
    // A HEAD gets the bare 403.
    let (status, text) = anonymous(&t, "HEAD", &format!("/t/{run}/{b}/k")).await;
    assert_eq!(status, 403);
    assert!(!text.contains("<Error>"));
    assert_eq!(anonymous(&t, "GET", &format!("/t/{run}/")).await.0, 403);
    assert_eq!(
        denied_code(alice.get_object().bucket(&b).key("k").send().await).await,
        denied()
    );
    assert_eq!(
        denied_code(alice.list_objects_v2().bucket(&b).send().await).await,
        denied()
    );
    assert_eq!(
        denied_code(
            alice
                .put_object()
                .bucket(&b)
                .key("x")
                .body(b"x".to_vec().into())
                .send()
                .await
        )
        .await,
        denied()
    );
    // Another account cannot take the name.
    let err = alice.create_bucket().bucket(&b).send().await.unwrap_err();
    assert_eq!(error_parts(&err), ("BucketAlreadyExists".to_string(), 409));
    // The owner's other key pair (same account) has access.
    let test = keyed_client(&t, &run, "test", "test");
    assert_eq!(get_bytes(&test, &b, "k").await, b"secret");
    // Alice's own bucket is hers: the owner of the server's account has no access to it.
    let hers = new_bucket(&alice, "hers").await;
    put(&alice, &hers, "a", b"alice").await;
    assert_eq!(
        denied_code(owner.get_object().bucket(&hers).key("a").send().await).await,
        denied()
    );
    let acl = alice
        .get_bucket_acl()
        .bucket(&hers)
        .send()
        .await
        .expect("acl");
    let (_, alice_user) = admin(&t, "GET", &format!("/_s3twin/users?runId={run}"), None).await;
    let alice_id = alice_user["users"]
        .as_array()
        .and_then(|u| u.iter().find(|u| u["accessKeyId"] == "AKALICE"))
        .map(|u| u["canonicalId"].as_str().unwrap_or("").to_string())
        .unwrap_or_default();
    assert_eq!(acl.owner().and_then(|o| o.id()), Some(alice_id.as_str()));
    // x-amz-expected-bucket-owner names the bucket's own account.
    alice
        .head_bucket()
        .bucket(&hers)
        .expected_bucket_owner("111122223333")
        .send()
        .await
        .expect("alice's account owns it");
    let err = alice
        .head_bucket()
        .bucket(&hers)
        .expected_bucket_owner("000000000000")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_parts(&err).1, 403);
    // Each account lists its own buckets, under its own canonical id.
    let listed = alice.list_buckets().send().await.expect("alice lists");
    let names: Vec<_> = listed.buckets().iter().filter_map(|b| b.name()).collect();
    assert_eq!(names, [hers.as_str()]);
    assert_eq!(listed.owner().and_then(|o| o.id()), Some(alice_id.as_str()));
    let listed = owner.list_buckets().send().await.expect("owner lists");
    assert!(listed
        .buckets()
        .iter()
        .all(|x| x.name() != Some(hers.as_str())));
    assert!(listed
        .buckets()
        .iter()
        .any(|x| x.name() == Some(b.as_str())));
}

#[tokio::test]
async fn public_read_policy_and_block_public_access() {
    let t = Twin::start().await;
    let (run, owner, _alice) = two_accounts(&t, "acc-public").await;
    let b = new_bucket(&owner, "pub").await;
    put(&owner, &b, "k", b"public").await;
    let public = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{ "Sid": "PublicRead", "Effect": "Allow", "Principal": "*",
            "Action": ["s3:GetObject", "s3:GetObjectVersion"], "Resource": [format!("arn:aws:s3:::{b}/*")] }]
    });
    // New buckets block public policies (BlockPublicPolicy), as on AWS.
    let err = owner
        .put_bucket_policy()
        .bucket(&b)
        .policy(public.to_string())
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_parts(&err), denied());
    owner
        .delete_public_access_block()
        .bucket(&b)
        .send()
        .await
        .expect("delete bpa");
    set_policy(&owner, &b, public).await;
    let (status, text) = anonymous(&t, "GET", &format!("/t/{run}/{b}/k")).await;
    assert_eq!(status, 200, "{text}");
    assert!(text.ends_with("public"));
    // Reading is public, listing is not.
    assert_eq!(
        anonymous(&t, "GET", &format!("/t/{run}/{b}?list-type=2"))
            .await
            .0,
        403
    );
    // A missing key is 403 to who may not list the bucket (GetObject's rule), 404 to the owner.
    let (status, text) = anonymous(&t, "GET", &format!("/t/{run}/{b}/absent")).await;
    assert_eq!(status, 403, "{text}");
    assert!(text.contains("<Code>AccessDenied</Code>"), "{text}");
    let err = owner
        .get_object()
        .bucket(&b)
        .key("absent")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_parts(&err), ("NoSuchKey".to_string(), 404));
    let status = owner
        .get_bucket_policy_status()
        .bucket(&b)
        .send()
        .await
        .expect("status");
    assert_eq!(
        status.policy_status().and_then(|s| s.is_public()),
        Some(true)
    );
    // RestrictPublicBuckets: the public policy lets in only the owner's account.
    owner
        .put_public_access_block()
        .bucket(&b)
        .public_access_block_configuration(
            aws_sdk_s3::types::PublicAccessBlockConfiguration::builder()
                .restrict_public_buckets(true)
                .build(),
        )
        .send()
        .await
        .expect("put bpa");
    assert_eq!(
        anonymous(&t, "GET", &format!("/t/{run}/{b}/k")).await.0,
        403
    );
    // A policy limited to an account is not public.
    let other = new_bucket(&owner, "notpub").await;
    set_policy(
        &owner,
        &other,
        serde_json::json!({ "Statement": [{ "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
            "Action": "s3:GetObject", "Resource": format!("arn:aws:s3:::{other}/*") }] }),
    )
    .await;
    let status = owner
        .get_bucket_policy_status()
        .bucket(&other)
        .send()
        .await
        .expect("status");
    assert_eq!(
        status.policy_status().and_then(|s| s.is_public()),
        Some(false)
    );
    let err = owner
        .get_bucket_policy_status()
        .bucket(&b)
        .bucket(new_bucket(&owner, "nopol").await)
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_parts(&err), ("NoSuchBucketPolicy".to_string(), 404));
}

#[tokio::test]
async fn cross_account_grant_and_explicit_deny() {
    let t = Twin::start().await;
    let (_run, owner, alice) = two_accounts(&t, "acc-cross").await;
    let b = new_bucket(&owner, "cross").await;
    put(&owner, &b, "shared/a", b"a").await;
    put(&owner, &b, "private/b", b"b").await;
    set_policy(
        &owner,
        &b,
        serde_json::json!({ "Version": "2012-10-17", "Statement": [
            { "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:user/alice"},
              "Action": ["s3:GetObject", "s3:ListBucket"],
              "Resource": [format!("arn:aws:s3:::{b}"), format!("arn:aws:s3:::{b}/*")] },
            { "Effect": "Deny", "Principal": "*", "Action": "s3:GetObject",
              "Resource": format!("arn:aws:s3:::{b}/private/*") }
        ]}),
    )
    .await;
    assert_eq!(get_bytes(&alice, &b, "shared/a").await, b"a");
    alice
        .list_objects_v2()
        .bucket(&b)
        .send()
        .await
        .expect("alice lists");
    assert_eq!(
        denied_code(alice.get_object().bucket(&b).key("private/b").send().await).await,
        denied()
    );
    // An explicit Deny wins over the owner's own rights.
    assert_eq!(
        denied_code(owner.get_object().bucket(&b).key("private/b").send().await).await,
        denied()
    );
    // DeleteObjects is judged key by key (s3:DeleteObject).
    set_policy(
        &owner,
        &b,
        serde_json::json!({ "Statement": [{ "Effect": "Deny", "Principal": "*", "Action": "s3:DeleteObject",
            "Resource": format!("arn:aws:s3:::{b}/private/*") }] }),
    )
    .await;
    let ids = |k: &str| {
        aws_sdk_s3::types::ObjectIdentifier::builder()
            .key(k)
            .build()
            .unwrap()
    };
    let out = owner
        .delete_objects()
        .bucket(&b)
        .delete(
            aws_sdk_s3::types::Delete::builder()
                .objects(ids("private/b"))
                .objects(ids("shared/a"))
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("delete objects");
    assert_eq!(
        out.deleted()
            .iter()
            .filter_map(|d| d.key())
            .collect::<Vec<_>>(),
        ["shared/a"]
    );
    let errors: Vec<_> = out
        .errors()
        .iter()
        .map(|e| (e.key().unwrap_or(""), e.code().unwrap_or("")))
        .collect();
    assert_eq!(errors, [("private/b", "AccessDenied")]);
    set_policy(
        &owner,
        &b,
        serde_json::json!({ "Statement": [{ "Effect": "Allow", "Principal": {"AWS": "111122223333"}, "Action": "s3:GetObject",
            "Resource": format!("arn:aws:s3:::{b}/*") }] }),
    )
    .await;
    // A copy needs read access to its source.
    let hers = new_bucket(&alice, "copyto").await;
    put(&owner, &b, "shared/a", b"a").await;
    let closed = new_bucket(&owner, "closed").await;
    put(&owner, &closed, "k", b"k").await;
    let copy = |source: String| {
        alice
            .copy_object()
            .bucket(&hers)
            .key("copied")
            .copy_source(source)
            .send()
    };
    copy(format!("{b}/shared/a"))
        .await
        .expect("readable source");
    assert_eq!(
        denied_code(copy(format!("{closed}/k")).await).await,
        denied()
    );
    // Not granted: writing.
    assert_eq!(
        denied_code(
            alice
                .put_object()
                .bucket(&b)
                .key("shared/c")
                .body(b"c".to_vec().into())
                .send()
                .await
        )
        .await,
        denied()
    );
}

/// `aws:SourceIp` is the client's address as the listener accepted it: a policy that lets
/// anonymous reads in from 127.0.0.2 only serves a client connecting from there, not one
/// from 127.0.0.1, and a Deny of 127.0.0.2 refuses it.
#[tokio::test]
async fn source_ip_is_the_client_address() {
    let t = Twin::start().await;
    let (run, owner, _) = two_accounts(&t, "acc-srcip").await;
    let b = new_bucket(&owner, "srcip").await;
    put(&owner, &b, "k", b"from-2").await;
    owner
        .delete_public_access_block()
        .bucket(&b)
        .send()
        .await
        .expect("delete bpa");
    set_policy(
        &owner,
        &b,
        serde_json::json!({ "Statement": [{ "Effect": "Allow", "Principal": "*",
        "Action": "s3:GetObject", "Resource": format!("arn:aws:s3:::{b}/*"),
        "Condition": {"IpAddress": {"aws:SourceIp": "127.0.0.2/32"}} }] }),
    )
    .await;
    let get = format!(
        "GET /t/{run}/{b}/k HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
        t.addr()
    );
    let (status, text) = raw_from([127, 0, 0, 2], &t.addr(), get.as_bytes()).await;
    assert_eq!(status, 200, "{text}");
    assert!(text.ends_with("from-2"), "{text}");
    let (status, text) = raw_from([127, 0, 0, 1], &t.addr(), get.as_bytes()).await;
    assert_eq!(status, 403, "{text}");
    assert_eq!(xml_value(&text, "Code").as_deref(), Some("AccessDenied"));

    // Everyone may read, but an explicit Deny of 127.0.0.2 wins there.
    set_policy(&owner, &b, serde_json::json!({ "Statement": [
        { "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": format!("arn:aws:s3:::{b}/*") },
        { "Effect": "Deny", "Principal": "*", "Action": "s3:GetObject", "Resource": format!("arn:aws:s3:::{b}/*"),
          "Condition": {"IpAddress": {"aws:SourceIp": ["127.0.0.2/32"]}} }] })).await;
    let (status, text) = raw_from([127, 0, 0, 1], &t.addr(), get.as_bytes()).await;
    assert_eq!(status, 200, "{text}");
    let (status, text) = raw_from([127, 0, 0, 2], &t.addr(), get.as_bytes()).await;
    assert_eq!(status, 403, "{text}");
}

#[tokio::test]
async fn documented_condition_examples() {
    let t = Twin::start().await;
    let (run, owner, alice) = two_accounts(&t, "acc-cond").await;
    // Deny requests not over TLS (aws:SecureTransport): this server speaks plain HTTP.
    let tls = new_bucket(&owner, "tls").await;
    put(&owner, &tls, "k", b"v").await;
    set_policy(&owner, &tls, serde_json::json!({ "Statement": [{ "Sid": "AllowSSLRequestsOnly", "Effect": "Deny",
        "Principal": "*", "Action": "s3:*", "Resource": [format!("arn:aws:s3:::{tls}"), format!("arn:aws:s3:::{tls}/*")],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}} }] })).await;
    assert_eq!(
        denied_code(owner.get_object().bucket(&tls).key("k").send().await).await,
        denied()
    );

    // IP restriction: requests from outside 192.0.2.0/24 are denied (we come from 127.0.0.1).
    let ip = new_bucket(&owner, "ip").await;
    put(&owner, &ip, "k", b"v").await;
    set_policy(
        &owner,
        &ip,
        serde_json::json!({ "Statement": [{ "Effect": "Deny", "Principal": "*", "Action": "s3:*",
        "Resource": [format!("arn:aws:s3:::{ip}/*")],
        "Condition": {"NotIpAddress": {"aws:SourceIp": "192.0.2.0/24"}} }] }),
    )
    .await;
    assert_eq!(
        denied_code(owner.get_object().bucket(&ip).key("k").send().await).await,
        denied()
    );
    set_policy(
        &owner,
        &ip,
        serde_json::json!({ "Statement": [{ "Effect": "Deny", "Principal": "*", "Action": "s3:*",
        "Resource": [format!("arn:aws:s3:::{ip}/*")],
        "Condition": {"NotIpAddress": {"aws:SourceIp": ["127.0.0.0/8", "::1/128"]}} }] }),
    )
    .await;
    assert_eq!(get_bytes(&owner, &ip, "k").await, b"v");

    // Require SSE on uploads.
    let sse = new_bucket(&owner, "sse").await;
    set_policy(&owner, &sse, serde_json::json!({ "Statement": [{ "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject",
        "Resource": format!("arn:aws:s3:::{sse}/*"),
        "Condition": {"Null": {"s3:x-amz-server-side-encryption": "true"}} }] })).await;
    assert_eq!(
        denied_code(
            owner
                .put_object()
                .bucket(&sse)
                .key("plain")
                .body(b"x".to_vec().into())
                .send()
                .await
        )
        .await,
        denied()
    );
    owner
        .put_object()
        .bucket(&sse)
        .key("enc")
        .server_side_encryption(ServerSideEncryption::Aes256)
        .body(b"x".to_vec().into())
        .send()
        .await
        .expect("encrypted put allowed");

    // Require a tag on uploads, and read only objects tagged public (anonymous).
    let tag = new_bucket(&owner, "tag").await;
    owner
        .delete_public_access_block()
        .bucket(&tag)
        .send()
        .await
        .expect("bpa");
    set_policy(&owner, &tag, serde_json::json!({ "Statement": [
        { "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject", "Resource": format!("arn:aws:s3:::{tag}/*"),
          "Condition": {"StringNotEquals": {"s3:RequestObjectTag/classification": ["public", "internal"]}} },
        { "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": format!("arn:aws:s3:::{tag}/*"),
          "Condition": {"StringEquals": {"s3:ExistingObjectTag/classification": "public"}} }
    ] })).await;
    assert_eq!(
        denied_code(
            owner
                .put_object()
                .bucket(&tag)
                .key("untagged")
                .body(b"x".to_vec().into())
                .send()
                .await
        )
        .await,
        denied()
    );
    owner
        .put_object()
        .bucket(&tag)
        .key("pub")
        .tagging("classification=public")
        .body(b"p".to_vec().into())
        .send()
        .await
        .expect("tagged put");
    owner
        .put_object()
        .bucket(&tag)
        .key("int")
        .tagging("classification=internal")
        .body(b"i".to_vec().into())
        .send()
        .await
        .expect("tagged put");
    assert_eq!(
        anonymous(&t, "GET", &format!("/t/{run}/{tag}/pub")).await.0,
        200
    );
    assert_eq!(
        anonymous(&t, "GET", &format!("/t/{run}/{tag}/int")).await.0,
        403
    );

    // A home prefix per user (policy variables, s3:prefix).
    let home = new_bucket(&owner, "home").await;
    put(&owner, &home, "home/alice/notes", b"mine").await;
    put(&owner, &home, "home/bob/notes", b"bob's").await;
    set_policy(&owner, &home, serde_json::json!({ "Version": "2012-10-17", "Statement": [
        { "Effect": "Allow", "Principal": {"AWS": "111122223333"}, "Action": "s3:ListBucket", "Resource": format!("arn:aws:s3:::{home}"),
          "Condition": {"StringLike": {"s3:prefix": ["home/${aws:username}/*"]}} },
        { "Effect": "Allow", "Principal": {"AWS": "111122223333"}, "Action": ["s3:GetObject", "s3:PutObject"],
          "Resource": format!("arn:aws:s3:::{home}/home/${{aws:username}}/*") }
    ] })).await;
    assert_eq!(get_bytes(&alice, &home, "home/alice/notes").await, b"mine");
    put(&alice, &home, "home/alice/new", b"n").await;
    assert_eq!(
        denied_code(
            alice
                .get_object()
                .bucket(&home)
                .key("home/bob/notes")
                .send()
                .await
        )
        .await,
        denied()
    );
    alice
        .list_objects_v2()
        .bucket(&home)
        .prefix("home/alice/")
        .send()
        .await
        .expect("own prefix");
    assert_eq!(
        denied_code(
            alice
                .list_objects_v2()
                .bucket(&home)
                .prefix("home/bob/")
                .send()
                .await
        )
        .await,
        denied()
    );
    assert_eq!(
        denied_code(alice.list_objects_v2().bucket(&home).send().await).await,
        denied()
    );
}

#[tokio::test]
async fn acls_apply_when_ownership_allows_them() {
    let t = Twin::start().await;
    let (run, owner, alice) = two_accounts(&t, "acc-acl").await;
    let b = new_bucket(&owner, "acl").await;
    // BucketOwnerEnforced (the default): ACLs are refused.
    let err = owner
        .put_object()
        .bucket(&b)
        .key("k")
        .acl(ObjectCannedAcl::PublicRead)
        .body(b"x".to_vec().into())
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_parts(&err).0, "AccessControlListNotSupported");
    owner
        .put_bucket_ownership_controls()
        .bucket(&b)
        .ownership_controls(
            OwnershipControls::builder()
                .rules(
                    OwnershipControlsRule::builder()
                        .object_ownership(ObjectOwnership::ObjectWriter)
                        .build()
                        .unwrap(),
                )
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("ownership");
    // BlockPublicAcls (on by default) refuses a public ACL.
    let err = owner
        .put_object()
        .bucket(&b)
        .key("k")
        .acl(ObjectCannedAcl::PublicRead)
        .body(b"x".to_vec().into())
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_parts(&err), denied());
    owner
        .delete_public_access_block()
        .bucket(&b)
        .send()
        .await
        .expect("bpa");
    owner
        .put_object()
        .bucket(&b)
        .key("pub")
        .acl(ObjectCannedAcl::PublicRead)
        .body(b"public".to_vec().into())
        .send()
        .await
        .expect("public-read put");
    owner
        .put_object()
        .bucket(&b)
        .key("authn")
        .acl(ObjectCannedAcl::AuthenticatedRead)
        .body(b"authn".to_vec().into())
        .send()
        .await
        .expect("authenticated-read put");
    put(&owner, &b, "priv", b"p").await;
    assert_eq!(
        anonymous(&t, "GET", &format!("/t/{run}/{b}/pub")).await.0,
        200
    );
    assert_eq!(
        anonymous(&t, "GET", &format!("/t/{run}/{b}/authn")).await.0,
        403
    );
    assert_eq!(get_bytes(&alice, &b, "authn").await, b"authn");
    assert_eq!(
        denied_code(alice.get_object().bucket(&b).key("priv").send().await).await,
        denied()
    );
    // IgnorePublicAcls: the public grants stop counting.
    owner
        .put_public_access_block()
        .bucket(&b)
        .public_access_block_configuration(
            aws_sdk_s3::types::PublicAccessBlockConfiguration::builder()
                .ignore_public_acls(true)
                .build(),
        )
        .send()
        .await
        .expect("bpa");
    assert_eq!(
        anonymous(&t, "GET", &format!("/t/{run}/{b}/pub")).await.0,
        403
    );
}

/// BlockPublicAcls refuses a public grant given in an `AccessControlPolicy` document
/// (PutBucketAcl, PutObjectAcl) as it refuses canned ACLs and grant headers; once the block
/// is lifted the same documents are stored and let anonymous readers in.
#[tokio::test]
async fn block_public_acls_refuses_public_grants_in_a_document() {
    use aws_sdk_s3::types::{AccessControlPolicy, Grant, Grantee, Owner, Permission, Type};
    let t = Twin::start().await;
    let (run, owner, _) = two_accounts(&t, "acc-bpadoc").await;
    let b = new_bucket(&owner, "bpadoc").await;
    owner
        .put_bucket_ownership_controls()
        .bucket(&b)
        .ownership_controls(
            OwnershipControls::builder()
                .rules(
                    OwnershipControlsRule::builder()
                        .object_ownership(ObjectOwnership::BucketOwnerPreferred)
                        .build()
                        .unwrap(),
                )
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("ownership");
    put(&owner, &b, "k", b"doc").await;
    let owner_id = owner
        .get_bucket_acl()
        .bucket(&b)
        .send()
        .await
        .expect("acl")
        .owner()
        .and_then(|o| o.id())
        .expect("owner id")
        .to_string();
    let document = |group: &str| {
        AccessControlPolicy::builder()
            .owner(Owner::builder().id(&owner_id).build())
            .grants(
                Grant::builder()
                    .grantee(
                        Grantee::builder()
                            .r#type(Type::CanonicalUser)
                            .id(&owner_id)
                            .build()
                            .unwrap(),
                    )
                    .permission(Permission::FullControl)
                    .build(),
            )
            .grants(
                Grant::builder()
                    .grantee(
                        Grantee::builder()
                            .r#type(Type::Group)
                            .uri(format!("http://acs.amazonaws.com/groups/{group}"))
                            .build()
                            .unwrap(),
                    )
                    .permission(Permission::Read)
                    .build(),
            )
            .build()
    };
    for group in ["global/AllUsers", "global/AuthenticatedUsers"] {
        assert_eq!(
            denied_code(
                owner
                    .put_bucket_acl()
                    .bucket(&b)
                    .access_control_policy(document(group))
                    .send()
                    .await
            )
            .await,
            denied(),
            "{group}"
        );
        assert_eq!(
            denied_code(
                owner
                    .put_object_acl()
                    .bucket(&b)
                    .key("k")
                    .access_control_policy(document(group))
                    .send()
                    .await
            )
            .await,
            denied(),
            "{group}"
        );
    }
    // Not a public grant: LogDelivery.
    owner
        .put_bucket_acl()
        .bucket(&b)
        .access_control_policy(document("s3/LogDelivery"))
        .send()
        .await
        .expect("log delivery grant");
    assert_eq!(
        anonymous(&t, "GET", &format!("/t/{run}/{b}/k")).await.0,
        403
    );
    owner
        .delete_public_access_block()
        .bucket(&b)
        .send()
        .await
        .expect("bpa");
    owner
        .put_object_acl()
        .bucket(&b)
        .key("k")
        .access_control_policy(document("global/AllUsers"))
        .send()
        .await
        .expect("public grant without the block");
    assert_eq!(
        anonymous(&t, "GET", &format!("/t/{run}/{b}/k")).await.0,
        200
    );
}

async fn set_ownership(c: &Client, bucket: &str, ownership: ObjectOwnership) {
    c.put_bucket_ownership_controls()
        .bucket(bucket)
        .ownership_controls(
            OwnershipControls::builder()
                .rules(
                    OwnershipControlsRule::builder()
                        .object_ownership(ownership)
                        .build()
                        .unwrap(),
                )
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("ownership");
}

/// Object Ownership with ACLs enabled: an object another account writes under ObjectWriter
/// is that account's (GetObjectAcl, ListObjects V1 and V2 with FetchOwner,
/// ListObjectVersions show its canonical id) and the bucket owner reads it only when granted;
/// BucketOwnerPreferred gives it to the bucket owner with `bucket-owner-full-control`;
/// BucketOwnerEnforced makes the bucket owner the owner of everything.
#[tokio::test]
async fn object_writer_owns_what_it_writes() {
    use aws_sdk_s3::types::ObjectCannedAcl as Canned;
    let t = Twin::start().await;
    let (_run, owner, alice) = two_accounts(&t, "acc-writer").await;
    let b = new_bucket(&owner, "writer").await;
    set_ownership(&owner, &b, ObjectOwnership::ObjectWriter).await;
    set_policy(
        &owner,
        &b,
        serde_json::json!({ "Statement": [{ "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": ["s3:PutObject", "s3:DeleteObject"],
        "Resource": format!("arn:aws:s3:::{b}/*") }] }),
    )
    .await;
    let id_of = |r: aws_sdk_s3::operation::list_buckets::ListBucketsOutput| {
        r.owner().and_then(|o| o.id()).expect("owner").to_string()
    };
    let owner_id = id_of(owner.list_buckets().send().await.expect("list"));
    let alice_id = id_of(alice.list_buckets().send().await.expect("list"));
    assert_ne!(owner_id, alice_id);
    let alice_put = |key: &'static str, acl: Option<Canned>| {
        let alice = alice.clone();
        let b = b.clone();
        async move {
            alice
                .put_object()
                .bucket(&b)
                .key(key)
                .set_acl(acl)
                .body(key.as_bytes().to_vec().into())
                .send()
                .await
                .expect("alice writes")
        }
    };
    alice_put("mine", None).await;
    alice_put("shared", Some(Canned::BucketOwnerFullControl)).await;
    put(&owner, &b, "own", b"own").await;

    let acl = alice
        .get_object_acl()
        .bucket(&b)
        .key("mine")
        .send()
        .await
        .expect("alice reads her ACL");
    assert_eq!(acl.owner().and_then(|o| o.id()), Some(alice_id.as_str()));
    // The bucket owner may not read it, nor its ACL; a granted one it may.
    assert_eq!(
        denied_code(owner.get_object().bucket(&b).key("mine").send().await).await,
        denied()
    );
    assert_eq!(
        denied_code(owner.get_object_acl().bucket(&b).key("mine").send().await).await,
        denied()
    );
    assert_eq!(get_bytes(&alice, &b, "mine").await, b"mine");
    assert_eq!(get_bytes(&owner, &b, "shared").await, b"shared");

    let owners = |keys: Vec<(String, String)>| keys;
    let v1 = owner.list_objects().bucket(&b).send().await.expect("v1");
    let v1 = owners(
        v1.contents()
            .iter()
            .map(|o| {
                (
                    o.key().unwrap_or("").to_string(),
                    o.owner().and_then(|w| w.id()).unwrap_or("").to_string(),
                )
            })
            .collect(),
    );
    let expected = vec![
        ("mine".to_string(), alice_id.clone()),
        ("own".to_string(), owner_id.clone()),
        ("shared".to_string(), alice_id.clone()),
    ];
    assert_eq!(v1, expected);
    let v2 = owner
        .list_objects_v2()
        .bucket(&b)
        .fetch_owner(true)
        .send()
        .await
        .expect("v2");
    let v2: Vec<(String, String)> = v2
        .contents()
        .iter()
        .map(|o| {
            (
                o.key().unwrap_or("").to_string(),
                o.owner().and_then(|w| w.id()).unwrap_or("").to_string(),
            )
        })
        .collect();
    assert_eq!(v2, expected);
    let versions = owner
        .list_object_versions()
        .bucket(&b)
        .send()
        .await
        .expect("versions");
    let versions: Vec<(String, String)> = versions
        .versions()
        .iter()
        .map(|o| {
            (
                o.key().unwrap_or("").to_string(),
                o.owner().and_then(|w| w.id()).unwrap_or("").to_string(),
            )
        })
        .collect();
    assert_eq!(versions, expected);

    // BucketOwnerPreferred: bucket-owner-full-control hands the object to the bucket owner.
    set_ownership(&owner, &b, ObjectOwnership::BucketOwnerPreferred).await;
    alice_put("preferred", Some(Canned::BucketOwnerFullControl)).await;
    alice_put("kept", None).await;
    let owner_of = |key: &'static str| {
        let owner = owner.clone();
        let b = b.clone();
        async move {
            owner
                .list_objects_v2()
                .bucket(&b)
                .prefix(key)
                .fetch_owner(true)
                .send()
                .await
                .expect("list")
                .contents()
                .first()
                .and_then(|o| o.owner())
                .and_then(|o| o.id())
                .map(str::to_string)
        }
    };
    assert_eq!(owner_of("preferred").await, Some(owner_id.clone()));
    assert_eq!(owner_of("kept").await, Some(alice_id.clone()));
    assert_eq!(get_bytes(&owner, &b, "preferred").await, b"preferred");
    // A delete marker is its deleter's.
    set_versioning(
        &owner,
        &b,
        aws_sdk_s3::types::BucketVersioningStatus::Enabled,
    )
    .await;
    alice
        .delete_object()
        .bucket(&b)
        .key("kept")
        .send()
        .await
        .expect("alice deletes");
    let listed = owner
        .list_object_versions()
        .bucket(&b)
        .prefix("kept")
        .send()
        .await
        .expect("versions");
    let marker = listed.delete_markers().first().expect("a delete marker");
    assert_eq!(marker.owner().and_then(|o| o.id()), Some(alice_id.as_str()));

    // BucketOwnerEnforced: the bucket owner owns (and reads) everything.
    set_ownership(&owner, &b, ObjectOwnership::BucketOwnerEnforced).await;
    alice_put("enforced", None).await;
    assert_eq!(owner_of("enforced").await, Some(owner_id.clone()));
    assert_eq!(owner_of("mine").await, Some(owner_id.clone()));
    assert_eq!(get_bytes(&owner, &b, "mine").await, b"mine");
    let acl = owner
        .get_object_acl()
        .bucket(&b)
        .key("mine")
        .send()
        .await
        .expect("acl");
    assert_eq!(acl.owner().and_then(|o| o.id()), Some(owner_id.as_str()));
}
