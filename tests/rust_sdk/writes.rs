//! What writes answer (PutObject, CopyObject, CompleteMultipartUpload): version ids, copies as
//! new objects, conditional writes and conditional reads, as AWS answers them today.

use crate::common::*;
use aws_sdk_s3::primitives::DateTime;
use aws_sdk_s3::types::{BucketVersioningStatus, ChecksumType, CompletedMultipartUpload};
use aws_sdk_s3::Client;
use base64::Engine;
use md5::{Digest, Md5};

const MIB: usize = 1024 * 1024;

fn body(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

/// Creates an upload (no checksum algorithm), sends `parts`, and returns (upload id, the
/// parts to complete with).
async fn open_upload(
    c: &Client,
    b: &str,
    key: &str,
    parts: &[Vec<u8>],
) -> (String, CompletedMultipartUpload) {
    let id = c
        .create_multipart_upload()
        .bucket(b)
        .key(key)
        .send()
        .await
        .expect("create upload")
        .upload_id()
        .expect("upload id")
        .to_string();
    let done = upload_parts(c, b, key, &id, parts).await;
    let parts = CompletedMultipartUpload::builder()
        .set_parts(Some(done))
        .build();
    (id, parts)
}

async fn complete(
    c: &Client,
    b: &str,
    key: &str,
    id: &str,
    parts: CompletedMultipartUpload,
) -> aws_sdk_s3::operation::complete_multipart_upload::CompleteMultipartUploadOutput {
    c.complete_multipart_upload()
        .bucket(b)
        .key(key)
        .upload_id(id)
        .multipart_upload(parts)
        .send()
        .await
        .expect("complete")
}

async fn copy(
    c: &Client,
    b: &str,
    from: &str,
    to: &str,
) -> aws_sdk_s3::operation::copy_object::CopyObjectOutput {
    c.copy_object()
        .bucket(b)
        .key(to)
        .copy_source(format!("{b}/{from}"))
        .send()
        .await
        .expect("copy")
}

#[tokio::test]
async fn writes_answer_a_version_id_only_when_versioning_is_enabled() {
    let t = Twin::start().await;
    let c = &t.client;
    for state in [None, Some(BucketVersioningStatus::Suspended)] {
        let b = new_bucket(c, "wver").await;
        if let Some(s) = state.clone() {
            set_versioning(c, &b, BucketVersioningStatus::Enabled).await;
            set_versioning(c, &b, s).await;
        }
        let put = c
            .put_object()
            .bucket(&b)
            .key("k")
            .body(b"one".to_vec().into())
            .send()
            .await
            .expect("put");
        assert_eq!(put.version_id(), None, "PUT into {state:?}");
        assert_eq!(copy(c, &b, "k", "k2").await.version_id(), None, "copy");
        let (id, parts) = open_upload(c, &b, "m", &[b"part".to_vec()]).await;
        let done = complete(c, &b, "m", &id, parts).await;
        assert_eq!(done.version_id(), None, "complete into {state:?}");
        // Reads of the null version name it once versioning has ever been on.
        let expected = state.as_ref().map(|_| "null");
        assert_eq!(head(c, &b, "k").await.version_id(), expected);
    }
    let b = new_bucket(c, "wver").await;
    set_versioning(c, &b, BucketVersioningStatus::Enabled).await;
    put(c, &b, "k", b"x").await;
    let copied = copy(c, &b, "k", "k2").await;
    let id = copied
        .version_id()
        .expect("a versioned copy has a version id");
    assert_eq!(id.len(), 32);
    assert_ne!(id, "null");
}

#[tokio::test]
async fn a_copy_of_a_multipart_object_is_a_new_single_part_object() {
    let t = Twin::start().await;
    let c = &t.client;
    let b = new_bucket(c, "wcopy").await;
    let parts = vec![body(5 * MIB, 1), body(1234, 2)];
    let whole: Vec<u8> = parts.concat();
    let (id, done) = open_upload(c, &b, "mp", &parts).await;
    let completed = complete(c, &b, "mp", &id, done).await;
    assert!(completed.e_tag().expect("etag").ends_with("-2\""));

    let out = copy(c, &b, "mp", "copy").await;
    let result = out.copy_object_result().expect("result");
    let md5_hex = format!("\"{}\"", hex::encode(Md5::digest(&whole)));
    assert_eq!(
        result.e_tag(),
        Some(md5_hex.as_str()),
        "ETag = MD5 of content"
    );
    assert_eq!(result.checksum_type(), Some(&ChecksumType::FullObject));
    let crc = crc_fast::checksum(crc_fast::CrcAlgorithm::Crc64Nvme, &whole);
    let crc_b64 = base64::engine::general_purpose::STANDARD.encode(crc.to_be_bytes());
    assert_eq!(result.checksum_crc64_nvme(), Some(crc_b64.as_str()));
    let h = head(c, &b, "copy").await;
    assert_eq!(h.e_tag(), Some(md5_hex.as_str()));
    assert_eq!(h.parts_count(), None, "the copy has no parts");
    assert_eq!(get_bytes(c, &b, "copy").await, whole);
}

#[tokio::test]
async fn conditional_copies_check_the_destination() {
    let t = Twin::start().await;
    let c = &t.client;
    let b = new_bucket(c, "wcond").await;
    put(c, &b, "src", b"source").await;
    put(c, &b, "dst", b"old").await;
    let dst_etag = head(c, &b, "dst").await.e_tag().expect("etag").to_string();

    let copy_to = |key: &'static str| {
        c.copy_object()
            .bucket(&b)
            .key(key)
            .copy_source(format!("{b}/src"))
    };
    let e = copy_to("dst")
        .if_none_match("*")
        .send()
        .await
        .expect_err("dst exists");
    assert_eq!(error_parts(&e), ("PreconditionFailed".into(), 412));
    let e = copy_to("dst")
        .if_match("\"0123456789abcdef0123456789abcdef\"")
        .send()
        .await
        .expect_err("etag differs");
    assert_eq!(error_parts(&e), ("PreconditionFailed".into(), 412));
    let e = copy_to("absent")
        .if_match(&dst_etag)
        .send()
        .await
        .expect_err("If-Match on a missing key");
    assert_eq!(error_parts(&e), ("NoSuchKey".into(), 404));
    assert_eq!(get_bytes(c, &b, "dst").await, b"old", "nothing overwritten");

    copy_to("dst")
        .if_match(&dst_etag)
        .send()
        .await
        .expect("If-Match holds");
    copy_to("new")
        .if_none_match("*")
        .send()
        .await
        .expect("If-None-Match holds");
    assert_eq!(get_bytes(c, &b, "dst").await, b"source");
    assert_eq!(get_bytes(c, &b, "new").await, b"source");
}

