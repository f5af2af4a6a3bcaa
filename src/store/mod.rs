//! The S3 domain: runs, buckets and objects. No HTTP types live here; handlers translate.
//!
//! Locking: the run map, each run's bucket map and each bucket's object map have their own
//! lock. Locks are taken for map operations only, never across an await or a body transfer.

mod acl;
mod body;
mod bucket;
mod config;
mod encryption;
mod keys;
mod list;
mod lock;
mod multipart;
mod object;
pub mod persist;
mod versions;

pub use acl::{
    Acl, CannedAcl, Grant, Grantee, ObjectOwnership, Owner, Permission, GROUPS, MAX_GRANTS,
    OWNER_ID, OWNER_NAME,
};
pub use body::{Body, BodySlices, FileRange};
pub use bucket::{Bucket, Deleted, Versioning};
pub use config::{ConfigKind, IdConfigKind, IdConfigPage};
pub use encryption::{Encryption, SseKind};
pub use keys::Versions;
pub use list::{ListEntry, ListPage, ListQuery};
pub use lock::{check_retention_change, Bypass, DefaultRetention, LockMode, Locked, Retention};
pub use multipart::{
    CompleteClaims, CompletedPart, Part, Upload, UploadSummary, MAX_PART_NUMBER, MIN_PART_SIZE,
};
pub use object::{
    is_archived, storage_class_named, ETag, Extra, ObjKey, Object, ObjectHeaders, PartInfo,
    Restore, StorageClass, NULL_VERSION, STORAGE_CLASSES,
};
pub use versions::{VersionEntry, VersionsPage, VersionsQuery};

use crate::clock::{Clock, Millis};
use crate::error::{Code, S3Error, S3Result};
use parking_lot::RwLock;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

/// Name of the run that requests without a `/t/{runId}/` prefix use.
pub const DEFAULT_RUN: &str = "default";

/// Every run of one server.
pub struct Store {
    runs: RwLock<HashMap<String, Arc<Run>>>,
    /// The default run's clock rate (`--clock-rate`), kept across its resets.
    default_clock_rate: Option<f64>,
    /// The default run's chaos rules (`--chaos`), given again after each of its resets.
    default_chaos: Vec<crate::chaos::RuleSpec>,
    /// Entries each run's request log keeps (0: none).
    request_log_capacity: usize,
    /// What every run's notifications start with (webhooks from `--webhook`, retries).
    events: crate::events::Settings,
    /// The auth mode new runs start with (`--auth`).
    default_auth: crate::auth::identity::AuthMode,
    /// The data directory (`--data-dir`); `None` keeps everything in memory.
    persist: Option<Arc<persist::Persist>>,
}

impl Drop for Store {
    /// The journal writer stops before the model is dropped: the bodies the drop lets go
    /// are still referenced by the journal, so their files must stay.
    fn drop(&mut self) {
        if let Some(p) = &self.persist {
            p.shutdown();
        }
    }
}

impl Default for Store {
    fn default() -> Self {
        Store {
            runs: RwLock::default(),
            default_clock_rate: None,
            default_chaos: Vec::new(),
            request_log_capacity: crate::reqlog::DEFAULT_CAPACITY,
            events: crate::events::Settings::default(),
            default_auth: crate::auth::identity::AuthMode::None,
            persist: None,
        }
    }
}

impl Store {
    pub fn new() -> Self {
        Store::default()
    }

    /// A store whose default run's clock runs `rate` times faster than real time (checked by
    /// `clock::check_rate`; a bad rate leaves it at real time).
    pub fn with_default_clock_rate(rate: f64) -> Self {
        let mut store = Store::default();
        store.default_clock_rate = (rate != 1.0).then_some(rate);
        store
    }

    /// Each run's request log keeps `capacity` entries (0 turns it off).
    pub fn with_request_log(mut self, capacity: usize) -> Self {
        self.request_log_capacity = capacity;
        self
    }

    /// The default run starts (and restarts after a reset) with these chaos rules.
    pub fn with_default_chaos(mut self, rules: Vec<crate::chaos::RuleSpec>) -> Self {
        self.default_chaos = rules;
        self
    }

    /// Sets what every run created from now on starts its notifications with.
    pub fn with_event_settings(mut self, settings: crate::events::Settings) -> Self {
        self.events = settings;
        self
    }

    /// New runs (and reset ones) start in `mode`.
    pub fn set_default_auth(&mut self, mode: crate::auth::identity::AuthMode) {
        self.default_auth = mode;
    }

    /// The data directory, when state persists.
    pub fn persist(&self) -> Option<&Arc<persist::Persist>> {
        self.persist.as_ref()
    }

