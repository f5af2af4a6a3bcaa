use crate::common::*;
use aws_sdk_s3::primitives::DateTime;
use aws_sdk_s3::types::{
    Delete, MetadataDirective, ObjectIdentifier, StorageClass, Tag, Tagging, TaggingDirective,
};

#[tokio::test]
async fn put_and_get_keep_metadata_and_headers() {
    let t = Twin::start().await;
    let c = &t.client;
    let b = new_bucket(c, "meta").await;
    let put = c
        .put_object()
        .bucket(&b)
        .key("dir/report.csv")
        .body(b"a,b\n1,2\n".to_vec().into())
        .content_type("text/csv")
        .content_encoding("identity")
        .content_disposition("attachment; filename=\"r.csv\"")
        .content_language("en-GB")
        .cache_control("max-age=60")
        .expires(DateTime::from_secs(1_900_000_000))
        .metadata("owner", "alice")
        .metadata("note", "naïve café")
        .storage_class(StorageClass::StandardIa)
        .tagging("team=data&tier=gold")
        .send()
        .await
        .expect("put");
    let etag = put.e_tag().expect("etag").to_string();
    assert_eq!(etag, format!("\"{:x}\"", md5_of(b"a,b\n1,2\n")));

    let got = c
        .get_object()
        .bucket(&b)
        .key("dir/report.csv")
        .send()
        .await
        .expect("get");
    assert_eq!(got.content_type(), Some("text/csv"));
    assert_eq!(got.content_encoding(), Some("identity"));
    assert_eq!(
        got.content_disposition(),
        Some("attachment; filename=\"r.csv\"")
    );
    assert_eq!(got.content_language(), Some("en-GB"));
    assert_eq!(got.cache_control(), Some("max-age=60"));
    assert_eq!(got.expires_string(), Some("Sun, 17 Mar 2030 17:46:40 GMT"));
    assert_eq!(got.content_length(), Some(8));
    assert_eq!(got.e_tag(), Some(etag.as_str()));
    assert_eq!(got.storage_class(), Some(&StorageClass::StandardIa));
    assert_eq!(got.tag_count(), Some(2));
    let meta = got.metadata().expect("metadata");
    assert_eq!(meta.get("owner").map(String::as_str), Some("alice"));
    // Non-ASCII values come back RFC 2047-encoded, as S3 returns them.
    assert_eq!(
        meta.get("note").map(String::as_str),
        Some("=?UTF-8?B?bmHDr3ZlIGNhZsOp?=")
    );
    assert!(got.last_modified().is_some());
    assert_eq!(
        got.body
            .collect()
            .await
            .expect("body")
            .into_bytes()
            .as_ref(),
        b"a,b\n1,2\n"
    );

    let head = c
        .head_object()
        .bucket(&b)
        .key("dir/report.csv")
        .send()
        .await
        .expect("head");
    assert_eq!(head.content_length(), Some(8));
    assert_eq!(head.e_tag(), Some(etag.as_str()));
}

fn md5_of(data: &[u8]) -> u128 {
    use md5::{Digest, Md5};
    u128::from_be_bytes(Md5::digest(data).into())
}

#[tokio::test]
async fn missing_objects_and_buckets() {
    let t = Twin::start().await;
    let c = &t.client;
    let b = new_bucket(c, "missing").await;
    let err = c
        .get_object()
        .bucket(&b)
        .key("nope.txt")
        .send()
        .await
        .expect_err("404");
    assert_eq!(error_parts(&err), ("NoSuchKey".to_string(), 404));
    let raw_resp = err.raw_response().expect("raw");
    let header_id = raw_resp
        .headers()
        .get("x-amz-request-id")
        .expect("request id header")
        .to_string();
    let body = std::str::from_utf8(raw_resp.body().bytes().expect("body"))
        .expect("utf8")
        .to_string();
    assert_eq!(xml_value(&body, "RequestId"), Some(header_id));
    assert_eq!(xml_value(&body, "Key").as_deref(), Some("nope.txt"));
    // AWS's envelope has no Resource element (older documentation shows one).
    assert_eq!(xml_value(&body, "Resource"), None, "{body}");
    assert!(xml_value(&body, "HostId")
        .is_some_and(|h| Some(h.as_str()) == raw_resp.headers().get("x-amz-id-2")));

    let err = c
        .head_object()
        .bucket(&b)
        .key("nope.txt")
        .send()
        .await
        .expect_err("404");
    assert_eq!(error_parts(&err).1, 404);
    assert!(err
        .raw_response()
        .expect("raw")
        .body()
        .bytes()
        .is_some_and(|b| b.is_empty()));
    let err = c
        .get_object()
        .bucket("no-such-bucket-here")
        .key("k")
        .send()
        .await
        .expect_err("404");
    assert_eq!(error_parts(&err), ("NoSuchBucket".to_string(), 404));
}

