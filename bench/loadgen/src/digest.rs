//! The digests the soak checks answers with: MD5 (ETags, Content-MD5), CRC32
//! (x-amz-checksum-crc32), base64 and hex, from the same crates the server uses.

use base64::Engine;
use md5::{Digest, Md5};

pub fn md5(data: &[u8]) -> [u8; 16] {
    Md5::digest(data).into()
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
    }
}
