// Runs: `EP/t/<runId>` is an isolated namespace created on first use, and
// `POST EP/_s3twin/reset?runId=R` empties exactly one of them.

import assert from "node:assert/strict";
import { after, describe, test } from "node:test";

import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadBucketCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from "@aws-sdk/client-s3";

import {
  EP,
  bucketName,
  expectS3Error,
  makeClient,
  newRunId,
  resetRun,
} from "./helpers.mjs";

const runA = newRunId("run-a");
const runB = newRunId("run-b");
const a = makeClient({ runId: runA });
const b = makeClient({ runId: runB });
const plain = makeClient({}); // the default namespace
// The same bucket name in both runs (unique per suite run so the default
// namespace can be checked too).
const shared = bucketName("shared");

after(async () => {
  a.destroy();
  b.destroy();
  plain.destroy();
  await resetRun(runA);
  await resetRun(runB);
});

const names = (out) => (out.Buckets ?? []).map((x) => x.Name).sort();

describe("runs", () => {
  test("health endpoint answers JSON", async () => {
    const res = await fetch(`${EP}/_s3twin/health`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /json/);
    const body = await res.json();
    assert.equal(body.status, "ok");
    assert.equal(body.service, "s3");
    assert.equal(typeof body.buckets, "number");
    assert.ok(Number.isInteger(body.buckets) && body.buckets >= 0);
  });

  test("a new run starts empty", async () => {
    const out = await a.send(new ListBucketsCommand({}));
    assert.deepEqual(names(out), []);
  });

  test("two runs can own a bucket of the same name, each with its own contents", async () => {
    await a.send(new CreateBucketCommand({ Bucket: shared }));
    await b.send(new CreateBucketCommand({ Bucket: shared }));
    await a.send(new PutObjectCommand({ Bucket: shared, Key: "who", Body: "run A" }));
    await b.send(new PutObjectCommand({ Bucket: shared, Key: "who", Body: "run B" }));
    await a.send(new PutObjectCommand({ Bucket: shared, Key: "only-in-a", Body: "a" }));

    const ga = await a.send(new GetObjectCommand({ Bucket: shared, Key: "who" }));
    assert.equal(await ga.Body.transformToString(), "run A");
    const gb = await b.send(new GetObjectCommand({ Bucket: shared, Key: "who" }));
    assert.equal(await gb.Body.transformToString(), "run B");

    await expectS3Error(() => b.send(new GetObjectCommand({ Bucket: shared, Key: "only-in-a" })), {
      name: "NoSuchKey",
      status: 404,
    });

    const la = await a.send(new ListObjectsV2Command({ Bucket: shared }));
    assert.deepEqual((la.Contents ?? []).map((o) => o.Key), ["only-in-a", "who"]);
    const lb = await b.send(new ListObjectsV2Command({ Bucket: shared }));
    assert.deepEqual((lb.Contents ?? []).map((o) => o.Key), ["who"]);

    assert.deepEqual(names(await a.send(new ListBucketsCommand({}))), [shared]);
    assert.deepEqual(names(await b.send(new ListBucketsCommand({}))), [shared]);
  });

  test("a run's buckets are invisible outside it", async () => {
    const onlyA = bucketName("only-a");
    await a.send(new CreateBucketCommand({ Bucket: onlyA }));
    await expectS3Error(() => b.send(new HeadBucketCommand({ Bucket: onlyA })), { status: 404 });
    await expectS3Error(() => b.send(new ListObjectsV2Command({ Bucket: onlyA })), {
      name: "NoSuchBucket",
      status: 404,
    });
    await expectS3Error(() => plain.send(new HeadBucketCommand({ Bucket: shared })), { status: 404 });
    const all = names(await plain.send(new ListBucketsCommand({})));
    assert.ok(!all.includes(shared) && !all.includes(onlyA), `default namespace lists ${all}`);
  });

  test("resetting run A empties A and leaves B untouched", async () => {
    const res = await resetRun(runA);
    assert.ok(res.ok, `reset answered ${res.status}`);

    assert.deepEqual(names(await a.send(new ListBucketsCommand({}))), []);
    await expectS3Error(() => a.send(new GetObjectCommand({ Bucket: shared, Key: "who" })), {
      name: "NoSuchBucket",
      status: 404,
    });

    assert.deepEqual(names(await b.send(new ListBucketsCommand({}))), [shared]);
    const gb = await b.send(new GetObjectCommand({ Bucket: shared, Key: "who" }));
    assert.equal(await gb.Body.transformToString(), "run B");
  });

  test("a reset run can be used again", async () => {
    await a.send(new CreateBucketCommand({ Bucket: shared }));
    await a.send(new PutObjectCommand({ Bucket: shared, Key: "again", Body: "fresh" }));
    const la = await a.send(new ListObjectsV2Command({ Bucket: shared }));
    assert.deepEqual((la.Contents ?? []).map((o) => o.Key), ["again"]);
    // B still has only its own object.
    const lb = await b.send(new ListObjectsV2Command({ Bucket: shared }));
    assert.deepEqual((lb.Contents ?? []).map((o) => o.Key), ["who"]);
  });
});
