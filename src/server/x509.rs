//! The two X.509 certificates `--tls` makes — a local CA and a server leaf signed by it —
//! ECDSA P-256 with SHA-256, written as DER by hand: they are a handful of fixed structures,
//! and a certificate library would add more to the binary than all of this.

use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_ASN1_SIGNING};
use std::io;
use std::net::IpAddr;

// OIDs, as the content bytes of their DER encoding.
const ECDSA_WITH_SHA256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02];
const EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
const PRIME256V1: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
const COMMON_NAME: &[u8] = &[0x55, 0x04, 0x03];
const ORGANIZATION: &[u8] = &[0x55, 0x04, 0x0a];
const SUBJECT_KEY_ID: &[u8] = &[0x55, 0x1d, 0x0e];
const KEY_USAGE: &[u8] = &[0x55, 0x1d, 0x0f];
const SUBJECT_ALT_NAME: &[u8] = &[0x55, 0x1d, 0x11];
const BASIC_CONSTRAINTS: &[u8] = &[0x55, 0x1d, 0x13];
const AUTHORITY_KEY_ID: &[u8] = &[0x55, 0x1d, 0x23];
const EXT_KEY_USAGE: &[u8] = &[0x55, 0x1d, 0x25];
const SERVER_AUTH: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x01];

fn failed(what: &str) -> io::Error {
    io::Error::other(format!("cannot {what}"))
}

/// An ECDSA P-256 key, kept as its PKCS#8 document.
pub struct Key {
    pair: EcdsaKeyPair,
    pkcs8: Vec<u8>,
}

impl Key {
    pub fn generate() -> io::Result<Key> {
        let rng = SystemRandom::new();
        let doc = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng)
            .map_err(|_| failed("generate a key"))?;
        Key::from_pkcs8(doc.as_ref()).ok_or_else(|| failed("load the generated key"))
    }

    /// A PKCS#8 P-256 key (what `generate` makes); `None` for anything else.
    pub fn from_pkcs8(der: &[u8]) -> Option<Key> {
        let pair =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, der, &SystemRandom::new())
                .ok()?;
        Some(Key {
            pair,
            pkcs8: der.to_vec(),
        })
    }

    pub fn pkcs8(&self) -> &[u8] {
        &self.pkcs8
    }

    /// The public point, uncompressed (65 bytes).
    pub fn public(&self) -> &[u8] {
        self.pair.public_key().as_ref()
    }

    /// The key identifier extensions carry: SHA-1 of the public key (RFC 5280, 4.2.1.2).
    fn id(&self) -> Vec<u8> {
        use sha1::Digest;
        sha1::Sha1::digest(self.public()).to_vec()
    }
}

/// What goes into one certificate.
pub struct Spec<'a> {
    pub subject: &'a str,
    pub subject_key: &'a Key,
    pub issuer: &'a str,
    pub issuer_key: &'a Key,
    /// Unix seconds.
    pub not_before: i64,
    pub not_after: i64,
    /// A CA that signs leaves only (path length 0), or a server leaf for `names`.
    pub ca: bool,
    pub names: &'a [String],
}

/// The certificate's DER, signed by `issuer_key`.
pub fn certificate(spec: &Spec<'_>) -> io::Result<Vec<u8>> {
    let mut serial = [0u8; 16];
    SystemRandom::new()
        .fill(&mut serial)
        .map_err(|_| failed("draw a serial number"))?;
    // Positive and never zero.
    serial[0] = (serial[0] & 0x7f) | 0x01;
    let algorithm = tlv(0x30, &tlv(0x06, ECDSA_WITH_SHA256));
    let mut extensions = Vec::new();
    if spec.ca {
        // cA TRUE, pathLenConstraint 0.
        let constraints = tlv(
            0x30,
            &[&[0x01, 0x01, 0xff][..], &[0x02, 0x01, 0x00]].concat(),
        );
        extensions.push(extension(BASIC_CONSTRAINTS, true, &constraints));
        // digitalSignature, keyCertSign, cRLSign.
        extensions.push(extension(KEY_USAGE, true, &[0x03, 0x02, 0x01, 0x86]));
    } else {
        extensions.push(extension(BASIC_CONSTRAINTS, true, &tlv(0x30, &[])));
        // digitalSignature.
        extensions.push(extension(KEY_USAGE, true, &[0x03, 0x02, 0x07, 0x80]));
        let server_auth = tlv(0x30, &tlv(0x06, SERVER_AUTH));
        extensions.push(extension(EXT_KEY_USAGE, false, &server_auth));
        extensions.push(extension(SUBJECT_ALT_NAME, false, &alt_names(spec.names)?));
        let authority = tlv(0x30, &tlv(0x80, &spec.issuer_key.id()));
        extensions.push(extension(AUTHORITY_KEY_ID, false, &authority));
    }
    let subject_id = tlv(0x04, &spec.subject_key.id());
    extensions.push(extension(SUBJECT_KEY_ID, false, &subject_id));

    let public_key = tlv(
        0x30,
        &[
            tlv(
                0x30,
                &[tlv(0x06, EC_PUBLIC_KEY), tlv(0x06, PRIME256V1)].concat(),
            ),
            bit_string(spec.subject_key.public()),
        ]
        .concat(),
    );
    let tbs = tlv(
        0x30,
        &[
            // version v3
            vec![0xa0, 0x03, 0x02, 0x01, 0x02],
            tlv(0x02, &serial),
            algorithm.clone(),
            name(spec.issuer),
            tlv(
                0x30,
                &[time(spec.not_before)?, time(spec.not_after)?].concat(),
            ),
            name(spec.subject),
            public_key,
            tlv(0xa3, &tlv(0x30, &extensions.concat())),
        ]
        .concat(),
    );
    let signature = spec
        .issuer_key
        .pair
        .sign(&SystemRandom::new(), &tbs)
        .map_err(|_| failed("sign the certificate"))?;
    Ok(tlv(
        0x30,
        &[tbs, algorithm, bit_string(signature.as_ref())].concat(),
    ))
}

