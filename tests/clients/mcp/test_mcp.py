"""A real MCP client (the Python `mcp` SDK) drives s3twin's MCP server over stdio
(`s3twin mcp`) and over streamable HTTP (`/_s3twin/mcp`); boto3 reads the same run to check
what the tools did and said."""

import base64
import json
import os
import subprocess
import threading
import urllib.request

import anyio
import boto3
import pytest
from botocore.client import Config
from botocore.exceptions import ClientError
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client

BIN = os.environ["S3TWIN_BIN"]
ENDPOINT = os.environ["S3TWIN_ENDPOINT"].rstrip("/")
SEED_TOOLS = {"molar_clone_spawn", "s3_create_bucket", "s3_put", "s3_list"}
ALL_TOOLS = SEED_TOOLS | {
    "s3twin_spawn_run", "s3_get", "s3_head", "s3_delete", "s3_list_buckets",
    "s3_list_versions", "s3_presign", "s3_put_lifecycle", "clock_get", "clock_advance",
    "seed", "reset_run", "notifications_log", "requests_log", "chaos_set", "chaos_clear",
    "run_export",
}


def boto(endpoint):
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id="parlel",
        aws_secret_access_key="parlel",
        region_name="us-east-1",
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
    )


async def call(session, tool, **args):
    """A tool's JSON answer; fails the test on a tool error."""
    result = await session.call_tool(tool, args)
    text = result.content[0].text
    assert not result.is_error, f"{tool} failed: {text}"
    return json.loads(text)


async def call_error(session, tool, **args):
    """A tool error's text; fails the test if the tool succeeded."""
    result = await session.call_tool(tool, args)
    assert result.is_error, f"{tool} unexpectedly succeeded: {result.content[0].text}"
    return result.content[0].text


async def check_tools(session):
    tools = {t.name: t for t in (await session.list_tools()).tools}
    assert ALL_TOOLS <= set(tools), sorted(ALL_TOOLS - set(tools))
    for name in ALL_TOOLS:
        assert tools[name].description, name
        assert tools[name].input_schema["type"] == "object", name
    props = lambda n: set(tools[n].input_schema.get("properties", {}))
    assert {"url", "runId", "bucket", "versioning"} <= props("s3_create_bucket")
    assert {"bucket", "key", "body", "bodyBase64", "contentType", "metadata"} <= props("s3_put")
    assert {"bucket", "prefix", "delimiter", "maxKeys", "continuationToken"} <= props("s3_list")
    assert {"kind", "seed", "runId"} <= props("molar_clone_spawn")
    assert "bucket" in tools["s3_put"].input_schema["required"]
    assert "key" in tools["s3_put"].input_schema["required"]


