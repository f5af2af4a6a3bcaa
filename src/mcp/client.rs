//! The MCP tools' way to the twin: plain HTTP/1.1 requests to its own S3 and admin API, so
//! the tools get exactly the answers (and S3 errors) an SDK gets. One connection per call:
//! it is loopback, and it keeps the tools free of connection state.

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request};
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use std::net::SocketAddr;
use std::time::Duration;

/// Longest a tool waits for the twin to answer one request.
const CALL_TIMEOUT: Duration = Duration::from_secs(30);

/// Largest answer read from the twin (object bodies are capped lower, see `tools::MAX_GET`).
const MAX_ANSWER: usize = 16 * 1024 * 1024;

/// Where the twin listens, and the origin clients are told to use.
#[derive(Debug, Clone)]
pub struct Twin {
    /// The address connected to.
    pub addr: SocketAddr,
    /// `http://host:port` as the MCP client should reach the twin (endpoints, presigned URLs).
    pub origin: String,
}

/// How S3 calls are signed: as the default identity (which every run knows), at the time and
/// in the region the twin last asked for.
struct Signing {
    /// The instant to sign at (`None`: now).
    at: Option<crate::clock::Millis>,
    region: String,
}

impl Signing {
    fn sign(
        &self,
        method: &Method,
        path_and_query: &str,
        headers: &mut HeaderMap,
        body: &[u8],
    ) -> Result<(), String> {
        use crate::auth::sigv4;
        let (ak, sk) = crate::auth::identity::DEFAULT_KEYS[0];
        let date = sigv4::amz_date(self.at.unwrap_or_else(crate::clock::real_now));
        let value = |v: String| HeaderValue::from_str(&v).map_err(|e| e.to_string());
        headers.insert("x-amz-date", value(date.clone())?);
        headers.insert("x-amz-content-sha256", value(sigv4::sha256_hex(body))?);
        let (path, query) = match path_and_query.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (path_and_query, None),
        };
        let facts = crate::auth::SigningFacts {
            method,
            raw_path: path,
            raw_query: query,
            headers,
        };
        let authorization = sigv4::sign_request(&facts, ak, sk, &self.region, &date);
        headers.insert(http::header::AUTHORIZATION, value(authorization)?);
        Ok(())
    }

    /// Takes the server's time or the bucket's region from an answer that refused them;
    /// whether the call is worth signing again.
    fn correct(&mut self, answer: &Answer) -> bool {
        if answer.status != 403 && answer.status != 400 {
            return false;
        }
        let Ok(doc) = crate::wire::xml::parse(&answer.body) else {
            return false;
        };
        match doc.child_text("Code") {
            Some("RequestTimeTooSkewed") => {
                match doc
                    .child_text("ServerTime")
                    .and_then(crate::clock::parse_rfc3339)
                {
                    Some(t) => {
                        self.at = Some(t);
                        true
                    }
                    None => false,
                }
            }
            Some("AuthorizationHeaderMalformed") => match doc.child_text("Region") {
                Some(r) if r != self.region => {
                    self.region = r.to_string();
                    true
                }
                _ => false,
            },
            _ => false,
        }
    }
}

/// One answer: status, headers and the whole body.
pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// An S3 error answer as `Code: Message` (HEAD answers have no body: the status then).
    pub fn s3_error(&self) -> String {
        if let Ok(doc) = crate::wire::xml::parse(&self.body) {
            if let (Some(code), Some(message)) = (doc.child_text("Code"), doc.child_text("Message"))
            {
                return format!("{code}: {message}");
            }
        }
        let reason = http::StatusCode::from_u16(self.status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("error");
        format!("{} {reason} (the answer has no error body)", self.status)
    }
}

impl Twin {
    /// Sends one request; `Err` only when the twin cannot be reached or answers garbage.
    pub async fn send(
        &self,
        method: Method,
        path_and_query: &str,
        headers: &[(&str, String)],
        body: Bytes,
    ) -> Result<Answer, String> {
        self.send_with_cap(method, path_and_query, headers, body, MAX_ANSWER)
            .await
    }

    /// A body-less request whose answer may carry at most `cap` bytes (an object read).
    pub async fn send_capped(
        &self,
        method: Method,
        path_and_query: &str,
        headers: &[(&str, String)],
        cap: usize,
    ) -> Result<Answer, String> {
        self.send_with_cap(method, path_and_query, headers, Bytes::new(), cap)
            .await
    }

