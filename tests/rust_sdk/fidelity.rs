//! Where AWS's current answers differ from its older documentation (and from other
//! emulators): the shapes are checked on the raw XML, as a strict client would read them.

use crate::common::*;

/// A raw request to the twin, answered in full: (status, body text).
async fn get_xml(t: &Twin, path: &str) -> (u16, String) {
    let req = format!(
        "GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
        t.addr()
    );
    raw(&t.addr(), req.as_bytes()).await
}

#[tokio::test]
async fn error_bodies_carry_no_resource_element() {
    let t = Twin::start().await;
    let b = new_bucket(&t.client, "nores").await;
    for path in [
        format!("/{b}/missing"),
        format!("/{}", bucket_name("absent")),
        format!("/{b}?lifecycle"),
    ] {
        let (status, text) = get_xml(&t, &path).await;
        assert_eq!(status, 404, "{text}");
        assert!(text.contains("<Code>"), "{text}");
        assert!(!text.contains("<Resource>"), "{path}: {text}");
        let order: Vec<usize> = ["<Code>", "<Message>", "<RequestId>", "<HostId>"]
            .iter()
            .map(|e| text.find(e).expect("element present"))
            .collect();
        assert!(
            order.windows(2).all(|w| w[0] < w[1]),
            "envelope order: {text}"
        );
    }
}

#[tokio::test]
async fn owners_and_grantees_carry_no_display_name() {
    let t = Twin::start().await;
    let b = new_bucket(&t.client, "nodisp").await;
    put(&t.client, &b, "k", b"v").await;
    let upload = t
        .client
        .create_multipart_upload()
        .bucket(&b)
        .key("mp")
        .send()
        .await
        .expect("create upload");
    let id = upload.upload_id().expect("upload id");
    for path in [
        "/".to_string(),
        format!("/{b}?list-type=2&fetch-owner=true"),
        format!("/{b}"),
        format!("/{b}?versions"),
        format!("/{b}?acl"),
        format!("/{b}/k?acl"),
        format!("/{b}?uploads"),
        format!("/{b}/mp?uploadId={id}"),
    ] {
        let (status, text) = get_xml(&t, &path).await;
        assert_eq!(status, 200, "{path}: {text}");
        assert!(text.contains("<ID>"), "{path} names its owner: {text}");
        assert!(!text.contains("DisplayName"), "{path}: {text}");
    }
}

#[tokio::test]
async fn xml_timestamps_have_whole_seconds_like_last_modified() {
    let t = Twin::start().await;
    let b = new_bucket(&t.client, "wholesec").await;
    // Several objects so that some land off a whole second.
    for i in 0..5 {
        put(&t.client, &b, &format!("k{i}"), b"v").await;
        tokio::time::sleep(std::time::Duration::from_millis(137)).await;
    }
    let (_, listing) = get_xml(&t, &format!("/{b}?list-type=2")).await;
    let (_, versions) = get_xml(&t, &format!("/{b}?versions")).await;
    let (_, buckets) = get_xml(&t, "/").await;
    for (what, text, element) in [
        ("ListObjectsV2", &listing, "LastModified"),
        ("ListObjectVersions", &versions, "LastModified"),
        ("ListBuckets", &buckets, "CreationDate"),
    ] {
        let stamps: Vec<&str> = text
            .split(&format!("<{element}>"))
            .skip(1)
            .filter_map(|s| s.split('<').next())
            .collect();
        assert!(!stamps.is_empty(), "{what}: {text}");
        for s in stamps {
            assert!(s.ends_with(".000Z"), "{what}: {s}");
        }
    }
    // The listing's instant is the HEAD's Last-Modified, to the second.
    let head = head(&t.client, &b, "k3").await;
    let listed = t
        .client
        .list_objects_v2()
        .bucket(&b)
        .prefix("k3")
        .send()
        .await
        .expect("list");
    let lm = listed.contents()[0].last_modified().expect("listed");
    assert_eq!(Some(lm), head.last_modified());
}

#[tokio::test]
async fn buckets_carry_their_arn_and_region() {
    let t = Twin::start().await;
    let c = &t.client;
    let name = bucket_name("arn");
    let created = c
        .create_bucket()
        .bucket(&name)
        .send()
        .await
        .expect("create");
    let arn = format!("arn:aws:s3:::{name}");
    assert_eq!(created.bucket_arn(), Some(arn.as_str()));
    let h = c.head_bucket().bucket(&name).send().await.expect("head");
    assert_eq!(h.bucket_arn(), Some(arn.as_str()));
    assert_eq!(h.bucket_region(), Some("us-east-1"));
    let listed = c.list_buckets().send().await.expect("list");
    let entry = listed
        .buckets()
        .iter()
        .find(|b| b.name() == Some(name.as_str()))
        .expect("listed");
    assert_eq!(entry.bucket_arn(), Some(arn.as_str()));
    assert_eq!(entry.bucket_region(), Some("us-east-1"));
    // Listings name the bucket's region too, as AWS's do.
    let (status, text) = get_xml(&t, &format!("/{name}?list-type=2")).await;
    assert_eq!(status, 200);
    assert!(
        text.to_ascii_lowercase()
            .contains("x-amz-bucket-region: us-east-1"),
        "{text}"
    );
}

