//! Decoder for `Content-Encoding: aws-chunked` request bodies, in all three framings the SDKs
//! send: signed chunks (`STREAMING-AWS4-HMAC-SHA256-PAYLOAD`), signed chunks with a trailer
//! (`…-PAYLOAD-TRAILER`) and unsigned chunks with a trailer (`STREAMING-UNSIGNED-PAYLOAD-TRAILER`).
//!
//! ```text
//! <hex size>[;chunk-signature=<sig>]\r\n<data>\r\n … 0[;chunk-signature=<sig>]\r\n
//! [<trailer-name>:<value>\r\n …][x-amz-trailer-signature:<sig>\r\n]\r\n
//! ```
//! The decoder is fed frames as they arrive and hands out slices of them (no copy of data).
//! Trailer lines are collected, never passed on as data.

use crate::error::{Code, S3Error, S3Result};
use bytes::Bytes;

/// Longest chunk-size or trailer line.
pub const MAX_LINE: usize = 4096;
/// Most trailer lines (the SDKs send one checksum and, when signing, its signature).
pub const MAX_TRAILERS: usize = 16;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Reading a chunk-size line.
    Size,
    /// Inside chunk data, this many bytes left.
    Data(u64),
    /// Expecting the CRLF after chunk data; how many of its two bytes were seen.
    DataEnd(u8),
    /// Reading trailer lines after the zero-size chunk.
    Trailer,
    Done,
}

#[derive(Debug)]
pub struct AwsChunkedDecoder {
    state: State,
    line: Vec<u8>,
    trailers: Vec<(String, String)>,
}

impl Default for AwsChunkedDecoder {
    fn default() -> Self {
        Self::new()
    }
}

fn incomplete() -> S3Error {
    S3Error::new(Code::IncompleteBody)
}

fn bad_chunk() -> S3Error {
    S3Error::with_message(
        Code::IncompleteBody,
        "The request body is not valid aws-chunked encoding.",
    )
}

impl AwsChunkedDecoder {
    pub fn new() -> Self {
        AwsChunkedDecoder {
            state: State::Size,
            line: Vec::new(),
            trailers: Vec::new(),
        }
    }

    /// Decodes one frame, passing each piece of payload to `out`.
    pub fn feed(&mut self, mut input: Bytes, out: &mut impl FnMut(Bytes)) -> S3Result<()> {
        while !input.is_empty() {
            match self.state {
                State::Size | State::Trailer => {
                    let Some(line) = self.take_line(&mut input)? else {
                        continue;
                    };
                    if self.state == State::Size {
                        let size = parse_size_line(&line)?;
                        self.state = if size == 0 {
                            State::Trailer
                        } else {
                            State::Data(size)
                        };
                    } else if line.is_empty() {
                        self.state = State::Done;
                    } else {
                        self.push_trailer(&line)?;
                    }
                }
                State::Data(left) => {
                    let take = (left.min(input.len() as u64)) as usize;
                    out(input.split_to(take));
                    let left = left - take as u64;
                    self.state = if left == 0 {
                        State::DataEnd(0)
                    } else {
                        State::Data(left)
                    };
                }
                State::DataEnd(seen) => {
                    let expected = if seen == 0 { b'\r' } else { b'\n' };
                    if input[0] != expected {
                        return Err(bad_chunk());
                    }
                    let _ = input.split_to(1);
                    self.state = if seen == 0 {
                        State::DataEnd(1)
                    } else {
                        State::Size
                    };
                }
                State::Done => {
                    // Some clients end with a bare CRLF more than needed; anything else is junk.
                    if input.iter().all(|b| *b == b'\r' || *b == b'\n') {
                        return Ok(());
                    }
                    return Err(bad_chunk());
                }
            }
        }
        Ok(())
    }

    /// Called at end of input: the body must have reached its final chunk.
    pub fn finish(&mut self) -> S3Result<()> {
        match self.state {
            State::Done => Ok(()),
            // A trailer section ended without its closing blank line: accept what was sent.
            State::Trailer if self.line.is_empty() => {
                self.state = State::Done;
                Ok(())
            }
            State::Trailer if !self.line.is_empty() => {
                let line = std::mem::take(&mut self.line);
                let line = strip_cr(&line);
                self.push_trailer(line)?;
                self.state = State::Done;
                Ok(())
            }
            _ => Err(incomplete()),
        }
    }

    /// Trailer headers received (`x-amz-checksum-crc32` → value), names lower-cased.
    pub fn trailers(&self) -> &[(String, String)] {
        &self.trailers
    }

