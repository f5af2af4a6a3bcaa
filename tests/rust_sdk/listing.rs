use crate::common::*;
use aws_sdk_s3::types::EncodingType;

async fn fill(c: &aws_sdk_s3::Client, b: &str, keys: &[String]) {
    for k in keys {
        put(c, b, k, b"").await;
    }
}

#[tokio::test]
async fn v2_pagination_covers_everything_in_byte_order() {
    let t = Twin::start().await;
    let c = &t.client;
    let b = new_bucket(c, "pages").await;
    let mut keys: Vec<String> = (0..53).map(|i| format!("k/{i:03}")).collect();
    keys.extend([
        "Z".to_string(),
        "a".to_string(),
        "ü".to_string(),
        "k/é".to_string(),
    ]);
    fill(c, &b, &keys).await;
    let mut expected = keys.clone();
    expected.sort(); // byte order of UTF-8 = S3 order

    let mut pages = 0;
    let mut seen = Vec::new();
    let mut stream = c
        .list_objects_v2()
        .bucket(&b)
        .max_keys(10)
        .into_paginator()
        .send();
    while let Some(page) = stream.next().await {
        let page = page.expect("page");
        pages += 1;
        assert!(page.key_count().unwrap_or(0) <= 10);
        seen.extend(
            page.contents()
                .iter()
                .filter_map(|o| o.key().map(str::to_string)),
        );
    }
    assert_eq!(seen, expected);
    assert_eq!(pages, 6);

    let after = c
        .list_objects_v2()
        .bucket(&b)
        .start_after("k/050")
        .send()
        .await
        .expect("start-after");
    let names: Vec<_> = after.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(names, ["k/051", "k/052", "k/é", "ü"]);
    let owner = c
        .list_objects_v2()
        .bucket(&b)
        .max_keys(1)
        .fetch_owner(true)
        .send()
        .await
        .expect("owner");
    assert!(owner.contents()[0].owner().is_some());
    let no_owner = c
        .list_objects_v2()
        .bucket(&b)
        .max_keys(1)
        .send()
        .await
        .expect("no owner");
    assert!(no_owner.contents()[0].owner().is_none());
    let zero = c
        .list_objects_v2()
        .bucket(&b)
        .max_keys(0)
        .send()
        .await
        .expect("zero");
    assert_eq!(
        (zero.key_count(), zero.is_truncated()),
        (Some(0), Some(false))
    );
}

#[tokio::test]
async fn delimiters_and_common_prefixes() {
    let t = Twin::start().await;
    let c = &t.client;
    let b = new_bucket(c, "delim").await;
    let keys: Vec<String> = ["a/1", "a/2", "b/x/1", "b/y", "c", "d/1"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    fill(c, &b, &keys).await;
    let top = c
        .list_objects_v2()
        .bucket(&b)
        .delimiter("/")
        .send()
        .await
        .expect("top");
    let prefixes: Vec<_> = top
        .common_prefixes()
        .iter()
        .filter_map(|p| p.prefix())
        .collect();
    assert_eq!(prefixes, ["a/", "b/", "d/"]);
    let objs: Vec<_> = top.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(objs, ["c"]);
    assert_eq!(top.key_count(), Some(4));

    let sub = c
        .list_objects_v2()
        .bucket(&b)
        .prefix("b/")
        .delimiter("/")
        .send()
        .await
        .expect("sub");
    assert_eq!(sub.common_prefixes()[0].prefix(), Some("b/x/"));
    assert_eq!(sub.contents()[0].key(), Some("b/y"));

    // v1: NextMarker appears with a delimiter, and paging with it never repeats a prefix.
    let p1 = c
        .list_objects()
        .bucket(&b)
        .delimiter("/")
        .max_keys(2)
        .send()
        .await
        .expect("v1 p1");
    assert_eq!(p1.is_truncated(), Some(true));
    assert_eq!(p1.next_marker(), Some("b/"));
    let p2 = c
        .list_objects()
        .bucket(&b)
        .delimiter("/")
        .max_keys(2)
        .marker("b/")
        .send()
        .await
        .expect("v1 p2");
    let names: Vec<_> = p2
        .contents()
        .iter()
        .filter_map(|o| o.key())
        .chain(p2.common_prefixes().iter().filter_map(|p| p.prefix()))
        .collect();
    assert_eq!(names, ["c", "d/"]);
    assert_eq!(p2.is_truncated(), Some(false));
    let plain = c
        .list_objects()
        .bucket(&b)
        .max_keys(2)
        .send()
        .await
        .expect("v1 no delimiter");
    assert_eq!(plain.next_marker(), None);
    assert!(plain.contents()[0].owner().is_some());
}

#[tokio::test]
async fn url_encoding_type_round_trips_awkward_keys() {
    let t = Twin::start().await;
    let c = &t.client;
    let b = new_bucket(c, "enc").await;
    let keys: Vec<String> = ["sp ace/x", "plus+sign", "amp&lt", "uni/ü€"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    fill(c, &b, &keys).await;
    let out = c
        .list_objects_v2()
        .bucket(&b)
        .encoding_type(EncodingType::Url)
        .send()
        .await
        .expect("list");
    let mut names: Vec<String> = out
        .contents()
        .iter()
        .filter_map(|o| o.key())
        .map(percent_decode)
        .collect();
    names.sort();
    let mut expected = keys.clone();
    expected.sort();
    assert_eq!(names, expected);
    assert!(
        out.contents().iter().any(|o| o.key() == Some("sp%20ace/x")),
        "keys are URL-encoded on the wire"
    );
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() + 1 {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8(out).expect("utf8")
}
