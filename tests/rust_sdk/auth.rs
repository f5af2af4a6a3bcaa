//! Authentication in enforce mode (issue 13): the SDK signs for real; wrong secrets, unknown
//! keys, tampering and skewed clocks are refused with AWS's errors, a run that does not
//! enforce keeps accepting anything.

use crate::common::*;
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::Client;
use std::time::Duration;

#[tokio::test]
async fn right_keys_work_and_wrong_ones_are_refused() {
    let t = Twin::start().await;
    let run = enforcing_run(&t, "authok").await;
    let good = keyed_client(&t, &run, "parlel", "parlel");
    let b = new_bucket(&good, "auth").await;
    put(&good, &b, "dir/a b+c.txt", b"hello").await;
    assert_eq!(get_bytes(&good, &b, "dir/a b+c.txt").await, b"hello");
    // The other default key pair works too.
    let test = keyed_client(&t, &run, "test", "test");
    let listed = test
        .list_objects_v2()
        .bucket(&b)
        .prefix("dir/")
        .send()
        .await
        .expect("list");
    assert_eq!(listed.key_count(), Some(1));

    let wrong = keyed_client(&t, &run, "parlel", "not-the-secret");
    let err = wrong
        .get_object()
        .bucket(&b)
        .key("dir/a b+c.txt")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_parts(&err),
        ("SignatureDoesNotMatch".to_string(), 403)
    );
    let err = wrong
        .put_object()
        .bucket(&b)
        .key("x")
        .body(b"x".to_vec().into())
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_parts(&err),
        ("SignatureDoesNotMatch".to_string(), 403)
    );

    let unknown = keyed_client(&t, &run, "AKIDUNKNOWN", "whatever");
    let err = unknown.list_buckets().send().await.unwrap_err();
    assert_eq!(error_parts(&err), ("InvalidAccessKeyId".to_string(), 403));

    // A run that does not enforce, on the same server, accepts the wrong secret.
    let lax_wrong = keyed_client(&t, &bucket_name("laxrun"), "parlel", "not-the-secret");
    new_bucket(&lax_wrong, "lax").await;
}

