use crate::common::*;
use aws_sdk_s3::types::{
    ChecksumAlgorithm, ChecksumMode, ChecksumType, CompletedMultipartUpload, CompletedPart,
};
use base64::Engine;

fn md5(d: &[u8]) -> [u8; 16] {
    use md5::{Digest, Md5};
    Md5::digest(d).into()
}

fn part_data(i: usize, len: usize) -> Vec<u8> {
    (0..len).map(|j| ((i * 31 + j * 7) % 251) as u8).collect()
}

#[tokio::test]
async fn upload_complete_and_read_parts_back() {
    let t = Twin::start().await;
    let c = &t.client;
    let b = new_bucket(c, "mpu").await;
    let create = c
        .create_multipart_upload()
        .bucket(&b)
        .key("big")
        .content_type("video/mp4")
        .metadata("m", "1")
        .send()
        .await
        .expect("create");
    let id = create.upload_id().expect("id").to_string();
    let parts: Vec<Vec<u8>> = (0..3).map(|i| part_data(i, 100_000 + i)).collect();
    let done = upload_parts(c, &b, "big", &id, &parts).await;
    let out = c
        .complete_multipart_upload()
        .bucket(&b)
        .key("big")
        .upload_id(&id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .set_parts(Some(done))
                .build(),
        )
        .send()
        .await
        .expect("complete");
    let mut md5s = Vec::new();
    for p in &parts {
        md5s.extend_from_slice(&md5(p));
    }
    let expected_etag = format!("\"{}-3\"", hex::encode(md5(&md5s)));
    assert_eq!(out.e_tag(), Some(expected_etag.as_str()));

    let all: Vec<u8> = parts.concat();
    let got = c
        .get_object()
        .bucket(&b)
        .key("big")
        .send()
        .await
        .expect("get");
    assert_eq!(got.content_type(), Some("video/mp4"));
    assert_eq!(got.e_tag(), Some(expected_etag.as_str()));
    assert!(got.body.collect().await.expect("b").into_bytes() == all);
    let p2 = c
        .get_object()
        .bucket(&b)
        .key("big")
        .part_number(2)
        .send()
        .await
        .expect("part 2");
    assert_eq!(p2.parts_count(), Some(3));
    assert_eq!(
        p2.content_range(),
        Some(format!("bytes 100000-200000/{}", all.len()).as_str())
    );
    assert!(p2.body.collect().await.expect("b").into_bytes() == parts[1]);
    let head = c
        .head_object()
        .bucket(&b)
        .key("big")
        .part_number(3)
        .send()
        .await
        .expect("head part");
    assert_eq!(head.content_length(), Some(100_002));
    // The upload is gone.
    let err = c
        .list_parts()
        .bucket(&b)
        .key("big")
        .upload_id(&id)
        .send()
        .await
        .expect_err("gone");
    assert_eq!(error_parts(&err), ("NoSuchUpload".to_string(), 404));
}

