//! `GET /_s3twin/runs/{id}/export` and its import through `POST /_s3twin/runs`: a run filled
//! with the SDK, exported, imported under another id, and every answer the SDK gets compared
//! between the two runs.

use crate::common::*;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    AnalyticsConfiguration, BucketVersioningStatus, CompletedMultipartUpload, CorsConfiguration,
    CorsRule, IndexDocument, MetricsConfiguration, ObjectCannedAcl, ObjectOwnership,
    OwnershipControls, OwnershipControlsRule, StorageClassAnalysis, Tag, Tagging,
    WebsiteConfiguration,
};
use aws_sdk_s3::Client;
use serde_json::{json, Value};

/// Everything the SDK answers about one bucket, as comparable text (request ids left out).
async fn snapshot(c: &Client, bucket: &str) -> Vec<String> {
    let mut out = Vec::new();
    let versions = c
        .list_object_versions()
        .bucket(bucket)
        .send()
        .await
        .expect("list versions");
    for v in versions.versions() {
        out.push(format!(
            "version {:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?}",
            v.key(),
            v.version_id(),
            v.e_tag(),
            v.size(),
            v.last_modified(),
            v.is_latest(),
            v.storage_class(),
            v.checksum_algorithm()
        ));
        let (key, id) = (v.key().expect("key"), v.version_id().expect("id"));
        let head = c
            .head_object()
            .bucket(bucket)
            .key(key)
            .version_id(id)
            .part_number(1)
            .send()
            .await
            .expect("head");
        out.push(format!(
            "head {key} {id} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?}",
            head.e_tag(),
            head.parts_count(),
            head.content_type(),
            head.cache_control(),
            head.content_disposition(),
            head.content_encoding(),
            head.last_modified(),
            head.storage_class(),
            head.server_side_encryption(),
            head.metadata().map(|m| {
                let mut m: Vec<_> = m.iter().collect();
                m.sort();
                m
            }),
            head.tag_count()
        ));
        let got = c
            .get_object()
            .bucket(bucket)
            .key(key)
            .version_id(id)
            .checksum_mode(aws_sdk_s3::types::ChecksumMode::Enabled)
            .send()
            .await
            .expect("get");
        let crc = got.checksum_crc64_nvme().map(str::to_string);
        let bytes = got.body.collect().await.expect("body").into_bytes();
        out.push(format!(
            "body {key} {id} {} {} {crc:?}",
            bytes.len(),
            s3twin_md5(&bytes)
        ));
        let tags = c
            .get_object_tagging()
            .bucket(bucket)
            .key(key)
            .version_id(id)
            .send()
            .await
            .expect("tagging");
        out.push(format!("tags {key} {id} {:?}", tags.tag_set()));
        let acl = c
            .get_object_acl()
            .bucket(bucket)
            .key(key)
            .version_id(id)
            .send()
            .await
            .expect("object acl");
        out.push(format!(
            "acl {key} {id} {:?} {:?}",
            acl.owner(),
            acl.grants()
        ));
    }
    for m in versions.delete_markers() {
        out.push(format!(
            "marker {:?} {:?} {:?} {:?}",
            m.key(),
            m.version_id(),
            m.is_latest(),
            m.last_modified()
        ));
    }
    let v = c
        .get_bucket_versioning()
        .bucket(bucket)
        .send()
        .await
        .expect("versioning");
    out.push(format!("versioning {:?} {:?}", v.status(), v.mfa_delete()));
    let loc = c
        .get_bucket_location()
        .bucket(bucket)
        .send()
        .await
        .expect("location");
    out.push(format!("location {:?}", loc.location_constraint()));
    let list = c.list_buckets().send().await.expect("list buckets");
    let me = list
        .buckets()
        .iter()
        .find(|b| b.name() == Some(bucket))
        .expect("listed");
    out.push(format!("created {:?}", me.creation_date()));
    // Configurations: each answer, or the error code of its absence.
    macro_rules! conf {
        ($name:literal, $call:expr, $show:expr) => {
            out.push(match $call.bucket(bucket).send().await {
                Ok(o) => format!("{} {:?}", $name, $show(&o)),
                Err(e) => format!("{} error {:?}", $name, error_parts(&e)),
            })
        };
    }
    conf!(
        "cors",
        c.get_bucket_cors(),
        |o: &aws_sdk_s3::operation::get_bucket_cors::GetBucketCorsOutput| o.cors_rules().to_vec()
    );
    conf!(
        "tagging",
        c.get_bucket_tagging(),
        |o: &aws_sdk_s3::operation::get_bucket_tagging::GetBucketTaggingOutput| o
            .tag_set()
            .to_vec()
    );
    conf!("lifecycle", c.get_bucket_lifecycle_configuration(), |o: &aws_sdk_s3::operation::get_bucket_lifecycle_configuration::GetBucketLifecycleConfigurationOutput| o.rules().to_vec());
    conf!(
        "policy",
        c.get_bucket_policy(),
        |o: &aws_sdk_s3::operation::get_bucket_policy::GetBucketPolicyOutput| o
            .policy()
            .map(str::to_string)
    );
    conf!(
        "website",
        c.get_bucket_website(),
        |o: &aws_sdk_s3::operation::get_bucket_website::GetBucketWebsiteOutput| o
            .index_document()
            .cloned()
    );
    conf!(
        "encryption",
        c.get_bucket_encryption(),
        |o: &aws_sdk_s3::operation::get_bucket_encryption::GetBucketEncryptionOutput| o
            .server_side_encryption_configuration()
            .cloned()
    );
    conf!(
        "pab",
        c.get_public_access_block(),
        |o: &aws_sdk_s3::operation::get_public_access_block::GetPublicAccessBlockOutput| o
            .public_access_block_configuration()
            .cloned()
    );
    conf!("ownership", c.get_bucket_ownership_controls(), |o: &aws_sdk_s3::operation::get_bucket_ownership_controls::GetBucketOwnershipControlsOutput| o.ownership_controls().cloned());
    conf!(
        "acl",
        c.get_bucket_acl(),
        |o: &aws_sdk_s3::operation::get_bucket_acl::GetBucketAclOutput| (
            o.owner().cloned(),
            o.grants().to_vec()
        )
    );
    conf!("accelerate", c.get_bucket_accelerate_configuration(), |o: &aws_sdk_s3::operation::get_bucket_accelerate_configuration::GetBucketAccelerateConfigurationOutput| o.status().cloned());
    conf!(
        "payment",
        c.get_bucket_request_payment(),
        |o: &aws_sdk_s3::operation::get_bucket_request_payment::GetBucketRequestPaymentOutput| o
            .payer()
            .cloned()
    );
    conf!("metrics", c.list_bucket_metrics_configurations(), |o: &aws_sdk_s3::operation::list_bucket_metrics_configurations::ListBucketMetricsConfigurationsOutput| o.metrics_configuration_list().to_vec());
    conf!("analytics", c.list_bucket_analytics_configurations(), |o: &aws_sdk_s3::operation::list_bucket_analytics_configurations::ListBucketAnalyticsConfigurationsOutput| o.analytics_configuration_list().to_vec());
    out
}

