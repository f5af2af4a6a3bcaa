//! Request authentication: who sent a request. In `--auth none` (the default) any
//! credentials are accepted and only presigned-URL expiry is checked, on the run's clock; in
//! `enforce` mode SigV4 (header, presigned, chunk and trailer signatures), SigV2 (header and
//! query) and anonymous requests are told apart and verified, yielding a `Principal` that
//! authorization judges. Handlers never look at signatures.

pub mod acl_eval;
pub mod authorize;
pub mod chunk_signature;
pub mod identity;
pub mod policy;
pub mod post_form;
pub mod presign;
pub mod sigv2;
pub mod sigv4;

use crate::clock::{iso8601, Millis};
use crate::error::{Code, S3Error, S3Result};
use crate::server::query::Query;
use crate::server::AppState;
use crate::store::Run;
use http::{HeaderMap, Method};
use identity::{AuthMode, Identity};
use std::sync::Arc;

/// Who a request comes from.
#[derive(Debug, Clone, Default)]
pub enum Principal {
    /// Auth is not enforced: nothing was checked and everything is allowed.
    #[default]
    Unchecked,
    /// No credentials at all.
    Anonymous,
    User(Arc<Identity>),
}

/// What authentication established about a request.
#[derive(Default)]
pub struct Auth {
    pub principal: Principal,
    /// `s3:signatureversion`: `AWS4-HMAC-SHA256` or `AWS` (SigV2).
    pub signature_version: Option<&'static str>,
    /// `s3:authType`: `REST-HEADER` or `REST-QUERY-STRING`.
    pub auth_type: Option<&'static str>,
    /// Where the request came from (`aws:SourceIp`, `aws:SecureTransport`).
    pub peer: crate::server::Peer,
    /// Checks the chunk signatures of a signed streaming body, once attached to it.
    chunks: parking_lot::Mutex<Option<Box<chunk_signature::ChunkVerifier>>>,
}

impl Auth {
    pub fn enforced(&self) -> bool {
        !matches!(self.principal, Principal::Unchecked)
    }

    /// Has the request body's chunk signatures checked as it is read.
    pub fn attach<B>(&self, body: &mut crate::wire::timed_body::TimedBody<B>) {
        if !self.enforced() {
            return;
        }
        if let Some(v) = self.chunks.lock().take() {
            body.observe(v);
        }
    }
}

/// The parts of a request a signature covers.
pub struct SigningFacts<'a> {
    pub method: &'a Method,
    /// The path as sent (still percent-encoded).
    pub raw_path: &'a str,
    pub raw_query: Option<&'a str>,
    pub headers: &'a HeaderMap,
}

/// `%XX` decoded (invalid escapes kept as they are).
pub fn percent_decode(s: &[u8]) -> Vec<u8> {
    percent_encoding::percent_decode(s).collect()
}

