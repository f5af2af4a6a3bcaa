//! Static website hosting over the website endpoint (`{bucket}.s3-website.localhost`):
//! index and error documents, redirects, and the HTML error pages AWS's website endpoint
//! sends (as its recorded answers show them).

use crate::common::*;

async fn put_website(t: &Twin, bucket: &str, doc: &str) {
    let body = format!("<WebsiteConfiguration>{doc}</WebsiteConfiguration>");
    let req = format!(
        "PUT /{bucket}?website HTTP/1.1\r\nHost: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        t.addr(),
        body.len()
    );
    let (status, text) = raw(&t.addr(), req.as_bytes()).await;
    assert_eq!(status, 200, "{text}");
}

/// One website request: `Host: {bucket}.s3-website.localhost:{port}`.
async fn site(t: &Twin, method: &str, bucket: &str, path: &str, headers: &str) -> (u16, String) {
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {bucket}.s3-website.localhost:{}\r\n{headers}Connection: close\r\n\r\n",
        t.port()
    );
    raw(&t.addr(), req.as_bytes()).await
}

fn body(text: &str) -> &str {
    text.split_once("\r\n\r\n").map_or("", |(_, b)| b)
}

async fn put_typed(t: &Twin, bucket: &str, key: &str, body: &str) {
    t.client
        .put_object()
        .bucket(bucket)
        .key(key)
        .content_type("text/html")
        .body(body.as_bytes().to_vec().into())
        .send()
        .await
        .expect("put");
}

#[tokio::test]
async fn index_and_error_documents() {
    let t = Twin::start().await;
    let b = new_bucket(&t.client, "site").await;
    put_website(
        &t,
        &b,
        "<IndexDocument><Suffix>index.html</Suffix></IndexDocument><ErrorDocument><Key>error.html</Key></ErrorDocument>",
    )
    .await;
    put_typed(&t, &b, "index.html", "<h1>home</h1>").await;
    put_typed(&t, &b, "docs/index.html", "<h1>docs</h1>").await;
    put_typed(&t, &b, "page.html", "<p>page</p>").await;

    let (status, text) = site(&t, "GET", &b, "/", "").await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(body(&text), "<h1>home</h1>");
    assert_eq!(
        raw_header(&text, "content-type").as_deref(),
        Some("text/html")
    );
    let (status, text) = site(&t, "GET", &b, "/docs/", "").await;
    assert_eq!((status, body(&text)), (200, "<h1>docs</h1>"));
    let (status, text) = site(&t, "GET", &b, "/docs", "").await;
    assert_eq!(status, 302, "{text}");
    assert_eq!(raw_header(&text, "location").as_deref(), Some("/docs/"));
    let (status, text) = site(&t, "GET", &b, "/page.html", "Range: bytes=3-6\r\n").await;
    assert_eq!((status, body(&text)), (206, "page"));
    let etag = raw_header(&text, "etag").unwrap_or_default();
    let (status, _) = site(
        &t,
        "GET",
        &b,
        "/page.html",
        &format!("If-None-Match: {etag}\r\n"),
    )
    .await;
    assert_eq!(status, 304);
    let (status, text) = site(&t, "HEAD", &b, "/page.html", "").await;
    assert_eq!(status, 200);
    assert_eq!(raw_header(&text, "content-length").as_deref(), Some("11"));

    // Missing key, no error document yet: AWS's HTML page, with the key looked for.
    let (status, text) = site(&t, "GET", &b, "/missing/", "").await;
    assert_eq!(status, 404);
    let page = body(&text);
    assert!(page.starts_with(
        "<html>\n<head><title>404 Not Found</title></head>\n<body>\n<h1>404 Not Found</h1>\n<ul>\n<li>Code: NoSuchKey</li>\n<li>Message: The specified key does not exist.</li>\n<li>Key: missing/index.html</li>\n<li>RequestId: "
    ), "{page}");
    assert!(page.contains(
        "<h3>An Error Occurred While Attempting to Retrieve a Custom Error Document</h3>\n<ul>\n<li>Code: NoSuchKey</li>\n<li>Message: The specified key does not exist.</li>\n<li>Key: error.html</li>\n</ul>\n<hr/>\n</body>\n</html>\n"
    ), "{page}");
    assert_eq!(
        raw_header(&text, "x-amz-request-id")
            .map(|id| page.contains(&format!("<li>RequestId: {id}</li>"))),
        Some(true)
    );
    // With the error document: its body, with the 404.
    put_typed(&t, &b, "error.html", "<h1>oops</h1>").await;
    let (status, text) = site(&t, "GET", &b, "/nothing-here", "").await;
    assert_eq!((status, body(&text)), (404, "<h1>oops</h1>"));

    // Only GET and HEAD.
    let (status, text) = site(&t, "DELETE", &b, "/page.html", "").await;
    assert_eq!(status, 405);
    assert!(body(&text).contains("<li>Code: MethodNotAllowed</li>\n<li>Message: The specified method is not allowed against this resource.</li>\n<li>Method: DELETE</li>\n<li>ResourceType: OBJECT</li>\n"), "{text}");
    // The REST endpoint is unchanged (XML errors).
    let (status, text) = raw_with(&t, "GET", &format!("/{b}/missing"), "").await;
    assert_eq!(status, 404);
    assert!(text.contains("<Code>NoSuchKey</Code>"));
}

