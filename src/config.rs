//! Server settings, shared by the CLI and the embedded API.

use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Config {
    pub host: String,
    /// 0 picks a free port.
    pub port: u16,
    /// The region the server answers as (bucket default, `x-amz-bucket-region`).
    pub region: String,
    /// The AWS account id that owns every bucket (`x-amz-expected-bucket-owner` is checked
    /// against it).
    pub account_id: String,
    /// Extra base domains for virtual-hosted-style addressing (`{bucket}.{domain}`).
    pub domains: Vec<String>,
    /// Base domains of website endpoints (`{bucket}.{domain}` serves the bucket's website).
    pub website_domains: Vec<String>,
    /// Enforce limits tests usually want relaxed: multipart parts other than the last must
    /// be at least 5 MiB (EntityTooSmall).
    pub strict: bool,
    /// How long RestoreObject takes per storage class and tier (on the run's clock).
    pub restore_durations: crate::api::RestoreDurations,
    /// Longest wait for the next piece of a request body before S3's `RequestTimeout`
    /// (`None`: wait forever).
    pub body_idle_timeout: Option<Duration>,
    /// Longest time a client may take to send a request's headers; the connection is closed
    /// after it.
    pub header_read_timeout: Duration,
    /// Runs other than the default one that no request used for this long (real time) are
    /// dropped with everything in them (`None`: runs live until deleted or reset).
    pub run_idle_expiry: Option<Duration>,
    /// Resident-memory ceiling in bytes: above it, writes answer 503 `SlowDown`.
    pub max_memory: Option<u64>,
    /// How many times faster than real time the default run's clock runs (1 to
    /// `clock::MAX_RATE`; 1 is real time).
    pub clock_rate: f64,
    /// Entries each run's request log keeps (`reqlog::DEFAULT_CAPACITY`; 0 turns it off).
    pub request_log_size: usize,
    /// Chaos rules and presets the default run starts with (`--chaos`).
    pub chaos: Vec<crate::chaos::RuleSpec>,
    /// Webhooks every run starts with: destination ARN → `http://` URL (`--webhook ARN=URL`).
    pub webhooks: Vec<(String, String)>,
    /// How notification deliveries are retried (`--notify-attempts`, `--notify-backoff`).
    pub notify_retry: crate::events::Retry,
    /// Whether runs authenticate and authorize requests (`--auth`; a run may choose its own).
    pub auth: crate::auth::identity::AuthMode,
    /// Identities besides the defaults (`--user AK:SK[:name[:account]]`).
    pub users: Vec<crate::auth::identity::UserSpec>,
    /// Serve HTTPS instead of HTTP (`--tls`), with this certificate.
    pub tls: Option<crate::server::tls::Source>,
    /// Keep state in this directory across restarts (`--data-dir`); `None`: in memory.
    pub data_dir: Option<std::path::PathBuf>,
    /// When the data directory's journal is fsynced (`--fsync`).
    pub fsync: crate::store::persist::Fsync,
    /// Test knobs of the data directory (journal rewrite thresholds, no hole punching);
    /// `None`: the defaults, or the `S3TWIN_JOURNAL_*` / `S3TWIN_NO_HOLE_PUNCH` variables.
    pub persist_tuning: Option<crate::store::persist::Tuning>,
}

impl Config {
    /// The scheme clients reach this server with: `https` with `--tls`.
    pub fn scheme(&self) -> &'static str {
        if self.tls.is_some() {
            "https"
        } else {
            "http"
        }
    }
}

/// S3 closes a connection whose request body stalls for about 20 seconds.
pub const DEFAULT_BODY_IDLE_TIMEOUT: Duration = Duration::from_secs(20);
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

impl Default for Config {
    fn default() -> Self {
        Config {
            host: "127.0.0.1".to_string(),
            port: 4566,
            region: "us-east-1".to_string(),
            account_id: DEFAULT_ACCOUNT_ID.to_string(),
            domains: Vec::new(),
            website_domains: Vec::new(),
            strict: false,
            restore_durations: crate::api::RestoreDurations::default(),
            body_idle_timeout: Some(DEFAULT_BODY_IDLE_TIMEOUT),
            header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
            run_idle_expiry: None,
            max_memory: None,
            clock_rate: 1.0,
            request_log_size: crate::reqlog::DEFAULT_CAPACITY,
            chaos: Vec::new(),
            webhooks: Vec::new(),
            notify_retry: crate::events::Retry::default(),
            auth: crate::auth::identity::AuthMode::None,
            users: Vec::new(),
            tls: None,
            data_dir: None,
            fsync: crate::store::persist::Fsync::default(),
            persist_tuning: None,
        }
    }
}

/// The account id buckets belong to unless configured (`--account-id`).
pub const DEFAULT_ACCOUNT_ID: &str = "000000000000";

/// Whether `s` is an AWS account id: twelve digits.
pub fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// The credentials s3twin advertises (any are accepted while auth is not enforced).
pub const DEFAULT_ACCESS_KEY: &str = "parlel";
pub const DEFAULT_SECRET_KEY: &str = "parlel";
