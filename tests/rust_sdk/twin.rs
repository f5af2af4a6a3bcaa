use crate::common::*;
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::types::*;
use serde_json::{json, Value};
use std::time::Duration;

async fn lifecycle(c: &aws_sdk_s3::Client, b: &str, rules: Vec<LifecycleRule>) {
    lifecycle_with(c, b, rules, None).await
}

/// `lifecycle` with a `TransitionDefaultMinimumObjectSize` (S3's default when `None`).
async fn lifecycle_with(
    c: &aws_sdk_s3::Client,
    b: &str,
    rules: Vec<LifecycleRule>,
    min: Option<TransitionDefaultMinimumObjectSize>,
) {
    c.put_bucket_lifecycle_configuration()
        .bucket(b)
        .set_transition_default_minimum_object_size(min)
        .lifecycle_configuration(
            BucketLifecycleConfiguration::builder()
                .set_rules(Some(rules))
                .build()
                .expect("cfg"),
        )
        .send()
        .await
        .expect("put lifecycle");
}

fn rule(id: &str, prefix: &str) -> aws_sdk_s3::types::builders::LifecycleRuleBuilder {
    LifecycleRule::builder()
        .id(id)
        .status(ExpirationStatus::Enabled)
        .filter(LifecycleRuleFilter::builder().prefix(prefix).build())
}

#[tokio::test]
async fn seven_day_expiry_runs_when_the_clock_passes_it() {
    let t = Twin::start().await;
    t.server.run("lc-a");
    let c = run_client(&t, "lc-a");
    c.create_bucket()
        .bucket("temp-uploads")
        .send()
        .await
        .expect("create");
    lifecycle(
        &c,
        "temp-uploads",
        vec![rule("seven", "")
            .expiration(LifecycleExpiration::builder().days(7).build())
            .build()
            .expect("rule")],
    )
    .await;
    let first = c
        .put_object()
        .bucket("temp-uploads")
        .key("a.txt")
        .body(b"a".to_vec().into())
        .send()
        .await
        .expect("put");
    let announced = first
        .expiration()
        .expect("x-amz-expiration on PUT")
        .to_string();
    assert!(announced.contains("rule-id=\"seven\""), "{announced}");
    assert!(
        announced.contains("00:00:00 GMT"),
        "expiry rounds to midnight: {announced}"
    );
    put(&c, "temp-uploads", "b.txt", b"b").await;
    let head = c
        .head_object()
        .bucket("temp-uploads")
        .key("b.txt")
        .send()
        .await
        .expect("head");
    assert_eq!(head.expiration(), Some(announced.as_str()));

    advance(&t, "lc-a", "6d").await;
    assert_eq!(
        c.list_objects_v2()
            .bucket("temp-uploads")
            .send()
            .await
            .expect("list")
            .key_count(),
        Some(2)
    );
    let report = advance(&t, "lc-a", "2d").await;
    assert_eq!(report["lifecycle"]["expired"], 2);
    assert_eq!(
        c.list_objects_v2()
            .bucket("temp-uploads")
            .send()
            .await
            .expect("list")
            .key_count(),
        Some(0)
    );
}

