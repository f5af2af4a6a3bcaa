//! Chaos rules (`/_s3twin/chaos`): errors, latency, resets, truncated bodies, throttling,
//! count/after/probability/seed, presets, and their marks in the request log.

use crate::common::*;
use aws_sdk_s3::config::retry::RetryConfig;
use aws_sdk_s3::types::*;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

async fn add_rule(t: &Twin, run: &str, rule: Value) -> Value {
    let (status, body) = admin(
        t,
        "POST",
        &format!("/_s3twin/chaos?runId={run}"),
        Some(rule),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    body
}

async fn rules(t: &Twin, run: &str) -> Vec<Value> {
    let (status, body) = admin(t, "GET", &format!("/_s3twin/chaos?runId={run}"), None).await;
    assert_eq!(status, 200, "{body}");
    body["rules"].as_array().expect("rules").clone()
}

/// A client for `run` that does not retry, to see each refusal.
fn once_client(t: &Twin, run: &str) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(
        config_builder(&format!("{}/t/{run}/", t.server.endpoint()), true)
            .retry_config(RetryConfig::disabled())
            .build(),
    )
}

fn slowdown_on_put(count: u64) -> Value {
    json!({
        "match": {"operations": ["PutObject"]},
        "action": {"type": "error", "code": "SlowDown"},
        "count": count,
    })
}

#[tokio::test]
async fn the_sdk_retries_through_two_slowdowns_and_the_log_shows_all_three_attempts() {
    let t = Twin::start().await;
    create_run(&t, "ch-retry", json!({})).await;
    let c = run_client(&t, "ch-retry");
    let b = new_bucket(&c, "retry").await;
    let added = add_rule(&t, "ch-retry", slowdown_on_put(2)).await;
    let id = added["added"][0]["id"].as_u64().expect("id");
    // The SDK's default (standard) retry mode.
    put(&c, &b, "k", b"survived").await;
    assert_eq!(get_bytes(&c, &b, "k").await, b"survived");
    let puts = request_log(&t, "ch-retry", "&operation=PutObject").await;
    let seen: Vec<(u64, Option<&str>)> = puts
        .iter()
        .map(|e| (e["status"].as_u64().unwrap_or(0), e["errorCode"].as_str()))
        .collect();
    assert_eq!(
        seen,
        vec![
            (503, Some("SlowDown")),
            (503, Some("SlowDown")),
            (200, None)
        ]
    );
    for refused in &puts[..2] {
        assert_eq!(refused["chaos"], json!([{"ruleId": id, "action": "error"}]));
    }
    assert_eq!(puts[2]["chaos"], json!([]));
    let listed = rules(&t, "ch-retry").await;
    assert_eq!(
        (listed[0]["hits"].as_u64(), listed[0]["matched"].as_u64()),
        (Some(2), Some(3))
    );
}

#[tokio::test]
async fn an_injected_error_is_the_full_s3_envelope_and_changes_nothing() {
    let t = Twin::start().await;
    create_run(&t, "ch-env", json!({})).await;
    let c = run_client(&t, "ch-env");
    let b = new_bucket(&c, "env").await;
    add_rule(
        &t,
        "ch-env",
        json!({"match": {"operations": ["PutObject"], "bucket": b}, "action": {"type": "error", "code": "SlowDown", "retryAfter": 2}}),
    )
    .await;
    let req = format!(
        "PUT /t/ch-env/{b}/k HTTP/1.1\r\nHost: {}\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello",
        t.addr()
    );
    let (status, text) = raw(&t.addr(), req.as_bytes()).await;
    assert_eq!(status, 503, "{text}");
    assert_eq!(xml_value(&text, "Code").as_deref(), Some("SlowDown"));
    assert_eq!(
        xml_value(&text, "Message").as_deref(),
        Some("Please reduce your request rate.")
    );
    let lower = text.to_ascii_lowercase();
    assert!(lower.contains("\r\nretry-after: 2\r\n"), "{text}");
    let rid = xml_value(&text, "RequestId").expect("RequestId");
    assert!(lower.contains(&format!("x-amz-request-id: {}", rid.to_ascii_lowercase())));
    assert!(xml_value(&text, "HostId").is_some());
    // Nothing was stored.
    let err = c
        .head_object()
        .bucket(&b)
        .key("k")
        .send()
        .await
        .expect_err("absent");
    assert_eq!(error_parts(&err).1, 404);
    // Other operations and buckets pass.
    let other = new_bucket(&c, "env2").await;
    let once = once_client(&t, "ch-env");
    once.put_object()
        .bucket(&other)
        .key("k")
        .body(b"x".to_vec().into())
        .send()
        .await
        .expect("other bucket");
}

