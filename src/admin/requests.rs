//! The request log: `GET /_s3twin/requests?runId=R` (JSON, filtered), or with
//! `Accept: text/event-stream` a live tail as Server-Sent Events.

use super::{error, AdminRequest};
use crate::clock::parse_rfc3339;
use crate::reqlog::{Entry, Filter, StatusFilter};
use crate::server::response::{json, status, Resp, ResponseBody};
use crate::server::AppState;
use bytes::Bytes;
use http::HeaderValue;
use serde_json::json;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;

/// A comment line sent this often keeps proxies from closing a quiet tail, and lets the
/// server notice a listener that went away (the write fails) and drop it.
const HEARTBEAT: Duration = Duration::from_secs(15);

const PARAMS: [&str; 6] = [
    "runId",
    "operation",
    "status",
    "errorCode",
    "since",
    "limit",
];

fn filter(req: &AdminRequest) -> Result<Filter, String> {
    let q = &req.query;
    if let Some(unknown) = q.names().find(|n| !PARAMS.contains(n)) {
        return Err(format!(
            "unknown parameter {unknown:?} (allowed: {})",
            PARAMS.join(", ")
        ));
    }
    let mut f = Filter::default();
    if let Some(ops) = q.get("operation").filter(|s| !s.is_empty()) {
        f.operations = ops.split(',').map(|s| s.trim().to_string()).collect();
    }
    f.status = match q.get("status").filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => Some(parse_status(s).ok_or_else(|| {
            format!("status must be a status code (503) or a class (5xx), not {s:?}")
        })?),
    };
    f.error_code = q
        .get("errorCode")
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    // `Last-Event-ID` (an SSE client reconnecting) counts as `since`.
    let last_event = req
        .headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok());
    if let Some(s) = q.get("since").filter(|s| !s.is_empty()).or(last_event) {
        if let Ok(n) = s.trim().parse::<u64>() {
            f.since_seq = Some(n);
        } else if let Some(t) = parse_rfc3339(s) {
            f.since_time = Some(t);
        } else {
            return Err(format!(
                "since must be an entry's seq or an RFC 3339 instant, not {s:?}"
            ));
        }
    }
    f.limit = match q.get("limit") {
        None => None,
        Some(s) => Some(
            s.parse::<usize>()
                .ok()
                .filter(|n| *n >= 1)
                .ok_or_else(|| format!("limit must be a positive integer, not {s:?}"))?,
        ),
    };
    Ok(f)
}

fn parse_status(s: &str) -> Option<StatusFilter> {
    let lower = s.to_ascii_lowercase();
    if let Some(class) = lower.strip_suffix("xx") {
        return class
            .parse::<u16>()
            .ok()
            .filter(|c| (1..=5).contains(c))
            .map(StatusFilter::Class);
    }
    s.parse::<u16>()
        .ok()
        .filter(|c| (100..=599).contains(c))
        .map(StatusFilter::Exact)
}

fn wants_events(req: &AdminRequest) -> bool {
    req.headers
        .get_all(http::header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains("text/event-stream"))
}

pub fn get(state: &AppState, req: &AdminRequest) -> Resp {
    let Some(run) = req.run(state) else {
        return req.unknown_run();
    };
    let f = match filter(req) {
        Ok(f) => f,
        Err(e) => return error(400, &e),
    };
    if wants_events(req) {
        let (backlog, rx) = run.requests.subscribe(&f);
        return tail(backlog, rx, f, state.stopping.subscribe());
    }
    let entries: Vec<_> = run.requests.query(&f).iter().map(Entry::to_json).collect();
    json(
        200,
        &json!({
            "runId": run.id,
            "capacity": run.requests.capacity(),
            "listeners": run.requests.listeners(),
            "entries": entries,
        }),
    )
}

fn event(e: &Entry) -> Bytes {
    Bytes::from(format!(
        "id: {}\nevent: request\ndata: {}\n\n",
        e.seq,
        e.to_json()
    ))
}

struct Tail {
    backlog: std::vec::IntoIter<Entry>,
    rx: tokio::sync::broadcast::Receiver<std::sync::Arc<Entry>>,
    filter: Filter,
    heartbeat: tokio::time::Interval,
    stopping: tokio::sync::watch::Receiver<bool>,
}

/// The live tail. It holds only a receiver: when the listener goes away hyper drops the body
/// and the receiver with it; a reset (or deleted) run drops the sender and the stream ends, as
/// it does when the server stops.
fn tail(
    backlog: Vec<Entry>,
    rx: tokio::sync::broadcast::Receiver<std::sync::Arc<Entry>>,
    filter: Filter,
    stopping: tokio::sync::watch::Receiver<bool>,
) -> Resp {
    let mut heartbeat = tokio::time::interval(HEARTBEAT);
    heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let state = Tail {
        backlog: backlog.into_iter(),
        rx,
        filter,
        heartbeat,
        stopping,
    };
    let stream = futures_util::stream::unfold(state, |mut st| async move {
        if let Some(e) = st.backlog.next() {
            return Some((event(&e), st));
        }
        loop {
            if *st.stopping.borrow_and_update() {
                return None;
            }
            tokio::select! {
                // A dropped sender (the server is gone) ends the stream too.
                stop = st.stopping.changed() => match stop {
                    Ok(()) => continue,
                    Err(_) => return None,
                },
                got = st.rx.recv() => match got {
                    Ok(e) if st.filter.matches(&e) => return Some((event(&e), st)),
                    Ok(_) => continue,
                    Err(RecvError::Lagged(n)) => {
                        let note = format!("event: lagged\ndata: {{\"skipped\":{n}}}\n\n");
                        return Some((Bytes::from(note), st));
                    }
                    Err(RecvError::Closed) => return None,
                },
                // The first tick is immediate: the listener learns the tail is open.
                _ = st.heartbeat.tick() => {
                    return Some((Bytes::from_static(b": keep-alive\n\n"), st));
                }
            }
        }
    });
    let mut r = http::Response::new(ResponseBody::Stream(Box::pin(stream)));
    *r.status_mut() = status(200);
    let h = r.headers_mut();
    h.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    h.insert(
        http::header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache"),
    );
    r
}
