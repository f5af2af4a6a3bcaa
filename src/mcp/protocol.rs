//! MCP's JSON-RPC 2.0 layer, by hand: the lifecycle (`initialize`, `notifications/initialized`,
//! `ping`) and `tools/list` / `tools/call` over the table in `tools.rs`. Written here rather
//! than taken from rmcp because rmcp's generic model and service machinery was 1.4 MiB of the
//! release binary's code for these five methods. Transport-free: `stdio.rs` and `http.rs` hand
//! it parsed JSON and write what it answers.

use super::tools::{self, S3TwinMcp};
use parking_lot::Mutex;
use serde_json::{json, Map, Value};
use std::sync::OnceLock;

/// The protocol versions served, oldest first: those with an `initialize` handshake. A client
/// asking for another one is offered the newest.
pub const VERSIONS: &[&str] = &["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"];

/// What a streamable HTTP client that sends no `MCP-Protocol-Version` is assumed to speak.
pub const ASSUMED_HTTP_VERSION: &str = "2025-03-26";

pub const PARSE_ERROR: i64 = -32700;
pub const INVALID_REQUEST: i64 = -32600;
pub const METHOD_NOT_FOUND: i64 = -32601;
pub const INVALID_PARAMS: i64 = -32602;

const INSTRUCTIONS: &str =
    "s3twin: a local twin of Amazon S3. Spawn a run with s3twin_spawn_run (or \
                 molar_clone_spawn), then use the s3_* tools on it; clock_advance moves its \
                 virtual clock so lifecycle rules and presigned-URL expiry happen now. S3 \
                 errors come back as 'Code: Message', as S3 sends them.";

/// `version` as one of ours (its `'static` spelling), if it is one.
pub fn known(version: &str) -> Option<&'static str> {
    VERSIONS.iter().copied().find(|v| *v == version)
}

/// JSON-RPC batches (a JSON array of messages) are part of 2024-11-05 and 2025-03-26 only;
/// 2025-06-18 removed them.
fn batches_allowed(version: &str) -> bool {
    version < "2025-06-18"
}

/// One MCP session: the tools (with the run it spawned) and the version it negotiated.
pub struct Session {
    pub tools: S3TwinMcp,
    version: Mutex<&'static str>,
}

impl Session {
    /// `version`: the one assumed until `initialize` says otherwise.
    pub fn new(tools: S3TwinMcp, version: &'static str) -> Self {
        Session {
            tools,
            version: Mutex::new(version),
        }
    }

    /// The answer to one JSON value read from the client (a message or a batch); `None`
    /// when nothing is to be answered (notifications and responses).
    pub async fn answer(&self, message: Value) -> Option<Value> {
        let Value::Array(batch) = message else {
            return self.one(message, false).await;
        };
        let version = *self.version.lock();
        if !batches_allowed(version) {
            return Some(error(
                Value::Null,
                INVALID_REQUEST,
                format!("Invalid Request: protocol version {version} has no JSON-RPC batches"),
            ));
        }
        if batch.is_empty() {
            return Some(error(
                Value::Null,
                INVALID_REQUEST,
                "Invalid Request: empty batch",
            ));
        }
        // In turn, not at once: a batch is bounded by the message size, not by tasks.
        let mut answers = Vec::new();
        for message in batch {
            if let Some(a) = self.one(message, true).await {
                answers.push(a);
            }
        }
        (!answers.is_empty()).then_some(Value::Array(answers))
    }

    async fn one(&self, message: Value, in_batch: bool) -> Option<Value> {
        let (id, method, params) = match classify(message) {
            Kind::Request { id, method, params } => (id, method, params),
            Kind::Ignored => return None,
            Kind::Invalid { id, why } => return Some(error(id, INVALID_REQUEST, why)),
        };
        let result = match method.as_str() {
            "initialize" if in_batch => Err((
                INVALID_REQUEST,
                "Invalid Request: initialize must not be part of a batch".into(),
            )),
            "initialize" => self.initialize(params.as_ref()),
            "ping" => Ok(json!({})),
            "tools/list" => Ok(json!({ "tools": tool_list() })),
            "tools/call" => self.call(params).await,
            // The message is the method, as rmcp answered.
            unknown => Err((METHOD_NOT_FOUND, unknown.to_string())),
        };
        Some(match result {
            Ok(result) => json!({"jsonrpc": "2.0", "id": id, "result": result}),
            Err((code, message)) => error(id, code, message),
        })
    }

    fn initialize(&self, params: Option<&Value>) -> Result<Value, (i64, String)> {
        let Some(asked) = params
            .and_then(|p| p.get("protocolVersion"))
            .and_then(Value::as_str)
        else {
            return Err((
                INVALID_PARAMS,
                "Invalid params: initialize needs params.protocolVersion (a string)".into(),
            ));
        };
        let version = known(asked).unwrap_or(VERSIONS[VERSIONS.len() - 1]);
        *self.version.lock() = version;
        Ok(json!({
            "protocolVersion": version,
            "capabilities": { "tools": {} },
            "serverInfo": { "name": "s3twin", "version": env!("CARGO_PKG_VERSION") },
            "instructions": INSTRUCTIONS,
        }))
    }

