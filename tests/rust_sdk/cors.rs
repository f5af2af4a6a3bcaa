//! CORS: preflights answered from the bucket's rules and the `Access-Control-*` headers of
//! actual requests, as AWS answers them (recorded answers of S3's CORS tests).

use crate::common::*;

const RULE_4200: &str = "<CORSRule><AllowedOrigin>https://localhost:4200</AllowedOrigin>\
<AllowedMethod>GET</AllowedMethod><AllowedMethod>PUT</AllowedMethod>\
<AllowedHeader>*</AllowedHeader><MaxAgeSeconds>3000</MaxAgeSeconds></CORSRule>";

const NOT_ALLOWED: &str = "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.";
const VARY: &str = "Origin, Access-Control-Request-Headers, Access-Control-Request-Method";

fn h(text: &str, name: &str) -> Option<String> {
    raw_header(text, name)
}

#[tokio::test]
async fn preflight_answered_from_the_rules() {
    let t = Twin::start().await;
    let b = new_bucket(&t.client, "cors-pre").await;
    put_cors_xml(&t, &b, RULE_4200).await;
    let (status, text) = raw_with(
        &t,
        "OPTIONS",
        &format!("/{b}/key"),
        "Origin: https://localhost:4200\r\nAccess-Control-Request-Method: PUT\r\n",
    )
    .await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(
        h(&text, "access-control-allow-origin").as_deref(),
        Some("https://localhost:4200")
    );
    assert_eq!(
        h(&text, "access-control-allow-credentials").as_deref(),
        Some("true")
    );
    assert_eq!(
        h(&text, "access-control-allow-methods").as_deref(),
        Some("GET, PUT")
    );
    assert_eq!(h(&text, "access-control-max-age").as_deref(), Some("3000"));
    assert_eq!(h(&text, "vary").as_deref(), Some(VARY));
    assert_eq!(h(&text, "access-control-allow-headers"), None);
    assert_eq!(h(&text, "content-length").as_deref(), Some("0"));

    // Requested headers come back lower-cased, in the order asked, with or without spaces.
    let (status, text) = raw_with(
        &t,
        "OPTIONS",
        &format!("/{b}/key"),
        "Origin: https://localhost:4200\r\nAccess-Control-Request-Method: GET\r\n\
         Access-Control-Request-Headers: x-AMZ-expected-BUCKET-owner,x-amz-server-side-encryption\r\n",
    )
    .await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(
        h(&text, "access-control-allow-headers").as_deref(),
        Some("x-amz-expected-bucket-owner, x-amz-server-side-encryption")
    );
    assert_eq!(
        h(&text, "access-control-allow-methods").as_deref(),
        Some("GET, PUT")
    );
}

#[tokio::test]
async fn preflight_refusals() {
    let t = Twin::start().await;
    let b = new_bucket(&t.client, "cors-ref").await;
    // No Origin: 400, whatever the bucket.
    let (status, text) = raw_with(&t, "OPTIONS", &format!("/{b}/key"), "").await;
    assert_eq!(status, 400, "{text}");
    assert_eq!(xml_value(&text, "Code").as_deref(), Some("BadRequest"));
    assert_eq!(
        xml_value(&text, "Message").as_deref(),
        Some("Insufficient information. Origin request header needed.")
    );
    // No configuration.
    let (status, text) = raw_with(
        &t,
        "OPTIONS",
        &format!("/{b}/key"),
        "Origin: whatever\r\nAccess-Control-Request-Method: PUT\r\n",
    )
    .await;
    assert_eq!(status, 403, "{text}");
    assert_eq!(xml_value(&text, "Code").as_deref(), Some("AccessForbidden"));
    assert_eq!(
        xml_value(&text, "Message").as_deref(),
        Some("CORSResponse: CORS is not enabled for this bucket.")
    );
    assert_eq!(xml_value(&text, "Method").as_deref(), Some("PUT"));
    assert_eq!(xml_value(&text, "ResourceType").as_deref(), Some("BUCKET"));
    let (_, text) = raw_with(&t, "OPTIONS", &format!("/{b}/key"), "Origin: whatever\r\n").await;
    assert_eq!(xml_value(&text, "Method").as_deref(), Some("OPTIONS"));
    // A missing bucket.
    let (status, text) = raw_with(
        &t,
        "OPTIONS",
        "/no-such-bucket-cors/key",
        "Origin: whatever\r\n",
    )
    .await;
    assert_eq!(status, 403, "{text}");
    assert_eq!(
        xml_value(&text, "Message").as_deref(),
        Some("CORSResponse: Bucket not found")
    );
    // Rules that do not allow the origin or the method.
    put_cors_xml(
        &t,
        &b,
        "<CORSRule><AllowedOrigin>http://*.origin.com</AllowedOrigin>\
         <AllowedMethod>GET</AllowedMethod></CORSRule>",
    )
    .await;
    for (path, origin, method, resource) in [
        (
            format!("/{b}/key"),
            "http://test.origin.com",
            "PUT",
            "OBJECT",
        ),
        (format!("/{b}"), "http://test.origin.com/", "GET", "BUCKET"),
        (
            format!("/{b}/key"),
            "https://test.origin.com",
            "GET",
            "OBJECT",
        ),
    ] {
        let (status, text) = raw_with(
            &t,
            "OPTIONS",
            &path,
            &format!("Origin: {origin}\r\nAccess-Control-Request-Method: {method}\r\n"),
        )
        .await;
        assert_eq!(status, 403, "{origin} {method}: {text}");
        assert_eq!(xml_value(&text, "Code").as_deref(), Some("AccessForbidden"));
        assert_eq!(
            xml_value(&text, "Message")
                .map(|m| m.replace("&apos;", "'"))
                .as_deref(),
            Some(NOT_ALLOWED)
        );
        assert_eq!(xml_value(&text, "Method").as_deref(), Some(method));
        assert_eq!(xml_value(&text, "ResourceType").as_deref(), Some(resource));
        assert_eq!(h(&text, "access-control-allow-origin"), None);
    }
    // A header the rule does not list (no AllowedHeader at all).
    let (status, _) = raw_with(
        &t,
        "OPTIONS",
        &format!("/{b}/key"),
        "Origin: http://a.origin.com\r\nAccess-Control-Request-Method: GET\r\n\
         Access-Control-Request-Headers: x-amz-request-payer\r\n",
    )
    .await;
    assert_eq!(status, 403);
    let (status, text) = raw_with(
        &t,
        "OPTIONS",
        &format!("/{b}/key"),
        "Origin: http://a.origin.com\r\nAccess-Control-Request-Method: GET\r\n",
    )
    .await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(
        h(&text, "access-control-allow-origin").as_deref(),
        Some("http://a.origin.com")
    );
}

