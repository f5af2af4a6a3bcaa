//! The dashboard at `/_s3twin/ui/`: its assets, the redirect of a browser's visit to `/`
//! (S3 clients unaffected), and the cross-site guard of the state-changing admin routes.

use crate::common::*;

const BROWSER_ACCEPT: &str =
    "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n";

#[tokio::test]
async fn list_buckets_from_the_sdk_is_unaffected_by_the_redirect() {
    let t = Twin::start().await;
    let b = new_bucket(&t.client, "dash").await;
    let out = t.client.list_buckets().send().await.expect("ListBuckets");
    assert!(out.buckets().iter().any(|x| x.name() == Some(b.as_str())));
    // Signed, or presigned, or without HTML in Accept: S3's ListBuckets, not a redirect.
    for (path, headers) in [
        ("/", "Authorization: AWS4-HMAC-SHA256 Credential=parlel/20261201/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00\r\nX-Amz-Content-Sha256: UNSIGNED-PAYLOAD\r\nX-Amz-Date: 20261201T000000Z\r\n".to_string() + BROWSER_ACCEPT),
        ("/?x-id=ListBuckets", BROWSER_ACCEPT.to_string()),
        ("/", "Accept: */*\r\n".to_string()),
        ("/", String::new()),
    ] {
        let (status, text) = raw_with(&t, "GET", path, &headers).await;
        assert_eq!(status, 200, "{path} {headers}: {text}");
        assert!(text.contains("<ListAllMyBucketsResult"), "{text}");
    }
}

#[tokio::test]
async fn a_browser_visit_to_the_root_is_redirected_to_the_dashboard() {
    let t = Twin::start().await;
    let (status, text) = raw_with(&t, "GET", "/", BROWSER_ACCEPT).await;
    assert_eq!(status, 302, "{text}");
    assert_eq!(
        raw_header(&text, "location").as_deref(),
        Some("/_s3twin/ui/")
    );
    // HEAD, and a bucket's own `/` on its virtual host, stay S3's.
    let (status, text) = raw_with(&t, "HEAD", "/", BROWSER_ACCEPT).await;
    assert_ne!(status, 302, "{text}");
    assert_eq!(raw_header(&text, "location"), None);
    let b = new_bucket(&t.client, "dash").await;
    let req = format!(
        "GET / HTTP/1.1\r\nHost: {b}.localhost:{}\r\n{BROWSER_ACCEPT}Connection: close\r\n\r\n",
        t.port()
    );
    let (status, text) = raw(&t.addr(), req.as_bytes()).await;
    assert_eq!(status, 200, "{text}");
    assert!(text.contains("<ListBucketResult"), "{text}");
}