#[tokio::test]
async fn streaming_and_multipart_uploads_verify() {
    let t = Twin::start().await;
    let run = enforcing_run(&t, "authstream").await;
    let c = keyed_client(&t, &run, "parlel", "parlel");
    let b = new_bucket(&c, "stream").await;
    // The SDK's default PUT: an aws-chunked body with a trailing checksum.
    let body = vec![7u8; 300_000];
    c.put_object()
        .bucket(&b)
        .key("big")
        .body(ByteStream::from(body.clone()))
        .send()
        .await
        .expect("streamed put");
    assert_eq!(get_bytes(&c, &b, "big").await, body);
    let up = c
        .create_multipart_upload()
        .bucket(&b)
        .key("mp")
        .send()
        .await
        .expect("create");
    let id = up.upload_id().expect("id");
    let part = c
        .upload_part()
        .bucket(&b)
        .key("mp")
        .upload_id(id)
        .part_number(1)
        .body(ByteStream::from(vec![1u8; 1000]))
        .send()
        .await
        .expect("part");
    c.complete_multipart_upload()
        .bucket(&b)
        .key("mp")
        .upload_id(id)
        .multipart_upload(
            aws_sdk_s3::types::CompletedMultipartUpload::builder()
                .parts(
                    aws_sdk_s3::types::CompletedPart::builder()
                        .part_number(1)
                        .e_tag(part.e_tag().unwrap_or_default())
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .expect("complete");
    assert_eq!(get_bytes(&c, &b, "mp").await.len(), 1000);
}

/// A SigV4 request signed by hand with the AWS documentation's algorithm for a raw socket.
fn signed_get(port: u16, path: &str, amz_date: &str, secret: &str, tamper: bool) -> String {
    use hmac::{Hmac, KeyInit, Mac};
    use sha2::{Digest, Sha256};
    let hm = |k: &[u8], d: &str| {
        let mut m = <Hmac<Sha256> as KeyInit>::new_from_slice(k).unwrap();
        m.update(d.as_bytes());
        m.finalize().into_bytes().to_vec()
    };
    let empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    let host = format!("127.0.0.1:{port}");
    let canonical = format!(
        "GET\n{path}\n\nhost:{host}\nx-amz-content-sha256:{empty}\nx-amz-date:{amz_date}\n\nhost;x-amz-content-sha256;x-amz-date\n{empty}"
    );
    let day = &amz_date[..8];
    let scope = format!("{day}/us-east-1/s3/aws4_request");
    let sts = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
        hex::encode(Sha256::digest(canonical.as_bytes()))
    );
    let mut k = hm(format!("AWS4{secret}").as_bytes(), day);
    for part in ["us-east-1", "s3", "aws4_request"] {
        k = hm(&k, part);
    }
    let sig = hex::encode(hm(&k, &sts));
    let sent_path = if tamper {
        format!("{path}x")
    } else {
        path.to_string()
    };
    format!(
        "GET {sent_path} HTTP/1.1\r\nHost: {host}\r\nx-amz-content-sha256: {empty}\r\nx-amz-date: {amz_date}\r\nAuthorization: AWS4-HMAC-SHA256 Credential=parlel/{scope}, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature={sig}\r\nConnection: close\r\n\r\n"
    )
}

fn amz_date(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(ms / 1000).unwrap();
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        t.year(),
        t.month() as u8,
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

#[tokio::test]
async fn errors_carry_aws_elements() {
    let t = Twin::start().await;
    let run = enforcing_run(&t, "autherr").await;
    let c = keyed_client(&t, &run, "parlel", "parlel");
    let b = new_bucket(&c, "err").await;
    put(&c, &b, "k", b"v").await;
    let path = format!("/t/{run}/{b}/k");
    let now = amz_date(now_ms());
    let (status, text) = raw(
        &t.addr(),
        signed_get(t.port(), &path, &now, "parlel", false).as_bytes(),
    )
    .await;
    assert_eq!(status, 200, "{text}");

    // Wrong secret: the canonical request and string to sign as S3 computed them.
    let (status, text) = raw(
        &t.addr(),
        signed_get(t.port(), &path, &now, "wrong", false).as_bytes(),
    )
    .await;
    assert_eq!(status, 403, "{text}");
    assert_eq!(
        xml_value(&text, "Code").as_deref(),
        Some("SignatureDoesNotMatch")
    );
    assert_eq!(
        xml_value(&text, "AWSAccessKeyId").as_deref(),
        Some("parlel")
    );
    let canonical = xml_value(&text, "CanonicalRequest").expect("CanonicalRequest");
    assert!(
        canonical.starts_with(&format!("GET\n{path}\n\nhost:")),
        "{canonical}"
    );
    let sts = xml_value(&text, "StringToSign").expect("StringToSign");
    assert!(
        sts.starts_with(&format!("AWS4-HMAC-SHA256\n{now}\n")),
        "{sts}"
    );
    assert!(xml_value(&text, "StringToSignBytes")
        .expect("bytes")
        .starts_with("41 57 53 34"));
    assert!(xml_value(&text, "CanonicalRequestBytes")
        .expect("bytes")
        .starts_with("47 45 54 0a"));
    assert!(text.contains("<SignatureProvided>"));

    // A path changed in transit.
    let (status, text) = raw(
        &t.addr(),
        signed_get(t.port(), &path, &now, "parlel", true).as_bytes(),
    )
    .await;
    assert_eq!(
        (status, xml_value(&text, "Code").as_deref()),
        (403, Some("SignatureDoesNotMatch"))
    );

    // An x-amz-* header added after signing.
    let added = signed_get(t.port(), &path, &now, "parlel", false).replacen(
        "Connection: close",
        "x-amz-meta-added: 1\r\nx-amz-tagging: a=b\r\nConnection: close",
        1,
    );
    let (status, text) = raw(&t.addr(), added.as_bytes()).await;
    assert_eq!(status, 403, "{text}");
    assert_eq!(
        xml_value(&text, "Message").as_deref(),
        Some("There were headers present in the request which were not signed")
    );
    assert_eq!(
        xml_value(&text, "HeadersNotSigned").as_deref(),
        Some("x-amz-meta-added, x-amz-tagging")
    );

    // A clock 20 minutes off.
    let skewed = amz_date(now_ms() - 20 * 60 * 1000);
    let (status, text) = raw(
        &t.addr(),
        signed_get(t.port(), &path, &skewed, "parlel", false).as_bytes(),
    )
    .await;
    assert_eq!(status, 403, "{text}");
    assert_eq!(
        xml_value(&text, "Code").as_deref(),
        Some("RequestTimeTooSkewed")
    );
    assert_eq!(xml_value(&text, "RequestTime"), Some(skewed));
    assert_eq!(
        xml_value(&text, "MaxAllowedSkewMilliseconds").as_deref(),
        Some("900000")
    );
    assert!(xml_value(&text, "ServerTime")
        .expect("ServerTime")
        .ends_with('Z'));

    // Signed for another region than the bucket's.
    let other = keyed_client(&t, &run, "parlel", "parlel");
    let other = aws_sdk_s3::Client::from_conf(
        other
            .config()
            .to_builder()
            .region(aws_sdk_s3::config::Region::new("eu-west-1"))
            .build(),
    );
    let err = other
        .head_object()
        .bucket(&b)
        .key("k")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_parts(&err).1, 400);
    let err = other
        .get_object()
        .bucket(&b)
        .key("k")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_parts(&err).0, "AuthorizationHeaderMalformed");
}