#[tokio::test]
async fn ranges_and_parts() {
    let t = Twin::start().await;
    let c = &t.client;
    let b = new_bucket(c, "range").await;
    put(c, &b, "abc", b"0123456789").await;

    let r = c
        .get_object()
        .bucket(&b)
        .key("abc")
        .range("bytes=2-5")
        .send()
        .await
        .expect("206");
    assert_eq!(r.content_range(), Some("bytes 2-5/10"));
    assert_eq!(r.content_length(), Some(4));
    assert_eq!(
        r.body.collect().await.expect("b").into_bytes().as_ref(),
        b"2345"
    );
    let r = c
        .get_object()
        .bucket(&b)
        .key("abc")
        .range("bytes=-3")
        .send()
        .await
        .expect("suffix");
    assert_eq!(
        r.body.collect().await.expect("b").into_bytes().as_ref(),
        b"789"
    );
    let r = c
        .get_object()
        .bucket(&b)
        .key("abc")
        .range("bytes=7-")
        .send()
        .await
        .expect("open");
    assert_eq!(r.content_range(), Some("bytes 7-9/10"));
    let err = c
        .get_object()
        .bucket(&b)
        .key("abc")
        .range("bytes=10-")
        .send()
        .await
        .expect_err("416");
    assert_eq!(error_parts(&err), ("InvalidRange".to_string(), 416));

    let p = c
        .get_object()
        .bucket(&b)
        .key("abc")
        .part_number(1)
        .send()
        .await
        .expect("part 1");
    assert_eq!(p.content_range(), Some("bytes 0-9/10"));
    assert_eq!(p.body.collect().await.expect("b").into_bytes().len(), 10);
    let err = c
        .get_object()
        .bucket(&b)
        .key("abc")
        .part_number(2)
        .send()
        .await
        .expect_err("part 2");
    assert_eq!(error_parts(&err), ("InvalidPartNumber".to_string(), 416));
}

#[tokio::test]
async fn conditional_reads_and_overrides() {
    let t = Twin::start().await;
    let c = &t.client;
    let b = new_bucket(c, "cond").await;
    put(c, &b, "k", b"v1").await;
    let head = c
        .head_object()
        .bucket(&b)
        .key("k")
        .send()
        .await
        .expect("head");
    let etag = head.e_tag().expect("etag").to_string();
    let lm = *head.last_modified().expect("lm");

    let err = c
        .get_object()
        .bucket(&b)
        .key("k")
        .if_none_match(&etag)
        .send()
        .await
        .expect_err("304");
    assert_eq!(error_parts(&err).1, 304);
    let err = c
        .get_object()
        .bucket(&b)
        .key("k")
        .if_match("\"nope\"")
        .send()
        .await
        .expect_err("412");
    assert_eq!(error_parts(&err), ("PreconditionFailed".to_string(), 412));
    let err = c
        .head_object()
        .bucket(&b)
        .key("k")
        .if_match("\"nope\"")
        .send()
        .await
        .expect_err("412");
    assert_eq!(error_parts(&err).1, 412);
    // Not modified since its own Last-Modified (a date after now would be ignored).
    let later = DateTime::from_secs(lm.secs());
    let earlier = DateTime::from_secs(lm.secs() - 3600);
    let err = c
        .get_object()
        .bucket(&b)
        .key("k")
        .if_modified_since(later)
        .send()
        .await
        .expect_err("304");
    assert_eq!(error_parts(&err).1, 304);
    c.get_object()
        .bucket(&b)
        .key("k")
        .if_modified_since(earlier)
        .send()
        .await
        .expect("modified since");
    let err = c
        .get_object()
        .bucket(&b)
        .key("k")
        .if_unmodified_since(earlier)
        .send()
        .await
        .expect_err("412");
    assert_eq!(error_parts(&err).1, 412);
    // If-Match true wins over If-Unmodified-Since false (AWS's documented precedence).
    c.get_object()
        .bucket(&b)
        .key("k")
        .if_match(&etag)
        .if_unmodified_since(earlier)
        .send()
        .await
        .expect("200");

    let o = c
        .get_object()
        .bucket(&b)
        .key("k")
        .response_content_type("application/x-test")
        .response_content_disposition("inline")
        .response_cache_control("no-cache")
        .send()
        .await
        .expect("overrides");
    assert_eq!(o.content_type(), Some("application/x-test"));
    assert_eq!(o.content_disposition(), Some("inline"));
    assert_eq!(o.cache_control(), Some("no-cache"));
}

