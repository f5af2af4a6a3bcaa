// Clones of one Node process share one server; each has its own run.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import * as esm from "s3twin";
import { s3 } from "s3twin";
import { ListBucketsCommand } from "@aws-sdk/client-s3";

const names = async (clone) =>
  ((await clone.client().send(new ListBucketsCommand({}))).Buckets || []).map((b) => b.Name);

test("two clones share one server process, each in its own run; the last stop() stops it", async () => {
  const [a, b] = await Promise.all([s3.start(), s3.start()]);
  assert.equal(a.endpoint, b.endpoint);
  assert.equal(a.server.pid, b.server.pid);
  assert.notEqual(a.runId, b.runId);
  await a.createBucket("only-in-a");
  await b.createBucket("only-in-b");
  assert.deepEqual(await names(a), ["only-in-a"]);
  assert.deepEqual(await names(b), ["only-in-b"]);

  const pid = a.server.pid;
  await a.stop();
  process.kill(pid, 0); // still running for b
  assert.deepEqual(await names(b), ["only-in-b"]);
  await b.stop();
  assert.throws(() => process.kill(pid, 0), { code: "ESRCH" });

  // A new start after the last stop gets a new server.
  const c = await s3.start();
  assert.notEqual(c.server.pid, pid);
  await c.stop();
});

test("an existing runId is refused with the admin API's reason", async () => {
  const a = await s3.start({ runId: "taken" });
  await assert.rejects(s3.start({ runId: "taken" }), /409: run "taken" already exists/);
  await a.stop();
});

test("require() and import load one module instance", () => {
  const cjs = createRequire(import.meta.url)("s3twin");
  assert.equal(cjs.s3, esm.s3);
  assert.equal(cjs.S3Server, esm.S3Server);
});