#[tokio::test]
async fn complete_validates_parts() {
    let t = Twin::start().await;
    let c = &t.client;
    let b = new_bucket(c, "mpv").await;
    let id = c
        .create_multipart_upload()
        .bucket(&b)
        .key("k")
        .send()
        .await
        .expect("create")
        .upload_id()
        .expect("id")
        .to_string();
    let done = upload_parts(c, &b, "k", &id, &[vec![1; 10], vec![2; 10]]).await;
    let complete = |parts: Vec<CompletedPart>| {
        c.complete_multipart_upload()
            .bucket(&b)
            .key("k")
            .upload_id(&id)
            .multipart_upload(
                CompletedMultipartUpload::builder()
                    .set_parts(Some(parts))
                    .build(),
            )
            .send()
    };
    let err = complete(vec![done[1].clone(), done[0].clone()])
        .await
        .expect_err("order");
    assert_eq!(error_parts(&err), ("InvalidPartOrder".to_string(), 400));
    let wrong = CompletedPart::builder()
        .part_number(1)
        .e_tag("\"00000000000000000000000000000000\"")
        .build();
    let err = complete(vec![wrong]).await.expect_err("etag");
    assert_eq!(error_parts(&err), ("InvalidPart".to_string(), 400));
    let missing = CompletedPart::builder()
        .part_number(7)
        .e_tag(done[0].e_tag().unwrap_or(""))
        .build();
    let err = complete(vec![missing]).await.expect_err("missing");
    assert_eq!(error_parts(&err), ("InvalidPart".to_string(), 400));
    // Tiny parts are fine by default (not strict mode).
    complete(done).await.expect("complete with tiny parts");
    let err = c
        .upload_part()
        .bucket(&b)
        .key("k")
        .upload_id("nope")
        .part_number(1)
        .body(vec![1].into())
        .send()
        .await
        .expect_err("no upload");
    assert_eq!(error_parts(&err), ("NoSuchUpload".to_string(), 404));
    let err = c
        .upload_part()
        .bucket(&b)
        .key("k")
        .upload_id("nope")
        .part_number(10_001)
        .body(vec![1].into())
        .send()
        .await
        .expect_err("range");
    assert_eq!(error_parts(&err), ("InvalidArgument".to_string(), 400));
}

#[tokio::test]
async fn strict_mode_enforces_entity_too_small() {
    let server = s3twin::S3Server::builder().port(0).strict(true).build();
    server.start().await.expect("start");
    let c = client(&server.endpoint(), true);
    let b = new_bucket(&c, "strict").await;
    let id = c
        .create_multipart_upload()
        .bucket(&b)
        .key("k")
        .send()
        .await
        .expect("create")
        .upload_id()
        .expect("id")
        .to_string();
    let done = upload_parts(&c, &b, "k", &id, &[vec![1; 10], vec![2; 10]]).await;
    let err = c
        .complete_multipart_upload()
        .bucket(&b)
        .key("k")
        .upload_id(&id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .set_parts(Some(done))
                .build(),
        )
        .send()
        .await
        .expect_err("too small");
    assert_eq!(error_parts(&err), ("EntityTooSmall".to_string(), 400));
}

