//! Shared set-up: an in-process s3twin on a free port and real aws-sdk-s3 clients for it.

use aws_sdk_s3::config::interceptors::BeforeTransmitInterceptorContextMut;
use aws_sdk_s3::config::{Credentials, Intercept, Region, RuntimeComponents};
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::Client;
use aws_smithy_types::config_bag::ConfigBag;
use s3twin::S3Server;
use std::sync::atomic::{AtomicU32, Ordering};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

pub struct Twin {
    pub server: S3Server,
    pub client: Client,
}

impl Twin {
    pub async fn start() -> Twin {
        let server = S3Server::builder().port(0).build();
        server.start().await.expect("server starts");
        let client = client(&server.endpoint(), true);
        Twin { server, client }
    }

    pub fn port(&self) -> u16 {
        self.server.local_addr().expect("started").port()
    }

    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port())
    }
}

pub fn config_builder(endpoint: &str, path_style: bool) -> aws_sdk_s3::config::Builder {
    aws_sdk_s3::Config::builder()
        .behavior_version_latest()
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .force_path_style(path_style)
        .credentials_provider(Credentials::new("parlel", "parlel", None, None, "test"))
        .http_client(aws_smithy_http_client::Builder::new().build_http())
}

pub fn client(endpoint: &str, path_style: bool) -> Client {
    Client::from_conf(config_builder(endpoint, path_style).build())
}

/// A client over HTTPS that trusts only `ca_pem` (the platform's roots are left out, so a
/// certificate not signed by it fails).
pub fn https_client(endpoint: &str, ca_pem: &[u8]) -> Client {
    use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
    let trust = tls::TrustStore::empty().with_pem_certificate(ca_pem.to_vec());
    let context = tls::TlsContext::builder()
        .with_trust_store(trust)
        .build()
        .expect("TLS context");
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
        .tls_context(context)
        .build_https();
    Client::from_conf(config_builder(endpoint, true).http_client(http).build())
}

