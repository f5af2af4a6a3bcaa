//! Object integrity algorithms: the `x-amz-checksum-*` family and the MD5 behind ETags.
//! Pure computation, shared by the wire layer (verifying requests) and the store (keeping values).

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use crc_fast::{CrcAlgorithm, Digest as CrcDigest};
use md5::{Digest as _, Md5};
use sha1::Sha1;
use sha2::Sha256;

/// A checksum algorithm S3 accepts in `x-amz-checksum-*` / `x-amz-sdk-checksum-algorithm`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum ChecksumAlgorithm {
    Crc32,
    Crc32c,
    Crc64Nvme,
    Sha1,
    Sha256,
}

impl ChecksumAlgorithm {
    pub const ALL: [ChecksumAlgorithm; 5] = [
        ChecksumAlgorithm::Crc32,
        ChecksumAlgorithm::Crc32c,
        ChecksumAlgorithm::Crc64Nvme,
        ChecksumAlgorithm::Sha1,
        ChecksumAlgorithm::Sha256,
    ];

    /// The name used in `x-amz-sdk-checksum-algorithm` and in XML (`CRC32`, `CRC64NVME`…).
    pub fn name(self) -> &'static str {
        match self {
            ChecksumAlgorithm::Crc32 => "CRC32",
            ChecksumAlgorithm::Crc32c => "CRC32C",
            ChecksumAlgorithm::Crc64Nvme => "CRC64NVME",
            ChecksumAlgorithm::Sha1 => "SHA1",
            ChecksumAlgorithm::Sha256 => "SHA256",
        }
    }

    /// The header carrying the value: `x-amz-checksum-crc32`…
    pub fn header(self) -> &'static str {
        match self {
            ChecksumAlgorithm::Crc32 => "x-amz-checksum-crc32",
            ChecksumAlgorithm::Crc32c => "x-amz-checksum-crc32c",
            ChecksumAlgorithm::Crc64Nvme => "x-amz-checksum-crc64nvme",
            ChecksumAlgorithm::Sha1 => "x-amz-checksum-sha1",
            ChecksumAlgorithm::Sha256 => "x-amz-checksum-sha256",
        }
    }

    /// The XML element name in listings and CopyObjectResult (`ChecksumCRC32`…).
    pub fn xml_element(self) -> &'static str {
        match self {
            ChecksumAlgorithm::Crc32 => "ChecksumCRC32",
            ChecksumAlgorithm::Crc32c => "ChecksumCRC32C",
            ChecksumAlgorithm::Crc64Nvme => "ChecksumCRC64NVME",
            ChecksumAlgorithm::Sha1 => "ChecksumSHA1",
            ChecksumAlgorithm::Sha256 => "ChecksumSHA256",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|a| a.name().eq_ignore_ascii_case(name))
    }

    pub fn from_header(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|a| a.header().eq_ignore_ascii_case(name))
    }

    /// Length of the raw digest in bytes; used to reject malformed base64 values.
    pub fn digest_len(self) -> usize {
        match self {
            ChecksumAlgorithm::Crc32 | ChecksumAlgorithm::Crc32c => 4,
            ChecksumAlgorithm::Crc64Nvme => 8,
            ChecksumAlgorithm::Sha1 => 20,
            ChecksumAlgorithm::Sha256 => 32,
        }
    }

    pub fn hasher(self) -> ChecksumHasher {
        match self {
            ChecksumAlgorithm::Crc32 => {
                ChecksumHasher::Crc32(CrcDigest::new(CrcAlgorithm::Crc32IsoHdlc))
            }
            ChecksumAlgorithm::Crc32c => {
                ChecksumHasher::Crc32c(CrcDigest::new(CrcAlgorithm::Crc32Iscsi))
            }
            ChecksumAlgorithm::Crc64Nvme => {
                ChecksumHasher::Crc64(CrcDigest::new(CrcAlgorithm::Crc64Nvme))
            }
            ChecksumAlgorithm::Sha1 => ChecksumHasher::Sha1(Sha1::new()),
            ChecksumAlgorithm::Sha256 => ChecksumHasher::Sha256(Sha256::new()),
        }
    }
}

/// A running checksum computation.
#[derive(Clone)]
pub enum ChecksumHasher {
    Crc32(CrcDigest),
    Crc32c(CrcDigest),
    Crc64(CrcDigest),
    Sha1(Sha1),
    Sha256(Sha256),
}

impl ChecksumHasher {
    pub fn update(&mut self, data: &[u8]) {
        match self {
            ChecksumHasher::Crc32(d) | ChecksumHasher::Crc32c(d) | ChecksumHasher::Crc64(d) => {
                d.update(data)
            }
            ChecksumHasher::Sha1(h) => h.update(data),
            ChecksumHasher::Sha256(h) => h.update(data),
        }
    }

    /// The raw digest bytes (big-endian for CRCs, as S3 encodes them).
    pub fn finish(self) -> Vec<u8> {
        match self {
            ChecksumHasher::Crc32(d) | ChecksumHasher::Crc32c(d) => {
                (d.finalize() as u32).to_be_bytes().to_vec()
            }
            ChecksumHasher::Crc64(d) => d.finalize().to_be_bytes().to_vec(),
            ChecksumHasher::Sha1(h) => h.finalize().to_vec(),
            ChecksumHasher::Sha256(h) => h.finalize().to_vec(),
        }
    }
}

/// Whether a stored checksum covers the whole object or is a checksum of part checksums.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ChecksumType {
    FullObject,
    Composite,
}