/// SigV4's URI encoding: unreserved characters kept, every other byte `%XX`; `/` kept in
/// paths (`slash: false`), encoded in query components.
pub fn uri_encode(bytes: &[u8], slash: bool) -> String {
    let mut out = String::with_capacity(bytes.len() + 8);
    for &b in bytes {
        if b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'_' | b'.' | b'~')
            || (b == b'/' && !slash)
        {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// AWS's allowed clock skew between a signed request and the server.
pub const MAX_SKEW_MS: Millis = 900_000;

fn skewed(sent: &str, at: Millis, now: Millis) -> S3Result<()> {
    if (at - now).abs() > MAX_SKEW_MS {
        let server = iso8601(now);
        return Err(S3Error::new(Code::RequestTimeTooSkewed)
            .extra("RequestTime", sent)
            .extra("ServerTime", format!("{}Z", &server[..19]))
            .extra("MaxAllowedSkewMilliseconds", MAX_SKEW_MS.to_string()));
    }
    Ok(())
}

use crate::wire::headers::value as header;

fn invalid_key(ak: &str) -> S3Error {
    S3Error::new(Code::InvalidAccessKeyId).extra("AWSAccessKeyId", ak)
}

/// Who sent the request (the authenticate stage). `bucket`: the addressed bucket, if any.
pub fn authenticate(
    state: &AppState,
    run: &Run,
    peer: crate::server::Peer,
    method: &Method,
    parts: &http::request::Parts,
    query: &Query,
    bucket: Option<&str>,
) -> S3Result<Auth> {
    let now = run.now();
    presign::check_expiry(query, now)?;
    if run.auth.mode() == AuthMode::None {
        return Ok(Auth::default());
    }
    let facts = SigningFacts {
        method,
        raw_path: parts.uri.path(),
        raw_query: parts.uri.query(),
        headers: &parts.headers,
    };
    let lookup = |ak: &str| {
        identity::lookup(&run.auth, &state.users, &state.config.account_id, ak)
            .ok_or_else(|| invalid_key(ak))
    };
    let authorization = header(&parts.headers, "authorization");
    let v4_query = query.has("X-Amz-Algorithm") || query.has("X-Amz-Credential");
    let v2_query = query.has("AWSAccessKeyId") || query.has("Signature");
    if u8::from(authorization.is_some()) + u8::from(v4_query) + u8::from(v2_query) > 1 {
        return Err(S3Error::invalid_argument(
            "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified",
            "Authorization",
            authorization.unwrap_or(""),
        ));
    }
    let mut auth = Auth {
        peer,
        ..Auth::default()
    };
    if let Some(value) = authorization {
        auth.auth_type = Some("REST-HEADER");
        if value.starts_with("AWS4-HMAC-SHA256") {
            auth.signature_version = Some(sigv4::ALGORITHM);
            let amz_date = header(&parts.headers, "x-amz-date");
            let claim = sigv4::parse_header(value, amz_date)?;
            let id = lookup(&claim.access_key)?;
            let at = match amz_date {
                Some(d) => presign::parse_amz_date(d),
                None => header(&parts.headers, "date").and_then(crate::clock::parse_http_date),
            }
            .ok_or_else(|| {
                S3Error::with_message(
                    Code::AccessDenied,
                    "AWS authentication requires a valid Date or x-amz-date header",
                )
            })?;
            skewed(
                amz_date.or(header(&parts.headers, "date")).unwrap_or(""),
                at,
                now,
            )?;
            check_region(run, bucket, &claim.region)?;
            let payload = header(&parts.headers, "x-amz-content-sha256").ok_or_else(|| {
                S3Error::invalid_request(
                    "Missing required header for this request: x-amz-content-sha256",
                )
            })?;
            let key = sigv4::verify(&facts, &claim, &id.secret_key, payload)?;
            unsigned_headers(&parts.headers, &claim, query)?;
            let trailer = payload == "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER";
            if trailer || payload == "STREAMING-AWS4-HMAC-SHA256-PAYLOAD" {
                *auth.chunks.lock() = Some(Box::new(chunk_signature::ChunkVerifier::new(
                    key,
                    &claim.access_key,
                    &claim.amz_date,
                    &claim.scope(),
                    &claim.signature,
                    trailer,
                )));
            }
            auth.principal = Principal::User(id);
        } else if let Some(rest) = value.strip_prefix("AWS ") {
            auth.signature_version = Some("AWS");
            let (ak, sig) = rest.trim().split_once(':').ok_or_else(|| {
                S3Error::invalid_argument(
                    "AWS authorization header is invalid.  Expected AwsAccessKeyId:signature",
                    "Authorization",
                    value,
                )
            })?;
            let id = lookup(ak)?;
            let (sent, date_line) = match header(&parts.headers, "x-amz-date") {
                Some(d) => (d, ""),
                None => {
                    let d = header(&parts.headers, "date").unwrap_or("");
                    (d, d)
                }
            };
            let at = crate::clock::parse_http_date(sent).ok_or_else(|| {
                S3Error::with_message(
                    Code::AccessDenied,
                    "AWS authentication requires a valid Date or x-amz-date header",
                )
            })?;
            skewed(sent, at, now)?;
            let sts =
                sigv2::string_to_sign(&facts, date_line, &sigv2::resource(facts.raw_path, bucket));
            sigv2::verify(ak, &id.secret_key, &sts, sig)?;
            auth.principal = Principal::User(id);
        } else {
            return Err(S3Error::invalid_argument(
                "Unsupported Authorization Type",
                "Authorization",
                value,
            ));
        }
    } else if v4_query {
        auth.auth_type = Some("REST-QUERY-STRING");
        auth.signature_version = Some(sigv4::ALGORITHM);
        if query.get("X-Amz-Algorithm") != Some(sigv4::ALGORITHM) {
            return Err(S3Error::with_message(
                Code::AuthorizationQueryParametersError,
                "X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\"",
            ));
        }
        let claim = sigv4::parse_query(query)?;
        let id = lookup(&claim.access_key)?;
        let at = presign::parse_amz_date(&claim.amz_date).unwrap_or(now);
        if at - now > MAX_SKEW_MS {
            return Err(S3Error::with_message(
                Code::AccessDenied,
                "Request is not valid yet",
            ));
        }
        check_region(run, bucket, &claim.region)?;
        let payload = header(&parts.headers, "x-amz-content-sha256").unwrap_or("UNSIGNED-PAYLOAD");
        sigv4::verify(&facts, &claim, &id.secret_key, payload)?;
        unsigned_headers(&parts.headers, &claim, query)?;
        auth.principal = Principal::User(id);
    } else if v2_query {
        auth.auth_type = Some("REST-QUERY-STRING");
        auth.signature_version = Some("AWS");
        let (Some(ak), Some(sig), Some(expires)) = (
            query.get("AWSAccessKeyId"),
            query.get("Signature"),
            query.get("Expires"),
        ) else {
            return Err(S3Error::with_message(
                Code::AccessDenied,
                "Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters",
            ));
        };
        let id = lookup(ak)?;
        let sts = sigv2::string_to_sign(&facts, expires, &sigv2::resource(facts.raw_path, bucket));
        sigv2::verify(ak, &id.secret_key, &sts, sig)?;
        auth.principal = Principal::User(id);
    } else {
        auth.principal = Principal::Anonymous;
    }
    Ok(auth)
}

/// S3 refuses `x-amz-*` headers a SigV4 request did not sign (one could have been added in
/// transit), but for `x-amz-content-sha256` and what a presigned URL carries in its query.
fn unsigned_headers(headers: &HeaderMap, claim: &sigv4::Claim, query: &Query) -> S3Result<()> {
    let mut unsigned: Vec<&str> = Vec::new();
    for name in headers.keys() {
        let n = name.as_str();
        if n.starts_with("x-amz-")
            && n != "x-amz-content-sha256"
            && !claim.signed_headers.iter().any(|s| s == n)
            && !(claim.presigned && query.names().any(|q| q.eq_ignore_ascii_case(n)))
            && !unsigned.contains(&n)
        {
            unsigned.push(n);
        }
    }
    if unsigned.is_empty() {
        return Ok(());
    }
    Err(S3Error::with_message(
        Code::AccessDenied,
        "There were headers present in the request which were not signed",
    )
    .extra("HeadersNotSigned", unsigned.join(", ")))
}

/// A request signed for another region than its bucket's.
fn check_region(run: &Run, bucket: Option<&str>, region: &str) -> S3Result<()> {
    let Some(b) = bucket.and_then(|b| run.bucket(b).ok()) else {
        return Ok(());
    };
    let expected = if b.region == "EU" {
        "eu-west-1"
    } else {
        b.region.as_str()
    };
    if region != expected {
        return Err(S3Error::with_message(
            Code::AuthorizationHeaderMalformed,
            format!("The authorization header is malformed; the region '{region}' is wrong; expecting '{expected}'"),
        )
        .extra("Region", expected.to_string()));
    }
    Ok(())
}

/// The region a SigV4 request was signed for (its credential scope,
/// `AKID/20261123/eu-west-1/s3/aws4_request`, from the `Authorization` header or a presigned
/// URL's `X-Amz-Credential`): the region of the endpoint the client meant to reach. `None` for
/// SigV2, SigV4a (no region in the scope) and anonymous requests.
pub fn signing_region<'a>(headers: &'a HeaderMap, query: &'a Query) -> Option<&'a str> {
    let credential =
        match crate::wire::headers::get(headers, "authorization").and_then(|v| v.to_str().ok()) {
            Some(auth) => auth
                .strip_prefix("AWS4-HMAC-SHA256")?
                .split(',')
                .find_map(|part| part.trim().strip_prefix("Credential="))?,
            None => query.get("X-Amz-Credential")?,
        };
    let mut scope = credential.trim().split('/');
    let region = scope.nth(2)?;
    let rest = (scope.next(), scope.next(), scope.next());
    (rest == (Some("s3"), Some("aws4_request"), None)
        && !region.is_empty()
        && region
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-'))
    .then_some(region)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signing_region_from_the_credential_scope() {
        let mut h = HeaderMap::new();
        let none = Query::parse(None);
        assert_eq!(signing_region(&h, &none), None);
        h.insert(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=AK/20261123/eu-west-1/s3/aws4_request, SignedHeaders=host, Signature=00"
                .parse()
                .unwrap(),
        );
        assert_eq!(signing_region(&h, &none), Some("eu-west-1"));
        for bad in [
            "AWS AK:sig",
            "AWS4-HMAC-SHA256 Credential=AK/20261123/s3/aws4_request",
            "AWS4-HMAC-SHA256 Credential=AK/20261123/eu west/s3/aws4_request",
            "AWS4-HMAC-SHA256 Credential=AK/20261123//s3/aws4_request",
            "AWS4-HMAC-SHA256 SignedHeaders=host",
        ] {
            h.insert("authorization", bad.parse().unwrap());
            assert_eq!(signing_region(&h, &none), None, "{bad}");
        }
        let q = Query::parse(Some(
            "X-Amz-Credential=AK%2F20261123%2Fap-south-2%2Fs3%2Faws4_request",
        ));
        assert_eq!(signing_region(&HeaderMap::new(), &q), Some("ap-south-2"));
    }
}
