//! POST object (browser form uploads) over a real socket: the form, the policy checked on the
//! run's clock, and AWS's errors (as AWS's recorded answers show them).

use crate::common::*;
use base64::Engine;

const BOUNDARY: &str = "----s3twinFormBoundary7MA4YWxk";

/// A multipart/form-data body: the fields in order, then the file.
fn form(fields: &[(&str, &str)], file: Option<(&str, &[u8])>) -> Vec<u8> {
    let mut out = Vec::new();
    for (n, v) in fields {
        out.extend_from_slice(
            format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{n}\"\r\n\r\n{v}\r\n")
                .as_bytes(),
        );
    }
    if let Some((filename, data)) = file {
        out.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        out.extend_from_slice(data);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    out
}

async fn post(t: &Twin, bucket: &str, body: &[u8], content_type: &str) -> (u16, String) {
    let mut req = format!(
        "POST /{bucket} HTTP/1.1\r\nHost: {}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        t.addr(),
        body.len()
    )
    .into_bytes();
    req.extend_from_slice(body);
    raw(&t.addr(), &req).await
}

async fn post_form(t: &Twin, bucket: &str, body: &[u8]) -> (u16, String) {
    post(
        t,
        bucket,
        body,
        &format!("multipart/form-data; boundary={BOUNDARY}"),
    )
    .await
}

fn policy(expiration: &str, conditions: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!(
        r#"{{"expiration":"{expiration}","conditions":[{conditions}]}}"#
    ))
}

fn message(text: &str) -> String {
    xml_value(text, "Message")
        .unwrap_or_default()
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
}

#[tokio::test]
async fn form_upload_stores_the_object() {
    let t = Twin::start().await;
    let b = new_bucket(&t.client, "post").await;
    let body = form(
        &[
            ("key", "uploads/${filename}"),
            ("Content-Type", "text/plain"),
            ("x-amz-meta-owner", "alice"),
            ("success_action_status", "201"),
            (
                "tagging",
                "<Tagging><TagSet><Tag><Key>k</Key><Value>v</Value></Tag></TagSet></Tagging>",
            ),
        ],
        Some(("hello.txt", b"hello form")),
    );
    let (status, text) = post_form(&t, &b, &body).await;
    assert_eq!(status, 201, "{text}");
    assert_eq!(
        xml_value(&text, "Key").as_deref(),
        Some("uploads/hello.txt")
    );
    assert_eq!(xml_value(&text, "Bucket").as_deref(), Some(b.as_str()));
    assert!(raw_header(&text, "etag").is_some());
    assert_eq!(
        xml_value(&text, "ETag").map(|e| e.replace("&quot;", "\"")),
        raw_header(&text, "etag")
    );
    assert_eq!(
        get_bytes(&t.client, &b, "uploads/hello.txt").await,
        b"hello form"
    );
    let head = t
        .client
        .head_object()
        .bucket(&b)
        .key("uploads/hello.txt")
        .send()
        .await
        .expect("head");
    assert_eq!(head.content_type(), Some("text/plain"));
    assert_eq!(
        head.metadata()
            .and_then(|m| m.get("owner"))
            .map(String::as_str),
        Some("alice")
    );
    let tags = t
        .client
        .get_object_tagging()
        .bucket(&b)
        .key("uploads/hello.txt")
        .send()
        .await
        .expect("tags");
    assert_eq!(tags.tag_set().len(), 1);

    // Default: 204 with ETag and Location; 200 on request; a redirect gets 303.
    let (status, text) = post_form(&t, &b, &form(&[("key", "a")], Some(("f", b"x")))).await;
    assert_eq!(status, 204, "{text}");
    assert!(raw_header(&text, "location").is_some_and(|l| l.ends_with(&format!("/{b}/a"))));
    let (status, _) = post_form(
        &t,
        &b,
        &form(
            &[("key", "a"), ("success_action_status", "200")],
            Some(("f", b"x")),
        ),
    )
    .await;
    assert_eq!(status, 200);
    let (status, text) = post_form(
        &t,
        &b,
        &form(
            &[
                ("key", "r/1"),
                ("success_action_redirect", "http://app.test/done"),
            ],
            Some(("f", b"x")),
        ),
    )
    .await;
    assert_eq!(status, 303, "{text}");
    // The redirect carries bucket, key and ETag in its query.
    let location = raw_header(&text, "location").unwrap_or_default();
    let query = location
        .strip_prefix("http://app.test/done?")
        .unwrap_or_else(|| panic!("{location}"));
    let decoded: Vec<String> = query
        .split('&')
        .map(|p| {
            percent_encoding::percent_decode_str(p)
                .decode_utf8_lossy()
                .into_owned()
        })
        .collect();
    assert_eq!(
        decoded,
        [
            format!("bucket={b}"),
            "key=r/1".to_string(),
            "etag=\"9dd4e461268c8034f5c8564e155c67a6\"".to_string()
        ]
    );
}