#[tokio::test]
async fn presigned_urls_verify_on_the_runs_clock() {
    let t = Twin::start().await;
    let run = enforcing_run(&t, "authpre").await;
    let c = keyed_client(&t, &run, "parlel", "parlel");
    let b = new_bucket(&c, "pre").await;
    put(&c, &b, "k", b"secret").await;
    let req = c
        .get_object()
        .bucket(&b)
        .key("k")
        .presigned(PresigningConfig::expires_in(Duration::from_secs(600)).unwrap())
        .await
        .expect("presign");
    let uri = req.uri().to_string();
    let path_q = &uri[uri.find("/t/").expect("path")..];
    let get = |pq: &str| {
        format!(
            "GET {pq} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            t.addr()
        )
    };
    let (status, text) = raw(&t.addr(), get(path_q).as_bytes()).await;
    assert_eq!(status, 200, "{text}");
    assert!(text.ends_with("secret"));
    // Tampered query: another key.
    let (status, text) = raw(&t.addr(), get(&path_q.replacen("/k?", "/j?", 1)).as_bytes()).await;
    assert_eq!(
        (status, xml_value(&text, "Code").as_deref()),
        (403, Some("SignatureDoesNotMatch"))
    );
    // Wrong secret.
    let wrong = keyed_client(&t, &run, "parlel", "nope");
    let bad = wrong
        .get_object()
        .bucket(&b)
        .key("k")
        .presigned(PresigningConfig::expires_in(Duration::from_secs(600)).unwrap())
        .await
        .expect("presign");
    let bad_uri = bad.uri().to_string();
    let (status, _) = raw(
        &t.addr(),
        get(&bad_uri[bad_uri.find("/t/").unwrap()..]).as_bytes(),
    )
    .await;
    assert_eq!(status, 403);
    // The admin presign route signs with a run's keys and verifies.
    let (s, body) = admin(
        &t,
        "POST",
        &format!("/_s3twin/presign?runId={run}"),
        Some(serde_json::json!({ "method": "GET", "bucket": b, "key": "k", "expiresIn": 60 })),
    )
    .await;
    assert_eq!(s, 200, "{body}");
    let url = body["url"].as_str().expect("url");
    let (status, text) = raw(&t.addr(), get(&url[url.find("/t/").unwrap()..]).as_bytes()).await;
    assert_eq!(status, 200, "{text}");
    // Expired once the run's clock passes it.
    advance(&t, &run, "2m").await;
    let (status, text) = raw(&t.addr(), get(&url[url.find("/t/").unwrap()..]).as_bytes()).await;
    assert_eq!(
        (status, xml_value(&text, "Message").as_deref()),
        (403, Some("Request has expired"))
    );
}

