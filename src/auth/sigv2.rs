//! SigV2: `Authorization: AWS AK:signature` and query authentication
//! (`AWSAccessKeyId`/`Expires`/`Signature`, which boto3 still presigns with for custom
//! endpoints). HMAC-SHA1 over the method, Content-MD5, Content-Type, the date (or
//! `Expires`), the `x-amz-*` headers and the resource with its sub-resources.

use super::sigv4::spaced_hex;
use super::SigningFacts;
use crate::error::{Code, S3Error, S3Result};
use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;

/// Sub-resources and response overrides that are part of the signed resource.
const SIGNED_PARAMS: [&str; 37] = [
    "accelerate",
    "acl",
    "analytics",
    "cors",
    "delete",
    "encryption",
    "inventory",
    "legal-hold",
    "lifecycle",
    "location",
    "logging",
    "metrics",
    "notification",
    "object-lock",
    "ownershipControls",
    "partNumber",
    "policy",
    "policyStatus",
    "publicAccessBlock",
    "replication",
    "requestPayment",
    "response-cache-control",
    "response-content-disposition",
    "response-content-encoding",
    "response-content-language",
    "response-content-type",
    "response-expires",
    "restore",
    "retention",
    "select",
    "tagging",
    "torrent",
    "uploadId",
    "uploads",
    "versionId",
    "versioning",
    "versions",
];

fn header<'a>(facts: &'a SigningFacts, name: &str) -> &'a str {
    facts
        .headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map_or("", str::trim)
}

/// The resource SigV2 signs: `/` for the service, else `/bucket/` and the key as sent,
/// whether the bucket came from the Host header or the path (and behind a `/t/{run}`
/// prefix, which clients keep out of the signature).
pub fn resource(raw_path: &str, bucket: Option<&str>) -> String {
    let Some(b) = bucket else {
        return "/".to_string();
    };
    let mut rest = raw_path;
    if let Some(r) = rest.strip_prefix("/t/") {
        rest = r.find('/').map_or("", |i| &r[i..]);
    }
    let decoded = crate::server::query::decode_path(rest).unwrap_or_default();
    if decoded == format!("/{b}") || decoded.starts_with(&format!("/{b}/")) {
        // Path style: drop the bucket segment as sent (its length encoded may differ).
        let after = rest.trim_start_matches('/');
        rest = after.find('/').map_or("", |i| &after[i..]);
    }
    let key = rest.strip_prefix('/').unwrap_or(rest);
    format!("/{b}/{key}")
}

/// The string to sign; `date` is the Date header (empty when `x-amz-date` is sent) or a
/// presigned URL's `Expires`; `resource` from `resource`.
pub fn string_to_sign(facts: &SigningFacts, date: &str, resource: &str) -> String {
    let mut out = format!(
        "{}\n{}\n{}\n{date}\n",
        facts.method.as_str(),
        header(facts, "content-md5"),
        header(facts, "content-type"),
    );
    let mut amz: Vec<(String, String)> = Vec::new();
    for (name, value) in facts.headers {
        let n = name.as_str();
        if !n.starts_with("x-amz-") {
            continue;
        }
        let v = String::from_utf8_lossy(value.as_bytes()).trim().to_string();
        match amz.iter_mut().find(|(k, _)| k == n) {
            Some((_, existing)) => {
                existing.push(',');
                existing.push_str(&v);
            }
            None => amz.push((n.to_string(), v)),
        }
    }
    amz.sort();
    for (n, v) in amz {
        out.push_str(&format!("{n}:{v}\n"));
    }
    out.push_str(resource);
    let mut params: Vec<(String, Option<String>)> = facts
        .raw_query
        .unwrap_or("")
        .split('&')
        .filter_map(|p| {
            let (k, v) = match p.split_once('=') {
                Some((k, v)) => (k, Some(crate::server::query::decode_component(v))),
                None => (p, None),
            };
            let k = crate::server::query::decode_component(k);
            SIGNED_PARAMS.contains(&k.as_str()).then_some((k, v))
        })
        .collect();
    params.sort();
    for (i, (k, v)) in params.iter().enumerate() {
        out.push(if i == 0 { '?' } else { '&' });
        out.push_str(k);
        if let Some(v) = v {
            out.push('=');
            out.push_str(v);
        }
    }
    out
}

pub fn sign(secret: &str, sts: &str) -> String {
    let mut mac = <Hmac<Sha1> as KeyInit>::new_from_slice(secret.as_bytes())
        .expect("HMAC takes any key length");
    mac.update(sts.as_bytes());
    crate::checksum::b64(&mac.finalize().into_bytes())
}

pub fn verify(access_key: &str, secret: &str, sts: &str, provided: &str) -> S3Result<()> {
    if sign(secret, sts) != provided {
        return Err(S3Error::new(Code::SignatureDoesNotMatch)
            .extra("AWSAccessKeyId", access_key)
            .extra("StringToSign", sts)
            .extra("SignatureProvided", provided)
            .extra("StringToSignBytes", spaced_hex(sts)));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// AWS's documented SigV2 example (Signing and Authenticating REST Requests, Object GET).
    #[test]
    fn aws_documentation_object_get_example() {
        let headers = http::HeaderMap::new();
        let facts = SigningFacts {
            method: &http::Method::GET,
            raw_path: "/photos/puppy.jpg",
            raw_query: None,
            headers: &headers,
        };
        let res = resource(facts.raw_path, Some("awsexamplebucket1"));
        let sts = string_to_sign(&facts, "Tue, 27 Mar 2007 19:36:42 +0000", &res);
        assert_eq!(
            sts,
            "GET\n\n\nTue, 27 Mar 2007 19:36:42 +0000\n/awsexamplebucket1/photos/puppy.jpg"
        );
        assert_eq!(
            sign("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", &sts),
            "qgk2+6Sv9/oM7G3qLEjTH1a1l1g="
        );
        assert_eq!(resource("/t/run-1/bkt", Some("bkt")), "/bkt/");
        assert_eq!(resource("/bkt/a%20b/c", Some("bkt")), "/bkt/a%20b/c");
        assert_eq!(resource("/", None), "/");
    }
}