#[tokio::test]
async fn precondition_failed_names_the_header_as_aws_spells_it() {
    let t = Twin::start().await;
    let b = new_bucket(&t.client, "wspell").await;
    put(&t.client, &b, "src", b"source").await;
    put(&t.client, &b, "dst", b"old").await;
    for (header, condition) in [
        (
            "x-amz-copy-source-if-match: \"nope\"",
            "x-amz-copy-source-If-Match",
        ),
        (
            "x-amz-copy-source-if-unmodified-since: Mon, 01 Jan 2001 00:00:00 GMT",
            "x-amz-copy-source-If-Unmodified-Since",
        ),
        ("If-None-Match: *", "If-None-Match"),
    ] {
        let req = format!(
            "PUT /{b}/dst HTTP/1.1\r\nHost: {}\r\nx-amz-copy-source: /{b}/src\r\n{header}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            t.addr()
        );
        let (status, text) = raw(&t.addr(), req.as_bytes()).await;
        assert_eq!(status, 412, "{text}");
        assert_eq!(xml_value(&text, "Condition").as_deref(), Some(condition));
    }
}

/// A conditional Complete whose key was written or deleted while the upload was open: 409,
/// once the condition itself holds (AWS's recorded answers).
#[tokio::test]
async fn conditional_completes_conflict_with_writes_during_the_upload() {
    let t = Twin::start().await;
    let c = &t.client;
    let b = new_bucket(c, "wconf").await;
    let complete_if = |id: String, parts: CompletedMultipartUpload| {
        c.complete_multipart_upload()
            .bucket(&b)
            .key("k")
            .upload_id(id)
            .multipart_upload(parts)
    };

    // If-None-Match: the key exists → 412; deleted meanwhile → 409 ConditionalRequestConflict.
    put(c, &b, "k", b"first").await;
    let (id, parts) = open_upload(c, &b, "k", &[b"second".to_vec()]).await;
    let e = complete_if(id.clone(), parts.clone())
        .if_none_match("*")
        .send()
        .await
        .expect_err("the key exists");
    assert_eq!(error_parts(&e), ("PreconditionFailed".into(), 412));
    c.delete_object()
        .bucket(&b)
        .key("k")
        .send()
        .await
        .expect("delete");
    let req_conflict = complete_if(id.clone(), parts.clone())
        .if_none_match("*")
        .send()
        .await
        .expect_err("a delete raced the upload");
    assert_eq!(
        error_parts(&req_conflict),
        ("ConditionalRequestConflict".into(), 409)
    );
    // An upload the delete did not overlap completes under the same condition.
    let (id, parts) = open_upload(c, &b, "k", &[b"third".to_vec()]).await;
    complete_if(id, parts)
        .if_none_match("*")
        .send()
        .await
        .expect("no conflict");
    assert_eq!(get_bytes(c, &b, "k").await, b"third");

    // If-Match: a PUT during the upload → the old ETag is 412, the new one 409.
    let before = head(c, &b, "k").await.e_tag().expect("etag").to_string();
    let (id, parts) = open_upload(c, &b, "k", &[b"fourth".to_vec()]).await;
    put(c, &b, "k", b"written meanwhile").await;
    let during = head(c, &b, "k").await.e_tag().expect("etag").to_string();
    let e = complete_if(id.clone(), parts.clone())
        .if_match(&before)
        .send()
        .await
        .expect_err("stale etag");
    assert_eq!(error_parts(&e), ("PreconditionFailed".into(), 412));
    let e = complete_if(id.clone(), parts.clone())
        .if_match(&during)
        .send()
        .await
        .expect_err("written after the upload began");
    assert_eq!(error_parts(&e), ("ConditionalRequestConflict".into(), 409));
    // The envelope names the condition and the key.
    let etag = parts.parts()[0].e_tag().expect("part etag");
    let doc = format!(
        "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>{etag}</ETag></Part></CompleteMultipartUpload>"
    );
    let req = format!(
        "POST /{b}/k?uploadId={id} HTTP/1.1\r\nHost: {}\r\nIf-Match: {during}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{doc}",
        t.addr(),
        doc.len()
    );
    let (status, text) = raw(&t.addr(), req.as_bytes()).await;
    assert_eq!(status, 409, "{text}");
    assert_eq!(xml_value(&text, "Condition").as_deref(), Some("If-Match"));
    assert_eq!(xml_value(&text, "Key").as_deref(), Some("k"));
    assert_eq!(get_bytes(c, &b, "k").await, b"written meanwhile");
}

