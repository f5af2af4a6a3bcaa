//! The request log: a bounded ring of a run's most recent requests (S3 and admin), filled by
//! the front layer when a response ends, read by `GET /_s3twin/requests`, and tailed live.
//!
//! Cost on the request path: one entry moved into the ring under a short lock (no string is
//! formatted; JSON is rendered only when someone reads). A live tail is a broadcast channel
//! that exists only while someone listens.

use crate::clock::{iso8601, Millis};
use parking_lot::Mutex;
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::sync::Arc;
use tokio::sync::broadcast;

/// Entries kept per run unless configured (`--request-log-size`).
pub const DEFAULT_CAPACITY: usize = 1_000;

/// The largest configurable ring (entries a run).
pub const MAX_CAPACITY: usize = 1_000_000;

/// How many entries a slow live-tail listener may fall behind before it skips some.
const TAIL_BACKLOG: usize = 256;

/// A chaos rule that changed a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Applied {
    pub rule: u64,
    pub action: &'static str,
}

/// One request, as the front layer saw it.
#[derive(Debug, Clone, Default)]
pub struct Entry {
    /// Position in the run's log, from 1; `since` filters on it.
    pub seq: u64,
    pub real_time: Millis,
    pub run_time: Millis,
    pub method: &'static str,
    pub path: String,
    pub operation: &'static str,
    pub bucket: Option<String>,
    pub key: Option<String>,
    pub status: u16,
    pub error_code: Option<&'static str>,
    pub bytes_in: u64,
    pub bytes_out: u64,
    pub duration_us: u64,
    pub request_id: crate::ids::RequestId,
    pub chaos: Vec<Applied>,
}

impl Entry {
    pub fn to_json(&self) -> Value {
        json!({
            "seq": self.seq,
            "time": iso8601(self.real_time),
            "runTime": iso8601(self.run_time),
            "method": self.method,
            "path": self.path,
            "operation": self.operation,
            "bucket": self.bucket,
            "key": self.key,
            "status": self.status,
            "errorCode": self.error_code,
            "bytesIn": self.bytes_in,
            "bytesOut": self.bytes_out,
            "durationMs": self.duration_us as f64 / 1000.0,
            "requestId": self.request_id.as_str(),
            "chaos": self.chaos.iter().map(|a| json!({"ruleId": a.rule, "action": a.action})).collect::<Vec<_>>(),
        })
    }
}

/// The method as a static name (no allocation); methods S3 never uses are `OTHER`.
pub fn method_name(m: &str) -> &'static str {
    const KNOWN: [&str; 7] = ["GET", "PUT", "POST", "DELETE", "HEAD", "OPTIONS", "PATCH"];
    KNOWN.into_iter().find(|k| *k == m).unwrap_or("OTHER")
}

/// Which entries a reader wants. Empty fields match everything.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub operations: Vec<String>,
    /// An exact status (`503`) or a class (`5` for 5xx).
    pub status: Option<StatusFilter>,
    pub error_code: Option<String>,
    /// Entries after this sequence number …
    pub since_seq: Option<u64>,
    /// … or at or after this real-time instant.
    pub since_time: Option<Millis>,
    pub limit: Option<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusFilter {
    Exact(u16),
    Class(u16),
}

impl Filter {
    pub fn matches(&self, e: &Entry) -> bool {
        (self.operations.is_empty() || self.operations.iter().any(|o| o == e.operation))
            && self.status.is_none_or(|s| match s {
                StatusFilter::Exact(c) => e.status == c,
                StatusFilter::Class(c) => e.status / 100 == c,
            })
            && self
                .error_code
                .as_deref()
                .is_none_or(|c| e.error_code == Some(c))
            && self.since_seq.is_none_or(|s| e.seq > s)
            && self.since_time.is_none_or(|t| e.real_time >= t)
    }
}

struct Ring {
    entries: VecDeque<Entry>,
    next_seq: u64,
    /// Present while a live tail may be listening; dropped at the first push without one.
    tail: Option<broadcast::Sender<Arc<Entry>>>,
}

/// A run's request log.
pub struct RequestLog {
    capacity: usize,
    ring: Mutex<Ring>,
}

impl RequestLog {
    /// A log keeping the last `capacity` entries; 0 keeps none (the log is off).
    pub fn new(capacity: usize) -> Self {
        RequestLog {
            capacity: capacity.min(MAX_CAPACITY),
            ring: Mutex::new(Ring {
                entries: VecDeque::new(),
                next_seq: 1,
                tail: None,
            }),
        }
    }

