//! A response body on its way out: it counts the bytes written and files the request's log
//! entry when the body ends (or is dropped, when the client went away), and under chaos it
//! stops short, which makes hyper close the connection mid-body.

use super::response::ResponseBody;
use crate::reqlog::Entry;
use crate::store::Run;
use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

/// A request's log entry, waiting for its response to end.
pub struct Pending {
    pub run: Arc<Run>,
    pub entry: Entry,
    pub started: Instant,
    pub bytes_in: Arc<AtomicU64>,
}

/// The body was cut short by a chaos rule.
#[derive(Debug)]
pub struct Truncated;

impl std::fmt::Display for Truncated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("response body truncated by a chaos rule")
    }
}

impl std::error::Error for Truncated {}

pub struct Outgoing {
    inner: ResponseBody,
    sent: u64,
    /// Bytes to send before failing the body (chaos `truncate`).
    cut: Option<u64>,
    /// Whether hyper was given a turn to flush what was sent before the cut.
    flushed: bool,
    log: Option<Pending>,
}

impl Outgoing {
    pub fn new(inner: ResponseBody, log: Option<Pending>, cut: Option<u64>) -> Self {
        Outgoing {
            inner,
            sent: 0,
            cut,
            flushed: false,
            log,
        }
    }

    fn finish(&mut self) {
        if let Some(p) = self.log.take() {
            let mut entry = p.entry;
            entry.bytes_out = self.sent;
            entry.bytes_in = p.bytes_in.load(Ordering::Relaxed);
            entry.duration_us = p.started.elapsed().as_micros().min(u64::MAX as u128) as u64;
            p.run.requests.push(entry);
        }
    }
}

impl Drop for Outgoing {
    fn drop(&mut self) {
        self.finish();
    }
}

impl Body for Outgoing {
    type Data = Bytes;
    type Error = Truncated;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Truncated>>> {
        let this = self.get_mut();
        if this.cut.is_some_and(|c| this.sent >= c) {
            // hyper drops its unwritten buffer when a body fails: one Pending first lets it
            // flush the bytes before the cut to the client.
            if !this.flushed {
                this.flushed = true;
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            this.finish();
            return Poll::Ready(Some(Err(Truncated)));
        }
        let frame = match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(None) => {
                this.finish();
                return Poll::Ready(None);
            }
            Poll::Ready(Some(Ok(f))) => f,
            Poll::Ready(Some(Err(never))) => match never {},
        };
        let frame = match frame.into_data() {
            Ok(mut data) => {
                if let Some(c) = this.cut {
                    let room = usize::try_from(c - this.sent).unwrap_or(usize::MAX);
                    data.truncate(room);
                }
                this.sent += data.len() as u64;
                Frame::data(data)
            }
            Err(other) => other,
        };
        // The last frame files the entry at once: the client may ask for the log next.
        if this.cut.is_none() && this.inner.is_end_stream() {
            this.finish();
        }
        Poll::Ready(Some(Ok(frame)))
    }

    fn is_end_stream(&self) -> bool {
        self.cut.is_none() && self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