#[tokio::test]
async fn dates_in_the_future_are_ignored_by_conditional_reads() {
    let t = Twin::start().await;
    let c = &t.client;
    let b = new_bucket(c, "wfuture").await;
    put(c, &b, "k", b"data").await;
    let future = DateTime::from_secs(4_102_444_800); // 2100-01-01
    let got = c
        .get_object()
        .bucket(&b)
        .key("k")
        .if_modified_since(future)
        .send()
        .await
        .expect("a future If-Modified-Since is ignored (200, not 304)");
    assert_eq!(got.content_length(), Some(4));
    c.copy_object()
        .bucket(&b)
        .key("k2")
        .copy_source(format!("{b}/k"))
        .copy_source_if_modified_since(future)
        .send()
        .await
        .expect("a future x-amz-copy-source-if-modified-since is ignored");
    // A past date still counts.
    let past = DateTime::from_secs(946_684_800); // 2000-01-01
    let e = c
        .get_object()
        .bucket(&b)
        .key("k")
        .if_unmodified_since(past)
        .send()
        .await
        .expect_err("modified since 2000");
    assert_eq!(error_parts(&e).1, 412);
}

#[tokio::test]
async fn malformed_version_ids_are_invalid_arguments() {
    let t = Twin::start().await;
    let c = &t.client;
    let b = new_bucket(c, "wvid").await;
    put(c, &b, "k", b"data").await;
    let e = c
        .delete_object()
        .bucket(&b)
        .key("k")
        .version_id("not-a-version")
        .send()
        .await
        .expect_err("malformed version id");
    assert_eq!(error_parts(&e), ("InvalidArgument".into(), 400));
    let req = format!(
        "DELETE /{b}/k?versionId=bad%2Fid HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
        t.addr()
    );
    let (status, text) = raw(&t.addr(), req.as_bytes()).await;
    assert_eq!(status, 400);
    assert_eq!(
        xml_value(&text, "Message").as_deref(),
        Some("Invalid version id specified")
    );
    assert_eq!(
        xml_value(&text, "ArgumentName").as_deref(),
        Some("versionId")
    );
    assert_eq!(xml_value(&text, "ArgumentValue").as_deref(), Some("bad/id"));
    assert_eq!(get_bytes(c, &b, "k").await, b"data", "nothing deleted");
    // The null version and well-formed ids that name nothing delete idempotently.
    for v in ["null", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"] {
        c.delete_object()
            .bucket(&b)
            .key("other")
            .version_id(v)
            .send()
            .await
            .expect("well-formed version id");
    }
}