#[tokio::test]
async fn conditional_writes() {
    let t = Twin::start().await;
    let c = &t.client;
    let b = new_bucket(c, "cw").await;
    c.put_object()
        .bucket(&b)
        .key("k")
        .body(b"one".to_vec().into())
        .if_none_match("*")
        .send()
        .await
        .expect("first write");
    let err = c
        .put_object()
        .bucket(&b)
        .key("k")
        .body(b"two".to_vec().into())
        .if_none_match("*")
        .send()
        .await
        .expect_err("exists");
    assert_eq!(error_parts(&err), ("PreconditionFailed".to_string(), 412));
    let etag = c
        .head_object()
        .bucket(&b)
        .key("k")
        .send()
        .await
        .expect("head")
        .e_tag()
        .expect("etag")
        .to_string();
    let err = c
        .put_object()
        .bucket(&b)
        .key("k")
        .body(b"two".to_vec().into())
        .if_match("\"0000\"")
        .send()
        .await
        .expect_err("mismatch");
    assert_eq!(error_parts(&err), ("PreconditionFailed".to_string(), 412));
    c.put_object()
        .bucket(&b)
        .key("k")
        .body(b"two".to_vec().into())
        .if_match(&etag)
        .send()
        .await
        .expect("match");
    assert_eq!(get_bytes(c, &b, "k").await, b"two");
    let err = c
        .put_object()
        .bucket(&b)
        .key("absent")
        .body(b"x".to_vec().into())
        .if_match(&etag)
        .send()
        .await
        .expect_err("absent");
    assert_eq!(error_parts(&err), ("NoSuchKey".to_string(), 404));
}

#[tokio::test]
async fn deletes_single_and_batch() {
    let t = Twin::start().await;
    let c = &t.client;
    let b = new_bucket(c, "del").await;
    c.delete_object()
        .bucket(&b)
        .key("never-existed")
        .send()
        .await
        .expect("idempotent delete");
    for i in 0..1000 {
        put(c, &b, &format!("k{i:04}"), b"x").await;
    }
    let ids: Vec<_> = (0..1000)
        .map(|i| {
            ObjectIdentifier::builder()
                .key(format!("k{i:04}"))
                .build()
                .expect("id")
        })
        .collect();
    let out = c
        .delete_objects()
        .bucket(&b)
        .delete(
            Delete::builder()
                .set_objects(Some(ids))
                .build()
                .expect("delete"),
        )
        .send()
        .await
        .expect("batch delete");
    assert_eq!(out.deleted().len(), 1000);
    assert!(out.errors().is_empty());
    let left = c.list_objects_v2().bucket(&b).send().await.expect("list");
    assert_eq!(left.key_count(), Some(0));

    put(c, &b, "q1", b"x").await;
    let quiet = c
        .delete_objects()
        .bucket(&b)
        .delete(
            Delete::builder()
                .quiet(true)
                .objects(ObjectIdentifier::builder().key("q1").build().expect("id"))
                .objects(
                    ObjectIdentifier::builder()
                        .key("q2")
                        .version_id("3HL4kqtJlcpXroDTDmJ")
                        .build()
                        .expect("id"),
                )
                .build()
                .expect("delete"),
        )
        .send()
        .await
        .expect("quiet delete");
    assert!(quiet.deleted().is_empty(), "quiet mode lists only errors");
    assert_eq!(quiet.errors().len(), 1);
    assert_eq!(quiet.errors()[0].key(), Some("q2"));
    assert_eq!(quiet.errors()[0].code(), Some("NoSuchVersion"));
    let err = c
        .head_object()
        .bucket(&b)
        .key("q1")
        .send()
        .await
        .expect_err("deleted");
    assert_eq!(error_parts(&err).1, 404);
}

