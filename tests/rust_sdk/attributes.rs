//! GetObjectAttributes, as the S3 API reference describes it: the attributes named in
//! `x-amz-object-attributes`, the parts of a multipart object page by page, versions.

use crate::common::*;
use aws_sdk_s3::types::{
    BucketVersioningStatus, ChecksumAlgorithm, ChecksumType, CompletedMultipartUpload,
    CompletedPart, ObjectAttributes, StorageClass,
};
use aws_sdk_s3::Client;
use sha2::{Digest, Sha256};

const ALL: [ObjectAttributes; 5] = [
    ObjectAttributes::Etag,
    ObjectAttributes::Checksum,
    ObjectAttributes::ObjectParts,
    ObjectAttributes::StorageClass,
    ObjectAttributes::ObjectSize,
];

fn sha256(d: &[u8]) -> Vec<u8> {
    Sha256::digest(d).to_vec()
}

fn part_data(i: usize) -> Vec<u8> {
    (0..1000 + i * 10)
        .map(|j| ((i * 17 + j) % 253) as u8)
        .collect()
}

fn attributes(
    c: &Client,
    b: &str,
    k: &str,
    wanted: &[ObjectAttributes],
) -> aws_sdk_s3::operation::get_object_attributes::builders::GetObjectAttributesFluentBuilder {
    c.get_object_attributes()
        .bucket(b)
        .key(k)
        .set_object_attributes(Some(wanted.to_vec()))
}

#[tokio::test]
async fn attributes_of_a_single_part_object() {
    let t = Twin::start().await;
    let c = &t.client;
    let b = new_bucket(c, "attr").await;
    let written = c
        .put_object()
        .bucket(&b)
        .key("k")
        .body(b"hello".to_vec().into())
        .checksum_algorithm(ChecksumAlgorithm::Sha256)
        .storage_class(StorageClass::StandardIa)
        .send()
        .await
        .expect("put");
    let head = c
        .head_object()
        .bucket(&b)
        .key("k")
        .send()
        .await
        .expect("head");

    let out = attributes(c, &b, "k", &ALL)
        .send()
        .await
        .expect("attributes");
    // The ETag comes without its quotes.
    let etag = written.e_tag().expect("etag").trim_matches('"').to_string();
    assert_eq!(out.e_tag(), Some(etag.as_str()));
    let checksum = out.checksum().expect("checksum");
    assert_eq!(
        checksum.checksum_sha256(),
        Some(b64(&sha256(b"hello")).as_str())
    );
    assert_eq!(checksum.checksum_type(), Some(&ChecksumType::FullObject));
    assert_eq!(
        out.object_parts(),
        None,
        "a single-part object has no parts"
    );
    assert_eq!(out.storage_class(), Some(&StorageClass::StandardIa));
    assert_eq!(out.object_size(), Some(5));
    assert_eq!(out.last_modified(), head.last_modified());
    assert_eq!(out.version_id(), None, "unversioned bucket: no version id");

    // Only what is asked for comes back.
    let out = attributes(c, &b, "k", &[ObjectAttributes::ObjectSize])
        .send()
        .await
        .expect("size only");
    assert_eq!(out.object_size(), Some(5));
    assert_eq!(out.e_tag(), None);
    assert_eq!(out.checksum(), None);
    assert_eq!(out.storage_class(), None);
    let out = attributes(
        c,
        &b,
        "k",
        &[ObjectAttributes::StorageClass, ObjectAttributes::Etag],
    )
    .send()
    .await
    .expect("two");
    assert_eq!(out.e_tag(), Some(etag.as_str()));
    assert_eq!(out.storage_class(), Some(&StorageClass::StandardIa));
    assert_eq!(out.object_size(), None);

    // A STANDARD object says so.
    put(c, &b, "std", b"abc").await;
    let out = attributes(c, &b, "std", &[ObjectAttributes::StorageClass])
        .send()
        .await
        .expect("standard");
    assert_eq!(out.storage_class(), Some(&StorageClass::Standard));
}

