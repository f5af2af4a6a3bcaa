//! Chunk signatures of `STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]` bodies: each chunk's
//! signature chains from the previous one (the first from the request's seed signature), and
//! the trailer's from the last chunk's. Watches the raw aws-chunked bytes as they pass
//! (`wire::timed_body::Observer`); the framing itself is decoded by `wire::aws_chunked`.

use super::sigv4::{hmac, sha256_hex, spaced_hex};
use crate::error::{Code, S3Error};
use crate::wire::aws_chunked::MAX_LINE;
use crate::wire::timed_body::{BoxError, Observer, Refused};
use bytes::Bytes;
use sha2::{Digest, Sha256};

const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

enum State {
    Size,
    Data(u64),
    DataEnd(u8),
    Trailer,
    Done,
}

pub struct ChunkVerifier {
    key: [u8; 32],
    access_key: String,
    amz_date: String,
    scope: String,
    previous: String,
    trailer: bool,
    state: State,
    line: Vec<u8>,
    hasher: Sha256,
    /// The signature the current chunk claims.
    claimed: String,
    trailers: Vec<(String, String)>,
    trailer_signature: Option<String>,
}

impl ChunkVerifier {
    pub fn new(
        key: [u8; 32],
        access_key: &str,
        amz_date: &str,
        scope: &str,
        seed: &str,
        trailer: bool,
    ) -> Self {
        ChunkVerifier {
            key,
            access_key: access_key.to_string(),
            amz_date: amz_date.to_string(),
            scope: scope.to_string(),
            previous: seed.to_string(),
            trailer,
            state: State::Size,
            line: Vec::new(),
            hasher: Sha256::new(),
            claimed: String::new(),
            trailers: Vec::new(),
            trailer_signature: None,
        }
    }

    fn mismatch(&self, sts: &str, provided: &str) -> BoxError {
        Box::new(Refused(
            S3Error::new(Code::SignatureDoesNotMatch)
                .extra("AWSAccessKeyId", self.access_key.clone())
                .extra("StringToSign", sts.to_string())
                .extra("SignatureProvided", provided.to_string())
                .extra("StringToSignBytes", spaced_hex(sts)),
        ))
    }

    fn check(&mut self, algorithm: &str, hash: &str, provided: &str) -> Result<(), BoxError> {
        let sts = format!(
            "{algorithm}\n{}\n{}\n{}\n{hash}",
            self.amz_date, self.scope, self.previous
        );
        let expected = hex::encode(hmac(&self.key, sts.as_bytes()));
        if expected != provided {
            return Err(self.mismatch(&sts, provided));
        }
        self.previous = expected;
        Ok(())
    }

    fn end_chunk(&mut self) -> Result<(), BoxError> {
        let data = hex::encode(std::mem::take(&mut self.hasher).finalize());
        let claimed = std::mem::take(&mut self.claimed);
        self.check(
            "AWS4-HMAC-SHA256-PAYLOAD",
            &format!("{EMPTY_SHA256}\n{data}"),
            &claimed,
        )
    }

    fn end_trailer(&mut self) -> Result<(), BoxError> {
        self.state = State::Done;
        if !self.trailer {
            return Ok(());
        }
        let mut sorted = std::mem::take(&mut self.trailers);
        sorted.sort();
        let canonical: String = sorted.iter().map(|(n, v)| format!("{n}:{v}\n")).collect();
        let provided = self.trailer_signature.take().unwrap_or_default();
        self.check(
            "AWS4-HMAC-SHA256-TRAILER",
            &sha256_hex(canonical.as_bytes()),
            &provided,
        )
    }

    /// One complete line (CR stripped).
    fn line(&mut self, line: &[u8]) -> Result<(), BoxError> {
        let text = String::from_utf8_lossy(line);
        match self.state {
            State::Size => {
                let (size, ext) = text.split_once(';').unwrap_or((&text, ""));
                // A bad size line is the decoder's to report.
                let size = u64::from_str_radix(size.trim(), 16).unwrap_or(0);
                self.claimed = ext
                    .trim()
                    .strip_prefix("chunk-signature=")
                    .unwrap_or("")
                    .to_string();
                if size == 0 {
                    self.end_chunk()?;
                    self.state = State::Trailer;
                } else {
                    self.state = State::Data(size);
                }
            }
            State::Trailer if text.is_empty() => self.end_trailer()?,
            State::Trailer => {
                let (name, value) = text.split_once(':').unwrap_or((&text, ""));
                let name = name.trim().to_ascii_lowercase();
                if name == "x-amz-trailer-signature" {
                    self.trailer_signature = Some(value.trim().to_string());
                } else if self.trailers.len() < crate::wire::aws_chunked::MAX_TRAILERS {
                    self.trailers.push((name, value.trim().to_string()));
                }
            }
            _ => {}
        }
        Ok(())
    }
}