#[tokio::test]
async fn copies_share_bytes_and_follow_directives() {
    let t = Twin::start().await;
    let c = &t.client;
    let src = new_bucket(c, "src").await;
    let dst = new_bucket(c, "dst").await;
    let key = "dir/a b+c%d ü.txt";
    c.put_object()
        .bucket(&src)
        .key(key)
        .body(b"payload".to_vec().into())
        .content_type("text/plain")
        .metadata("m", "1")
        .tagging("t=1")
        .send()
        .await
        .expect("put");
    let source = format!("{src}/{}", urlencode(key));

    let out = c
        .copy_object()
        .bucket(&dst)
        .key("copy")
        .copy_source(&source)
        .send()
        .await
        .expect("copy");
    let etag = out
        .copy_object_result()
        .and_then(|r| r.e_tag())
        .expect("etag")
        .to_string();
    assert_eq!(etag, format!("\"{:x}\"", md5_of(b"payload")));
    let got = c
        .get_object()
        .bucket(&dst)
        .key("copy")
        .send()
        .await
        .expect("get copy");
    assert_eq!(got.content_type(), Some("text/plain"));
    assert_eq!(
        got.metadata().and_then(|m| m.get("m")).map(String::as_str),
        Some("1")
    );
    assert_eq!(got.tag_count(), Some(1));
    assert_eq!(
        got.body.collect().await.expect("b").into_bytes().as_ref(),
        b"payload"
    );

    c.copy_object()
        .bucket(&dst)
        .key("replaced")
        .copy_source(&source)
        .metadata_directive(MetadataDirective::Replace)
        .content_type("application/json")
        .metadata("n", "2")
        .tagging_directive(TaggingDirective::Replace)
        .tagging("a=1&b=2")
        .send()
        .await
        .expect("copy replace");
    let got = c
        .head_object()
        .bucket(&dst)
        .key("replaced")
        .send()
        .await
        .expect("head");
    assert_eq!(got.content_type(), Some("application/json"));
    let meta = got.metadata().expect("meta");
    assert_eq!(
        (meta.get("m"), meta.get("n").map(String::as_str)),
        (None, Some("2"))
    );

    let err = c
        .copy_object()
        .bucket(&src)
        .key(key)
        .copy_source(&source)
        .send()
        .await
        .expect_err("self copy");
    assert_eq!(error_parts(&err), ("InvalidRequest".to_string(), 400));
    c.copy_object()
        .bucket(&src)
        .key(key)
        .copy_source(&source)
        .metadata_directive(MetadataDirective::Replace)
        .send()
        .await
        .expect("self copy with REPLACE is allowed");
    let err = c
        .copy_object()
        .bucket(&dst)
        .key("x")
        .copy_source(&source)
        .copy_source_if_match("\"nope\"")
        .send()
        .await
        .expect_err("412");
    assert_eq!(error_parts(&err), ("PreconditionFailed".to_string(), 412));
    let err = c
        .copy_object()
        .bucket(&dst)
        .key("x")
        .copy_source(format!("{src}/missing"))
        .send()
        .await
        .expect_err("404");
    assert_eq!(error_parts(&err), ("NoSuchKey".to_string(), 404));
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn object_tagging_round_trips_with_limits() {
    let t = Twin::start().await;
    let c = &t.client;
    let b = new_bucket(c, "tags").await;
    put(c, &b, "k", b"x").await;
    let tag = |k: &str, v: &str| Tag::builder().key(k).value(v).build().expect("tag");
    c.put_object_tagging()
        .bucket(&b)
        .key("k")
        .tagging(
            Tagging::builder()
                .tag_set(tag("env", "prod"))
                .tag_set(tag("owner", "ops team"))
                .build()
                .expect("tagging"),
        )
        .send()
        .await
        .expect("put tagging");
    let got = c
        .get_object_tagging()
        .bucket(&b)
        .key("k")
        .send()
        .await
        .expect("get tagging");
    let pairs: Vec<_> = got.tag_set().iter().map(|t| (t.key(), t.value())).collect();
    assert_eq!(pairs, [("env", "prod"), ("owner", "ops team")]);
    assert_eq!(
        c.get_object()
            .bucket(&b)
            .key("k")
            .send()
            .await
            .expect("get")
            .tag_count(),
        Some(2)
    );

    let eleven = (0..11)
        .fold(Tagging::builder(), |t, i| {
            t.tag_set(tag(&format!("k{i}"), "v"))
        })
        .build()
        .expect("tagging");
    let err = c
        .put_object_tagging()
        .bucket(&b)
        .key("k")
        .tagging(eleven)
        .send()
        .await
        .expect_err("too many");
    assert_eq!(error_parts(&err), ("InvalidTag".to_string(), 400));
    let long_key = Tagging::builder()
        .tag_set(tag(&"k".repeat(129), "v"))
        .build()
        .expect("tagging");
    let err = c
        .put_object_tagging()
        .bucket(&b)
        .key("k")
        .tagging(long_key)
        .send()
        .await
        .expect_err("long key");
    assert_eq!(error_parts(&err), ("InvalidTag".to_string(), 400));
    let err = c
        .get_object_tagging()
        .bucket(&b)
        .key("absent")
        .send()
        .await
        .expect_err("absent");
    assert_eq!(error_parts(&err), ("NoSuchKey".to_string(), 404));

    c.delete_object_tagging()
        .bucket(&b)
        .key("k")
        .send()
        .await
        .expect("delete tagging");
    let got = c
        .get_object_tagging()
        .bucket(&b)
        .key("k")
        .send()
        .await
        .expect("get tagging");
    assert!(got.tag_set().is_empty());
    assert_eq!(
        get_bytes(c, &b, "k").await,
        b"x",
        "tagging never touches the body"
    );
}
