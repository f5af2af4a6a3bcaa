//! The embedded API: start an s3twin inside a Rust program or test.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! let server = s3twin::S3Server::builder().port(0).build();
//! server.start().await?;
//! let endpoint = server.endpoint(); // http://127.0.0.1:<free port>
//! server.reset().await;
//! server.stop().await?;
//! # Ok(()) }
//! ```

use crate::config::Config;
use crate::server::{self, AppState, Running};
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::sync::Mutex;

pub struct S3Server {
    state: Arc<AppState>,
    running: Mutex<Option<Running>>,
    addr: parking_lot::Mutex<Option<SocketAddr>>,
    /// Why the data directory could not be opened (then the server does not start).
    open_error: Option<String>,
}

#[derive(Debug, Default, Clone)]
pub struct S3ServerBuilder {
    config: Config,
}

impl S3ServerBuilder {
    pub fn host(mut self, host: impl Into<String>) -> Self {
        self.config.host = host.into();
        self
    }

    /// 0 picks a free port (read it back with `S3Server::endpoint`).
    pub fn port(mut self, port: u16) -> Self {
        self.config.port = port;
        self
    }

    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.config.region = region.into();
        self
    }

    /// The AWS account id that owns every bucket (12 digits; default `000000000000`).
    pub fn account_id(mut self, account_id: impl Into<String>) -> Self {
        self.config.account_id = account_id.into();
        self
    }

    /// An extra base domain for virtual-hosted-style requests (`{bucket}.{domain}`).
    pub fn domain(mut self, domain: impl Into<String>) -> Self {
        self.config.domains.push(domain.into());
        self
    }

    /// An extra base domain for website endpoints (`{bucket}.{domain}`).
    pub fn website_domain(mut self, domain: impl Into<String>) -> Self {
        self.config.website_domains.push(domain.into());
        self
    }

    /// Enforce limits relaxed by default (multipart EntityTooSmall).
    pub fn strict(mut self, strict: bool) -> Self {
        self.config.strict = strict;
        self
    }

    /// How long a request body may stall before `RequestTimeout` (`None`: forever).
    pub fn body_idle_timeout(mut self, idle: Option<std::time::Duration>) -> Self {
        self.config.body_idle_timeout = idle;
        self
    }

    /// How long a client may take to send a request's headers.
    pub fn header_read_timeout(mut self, timeout: std::time::Duration) -> Self {
        self.config.header_read_timeout = timeout;
        self
    }

    /// Drop runs (other than the default one) that no request used for `idle`.
    pub fn run_idle_expiry(mut self, idle: Option<std::time::Duration>) -> Self {
        self.config.run_idle_expiry = idle;
        self
    }

    /// Run the default run's clock `rate` times faster than real time (1 to 1,000,000).
    pub fn clock_rate(mut self, rate: f64) -> Self {
        self.config.clock_rate = rate;
        self
    }

    /// Requests each run's request log keeps (default 1,000; 0 turns the log off).
    pub fn request_log_size(mut self, entries: usize) -> Self {
        self.config.request_log_size = entries;
        self
    }

    /// A chaos preset or rule (the JSON `POST /_s3twin/chaos` takes) for the default run,
    /// kept across its resets.
    pub fn chaos(mut self, rule: &serde_json::Value) -> Result<Self, String> {
        self.config.chaos.extend(crate::chaos::parse(rule)?);
        Ok(self)
    }

    /// A notification webhook every run starts with: events for the destination `arn` are
    /// POSTed to `url` (`http://` only; checked when a run is created).
    pub fn webhook(mut self, arn: impl Into<String>, url: impl Into<String>) -> Self {
        self.config.webhooks.push((arn.into(), url.into()));
        self
    }

    /// How notification deliveries are retried (default: 5 attempts, 100 ms doubling).
    pub fn notify_retry(mut self, attempts: u32, backoff: std::time::Duration) -> Self {
        self.config.notify_retry = crate::events::Retry { attempts, backoff };
        self
    }

    /// Authenticate and authorize requests in every run (`--auth enforce`).
    pub fn auth(mut self, mode: crate::auth::identity::AuthMode) -> Self {
        self.config.auth = mode;
        self
    }

    /// An identity besides the defaults (`--user`).
    pub fn user(mut self, user: crate::auth::identity::UserSpec) -> Self {
        self.config.users.push(user);
        self
    }

    /// Serve HTTPS with a certificate signed by the local CA kept in `dir` (made on first
    /// use, reused after; `S3Server::ca_file` is the certificate clients should trust).
    pub fn tls(mut self, dir: impl Into<std::path::PathBuf>) -> Self {
        self.config.tls = Some(crate::server::tls::Source::LocalCa { dir: dir.into() });
        self
    }

    /// Serve HTTPS with your own certificate chain and private key (PEM files).
    pub fn tls_files(
        mut self,
        cert: impl Into<std::path::PathBuf>,
        key: impl Into<std::path::PathBuf>,
    ) -> Self {
        self.config.tls = Some(crate::server::tls::Source::Files {
            cert: cert.into(),
            key: key.into(),
        });
        self
    }

    pub fn config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }

    /// Keeps state in `dir` across restarts (`--data-dir`), with this fsync policy.
    pub fn data_dir(
        mut self,
        dir: impl Into<std::path::PathBuf>,
        fsync: crate::store::persist::Fsync,
    ) -> Self {
        self.config.data_dir = Some(dir.into());
        self.config.fsync = fsync;
        self
    }

    /// Test knobs of the data directory (see `persist::Tuning`); without this call they come
    /// from the environment. In-process tests set them here, not through process-wide
    /// variables.
    #[doc(hidden)]
    pub fn persist_tuning(mut self, tuning: crate::store::persist::Tuning) -> Self {
        self.config.persist_tuning = Some(tuning);
        self
    }

    /// The server; a data directory that cannot be used is `start`'s error.
    pub fn build(self) -> S3Server {
        let (state, open_error) = match AppState::open(self.config.clone()) {
            Ok(state) => (state, None),
            Err(e) => (
                AppState::new(Config {
                    data_dir: None,
                    ..self.config
                }),
                Some(e),
            ),
        };
        S3Server {
            state: Arc::new(state),
            running: Mutex::new(None),
            addr: parking_lot::Mutex::new(None),
            open_error,
        }
    }
}

