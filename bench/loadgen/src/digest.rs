//! The digests the soak checks answers with: MD5 (ETags, Content-MD5), CRC32
//! (x-amz-checksum-crc32), base64 and hex, from the same crates the server uses.

use base64::Engine;
use md5::{Digest, Md5};

pub fn md5(data: &[u8]) -> [u8; 16] {
    Md5::digest(data).into()
}

/// One core's MD5 speed in MiB/s, with the server's MD5 code: `total` bytes of `chunk`
/// repeated, hashed as one stream (an ETag is one stream: MD5 does not split across cores).
/// The best of two passes, as the machine is shared.
pub fn md5_rate(chunk: &[u8], total: u64) -> f64 {
    let passes = (0..2).map(|_| {
        let started = std::time::Instant::now();
        let mut h = Md5::new();
        let mut left = total;
        while left > 0 {
            let n = left.min(chunk.len() as u64) as usize;
            h.update(&chunk[..n]);
            left -= n as u64;
        }
        std::hint::black_box(h.finalize());
        total as f64 / (1024.0 * 1024.0) / started.elapsed().as_secs_f64()
    });
    passes.fold(0.0, f64::max)
}

pub fn crc32(data: &[u8]) -> u32 {
    crc_fast::checksum(crc_fast::CrcAlgorithm::Crc32IsoHdlc, data) as u32
}

pub fn b64(data: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(data)
}

pub fn hex(data: &[u8]) -> String {
    hex::encode(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        assert_eq!(hex(&md5(b"")), "d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
        assert_eq!(b64(b"hello"), "aGVsbG8=");
        assert!(md5_rate(&[1; 4096], 1 << 20) > 0.0);
    }
}