/// A fresh directory under the system's temporary one.
pub fn temp_dir(tag: &str) -> std::path::PathBuf {
    static N: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "s3twin-test-{tag}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// A client for run `run` (`/t/{run}/`).
pub fn run_client(t: &Twin, run: &str) -> Client {
    client(&format!("{}/t/{run}/", t.server.endpoint()), true)
}

/// Creates run `run` over the admin API with extra fields (`{"chaos": [...]}`…).
pub async fn create_run(t: &Twin, run: &str, mut fields: serde_json::Value) {
    fields["runId"] = serde_json::json!(run);
    let (status, body) = admin(t, "POST", "/_s3twin/runs", Some(fields)).await;
    assert_eq!(status, 201, "{body}");
}

/// The request log of run `run`, filtered by `query` (`"&operation=PutObject"`…).
pub async fn request_log(t: &Twin, run: &str, query: &str) -> Vec<serde_json::Value> {
    let (status, body) = admin(
        t,
        "GET",
        &format!("/_s3twin/requests?runId={run}{query}"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body["entries"].as_array().expect("entries").clone()
}

/// A virtual-hosted-style client: the SDK addresses `{bucket}.localhost:port`; since
/// `*.localhost` does not resolve here, the request is sent to 127.0.0.1 with that Host header.
pub fn vhost_client(port: u16) -> Client {
    Client::from_conf(
        config_builder(&format!("http://localhost:{port}"), false)
            .interceptor(SendToLoopback { port })
            .build(),
    )
}

#[derive(Debug)]
struct SendToLoopback {
    port: u16,
}

impl Intercept for SendToLoopback {
    fn name(&self) -> &'static str {
        "SendToLoopback"
    }

    fn modify_before_transmit(
        &self,
        ctx: &mut BeforeTransmitInterceptorContextMut<'_>,
        _rc: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), aws_sdk_s3::error::BoxError> {
        let req = ctx.request_mut();
        let uri: http::Uri = req.uri().parse()?;
        let host = uri.authority().map(|a| a.to_string()).unwrap_or_default();
        assert!(
            host.ends_with(&format!(".localhost:{}", self.port)),
            "virtual-hosted: {host}"
        );
        let path = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
        req.set_uri(format!("http://127.0.0.1:{}{}", self.port, path))?;
        req.headers_mut().insert("host", host);
        Ok(())
    }
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A bucket name unique within the test process.
pub fn bucket_name(tag: &str) -> String {
    format!(
        "{tag}-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

pub async fn new_bucket(client: &Client, tag: &str) -> String {
    let name = bucket_name(tag);
    client
        .create_bucket()
        .bucket(&name)
        .send()
        .await
        .expect("create bucket");
    name
}

pub async fn put(client: &Client, bucket: &str, key: &str, body: &[u8]) {
    client
        .put_object()
        .bucket(bucket)
        .key(key)
        .body(body.to_vec().into())
        .send()
        .await
        .expect("put object");
}

pub async fn get_bytes(client: &Client, bucket: &str, key: &str) -> Vec<u8> {
    let out = client
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .expect("get object");
    out.body
        .collect()
        .await
        .expect("body")
        .into_bytes()
        .to_vec()
}

/// The S3 error code, HTTP status, and whether the error's RequestId equals the response's
/// `x-amz-request-id` header.
pub fn error_parts<E: ProvideErrorMetadata + std::fmt::Debug>(
    err: &SdkError<E, aws_smithy_runtime_api::http::Response>,
) -> (String, u16) {
    let status = err.raw_response().map(|r| r.status().as_u16()).unwrap_or(0);
    let code = match err {
        SdkError::ServiceError(se) => se.err().code().unwrap_or("").to_string(),
        other => format!("{other:?}"),
    };
    (code, status)
}

/// The S3 error code and message of a failed SDK call.
pub fn error_message<E: ProvideErrorMetadata + std::fmt::Debug>(
    err: &SdkError<E, aws_smithy_runtime_api::http::Response>,
) -> (String, String) {
    match err {
        SdkError::ServiceError(se) => (
            se.err().code().unwrap_or("").to_string(),
            se.err().message().unwrap_or("").to_string(),
        ),
        other => (format!("{other:?}"), String::new()),
    }
}

/// One raw HTTP/1.1 exchange over a socket (for framings no SDK will produce on demand).
/// Returns the status and the whole response text.
pub async fn raw(addr: &str, request: &[u8]) -> (u16, String) {
    let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
    s.write_all(request).await.expect("write");
    let _ = s.shutdown().await;
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out).await;
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, text)
}

/// `raw` from a socket bound to `local` (any of 127.0.0.0/8 reaches a loopback listener), so
/// the server sees another client address than 127.0.0.1.
pub async fn raw_from(local: [u8; 4], addr: &str, request: &[u8]) -> (u16, String) {
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket
        .bind(std::net::SocketAddr::from((local, 0)))
        .expect("bind");
    let mut s = socket
        .connect(addr.parse().expect("address"))
        .await
        .expect("connect");
    s.write_all(request).await.expect("write");
    let _ = s.shutdown().await;
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out).await;
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, text)
}

/// The value of `<name>` in an XML text.
pub fn xml_value(text: &str, name: &str) -> Option<String> {
    let open = format!("<{name}>");
    let start = text.find(&open)? + open.len();
    let end = text[start..].find(&format!("</{name}>"))? + start;
    Some(text[start..end].to_string())
}

/// A JSON admin call over a real socket: (status, JSON body).
pub async fn admin(
    t: &Twin,
    method: &str,
    path: &str,
    body: Option<serde_json::Value>,
) -> (u16, serde_json::Value) {
    let payload = body.map(|b| b.to_string()).unwrap_or_default();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{payload}",
        t.addr(),
        payload.len()
    );
    let (status, text) = raw(&t.addr(), req.as_bytes()).await;
    let json = text
        .find("\r\n\r\n")
        .and_then(|i| serde_json::from_str(&text[i + 4..]).ok())
        .unwrap_or(serde_json::Value::Null);
    (status, json)
}

/// The s3twin binary in a process of its own, for figures only a process has (its RSS).
pub struct Spawned {
    child: std::process::Child,
    pub addr: String,
    endpoint: String,
    /// What it printed at start: the listening line and the export lines.
    pub banner: String,
}

impl Spawned {
    pub fn start(args: &[&str]) -> Spawned {
        Spawned::start_env(args, &[])
    }

    /// Starts it with `env` set in its environment (the child's only).
    pub fn start_env(args: &[&str], env: &[(&str, &str)]) -> Spawned {
        use std::io::BufRead;
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_s3twin"))
            .args(["--port", "0"])
            .args(args)
            .envs(env.iter().copied())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn s3twin");
        let stdout = child.stdout.take().expect("stdout");
        let mut stdout = std::io::BufReader::new(stdout);
        let mut line = String::new();
        stdout.read_line(&mut line).expect("first line");
        let endpoint = line
            .trim()
            .strip_prefix("s3twin listening on ")
            .expect("listening line")
            .to_string();
        // The banner: a blank line, the export lines, a blank line.
        let mut banner = line.clone();
        let mut blank = 0;
        while blank < 2 {
            line.clear();
            if stdout.read_line(&mut line).unwrap_or(0) == 0 {
                break;
            }
            blank += usize::from(line.trim().is_empty());
            banner.push_str(&line);
        }
        let addr = endpoint
            .split_once("://")
            .map(|(_, a)| a.to_string())
            .expect("endpoint");
        Spawned {
            child,
            addr,
            endpoint,
            banner,
        }
    }

