//! Hostile and buggy input over a real socket: every request gets S3's answer, the server
//! stays up, keeps its data, and its memory stays proportional to what it stores.

use crate::common::*;
use aws_sdk_s3::types::*;
use base64::Engine;
use md5::{Digest, Md5};
use serde_json::json;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A hang guard, not a measurement: generous enough for a loaded 2-core CI machine.
const GUARD: Duration = Duration::from_secs(20);

fn content_md5(body: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(Md5::digest(body))
}

/// One raw request with a body (and its Content-MD5), answered in full.
async fn send(t: &Twin, method: &str, path: &str, headers: &str, body: &[u8]) -> (u16, String) {
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Length: {}\r\nContent-MD5: {}\r\n{headers}Connection: close\r\n\r\n",
        t.addr(),
        body.len(),
        content_md5(body)
    )
    .into_bytes();
    req.extend_from_slice(body);
    tokio::time::timeout(GUARD, raw(&t.addr(), &req))
        .await
        .expect("answered in time")
}

fn code(text: &str) -> String {
    xml_value(text, "Code").unwrap_or_default()
}

/// Writes `bytes` and, without closing the connection, waits for the response head.
async fn answer_while_open(addr: &str, bytes: &[u8]) -> String {
    let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
    s.write_all(bytes).await.expect("write");
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    let read = async {
        loop {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    out.extend_from_slice(&buf[..n]);
                    if String::from_utf8_lossy(&out).contains("</Error>") {
                        break;
                    }
                }
            }
        }
    };
    tokio::time::timeout(GUARD, read)
        .await
        .expect("answered while the client still holds the connection");
    String::from_utf8_lossy(&out).into_owned()
}

fn nested(root: &str, depth: usize) -> String {
    let mut doc = format!("<{root}>");
    doc.push_str(&"<a>".repeat(depth));
    doc.push_str(&"</a>".repeat(depth));
    doc.push_str(&format!("</{root}>"));
    doc
}

#[tokio::test]
async fn deeply_nested_xml_is_malformed_and_crashes_nothing() {
    let t = Twin::start().await;
    let b = new_bucket(&t.client, "deep").await;
    put(&t.client, &b, "k", b"kept").await;
    let targets = [
        ("PUT", format!("/{b}/k?tagging"), "Tagging"),
        ("POST", format!("/{b}?delete"), "Delete"),
        (
            "PUT",
            format!("/{}", bucket_name("deepnew")),
            "CreateBucketConfiguration",
        ),
        ("PUT", format!("/{b}?lifecycle"), "LifecycleConfiguration"),
        ("PUT", format!("/{b}/k?acl"), "AccessControlPolicy"),
        ("PUT", format!("/{b}?cors"), "CORSConfiguration"),
    ];
    for (method, path, root) in targets {
        let doc = nested(root, 40_000);
        assert!(doc.len() > 280_000);
        let (status, text) = send(&t, method, &path, "", doc.as_bytes()).await;
        // ACL bodies S3 cannot read are an ACL error, whatever is wrong with them.
        let expected = if root == "AccessControlPolicy" {
            "MalformedACLError"
        } else {
            "MalformedXML"
        };
        assert_eq!(
            (status, code(&text)),
            (400, expected.into()),
            "{method} {path}"
        );
        assert!(text.contains("<RequestId>"), "full envelope: {text}");
    }
    // A document just inside the depth limit still parses (and is judged on its content).
    let (status, text) = send(
        &t,
        "PUT",
        &format!("/{b}/k?tagging"),
        "",
        nested("Tagging", 30).as_bytes(),
    )
    .await;
    assert_eq!((status, code(&text)), (400, "MalformedXML".into()));
    assert_eq!(get_bytes(&t.client, &b, "k").await, b"kept");
}

fn lifecycle_doc(action: &str) -> String {
    format!(
        "<LifecycleConfiguration><Rule><ID>r</ID><Filter><Prefix>logs/</Prefix></Filter><Status>Enabled</Status>{action}</Rule></LifecycleConfiguration>"
    )
}