    /// Collects one CRLF-terminated line, possibly across frames; `None` until complete.
    fn take_line(&mut self, input: &mut Bytes) -> S3Result<Option<Vec<u8>>> {
        match input.iter().position(|b| *b == b'\n') {
            Some(i) => {
                let part = input.split_to(i + 1);
                if self.line.len() + i > MAX_LINE {
                    return Err(bad_chunk());
                }
                self.line.extend_from_slice(&part[..i]);
                let line = std::mem::take(&mut self.line);
                let line = strip_cr(&line).to_vec();
                Ok(Some(line))
            }
            None => {
                self.line.extend_from_slice(input);
                input.clear();
                if self.line.len() > MAX_LINE {
                    return Err(bad_chunk());
                }
                Ok(None)
            }
        }
    }

    fn push_trailer(&mut self, line: &[u8]) -> S3Result<()> {
        let malformed = || S3Error::new(Code::MalformedTrailerError);
        let text = std::str::from_utf8(line).map_err(|_| malformed())?;
        let (name, value) = text.split_once(':').ok_or_else(malformed)?;
        let name = name.trim().to_ascii_lowercase();
        if name.is_empty() || self.trailers.len() >= MAX_TRAILERS {
            return Err(malformed());
        }
        self.trailers.push((name, value.trim().to_string()));
        Ok(())
    }
}

fn strip_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// `<hex>[;chunk-signature=<sig>]` → size.
fn parse_size_line(line: &[u8]) -> S3Result<u64> {
    let text = std::str::from_utf8(line).map_err(|_| bad_chunk())?;
    let size = text.split(';').next().unwrap_or("").trim();
    if size.is_empty() || size.len() > 16 {
        return Err(bad_chunk());
    }
    u64::from_str_radix(size, 16).map_err(|_| bad_chunk())
}

#[cfg(test)]
mod tests {
    use super::*;

    type Trailers = Vec<(String, String)>;

    fn decode_in_pieces(wire: &[u8], piece: usize) -> S3Result<(Vec<u8>, Trailers)> {
        let mut d = AwsChunkedDecoder::new();
        let mut data = Vec::new();
        for part in wire.chunks(piece) {
            d.feed(Bytes::copy_from_slice(part), &mut |b| {
                data.extend_from_slice(&b)
            })?;
        }
        d.finish()?;
        Ok((data, d.trailers().to_vec()))
    }

    #[test]
    fn unsigned_trailer_framing_any_split() {
        let wire = b"5\r\nhello\r\n6\r\n world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n";
        for piece in 1..wire.len() {
            let (data, trailers) = decode_in_pieces(wire, piece).expect("decodes");
            assert_eq!(data, b"hello world");
            assert_eq!(
                trailers,
                vec![("x-amz-checksum-crc32".to_string(), "DUoRhQ==".to_string())]
            );
        }
    }

    #[test]
    fn signed_framings() {
        let sig =
            "chunk-signature=ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648";
        let wire = format!("b;{sig}\r\nhello world\r\n0;{sig}\r\n\r\n");
        let (data, trailers) = decode_in_pieces(wire.as_bytes(), 7).expect("decodes");
        assert_eq!(data, b"hello world");
        assert!(trailers.is_empty());
        let wire = format!("b;{sig}\r\nhello world\r\n0;{sig}\r\nx-amz-checksum-crc32c:yZRlqg==\r\nx-amz-trailer-signature:abc\r\n\r\n");
        let (_, trailers) = decode_in_pieces(wire.as_bytes(), 3).expect("decodes");
        assert_eq!(trailers[0].0, "x-amz-checksum-crc32c");
        assert_eq!(trailers[1].0, "x-amz-trailer-signature");
    }

    #[test]
    fn truncation_and_garbage_are_errors() {
        assert_eq!(
            decode_in_pieces(b"5\r\nhel", 4).unwrap_err().code,
            Code::IncompleteBody
        );
        assert_eq!(
            decode_in_pieces(b"5\r\nhello\r\n", 4).unwrap_err().code,
            Code::IncompleteBody
        );
        assert!(decode_in_pieces(b"zz\r\nhello\r\n0\r\n\r\n", 4).is_err());
        assert!(decode_in_pieces(b"5\r\nhelloXX0\r\n\r\n", 4).is_err());
        assert_eq!(
            decode_in_pieces(b"0\r\nno-colon-here\r\n\r\n", 64)
                .unwrap_err()
                .code,
            Code::MalformedTrailerError
        );
    }
}
