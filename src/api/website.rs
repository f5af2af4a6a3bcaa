//! Static website hosting: a bucket's website endpoint. Index documents (sub-folders too),
//! the error document, `RedirectAllRequestsTo`, routing rules and per-object redirects; only
//! GET and HEAD; errors as the HTML pages the website endpoint sends, not XML.

use super::{object, Ctx};
use crate::error::{Code, S3Error, S3Result};
use crate::server::query::{url_encode, Query};
use crate::server::response::{bytes, empty, set_header, status, Resp};
use crate::store::{Bucket, ConfigKind};
use crate::wire::xml as xmlp;
use http::Method;
use std::sync::Arc;

/// Extras naming the error document that could not be served: rendered as its own section.
const ERROR_DOCUMENT_KEY: &str = "ErrorDocumentKey";
/// Extras saying the error document exists but the requester may not read it.
const ERROR_DOCUMENT_DENIED: &str = "ErrorDocumentDenied";

#[derive(Debug, Default)]
struct Redirect {
    protocol: Option<String>,
    host: Option<String>,
    replace_prefix: Option<String>,
    replace_key: Option<String>,
    code: Option<String>,
}

#[derive(Debug, Default)]
struct RoutingRule {
    key_prefix: Option<String>,
    error_code: Option<String>,
    redirect: Redirect,
}

#[derive(Debug, Default)]
struct Site {
    index: Option<String>,
    error: Option<String>,
    redirect_all: Option<Redirect>,
    rules: Vec<RoutingRule>,
}

fn parse_redirect(el: &xmlp::Element) -> Redirect {
    let t = |n: &str| el.child_text(n).map(|s| s.trim().to_string());
    Redirect {
        protocol: t("Protocol"),
        host: t("HostName"),
        replace_prefix: t("ReplaceKeyPrefixWith"),
        replace_key: t("ReplaceKeyWith"),
        code: t("HttpRedirectCode"),
    }
}

