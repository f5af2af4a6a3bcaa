//! The HTTP server: listener, connection handling and graceful stop. Requests flow
//! `front` (ids, addressing, admin) → `router` → `api` handlers → `store`.

pub mod addressing;
mod conn_io;
mod front;
pub mod memory;
mod outgoing;
pub mod query;
pub mod response;
pub mod router;
pub mod tls;
mod x509;

use crate::config::Config;
use crate::store::Store;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// How often lifecycle rules run on real time.
const LIFECYCLE_TICK: Duration = Duration::from_secs(30);

/// How often they run for runs whose clock is sped up: at a rate of 8640 a second is 2.4
/// virtual hours, so a virtual day's expirations land within a second of real time.
const FAST_CLOCK_TICK: Duration = Duration::from_secs(1);

/// The other end of a connection, as the listener accepted it: `aws:SourceIp` and
/// `aws:SecureTransport` in bucket policies.
#[derive(Debug, Clone, Copy)]
pub struct Peer {
    pub addr: SocketAddr,
    /// The connection is TLS. Plain listeners leave it false; a TLS listener sets it.
    pub secure: bool,
}

impl Default for Peer {
    /// An unknown peer (requests that do not come over a socket, such as a POST form's
    /// stand-in context).
    fn default() -> Self {
        Peer {
            addr: SocketAddr::from(([0, 0, 0, 0], 0)),
            secure: false,
        }
    }
}

/// What every request handler can reach.
pub struct AppState {
    pub store: Store,
    pub config: Config,
    pub started: Instant,
    /// Set by `Config::max_memory`.
    pub memory: Option<memory::MemoryGuard>,
    /// Turns true when the server stops, so that endless responses (the request log's live
    /// tail) end instead of holding the graceful stop.
    pub stopping: watch::Sender<bool>,
    /// The server's identities: the defaults and `--user`.
    pub users: crate::auth::identity::Users,
    /// The listener's address, once serving: the MCP tools call the S3 API there.
    pub local_addr: parking_lot::Mutex<Option<SocketAddr>>,
}

impl AppState {
    /// The state of a server: in memory, or read from `config.data_dir` (a start error when
    /// that directory cannot be used).
    pub fn open(config: Config) -> Result<Self, String> {
        let Some(dir) = config.data_dir.clone() else {
            return Ok(AppState::new(config));
        };
        let started = Instant::now();
        let tuning = match config.persist_tuning {
            Some(t) => t,
            None => crate::store::persist::Tuning::from_env()?,
        };
        let (persist, loaded) = crate::store::persist::Persist::open(&dir, config.fsync, tuning)?;
        let (records, keys) = (loaded.records, loaded.keys);
        let mut state = AppState::new(config);
        state.store = std::mem::take(&mut state.store).with_persist(persist, loaded);
        tracing::info!(
            dir = %dir.display(),
            records,
            keys,
            ms = started.elapsed().as_millis() as u64,
            "data dir loaded"
        );
        Ok(state)
    }

    /// A server whose state lives in memory (`config.data_dir` is not read: see `open`).
    pub fn new(config: Config) -> Self {
        let mut store = Store::with_default_clock_rate(config.clock_rate)
            .with_request_log(config.request_log_size)
            .with_default_chaos(config.chaos.clone())
            .with_event_settings(crate::events::Settings {
                webhooks: crate::events::usable_webhooks(&config.webhooks),
                retry: config.notify_retry,
                account_id: config.account_id.clone(),
            });
        store.set_default_auth(config.auth);
        AppState {
            memory: config.max_memory.map(memory::MemoryGuard::new),
            store,
            users: crate::auth::identity::Users::with_defaults(&config.account_id, &config.users),
            config,
            started: Instant::now(),
            stopping: watch::Sender::new(false),
            local_addr: parking_lot::Mutex::new(None),
        }
    }
}

/// A listening server: its address and the means to stop it.
pub struct Running {
    pub local_addr: SocketAddr,
    /// The CA certificate clients should trust, when serving HTTPS with the generated CA.
    pub ca_file: Option<std::path::PathBuf>,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl Running {
    /// Stops accepting, lets in-flight requests finish (up to 5 s), then returns.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

pub async fn bind(config: &Config) -> std::io::Result<TcpListener> {
    TcpListener::bind((config.host.as_str(), config.port)).await
}

/// Runs `f` every `period` (first at once) until the server stops.
fn every(
    period: Duration,
    stopped: &watch::Receiver<bool>,
    f: impl Fn() + Send + 'static,
) -> JoinHandle<()> {
    let mut stopped = stopped.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(period);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => f(),
                _ = stopped.changed() => break,
            }
        }
    })
}

/// One connection, plain or TLS, served by the front layer (a macro: the connection's type
/// names a closure). `secure` is the connection's `aws:SecureTransport`, for its requests'
/// peer value.
macro_rules! connection {
    ($http:expr, $state:expr, $stream:expr, $addr:expr, secure: $secure:expr) => {{
        let state = $state;
        let peer = Peer {
            addr: $addr,
            secure: $secure,
        };
        let svc = service_fn(move |req| front::handle_durable(state.clone(), peer, req));
        $http.serve_connection(TokioIo::new(conn_io::ConnIo::new($stream)), svc)
    }};
}