#[tokio::test]
async fn out_of_range_lifecycle_numbers_are_refused_and_nothing_expires() {
    let t = Twin::start().await;
    let b = new_bucket(&t.client, "lcrange").await;
    put(&t.client, &b, "logs/a", b"precious").await;
    let malformed = [
        "<Expiration><Days>106751991168</Days></Expiration>",
        "<Expiration><Days>2147483648</Days></Expiration>",
        "<Expiration><Date>99999-01-01T00:00:00Z</Date></Expiration>",
        "<NoncurrentVersionExpiration><NoncurrentDays>99999999999</NoncurrentDays></NoncurrentVersionExpiration>",
        "<NoncurrentVersionExpiration><NoncurrentDays>1</NoncurrentDays><NewerNoncurrentVersions>99999999999</NewerNoncurrentVersions></NoncurrentVersionExpiration>",
        "<AbortIncompleteMultipartUpload><DaysAfterInitiation>9999999999</DaysAfterInitiation></AbortIncompleteMultipartUpload>",
        "<Transition><Days>3000000000</Days><StorageClass>GLACIER</StorageClass></Transition>",
    ];
    for action in malformed {
        let (status, text) = send(
            &t,
            "PUT",
            &format!("/{b}?lifecycle"),
            "",
            lifecycle_doc(action).as_bytes(),
        )
        .await;
        assert_eq!(
            (status, code(&text)),
            (400, "MalformedXML".into()),
            "{action}"
        );
    }
    let err = t
        .client
        .put_bucket_lifecycle_configuration()
        .bucket(&b)
        .lifecycle_configuration(
            BucketLifecycleConfiguration::builder()
                .rules(
                    LifecycleRule::builder()
                        .id("keep")
                        .filter(LifecycleRuleFilter::builder().prefix("logs/").build())
                        .status(ExpirationStatus::Enabled)
                        .noncurrent_version_expiration(
                            NoncurrentVersionExpiration::builder()
                                .noncurrent_days(1)
                                .newer_noncurrent_versions(101)
                                .build(),
                        )
                        .build()
                        .expect("rule"),
                )
                .build()
                .expect("config"),
        )
        .send()
        .await
        .expect_err("101 newer noncurrent versions");
    assert_eq!(error_parts(&err), ("InvalidArgument".into(), 400));
    let meta = err
        .as_service_error()
        .and_then(|e| e.meta().message())
        .unwrap_or("");
    assert_eq!(
        meta,
        "'NewerNoncurrentVersions' for NoncurrentVersionExpiration action must be an integer between 1 and 100"
    );
    let (s, _) = admin(&t, "POST", "/_s3twin/clock", Some(json!({"advance": "3d"}))).await;
    assert_eq!(s, 200);
    assert_eq!(get_bytes(&t.client, &b, "logs/a").await, b"precious");
}

#[tokio::test]
async fn expiry_beyond_year_9999_is_no_expiry_and_no_panic() {
    let t = Twin::start().await;
    for days in [i32::MAX, 3_000_000] {
        let b = new_bucket(&t.client, "lcfar").await;
        put_expiration_rule(&t.client, &b, "far", "far/", days).await;
        let out = t
            .client
            .put_object()
            .bucket(&b)
            .key("far/a")
            .body(b"far".to_vec().into())
            .send()
            .await
            .expect("PUT answers");
        assert_eq!(out.expiration(), None, "no expiry date S3 could write");
        let got = t
            .client
            .get_object()
            .bucket(&b)
            .key("far/a")
            .send()
            .await
            .expect("GET answers");
        assert_eq!(got.expiration(), None);
        let head = head(&t.client, &b, "far/a").await;
        assert_eq!(head.expiration(), None);
        let (s, _) = admin(&t, "POST", "/_s3twin/clock", Some(json!({"advance": "1d"}))).await;
        assert_eq!(s, 200);
        assert_eq!(get_bytes(&t.client, &b, "far/a").await, b"far");
    }
}

#[tokio::test]
async fn a_replaced_lifecycle_document_takes_effect_at_once() {
    let t = Twin::start().await;
    let b = new_bucket(&t.client, "lccache").await;
    put(&t.client, &b, "a/x", b"x").await;
    let rule_of = |h: Option<&str>| {
        h.and_then(|v| v.split("rule-id=\"").nth(1))
            .map(|r| r.trim_end_matches('"').to_string())
    };
    put_expiration_rule(&t.client, &b, "first", "a/", 5).await;
    let out = head(&t.client, &b, "a/x").await;
    assert_eq!(rule_of(out.expiration()).as_deref(), Some("first"));
    put_expiration_rule(&t.client, &b, "second", "a/", 7).await;
    let out = head(&t.client, &b, "a/x").await;
    assert_eq!(rule_of(out.expiration()).as_deref(), Some("second"));
    t.client
        .delete_bucket_lifecycle()
        .bucket(&b)
        .send()
        .await
        .expect("delete lifecycle");
    let out = head(&t.client, &b, "a/x").await;
    assert_eq!(out.expiration(), None);
}