async def scenario(session, explicit_run):
    """The issue's walk-through. `explicit_run`: pass runId on every call (HTTP is
    stateless), else rely on the session's default (the run it spawned)."""
    init = await session.initialize()
    assert init.server_info.name == "s3twin"
    await check_tools(session)

    run = await call(session, "molar_clone_spawn", kind="s3", seed="invoice-store")
    run_id = run["runId"]
    assert run["endpoint"].endswith(f"/t/{run_id}")
    assert run["env"]["AWS_ENDPOINT_URL_S3"] == run["endpoint"]
    s3 = boto(run["endpoint"])
    r = {"runId": run_id} if explicit_run else {}

    # The seeded run, as the tools and boto3 see it.
    listed = await call(session, "s3_list_buckets", **r)
    assert [b["name"] for b in listed["buckets"]] == [b["Name"] for b in s3.list_buckets()["Buckets"]]
    seeded = listed["buckets"][0]["name"]
    page = await call(session, "s3_list", bucket=seeded, **r)
    want = s3.list_objects_v2(Bucket=seeded)
    assert [(k["key"], k["size"], k["etag"]) for k in page["keys"]] == [
        (o["Key"], o["Size"], o["ETag"]) for o in want["Contents"]
    ]
    assert page["keyCount"] == want["KeyCount"]

    # Create, put, list, get.
    made = await call(session, "s3_create_bucket", bucket="mcp-notes", url=run["endpoint"])
    assert made["runId"] == run_id
    s3.head_bucket(Bucket="mcp-notes")
    put = await call(
        session, "s3_put", bucket="mcp-notes", key="docs/a.txt", body="hello from an agent",
        contentType="text/plain", metadata={"owner": "agent"}, **r,
    )
    got = s3.get_object(Bucket="mcp-notes", Key="docs/a.txt")
    assert got["Body"].read() == b"hello from an agent"
    assert got["ETag"] == put["etag"]
    assert got["ContentType"] == "text/plain"
    assert got["Metadata"] == {"owner": "agent"}
    raw = bytes(range(256))
    await call(session, "s3_put", bucket="mcp-notes", key="bin/raw",
               bodyBase64=base64.b64encode(raw).decode(), **r)
    await call(session, "s3_put", bucket="mcp-notes", key="tmp/scratch", body="temporary", **r)

    page = await call(session, "s3_list", bucket="mcp-notes", delimiter="/", **r)
    want = s3.list_objects_v2(Bucket="mcp-notes", Delimiter="/")
    assert page["commonPrefixes"] == [p["Prefix"] for p in want["CommonPrefixes"]]
    assert page["keys"] == []
    page = await call(session, "s3_list", bucket="mcp-notes", maxKeys=2, **r)
    assert page["isTruncated"] is True
    rest = await call(session, "s3_list", bucket="mcp-notes",
                      continuationToken=page["nextContinuationToken"], **r)
    assert [k["key"] for k in page["keys"] + rest["keys"]] == [
        o["Key"] for o in s3.list_objects_v2(Bucket="mcp-notes")["Contents"]
    ]

    text = await call(session, "s3_get", bucket="mcp-notes", key="docs/a.txt", **r)
    assert (text["encoding"], text["body"]) == ("text", "hello from an agent")
    assert text["etag"] == got["ETag"] and text["metadata"] == {"owner": "agent"}
    binary = await call(session, "s3_get", bucket="mcp-notes", key="bin/raw", **r)
    assert binary["encoding"] == "base64"
    assert base64.b64decode(binary["body"]) == raw
    part = await call(session, "s3_get", bucket="mcp-notes", key="docs/a.txt", range="bytes=0-4", **r)
    assert part["body"] == "hello"
    assert part["contentRange"] == s3.get_object(
        Bucket="mcp-notes", Key="docs/a.txt", Range="bytes=0-4")["ContentRange"]
    head = await call(session, "s3_head", bucket="mcp-notes", key="bin/raw", **r)
    assert head["contentLength"] == 256

    # A presigned URL from the tool works for a plain HTTP client.
    signed = await call(session, "s3_presign", bucket="mcp-notes", key="docs/a.txt", **r)
    with urllib.request.urlopen(signed["url"]) as resp:
        assert resp.read() == b"hello from an agent"

    # Lifecycle on the run's clock: 7 days for tmp/, then 8 days pass.
    await call(session, "s3_put_lifecycle", bucket="mcp-notes", expirationDays=7, prefix="tmp/", **r)
    rules = s3.get_bucket_lifecycle_configuration(Bucket="mcp-notes")["Rules"]
    assert [(x["Expiration"]["Days"], x["Filter"]["Prefix"]) for x in rules] == [(7, "tmp/")]
    before = await call(session, "clock_get", **r)
    moved = await call(session, "clock_advance", by="8d", **r)
    assert moved["now"] > before["now"]
    # The seed's own rules expire its drafts too: the count is the run's.
    assert moved["lifecycle"]["expired"] >= 1
    gone = await call_error(session, "s3_get", bucket="mcp-notes", key="tmp/scratch", **r)
    assert gone == "NoSuchKey: The specified key does not exist."
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket="mcp-notes", Key="tmp/scratch")
    assert gone == f"{e.value.response['Error']['Code']}: {e.value.response['Error']['Message']}"
    left = await call(session, "s3_list", bucket="mcp-notes", **r)
    assert [k["key"] for k in left["keys"]] == ["bin/raw", "docs/a.txt"]

    # Versioning: two writes, two versions, as ListObjectVersions says.
    await call(session, "s3_create_bucket", bucket="mcp-versioned", versioning=True, **r)
    assert s3.get_bucket_versioning(Bucket="mcp-versioned")["Status"] == "Enabled"
    first = await call(session, "s3_put", bucket="mcp-versioned", key="v", body="one", **r)
    await call(session, "s3_put", bucket="mcp-versioned", key="v", body="two", **r)
    versions = await call(session, "s3_list_versions", bucket="mcp-versioned", **r)
    want = s3.list_object_versions(Bucket="mcp-versioned")["Versions"]
    assert [(v["versionId"], v["isLatest"], v["etag"]) for v in versions["versions"]] == [
        (v["VersionId"], v["IsLatest"], v["ETag"]) for v in want
    ]
    old = await call(session, "s3_get", bucket="mcp-versioned", key="v",
                     versionId=first["versionId"], **r)
    assert old["body"] == "one"
    await call(session, "s3_delete", bucket="mcp-versioned", key="v",
               versionId=first["versionId"], **r)
    assert [v["VersionId"] for v in s3.list_object_versions(Bucket="mcp-versioned")["Versions"]] == [
        v["VersionId"] for v in want if v["VersionId"] != first["versionId"]
    ]

    # Delete, then the error case: a missing bucket, with S3's code and message.
    await call(session, "s3_delete", bucket="mcp-notes", key="bin/raw", **r)
    with pytest.raises(ClientError):
        s3.head_object(Bucket="mcp-notes", Key="bin/raw")
    missing = await call_error(session, "s3_list", bucket="no-such-bucket-here", **r)
    with pytest.raises(ClientError) as e:
        s3.list_objects_v2(Bucket="no-such-bucket-here")
    err = e.value.response["Error"]
    assert missing == "NoSuchBucket: The specified bucket does not exist"
    assert missing == f"{err['Code']}: {err['Message']}"
    # Bad arguments name the argument; the session goes on.
    missing_key = await call_error(session, "s3_put", bucket="mcp-notes", body="x", **r)
    assert "missing field `key`" in missing_key
    typo = await call_error(session, "s3_put", bucket="mcp-notes", key="k", bucekt="x", **r)
    assert "unknown field `bucekt`" in typo
    both = await call_error(session, "s3_put", bucket="mcp-notes", key="k", body="a",
                            bodyBase64="YQ==", **r)
    assert "bodyBase64" in both
    assert (await call(session, "clock_get", **r))["runId"] == run_id
    # The logs and chaos are the admin routes' own answers.
    chaos = await call(session, "chaos_set", rules={"preset": "503_restore"}, **r)
    assert [rule["preset"] for rule in chaos["added"]] == ["503_restore"], chaos
    log = await call(session, "requests_log", **r)
    assert any(e["operation"] == "PutObject" and e["bucket"] == "mcp-notes"
               for e in log["entries"]), log
    notes = await call(session, "notifications_log", **r)
    assert notes["notifications"] == [], notes
    cleared = await call(session, "chaos_clear", **r)
    assert cleared["removed"] == 1, cleared
    return run_id