#[tokio::test]
async fn composite_and_full_object_checksums() {
    let t = Twin::start().await;
    let c = &t.client;
    let b = new_bucket(c, "mpsum").await;
    let parts = [part_data(1, 5000), part_data(2, 7000)];
    for (algo, kind) in [
        (ChecksumAlgorithm::Crc32, ChecksumType::Composite),
        (ChecksumAlgorithm::Crc32, ChecksumType::FullObject),
        (ChecksumAlgorithm::Sha256, ChecksumType::Composite),
        (ChecksumAlgorithm::Crc64Nvme, ChecksumType::FullObject),
    ] {
        let key = format!("{}-{}", algo.as_str(), kind.as_str());
        let id = c
            .create_multipart_upload()
            .bucket(&b)
            .key(&key)
            .checksum_algorithm(algo.clone())
            .checksum_type(kind.clone())
            .send()
            .await
            .expect("create")
            .upload_id()
            .expect("id")
            .to_string();
        let mut done = Vec::new();
        let mut raw_sums = Vec::new();
        for (i, data) in parts.iter().enumerate() {
            let n = i as i32 + 1;
            let out = c
                .upload_part()
                .bucket(&b)
                .key(&key)
                .upload_id(&id)
                .part_number(n)
                .checksum_algorithm(algo.clone())
                .body(data.clone().into())
                .send()
                .await
                .expect("part");
            let sum = match algo {
                ChecksumAlgorithm::Crc32 => out.checksum_crc32(),
                ChecksumAlgorithm::Sha256 => out.checksum_sha256(),
                _ => out.checksum_crc64_nvme(),
            }
            .expect("part checksum")
            .to_string();
            raw_sums.extend(
                base64::engine::general_purpose::STANDARD
                    .decode(&sum)
                    .expect("b64"),
            );
            let mut p = CompletedPart::builder()
                .part_number(n)
                .e_tag(out.e_tag().expect("etag"));
            p = match algo {
                ChecksumAlgorithm::Crc32 => p.checksum_crc32(sum),
                ChecksumAlgorithm::Sha256 => p.checksum_sha256(sum),
                _ => p.checksum_crc64_nvme(sum),
            };
            done.push(p.build());
        }
        let out = c
            .complete_multipart_upload()
            .bucket(&b)
            .key(&key)
            .upload_id(&id)
            .multipart_upload(
                CompletedMultipartUpload::builder()
                    .set_parts(Some(done))
                    .build(),
            )
            .send()
            .await
            .expect("complete");
        assert_eq!(out.checksum_type(), Some(&kind), "{key}");
        let whole = parts.concat();
        let expected = match (&algo, &kind) {
            (ChecksumAlgorithm::Crc32, ChecksumType::Composite) => {
                format!(
                    "{}-2",
                    b64(
                        &crc_fast::checksum(crc_fast::CrcAlgorithm::Crc32IsoHdlc, &raw_sums)
                            .to_be_bytes()[4..]
                    )
                )
            }
            (ChecksumAlgorithm::Crc32, _) => b64(&crc_fast::checksum(
                crc_fast::CrcAlgorithm::Crc32IsoHdlc,
                &whole,
            )
            .to_be_bytes()[4..]),
            (ChecksumAlgorithm::Sha256, _) => {
                use sha2::{Digest, Sha256};
                format!("{}-2", b64(&Sha256::digest(&raw_sums)))
            }
            _ => b64(&crc_fast::checksum(crc_fast::CrcAlgorithm::Crc64Nvme, &whole).to_be_bytes()),
        };
        let got = match algo {
            ChecksumAlgorithm::Crc32 => out.checksum_crc32(),
            ChecksumAlgorithm::Sha256 => out.checksum_sha256(),
            _ => out.checksum_crc64_nvme(),
        };
        assert_eq!(got, Some(expected.as_str()), "{key}");
        let head = c
            .head_object()
            .bucket(&b)
            .key(&key)
            .checksum_mode(ChecksumMode::Enabled)
            .send()
            .await
            .expect("head");
        assert_eq!(head.checksum_type(), Some(&kind));
    }
    let err = c
        .create_multipart_upload()
        .bucket(&b)
        .key("bad")
        .checksum_algorithm(ChecksumAlgorithm::Sha256)
        .checksum_type(ChecksumType::FullObject)
        .send()
        .await
        .expect_err("sha256 cannot be full-object");
    assert_eq!(error_parts(&err), ("InvalidRequest".to_string(), 400));
}

#[tokio::test]
async fn upload_part_copy_with_ranges() {
    let t = Twin::start().await;
    let c = &t.client;
    let b = new_bucket(c, "mpc").await;
    let src: Vec<u8> = part_data(9, 50_000);
    put(c, &b, "src", &src).await;
    let id = c
        .create_multipart_upload()
        .bucket(&b)
        .key("dst")
        .send()
        .await
        .expect("create")
        .upload_id()
        .expect("id")
        .to_string();
    let mut done = Vec::new();
    for (n, range) in [(1, "bytes=0-19999"), (2, "bytes=20000-49999")] {
        let out = c
            .upload_part_copy()
            .bucket(&b)
            .key("dst")
            .upload_id(&id)
            .part_number(n)
            .copy_source(format!("{b}/src"))
            .copy_source_range(range)
            .send()
            .await
            .expect("copy part");
        let etag = out
            .copy_part_result()
            .and_then(|r| r.e_tag())
            .expect("etag")
            .to_string();
        done.push(CompletedPart::builder().part_number(n).e_tag(etag).build());
    }
    let err = c
        .upload_part_copy()
        .bucket(&b)
        .key("dst")
        .upload_id(&id)
        .part_number(3)
        .copy_source(format!("{b}/src"))
        .copy_source_range("bytes=0-50000")
        .send()
        .await
        .expect_err("beyond");
    assert_eq!(error_parts(&err), ("InvalidArgument".to_string(), 400));
    // A range that starts past the end of the source is another error on S3.
    let err = c
        .upload_part_copy()
        .bucket(&b)
        .key("dst")
        .upload_id(&id)
        .part_number(3)
        .copy_source(format!("{b}/src"))
        .copy_source_range("bytes=50000-50010")
        .send()
        .await
        .expect_err("past the end");
    assert_eq!(
        error_message(&err),
        (
            "InvalidRequest".to_string(),
            "The specified copy range is invalid for the source object size".to_string()
        )
    );
    c.complete_multipart_upload()
        .bucket(&b)
        .key("dst")
        .upload_id(&id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .set_parts(Some(done))
                .build(),
        )
        .send()
        .await
        .expect("complete");
    assert!(get_bytes(c, &b, "dst").await == src);
}

