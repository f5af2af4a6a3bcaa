//! What CompleteMultipartUpload checks about checksums and sizes, with the answers AWS gives
//! (codes and messages as AWS sends them).

use crate::common::*;
use aws_sdk_s3::operation::complete_multipart_upload::builders::CompleteMultipartUploadFluentBuilder;
use aws_sdk_s3::types::{ChecksumAlgorithm, ChecksumType, CompletedMultipartUpload, CompletedPart};
use aws_sdk_s3::Client;
use base64::Engine;

fn data(seed: usize, len: usize) -> Vec<u8> {
    (0..len)
        .map(|j| ((seed * 131 + j * 7 + j / 251) % 256) as u8)
        .collect()
}

/// The CRC of `bytes` computed in one pass, as a client computes the whole-object value.
fn whole_crc(algo: &ChecksumAlgorithm, bytes: &[u8]) -> String {
    use crc_fast::CrcAlgorithm as C;
    match algo {
        ChecksumAlgorithm::Crc32 => {
            b64(&(crc_fast::checksum(C::Crc32IsoHdlc, bytes) as u32).to_be_bytes())
        }
        ChecksumAlgorithm::Crc32C => {
            b64(&(crc_fast::checksum(C::Crc32Iscsi, bytes) as u32).to_be_bytes())
        }
        _ => b64(&crc_fast::checksum(C::Crc64Nvme, bytes).to_be_bytes()),
    }
}

fn with_checksum(
    p: aws_sdk_s3::types::builders::CompletedPartBuilder,
    algo: &ChecksumAlgorithm,
    value: &str,
) -> aws_sdk_s3::types::builders::CompletedPartBuilder {
    match algo {
        ChecksumAlgorithm::Crc32 => p.checksum_crc32(value),
        ChecksumAlgorithm::Crc32C => p.checksum_crc32_c(value),
        ChecksumAlgorithm::Crc64Nvme => p.checksum_crc64_nvme(value),
        ChecksumAlgorithm::Sha1 => p.checksum_sha1(value),
        _ => p.checksum_sha256(value),
    }
}

fn complete_with_checksum(
    c: CompleteMultipartUploadFluentBuilder,
    algo: &ChecksumAlgorithm,
    value: &str,
) -> CompleteMultipartUploadFluentBuilder {
    match algo {
        ChecksumAlgorithm::Crc32 => c.checksum_crc32(value),
        ChecksumAlgorithm::Crc32C => c.checksum_crc32_c(value),
        ChecksumAlgorithm::Crc64Nvme => c.checksum_crc64_nvme(value),
        ChecksumAlgorithm::Sha1 => c.checksum_sha1(value),
        _ => c.checksum_sha256(value),
    }
}

/// An upload with `parts` uploaded (the SDK sending each part's checksum in `algo`): its id,
/// and each part as Complete names it (ETag) with the part checksum S3 answered.
async fn upload(
    c: &Client,
    b: &str,
    key: &str,
    create: Option<(ChecksumAlgorithm, Option<ChecksumType>)>,
    parts: &[Vec<u8>],
) -> (String, Vec<(CompletedPart, String)>) {
    let mut req = c.create_multipart_upload().bucket(b).key(key);
    if let Some((algo, kind)) = &create {
        req = req
            .checksum_algorithm(algo.clone())
            .set_checksum_type(kind.clone());
    }
    let id = req
        .send()
        .await
        .expect("create")
        .upload_id()
        .expect("id")
        .to_string();
    let mut done = Vec::new();
    for (i, body) in parts.iter().enumerate() {
        let n = i as i32 + 1;
        let algo = create
            .as_ref()
            .map_or(ChecksumAlgorithm::Crc32, |(a, _)| a.clone());
        let out = c
            .upload_part()
            .bucket(b)
            .key(key)
            .upload_id(&id)
            .part_number(n)
            .checksum_algorithm(algo.clone())
            .body(body.clone().into())
            .send()
            .await
            .expect("part");
        let sum = match algo {
            ChecksumAlgorithm::Crc32 => out.checksum_crc32(),
            ChecksumAlgorithm::Crc32C => out.checksum_crc32_c(),
            ChecksumAlgorithm::Crc64Nvme => out.checksum_crc64_nvme(),
            ChecksumAlgorithm::Sha1 => out.checksum_sha1(),
            _ => out.checksum_sha256(),
        }
        .expect("part checksum")
        .to_string();
        let part = CompletedPart::builder()
            .part_number(n)
            .e_tag(out.e_tag().expect("etag"))
            .build();
        done.push((part, sum));
    }
    (id, done)
}

