//! Notification webhooks (`/_s3twin/webhooks`) and the delivery log
//! (`/_s3twin/notifications`, with its wait form), per run.

use super::{error, AdminRequest};
use crate::events::Filter;
use crate::server::response::{json, Resp};
use crate::server::AppState;
use serde_json::{json, Value};
use std::time::Duration;

/// Longest a listing may wait for deliveries to settle.
const MAX_WAIT: Duration = Duration::from_secs(60);
/// How long a wait lasts without `timeout`.
const DEFAULT_WAIT: Duration = Duration::from_secs(5);
/// Entries a listing returns without `limit`, and at most.
const MAX_LIMIT: usize = crate::events::MAX_ENTRIES;

fn webhooks_json(run: &crate::store::Run) -> Value {
    let list: Vec<Value> = run
        .events
        .webhooks()
        .into_iter()
        .map(|(arn, url)| json!({ "arn": arn, "url": url }))
        .collect();
    json!({ "runId": run.id, "webhooks": list })
}

/// `GET` lists, `POST {"arn","url"}` adds or replaces, `DELETE ?arn=` removes one (all without).
pub fn webhooks(state: &AppState, req: &AdminRequest) -> Resp {
    let Some(run) = req.run(state) else {
        return req.unknown_run();
    };
    match req.method {
        http::Method::GET => json(200, &webhooks_json(&run)),
        http::Method::POST => {
            let Some(fields) = req.body.as_ref().and_then(Value::as_object) else {
                return error(400, "expected a JSON object: {\"arn\":\"arn:aws:sqs:us-east-1:000000000000:queue\",\"url\":\"http://127.0.0.1:9000/hook\"}");
            };
            if let Some(unknown) = fields.keys().find(|k| !matches!(k.as_str(), "arn" | "url")) {
                return error(
                    400,
                    &format!("unknown field {unknown:?} (allowed: arn, url)"),
                );
            }
            let (Some(arn), Some(url)) = (
                fields.get("arn").and_then(Value::as_str),
                fields.get("url").and_then(Value::as_str),
            ) else {
                return error(400, "arn and url are required strings");
            };
            match run.events.set_webhook(arn, url) {
                Ok(()) => {
                    run.save_settings();
                    json(200, &webhooks_json(&run))
                }
                Err(e) => error(400, &e),
            }
        }
        http::Method::DELETE => match req.query.get("arn") {
            Some(arn) => {
                if run.events.remove_webhook(arn) {
                    run.save_settings();
                    json(200, &webhooks_json(&run))
                } else {
                    error(404, &format!("no webhook for {arn:?}"))
                }
            }
            None => {
                run.events.clear_webhooks();
                run.save_settings();
                json(200, &webhooks_json(&run))
            }
        },
        _ => error(405, "method not allowed for this admin route"),
    }
}

/// `GET /_s3twin/notifications?bucket=&eventName=&prefix=&status=&limit=&wait=N&timeout=5s`.
pub async fn list(state: &AppState, req: &AdminRequest) -> Resp {
    let Some(run) = req.run(state) else {
        return req.unknown_run();
    };
    let text = |name: &str| {
        req.query
            .get(name)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    };
    let filter = Filter {
        bucket: text("bucket"),
        event_name: text("eventName"),
        key_prefix: text("prefix"),
        status: text("status"),
    };
    let limit = match req.query.get("limit") {
        None => MAX_LIMIT,
        Some(l) => match l.parse::<usize>() {
            Ok(n) if n <= MAX_LIMIT => n,
            _ => {
                return error(
                    400,
                    &format!("limit must be a number from 0 to {MAX_LIMIT}"),
                )
            }
        },
    };
    let wait = match req.query.get("wait") {
        None => None,
        Some(w) => match w.parse::<usize>() {
            Ok(n) if n <= MAX_LIMIT => Some(n),
            _ => return error(400, "wait must be a number of events"),
        },
    };
    let timeout = match req.query.get("timeout") {
        None => DEFAULT_WAIT,
        Some(t) => match crate::clock::parse_duration(t) {
            Ok(ms) if ms >= 0 && ms as u128 <= MAX_WAIT.as_millis() => {
                Duration::from_millis(ms as u64)
            }
            _ => return error(400, "timeout must be a duration like \"5s\", at most 60s"),
        },
    };
    let settled = match wait {
        Some(n) => Some(run.events.wait(&filter, n, timeout).await),
        None => None,
    };
    let entries = run.events.log_json(&filter, limit);
    let mut body = json!({ "runId": run.id, "count": entries.len(), "notifications": entries });
    if let Some(s) = settled {
        body["settled"] = s.into();
    }
    json(200, &body)
}
