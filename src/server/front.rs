//! The front of every request: request ids, the dashboard's files and a browser's visit to `/`,
//! admin routing, addressing (run, bucket, key), operation routing, then the error envelope
//! and the headers every S3 response carries.
//! Around the handler: the request log (an entry started here, filed when the response body
//! ends, see `outgoing.rs`) and chaos (latency and errors before the handler; a reset or a
//! truncated body after it).

use super::addressing;
use super::outgoing::{Outgoing, Pending};
use super::query::Query;
use super::response::{error_response, names, set_header_bytes, set_static, ResponseBody};
use super::router::{self, Op};
use super::AppState;
use crate::api::{self, Ctx};
use crate::chaos::{Facts, Fault};
use crate::clock::{http_date_bytes, real_now};
use crate::error::{Code, S3Error};
use crate::ids::RequestIds;
use crate::reqlog::{self, Entry};
use crate::store::{Run, DEFAULT_RUN};
use crate::wire::timed_body::TimedBody;
use futures_util::FutureExt;
use http::{Method, Request, Response};
use hyper::body::Incoming;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Instant;

/// Chaos `reset`: the answer is dropped and hyper closes the connection without a byte.
#[derive(Debug)]
pub struct ChaosReset;

impl std::fmt::Display for ChaosReset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection reset by a chaos rule")
    }
}

impl std::error::Error for ChaosReset {}

/// A request's log entry as far as it is known before the handler runs.
fn log_start(
    run: Arc<Run>,
    run_time: crate::clock::Millis,
    method: &Method,
    started: Instant,
    bytes_in: Arc<AtomicU64>,
) -> Pending {
    Pending {
        entry: Entry {
            real_time: real_now(),
            run_time,
            method: reqlog::method_name(method.as_str()),
            ..Entry::default()
        },
        run,
        started,
        bytes_in,
    }
}

/// `handle`; with `--data-dir`, the answer waits until the journal holds what the request
/// changed (as the fsync policy says). Without it, this is one `Option` check.
pub async fn handle_durable(
    state: Arc<AppState>,
    peer: super::Peer,
    req: Request<Incoming>,
) -> Result<Response<Outgoing>, ChaosReset> {
    let Some(persist) = state.store.persist().cloned() else {
        return handle(state, peer, req).await;
    };
    let (resp, seq) = crate::store::persist::scope(handle(state, peer, req)).await;
    if persist.written(seq).await.is_ok() {
        return resp;
    }
    let ids = RequestIds::new();
    let err = S3Error::internal("the change could not be written to the data directory");
    let resp = error_response(&err, ids.request_id(), ids.host_id(), false);
    Ok(resp.map(|b| Outgoing::new(b, None, None)))
}

