//! The `s3twin` command line.

use clap::{Parser, Subcommand};

// mimalloc's size classes have no per-allocation header: small per-object allocations (keys,
// ETags, version ids) cost about half what glibc charges, and allocation is faster.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;
use s3twin::api::RestoreDurations;
use s3twin::config::{Config, DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY};
use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::prelude::*;

#[derive(Parser, Debug)]
#[command(name = "s3twin", version, about = "A local twin of Amazon S3")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    serve: ServeArgs,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Serve the S3 API (the default).
    Serve(Box<ServeArgs>),
    /// MCP over stdio for agents: tools on an in-process s3twin (free port), or on --endpoint.
    Mcp(McpArgs),
}

#[derive(clap::Args, Debug, Clone)]
struct McpArgs {
    /// Drive a running s3twin instead (http://host:port, or a run's http://host:port/t/{runId}).
    #[arg(long)]
    endpoint: Option<String>,
    /// Region the in-process s3twin answers as.
    #[arg(long, env = "S3TWIN_REGION", default_value = "us-east-1")]
    region: String,
}

#[derive(clap::Args, Debug, Clone)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "S3TWIN_HOST", default_value = "127.0.0.1")]
    host: String,
    /// Port to listen on; 0 picks a free port.
    #[arg(long, short, env = "S3TWIN_PORT", default_value_t = 4566)]
    port: u16,
    /// Region the server answers as.
    #[arg(long, env = "S3TWIN_REGION", default_value = "us-east-1")]
    region: String,
    /// The AWS account id (12 digits) that owns every bucket; `x-amz-expected-bucket-owner`
    /// is checked against it.
    #[arg(long, env = "S3TWIN_ACCOUNT_ID", default_value = s3twin::config::DEFAULT_ACCOUNT_ID, value_parser = parse_account_id)]
    account_id: String,
    /// Extra base domain for virtual-hosted-style addressing ({bucket}.DOMAIN); repeatable.
    #[arg(long = "domain", env = "S3TWIN_DOMAINS", value_delimiter = ',')]
    domains: Vec<String>,
    /// Extra base domain for website endpoints ({bucket}.DOMAIN serves the bucket's website);
    /// repeatable.
    #[arg(
        long = "website-domain",
        env = "S3TWIN_WEBSITE_DOMAINS",
        value_delimiter = ','
    )]
    website_domains: Vec<String>,
    /// Enforce S3 limits that are relaxed by default for tests (multipart parts of at least
    /// 5 MiB but the last).
    #[arg(long, env = "S3TWIN_STRICT")]
    strict: bool,
    /// RestoreObject durations on the run's clock, e.g.
    /// "glacier-expedited=5m,glacier-standard=4h,glacier-bulk=12h,deep-archive-standard=12h,deep-archive-bulk=48h"
    /// (any subset; the rest keep these defaults).
    #[arg(long, env = "S3TWIN_RESTORE_DURATIONS", default_value = "", value_parser = parse_restore_durations)]
    restore_durations: RestoreDurations,
    /// Seconds a request body may stall between two pieces before S3's RequestTimeout
    /// (0 waits forever).
    #[arg(long, env = "S3TWIN_BODY_TIMEOUT", default_value_t = 20)]
    body_timeout: u64,
    /// Seconds a client may take to send a request's headers before the connection is closed.
    #[arg(long, env = "S3TWIN_HEADER_TIMEOUT", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..))]
    header_timeout: u64,
    /// Drop runs other than the default one after this long without a request, e.g. "1h" or
    /// "30m" (real time). Unset: runs, including those created by a first `/t/{runId}/`
    /// request, live until deleted or reset.
    #[arg(long, env = "S3TWIN_RUN_IDLE_EXPIRY", value_parser = parse_real_duration)]
    run_idle_expiry: Option<Duration>,
    /// Resident-memory ceiling, e.g. "2GiB" or "512MiB": above it, requests that store data
    /// answer 503 SlowDown (reads, deletes and the admin API keep working) instead of the
    /// process being killed by the OS. Unset: no ceiling.
    #[arg(long, env = "S3TWIN_MAX_MEMORY", value_parser = s3twin::server::memory::parse_size)]
    max_memory: Option<u64>,
    /// How many times faster than real time the default run's clock runs, e.g. 8640 (a
    /// lifecycle day in 10 s); 1 to 1000000. Other runs set theirs on the clock route.
    #[arg(long, env = "S3TWIN_CLOCK_RATE", default_value_t = 1.0, value_parser = s3twin::clock::check_rate_arg)]
    clock_rate: f64,
    /// Requests each run's request log keeps (the oldest are dropped); 0 turns the log off.
    #[arg(long, env = "S3TWIN_REQUEST_LOG_SIZE", default_value_t = s3twin::reqlog::DEFAULT_CAPACITY, value_parser = parse_request_log_size)]
    request_log_size: usize,
    /// A chaos preset (slow_put, 503_restore, lifecycle_early_delete) or a JSON rule (or list
    /// of rules) the default run starts with, and keeps across its resets; repeatable.
    #[arg(long = "chaos", env = "S3TWIN_CHAOS", value_parser = parse_chaos)]
    chaos: Vec<Vec<s3twin::chaos::RuleSpec>>,
    /// "none" (default): any credentials are accepted; "enforce": signatures are verified
    /// and requests authorized (bucket policies, ACLs, Block Public Access). A run created
    /// with {"auth": ...} chooses its own.
    #[arg(long, env = "S3TWIN_AUTH", default_value = "none", value_parser = parse_auth)]
    auth: s3twin::auth::identity::AuthMode,
    /// An identity besides parlel/parlel and test/test: ACCESS_KEY:SECRET[:name[:account]]
    /// (account: 12 digits, default the server's); repeatable.
    #[arg(long = "user", value_parser = parse_user)]
    users: Vec<s3twin::auth::identity::UserSpec>,
    /// A seed document (JSON) or preset name loaded into the default run at start.
    #[arg(long, env = "S3TWIN_SEED")]
    seed: Option<String>,
    /// A notification webhook every run starts with: ARN=URL, e.g.
    /// "arn:aws:sqs:us-east-1:000000000000:jobs=http://127.0.0.1:9000/hook" (http only);
    /// repeatable.
    #[arg(long = "webhook", value_parser = parse_webhook)]
    webhooks: Vec<(String, String)>,
    /// Attempts per notification delivery (the first one and the retries).
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=100))]
    notify_attempts: u32,
    /// Milliseconds before the first delivery retry; each further retry waits twice as long.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(0..=600_000))]
    notify_backoff_ms: u64,
    /// Stop when standard input reaches end of file: a parent that holds the other end of a
    /// pipe (a test helper) takes the server down with it, even when it is killed.
    #[arg(long)]
    exit_with_stdin: bool,
    /// Keep every run, bucket, object, upload, clock, webhook and chaos rule in this
    /// directory (created if missing) across restarts; bodies are files there. Default: all
    /// state in memory.
    #[arg(long, env = "S3TWIN_DATA_DIR")]
    data_dir: Option<std::path::PathBuf>,
    /// With --data-dir: fsync the journal before every answer (always), at most every 100 ms
    /// (batch), or never. No policy loses an acknowledged write when the process is killed.
    #[arg(long, env = "S3TWIN_FSYNC", default_value = "batch", value_parser = s3twin::store::persist::Fsync::parse)]
    fsync: s3twin::store::persist::Fsync,
    /// Serve HTTPS (HTTP/1.1) instead of HTTP, with a certificate for localhost, 127.0.0.1,
    /// ::1, *.localhost, *.s3.localhost and each --domain, signed by a local CA made on first
    /// use (see --tls-dir).
    #[arg(long, env = "S3TWIN_TLS")]
    tls: bool,
    /// Where the local CA and the server's certificate are kept (private keys 0600). Default:
    /// $XDG_DATA_HOME/s3twin/tls, else ~/.local/share/s3twin/tls.
    #[arg(long, env = "S3TWIN_TLS_DIR")]
    tls_dir: Option<std::path::PathBuf>,
    /// Your own certificate chain (PEM) for HTTPS instead of the local CA's; implies --tls.
    #[arg(long, env = "S3TWIN_TLS_CERT", requires = "tls_key")]
    tls_cert: Option<std::path::PathBuf>,
    /// The private key (PEM) of --tls-cert.
    #[arg(long, env = "S3TWIN_TLS_KEY", requires = "tls_cert")]
    tls_key: Option<std::path::PathBuf>,
}

