//! The connection's byte stream, with one correction to what hyper writes on its own: hyper
//! answers a request head it cannot parse (a bad header, a Content-Length past 2^64) with a
//! bare `400`, and one it refuses as too large (headers past its buffer, a Content-Length
//! near 2^64) with a bare `431`, before any handler runs. S3 answers 400 with its envelope,
//! so exactly those heads (the only responses without our request id) are rewritten on
//! their way out. Everything else passes through untouched.

use crate::error::{Code, S3Error};
use crate::ids;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Which S3 error replaces a response head hyper wrote itself, if this write is exactly one:
/// a 400 or 431 status line, then only `connection: close`, `content-length: 0` and `date`
/// (every response of ours carries a request id), and nothing after the blank line.
fn hyper_refusal(write: &[u8]) -> Option<Code> {
    let code = if write.starts_with(b"HTTP/1.1 431 ") {
        Code::RequestHeaderSectionTooLarge
    } else if write.starts_with(b"HTTP/1.1 400 ") {
        Code::BadRequest
    } else {
        return None;
    };
    if write.len() > 256 || !write.ends_with(b"\r\n\r\n") {
        return None;
    }
    let text = std::str::from_utf8(write).ok()?;
    let mut headers = text.trim_end_matches("\r\n").split("\r\n").skip(1);
    headers
        .all(|l| {
            let l = l.to_ascii_lowercase();
            l == "connection: close" || l == "content-length: 0" || l.starts_with("date: ")
        })
        .then_some(code)
}

fn s3_answer(code: Code) -> Vec<u8> {
    let err = S3Error::new(code);
    let body = super::response::error_document(&err, &ids::request_id(), &ids::host_id());
    format!(
        "HTTP/1.1 400 Bad Request\r\ncontent-type: application/xml\r\ncontent-length: {}\r\nconnection: close\r\nserver: AmazonS3\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

pub struct ConnIo<T> {
    inner: T,
    /// The replacement being written, and how much of it is out.
    replacing: Option<(Vec<u8>, usize)>,
}

impl<T> ConnIo<T> {
    pub fn new(inner: T) -> Self {
        ConnIo {
            inner,
            replacing: None,
        }
    }
}

impl<T: AsyncWrite + Unpin> ConnIo<T> {
    /// Writes the replacement to the end, then reports `claimed` bytes of hyper's as written.
    fn poll_replace(
        &mut self,
        cx: &mut Context<'_>,
        code: Code,
        claimed: usize,
    ) -> Poll<io::Result<usize>> {
        let (bytes, sent) = self.replacing.get_or_insert_with(|| (s3_answer(code), 0));
        while *sent < bytes.len() {
            let n = ready!(Pin::new(&mut self.inner).poll_write(cx, &bytes[*sent..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            *sent += n;
        }
        Poll::Ready(Ok(claimed))
    }

    /// The error to answer instead of this write, when it is one of hyper's refusals (or the
    /// rest of one whose replacement is under way).
    fn refusal(&self, write: &[u8]) -> Option<Code> {
        if self.replacing.is_some() {
            return Some(Code::BadRequest);
        }
        hyper_refusal(write)
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for ConnIo<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for ConnIo<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if let Some(code) = this.refusal(buf) {
            return this.poll_replace(cx, code, buf.len());
        }
        Pin::new(&mut this.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        // hyper's refusals are one head in one buffer.
        let mut filled = bufs.iter().filter(|b| !b.is_empty());
        let only: &[u8] = match (filled.next(), filled.next()) {
            (Some(b), None) => b,
            _ => &[],
        };
        if let Some(code) = this.refusal(only) {
            let claimed = bufs.iter().map(|b| b.len()).sum();
            return this.poll_replace(cx, code, claimed);
        }
        Pin::new(&mut this.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_hyper_own_refusals_are_recognised() {
        let hyper400 = b"HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\ndate: Tue, 01 Dec 2026 11:14:49 GMT\r\n\r\n";
        assert_eq!(hyper_refusal(hyper400), Some(Code::BadRequest));
        let hyper431 =
            b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\ndate: x\r\n\r\n";
        assert_eq!(
            hyper_refusal(hyper431),
            Some(Code::RequestHeaderSectionTooLarge)
        );
        let ours = b"HTTP/1.1 400 Bad Request\r\nx-amz-request-id: 1\r\ncontent-length: 0\r\n\r\n";
        assert_eq!(hyper_refusal(ours), None);
        let with_body = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\nmore";
        assert_eq!(hyper_refusal(with_body), None);
        assert_eq!(hyper_refusal(b"HTTP/1.1 200 OK\r\n\r\n"), None);
    }
}
