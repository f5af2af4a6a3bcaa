// Chaos rules (/_s3twin/chaos) and the request log (/_s3twin/requests) with
// @aws-sdk/client-s3. The SDK's default retry mode ("standard", 3 attempts)
// retries 503 SlowDown as a throttling error, so two refusals end in success.

import assert from "node:assert/strict";
import { after, describe, test } from "node:test";

import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutBucketLifecycleConfigurationCommand,
  PutObjectCommand,
  RestoreObjectCommand,
} from "@aws-sdk/client-s3";

import { EP, bucketName, expectS3Error, makeClient, newRunId } from "./helpers.mjs";

const made = [];
const clients = [];

after(async () => {
  for (const c of clients) c.destroy();
  for (const r of made) {
    await (await fetch(`${EP}/_s3twin/runs/${r}`, { method: "DELETE" })).arrayBuffer();
  }
});

async function admin(method, path, body) {
  const res = await fetch(`${EP}${path}`, {
    method,
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: res.status, type: res.headers.get("content-type"), json: await res.json() };
}

async function newRun(fields = {}) {
  const runId = newRunId("chaos");
  const r = await admin("POST", "/_s3twin/runs", { runId, ...fields });
  assert.equal(r.status, 201, JSON.stringify(r.json));
  made.push(runId);
  const client = makeClient({ runId });
  clients.push(client);
  return { runId, client };
}

async function log(runId, query = "") {
  const r = await admin("GET", `/_s3twin/requests?runId=${runId}${query}`);
  assert.equal(r.status, 200);
  return r.json.entries;
}

async function rules(runId) {
  return (await admin("GET", `/_s3twin/chaos?runId=${runId}`)).json.rules;
}

async function bucketIn(client, label) {
  const b = bucketName(label);
  await client.send(new CreateBucketCommand({ Bucket: b }));
  return b;
}

describe("chaos", () => {
  test("default retries survive two SlowDowns; the log shows both refusals and the success", async () => {
    const { runId, client } = await newRun();
    const b = await bucketIn(client, "retry");
    const added = await admin("POST", `/_s3twin/chaos?runId=${runId}`, {
      match: { operations: ["PutObject"] },
      action: { type: "error", code: "SlowDown" },
      count: 2,
    });
    assert.equal(added.status, 201);
    const ruleId = added.json.added[0].id;
    const out = await client.send(new PutObjectCommand({ Bucket: b, Key: "k", Body: "survived" }));
    assert.equal(out.$metadata.attempts, 3);
    const got = await client.send(new GetObjectCommand({ Bucket: b, Key: "k" }));
    assert.equal(await got.Body.transformToString(), "survived");

    const puts = await log(runId, "&operation=PutObject");
    assert.deepEqual(
      puts.map((e) => [e.status, e.errorCode]),
      [[503, "SlowDown"], [503, "SlowDown"], [200, null]],
    );
    assert.deepEqual(
      puts.map((e) => e.chaos),
      [[{ ruleId, action: "error" }], [{ ruleId, action: "error" }], []],
    );
    assert.equal(puts[2].requestId, out.$metadata.requestId);
  });

  test("slow_put adds one second to PutObject", async () => {
    const { runId, client } = await newRun({ chaos: ["slow_put"] });
    const b = await bucketIn(client, "slow");
    let start = performance.now();
    await client.send(new PutObjectCommand({ Bucket: b, Key: "k", Body: "x" }));
    assert.ok(performance.now() - start >= 1000);
    start = performance.now();
    await (await client.send(new GetObjectCommand({ Bucket: b, Key: "k" }))).Body.transformToString();
    assert.ok(performance.now() - start < 900, "reads are not slowed");
    assert.equal((await rules(runId))[0].preset, "slow_put");
  });

  test("503_restore makes RestoreObject fail with 503 ServiceUnavailable", async () => {
    const { runId } = await newRun();
    const r = await admin("POST", `/_s3twin/chaos?runId=${runId}`, { preset: "503_restore" });
    assert.equal(r.status, 201);
    const client = makeClient({ runId, maxAttempts: 1 });
    clients.push(client);
    const b = await bucketIn(client, "restore");
    await client.send(
      new PutObjectCommand({ Bucket: b, Key: "cold", Body: "x", StorageClass: "GLACIER" }),
    );
    await expectS3Error(
      () =>
        client.send(
          new RestoreObjectCommand({ Bucket: b, Key: "cold", RestoreRequest: { Days: 1 } }),
        ),
      { name: "ServiceUnavailable", status: 503 },
    );
    const head = await client.send(new HeadObjectCommand({ Bucket: b, Key: "cold" }));
    assert.equal(head.Restore, undefined);
  });

  test("lifecycle_early_delete expires an object before its due day", async () => {
    const early = await newRun({ chaos: ["lifecycle_early_delete"] });
    const control = await newRun();
    const buckets = [];
    for (const { client } of [early, control]) {
      const b = await bucketIn(client, "early");
      await client.send(
        new PutBucketLifecycleConfigurationCommand({
          Bucket: b,
          LifecycleConfiguration: {
            Rules: [
              { ID: "two-days", Status: "Enabled", Filter: { Prefix: "" }, Expiration: { Days: 2 } },
            ],
          },
        }),
      );
      await client.send(new PutObjectCommand({ Bucket: b, Key: "k", Body: "x" }));
      buckets.push(b);
    }
    for (const { runId } of [early, control]) {
      const r = await admin("POST", `/_s3twin/clock?runId=${runId}`, { advance: "2d" });
      assert.equal(r.status, 200);
    }
    await expectS3Error(
      () => early.client.send(new HeadObjectCommand({ Bucket: buckets[0], Key: "k" })),
      { status: 404 },
    );
    await control.client.send(new HeadObjectCommand({ Bucket: buckets[1], Key: "k" }));
  });

  test("bad input is a 400 JSON error and changes nothing", async () => {
    const { runId } = await newRun({ chaos: ["slow_put"] });
    for (const bad of [
      { preset: "nope" },
      { action: { type: "error" }, probability: 1.5 },
      { action: { type: "latency", ms: "slow" } },
      '{"action":',
    ]) {
      const r = await admin("POST", `/_s3twin/chaos?runId=${runId}`, bad);
      assert.equal(r.status, 400, JSON.stringify(bad));
      assert.equal(r.type, "application/json");
      assert.equal(typeof r.json.error, "string");
    }
    assert.equal((await rules(runId)).length, 1);
    const refused = await admin("POST", "/_s3twin/runs", { runId: newRunId("never"), chaos: ["x"] });
    assert.equal(refused.status, 400);
  });

  test("the live tail streams new entries as Server-Sent Events", async () => {
    const { runId, client } = await newRun();
    const b = await bucketIn(client, "tail");
    const abort = new AbortController();
    const res = await fetch(`${EP}/_s3twin/requests?runId=${runId}&operation=PutObject`, {
      headers: { accept: "text/event-stream" },
      signal: abort.signal,
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "text/event-stream");
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let seen = "";
    const readUntil = async (needle) => {
      const deadline = Date.now() + 10_000;
      while (!seen.includes(needle)) {
        assert.ok(Date.now() < deadline, `no ${needle} in ${seen}`);
        const { value, done } = await reader.read();
        assert.ok(!done, `stream ended before ${needle}`);
        seen += decoder.decode(value);
      }
    };
    await readUntil(": keep-alive");
    await client.send(new PutObjectCommand({ Bucket: b, Key: "live", Body: "x" }));
    await readUntil('"key":"live"');
    const event = seen.split("\n\n").find((e) => e.includes('"key":"live"'));
    const data = JSON.parse(event.split("\n").find((l) => l.startsWith("data: ")).slice(6));
    assert.equal(data.operation, "PutObject");
    assert.equal(data.status, 200);
    abort.abort();
    // The gone listener is dropped once a write to it fails.
    const deadline = Date.now() + 10_000;
    for (;;) {
      await client.send(new PutObjectCommand({ Bucket: b, Key: "more", Body: "x" }));
      const r = await admin("GET", `/_s3twin/requests?runId=${runId}&limit=1`);
      if (r.json.listeners === 0) break;
      assert.ok(Date.now() < deadline, "listener never dropped");
      await new Promise((ok) => setTimeout(ok, 50));
    }
  });
});