/// Where the certificate comes from, if HTTPS is asked for.
fn tls_source(args: &ServeArgs) -> Result<Option<s3twin::server::tls::Source>, String> {
    use s3twin::server::tls::Source;
    if let (Some(cert), Some(key)) = (&args.tls_cert, &args.tls_key) {
        return Ok(Some(Source::Files {
            cert: cert.clone(),
            key: key.clone(),
        }));
    }
    if !args.tls {
        return Ok(None);
    }
    let dir = args
        .tls_dir
        .clone()
        .or_else(s3twin::server::tls::default_dir)
        .ok_or("--tls: no directory for the local CA (set --tls-dir or HOME)")?;
    Ok(Some(Source::LocalCa { dir }))
}

fn parse_webhook(spec: &str) -> Result<(String, String), String> {
    let (arn, url) = spec.split_once('=').ok_or("a webhook is ARN=URL")?;
    s3twin::events::check_arn(arn)?;
    s3twin::events::check_webhook_url(url)?;
    Ok((arn.to_string(), url.to_string()))
}

fn parse_real_duration(spec: &str) -> Result<Duration, String> {
    let ms = s3twin::clock::parse_duration(spec)?;
    if ms == 0 {
        return Err("the duration must be more than zero".into());
    }
    Ok(Duration::from_millis(ms.unsigned_abs()))
}

