//! The admin API (JSON, not S3) under `/_s3twin/`, with the seed documents' aliases
//! `/_parlel/` and `/_clone/`.

use crate::server::addressing::valid_run_id;
use crate::server::query::Query;
use crate::server::response::{json, Resp};
use crate::server::AppState;
use crate::store::DEFAULT_RUN;
use http::{Method, Request};
use hyper::body::Incoming;
use serde_json::json;

const PREFIXES: [&str; 3] = ["/_s3twin/", "/_parlel/", "/_clone/"];

pub fn is_admin_path(path: &str) -> bool {
    PREFIXES.iter().any(|p| path.starts_with(p))
}

fn error(status: u16, message: &str) -> Resp {
    json(status, &json!({ "error": message }))
}

pub async fn handle(state: &AppState, req: Request<Incoming>) -> Resp {
    let path = req.uri().path();
    let route = PREFIXES
        .iter()
        .find_map(|p| path.strip_prefix(p))
        .unwrap_or("")
        .trim_end_matches('/');
    let query = Query::parse(req.uri().query());
    let run_id = query.get("runId").filter(|r| !r.is_empty());
    if let Some(r) = run_id {
        if !valid_run_id(r) {
            return error(
                400,
                "runId must be 1 to 64 characters of letters, digits, '.', '_' and '-'",
            );
        }
    }
    match (req.method(), route) {
        (&Method::GET, "health") => health(state, run_id),
        (&Method::POST, "reset") => reset(state, run_id),
        (_, "health") | (_, "reset") => error(405, "method not allowed for this admin route"),
        _ => error(404, &format!("no admin route {path}")),
    }
}

fn health(state: &AppState, run_id: Option<&str>) -> Resp {
    let run = run_id.unwrap_or(DEFAULT_RUN);
    let buckets = state
        .store
        .existing_run(run)
        .map_or(0, |r| r.bucket_count());
    json(
        200,
        &json!({
            "status": "ok",
            "service": "s3",
            "buckets": buckets,
            "runId": run,
            "runs": state.store.run_ids().len(),
            "region": state.config.region,
            "version": env!("CARGO_PKG_VERSION"),
            "uptimeMs": state.started.elapsed().as_millis() as u64,
        }),
    )
}

fn reset(state: &AppState, run_id: Option<&str>) -> Resp {
    match run_id {
        Some(r) => {
            let existed = state.store.reset_run(r);
            json(
                200,
                &json!({ "status": "ok", "reset": r, "existed": existed }),
            )
        }
        None => {
            state.store.reset_all();
            json(200, &json!({ "status": "ok", "reset": "all" }))
        }
    }
}