#[tokio::test]
async fn parts_of_a_multipart_object_page_by_page() {
    let t = Twin::start().await;
    let c = &t.client;
    let b = new_bucket(c, "attrmp").await;
    let up = c
        .create_multipart_upload()
        .bucket(&b)
        .key("big")
        .checksum_algorithm(ChecksumAlgorithm::Sha256)
        .send()
        .await
        .expect("create");
    let id = up.upload_id().expect("id").to_string();
    let parts: Vec<Vec<u8>> = (0..7).map(part_data).collect();
    let mut done = Vec::new();
    for (i, data) in parts.iter().enumerate() {
        let n = i as i32 + 1;
        let out = c
            .upload_part()
            .bucket(&b)
            .key("big")
            .upload_id(&id)
            .part_number(n)
            .checksum_algorithm(ChecksumAlgorithm::Sha256)
            .body(data.clone().into())
            .send()
            .await
            .expect("part");
        done.push(
            CompletedPart::builder()
                .part_number(n)
                .e_tag(out.e_tag().expect("etag"))
                .checksum_sha256(out.checksum_sha256().expect("part checksum"))
                .build(),
        );
    }
    let complete = c
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

    let out = attributes(c, &b, "big", &ALL).send().await.expect("all");
    let etag = complete
        .e_tag()
        .expect("etag")
        .trim_matches('"')
        .to_string();
    assert!(etag.ends_with("-7"), "{etag}");
    assert_eq!(out.e_tag(), Some(etag.as_str()));
    let total: usize = parts.iter().map(Vec::len).sum();
    assert_eq!(out.object_size(), Some(total as i64));
    // The composite checksum: the checksum of the part checksums, without the "-7" suffix.
    let mut digests = Vec::new();
    for p in &parts {
        digests.extend_from_slice(&sha256(p));
    }
    let checksum = out.checksum().expect("checksum");
    assert_eq!(
        checksum.checksum_sha256(),
        Some(b64(&sha256(&digests)).as_str())
    );
    assert_eq!(checksum.checksum_type(), Some(&ChecksumType::Composite));

    // Seven parts, three a page: 1-3, 4-6, 7.
    let mut marker: Option<String> = None;
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let mut req = attributes(c, &b, "big", &[ObjectAttributes::ObjectParts]).max_parts(3);
        if let Some(m) = &marker {
            req = req.part_number_marker(m);
        }
        let out = req.send().await.expect("page");
        pages += 1;
        assert_eq!(out.e_tag(), None);
        let op = out.object_parts().expect("object parts");
        assert_eq!(op.total_parts_count(), Some(7));
        assert_eq!(op.max_parts(), Some(3));
        assert_eq!(
            op.part_number_marker(),
            Some(marker.as_deref().unwrap_or("0"))
        );
        let numbers: Vec<i32> = op.parts().iter().filter_map(|p| p.part_number()).collect();
        let expected: Vec<i32> = match pages {
            1 => vec![1, 2, 3],
            2 => vec![4, 5, 6],
            _ => vec![7],
        };
        assert_eq!(numbers, expected, "page {pages}");
        for p in op.parts() {
            let n = p.part_number().expect("number") as usize;
            assert_eq!(p.size(), Some(parts[n - 1].len() as i64));
            assert_eq!(
                p.checksum_sha256(),
                Some(b64(&sha256(&parts[n - 1])).as_str()),
                "part {n}"
            );
        }
        seen.extend(numbers.iter().copied());
        let last = numbers.last().copied().expect("a part");
        assert_eq!(
            op.next_part_number_marker(),
            Some(last.to_string().as_str())
        );
        if op.is_truncated() != Some(true) {
            break;
        }
        marker = op.next_part_number_marker().map(str::to_string);
        assert!(pages < 10, "pagination does not end");
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, (1..=7).collect::<Vec<_>>());

    // All parts fit the default page of 1000.
    let out = attributes(c, &b, "big", &[ObjectAttributes::ObjectParts])
        .send()
        .await
        .expect("default page");
    let op = out.object_parts().expect("object parts");
    assert_eq!(op.parts().len(), 7);
    assert_eq!(op.is_truncated(), Some(false));
    assert_eq!(op.max_parts(), Some(1000));
}

#[tokio::test]
async fn full_object_checksum_multipart_counts_its_parts() {
    let t = Twin::start().await;
    let c = &t.client;
    let b = new_bucket(c, "attrfo").await;
    let up = c
        .create_multipart_upload()
        .bucket(&b)
        .key("k")
        .send()
        .await
        .expect("create");
    let id = up.upload_id().expect("id");
    let mut done = Vec::new();
    for n in 1..=2 {
        let out = c
            .upload_part()
            .bucket(&b)
            .key("k")
            .upload_id(id)
            .part_number(n)
            .body(part_data(n as usize).into())
            .send()
            .await
            .expect("part");
        done.push(
            CompletedPart::builder()
                .part_number(n)
                .e_tag(out.e_tag().expect("etag"))
                .build(),
        );
    }
    c.complete_multipart_upload()
        .bucket(&b)
        .key("k")
        .upload_id(id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .set_parts(Some(done))
                .build(),
        )
        .send()
        .await
        .expect("complete");
    let out = attributes(c, &b, "k", &[ObjectAttributes::ObjectParts])
        .send()
        .await
        .expect("attributes");
    // Parts are listed for objects with per-part (composite) checksums only; the count is
    // always given.
    let op = out.object_parts().expect("object parts");
    assert_eq!(op.total_parts_count(), Some(2));
    assert!(op.parts().is_empty());
}

