//! The admin API (JSON, not S3) under `/_s3twin/`, with the seed documents' aliases
//! `/_parlel/` and `/_clone/`: health, reset, runs, seeds, the clock and presigning, the
//! request log and chaos rules, and a run's export as a seed document.

mod chaos;
mod clock;
pub(crate) mod export;
mod notify;
mod requests;
mod runs;

use crate::server::addressing::valid_run_id;
use crate::server::query::Query;
use crate::server::response::{json, Resp};
use crate::server::AppState;
use crate::store::{Run, DEFAULT_RUN};
use http::{Method, Request};
use http_body_util::{BodyExt, Limited};
use serde_json::{json, Value};
use std::sync::Arc;

const PREFIXES: [&str; 3] = ["/_s3twin/", "/_parlel/", "/_clone/"];

/// Largest admin request body. Seed documents carry object bodies, but JSON is parsed into a
/// tree that can take ~30x its bytes (`[0,0,…]`), so the bound is also a memory bound.
pub(crate) const MAX_ADMIN_BODY: usize = 8 * 1024 * 1024;

/// What a run id may be (see `server::addressing::valid_run_id`).
const RUN_ID_RULE: &str =
    "runId must be 1 to 64 characters of letters, digits, '.', '_' and '-' (not . or ..)";

pub fn is_admin_path(path: &str) -> bool {
    PREFIXES.iter().any(|p| path.starts_with(p))
}

/// The route after the prefix, without trailing slashes.
fn route_of(path: &str) -> &str {
    PREFIXES
        .iter()
        .find_map(|p| path.strip_prefix(p))
        .unwrap_or("")
        .trim_end_matches('/')
}

/// Whether `path` is the request log's route (its reads are not logged themselves).
pub fn is_request_log_path(path: &str) -> bool {
    route_of(path) == "requests"
}

pub(crate) fn error(status: u16, message: &str) -> Resp {
    json(status, &json!({ "error": message }))
}

/// One admin request, parsed: route, query, JSON body, and the origin clients reach us at.
pub(crate) struct AdminRequest {
    pub method: Method,
    pub route: String,
    pub query: Query,
    pub body: Option<Value>,
    /// `http://host:port` from the Host header.
    pub origin: String,
    pub headers: http::HeaderMap,
}

impl AdminRequest {
    pub fn run_id(&self) -> Option<&str> {
        self.query.get("runId").filter(|r| !r.is_empty())
    }

    /// The run named by `?runId=` (the default run without one); `None` for an unknown run.
    pub fn run(&self, state: &AppState) -> Option<Arc<Run>> {
        match self.run_id() {
            None | Some(DEFAULT_RUN) => Some(state.store.run(DEFAULT_RUN)),
            Some(id) => state.store.existing_run(id),
        }
    }

    pub fn unknown_run(&self) -> Resp {
        error(404, &format!("no run {:?}", self.run_id().unwrap_or("")))
    }
}

/// `host`, `host:port`, `[v6]:port`: nothing that could change a URL's meaning.
fn plain_authority(h: &str) -> bool {
    !h.is_empty()
        && h.len() <= 255
        && h.parse::<http::uri::Authority>().is_ok()
        && h.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'))
}

/// `B` is any body (the server passes `api::ReqBody`; tests and fuzz targets pass in-memory
/// bodies).
pub async fn handle<B>(state: &AppState, req: Request<B>) -> Resp
where
    B: http_body::Body<Data = bytes::Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let (parts, body) = req.into_parts();
    if let Some(why) = crate::dashboard::guard::refusal(&parts.method, &parts.headers) {
        return error(403, why);
    }
    let path = parts.uri.path();
    let route = route_of(path).to_string();
    if route == "mcp" {
        return crate::mcp::http::handle(state, parts, body).await;
    }
    let query = Query::parse(parts.uri.query());
    if let Some(r) = query.get("runId").filter(|r| !r.is_empty()) {
        if !valid_run_id(r) {
            return error(400, RUN_ID_RULE);
        }
    }
    let bytes = match Limited::new(body, MAX_ADMIN_BODY).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => return error(413, "request body too large or incomplete"),
    };
    let body = if bytes.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        match serde_json::from_slice::<Value>(&bytes) {
            Ok(v) => Some(v),
            Err(e) => return error(400, &format!("malformed JSON: {e}")),
        }
    };
    // The Host header becomes part of presigned URLs: only a plain host[:port] may.
    let host = match parts.headers.get(http::header::HOST) {
        None => "127.0.0.1",
        Some(h) => match h.to_str().ok().filter(|h| plain_authority(h)) {
            Some(h) => h,
            None => {
                return error(
                    400,
                    "the Host header must be a host name or address with an optional port",
                )
            }
        },
    };
    let origin = format!("{}://{host}", state.config.scheme());
    let req = AdminRequest {
        method: parts.method.clone(),
        route,
        query,
        body,
        origin,
        headers: parts.headers,
    };
    match (&req.method, req.route.as_str()) {
        (&Method::GET, "health") => health(state, req.run_id()),
        (&Method::POST, "reset") => reset(state, req.run_id()),
        (&Method::POST, "seed") => runs::seed(state, &req),
        (&Method::POST, "runs") => runs::create(state, &req),
        (&Method::GET, "runs") => runs::list(state),
        (m, r) if export_of(r).is_some() => {
            let id = export_of(r).unwrap_or_default();
            if m != Method::GET {
                error(405, "method not allowed for this admin route")
            } else if !valid_run_id(id) {
                error(400, RUN_ID_RULE)
            } else {
                export::export(state, &req, id)
            }
        }
        (&Method::DELETE, r) if r.starts_with("runs/") => runs::delete(state, &r["runs/".len()..]),
        (&Method::GET, "clock") => clock::get(state, &req),
        (&Method::POST, "clock") => clock::post(state, &req),
        (&Method::POST, "presign") => clock::presign(state, &req),
        (&Method::GET, "requests") => requests::get(state, &req),
        (&Method::GET, "chaos") => chaos::get(state, &req),
        (&Method::POST, "chaos") => chaos::post(state, &req),
        (&Method::DELETE, "chaos") => chaos::delete(state, &req),
        (_, "webhooks") => notify::webhooks(state, &req),
        (&Method::GET, "notifications") => notify::list(state, &req).await,
        (&Method::POST, "users") => runs::add_user(state, &req),
        (&Method::GET, "users") => runs::list_users(state, &req),
        (
            _,
            "health" | "reset" | "seed" | "runs" | "clock" | "presign" | "requests" | "chaos"
            | "notifications" | "users",
        ) => error(405, "method not allowed for this admin route"),
        _ => error(
            404,
            &format!("no admin route {path}", path = parts.uri.path()),
        ),
    }
}

/// The run id of an export route (`runs/{id}/export`).
fn export_of(route: &str) -> Option<&str> {
    route.strip_prefix("runs/")?.strip_suffix("/export")
}

fn health(state: &AppState, run_id: Option<&str>) -> Resp {
    let run = run_id.unwrap_or(DEFAULT_RUN);
    let existing = state.store.existing_run(run);
    let buckets = existing.as_ref().map_or(0, |r| r.bucket_count());
    let auth = existing.map_or(state.config.auth, |r| r.auth.mode());
    json(
        200,
        &json!({
            "status": "ok",
            "service": "s3",
            "buckets": buckets,
            "runId": run,
            "runs": state.store.run_ids().len(),
            "region": state.config.region,
            "auth": auth.as_str(),
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