#[tokio::test]
async fn modes_and_identities_on_the_admin_api() {
    let t = Twin::start().await;
    let (_, health) = admin(&t, "GET", "/_s3twin/health", None).await;
    assert_eq!(health["auth"], "none");
    let run = enforcing_run(&t, "authusers").await;
    let (_, health) = admin(&t, "GET", &format!("/_s3twin/health?runId={run}"), None).await;
    assert_eq!(health["auth"], "enforce");
    let (s, user) = admin(
        &t,
        "POST",
        &format!("/_s3twin/users?runId={run}"),
        Some(serde_json::json!({ "accessKeyId": "AKALICE", "secretAccessKey": "alice-secret", "name": "alice", "accountId": "111122223333" })),
    )
    .await;
    assert_eq!(s, 201, "{user}");
    assert_eq!(user["arn"], "arn:aws:iam::111122223333:user/alice");
    let alice = keyed_client(&t, &run, "AKALICE", "alice-secret");
    alice
        .list_buckets()
        .send()
        .await
        .expect("alice is known in her run");
    // Only in that run.
    let elsewhere = enforcing_run(&t, "authother").await;
    let err = keyed_client(&t, &elsewhere, "AKALICE", "alice-secret")
        .list_buckets()
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_parts(&err).0, "InvalidAccessKeyId");
    let (s, _) = admin(
        &t,
        "POST",
        &format!("/_s3twin/users?runId={run}"),
        Some(serde_json::json!({ "accessKeyId": "A:B", "secretAccessKey": "x" })),
    )
    .await;
    assert_eq!(s, 400);
    let (s, _) = admin(
        &t,
        "POST",
        "/_s3twin/runs",
        Some(serde_json::json!({ "auth": "maybe" })),
    )
    .await;
    assert_eq!(s, 400);
}

fn hmac_sha256(k: &[u8], d: &str) -> Vec<u8> {
    use hmac::{Hmac, KeyInit, Mac};
    let mut m = <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(k).unwrap();
    m.update(d.as_bytes());
    m.finalize().into_bytes().to_vec()
}

fn sha_hex(d: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(d))
}

/// A PUT with a `STREAMING-AWS4-HMAC-SHA256-PAYLOAD` body signed as the AWS documentation
/// describes (seed signature, then each chunk chained from the previous one); `tamper`
/// changes a byte of the second chunk after signing.
fn chunk_signed_put(port: u16, path: &str, chunks: &[&[u8]], tamper: bool) -> Vec<u8> {
    signed_upload(port, path, chunks, tamper, None)
}

