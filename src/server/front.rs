//! The front of every request: request ids, admin routing, addressing (run, bucket, key),
//! operation routing, then the error envelope and the headers every S3 response carries.

use super::addressing;
use super::query::Query;
use super::response::{error_response, set_header, Resp};
use super::router::{self, Op};
use super::AppState;
use crate::api::{self, Ctx};
use crate::clock::{http_date, real_now};
use crate::error::{Code, S3Error};
use crate::ids;
use crate::wire::timed_body::TimedBody;
use futures_util::FutureExt;
use http::{Method, Request};
use hyper::body::Incoming;
use std::convert::Infallible;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Instant;

pub async fn handle(state: Arc<AppState>, req: Request<Incoming>) -> Result<Resp, Infallible> {
    let started = Instant::now();
    let request_id = ids::request_id();
    let host_id = ids::host_id();
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let req = req.map(|b| TimedBody::new(b, state.config.body_idle_timeout));

    if crate::admin::is_admin_path(&path) {
        let mut resp = crate::admin::handle(&state, req).await;
        set_header(&mut resp, "x-amz-request-id", &request_id);
        return Ok(resp);
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
    let result = match addressing::resolve(host.as_deref(), &path, &state.config.domains) {
        Err(e) => Err(e),
        Ok(target) => {
            let run = state.store.run(&target.run);
            now = Some(run.now());
            let query = Query::parse(parts.uri.query());
            crate::auth::presign::hoist_signed_headers(&query, &mut parts.headers);
            let authenticated = crate::auth::authenticate(
                &state,
                &run,
                &method,
                &parts,
                &query,
                target.bucket.as_deref(),
            );
            let routed = authenticated.and_then(|auth| {
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
                Err(e) => Err(e),
                Ok((op, _)) if over_memory(&state, op, &method, &parts.headers) => {
                    op_name = op.name();
                    discard(body).await;
                    Err(S3Error::new(Code::SlowDown))
                }
                Ok((op, auth)) => {
                    op_name = op.name();
                    let ctx = Ctx {
                        auth,
                        state: state.clone(),
                        run,
                        method: method.clone(),
                        headers: parts.headers,
                        query,
                        bucket: target.bucket,
                        key: target.key,
                    };
                    AssertUnwindSafe(api::dispatch(op, ctx, body))
                        .catch_unwind()
                        .await
                        .unwrap_or_else(|_| Err(S3Error::internal("handler panicked")))
                }
            }
        }
    };

    let mut resp = match result {
        Ok(r) => r,
        Err(e) => error_response(&e, &request_id, &host_id, method == Method::HEAD),
    };
    set_header(&mut resp, "x-amz-request-id", &request_id);
    set_header(&mut resp, "x-amz-id-2", &host_id);
    set_header(&mut resp, "date", &http_date(now.unwrap_or_else(real_now)));
    set_header(&mut resp, "server", "AmazonS3");
    tracing::debug!(
        %method,
        path = %path,
        op = op_name,
        status = resp.status().as_u16(),
        micros = started.elapsed().as_micros() as u64,
        request_id = %request_id,
        "request"
    );
    Ok(resp)
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
