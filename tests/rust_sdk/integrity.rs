use crate::common::*;
use aws_sdk_s3::config::interceptors::BeforeTransmitInterceptorContextMut;
use aws_sdk_s3::config::{Intercept, RuntimeComponents};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{ChecksumAlgorithm, ChecksumMode};
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::config_bag::ConfigBag;
use bytes::Bytes;
use http_body_util::BodyExt;

use aws_sdk_s3::Client;

fn crc32(data: &[u8]) -> String {
    b64(&crc_fast::checksum(crc_fast::CrcAlgorithm::Crc32IsoHdlc, data).to_be_bytes()[4..])
}

#[tokio::test]
async fn every_checksum_algorithm_round_trips() {
    let t = Twin::start().await;
    let c = &t.client;
    let b = new_bucket(c, "sums").await;
    let algos = [
        ChecksumAlgorithm::Crc32,
        ChecksumAlgorithm::Crc32C,
        ChecksumAlgorithm::Crc64Nvme,
        ChecksumAlgorithm::Sha1,
        ChecksumAlgorithm::Sha256,
    ];
    for algo in algos {
        let key = format!("obj-{}", algo.as_str());
        let put = c
            .put_object()
            .bucket(&b)
            .key(&key)
            .body(b"hello world".to_vec().into())
            .checksum_algorithm(algo.clone())
            .send()
            .await
            .expect("put");
        // The SDK validates the returned checksum against the body it reads (ChecksumMode).
        let got = c
            .get_object()
            .bucket(&b)
            .key(&key)
            .checksum_mode(ChecksumMode::Enabled)
            .send()
            .await
            .expect("get");
        let (sent, back) = match algo {
            ChecksumAlgorithm::Crc32 => (put.checksum_crc32(), got.checksum_crc32()),
            ChecksumAlgorithm::Crc32C => (put.checksum_crc32_c(), got.checksum_crc32_c()),
            ChecksumAlgorithm::Crc64Nvme => (put.checksum_crc64_nvme(), got.checksum_crc64_nvme()),
            ChecksumAlgorithm::Sha1 => (put.checksum_sha1(), got.checksum_sha1()),
            _ => (put.checksum_sha256(), got.checksum_sha256()),
        };
        assert!(sent.is_some(), "{algo:?} echoed on PUT");
        assert_eq!(sent, back, "{algo:?}");
        assert_eq!(
            got.body.collect().await.expect("b").into_bytes().as_ref(),
            b"hello world"
        );
    }
    // No explicit algorithm: the SDK's default CRC32 is kept and returned.
    put(c, &b, "plain", b"hello world").await;
    let got = c
        .get_object()
        .bucket(&b)
        .key("plain")
        .checksum_mode(ChecksumMode::Enabled)
        .send()
        .await
        .expect("get");
    assert_eq!(got.checksum_crc32(), Some(crc32(b"hello world").as_str()));
}

#[tokio::test]
async fn wrong_checksums_and_digests_are_rejected() {
    let t = Twin::start().await;
    let c = &t.client;
    let b = new_bucket(c, "bad").await;
    let err = c
        .put_object()
        .bucket(&b)
        .key("k")
        .body(b"data".to_vec().into())
        .checksum_crc32("AAAAAA==")
        .send()
        .await
        .expect_err("bad crc");
    assert_eq!(error_parts(&err), ("BadDigest".to_string(), 400));
    let wrong_md5 = b64(&md5_digest(b"other"));
    let err = c
        .put_object()
        .bucket(&b)
        .key("k")
        .body(b"data".to_vec().into())
        .content_md5(wrong_md5)
        .send()
        .await
        .expect_err("bad md5");
    assert_eq!(error_parts(&err), ("BadDigest".to_string(), 400));
    let err = c
        .put_object()
        .bucket(&b)
        .key("k")
        .body(b"data".to_vec().into())
        .content_md5("not-an-md5")
        .send()
        .await
        .expect_err("invalid md5");
    assert_eq!(error_parts(&err), ("InvalidDigest".to_string(), 400));
    let good_md5 = b64(&md5_digest(b"data"));
    c.put_object()
        .bucket(&b)
        .key("k")
        .body(b"data".to_vec().into())
        .content_md5(good_md5)
        .send()
        .await
        .expect("good md5");
    // Nothing rejected was stored over the good object.
    assert_eq!(get_bytes(c, &b, "k").await, b"data");
}

