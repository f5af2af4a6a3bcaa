//! SigV4 verification as S3 does it: the `Authorization` header and presigned URLs
//! (`X-Amz-*` query parameters). The canonical request follows S3's rules: the path decoded
//! and URI-encoded once (no normalization of `.`/`..`/`//`), query pairs decoded, re-encoded
//! and sorted by key then value, signed header values trimmed with inner whitespace folded
//! and repeated headers joined by commas.

use super::{percent_decode, uri_encode, SigningFacts};
use crate::error::{Code, S3Error, S3Result};
use hmac::{Hmac, KeyInit, Mac};
use parking_lot::Mutex;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::OnceLock;

pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";

pub fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    // HMAC takes keys of any length.
    let mut mac =
        <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(data);
    mac.finalize().into_bytes().into()
}

pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

type KeyCache = Mutex<HashMap<(String, String, String), [u8; 32]>>;

/// Derived signing keys, per (secret, date, region): four HMACs saved per request. Bounded:
/// cleared when full (a day's keys are rebuilt on the next request).
fn key_cache() -> &'static KeyCache {
    static CACHE: OnceLock<KeyCache> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}
const KEY_CACHE_MAX: usize = 1024;

/// `kSigning` for `secret` on `day` (YYYYMMDD) in `region`, for S3.
pub fn signing_key(secret: &str, day: &str, region: &str) -> [u8; 32] {
    let id = (secret.to_string(), day.to_string(), region.to_string());
    if let Some(k) = key_cache().lock().get(&id) {
        return *k;
    }
    let k_date = hmac(format!("AWS4{secret}").as_bytes(), day.as_bytes());
    let k_region = hmac(&k_date, region.as_bytes());
    let k_service = hmac(&k_region, b"s3");
    let key = hmac(&k_service, b"aws4_request");
    let mut cache = key_cache().lock();
    if cache.len() >= KEY_CACHE_MAX {
        cache.clear();
    }
    cache.insert(id, key);
    key
}

/// What a SigV4 request claims: the parts of its credential and its signature.
#[derive(Debug, Clone)]
pub struct Claim {
    pub access_key: String,
    pub day: String,
    pub region: String,
    pub service: String,
    pub terminal: String,
    pub signed_headers: Vec<String>,
    pub signature: String,
    /// `x-amz-date` / `X-Amz-Date`: `20261123T103314Z`.
    pub amz_date: String,
    /// Presigned (query) rather than header authentication.
    pub presigned: bool,
}

impl Claim {
    pub fn scope(&self) -> String {
        format!(
            "{}/{}/{}/{}",
            self.day, self.region, self.service, self.terminal
        )
    }
}

fn header_malformed(detail: &str) -> S3Error {
    S3Error::with_message(
        Code::AuthorizationHeaderMalformed,
        format!("The authorization header is malformed; {detail}"),
    )
}

fn query_error(message: &str) -> S3Error {
    S3Error::with_message(Code::AuthorizationQueryParametersError, message)
}

/// `AK/20261123/us-east-1/s3/aws4_request` → its five parts (the key may not hold `/`).
fn split_credential(c: &str) -> Option<[&str; 5]> {
    let mut it = c.rsplitn(5, '/');
    let terminal = it.next()?;
    let service = it.next()?;
    let region = it.next()?;
    let day = it.next()?;
    let ak = it.next()?;
    Some([ak, day, region, service, terminal])
}

const CREDENTIAL_SHAPE: &str =
    "the Credential is mal-formed; expecting \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\".";

/// Parses `AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`.
pub fn parse_header(value: &str, amz_date: Option<&str>) -> S3Result<Claim> {
    let rest = value
        .strip_prefix(ALGORITHM)
        .filter(|r| r.starts_with(' '))
        .ok_or_else(|| header_malformed("the authorization header requires three components: Credential, SignedHeaders, and Signature."))?;
    let (mut credential, mut signed, mut signature) = (None, None, None);
    for part in rest.split(',') {
        let part = part.trim();
        if let Some(v) = part.strip_prefix("Credential=") {
            credential = Some(v.trim());
        } else if let Some(v) = part.strip_prefix("SignedHeaders=") {
            signed = Some(v.trim());
        } else if let Some(v) = part.strip_prefix("Signature=") {
            signature = Some(v.trim());
        }
    }
    let (Some(credential), Some(signed), Some(signature)) = (credential, signed, signature) else {
        return Err(header_malformed(
            "the authorization header requires three components: Credential, SignedHeaders, and Signature.",
        ));
    };
    let parts = split_credential(credential).ok_or_else(|| header_malformed(CREDENTIAL_SHAPE))?;
    let amz_date = amz_date.unwrap_or("").to_string();
    claim(parts, signed, signature, amz_date, false, header_malformed)
}

