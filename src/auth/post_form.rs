//! The signature of a POST object form (enforce mode): SigV4 (`x-amz-algorithm`,
//! `x-amz-credential`, `x-amz-date`, `x-amz-signature`: the hex HMAC-SHA256 of the base64
//! policy with the SigV4 signing key) or SigV2 (`AWSAccessKeyId`, `signature`: the base64
//! HMAC-SHA1 of the base64 policy). A form without a policy is an anonymous request.

use super::{invalid_key, sigv2, sigv4, Auth, Principal};
use crate::error::{Code, S3Error, S3Result};
use crate::server::{AppState, Peer};
use crate::store::Run;

/// The signature fields of a form, as sent.
#[derive(Default)]
pub struct PostCredentials<'a> {
    /// The base64 policy exactly as sent.
    pub policy: Option<&'a str>,
    /// SigV4: `x-amz-algorithm`, `x-amz-credential`, `x-amz-date`, `x-amz-signature`.
    pub algorithm: Option<&'a str>,
    pub credential: Option<&'a str>,
    pub date: Option<&'a str>,
    pub signature_v4: Option<&'a str>,
    /// SigV2: `AWSAccessKeyId`, `signature`.
    pub access_key_id: Option<&'a str>,
    pub signature_v2: Option<&'a str>,
}

/// S3's answer to a form that has some of a mechanism's fields but not all.
fn missing(name: &str) -> S3Error {
    S3Error::invalid_argument(
        format!(
            "Bucket POST must contain a field named '{name}'.  If it is specified, please check the order of the fields."
        ),
        name,
        "",
    )
}

/// Each field of a mechanism, once any of them is there; `None` when none is.
fn all_or_none<'a, const N: usize>(
    fields: [(&'static str, Option<&'a str>); N],
) -> S3Result<Option<[&'a str; N]>> {
    if fields.iter().all(|(_, v)| v.is_none()) {
        return Ok(None);
    }
    let mut out = [""; N];
    for (slot, (name, value)) in out.iter_mut().zip(fields) {
        *slot = value.ok_or_else(|| missing(name))?;
    }
    Ok(Some(out))
}

/// The policy's signature does not match: S3 shows the policy as the string to sign.
fn mismatch(access_key: &str, policy: &str, provided: &str) -> S3Error {
    S3Error::new(Code::SignatureDoesNotMatch)
        .extra("AWSAccessKeyId", access_key)
        .extra("StringToSign", policy)
        .extra("SignatureProvided", provided)
        .extra("StringToSignBytes", sigv4::spaced_hex(policy))
}

/// Who sent a form. Only called in enforce mode.
pub fn authenticate(
    state: &AppState,
    run: &Run,
    peer: Peer,
    creds: &PostCredentials,
) -> S3Result<Auth> {
    let mut auth = Auth {
        peer,
        auth_type: Some("POST"),
        principal: Principal::Anonymous,
        ..Auth::default()
    };
    let v4 = all_or_none([
        ("X-Amz-Algorithm", creds.algorithm),
        ("X-Amz-Credential", creds.credential),
        ("X-Amz-Date", creds.date),
        ("X-Amz-Signature", creds.signature_v4),
    ])?;
    let v2 = all_or_none([
        ("AWSAccessKeyId", creds.access_key_id),
        ("Signature", creds.signature_v2),
    ])?;
    let Some(policy) = creds.policy else {
        // No policy: nothing is signed, the form is anonymous.
        return Ok(auth);
    };
    let lookup = |ak: &str| {
        super::identity::lookup(&run.auth, &state.users, &state.config.account_id, ak)
            .ok_or_else(|| invalid_key(ak))
    };
    match (v4, v2) {
        (Some([algorithm, credential, _date, signature]), _) => {
            if algorithm != sigv4::ALGORITHM {
                return Err(S3Error::invalid_argument(
                    "Unsupported value for X-Amz-Algorithm: only AWS4-HMAC-SHA256 is supported",
                    "X-Amz-Algorithm",
                    algorithm,
                ));
            }
            // AK/YYYYMMDD/REGION/s3/aws4_request (the key holds no '/').
            let parts: Vec<&str> = credential.rsplitn(5, '/').collect();
            let [terminal, service, region, day, ak] = parts[..] else {
                return Err(malformed_credential(credential));
            };
            let day_ok = day.len() == 8 && day.bytes().all(|b| b.is_ascii_digit());
            if ak.is_empty() || service != "s3" || terminal != "aws4_request" || !day_ok {
                return Err(malformed_credential(credential));
            }
            let id = lookup(ak)?;
            let key = sigv4::signing_key(&id.secret_key, day, region);
            let expected = hex::encode(sigv4::hmac(&key, policy.as_bytes()));
            if expected != signature {
                return Err(mismatch(ak, policy, signature));
            }
            auth.signature_version = Some(sigv4::ALGORITHM);
            auth.principal = Principal::User(id);
        }
        (None, Some([ak, signature])) => {
            let id = lookup(ak)?;
            if sigv2::sign(&id.secret_key, policy) != signature {
                return Err(mismatch(ak, policy, signature));
            }
            auth.signature_version = Some("AWS");
            auth.principal = Principal::User(id);
        }
        // A policy nobody signed grants nothing.
        (None, None) => return Err(S3Error::new(Code::AccessDenied)),
    }
    Ok(auth)
}

fn malformed_credential(credential: &str) -> S3Error {
    S3Error::invalid_argument(
        "Error parsing the X-Amz-Credential parameter; the Credential is mal-formed; expecting \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\".",
        "X-Amz-Credential",
        credential,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mechanism_needs_all_its_fields() {
        assert!(matches!(all_or_none([("A", None), ("B", None)]), Ok(None)));
        let e = all_or_none([("AWSAccessKeyId", None), ("Signature", Some("s"))]).unwrap_err();
        assert_eq!(e.code, Code::InvalidArgument);
        assert!(e.message.contains("'AWSAccessKeyId'"), "{}", e.message);
    }
}