fn md5_digest(d: &[u8]) -> [u8; 16] {
    use md5::{Digest, Md5};
    Md5::digest(d).into()
}

#[tokio::test]
async fn streamed_uploads_use_signed_aws_chunked_with_trailer() {
    let t = Twin::start().await;
    let c = &t.client;
    let b = new_bucket(c, "stream").await;
    let data: Vec<u8> = (0..3_000_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let dir = std::env::temp_dir().join(format!("s3twin-stream-{}", std::process::id()));
    std::fs::write(&dir, &data).expect("temp file");
    let body = ByteStream::from_path(&dir).await.expect("stream");
    c.put_object()
        .bucket(&b)
        .key("big")
        .body(body)
        .checksum_algorithm(ChecksumAlgorithm::Crc32)
        .send()
        .await
        .expect("streamed put");
    let _ = std::fs::remove_file(&dir);
    let got = c
        .get_object()
        .bucket(&b)
        .key("big")
        .checksum_mode(ChecksumMode::Enabled)
        .send()
        .await
        .expect("get");
    assert_eq!(got.content_length(), Some(data.len() as i64));
    assert_eq!(got.checksum_crc32(), Some(crc32(&data).as_str()));
    assert!(
        got.body.collect().await.expect("b").into_bytes() == data,
        "stored bytes equal the sent bytes, no trailer or framing inside"
    );
}

/// An HTTP client that replaces the value of the CRC32 trailer in the aws-chunked body, as
/// the last step before the bytes go on the wire (after the SDK has framed and signed it).
#[derive(Debug, Clone)]
struct CorruptTrailer {
    inner: SharedHttpClient,
}

impl HttpClient for CorruptTrailer {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(CorruptTrailerConnector {
            inner: self.inner.http_connector(settings, components),
        })
    }
}

#[derive(Debug)]
struct CorruptTrailerConnector {
    inner: SharedHttpConnector,
}

impl HttpConnector for CorruptTrailerConnector {
    fn call(&self, mut request: HttpRequest) -> HttpConnectorFuture {
        let body = request.take_body();
        *request.body_mut() = body.map(|b| {
            SdkBody::from_body_1_x(b.map_frame(|f| {
                f.map_data(|d: Bytes| {
                    let needle = b"x-amz-checksum-crc32:";
                    match d.windows(needle.len()).position(|w| w == needle) {
                        Some(i) => {
                            let mut out = d.to_vec();
                            out[i + needle.len()..i + needle.len() + 8]
                                .copy_from_slice(b"AAAAAA==");
                            Bytes::from(out)
                        }
                        None => d,
                    }
                })
            }))
        });
        self.inner.call(request)
    }
}

#[tokio::test]
async fn wrong_trailer_checksum_is_bad_digest() {
    let t = Twin::start().await;
    let b = new_bucket(&t.client, "trailer").await;
    let corrupting = aws_sdk_s3::Client::from_conf(
        config_builder(&t.server.endpoint(), true)
            .http_client(CorruptTrailer {
                inner: aws_smithy_http_client::Builder::new().build_http(),
            })
            .build(),
    );
    let path = std::env::temp_dir().join(format!("s3twin-trailer-{}", std::process::id()));
    std::fs::write(&path, vec![7u8; 100_000]).expect("temp file");
    let err = corrupting
        .put_object()
        .bucket(&b)
        .key("k")
        .body(ByteStream::from_path(&path).await.expect("stream"))
        .checksum_algorithm(ChecksumAlgorithm::Crc32)
        .send()
        .await
        .expect_err("corrupted trailer");
    let _ = std::fs::remove_file(&path);
    assert_eq!(error_parts(&err), ("BadDigest".to_string(), 400));
    let gone = t
        .client
        .head_object()
        .bucket(&b)
        .key("k")
        .send()
        .await
        .expect_err("not stored");
    assert_eq!(error_parts(&gone).1, 404);
}