#[tokio::test]
async fn the_clock_stops_at_year_9999_and_never_wraps() {
    let t = Twin::start().await;
    let b = new_bucket(&t.client, "clockmax").await;
    for by in [
        "2913000d",
        "106751991167d",
        "9223372036854775807s",
        "99999999999999999999d",
    ] {
        let (s, body) = admin(&t, "POST", "/_s3twin/clock", Some(json!({"advance": by}))).await;
        assert_eq!(s, 400, "advance {by}: {body}");
    }
    let (s, _) = admin(
        &t,
        "POST",
        "/_s3twin/clock",
        Some(json!({"set": "9999-12-31T23:59:59Z"})),
    )
    .await;
    assert_eq!(s, 200);
    // Every S3 request of the run still answers, with dates S3 can write.
    put(&t.client, &b, "late", b"at the end of time").await;
    let got = t
        .client
        .get_object()
        .bucket(&b)
        .key("late")
        .send()
        .await
        .expect("get");
    let lm = got.last_modified().expect("last modified");
    assert_eq!(lm.secs(), 253_402_300_799);
    let listed = t
        .client
        .list_objects_v2()
        .bucket(&b)
        .send()
        .await
        .expect("list");
    assert_eq!(listed.key_count(), Some(1));
    let (s, body) = admin(&t, "POST", "/_s3twin/clock", Some(json!({"advance": "1d"}))).await;
    assert_eq!(s, 400, "{body}");
    let (s, body) = admin(
        &t,
        "POST",
        "/_s3twin/clock",
        Some(json!({"set": "2026-01-01T00:00:00Z"})),
    )
    .await;
    assert_eq!(s, 400, "never backwards: {body}");
    let (_, clock) = admin(&t, "GET", "/_s3twin/clock", None).await;
    assert!(
        clock["now"]
            .as_str()
            .unwrap_or("")
            .starts_with("9999-12-31T23:59:59"),
        "{clock}"
    );
    assert_eq!(
        get_bytes(&t.client, &b, "late").await,
        b"at the end of time"
    );
}

#[tokio::test]
async fn tag_floods_are_refused_before_any_quadratic_work() {
    let t = Twin::start().await;
    let b = new_bucket(&t.client, "tagflood").await;
    put(&t.client, &b, "k", b"v").await;
    let many = |n: usize| -> String {
        let tags: String = (0..n)
            .map(|i| format!("<Tag><Key>k{i}</Key><Value>v</Value></Tag>"))
            .collect();
        format!("<Tagging><TagSet>{tags}</TagSet></Tagging>")
    };
    let (s, text) = send(
        &t,
        "PUT",
        &format!("/{b}/k?tagging"),
        "",
        many(60_000).as_bytes(),
    )
    .await;
    assert_eq!((s, code(&text)), (400, "InvalidTag".into()));
    assert_eq!(
        xml_value(&text, "Message").as_deref(),
        Some("Object tags cannot be greater than 10")
    );
    let (s, text) = send(
        &t,
        "PUT",
        &format!("/{b}?tagging"),
        "",
        many(60_000).as_bytes(),
    )
    .await;
    assert_eq!((s, code(&text)), (400, "InvalidTag".into()));
    let header: Vec<String> = (0..20_000).map(|i| format!("k{i}=v")).collect();
    let (s, text) = send(
        &t,
        "PUT",
        &format!("/{b}/h"),
        &format!("x-amz-tagging: {}\r\n", header.join("&")),
        b"body",
    )
    .await;
    assert_eq!((s, code(&text)), (400, "InvalidTag".into()));
    // Ten tags are still fine, and duplicates among them are still found.
    let (s, text) = send(
        &t,
        "PUT",
        &format!("/{b}/h"),
        "x-amz-tagging: a=1&a=2\r\n",
        b"body",
    )
    .await;
    assert_eq!((s, code(&text)), (400, "InvalidTag".into()));
    let health = admin(&t, "GET", "/_s3twin/health", None).await;
    assert_eq!(health.0, 200);
}