#[tokio::test]
async fn list_parts_and_uploads_paginate() {
    let t = Twin::start().await;
    let c = &t.client;
    let b = new_bucket(c, "mpl").await;
    let id = c
        .create_multipart_upload()
        .bucket(&b)
        .key("k")
        .send()
        .await
        .expect("create")
        .upload_id()
        .expect("id")
        .to_string();
    upload_parts(
        c,
        &b,
        "k",
        &id,
        &(0..7).map(|i| vec![i as u8; 3]).collect::<Vec<_>>(),
    )
    .await;
    let mut numbers = Vec::new();
    let mut marker: Option<String> = None;
    let mut pages = 0;
    loop {
        let page = c
            .list_parts()
            .bucket(&b)
            .key("k")
            .upload_id(&id)
            .max_parts(3)
            .set_part_number_marker(marker.clone())
            .send()
            .await
            .expect("parts");
        pages += 1;
        numbers.extend(page.parts().iter().filter_map(|p| p.part_number()));
        if page.is_truncated() != Some(true) {
            break;
        }
        marker = page.next_part_number_marker().map(str::to_string);
    }
    assert_eq!((pages, numbers), (3, (1..=7).collect::<Vec<i32>>()));

    for key in ["a/1", "a/2", "b", "c", "c", "d"] {
        c.create_multipart_upload()
            .bucket(&b)
            .key(key)
            .send()
            .await
            .expect("create");
    }
    let mut seen = Vec::new();
    let (mut km, mut im): (Option<String>, Option<String>) = (None, None);
    let mut pages = 0;
    loop {
        let page = c
            .list_multipart_uploads()
            .bucket(&b)
            .delimiter("/")
            .max_uploads(2)
            .set_key_marker(km.clone())
            .set_upload_id_marker(im.clone())
            .send()
            .await
            .expect("uploads");
        pages += 1;
        seen.extend(
            page.uploads()
                .iter()
                .filter_map(|u| u.key().map(str::to_string)),
        );
        seen.extend(
            page.common_prefixes()
                .iter()
                .filter_map(|p| p.prefix().map(str::to_string)),
        );
        if page.is_truncated() != Some(true) {
            break;
        }
        km = page.next_key_marker().map(str::to_string);
        im = page
            .next_upload_id_marker()
            .map(str::to_string)
            .filter(|s| !s.is_empty());
    }
    seen.sort();
    assert_eq!(seen, ["a/", "b", "c", "c", "d", "k"]);
    assert_eq!(pages, 3);
    c.abort_multipart_upload()
        .bucket(&b)
        .key("k")
        .upload_id(&id)
        .send()
        .await
        .expect("abort");
    let err = c
        .abort_multipart_upload()
        .bucket(&b)
        .key("k")
        .upload_id(&id)
        .send()
        .await
        .expect_err("gone");
    assert_eq!(error_parts(&err), ("NoSuchUpload".to_string(), 404));
}