#[tokio::test]
async fn after_and_count_pick_which_matches_fail() {
    let t = Twin::start().await;
    create_run(&t, "ch-window", json!({})).await;
    let c = once_client(&t, "ch-window");
    let b = new_bucket(&c, "window").await;
    add_rule(
        &t,
        "ch-window",
        json!({"match": {"methods": ["put"], "keyPrefix": "w/"}, "action": {"type": "error", "code": "InternalError"}, "after": 2, "count": 2}),
    )
    .await;
    let mut outcomes = Vec::new();
    for i in 0..6 {
        let r = c
            .put_object()
            .bucket(&b)
            .key(format!("w/{i}"))
            .body(b"x".to_vec().into())
            .send()
            .await;
        outcomes.push(r.map_err(|e| error_parts(&e)).err());
    }
    let e = Some(("InternalError".to_string(), 500));
    assert_eq!(outcomes, vec![None, None, e.clone(), e, None, None]);
    // Keys outside the prefix never matched.
    put(&c, &b, "other", b"x").await;
    assert_eq!(rules(&t, "ch-window").await[0]["matched"], 6);
}

/// Which of `n` GETs fail under a 50 % rule with `seed`, in a fresh run.
async fn failures_with_seed(t: &Twin, run: &str, seed: u64, n: usize) -> Vec<bool> {
    create_run(t, run, json!({})).await;
    let c = once_client(t, run);
    let b = new_bucket(&c, "seed").await;
    put(&c, &b, "k", b"x").await;
    add_rule(
        t,
        run,
        json!({"match": {"operations": ["GetObject"]}, "action": {"type": "error", "code": "ServiceUnavailable"}, "probability": 0.5, "seed": seed}),
    )
    .await;
    let mut out = Vec::new();
    for _ in 0..n {
        let r = c.get_object().bucket(&b).key("k").send().await;
        if let Err(e) = &r {
            assert_eq!(error_parts(e), ("ServiceUnavailable".to_string(), 503));
        }
        out.push(r.is_err());
    }
    out
}

#[tokio::test]
async fn a_seeded_probability_replays_identically() {
    let t = Twin::start().await;
    let a = failures_with_seed(&t, "ch-seed-a", 42, 40).await;
    let b = failures_with_seed(&t, "ch-seed-b", 42, 40).await;
    let c = failures_with_seed(&t, "ch-seed-c", 43, 40).await;
    assert_eq!(a, b);
    assert_ne!(a, c);
    let failed = a.iter().filter(|f| **f).count();
    assert!((8..=32).contains(&failed), "{failed} of 40");
    // The seed is listed, so an unseeded rule can be replayed too.
    assert_eq!(rules(&t, "ch-seed-a").await[0]["seed"], 42);
}