impl ChecksumType {
    pub fn name(self) -> &'static str {
        match self {
            ChecksumType::FullObject => "FULL_OBJECT",
            ChecksumType::Composite => "COMPOSITE",
        }
    }
}

/// A checksum kept with an object: algorithm, base64 value, type.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Checksum {
    pub algorithm: ChecksumAlgorithm,
    /// Inline up to 24 bytes (every CRC; SHA-1 and SHA-256 values are longer): one heap
    /// allocation less for nearly every stored object.
    pub value: compact_str::CompactString,
    pub kind: ChecksumType,
}

impl ChecksumAlgorithm {
    /// Whether a full-object checksum can be combined from part checksums (CRCs only).
    pub fn combinable(self) -> bool {
        matches!(
            self,
            ChecksumAlgorithm::Crc32 | ChecksumAlgorithm::Crc32c | ChecksumAlgorithm::Crc64Nvme
        )
    }

    fn crc_algorithm(self) -> Option<CrcAlgorithm> {
        match self {
            ChecksumAlgorithm::Crc32 => Some(CrcAlgorithm::Crc32IsoHdlc),
            ChecksumAlgorithm::Crc32c => Some(CrcAlgorithm::Crc32Iscsi),
            ChecksumAlgorithm::Crc64Nvme => Some(CrcAlgorithm::Crc64Nvme),
            _ => None,
        }
    }
}

/// The CRC of `a ‖ b` from the CRC of `a`, the CRC of `b` and the length of `b` (raw
/// big-endian digests); `None` for non-CRC algorithms.
pub fn crc_combine(algo: ChecksumAlgorithm, a: &[u8], b: &[u8], len_b: u64) -> Option<Vec<u8>> {
    let crc = algo.crc_algorithm()?;
    let read = |d: &[u8]| d.iter().fold(0u64, |acc, &x| (acc << 8) | x as u64);
    let combined = crc_fast::checksum_combine(crc, read(a), read(b), len_b);
    Some(if algo == ChecksumAlgorithm::Crc64Nvme {
        combined.to_be_bytes().to_vec()
    } else {
        (combined as u32).to_be_bytes().to_vec()
    })
}

pub fn b64(bytes: &[u8]) -> String {
    B64.encode(bytes)
}

/// A digest's base64 as a checksum value: encoded on the stack, kept inline when short.
pub fn b64_value(bytes: &[u8]) -> compact_str::CompactString {
    // Every digest here is at most 32 bytes (44 characters); longer input goes the long way.
    let mut buf = [0u8; 64];
    match B64.encode_slice(bytes, &mut buf) {
        Ok(n) => std::str::from_utf8(&buf[..n]).unwrap_or_default().into(),
        Err(_) => B64.encode(bytes).into(),
    }
}

pub fn b64_decode(s: &str) -> Option<Vec<u8>> {
    B64.decode(s.trim()).ok()
}

pub fn md5_hasher() -> Md5 {
    Md5::new()
}

pub fn md5_digest(data: &[u8]) -> [u8; 16] {
    Md5::digest(data).into()
}

pub fn md5_hex(data: &[u8]) -> String {
    hex::encode(Md5::digest(data))
}

pub fn sha256_hasher() -> Sha256 {
    Sha256::new()
}

pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest_b64(algo: ChecksumAlgorithm, data: &[u8]) -> String {
        let mut h = algo.hasher();
        h.update(data);
        b64(&h.finish())
    }

    #[test]
    fn known_vectors_match_aws_documentation() {
        // "hello world" values as the AWS SDKs compute them.
        assert_eq!(
            digest_b64(ChecksumAlgorithm::Crc32, b"hello world"),
            "DUoRhQ=="
        );
        assert_eq!(
            digest_b64(ChecksumAlgorithm::Crc32c, b"hello world"),
            "yZRlqg=="
        );
        assert_eq!(
            digest_b64(ChecksumAlgorithm::Sha1, b"hello world"),
            "Kq5sNclPz7QV2+lfQIuc6R7oRu0="
        );
        assert_eq!(
            digest_b64(ChecksumAlgorithm::Sha256, b"hello world"),
            "uU0nuZNNPgilLlLX2n2r+sSE7+N6U4DukIj3rOLvzek="
        );
        assert_eq!(
            digest_b64(ChecksumAlgorithm::Crc64Nvme, b"hello world"),
            "jSnVw/bqjr4="
        );
    }

    #[test]
    fn crc_combination_equals_crc_of_concatenation() {
        for algo in [
            ChecksumAlgorithm::Crc32,
            ChecksumAlgorithm::Crc32c,
            ChecksumAlgorithm::Crc64Nvme,
        ] {
            let whole = {
                let mut h = algo.hasher();
                h.update(b"hello world");
                h.finish()
            };
            let part = |d: &[u8]| {
                let mut h = algo.hasher();
                h.update(d);
                h.finish()
            };
            let combined = crc_combine(algo, &part(b"hello"), &part(b" world"), 6).expect("crc");
            assert_eq!(combined, whole, "{algo:?}");
        }
        assert!(crc_combine(ChecksumAlgorithm::Sha256, b"", b"", 0).is_none());
    }

    #[test]
    fn names_round_trip() {
        for a in ChecksumAlgorithm::ALL {
            assert_eq!(ChecksumAlgorithm::from_name(a.name()), Some(a));
            assert_eq!(ChecksumAlgorithm::from_header(a.header()), Some(a));
        }
    }
}