fn aws_chunked_head(t: &Twin, path: &str, decoded: u64, trailer: Option<&str>) -> String {
    let trailer = trailer
        .map(|h| format!("x-amz-trailer: {h}\r\n"))
        .unwrap_or_default();
    format!(
        "PUT {path} HTTP/1.1\r\nHost: {}\r\nx-amz-content-sha256: STREAMING-UNSIGNED-PAYLOAD-TRAILER\r\nContent-Encoding: aws-chunked\r\nx-amz-decoded-content-length: {decoded}\r\n{trailer}Transfer-Encoding: chunked\r\n\r\n",
        t.addr()
    )
}

/// Wraps `data` in one HTTP/1.1 chunk (the transport framing under aws-chunked).
fn http_chunk(data: &[u8]) -> Vec<u8> {
    let mut out = format!("{:x}\r\n", data.len()).into_bytes();
    out.extend_from_slice(data);
    out.extend_from_slice(b"\r\n");
    out
}

#[tokio::test]
async fn aws_chunked_trailers_and_overlong_bodies_are_bounded() {
    let t = Twin::start().await;
    let b = new_bucket(&t.client, "chunkbound").await;
    // A trailer section of many lines: refused, not collected.
    let mut wire =
        aws_chunked_head(&t, &format!("/{b}/t"), 2, Some("x-amz-checksum-crc32")).into_bytes();
    let mut inner = b"2\r\nhi\r\n0\r\n".to_vec();
    for i in 0..10_000 {
        inner.extend_from_slice(format!("x-junk-{i}: {}\r\n", "v".repeat(100)).as_bytes());
    }
    inner.extend_from_slice(b"\r\n");
    wire.extend_from_slice(&http_chunk(&inner));
    wire.extend_from_slice(b"0\r\n\r\n");
    let text = answer_while_open(&t.addr(), &wire).await;
    assert!(text.starts_with("HTTP/1.1 400"), "{text}");
    assert_eq!(code(&text), "MalformedTrailerError");
    // A body that says 10 bytes and sends a megabyte more: refused at the first byte too
    // many, while the client is still sending.
    let mut wire = aws_chunked_head(&t, &format!("/{b}/o"), 10, None).into_bytes();
    let mut inner = format!("{:x}\r\n", 1 << 20).into_bytes();
    inner.extend(std::iter::repeat_n(b'x', 1 << 20));
    wire.extend_from_slice(&http_chunk(&inner));
    let text = answer_while_open(&t.addr(), &wire).await;
    assert!(text.starts_with("HTTP/1.1 400"), "{text}");
    assert_eq!(code(&text), "IncompleteBody");
    let err = t
        .client
        .head_object()
        .bucket(&b)
        .key("o")
        .send()
        .await
        .expect_err("nothing stored");
    assert_eq!(error_parts(&err).1, 404);
}

#[tokio::test]
async fn stalled_bodies_answer_request_timeout_and_stalled_headers_are_dropped() {
    let server = s3twin::S3Server::builder()
        .port(0)
        .body_idle_timeout(Some(Duration::from_secs(1)))
        .header_read_timeout(Duration::from_secs(1))
        .build();
    server.start().await.expect("start");
    let client = client(&server.endpoint(), true);
    let b = new_bucket(&client, "stall").await;
    let addr = server.local_addr().expect("addr").to_string();
    let mut head = format!(
        "PUT /{b}/big HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {}\r\n\r\n",
        200u64 << 20
    )
    .into_bytes();
    head.extend(std::iter::repeat_n(b'x', 1 << 20));
    let text = answer_while_open(&addr, &head).await;
    assert!(text.starts_with("HTTP/1.1 400"), "{text}");
    assert_eq!(code(&text), "RequestTimeout");
    assert_eq!(
        xml_value(&text, "Message").as_deref(),
        Some("Your socket connection to the server was not read from or written to within the timeout period. Idle connections will be closed.")
    );
    let err = client
        .head_object()
        .bucket(&b)
        .key("big")
        .send()
        .await
        .expect_err("not stored");
    assert_eq!(error_parts(&err).1, 404);
    // Headers that never finish: the connection is closed.
    let mut s = tokio::net::TcpStream::connect(&addr)
        .await
        .expect("connect");
    s.write_all(format!("GET /{b} HTTP/1.1\r\nHost: {addr}\r\n").as_bytes())
        .await
        .expect("write");
    let mut buf = Vec::new();
    tokio::time::timeout(GUARD, s.read_to_end(&mut buf))
        .await
        .expect("closed by the server")
        .ok();
    server.stop().await.expect("stop");
}