    /// Writes what is queued and stops journaling (a clean stop).
    pub fn shutdown(&self) {
        if let Some(p) = &self.persist {
            p.shutdown();
        }
    }

    fn new_run(&self, id: &str) -> Arc<Run> {
        let mut run = Run::new(id, self.request_log_capacity, &self.events);
        run.journal = self.persist.as_ref().map(|p| persist::Journal {
            persist: p.clone(),
            run: Arc::from(id),
        });
        run.auth.set_mode(self.default_auth);
        if id == DEFAULT_RUN {
            if let Some(rate) = self.default_clock_rate {
                let _ = run.clock.set_rate(rate);
            }
            if !self.default_chaos.is_empty() {
                let _ = run.chaos.add(self.default_chaos.clone());
            }
        }
        if let Some(p) = &self.persist {
            p.run(&run);
        }
        Arc::new(run)
    }

    /// The run with this id, created on first use (and marked as used now).
    pub fn run(&self, id: &str) -> Arc<Run> {
        if let Some(run) = self.runs.read().get(id) {
            run.touch();
            return run.clone();
        }
        self.runs
            .write()
            .entry(id.to_string())
            .or_insert_with(|| self.new_run(id))
            .clone()
    }

    pub fn existing_run(&self, id: &str) -> Option<Arc<Run>> {
        self.runs.read().get(id).cloned()
    }

    pub fn run_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self.runs.read().keys().cloned().collect();
        ids.sort();
        ids
    }

    /// Drops every run and everything in it.
    pub fn reset_all(&self) {
        let _m = self.persist.as_ref().map(|p| p.begin());
        let mut runs = self.runs.write();
        if let Some(p) = &self.persist {
            for id in runs.keys() {
                p.run_gone(id);
            }
        }
        runs.clear();
    }

    /// Empties one run (buckets, objects, clock); returns whether it existed.
    pub fn reset_run(&self, id: &str) -> bool {
        let _m = self.persist.as_ref().map(|p| p.begin());
        let mut runs = self.runs.write();
        let existed = runs.contains_key(id);
        if existed {
            if let Some(p) = &self.persist {
                p.run_gone(id);
            }
            runs.insert(id.to_string(), self.new_run(id));
        }
        existed
    }

    /// Creates a run; `None` if one with this id exists.
    pub fn create_run(&self, id: &str) -> Option<Arc<Run>> {
        let mut runs = self.runs.write();
        if runs.contains_key(id) {
            return None;
        }
        let run = self.new_run(id);
        runs.insert(id.to_string(), run.clone());
        Some(run)
    }

    /// Deletes a run and everything in it; returns whether it existed.
    pub fn delete_run(&self, id: &str) -> bool {
        let _m = self.persist.as_ref().map(|p| p.begin());
        let mut runs = self.runs.write();
        let gone = runs.remove(id);
        if let (Some(p), Some(_)) = (&self.persist, &gone) {
            p.run_gone(id);
        }
        gone.is_some()
    }

    /// Drops every run but the default one that no request has used for `idle` (real time);
    /// returns their ids.
    pub fn expire_idle_runs(&self, idle: std::time::Duration) -> Vec<String> {
        let cutoff = real_secs().saturating_sub(idle.as_secs() as i64);
        let mut gone = Vec::new();
        let _m = self.persist.as_ref().map(|p| p.begin());
        self.runs.write().retain(|id, run| {
            let keep = id == DEFAULT_RUN || run.last_used.load(Ordering::Relaxed) > cutoff;
            if !keep {
                if let Some(p) = &self.persist {
                    p.run_gone(id);
                }
                gone.push(id.clone());
            }
            keep
        });
        gone
    }

    /// Every run, in id order.
    pub fn runs(&self) -> Vec<Arc<Run>> {
        let mut runs: Vec<Arc<Run>> = self.runs.read().values().cloned().collect();
        runs.sort_by(|a, b| a.id.cmp(&b.id));
        runs
    }
}

/// What CreateBucket did.
#[derive(Debug, PartialEq, Eq)]
pub enum Created {
    New,
    /// The caller already owns a bucket of this name, in this region.
    AlreadyOwned {
        region: String,
    },
}

/// An isolated namespace: its own buckets, clock, request log, chaos rules and notifications
/// (webhooks and delivery log; the store only holds them, `events` runs them).
pub struct Run {
    pub id: String,
    pub clock: Clock,
    pub requests: crate::reqlog::RequestLog,
    pub chaos: crate::chaos::Chaos,
    pub events: crate::events::RunEvents,
    buckets: RwLock<BTreeMap<String, Arc<Bucket>>>,
    /// Strict mode for this run alone (see `Config::strict`).
    strict: std::sync::atomic::AtomicBool,
    /// Real-time second of the last request that used the run (for `--run-idle-expiry`).
    last_used: AtomicI64,
    /// The run's auth mode and its own users.
    pub auth: crate::auth::identity::RunAuth,
    /// Where the run's changes are journaled (`--data-dir`).
    journal: Option<persist::Journal>,
    /// Orders the records of the run's settings (see `save_settings`).
    settings: parking_lot::Mutex<()>,
}

