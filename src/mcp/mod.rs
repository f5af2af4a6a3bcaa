//! MCP (Model Context Protocol) for agents: the twin as tools, over stdio (`s3twin mcp`) and
//! streamable HTTP (`/_s3twin/mcp`). The tools (`tools.rs`) drive the twin through its own
//! S3 and admin API (`client.rs`), so they share every rule and error with SDK clients; the
//! JSON-RPC layer (`protocol.rs`) is hand-written, small next to a general MCP SDK.

mod client;
pub mod http;
pub mod protocol;
mod stdio;
mod tools;

pub use client::Twin;
pub use tools::{S3TwinMcp, MAX_GET};

use crate::config::Config;
use std::net::SocketAddr;
use std::sync::Arc;

/// `s3twin mcp`: MCP on stdin/stdout (nothing else is written to stdout). Without `endpoint`
/// it serves an in-process twin on `config`'s address (port 0: a free one); with one it
/// drives the s3twin there (`http://host:port`, or a run's `http://host:port/t/{runId}`,
/// whose run then is the session's default).
pub async fn serve_stdio(endpoint: Option<&str>, config: Config) -> Result<(), String> {
    let mut running = None;
    let (twin, run) = match endpoint {
        Some(url) => attach(url).await?,
        None => {
            let listener = crate::server::bind(&config)
                .await
                .map_err(|e| format!("cannot listen on {}:{}: {e}", config.host, config.port))?;
            let state = Arc::new(crate::server::AppState::new(config));
            let r = crate::server::spawn(listener, state).map_err(|e| e.to_string())?;
            let addr = reachable(r.local_addr);
            running = Some(r);
            let twin = Twin {
                addr,
                origin: format!("http://{addr}"),
            };
            (twin, None)
        }
    };
    let tools = S3TwinMcp::new(twin);
    if let Some(run) = run {
        tools.set_session_run(run);
    }
    // Until `initialize` names one, the newest version (no batches) is assumed.
    let newest = protocol::VERSIONS[protocol::VERSIONS.len() - 1];
    let session = protocol::Session::new(tools, newest);
    let result = stdio::serve(session, tokio::io::stdin(), tokio::io::stdout())
        .await
        .map_err(|e| format!("MCP session: {e}"));
    if let Some(r) = running {
        r.stop().await;
    }
    result
}

/// A listener on `0.0.0.0` / `::` is reached on loopback.
pub(crate) fn reachable(addr: SocketAddr) -> SocketAddr {
    let ip = match addr.ip() {
        std::net::IpAddr::V4(v4) if v4.is_unspecified() => std::net::Ipv4Addr::LOCALHOST.into(),
        std::net::IpAddr::V6(v6) if v6.is_unspecified() => std::net::Ipv6Addr::LOCALHOST.into(),
        ip => ip,
    };
    SocketAddr::new(ip, addr.port())
}

/// A running s3twin at `url`, and the run its `/t/{runId}` names.
async fn attach(url: &str) -> Result<(Twin, Option<String>), String> {
    let uri: ::http::Uri = url
        .parse()
        .map_err(|_| format!("--endpoint {url:?} is not an URL"))?;
    if uri.scheme_str() != Some("http") {
        return Err(format!("--endpoint {url:?}: only http:// endpoints"));
    }
    let authority = uri
        .authority()
        .ok_or_else(|| format!("--endpoint {url:?} has no host"))?;
    let port = authority.port_u16().unwrap_or(80);
    let host = authority
        .host()
        .trim_start_matches('[')
        .trim_end_matches(']');
    let addr = tokio::net::lookup_host((host, port))
        .await
        .map_err(|e| format!("--endpoint {url:?}: {e}"))?
        .next()
        .ok_or_else(|| format!("--endpoint {url:?}: the host has no address"))?;
    let run = uri
        .path()
        .trim_end_matches('/')
        .strip_prefix("/t/")
        .map(str::to_string);
    if let Some(r) = &run {
        if !crate::server::addressing::valid_run_id(r) {
            return Err(format!("--endpoint {url:?}: {r:?} is not a run id"));
        }
    }
    let twin = Twin {
        addr,
        origin: format!("http://{authority}"),
    };
    Ok((twin, run))
}