fn s3twin_md5(b: &[u8]) -> String {
    use md5::Digest;
    hex::encode(md5::Md5::digest(b))
}

async fn export(t: &Twin, run: &str, query: &str) -> Value {
    let (status, doc) = admin(
        t,
        "GET",
        &format!("/_s3twin/runs/{run}/export{query}"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{doc}");
    doc
}

/// Fills a run with versions, delete markers, tags, metadata, a multipart object and
/// configurations; returns its bucket names.
async fn fill(t: &Twin, run: &str, c: &Client) -> Vec<String> {
    let a = new_bucket(c, "exp-a").await;
    set_versioning(c, &a, BucketVersioningStatus::Enabled).await;
    for (body, v) in [(b"first".as_slice(), "1"), (b"second", "2")] {
        c.put_object()
            .bucket(&a)
            .key("doc.txt")
            .body(ByteStream::from(body.to_vec()))
            .content_type("text/plain")
            .cache_control("max-age=60")
            .content_disposition("attachment")
            .metadata("rev", v)
            .metadata("owner", "ops")
            .tagging(format!("zeta=last&alpha={v}"))
            .send()
            .await
            .expect("put doc");
        // Each version an hour apart on the frozen clock.
        advance(t, run, "1h").await;
    }
    c.delete_object()
        .bucket(&a)
        .key("doc.txt")
        .send()
        .await
        .expect("delete marker");
    advance(t, run, "1h").await;
    put(c, &a, "keep/one", b"one").await;
    // Tags written in an order that is not sorted: the copy answers them in the same order.
    c.put_object_tagging()
        .bucket(&a)
        .key("keep/one")
        .tagging(
            Tagging::builder()
                .tag_set(Tag::builder().key("b").value("2").build().expect("tag"))
                .tag_set(Tag::builder().key("a").value("1").build().expect("tag"))
                .build()
                .expect("tagging"),
        )
        .send()
        .await
        .expect("tag");
    let up = c
        .create_multipart_upload()
        .bucket(&a)
        .key("multi.bin")
        .content_type("application/octet-stream")
        .send()
        .await
        .expect("create upload");
    let id = up.upload_id().expect("id");
    let parts = upload_parts(
        c,
        &a,
        "multi.bin",
        id,
        &[vec![7u8; 5 << 20], vec![9u8; 1000]],
    )
    .await;
    c.complete_multipart_upload()
        .bucket(&a)
        .key("multi.bin")
        .upload_id(id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .set_parts(Some(parts))
                .build(),
        )
        .send()
        .await
        .expect("complete");
    c.put_bucket_cors()
        .bucket(&a)
        .cors_configuration(
            CorsConfiguration::builder()
                .cors_rules(
                    CorsRule::builder()
                        .allowed_methods("GET")
                        .allowed_origins("https://example.com")
                        .max_age_seconds(300)
                        .build()
                        .expect("rule"),
                )
                .build()
                .expect("cors"),
        )
        .send()
        .await
        .expect("cors");
    c.put_bucket_tagging()
        .bucket(&a)
        .tagging(
            Tagging::builder()
                .tag_set(
                    Tag::builder()
                        .key("team")
                        .value("blue")
                        .build()
                        .expect("tag"),
                )
                .build()
                .expect("tagging"),
        )
        .send()
        .await
        .expect("bucket tags");
    put_expiration_rule(c, &a, "tmp", "tmp/", 3).await;
    let policy = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::000000000000:root"}, "Action": "s3:GetObject",
        "Resource": format!("arn:aws:s3:::{a}/*")}]});
    c.put_bucket_policy()
        .bucket(&a)
        .policy(policy.to_string())
        .send()
        .await
        .expect("policy");
    c.put_bucket_website()
        .bucket(&a)
        .website_configuration(
            WebsiteConfiguration::builder()
                .index_document(
                    IndexDocument::builder()
                        .suffix("index.html")
                        .build()
                        .expect("index"),
                )
                .build(),
        )
        .send()
        .await
        .expect("website");
    c.put_bucket_metrics_configuration()
        .bucket(&a)
        .id("all")
        .metrics_configuration(
            MetricsConfiguration::builder()
                .id("all")
                .build()
                .expect("metrics"),
        )
        .send()
        .await
        .expect("metrics");
    c.put_bucket_analytics_configuration()
        .bucket(&a)
        .id("an")
        .analytics_configuration(
            AnalyticsConfiguration::builder()
                .id("an")
                .storage_class_analysis(StorageClassAnalysis::builder().build())
                .build()
                .expect("analytics"),
        )
        .send()
        .await
        .expect("analytics");

    // A suspended bucket in another region, with ACLs on and a public object.
    let b = new_bucket_in(c, "exp-b", "eu-west-1").await;
    set_versioning(c, &b, BucketVersioningStatus::Enabled).await;
    put(c, &b, "k", b"versioned").await;
    set_versioning(c, &b, BucketVersioningStatus::Suspended).await;
    put(c, &b, "k", b"null one").await;
    c.delete_public_access_block()
        .bucket(&b)
        .send()
        .await
        .expect("pab off");
    c.put_bucket_ownership_controls()
        .bucket(&b)
        .ownership_controls(
            OwnershipControls::builder()
                .rules(
                    OwnershipControlsRule::builder()
                        .object_ownership(ObjectOwnership::ObjectWriter)
                        .build()
                        .expect("rule"),
                )
                .build()
                .expect("controls"),
        )
        .send()
        .await
        .expect("ownership");
    c.put_object()
        .bucket(&b)
        .key("public.txt")
        .acl(ObjectCannedAcl::PublicRead)
        .storage_class(aws_sdk_s3::types::StorageClass::StandardIa)
        .body(ByteStream::from_static(b"hello"))
        .send()
        .await
        .expect("public put");
    vec![a, b]
}