impl S3Server {
    /// A server on 127.0.0.1:`port` with default settings.
    pub fn new(port: u16) -> Self {
        S3Server::builder().port(port).build()
    }

    pub fn builder() -> S3ServerBuilder {
        S3ServerBuilder::default()
    }

    /// Binds and starts serving on the current tokio runtime. Starting twice is a no-op.
    pub async fn start(&self) -> io::Result<()> {
        if let Some(e) = &self.open_error {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, e.clone()));
        }
        let mut running = self.running.lock().await;
        if running.is_some() {
            return Ok(());
        }
        let listener = server::bind(&self.state.config).await?;
        let r = server::spawn(listener, self.state.clone())?;
        *self.addr.lock() = Some(r.local_addr);
        *running = Some(r);
        Ok(())
    }

    /// The address the server listens on (after `start`).
    pub fn local_addr(&self) -> Option<SocketAddr> {
        *self.addr.lock()
    }

    /// `http://host:port` (`https://` with TLS), the S3 endpoint for clients.
    pub fn endpoint(&self) -> String {
        let scheme = self.state.config.scheme();
        match self.local_addr() {
            Some(a) => format!("{scheme}://{a}"),
            None => format!(
                "{scheme}://{}:{}",
                self.state.config.host, self.state.config.port
            ),
        }
    }

    /// The generated CA's certificate (PEM) for clients to trust, once started with `tls`.
    pub fn ca_file(&self) -> Option<std::path::PathBuf> {
        let dir = match &self.state.config.tls {
            Some(crate::server::tls::Source::LocalCa { dir }) => dir,
            _ => return None,
        };
        Some(dir.join(crate::server::tls::CA_FILE))
    }

    /// The endpoint of one isolated run: `http://host:port/t/{run_id}`.
    pub fn run_endpoint(&self, run_id: &str) -> String {
        format!("{}/t/{run_id}", self.endpoint())
    }

    /// Clears every bucket and object of every run.
    pub async fn reset(&self) {
        self.state.store.reset_all();
    }

    /// Clears one run.
    pub async fn reset_run(&self, run_id: &str) {
        self.state.store.reset_run(run_id);
    }

    /// Stops the server; in-flight requests finish first. State is kept for a later `start`.
    pub async fn stop(&self) -> io::Result<()> {
        if let Some(r) = self.running.lock().await.take() {
            r.stop().await;
        }
        *self.addr.lock() = None;
        Ok(())
    }
}

/// A handle on one run of an embedded server: its S3 endpoint and credentials, and direct
/// (in-process) access to its buckets, objects, lifecycle and clock.
pub struct RunHandle {
    state: Arc<AppState>,
    run: Arc<crate::store::Run>,
    endpoint: String,
    addr: Option<SocketAddr>,
}

impl S3Server {
    /// The run `run_id` (created on first use).
    pub fn run(&self, run_id: &str) -> RunHandle {
        RunHandle {
            state: self.state.clone(),
            run: self.state.store.run(run_id),
            endpoint: self.run_endpoint(run_id),
            addr: self.local_addr(),
        }
    }

    /// The run `run_id`, loaded with a seed (a preset name or a seed document).
    pub fn run_with_seed(
        &self,
        run_id: &str,
        seed: &serde_json::Value,
    ) -> Result<RunHandle, String> {
        let handle = self.run(run_id);
        handle.seed(seed)?;
        Ok(handle)
    }
}

fn invalid(e: crate::error::S3Error) -> String {
    format!("{}: {}", e.code.as_str(), e.message)
}

impl RunHandle {
    pub fn run_id(&self) -> &str {
        &self.run.id
    }

    /// `http://host:port/t/{runId}` (add a trailing `/` for the Rust SDK).
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    pub fn access_key_id(&self) -> &str {
        crate::config::DEFAULT_ACCESS_KEY
    }

    pub fn secret_access_key(&self) -> &str {
        crate::config::DEFAULT_SECRET_KEY
    }

