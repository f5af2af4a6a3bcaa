//! Request authentication. Signatures are not verified yet (any credentials are accepted);
//! presigned-URL expiry is always checked, on the run's clock.

pub mod presign;

use crate::server::query::Query;
use http::HeaderMap;

/// The region a SigV4 request was signed for (its credential scope,
/// `AKID/20261123/eu-west-1/s3/aws4_request`, from the `Authorization` header or a presigned
/// URL's `X-Amz-Credential`): the region of the endpoint the client meant to reach. `None` for
/// SigV2, SigV4a (no region in the scope) and anonymous requests.
pub fn signing_region<'a>(headers: &'a HeaderMap, query: &'a Query) -> Option<&'a str> {
    let credential = match headers.get("authorization").and_then(|v| v.to_str().ok()) {
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