    pub fn endpoint(&self) -> String {
        self.endpoint.clone()
    }

    /// Resident memory in KiB, from /proc.
    pub fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("proc status");
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmRSS")
    }

    /// Peak resident memory in KiB (VmHWM), from /proc.
    pub fn peak_rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("proc status");
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmHWM")
    }

    /// Stops it with SIGTERM (a clean stop) and waits for it to exit.
    pub fn terminate(&mut self) {
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }

    pub fn is_alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub async fn head(
    client: &Client,
    bucket: &str,
    key: &str,
) -> aws_sdk_s3::operation::head_object::HeadObjectOutput {
    client
        .head_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .expect("head object")
}

/// Turns versioning on (`Enabled`) or pauses it (`Suspended`).
pub async fn set_versioning(
    client: &Client,
    bucket: &str,
    status: aws_sdk_s3::types::BucketVersioningStatus,
) {
    use aws_sdk_s3::types::VersioningConfiguration;
    client
        .put_bucket_versioning()
        .bucket(bucket)
        .versioning_configuration(VersioningConfiguration::builder().status(status).build())
        .send()
        .await
        .expect("put versioning");
}

/// Uploads `parts` (numbered from 1) to an open upload; returns them as Complete names them
/// (part number and ETag, no checksums).
pub async fn upload_parts(
    c: &aws_sdk_s3::Client,
    b: &str,
    key: &str,
    id: &str,
    parts: &[Vec<u8>],
) -> Vec<aws_sdk_s3::types::CompletedPart> {
    let mut done = Vec::new();
    for (i, data) in parts.iter().enumerate() {
        let n = i as i32 + 1;
        let out = c
            .upload_part()
            .bucket(b)
            .key(key)
            .upload_id(id)
            .part_number(n)
            .body(data.clone().into())
            .send()
            .await
            .expect("part");
        done.push(
            aws_sdk_s3::types::CompletedPart::builder()
                .part_number(n)
                .e_tag(out.e_tag().expect("etag"))
                .build(),
        );
    }
    done
}

/// One raw request with a body to the twin, answered in full: (status, response text).
pub async fn raw_request(t: &Twin, method: &str, path: &str, body: &str) -> (u16, String) {
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        t.addr(),
        body.len()
    );
    raw(&t.addr(), req.as_bytes()).await
}

/// A new bucket in `region` (its LocationConstraint).
pub async fn new_bucket_in(client: &Client, tag: &str, region: &str) -> String {
    use aws_sdk_s3::types::{BucketLocationConstraint, CreateBucketConfiguration};
    let name = bucket_name(tag);
    client
        .create_bucket()
        .bucket(&name)
        .create_bucket_configuration(
            CreateBucketConfiguration::builder()
                .location_constraint(BucketLocationConstraint::from(region))
                .build(),
        )
        .send()
        .await
        .expect("create bucket");
    name
}

/// Advances a run's clock through the admin API; the answer (with what lifecycle did).
pub async fn advance(t: &Twin, run: &str, by: &str) -> serde_json::Value {
    let (status, body) = admin(
        t,
        "POST",
        &format!("/_s3twin/clock?runId={run}"),
        Some(serde_json::json!({ "advance": by })),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body
}

/// The S3 error code, HTTP status and message of a failed SDK call.
pub fn error_with_status<E: ProvideErrorMetadata + std::fmt::Debug>(
    err: &SdkError<E, aws_smithy_runtime_api::http::Response>,
) -> (String, u16, String) {
    let (code, status) = error_parts(err);
    let message = match err {
        SdkError::ServiceError(se) => se.err().message().unwrap_or("").to_string(),
        _ => String::new(),
    };
    (code, status, message)
}

/// One request a `Receiver` got.
#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    /// Header names lower-cased.
    pub headers: Vec<(String, String)>,
    pub body: serde_json::Value,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A webhook receiver: a real HTTP server on a free port that records every request and
/// answers the statuses of `script` in turn (200 once they run out).
pub struct Receiver {
    pub url: String,
    got: std::sync::Arc<parking_lot::Mutex<Vec<Received>>>,
}

impl Receiver {
    pub async fn start(script: Vec<u16>) -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind receiver");
        let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
        let got = std::sync::Arc::new(parking_lot::Mutex::new(Vec::new()));
        let script = std::sync::Arc::new(parking_lot::Mutex::new(
            script
                .into_iter()
                .collect::<std::collections::VecDeque<u16>>(),
        ));
        let seen = got.clone();
        tokio::spawn(async move {
            while let Ok((mut s, _)) = listener.accept().await {
                let seen = seen.clone();
                let script = script.clone();
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 8192];
                    let (head_end, length) = loop {
                        let Ok(n) = s.read(&mut chunk).await else {
                            return;
                        };
                        if n == 0 {
                            return;
                        }
                        buf.extend_from_slice(&chunk[..n]);
                        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                            let head = String::from_utf8_lossy(&buf[..i]).to_lowercase();
                            let length = head
                                .lines()
                                .find_map(|l| l.strip_prefix("content-length:"))
                                .and_then(|v| v.trim().parse::<usize>().ok())
                                .unwrap_or(0);
                            break (i + 4, length);
                        }
                    };
                    while buf.len() < head_end + length {
                        match s.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    }
                    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
                    let mut lines = head.lines();
                    let path = lines
                        .next()
                        .and_then(|l| l.split_whitespace().nth(1))
                        .unwrap_or("")
                        .to_string();
                    let headers = lines
                        .filter_map(|l| l.split_once(':'))
                        .map(|(n, v)| (n.trim().to_lowercase(), v.trim().to_string()))
                        .collect();
                    let body = serde_json::from_slice(&buf[head_end..head_end + length])
                        .unwrap_or(serde_json::Value::Null);
                    seen.lock().push(Received {
                        path,
                        headers,
                        body,
                    });
                    let status = script.lock().pop_front().unwrap_or(200);
                    let answer = format!(
                        "HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    );
                    let _ = s.write_all(answer.as_bytes()).await;
                    let _ = s.shutdown().await;
                });
            }
        });
        Receiver { url, got }
    }

    pub fn received(&self) -> Vec<Received> {
        self.got.lock().clone()
    }
}