    pub fn enabled(&self) -> bool {
        self.capacity > 0
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Files an entry (its `seq` is assigned here), dropping the oldest past capacity.
    pub fn push(&self, mut entry: Entry) {
        if self.capacity == 0 {
            return;
        }
        let mut ring = self.ring.lock();
        entry.seq = ring.next_seq;
        ring.next_seq += 1;
        if let Some(tx) = &ring.tail {
            if tx.receiver_count() == 0 {
                ring.tail = None;
            } else {
                let _ = tx.send(Arc::new(entry.clone()));
            }
        }
        let evicted = if ring.entries.len() >= self.capacity {
            ring.entries.pop_front()
        } else {
            None
        };
        ring.entries.push_back(entry);
        drop(ring);
        // The evicted entry's strings are freed outside the lock.
        drop(evicted);
    }

    /// The matching entries, oldest first: with a `since`, the first `limit` after it (to page
    /// forward); without, the latest `limit`.
    pub fn query(&self, f: &Filter) -> Vec<Entry> {
        let ring = self.ring.lock();
        let limit = f.limit.unwrap_or(usize::MAX);
        if f.since_seq.is_some() || f.since_time.is_some() {
            ring.entries
                .iter()
                .filter(|e| f.matches(e))
                .take(limit)
                .cloned()
                .collect()
        } else {
            let mut out: Vec<Entry> = ring
                .entries
                .iter()
                .rev()
                .filter(|e| f.matches(e))
                .take(limit)
                .cloned()
                .collect();
            out.reverse();
            out
        }
    }

    /// Subscribes to new entries; also returns the entries already logged that `f` wants
    /// (after its `since`), taken under the same lock so that nothing is missed or repeated.
    pub fn subscribe(&self, f: &Filter) -> (Vec<Entry>, broadcast::Receiver<Arc<Entry>>) {
        let mut ring = self.ring.lock();
        let backlog = if f.since_seq.is_some() || f.since_time.is_some() {
            ring.entries
                .iter()
                .filter(|e| f.matches(e))
                .cloned()
                .collect()
        } else {
            Vec::new()
        };
        let rx = match &ring.tail {
            Some(tx) => tx.subscribe(),
            None => {
                let (tx, rx) = broadcast::channel(TAIL_BACKLOG);
                ring.tail = Some(tx);
                rx
            }
        };
        (backlog, rx)
    }

    /// Live-tail listeners still connected.
    pub fn listeners(&self) -> usize {
        self.ring
            .lock()
            .tail
            .as_ref()
            .map_or(0, |t| t.receiver_count())
    }

    /// How many entries are held (for tests and health).
    pub fn len(&self) -> usize {
        self.ring.lock().entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(op: &'static str, status: u16) -> Entry {
        Entry {
            operation: op,
            status,
            ..Entry::default()
        }
    }

    #[test]
    fn ring_is_bounded_and_numbered() {
        let log = RequestLog::new(3);
        for i in 0..5u16 {
            log.push(entry("PutObject", 200 + i));
        }
        let all = log.query(&Filter::default());
        assert_eq!(all.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![3, 4, 5]);
        let f = Filter {
            since_seq: Some(3),
            limit: Some(1),
            ..Filter::default()
        };
        assert_eq!(log.query(&f)[0].seq, 4);
        let f = Filter {
            limit: Some(1),
            ..Filter::default()
        };
        assert_eq!(log.query(&f)[0].seq, 5);
        let off = RequestLog::new(0);
        off.push(entry("PutObject", 200));
        assert!(off.is_empty());
    }

    #[test]
    fn tail_exists_only_while_listened_to() {
        let log = RequestLog::new(10);
        let (_, mut rx) = log.subscribe(&Filter::default());
        log.push(entry("GetObject", 200));
        assert_eq!(rx.try_recv().map(|e| e.seq).ok(), Some(1));
        drop(rx);
        log.push(entry("GetObject", 200));
        assert!(log.ring.lock().tail.is_none());
    }

    #[test]
    fn an_entry_is_as_small_as_documented() {
        // README and ARCHITECTURE: about 230 bytes plus the strings it holds.
        assert!(
            std::mem::size_of::<Entry>() <= 240,
            "{}",
            std::mem::size_of::<Entry>()
        );
    }

    #[test]
    fn filters() {
        let f = Filter {
            status: Some(StatusFilter::Class(5)),
            operations: vec!["PutObject".into()],
            ..Filter::default()
        };
        assert!(f.matches(&entry("PutObject", 503)));
        assert!(!f.matches(&entry("PutObject", 200)));
        assert!(!f.matches(&entry("GetObject", 503)));
    }
}