fn claim(
    [ak, day, region, service, terminal]: [&str; 5],
    signed: &str,
    signature: &str,
    amz_date: String,
    presigned: bool,
    err: fn(&str) -> S3Error,
) -> S3Result<Claim> {
    if ak.is_empty() || day.len() != 8 || !day.bytes().all(|b| b.is_ascii_digit()) {
        return Err(err(CREDENTIAL_SHAPE));
    }
    if service != "s3" {
        return Err(err(&format!(
            "incorrect service \"{service}\". This endpoint belongs to \"s3\"."
        )));
    }
    if terminal != "aws4_request" {
        return Err(err(&format!(
            "incorrect terminal \"{terminal}\". This endpoint uses \"aws4_request\"."
        )));
    }
    if !amz_date.is_empty() && !amz_date.starts_with(day) {
        return Err(err(
            "Invalid credential date. Date is not the same as X-Amz-Date.",
        ));
    }
    Ok(Claim {
        access_key: ak.to_string(),
        day: day.to_string(),
        region: region.to_string(),
        service: service.to_string(),
        terminal: terminal.to_string(),
        signed_headers: signed.split(';').map(str::to_ascii_lowercase).collect(),
        signature: signature.to_string(),
        amz_date,
        presigned,
    })
}

/// Parses the `X-Amz-*` parameters of a presigned URL (algorithm already checked).
pub fn parse_query(q: &crate::server::query::Query) -> S3Result<Claim> {
    let (Some(credential), Some(signed), Some(signature), Some(date)) = (
        q.get("X-Amz-Credential"),
        q.get("X-Amz-SignedHeaders"),
        q.get("X-Amz-Signature"),
        q.get("X-Amz-Date"),
    ) else {
        return Err(query_error("Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters."));
    };
    if !q.has("X-Amz-Expires") {
        return Err(query_error("Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters."));
    }
    let parts = split_credential(credential).ok_or_else(|| {
        query_error("Error parsing the X-Amz-Credential parameter; the Credential is mal-formed; expecting \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\".")
    })?;
    claim(parts, signed, signature, date.to_string(), true, |d| {
        query_error(&format!(
            "Error parsing the X-Amz-Credential parameter; {d}"
        ))
    })
}

/// Collapses runs of spaces and trims, as SigV4 canonicalizes header values.
fn fold(value: &[u8]) -> String {
    let text = String::from_utf8_lossy(value);
    let mut out = String::with_capacity(text.len());
    for word in text.split([' ', '\t']).filter(|w| !w.is_empty()) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// The canonical request for `facts` under `claim`.
pub fn canonical_request(facts: &SigningFacts, claim: &Claim, payload: &str) -> String {
    let mut out = String::with_capacity(512);
    out.push_str(facts.method.as_str());
    out.push('\n');
    // S3: the path decoded and encoded once, '/' kept.
    let path = percent_decode(facts.raw_path.as_bytes());
    out.push_str(&uri_encode(&path, false));
    out.push('\n');
    let mut pairs: Vec<(String, String)> = facts
        .raw_query
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
        .filter_map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            let k = uri_encode(&percent_decode(k.as_bytes()), true);
            (!(claim.presigned && k == "X-Amz-Signature"))
                .then(|| (k, uri_encode(&percent_decode(v.as_bytes()), true)))
        })
        .collect();
    pairs.sort();
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(k);
        out.push('=');
        out.push_str(v);
    }
    out.push('\n');
    for name in &claim.signed_headers {
        out.push_str(name);
        out.push(':');
        let mut first = true;
        for v in facts.headers.get_all(name.as_str()) {
            if !first {
                out.push(',');
            }
            first = false;
            out.push_str(&fold(v.as_bytes()));
        }
        out.push('\n');
    }
    out.push('\n');
    out.push_str(&claim.signed_headers.join(";"));
    out.push('\n');
    out.push_str(payload);
    out
}

pub fn string_to_sign(claim: &Claim, canonical: &str) -> String {
    format!(
        "{ALGORITHM}\n{}\n{}\n{}",
        claim.amz_date,
        claim.scope(),
        sha256_hex(canonical.as_bytes())
    )
}