/// A response header's value in a raw response text (names case-insensitive), if present.
pub fn raw_header(text: &str, name: &str) -> Option<String> {
    let head = text.split("\r\n\r\n").next().unwrap_or("");
    head.lines().skip(1).find_map(|line| {
        let (n, v) = line.split_once(':')?;
        n.trim()
            .eq_ignore_ascii_case(name)
            .then(|| v.trim().to_string())
    })
}

/// One raw request with extra header lines (each ending in `\r\n`) and no body.
pub async fn raw_with(t: &Twin, method: &str, path: &str, headers: &str) -> (u16, String) {
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {}\r\n{headers}Content-Length: 0\r\nConnection: close\r\n\r\n",
        t.addr()
    );
    raw(&t.addr(), req.as_bytes()).await
}

/// Puts a CORS configuration given as rule XML (the `<CORSRule>` elements).
pub async fn put_cors_xml(t: &Twin, bucket: &str, rules: &str) {
    let body = format!("<CORSConfiguration>{rules}</CORSConfiguration>");
    let req = format!(
        "PUT /{bucket}?cors HTTP/1.1\r\nHost: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        t.addr(),
        body.len()
    );
    let (status, text) = raw(&t.addr(), req.as_bytes()).await;
    assert_eq!(status, 200, "{text}");
}

/// Creates a run that enforces auth (`{"auth":"enforce"}`); its id.
pub async fn enforcing_run(t: &Twin, tag: &str) -> String {
    let run = bucket_name(tag);
    let (status, body) = admin(
        t,
        "POST",
        "/_s3twin/runs",
        Some(serde_json::json!({ "runId": run, "auth": "enforce" })),
    )
    .await;
    assert_eq!(
        (status, body["auth"].as_str()),
        (201, Some("enforce")),
        "{body}"
    );
    run
}

/// A client for one run signing with these keys.
pub fn keyed_client(t: &Twin, run: &str, access_key: &str, secret: &str) -> Client {
    Client::from_conf(
        config_builder(&format!("{}/t/{run}/", t.server.endpoint()), true)
            .credentials_provider(Credentials::new(access_key, secret, None, None, "test"))
            .build(),
    )
}

/// Standard base64, as S3 carries checksums and keys.
pub fn b64(d: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(d)
}

/// A lifecycle configuration of one rule expiring `prefix` after `days` days.
pub async fn put_expiration_rule(c: &Client, bucket: &str, id: &str, prefix: &str, days: i32) {
    use aws_sdk_s3::types::{
        BucketLifecycleConfiguration, ExpirationStatus, LifecycleExpiration, LifecycleRule,
        LifecycleRuleFilter,
    };
    c.put_bucket_lifecycle_configuration()
        .bucket(bucket)
        .lifecycle_configuration(
            BucketLifecycleConfiguration::builder()
                .rules(
                    LifecycleRule::builder()
                        .id(id)
                        .filter(LifecycleRuleFilter::builder().prefix(prefix).build())
                        .status(ExpirationStatus::Enabled)
                        .expiration(LifecycleExpiration::builder().days(days).build())
                        .build()
                        .expect("rule"),
                )
                .build()
                .expect("config"),
        )
        .send()
        .await
        .expect("put lifecycle");
}