#[tokio::test]
async fn missing_bucket_or_configuration() {
    let t = Twin::start().await;
    let b = new_bucket(&t.client, "noweb").await;
    let (status, text) = site(&t, "GET", &b, "/", "").await;
    assert_eq!(status, 404);
    assert!(body(&text).contains(&format!("<li>Code: NoSuchWebsiteConfiguration</li>\n<li>Message: The specified bucket does not have a website configuration</li>\n<li>BucketName: {b}</li>\n")), "{text}");
    let (status, text) = site(&t, "GET", "no-such-site-bucket", "/", "").await;
    assert_eq!(status, 404);
    assert!(body(&text).contains("<li>Code: NoSuchBucket</li>\n<li>Message: The specified bucket does not exist</li>\n<li>BucketName: no-such-site-bucket</li>\n"), "{text}");
    assert_eq!(
        raw_header(&text, "content-type").as_deref(),
        Some("text/html; charset=utf-8")
    );
}

#[tokio::test]
async fn redirects() {
    let t = Twin::start().await;
    let b = new_bucket(&t.client, "redir").await;
    put_website(
        &t,
        &b,
        "<IndexDocument><Suffix>index.html</Suffix></IndexDocument><RoutingRules>\
         <RoutingRule><Condition><KeyPrefixEquals>old/</KeyPrefixEquals></Condition>\
         <Redirect><ReplaceKeyPrefixWith>new/</ReplaceKeyPrefixWith></Redirect></RoutingRule>\
         <RoutingRule><Condition><HttpErrorCodeReturnedEquals>404</HttpErrorCodeReturnedEquals></Condition>\
         <Redirect><Protocol>https</Protocol><HostName>example.com</HostName><ReplaceKeyWith>404.html</ReplaceKeyWith>\
         <HttpRedirectCode>307</HttpRedirectCode></Redirect></RoutingRule></RoutingRules>",
    )
    .await;
    let (status, text) = site(&t, "GET", &b, "/old/a.html", "").await;
    assert_eq!(status, 301, "{text}");
    assert_eq!(
        raw_header(&text, "location"),
        Some(format!(
            "http://{b}.s3-website.localhost:{}/new/a.html",
            t.port()
        ))
    );
    let (status, text) = site(&t, "GET", &b, "/gone.html", "").await;
    assert_eq!(status, 307, "{text}");
    assert_eq!(
        raw_header(&text, "location").as_deref(),
        Some("https://example.com/404.html")
    );
    // An object's own redirect.
    t.client
        .put_object()
        .bucket(&b)
        .key("moved.html")
        .website_redirect_location("/elsewhere.html")
        .body(Vec::new().into())
        .send()
        .await
        .expect("put");
    let (status, text) = site(&t, "GET", &b, "/moved.html", "").await;
    assert_eq!(status, 301);
    assert_eq!(
        raw_header(&text, "location").as_deref(),
        Some("/elsewhere.html")
    );

    let all = new_bucket(&t.client, "redir-all").await;
    put_website(
        &t,
        &all,
        "<RedirectAllRequestsTo><HostName>www.example.com</HostName><Protocol>https</Protocol></RedirectAllRequestsTo>",
    )
    .await;
    let (status, text) = site(&t, "GET", &all, "/a/b.html", "").await;
    assert_eq!(status, 301);
    assert_eq!(
        raw_header(&text, "location").as_deref(),
        Some("https://www.example.com/a/b.html")
    );
}

