//! The cross-site guard of the admin API. A web page on another origin can make a browser
//! send "simple" requests (a form POST, `fetch` with `mode: "no-cors"`) without a CORS
//! preflight; it cannot read the answer, but the request would still reset or seed the twin.
//! State-changing admin requests are therefore refused when the browser says they are
//! cross-origin (`Sec-Fetch-Site`, `Origin`), and a browser's simple content types
//! (`text/plain`, forms) are refused on these JSON routes even without those headers (older
//! browsers send no `Origin` on form posts). curl, SDKs and scripts send neither a browser's
//! `User-Agent` nor these headers, so they are unaffected.

use http::{HeaderMap, Method};

/// Why a request is refused, or `None` when it may go on.
pub fn refusal(method: &Method, headers: &HeaderMap) -> Option<&'static str> {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return None;
    }
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = text("sec-fetch-site") {
        if !site.eq_ignore_ascii_case("same-origin") && !site.eq_ignore_ascii_case("none") {
            return Some("cross-site admin requests are refused (Sec-Fetch-Site)");
        }
    }
    if headers.contains_key(http::header::ORIGIN) {
        let own = text("host").filter(|h| !h.is_empty());
        let same = text("origin")
            .and_then(|o| o.split_once("://"))
            .is_some_and(|(scheme, authority)| {
                matches!(scheme, "http" | "https")
                    && own.is_some_and(|h| authority.eq_ignore_ascii_case(h))
            });
        if !same {
            return Some("admin requests from another origin are refused (Origin)");
        }
    }
    let from_browser = text("user-agent").is_some_and(|ua| ua.starts_with("Mozilla/"))
        || headers.contains_key(http::header::REFERER);
    if from_browser && text("content-type").is_some_and(simple_type) {
        return Some(
            "admin requests from a browser must be sent as Content-Type: application/json",
        );
    }
    None
}

/// The content types a browser sends cross-origin without a preflight.
fn simple_type(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or("").trim();
    [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ]
    .iter()
    .any(|t| essence.eq_ignore_ascii_case(t))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn scripts_pass_and_browsers_cross_site_do_not() {
        let post = Method::POST;
        // curl -d, Python's urllib, Node's fetch: no browser headers.
        let curl = headers(&[
            ("host", "127.0.0.1:4566"),
            ("content-type", "application/x-www-form-urlencoded"),
            ("user-agent", "curl/8.5.0"),
        ]);
        assert_eq!(refusal(&post, &curl), None);
        assert_eq!(refusal(&post, &HeaderMap::new()), None);
        let same = headers(&[
            ("host", "127.0.0.1:4566"),
            ("origin", "http://127.0.0.1:4566"),
            ("sec-fetch-site", "same-origin"),
            ("content-type", "application/json"),
            ("user-agent", "Mozilla/5.0"),
        ]);
        assert_eq!(refusal(&post, &same), None);
        let other = headers(&[
            ("host", "127.0.0.1:4566"),
            ("origin", "http://evil.example"),
        ]);
        assert!(refusal(&post, &other).is_some());
        assert!(refusal(&Method::DELETE, &other).is_some());
        assert_eq!(refusal(&Method::GET, &other), None);
        let null = headers(&[("host", "127.0.0.1:4566"), ("origin", "null")]);
        assert!(refusal(&post, &null).is_some());
        let site = headers(&[("sec-fetch-site", "same-site")]);
        assert!(refusal(&post, &site).is_some());
        let form = headers(&[
            ("user-agent", "Mozilla/5.0 (X11)"),
            ("content-type", "text/plain;charset=UTF-8"),
        ]);
        assert!(refusal(&post, &form).is_some());
    }
}
