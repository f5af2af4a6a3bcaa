//! A request body with an idle timeout: a client that stops sending in the middle of a body
//! gets S3's `RequestTimeout` (see `request_body::receive`) instead of holding the connection
//! and the bytes it sent so far forever. It also counts the bytes read, for the request log.

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::time::{Instant, Sleep};

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// No frame arrived within the idle timeout.
#[derive(Debug)]
pub struct BodyTimeout;

impl std::fmt::Display for BodyTimeout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("request body idle timeout")
    }
}

impl std::error::Error for BodyTimeout {}

/// An observer refused the body with this S3 error.
#[derive(Debug)]
pub struct Refused(pub crate::error::S3Error);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0.message)
    }
}

impl std::error::Error for Refused {}

/// Something that watches a body's bytes as they pass (e.g. chunk signatures) and may refuse
/// them: its error ends the body.
pub trait Observer: Send + Sync {
    fn observe(&mut self, data: &Bytes) -> Result<(), BoxError>;
    /// The body ended.
    fn end(&mut self) -> Result<(), BoxError>;
}

pub struct TimedBody<B> {
    inner: B,
    observer: Option<Box<dyn Observer>>,
    idle: Option<Duration>,
    /// Created the first time the body has to wait; re-armed after every frame.
    timer: Option<Pin<Box<Sleep>>>,
    armed: bool,
    /// Data bytes read so far, shared with whoever logs the request.
    counted: Option<Arc<AtomicU64>>,
}

impl<B> TimedBody<B> {
    /// `idle: None` waits forever.
    pub fn new(inner: B, idle: Option<Duration>) -> Self {
        TimedBody {
            inner,
            observer: None,
            idle,
            timer: None,
            armed: false,
            counted: None,
        }
    }

    /// Adds the size of every data frame read to `counter`.
    pub fn counting(mut self, counter: Arc<AtomicU64>) -> Self {
        self.counted = Some(counter);
        self
    }
}

impl<B> TimedBody<B> {
    /// Has `observer` see every data frame from now on.
    pub fn observe(&mut self, observer: Box<dyn Observer>) {
        self.observer = Some(observer);
    }
}

impl<B> Body for TimedBody<B>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(frame) => {
                // Frames that are already there cost no timer at all.
                this.armed = false;
                if let (Some(c), Some(Ok(f))) = (&this.counted, &frame) {
                    if let Some(d) = f.data_ref() {
                        c.fetch_add(d.len() as u64, Ordering::Relaxed);
                    }
                }
                let frame = frame.map(|r| r.map_err(Into::into));
                let Some(observer) = this.observer.as_mut() else {
                    return Poll::Ready(frame);
                };
                let seen = match &frame {
                    Some(Ok(f)) => f.data_ref().map_or(Ok(()), |d| observer.observe(d)),
                    None => observer.end(),
                    Some(Err(_)) => Ok(()),
                };
                match seen {
                    Ok(()) => Poll::Ready(frame),
                    Err(e) => {
                        this.observer = None;
                        Poll::Ready(Some(Err(e)))
                    }
                }
            }
            Poll::Pending => {
                let Some(idle) = this.idle else {
                    return Poll::Pending;
                };
                let deadline = Instant::now() + idle;
                let timer = this
                    .timer
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
                if !this.armed {
                    timer.as_mut().reset(deadline);
                    this.armed = true;
                }
                match timer.as_mut().poll(cx) {
                    Poll::Ready(()) => Poll::Ready(Some(Err(Box::new(BodyTimeout)))),
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