def test_stdio_in_process_twin():
    async def main():
        params = StdioServerParameters(command=BIN, args=["mcp"])
        async with stdio_client(params) as (read, write):
            async with ClientSession(read, write) as session:
                await scenario(session, explicit_run=False)

    anyio.run(main)


def test_stdio_attached_to_a_running_twin():
    """`--endpoint` drives an existing server: what the tools write, boto3 reads there."""
    async def main():
        params = StdioServerParameters(command=BIN, args=["mcp", "--endpoint", ENDPOINT])
        async with stdio_client(params) as (read, write):
            async with ClientSession(read, write) as session:
                await session.initialize()
                run = await call(session, "s3twin_spawn_run")
                assert run["endpoint"] == f"{ENDPOINT}/t/{run['runId']}"
                await call(session, "s3_create_bucket", bucket="attached")
                await call(session, "s3_put", bucket="attached", key="k", body="v")
                body = boto(run["endpoint"]).get_object(Bucket="attached", Key="k")["Body"].read()
                assert body == b"v"
                await call(session, "reset_run")
                assert boto(run["endpoint"]).list_buckets()["Buckets"] == []

    anyio.run(main)


def test_streamable_http():
    async def main():
        async with streamable_http_client(f"{ENDPOINT}/_s3twin/mcp") as (read, write):
            async with ClientSession(read, write) as session:
                await scenario(session, explicit_run=True)

    anyio.run(main)


def test_streamable_http_refuses_foreign_hosts():
    """DNS rebinding: a Host that is not this server's answers 403."""
    req = urllib.request.Request(
        f"{ENDPOINT}/_s3twin/mcp",
        data=b'{"jsonrpc":"2.0","id":1,"method":"tools/list"}',
        headers={"Host": "attacker.example", "Content-Type": "application/json",
                 "Accept": "application/json, text/event-stream"},
        method="POST",
    )
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req)
    assert e.value.code == 403


# Raw JSON-RPC: the protocol's own errors, which an SDK client never provokes.

MCP_HEADERS = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}


def rpc(body, headers=None, method="POST"):
    """(status, headers, parsed JSON or raw bytes) of one request to /_s3twin/mcp."""
    data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
    req = urllib.request.Request(f"{ENDPOINT}/_s3twin/mcp", data=data, method=method,
                                 headers=MCP_HEADERS if headers is None else headers)
    try:
        with urllib.request.urlopen(req) as resp:
            status, head, raw = resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as e:
        status, head, raw = e.code, e.headers, e.read()
    try:
        return status, head, json.loads(raw)
    except ValueError:
        return status, head, raw


