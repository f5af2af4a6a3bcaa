//! Presigned URLs: checking the expiry of SigV4 (`X-Amz-*`) and SigV2
//! (`AWSAccessKeyId`/`Expires`/`Signature`) query authentication against a run's clock, and
//! generating SigV4 presigned URLs for the admin API.

use crate::clock::{iso8601, Millis};
use crate::error::{Code, S3Error, S3Result};
use crate::server::query::Query;
use hmac::{Hmac, KeyInit, Mac};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use sha2::{Digest, Sha256};

/// Longest validity of a SigV4 presigned URL: seven days.
pub const MAX_EXPIRES_SECS: i64 = 604_800;

fn query_error(message: &str) -> S3Error {
    S3Error::with_message(Code::AuthorizationQueryParametersError, message)
}

/// `20261123T103314Z` → milliseconds.
pub fn parse_amz_date(s: &str) -> Option<Millis> {
    let fmt = time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");
    let t = time::PrimitiveDateTime::parse(s, &fmt).ok()?;
    Some(t.assume_utc().unix_timestamp() * 1000)
}

/// The query parameters of SigV4 query authentication itself (never object headers).
const AUTH_PARAMS: [&str; 7] = [
    "x-amz-algorithm",
    "x-amz-credential",
    "x-amz-date",
    "x-amz-expires",
    "x-amz-signedheaders",
    "x-amz-signature",
    "x-amz-security-token",
];

/// A presigned URL carries the `x-amz-*` headers it signed (`x-amz-meta-*`, `x-amz-acl`,
/// `x-amz-tagging`, …) as query parameters (the SDK presigners hoist them there); S3 applies
/// them as if sent as headers. A header actually sent wins.
pub fn hoist_signed_headers(query: &Query, headers: &mut http::HeaderMap) {
    if !query.has("X-Amz-Signature") && !query.has("Signature") {
        return;
    }
    for name in query.names() {
        let lower = name.to_ascii_lowercase();
        if !lower.starts_with("x-amz-") || AUTH_PARAMS.contains(&lower.as_str()) {
            continue;
        }
        let (Ok(header), Some(value)) = (
            http::HeaderName::from_bytes(lower.as_bytes()),
            query
                .get(name)
                .and_then(|v| http::HeaderValue::from_str(v).ok()),
        ) else {
            continue;
        };
        headers.entry(header).or_insert(value);
    }
}

