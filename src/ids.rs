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

/// A request's `x-amz-request-id` (16 upper-case hex characters) and `x-amz-id-2` (a
/// 76-character base64 token), as text on the stack: made once per request and copied freely
/// (the context, the request log, event records) without an allocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestIds {
    request: RequestId,
    host: [u8; 76],
}

/// The `x-amz-request-id` alone, as the request log keeps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestId([u8; 16]);

impl Default for RequestId {
    fn default() -> Self {
        RequestId([b'0'; 16])
    }
}

impl RequestId {
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl Default for RequestIds {
    fn default() -> Self {
        RequestIds {
            request: RequestId::default(),
            host: [b'A'; 76],
        }
    }
}

impl RequestIds {
    pub fn new() -> RequestIds {
        use base64::Engine;
        const HEX: &[u8; 16] = b"0123456789ABCDEF";
        let mut ids = RequestIds::default();
        let r = next_u64();
        for (i, slot) in ids.request.0.iter_mut().enumerate() {
            *slot = HEX[((r >> (60 - 4 * i)) & 0xf) as usize];
        }
        let mut raw = [0u8; 64];
        for chunk in raw.chunks_exact_mut(8) {
            chunk.copy_from_slice(&next_u64().to_le_bytes());
        }
        // 57 bytes are exactly 76 base64 characters, without padding.
        let written = base64::engine::general_purpose::STANDARD
            .encode_slice(&raw[..57], &mut ids.host)
            .unwrap_or(0);
        debug_assert_eq!(written, 76);
        ids
    }

    pub fn request_id(&self) -> &str {
        self.request.as_str()
    }

    pub fn request(&self) -> RequestId {
        self.request
    }

    pub fn host_id(&self) -> &str {
        std::str::from_utf8(&self.host).unwrap_or_default()
    }
}

/// 16 upper-case hex characters, like S3's `x-amz-request-id`.
pub fn request_id() -> String {
    RequestIds::new().request_id().to_string()
}

/// A 76-character base64 token, like S3's `x-amz-id-2`.
pub fn host_id() -> String {
    RequestIds::new().host_id().to_string()
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
