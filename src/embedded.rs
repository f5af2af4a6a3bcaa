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

    /// An extra base domain for virtual-hosted-style requests (`{bucket}.{domain}`).
    pub fn domain(mut self, domain: impl Into<String>) -> Self {
        self.config.domains.push(domain.into());
        self
    }

    /// Enforce limits relaxed by default (multipart EntityTooSmall).
    pub fn strict(mut self, strict: bool) -> Self {
        self.config.strict = strict;
        self
    }

    pub fn config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }

    pub fn build(self) -> S3Server {
        S3Server {
            state: Arc::new(AppState::new(self.config)),
            running: Mutex::new(None),
            addr: parking_lot::Mutex::new(None),
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

    /// `http://host:port`, the S3 endpoint for clients.
    pub fn endpoint(&self) -> String {
        match self.local_addr() {
            Some(a) => format!("http://{a}"),
            None => format!(
                "http://{}:{}",
                self.state.config.host, self.state.config.port
            ),
        }
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
