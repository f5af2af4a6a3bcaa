// Event notifications through the AWS SDK for JavaScript v3: a real webhook
// receiver (http.createServer) gets the records of PUT, COPY, multipart
// Complete, DELETE (plain and versioned), tagging, restore and a lifecycle
// expiration after a clock advance; a receiver that answers 500 twice is
// retried.
//
// Records are checked field by field against AWS's "Event message structure"
// (S3 User Guide): eventVersion 2.1 (2.3 for lifecycle and tagging),
// eventSource aws:s3, awsRegion, eventTime, eventName without "s3:",
// userIdentity, requestParameters, responseElements carrying the request's
// x-amz-request-id / x-amz-id-2, s3.s3SchemaVersion, configurationId, bucket
// name / ownerIdentity / arn, object key (URL-encoded), size, eTag, versionId
// and sequencer. The delivery log's wait form replaces sleeps.

import assert from "node:assert/strict";
import http from "node:http";
import { after, describe, test } from "node:test";

import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketNotificationConfigurationCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  RestoreObjectCommand,
  UploadPartCommand,
} from "@aws-sdk/client-s3";

import { EP, makeClient, newRunId, resetRun } from "./helpers.mjs";

const QUEUE = "arn:aws:sqs:us-east-1:000000000000:node-events";
const runs = [];
const servers = [];

after(async () => {
  for (const r of runs) await resetRun(r);
  for (const s of servers) s.close();
});

async function admin(method, path, body) {
  const init = { method, headers: { "content-type": "application/json" } };
  if (body !== undefined) init.body = JSON.stringify(body);
  const res = await fetch(`${EP}${path}`, init);
  return { status: res.status, json: await res.json() };
}

/** A webhook receiver answering `script`'s statuses in turn, then 200. */
async function receiver(script = []) {
  const got = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      got.push({ headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString()) });
      res.statusCode = script.length ? script.shift() : 200;
      res.end();
    });
  });
  await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
  servers.push(server);
  return { got, url: `http://127.0.0.1:${server.address().port}/hook` };
}

async function logAfter(runId, n, extra = "") {
  const { status, json } = await admin(
    "GET",
    `/_s3twin/notifications?runId=${runId}&wait=${n}&timeout=10s${extra}`,
  );
  assert.equal(status, 200);
  assert.equal(json.settled, true, JSON.stringify(json));
  return json.notifications;
}

async function setup(events, { versioned = false, script = [] } = {}) {
  const runId = newRunId("ntf");
  runs.push(runId);
  const s3 = makeClient({ runId });
  const Bucket = "notify-me";
  await s3.send(new CreateBucketCommand({ Bucket }));
  if (versioned) {
    await s3.send(
      new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status: "Enabled" } }),
    );
  }
  const rx = await receiver(script);
  const hooked = await admin("POST", `/_s3twin/webhooks?runId=${runId}`, { arn: QUEUE, url: rx.url });
  assert.equal(hooked.status, 200);
  await s3.send(
    new PutBucketNotificationConfigurationCommand({
      Bucket,
      NotificationConfiguration: {
        QueueConfigurations: [{ Id: "js", QueueArn: QUEUE, Events: events }],
      },
    }),
  );
  return { runId, s3, Bucket, rx };
}