    pub fn region(&self) -> &str {
        &self.state.config.region
    }

    pub fn seed(&self, seed: &serde_json::Value) -> Result<crate::seed::Summary, String> {
        let doc = crate::seed::from_json(seed)?;
        crate::seed::apply(&self.run, &self.state.config.region, doc)
    }

    pub fn create_bucket(&self, bucket: &str) -> Result<(), String> {
        if !crate::api::valid_bucket_name(bucket) {
            return Err(format!("invalid bucket name {bucket:?}"));
        }
        self.run.create_bucket(bucket, &self.state.config.region);
        Ok(())
    }

    pub fn put_object(
        &self,
        bucket: &str,
        key: &str,
        body: impl Into<bytes::Bytes>,
    ) -> Result<(), String> {
        let b = self.run.bucket(bucket).map_err(invalid)?;
        let body: bytes::Bytes = body.into();
        let etag = crate::checksum::md5_hex(&body);
        let object = crate::store::Object::new(
            key,
            crate::store::Body::from_segments(vec![body]),
            etag,
            self.run.now(),
        );
        b.put(object).map(|_| ()).map_err(invalid)
    }

    /// The current body of an object, `None` if there is none.
    pub fn get_object(&self, bucket: &str, key: &str) -> Option<bytes::Bytes> {
        Some(self.run.bucket(bucket).ok()?.get(key)?.body.to_bytes())
    }

    /// Keys of the bucket's current objects, in S3 order.
    pub fn list(&self, bucket: &str) -> Result<Vec<String>, String> {
        let b = self.run.bucket(bucket).map_err(invalid)?;
        let mut keys = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let page = b.list(&crate::store::ListQuery {
                prefix: "",
                delimiter: None,
                after: after.as_deref(),
                max: 1000,
            });
            keys.extend(page.entries.iter().map(|e| e.name().to_string()));
            if !page.truncated {
                return Ok(keys);
            }
            after = page.last_name().map(str::to_string);
        }
    }

    /// Sets the bucket's lifecycle from rules in boto3's shape or `{"expirationDays": N}`.
    pub fn put_bucket_lifecycle(
        &self,
        bucket: &str,
        rules: &serde_json::Value,
    ) -> Result<(), String> {
        let b = self.run.bucket(bucket).map_err(invalid)?;
        let doc = crate::seed::lifecycle_xml(rules)?;
        let doc = crate::api::prepare_lifecycle_doc(doc).map_err(invalid)?;
        b.set_config(crate::store::ConfigKind::Lifecycle, Some(doc));
        Ok(())
    }

    /// Maps a notification destination ARN to an `http://` webhook URL for this run.
    pub fn set_webhook(&self, arn: &str, url: &str) -> Result<(), String> {
        self.run.events.set_webhook(arn, url)?;
        self.run.save_settings();
        Ok(())
    }

    /// The run's delivery log (as `GET /_s3twin/notifications` lists it), once `count`
    /// events settled or `timeout` passed.
    pub async fn notifications(
        &self,
        count: usize,
        timeout: std::time::Duration,
    ) -> Vec<serde_json::Value> {
        let all = crate::events::Filter::default();
        self.run.events.wait(&all, count, timeout).await;
        self.run.events.log_json(&all, crate::events::MAX_ENTRIES)
    }

    /// Moves the run's clock forward (`"8d"`, `"1d12h"`) and runs what became due.
    pub fn advance_clock(&self, by: &str) -> Result<(), String> {
        let ms = crate::clock::parse_duration(by)?;
        let now = self.run.clock.advance(ms)?;
        self.run.save_settings();
        crate::lifecycle::run_due(&self.run, now);
        Ok(())
    }

    /// Runs the run's clock `rate` times faster than real time (1 to 1,000,000; 1 is real
    /// time); lifecycle rules then apply as the sped-up time passes.
    pub fn set_clock_rate(&self, rate: f64) -> Result<(), String> {
        self.run.clock.set_rate(rate)?;
        self.run.save_settings();
        Ok(())
    }

    pub fn reset(&self) {
        self.state.store.reset_run(&self.run.id);
    }

    /// POSTs JSON to an admin route (e.g. `/_clone/seed?runId=…`) over HTTP, as a test's own
    /// tooling would; returns the status and the JSON answer.
    pub async fn admin_post(
        &self,
        path: &str,
        body: &serde_json::Value,
    ) -> io::Result<(u16, serde_json::Value)> {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let addr = self.addr.ok_or_else(|| {
            io::Error::new(io::ErrorKind::NotConnected, "the server is not started")
        })?;
        let payload = body.to_string();
        let mut stream = tokio::net::TcpStream::connect(addr).await?;
        let request = format!(
            "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{payload}",
            payload.len()
        );
        stream.write_all(request.as_bytes()).await?;
        let mut response = Vec::new();
        stream.read_to_end(&mut response).await?;
        let text = String::from_utf8_lossy(&response);
        let status = text
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let json = text
            .split_once("\r\n\r\n")
            .and_then(|(_, b)| serde_json::from_str(b).ok())
            .unwrap_or(serde_json::Value::Null);
        Ok((status, json))
    }
}