/// As `chunk_signed_put`; `trailer`: send a trailing `x-amz-checksum-sha256` signed with the
/// trailer signature (`Some(false)`: a wrong trailer signature).
fn signed_upload(
    port: u16,
    path: &str,
    chunks: &[&[u8]],
    tamper: bool,
    trailer: Option<bool>,
) -> Vec<u8> {
    let amz_date = amz_date(now_ms());
    let day = &amz_date[..8];
    let scope = format!("{day}/us-east-1/s3/aws4_request");
    let host = format!("127.0.0.1:{port}");
    let total: usize = chunks.iter().map(|c| c.len()).sum();
    let (marker, signed, trailer_line) = match trailer {
        None => (
            "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
            "content-encoding;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length",
            "",
        ),
        Some(_) => (
            "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
            "content-encoding;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-trailer",
            "x-amz-trailer:x-amz-checksum-sha256\n",
        ),
    };
    let canonical = format!(
        "PUT\n{path}\n\ncontent-encoding:aws-chunked\nhost:{host}\nx-amz-content-sha256:{marker}\nx-amz-date:{amz_date}\nx-amz-decoded-content-length:{total}\n{trailer_line}\n{signed}\n{marker}"
    );
    let mut key = hmac_sha256(b"AWS4parlel", day);
    for part in ["us-east-1", "s3", "aws4_request"] {
        key = hmac_sha256(&key, part);
    }
    let sts = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
        sha_hex(canonical.as_bytes())
    );
    let seed = hex::encode(hmac_sha256(&key, &sts));
    let mut body = Vec::new();
    let mut previous = seed.clone();
    let empty = sha_hex(b"");
    for (i, chunk) in chunks.iter().chain([&&b""[..]]).enumerate() {
        let sts = format!(
            "AWS4-HMAC-SHA256-PAYLOAD\n{amz_date}\n{scope}\n{previous}\n{empty}\n{}",
            sha_hex(chunk)
        );
        previous = hex::encode(hmac_sha256(&key, &sts));
        body.extend_from_slice(
            format!("{:x};chunk-signature={previous}\r\n", chunk.len()).as_bytes(),
        );
        let mut data = chunk.to_vec();
        if tamper && i == 1 {
            data[0] ^= 1;
        }
        body.extend_from_slice(&data);
        if i < chunks.len() || trailer.is_none() {
            body.extend_from_slice(b"\r\n");
        }
    }
    let mut trailer_header = String::new();
    if let Some(valid) = trailer {
        use base64::Engine;
        use sha2::Digest;
        let all: Vec<u8> = chunks.concat();
        let value = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(&all));
        let line = format!("x-amz-checksum-sha256:{value}");
        let sts = format!(
            "AWS4-HMAC-SHA256-TRAILER\n{amz_date}\n{scope}\n{previous}\n{}",
            sha_hex(format!("{line}\n").as_bytes())
        );
        let mut sig = hex::encode(hmac_sha256(&key, &sts));
        if !valid {
            sig = sig.replace(&sig[..1], if &sig[..1] == "0" { "1" } else { "0" });
        }
        body.extend_from_slice(
            format!("{line}\r\nx-amz-trailer-signature:{sig}\r\n\r\n").as_bytes(),
        );
        trailer_header = "x-amz-trailer: x-amz-checksum-sha256\r\n".to_string();
    }
    let mut req = format!(
        "PUT {path} HTTP/1.1\r\nHost: {host}\r\nContent-Encoding: aws-chunked\r\n{trailer_header}x-amz-content-sha256: {marker}\r\nx-amz-date: {amz_date}\r\nx-amz-decoded-content-length: {total}\r\nContent-Length: {}\r\nAuthorization: AWS4-HMAC-SHA256 Credential=parlel/{scope}, SignedHeaders={signed}, Signature={seed}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    req.extend_from_slice(&body);
    req
}

#[tokio::test]
async fn chunk_signatures_are_checked() {
    let t = Twin::start().await;
    let run = enforcing_run(&t, "authchunk").await;
    let c = keyed_client(&t, &run, "parlel", "parlel");
    let b = new_bucket(&c, "chunk").await;
    let first = vec![b'a'; 8192];
    let second = vec![b'b'; 1000];
    let path = format!("/t/{run}/{b}/signed");
    let (status, text) = raw(
        &t.addr(),
        &chunk_signed_put(t.port(), &path, &[&first, &second], false),
    )
    .await;
    assert_eq!(status, 200, "{text}");
    let mut both = first.clone();
    both.extend_from_slice(&second);
    assert_eq!(get_bytes(&c, &b, "signed").await, both);
    // A byte of the second chunk changed in transit: refused, nothing stored.
    let path = format!("/t/{run}/{b}/tampered");
    let (status, text) = raw(
        &t.addr(),
        &chunk_signed_put(t.port(), &path, &[&first, &second], true),
    )
    .await;
    assert_eq!(status, 403, "{text}");
    assert_eq!(
        xml_value(&text, "Code").as_deref(),
        Some("SignatureDoesNotMatch")
    );
    assert!(xml_value(&text, "StringToSign")
        .is_some_and(|s| s.starts_with("AWS4-HMAC-SHA256-PAYLOAD\n")));
    let err = c
        .head_object()
        .bucket(&b)
        .key("tampered")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_parts(&err).1, 404);
}

