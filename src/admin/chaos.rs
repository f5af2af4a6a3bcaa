//! Chaos rules: `GET/POST/DELETE /_s3twin/chaos?runId=R`.

use super::{error, AdminRequest};
use crate::chaos;
use crate::server::response::{json, Resp};
use crate::server::AppState;
use serde_json::{json, Value};

pub fn get(state: &AppState, req: &AdminRequest) -> Resp {
    let Some(run) = req.run(state) else {
        return req.unknown_run();
    };
    json(200, &json!({ "runId": run.id, "rules": run.chaos.list() }))
}

/// Adds one rule, a preset (`{"preset": "slow_put"}`) or a list of them; all or nothing.
pub fn post(state: &AppState, req: &AdminRequest) -> Resp {
    let Some(run) = req.run(state) else {
        return req.unknown_run();
    };
    let Some(body) = &req.body else {
        return error(
            400,
            "expected a rule {\"match\":{…},\"action\":{\"type\":…}}, {\"preset\":\"slow_put\"} or a list of them",
        );
    };
    let specs = match body {
        Value::Array(_) => chaos::parse_list(body),
        _ => chaos::parse(body),
    };
    let added = specs.and_then(|s| run.chaos.add(s));
    run.save_settings();
    match added {
        Ok(added) => json(201, &json!({ "runId": run.id, "added": added })),
        Err(e) => error(400, &e),
    }
}

/// `?id=N` removes one rule; without it, every rule.
pub fn delete(state: &AppState, req: &AdminRequest) -> Resp {
    let Some(run) = req.run(state) else {
        return req.unknown_run();
    };
    match req.query.get("id") {
        None => {
            let n = run.chaos.clear();
            run.save_settings();
            json(200, &json!({ "runId": run.id, "removed": n }))
        }
        Some(id) => match id.parse::<u64>() {
            Ok(n) if run.chaos.remove(n) => {
                run.save_settings();
                json(200, &json!({ "runId": run.id, "removed": 1 }))
            }
            Ok(n) => error(404, &format!("no chaos rule {n} in run {:?}", run.id)),
            Err(_) => error(400, "id must be a rule id (an integer)"),
        },
    }
}