fn plain(parts: &[(CompletedPart, String)]) -> CompletedMultipartUpload {
    CompletedMultipartUpload::builder()
        .set_parts(Some(parts.iter().map(|(p, _)| p.clone()).collect()))
        .build()
}

fn with_part_sums(
    parts: &[(CompletedPart, String)],
    algo: &ChecksumAlgorithm,
) -> CompletedMultipartUpload {
    let list = parts
        .iter()
        .map(|(p, sum)| {
            let b = CompletedPart::builder()
                .part_number(p.part_number().unwrap_or(0))
                .e_tag(p.e_tag().unwrap_or(""));
            with_checksum(b, algo, sum).build()
        })
        .collect();
    CompletedMultipartUpload::builder()
        .set_parts(Some(list))
        .build()
}

#[tokio::test]
async fn full_object_crc_of_uneven_parts_is_the_crc_of_the_bytes() {
    let t = Twin::start().await;
    let c = &t.client;
    let b = new_bucket(c, "mpfull").await;
    let mib5 = 5 * 1024 * 1024;
    let parts = [data(1, mib5), data(2, mib5 + 17), data(3, 3)];
    let whole = parts.concat();
    for algo in [
        ChecksumAlgorithm::Crc32,
        ChecksumAlgorithm::Crc32C,
        ChecksumAlgorithm::Crc64Nvme,
    ] {
        let key = format!("full-{}", algo.as_str());
        let (id, done) = upload(
            c,
            &b,
            &key,
            Some((algo.clone(), Some(ChecksumType::FullObject))),
            &parts,
        )
        .await;
        let expected = whole_crc(&algo, &whole);
        let req = c
            .complete_multipart_upload()
            .bucket(&b)
            .key(&key)
            .upload_id(&id)
            .checksum_type(ChecksumType::FullObject)
            .multipart_upload(plain(&done));
        let out = complete_with_checksum(req, &algo, &expected)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{key}: the right whole-object CRC is refused: {e:?}"));
        let got = match algo {
            ChecksumAlgorithm::Crc32 => out.checksum_crc32(),
            ChecksumAlgorithm::Crc32C => out.checksum_crc32_c(),
            _ => out.checksum_crc64_nvme(),
        };
        assert_eq!(got, Some(expected.as_str()), "{key}");
        assert_eq!(out.checksum_type(), Some(&ChecksumType::FullObject));
    }
}

