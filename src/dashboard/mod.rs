//! The dashboard (an S3 explorer in the browser) at `/_s3twin/ui/`: its assets, embedded in
//! the binary and served with an ETag; the redirect of a browser's visit to `/` there; and
//! the guard that keeps web pages of other origins from changing state through the admin API
//! (`guard.rs`). The page itself talks only to the public S3 API and the admin API.

mod assets;
pub mod guard;

use crate::server::response::{bytes, empty, set_header, Resp};
use http::{HeaderMap, Method};

/// Where the dashboard lives.
pub const UI_PATH: &str = "/_s3twin/ui/";

/// Whether `path` is the dashboard's (`/_s3twin/ui` or below it).
pub fn is_ui_path(path: &str) -> bool {
    path.strip_prefix("/_s3twin/ui")
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// Serves one of the embedded assets (`index.html` for the directory itself).
pub fn serve(method: &Method, path: &str, headers: &HeaderMap) -> Resp {
    if *method != Method::GET && *method != Method::HEAD {
        let mut r = bytes(405, "text/plain; charset=utf-8", "method not allowed\n");
        set_header(&mut r, "allow", "GET, HEAD");
        return r;
    }
    let name = match path.strip_prefix(UI_PATH) {
        None => return redirect(UI_PATH),
        Some("") => "index.html",
        Some(name) => name,
    };
    let Some(asset) = assets::find(name) else {
        return bytes(
            404,
            "text/plain; charset=utf-8",
            "no such dashboard asset\n",
        );
    };
    let etag = asset.etag();
    let fresh = headers
        .get(http::header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let mut r = if fresh {
        empty(304)
    } else if *method == Method::HEAD {
        let mut r = empty(200);
        set_header(&mut r, "content-type", asset.content_type);
        set_header(&mut r, "content-length", &asset.body.len().to_string());
        r
    } else {
        bytes(200, asset.content_type, asset.body)
    };
    set_header(&mut r, "etag", etag);
    // Revalidated on each load (the ETag makes that a 304), so a new binary's page is seen at once.
    set_header(&mut r, "cache-control", "no-cache");
    set_header(&mut r, "x-content-type-options", "nosniff");
    if name == "index.html" {
        // Scripts and styles of this origin only: an injected tag could not run or load.
        set_header(
            &mut r,
            "content-security-policy",
            "default-src 'self'; img-src 'self' data: blob:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
        );
    }
    r
}

fn redirect(to: &str) -> Resp {
    let mut r = empty(302);
    set_header(&mut r, "location", to);
    set_header(&mut r, "cache-control", "no-store");
    r
}

/// A browser's navigation to `/`: GET with `Accept` naming `text/html`, no Authorization and
/// no query at all (so no presigned `X-Amz-*` / `AWSAccessKeyId`). SDKs' ListBuckets never
/// ask for HTML; the caller also checks the host addresses no bucket or website.
pub fn is_browser_visit(method: &Method, query: Option<&str>, headers: &HeaderMap) -> bool {
    *method == Method::GET
        && query.is_none_or(str::is_empty)
        && !headers.contains_key(http::header::AUTHORIZATION)
        && headers
            .get_all(http::header::ACCEPT)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|v| v.to_ascii_lowercase().contains("text/html"))
}

/// The answer to a browser's visit to `/`.
pub fn root_redirect() -> Resp {
    redirect(UI_PATH)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ui_paths() {
        assert!(is_ui_path("/_s3twin/ui"));
        assert!(is_ui_path("/_s3twin/ui/"));
        assert!(is_ui_path("/_s3twin/ui/app.js"));
        assert!(!is_ui_path("/_s3twin/uix"));
        assert!(!is_ui_path("/_s3twin/runs"));
    }

    #[test]
    fn every_asset_is_served_with_its_type() {
        for a in &assets::ALL {
            let r = serve(
                &Method::GET,
                &format!("{UI_PATH}{}", a.name),
                &HeaderMap::new(),
            );
            assert_eq!(r.status(), 200, "{}", a.name);
            assert_eq!(r.headers()["content-type"], a.content_type);
        }
        let r = serve(&Method::GET, "/_s3twin/ui/../Cargo.toml", &HeaderMap::new());
        assert_eq!(r.status(), 404);
    }

    #[test]
    fn browser_visit_needs_html_and_no_auth_or_query() {
        let mut h = HeaderMap::new();
        h.insert("accept", "text/html,application/xhtml+xml".parse().unwrap());
        assert!(is_browser_visit(&Method::GET, None, &h));
        assert!(!is_browser_visit(&Method::HEAD, None, &h));
        assert!(!is_browser_visit(
            &Method::GET,
            Some("X-Amz-Signature=x"),
            &h
        ));
        h.insert("authorization", "AWS4-HMAC-SHA256 …".parse().unwrap());
        assert!(!is_browser_visit(&Method::GET, None, &h));
        assert!(!is_browser_visit(&Method::GET, None, &HeaderMap::new()));
    }
}