#[tokio::test]
async fn latency_delays_the_answer() {
    let t = Twin::start().await;
    create_run(&t, "ch-lat", json!({})).await;
    let c = run_client(&t, "ch-lat");
    let b = new_bucket(&c, "lat").await;
    put(&c, &b, "k", b"x").await;
    add_rule(
        &t,
        "ch-lat",
        json!({"match": {"operations": ["GetObject"]}, "action": {"type": "latency", "minMs": 300, "maxMs": 400}}),
    )
    .await;
    let start = Instant::now();
    assert_eq!(get_bytes(&c, &b, "k").await, b"x");
    let took = start.elapsed();
    assert!(took >= Duration::from_millis(300), "{took:?}");
    let log = request_log(&t, "ch-lat", "&operation=GetObject").await;
    assert!(log[0]["durationMs"].as_f64().expect("ms") >= 300.0);
    assert_eq!(log[0]["chaos"][0]["action"], "latency");
}

#[tokio::test]
async fn preset_slow_put_delays_put_and_upload_part_by_one_second() {
    let t = Twin::start().await;
    create_run(&t, "ch-slow", json!({"chaos": ["slow_put"]})).await;
    let c = run_client(&t, "ch-slow");
    let b = new_bucket(&c, "slow").await;
    let start = Instant::now();
    put(&c, &b, "k", b"x").await;
    assert!(start.elapsed() >= Duration::from_millis(1000));
    let start = Instant::now();
    get_bytes(&c, &b, "k").await;
    assert!(
        start.elapsed() < Duration::from_millis(900),
        "reads are not slowed"
    );
    let up = c
        .create_multipart_upload()
        .bucket(&b)
        .key("m")
        .send()
        .await
        .expect("mpu");
    let start = Instant::now();
    c.upload_part()
        .bucket(&b)
        .key("m")
        .upload_id(up.upload_id().expect("id"))
        .part_number(1)
        .body(b"part".to_vec().into())
        .send()
        .await
        .expect("part");
    assert!(start.elapsed() >= Duration::from_millis(1000));
    let listed = rules(&t, "ch-slow").await;
    assert_eq!(listed[0]["preset"], "slow_put");
    assert_eq!(listed[0]["action"], json!({"type": "latency", "ms": 1000}));
    assert_eq!(listed[0]["hits"], 2);
}

#[tokio::test]
async fn preset_503_restore_refuses_every_restore() {
    let t = Twin::start().await;
    create_run(&t, "ch-restore", json!({})).await;
    let (status, _) = admin(
        &t,
        "POST",
        "/_s3twin/chaos?runId=ch-restore",
        Some(json!({"preset": "503_restore"})),
    )
    .await;
    assert_eq!(status, 201);
    let c = once_client(&t, "ch-restore");
    let b = new_bucket(&c, "restore").await;
    c.put_object()
        .bucket(&b)
        .key("cold")
        .storage_class(StorageClass::Glacier)
        .body(b"x".to_vec().into())
        .send()
        .await
        .expect("put");
    for _ in 0..3 {
        let err = c
            .restore_object()
            .bucket(&b)
            .key("cold")
            .restore_request(RestoreRequest::builder().days(1).build())
            .send()
            .await
            .expect_err("refused");
        assert_eq!(error_parts(&err), ("ServiceUnavailable".to_string(), 503));
    }
    // The object was never restored.
    let head = c
        .head_object()
        .bucket(&b)
        .key("cold")
        .send()
        .await
        .expect("head");
    assert_eq!(head.restore(), None);
}

async fn expire_in_two_days(c: &aws_sdk_s3::Client) -> String {
    let b = new_bucket(c, "early").await;
    put_expiration_rule(c, &b, "two-days", "", 2).await;
    put(c, &b, "k", b"x").await;
    b
}