def request(method, params=None, id=1):
    msg = {"jsonrpc": "2.0", "id": id, "method": method}
    if params is not None:
        msg["params"] = params
    return msg


def initialize(version):
    return request("initialize", {"protocolVersion": version, "capabilities": {},
                                  "clientInfo": {"name": "raw", "version": "1"}})


def test_http_lifecycle_and_version_negotiation():
    for version in ("2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"):
        status, head, body = rpc(initialize(version))
        assert (status, head["Content-Type"]) == (200, "application/json"), body
        result = body["result"]
        assert result["protocolVersion"] == version
        assert result["capabilities"] == {"tools": {}}
        assert result["serverInfo"]["name"] == "s3twin" and result["serverInfo"]["version"]
        assert "s3twin_spawn_run" in result["instructions"]
    # A version the server does not know: it offers its newest.
    assert rpc(initialize("2099-01-01"))[2]["result"]["protocolVersion"] == "2025-11-25"
    status, _, body = rpc(request("ping", id="p-1"))
    assert (status, body) == (200, {"jsonrpc": "2.0", "id": "p-1", "result": {}})
    # Notifications and responses: 202, no body.
    for message in ({"jsonrpc": "2.0", "method": "notifications/initialized"},
                    {"jsonrpc": "2.0", "id": 9, "result": {}}):
        status, _, body = rpc(message)
        assert (status, body) == (202, b""), message
    tools = rpc(request("tools/list"))[2]["result"]["tools"]
    assert [t["name"] for t in tools] == sorted(ALL_TOOLS)
    put = next(t for t in tools if t["name"] == "s3_put")["inputSchema"]
    assert put["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert put["additionalProperties"] is False and put["required"] == ["bucket", "key"]
    assert "title" not in put and put["properties"]["metadata"]["type"] == ["object", "null"]


def test_http_jsonrpc_errors():
    status, _, body = rpc(b'{"jsonrpc": "2.0", "id": 1, "method": ')
    assert status == 400 and body["id"] is None and body["error"]["code"] == -32700, body
    # Deeper than serde_json's 128 levels: a parse error, not a crash.
    status, _, body = rpc(b"[" * 100_000)
    assert status == 400 and body["error"]["code"] == -32700, body
    status, _, body = rpc(request("resources/list", id=7))
    assert status == 200 and body["id"] == 7 and body["error"]["code"] == -32601, body
    body = rpc(request("tools/call", {"name": "no_such_tool", "arguments": {}}, id=8))[2]
    assert (body["id"], body["error"]["code"], body["error"]["message"]) == (8, -32602, "tool not found")
    for params in (None, {"arguments": {}}, {"name": "s3_list", "arguments": "bucket"}):
        body = rpc(request("tools/call", params, id=9))[2]
        assert body["error"]["code"] == -32602, (params, body)
    for message in ({"id": 3, "method": "ping"}, {"jsonrpc": "2.0", "id": None, "method": "ping"},
                    {"jsonrpc": "2.0", "id": 3, "method": 5}, "ping"):
        status, _, body = rpc(message)
        assert status == 400 and body["error"]["code"] == -32600, (message, body)
    # Wrong argument types are tool errors the model can read, as missing ones are.
    body = rpc(request("tools/call", {"name": "s3_list", "arguments": {"bucket": 5}}))[2]
    assert body["result"]["isError"] is True
    assert "invalid type: integer `5`, expected a string" in body["result"]["content"][0]["text"]


def test_http_batches_follow_the_protocol_version():
    batch = [request("ping", id=1), {"jsonrpc": "2.0", "method": "notifications/initialized"},
             request("nope", id=2)]
    # Without MCP-Protocol-Version the client is taken to speak 2025-03-26, which has batches.
    for headers in (MCP_HEADERS, {**MCP_HEADERS, "MCP-Protocol-Version": "2025-03-26"}):
        status, _, body = rpc(batch, headers)
        assert status == 200 and isinstance(body, list), body
        assert {a["id"]: ("result" in a, a.get("error", {}).get("code")) for a in body} == {
            1: (True, None), 2: (False, -32601)}
    status, _, body = rpc([{"jsonrpc": "2.0", "method": "notifications/initialized"}])
    assert (status, body) == (202, b"")
    assert rpc([])[2]["error"]["code"] == -32600
    # Inside a batch an error is one answer among others: the batch itself is answered 200.
    status, _, body = rpc([initialize("2025-03-26")])
    assert status == 200 and body[0]["error"]["code"] == -32600, body
    # 2025-06-18 removed batches.
    status, _, body = rpc(batch, {**MCP_HEADERS, "MCP-Protocol-Version": "2025-06-18"})
    assert status == 400 and body["error"]["code"] == -32600 and body["id"] is None, body


def test_http_transport_refusals():
    status, head, _ = rpc(None, {"Accept": "text/event-stream"}, method="GET")
    assert (status, head["Allow"]) == (405, "POST")
    ping = request("ping")
    assert rpc(ping, {"Content-Type": "application/json", "Accept": "application/json"})[0] == 406
    assert rpc(ping, {**MCP_HEADERS, "Accept": "application/json, text/event-stream;q=0"})[0] == 406
    assert rpc(ping, {**MCP_HEADERS, "Content-Type": "text/plain"})[0] == 415
    status, _, body = rpc(ping, {**MCP_HEADERS, "MCP-Protocol-Version": "1999-01-01"})
    assert status == 400 and b"Unsupported MCP-Protocol-Version: 1999-01-01" in body
    assert rpc(ping, {**MCP_HEADERS, "MCP-Protocol-Version": "2025-06-18"})[2]["result"] == {}
    # initialize names its version in the body; a header that says otherwise is refused.
    status, _, body = rpc(initialize("2025-06-18"), {**MCP_HEADERS, "MCP-Protocol-Version": "2025-03-26"})
    assert status == 400 and body["error"]["code"] == -32600, body
    big = json.dumps(request("tools/call", {"name": "seed", "arguments": {"seed": "x" * (8 << 20)}}))
    assert rpc(big.encode())[0] == 413


def test_stdio_jsonrpc_errors():
    """Raw lines to `s3twin mcp`: every bad line gets its error, and the session goes on."""
    proc = subprocess.Popen([BIN, "mcp"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL)
    # A line left unanswered would block readline: the watchdog ends the server, so the
    # read returns empty and the test fails instead of hanging.
    watchdog = threading.Timer(60, proc.kill)
    watchdog.start()

    def send(line, answered=True):
        proc.stdin.write(line if isinstance(line, bytes) else json.dumps(line).encode())
        proc.stdin.write(b"\n")
        proc.stdin.flush()
        return json.loads(proc.stdout.readline()) if answered else None

    try:
        # Before initialize the newest version is assumed: no batches.
        assert send([request("ping")])["error"]["code"] == -32600
        init = send(initialize("2025-03-26"))
        assert init["result"]["protocolVersion"] == "2025-03-26"
        send({"jsonrpc": "2.0", "method": "notifications/initialized"}, answered=False)
        cut = send(b'{"jsonrpc": "2.0", "id": 1, ')
        assert cut["id"] is None and cut["error"]["code"] == -32700, cut
        bad = send(b"not json")
        assert bad["id"] is None and bad["error"]["code"] == -32700
        assert send({"foo": 1})["error"]["code"] == -32600
        assert send(request("nope/nope", id=5))["error"]["code"] == -32601
        assert send(request("tools/call", {"name": "nope"}, id=6))["error"]["code"] == -32602
        # 2025-03-26 has batches.
        answers = send([request("ping", id=7), request("ping", id=8)])
        assert sorted(a["id"] for a in answers) == [7, 8]
        # A line over 8 MiB is skipped whole and answered; the next one is read as usual.
        long = send(b'{"jsonrpc":"2.0","id":9,"method":"ping","params":{"x":"' + b"a" * (8 << 20) + b'"}}')
        assert long["id"] is None and long["error"]["code"] == -32600
        assert send(request("ping", id=10)) == {"jsonrpc": "2.0", "id": 10, "result": {}}
        assert send(b"[" * 100_000)["error"]["code"] == -32700
    finally:
        proc.stdin.close()
        code = proc.wait(timeout=30)
        watchdog.cancel()
    assert code == 0


def test_the_sdks_default_client_connects_over_both_transports():
    """`mcp.Client` (mode "auto") probes `server/discover` first; s3twin answers it as an
    unknown method (stdio) or refuses its 2026-07-28 header (HTTP), and the client falls back
    to the initialize handshake at 2025-11-25."""
    from mcp import Client

    async def main():
        for target in (f"{ENDPOINT}/_s3twin/mcp", StdioServerParameters(command=BIN, args=["mcp"])):
            async with Client(target) as client:
                assert client.session.initialize_result.protocol_version == "2025-11-25"
                assert {t.name for t in (await client.list_tools()).tools} == ALL_TOOLS
                listed = await client.call_tool("s3_list_buckets", {})
                assert not listed.is_error and json.loads(listed.content[0].text)["runId"] == "default"

    anyio.run(main)