#[tokio::test]
async fn bucket_policy_size_is_limited_without_whitespace() {
    let t = Twin::start().await;
    let b = new_bucket(&t.client, "polsize").await;
    let policy = |resources: usize, pad: usize| {
        let res: Vec<String> = (0..resources)
            .map(|i| format!("arn:aws:s3:::{b}/prefix-{i:05}/*"))
            .collect();
        let doc = json!({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": res}]
        });
        format!("{}{doc}", " ".repeat(pad))
    };
    let big = policy(700, 0);
    assert!(big.len() > 20 * 1024);
    let err = t
        .client
        .put_bucket_policy()
        .bucket(&b)
        .policy(big)
        .send()
        .await
        .expect_err("too large");
    assert_eq!(error_parts(&err), ("MalformedPolicy".into(), 400));
    assert_eq!(
        err.as_service_error().and_then(|e| e.meta().message()),
        Some("Policy exceeds the maximum allowed document size.")
    );
    let padded = policy(10, 40 * 1024);
    t.client
        .put_bucket_policy()
        .bucket(&b)
        .policy(padded)
        .send()
        .await
        .expect("whitespace does not count");
}

#[tokio::test]
async fn run_ids_dot_and_dotdot_are_refused() {
    let t = Twin::start().await;
    for id in [".", ".."] {
        let (s, body) = admin(&t, "POST", "/_s3twin/runs", Some(json!({"runId": id}))).await;
        assert_eq!(s, 400, "{id}: {body}");
    }
    for path in ["/t/../", "/t/./b", "/t/%2E%2E/b"] {
        let req = format!(
            "GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            t.addr()
        );
        let (s, text) = raw(&t.addr(), req.as_bytes()).await;
        assert_eq!((s, code(&text)), (400, "InvalidArgument".into()), "{path}");
    }
}