#[tokio::test]
async fn preset_lifecycle_early_delete_expires_a_day_before_the_due_day() {
    let t = Twin::start().await;
    create_run(&t, "ch-early", json!({"chaos": ["lifecycle_early_delete"]})).await;
    create_run(&t, "ch-control", json!({})).await;
    let early = run_client(&t, "ch-early");
    let control = run_client(&t, "ch-control");
    let eb = expire_in_two_days(&early).await;
    let cb = expire_in_two_days(&control).await;
    // Due at the midnight after creation + 2 days; two days later it is not due yet.
    for run in ["ch-early", "ch-control"] {
        let (status, body) = admin(
            &t,
            "POST",
            &format!("/_s3twin/clock?runId={run}"),
            Some(json!({"advance": "2d"})),
        )
        .await;
        assert_eq!(status, 200, "{body}");
    }
    let gone = early
        .head_object()
        .bucket(&eb)
        .key("k")
        .send()
        .await
        .expect_err("expired early");
    assert_eq!(error_parts(&gone).1, 404);
    control
        .head_object()
        .bucket(&cb)
        .key("k")
        .send()
        .await
        .expect("not due yet");
    assert_eq!(rules(&t, "ch-early").await[0]["hits"], 1);
    // A request rule-free run pays nothing: the preset matches no request.
    assert!(request_log(&t, "ch-early", "&operation=PutObject").await[0]["chaos"] == json!([]));
}

#[tokio::test]
async fn reset_drops_the_answer_after_the_request_is_carried_out() {
    let t = Twin::start().await;
    create_run(&t, "ch-reset", json!({})).await;
    let c = run_client(&t, "ch-reset");
    let b = new_bucket(&c, "reset").await;
    add_rule(
        &t,
        "ch-reset",
        json!({"match": {"operations": ["PutObject"]}, "action": {"type": "reset"}, "count": 1}),
    )
    .await;
    let req = format!(
        "PUT /t/ch-reset/{b}/k HTTP/1.1\r\nHost: {}\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello",
        t.addr()
    );
    let (status, text) = raw(&t.addr(), req.as_bytes()).await;
    assert_eq!((status, text.as_str()), (0, ""), "no answer at all");
    assert_eq!(get_bytes(&c, &b, "k").await, b"hello", "the write happened");
    let log = request_log(&t, "ch-reset", "&operation=PutObject").await;
    assert_eq!(log[0]["chaos"][0]["action"], "reset");
    assert_eq!(log[0]["bytesOut"], 0);
}

#[tokio::test]
async fn truncate_cuts_the_body_short_and_closes_the_connection() {
    let t = Twin::start().await;
    create_run(&t, "ch-cut", json!({})).await;
    let c = run_client(&t, "ch-cut");
    let b = new_bucket(&c, "cut").await;
    put(&c, &b, "k", &[b'a'; 1000]).await;
    add_rule(&t, "ch-cut", json!({"match": {"operations": ["GetObject"]}, "action": {"type": "truncate", "bytes": 100}})).await;
    let req = format!("GET /t/ch-cut/{b}/k HTTP/1.1\r\nHost: {}\r\n\r\n", t.addr());
    // No Connection: close, so only the server closing ends the read.
    let (status, text) = raw(&t.addr(), req.as_bytes()).await;
    assert_eq!(status, 200);
    assert!(
        text.to_ascii_lowercase().contains("content-length: 1000"),
        "{text}"
    );
    let body = text.split_once("\r\n\r\n").expect("head").1;
    assert_eq!(body.len(), 100);
    // The SDK sees a failed read, not a short object.
    let got = c.get_object().bucket(&b).key("k").send().await;
    let failed = match got {
        Err(_) => true,
        Ok(out) => out.body.collect().await.is_err(),
    };
    assert!(failed);
    let log = request_log(&t, "ch-cut", "&operation=GetObject&limit=1").await;
    assert_eq!(log[0]["chaos"][0]["action"], "truncate");
    assert_eq!(log[0]["bytesOut"], 100);
}

#[tokio::test]
async fn throttle_lets_n_a_second_through() {
    let t = Twin::start().await;
    create_run(&t, "ch-thr", json!({})).await;
    let c = once_client(&t, "ch-thr");
    let b = new_bucket(&c, "thr").await;
    put(&c, &b, "k", b"x").await;
    add_rule(&t, "ch-thr", json!({"match": {"operations": ["HeadObject"]}, "action": {"type": "throttle", "perSecond": 2}})).await;
    let mut codes = Vec::new();
    for _ in 0..4 {
        let r = c.head_object().bucket(&b).key("k").send().await;
        codes.push(r.err().map(|e| error_parts(&e).1));
    }
    assert_eq!(codes, vec![None, None, Some(503), Some(503)]);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    c.head_object()
        .bucket(&b)
        .key("k")
        .send()
        .await
        .expect("a new second");
}