function checkRecord(body, bucket, eventName, out, version = "2.1") {
  assert.deepEqual(Object.keys(body), ["Records"]);
  assert.equal(body.Records.length, 1);
  const r = body.Records[0];
  assert.equal(r.eventVersion, version);
  assert.equal(r.eventSource, "aws:s3");
  assert.equal(r.awsRegion, "us-east-1");
  assert.match(r.eventTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  assert.equal(r.eventName, eventName);
  assert.equal(typeof r.userIdentity.principalId, "string");
  assert.equal(typeof r.requestParameters.sourceIPAddress, "string");
  if (out) {
    assert.equal(r.responseElements["x-amz-request-id"], out.$metadata.requestId);
    assert.equal(r.responseElements["x-amz-id-2"], out.$metadata.extendedRequestId);
  }
  assert.equal(r.s3.s3SchemaVersion, "1.0");
  assert.equal(r.s3.configurationId, "js");
  assert.equal(r.s3.bucket.name, bucket);
  assert.equal(r.s3.bucket.arn, `arn:aws:s3:::${bucket}`);
  assert.equal(typeof r.s3.bucket.ownerIdentity.principalId, "string");
  assert.match(r.s3.object.sequencer, /^[0-9A-F]{16,}$/);
  return r;
}

describe("event notifications", () => {
  test("PUT, COPY, Complete, tagging and DELETE reach the webhook", async () => {
    const { runId, s3, Bucket, rx } = await setup([
      "s3:ObjectCreated:*",
      "s3:ObjectRemoved:*",
      "s3:ObjectTagging:*",
    ]);
    await logAfter(runId, 1);
    assert.equal(rx.got[0].body.Event, "s3:TestEvent");
    assert.equal(rx.got[0].body.Bucket, Bucket);

    const put = await s3.send(new PutObjectCommand({ Bucket, Key: "a b/c=d.txt", Body: "hello" }));
    const copy = await s3.send(
      new CopyObjectCommand({ Bucket, Key: "copy", CopySource: `${Bucket}/a%20b/c%3Dd.txt` }),
    );
    const up = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: "mp" }));
    const part = await s3.send(
      new UploadPartCommand({ Bucket, Key: "mp", UploadId: up.UploadId, PartNumber: 1, Body: "abc" }),
    );
    const done = await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket,
        Key: "mp",
        UploadId: up.UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
      }),
    );
    const tag = await s3.send(
      new PutObjectTaggingCommand({ Bucket, Key: "mp", Tagging: { TagSet: [{ Key: "k", Value: "v" }] } }),
    );
    const del = await s3.send(new DeleteObjectCommand({ Bucket, Key: "copy" }));

    const log = await logAfter(runId, 6);
    assert.deepEqual(log.map((e) => e.status), Array(6).fill("delivered"));
    const bodies = rx.got.map((g) => g.body);
    const r = checkRecord(bodies[1], Bucket, "ObjectCreated:Put", put);
    assert.equal(r.s3.object.key, "a+b/c%3Dd.txt");
    assert.equal(r.s3.object.size, 5);
    assert.equal(r.s3.object.eTag, put.ETag.replaceAll('"', ""));
    assert.equal(r.s3.object.versionId, undefined);
    const c = checkRecord(bodies[2], Bucket, "ObjectCreated:Copy", copy);
    assert.equal(c.s3.object.eTag, copy.CopyObjectResult.ETag.replaceAll('"', ""));
    const m = checkRecord(bodies[3], Bucket, "ObjectCreated:CompleteMultipartUpload", done);
    assert.equal(m.s3.object.eTag, done.ETag.replaceAll('"', ""));
    checkRecord(bodies[4], Bucket, "ObjectTagging:Put", tag, "2.3");
    const d = checkRecord(bodies[5], Bucket, "ObjectRemoved:Delete", del);
    assert.equal(d.s3.object.size, undefined);
    const seqs = bodies.slice(1).map((b) => b.Records[0].s3.object.sequencer);
    assert.deepEqual([...seqs].sort(), seqs);
    assert.equal(rx.got[1].headers["content-type"], "application/json");
  });

  test("a versioned DELETE creates a delete-marker record", async () => {
    const { runId, s3, Bucket, rx } = await setup(["s3:ObjectRemoved:*"], { versioned: true });
    const put = await s3.send(new PutObjectCommand({ Bucket, Key: "k", Body: "v1" }));
    const marker = await s3.send(new DeleteObjectCommand({ Bucket, Key: "k" }));
    await logAfter(runId, 2);
    const mk = checkRecord(rx.got[1].body, Bucket, "ObjectRemoved:DeleteMarkerCreated", marker);
    assert.equal(mk.s3.object.versionId, marker.VersionId);
    assert.notEqual(mk.s3.object.versionId, put.VersionId);
  });

  test("lifecycle expiration and restore follow the run clock", async () => {
    const { runId, s3, Bucket, rx } = await setup([
      "s3:LifecycleExpiration:*",
      "s3:ObjectRestore:*",
    ]);
    await s3.send(
      new PutBucketLifecycleConfigurationCommand({
        Bucket,
        LifecycleConfiguration: {
          Rules: [{ ID: "tmp", Status: "Enabled", Filter: { Prefix: "tmp/" }, Expiration: { Days: 1 } }],
        },
      }),
    );
    await s3.send(new PutObjectCommand({ Bucket, Key: "tmp/x", Body: "xyz" }));
    await s3.send(new PutObjectCommand({ Bucket, Key: "cold", Body: "ice", StorageClass: "GLACIER" }));
    const restore = await s3.send(
      new RestoreObjectCommand({
        Bucket,
        Key: "cold",
        RestoreRequest: { Days: 1, GlacierJobParameters: { Tier: "Expedited" } },
      }),
    );
    const clock = await admin("POST", `/_s3twin/clock?runId=${runId}`, { advance: "2d" });
    assert.equal(clock.status, 200);
    await logAfter(runId, 4);
    const byName = Object.fromEntries(
      rx.got.slice(1).map((g) => [g.body.Records[0].eventName, g.body]),
    );
    checkRecord(byName["ObjectRestore:Post"], Bucket, "ObjectRestore:Post", restore);
    const exp = checkRecord(
      byName["LifecycleExpiration:Delete"],
      Bucket,
      "LifecycleExpiration:Delete",
      undefined,
      "2.3",
    );
    assert.equal(exp.userIdentity.principalId, "s3.amazonaws.com");
    assert.equal(exp.s3.object.key, "tmp/x");
    assert.equal(exp.eventTime.slice(0, 10), clock.json.now.slice(0, 10));
    const doneRestore = checkRecord(byName["ObjectRestore:Completed"], Bucket, "ObjectRestore:Completed");
    assert.equal(doneRestore.glacierEventData.restoreEventData.lifecycleRestoreStorageClass, "GLACIER");
  });

  test("a receiver answering 500 twice is retried; the log shows three attempts", async () => {
    const { runId, s3, Bucket, rx } = await setup(["s3:ObjectCreated:Put"], { script: [200, 500, 500] });
    await s3.send(new PutObjectCommand({ Bucket, Key: "k", Body: "x" }));
    const [entry] = await logAfter(runId, 1, "&eventName=ObjectCreated:Put");
    assert.equal(entry.status, "delivered");
    assert.deepEqual(entry.attempts.map((a) => a.status), [500, 500, 200]);
    assert.equal(rx.got.length, 4);
  });

  test("a webhook URL that is not http is refused and nothing changes", async () => {
    const runId = newRunId("ntf");
    runs.push(runId);
    await admin("POST", "/_s3twin/runs", { runId });
    for (const url of ["ftp://127.0.0.1/x", "javascript:alert(1)", "https://example.com/"]) {
      const res = await admin("POST", `/_s3twin/webhooks?runId=${runId}`, { arn: QUEUE, url });
      assert.equal(res.status, 400);
      assert.equal(typeof res.json.error, "string");
    }
    const list = await admin("GET", `/_s3twin/webhooks?runId=${runId}`);
    assert.deepEqual(list.json.webhooks, []);
  });
});
