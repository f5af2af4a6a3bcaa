//! The request log (`GET /_s3twin/requests`): entries, filters, bounds, the live tail.

use crate::common::*;
use aws_sdk_s3::operation::RequestId;
use serde_json::{json, Value};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn ops(entries: &[Value]) -> Vec<&str> {
    entries
        .iter()
        .map(|e| e["operation"].as_str().unwrap_or(""))
        .collect()
}

#[tokio::test]
async fn entries_carry_ids_sizes_errors_and_both_clocks() {
    let t = Twin::start().await;
    create_run(&t, "log-a", json!({})).await;
    let (status, _) = admin(
        &t,
        "POST",
        "/_s3twin/clock?runId=log-a",
        Some(json!({"advance": "10d"})),
    )
    .await;
    assert_eq!(status, 200);
    let c = run_client(&t, "log-a");
    let b = new_bucket(&c, "log").await;
    let body = vec![7u8; 4096];
    let put = c
        .put_object()
        .bucket(&b)
        .key("dir/k")
        .body(body.clone().into())
        .send()
        .await
        .expect("put");
    let get = c
        .get_object()
        .bucket(&b)
        .key("dir/k")
        .send()
        .await
        .expect("get");
    let get_id = get.request_id().map(str::to_string);
    assert_eq!(
        get.body.collect().await.expect("body").into_bytes().len(),
        4096
    );
    let missing = c
        .get_object()
        .bucket(&b)
        .key("nope")
        .send()
        .await
        .expect_err("missing");
    let log = request_log(&t, "log-a", "").await;
    // The clock call (admin) first, then the S3 calls in order.
    assert_eq!(
        ops(&log),
        vec![
            "Admin",
            "CreateBucket",
            "PutObject",
            "GetObject",
            "GetObject"
        ]
    );
    let p = &log[2];
    assert_eq!(p["method"], "PUT");
    assert_eq!(p["path"], format!("/t/log-a/{b}/dir/k"));
    assert_eq!(
        (p["bucket"].as_str(), p["key"].as_str()),
        (Some(b.as_str()), Some("dir/k"))
    );
    assert_eq!(p["status"], 200);
    assert_eq!(p["errorCode"], Value::Null);
    assert_eq!(p["requestId"].as_str(), put.request_id());
    assert!(p["bytesIn"].as_u64().expect("bytesIn") >= 4096, "{p}");
    assert!(p["durationMs"].as_f64().expect("duration") > 0.0);
    // The run's clock is 10 days ahead of real time.
    let real = s3twin::clock::parse_rfc3339(p["time"].as_str().expect("time")).expect("time");
    let run = s3twin::clock::parse_rfc3339(p["runTime"].as_str().expect("runTime")).expect("rt");
    assert!((run - real - 10 * 86_400_000).abs() < 60_000, "{p}");
    assert_eq!(log[3]["bytesOut"], 4096);
    assert_eq!(log[3]["requestId"].as_str(), get_id.as_deref());
    let m = &log[4];
    assert_eq!(
        (m["status"].as_u64(), m["errorCode"].as_str()),
        (Some(404), Some("NoSuchKey"))
    );
    assert_eq!(
        m["requestId"].as_str(),
        missing.as_service_error().and_then(|e| e.request_id())
    );
    assert!(m["bytesOut"].as_u64().expect("bytesOut") > 0);
}