#[tokio::test]
async fn an_exported_run_imports_as_a_run_the_sdk_cannot_tell_apart() {
    let t = Twin::start().await;
    create_run(&t, "exp-orig", json!({"strict": true})).await;
    let orig = run_client(&t, "exp-orig");
    // Last-modified times on a moved, frozen clock.
    let (status, _) = admin(
        &t,
        "POST",
        "/_s3twin/clock?runId=exp-orig",
        Some(json!({"advance": "3d", "freeze": true})),
    )
    .await;
    assert_eq!(status, 200);
    let buckets = fill(&t, "exp-orig", &orig).await;
    let (status, _) = admin(&t, "POST", "/_s3twin/webhooks?runId=exp-orig", Some(json!({"arn": "arn:aws:sqs:us-east-1:000000000000:jobs", "url": "http://127.0.0.1:9/hook"}))).await;
    assert_eq!(status, 200);

    let doc = export(&t, "exp-orig", "?maxBodyBytes=6291456").await;
    let text = doc.to_string();
    assert!(
        text.len() < 8 << 20,
        "an import takes it: {} bytes",
        text.len()
    );
    assert_eq!(doc["strict"], json!(true));
    assert_eq!(doc["clock"]["frozen"], json!(true));
    let a = doc["buckets"]
        .as_array()
        .expect("buckets")
        .iter()
        .find(|b| b["name"] == json!(buckets[0]))
        .expect("bucket a");
    let multi = a["objects"]
        .as_array()
        .expect("objects")
        .iter()
        .find(|o| o["key"] == json!("multi.bin"))
        .expect("multipart object");
    assert!(
        multi["etag"].as_str().expect("etag").ends_with("-2"),
        "{}",
        multi["etag"]
    );
    assert!(a["objects"]
        .as_array()
        .expect("objects")
        .iter()
        .any(|o| o["deleteMarker"] == json!(true)));

    let (status, body) = admin(
        &t,
        "POST",
        "/_s3twin/runs",
        Some(json!({"runId": "exp-copy", "seed": doc})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let copy = run_client(&t, "exp-copy");
    for b in &buckets {
        let (x, y) = (snapshot(&orig, b).await, snapshot(&copy, b).await);
        assert!(x.len() > 10, "{x:#?}");
        for (l, r) in x.iter().zip(&y) {
            assert_eq!(l, r);
        }
        assert_eq!(x.len(), y.len());
    }
    // The multipart object kept its part count.
    let head = copy
        .head_object()
        .bucket(&buckets[0])
        .key("multi.bin")
        .part_number(2)
        .send()
        .await
        .expect("head part 2");
    assert_eq!(head.parts_count(), Some(2));
    assert_eq!(head.content_length(), Some(1000));
    // The run itself: clock, strict mode, webhooks.
    let (_, c1) = admin(&t, "GET", "/_s3twin/clock?runId=exp-orig", None).await;
    let (_, c2) = admin(&t, "GET", "/_s3twin/clock?runId=exp-copy", None).await;
    assert_eq!(c1["now"], c2["now"]);
    assert_eq!(c2["frozen"], json!(true));
    let (_, runs) = admin(&t, "GET", "/_s3twin/runs", None).await;
    let copy_run = runs["runs"]
        .as_array()
        .expect("runs")
        .iter()
        .find(|r| r["runId"] == json!("exp-copy"))
        .expect("listed");
    assert_eq!(copy_run["strict"], json!(true));
    let (_, hooks) = admin(&t, "GET", "/_s3twin/webhooks?runId=exp-copy", None).await;
    assert_eq!(
        hooks["webhooks"][0]["url"],
        json!("http://127.0.0.1:9/hook")
    );
    // And the copy exports as the original did.
    assert_eq!(export(&t, "exp-copy", "?maxBodyBytes=6291456").await, doc);
    // The request's own fields win over the document's.
    let (status, body) = admin(
        &t,
        "POST",
        "/_s3twin/runs",
        Some(json!({"runId": "exp-lax", "strict": false, "auth": "enforce", "seed": doc})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["auth"], json!("enforce"));
    let lax = export(&t, "exp-lax", "?maxBodyBytes=0").await;
    assert_eq!(
        (&lax["strict"], &lax["auth"]),
        (&json!(false), &json!("enforce"))
    );
}

#[tokio::test]
async fn bodies_over_the_cap_come_back_as_zeros_of_their_size_and_etag() {
    let t = Twin::start().await;
    create_run(&t, "cap-orig", json!({})).await;
    let c = run_client(&t, "cap-orig");
    let b = new_bucket(&c, "cap").await;
    put(&c, &b, "big", &vec![b'x'; 3000]).await;
    put(&c, &b, "small", b"tiny").await;
    let doc = export(&t, "cap-orig", "?maxBodyBytes=1024").await;
    let objects = doc["buckets"][0]["objects"].as_array().expect("objects");
    let big = objects
        .iter()
        .find(|o| o["key"] == json!("big"))
        .expect("big");
    assert_eq!(big["bodyOmitted"], json!(true));
    assert_eq!(big["size"], json!(3000));
    assert!(big.get("bodyBase64").is_none());
    let (status, body) = admin(
        &t,
        "POST",
        "/_s3twin/runs",
        Some(json!({"runId": "cap-copy", "seed": doc})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let copy = run_client(&t, "cap-copy");
    let (h1, h2) = (
        c.head_object()
            .bucket(&b)
            .key("big")
            .send()
            .await
            .expect("head"),
        copy.head_object()
            .bucket(&b)
            .key("big")
            .send()
            .await
            .expect("head"),
    );
    assert_eq!(h1.e_tag(), h2.e_tag());
    assert_eq!(h2.content_length(), Some(3000));
    assert_eq!(get_bytes(&copy, &b, "big").await, vec![0u8; 3000]);
    assert_eq!(get_bytes(&copy, &b, "small").await, b"tiny");
    // The default cap (1 MiB) keeps both inline.
    let doc = export(&t, "cap-orig", "").await;
    assert!(doc["buckets"][0]["objects"]
        .as_array()
        .expect("objects")
        .iter()
        .all(|o| o.get("bodyBase64").is_some()));
    let (status, body) = admin(
        &t,
        "GET",
        "/_s3twin/runs/cap-orig/export?maxBodyBytes=-1",
        None,
    )
    .await;
    assert_eq!(status, 400, "{body}");
    let (status, _) = admin(&t, "GET", "/_s3twin/runs/nope/export", None).await;
    assert_eq!(status, 404);
    // The default run always answers, as on the other admin routes.
    let (status, doc) = admin(&t, "GET", "/_s3twin/runs/default/export", None).await;
    assert_eq!(status, 200, "{doc}");
    assert_eq!(doc["buckets"], json!([]));
    let (status, _) = admin(&t, "DELETE", "/_s3twin/runs/cap-orig/export", None).await;
    assert_eq!(status, 405);
}

#[tokio::test]
async fn hostile_export_documents_are_refused_and_create_nothing() {
    let t = Twin::start().await;
    let vid = "3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrH";
    let obj = |o: Value| json!({"buckets": [{"name": "hostile-bkt", "versioning": "Enabled", "objects": [o]}]});
    let cases = [
        (
            obj(json!({"key": "k", "bodyBase64": "%%%not base64"})),
            "base64",
        ),
        (
            obj(
                json!({"key": "k", "bodyOmitted": true, "size": 1u64 << 50, "etag": "0123456789abcdef0123456789abcdef"}),
            ),
            "5 TiB",
        ),
        (
            obj(
                json!({"key": "k", "bodyOmitted": true, "size": u64::MAX, "etag": "0123456789abcdef0123456789abcdef"}),
            ),
            "5 TiB",
        ),
        (
            obj(json!({"key": "k", "bodyOmitted": true, "size": 10})),
            "ETag",
        ),
        (obj(json!({"key": "k", "body": "x", "size": 2})), "size"),
        (
            obj(json!({"key": "k", "body": "x", "etag": "nothex"})),
            "etag",
        ),
        (
            obj(json!({"key": "k", "versionId": "../../etc"})),
            "version id",
        ),
        (
            obj(
                json!({"key": "k", "body": "x", "parts": [{"number": 1, "size": u64::MAX, "etag": "a"}, {"number": 2, "size": 5, "etag": "b"}]}),
            ),
            "parts",
        ),
        (
            obj(json!({"key": "k", "lastModified": "yesterday"})),
            "lastModified",
        ),
        (
            obj(json!({"key": "k", "deleteMarker": true, "body": "x"})),
            "delete marker",
        ),
        (
            obj(
                json!({"key": "k", "checksum": {"algorithm": "CRC32", "value": "AAAA", "type": "FULL_OBJECT"}}),
            ),
            "checksum",
        ),
        (
            obj(json!({"key": "k", "metadata": {"a\nb": "v"}})),
            "metadata",
        ),
        (
            obj(json!({"key": "k", "contentType": "text/plain\r\nX-Evil: 1"})),
            "control",
        ),
        (
            obj(json!({"key": "k", "tags": 5})),
            "list of [name, value] pairs",
        ),
        (
            obj(json!({"key": "k", "tags": [["a", "1"], ["a", "2"]]})),
            "given twice",
        ),
        (
            json!({"buckets": [{"name": "hostile-bkt", "versioning": "Enabled", "objects": [
            {"key": "k", "versionId": vid, "body": "a"}, {"key": "k", "versionId": vid, "body": "b"}]}]}),
            "given twice",
        ),
        (
            json!({"buckets": [{"name": "hostile-bkt", "objects": [{"key": "k", "versionId": vid}]}]}),
            "unversioned",
        ),
        (
            json!({"buckets": [{"name": "hostile-bkt", "configurations": {"cors": "<Nope/>"}}]}),
            "CORSConfiguration",
        ),
        (
            json!({"buckets": [{"name": "hostile-bkt", "configurations": {"colour": "red"}}]}),
            "unknown configuration",
        ),
        (
            json!({"buckets": [{"name": "hostile-bkt", "configurations": {"policy": "[1]"}}]}),
            "JSON object",
        ),
        (
            json!({"buckets": [{"name": "hostile-bkt", "region": "Mars/1"}]}),
            "region",
        ),
        (
            json!({"buckets": [{"name": "hostile-bkt"}, {"name": "hostile-bkt"}]}),
            "given twice",
        ),
        (
            json!({"clock": {"now": "10000-01-01T00:00:00Z"}, "buckets": [{"name": "hostile-bkt"}]}),
            "clock",
        ),
        (
            json!({"clock": {"now": "2026-01-01T00:00:00Z", "rate": -3}, "buckets": [{"name": "hostile-bkt"}]}),
            "rate",
        ),
        (
            json!({"auth": "maybe", "buckets": [{"name": "hostile-bkt"}]}),
            "auth",
        ),
    ];
    for (i, (seed, needle)) in cases.into_iter().enumerate() {
        let run = format!("hostile-{i}");
        let (status, body) = admin(
            &t,
            "POST",
            "/_s3twin/runs",
            Some(json!({"runId": run, "seed": seed})),
        )
        .await;
        assert_eq!(status, 400, "case {i}: {body}");
        let message = body["error"].as_str().unwrap_or_default();
        assert!(
            message.contains(needle),
            "case {i}: {message:?} should name {needle:?}"
        );
        let (status, _) = admin(&t, "GET", &format!("/_s3twin/runs/{run}/export"), None).await;
        assert_eq!(status, 404, "case {i}: no run was created");
    }
    // The server is still there.
    let (status, _) = admin(&t, "GET", "/_s3twin/health", None).await;
    assert_eq!(status, 200);
}

/// Encryption, checksums, Object Lock and the run's own state (auth mode, users, chaos rules)
/// survive the round trip too.
#[tokio::test]
async fn locks_encryption_checksums_users_and_chaos_round_trip() {
    use aws_sdk_s3::types::{
        AccelerateConfiguration, BucketAccelerateStatus, BucketLoggingStatus, ChecksumAlgorithm,
        DefaultRetention, Event, IntelligentTieringAccessTier, IntelligentTieringConfiguration,
        IntelligentTieringStatus, LoggingEnabled, NotificationConfiguration,
        ObjectLockConfiguration, ObjectLockEnabled, ObjectLockLegalHold, ObjectLockLegalHoldStatus,
        ObjectLockRetentionMode, ObjectLockRule, Payer, QueueConfiguration,
        RequestPaymentConfiguration, ServerSideEncryption, ServerSideEncryptionByDefault,
        ServerSideEncryptionConfiguration, ServerSideEncryptionRule, Tiering,
    };
    let t = Twin::start().await;
    create_run(&t, "lock-orig", json!({"auth": "enforce"})).await;
    let c = run_client(&t, "lock-orig");
    let (status, body) = admin(
        &t,
        "POST",
        "/_s3twin/users?runId=lock-orig",
        Some(json!({"accessKeyId": "AKIAEXPORTTEST", "secretAccessKey": "s3cr3t-export", "name": "exporter"})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = admin(
        &t,
        "POST",
        "/_s3twin/chaos?runId=lock-orig",
        Some(json!([
            {"match": {"operations": ["GetObject"], "bucket": "nowhere-bucket"},
             "action": {"type": "error", "code": "SlowDown", "retryAfter": 2},
             "count": 3, "seed": 7, "probability": 0.5},
            "slow_put"
        ])),
    )
    .await;
    assert_eq!(status, 201, "{body}");

    // Object Lock: a default retention, a version with a legal hold.
    let lock = bucket_name("exp-lock");
    c.create_bucket()
        .bucket(&lock)
        .object_lock_enabled_for_bucket(true)
        .send()
        .await
        .expect("lock bucket");
    c.put_object_lock_configuration()
        .bucket(&lock)
        .object_lock_configuration(
            ObjectLockConfiguration::builder()
                .object_lock_enabled(ObjectLockEnabled::Enabled)
                .rule(
                    ObjectLockRule::builder()
                        .default_retention(
                            DefaultRetention::builder()
                                .mode(ObjectLockRetentionMode::Governance)
                                .days(2)
                                .build(),
                        )
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .expect("lock configuration");
    c.put_object()
        .bucket(&lock)
        .key("held")
        .body(ByteStream::from_static(b"keep me"))
        .checksum_algorithm(ChecksumAlgorithm::Sha256)
        .send()
        .await
        .expect("put held");
    c.put_object_legal_hold()
        .bucket(&lock)
        .key("held")
        .legal_hold(
            ObjectLockLegalHold::builder()
                .status(ObjectLockLegalHoldStatus::On)
                .build(),
        )
        .send()
        .await
        .expect("legal hold");
    c.put_object()
        .bucket(&lock)
        .key("kms")
        .body(ByteStream::from_static(b"kms body"))
        .server_side_encryption(ServerSideEncryption::AwsKms)
        .ssekms_key_id(
            "arn:aws:kms:us-east-1:000000000000:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        )
        .send()
        .await
        .expect("put kms");
    let logs = new_bucket(&c, "exp-logs").await;
    c.put_bucket_logging()
        .bucket(&lock)
        .bucket_logging_status(
            BucketLoggingStatus::builder()
                .logging_enabled(
                    LoggingEnabled::builder()
                        .target_bucket(&logs)
                        .target_prefix("lock/")
                        .build()
                        .expect("logging"),
                )
                .build(),
        )
        .send()
        .await
        .expect("logging");
    c.put_bucket_encryption()
        .bucket(&lock)
        .server_side_encryption_configuration(
            ServerSideEncryptionConfiguration::builder()
                .rules(
                    ServerSideEncryptionRule::builder()
                        .apply_server_side_encryption_by_default(
                            ServerSideEncryptionByDefault::builder()
                                .sse_algorithm(ServerSideEncryption::AwsKms)
                                .build()
                                .expect("default"),
                        )
                        .bucket_key_enabled(true)
                        .build(),
                )
                .build()
                .expect("encryption"),
        )
        .send()
        .await
        .expect("bucket encryption");
    c.put_bucket_request_payment()
        .bucket(&lock)
        .request_payment_configuration(
            RequestPaymentConfiguration::builder()
                .payer(Payer::Requester)
                .build()
                .expect("payment"),
        )
        .send()
        .await
        .expect("payment");
    c.put_bucket_accelerate_configuration()
        .bucket(&lock)
        .accelerate_configuration(
            AccelerateConfiguration::builder()
                .status(BucketAccelerateStatus::Enabled)
                .build(),
        )
        .send()
        .await
        .expect("accelerate");
    c.put_bucket_notification_configuration()
        .bucket(&lock)
        .notification_configuration(
            NotificationConfiguration::builder()
                .queue_configurations(
                    QueueConfiguration::builder()
                        .id("to-jobs")
                        .queue_arn("arn:aws:sqs:us-east-1:000000000000:jobs")
                        .events(Event::from("s3:ObjectCreated:*"))
                        .build()
                        .expect("queue"),
                )
                .build(),
        )
        .send()
        .await
        .expect("notification");
    c.put_bucket_intelligent_tiering_configuration()
        .bucket(&lock)
        .id("archive")
        .intelligent_tiering_configuration(
            IntelligentTieringConfiguration::builder()
                .id("archive")
                .status(IntelligentTieringStatus::Enabled)
                .tierings(
                    Tiering::builder()
                        .days(90)
                        .access_tier(IntelligentTieringAccessTier::ArchiveAccess)
                        .build()
                        .expect("tiering"),
                )
                .build()
                .expect("tiering configuration"),
        )
        .send()
        .await
        .expect("tiering");

    let doc = export(&t, "lock-orig", "").await;
    assert_eq!(doc["auth"], json!("enforce"));
    let (status, body) = admin(
        &t,
        "POST",
        "/_s3twin/runs",
        Some(json!({"runId": "lock-copy", "seed": doc})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let copy = run_client(&t, "lock-copy");
    for b in [&lock, &logs] {
        let (x, y) = (snapshot(&c, b).await, snapshot(&copy, b).await);
        assert_eq!(x, y);
    }
    for client in [&c, &copy] {
        let hold = client
            .get_object_legal_hold()
            .bucket(&lock)
            .key("held")
            .send()
            .await
            .expect("legal hold");
        assert_eq!(
            hold.legal_hold().and_then(|h| h.status()),
            Some(&ObjectLockLegalHoldStatus::On)
        );
    }
    let mut answers = Vec::new();
    for client in [&c, &copy] {
        let r = client
            .get_object_retention()
            .bucket(&lock)
            .key("held")
            .send()
            .await
            .expect("retention");
        let kms = client
            .head_object()
            .bucket(&lock)
            .key("kms")
            .send()
            .await
            .expect("head kms");
        let sha = client
            .get_object()
            .bucket(&lock)
            .key("held")
            .checksum_mode(aws_sdk_s3::types::ChecksumMode::Enabled)
            .send()
            .await
            .expect("get held");
        let lock_conf = client
            .get_object_lock_configuration()
            .bucket(&lock)
            .send()
            .await
            .expect("lock configuration");
        let notification = client
            .get_bucket_notification_configuration()
            .bucket(&lock)
            .send()
            .await
            .expect("notification");
        let logging = client
            .get_bucket_logging()
            .bucket(&lock)
            .send()
            .await
            .expect("logging");
        let tiering = client
            .list_bucket_intelligent_tiering_configurations()
            .bucket(&lock)
            .send()
            .await
            .expect("tiering");
        answers.push(format!(
            "{:?} | {:?} {:?} {:?} | {:?} | {:?} | {:?} | {:?} | {:?}",
            r.retention(),
            kms.server_side_encryption(),
            kms.ssekms_key_id(),
            kms.e_tag(),
            sha.checksum_sha256(),
            lock_conf.object_lock_configuration(),
            notification.queue_configurations(),
            logging.logging_enabled(),
            tiering.intelligent_tiering_configuration_list()
        ));
        // Locked: a version delete without bypass is refused in both.
        let v = client
            .head_object()
            .bucket(&lock)
            .key("held")
            .send()
            .await
            .expect("head held");
        let err = client
            .delete_object()
            .bucket(&lock)
            .key("held")
            .version_id(v.version_id().expect("version"))
            .send()
            .await
            .expect_err("locked");
        assert_eq!(error_parts(&err).1, 403);
    }
    assert!(answers[0].contains("Governance"), "{}", answers[0]);
    assert!(
        answers[0].contains("Some(\"") && answers[0].contains("to-jobs"),
        "{}",
        answers[0]
    );
    assert_eq!(answers[0], answers[1]);
    // The run's users sign requests to the copy; the chaos rules came along (counters afresh).
    let user = keyed_client(&t, "lock-copy", "AKIAEXPORTTEST", "s3cr3t-export");
    user.list_buckets()
        .send()
        .await
        .expect("the exported user signs");
    let rules = |v: &Value| -> Vec<Value> {
        v["rules"]
            .as_array()
            .expect("rules")
            .iter()
            .map(|r| {
                json!([
                    r["match"],
                    r["action"],
                    r["probability"],
                    r["count"],
                    r["seed"],
                    r["after"]
                ])
            })
            .collect()
    };
    let (_, a) = admin(&t, "GET", "/_s3twin/chaos?runId=lock-orig", None).await;
    let (_, b) = admin(&t, "GET", "/_s3twin/chaos?runId=lock-copy", None).await;
    assert_eq!(rules(&a).len(), 2);
    assert_eq!(rules(&a), rules(&b));
}

#[tokio::test]
async fn a_seed_clock_never_moves_a_run_in_use_backwards() {
    let t = Twin::start().await;
    create_run(&t, "clock-used", json!({})).await;
    let c = run_client(&t, "clock-used");
    new_bucket(&c, "used").await;
    let (status, body) = admin(
        &t,
        "POST",
        "/_s3twin/seed?runId=clock-used",
        Some(json!({"clock": {"now": "2001-01-01T00:00:00Z"}})),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap_or_default()
            .contains("backwards"),
        "{body}"
    );
    // A fresh run shows it as given, frozen.
    let (status, body) = admin(
        &t,
        "POST",
        "/_s3twin/runs",
        Some(json!({"runId": "clock-fresh", "seed": {"clock": {"now": "2001-01-01T00:00:00Z", "frozen": true}}})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let (_, clock) = admin(&t, "GET", "/_s3twin/clock?runId=clock-fresh", None).await;
    assert_eq!(clock["now"], json!("2001-01-01T00:00:00.000Z"));
    assert_eq!(clock["frozen"], json!(true));
}