#[tokio::test]
async fn expected_bucket_owner_is_validated_and_enforced() {
    let t = Twin::start().await;
    let c = &t.client;
    let b = new_bucket(c, "owner").await;
    put(c, &b, "k", b"data").await;
    // The documented default account owns every bucket.
    c.get_object()
        .bucket(&b)
        .key("k")
        .expected_bucket_owner("000000000000")
        .send()
        .await
        .expect("the owner's own account");
    c.list_objects_v2()
        .bucket(&b)
        .expected_bucket_owner("000000000000")
        .send()
        .await
        .expect("bucket operations too");
    let e = c
        .get_object()
        .bucket(&b)
        .key("k")
        .expected_bucket_owner("111122223333")
        .send()
        .await
        .expect_err("another account");
    assert_eq!(error_parts(&e), ("AccessDenied".into(), 403));
    let e = c
        .put_object()
        .bucket(&b)
        .key("k")
        .expected_bucket_owner("111122223333")
        .body(b"overwrite".to_vec().into())
        .send()
        .await
        .expect_err("another account");
    assert_eq!(error_parts(&e), ("AccessDenied".into(), 403));
    assert_eq!(get_bytes(c, &b, "k").await, b"data");
    let e = c
        .copy_object()
        .bucket(&b)
        .key("copy")
        .copy_source(format!("{b}/k"))
        .expected_source_bucket_owner("111122223333")
        .send()
        .await
        .expect_err("the source belongs to another account");
    assert_eq!(error_parts(&e), ("AccessDenied".into(), 403));
    // Malformed ids are refused before anything else, with the value in the message.
    let req = format!(
        "GET /{b}/k HTTP/1.1\r\nHost: {}\r\nx-amz-expected-bucket-owner: abc\r\nConnection: close\r\n\r\n",
        t.addr()
    );
    let (status, text) = raw(&t.addr(), req.as_bytes()).await;
    assert_eq!(status, 400);
    assert_eq!(
        xml_value(&text, "Code").as_deref(),
        Some("InvalidBucketOwnerAWSAccountID")
    );
    assert_eq!(
        xml_value(&text, "Message").as_deref(),
        Some("The value of the expected bucket owner parameter must be an AWS Account ID... [abc]")
    );
    // A missing bucket is still NoSuchBucket.
    let e = c
        .head_bucket()
        .bucket(bucket_name("absent"))
        .expected_bucket_owner("111122223333")
        .send()
        .await
        .expect_err("missing");
    assert_eq!(error_parts(&e).1, 404);
}

#[tokio::test]
async fn the_account_id_is_configurable() {
    let server = s3twin::S3Server::builder()
        .port(0)
        .account_id("444455556666")
        .build();
    server.start().await.expect("start");
    let c = client(&server.endpoint(), true);
    let b = new_bucket(&c, "acct").await;
    c.head_bucket()
        .bucket(&b)
        .expected_bucket_owner("444455556666")
        .send()
        .await
        .expect("the configured account");
    let e = c
        .head_bucket()
        .bucket(&b)
        .expected_bucket_owner("000000000000")
        .send()
        .await
        .expect_err("the default is no longer the owner");
    assert_eq!(error_parts(&e).1, 403);
}

/// Messages and extra elements as AWS's recorded answers carry them.
#[tokio::test]
async fn error_messages_and_extras_match_aws_recordings() {
    let t = Twin::start().await;
    let c = &t.client;
    let b = new_bucket(c, "errs").await;
    let send = |req: String| {
        let addr = t.addr();
        async move { raw(&addr, req.as_bytes()).await }
    };
    // InvalidDigest: "was invalid", with the value sent.
    let (status, text) = send(format!(
        "PUT /{b}/k HTTP/1.1\r\nHost: {}\r\nContent-MD5: nope\r\nContent-Length: 1\r\nConnection: close\r\n\r\nx",
        t.addr()
    ))
    .await;
    assert_eq!(status, 400, "{text}");
    assert_eq!(
        xml_value(&text, "Message").as_deref(),
        Some("The Content-MD5 you specified was invalid.")
    );
    assert_eq!(xml_value(&text, "Content-MD5").as_deref(), Some("nope"));
    // InvalidStorageClass names the class asked for.
    let (status, text) = send(format!(
        "PUT /{b}/k HTTP/1.1\r\nHost: {}\r\nx-amz-storage-class: FASTEST\r\nContent-Length: 1\r\nConnection: close\r\n\r\nx",
        t.addr()
    ))
    .await;
    assert_eq!(status, 400, "{text}");
    assert_eq!(
        xml_value(&text, "StorageClassRequested").as_deref(),
        Some("FASTEST")
    );
    // BucketNotEmpty: a bucket that has had versioning says versions are left.
    put(c, &b, "k", b"x").await;
    let e = c.delete_bucket().bucket(&b).send().await.expect_err("full");
    assert_eq!(
        e.as_service_error().and_then(|e| e.meta().message()),
        Some("The bucket you tried to delete is not empty")
    );
    set_versioning(c, &b, aws_sdk_s3::types::BucketVersioningStatus::Enabled).await;
    let e = c.delete_bucket().bucket(&b).send().await.expect_err("full");
    assert_eq!(
        e.as_service_error().and_then(|e| e.meta().message()),
        Some("The bucket you tried to delete is not empty. You must delete all versions in the bucket.")
    );
}