#[tokio::test]
async fn complete_checks_the_whole_object_checksum_and_type() {
    let t = Twin::start().await;
    let c = &t.client;
    let b = new_bucket(c, "mpclaim").await;
    let parts = [b"abc".to_vec()];
    let algo = ChecksumAlgorithm::Crc32C;
    let (id, done) = upload(
        c,
        &b,
        "k",
        Some((algo.clone(), Some(ChecksumType::FullObject))),
        &parts,
    )
    .await;
    let right = whole_crc(&algo, b"abc");
    let complete = || {
        c.complete_multipart_upload()
            .bucket(&b)
            .key("k")
            .upload_id(&id)
            .multipart_upload(with_part_sums(&done, &algo))
    };
    let bad_digest = (
        "BadDigest".to_string(),
        "The crc32c you specified did not match the calculated checksum.".to_string(),
    );
    // The mode named at Complete must be the upload's.
    let err = complete()
        .checksum_type(ChecksumType::Composite)
        .send()
        .await
        .expect_err("other mode");
    assert_eq!(
        error_message(&err),
        (
            "InvalidRequest".to_string(),
            "The upload was created using the FULL_OBJECT checksum mode. The complete request must use the same checksum mode.".to_string()
        )
    );
    // A wrong value, a value in another algorithm, and a full-object value without the
    // checksum type are all BadDigest naming the upload's algorithm.
    let err = complete()
        .checksum_type(ChecksumType::FullObject)
        .checksum_crc32_c(whole_crc(&algo, b"abd"))
        .send()
        .await
        .expect_err("wrong value");
    assert_eq!(error_message(&err), bad_digest);
    let err = complete()
        .checksum_type(ChecksumType::FullObject)
        .checksum_crc32(whole_crc(&ChecksumAlgorithm::Crc32, b"abc"))
        .send()
        .await
        .expect_err("other algorithm");
    assert_eq!(error_message(&err), bad_digest);
    let err = complete()
        .checksum_crc32_c(&right)
        .send()
        .await
        .expect_err("no type");
    assert_eq!(error_message(&err), bad_digest);
    // The refusals left the upload as it was.
    let out = complete()
        .checksum_type(ChecksumType::FullObject)
        .checksum_crc32_c(&right)
        .send()
        .await
        .expect("right value");
    assert_eq!(out.checksum_crc32_c(), Some(right.as_str()));

    // An upload created without an algorithm has no checksum mode yet.
    let (id, done) = upload(c, &b, "plain", None, &parts).await;
    let err = c
        .complete_multipart_upload()
        .bucket(&b)
        .key("plain")
        .upload_id(&id)
        .checksum_type(ChecksumType::FullObject)
        .multipart_upload(plain(&done))
        .send()
        .await
        .expect_err("null mode");
    assert_eq!(
        error_message(&err),
        (
            "InvalidRequest".to_string(),
            "The upload was created using the null checksum mode. The complete request must use the same checksum mode.".to_string()
        )
    );
}

#[tokio::test]
async fn composite_uploads_need_every_part_checksum() {
    let t = Twin::start().await;
    let c = &t.client;
    let b = new_bucket(c, "mpcomp").await;
    let parts = [data(1, 1000), data(2, 10)];
    for algo in [ChecksumAlgorithm::Crc32, ChecksumAlgorithm::Sha256] {
        let key = format!("c-{}", algo.as_str());
        let (id, done) = upload(
            c,
            &b,
            &key,
            Some((algo.clone(), Some(ChecksumType::Composite))),
            &parts,
        )
        .await;
        let complete = || {
            c.complete_multipart_upload()
                .bucket(&b)
                .key(&key)
                .upload_id(&id)
        };
        let err = complete()
            .multipart_upload(plain(&done))
            .send()
            .await
            .expect_err("no part checksums");
        assert_eq!(
            error_message(&err),
            (
                "InvalidRequest".to_string(),
                format!(
                    "The upload was created using a {} checksum. The complete request must include the checksum for each part. It was missing for part 1 in the request.",
                    algo.as_str().to_lowercase()
                )
            )
        );
        // A part checksum that is not the part's: the part "could not be found".
        let mut wrong = done.clone();
        wrong[1].1 = done[0].1.clone();
        let err = complete()
            .multipart_upload(with_part_sums(&wrong, &algo))
            .send()
            .await
            .expect_err("wrong part checksum");
        assert_eq!(error_parts(&err), ("InvalidPart".to_string(), 400));
        assert!(error_message(&err)
            .1
            .starts_with("One or more of the specified parts could not be found."));

        // The composite value in its "-N" form, as S3 itself shows it, is accepted.
        let raw: Vec<u8> = done
            .iter()
            .flat_map(|(_, s)| {
                base64::engine::general_purpose::STANDARD
                    .decode(s)
                    .expect("b64")
            })
            .collect();
        let composite = match algo {
            ChecksumAlgorithm::Crc32 => format!(
                "{}-2",
                b64(
                    &(crc_fast::checksum(crc_fast::CrcAlgorithm::Crc32IsoHdlc, &raw) as u32)
                        .to_be_bytes()
                )
            ),
            _ => {
                use sha2::{Digest, Sha256};
                format!("{}-2", b64(&Sha256::digest(&raw)))
            }
        };
        let bad = complete_with_checksum(
            complete().multipart_upload(with_part_sums(&done, &algo)),
            &algo,
            &format!("{}-2", whole_crc(&ChecksumAlgorithm::Crc32, b"x")),
        );
        if algo == ChecksumAlgorithm::Crc32 {
            let err = bad.send().await.expect_err("wrong composite");
            assert_eq!(
                error_message(&err),
                (
                    "BadDigest".to_string(),
                    "The crc32 you specified did not match the calculated checksum.".to_string()
                )
            );
        }
        let out = complete_with_checksum(
            complete().multipart_upload(with_part_sums(&done, &algo)),
            &algo,
            &composite,
        )
        .send()
        .await
        .unwrap_or_else(|e| panic!("{key}: composite value refused: {e:?}"));
        assert_eq!(out.checksum_type(), Some(&ChecksumType::Composite));
    }
}