#[tokio::test]
async fn noncurrent_versions_and_expired_delete_markers() {
    let t = Twin::start().await;
    let c = run_client(&t, "lc-v");
    c.create_bucket()
        .bucket("docs")
        .send()
        .await
        .expect("create");
    set_versioning(&c, "docs", BucketVersioningStatus::Enabled).await;
    lifecycle(
        &c,
        "docs",
        vec![
            rule("old", "keep")
                .noncurrent_version_expiration(
                    NoncurrentVersionExpiration::builder()
                        .noncurrent_days(1)
                        .newer_noncurrent_versions(1)
                        .build(),
                )
                .build()
                .expect("rule"),
            rule("gone", "gone")
                .noncurrent_version_expiration(
                    NoncurrentVersionExpiration::builder()
                        .noncurrent_days(1)
                        .build(),
                )
                .expiration(
                    LifecycleExpiration::builder()
                        .expired_object_delete_marker(true)
                        .build(),
                )
                .build()
                .expect("rule"),
        ],
    )
    .await;
    for v in ["v1", "v2", "v3"] {
        put(&c, "docs", "keep", v.as_bytes()).await;
    }
    put(&c, "docs", "gone", b"only").await;
    c.delete_object()
        .bucket("docs")
        .key("gone")
        .send()
        .await
        .expect("marker");
    advance(&t, "lc-v", "3d").await;
    let versions = c
        .list_object_versions()
        .bucket("docs")
        .send()
        .await
        .expect("versions");
    let kept: Vec<_> = versions
        .versions()
        .iter()
        .map(|v| (v.key().unwrap_or(""), v.is_latest()))
        .collect();
    // "keep": current v3 plus one newer noncurrent version (v2); v1 expired.
    assert_eq!(kept, [("keep", Some(true)), ("keep", Some(false))]);
    // "gone": its only version expired, then its lone delete marker was removed.
    assert!(versions.delete_markers().is_empty());
    assert_eq!(get_bytes(&c, "docs", "keep").await, b"v3");
}

#[tokio::test]
async fn aborts_uploads_and_transitions_then_restores() {
    let t = Twin::start().await;
    let c = run_client(&t, "lc-t");
    c.create_bucket()
        .bucket("archive")
        .send()
        .await
        .expect("create");
    // Small objects go to GLACIER only under the pre-2024 default.
    lifecycle_with(
        &c,
        "archive",
        vec![
            rule("abort", "")
                .abort_incomplete_multipart_upload(
                    AbortIncompleteMultipartUpload::builder()
                        .days_after_initiation(1)
                        .build(),
                )
                .build()
                .expect("rule"),
            rule("cold", "cold/")
                .transitions(
                    Transition::builder()
                        .days(1)
                        .storage_class(TransitionStorageClass::Glacier)
                        .build(),
                )
                .build()
                .expect("rule"),
        ],
        Some(TransitionDefaultMinimumObjectSize::VariesByStorageClass),
    )
    .await;
    let up = c
        .create_multipart_upload()
        .bucket("archive")
        .key("partial")
        .send()
        .await
        .expect("create upload");
    put(&c, "archive", "cold/a", b"frozen bytes").await;
    put(&c, "archive", "warm/b", b"stays").await;
    advance(&t, "lc-t", "2d").await;
    assert!(c
        .list_multipart_uploads()
        .bucket("archive")
        .send()
        .await
        .expect("uploads")
        .uploads()
        .is_empty());
    let err = c
        .list_parts()
        .bucket("archive")
        .key("partial")
        .upload_id(up.upload_id().expect("id"))
        .send()
        .await
        .expect_err("aborted");
    assert_eq!(error_parts(&err).0, "NoSuchUpload");
    let head = c
        .head_object()
        .bucket("archive")
        .key("cold/a")
        .send()
        .await
        .expect("head");
    assert_eq!(head.storage_class(), Some(&StorageClass::Glacier));
    let listed = c
        .list_objects_v2()
        .bucket("archive")
        .prefix("cold/")
        .send()
        .await
        .expect("list");
    assert_eq!(
        listed.contents()[0].storage_class(),
        Some(&ObjectStorageClass::Glacier)
    );
    assert_eq!(get_bytes(&c, "archive", "warm/b").await, b"stays");

    let err = c
        .get_object()
        .bucket("archive")
        .key("cold/a")
        .send()
        .await
        .expect_err("archived");
    assert_eq!(error_parts(&err), ("InvalidObjectState".to_string(), 403));
    let err = c
        .copy_object()
        .bucket("archive")
        .key("copy-of-cold")
        .copy_source("archive/cold/a")
        .send()
        .await
        .expect_err("archived source");
    assert_eq!(error_parts(&err), ("InvalidObjectState".to_string(), 403));
    let restore = || {
        c.restore_object()
            .bucket("archive")
            .key("cold/a")
            .restore_request(
                RestoreRequest::builder()
                    .days(1)
                    .glacier_job_parameters(
                        GlacierJobParameters::builder()
                            .tier(Tier::Standard)
                            .build()
                            .expect("tier"),
                    )
                    .build(),
            )
            .send()
    };
    restore().await.expect("restore starts");
    let head = c
        .head_object()
        .bucket("archive")
        .key("cold/a")
        .send()
        .await
        .expect("head");
    assert_eq!(head.restore(), Some("ongoing-request=\"true\""));
    let err = restore().await.expect_err("in progress");
    assert_eq!(
        error_parts(&err),
        ("RestoreAlreadyInProgress".to_string(), 409)
    );
    advance(&t, "lc-t", "5h").await;
    assert_eq!(get_bytes(&c, "archive", "cold/a").await, b"frozen bytes");
    let head = c
        .head_object()
        .bucket("archive")
        .key("cold/a")
        .send()
        .await
        .expect("head");
    assert!(
        head.restore()
            .is_some_and(|r| r.starts_with("ongoing-request=\"false\", expiry-date=")),
        "{:?}",
        head.restore()
    );
    advance(&t, "lc-t", "3d").await;
    let err = c
        .get_object()
        .bucket("archive")
        .key("cold/a")
        .send()
        .await
        .expect_err("restored copy expired");
    assert_eq!(error_parts(&err).0, "InvalidObjectState");
    let head = c
        .head_object()
        .bucket("archive")
        .key("cold/a")
        .send()
        .await
        .expect("head");
    assert_eq!(
        head.restore(),
        None,
        "no restore header once the copy expired"
    );
    let err = c
        .restore_object()
        .bucket("archive")
        .key("warm/b")
        .restore_request(RestoreRequest::builder().days(1).build())
        .send()
        .await
        .expect_err("not archived");
    assert_eq!(error_parts(&err), ("InvalidObjectState".to_string(), 403));
}