#[tokio::test]
async fn acl_and_tagging_on_a_current_delete_marker_are_not_allowed() {
    let t = Twin::start().await;
    let c = &t.client;
    let b = new_bucket(c, "wmarker").await;
    set_versioning(c, &b, BucketVersioningStatus::Enabled).await;
    put(c, &b, "k", b"data").await;
    c.delete_object()
        .bucket(&b)
        .key("k")
        .send()
        .await
        .expect("delete");
    let e = c
        .get_object_acl()
        .bucket(&b)
        .key("k")
        .send()
        .await
        .expect_err("acl of a delete marker");
    assert_eq!(error_parts(&e), ("MethodNotAllowed".into(), 405));
    let e = c
        .put_object_acl()
        .bucket(&b)
        .key("k")
        .acl(aws_sdk_s3::types::ObjectCannedAcl::PublicRead)
        .send()
        .await
        .expect_err("acl of a delete marker");
    assert_eq!(error_parts(&e), ("MethodNotAllowed".into(), 405));
    let e = c
        .get_object_tagging()
        .bucket(&b)
        .key("k")
        .send()
        .await
        .expect_err("tagging of a delete marker");
    assert_eq!(error_parts(&e), ("MethodNotAllowed".into(), 405));
    let req = format!(
        "GET /{b}/k?acl HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
        t.addr()
    );
    let (_, text) = raw(&t.addr(), req.as_bytes()).await;
    assert_eq!(
        xml_value(&text, "ResourceType").as_deref(),
        Some("DeleteMarker")
    );
    assert_eq!(xml_value(&text, "Method").as_deref(), Some("GET"));
    // GET itself still answers 404 for a current delete marker.
    let e = c
        .get_object()
        .bucket(&b)
        .key("k")
        .send()
        .await
        .expect_err("deleted");
    assert_eq!(error_parts(&e), ("NoSuchKey".into(), 404));
}

#[tokio::test]
async fn a_plus_in_the_copy_source_is_a_space() {
    let t = Twin::start().await;
    let c = &t.client;
    let b = new_bucket(c, "wplus").await;
    put(c, &b, "a b", b"spaced").await;
    put(c, &b, "a+b", b"plussed").await;
    c.copy_object()
        .bucket(&b)
        .key("from-plus")
        .copy_source(format!("{b}/a+b"))
        .send()
        .await
        .expect("copy");
    assert_eq!(get_bytes(c, &b, "from-plus").await, b"spaced");
    c.copy_object()
        .bucket(&b)
        .key("from-2b")
        .copy_source(format!("{b}/a%2Bb"))
        .send()
        .await
        .expect("copy");
    assert_eq!(get_bytes(c, &b, "from-2b").await, b"plussed");
}

#[tokio::test]
async fn content_encoding_is_stored_as_sent_minus_aws_chunked() {
    let t = Twin::start().await;
    let c = &t.client;
    let b = new_bucket(c, "wenc").await;
    c.put_object()
        .bucket(&b)
        .key("plain")
        .content_encoding("deflate, gzip")
        .body(b"x".to_vec().into())
        .send()
        .await
        .expect("put");
    assert_eq!(
        head(c, &b, "plain").await.content_encoding(),
        Some("deflate, gzip")
    );
    // An aws-chunked body whose Content-Encoding also names the object's own coding.
    let req = format!(
        "PUT /{b}/chunked HTTP/1.1\r\nHost: {}\r\nContent-Encoding: aws-chunked, deflate,  gzip\r\nx-amz-content-sha256: STREAMING-UNSIGNED-PAYLOAD-TRAILER\r\nx-amz-decoded-content-length: 5\r\nContent-Length: 15\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        t.addr()
    );
    let (status, text) = raw(&t.addr(), req.as_bytes()).await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(
        head(c, &b, "chunked").await.content_encoding(),
        Some("deflate,  gzip")
    );
    assert_eq!(get_bytes(c, &b, "chunked").await, b"hello");
}
