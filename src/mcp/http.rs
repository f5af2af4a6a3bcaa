//! MCP over streamable HTTP at `/_s3twin/mcp`: rmcp's `StreamableHttpService` (a tower
//! service over `http` types, no web framework) called from the admin router. Stateless,
//! with JSON answers: every POST is answered whole, so no connection stays open and a
//! graceful stop is never held up by an event stream. Without sessions a call's default run
//! is `default`; tools take `runId`.

use super::{reachable, S3TwinMcp, Twin};
use crate::server::response::{Resp, ResponseBody};
use crate::server::AppState;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use std::sync::Arc;

/// Largest MCP request (a seed document travels in one).
const MAX_BODY: usize = 8 * 1024 * 1024;

pub async fn handle<B>(state: &AppState, parts: http::request::Parts, body: B) -> Resp
where
    B: http_body::Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let Some(addr) = *state.local_addr.lock() else {
        return crate::admin::error(503, "the server is not listening yet");
    };
    let addr = reachable(addr);
    let bytes = match Limited::new(body, MAX_BODY).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => return crate::admin::error(413, "request body too large or incomplete"),
    };
    // The tools hand out endpoints at the address this client reached us at.
    let origin = parts
        .headers
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .map_or_else(|| format!("http://{addr}"), |h| format!("http://{h}"));
    let twin = Twin { addr, origin };
    // Host names other than these are refused (403), against DNS rebinding from a browser.
    let mut hosts = vec!["localhost".to_string(), "127.0.0.1".into(), "::1".into()];
    hosts.push(state.config.host.clone());
    hosts.extend(state.config.domains.iter().cloned());
    let config = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(false)
        .with_json_response(true)
        .with_sse_keep_alive(None)
        .with_sse_retry(None)
        .with_max_request_body_bytes(MAX_BODY)
        .with_allowed_hosts(hosts);
    let service: StreamableHttpService<S3TwinMcp, LocalSessionManager> = StreamableHttpService::new(
        move || Ok(S3TwinMcp::new(twin.clone())),
        Arc::new(LocalSessionManager::default()),
        config,
    );
    let resp = service
        .handle(http::Request::from_parts(parts, Full::new(bytes)))
        .await;
    let (parts, body) = resp.into_parts();
    // Stateless answers end after their one message: reading them whole is bounded.
    let body = match body.collect().await {
        Ok(b) => b.to_bytes(),
        Err(never) => match never {},
    };
    http::Response::from_parts(parts, ResponseBody::Full(Some(body)))
}
