//! Opaque ids: request ids (`x-amz-request-id`, `x-amz-id-2`), version ids and upload ids, from
//! a splitmix64 stream seeded once per process. Not cryptographic; ids only need to be unique
//! and look like AWS's.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

fn state() -> &'static AtomicU64 {
    static STATE: OnceLock<AtomicU64> = OnceLock::new();
    STATE.get_or_init(|| {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        AtomicU64::new(t ^ ((std::process::id() as u64) << 32))
    })
}

pub fn next_u64() -> u64 {
    let mut z = state()
        .fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed)
        .wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// 16 upper-case hex characters, like S3's `x-amz-request-id`.
pub fn request_id() -> String {
    format!("{:016X}", next_u64())
}

/// A 76-character base64 token, like S3's `x-amz-id-2`.
pub fn host_id() -> String {
    let mut bytes = Vec::with_capacity(57);
    while bytes.len() < 57 {
        bytes.extend_from_slice(&next_u64().to_le_bytes());
    }
    bytes.truncate(57);
    crate::checksum::b64(&bytes)
}

const ID_CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._";

fn random_chars(n: usize) -> String {
    (0..n)
        .map(|_| ID_CHARS[(next_u64() % ID_CHARS.len() as u64) as usize] as char)
        .collect()
}

/// A 32-character object version id, like S3's.
pub fn version_id() -> String {
    random_chars(32)
}

/// Whether `v` has the shape of a `version_id()`.
pub fn is_version_id(v: &str) -> bool {
    v.len() == 32 && v.bytes().all(|b| ID_CHARS.contains(&b))
}

/// The ID S3 gives a lifecycle rule sent without one: 48 characters, the base64 of a random
/// (version 4) UUID's text.
pub fn lifecycle_rule_id() -> String {
    crate::checksum::b64(uuid().as_bytes())
}

/// A random (version 4) UUID's text, lower case.
pub fn uuid() -> String {
    let (a, b) = (next_u64(), next_u64());
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0x0fff,
        ((b >> 48) & 0x3fff) | 0x8000,
        b & 0xffff_ffff_ffff
    )
}

/// A multipart upload id. Ids sort in creation order (a counter prefix), which is the order
/// S3 lists uploads of one key in.
pub fn upload_id() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{n:012X}{}", random_chars(52))
}

#[cfg(test)]
mod tests {
    #[test]
    fn shapes() {
        let r = super::request_id();
        assert_eq!(r.len(), 16);
        assert!(r
            .chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_lowercase()));
        assert_eq!(super::host_id().len(), 76);
        assert_ne!(super::request_id(), super::request_id());
        let id = super::lifecycle_rule_id();
        assert_eq!(id.len(), 48);
        let uuid = crate::checksum::b64_decode(&id).expect("base64");
        assert_eq!((uuid.len(), uuid[14], uuid[8]), (36, b'4', b'-'));
    }
}
