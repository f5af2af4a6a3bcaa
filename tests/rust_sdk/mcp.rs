//! MCP over streamable HTTP (`/_s3twin/mcp`): JSON-RPC tool calls over a real socket, read
//! back with aws-sdk-s3. (The full walk-through with a real MCP client, over stdio and HTTP,
//! is `tests/clients/mcp`.)

use crate::common::*;
use serde_json::{json, Value};

/// One `tools/call` over HTTP: the tool result (`content`, `isError`).
async fn call_tool(t: &Twin, name: &str, arguments: Value) -> Value {
    let payload = json!({
        "jsonrpc": "2.0", "id": 1, "method": "tools/call",
        "params": {"name": name, "arguments": arguments},
    })
    .to_string();
    let req = format!(
        "POST /_s3twin/mcp HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{payload}",
        t.addr(),
        payload.len()
    );
    let (status, text) = raw(&t.addr(), req.as_bytes()).await;
    assert_eq!(status, 200, "{text}");
    let body: Value = text
        .find("\r\n\r\n")
        .and_then(|i| serde_json::from_str(&text[i + 4..]).ok())
        .unwrap_or_else(|| panic!("not a JSON answer: {text}"));
    body["result"].clone()
}

fn text_of(result: &Value) -> &str {
    result["content"][0]["text"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn mcp_s3_error_is_a_tool_error_with_the_sdks_code_and_message() {
    let t = Twin::start().await;
    let result = call_tool(&t, "s3_list", json!({"bucket": "no-such-bucket-mcp"})).await;
    assert_eq!(result["isError"], true, "{result}");
    let err = t
        .client
        .list_objects_v2()
        .bucket("no-such-bucket-mcp")
        .send()
        .await
        .expect_err("no bucket");
    let (code, message) = error_message(&err);
    assert_eq!(text_of(&result), format!("{code}: {message}"));
    assert_eq!(
        text_of(&result),
        "NoSuchBucket: The specified bucket does not exist"
    );
}

#[tokio::test]
async fn mcp_put_in_a_run_is_read_by_the_sdk() {
    let t = Twin::start().await;
    let run = "mcp-run";
    let c = run_client(&t, run);
    let bucket = new_bucket(&c, "mcp").await;
    let result = call_tool(
        &t,
        "s3_put",
        json!({"runId": run, "bucket": bucket, "key": "a/b c.txt", "body": "from a tool",
               "metadata": {"who": "agent"}}),
    )
    .await;
    assert_eq!(result["isError"], false, "{result}");
    let put: Value = serde_json::from_str(text_of(&result)).expect("JSON");
    let got = c
        .get_object()
        .bucket(&bucket)
        .key("a/b c.txt")
        .send()
        .await
        .expect("get");
    assert_eq!(got.e_tag(), put["etag"].as_str());
    assert_eq!(
        got.metadata()
            .and_then(|m| m.get("who"))
            .map(String::as_str),
        Some("agent")
    );
    let body = got.body.collect().await.expect("body").into_bytes();
    assert_eq!(&body[..], b"from a tool");
    // The default run does not have it: the tool wrote where runId said.
    let elsewhere = call_tool(&t, "s3_get", json!({"bucket": bucket, "key": "a/b c.txt"})).await;
    assert_eq!(
        text_of(&elsewhere),
        "NoSuchBucket: The specified bucket does not exist"
    );
}

/// In a run that enforces auth the tools sign their S3 calls as the default identity: they
/// create, write, list and read (an unsigned call there is AccessDenied), and still do once the
/// run's clock has moved days ahead of real time.
#[tokio::test]
async fn mcp_tools_work_in_an_enforcing_run() {
    let t = Twin::start().await;
    let run = enforcing_run(&t, "mcp-auth").await;
    let bucket = bucket_name("mcp-auth");
    let created = call_tool(
        &t,
        "s3_create_bucket",
        json!({"runId": run, "bucket": bucket}),
    )
    .await;
    assert_eq!(created["isError"], false, "{created}");
    let put = call_tool(
        &t,
        "s3_put",
        json!({"runId": run, "bucket": bucket, "key": "k", "body": "signed by a tool"}),
    )
    .await;
    assert_eq!(put["isError"], false, "{put}");
    let owner = keyed_client(&t, &run, "parlel", "parlel");
    assert_eq!(get_bytes(&owner, &bucket, "k").await, b"signed by a tool");
    let listed = call_tool(&t, "s3_list", json!({"runId": run, "bucket": bucket})).await;
    assert_eq!(listed["isError"], false, "{listed}");
    assert!(text_of(&listed).contains("\"k\""), "{listed}");
    // Unsigned, the same read is refused: the tools are not let through some other way.
    let req = format!(
        "GET /t/{run}/{bucket}/k HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
        t.addr()
    );
    assert_eq!(raw(&t.addr(), req.as_bytes()).await.0, 403);

    advance(&t, &run, "3d").await;
    let got = call_tool(
        &t,
        "s3_get",
        json!({"runId": run, "bucket": bucket, "key": "k"}),
    )
    .await;
    assert_eq!(got["isError"], false, "{got}");
    assert!(text_of(&got).contains("signed by a tool"), "{got}");
}

/// `run_export` answers the export route's document, which the `seed` tool takes back.
#[tokio::test]
async fn mcp_run_export_replays_through_the_seed_tool() {
    let t = Twin::start().await;
    create_run(&t, "mcp-exp", json!({"seed": "invoice-store"})).await;
    let result = call_tool(
        &t,
        "run_export",
        json!({"runId": "mcp-exp", "maxBodyBytes": 64}),
    )
    .await;
    assert_ne!(result["isError"], true, "{result}");
    let doc: Value = serde_json::from_str(text_of(&result)).expect("a JSON document");
    let objects = doc["buckets"][0]["objects"].as_array().expect("objects");
    assert_eq!(objects.len(), 3);
    // The sample PDFs are over 64 bytes: left out, with their size.
    assert!(objects
        .iter()
        .all(|o| o["bodyOmitted"] == json!(true) && o["size"].as_u64() > Some(64)));
    let result = call_tool(&t, "seed", json!({"runId": "mcp-exp-copy", "seed": doc})).await;
    assert_ne!(result["isError"], true, "{result}");
    let (a, b) = (run_client(&t, "mcp-exp"), run_client(&t, "mcp-exp-copy"));
    let key = "2026/inv-001.pdf";
    let (x, y) = (
        a.head_object()
            .bucket("invoices")
            .key(key)
            .send()
            .await
            .expect("head"),
        b.head_object()
            .bucket("invoices")
            .key(key)
            .send()
            .await
            .expect("head"),
    );
    assert_eq!(x.e_tag(), y.e_tag());
    assert_eq!(x.content_length(), y.content_length());
    assert_eq!(x.last_modified(), y.last_modified());
    assert_eq!(x.metadata(), y.metadata());
    let result = call_tool(&t, "run_export", json!({"runId": "no-such-run"})).await;
    assert_eq!(result["isError"], true, "{result}");
}
