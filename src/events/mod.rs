//! Event notifications. A store mutation says what it changed; the api layer (or the
//! lifecycle pass) hands that `Change` to the run's `RunEvents`, which matches it against the
//! bucket's parsed `NotificationConfiguration`, builds the records, logs them and queues them
//! for the run's delivery worker. Nothing here blocks or fails the request that raised it.
//!
//! A destination ARN is delivered to when the run has a webhook for it; otherwise its events
//! are logged as undeliverable (a test still reads them from the log).

pub mod config;
mod deliver;
pub mod log;
pub mod record;

pub use config::{DestKind, Notification};
pub use deliver::{Retry, QUEUE_CAPACITY};
pub use log::{Filter, MAX_ENTRIES};

use crate::clock::Millis;
use crate::store::{Bucket, ConfigKind, Deleted, Object};
use bytes::Bytes;
use log::{Entry, Log, Status};
use parking_lot::{Mutex, RwLock};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use tokio::sync::mpsc;

/// The events s3twin raises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventName {
    Put,
    Post,
    Copy,
    CompleteMultipartUpload,
    Delete,
    DeleteMarkerCreated,
    LifecycleExpirationDelete,
    LifecycleExpirationDeleteMarkerCreated,
    LifecycleTransition,
    RestorePost,
    RestoreCompleted,
    RestoreDelete,
    TaggingPut,
    TaggingDelete,
    AclPut,
}

impl EventName {
    /// The record's `eventName` (the configuration's name without `s3:`).
    pub fn name(self) -> &'static str {
        match self {
            EventName::Put => "ObjectCreated:Put",
            EventName::Post => "ObjectCreated:Post",
            EventName::Copy => "ObjectCreated:Copy",
            EventName::CompleteMultipartUpload => "ObjectCreated:CompleteMultipartUpload",
            EventName::Delete => "ObjectRemoved:Delete",
            EventName::DeleteMarkerCreated => "ObjectRemoved:DeleteMarkerCreated",
            EventName::LifecycleExpirationDelete => "LifecycleExpiration:Delete",
            EventName::LifecycleExpirationDeleteMarkerCreated => {
                "LifecycleExpiration:DeleteMarkerCreated"
            }
            EventName::LifecycleTransition => "LifecycleTransition",
            EventName::RestorePost => "ObjectRestore:Post",
            EventName::RestoreCompleted => "ObjectRestore:Completed",
            EventName::RestoreDelete => "ObjectRestore:Delete",
            EventName::TaggingPut => "ObjectTagging:Put",
            EventName::TaggingDelete => "ObjectTagging:Delete",
            EventName::AclPut => "ObjectAcl:Put",
        }
    }

    /// AWS's record version: 2.3 for lifecycle, ACL, tagging and restore-expiry events, 2.1
    /// for the others.
    pub fn version(self) -> &'static str {
        match self {
            EventName::LifecycleExpirationDelete
            | EventName::LifecycleExpirationDeleteMarkerCreated
            | EventName::LifecycleTransition
            | EventName::RestoreDelete
            | EventName::TaggingPut
            | EventName::TaggingDelete
            | EventName::AclPut => "2.3",
            _ => "2.1",
        }
    }

    /// EventBridge's `detail-type`, `reason` and `deletion-type`.
    fn event_bridge(self) -> (&'static str, &'static str, Option<&'static str>) {
        const GONE: Option<&str> = Some("Permanently Deleted");
        const MARKER: Option<&str> = Some("Delete Marker Created");
        match self {
            EventName::Put => ("Object Created", "PutObject", None),
            EventName::Post => ("Object Created", "POST Object", None),
            EventName::Copy => ("Object Created", "CopyObject", None),
            EventName::CompleteMultipartUpload => {
                ("Object Created", "CompleteMultipartUpload", None)
            }
            EventName::Delete => ("Object Deleted", "DeleteObject", GONE),
            EventName::DeleteMarkerCreated => ("Object Deleted", "DeleteObject", MARKER),
            EventName::LifecycleExpirationDelete => {
                ("Object Deleted", "Lifecycle Expiration", GONE)
            }
            EventName::LifecycleExpirationDeleteMarkerCreated => {
                ("Object Deleted", "Lifecycle Expiration", MARKER)
            }
            EventName::LifecycleTransition => ("Object Storage Class Changed", "", None),
            EventName::RestorePost => ("Object Restore Initiated", "", None),
            EventName::RestoreCompleted => ("Object Restore Completed", "", None),
            EventName::RestoreDelete => ("Object Restore Expired", "", None),
            EventName::TaggingPut => ("Object Tags Added", "", None),
            EventName::TaggingDelete => ("Object Tags Deleted", "", None),
            EventName::AclPut => ("Object ACL Updated", "", None),
        }
    }
}