#[tokio::test]
async fn strict_mode_per_run() {
    let t = Twin::start().await;
    let body = r#"{"runId":"strict-run","strict":true}"#;
    let req = format!(
        "POST /_s3twin/runs HTTP/1.1\r\nHost: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        t.addr(),
        body.len()
    );
    assert_eq!(raw(&t.addr(), req.as_bytes()).await.0, 201);
    let tiny = [vec![1; 10], vec![2; 10]];
    for (run, strict) in [("strict-run", true), ("relaxed-run", false)] {
        let c = client(&format!("{}/t/{run}/", t.server.endpoint()), true);
        c.create_bucket()
            .bucket("b-strict")
            .send()
            .await
            .expect("create");
        let id = c
            .create_multipart_upload()
            .bucket("b-strict")
            .key("k")
            .send()
            .await
            .expect("create")
            .upload_id()
            .expect("id")
            .to_string();
        let done = upload_parts(&c, "b-strict", "k", &id, &tiny).await;
        let result = c
            .complete_multipart_upload()
            .bucket("b-strict")
            .key("k")
            .upload_id(&id)
            .multipart_upload(
                CompletedMultipartUpload::builder()
                    .set_parts(Some(done))
                    .build(),
            )
            .send()
            .await;
        match (strict, result) {
            (true, Err(e)) => assert_eq!(error_parts(&e), ("EntityTooSmall".to_string(), 400)),
            (false, Ok(_)) => {}
            (s, r) => panic!("run {run} (strict {s}): {r:?}"),
        }
    }
}

#[tokio::test]
async fn a_retried_complete_gets_the_first_answer() {
    let t = Twin::start().await;
    let c = &t.client;
    let b = new_bucket(c, "mpretry").await;
    let id = c
        .create_multipart_upload()
        .bucket(&b)
        .key("k")
        .send()
        .await
        .expect("create")
        .upload_id()
        .expect("id")
        .to_string();
    let done = upload_parts(c, &b, "k", &id, &[vec![1; 10], vec![2; 10]]).await;
    let complete = |parts: Vec<CompletedPart>| {
        c.complete_multipart_upload()
            .bucket(&b)
            .key("k")
            .upload_id(&id)
            .multipart_upload(
                CompletedMultipartUpload::builder()
                    .set_parts(Some(parts))
                    .build(),
            )
            .send()
    };
    let first = complete(done.clone()).await.expect("complete");
    let again = complete(done.clone()).await.expect("retried complete");
    assert_eq!(
        (again.location(), again.bucket(), again.key(), again.e_tag()),
        (first.location(), first.bucket(), first.key(), first.e_tag())
    );
    assert_eq!(again.checksum_crc64_nvme(), first.checksum_crc64_nvme());
    // Another part list is not a retry of this one.
    let err = complete(done[..1].to_vec()).await.expect_err("other parts");
    assert_eq!(error_parts(&err), ("NoSuchUpload".to_string(), 404));
    // The upload itself is gone.
    let err = c
        .list_parts()
        .bucket(&b)
        .key("k")
        .upload_id(&id)
        .send()
        .await
        .expect_err("gone");
    assert_eq!(error_parts(&err), ("NoSuchUpload".to_string(), 404));
}