#[tokio::test]
async fn presigned_urls_expire_on_the_run_clock() {
    let t = Twin::start().await;
    let a = run_client(&t, "ps-a");
    let b = run_client(&t, "ps-b");
    for c in [&a, &b] {
        c.create_bucket()
            .bucket("share")
            .send()
            .await
            .expect("create");
        put(c, "share", "doc.txt", b"shared").await;
    }
    let presign = |c: aws_sdk_s3::Client| async move {
        c.get_object()
            .bucket("share")
            .key("doc.txt")
            .presigned(PresigningConfig::expires_in(Duration::from_secs(3600)).expect("config"))
            .await
            .expect("presign")
            .uri()
            .to_string()
    };
    let url_a = presign(a.clone()).await;
    let url_b = presign(b.clone()).await;
    let get = |url: String| {
        let addr = t.addr();
        async move {
            let path = &url[url.find("/t/").expect("run path")..];
            raw(
                &addr,
                format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n")
                    .as_bytes(),
            )
            .await
        }
    };
    assert_eq!(get(url_a.clone()).await.0, 200);
    advance(&t, "ps-a", "2h").await;
    let (status, text) = get(url_a.clone()).await;
    assert_eq!(status, 403);
    assert_eq!(xml_value(&text, "Code").as_deref(), Some("AccessDenied"));
    assert_eq!(
        xml_value(&text, "Message").as_deref(),
        Some("Request has expired")
    );
    assert_eq!(xml_value(&text, "X-Amz-Expires").as_deref(), Some("3600"));
    assert!(xml_value(&text, "ServerTime").is_some());
    // Another run's clock did not move.
    assert_eq!(get(url_b).await.0, 200);

    let week = url_a.replace("X-Amz-Expires=3600", "X-Amz-Expires=604801");
    let (status, text) = get(week).await;
    assert_eq!(
        (status, xml_value(&text, "Code").as_deref()),
        (400, Some("AuthorizationQueryParametersError"))
    );
}

