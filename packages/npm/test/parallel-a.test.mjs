// Runs in parallel with parallel-b.test.mjs (packages/test.sh runs the two together): each file is a
// process with its own server and run, even with the same run id.
import { test } from "node:test";
import assert from "node:assert/strict";
import { s3 } from "s3twin";
import { ListBucketsCommand } from "@aws-sdk/client-s3";
import { appendFileSync } from "node:fs";

test("file a has its own run", async () => {
  const started = Date.now();
  const clone = await s3.start({ runId: "run-s3-01" });
  const pid = clone.server.pid;
  await clone.createBucket("bucket-of-file-a");
  for (let i = 0; i < 20; i++) await clone.putObject("bucket-of-file-a", `k${i}`, `a${i}`);
  await new Promise((r) => setTimeout(r, 300)); // overlap with the other file
  const { Buckets } = await clone.client().send(new ListBucketsCommand({}));
  assert.deepEqual(Buckets.map((b) => b.Name), ["bucket-of-file-a"]);
  assert.equal((await clone.list("bucket-of-file-a")).length, 20);
  await clone.stop();
  // For the acceptance script: the two files' intervals overlap and their servers differ.
  if (process.env.S3TWIN_PARALLEL_LOG) {
    appendFileSync(process.env.S3TWIN_PARALLEL_LOG, `${started} ${Date.now()} ${pid}\n`);
  }
});