/// What a mutation changed, in the terms of an event record.
#[derive(Debug, Clone)]
pub struct Change {
    pub event: EventName,
    pub key: Arc<str>,
    pub size: Option<u64>,
    pub etag: Option<String>,
    /// `None` for the `null` version (records of unversioned buckets carry no versionId).
    pub version_id: Option<Arc<str>>,
    /// A restore's expiry and the archive's storage class (`glacierEventData`).
    pub restore: Option<(Millis, &'static str)>,
    /// The class a transition moved the object to.
    pub storage_class: Option<&'static str>,
}

fn real_version(v: &Arc<str>) -> Option<Arc<str>> {
    (&**v != crate::store::NULL_VERSION).then(|| v.clone())
}

impl Change {
    /// An event about a stored version (created, tagged, restored, transitioned…).
    pub fn object(event: EventName, o: &Object) -> Change {
        Change {
            event,
            key: o.key.clone(),
            size: Some(o.size()),
            etag: Some(o.etag.to_string()),
            version_id: real_version(&o.version_id),
            restore: None,
            storage_class: None,
        }
    }

    /// A DeleteObject: the version removed (`by_version`: a version id was given, even one
    /// of a delete marker), or the delete marker created.
    pub fn deleted(key: &str, d: &Deleted, by_version: bool) -> Change {
        let event = if d.delete_marker && !by_version {
            EventName::DeleteMarkerCreated
        } else {
            EventName::Delete
        };
        Change {
            event,
            key: key.into(),
            size: None,
            etag: None,
            version_id: d
                .version_id
                .as_deref()
                .filter(|v| *v != crate::store::NULL_VERSION)
                .map(Arc::from),
            restore: None,
            storage_class: None,
        }
    }
}

/// Who caused an event and the ids of the request that did.
#[derive(Debug, Clone)]
pub struct Origin {
    pub request_id: String,
    pub host_id: String,
    pub principal: String,
    pub source_ip: String,
}

impl Origin {
    /// A request of the account's own (s3twin has one account).
    pub fn request(request_id: &str, host_id: &str, account: &str) -> Origin {
        Origin {
            request_id: request_id.to_string(),
            host_id: host_id.to_string(),
            principal: format!("AWS:{account}"),
            source_ip: "127.0.0.1".to_string(),
        }
    }

    /// S3 itself (lifecycle actions): AWS names the principal and source `s3.amazonaws.com`.
    pub fn s3() -> Origin {
        Origin {
            request_id: crate::ids::request_id(),
            host_id: crate::ids::host_id(),
            principal: "s3.amazonaws.com".to_string(),
            source_ip: "s3.amazonaws.com".to_string(),
        }
    }

    fn requester(&self, account: &str) -> String {
        if self.principal.starts_with("AWS:") {
            account.to_string()
        } else {
            self.principal.clone()
        }
    }
}

/// How a server's runs start: webhooks (`--webhook`), retry policy, the account.
#[derive(Debug, Clone)]
pub struct Settings {
    pub webhooks: Vec<(String, String)>,
    pub retry: Retry,
    pub account_id: String,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            webhooks: Vec::new(),
            retry: Retry::default(),
            account_id: crate::config::DEFAULT_ACCOUNT_ID.to_string(),
        }
    }
}

/// What the delivery worker shares with the run.
pub(crate) struct Shared {
    log: Mutex<Log>,
    changed: tokio::sync::Notify,
    retry: Retry,
}

impl Shared {
    fn update(&self, id: u64, f: impl FnOnce(&mut Entry)) {
        if let Some(e) = self.log.lock().get_mut(id) {
            f(e);
        }
        self.changed.notify_waiters();
    }
}

/// Most webhooks one run holds, and the longest URL and ARN one may have.
pub const MAX_WEBHOOKS: usize = 1000;
const MAX_URL: usize = 2048;
const MAX_ARN: usize = 1024;

/// A webhook URL s3twin can deliver to: `http://host[:port][/path]`.
pub fn check_webhook_url(url: &str) -> Result<(), String> {
    if url.len() > MAX_URL {
        return Err(format!("url is longer than {MAX_URL} bytes"));
    }
    let uri: http::Uri = url
        .parse()
        .map_err(|_| format!("url {url:?} is not a URL"))?;
    match uri.scheme_str() {
        Some("http") if uri.host().is_some_and(|h| !h.is_empty()) => Ok(()),
        Some("https") => Err("url must be an http:// URL (https is not delivered to)".into()),
        _ => Err(format!("url {url:?} must be an http:// URL")),
    }
}