#[tokio::test]
async fn versions_and_delete_markers() {
    let t = Twin::start().await;
    let c = &t.client;
    let b = new_bucket(c, "attrver").await;
    set_versioning(c, &b, BucketVersioningStatus::Enabled).await;
    let v1 = c
        .put_object()
        .bucket(&b)
        .key("k")
        .body(b"one".to_vec().into())
        .send()
        .await
        .expect("v1");
    let v2 = c
        .put_object()
        .bucket(&b)
        .key("k")
        .body(b"second".to_vec().into())
        .send()
        .await
        .expect("v2");
    let v1_id = v1.version_id().expect("v1 id");
    let out = attributes(c, &b, "k", &[ObjectAttributes::ObjectSize])
        .send()
        .await
        .expect("current");
    assert_eq!(out.object_size(), Some(6));
    assert_eq!(out.version_id(), v2.version_id());
    let out = attributes(
        c,
        &b,
        "k",
        &[ObjectAttributes::ObjectSize, ObjectAttributes::Etag],
    )
    .version_id(v1_id)
    .send()
    .await
    .expect("v1");
    assert_eq!(out.object_size(), Some(3));
    assert_eq!(out.version_id(), Some(v1_id));
    assert_eq!(out.e_tag(), v1.e_tag().map(|e| e.trim_matches('"')));

    let marker = c
        .delete_object()
        .bucket(&b)
        .key("k")
        .send()
        .await
        .expect("delete")
        .version_id()
        .expect("marker id")
        .to_string();
    let e = attributes(c, &b, "k", &[ObjectAttributes::ObjectSize])
        .send()
        .await
        .expect_err("deleted");
    assert_eq!(error_parts(&e), ("NoSuchKey".to_string(), 404));
    let headers = e.raw_response().expect("response").headers();
    assert_eq!(headers.get("x-amz-delete-marker"), Some("true"));
    let e = attributes(c, &b, "k", &[ObjectAttributes::ObjectSize])
        .version_id(&marker)
        .send()
        .await
        .expect_err("the delete marker");
    assert_eq!(error_parts(&e).1, 405);
    // Older versions stay readable.
    let out = attributes(c, &b, "k", &[ObjectAttributes::ObjectSize])
        .version_id(v1_id)
        .send()
        .await
        .expect("v1 after delete");
    assert_eq!(out.object_size(), Some(3));
    put(c, &b, "other", b"x").await;
    let e = attributes(c, &b, "other", &[ObjectAttributes::ObjectSize])
        .version_id(v1_id)
        .send()
        .await
        .expect_err("a version of another key");
    assert_eq!(error_parts(&e), ("NoSuchVersion".to_string(), 404));
}

#[tokio::test]
async fn attribute_requests_that_s3_refuses() {
    let t = Twin::start().await;
    let c = &t.client;
    let b = new_bucket(c, "attrerr").await;
    put(c, &b, "k", b"x").await;
    for wanted in [
        vec![],
        vec![ObjectAttributes::from("Owner")],
        vec![ObjectAttributes::Etag, ObjectAttributes::from("etag")],
    ] {
        let e = attributes(c, &b, "k", &wanted)
            .send()
            .await
            .expect_err("invalid attributes");
        assert_eq!(
            error_parts(&e),
            ("InvalidArgument".to_string(), 400),
            "{wanted:?}"
        );
    }
    let e = attributes(c, &b, "missing", &[ObjectAttributes::Etag])
        .send()
        .await
        .expect_err("no key");
    assert_eq!(error_parts(&e), ("NoSuchKey".to_string(), 404));
    let e = attributes(c, &bucket_name("nobucket"), "k", &[ObjectAttributes::Etag])
        .send()
        .await
        .expect_err("no bucket");
    assert_eq!(error_parts(&e), ("NoSuchBucket".to_string(), 404));
}
