//! The pagination fields of listings as AWS sends them: which are present on which page, and
//! which empty parameters AWS takes as absent.

use crate::common::*;

async fn create_upload(c: &aws_sdk_s3::Client, b: &str, key: &str) -> String {
    c.create_multipart_upload()
        .bucket(b)
        .key(key)
        .send()
        .await
        .expect("create")
        .upload_id()
        .expect("id")
        .to_string()
}

#[tokio::test]
async fn list_multipart_uploads_always_names_the_next_markers() {
    let t = Twin::start().await;
    let c = &t.client;
    let b = new_bucket(c, "pgmpu").await;
    // An empty listing: both markers, empty; no Prefix when none was asked for.
    let empty = c
        .list_multipart_uploads()
        .bucket(&b)
        .send()
        .await
        .expect("empty");
    assert_eq!(
        (
            empty.next_key_marker(),
            empty.next_upload_id_marker(),
            empty.prefix()
        ),
        (Some(""), Some(""), None)
    );
    let ids = [
        create_upload(c, &b, "a").await,
        create_upload(c, &b, "b").await,
    ];
    // A complete page still names its last upload.
    let all = c
        .list_multipart_uploads()
        .bucket(&b)
        .send()
        .await
        .expect("all");
    assert_eq!(all.is_truncated(), Some(false));
    assert_eq!(
        (all.next_key_marker(), all.next_upload_id_marker()),
        (Some("b"), Some(ids[1].as_str()))
    );
    assert_eq!(all.prefix(), None);
    let first = c
        .list_multipart_uploads()
        .bucket(&b)
        .max_uploads(1)
        .prefix("")
        .send()
        .await
        .expect("first");
    assert_eq!(
        (first.next_key_marker(), first.next_upload_id_marker()),
        (Some("a"), Some(ids[0].as_str()))
    );
    assert_eq!(first.prefix(), Some(""));
    // A page of common prefixes only names no upload.
    create_upload(c, &b, "dir/x").await;
    let prefixes = c
        .list_multipart_uploads()
        .bucket(&b)
        .prefix("dir/")
        .delimiter("x")
        .send()
        .await
        .expect("prefixes");
    assert_eq!(prefixes.common_prefixes().len(), 1);
    assert_eq!(
        (prefixes.next_key_marker(), prefixes.next_upload_id_marker()),
        (Some(""), Some(""))
    );
}

#[tokio::test]
async fn list_parts_always_names_the_next_part_marker() {
    let t = Twin::start().await;
    let c = &t.client;
    let b = new_bucket(c, "pgparts").await;
    let id = create_upload(c, &b, "k").await;
    let parts = || c.list_parts().bucket(&b).key("k").upload_id(&id);
    let empty = parts().send().await.expect("empty");
    assert_eq!(
        (empty.next_part_number_marker(), empty.part_number_marker()),
        (Some("0"), Some("0"))
    );
    c.upload_part()
        .bucket(&b)
        .key("k")
        .upload_id(&id)
        .part_number(1)
        .body(b"data".to_vec().into())
        .send()
        .await
        .expect("part");
    let past = parts()
        .part_number_marker("10")
        .send()
        .await
        .expect("past the parts");
    assert_eq!(past.next_part_number_marker(), Some("0"));
    // Empty integer parameters are taken as absent, as S3 takes them.
    let q = format!(
        "GET /{b}/k?uploadId={id}&part-number-marker=&max-parts= HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
        t.addr()
    );
    let (status, text) = raw(&t.addr(), q.as_bytes()).await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(xml_value(&text, "PartNumberMarker").as_deref(), Some("0"));
    assert_eq!(
        xml_value(&text, "NextPartNumberMarker").as_deref(),
        Some("1")
    );
    assert_eq!(xml_value(&text, "MaxParts").as_deref(), Some("1000"));
}

#[tokio::test]
async fn start_after_is_not_echoed_beside_a_continuation_token() {
    let t = Twin::start().await;
    let c = &t.client;
    let b = new_bucket(c, "pgsa").await;
    for k in ["a", "b", "c", "d"] {
        put(c, &b, k, b"").await;
    }
    let first = c
        .list_objects_v2()
        .bucket(&b)
        .start_after("a")
        .max_keys(1)
        .send()
        .await
        .expect("first");
    assert_eq!(first.start_after(), Some("a"));
    let token = first.next_continuation_token().expect("token").to_string();
    let next = c
        .list_objects_v2()
        .bucket(&b)
        .start_after("a")
        .continuation_token(&token)
        .send()
        .await
        .expect("next");
    assert_eq!(next.start_after(), None);
    assert_eq!(next.continuation_token(), Some(token.as_str()));
    let keys: Vec<_> = next.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(keys, ["c", "d"]);
}

#[tokio::test]
async fn list_buckets_takes_an_empty_continuation_token_as_none() {
    let t = Twin::start().await;
    let c = &t.client;
    new_bucket(c, "pgbk").await;
    new_bucket(c, "pgbk").await;
    let out = c
        .list_buckets()
        .continuation_token("")
        .max_buckets(1)
        .send()
        .await
        .expect("empty token");
    assert_eq!(out.buckets().len(), 1);
    assert!(out.continuation_token().is_some());
}
