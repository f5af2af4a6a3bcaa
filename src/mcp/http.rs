//! MCP over streamable HTTP at `/_s3twin/mcp`, called from the admin router. Stateless, with
//! JSON answers: every POST is answered whole (`200 application/json` for requests, `202`
//! with no body for notifications and responses), there is no event stream (`GET` is `405`),
//! so no connection stays open and a graceful stop is never held up. Without sessions a
//! call's default run is `default`; tools take `runId`.

use super::protocol::{self, Session};
use super::{reachable, S3TwinMcp, Twin};
use crate::server::response::{Resp, ResponseBody};
use crate::server::AppState;
use bytes::Bytes;
use http::{header, HeaderMap, Method, StatusCode};
use http_body_util::{BodyExt, Limited};
use serde_json::Value;

/// Largest MCP request (a seed document travels in one).
const MAX_BODY: usize = 8 * 1024 * 1024;

const JSON: &str = "application/json";
const EVENT_STREAM: &str = "text/event-stream";

pub async fn handle<B>(state: &AppState, parts: http::request::Parts, body: B) -> Resp
where
    B: http_body::Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let Some(addr) = *state.local_addr.lock() else {
        return crate::admin::error(503, "the server is not listening yet");
    };
    let addr = reachable(addr);
    if let Some((status, why)) = host_refusal(state, &parts) {
        return text(status, why);
    }
    if parts.method != Method::POST {
        let mut resp = text(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed");
        resp.headers_mut()
            .insert(header::ALLOW, http::HeaderValue::from_static("POST"));
        return resp;
    }
    // Clients must take either kind of answer, though this server only sends JSON.
    let (mut json, mut sse) = (false, false);
    for essence in accepted_media_types(&parts.headers) {
        json |= essence.eq_ignore_ascii_case(JSON);
        sse |= essence.eq_ignore_ascii_case(EVENT_STREAM);
    }
    if !json || !sse {
        return text(
            StatusCode::NOT_ACCEPTABLE,
            "Not Acceptable: Client must accept both application/json and text/event-stream",
        );
    }
    let is_json = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|h| h.to_str().ok())
        .is_some_and(|h| {
            h.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .eq_ignore_ascii_case(JSON)
        });
    if !is_json {
        return text(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Unsupported Media Type: Content-Type must be application/json",
        );
    }
    let header_version = match parts.headers.get("mcp-protocol-version") {
        None => None,
        Some(v) => match v.to_str() {
            Ok(v) => Some(v),
            Err(_) => {
                return text(
                    StatusCode::BAD_REQUEST,
                    "Bad Request: Invalid MCP-Protocol-Version header encoding",
                )
            }
        },
    };
    let bytes = match Limited::new(body, MAX_BODY).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => return crate::admin::error(413, "request body too large or incomplete"),
    };
    let message = match serde_json::from_slice::<Value>(&bytes) {
        Ok(m) => m,
        Err(e) => return json_answer(StatusCode::BAD_REQUEST, &protocol::parse_error(&e)),
    };
    // `initialize` names its version in the body (the header, if sent, must agree); every
    // other message is in the version the header names (2025-03-26 when it names none).
    let version = match (protocol::initialize_version(&message), header_version) {
        (Some(asked), Some(h)) if h != asked => {
            let id = message.get("id").cloned().unwrap_or(Value::Null);
            let why = format!(
                "Invalid Request: MCP-Protocol-Version header ({h}) does not match initialize params.protocolVersion ({asked})"
            );
            let answer = protocol::error(id, protocol::INVALID_REQUEST, why);
            return json_answer(StatusCode::BAD_REQUEST, &answer);
        }
        (Some(_), _) | (None, None) => protocol::ASSUMED_HTTP_VERSION,
        (None, Some(h)) => match protocol::known(h) {
            Some(v) => v,
            None => {
                let why = format!("Bad Request: Unsupported MCP-Protocol-Version: {h}");
                return text(StatusCode::BAD_REQUEST, &why);
            }
        },
    };
    // The tools hand out endpoints at the address this client reached us at.
    let origin = parts
        .headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map_or_else(|| format!("http://{addr}"), |h| format!("http://{h}"));
    let session = Session::new(S3TwinMcp::new(Twin { addr, origin }), version);
    match session.answer(message).await {
        Some(answer) => {
            // A message that is not one (or a refused batch) is the client's fault: 400, as
            // for unparsable JSON; the errors of methods and tools are answers (200).
            let code = answer.pointer("/error/code").and_then(Value::as_i64);
            let status = if code == Some(protocol::INVALID_REQUEST) {
                StatusCode::BAD_REQUEST
            } else {
                StatusCode::OK
            };
            json_answer(status, &answer)
        }
        None => empty(StatusCode::ACCEPTED),
    }
}