/// The webhooks of a configuration that can be delivered to; the others are logged and left
/// out (the command line checks its own before the server starts).
pub fn usable_webhooks(hooks: &[(String, String)]) -> Vec<(String, String)> {
    hooks
        .iter()
        .filter(
            |(arn, url)| match check_arn(arn).and_then(|()| check_webhook_url(url)) {
                Ok(()) => true,
                Err(e) => {
                    tracing::warn!(%arn, error = %e, "webhook ignored");
                    false
                }
            },
        )
        .cloned()
        .collect()
}

/// An ARN webhooks may be registered for: `arn:aws…:service:…`.
pub fn check_arn(arn: &str) -> Result<(), String> {
    if arn.len() > MAX_ARN {
        return Err(format!("arn is longer than {MAX_ARN} bytes"));
    }
    let parts: Vec<&str> = arn.split(':').collect();
    if parts.len() >= 6 && parts[0] == "arn" && parts[1].starts_with("aws") && !parts[2].is_empty()
    {
        Ok(())
    } else {
        Err(format!(
            "arn {arn:?} is not an ARN (arn:aws:sqs:region:account:name)"
        ))
    }
}

/// A destination of one configuration.
struct Target<'a> {
    /// The configuration's `Id` (empty for EventBridge).
    id: &'a str,
    kind: DestKind,
    arn: &'a str,
}

/// One run's notifications: its webhooks, its delivery log and its delivery queue.
pub struct RunEvents {
    shared: Arc<Shared>,
    webhooks: RwLock<BTreeMap<String, String>>,
    queue: OnceLock<mpsc::Sender<deliver::Job>>,
    account: String,
    /// Next sequencer value: increasing, so events for a key order by it.
    sequence: AtomicU64,
}

impl RunEvents {
    pub fn new(settings: &Settings) -> RunEvents {
        RunEvents {
            shared: Arc::new(Shared {
                log: Mutex::new(Log::default()),
                changed: tokio::sync::Notify::new(),
                retry: settings.retry,
            }),
            webhooks: RwLock::new(settings.webhooks.iter().cloned().collect()),
            queue: OnceLock::new(),
            account: settings.account_id.clone(),
            sequence: AtomicU64::new((crate::clock::real_now().max(0) as u64) << 16),
        }
    }

    pub fn set_webhook(&self, arn: &str, url: &str) -> Result<(), String> {
        check_arn(arn)?;
        check_webhook_url(url)?;
        let mut hooks = self.webhooks.write();
        if hooks.len() >= MAX_WEBHOOKS && !hooks.contains_key(arn) {
            return Err(format!("a run holds at most {MAX_WEBHOOKS} webhooks"));
        }
        hooks.insert(arn.to_string(), url.to_string());
        Ok(())
    }

    pub fn remove_webhook(&self, arn: &str) -> bool {
        self.webhooks.write().remove(arn).is_some()
    }

    pub fn clear_webhooks(&self) {
        self.webhooks.write().clear();
    }

    pub fn webhooks(&self) -> Vec<(String, String)> {
        self.webhooks
            .read()
            .iter()
            .map(|(a, u)| (a.clone(), u.clone()))
            .collect()
    }

    /// The delivery log's matching entries as JSON, oldest first.
    pub fn log_json(&self, filter: &Filter, limit: usize) -> Vec<Value> {
        let log = self.shared.log.lock();
        let all: Vec<&Entry> = log.matching(filter).collect();
        let skip = all.len().saturating_sub(limit);
        all[skip..].iter().map(|e| e.to_json()).collect()
    }

