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