#[tokio::test]
async fn uploads_without_an_algorithm_show_none_until_completed() {
    let t = Twin::start().await;
    let c = &t.client;
    let b = new_bucket(c, "mpnoalg").await;
    put(c, &b, "src", b"this is a part").await;
    let id = c
        .create_multipart_upload()
        .bucket(&b)
        .key("k")
        .send()
        .await
        .expect("create")
        .upload_id()
        .expect("id")
        .to_string();
    let part = c
        .upload_part()
        .bucket(&b)
        .key("k")
        .upload_id(&id)
        .part_number(1)
        .checksum_algorithm(ChecksumAlgorithm::Crc32C)
        .body(b"aaa".to_vec().into())
        .send()
        .await
        .expect("part");
    // The part's answer carries the checksum the client sent.
    assert!(part.checksum_crc32_c().is_some());
    let copy = c
        .upload_part_copy()
        .bucket(&b)
        .key("k")
        .upload_id(&id)
        .part_number(2)
        .copy_source(format!("{b}/src"))
        .send()
        .await
        .expect("copy part");
    assert_eq!(
        copy.server_side_encryption(),
        Some(&aws_sdk_s3::types::ServerSideEncryption::Aes256)
    );
    let result = copy.copy_part_result().expect("result");
    assert_eq!(
        (
            result.checksum_crc32(),
            result.checksum_crc32_c(),
            result.checksum_crc64_nvme()
        ),
        (None, None, None)
    );
    let parts = c
        .list_parts()
        .bucket(&b)
        .key("k")
        .upload_id(&id)
        .send()
        .await
        .expect("parts");
    assert_eq!(
        (parts.checksum_algorithm(), parts.checksum_type()),
        (None, None)
    );
    for p in parts.parts() {
        assert_eq!(
            (p.checksum_crc32_c(), p.checksum_crc64_nvme()),
            (None, None)
        );
    }
    let uploads = c
        .list_multipart_uploads()
        .bucket(&b)
        .send()
        .await
        .expect("uploads");
    let u = uploads.uploads().first().expect("upload");
    assert_eq!((u.checksum_algorithm(), u.checksum_type()), (None, None));

    // An upload with an algorithm shows it, and UploadPartCopy answers the part's checksum
    // in it even when the request names none.
    let id = c
        .create_multipart_upload()
        .bucket(&b)
        .key("k2")
        .checksum_algorithm(ChecksumAlgorithm::Crc32C)
        .send()
        .await
        .expect("create")
        .upload_id()
        .expect("id")
        .to_string();
    let copy = c
        .upload_part_copy()
        .bucket(&b)
        .key("k2")
        .upload_id(&id)
        .part_number(1)
        .copy_source(format!("{b}/src"))
        .send()
        .await
        .expect("copy part");
    let expected = b64(
        &(crc_fast::checksum(crc_fast::CrcAlgorithm::Crc32Iscsi, b"this is a part") as u32)
            .to_be_bytes(),
    );
    assert_eq!(
        copy.copy_part_result().and_then(|r| r.checksum_crc32_c()),
        Some(expected.as_str())
    );
    let uploads = c
        .list_multipart_uploads()
        .bucket(&b)
        .prefix("k2")
        .send()
        .await
        .expect("uploads");
    let u = uploads.uploads().first().expect("upload");
    assert_eq!(
        (u.checksum_algorithm(), u.checksum_type()),
        (
            Some(&ChecksumAlgorithm::Crc32C),
            Some(&ChecksumType::Composite)
        )
    );
}

#[tokio::test]
async fn complete_location_names_the_bucket_once() {
    let t = Twin::start().await;
    let b = new_bucket(&t.client, "mploc").await;
    let vhost = vhost_client(t.port());
    for (c, expected) in [
        (
            &t.client,
            format!("http://127.0.0.1:{}/{b}/dir/a%20b", t.port()),
        ),
        (
            &vhost,
            format!("http://{b}.localhost:{}/dir/a%20b", t.port()),
        ),
    ] {
        let id = c
            .create_multipart_upload()
            .bucket(&b)
            .key("dir/a b")
            .send()
            .await
            .expect("create")
            .upload_id()
            .expect("id")
            .to_string();
        let done = upload_parts(c, &b, "dir/a b", &id, &[vec![1; 10]]).await;
        let out = c
            .complete_multipart_upload()
            .bucket(&b)
            .key("dir/a b")
            .upload_id(&id)
            .multipart_upload(
                CompletedMultipartUpload::builder()
                    .set_parts(Some(done))
                    .build(),
            )
            .send()
            .await
            .expect("complete");
        assert_eq!(out.location(), Some(expected.as_str()));
    }
}