/// `41 57 53 …`: how S3 shows the bytes of a string in an error.
pub fn spaced_hex(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for (i, b) in s.bytes().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// `20261123T103314Z`: SigV4's timestamp of an instant.
pub fn amz_date(at: crate::clock::Millis) -> String {
    let t = crate::clock::iso8601(at);
    let digits: String = t[..19].chars().filter(char::is_ascii_digit).collect();
    format!("{}T{}Z", &digits[..8], &digits[8..])
}

/// Signs a request as an SDK does (the `Authorization` header value): every header in
/// `facts` is signed; `x-amz-date` and `x-amz-content-sha256` must be among them.
pub fn sign_request(
    facts: &SigningFacts,
    access_key: &str,
    secret: &str,
    region: &str,
    amz_date: &str,
) -> String {
    let mut signed: Vec<String> = facts
        .headers
        .keys()
        .map(|n| n.as_str().to_string())
        .collect();
    signed.sort();
    signed.dedup();
    let day = amz_date.get(..8).unwrap_or("").to_string();
    let claim = Claim {
        access_key: access_key.to_string(),
        day,
        region: region.to_string(),
        service: "s3".to_string(),
        terminal: "aws4_request".to_string(),
        signed_headers: signed,
        signature: String::new(),
        amz_date: amz_date.to_string(),
        presigned: false,
    };
    let payload = facts
        .headers
        .get("x-amz-content-sha256")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("UNSIGNED-PAYLOAD");
    let canonical = canonical_request(facts, &claim, payload);
    let sts = string_to_sign(&claim, &canonical);
    let key = signing_key(secret, &claim.day, region);
    format!(
        "{ALGORITHM} Credential={access_key}/{}, SignedHeaders={}, Signature={}",
        claim.scope(),
        claim.signed_headers.join(";"),
        hex::encode(hmac(&key, sts.as_bytes()))
    )
}

/// Checks the signature; returns the signing key (for chunk signatures).
pub fn verify(
    facts: &SigningFacts,
    claim: &Claim,
    secret: &str,
    payload: &str,
) -> S3Result<[u8; 32]> {
    let canonical = canonical_request(facts, claim, payload);
    let sts = string_to_sign(claim, &canonical);
    let key = signing_key(secret, &claim.day, &claim.region);
    let expected = hex::encode(hmac(&key, sts.as_bytes()));
    if expected != claim.signature {
        return Err(S3Error::new(Code::SignatureDoesNotMatch)
            .extra("AWSAccessKeyId", claim.access_key.clone())
            .extra("StringToSign", sts.clone())
            .extra("SignatureProvided", claim.signature.clone())
            .extra("StringToSignBytes", spaced_hex(&sts))
            .extra("CanonicalRequest", canonical.clone())
            .extra("CanonicalRequestBytes", spaced_hex(&canonical)));
    }
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// AWS's documented example (S3 SigV4 "Authenticating Requests: Using the Authorization
    /// Header", GET Object with a Range).
    #[test]
    fn aws_documentation_get_object_example() {
        let mut headers = http::HeaderMap::new();
        headers.insert("host", "examplebucket.s3.amazonaws.com".parse().unwrap());
        headers.insert("range", "bytes=0-9".parse().unwrap());
        let empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        headers.insert("x-amz-content-sha256", empty.parse().unwrap());
        headers.insert("x-amz-date", "20130524T000000Z".parse().unwrap());
        let facts = SigningFacts {
            method: &http::Method::GET,
            raw_path: "/test.txt",
            raw_query: None,
            headers: &headers,
        };
        let claim = parse_header(
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
            Some("20130524T000000Z"),
        )
        .expect("parses");
        assert!(verify(
            &facts,
            &claim,
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            empty
        )
        .is_ok());
        let e = verify(&facts, &claim, "wrong", empty).unwrap_err();
        assert_eq!(e.code, Code::SignatureDoesNotMatch);
        assert_eq!(
            e.extras[0],
            ("AWSAccessKeyId", "AKIAIOSFODNN7EXAMPLE".to_string())
        );
    }

    /// The signer gives AWS's documented example its documented signature.
    #[test]
    fn signing_reproduces_the_documented_example() {
        let mut headers = http::HeaderMap::new();
        headers.insert("host", "examplebucket.s3.amazonaws.com".parse().unwrap());
        headers.insert("range", "bytes=0-9".parse().unwrap());
        let empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        headers.insert("x-amz-content-sha256", empty.parse().unwrap());
        headers.insert("x-amz-date", "20130524T000000Z".parse().unwrap());
        let facts = SigningFacts {
            method: &http::Method::GET,
            raw_path: "/test.txt",
            raw_query: None,
            headers: &headers,
        };
        assert_eq!(
            sign_request(
                &facts,
                "AKIAIOSFODNN7EXAMPLE",
                "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                "us-east-1",
                "20130524T000000Z"
            ),
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
        );
        assert_eq!(amz_date(1_369_353_600_000), "20130524T000000Z");
    }

    #[test]
    fn malformed_headers() {
        for bad in [
            "AWS4-HMAC-SHA256 Credential=AK/20130524/us-east-1/s3/aws4_request",
            "AWS4-HMAC-SHA256 Credential=AK/2013/us-east-1/s3/aws4_request,SignedHeaders=host,Signature=00",
            "AWS4-HMAC-SHA256 Credential=AK/20130524/us-east-1/ec2/aws4_request,SignedHeaders=host,Signature=00",
        ] {
            assert_eq!(
                parse_header(bad, Some("20130524T000000Z")).unwrap_err().code,
                Code::AuthorizationHeaderMalformed,
                "{bad}"
            );
        }
    }
}