#[tokio::test]
async fn parts_of_uploads_without_an_algorithm_take_no_checksums() {
    let t = Twin::start().await;
    let c = &t.client;
    let b = new_bucket(c, "mpnone").await;
    let (id, done) = upload(c, &b, "k", None, &[b"aaa".to_vec()]).await;
    let err = c
        .complete_multipart_upload()
        .bucket(&b)
        .key("k")
        .upload_id(&id)
        .multipart_upload(with_part_sums(&done, &ChecksumAlgorithm::Crc32))
        .send()
        .await
        .expect_err("part checksum");
    assert_eq!(error_parts(&err), ("InvalidPart".to_string(), 400));
    // Without part checksums it completes, with S3's default full-object CRC64NVME.
    let out = c
        .complete_multipart_upload()
        .bucket(&b)
        .key("k")
        .upload_id(&id)
        .multipart_upload(plain(&done))
        .send()
        .await
        .expect("complete");
    assert_eq!(
        out.checksum_crc64_nvme(),
        Some(whole_crc(&ChecksumAlgorithm::Crc64Nvme, b"aaa").as_str())
    );
    assert_eq!(out.checksum_type(), Some(&ChecksumType::FullObject));
}

#[tokio::test]
async fn complete_compares_the_declared_object_size() {
    let t = Twin::start().await;
    let c = &t.client;
    let b = new_bucket(c, "mpsize").await;
    let (id, done) = upload(c, &b, "k", None, &[b"aaaa".to_vec()]).await;
    let complete = |size: i64| {
        c.complete_multipart_upload()
            .bucket(&b)
            .key("k")
            .upload_id(&id)
            .mpu_object_size(size)
            .multipart_upload(plain(&done))
            .send()
    };
    let err = complete(5).await.expect_err("wrong size");
    assert_eq!(
        error_message(&err),
        (
            "InvalidRequest".to_string(),
            "The provided 'x-amz-mp-object-size' header value 5 does not match what was computed: 4".to_string()
        )
    );
    complete(4).await.expect("right size");
}