/// A TLS connection: the handshake on the connection's own task, bounded in time, then HTTP
/// watched for the graceful stop.
fn spawn_tls(
    tls: &tls::Tls,
    http: &http1::Builder,
    graceful: &GracefulShutdown,
    state: Arc<AppState>,
    stream: tokio::net::TcpStream,
    addr: SocketAddr,
) {
    let acceptor = tls.acceptor.clone();
    let timeout = tls::handshake_timeout(state.config.header_read_timeout);
    let watcher = graceful.watcher();
    let http = http.clone();
    tokio::spawn(async move {
        let stream = match tokio::time::timeout(timeout, acceptor.accept(stream)).await {
            Ok(Ok(stream)) => stream,
            // Plain HTTP or junk on the TLS port, an unknown name or protocol.
            Ok(Err(e)) => {
                tracing::debug!(error = %e, "TLS handshake failed");
                return;
            }
            Err(_) => {
                tracing::debug!("TLS handshake timed out");
                return;
            }
        };
        if let Err(e) = watcher
            .watch(connection!(http, state, stream, addr, secure: true))
            .await
        {
            tracing::debug!(error = %e, "TLS connection ended with an error");
        }
    });
}

/// Serves `listener` on the current tokio runtime until stopped. A connection is secure
/// (`aws:SecureTransport`) exactly when it came through the TLS branch of the accept loop.
pub fn spawn(listener: TcpListener, state: Arc<AppState>) -> std::io::Result<Running> {
    let local_addr = listener.local_addr()?;
    // The certificate is made (or loaded) before anything is served, so a bad one is a start
    // error.
    let tls = match &state.config.tls {
        Some(source) => Some(tls::load(source, &tls::names(&state.config))?),
        None => None,
    };
    let ca_file = tls.as_ref().and_then(|t| t.ca_file.clone());
    *state.local_addr.lock() = Some(local_addr);
    let (stop, mut stopped) = watch::channel(false);
    // A server started again after a stop serves live tails again.
    state.stopping.send_replace(false);
    let mut side_tasks = Vec::new();
    // Lifecycle rules also run on real time, like S3's daily pass (clock advances run them at
    // once, see the admin clock).
    side_tasks.push(every(LIFECYCLE_TICK, &stopped, {
        let state = state.clone();
        move || {
            for run in state.store.runs() {
                crate::lifecycle::run_due(&run, run.now());
            }
        }
    }));
    // Runs at real time only pay for reading their rate here.
    side_tasks.push(every(FAST_CLOCK_TICK, &stopped, {
        let state = state.clone();
        move || {
            for run in state.store.runs() {
                if run.clock.rate() > 1.0 {
                    crate::lifecycle::run_due(&run, run.now());
                }
            }
        }
    }));
    if let Some(check) = state.store.persist().map(|p| p.rewrite_check()) {
        // The journal is rewritten off the request path once mostly superseded (one rewrite
        // at a time; the check, every second unless a test knob says otherwise, is two
        // atomic loads).
        let state = state.clone();
        side_tasks.push(every(check, &stopped, move || {
            if state.store.journal_compaction_due() {
                let state = state.clone();
                tokio::task::spawn_blocking(move || state.store.compact_journal());
            }
        }));
    }
    if let Some(idle) = state.config.run_idle_expiry {
        // Idle runs are looked for at least twice per expiry period.
        let period = (idle / 2).clamp(Duration::from_millis(100), LIFECYCLE_TICK);
        let state = state.clone();
        side_tasks.push(every(period, &stopped, move || {
            for id in state.store.expire_idle_runs(idle) {
                tracing::info!(run = %id, "run expired after being idle");
            }
        }));
    }
    if state.memory.is_some() {
        let state = state.clone();
        side_tasks.push(every(memory::SAMPLE_EVERY, &stopped, move || {
            if let Some(m) = &state.memory {
                m.sample();
            }
        }));
    }
    let task = tokio::spawn(async move {
        let graceful = GracefulShutdown::new();
        let mut http = http1::Builder::new();
        http.timer(TokioTimer::new())
            .header_read_timeout(state.config.header_read_timeout)
            // A client that shuts down its sending side after the request still gets the
            // answer (hyper would otherwise drop a request still being processed).
            .half_close(true)
            .keep_alive(true);
        loop {
            tokio::select! {
                accepted = listener.accept() => {
                    let (stream, addr) = match accepted {
                        Ok(accepted) => accepted,
                        Err(e) => {
                            // Out of file descriptors and the like: back off, keep serving.
                            tracing::warn!(error = %e, "accept failed");
                            tokio::time::sleep(Duration::from_millis(20)).await;
                            continue;
                        }
                    };
                    let _ = stream.set_nodelay(true);
                    let state = state.clone();
                    match &tls {
                        None => {
                            let conn = graceful.watch(connection!(http, state, stream, addr, secure: false));
                            tokio::spawn(async move {
                                if let Err(e) = conn.await {
                                    tracing::debug!(error = %e, "connection ended with an error");
                                }
                            });
                        }
                        Some(tls) => spawn_tls(tls, &http, &graceful, state, stream, addr),
                    }
                }
                _ = stopped.changed() => break,
            }
        }
        drop(listener);
        state.stopping.send_replace(true);
        tokio::select! {
            _ = graceful.shutdown() => {}
            _ = tokio::time::sleep(Duration::from_secs(5)) => {}
        }
        for t in side_tasks {
            let _ = t.await;
        }
    });
    Ok(Running {
        local_addr,
        ca_file,
        stop,
        task,
    })
}
