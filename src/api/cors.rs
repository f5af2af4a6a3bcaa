//! CORS: the preflight (`OPTIONS`) answered from the bucket's stored rules, and the
//! `Access-Control-*` headers on actual requests that carry an `Origin`. The first rule whose
//! origin, method and headers all match wins, as on S3.

use super::Ctx;
use crate::error::{Code, S3Error, S3Result};
use crate::server::response::{empty, set_header, Resp};
use crate::store::{Bucket, ConfigKind, Run};
use crate::wire::xml as xmlp;
use http::HeaderMap;
use std::sync::Arc;

/// One `CORSRule` as matching needs it.
#[derive(Debug, Default)]
pub struct Rule {
    origins: Vec<String>,
    methods: Vec<String>,
    /// Lower-cased: header names match case-insensitively.
    headers: Vec<String>,
    expose: Vec<String>,
    max_age: Option<String>,
}

/// What a request asks of CORS: its `Origin`, and the method and headers it will use
/// (`Access-Control-Request-*` when present, as S3 reads them even on actual requests).
#[derive(Debug, Clone)]
pub struct CorsRequest {
    origin: String,
    method: Option<String>,
    headers: Option<Vec<String>>,
}

impl CorsRequest {
    /// The CORS side of a request; `None` without an `Origin` header.
    pub fn from_headers(headers: &HeaderMap) -> Option<CorsRequest> {
        let text = |n: &str| crate::wire::headers::value(headers, n);
        Some(CorsRequest {
            origin: text("origin")?.to_string(),
            method: text("access-control-request-method").map(|m| m.trim().to_string()),
            headers: text("access-control-request-headers").map(split_header_list),
        })
    }
}

fn split_header_list(list: &str) -> Vec<String> {
    list.split(',')
        .map(|h| h.trim().to_ascii_lowercase())
        .filter(|h| !h.is_empty())
        .collect()
}

/// The vary list S3 sends with every CORS answer.
const VARY: &str = "Origin, Access-Control-Request-Headers, Access-Control-Request-Method";

const NOT_ALLOWED: &str = "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.";

fn parse_rules(doc: &str) -> Vec<Rule> {
    let Ok(root) = xmlp::parse(doc.as_bytes()) else {
        return Vec::new();
    };
    let texts = |rule: &xmlp::Element, name: &str| -> Vec<String> {
        rule.children_named(name)
            .map(|e| e.text.trim().to_string())
            .collect()
    };
    root.children_named("CORSRule")
        .map(|r| Rule {
            origins: texts(r, "AllowedOrigin"),
            methods: texts(r, "AllowedMethod"),
            headers: texts(r, "AllowedHeader")
                .into_iter()
                .map(|h| h.to_ascii_lowercase())
                .collect(),
            expose: texts(r, "ExposeHeader"),
            max_age: r.child_text("MaxAgeSeconds").map(|s| s.trim().to_string()),
        })
        .collect()
}

/// The bucket's rules, parsed once per stored document.
fn rules(bucket: &Bucket) -> Option<Arc<Vec<Rule>>> {
    bucket.parsed_config(ConfigKind::Cors, parse_rules)
}

/// `pattern` with at most one `*` (matching any run of characters) against `value`.
fn wildcard(pattern: &str, value: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == value,
        Some((head, tail)) => {
            value.len() >= head.len() + tail.len()
                && value.starts_with(head)
                && value.ends_with(tail)
        }
    }
}

/// The first rule allowing the request, and the origin pattern that matched.
fn find<'r>(rules: &'r [Rule], req: &CorsRequest, method: &str) -> Option<(&'r Rule, &'r str)> {
    rules.iter().find_map(|rule| {
        let origin = rule.origins.iter().find(|o| wildcard(o, &req.origin))?;
        if !rule.methods.iter().any(|m| m == method) {
            return None;
        }
        let headers_ok = req
            .headers
            .iter()
            .flatten()
            .all(|h| rule.headers.iter().any(|allowed| wildcard(allowed, h)));
        headers_ok.then_some((rule, origin.as_str()))
    })
}

fn set_cors_headers(
    resp: &mut Resp,
    rule: &Rule,
    pattern: &str,
    req: &CorsRequest,
    preflight: bool,
) {
    if pattern == "*" {
        set_header(resp, "access-control-allow-origin", "*");
    } else {
        set_header(resp, "access-control-allow-origin", &req.origin);
        set_header(resp, "access-control-allow-credentials", "true");
    }
    set_header(
        resp,
        "access-control-allow-methods",
        &rule.methods.join(", "),
    );
    if preflight {
        if let Some(h) = req.headers.as_ref().filter(|h| !h.is_empty()) {
            set_header(resp, "access-control-allow-headers", &h.join(", "));
        }
    }
    if !rule.expose.is_empty() {
        set_header(
            resp,
            "access-control-expose-headers",
            &rule.expose.join(", "),
        );
    }
    if let Some(age) = &rule.max_age {
        set_header(resp, "access-control-max-age", age);
    }
    set_header(resp, "vary", VARY);
}

fn forbidden(message: &str, method: &str, resource_type: &str) -> S3Error {
    S3Error::with_message(Code::AccessForbidden, message)
        .extra("Method", method)
        .extra("ResourceType", resource_type)
}

/// `OPTIONS` on a bucket or an object: the preflight. Unauthenticated on S3 (a browser sends
/// no credentials with it).
pub fn preflight(ctx: &Ctx) -> S3Result<Resp> {
    let Some(req) = CorsRequest::from_headers(&ctx.headers) else {
        return Err(S3Error::with_message(
            Code::BadRequest,
            "Insufficient information. Origin request header needed.",
        ));
    };
    let method = req.method.clone().unwrap_or_else(|| "OPTIONS".to_string());
    let Ok(bucket) = ctx.run.bucket(ctx.bucket_name()) else {
        return Err(forbidden(
            "CORSResponse: Bucket not found",
            &method,
            "BUCKET",
        ));
    };
    let Some(rules) = rules(&bucket) else {
        return Err(forbidden(
            "CORSResponse: CORS is not enabled for this bucket.",
            &method,
            "BUCKET",
        ));
    };
    let resource_type = if ctx.key.is_some() {
        "OBJECT"
    } else {
        "BUCKET"
    };
    let (rule, pattern) = find(&rules, &req, &method)
        .ok_or_else(|| forbidden(NOT_ALLOWED, &method, resource_type))?;
    let mut resp = empty(200);
    set_cors_headers(&mut resp, rule, pattern, &req, true);
    Ok(resp)
}

/// The `Access-Control-*` headers of an actual request (success or error) when the bucket's
/// rules allow it; nothing otherwise, as S3 answers the request itself either way.
pub fn decorate(
    run: &Run,
    bucket: &str,
    req: &CorsRequest,
    method: &http::Method,
    resp: &mut Resp,
) {
    let Some(rules) = run.bucket(bucket).ok().and_then(|b| rules(&b)) else {
        return;
    };
    let method = req.method.as_deref().unwrap_or(method.as_str());
    if let Some((rule, pattern)) = find(&rules, req, method) {
        set_cors_headers(resp, rule, pattern, req, false);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards() {
        assert!(wildcard("*", "http://a"));
        assert!(wildcard("http://*.origin.com", "http://test.origin.com"));
        assert!(!wildcard("http://*.origin.com", "http://test.origin.com/"));
        assert!(!wildcard("http://*.origin.com", "http://.origin.co"));
        assert!(wildcard("x-amz-*", "x-amz-date"));
        assert!(!wildcard("https://a", "http://a"));
    }
}