#[tokio::test]
async fn the_dashboard_is_served_with_types_etags_and_revalidation() {
    let t = Twin::start().await;
    let (status, text) = raw_with(&t, "GET", "/_s3twin/ui", "").await;
    assert_eq!(status, 302);
    assert_eq!(
        raw_header(&text, "location").as_deref(),
        Some("/_s3twin/ui/")
    );
    let (status, text) = raw_with(&t, "GET", "/_s3twin/ui/", "").await;
    assert_eq!(status, 200);
    assert_eq!(
        raw_header(&text, "content-type").as_deref(),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(
        raw_header(&text, "cache-control").as_deref(),
        Some("no-cache")
    );
    assert!(raw_header(&text, "content-security-policy").is_some());
    assert!(text.contains(r#"<script type="module" src="app.js">"#));
    let etag = raw_header(&text, "etag").expect("an ETag");
    let (status, text) = raw_with(
        &t,
        "GET",
        "/_s3twin/ui/",
        &format!("If-None-Match: {etag}\r\n"),
    )
    .await;
    assert_eq!(status, 304, "{text}");
    for (asset, kind) in [
        ("app.js", "text/javascript"),
        ("style.css", "text/css"),
        ("favicon.svg", "image/svg+xml"),
    ] {
        let (status, text) = raw_with(&t, "GET", &format!("/_s3twin/ui/{asset}"), "").await;
        assert_eq!(status, 200, "{asset}");
        assert!(
            raw_header(&text, "content-type")
                .unwrap_or_default()
                .starts_with(kind),
            "{asset}"
        );
    }
    let (status, _) = raw_with(&t, "GET", "/_s3twin/ui/nope.js", "").await;
    assert_eq!(status, 404);
    let (status, _) = raw_with(&t, "POST", "/_s3twin/ui/", "").await;
    assert_eq!(status, 405);
    // The page's own files are not requests a test made: the run's log stays empty.
    let entries = request_log(&t, "default", "").await;
    assert!(
        entries
            .iter()
            .all(|e| !e["path"].as_str().unwrap_or("").contains("/ui")),
        "{entries:?}"
    );
}

/// A raw admin POST with extra headers and a body: its status.
async fn admin_post(t: &Twin, path: &str, headers: &str, body: &str) -> (u16, String) {
    let req = format!(
        "POST {path} HTTP/1.1\r\nHost: {}\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        t.addr(),
        body.len()
    );
    raw(&t.addr(), req.as_bytes()).await
}

#[tokio::test]
async fn cross_site_admin_requests_are_refused_and_the_run_survives() {
    let t = Twin::start().await;
    create_run(&t, "guarded", serde_json::json!({})).await;
    let client = run_client(&t, "guarded");
    let b = new_bucket(&client, "keep").await;
    let own = format!("http://{}", t.addr());
    let refused = [
        // What a page of another origin makes a browser send without a preflight.
        "Origin: http://evil.example\r\nContent-Type: application/x-www-form-urlencoded\r\n".to_string(),
        "Origin: null\r\n".to_string(),
        "Sec-Fetch-Site: cross-site\r\nContent-Type: text/plain\r\n".to_string(),
        "Sec-Fetch-Site: same-site\r\n".to_string(),
        // An older browser that sends no Origin on a form post.
        "User-Agent: Mozilla/5.0 (X11; Linux x86_64)\r\nContent-Type: multipart/form-data; boundary=x\r\n".to_string(),
        format!("Origin: {own}.evil.example\r\n"),
    ];
    for headers in &refused {
        let (status, text) = admin_post(&t, "/_s3twin/reset?runId=guarded", headers, "").await;
        assert_eq!(status, 403, "{headers}: {text}");
        assert!(
            text.contains("refused") || text.contains("application/json"),
            "{text}"
        );
        let (status, _) = admin_post(&t, "/_s3twin/runs", headers, r#"{"runId":"evil"}"#).await;
        assert_eq!(status, 403, "{headers}");
        let req = format!(
            "DELETE /_s3twin/runs/guarded HTTP/1.1\r\nHost: {}\r\n{headers}Content-Length: 0\r\nConnection: close\r\n\r\n",
            t.addr()
        );
        assert_eq!(raw(&t.addr(), req.as_bytes()).await.0, 403, "{headers}");
    }
    client
        .head_bucket()
        .bucket(&b)
        .send()
        .await
        .expect("the run kept its bucket");
    let (_, runs) = admin(&t, "GET", "/_s3twin/runs", None).await;
    assert!(!runs.to_string().contains(r#""evil""#), "{runs}");
    // Reads stay open (the page of another origin cannot read them: no CORS headers).
    let (status, _) = raw_with(
        &t,
        "GET",
        "/_s3twin/runs",
        "Origin: http://evil.example\r\n",
    )
    .await;
    assert_eq!(status, 200);

    // The dashboard itself (same origin), curl's -d and scripts without a browser's headers pass.
    let allowed = [
        format!("Origin: {own}\r\nSec-Fetch-Site: same-origin\r\nUser-Agent: Mozilla/5.0\r\nContent-Type: application/json\r\n"),
        "User-Agent: curl/8.5.0\r\nContent-Type: application/x-www-form-urlencoded\r\n".to_string(),
        "User-Agent: Python-urllib/3.12\r\nContent-Type: application/x-www-form-urlencoded\r\n".to_string(),
        "Content-Type: text/plain;charset=UTF-8\r\nUser-Agent: node\r\n".to_string(),
    ];
    for headers in &allowed {
        let (status, text) = admin_post(
            &t,
            "/_s3twin/clock?runId=guarded",
            headers,
            r#"{"advance":"1h"}"#,
        )
        .await;
        assert_eq!(status, 200, "{headers}: {text}");
    }
    let (status, _) = admin_post(&t, "/_s3twin/reset?runId=guarded", &allowed[1], "").await;
    assert_eq!(status, 200);
    assert!(
        client.head_bucket().bucket(&b).send().await.is_err(),
        "a script may still reset"
    );
}