#[tokio::test]
async fn parts_and_copies_of_multipart_objects() {
    use aws_sdk_s3::types::{ChecksumMode, ObjectAttributes};
    use md5::{Digest, Md5};
    let t = Twin::start().await;
    let c = &t.client;
    let b = new_bucket(c, "mpcopy").await;
    let parts = [data(1, 3000), data(2, 2000), data(3, 10)];
    let whole = parts.concat();
    let plain_etag = format!("\"{}\"", hex::encode(Md5::digest(&whole)));
    for (algo, kind) in [
        (ChecksumAlgorithm::Sha256, ChecksumType::Composite),
        (ChecksumAlgorithm::Crc32, ChecksumType::FullObject),
    ] {
        let key = format!("src-{}", kind.as_str());
        let (id, done) = upload(
            c,
            &b,
            &key,
            Some((algo.clone(), Some(kind.clone()))),
            &parts,
        )
        .await;
        let mut req = c
            .complete_multipart_upload()
            .bucket(&b)
            .key(&key)
            .upload_id(&id)
            .multipart_upload(with_part_sums(&done, &algo));
        if kind == ChecksumType::FullObject {
            req = req
                .checksum_type(ChecksumType::FullObject)
                .checksum_crc32(whole_crc(&algo, &whole));
        }
        req.send().await.expect("complete");

        // A part read with its checksum: the part's own for a composite object, none else.
        let part = c
            .get_object()
            .bucket(&b)
            .key(&key)
            .part_number(2)
            .checksum_mode(ChecksumMode::Enabled)
            .send()
            .await
            .expect("part 2");
        match kind {
            ChecksumType::Composite => {
                assert_eq!(part.checksum_sha256(), Some(done[1].1.as_str()));
                assert_eq!(part.checksum_type(), Some(&ChecksumType::Composite));
            }
            _ => assert_eq!((part.checksum_crc32(), part.checksum_type()), (None, None)),
        }

        // A copy is a single object: the MD5 of its bytes, a full-object checksum, no parts.
        let dst = format!("copy-{}", kind.as_str());
        let out = c
            .copy_object()
            .bucket(&b)
            .key(&dst)
            .copy_source(format!("{b}/{key}"))
            .send()
            .await
            .expect("copy");
        let r = out.copy_object_result().expect("result");
        assert_eq!(r.e_tag(), Some(plain_etag.as_str()), "{key}");
        assert_eq!(r.checksum_type(), Some(&ChecksumType::FullObject), "{key}");
        let expected = match algo {
            ChecksumAlgorithm::Sha256 => {
                use sha2::Sha256;
                (b64(&Sha256::digest(&whole)), r.checksum_sha256())
            }
            _ => (whole_crc(&algo, &whole), r.checksum_crc32()),
        };
        assert_eq!(Some(expected.0.as_str()), expected.1, "{key}");
        let attrs = c
            .get_object_attributes()
            .bucket(&b)
            .key(&dst)
            .object_attributes(ObjectAttributes::ObjectParts)
            .object_attributes(ObjectAttributes::Etag)
            .send()
            .await
            .expect("attributes");
        assert!(attrs.object_parts().is_none(), "{key}");
        assert_eq!(
            attrs.e_tag().map(|e| e.trim_matches('"')),
            Some(plain_etag.trim_matches('"'))
        );
    }
}

#[tokio::test]
async fn parts_in_another_algorithm_and_completes_without_parts_are_refused() {
    let t = Twin::start().await;
    let c = &t.client;
    let b = new_bucket(c, "mpalgo").await;
    let (id, _) = upload(
        c,
        &b,
        "k",
        Some((ChecksumAlgorithm::Sha256, None)),
        &[b"abc".to_vec()],
    )
    .await;
    let err = c
        .upload_part()
        .bucket(&b)
        .key("k")
        .upload_id(&id)
        .part_number(2)
        .checksum_algorithm(ChecksumAlgorithm::Crc32)
        .body(b"abc".to_vec().into())
        .send()
        .await
        .expect_err("another algorithm");
    assert_eq!(
        error_message(&err),
        (
            "InvalidRequest".to_string(),
            "Checksum Type mismatch occurred, expected checksum Type: sha256, actual checksum Type: crc32".to_string()
        )
    );
    // A Complete without a part list (no body at all).
    let req = format!(
        "POST /{b}/k?uploadId={id} HTTP/1.1\r\nHost: {}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        t.addr()
    );
    let (status, text) = raw(&t.addr(), req.as_bytes()).await;
    assert_eq!(status, 400, "{text}");
    assert_eq!(xml_value(&text, "Code").as_deref(), Some("InvalidRequest"));
    assert_eq!(
        xml_value(&text, "Message").as_deref(),
        Some("You must specify at least one part")
    );
}
