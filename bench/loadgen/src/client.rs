//! A minimal S3-over-HTTP/1.1 client: one hyper connection per worker, reconnecting when the
//! server closes it (some peers answer `Connection: close` to every request). Requests are
//! path-style, to 127.0.0.1 only; unsigned, with a fixed fake `Authorization` header for the
//! peers that want one to be present, or signed (SigV4) for the peer that verifies them.

use bytes::Bytes;
use http::{HeaderMap, Method, Request, StatusCode};
use http_body::{Frame, SizeHint};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::net::TcpStream;

/// Where requests go and how they are dressed.
#[derive(Debug, Clone)]
pub struct Target {
    pub addr: SocketAddr,
    pub auth: Auth,
}

/// How requests are signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    None,
    /// A syntactically valid SigV4 header with a dummy signature, for peers that only check
    /// that one is present.
    Fake,
    /// Really signed (SigV4, UNSIGNED-PAYLOAD) with this access key and secret.
    SigV4(&'static str, &'static str),
}

pub const FAKE_SIGV4: &str = "AWS4-HMAC-SHA256 Credential=bench/20260101/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=0000000000000000000000000000000000000000000000000000000000000000";

/// A request body: nothing, one buffer, or `remaining` bytes made of one repeated chunk
/// (a streamed upload of any size without holding it in memory).
#[derive(Debug)]
pub enum ReqBody {
    Empty,
    Full(Option<Bytes>),
    Repeat { chunk: Bytes, remaining: u64 },
}

impl ReqBody {
    pub fn len(&self) -> u64 {
        match self {
            ReqBody::Empty => 0,
            ReqBody::Full(b) => b.as_ref().map_or(0, |b| b.len() as u64),
            ReqBody::Repeat { remaining, .. } => *remaining,
        }
    }
}

impl http_body::Body for ReqBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let next = match self.get_mut() {
            ReqBody::Empty => None,
            ReqBody::Full(b) => b.take(),
            ReqBody::Repeat { chunk, remaining } => {
                if *remaining == 0 {
                    None
                } else {
                    let n = (chunk.len() as u64).min(*remaining) as usize;
                    *remaining -= n as u64;
                    Some(chunk.slice(0..n))
                }
            }
        };
        Poll::Ready(next.map(|b| Ok(Frame::data(b))))
    }

    fn is_end_stream(&self) -> bool {
        self.len() == 0
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.len())
    }
}

/// What a finished request gave back.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    /// The body, when it was kept (`Keep::Body`).
    pub body: Bytes,
    /// Bytes of body received.
    pub len: u64,
}

impl Answer {
    pub fn ok(&self) -> bool {
        self.status.is_success()
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// A short description of a failed answer: status and the S3 error code, if any.
    pub fn describe(&self) -> String {
        let code = xml_value(&self.text(), "Code").unwrap_or_default();
        if code.is_empty() {
            format!("{}", self.status.as_u16())
        } else {
            format!("{} {}", self.status.as_u16(), code)
        }
    }
}

/// Keep the response body, or only count it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keep {
    Body,
    Count,
}

#[derive(Debug)]
pub enum ClientError {
    Connect(std::io::Error),
    Http(hyper::Error),
    Timeout,
}

impl std::fmt::Display for ClientError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClientError::Connect(e) => write!(f, "connect: {e}"),
            ClientError::Http(e) => write!(f, "http: {e}"),
            ClientError::Timeout => write!(f, "timed out"),
        }
    }
}

/// One HTTP/1.1 connection, re-established on demand.
pub struct Conn {
    target: Arc<Target>,
    sender: Option<SendRequest<ReqBody>>,
    host: String,
    /// Upper bound on any single request (connect to last body byte).
    pub timeout: Duration,
}

impl Conn {
    pub fn new(target: Arc<Target>) -> Self {
        let host = target.addr.to_string();
        Conn {
            target,
            sender: None,
            host,
            timeout: Duration::from_secs(120),
        }
    }

    async fn connect(&mut self) -> Result<(), ClientError> {
        let stream = TcpStream::connect(self.target.addr)
            .await
            .map_err(ClientError::Connect)?;
        let _ = stream.set_nodelay(true);
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(ClientError::Http)?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        self.sender = Some(sender);
        Ok(())
    }