#[tokio::test]
async fn admin_presign_is_deterministic_on_a_frozen_clock() {
    let t = Twin::start().await;
    let c = run_client(&t, "ps-f");
    c.create_bucket()
        .bucket("share")
        .send()
        .await
        .expect("create");
    put(&c, "share", "a b.txt", b"via admin").await;
    let (s, _) = admin(
        &t,
        "POST",
        "/_s3twin/clock?runId=ps-f",
        Some(json!({"freeze": true})),
    )
    .await;
    assert_eq!(s, 200);
    let ask = json!({"method": "GET", "bucket": "share", "key": "a b.txt", "expiresIn": 3600});
    let (s1, one) = admin(&t, "POST", "/_s3twin/presign?runId=ps-f", Some(ask.clone())).await;
    let (_, two) = admin(&t, "POST", "/_s3twin/presign?runId=ps-f", Some(ask)).await;
    assert_eq!(s1, 200);
    assert_eq!(one["url"], two["url"]);
    let url = one["url"].as_str().expect("url").to_string();
    let path = &url[url.find("/t/").expect("path")..];
    let (status, text) = raw(
        &t.addr(),
        format!(
            "GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            t.addr()
        )
        .as_bytes(),
    )
    .await;
    assert_eq!(status, 200);
    assert!(text.ends_with("via admin"));
    advance(&t, "ps-f", "61m").await;
    let (status, _) = raw(
        &t.addr(),
        format!(
            "GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            t.addr()
        )
        .as_bytes(),
    )
    .await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn runs_api_seeds_and_bad_input() {
    let t = Twin::start().await;
    let (s, created) = admin(
        &t,
        "POST",
        "/_s3twin/runs",
        Some(json!({"runId": "inv-1", "seed": "invoice-store"})),
    )
    .await;
    assert_eq!(s, 201, "{created}");
    assert_eq!(created["endpoint"], format!("http://{}/t/inv-1", t.addr()));
    assert_eq!(created["accessKeyId"], "parlel");
    let c = client(
        &format!("{}/", created["endpoint"].as_str().expect("endpoint")),
        true,
    );
    let listed = c
        .list_objects_v2()
        .bucket("invoices")
        .send()
        .await
        .expect("seeded bucket");
    assert_eq!(listed.key_count(), Some(3));
    let rules = c
        .get_bucket_lifecycle_configuration()
        .bucket("invoices")
        .send()
        .await
        .expect("seeded lifecycle");
    assert_eq!(
        rules.rules()[0].expiration().and_then(|e| e.days()),
        Some(7)
    );
    assert_eq!(
        admin(&t, "POST", "/_s3twin/runs", Some(json!({"runId": "inv-1"})))
            .await
            .0,
        409
    );
    let (s, anon) = admin(&t, "POST", "/_s3twin/runs", None).await;
    assert_eq!(s, 201);
    assert!(anon["runId"].as_str().is_some_and(|r| !r.is_empty()));
    let (_, runs) = admin(&t, "GET", "/_s3twin/runs", None).await;
    assert!(runs["runs"]
        .as_array()
        .expect("runs")
        .iter()
        .any(|r| r["runId"] == "inv-1" && r["buckets"] == 1));

    // Seeding over HTTP, including the seed document's own alias.
    let (s, summary) = admin(&t, "POST", "/_clone/seed?runId=inv-1", Some(json!({"buckets": [{"name": "reports", "versioning": "Enabled", "objects": [{"key": "r.csv", "body": "a,b", "contentType": "text/csv", "tags": {"k": "v"}}, {"key": "bin", "bodyBase64": "AAEC"}]}]}))).await;
    assert_eq!(s, 200, "{summary}");
    assert_eq!(summary["objects"], 2);
    assert_eq!(get_bytes(&c, "reports", "bin").await, [0, 1, 2]);
    let head = c
        .head_object()
        .bucket("reports")
        .key("r.csv")
        .send()
        .await
        .expect("head");
    assert_eq!(head.content_type(), Some("text/csv"));
    assert!(head.version_id().is_some_and(|v| v != "null"));

    // Bad input: 4xx JSON errors and no partial change.
    let before = c.list_buckets().send().await.expect("list").buckets().len();
    for bad in [
        json!({"buckets": [{"name": "fine-name"}, {"name": "Bad_Name"}]}),
        json!({"buckets": [{"name": "fine-name", "colour": "red"}]}),
        json!({"buckets": [{"name": "fine-name", "objects": [{"key": "k", "body": "x", "bodyBase64": "eA=="}]}]}),
        json!({"buckets": [{"name": "fine-name", "lifecycle": [{"ID": "x", "Status": "Enabled", "Filter": {"Prefix": ""}, "Expiration": {"Days": 0}}]}]}),
    ] {
        let (s, e) = admin(&t, "POST", "/_s3twin/seed?runId=inv-1", Some(bad.clone())).await;
        assert_eq!(s, 400, "{bad}");
        assert!(e["error"].as_str().is_some_and(|m| !m.is_empty()));
    }
    assert_eq!(
        c.list_buckets().send().await.expect("list").buckets().len(),
        before
    );
    let (s, clock) = admin(&t, "GET", "/_s3twin/clock?runId=inv-1", None).await;
    assert_eq!(s, 200);
    let now = clock["now"].clone();
    for bad in [
        json!({"advance": "-3d"}),
        json!({"advance": "3x"}),
        json!({"set": "2001-01-01T00:00:00Z"}),
        json!({"rewind": "1d"}),
    ] {
        let (s, e) = admin(&t, "POST", "/_s3twin/clock?runId=inv-1", Some(bad.clone())).await;
        assert_eq!(s, 400, "{bad}: {e}");
    }
    let req = "POST /_s3twin/clock?runId=inv-1 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nConnection: close\r\n\r\n{oops";
    assert_eq!(raw(&t.addr(), req.as_bytes()).await.0, 400);
    let (_, after) = admin(&t, "GET", "/_s3twin/clock?runId=inv-1", None).await;
    let (t0, t1) = (
        now.as_str().expect("now"),
        after["now"].as_str().expect("now"),
    );
    let parse = |s: &str| {
        time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
            .expect("rfc3339")
            .unix_timestamp()
    };
    let moved = parse(t1) - parse(t0);
    assert!(
        (0..60).contains(&moved),
        "clock unchanged by bad input: {t0} → {t1}"
    );
    assert_eq!(
        admin(&t, "GET", "/_s3twin/clock?runId=no-such-run", None)
            .await
            .0,
        404
    );
    assert_eq!(
        admin(&t, "DELETE", "/_s3twin/runs/inv-1", None).await.0,
        200
    );
    assert_eq!(
        admin(&t, "DELETE", "/_s3twin/runs/inv-1", None).await.0,
        404
    );
}

#[tokio::test]
async fn clocks_are_per_run_and_stamp_every_timestamp() {
    let t = Twin::start().await;
    let (a, b) = (run_client(&t, "clk-a"), run_client(&t, "clk-b"));
    for c in [&a, &b] {
        c.create_bucket()
            .bucket("bkt")
            .send()
            .await
            .expect("create");
    }
    let (_, body) = admin(
        &t,
        "POST",
        "/_s3twin/clock?runId=clk-a",
        Some(json!({"set": "2030-06-01T12:00:00Z"})),
    )
    .await;
    assert!(
        body["now"]
            .as_str()
            .is_some_and(|n| n.starts_with("2030-06-01T12:00")),
        "{body}"
    );
    put(&a, "bkt", "k", b"x").await;
    put(&b, "bkt", "k", b"x").await;
    let lm_a = a
        .head_object()
        .bucket("bkt")
        .key("k")
        .send()
        .await
        .expect("head")
        .last_modified()
        .expect("lm")
        .secs();
    let lm_b = b
        .head_object()
        .bucket("bkt")
        .key("k")
        .send()
        .await
        .expect("head")
        .last_modified()
        .expect("lm")
        .secs();
    assert!(
        (1_906_545_600..1_906_545_660).contains(&lm_a),
        "run a's clock: {lm_a}"
    );
    let real = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("time")
        .as_secs() as i64;
    assert!((lm_b - real).abs() < 60, "run b stays on real time");
    let up = a
        .create_multipart_upload()
        .bucket("bkt")
        .key("m")
        .send()
        .await
        .expect("upload");
    let listed = a
        .list_multipart_uploads()
        .bucket("bkt")
        .send()
        .await
        .expect("uploads");
    assert!(listed.uploads()[0]
        .initiated()
        .is_some_and(|t| t.secs() >= 1_906_545_600));
    assert!(up.upload_id().is_some());
}

#[tokio::test]
async fn embedded_run_handle() {
    let t = Twin::start().await;
    let run = t
        .server
        .run_with_seed("emb", &json!({"buckets": [{"name": "temp-uploads"}]}))
        .expect("seed");
    run.put_bucket_lifecycle("temp-uploads", &json!({"expirationDays": 7}))
        .expect("lifecycle");
    run.put_object("temp-uploads", "a.txt", "hello")
        .expect("put");
    assert_eq!(
        run.get_object("temp-uploads", "a.txt").as_deref(),
        Some(&b"hello"[..])
    );
    // The same run over S3.
    let c = client(&format!("{}/", run.endpoint()), true);
    assert_eq!(get_bytes(&c, "temp-uploads", "a.txt").await, b"hello");
    run.advance_clock("6d").expect("advance");
    assert_eq!(run.list("temp-uploads").expect("list"), ["a.txt"]);
    run.advance_clock("2d").expect("advance");
    assert!(run.list("temp-uploads").expect("list").is_empty());
    let (status, body) = run
        .admin_post(
            "/_clone/seed?runId=emb",
            &json!({"buckets": [{"name": "invoices", "objects": [{"key": "x", "body": "y"}]}]}),
        )
        .await
        .expect("admin");
    assert_eq!(status, 200, "{body}");
    assert_eq!(run.list("invoices").expect("list"), ["x"]);
}

/// RFC 3339 → Unix milliseconds, for the admin API's `now`.
fn rfc3339_ms(v: &Value) -> i128 {
    let s = v.as_str().expect("an instant");
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .expect("rfc3339")
        .unix_timestamp_nanos()
        / 1_000_000
}

#[tokio::test]
async fn a_sped_up_clock_expires_objects_as_real_time_passes() {
    let t = Twin::start().await;
    t.server.run("fast");
    let c = run_client(&t, "fast");
    c.create_bucket()
        .bucket("fast")
        .send()
        .await
        .expect("create");
    lifecycle(
        &c,
        "fast",
        vec![rule("one-day", "")
            .expiration(LifecycleExpiration::builder().days(1).build())
            .build()
            .expect("rule")],
    )
    .await;
    // Just before a midnight, so that "1 day" (rounded up to the next midnight) is one day and
    // a minute: 10 s of real time at 8640.
    let (s, body) = admin(
        &t,
        "POST",
        "/_s3twin/clock?runId=fast",
        Some(json!({"set": "2030-01-01T23:59:00Z", "rate": 8640})),
    )
    .await;
    assert_eq!((s, &body["rate"]), (200, &json!(8640.0)), "{body}");
    put(&c, "fast", "a.txt", b"a").await;
    let started = std::time::Instant::now();
    let (_, clock) = admin(&t, "GET", "/_s3twin/clock?runId=fast", None).await;
    assert_eq!(clock["rate"], json!(8640.0), "{clock}");
    let count = || async {
        c.list_objects_v2()
            .bucket("fast")
            .send()
            .await
            .expect("list")
            .key_count()
    };
    assert_eq!(count().await, Some(1), "not expired at once");
    // Nobody calls advance: the sped-up clock and the server's tick do it.
    while count().await != Some(0) {
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "still there after 15 s real (~1.5 virtual days)"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(
        started.elapsed() >= Duration::from_secs(9),
        "expired too early: {:?}",
        started.elapsed()
    );
    // Another run's clock runs at real time.
    let (_, other) = admin(&t, "GET", "/_s3twin/clock", None).await;
    assert_eq!(other["rate"], json!(1.0));

    // Rates out of range change nothing.
    for bad in [
        json!({"rate": 0}),
        json!({"rate": 0.5}),
        json!({"rate": -8640}),
        json!({"rate": 1_000_001}),
        json!({"rate": "fast"}),
        json!({"rate": 8640, "set": "2001-01-01T00:00:00Z"}),
    ] {
        let (s, e) = admin(&t, "POST", "/_s3twin/clock?runId=fast", Some(bad.clone())).await;
        assert_eq!(s, 400, "{bad}: {e}");
    }
    // A frozen clock stays frozen whatever its rate; back to rate 1 it runs at real time.
    let (_, frozen) = admin(
        &t,
        "POST",
        "/_s3twin/clock?runId=fast",
        Some(json!({"freeze": true, "rate": 100000})),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    let (_, later) = admin(&t, "GET", "/_s3twin/clock?runId=fast", None).await;
    assert_eq!(
        (&later["now"], &later["rate"]),
        (&frozen["now"], &json!(100000.0))
    );
    let (s, _) = admin(
        &t,
        "POST",
        "/_s3twin/clock?runId=fast",
        Some(json!({"freeze": false, "rate": 1})),
    )
    .await;
    assert_eq!(s, 200);
    tokio::time::sleep(Duration::from_millis(50)).await;
    let (_, real) = admin(&t, "GET", "/_s3twin/clock?runId=fast", None).await;
    let moved = rfc3339_ms(&real["now"]) - rfc3339_ms(&frozen["now"]);
    assert!((0..5_000).contains(&moved), "{moved} ms");
}

#[tokio::test]
async fn the_default_run_starts_at_the_configured_clock_rate() {
    let server = s3twin::S3Server::builder()
        .port(0)
        .clock_rate(86_400.0)
        .build();
    server.start().await.expect("start");
    let t = Twin {
        client: client(&server.endpoint(), true),
        server,
    };
    let (_, before) = admin(&t, "GET", "/_s3twin/clock", None).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let (_, after) = admin(&t, "GET", "/_s3twin/clock", None).await;
    assert_eq!(after["rate"], json!(86400.0));
    // 100 ms real is at least 2.4 virtual hours at 86400.
    let moved = rfc3339_ms(&after["now"]) - rfc3339_ms(&before["now"]);
    assert!(moved >= 8_640_000, "{moved} ms");
    // A reset keeps the default run's rate; other runs run at real time.
    t.server.reset().await;
    let (_, reset) = admin(&t, "GET", "/_s3twin/clock", None).await;
    assert_eq!(reset["rate"], json!(86400.0));
    let other = t.server.run("other");
    let (_, clock) = admin(&t, "GET", "/_s3twin/clock?runId=other", None).await;
    assert_eq!(clock["rate"], json!(1.0));
    // The embedded handle sets a run's rate, with the admin route's bounds.
    other.set_clock_rate(2.5).expect("rate");
    let (_, clock) = admin(&t, "GET", "/_s3twin/clock?runId=other", None).await;
    assert_eq!(clock["rate"], json!(2.5));
    assert!(other.set_clock_rate(0.0).is_err());
    assert!(other.set_clock_rate(f64::NAN).is_err());
}

#[tokio::test]
async fn transitions_skip_objects_under_128k_unless_a_size_filter_or_the_old_default_allows() {
    let t = Twin::start().await;
    let c = run_client(&t, "lc-min");
    c.create_bucket()
        .bucket("sizes")
        .send()
        .await
        .expect("create");
    let to = |class| Transition::builder().days(30).storage_class(class).build();
    let rules = || {
        vec![
            rule("ia", "ia/")
                .transitions(to(TransitionStorageClass::StandardIa))
                .build()
                .expect("rule"),
            rule("glacier", "glacier/")
                .transitions(to(TransitionStorageClass::Glacier))
                .build()
                .expect("rule"),
            // A rule's own size filter takes precedence over the default.
            LifecycleRule::builder()
                .id("filtered")
                .status(ExpirationStatus::Enabled)
                .filter(
                    LifecycleRuleFilter::builder()
                        .and(
                            LifecycleRuleAndOperator::builder()
                                .prefix("filtered/")
                                .object_size_greater_than(0)
                                .build(),
                        )
                        .build(),
                )
                .transitions(to(TransitionStorageClass::StandardIa))
                .build()
                .expect("rule"),
        ]
    };
    let big = vec![b'x'; 128 * 1024];
    let small = vec![b'x'; 128 * 1024 - 1];
    for prefix in ["ia", "glacier", "filtered"] {
        put(&c, "sizes", &format!("{prefix}/big"), &big).await;
        put(&c, "sizes", &format!("{prefix}/small"), &small).await;
    }
    let class_of = |key: &'static str| {
        let c = c.clone();
        async move {
            c.head_object()
                .bucket("sizes")
                .key(key)
                .send()
                .await
                .expect("head")
                .storage_class()
                .cloned()
        }
    };
    // The default, all_storage_classes_128K: nothing under 128 KiB moves without a filter.
    lifecycle(&c, "sizes", rules()).await;
    advance(&t, "lc-min", "31d").await;
    assert_eq!(class_of("ia/big").await, Some(StorageClass::StandardIa));
    assert_eq!(class_of("ia/small").await, None);
    assert_eq!(class_of("glacier/big").await, Some(StorageClass::Glacier));
    assert_eq!(class_of("glacier/small").await, None);
    assert_eq!(
        class_of("filtered/small").await,
        Some(StorageClass::StandardIa)
    );
    // varies_by_storage_class: small objects go to GLACIER / DEEP_ARCHIVE, not elsewhere.
    lifecycle_with(
        &c,
        "sizes",
        rules(),
        Some(TransitionDefaultMinimumObjectSize::VariesByStorageClass),
    )
    .await;
    advance(&t, "lc-min", "1d").await;
    assert_eq!(class_of("glacier/small").await, Some(StorageClass::Glacier));
    assert_eq!(class_of("ia/small").await, None);
}

#[tokio::test]
async fn the_clock_rate_flag_speeds_up_the_default_run_and_bad_rates_refuse_to_start() {
    let s = Spawned::start(&["--clock-rate", "8640"]);
    let get = format!(
        "GET /_s3twin/clock HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
        s.addr
    );
    let (status, text) = raw(&s.addr, get.as_bytes()).await;
    assert_eq!(status, 200, "{text}");
    assert!(text.contains("\"rate\":8640.0"), "{text}");
    for bad in ["0", "-1", "1000001", "NaN", "inf", "fast"] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_s3twin"))
            .args(["--port", "0", &format!("--clock-rate={bad}")])
            .output()
            .expect("run s3twin");
        assert!(!out.status.success(), "--clock-rate {bad} was accepted");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("rate"),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// Waits up to `secs` for the child to exit; its status, or None if it is still running.
fn wait_exit(child: &mut std::process::Child, secs: u64) -> Option<std::process::ExitStatus> {
    let until = std::time::Instant::now() + Duration::from_secs(secs);
    while std::time::Instant::now() < until {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}

#[tokio::test]
async fn exit_with_stdin_stops_the_server_when_its_parent_lets_go_of_stdin() {
    use std::io::BufRead;
    for flag in [true, false] {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_s3twin"));
        cmd.args(["--port", "0"]);
        if flag {
            cmd.arg("--exit-with-stdin");
        }
        let mut child = cmd
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn s3twin");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("first line");
        let addr = line
            .trim()
            .strip_prefix("s3twin listening on http://")
            .expect("listening line")
            .to_string();
        let get =
            format!("GET /_s3twin/health HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
        let (status, text) = raw(&addr, get.as_bytes()).await;
        assert_eq!(status, 200, "{text}");
        // The parent's end of the pipe closes, as when the parent dies.
        drop(child.stdin.take());
        let exited = wait_exit(&mut child, if flag { 5 } else { 1 });
        if flag {
            let status = exited.expect("still running after stdin closed");
            assert!(status.success(), "{status:?}");
        } else {
            assert!(exited.is_none(), "stopped without --exit-with-stdin");
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