    /// Waits until `count` matching entries are settled or `timeout` passed; whether they were.
    pub async fn wait(&self, filter: &Filter, count: usize, timeout: std::time::Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.shared.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.shared.log.lock().settled(filter) >= count {
                return true;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return self.shared.log.lock().settled(filter) >= count;
            }
        }
    }

    fn next_sequencer(&self) -> String {
        format!("{:016X}", self.sequence.fetch_add(1, Ordering::Relaxed))
    }

    /// The bucket's parsed configuration, if it configures anything.
    fn notification(bucket: &Bucket) -> Option<Arc<Notification>> {
        bucket
            .parsed_config(ConfigKind::Notification, Notification::from_doc)
            .filter(|n| !n.is_empty())
    }

    /// Raises `change` on `bucket` at `now` (the run's clock). A no-op for buckets without a
    /// notification configuration; callers check `Bucket::notifies` first so that building
    /// the change costs nothing then.
    pub fn raise(&self, bucket: &Bucket, now: Millis, origin: &Origin, change: Change) {
        let Some(n) = Self::notification(bucket) else {
            return;
        };
        let event = format!("s3:{}", change.event.name());
        let mut matched = n
            .rules
            .iter()
            .filter(|r| r.wants(&event, &change.key))
            .peekable();
        if matched.peek().is_none() && !n.event_bridge {
            return;
        }
        let sequencer = self.next_sequencer();
        let cx = record::Context {
            bucket: &bucket.name,
            region: &bucket.region,
            account: &self.account,
            time: now,
            sequencer: &sequencer,
            origin,
        };
        for rule in matched {
            let records = json!({ "Records": [record::s3_record(&cx, &change, &rule.id)] });
            let payload = match rule.kind {
                DestKind::Topic => {
                    record::sns_envelope(&rule.arn, &records, now, &crate::ids::uuid())
                }
                _ => records,
            };
            let to = Target {
                id: &rule.id,
                kind: rule.kind,
                arn: &rule.arn,
            };
            self.emit(bucket, &change.key, &event, to, now, payload);
        }
        if n.event_bridge {
            let arn = format!(
                "arn:aws:events:{}:{}:event-bus/default",
                bucket.region, self.account
            );
            let payload = record::event_bridge(&cx, &change, &crate::ids::uuid());
            let to = Target {
                id: "",
                kind: DestKind::EventBridge,
                arn: &arn,
            };
            self.emit(bucket, &change.key, &event, to, now, payload);
        }
    }

    /// A configuration was just put: writes look for events only if it configures any, and
    /// S3 sends `s3:TestEvent` to each of its destinations.
    pub fn configuration_put(&self, bucket: &Bucket, now: Millis, origin: &Origin) {
        let configured = Self::notification(bucket);
        bucket.set_notifies(configured.is_some());
        let Some(n) = configured else {
            return;
        };
        let mut seen = std::collections::BTreeSet::new();
        for rule in n.rules.iter().filter(|r| seen.insert(r.arn.as_str())) {
            let message = record::test_event(&bucket.name, now, origin);
            let payload = match rule.kind {
                DestKind::Topic => {
                    record::sns_envelope(&rule.arn, &message, now, &crate::ids::uuid())
                }
                _ => message,
            };
            let to = Target {
                id: &rule.id,
                kind: rule.kind,
                arn: &rule.arn,
            };
            self.emit(bucket, "", "s3:TestEvent", to, now, payload);
        }
    }

    /// Logs one delivery and queues it when the run has a webhook for its ARN.
    fn emit(
        &self,
        bucket: &Bucket,
        key: &str,
        event: &str,
        to: Target,
        now: Millis,
        payload: Value,
    ) {
        let Target { id, kind, arn } = to;
        let url = self.webhooks.read().get(arn).cloned();
        let body = Bytes::from(payload.to_string());
        let mut headers = Vec::new();
        match kind {
            DestKind::Topic => {
                headers.push(("content-type", "text/plain; charset=UTF-8".to_string()));
                headers.push(("x-amz-sns-message-type", "Notification".to_string()));
                headers.push(("x-amz-sns-topic-arn", arn.to_string()));
                if let Some(id) = payload.get("MessageId").and_then(Value::as_str) {
                    headers.push(("x-amz-sns-message-id", id.to_string()));
                }
            }
            _ => headers.push(("content-type", "application/json".to_string())),
        }
        let entry = Entry {
            id: 0,
            time: now,
            bucket: bucket.name.clone(),
            key: key.to_string(),
            event_name: event.to_string(),
            configuration_id: id.to_string(),
            kind: kind.name(),
            arn: arn.to_string(),
            url: url.clone(),
            payload,
            status: if url.is_some() {
                Status::Pending
            } else {
                Status::Undeliverable
            },
            attempts: Vec::new(),
        };
        let id = self.shared.log.lock().push(entry);
        if let Some(url) = url {
            let queue = self.queue.get_or_init(|| {
                let (tx, rx) = mpsc::channel(QUEUE_CAPACITY);
                deliver::spawn(self.shared.clone(), rx);
                tx
            });
            let job = deliver::Job {
                entry: id,
                url,
                body,
                headers,
            };
            if queue.try_send(job).is_err() {
                tracing::warn!(bucket = %bucket.name, event, "notification queue full: event dropped");
                self.shared.update(id, |e| e.status = Status::Dropped);
                return;
            }
        }
        self.shared.changed.notify_waiters();
    }
}
