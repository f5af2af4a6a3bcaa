//! A run's delivery log: every event raised, where it went and every attempt, newest last,
//! bounded (the oldest entries go first).

use serde_json::{json, Value};
use std::collections::VecDeque;

/// Entries a run keeps.
pub const MAX_ENTRIES: usize = 10_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Queued or being retried.
    Pending,
    Delivered,
    /// Every attempt failed.
    Failed,
    /// No webhook is registered for the destination ARN.
    Undeliverable,
    /// The run's delivery queue was full.
    Dropped,
}

impl Status {
    fn name(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Delivered => "delivered",
            Status::Failed => "failed",
            Status::Undeliverable => "undeliverable",
            Status::Dropped => "dropped",
        }
    }

    pub fn settled(self) -> bool {
        self != Status::Pending
    }
}

#[derive(Debug, Clone)]
pub struct Attempt {
    /// Real time (ms since the epoch) the attempt started.
    pub at: i64,
    pub status: Option<u16>,
    pub error: Option<String>,
    pub latency_ms: u64,
}

#[derive(Debug, Clone)]
pub struct Entry {
    pub id: u64,
    /// On the run's clock.
    pub time: i64,
    pub bucket: String,
    pub key: String,
    /// `s3:ObjectCreated:Put`, `s3:TestEvent`, …
    pub event_name: String,
    pub configuration_id: String,
    pub kind: &'static str,
    pub arn: String,
    pub url: Option<String>,
    pub payload: Value,
    pub status: Status,
    pub attempts: Vec<Attempt>,
}

impl Entry {
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "time": crate::clock::iso8601(self.time),
            "bucket": self.bucket,
            "key": self.key,
            "eventName": self.event_name,
            "configurationId": self.configuration_id,
            "destination": { "type": self.kind, "arn": self.arn },
            "url": self.url,
            "status": self.status.name(),
            "payload": self.payload,
            "attempts": self.attempts.iter().map(|a| json!({
                "time": crate::clock::iso8601(a.at),
                "status": a.status,
                "error": a.error,
                "latencyMs": a.latency_ms,
            })).collect::<Vec<_>>(),
        })
    }
}

/// What a listing asks for; empty fields match everything.
#[derive(Debug, Default, Clone)]
pub struct Filter {
    pub bucket: Option<String>,
    /// With or without the `s3:` prefix; `ObjectCreated:*` matches the family.
    pub event_name: Option<String>,
    pub key_prefix: Option<String>,
    pub status: Option<String>,
}

impl Filter {
    pub fn matches(&self, e: &Entry) -> bool {
        let name = e.event_name.strip_prefix("s3:").unwrap_or(&e.event_name);
        self.bucket.as_ref().is_none_or(|b| *b == e.bucket)
            && self
                .key_prefix
                .as_ref()
                .is_none_or(|p| e.key.starts_with(p))
            && self.status.as_ref().is_none_or(|s| s == e.status.name())
            && self.event_name.as_ref().is_none_or(|f| {
                let f = f.strip_prefix("s3:").unwrap_or(f);
                match f.strip_suffix('*') {
                    Some(family) => name.starts_with(family),
                    None => name == f,
                }
            })
    }
}

#[derive(Debug, Default)]
pub struct Log {
    entries: VecDeque<Entry>,
    next_id: u64,
}

impl Log {
    /// Adds an entry (its id assigned here) and returns the id.
    pub fn push(&mut self, mut entry: Entry) -> u64 {
        self.next_id += 1;
        entry.id = self.next_id;
        if self.entries.len() >= MAX_ENTRIES {
            self.entries.pop_front();
        }
        self.entries.push_back(entry);
        self.next_id
    }

    /// The entry with this id, unless it was pushed out.
    pub fn get_mut(&mut self, id: u64) -> Option<&mut Entry> {
        let first = self.entries.front()?.id;
        let i = usize::try_from(id.checked_sub(first)?).ok()?;
        self.entries.get_mut(i)
    }

    pub fn matching<'a>(&'a self, f: &'a Filter) -> impl Iterator<Item = &'a Entry> + 'a {
        self.entries.iter().filter(move |e| f.matches(e))
    }

    /// How many matching entries are settled (delivered, failed, undeliverable or dropped).
    pub fn settled(&self, f: &Filter) -> usize {
        self.matching(f).filter(|e| e.status.settled()).count()
    }
}