pub async fn handle(
    state: Arc<AppState>,
    peer: super::Peer,
    req: Request<Incoming>,
) -> Result<Response<Outgoing>, ChaosReset> {
    let started = Instant::now();
    let ids = RequestIds::new();
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    // The request log is on unless `--request-log-size 0`: it costs this counter and one
    // entry filed when the response ends.
    let bytes_in = (state.config.request_log_size > 0).then(|| Arc::new(AtomicU64::new(0)));
    let req = req.map(|b| {
        let body = TimedBody::new(b, state.config.body_idle_timeout);
        match &bytes_in {
            Some(c) => body.counting(c.clone()),
            None => body,
        }
    });

    // The dashboard's own files are not S3 or admin requests: not logged, no run.
    if crate::dashboard::is_ui_path(&path) {
        let mut resp = crate::dashboard::serve(&method, &path, req.headers());
        set_header_bytes(&mut resp, names::REQUEST_ID, ids.request_id().as_bytes());
        return Ok(resp.map(|b| Outgoing::new(b, None, None)));
    }
    if path == "/" && crate::dashboard::is_browser_visit(&method, req.uri().query(), req.headers())
    {
        let host = req
            .headers()
            .get(http::header::HOST)
            .and_then(|h| h.to_str().ok());
        // Only the service endpoint: `/` of a bucket's host (virtual-hosted, website) is S3's.
        let service = addressing::resolve_with(
            host,
            &path,
            &state.config.domains,
            &state.config.website_domains,
        )
        .is_ok_and(|t| t.bucket.is_none() && !t.website);
        if service {
            let mut resp = crate::dashboard::root_redirect();
            set_header_bytes(&mut resp, names::REQUEST_ID, ids.request_id().as_bytes());
            return Ok(resp.map(|b| Outgoing::new(b, None, None)));
        }
    }

    if crate::admin::is_admin_path(&path) {
        let log = bytes_in.and_then(|c| {
            let run = admin_log_run(&state, &method, &path, req.uri().query())?;
            let run_now = run.now();
            Some(log_start(run, run_now, &method, started, c))
        });
        let mut resp = crate::admin::handle(&state, req).await;
        set_header_bytes(&mut resp, names::REQUEST_ID, ids.request_id().as_bytes());
        let log = log.map(|mut p| {
            p.entry.operation = "Admin";
            p.entry.path = path;
            p.entry.status = resp.status().as_u16();
            p
        });
        return Ok(resp.map(|b| Outgoing::new(b, log, None)));
    }

    let (mut parts, body) = req.into_parts();
    let host = parts
        .headers
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_string)
        .or_else(|| parts.uri.authority().map(|a| a.to_string()));

    let mut op_name = "Unknown";
    let mut now = None;
    let log;
    let mut applied = Vec::new();
    let mut fault_after = None;
    // An actual request's CORS side: (what it asks, its bucket, the run), decided at the end.
    let mut cors = None;
    let mut website = false;
    // The request's bucket and key, for the request log (moved through the handler's context).
    let mut names: (Option<String>, Option<String>) = (None, None);
    let result = match addressing::resolve_with(
        host.as_deref(),
        &path,
        &state.config.domains,
        &state.config.website_domains,
    ) {
        Err(e) => {
            log = bytes_in.map(|c| {
                let run = state.store.run(DEFAULT_RUN);
                let run_now = run.now();
                log_start(run, run_now, &method, started, c)
            });
            Err(e)
        }
        Ok(target) => {
            let run = state.store.run(&target.run);
            let run_now = run.now();
            now = Some(run_now);
            log = bytes_in.map(|c| log_start(run.clone(), run_now, &method, started, c));
            if method != Method::OPTIONS {
                // Only a request with an Origin (and a bucket) pays for the copies.
                cors = api::cors::CorsRequest::from_headers(&parts.headers)
                    .and_then(|c| Some((c, target.bucket.clone()?, run.clone())));
            }
            let query = Query::parse(parts.uri.query());
            crate::auth::presign::hoist_signed_headers(&query, &mut parts.headers);
            website = target.website;
            let authenticated = crate::auth::authenticate(
                &state,
                &run,
                peer,
                &method,
                &parts,
                &query,
                target.bucket.as_deref(),
            );
            let routed = authenticated.and_then(|auth| {
                if website {
                    // The website endpoint answers CORS preflights from the bucket's rules,
                    // as the REST endpoint does (its errors as HTML pages).
                    let op = if method == Method::OPTIONS {
                        Op::CorsPreflight
                    } else {
                        Op::Website
                    };
                    return Ok((op, auth));
                }
                router::route(
                    &method,
                    target.bucket.as_deref(),
                    target.key.as_deref(),
                    &query,
                    &parts.headers,
                )
                .map(|op| (op, auth))
            });
            match routed {
                Err(e) => {
                    names = (target.bucket, target.key);
                    Err(e)
                }
                Ok((op, _)) if over_memory(&state, op, &method, &parts.headers) => {
                    op_name = op.name();
                    names = (target.bucket, target.key);
                    discard(body).await;
                    Err(S3Error::new(Code::SlowDown))
                }
                Ok((op, auth)) => {
                    op_name = op.name();
                    // Chaos, before the handler: latency, and errors answered instead of it.
                    let mut refused = None;
                    if !run.chaos.is_idle() {
                        let facts = Facts {
                            operation: op_name,
                            method: method.as_str(),
                            bucket: target.bucket.as_deref(),
                            key: target.key.as_deref(),
                        };
                        if let Some(d) = run.chaos.decide(&facts) {
                            applied = d.applied;
                            if !d.latency.is_zero() {
                                tokio::time::sleep(d.latency).await;
                            }
                            match d.fault {
                                Some(Fault::Error { code, retry_after }) => {
                                    let mut e = S3Error::new(code);
                                    if let Some(s) = retry_after {
                                        e = e.header("retry-after", s.to_string());
                                    }
                                    refused = Some(e);
                                }
                                other => fault_after = other,
                            }
                        }
                    }
                    if let Some(e) = refused {
                        names = (target.bucket, target.key);
                        discard(body).await;
                        Err(e)
                    } else {
                        let mut ctx = Ctx {
                            auth,
                            state: state.clone(),
                            run,
                            method: method.clone(),
                            headers: parts.headers,
                            query,
                            bucket: target.bucket,
                            key: target.key,
                            ids,
                        };
                        let answer = AssertUnwindSafe(api::dispatch(op, &ctx, body))
                            .catch_unwind()
                            .await
                            .unwrap_or_else(|_| Err(S3Error::internal("handler panicked")));
                        // The names go on to the request log without a copy.
                        names = (ctx.bucket.take(), ctx.key.take());
                        answer
                    }
                }
            }
        }
    };

    let mut error_code = None;
    let mut resp = match result {
        Ok(r) => r,
        Err(e) => {
            error_code = Some(e.code.as_str());
            let (request_id, host_id) = (ids.request_id(), ids.host_id());
            if website {
                api::website::error_page(&e, request_id, host_id, method == Method::HEAD)
            } else {
                error_response(&e, request_id, host_id, method == Method::HEAD)
            }
        }
    };
    if let Some((cors_req, bucket, run)) = &cors {
        api::cors::decorate(run, bucket, cors_req, &method, &mut resp);
    }
    set_header_bytes(&mut resp, names::REQUEST_ID, ids.request_id().as_bytes());
    set_header_bytes(&mut resp, names::HOST_ID, ids.host_id().as_bytes());
    set_header_bytes(
        &mut resp,
        http::header::DATE,
        &http_date_bytes(now.unwrap_or_else(real_now)),
    );
    set_static(&mut resp, http::header::SERVER, "AmazonS3");
    tracing::debug!(
        %method,
        path = %path,
        op = op_name,
        status = resp.status().as_u16(),
        micros = started.elapsed().as_micros() as u64,
        request_id = ids.request_id(),
        "request"
    );
    let log = log.map(|mut p| {
        p.entry.operation = op_name;
        p.entry.status = resp.status().as_u16();
        p.entry.error_code = error_code;
        p.entry.chaos = applied;
        p.entry.path = path;
        p.entry.request_id = ids.request();
        (p.entry.bucket, p.entry.key) = names;
        p
    });
    // Chaos, after the handler: the answer is lost, or its body cut short.
    let cut =
        match fault_after {
            Some(Fault::Reset) => {
                drop(Outgoing::new(ResponseBody::Empty, log, None));
                return Err(ChaosReset);
            }
            Some(Fault::Truncate(bytes)) => Some(bytes.unwrap_or_else(|| {
                http_body::Body::size_hint(resp.body()).exact().unwrap_or(0) / 2
            })),
            _ => None,
        };
    Ok(resp.map(|b| Outgoing::new(b, log, cut)))
}