    async fn call(&self, params: Option<Value>) -> Result<Value, (i64, String)> {
        let invalid = |why: &str| (INVALID_PARAMS, format!("Invalid params: {why}"));
        let Some(Value::Object(mut params)) = params else {
            return Err(invalid("tools/call needs params {name, arguments}"));
        };
        let Some(Value::String(name)) = params.remove("name") else {
            return Err(invalid("tools/call needs params.name (a string)"));
        };
        let arguments = match params.remove("arguments") {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(a)) => a,
            Some(_) => return Err(invalid("params.arguments must be an object")),
        };
        let Some(tool) = tools::TOOLS.iter().find(|t| t.name == name) else {
            return Err((INVALID_PARAMS, "tool not found".into()));
        };
        let outcome = (tool.call)(self.tools.clone(), arguments).await;
        Ok(json!({
            "content": [{ "type": "text", "text": outcome.text }],
            "isError": outcome.is_error,
        }))
    }
}

/// The `tools/list` entries, sorted by name; the schemas are made once.
fn tool_list() -> &'static Value {
    static LIST: OnceLock<Value> = OnceLock::new();
    LIST.get_or_init(|| {
        let mut tools: Vec<&tools::Tool> = tools::TOOLS.iter().collect();
        tools.sort_by_key(|t| t.name);
        Value::Array(
            tools
                .into_iter()
                .map(|t| {
                    json!({
                        "name": t.name,
                        "description": t.description,
                        "inputSchema": (t.schema)(),
                    })
                })
                .collect(),
        )
    })
}

enum Kind {
    Request {
        id: Value,
        method: String,
        params: Option<Value>,
    },
    /// Notifications and responses: a stateless server that sends no requests has nothing
    /// to do with either.
    Ignored,
    Invalid {
        id: Value,
        why: String,
    },
}

fn classify(message: Value) -> Kind {
    let Value::Object(mut m) = message else {
        return invalid(Value::Null, "a message must be a JSON object");
    };
    // MCP ids are strings or integers, never null.
    let id = match m.remove("id") {
        None => None,
        Some(id @ Value::String(_)) => Some(id),
        Some(Value::Number(n)) if n.is_i64() || n.is_u64() => Some(Value::Number(n)),
        Some(_) => return invalid(Value::Null, "id must be a string or an integer"),
    };
    let id_or_null = || id.clone().unwrap_or(Value::Null);
    if m.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
        return invalid(id_or_null(), "jsonrpc must be \"2.0\"");
    }
    match (m.remove("method"), id) {
        (Some(Value::String(method)), Some(id)) => Kind::Request {
            id,
            method,
            params: m.remove("params"),
        },
        (Some(Value::String(_)), None) => Kind::Ignored,
        (Some(_), id) => invalid(id.unwrap_or(Value::Null), "method must be a string"),
        (None, Some(_)) if m.contains_key("result") || m.contains_key("error") => Kind::Ignored,
        (None, id) => invalid(
            id.unwrap_or(Value::Null),
            "neither a request, a notification nor a response",
        ),
    }
}

fn invalid(id: Value, why: &str) -> Kind {
    Kind::Invalid {
        id,
        why: format!("Invalid Request: {why}"),
    }
}

/// A JSON-RPC error answer.
pub fn error(id: Value, code: i64, message: impl Into<String>) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message.into()}})
}

/// The answer to bytes that are not JSON.
pub fn parse_error(e: &serde_json::Error) -> Value {
    error(Value::Null, PARSE_ERROR, format!("Parse error: {e}"))
}

/// Whether `message` (a message or a batch) holds an `initialize` request, and the version
/// it asks for.
pub fn initialize_version(message: &Value) -> Option<&str> {
    (message.get("method")?.as_str()? == "initialize").then_some(())?;
    message.get("params")?.get("protocolVersion")?.as_str()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_classified_by_their_members() {
        let k = |v: Value| match classify(v) {
            Kind::Request { method, .. } => format!("request {method}"),
            Kind::Ignored => "ignored".into(),
            Kind::Invalid { id, .. } => format!("invalid {id}"),
        };
        assert_eq!(
            k(json!({"jsonrpc":"2.0","id":1,"method":"ping"})),
            "request ping"
        );
        assert_eq!(
            k(json!({"jsonrpc":"2.0","method":"notifications/initialized"})),
            "ignored"
        );
        assert_eq!(k(json!({"jsonrpc":"2.0","id":"a","result":{}})), "ignored");
        assert_eq!(
            k(json!({"jsonrpc":"1.0","id":7,"method":"ping"})),
            "invalid 7"
        );
        assert_eq!(
            k(json!({"jsonrpc":"2.0","id":null,"method":"ping"})),
            "invalid null"
        );
        assert_eq!(
            k(json!({"jsonrpc":"2.0","id":1.5,"method":"ping"})),
            "invalid null"
        );
        assert_eq!(k(json!({"jsonrpc":"2.0","id":2,"method":3})), "invalid 2");
        assert_eq!(k(json!("ping")), "invalid null");
    }

    #[test]
    fn batches_follow_the_version() {
        assert!(batches_allowed("2024-11-05"));
        assert!(batches_allowed("2025-03-26"));
        assert!(!batches_allowed("2025-06-18"));
        assert!(!batches_allowed("2025-11-25"));
    }
}