/// Fails with S3's errors when the request is presigned and expired (or malformed) at `now`.
pub fn check_expiry(query: &Query, now: Millis) -> S3Result<()> {
    if let Some(expires) = query.get("X-Amz-Expires") {
        let secs: i64 = expires
            .trim()
            .parse()
            .map_err(|_| query_error("X-Amz-Expires should be a number"))?;
        if secs < 0 {
            return Err(query_error("X-Amz-Expires must be non-negative"));
        }
        if secs > MAX_EXPIRES_SECS {
            return Err(query_error(
                "X-Amz-Expires must be less than a week (in seconds) that is, the given X-Amz-Expires must be less than 604800 seconds",
            ));
        }
        let date = query.get("X-Amz-Date").unwrap_or("");
        let signed_at = parse_amz_date(date).ok_or_else(|| {
            query_error("X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"")
        })?;
        let expires_at = signed_at + secs * 1000;
        if now > expires_at {
            return Err(
                S3Error::with_message(Code::AccessDenied, "Request has expired")
                    .extra("X-Amz-Expires", secs.to_string())
                    .extra("Expires", iso8601(expires_at))
                    .extra("ServerTime", iso8601(now)),
            );
        }
        return Ok(());
    }
    if query.has("AWSAccessKeyId") && query.has("Signature") {
        let expires = query.get("Expires").unwrap_or("");
        let at: i64 = expires.trim().parse().map_err(|_| {
            S3Error::with_message(Code::AccessDenied, "Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters")
        })?;
        // Seconds beyond the millisecond range are a time that never comes.
        let at_ms = at.saturating_mul(1000);
        if now > at_ms {
            return Err(
                S3Error::with_message(Code::AccessDenied, "Request has expired")
                    .extra("Expires", iso8601(at_ms))
                    .extra("ServerTime", iso8601(now)),
            );
        }
    }
    Ok(())
}

/// RFC 3986 unreserved characters stay; everything else is escaped (SigV4's URI encoding).
const SIGV4: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

fn encode(s: &str) -> String {
    utf8_percent_encode(s, SIGV4).to_string()
}

fn hmac(key: &[u8], data: &str) -> Vec<u8> {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac =
        <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(data.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

/// What to presign.
pub struct PresignRequest<'a> {
    pub method: &'a str,
    /// `http://host:port` as the client will use it.
    pub origin: &'a str,
    /// Path before the bucket, e.g. `/t/run-1`, or empty.
    pub path_prefix: &'a str,
    pub bucket: &'a str,
    pub key: &'a str,
    pub expires_secs: i64,
    pub access_key: &'a str,
    pub secret_key: &'a str,
    pub region: &'a str,
    pub now: Millis,
}

/// A SigV4 presigned URL (path style, `UNSIGNED-PAYLOAD`, only `host` signed), exactly as the
/// AWS SDKs compute it.
pub fn presign_v4(r: &PresignRequest) -> String {
    let amz_date = {
        let iso = iso8601(r.now); // 2026-11-23T10:33:14.000Z
        format!(
            "{}{}{}T{}{}{}Z",
            &iso[0..4],
            &iso[5..7],
            &iso[8..10],
            &iso[11..13],
            &iso[14..16],
            &iso[17..19]
        )
    };
    let day = &amz_date[..8];
    let scope = format!("{day}/{}/s3/aws4_request", r.region);
    let mut path = r.path_prefix.trim_end_matches('/').to_string();
    if !r.bucket.is_empty() {
        path.push('/');
        path.push_str(&encode(r.bucket));
    }
    path.push('/');
    path.push_str(&r.key.split('/').map(encode).collect::<Vec<_>>().join("/"));
    let host = r
        .origin
        .split_once("://")
        .map_or(r.origin, |(_, h)| h)
        .trim_end_matches('/');
    let mut params = [
        ("X-Amz-Algorithm", "AWS4-HMAC-SHA256".to_string()),
        ("X-Amz-Credential", format!("{}/{scope}", r.access_key)),
        ("X-Amz-Date", amz_date.clone()),
        ("X-Amz-Expires", r.expires_secs.to_string()),
        ("X-Amz-SignedHeaders", "host".to_string()),
    ];
    params.sort_by(|a, b| a.0.cmp(b.0));
    let query = params
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&");
    let canonical = format!(
        "{}\n{path}\n{query}\nhost:{host}\n\nhost\nUNSIGNED-PAYLOAD",
        r.method
    );
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
        hex::encode(Sha256::digest(canonical.as_bytes()))
    );
    let k_date = hmac(format!("AWS4{}", r.secret_key).as_bytes(), day);
    let k_region = hmac(&k_date, r.region);
    let k_service = hmac(&k_region, "s3");
    let k_signing = hmac(&k_service, "aws4_request");
    let signature = hex::encode(hmac(&k_signing, &string_to_sign));
    format!(
        "{}{path}?{query}&X-Amz-Signature={signature}",
        r.origin.trim_end_matches('/')
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_is_judged_on_the_given_clock() {
        let q = Query::parse(Some(
            "X-Amz-Date=20261123T100000Z&X-Amz-Expires=3600&X-Amz-Signature=x",
        ));
        let signed = parse_amz_date("20261123T100000Z").expect("date");
        assert!(check_expiry(&q, signed + 3_600_000).is_ok());
        let e = check_expiry(&q, signed + 3_600_001).unwrap_err();
        assert_eq!(
            (e.code, e.message.as_str()),
            (Code::AccessDenied, "Request has expired")
        );
        let week = Query::parse(Some("X-Amz-Date=20261123T100000Z&X-Amz-Expires=604801"));
        assert_eq!(
            check_expiry(&week, signed).unwrap_err().code,
            Code::AuthorizationQueryParametersError
        );
        let v2 = Query::parse(Some("AWSAccessKeyId=a&Signature=s&Expires=1795430400"));
        assert!(check_expiry(&v2, 1_795_430_400_000).is_ok());
        assert!(check_expiry(&v2, 1_795_430_401_000).is_err());
    }

    /// AWS's documented presigned-URL example (S3 SigV4 "Authenticating Requests: Using Query
    /// Parameters"): GET /test.txt on examplebucket, 2013-05-24T00:00:00Z, 86400 s.
    #[test]
    fn matches_the_aws_documentation_example() {
        let url = presign_v4(&PresignRequest {
            method: "GET",
            origin: "https://examplebucket.s3.amazonaws.com",
            path_prefix: "",
            bucket: "",
            key: "test.txt",
            expires_secs: 86400,
            access_key: "AKIAIOSFODNN7EXAMPLE",
            secret_key: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            region: "us-east-1",
            now: 1_369_353_600_000,
        });
        assert!(
            url.ends_with(
                "X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"
            ),
            "{url}"
        );
    }
}