fn parse_request_log_size(s: &str) -> Result<usize, String> {
    s.parse::<usize>()
        .ok()
        .filter(|n| *n <= s3twin::reqlog::MAX_CAPACITY)
        .ok_or_else(|| {
            format!(
                "a number of entries from 0 to {}",
                s3twin::reqlog::MAX_CAPACITY
            )
        })
}

fn parse_chaos(spec: &str) -> Result<Vec<s3twin::chaos::RuleSpec>, String> {
    let trimmed = spec.trim();
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        let v: serde_json::Value = serde_json::from_str(trimmed).map_err(|e| e.to_string())?;
        match v {
            serde_json::Value::Array(_) => s3twin::chaos::parse_list(&v),
            _ => s3twin::chaos::parse(&v),
        }
    } else {
        s3twin::chaos::preset(trimmed)
    }
}

fn parse_restore_durations(spec: &str) -> Result<RestoreDurations, String> {
    RestoreDurations::parse(spec)
}

/// mimalloc's `mi_option_purge_delay` (its place in `mi_option_t`, mimalloc.h v2; the sys
/// crate names only some options).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// When a worker thread goes idle, at most once a second, mimalloc collects what other threads
/// freed of its memory (that waits for the owning thread) and hands it back to the OS. Busy
/// threads do not park, so load does not pay for it.
fn return_freed_memory_when_idle() {
    use std::cell::Cell;
    use std::time::Instant;
    const AT_MOST_EVERY: Duration = Duration::from_secs(1);
    thread_local!(static LAST: Cell<Option<Instant>> = const { Cell::new(None) });
    LAST.with(|last| {
        let now = Instant::now();
        if last
            .get()
            .is_none_or(|t| now.duration_since(t) >= AT_MOST_EVERY)
        {
            last.set(Some(now));
            // SAFETY: mi_collect only walks this thread's own heap; it has no preconditions.
            unsafe { libmimalloc_sys::mi_collect(true) };
        }
    });
}

/// Once a second, a few no-op tasks wake the parked workers, so each runs its idle collect
/// (above) after the last request of a burst too, not only before the next one.
async fn wake_workers_to_tidy() {
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tick.tick().await;
        for _ in 0..workers {
            tokio::spawn(async {});
        }
    }
}

