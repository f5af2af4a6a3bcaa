//! Conditional requests with AWS's precedence: If-Match beats If-Unmodified-Since, and
//! If-None-Match beats If-Modified-Since. Dates compare at second resolution, like the
//! Last-Modified header they are taken from; a date after the run's `now` is ignored, as AWS
//! (and RFC 9110) ignore it. Conditional writes (If-Match / If-None-Match on PUT, copy and
//! Complete) are `WriteConditions`.

use crate::clock::{parse_http_date, Millis};
use crate::error::{Code, S3Error, S3Result};
use crate::store::Object;
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

/// Spelled as AWS names them in a PreconditionFailed `Condition` (lookups ignore case).
pub const COPY_SOURCE: Conditions = Conditions {
    if_match: "x-amz-copy-source-If-Match",
    if_none_match: "x-amz-copy-source-If-None-Match",
    if_modified_since: "x-amz-copy-source-If-Modified-Since",
    if_unmodified_since: "x-amz-copy-source-If-Unmodified-Since",
    not_modified_is_304: false,
};

use crate::wire::headers::value as header;

impl Conditions {
    /// Evaluates the conditions against an object's ETag and Last-Modified.
    pub fn check(
        &self,
        headers: &HeaderMap,
        etag: &str,
        last_modified: Millis,
        now: Millis,
    ) -> S3Result<()> {
        let lm = last_modified.div_euclid(1000);
        let now = now.div_euclid(1000);
        let date = |name| {
            header(headers, name)
                .and_then(parse_http_date)
                .map(|d| d.div_euclid(1000))
                .filter(|d| *d <= now)
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

/// If-Match / If-None-Match on a write (PutObject, CopyObject's destination,
/// CompleteMultipartUpload), checked against the key's current version under the bucket lock.
pub struct WriteConditions {
    if_match: Option<String>,
    if_none_match: bool,
}

impl WriteConditions {
    /// Reads the headers; If-None-Match takes only `*`, as AWS: anything else is 501.
    pub fn from_headers(headers: &HeaderMap) -> S3Result<WriteConditions> {
        let if_none_match = match header(headers, "if-none-match") {
            Some(v) if v.trim() == "*" => true,
            Some(_) => {
                return Err(S3Error::not_implemented(
                    "A header you provided implies functionality that is not implemented",
                )
                .extra("Header", "If-None-Match"))
            }
            None => false,
        };
        Ok(WriteConditions {
            if_match: header(headers, "if-match").map(str::to_string),
            if_none_match,
        })
    }

    pub fn is_empty(&self) -> bool {
        self.if_match.is_none() && !self.if_none_match
    }

    /// The condition's header, as a `Condition` element names it.
    pub fn name(&self) -> &'static str {
        if self.if_none_match {
            "If-None-Match"
        } else {
            "If-Match"
        }
    }

    /// `current` is the key's current version (None if missing or a delete marker).
    pub fn check(&self, key: &str, current: Option<&Object>) -> S3Result<()> {
        if self.if_none_match && current.is_some() {
            return Err(S3Error::precondition_failed("If-None-Match"));
        }
        if let Some(list) = &self.if_match {
            let current = current.ok_or_else(|| S3Error::no_such_key(key))?;
            if !etag_matches(list, &current.etag.to_string()) {
                return Err(S3Error::precondition_failed("If-Match"));
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
    const NOW: Millis = LM + 60_000;

    #[test]
    fn precedence_follows_aws() {
        // If-Match true + If-Unmodified-Since false → proceed.
        assert!(READ
            .check(
                &h(&[("if-match", "\"e\""), ("if-unmodified-since", BEFORE)]),
                "e",
                LM,
                NOW
            )
            .is_ok());
        assert_eq!(
            READ.check(&h(&[("if-unmodified-since", BEFORE)]), "e", LM, NOW)
                .unwrap_err()
                .code,
            Code::PreconditionFailed
        );
        // If-None-Match false (it matches) + If-Modified-Since true → 304.
        assert_eq!(
            READ.check(
                &h(&[("if-none-match", "\"e\""), ("if-modified-since", BEFORE)]),
                "e",
                LM,
                NOW
            )
            .unwrap_err()
            .code,
            Code::NotModified
        );
        assert!(READ
            .check(
                &h(&[("if-none-match", "\"x\""), ("if-modified-since", SAME)]),
                "e",
                LM,
                NOW
            )
            .is_ok());
        assert_eq!(
            READ.check(&h(&[("if-modified-since", SAME)]), "e", LM, NOW)
                .unwrap_err()
                .code,
            Code::NotModified
        );
        assert_eq!(
            READ.check(&h(&[("if-match", "\"x\"")]), "e", LM, NOW)
                .unwrap_err()
                .code,
            Code::PreconditionFailed
        );
        assert_eq!(
            COPY_SOURCE
                .check(
                    &h(&[("x-amz-copy-source-if-none-match", "\"e\"")]),
                    "e",
                    LM,
                    NOW
                )
                .unwrap_err()
                .code,
            Code::PreconditionFailed
        );
        // A date after now is ignored: If-Modified-Since in the future is not a 304.
        let future = "Tue, 14 Nov 2023 22:20:00 GMT";
        assert!(READ
            .check(&h(&[("if-modified-since", future)]), "e", LM, NOW)
            .is_ok());
        assert!(READ
            .check(&h(&[("if-unmodified-since", future)]), "e", LM, NOW)
            .is_ok());
    }
}