#[tokio::test]
async fn policy_checked_on_the_run_clock() {
    let t = Twin::start().await;
    let b = new_bucket(&t.client, "post-pol").await;
    let conditions = format!(
        r#"{{"bucket":"{b}"}},["starts-with","$key","user/"],["content-length-range",5,10]"#
    );
    let good = policy("2099-01-01T00:00:00Z", &conditions);
    let (status, text) = post_form(
        &t,
        &b,
        &form(
            &[("key", "user/x"), ("policy", &good)],
            Some(("f", b"aaaaaaaaaa")),
        ),
    )
    .await;
    assert_eq!(status, 204, "{text}");

    let (status, text) = post_form(
        &t,
        &b,
        &form(
            &[("key", "other/x"), ("policy", &good)],
            Some(("f", b"aaaaa")),
        ),
    )
    .await;
    assert_eq!(status, 403, "{text}");
    assert_eq!(xml_value(&text, "Code").as_deref(), Some("AccessDenied"));
    assert_eq!(
        message(&text),
        r#"Invalid according to Policy: Policy Condition failed: ["starts-with", "$key", "user/"]"#
    );

    let (status, text) = post_form(
        &t,
        &b,
        &form(
            &[("key", "user/x"), ("policy", &good)],
            Some(("f", b"aaaaaaaaaaaa")),
        ),
    )
    .await;
    assert_eq!(status, 400, "{text}");
    assert_eq!(xml_value(&text, "Code").as_deref(), Some("EntityTooLarge"));
    assert_eq!(xml_value(&text, "ProposedSize").as_deref(), Some("12"));
    assert_eq!(xml_value(&text, "MaxSizeAllowed").as_deref(), Some("10"));

    let (status, text) = post_form(
        &t,
        &b,
        &form(&[("key", "user/x"), ("policy", &good)], Some(("f", b"a"))),
    )
    .await;
    assert_eq!(status, 400, "{text}");
    assert_eq!(xml_value(&text, "Code").as_deref(), Some("EntityTooSmall"));
    assert_eq!(xml_value(&text, "MinSizeAllowed").as_deref(), Some("5"));
    assert_eq!(xml_value(&text, "ProposedSize").as_deref(), Some("1"));

    // A field no condition names.
    let (status, text) = post_form(
        &t,
        &b,
        &form(
            &[
                ("key", "user/x"),
                ("Content-Type", "text/plain"),
                ("policy", &good),
            ],
            Some(("f", b"aaaaa")),
        ),
    )
    .await;
    assert_eq!(status, 403, "{text}");
    assert_eq!(
        message(&text),
        "Invalid according to Policy: Extra input fields: content-type"
    );

    // Expired by the run's clock: advance the default run past the expiration.
    let exp = (time::OffsetDateTime::now_utc() + time::Duration::hours(1))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let short = policy(&exp, &conditions);
    let (status, text) = post_form(
        &t,
        &b,
        &form(
            &[("key", "user/x"), ("policy", &short)],
            Some(("f", b"aaaaa")),
        ),
    )
    .await;
    assert_eq!(status, 204, "{text}");
    advance(&t, "default", "2h").await;
    let (status, text) = post_form(
        &t,
        &b,
        &form(
            &[("key", "user/x"), ("policy", &short)],
            Some(("f", b"aaaaa")),
        ),
    )
    .await;
    assert_eq!(status, 403, "{text}");
    assert_eq!(
        message(&text),
        "Invalid according to Policy: Policy expired."
    );
}