/// Real time in whole seconds.
fn real_secs() -> i64 {
    crate::clock::real_now() / 1000
}

impl Run {
    fn new(id: &str, request_log_capacity: usize, events: &crate::events::Settings) -> Self {
        Run {
            id: id.to_string(),
            clock: Clock::default(),
            requests: crate::reqlog::RequestLog::new(request_log_capacity),
            chaos: crate::chaos::Chaos::default(),
            events: crate::events::RunEvents::new(events),
            buckets: RwLock::new(BTreeMap::new()),
            strict: std::sync::atomic::AtomicBool::new(false),
            last_used: AtomicI64::new(real_secs()),
            auth: Default::default(),
            journal: None,
            settings: parking_lot::Mutex::new(()),
        }
    }

    /// Journals the run's settings (clock, strict and auth modes, users, webhooks, chaos
    /// rules) after a change to them; nothing without `--data-dir`.
    pub fn save_settings(&self) {
        if let Some(j) = &self.journal {
            let _order = self.settings.lock();
            j.persist.run(self);
        }
    }

    /// Where new bodies are written (`--data-dir`); `None`: they stay in memory.
    pub fn body_files(&self) -> Option<&Arc<persist::files::Files>> {
        self.journal.as_ref().map(|j| &j.persist.files)
    }

    /// Marks the run as used now; writes only when the second changed, so that concurrent
    /// requests do not contend on the cache line.
    fn touch(&self) {
        let now = real_secs();
        if self.last_used.load(Ordering::Relaxed) != now {
            self.last_used.store(now, Ordering::Relaxed);
        }
    }

    pub fn strict(&self) -> bool {
        self.strict.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub fn set_strict(&self, strict: bool) {
        self.strict
            .store(strict, std::sync::atomic::Ordering::Relaxed);
    }

    pub fn now(&self) -> Millis {
        self.clock.now()
    }

    pub fn bucket(&self, name: &str) -> S3Result<Arc<Bucket>> {
        self.buckets
            .read()
            .get(name)
            .cloned()
            .ok_or_else(|| S3Error::no_such_bucket(name))
    }

    /// Creates a bucket in `region` (or S3's `EU` alias of eu-west-1).
    pub fn create_bucket(&self, name: &str, region: &str) -> Created {
        self.create_bucket_at(name, region, self.clock.now())
    }

    /// `create_bucket` with the creation instant given (a run imported from an export keeps
    /// its buckets' creation dates).
    pub fn create_bucket_at(&self, name: &str, region: &str, created: Millis) -> Created {
        let mut buckets = self.buckets.write();
        if let Some(existing) = buckets.get(name) {
            return Created::AlreadyOwned {
                region: existing.region.clone(),
            };
        }
        let mut bucket = Bucket::new(name, region, created);
        if let Some(j) = &self.journal {
            bucket.journal = Some(j.clone());
            j.bucket(&bucket, &bucket.state.lock());
        }
        buckets.insert(name.to_string(), Arc::new(bucket));
        Created::New
    }

    /// Deletes an empty bucket; `BucketNotEmpty` otherwise.
    pub fn delete_bucket(&self, name: &str) -> S3Result<()> {
        let mut buckets = self.buckets.write();
        let bucket = buckets
            .get(name)
            .ok_or_else(|| S3Error::no_such_bucket(name))?;
        if !bucket.mark_deleted_if_empty() {
            // A bucket that has had versioning says what is left: versions.
            let e = if bucket.versioning().0 == Versioning::Unversioned {
                S3Error::new(Code::BucketNotEmpty)
            } else {
                S3Error::with_message(
                    Code::BucketNotEmpty,
                    "The bucket you tried to delete is not empty. You must delete all versions in the bucket.",
                )
            };
            return Err(e.extra("BucketName", name));
        }
        if let Some(j) = &self.journal {
            j.bucket_gone(name);
        }
        buckets.remove(name);
        Ok(())
    }

    /// All buckets in name order.
    pub fn buckets(&self) -> Vec<Arc<Bucket>> {
        self.buckets.read().values().cloned().collect()
    }

    pub fn bucket_count(&self) -> usize {
        self.buckets.read().len()
    }
}