#[tokio::test]
async fn website_hosts_and_domains() {
    let server = s3twin::S3Server::builder()
        .port(0)
        .website_domain("web.test")
        .build();
    server.start().await.expect("server starts");
    let addr = server.local_addr().expect("started").to_string();
    let c = client(&server.endpoint(), true);
    let b = new_bucket(&c, "hosts").await;
    let doc = "<WebsiteConfiguration><IndexDocument><Suffix>i.htm</Suffix></IndexDocument></WebsiteConfiguration>";
    let req = format!(
        "PUT /{b}?website HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{doc}",
        doc.len()
    );
    let (status, text) = raw(&addr, req.as_bytes()).await;
    assert_eq!(status, 200, "{text}");
    put(&c, &b, "i.htm", b"welcome").await;
    for host in [
        format!("{b}.web.test"),
        format!("{b}.s3-website-us-east-1.amazonaws.com"),
        format!("{b}.s3-website.eu-west-1.amazonaws.com:8080"),
        format!("{b}.s3-website.localhost"),
    ] {
        let req = format!("GET / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
        let (status, text) = raw(&addr, req.as_bytes()).await;
        assert_eq!((status, body(&text)), (200, "welcome"), "{host}");
    }
    // The REST endpoint of the same bucket still answers S3's XML (ListObjects here).
    let req = format!("GET / HTTP/1.1\r\nHost: {b}.s3.amazonaws.com\r\nConnection: close\r\n\r\n");
    let (status, text) = raw(&addr, req.as_bytes()).await;
    assert_eq!(status, 200);
    assert!(text.contains("<ListBucketResult"), "{text}");
}

/// A CORS preflight to the website endpoint is judged by the bucket's CORS rules, as on the
/// REST endpoint: 200 with the `Access-Control-*` headers when a rule matches, 403 (an HTML
/// page) when none does or the bucket has no CORS configuration; not 405.
#[tokio::test]
async fn website_endpoint_answers_cors_preflights() {
    let t = Twin::start().await;
    let b = new_bucket(&t.client, "site-cors").await;
    put_website(
        &t,
        &b,
        "<IndexDocument><Suffix>index.html</Suffix></IndexDocument>",
    )
    .await;
    put_typed(&t, &b, "font.woff2", "font").await;
    let ask = "Origin: http://app.example\r\nAccess-Control-Request-Method: GET\r\n";
    let (status, text) = site(&t, "OPTIONS", &b, "/font.woff2", ask).await;
    assert_eq!(status, 403, "{text}");
    assert!(
        body(&text).contains("<li>Code: AccessForbidden</li>\n<li>Message: CORSResponse: CORS is not enabled for this bucket.</li>"),
        "{text}"
    );
    put_cors_xml(
        &t,
        &b,
        "<CORSRule><AllowedOrigin>http://app.example</AllowedOrigin><AllowedMethod>GET</AllowedMethod><MaxAgeSeconds>600</MaxAgeSeconds></CORSRule>",
    )
    .await;
    let (status, text) = site(&t, "OPTIONS", &b, "/font.woff2", ask).await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(
        raw_header(&text, "access-control-allow-origin").as_deref(),
        Some("http://app.example")
    );
    assert_eq!(
        raw_header(&text, "access-control-allow-methods").as_deref(),
        Some("GET")
    );
    assert_eq!(
        raw_header(&text, "access-control-max-age").as_deref(),
        Some("600")
    );
    // The same preflight on the REST endpoint answers the same headers.
    let (rest_status, rest) = raw_with(&t, "OPTIONS", &format!("/{b}/font.woff2"), ask).await;
    assert_eq!(rest_status, 200, "{rest}");
    assert_eq!(
        raw_header(&rest, "access-control-allow-origin"),
        raw_header(&text, "access-control-allow-origin")
    );
    // A method the rules do not allow.
    let (status, text) = site(
        &t,
        "OPTIONS",
        &b,
        "/font.woff2",
        "Origin: http://app.example\r\nAccess-Control-Request-Method: PUT\r\n",
    )
    .await;
    assert_eq!(status, 403, "{text}");
    assert!(
        body(&text).contains("<li>Code: AccessForbidden</li>"),
        "{text}"
    );
    // The actual GET carries the headers too.
    let (status, text) = site(
        &t,
        "GET",
        &b,
        "/font.woff2",
        "Origin: http://app.example\r\n",
    )
    .await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(
        raw_header(&text, "access-control-allow-origin").as_deref(),
        Some("http://app.example")
    );
}

/// One website request for a run: `Host: {bucket}.s3-website.localhost`, path `/t/{run}…`.
async fn run_site(t: &Twin, run: &str, bucket: &str, path: &str) -> (u16, String) {
    site(t, "GET", bucket, &format!("/t/{run}{path}"), "").await
}

#[tokio::test]
async fn enforced_runs_serve_only_what_anonymous_readers_may_read() {
    let t = Twin::start().await;
    let run = enforcing_run(&t, "site-auth").await;
    let owner = run_client(&t, &run);
    let b = new_bucket(&owner, "site").await;
    owner
        .delete_public_access_block()
        .bucket(&b)
        .send()
        .await
        .expect("delete bpa");
    let website = aws_sdk_s3::types::WebsiteConfiguration::builder()
        .index_document(
            aws_sdk_s3::types::IndexDocument::builder()
                .suffix("index.html")
                .build()
                .expect("index"),
        )
        .error_document(
            aws_sdk_s3::types::ErrorDocument::builder()
                .key("error.html")
                .build()
                .expect("error"),
        )
        .build();
    owner
        .put_bucket_website()
        .bucket(&b)
        .website_configuration(website)
        .send()
        .await
        .expect("website");
    for (key, text) in [
        ("index.html", "<h1>home</h1>"),
        ("error.html", "<p>oops</p>"),
        ("private/index.html", "<p>secret</p>"),
    ] {
        owner
            .put_object()
            .bucket(&b)
            .key(key)
            .content_type("text/html")
            .body(text.as_bytes().to_vec().into())
            .send()
            .await
            .expect("put");
    }

    // Nothing public yet: 403 AccessDenied as an HTML page; the error document is not
    // readable either.
    let (status, text) = run_site(&t, &run, &b, "/").await;
    assert_eq!(status, 403, "{text}");
    assert!(text.contains("<li>Code: AccessDenied</li>"), "{text}");
    assert!(
        text.contains("Custom Error Document</h3>\n<ul>\n<li>Code: AccessDenied</li>"),
        "{text}"
    );

    // A policy letting anyone read everything but private/: the index is served, a private
    // page and a missing one are 403 (no s3:ListBucket), answered with the error document.
    let policy = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [
            { "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
              "Resource": format!("arn:aws:s3:::{b}/*") },
            { "Effect": "Deny", "Principal": "*", "Action": "s3:GetObject",
              "Resource": format!("arn:aws:s3:::{b}/private/*") }
        ]
    });
    owner
        .put_bucket_policy()
        .bucket(&b)
        .policy(policy.to_string())
        .send()
        .await
        .expect("policy");
    let (status, text) = run_site(&t, &run, &b, "/").await;
    assert_eq!((status, body(&text)), (200, "<h1>home</h1>"), "{text}");
    for path in ["/private/", "/absent.html"] {
        let (status, text) = run_site(&t, &run, &b, path).await;
        assert_eq!(
            (status, body(&text)),
            (403, "<p>oops</p>"),
            "{path}: {text}"
        );
    }

    // With s3:ListBucket granted too, a missing page is 404.
    let mut listing = policy.clone();
    listing["Statement"]
        .as_array_mut()
        .expect("statements")
        .push(
            serde_json::json!({ "Effect": "Allow", "Principal": "*", "Action": "s3:ListBucket",
            "Resource": format!("arn:aws:s3:::{b}") }),
        );
    owner
        .put_bucket_policy()
        .bucket(&b)
        .policy(listing.to_string())
        .send()
        .await
        .expect("policy");
    let (status, text) = run_site(&t, &run, &b, "/absent.html").await;
    assert_eq!((status, body(&text)), (404, "<p>oops</p>"), "{text}");
    let (status, _) = run_site(&t, &run, &b, "/private/").await;
    assert_eq!(status, 403);
}