fn parse_site(doc: &str) -> Site {
    let Ok(root) = xmlp::parse(doc.as_bytes()) else {
        return Site::default();
    };
    let rules = root
        .child("RoutingRules")
        .map(|r| {
            r.children_named("RoutingRule")
                .map(|rule| {
                    let cond = rule.child("Condition");
                    let ct = |n: &str| {
                        cond.and_then(|c| c.child_text(n))
                            .map(|s| s.trim().to_string())
                    };
                    RoutingRule {
                        key_prefix: ct("KeyPrefixEquals"),
                        error_code: ct("HttpErrorCodeReturnedEquals"),
                        redirect: rule
                            .child("Redirect")
                            .map(parse_redirect)
                            .unwrap_or_default(),
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    Site {
        index: root
            .child("IndexDocument")
            .and_then(|i| i.child_text("Suffix"))
            .map(|s| s.trim().to_string()),
        error: root
            .child("ErrorDocument")
            .and_then(|e| e.child_text("Key"))
            .map(|s| s.trim().to_string()),
        redirect_all: root.child("RedirectAllRequestsTo").map(parse_redirect),
        rules,
    }
}

fn site(bucket: &Bucket) -> Option<Arc<Site>> {
    bucket.parsed_config(ConfigKind::Website, parse_site)
}

/// A redirect answer: `Location` built from the rule, the request's host and the key.
fn redirect(ctx: &Ctx, r: &Redirect, key: &str, matched_prefix: &str) -> Resp {
    let protocol = r.protocol.as_deref().unwrap_or("http");
    // Staying on this host keeps the request's run.
    let host = match &r.host {
        Some(h) => h.clone(),
        None => format!(
            "{}{}",
            ctx.header("host").unwrap_or_default(),
            run_prefix(ctx)
        ),
    };
    let new_key = match (&r.replace_key, &r.replace_prefix) {
        (Some(k), _) => k.clone(),
        (None, Some(p)) => format!("{p}{}", key.strip_prefix(matched_prefix).unwrap_or(key)),
        (None, None) => key.to_string(),
    };
    let code = r
        .code
        .as_deref()
        .and_then(|c| c.parse::<u16>().ok())
        .filter(|c| (300..400).contains(c))
        .unwrap_or(301);
    let mut resp = empty(code);
    set_header(
        &mut resp,
        "location",
        &format!("{protocol}://{host}/{}", url_encode(&new_key)),
    );
    resp
}

/// The first routing rule for `key` (and the error code, for rules that name one).
fn rule_for<'s>(site: &'s Site, key: &str, error: Option<u16>) -> Option<&'s RoutingRule> {
    site.rules.iter().find(|r| {
        let prefix_ok = r.key_prefix.as_deref().is_none_or(|p| key.starts_with(p));
        let code_ok = match (&r.error_code, error) {
            (None, None) => true,
            (Some(c), Some(e)) => c.parse::<u16>().ok() == Some(e),
            _ => false,
        };
        prefix_ok && code_ok
    })
}

/// The request as GetObject / HeadObject of `key` (conditionals and ranges as on REST).
fn get(ctx: &Ctx, key: &str, head: bool) -> S3Result<Resp> {
    let inner = Ctx {
        state: ctx.state.clone(),
        run: ctx.run.clone(),
        method: ctx.method.clone(),
        headers: ctx.headers.clone(),
        query: Query::default(),
        bucket: ctx.bucket.clone(),
        key: Some(key.to_string()),
        ids: ctx.ids,
        // Authorized already, as the request it stands for.
        auth: Default::default(),
    };
    object::get_object(&inner, head)
}

fn run_prefix(ctx: &Ctx) -> String {
    if ctx.run.id == crate::store::DEFAULT_RUN {
        String::new()
    } else {
        format!("/t/{}", ctx.run.id)
    }
}

/// A request to the website endpoint.
pub fn serve(ctx: &Ctx) -> S3Result<Resp> {
    let head = match ctx.method {
        Method::GET => false,
        Method::HEAD => true,
        _ => {
            return Err(S3Error::new(Code::MethodNotAllowed)
                .extra("Method", ctx.method.as_str())
                .extra("ResourceType", "OBJECT"))
        }
    };
    let bucket = ctx.run.bucket(ctx.bucket_name())?;
    let site = site(&bucket).ok_or_else(|| {
        S3Error::new(Code::NoSuchWebsiteConfiguration).extra("BucketName", &bucket.name)
    })?;
    let key = ctx.key_name();
    if let Some(all) = &site.redirect_all {
        return Ok(redirect(ctx, all, key, ""));
    }
    if let Some(rule) = rule_for(&site, key, None) {
        return Ok(redirect(
            ctx,
            &rule.redirect,
            key,
            rule.key_prefix.as_deref().unwrap_or(""),
        ));
    }
    let index = site.index.as_deref().unwrap_or("index.html");
    let resolved = if key.is_empty() || key.ends_with('/') {
        format!("{key}{index}")
    } else {
        key.to_string()
    };
    if let Some(found) = bucket.get(&resolved) {
        if let Err(denied) = readable(ctx, &resolved) {
            return error_document(ctx, &bucket, &site, denied, head);
        }
        if let Some(to) = &found.headers.website_redirect_location {
            let mut resp = empty(301);
            set_header(&mut resp, "location", to);
            return Ok(resp);
        }
        return get(ctx, &resolved, head);
    }
    // `docs` without the slash, when only the folder's index exists.
    if !key.is_empty() && !key.ends_with('/') && bucket.get(&format!("{key}/{index}")).is_some() {
        let mut resp = empty(302);
        set_header(
            &mut resp,
            "location",
            &format!("{}/{}/", run_prefix(ctx), url_encode(key)),
        );
        return Ok(resp);
    }
    if let Some(rule) = rule_for(&site, key, Some(404)) {
        return Ok(redirect(
            ctx,
            &rule.redirect,
            key,
            rule.key_prefix.as_deref().unwrap_or(""),
        ));
    }
    // Who may not list the bucket is told 403, not 404 (as GetObject answers).
    let err = readable(ctx, &resolved)
        .err()
        .unwrap_or_else(|| S3Error::no_such_key(&resolved));
    error_document(ctx, &bucket, &site, err, head)
}

/// Whether the request's principal may read `key` (enforce mode): s3:GetObject on it, as
/// policies and ACLs grant it to the anonymous readers of a website.
fn readable(ctx: &Ctx, key: &str) -> S3Result<()> {
    crate::auth::authorize::authorize_resolved(
        &ctx.auth,
        &crate::auth::authorize::Request {
            run: &ctx.run,
            op: crate::server::router::Op::GetObject,
            bucket: ctx.bucket.as_deref(),
            key: Some(key),
            headers: &ctx.headers,
            query: &Query::default(),
        },
    )
}

/// `err` answered with the site's error document, when it has one the requester may read,
/// with `err`'s status; else as the HTML error page.
fn error_document(
    ctx: &Ctx,
    bucket: &Bucket,
    site: &Site,
    err: S3Error,
    head: bool,
) -> S3Result<Resp> {
    match &site.error {
        Some(doc) if bucket.get(doc).is_some() && readable(ctx, doc).is_ok() => {
            let mut resp = get(ctx, doc, head)?;
            *resp.status_mut() = status(err.code.status());
            Ok(resp)
        }
        Some(doc) if bucket.get(doc).is_some() => {
            Err(err.extra(ERROR_DOCUMENT_DENIED, doc.clone()))
        }
        Some(doc) => Err(err.extra(ERROR_DOCUMENT_KEY, doc.clone())),
        None => Err(err),
    }
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    crate::wire::xml::escape_into(&mut out, text);
    out
}

/// An error as the website endpoint answers it: an HTML page (headers only for HEAD).
pub fn error_page(err: &S3Error, request_id: &str, host_id: &str, head: bool) -> Resp {
    let code = err.code.status();
    let title = format!(
        "{code} {}",
        status(code).canonical_reason().unwrap_or("Error")
    );
    let mut page = format!(
        "<html>\n<head><title>{title}</title></head>\n<body>\n<h1>{title}</h1>\n<ul>\n<li>Code: {}</li>\n<li>Message: {}</li>\n",
        err.code.as_str(),
        escape(&err.message)
    );
    let mut error_doc = None;
    for (name, value) in &err.extras {
        if *name == ERROR_DOCUMENT_KEY || *name == ERROR_DOCUMENT_DENIED {
            error_doc = Some((*name == ERROR_DOCUMENT_DENIED, value));
        } else {
            page.push_str(&format!("<li>{name}: {}</li>\n", escape(value)));
        }
    }
    page.push_str(&format!(
        "<li>RequestId: {request_id}</li>\n<li>HostId: {host_id}</li>\n</ul>\n"
    ));
    match error_doc {
        Some((false, doc)) => page.push_str(&format!(
            "<h3>An Error Occurred While Attempting to Retrieve a Custom Error Document</h3>\n<ul>\n<li>Code: NoSuchKey</li>\n<li>Message: The specified key does not exist.</li>\n<li>Key: {}</li>\n</ul>\n",
            escape(doc)
        )),
        Some((true, _)) => page.push_str(
            "<h3>An Error Occurred While Attempting to Retrieve a Custom Error Document</h3>\n<ul>\n<li>Code: AccessDenied</li>\n<li>Message: Access Denied</li>\n</ul>\n",
        ),
        None => {}
    }
    page.push_str("<hr/>\n</body>\n</html>\n");
    let mut resp = if head || code == 304 {
        empty(code)
    } else {
        bytes(code, "text/html; charset=utf-8", page)
    };
    for (name, value) in &err.headers {
        set_header(&mut resp, *name, value);
    }
    resp
}