#[tokio::test]
async fn trailer_signatures_are_checked() {
    let t = Twin::start().await;
    let run = enforcing_run(&t, "authtrailer").await;
    let c = keyed_client(&t, &run, "parlel", "parlel");
    let b = new_bucket(&c, "trailer").await;
    let data = vec![b'z'; 5000];
    let path = format!("/t/{run}/{b}/ok");
    let (status, text) = raw(
        &t.addr(),
        &signed_upload(t.port(), &path, &[&data], false, Some(true)),
    )
    .await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(get_bytes(&c, &b, "ok").await, data);
    let path = format!("/t/{run}/{b}/bad");
    let (status, text) = raw(
        &t.addr(),
        &signed_upload(t.port(), &path, &[&data], false, Some(false)),
    )
    .await;
    assert_eq!(status, 403, "{text}");
    assert!(
        xml_value(&text, "StringToSign")
            .is_some_and(|s| s.starts_with("AWS4-HMAC-SHA256-TRAILER\n")),
        "{text}"
    );
}

#[tokio::test]
async fn server_wide_enforce_with_configured_users_and_seeded_ones() {
    use s3twin::auth::identity::{AuthMode, UserSpec};
    let server = s3twin::S3Server::builder()
        .port(0)
        .auth(AuthMode::Enforce)
        .user(UserSpec::parse("AKBOB:bob-secret:bob:222233334444").expect("spec"))
        .build();
    server.start().await.expect("starts");
    let t = Twin {
        client: client(&server.endpoint(), true),
        server,
    };
    let (_, health) = admin(&t, "GET", "/_s3twin/health", None).await;
    assert_eq!(health["auth"], "enforce");
    // The default run enforces: the default keys work, a wrong secret does not.
    new_bucket(&t.client, "wide").await;
    let wrong = Client::from_conf(
        config_builder(&t.server.endpoint(), true)
            .credentials_provider(aws_sdk_s3::config::Credentials::new(
                "parlel", "x", None, None, "t",
            ))
            .build(),
    );
    assert_eq!(
        error_parts(&wrong.list_buckets().send().await.unwrap_err()).0,
        "SignatureDoesNotMatch"
    );
    // --user identities exist in every run; a seed's users in its run.
    let (s, body) = admin(
        &t,
        "POST",
        "/_s3twin/runs",
        Some(serde_json::json!({ "runId": "seeded", "seed": { "users": [
            { "accessKeyId": "AKSEED", "secretAccessKey": "seed-secret" } ] } })),
    )
    .await;
    assert_eq!((s, body["auth"].as_str()), (201, Some("enforce")), "{body}");
    keyed_client(&t, "seeded", "AKBOB", "bob-secret")
        .list_buckets()
        .send()
        .await
        .expect("bob");
    keyed_client(&t, "seeded", "AKSEED", "seed-secret")
        .list_buckets()
        .send()
        .await
        .expect("seeded user");
    // A run may opt out of the server's mode.
    let (s, _) = admin(
        &t,
        "POST",
        "/_s3twin/runs",
        Some(serde_json::json!({ "runId": "lax", "auth": "none" })),
    )
    .await;
    assert_eq!(s, 201);
    keyed_client(&t, "lax", "nobody", "x")
        .list_buckets()
        .send()
        .await
        .expect("lax run");
}