/// PEM text of a DER document (`CERTIFICATE`, `PRIVATE KEY`).
pub fn pem(label: &str, der: &[u8]) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).unwrap_or_default());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// A DER element: tag, definite length, content.
fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() + 6);
    out.push(tag);
    let n = content.len();
    if n < 0x80 {
        out.push(n as u8);
    } else {
        let bytes = n.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(content);
    out
}

fn bit_string(bytes: &[u8]) -> Vec<u8> {
    tlv(0x03, &[&[0u8][..], bytes].concat())
}

fn extension(oid: &[u8], critical: bool, value: &[u8]) -> Vec<u8> {
    let critical: &[u8] = if critical { &[0x01, 0x01, 0xff] } else { &[] };
    tlv(
        0x30,
        &[tlv(0x06, oid), critical.to_vec(), tlv(0x04, value)].concat(),
    )
}

/// `O=s3twin, CN=<common name>`.
fn name(common_name: &str) -> Vec<u8> {
    let rdn = |oid: &[u8], value: &str| {
        tlv(
            0x31,
            &tlv(
                0x30,
                &[tlv(0x06, oid), tlv(0x0c, value.as_bytes())].concat(),
            ),
        )
    };
    tlv(
        0x30,
        &[rdn(ORGANIZATION, "s3twin"), rdn(COMMON_NAME, common_name)].concat(),
    )
}

/// DNS names (IA5: ASCII letters, digits, `-`, `.`, a leading `*.`) and IP addresses.
fn alt_names(names: &[String]) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    for n in names {
        match n.parse::<IpAddr>() {
            Ok(IpAddr::V4(ip)) => out.extend(tlv(0x87, &ip.octets())),
            Ok(IpAddr::V6(ip)) => out.extend(tlv(0x87, &ip.octets())),
            Err(_) => {
                let host = n.strip_prefix("*.").unwrap_or(n);
                let ok = !host.is_empty()
                    && n.len() <= 253
                    && host
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
                if !ok {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidInput,
                        format!("{n:?} cannot be a name in a TLS certificate"),
                    ));
                }
                out.extend(tlv(0x82, n.as_bytes()));
            }
        }
    }
    Ok(tlv(0x30, &out))
}

/// UTCTime through 2049, GeneralizedTime after (RFC 5280, 4.1.2.5).
fn time(unix: i64) -> io::Result<Vec<u8>> {
    let t = time::OffsetDateTime::from_unix_timestamp(unix)
        .map_err(|_| failed("date the certificate"))?;
    let (y, rest) = (
        t.year(),
        format!(
            "{:02}{:02}{:02}{:02}{:02}Z",
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        ),
    );
    Ok(if (1950..2050).contains(&y) {
        tlv(0x17, format!("{:02}{rest}", y % 100).as_bytes())
    } else {
        tlv(0x18, format!("{y:04}{rest}").as_bytes())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn der_lengths_use_the_short_and_long_forms() {
        assert_eq!(tlv(0x04, &[7; 3])[..2], [0x04, 3]);
        assert_eq!(tlv(0x04, &[0; 200])[..3], [0x04, 0x81, 200]);
        assert_eq!(tlv(0x04, &[0; 300])[..4], [0x04, 0x82, 0x01, 0x2c]);
    }

    #[test]
    fn times_switch_to_generalized_after_2049() {
        assert_eq!(time(0).unwrap(), tlv(0x17, b"700101000000Z"));
        assert_eq!(time(2_524_608_000).unwrap(), tlv(0x18, b"20500101000000Z"));
    }

    #[test]
    fn names_that_cannot_be_in_a_certificate_are_refused() {
        for bad in ["", "*.", "bücher.test", "a b", "x/y"] {
            assert!(alt_names(&[bad.to_string()]).is_err(), "{bad:?}");
        }
        assert!(alt_names(&["*.s3.localhost".into(), "::1".into()]).is_ok());
    }
}