/// Host names other than loopback's, `--host` and `--domain` are refused (403), against DNS
/// rebinding from a browser. The refusal's status and text, if any.
fn host_refusal(
    state: &AppState,
    parts: &http::request::Parts,
) -> Option<(StatusCode, &'static str)> {
    let bad = |why| Some((StatusCode::BAD_REQUEST, why));
    let authority = match parts.headers.get(header::HOST) {
        Some(h) => {
            let Ok(h) = h.to_str() else {
                return bad("Bad Request: Invalid Host header encoding");
            };
            let Ok(a) = h.parse::<http::uri::Authority>() else {
                return bad("Bad Request: Invalid Host header");
            };
            a
        }
        None => match parts.uri.authority() {
            Some(a) => a.clone(),
            None => return bad("Bad Request: missing Host header"),
        },
    };
    let host = normalize(authority.host());
    let port = authority.port_u16();
    let loopback = ["localhost", "127.0.0.1", "::1"];
    let allowed = loopback
        .iter()
        .copied()
        .chain(std::iter::once(state.config.host.as_str()))
        .chain(state.config.domains.iter().map(String::as_str))
        .any(|allowed| {
            let allowed = allowed.trim();
            let (a_host, a_port) = match allowed.parse::<http::uri::Authority>() {
                Ok(a) => (normalize(a.host()), a.port_u16()),
                Err(_) => (normalize(allowed), None),
            };
            !allowed.is_empty() && a_host == host && a_port.is_none_or(|p| port == Some(p))
        });
    (!allowed).then_some((
        StatusCode::FORBIDDEN,
        "Forbidden: Host header is not allowed",
    ))
}

fn normalize(host: &str) -> String {
    host.trim_matches(|c| c == '[' || c == ']')
        .to_ascii_lowercase()
}

/// The media types `Accept` lists, without those weighted `q=0`.
fn accepted_media_types(headers: &HeaderMap) -> impl Iterator<Item = &str> {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|entry| {
            let mut parts = entry.split(';');
            let essence = parts.next()?.trim();
            let refused = parts.any(|p| {
                p.split_once('=').is_some_and(|(name, q)| {
                    name.trim().eq_ignore_ascii_case("q") && zero_weight(q.trim())
                })
            });
            (!refused).then_some(essence)
        })
}

/// `q=0`, `q=0.0`, … (RFC 9110 12.4.2); a malformed weight does not refuse the type.
fn zero_weight(q: &str) -> bool {
    let (whole, fraction) = q.split_once('.').unwrap_or((q, ""));
    whole == "0" && fraction.len() <= 3 && fraction.bytes().all(|d| d == b'0')
}

fn text(status: StatusCode, message: &str) -> Resp {
    let mut resp = http::Response::new(ResponseBody::Full(Some(Bytes::copy_from_slice(
        message.as_bytes(),
    ))));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    resp
}

fn json_answer(status: StatusCode, answer: &Value) -> Resp {
    let body = serde_json::to_vec(answer).unwrap_or_default();
    let mut resp = http::Response::new(ResponseBody::Full(Some(Bytes::from(body))));
    *resp.status_mut() = status;
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, http::HeaderValue::from_static(JSON));
    resp
}

fn empty(status: StatusCode) -> Resp {
    let mut resp = http::Response::new(ResponseBody::Empty);
    *resp.status_mut() = status;
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_weights_of_zero_refuse_a_type() {
        let mut headers = HeaderMap::new();
        headers.append(
            header::ACCEPT,
            http::HeaderValue::from_static("application/json;q=0.000, text/event-stream;q=abc"),
        );
        headers.append(header::ACCEPT, http::HeaderValue::from_static("*/*;q=0.5"));
        let types: Vec<&str> = accepted_media_types(&headers).collect();
        assert_eq!(types, ["text/event-stream", "*/*"]);
        assert!(zero_weight("0") && zero_weight("0.") && zero_weight("0.00"));
        assert!(!zero_weight("0.001") && !zero_weight("1") && !zero_weight("0.0000"));
    }
}