    fn build(
        &self,
        method: &Method,
        path: &str,
        headers: &[(&str, &str)],
        body: ReqBody,
    ) -> Request<ReqBody> {
        let len = body.len();
        let mut b = Request::builder()
            .method(method.clone())
            .uri(path)
            .header("host", &self.host);
        match self.target.auth {
            Auth::None => {}
            Auth::Fake => {
                b = b
                    .header("authorization", FAKE_SIGV4)
                    .header("x-amz-content-sha256", "UNSIGNED-PAYLOAD")
                    .header("x-amz-date", "20260101T000000Z");
            }
            Auth::SigV4(key, secret) => {
                let date = crate::sigv4::amz_date();
                let authorization = crate::sigv4::authorization(
                    key,
                    secret,
                    method.as_str(),
                    path,
                    &self.host,
                    &date,
                    headers,
                );
                b = b
                    .header("authorization", authorization)
                    .header("x-amz-content-sha256", "UNSIGNED-PAYLOAD")
                    .header("x-amz-date", date);
            }
        }
        if method == Method::PUT || method == Method::POST {
            b = b.header("content-length", len.to_string());
        }
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        b.body(body).expect("a valid request")
    }

    /// Sends one request and reads the whole answer. A request that fails before the server
    /// could have seen it (a connection the server had closed) is retried once on a new
    /// connection; `body` makes the body again for that retry.
    pub async fn request(
        &mut self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: &(dyn Fn() -> ReqBody + Sync),
        keep: Keep,
    ) -> Result<Answer, ClientError> {
        match tokio::time::timeout(
            self.timeout,
            self.request_inner(method, path, headers, body, keep),
        )
        .await
        {
            Ok(r) => r,
            Err(_) => {
                self.sender = None;
                Err(ClientError::Timeout)
            }
        }
    }

    async fn request_inner(
        &mut self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: &(dyn Fn() -> ReqBody + Sync),
        keep: Keep,
    ) -> Result<Answer, ClientError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            if self.sender.as_ref().is_none_or(|s| s.is_closed()) {
                self.connect().await?;
            }
            let req = self.build(&method, path, headers, body());
            let sender = self.sender.as_mut().expect("connected");
            if let Err(e) = sender.ready().await {
                self.sender = None;
                if attempt < 2 {
                    continue;
                }
                return Err(ClientError::Http(e));
            }
            match sender.send_request(req).await {
                Ok(resp) => {
                    let close = resp
                        .headers()
                        .get("connection")
                        .and_then(|v| v.to_str().ok())
                        .is_some_and(|v| v.eq_ignore_ascii_case("close"));
                    let answer = read_answer(resp, keep).await;
                    if close || answer.is_err() {
                        self.sender = None;
                    }
                    return answer;
                }
                Err(e) => {
                    self.sender = None;
                    // Only an error that means the request never went out is worth a retry.
                    let unsent = e.is_canceled() || e.is_closed() || e.is_incomplete_message();
                    if attempt < 2 && unsent {
                        continue;
                    }
                    return Err(ClientError::Http(e));
                }
            }
        }
    }

    pub async fn get(&mut self, path: &str, keep: Keep) -> Result<Answer, ClientError> {
        self.request(Method::GET, path, &[], &|| ReqBody::Empty, keep)
            .await
    }
}

async fn read_answer(resp: http::Response<Incoming>, keep: Keep) -> Result<Answer, ClientError> {
    let (parts, mut body) = resp.into_parts();
    let mut len = 0u64;
    let mut kept: Vec<Bytes> = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(ClientError::Http)?;
        if let Ok(data) = frame.into_data() {
            len += data.len() as u64;
            if keep == Keep::Body {
                kept.push(data);
            }
        }
    }
    let body = match kept.len() {
        0 => Bytes::new(),
        1 => kept.pop().unwrap_or_default(),
        _ => {
            let mut v = Vec::with_capacity(len as usize);
            for k in &kept {
                v.extend_from_slice(k);
            }
            v.into()
        }
    };
    Ok(Answer {
        status: parts.status,
        headers: parts.headers,
        body,
        len,
    })
}

/// The text of the first `<name>…</name>` element, if any (enough for S3's answers).
pub fn xml_value(doc: &str, name: &str) -> Option<String> {
    let open = format!("<{name}>");
    let close = format!("</{name}>");
    let start = doc.find(&open)? + open.len();
    let end = doc[start..].find(&close)? + start;
    Some(unescape(&doc[start..end]))
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&#xD;", "\r")
        .replace("&amp;", "&")
}

/// Percent-encodes everything but RFC 3986 unreserved characters (for query values).
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Deterministic, incompressible-looking bytes.
pub fn pattern(len: usize, seed: u64) -> Bytes {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut v = Vec::with_capacity(len);
    while v.len() < len {
        // xorshift64*
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        let r = x.wrapping_mul(0x2545_F491_4F6C_DD1D);
        v.extend_from_slice(&r.to_le_bytes());
    }
    v.truncate(len);
    v.into()
}