#[tokio::test]
async fn bad_rules_are_400_json_and_change_nothing() {
    let t = Twin::start().await;
    create_run(&t, "ch-bad", json!({"chaos": [{"preset": "slow_put"}]})).await;
    for bad in [
        json!({"preset": "no_such_preset"}),
        json!({"action": {"type": "error"}, "probability": 1.5}),
        json!({"action": {"type": "error", "code": "NoSuchKey"}}),
        json!({"action": {"type": "latency", "ms": -1}}),
        json!({"match": {"operation": "PutObject"}, "action": {"type": "reset"}}),
        json!({"match": {}}),
        json!([{"action": {"type": "reset"}}, {"preset": "nope"}]),
        json!("slow_put"),
    ] {
        let (status, body) =
            admin(&t, "POST", "/_s3twin/chaos?runId=ch-bad", Some(bad.clone())).await;
        // A bare string is a preset name only inside a list (run creation, seeds).
        let expect = if bad.is_string() { 201 } else { 400 };
        assert_eq!(status, expect, "{bad}: {body}");
        if expect == 400 {
            assert!(body["error"].is_string(), "{body}");
        }
    }
    let req = format!(
        "POST /_s3twin/chaos?runId=ch-bad HTTP/1.1\r\nHost: {}\r\nContent-Length: 9\r\nConnection: close\r\n\r\n{{\"match\":",
        t.addr()
    );
    let (status, text) = raw(&t.addr(), req.as_bytes()).await;
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("\"error\""));
    // Only the two presets are there: the refused list added nothing, not even its good half.
    let listed = rules(&t, "ch-bad").await;
    assert_eq!(listed.len(), 2, "{listed:?}");
    // A run asked for with a bad rule is not created.
    let (status, body) = admin(
        &t,
        "POST",
        "/_s3twin/runs",
        Some(json!({"runId": "ch-bad-2", "chaos": ["slow"]})),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    let (status, _) = admin(&t, "GET", "/_s3twin/chaos?runId=ch-bad-2", None).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn runs_have_their_own_rules_and_reset_or_delete_clears_them() {
    let t = Twin::start().await;
    create_run(&t, "ch-one", json!({})).await;
    create_run(&t, "ch-two", json!({})).await;
    add_rule(&t, "ch-one", slowdown_on_put(100)).await;
    let one = once_client(&t, "ch-one");
    let two = once_client(&t, "ch-two");
    let b1 = new_bucket(&one, "one").await;
    let b2 = new_bucket(&two, "two").await;
    assert!(one
        .put_object()
        .bucket(&b1)
        .key("k")
        .body(b"x".to_vec().into())
        .send()
        .await
        .is_err());
    two.put_object()
        .bucket(&b2)
        .key("k")
        .body(b"x".to_vec().into())
        .send()
        .await
        .expect("other run");
    assert!(rules(&t, "ch-two").await.is_empty());

    let (status, body) = admin(&t, "POST", "/_s3twin/reset?runId=ch-one", None).await;
    assert_eq!(status, 200, "{body}");
    assert!(rules(&t, "ch-one").await.is_empty());
    let b1 = new_bucket(&one, "one").await;
    one.put_object()
        .bucket(&b1)
        .key("k")
        .body(b"x".to_vec().into())
        .send()
        .await
        .expect("after reset");

    // DELETE one rule, then all.
    let a = add_rule(&t, "ch-two", slowdown_on_put(1)).await["added"][0]["id"]
        .as_u64()
        .expect("id");
    add_rule(&t, "ch-two", slowdown_on_put(1)).await;
    let (status, _) = admin(
        &t,
        "DELETE",
        &format!("/_s3twin/chaos?runId=ch-two&id={a}"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = admin(
        &t,
        "DELETE",
        &format!("/_s3twin/chaos?runId=ch-two&id={a}"),
        None,
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(rules(&t, "ch-two").await.len(), 1);
    let (status, body) = admin(&t, "DELETE", "/_s3twin/chaos?runId=ch-two", None).await;
    assert_eq!((status, body["removed"].as_u64()), (200, Some(1)));
    assert!(rules(&t, "ch-two").await.is_empty());
}

#[tokio::test]
async fn a_seed_document_can_bring_chaos() {
    let t = Twin::start().await;
    create_run(&t, "ch-seeded", json!({"seed": {"buckets": [{"name": "seeded"}], "chaos": ["503_restore", {"match": {"operations": ["GetObject"]}, "action": {"type": "error"}, "count": 1}]}})).await;
    let listed = rules(&t, "ch-seeded").await;
    assert_eq!(listed.len(), 2);
    let (status, body) = admin(
        &t,
        "POST",
        "/_s3twin/seed?runId=ch-seeded",
        Some(json!({"chaos": [{"preset": "bogus"}], "buckets": [{"name": "never"}]})),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    let c = run_client(&t, "ch-seeded");
    let names: Vec<String> = c
        .list_buckets()
        .send()
        .await
        .expect("list")
        .buckets()
        .iter()
        .filter_map(|b| b.name().map(str::to_string))
        .collect();
    assert_eq!(names, vec!["seeded"]);
}

#[tokio::test]
async fn the_default_run_keeps_its_builder_chaos_across_resets() {
    let server = s3twin::S3Server::builder()
        .port(0)
        .chaos(&slowdown_on_put(1))
        .expect("rule")
        .build();
    server.start().await.expect("start");
    let t = Twin {
        client: client(&server.endpoint(), true),
        server,
    };
    assert_eq!(rules(&t, "default").await.len(), 1);
    t.server.reset().await;
    let listed = rules(&t, "default").await;
    assert_eq!((listed.len(), listed[0]["hits"].as_u64()), (1, Some(0)));
}

#[test]
fn the_chaos_flag_configures_the_default_run() {
    let s = Spawned::start(&[
        "--chaos",
        "slow_put",
        "--chaos",
        r#"{"action":{"type":"error"},"match":{"operations":["ListBuckets"]}}"#,
    ]);
    let rt = tokio::runtime::Runtime::new().expect("rt");
    rt.block_on(async {
        let c = aws_sdk_s3::Client::from_conf(
            config_builder(&s.endpoint(), true)
                .retry_config(RetryConfig::disabled())
                .build(),
        );
        let err = c.list_buckets().send().await.expect_err("refused");
        assert_eq!(error_parts(&err).0, "SlowDown");
    });
    let bad = std::process::Command::new(env!("CARGO_BIN_EXE_s3twin"))
        .args(["--port", "0", "--chaos", "nope"])
        .output()
        .expect("run");
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unknown chaos preset"));
}

#[tokio::test]
async fn the_runs_list_counts_each_runs_chaos_rules() {
    let t = Twin::start().await;
    create_run(&t, "ch-count", json!({"chaos": ["slow_put"]})).await;
    create_run(&t, "ch-none", json!({})).await;
    add_rule(&t, "ch-count", slowdown_on_put(100)).await;
    let (status, body) = admin(&t, "GET", "/_s3twin/runs", None).await;
    assert_eq!(status, 200, "{body}");
    let count = |id: &str| {
        body["runs"]
            .as_array()
            .and_then(|runs| runs.iter().find(|r| r["runId"] == id))
            .map(|r| r["chaosRules"].clone())
    };
    assert_eq!(count("ch-count"), Some(json!(2)), "{body}");
    assert_eq!(count("ch-none"), Some(json!(0)), "{body}");
}