#[tokio::test]
async fn admin_presign_refuses_a_host_that_would_change_the_url() {
    let t = Twin::start().await;
    let body = json!({"bucket": "b", "key": "k"}).to_string();
    for host in ["evil.example/x?y=", "a b", "user@host"] {
        let req = format!(
            "POST /_s3twin/presign HTTP/1.1\r\nHost: {host}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        let (s, text) = raw(&t.addr(), req.as_bytes()).await;
        assert_eq!(s, 400, "{host}: {text}");
    }
    let (s, out) = admin(
        &t,
        "POST",
        "/_s3twin/presign",
        Some(json!({"bucket": "b", "key": "k"})),
    )
    .await;
    assert_eq!(s, 200);
    assert!(
        out["url"]
            .as_str()
            .unwrap_or("")
            .starts_with(&format!("http://{}/b/k?", t.addr())),
        "{out}"
    );
}

#[tokio::test]
async fn sigv2_expires_far_in_the_future_is_not_expired() {
    let t = Twin::start().await;
    let b = new_bucket(&t.client, "v2far").await;
    put(&t.client, &b, "k", b"v").await;
    for expires in ["9223372036854775807", "9223372036854775"] {
        let req = format!(
            "GET /{b}/k?AWSAccessKeyId=parlel&Expires={expires}&Signature=x HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            t.addr()
        );
        let (s, text) = raw(&t.addr(), req.as_bytes()).await;
        assert_eq!(s, 200, "Expires={expires}: {text}");
    }
}

#[tokio::test]
async fn content_length_beyond_any_body_is_a_400() {
    let t = Twin::start().await;
    let b = new_bucket(&t.client, "cl").await;
    for len in [
        "18446744073709551615",
        "18446744073709551614",
        "99999999999999999999",
    ] {
        let req = format!(
            "PUT /{b}/k HTTP/1.1\r\nHost: {}\r\nContent-Length: {len}\r\nConnection: close\r\n\r\nabc",
            t.addr()
        );
        let (s, text) = raw(&t.addr(), req.as_bytes()).await;
        assert_eq!(s, 400, "Content-Length {len}: {text}");
        assert!(text.contains("<RequestId>"), "{text}");
    }
    // Headers past what the server buffers: the same S3 answer, not a bare 431.
    let req = format!(
        "GET /{b} HTTP/1.1\r\nHost: {}\r\nx-junk: {}\r\nConnection: close\r\n\r\n",
        t.addr(),
        "j".repeat(600 * 1024)
    );
    let (s, text) = raw(&t.addr(), req.as_bytes()).await;
    assert_eq!(
        (s, code(&text)),
        (400, "RequestHeaderSectionTooLarge".into()),
        "{text}"
    );
    assert!(t.client.list_buckets().send().await.is_ok());
}

/// One raw request to a spawned server, answered in full.
async fn send_to(addr: &str, head: &str, body: &[u8]) -> (u16, String) {
    let mut req = head.as_bytes().to_vec();
    req.extend_from_slice(body);
    tokio::time::timeout(GUARD, raw(addr, &req))
        .await
        .expect("answered in time")
}

#[tokio::test]
async fn stored_bodies_cost_their_length_not_their_framing() {
    let mut s = Spawned::start(&[]);
    let client = client(&s.endpoint(), true);
    let b = new_bucket(&client, "framing").await;
    let base = s.rss_kib();

    // 200 one-byte objects, each sent after a 200 KB header: ~50 MiB if each pinned its
    // connection's read buffer.
    let junk = "j".repeat(200 * 1024);
    for i in 0..200 {
        let head = format!(
            "PUT /{b}/small-{i} HTTP/1.1\r\nHost: {}\r\nx-junk: {junk}\r\nContent-Length: 1\r\nConnection: close\r\n\r\n",
            s.addr
        );
        let (status, text) = send_to(&s.addr, &head, b"z").await;
        assert_eq!(status, 200, "{text}");
    }
    let after_small = s.rss_kib();
    assert!(
        after_small.saturating_sub(base) < 16 * 1024,
        "200 one-byte objects grew RSS by {} KiB",
        after_small - base
    );

    // A 1 MB object sent as a million 1-byte aws-chunked chunks: ~94 MiB if each chunk were
    // a segment of its own.
    let mut inner = Vec::with_capacity(6 << 20);
    let mut expected = Vec::with_capacity(1 << 20);
    for i in 0..1_000_000u32 {
        let byte = b'a' + (i % 26) as u8;
        expected.push(byte);
        inner.extend_from_slice(b"1\r\n");
        inner.push(byte);
        inner.extend_from_slice(b"\r\n");
    }
    inner.extend_from_slice(b"0\r\n\r\n");
    let head = format!(
        "PUT /{b}/chunky HTTP/1.1\r\nHost: {}\r\nx-amz-content-sha256: STREAMING-UNSIGNED-PAYLOAD-TRAILER\r\nContent-Encoding: aws-chunked\r\nx-amz-decoded-content-length: 1000000\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        s.addr,
        inner.len()
    );
    let (status, text) = send_to(&s.addr, &head, &inner).await;
    assert_eq!(status, 200, "{text}");
    // Twenty part copies of it share its bytes instead of copying a million segments each.
    let up = client
        .create_multipart_upload()
        .bucket(&b)
        .key("copies")
        .send()
        .await
        .expect("create upload");
    for part in 1..=20 {
        client
            .upload_part_copy()
            .bucket(&b)
            .key("copies")
            .upload_id(up.upload_id().unwrap_or_default())
            .part_number(part)
            .copy_source(format!("{b}/chunky"))
            .send()
            .await
            .expect("upload part copy");
    }
    let after_chunky = s.rss_kib();
    assert!(
        after_chunky.saturating_sub(after_small) < 24 * 1024,
        "a 1 MB object in 1-byte chunks and 20 part copies grew RSS by {} KiB",
        after_chunky - after_small
    );
    assert_eq!(get_bytes(&client, &b, "chunky").await, expected);
    assert_eq!(get_bytes(&client, &b, "small-7").await, b"z");
    assert!(s.is_alive());
}

#[tokio::test]
async fn idle_runs_expire_when_asked_to_and_live_otherwise() {
    let server = s3twin::S3Server::builder()
        .port(0)
        .run_idle_expiry(Some(Duration::from_secs(2)))
        .build();
    server.start().await.expect("start");
    let idle = client(&format!("{}/", server.run_endpoint("idle-run")), true);
    let busy = client(&format!("{}/", server.run_endpoint("busy-run")), true);
    new_bucket(&idle, "idle").await;
    let b = new_bucket(&busy, "busy").await;
    let default = client(&server.endpoint(), true);
    let kept = new_bucket(&default, "kept").await;
    // The busy run is used every half second; the idle one never again.
    for _ in 0..10 {
        tokio::time::sleep(Duration::from_millis(500)).await;
        busy.head_bucket()
            .bucket(&b)
            .send()
            .await
            .expect("busy run alive");
    }
    let runs = reqwest_like_get(&server.endpoint(), "/_s3twin/runs").await;
    let ids: Vec<&str> = runs["runs"]
        .as_array()
        .map(|a| a.iter().filter_map(|r| r["runId"].as_str()).collect())
        .unwrap_or_default();
    assert!(ids.contains(&"busy-run"), "{runs}");
    assert!(!ids.contains(&"idle-run"), "{runs}");
    default
        .head_bucket()
        .bucket(&kept)
        .send()
        .await
        .expect("the default run never expires");
    server.stop().await.expect("stop");
}

/// GET of an admin route on a server that is not a `Twin`.
async fn reqwest_like_get(endpoint: &str, path: &str) -> serde_json::Value {
    let addr = endpoint.trim_start_matches("http://");
    let req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    let (_, text) = raw(addr, req.as_bytes()).await;
    text.find("\r\n\r\n")
        .and_then(|i| serde_json::from_str(&text[i + 4..]).ok())
        .unwrap_or(serde_json::Value::Null)
}

#[tokio::test]
async fn above_max_memory_writes_slow_down_and_reads_keep_working() {
    // Start with a ceiling 48 MiB above what an idle server uses.
    let probe = Spawned::start(&[]);
    let idle_kib = probe.rss_kib();
    drop(probe);
    let limit = format!("{}KiB", idle_kib + 48 * 1024);
    let mut s = Spawned::start(&["--max-memory", &limit]);
    let client = client(&s.endpoint(), true);
    let b = new_bucket(&client, "ceiling").await;
    let chunk: Vec<u8> = (0..8u32 << 20).map(|i| (i % 251) as u8).collect();
    let mut stored = 0;
    let mut refused = None;
    for i in 0..20 {
        let r = client
            .put_object()
            .bucket(&b)
            .key(format!("o{i}"))
            .body(chunk.clone().into())
            .send()
            .await;
        match r {
            Ok(_) => stored += 1,
            Err(e) => {
                refused = Some(error_parts(&e));
                break;
            }
        }
        // Let the sampler see the new size.
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(
        refused,
        Some(("SlowDown".into(), 503)),
        "after {stored} objects"
    );
    assert!(
        (2..=7).contains(&stored),
        "{stored} objects of 8 MiB under a 48 MiB margin"
    );
    assert!(s.is_alive());
    // Reads, listings and deletes still work.
    assert_eq!(get_bytes(&client, &b, "o0").await, chunk);
    let listed = client
        .list_objects_v2()
        .bucket(&b)
        .send()
        .await
        .expect("list");
    assert_eq!(listed.key_count(), Some(stored));
    client
        .delete_object()
        .bucket(&b)
        .key("o0")
        .send()
        .await
        .expect("delete below or above the ceiling");
}

#[tokio::test]
async fn listings_step_over_delete_markers_and_see_them_in_versions() {
    let t = Twin::start().await;
    let b = new_bucket(&t.client, "markers").await;
    set_versioning(&t.client, &b, BucketVersioningStatus::Enabled).await;
    for i in 0..300 {
        put(&t.client, &b, &format!("k{i:03}"), b"v").await;
    }
    // Everything but k150 and k299 gets a delete marker on top.
    let mut marker_of_k010 = None;
    for i in (0..300).filter(|i| *i != 150 && *i != 299) {
        let out = t
            .client
            .delete_object()
            .bucket(&b)
            .key(format!("k{i:03}"))
            .send()
            .await
            .expect("delete");
        if i == 10 {
            marker_of_k010 = out.version_id().map(str::to_string);
        }
    }
    let mut seen = Vec::new();
    let mut token = None;
    loop {
        let page = t
            .client
            .list_objects_v2()
            .bucket(&b)
            .max_keys(1)
            .set_continuation_token(token.clone())
            .send()
            .await
            .expect("list");
        seen.extend(
            page.contents()
                .iter()
                .filter_map(|o| o.key().map(str::to_string)),
        );
        token = page.next_continuation_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    assert_eq!(seen, ["k150", "k299"]);
    // Removing a marker brings its key back into the listing, in order.
    t.client
        .delete_object()
        .bucket(&b)
        .key("k010")
        .version_id(marker_of_k010.expect("marker id"))
        .send()
        .await
        .expect("delete the marker");
    let page = t
        .client
        .list_objects_v2()
        .bucket(&b)
        .send()
        .await
        .expect("list");
    let keys: Vec<&str> = page.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(keys, ["k010", "k150", "k299"]);
    // The version listing still shows every key, markers included, in key order.
    let versions = t
        .client
        .list_object_versions()
        .bucket(&b)
        .prefix("k00")
        .send()
        .await
        .expect("versions");
    let markers: Vec<&str> = versions
        .delete_markers()
        .iter()
        .filter_map(|m| m.key())
        .collect();
    assert_eq!(markers.len(), 10);
    assert_eq!(versions.versions().len(), 10);
    let mut keys: Vec<&str> = versions.versions().iter().filter_map(|v| v.key()).collect();
    keys.dedup();
    assert_eq!(
        keys,
        (0..10).map(|i| format!("k{i:03}")).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn memory_freed_by_deletes_goes_back_to_the_os() {
    let s = Spawned::start(&[]);
    let client = client(&s.endpoint(), true);
    let b = new_bucket(&client, "giveback").await;
    let base = s.rss_kib();
    // About 100 MiB in objects of many sizes, written over 16 connections.
    let mut tasks = Vec::new();
    for t in 0..16u64 {
        let (client, b) = (client.clone(), b.clone());
        tasks.push(tokio::spawn(async move {
            for i in 0..25u64 {
                let len = ((t * 7919 + i * 104_729) % (512 * 1024)) as usize;
                put(&client, &b, &format!("t{t}-{i}"), &vec![b'x'; len]).await;
            }
        }));
    }
    for task in tasks {
        task.await.expect("writer");
    }
    let peak = s.rss_kib();
    assert!(
        peak - base > 60 * 1024,
        "the data set is resident: {base} → {peak} KiB"
    );
    for t in 0..16 {
        for i in 0..25 {
            client
                .delete_object()
                .bucket(&b)
                .key(format!("t{t}-{i}"))
                .send()
                .await
                .expect("delete");
        }
    }
    // The client keeps its connections open; the server is idle for three seconds.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let after = s.rss_kib();
    assert!(
        after < base + (peak - base) / 3,
        "RSS after deleting everything: {after} KiB (idle {base}, peak {peak})"
    );
}

#[tokio::test]
async fn lifecycle_documents_hold_at_most_1000_rules() {
    let t = Twin::start().await;
    let b = new_bucket(&t.client, "rules").await;
    put(&t.client, &b, "p0999/x", b"x").await;
    let doc = |n: usize| {
        let rules: String = (0..n)
            .map(|i| {
                format!(
                    "<Rule><ID>r{i}</ID><Filter><Prefix>p{i:04}/</Prefix></Filter><Status>Enabled</Status><Expiration><Days>{}</Days></Expiration></Rule>",
                    i + 1
                )
            })
            .collect();
        format!("<LifecycleConfiguration>{rules}</LifecycleConfiguration>")
    };
    let (s, text) = send(
        &t,
        "PUT",
        &format!("/{b}?lifecycle"),
        "",
        doc(1001).as_bytes(),
    )
    .await;
    assert_eq!((s, code(&text)), (400, "MalformedXML".into()));
    let (s, text) = send(
        &t,
        "PUT",
        &format!("/{b}?lifecycle"),
        "",
        doc(1000).as_bytes(),
    )
    .await;
    assert_eq!(s, 200, "{text}");
    // The thousandth rule applies to its prefix, on every read of the object.
    for _ in 0..3 {
        let head = head(&t.client, &b, "p0999/x").await;
        assert!(
            head.expiration().unwrap_or("").contains("rule-id=\"r999\""),
            "{:?}",
            head.expiration()
        );
    }
    let got = t
        .client
        .get_bucket_lifecycle_configuration()
        .bucket(&b)
        .send()
        .await
        .expect("get lifecycle");
    assert_eq!(got.rules().len(), 1000);
}