impl Observer for ChunkVerifier {
    fn observe(&mut self, data: &Bytes) -> Result<(), BoxError> {
        let mut input: &[u8] = data;
        while !input.is_empty() {
            match self.state {
                State::Size | State::Trailer => match input.iter().position(|b| *b == b'\n') {
                    Some(i) => {
                        if self.line.len() + i > MAX_LINE {
                            return Ok(()); // the decoder refuses it
                        }
                        self.line.extend_from_slice(&input[..i]);
                        input = &input[i + 1..];
                        let mut line = std::mem::take(&mut self.line);
                        if line.last() == Some(&b'\r') {
                            line.pop();
                        }
                        self.line(&line)?;
                    }
                    None => {
                        if self.line.len() + input.len() > MAX_LINE {
                            return Ok(());
                        }
                        self.line.extend_from_slice(input);
                        input = &[];
                    }
                },
                State::Data(left) => {
                    let take = left.min(input.len() as u64) as usize;
                    self.hasher.update(&input[..take]);
                    input = &input[take..];
                    let left = left - take as u64;
                    if left == 0 {
                        self.end_chunk()?;
                        self.state = State::DataEnd(0);
                    } else {
                        self.state = State::Data(left);
                    }
                }
                State::DataEnd(seen) => {
                    input = &input[1..];
                    self.state = if seen == 0 {
                        State::DataEnd(1)
                    } else {
                        State::Size
                    };
                }
                State::Done => return Ok(()),
            }
        }
        Ok(())
    }

    fn end(&mut self) -> Result<(), BoxError> {
        match self.state {
            // A trailer section cut before its blank line (the decoder accepts it too).
            State::Trailer => {
                if !self.line.is_empty() {
                    let mut line = std::mem::take(&mut self.line);
                    if line.last() == Some(&b'\r') {
                        line.pop();
                    }
                    self.line(&line)?;
                }
                self.end_trailer()
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// AWS's documented example ("Signature Calculations for the Authorization Header:
    /// Transferring Payload in Multiple Chunks"): 64 KiB + 1 KiB of 'a', seed signature
    /// 4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9.
    #[test]
    fn aws_documentation_chunked_example() {
        let key = super::super::sigv4::signing_key(
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "20130524",
            "us-east-1",
        );
        let mut v = ChunkVerifier::new(
            key,
            "AKIAIOSFODNN7EXAMPLE",
            "20130524T000000Z",
            "20130524/us-east-1/s3/aws4_request",
            "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9",
            false,
        );
        let mut wire = Vec::new();
        wire.extend_from_slice(b"10000;chunk-signature=ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648\r\n");
        wire.extend(std::iter::repeat_n(b'a', 65536));
        wire.extend_from_slice(b"\r\n400;chunk-signature=0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497\r\n");
        wire.extend(std::iter::repeat_n(b'a', 1024));
        wire.extend_from_slice(b"\r\n0;chunk-signature=b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9\r\n\r\n");
        for piece in wire.chunks(1000) {
            v.observe(&Bytes::copy_from_slice(piece))
                .expect("valid chunk");
        }
        v.end().expect("ends");
        // One byte changed: refused.
        let mut v2 = ChunkVerifier::new(
            key,
            "AKIAIOSFODNN7EXAMPLE",
            "20130524T000000Z",
            "20130524/us-east-1/s3/aws4_request",
            "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9",
            false,
        );
        wire[200] = b'b';
        assert!(v2.observe(&Bytes::from(wire)).is_err());
    }
}

#[cfg(test)]
mod trailer_tests {
    use super::*;

    #[test]
    fn a_wrong_trailer_signature_is_refused() {
        let key = [7u8; 32];
        let sign = |prev: &str, algo: &str, hash: &str| {
            let sts = format!("{algo}\n20261201T000000Z\nscope\n{prev}\n{hash}");
            hex::encode(hmac(&key, sts.as_bytes()))
        };
        let empty = sha256_hex(b"");
        let c1 = sign(
            "seed",
            "AWS4-HMAC-SHA256-PAYLOAD",
            &format!("{empty}\n{}", sha256_hex(b"abc")),
        );
        let c0 = sign(
            &c1,
            "AWS4-HMAC-SHA256-PAYLOAD",
            &format!("{empty}\n{empty}"),
        );
        let good = sign(
            &c0,
            "AWS4-HMAC-SHA256-TRAILER",
            &sha256_hex(b"x-amz-checksum-crc32:AAAA\n"),
        );
        for (sig, ok) in [(good.as_str(), true), ("00", false)] {
            let mut v = ChunkVerifier::new(key, "AK", "20261201T000000Z", "scope", "seed", true);
            let wire = format!("3;chunk-signature={c1}\r\nabc\r\n0;chunk-signature={c0}\r\nx-amz-checksum-crc32:AAAA\r\nx-amz-trailer-signature:{sig}\r\n\r\n");
            let r = v.observe(&Bytes::from(wire)).and_then(|()| v.end());
            assert_eq!(r.is_ok(), ok, "{sig}");
        }
    }
}