    /// S3 calls are signed (SigV4, the default identity) so that they pass in runs that
    /// enforce auth; as an SDK does, a call refused for its clock (the run's clock may be
    /// moved) or its region is signed again with what the error names.
    async fn send_with_cap(
        &self,
        method: Method,
        path_and_query: &str,
        headers: &[(&str, String)],
        body: Bytes,
        cap: usize,
    ) -> Result<Answer, String> {
        let admin = crate::admin::is_admin_path(path_and_query.split('?').next().unwrap_or(""));
        let mut signing = (!admin).then(|| Signing {
            at: None,
            region: "us-east-1".to_string(),
        });
        let mut attempts = 0;
        loop {
            attempts += 1;
            let call = self.send_now(
                method.clone(),
                path_and_query,
                headers,
                body.clone(),
                cap,
                signing.as_ref(),
            );
            let answer = tokio::time::timeout(CALL_TIMEOUT, call)
                .await
                .map_err(|_| format!("s3twin at {} did not answer in time", self.addr))??;
            let again = attempts < 3 && signing.as_mut().is_some_and(|s| s.correct(&answer));
            if !again {
                return Ok(answer);
            }
        }
    }

    async fn send_now(
        &self,
        method: Method,
        path_and_query: &str,
        headers: &[(&str, String)],
        body: Bytes,
        cap: usize,
        signing: Option<&Signing>,
    ) -> Result<Answer, String> {
        let unreachable =
            |e: &dyn std::fmt::Display| format!("cannot reach s3twin at {}: {e}", self.addr);
        let stream = tokio::net::TcpStream::connect(self.addr)
            .await
            .map_err(|e| unreachable(&e))?;
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| unreachable(&e))?;
        tokio::spawn(conn);
        let host = self
            .origin
            .strip_prefix("http://")
            .unwrap_or(&self.origin)
            .to_string();
        let bad = |e: &dyn std::fmt::Display| format!("bad request: {e}");
        let mut map = HeaderMap::new();
        map.insert(
            http::header::HOST,
            HeaderValue::from_str(&host).map_err(|e| bad(&e))?,
        );
        for (name, value) in headers {
            map.append(
                HeaderName::from_bytes(name.as_bytes()).map_err(|e| bad(&e))?,
                HeaderValue::from_str(value).map_err(|e| bad(&e))?,
            );
        }
        if let Some(signing) = signing {
            signing.sign(&method, path_and_query, &mut map, &body)?;
        }
        let mut req = Request::builder()
            .method(method)
            .uri(path_and_query)
            .body(Full::new(body))
            .map_err(|e| bad(&e))?;
        *req.headers_mut() = map;
        let resp = sender
            .send_request(req)
            .await
            .map_err(|e| unreachable(&e))?;
        let (parts, body) = resp.into_parts();
        let declared = parts
            .headers
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if let Some(n) = declared.filter(|n| *n > cap as u64) {
            return Err(format!(
                "the answer is {n} bytes, over the {cap}-byte cap: read a part with range (\"bytes=0-{}\") or fetch an s3_presign URL",
                cap.saturating_sub(1)
            ));
        }
        let body = Limited::new(body, cap)
            .collect()
            .await
            .map_err(|e| format!("reading the answer of s3twin: {e}"))?
            .to_bytes();
        Ok(Answer {
            status: parts.status.as_u16(),
            headers: parts.headers,
            body,
        })
    }

    /// An admin call (`/_s3twin/{route}`): the JSON answer, or the admin error's message.
    pub async fn admin(
        &self,
        method: Method,
        route: &str,
        body: Option<&Value>,
    ) -> Result<Value, String> {
        let (headers, body) = match body {
            Some(v) => (
                vec![("content-type", "application/json".to_string())],
                Bytes::from(v.to_string()),
            ),
            None => (Vec::new(), Bytes::new()),
        };
        let answer = self
            .send(method, &format!("/_s3twin/{route}"), &headers, body)
            .await?;
        let json: Value = serde_json::from_slice(&answer.body).unwrap_or(Value::Null);
        if answer.status >= 400 {
            let message = json.get("error").and_then(Value::as_str).unwrap_or("");
            let path = route.split('?').next().unwrap_or(route);
            // Routes of features this build lacks answer the admin router's own 404.
            if answer.status == 404 && (message.is_empty() || message.starts_with("no admin route"))
            {
                return Err(format!(
                    "not available in this build (no admin route /_s3twin/{path})"
                ));
            }
            return Err(if message.is_empty() {
                format!("admin route /_s3twin/{path} answered {}", answer.status)
            } else {
                message.to_string()
            });
        }
        Ok(json)
    }
}