/// The run an admin request is logged in: its `runId` (when that run exists) or the default
/// run. Reads of the request log itself are not logged, so that polling it leaves it as it was.
fn admin_log_run(
    state: &AppState,
    method: &Method,
    path: &str,
    query: Option<&str>,
) -> Option<Arc<Run>> {
    if *method == Method::GET && crate::admin::is_request_log_path(path) {
        return None;
    }
    match Query::parse(query).get("runId").filter(|r| !r.is_empty()) {
        Some(id) if id != DEFAULT_RUN => state.store.existing_run(id),
        _ => Some(state.store.run(DEFAULT_RUN)),
    }
}

/// `--max-memory`: a request that stores data while the process is (or would get) above the
/// limit. Deletes, reads and completing an upload (its parts are already held) pass.
fn over_memory(state: &AppState, op: Op, method: &Method, headers: &http::HeaderMap) -> bool {
    let Some(guard) = &state.memory else {
        return false;
    };
    if !matches!(*method, Method::PUT | Method::POST)
        || matches!(op, Op::DeleteObjects | Op::CompleteMultipartUpload)
    {
        return false;
    }
    let declared = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
    };
    let incoming = declared("x-amz-decoded-content-length")
        .or_else(|| declared("content-length"))
        .unwrap_or(0);
    guard.refuses(incoming)
}

/// Most of a refused body read and dropped so that the client, still sending, gets to read
/// the answer (a server that stops reading makes the client's send fail first).
const MAX_DISCARD: u64 = 64 * 1024 * 1024;

/// Reads and drops up to `MAX_DISCARD` bytes of a body (no byte is kept).
async fn discard(body: crate::api::ReqBody) {
    use http_body_util::BodyExt;
    let mut body = std::pin::pin!(body);
    let mut seen = 0u64;
    while seen <= MAX_DISCARD {
        match body.frame().await {
            Some(Ok(frame)) => {
                seen += frame.data_ref().map_or(0, |d| d.len() as u64);
            }
            _ => break,
        }
    }
}