/// Rewrites the signed `x-amz-content-sha256` after signing.
#[derive(Debug)]
struct WrongPayloadHash;

impl Intercept for WrongPayloadHash {
    fn name(&self) -> &'static str {
        "WrongPayloadHash"
    }

    fn modify_before_transmit(
        &self,
        ctx: &mut BeforeTransmitInterceptorContextMut<'_>,
        _rc: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), aws_sdk_s3::error::BoxError> {
        ctx.request_mut().headers_mut().insert(
            "x-amz-content-sha256",
            "0000000000000000000000000000000000000000000000000000000000000000",
        );
        Ok(())
    }
}

#[tokio::test]
async fn payload_hash_mismatch() {
    let t = Twin::start().await;
    let b = new_bucket(&t.client, "sha").await;
    let client = aws_sdk_s3::Client::from_conf(
        config_builder(&t.server.endpoint(), true)
            .interceptor(WrongPayloadHash)
            .build(),
    );
    let err = client
        .put_object()
        .bucket(&b)
        .key("k")
        .body(b"abc".to_vec().into())
        .send()
        .await
        .expect_err("mismatch");
    assert_eq!(
        error_parts(&err),
        ("XAmzContentSHA256Mismatch".to_string(), 400)
    );
}

fn chunked_put(
    addr: &str,
    bucket: &str,
    key: &str,
    sha: &str,
    trailer: Option<&str>,
    body: &str,
    decoded: usize,
) -> String {
    let trailer_header = trailer
        .map(|t| format!("x-amz-trailer: {t}\r\n"))
        .unwrap_or_default();
    format!(
        "PUT /{bucket}/{key} HTTP/1.1\r\nHost: {addr}\r\nContent-Encoding: aws-chunked\r\nx-amz-content-sha256: {sha}\r\nx-amz-decoded-content-length: {decoded}\r\n{trailer_header}Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

#[tokio::test]
async fn aws_chunked_framings_over_the_wire() {
    let t = Twin::start().await;
    let c = &t.client;
    let b = new_bucket(c, "framing").await;
    let addr = t.addr();
    let sig = "chunk-signature=ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648";
    let crc = crc32(b"hello world");

    // 1. unsigned with trailer (what the JS SDK sends)
    let body = format!("5\r\nhello\r\n6\r\n world\r\n0\r\nx-amz-checksum-crc32:{crc}\r\n\r\n");
    let (s, text) = raw(
        &addr,
        chunked_put(
            &addr,
            &b,
            "u",
            "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
            Some("x-amz-checksum-crc32"),
            &body,
            11,
        )
        .as_bytes(),
    )
    .await;
    assert_eq!(s, 200, "{text}");
    // 2. signed chunks, no trailer
    let body = format!("b;{sig}\r\nhello world\r\n0;{sig}\r\n\r\n");
    let (s, text) = raw(
        &addr,
        chunked_put(
            &addr,
            &b,
            "s",
            "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
            None,
            &body,
            11,
        )
        .as_bytes(),
    )
    .await;
    assert_eq!(s, 200, "{text}");
    // 3. signed chunks with a signed trailer (what the Rust SDK sends)
    let body = format!("b;{sig}\r\nhello world\r\n0;{sig}\r\nx-amz-checksum-crc32:{crc}\r\nx-amz-trailer-signature:{}\r\n\r\n", "a".repeat(64));
    let (s, text) = raw(
        &addr,
        chunked_put(
            &addr,
            &b,
            "st",
            "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
            Some("x-amz-checksum-crc32"),
            &body,
            11,
        )
        .as_bytes(),
    )
    .await;
    assert_eq!(s, 200, "{text}");
    for key in ["u", "s", "st"] {
        assert_eq!(get_bytes(c, &b, key).await, b"hello world", "{key}");
    }
    let got = c
        .get_object()
        .bucket(&b)
        .key("st")
        .checksum_mode(ChecksumMode::Enabled)
        .send()
        .await
        .expect("get");
    assert_eq!(got.checksum_crc32(), Some(crc.as_str()));

    // Wrong trailer value → BadDigest; missing trailer → IncompleteBody; truncated → IncompleteBody.
    let body = "5\r\nhello\r\n6\r\n world\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n";
    let (s, text) = raw(
        &addr,
        chunked_put(
            &addr,
            &b,
            "bad",
            "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
            Some("x-amz-checksum-crc32"),
            body,
            11,
        )
        .as_bytes(),
    )
    .await;
    assert_eq!(
        (s, xml_value(&text, "Code").as_deref()),
        (400, Some("BadDigest"))
    );
    let body = "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
    let (s, text) = raw(
        &addr,
        chunked_put(
            &addr,
            &b,
            "bad",
            "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
            Some("x-amz-checksum-crc32"),
            body,
            11,
        )
        .as_bytes(),
    )
    .await;
    assert_eq!(
        (s, xml_value(&text, "Code").as_deref()),
        (400, Some("IncompleteBody"))
    );
    let body = "5\r\nhello\r\n6\r\n wo";
    let (s, text) = raw(
        &addr,
        chunked_put(
            &addr,
            &b,
            "bad",
            "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
            Some("x-amz-checksum-crc32"),
            body,
            11,
        )
        .as_bytes(),
    )
    .await;
    assert_eq!(
        (s, xml_value(&text, "Code").as_deref()),
        (400, Some("IncompleteBody"))
    );
    let body = "5\r\nhello\r\n0\r\nx-amz-checksum-crc32 no colon\r\n\r\n";
    let (s, text) = raw(
        &addr,
        chunked_put(
            &addr,
            &b,
            "bad",
            "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
            Some("x-amz-checksum-crc32"),
            body,
            5,
        )
        .as_bytes(),
    )
    .await;
    assert_eq!(
        (s, xml_value(&text, "Code").as_deref()),
        (400, Some("MalformedTrailerError"))
    );
    let err = c
        .head_object()
        .bucket(&b)
        .key("bad")
        .send()
        .await
        .expect_err("nothing stored");
    assert_eq!(error_parts(&err).1, 404);
}

#[tokio::test]
async fn truncated_plain_body_is_incomplete_and_server_stays_up() {
    let t = Twin::start().await;
    let b = new_bucket(&t.client, "trunc").await;
    let req = format!(
        "PUT /{b}/k HTTP/1.1\r\nHost: {}\r\nContent-Length: 100\r\n\r\nonly-ten-b",
        t.addr()
    );
    let (s, text) = raw(&t.addr(), req.as_bytes()).await;
    assert_eq!(
        (s, xml_value(&text, "Code").as_deref()),
        (400, Some("IncompleteBody"))
    );
    let req = format!("PUT /{b}/k HTTP/1.1\r\nHost: {}\r\nx-amz-checksum-crc32: AAAAAA==\r\nx-amz-checksum-sha1: AAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\nContent-Length: 1\r\n\r\nx", t.addr());
    let (s, text) = raw(&t.addr(), req.as_bytes()).await;
    assert_eq!(
        (s, xml_value(&text, "Code").as_deref()),
        (400, Some("InvalidRequest"))
    );
    let req = format!("PUT /{b}/k HTTP/1.1\r\nHost: {}\r\nx-amz-checksum-crc32: nope\r\nContent-Length: 1\r\n\r\nx", t.addr());
    let (s, text) = raw(&t.addr(), req.as_bytes()).await;
    assert_eq!(
        (s, xml_value(&text, "Code").as_deref()),
        (400, Some("InvalidRequest"))
    );
    let req = format!(
        "PUT /{b}/k HTTP/1.1\r\nHost: {}\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n",
        t.addr()
    );
    let (s, text) = raw(&t.addr(), req.as_bytes()).await;
    assert_eq!(
        (s, xml_value(&text, "Code").as_deref()),
        (411, Some("MissingContentLength"))
    );
    put(&t.client, &b, "after", b"still serving").await;
    assert_eq!(get_bytes(&t.client, &b, "after").await, b"still serving");
}

/// Bodies from 1 MiB on are hashed on a thread of their own (wire/body_md5.rs): their ETags,
/// Content-MD5 checks and parts must be exactly what hashing in place gives, on both sides of
/// the threshold, with the SDK's aws-chunked trailer framing and with a plain body.
#[tokio::test]
async fn large_bodies_keep_exact_etags_and_digest_checks() {
    let t = Twin::start().await;
    let c = &t.client;
    let plain = Client::from_conf(
        config_builder(&t.server.endpoint(), true)
            .request_checksum_calculation(
                aws_sdk_s3::config::RequestChecksumCalculation::WhenRequired,
            )
            .build(),
    );
    let b = new_bucket(c, "bigmd5").await;
    // Irregular bytes, so a misordered or skipped segment changes the digest.
    let data: Vec<u8> = (0..(5u32 << 20) + 333)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    for (client, framing) in [(c, "aws-chunked"), (&plain, "plain")] {
        for len in [(1 << 20) - 1, 1 << 20, (3 << 20) + 7, data.len()] {
            let body = &data[..len];
            let key = format!("{framing}-{len}");
            let out = client
                .put_object()
                .bucket(&b)
                .key(&key)
                .body(body.to_vec().into())
                .send()
                .await
                .expect("put");
            let want = format!("\"{}\"", hex::encode(md5_digest(body)));
            assert_eq!(out.e_tag(), Some(want.as_str()), "{key}");
            assert_eq!(get_bytes(c, &b, &key).await, body, "{key}");
        }
    }
    // A wrong Content-MD5 on a large body is BadDigest, and nothing replaces the object.
    let err = plain
        .put_object()
        .bucket(&b)
        .key("plain-1048576")
        .body(data[..2 << 20].to_vec().into())
        .content_md5(b64(&md5_digest(b"other")))
        .send()
        .await
        .expect_err("bad md5");
    assert_eq!(error_parts(&err), ("BadDigest".to_string(), 400));
    assert_eq!(get_bytes(c, &b, "plain-1048576").await, &data[..1 << 20]);
    // Parts: each part's ETag is its MD5; the object's is the MD5 of the parts' MD5s.
    let up = c
        .create_multipart_upload()
        .bucket(&b)
        .key("mp")
        .send()
        .await
        .expect("create");
    let id = up.upload_id().expect("id");
    let parts = vec![data[..5 << 20].to_vec(), data[5 << 20..].to_vec()];
    let done = upload_parts(c, &b, "mp", id, &parts).await;
    for (p, part) in done.iter().zip(&parts) {
        assert_eq!(
            p.e_tag(),
            Some(format!("\"{}\"", hex::encode(md5_digest(part))).as_str())
        );
    }
    let out = c
        .complete_multipart_upload()
        .bucket(&b)
        .key("mp")
        .upload_id(id)
        .multipart_upload(
            aws_sdk_s3::types::CompletedMultipartUpload::builder()
                .set_parts(Some(done))
                .build(),
        )
        .send()
        .await
        .expect("complete");
    let joined: Vec<u8> = parts.iter().flat_map(|p| md5_digest(p)).collect();
    let want = format!("\"{}-2\"", hex::encode(md5_digest(&joined)));
    assert_eq!(out.e_tag(), Some(want.as_str()));
}
