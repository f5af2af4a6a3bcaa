//! The delivery worker: one tokio task per run drains the run's bounded queue in order (so
//! events for one key arrive in the order they happened), POSTs each payload to its webhook
//! and retries with exponential backoff. Only `http://` URLs are delivered to.

use super::log::{Attempt, Status};
use super::Shared;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// Deliveries waiting in a run's queue at most; past it an event is dropped (and logged as
/// such), never waited for.
pub const QUEUE_CAPACITY: usize = 10_000;

/// The longest wait between two attempts, whatever the backoff grew to.
const MAX_DELAY: Duration = Duration::from_secs(60);

/// How long one attempt (connect, send, answer) may take.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);

/// Retry policy: `attempts` in all, the n-th retry after `backoff · 2^(n-1)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retry {
    pub attempts: u32,
    pub backoff: Duration,
}

impl Default for Retry {
    fn default() -> Self {
        Retry {
            attempts: 5,
            backoff: Duration::from_millis(100),
        }
    }
}

/// One delivery: the log entry it reports to and what to send.
pub struct Job {
    pub entry: u64,
    pub url: String,
    pub body: Bytes,
    pub headers: Vec<(&'static str, String)>,
}

/// Starts the worker for a run's queue, on the current runtime, or on a thread of its own
/// when the event was raised outside one (an embedding program's own thread).
pub fn spawn(shared: Arc<Shared>, rx: mpsc::Receiver<Job>) {
    let work = run(shared, rx);
    match tokio::runtime::Handle::try_current() {
        Ok(handle) => {
            handle.spawn(work);
        }
        Err(_) => {
            let _ = std::thread::Builder::new()
                .name("s3twin-events".into())
                .spawn(move || {
                    if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                    {
                        rt.block_on(work);
                    }
                });
        }
    }
}

/// Ends when the run is dropped (its sender with it) and the queue is empty.
async fn run(shared: Arc<Shared>, mut rx: mpsc::Receiver<Job>) {
    while let Some(job) = rx.recv().await {
        let retry = shared.retry;
        let mut status = Status::Failed;
        for n in 0..retry.attempts.max(1) {
            if n > 0 {
                let factor = 1u32.checked_shl(n - 1).unwrap_or(u32::MAX);
                tokio::time::sleep(retry.backoff.saturating_mul(factor).min(MAX_DELAY)).await;
            }
            let at = crate::clock::real_now();
            let started = Instant::now();
            let outcome = tokio::time::timeout(ATTEMPT_TIMEOUT, post(&job)).await;
            let latency_ms = started.elapsed().as_millis() as u64;
            let (code, error) = match outcome {
                Ok(Ok(code)) => (Some(code), None),
                Ok(Err(e)) => (None, Some(e)),
                Err(_) => (None, Some("timed out".to_string())),
            };
            shared.update(job.entry, |e| {
                e.attempts.push(Attempt {
                    at,
                    status: code,
                    error,
                    latency_ms,
                })
            });
            if code.is_some_and(|c| (200..300).contains(&c)) {
                status = Status::Delivered;
                break;
            }
        }
        shared.update(job.entry, |e| e.status = status);
    }
}

/// POSTs the job's body; the answer's status, or why there was none.
async fn post(job: &Job) -> Result<u16, String> {
    let uri: http::Uri = job.url.parse().map_err(|e| format!("bad URL: {e}"))?;
    let host = uri.host().ok_or("URL without a host")?.to_string();
    let port = uri.port_u16().unwrap_or(80);
    let stream = tokio::net::TcpStream::connect((host.trim_matches(['[', ']']), port))
        .await
        .map_err(|e| format!("connect: {e}"))?;
    let io = hyper_util::rt::TokioIo::new(stream);
    let (mut sender, conn) = hyper::client::conn::http1::handshake(io)
        .await
        .map_err(|e| format!("handshake: {e}"))?;
    tokio::spawn(conn);
    let authority = uri
        .authority()
        .map(|a| a.as_str().to_string())
        .unwrap_or(host);
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    let mut req = http::Request::post(path)
        .header(http::header::HOST, authority)
        .header(http::header::USER_AGENT, "s3twin-notifications")
        .header(http::header::CONTENT_LENGTH, job.body.len());
    for (name, value) in &job.headers {
        req = req.header(*name, value);
    }
    let req = req
        .body(Full::new(job.body.clone()))
        .map_err(|e| format!("request: {e}"))?;
    let resp = sender
        .send_request(req)
        .await
        .map_err(|e| format!("send: {e}"))?;
    let code = resp.status().as_u16();
    // Read the answer to the end so the receiver sees a clean exchange.
    let _ = resp.into_body().collect().await;
    Ok(code)
}