#[tokio::test]
async fn malformed_forms() {
    let t = Twin::start().await;
    let b = new_bucket(&t.client, "post-bad").await;
    let (status, text) = post(&t, &b, b"key=a", "application/x-www-form-urlencoded").await;
    assert_eq!(status, 412, "{text}");
    assert_eq!(
        xml_value(&text, "Code").as_deref(),
        Some("PreconditionFailed")
    );
    assert_eq!(
        xml_value(&text, "Condition").as_deref(),
        Some("Bucket POST must be of the enclosure-type multipart/form-data")
    );
    let (status, text) = post_form(&t, &b, &form(&[("key", "a")], None)).await;
    assert_eq!(status, 400, "{text}");
    assert_eq!(
        xml_value(&text, "Code").as_deref(),
        Some("IncorrectNumberOfFilesInPostRequest")
    );
    let (status, text) = post_form(&t, &b, &form(&[("acl", "private")], Some(("f", b"x")))).await;
    assert_eq!(status, 400, "{text}");
    assert_eq!(xml_value(&text, "Code").as_deref(), Some("InvalidArgument"));
    assert_eq!(
        message(&text),
        "Bucket POST must contain a field named 'key'.  If it is specified, please check the order of the fields."
    );
    assert_eq!(xml_value(&text, "ArgumentName").as_deref(), Some("key"));
    let (status, text) = post_form(&t, &b, b"garbage without any boundary").await;
    assert_eq!(status, 400, "{text}");
    assert_eq!(
        xml_value(&text, "Code").as_deref(),
        Some("MalformedPOSTRequest")
    );
    let bad = base64::engine::general_purpose::STANDARD
        .encode(r#"{"expiration":"2099-01-01T00:00:00Z","conditions":[{"a":"1","b":"2"}]}"#);
    let (status, text) = post_form(
        &t,
        &b,
        &form(&[("key", "a"), ("policy", &bad)], Some(("f", b"x"))),
    )
    .await;
    assert_eq!(status, 400, "{text}");
    assert_eq!(
        xml_value(&text, "Code").as_deref(),
        Some("InvalidPolicyDocument")
    );
    assert_eq!(
        message(&text),
        "Invalid Policy: Invalid Simple-Condition: Simple-Conditions must have exactly one property specified."
    );
    // A storage class S3 does not know, named in the error as AWS names it.
    let (status, text) = post_form(
        &t,
        &b,
        &form(
            &[("key", "c"), ("x-amz-storage-class", "FakeClass")],
            Some(("f", b"x")),
        ),
    )
    .await;
    assert_eq!(status, 400, "{text}");
    assert_eq!(
        xml_value(&text, "Code").as_deref(),
        Some("InvalidStorageClass")
    );
    assert_eq!(
        xml_value(&text, "StorageClassRequested").as_deref(),
        Some("FakeClass")
    );
    // A checksum field is verified against the file.
    let (status, text) = post_form(
        &t,
        &b,
        &form(
            &[("key", "summed"), ("x-amz-checksum-crc32", "AAAAAA==")],
            Some(("f", b"x")),
        ),
    )
    .await;
    assert_eq!(status, 400, "{text}");
    assert_eq!(xml_value(&text, "Code").as_deref(), Some("BadDigest"));
    // Body-framing names as form fields do not reframe the file.
    let (status, text) = post_form(
        &t,
        &b,
        &form(
            &[
                ("key", "framed"),
                ("Content-Encoding", "aws-chunked"),
                ("x-amz-trailer", "x-amz-checksum-crc32"),
                ("x-amz-decoded-content-length", "999"),
            ],
            Some(("f", b"plain bytes")),
        ),
    )
    .await;
    assert_eq!(status, 204, "{text}");
    assert_eq!(get_bytes(&t.client, &b, "framed").await, b"plain bytes");
    let (status, _) = post_form(
        &t,
        "no-such-bucket-post",
        &form(&[("key", "a")], Some(("f", b"x"))),
    )
    .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_large_form_upload_is_streamed_not_held_twice() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    const SIZE: usize = 256 * 1024 * 1024;
    let s = Spawned::start(&[]);
    let client = client(&s.endpoint(), true);
    let b = new_bucket(&client, "post-big").await;
    let base = s.rss_kib();
    let head = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\nbig\r\n--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.bin\"\r\n\r\n"
    );
    let tail = format!("\r\n--{BOUNDARY}--\r\n");
    let mut sock = tokio::net::TcpStream::connect(&s.addr)
        .await
        .expect("connect");
    let req = format!(
        "POST /{b} HTTP/1.1\r\nHost: {}\r\nContent-Type: multipart/form-data; boundary={BOUNDARY}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{head}",
        s.addr,
        head.len() + SIZE + tail.len()
    );
    sock.write_all(req.as_bytes()).await.expect("head");
    let chunk = vec![b'z'; 1024 * 1024];
    for _ in 0..SIZE / chunk.len() {
        sock.write_all(&chunk).await.expect("body");
    }
    sock.write_all(tail.as_bytes()).await.expect("tail");
    let mut out = Vec::new();
    let _ = sock.read_to_end(&mut out).await;
    let text = String::from_utf8_lossy(&out);
    assert!(text.starts_with("HTTP/1.1 204"), "{text}");
    let peak = s.peak_rss_kib();
    let size_kib = (SIZE / 1024) as u64;
    assert!(
        peak <= base + size_kib + 64 * 1024,
        "peak RSS {peak} KiB for a {size_kib} KiB form upload (idle {base} KiB)"
    );
    let head = client
        .head_object()
        .bucket(&b)
        .key("big")
        .send()
        .await
        .expect("head");
    assert_eq!(head.content_length(), Some(SIZE as i64));
}