#[tokio::test]
async fn wildcard_origin_and_exposed_headers() {
    let t = Twin::start().await;
    let b = new_bucket(&t.client, "cors-wild").await;
    put_cors_xml(
        &t,
        &b,
        "<CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod>\
         <ExposeHeader>x-amz-id-2</ExposeHeader><ExposeHeader>x-amz-request-id</ExposeHeader>\
         <ExposeHeader>ETag</ExposeHeader></CORSRule>",
    )
    .await;
    let (status, text) = raw_with(
        &t,
        "OPTIONS",
        &format!("/{b}/k"),
        "Origin: localhost:4566\r\nAccess-Control-Request-Method: GET\r\n",
    )
    .await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(
        h(&text, "access-control-allow-origin").as_deref(),
        Some("*")
    );
    assert_eq!(h(&text, "access-control-allow-credentials"), None);
    assert_eq!(h(&text, "access-control-max-age"), None);
    assert_eq!(
        h(&text, "access-control-expose-headers").as_deref(),
        Some("x-amz-id-2, x-amz-request-id, ETag")
    );
}

#[tokio::test]
async fn actual_requests_carry_the_headers() {
    let t = Twin::start().await;
    let b = new_bucket(&t.client, "cors-get").await;
    put(&t.client, &b, "k", b"test-cors").await;
    // Without a configuration nothing is added.
    let (status, text) = raw_with(
        &t,
        "GET",
        &format!("/{b}/k"),
        "Origin: https://localhost:4200\r\n",
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(h(&text, "access-control-allow-origin"), None);
    put_cors_xml(&t, &b, RULE_4200).await;
    let (status, text) = raw_with(
        &t,
        "GET",
        &format!("/{b}/k"),
        "Origin: https://localhost:4200\r\n",
    )
    .await;
    assert_eq!(status, 200);
    assert!(text.ends_with("test-cors"));
    assert_eq!(
        h(&text, "access-control-allow-origin").as_deref(),
        Some("https://localhost:4200")
    );
    assert_eq!(
        h(&text, "access-control-allow-credentials").as_deref(),
        Some("true")
    );
    assert_eq!(
        h(&text, "access-control-allow-methods").as_deref(),
        Some("GET, PUT")
    );
    assert_eq!(h(&text, "access-control-max-age").as_deref(), Some("3000"));
    assert_eq!(h(&text, "vary").as_deref(), Some(VARY));
    // An origin the rules do not allow: the object, without CORS headers.
    let (status, text) = raw_with(
        &t,
        "GET",
        &format!("/{b}/k"),
        "Origin: http://localhost:4200\r\n",
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(h(&text, "access-control-allow-origin"), None);
    // S3 judges an actual request by Access-Control-Request-Method when it is sent.
    let (_, text) = raw_with(
        &t,
        "GET",
        &format!("/{b}/k"),
        "Origin: https://localhost:4200\r\nAccess-Control-Request-Method: DELETE\r\n",
    )
    .await;
    assert_eq!(h(&text, "access-control-allow-origin"), None);
    // Errors carry them too (a browser could not read the error otherwise).
    let (status, text) = raw_with(
        &t,
        "GET",
        &format!("/{b}/missing"),
        "Origin: https://localhost:4200\r\n",
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(xml_value(&text, "Code").as_deref(), Some("NoSuchKey"));
    assert_eq!(
        h(&text, "access-control-allow-origin").as_deref(),
        Some("https://localhost:4200")
    );
    // The admin API keeps its own rules.
    let (_, text) = raw_with(
        &t,
        "GET",
        "/_s3twin/health",
        "Origin: https://localhost:4200\r\n",
    )
    .await;
    assert_eq!(h(&text, "access-control-allow-origin"), None);
}
