use crate::common::*;

#[tokio::test]
async fn runs_are_isolated_and_reset_alone() {
    let t = Twin::start().await;
    let ep = t.server.endpoint();
    // The Rust SDK needs the trailing slash on an endpoint with a path.
    let a = client(&format!("{ep}/t/run-a/"), true);
    let b = client(&format!("{ep}/t/run-b/"), true);
    for c in [&a, &b] {
        c.create_bucket()
            .bucket("shared-name")
            .send()
            .await
            .expect("create in run");
    }
    put(&a, "shared-name", "only-in-a", b"A").await;
    put(&b, "shared-name", "only-in-b", b"B").await;
    let la = a
        .list_objects_v2()
        .bucket("shared-name")
        .send()
        .await
        .expect("list a");
    let keys: Vec<_> = la.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(keys, ["only-in-a"]);
    let err = b
        .get_object()
        .bucket("shared-name")
        .key("only-in-a")
        .send()
        .await
        .expect_err("isolated");
    assert_eq!(error_parts(&err), ("NoSuchKey".to_string(), 404));
    // The default run sees neither.
    assert!(t
        .client
        .list_buckets()
        .send()
        .await
        .expect("list")
        .buckets()
        .is_empty());

    t.server.reset_run("run-a").await;
    let err = a
        .head_bucket()
        .bucket("shared-name")
        .send()
        .await
        .expect_err("reset");
    assert_eq!(error_parts(&err).1, 404);
    assert_eq!(get_bytes(&b, "shared-name", "only-in-b").await, b"B");
}

#[tokio::test]
async fn virtual_hosted_style_and_run_prefix_together() {
    let t = Twin::start().await;
    let v = vhost_client(t.port());
    v.create_bucket()
        .bucket("vhost-bucket")
        .send()
        .await
        .expect("create");
    put(&v, "vhost-bucket", "dir/hello.txt", b"hello world").await;
    assert_eq!(
        get_bytes(&v, "vhost-bucket", "dir/hello.txt").await,
        b"hello world"
    );
    let listed = v
        .list_objects_v2()
        .bucket("vhost-bucket")
        .send()
        .await
        .expect("list");
    assert_eq!(listed.contents()[0].key(), Some("dir/hello.txt"));
    // The same bucket, seen path-style.
    assert_eq!(
        get_bytes(&t.client, "vhost-bucket", "dir/hello.txt").await,
        b"hello world"
    );
}

#[tokio::test]
async fn admin_health_and_reset() {
    let t = Twin::start().await;
    new_bucket(&t.client, "h").await;
    for path in ["/_s3twin/health", "/_parlel/health"] {
        let (s, text) = raw(
            &t.addr(),
            format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .await;
        assert_eq!(s, 200);
        let json = &text[text.find('{').expect("json")..];
        let v: serde_json::Value = serde_json::from_str(json).expect("json body");
        assert_eq!(v["status"], "ok");
        assert_eq!(v["service"], "s3");
        assert_eq!(v["buckets"], 1);
    }
    let (s, _) = raw(&t.addr(), b"POST /_parlel/reset HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").await;
    assert_eq!(s, 200);
    assert!(t
        .client
        .list_buckets()
        .send()
        .await
        .expect("list")
        .buckets()
        .is_empty());
}