fn init_logging() {
    // RUST_LOG as a target list ("info", "s3twin=debug,warn"); no regex engine needed.
    let filter = std::env::var("RUST_LOG")
        .ok()
        .and_then(|s| s.parse::<Targets>().ok())
        .unwrap_or_else(|| Targets::new().with_default(LevelFilter::INFO));
    tracing_subscriber::registry()
        .with(tracing_subscriber::fmt::layer().with_writer(std::io::stderr))
        .with(filter)
        .init();
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let args = match cli.command {
        Some(Command::Serve(a)) => *a,
        Some(Command::Mcp(m)) => return mcp(m),
        None => cli.serve,
    };
    init_logging();
    let tls = match tls_source(&args) {
        Ok(tls) => tls,
        Err(e) => {
            eprintln!("s3twin: {e}");
            return ExitCode::FAILURE;
        }
    };
    let chaos: Vec<_> = args.chaos.into_iter().flatten().collect();
    if chaos.len() > s3twin::chaos::MAX_RULES {
        eprintln!(
            "s3twin: --chaos: at most {} rules",
            s3twin::chaos::MAX_RULES
        );
        return ExitCode::FAILURE;
    }
    let args_seed = args.seed.clone();
    let exit_with_stdin = args.exit_with_stdin;
    let config = Config {
        host: args.host,
        port: args.port,
        region: args.region,
        account_id: args.account_id,
        domains: args.domains.into_iter().filter(|d| !d.is_empty()).collect(),
        website_domains: args
            .website_domains
            .into_iter()
            .filter(|d| !d.is_empty())
            .collect(),
        strict: args.strict,
        restore_durations: args.restore_durations,
        body_idle_timeout: (args.body_timeout > 0).then(|| Duration::from_secs(args.body_timeout)),
        header_read_timeout: Duration::from_secs(args.header_timeout),
        run_idle_expiry: args.run_idle_expiry,
        max_memory: args.max_memory,
        clock_rate: args.clock_rate,
        request_log_size: args.request_log_size,
        chaos,
        webhooks: args.webhooks,
        notify_retry: s3twin::events::Retry {
            attempts: args.notify_attempts,
            backoff: Duration::from_millis(args.notify_backoff_ms),
        },
        auth: args.auth,
        users: args.users,
        tls,
        data_dir: args.data_dir,
        fsync: args.fsync,
        persist_tuning: None,
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .on_thread_park(return_freed_memory_when_idle)
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("s3twin: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.spawn(wake_workers_to_tidy());
    match runtime.block_on(serve(config, args_seed, exit_with_stdin)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("s3twin: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `s3twin mcp`: stdout carries the protocol only; logs go to stderr.
fn mcp(args: McpArgs) -> ExitCode {
    init_logging();
    let config = Config {
        port: 0,
        region: args.region,
        ..Config::default()
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("s3twin: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(s3twin::mcp::serve_stdio(args.endpoint.as_deref(), config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("s3twin: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(config: Config, seed: Option<String>, exit_with_stdin: bool) -> std::io::Result<()> {
    let listener = s3twin::server::bind(&config).await.map_err(|e| {
        std::io::Error::new(
            e.kind(),
            format!("cannot listen on {}:{}: {e}", config.host, config.port),
        )
    })?;
    let region = config.region.clone();
    let loads_data_dir = config.data_dir.is_some();
    // What reading the journal allocates for a moment (records decoded, then converted, the
    // tables that tie records to body files) goes back to the OS as it is freed: with
    // mimalloc's usual purge delay, memory freed during the load stayed with the idle server
    // in about half of the starts (30 MiB of a 1M-object start, measured), which a collect
    // afterwards did not return.
    // SAFETY: mi_option_get/set take an option number and a value; mi_collect walks this
    // thread's own heap. None has other preconditions.
    let delay = loads_data_dir.then(|| unsafe {
        let delay = libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY);
        libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 0);
        delay
    });
    let state = std::sync::Arc::new(
        s3twin::server::AppState::open(config)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?,
    );
    if let Some(delay) = delay {
        // SAFETY: as above.
        unsafe {
            libmimalloc_sys::mi_collect(true);
            libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, delay);
        }
    }
    if let Some(seed) = seed {
        // A preset name, or a path to a JSON seed document.
        let doc = match std::fs::read_to_string(&seed) {
            Ok(text) => serde_json::from_str::<serde_json::Value>(&text)
                .map_err(|e| format!("{seed}: {e}"))
                .and_then(|v| s3twin::seed::from_json(&v)),
            Err(_) => s3twin::seed::preset(&seed),
        }
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("seed: {e}")))?;
        let run = state.store.run(s3twin::store::DEFAULT_RUN);
        s3twin::seed::apply(&run, &region, doc).map_err(|e| {
            std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("seed: {e}"))
        })?;
    }
    let scheme = state.config.scheme();
    let state_for_stop = state.clone();
    let running = s3twin::server::spawn(listener, state)?;
    let endpoint = format!("{scheme}://{}", running.local_addr);
    // The generated CA, for clients to trust (a certificate of your own is trusted your way).
    let ca = match &running.ca_file {
        Some(ca) => {
            let ca = ca.display();
            format!("\n  export AWS_CA_BUNDLE={ca}\n  export NODE_EXTRA_CA_CERTS={ca}")
        }
        None => String::new(),
    };
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "s3twin listening on {endpoint}\n\
         \n  export AWS_ENDPOINT_URL_S3={endpoint}\
         \n  export AWS_ACCESS_KEY_ID={DEFAULT_ACCESS_KEY}\
         \n  export AWS_SECRET_ACCESS_KEY={DEFAULT_SECRET_KEY}\
         \n  export AWS_REGION={region}\
         \n  export AWS_S3_FORCE_PATH_STYLE=true{ca}\n"
    );
    let _ = out.flush();
    drop(out);
    if exit_with_stdin {
        tokio::select! {
            _ = shutdown_signal() => {}
            _ = stdin_closed() => {}
        }
    } else {
        shutdown_signal().await;
    }
    tracing::info!("stopping");
    running.stop().await;
    state_for_stop.store.shutdown();
    Ok(())
}

/// Resolves when standard input ends (or fails). A plain thread reads it: the wait is a
/// blocking read, and a thread costs less than tokio's stdin support.
async fn stdin_closed() {
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let spawned = std::thread::Builder::new()
        .name("stdin-watch".into())
        .spawn(move || {
            use std::io::Read;
            let mut buf = [0u8; 256];
            let mut stdin = std::io::stdin().lock();
            loop {
                match stdin.read(&mut buf) {
                    Ok(0) => break,
                    Ok(_) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(_) => break,
                }
            }
            let _ = tx.send(());
        });
    if spawned.is_err() {
        // Without the watcher the flag cannot be honoured; stopping beats outliving the parent.
        return;
    }
    let _ = rx.await;
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

fn parse_auth(s: &str) -> Result<s3twin::auth::identity::AuthMode, String> {
    s3twin::auth::identity::AuthMode::parse(s).ok_or_else(|| "none or enforce".to_string())
}

fn parse_user(s: &str) -> Result<s3twin::auth::identity::UserSpec, String> {
    s3twin::auth::identity::UserSpec::parse(s)
}

fn parse_account_id(s: &str) -> Result<String, String> {
    if s3twin::config::is_account_id(s) {
        Ok(s.to_string())
    } else {
        Err("an AWS account id is 12 digits".to_string())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_purge_delay_option_is_the_one_the_start_sets() {
        // mimalloc v2's default purge delay is 10 ms: a different value here means the
        // option number no longer names it (a mimalloc update reordered `mi_option_t`).
        // SAFETY: mi_option_get only reads an option.
        let delay = unsafe { libmimalloc_sys::mi_option_get(super::MI_OPTION_PURGE_DELAY) };
        assert_eq!(delay, 10);
    }
}