#[tokio::test]
async fn filters_select_entries_and_bad_filters_are_400() {
    let t = Twin::start().await;
    create_run(&t, "log-f", json!({})).await;
    let c = run_client(&t, "log-f");
    let b = new_bucket(&c, "logf").await;
    for i in 0..3 {
        put(&c, &b, &format!("k{i}"), b"x").await;
    }
    let _ = c.get_object().bucket(&b).key("gone").send().await;
    let _ = c.head_object().bucket(&b).key("gone").send().await;

    let puts = request_log(&t, "log-f", "&operation=PutObject").await;
    assert_eq!(puts.len(), 3);
    let both = request_log(&t, "log-f", "&operation=PutObject,HeadObject").await;
    assert_eq!(both.len(), 4);
    let errors = request_log(&t, "log-f", "&status=4xx").await;
    assert_eq!(ops(&errors), vec!["GetObject", "HeadObject"]);
    let exact = request_log(&t, "log-f", "&status=404&errorCode=NoSuchKey").await;
    assert_eq!(ops(&exact), vec!["GetObject", "HeadObject"]);
    let latest = request_log(&t, "log-f", "&limit=2").await;
    assert_eq!(ops(&latest), vec!["GetObject", "HeadObject"]);
    let first_put = puts[0]["seq"].as_u64().expect("seq");
    let after = request_log(&t, "log-f", &format!("&since={first_put}&limit=1")).await;
    assert_eq!(after[0]["seq"].as_u64(), Some(first_put + 1));
    let since_time = puts[0]["time"].as_str().expect("time").to_string();
    let by_time = request_log(&t, "log-f", &format!("&since={since_time}")).await;
    assert!(by_time.len() >= 5, "{by_time:?}");

    for bad in [
        "&status=700",
        "&status=9xx",
        "&limit=0",
        "&limit=x",
        "&since=yesterday",
        "&colour=red",
    ] {
        let (status, body) = admin(
            &t,
            "GET",
            &format!("/_s3twin/requests?runId=log-f{bad}"),
            None,
        )
        .await;
        assert_eq!(status, 400, "{bad}: {body}");
        assert!(body["error"].is_string(), "{body}");
    }
    let (status, _) = admin(&t, "GET", "/_s3twin/requests?runId=no-such-run", None).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn the_log_is_bounded_and_reset_clears_it_run_by_run() {
    let server = s3twin::S3Server::builder()
        .port(0)
        .request_log_size(5)
        .build();
    server.start().await.expect("start");
    let t = Twin {
        client: client(&server.endpoint(), true),
        server,
    };
    create_run(&t, "bound-a", json!({})).await;
    create_run(&t, "bound-b", json!({})).await;
    let a = run_client(&t, "bound-a");
    let bb = run_client(&t, "bound-b");
    let b = new_bucket(&a, "bound").await;
    for i in 0..8 {
        put(&a, &b, &format!("k{i}"), b"x").await;
    }
    let log = request_log(&t, "bound-a", "").await;
    assert_eq!(log.len(), 5);
    assert_eq!(log.last().expect("last")["key"], "k7");
    assert_eq!(log[0]["key"], "k3");
    // The other run's log saw none of it.
    let _ = bb.list_buckets().send().await.expect("list");
    assert_eq!(
        ops(&request_log(&t, "bound-b", "").await),
        vec!["ListBuckets"]
    );

    let (status, _) = admin(&t, "POST", "/_s3twin/reset?runId=bound-a", None).await;
    assert_eq!(status, 200);
    assert!(request_log(&t, "bound-a", "").await.is_empty());
    assert_eq!(request_log(&t, "bound-b", "").await.len(), 1);
}

#[tokio::test]
async fn a_log_of_size_zero_keeps_nothing() {
    let server = s3twin::S3Server::builder()
        .port(0)
        .request_log_size(0)
        .build();
    server.start().await.expect("start");
    let t = Twin {
        client: client(&server.endpoint(), true),
        server,
    };
    let b = new_bucket(&t.client, "nolog").await;
    put(&t.client, &b, "k", b"x").await;
    let (status, body) = admin(&t, "GET", "/_s3twin/requests", None).await;
    assert_eq!(status, 200);
    assert_eq!(body["entries"], json!([]));
    assert_eq!(body["capacity"], 0);
}

/// Reads from an SSE socket until `needle` appears (or fails after 10 s).
async fn read_until(s: &mut tokio::net::TcpStream, seen: &mut String, needle: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let mut buf = [0u8; 4096];
    while !seen.contains(needle) {
        let n = tokio::time::timeout_at(deadline, s.read(&mut buf))
            .await
            .unwrap_or_else(|_| panic!("no {needle:?} in {seen}"))
            .expect("read");
        assert!(n > 0, "stream ended before {needle:?}: {seen}");
        seen.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
}

async fn listeners(t: &Twin, run: &str) -> u64 {
    let (_, body) = admin(
        t,
        "GET",
        &format!("/_s3twin/requests?runId={run}&limit=1"),
        None,
    )
    .await;
    body["listeners"].as_u64().expect("listeners")
}

#[tokio::test]
async fn live_tail_streams_new_entries_and_forgets_gone_listeners() {
    let t = Twin::start().await;
    create_run(&t, "tail", json!({})).await;
    let c = run_client(&t, "tail");
    let b = new_bucket(&c, "tail").await;
    let mut s = tokio::net::TcpStream::connect(t.addr())
        .await
        .expect("connect");
    let req = format!(
        "GET /_s3twin/requests?runId=tail&operation=PutObject HTTP/1.1\r\nHost: {}\r\nAccept: text/event-stream\r\n\r\n",
        t.addr()
    );
    s.write_all(req.as_bytes()).await.expect("write");
    let mut seen = String::new();
    read_until(&mut s, &mut seen, ": keep-alive").await;
    assert!(seen.starts_with("HTTP/1.1 200"), "{seen}");
    assert!(
        seen.to_ascii_lowercase()
            .contains("content-type: text/event-stream"),
        "{seen}"
    );
    assert_eq!(listeners(&t, "tail").await, 1);

    let _ = c.head_object().bucket(&b).key("skip").send().await;
    put(&c, &b, "live", b"hello").await;
    read_until(&mut s, &mut seen, "\"key\":\"live\"").await;
    assert!(seen.contains("event: request\ndata: {"), "{seen}");
    assert!(
        !seen.contains("HeadObject"),
        "the filter applies to the tail: {seen}"
    );

    // A listener that went away is dropped at the latest when a write to it fails.
    drop(s);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        put(&c, &b, "more", b"x").await;
        if listeners(&t, "tail").await == 0 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "listener never dropped"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_tail_with_since_or_last_event_id_replays_what_it_missed() {
    let t = Twin::start().await;
    create_run(&t, "tail-since", json!({})).await;
    let c = run_client(&t, "tail-since");
    let b = new_bucket(&c, "since").await;
    put(&c, &b, "first", b"x").await;
    put(&c, &b, "second", b"x").await;
    let first = request_log(&t, "tail-since", "&operation=PutObject").await[0]["seq"]
        .as_u64()
        .expect("seq");
    for header in [
        format!("GET /_s3twin/requests?runId=tail-since&since={first} HTTP/1.1\r\n"),
        format!("GET /_s3twin/requests?runId=tail-since HTTP/1.1\r\nLast-Event-ID: {first}\r\n"),
    ] {
        let mut s = tokio::net::TcpStream::connect(t.addr())
            .await
            .expect("connect");
        let req = format!(
            "{header}Host: {}\r\nAccept: text/event-stream\r\n\r\n",
            t.addr()
        );
        s.write_all(req.as_bytes()).await.expect("write");
        let mut seen = String::new();
        read_until(&mut s, &mut seen, "\"key\":\"second\"").await;
        assert!(!seen.contains("\"key\":\"first\""), "{seen}");
        assert!(seen.contains(&format!("id: {}\n", first + 1)), "{seen}");
    }
}

#[tokio::test]
async fn stopping_the_server_ends_a_live_tail_at_once() {
    let t = Twin::start().await;
    let mut s = tokio::net::TcpStream::connect(t.addr())
        .await
        .expect("connect");
    let req = format!(
        "GET /_s3twin/requests HTTP/1.1\r\nHost: {}\r\nAccept: text/event-stream\r\n\r\n",
        t.addr()
    );
    s.write_all(req.as_bytes()).await.expect("write");
    let mut seen = String::new();
    read_until(&mut s, &mut seen, ": keep-alive").await;
    let start = std::time::Instant::now();
    t.server.stop().await.expect("stop");
    // The graceful stop would otherwise wait its full 5 s for the endless response.
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "{:?}",
        start.elapsed()
    );
    let mut rest = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(3), s.read_to_end(&mut rest)).await;
    // The chunked stream was ended properly (its last chunk), not cut off.
    assert!(
        String::from_utf8_lossy(&rest).ends_with("0\r\n\r\n"),
        "{rest:?}"
    );
}
