//! Bucket configuration documents (CORS, policy, lifecycle, …), kept as the client sent them
//! so they round-trip byte for byte. The api layer validates them before they are stored.

use super::bucket::Bucket;
use std::any::Any;
use std::sync::{Arc, OnceLock};

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum ConfigKind {
    Accelerate,
    Cors,
    Encryption,
    Lifecycle,
    Logging,
    Notification,
    ObjectLock,
    Policy,
    PublicAccessBlock,
    Replication,
    RequestPayment,
    Tagging,
    Website,
    /// The lifecycle's `TransitionDefaultMinimumObjectSize` when it is not the default
    /// (`all_storage_classes_128K`); put and removed with the lifecycle document.
    TransitionMinimumSize,
}

/// Configuration families a bucket holds many of, each document filed under its id
/// (`?metrics&id=…`).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum IdConfigKind {
    Analytics,
    IntelligentTiering,
    Inventory,
    Metrics,
}

/// A page of id-keyed documents: (id, document) in id order, and whether more follow.
pub struct IdConfigPage {
    pub docs: Vec<(String, Arc<str>)>,
    pub truncated: bool,
}

/// A stored document and, once something asked for it, its parsed form: parsed once per
/// document put, not on every request that consults it (lifecycle rules on every GET).
#[derive(Debug, Clone)]
pub(super) struct StoredDoc {
    text: Arc<str>,
    parsed: Arc<OnceLock<Arc<dyn Any + Send + Sync>>>,
}

impl StoredDoc {
    pub(super) fn new(text: String) -> StoredDoc {
        StoredDoc {
            text: text.into(),
            parsed: Arc::default(),
        }
    }

    pub(super) fn text(&self) -> &str {
        &self.text
    }
}

impl Bucket {
    /// The stored document of a kind, if one was put.
    pub fn config(&self, kind: ConfigKind) -> Option<String> {
        self.state
            .lock()
            .configs
            .get(&kind)
            .map(|d| d.text.to_string())
    }

    /// The stored document of a kind in the form `parse` makes of it, parsed at most once per
    /// stored document (outside the bucket lock). Every caller of a kind must ask for the same
    /// type `T`; a different type is parsed afresh each time.
    pub fn parsed_config<T: Any + Send + Sync>(
        &self,
        kind: ConfigKind,
        parse: impl FnOnce(&str) -> T,
    ) -> Option<Arc<T>> {
        let doc = self.state.lock().configs.get(&kind).cloned()?;
        let parsed = doc
            .parsed
            .get_or_init(|| Arc::new(parse(&doc.text)) as Arc<dyn Any + Send + Sync>)
            .clone();
        parsed.downcast::<T>().ok()
    }

    /// Whether the bucket has a notification configuration: a load, for the write path.
    pub fn notifies(&self) -> bool {
        self.notify.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Says whether the stored notification configuration configures anything (an empty
    /// one turns notifications off: writes then skip them at the flag).
    pub fn set_notifies(&self, on: bool) {
        let state = self.state.lock();
        self.notify.store(on, std::sync::atomic::Ordering::Relaxed);
        self.journal_settings(&state);
    }

    /// Stores (`Some`) or removes (`None`) a document.
    pub fn set_config(&self, kind: ConfigKind, doc: Option<String>) {
        let mut state = self.state.lock();
        if kind == ConfigKind::Notification {
            self.notify
                .store(doc.is_some(), std::sync::atomic::Ordering::Relaxed);
        }
        match doc {
            Some(d) => state.configs.insert(
                kind,
                StoredDoc {
                    text: d.into(),
                    parsed: Arc::default(),
                },
            ),
            None => state.configs.remove(&kind),
        };
        self.journal_settings(&state);
    }
}

impl Bucket {
    /// The document filed under `id`, if one was put.
    pub fn id_config(&self, kind: IdConfigKind, id: &str) -> Option<Arc<str>> {
        self.state
            .lock()
            .id_configs
            .get(&(kind, id.to_string()))
            .cloned()
    }

    /// Stores a document under `id`, replacing one already there. A new id past `limit`
    /// documents of the kind is refused (`false`).
    pub fn put_id_config(&self, kind: IdConfigKind, id: &str, doc: String, limit: usize) -> bool {
        let mut state = self.state.lock();
        let key = (kind, id.to_string());
        if !state.id_configs.contains_key(&key)
            && state.id_configs.keys().filter(|(k, _)| *k == kind).count() >= limit
        {
            return false;
        }
        state.id_configs.insert(key, doc.into());
        self.journal_settings(&state);
        true
    }

    /// Removes the document filed under `id`; `false` if there was none.
    pub fn delete_id_config(&self, kind: IdConfigKind, id: &str) -> bool {
        let mut state = self.state.lock();
        let removed = state.id_configs.remove(&(kind, id.to_string())).is_some();
        if removed {
            self.journal_settings(&state);
        }
        removed
    }

    /// Up to `max` documents of a kind whose ids sort after `after`.
    pub fn id_configs(&self, kind: IdConfigKind, after: Option<&str>, max: usize) -> IdConfigPage {
        let state = self.state.lock();
        let mut docs = Vec::new();
        let mut truncated = false;
        let start = (kind, after.unwrap_or("").to_string());
        for ((k, id), doc) in state.id_configs.range(start..) {
            if *k != kind {
                break;
            }
            if after.is_some_and(|a| id.as_str() <= a) {
                continue;
            }
            if docs.len() == max {
                truncated = true;
                break;
            }
            docs.push((id.clone(), doc.clone()));
        }
        IdConfigPage { docs, truncated }
    }
}