#[tokio::test]
async fn a_refused_form_is_read_so_the_client_gets_the_answer() {
    let t = Twin::start().await;
    let b = new_bucket(&t.client, "post-drain").await;
    let pol = policy(
        "2099-01-01T00:00:00Z",
        &format!(r#"{{"bucket":"{b}"}},["eq","$key","a"]"#),
    );
    let big = vec![b'q'; 8 * 1024 * 1024];
    // Refused before the file is read; the client sends all 8 MiB before reading.
    let (status, text) = post_form(
        &t,
        &b,
        &form(&[("key", "b"), ("policy", &pol)], Some(("f", &big))),
    )
    .await;
    assert_eq!(status, 403, "{text}");
    assert_eq!(xml_value(&text, "Code").as_deref(), Some("AccessDenied"));
}

/// A form upload raises `s3:ObjectCreated:Post` for buckets that ask for it.
#[tokio::test]
async fn a_form_upload_raises_object_created_post() {
    use aws_sdk_s3::types::{Event, NotificationConfiguration, QueueConfiguration};
    let t = Twin::start().await;
    let b = new_bucket(&t.client, "postev").await;
    t.client
        .put_bucket_notification_configuration()
        .bucket(&b)
        .notification_configuration(
            NotificationConfiguration::builder()
                .queue_configurations(
                    QueueConfiguration::builder()
                        .queue_arn("arn:aws:sqs:us-east-1:000000000000:posts")
                        .events(Event::from("s3:ObjectCreated:Post"))
                        .build()
                        .expect("queue"),
                )
                .build(),
        )
        .send()
        .await
        .expect("configure");
    let (status, text) = post_form(
        &t,
        &b,
        &form(&[("key", "uploads/${filename}")], Some(("a.txt", b"hello"))),
    )
    .await;
    assert_eq!(status, 204, "{text}");
    let (s, log) = admin(
        &t,
        "GET",
        "/_s3twin/notifications?wait=1&timeout=10s&eventName=ObjectCreated:Post",
        None,
    )
    .await;
    assert_eq!(s, 200, "{log}");
    let entries = log["notifications"].as_array().expect("list");
    assert_eq!(entries.len(), 1, "{log}");
    let record = &entries[0]["payload"]["Records"][0];
    assert_eq!(record["eventName"], "ObjectCreated:Post");
    assert_eq!(record["s3"]["object"]["key"], "uploads/a.txt");
    assert_eq!(record["s3"]["object"]["size"], 5);
}

/// The SigV4 signature of a POST policy, computed here from the documented recipe: the hex
/// HMAC-SHA256 of the base64 policy with the day's signing key.
fn sign_v4(secret: &str, day: &str, policy: &str) -> String {
    use hmac::{Hmac, KeyInit, Mac};
    let h = |key: &[u8], data: &[u8]| {
        let mut m = <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(key).expect("key");
        m.update(data);
        m.finalize().into_bytes().to_vec()
    };
    let k = h(format!("AWS4{secret}").as_bytes(), day.as_bytes());
    let k = h(&k, b"us-east-1");
    let k = h(&k, b"s3");
    let k = h(&k, b"aws4_request");
    hex::encode(h(&k, policy.as_bytes()))
}

/// SigV2: the base64 HMAC-SHA1 of the base64 policy.
fn sign_v2(secret: &str, policy: &str) -> String {
    use hmac::{Hmac, KeyInit, Mac};
    let mut m = <Hmac<sha1::Sha1> as KeyInit>::new_from_slice(secret.as_bytes()).expect("key");
    m.update(policy.as_bytes());
    b64(&m.finalize().into_bytes())
}

/// In an enforcing run the form's signature is verified: SigV4 and SigV2 forms signed with
/// the right secret upload as that identity; a wrong secret is SignatureDoesNotMatch with the
/// policy as the string to sign, an unknown key InvalidAccessKeyId, a partial set of fields
/// InvalidArgument, and an unsigned form is anonymous (refused on a private bucket).
#[tokio::test]
async fn form_signatures_in_an_enforcing_run() {
    let t = Twin::start().await;
    let run = enforcing_run(&t, "post-sig").await;
    let owner = keyed_client(&t, &run, "parlel", "parlel");
    let b = new_bucket(&owner, "post-sig").await;
    let path = format!("t/{run}/{b}");
    let day = "20261201";
    let credential = format!("parlel/{day}/us-east-1/s3/aws4_request");
    let date = format!("{day}T000000Z");
    let v4_policy = policy(
        "2099-01-01T00:00:00Z",
        &format!(
            r#"{{"bucket":"{b}"}},["starts-with","$key","up/"],{{"x-amz-algorithm":"AWS4-HMAC-SHA256"}},{{"x-amz-credential":"{credential}"}},{{"x-amz-date":"{date}"}}"#
        ),
    );
    let v4_form = |key: &str, credential: &str, signature: &str| {
        form(
            &[
                ("key", key),
                ("x-amz-algorithm", "AWS4-HMAC-SHA256"),
                ("x-amz-credential", credential),
                ("x-amz-date", &date),
                ("policy", &v4_policy),
                ("x-amz-signature", signature),
            ],
            Some(("f", b"signed v4")),
        )
    };
    let good = sign_v4("parlel", day, &v4_policy);
    let (status, text) = post_form(&t, &path, &v4_form("up/v4", &credential, &good)).await;
    assert_eq!(status, 204, "{text}");
    assert_eq!(get_bytes(&owner, &b, "up/v4").await, b"signed v4");

    let wrong = sign_v4("not-the-secret", day, &v4_policy);
    let (status, text) = post_form(&t, &path, &v4_form("up/v4b", &credential, &wrong)).await;
    assert_eq!(status, 403, "{text}");
    assert_eq!(
        xml_value(&text, "Code").as_deref(),
        Some("SignatureDoesNotMatch")
    );
    assert_eq!(
        xml_value(&text, "AWSAccessKeyId").as_deref(),
        Some("parlel")
    );
    assert_eq!(xml_value(&text, "StringToSign"), Some(v4_policy.clone()));
    assert_eq!(xml_value(&text, "SignatureProvided"), Some(wrong));

    let stranger = format!("AKNOBODY/{day}/us-east-1/s3/aws4_request");
    let (status, text) = post_form(&t, &path, &v4_form("up/v4c", &stranger, &good)).await;
    assert_eq!(status, 403, "{text}");
    assert_eq!(
        xml_value(&text, "Code").as_deref(),
        Some("InvalidAccessKeyId")
    );
    assert_eq!(
        xml_value(&text, "AWSAccessKeyId").as_deref(),
        Some("AKNOBODY")
    );

    // SigV2.
    let v2_policy = policy(
        "2099-01-01T00:00:00Z",
        &format!(r#"{{"bucket":"{b}"}},["starts-with","$key","up/"]"#),
    );
    let v2_form = |signature: &str| {
        form(
            &[
                ("key", "up/v2"),
                ("AWSAccessKeyId", "parlel"),
                ("policy", &v2_policy),
                ("signature", signature),
            ],
            Some(("f", b"signed v2")),
        )
    };
    let (status, text) = post_form(&t, &path, &v2_form(&sign_v2("parlel", &v2_policy))).await;
    assert_eq!(status, 204, "{text}");
    assert_eq!(get_bytes(&owner, &b, "up/v2").await, b"signed v2");
    let (status, text) = post_form(&t, &path, &v2_form(&sign_v2("wrong", &v2_policy))).await;
    assert_eq!(status, 403, "{text}");
    assert_eq!(
        xml_value(&text, "Code").as_deref(),
        Some("SignatureDoesNotMatch")
    );
    assert_eq!(xml_value(&text, "StringToSign"), Some(v2_policy.clone()));

    // A signature without its access key.
    let (status, text) = post_form(
        &t,
        &path,
        &form(
            &[
                ("key", "up/x"),
                ("policy", &v2_policy),
                ("signature", "abc"),
            ],
            Some(("f", b"x")),
        ),
    )
    .await;
    assert_eq!(status, 400, "{text}");
    assert_eq!(xml_value(&text, "Code").as_deref(), Some("InvalidArgument"));
    assert_eq!(
        xml_value(&text, "ArgumentName").as_deref(),
        Some("AWSAccessKeyId")
    );

    // BlockPublicAcls (on for new buckets) refuses a signed form that asks for a public ACL
    // once the bucket accepts ACLs.
    owner
        .put_bucket_ownership_controls()
        .bucket(&b)
        .ownership_controls(
            aws_sdk_s3::types::OwnershipControls::builder()
                .rules(
                    aws_sdk_s3::types::OwnershipControlsRule::builder()
                        .object_ownership(aws_sdk_s3::types::ObjectOwnership::ObjectWriter)
                        .build()
                        .expect("rule"),
                )
                .build()
                .expect("controls"),
        )
        .send()
        .await
        .expect("ownership");
    let acl_policy = policy(
        "2099-01-01T00:00:00Z",
        &format!(r#"{{"bucket":"{b}"}},["starts-with","$key","up/"],{{"acl":"public-read"}}"#),
    );
    let public_form = form(
        &[
            ("key", "up/public"),
            ("acl", "public-read"),
            ("AWSAccessKeyId", "parlel"),
            ("policy", &acl_policy),
            ("signature", &sign_v2("parlel", &acl_policy)),
        ],
        Some(("f", b"x")),
    );
    let (status, text) = post_form(&t, &path, &public_form).await;
    assert_eq!(status, 403, "{text}");
    assert_eq!(xml_value(&text, "Code").as_deref(), Some("AccessDenied"));
    owner
        .delete_public_access_block()
        .bucket(&b)
        .send()
        .await
        .expect("bpa");
    let (status, text) = post_form(&t, &path, &public_form).await;
    assert_eq!(status, 204, "{text}");

    // No signature at all: an anonymous upload, refused on a private bucket.
    let (status, text) =
        post_form(&t, &path, &form(&[("key", "up/anon")], Some(("f", b"x")))).await;
    assert_eq!(status, 403, "{text}");
    assert_eq!(xml_value(&text, "Code").as_deref(), Some("AccessDenied"));
}
