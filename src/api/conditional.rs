//! Conditional requests with AWS's precedence: If-Match beats If-Unmodified-Since, and
//! If-None-Match beats If-Modified-Since. Dates compare at second resolution, like the
//! Last-Modified header they are taken from.

use crate::clock::{parse_http_date, Millis};
use crate::error::{Code, S3Error, S3Result};
use crate::wire::headers::etag_matches;
use http::HeaderMap;

/// The four condition headers of one family (plain, or `x-amz-copy-source-` for copies).
pub struct Conditions {
    pub if_match: &'static str,
    pub if_none_match: &'static str,
    pub if_modified_since: &'static str,
    pub if_unmodified_since: &'static str,
    /// Whether a failed If-None-Match / If-Modified-Since answers 304 (reads) or 412 (copies).
    pub not_modified_is_304: bool,
}

pub const READ: Conditions = Conditions {
    if_match: "If-Match",
    if_none_match: "If-None-Match",
    if_modified_since: "If-Modified-Since",
    if_unmodified_since: "If-Unmodified-Since",
    not_modified_is_304: true,
};

pub const COPY_SOURCE: Conditions = Conditions {
    if_match: "x-amz-copy-source-if-match",
    if_none_match: "x-amz-copy-source-if-none-match",
    if_modified_since: "x-amz-copy-source-if-modified-since",
    if_unmodified_since: "x-amz-copy-source-if-unmodified-since",
    not_modified_is_304: false,
};

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

impl Conditions {
    /// Evaluates the conditions against an object's ETag and Last-Modified.
    pub fn check(&self, headers: &HeaderMap, etag: &str, last_modified: Millis) -> S3Result<()> {
        let lm = last_modified.div_euclid(1000);
        let date = |name| {
            header(headers, name)
                .and_then(parse_http_date)
                .map(|d| d / 1000)
        };

        let if_match = header(headers, self.if_match);
        if let Some(list) = if_match {
            if !etag_matches(list, etag) {
                return Err(S3Error::precondition_failed(self.if_match));
            }
        } else if let Some(since) = date(self.if_unmodified_since) {
            if lm > since {
                return Err(S3Error::precondition_failed(self.if_unmodified_since));
            }
        }

        let not_modified = |condition: &str| {
            let mut e = if self.not_modified_is_304 {
                S3Error::new(Code::NotModified)
            } else {
                S3Error::precondition_failed(condition)
            };
            e = e.header("etag", format!("\"{etag}\""));
            if self.not_modified_is_304 {
                e = e.header("last-modified", crate::clock::http_date(last_modified));
            }
            e
        };
        if let Some(list) = header(headers, self.if_none_match) {
            if etag_matches(list, etag) {
                return Err(not_modified(self.if_none_match));
            }
        } else if let Some(since) = date(self.if_modified_since) {
            if lm <= since {
                return Err(not_modified(self.if_modified_since));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut m = HeaderMap::new();
        for (k, v) in pairs {
            m.insert(*k, v.parse().expect("header"));
        }
        m
    }

    const LM: Millis = 1_700_000_000_500; // Tue, 14 Nov 2023 22:13:20 GMT
    const BEFORE: &str = "Tue, 14 Nov 2023 22:13:19 GMT";
    const SAME: &str = "Tue, 14 Nov 2023 22:13:20 GMT";

    #[test]
    fn precedence_follows_aws() {
        // If-Match true + If-Unmodified-Since false → proceed.
        assert!(READ
            .check(
                &h(&[("if-match", "\"e\""), ("if-unmodified-since", BEFORE)]),
                "e",
                LM
            )
            .is_ok());
        assert_eq!(
            READ.check(&h(&[("if-unmodified-since", BEFORE)]), "e", LM)
                .unwrap_err()
                .code,
            Code::PreconditionFailed
        );
        // If-None-Match false (it matches) + If-Modified-Since true → 304.
        assert_eq!(
            READ.check(
                &h(&[("if-none-match", "\"e\""), ("if-modified-since", BEFORE)]),
                "e",
                LM
            )
            .unwrap_err()
            .code,
            Code::NotModified
        );
        assert!(READ
            .check(
                &h(&[("if-none-match", "\"x\""), ("if-modified-since", SAME)]),
                "e",
                LM
            )
            .is_ok());
        assert_eq!(
            READ.check(&h(&[("if-modified-since", SAME)]), "e", LM)
                .unwrap_err()
                .code,
            Code::NotModified
        );
        assert_eq!(
            READ.check(&h(&[("if-match", "\"x\"")]), "e", LM)
                .unwrap_err()
                .code,
            Code::PreconditionFailed
        );
        assert_eq!(
            COPY_SOURCE
                .check(&h(&[("x-amz-copy-source-if-none-match", "\"e\"")]), "e", LM)
                .unwrap_err()
                .code,
            Code::PreconditionFailed
        );
    }
}
