// The twin surface through the AWS SDK for JavaScript v3: runs API, seeding,
// the per-run clock, lifecycle rules run on that clock, archived objects and
// RestoreObject, and presigned-URL expiry (@aws-sdk/s3-request-presigner and
// the admin presign endpoint). The admin API is JSON over fetch.
//
// Expected behaviour comes from the s3twin admin contract and AWS's
// documentation: lifecycle days are added to the creation time (noncurrent
// days: to the time a version became noncurrent) and rounded up to the next
// midnight UTC; an expired presigned URL answers 403 AccessDenied "Request
// has expired" with X-Amz-Expires, Expires and ServerTime; RestoreObject
// answers 202, a second one while running 409 RestoreAlreadyInProgress, and
// HEAD reports x-amz-restore.

import assert from "node:assert/strict";
import crypto from "node:crypto";
import { after, describe, test } from "node:test";

import {
  AbortMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetBucketLifecycleConfigurationCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListMultipartUploadsCommand,
  ListObjectVersionsCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  RestoreObjectCommand,
  S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";

import { EP, expectS3Error, xmlValue } from "./helpers.mjs";

const T0 = new Date("2030-01-01T10:00:00Z");
const HOUR = 3600 * 1000;
const DAY = 24 * HOUR;
const RUN_ID_RE = /^[A-Za-z0-9._-]{1,64}$/;

// ---------------------------------------------------------------------------
// Admin helpers

async function admin(method, path, { body, raw } = {}) {
  const init = { method, headers: {} };
  if (raw !== undefined) {
    init.body = raw;
    init.headers["content-type"] = "application/json";
  } else if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers["content-type"] = "application/json";
  }
  const res = await fetch(`${EP}${path}`, init);
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

function assertJsonError(res, status) {
  if (status === undefined) {
    assert.ok(res.status >= 400 && res.status < 500, `expected 4xx, got ${res.status}: ${res.text}`);
  } else {
    assert.equal(res.status, status, res.text);
  }
  assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
  assert.equal(typeof res.json?.error, "string", res.text);
  assert.ok(res.json.error.length > 0);
}

const created = [];
const clients = [];

after(async () => {
  for (const c of clients) c.destroy();
  for (const id of created) {
    await admin("DELETE", `/_s3twin/runs/${encodeURIComponent(id)}`).catch(() => {});
  }
});

function newRunId(label = "jstwin") {
  return `${label}-${crypto.randomBytes(8).toString("hex")}`;
}

function clientFor(info, extra = {}) {
  const c = new S3Client({
    region: info.region,
    endpoint: info.endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: info.accessKeyId, secretAccessKey: info.secretAccessKey },
    maxAttempts: 1,
    ...extra,
  });
  clients.push(c);
  return c;
}

/** POST /_s3twin/runs; returns { info, id, s3, ...clock helpers }. */
async function createRun({ runId = newRunId(), seed, noId = false } = {}) {
  const body = {};
  if (!noId) body.runId = runId;
  if (seed !== undefined) body.seed = seed;
  const res = await admin("POST", "/_s3twin/runs", { body });
  assert.equal(res.status, 201, res.text);
  const info = res.json;
  created.push(info.runId);
  const id = info.runId;
  const q = `runId=${encodeURIComponent(id)}`;
  const run = {
    info,
    id,
    s3: clientFor(info),
    async clock() {
      const r = await admin("GET", `/_s3twin/clock?${q}`);
      assert.equal(r.status, 200, r.text);
      return r.json;
    },
    async now() {
      return new Date((await run.clock()).now);
    },
    postClock(body) {
      return admin("POST", `/_s3twin/clock?${q}`, { body });
    },
    async clockOk(body) {
      const r = await run.postClock(body);
      assert.equal(r.status, 200, `${JSON.stringify(body)} → ${r.status} ${r.text}`);
      return r.json;
    },
    advance(spec) {
      return run.clockOk({ advance: spec });
    },
    set(when) {
      return run.clockOk({ set: when instanceof Date ? when.toISOString().replace(".000Z", "Z") : when });
    },
    async pin(when = T0) {
      await run.clockOk({ freeze: true });
      const out = await run.set(when);
      assert.equal(out.frozen, true);
      assert.equal(new Date(out.now).getTime(), when.getTime());
    },
    async presign(method, bucket, key, expiresIn = 3600) {
      const r = await admin("POST", `/_s3twin/presign?${q}`, {
        body: { method, bucket, key, expiresIn },
      });
      assert.equal(r.status, 200, r.text);
      return r.json.url;
    },
    seed(doc, path = "/_clone/seed") {
      return admin("POST", `${path}?${q}`, { body: doc });
    },
  };
  return run;
}

async function keys(s3, bucket) {
  const out = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
  return (out.Contents ?? []).map((o) => o.Key);
}

async function putLifecycle(s3, bucket, rules, minimumSize) {
  await s3.send(
    new PutBucketLifecycleConfigurationCommand({
      Bucket: bucket,
      LifecycleConfiguration: { Rules: rules },
      TransitionDefaultMinimumObjectSize: minimumSize,
    }),
  );
}

function closeTo(actual, expected, slackMs = 2 * 60 * 1000) {
  return Math.abs(actual.getTime() - expected.getTime()) <= slackMs;
}

// ---------------------------------------------------------------------------

describe("seven-day expiry on temp-uploads", () => {
  const rules = [
    { ID: "expire-temp-uploads", Status: "Enabled", Filter: { Prefix: "" }, Expiration: { Days: 7 } },
  ];

  async function setUp(run) {
    await run.s3.send(new CreateBucketCommand({ Bucket: "temp-uploads" }));
    await putLifecycle(run.s3, "temp-uploads", rules);
    for (const k of ["a.bin", "b.bin", "c.bin"]) {
      await run.s3.send(new PutObjectCommand({ Bucket: "temp-uploads", Key: k, Body: `body of ${k}` }));
    }
    assert.deepEqual(await keys(run.s3, "temp-uploads"), ["a.bin", "b.bin", "c.bin"]);
  }

  test("advancing 8 days empties the bucket", async () => {
    const run = await createRun();
    await setUp(run);
    const before = await run.now();
    const out = await run.advance("8d");
    assert.ok(new Date(out.now) - before >= 8 * DAY, JSON.stringify(out));
    const listed = await run.s3.send(new ListObjectsV2Command({ Bucket: "temp-uploads" }));
    assert.equal(listed.KeyCount, 0);
    assert.equal(listed.Contents, undefined);
    await expectS3Error(
      () => run.s3.send(new GetObjectCommand({ Bucket: "temp-uploads", Key: "a.bin" })),
      { name: "NoSuchKey", status: 404 },
    );
  });

  test("advancing 6 days in a fresh run keeps everything", async () => {
    const run = await createRun();
    await setUp(run);
    await run.advance("6d");
    assert.deepEqual(await keys(run.s3, "temp-uploads"), ["a.bin", "b.bin", "c.bin"]);
    const got = await run.s3.send(new GetObjectCommand({ Bucket: "temp-uploads", Key: "b.bin" }));
    assert.equal(await got.Body.transformToString(), "body of b.bin");
  });

  test("rounding: Days=1 from 10:00 is due at the second midnight", async () => {
    const run = await createRun();
    await run.pin(T0);
    await run.s3.send(new CreateBucketCommand({ Bucket: "round" }));
    await putLifecycle(run.s3, "round", [
      { ID: "d1", Status: "Enabled", Filter: { Prefix: "" }, Expiration: { Days: 1 } },
    ]);
    await run.s3.send(new PutObjectCommand({ Bucket: "round", Key: "k", Body: "v" }));
    await run.set(new Date("2030-01-02T23:50:00Z"));
    assert.deepEqual(await keys(run.s3, "round"), ["k"]);
    await run.set(new Date("2030-01-03T00:10:00Z"));
    assert.deepEqual(await keys(run.s3, "round"), []);
  });

  test("x-amz-expiration on PUT, HEAD and GET", async () => {
    const run = await createRun();
    await run.pin(T0);
    await run.s3.send(new CreateBucketCommand({ Bucket: "exp" }));
    await putLifecycle(run.s3, "exp", [
      { ID: "tmp-7d", Status: "Enabled", Filter: { Prefix: "tmp/" }, Expiration: { Days: 7 } },
    ]);
    const want = 'expiry-date="Wed, 09 Jan 2030 00:00:00 GMT", rule-id="tmp-7d"';
    const put = await run.s3.send(new PutObjectCommand({ Bucket: "exp", Key: "tmp/a", Body: "a" }));
    assert.equal(put.Expiration, want);
    const head = await run.s3.send(new HeadObjectCommand({ Bucket: "exp", Key: "tmp/a" }));
    assert.equal(head.Expiration, want);
    assert.equal(head.LastModified.getTime(), T0.getTime());
    const got = await run.s3.send(new GetObjectCommand({ Bucket: "exp", Key: "tmp/a" }));
    assert.equal(got.Expiration, want);
    await got.Body.transformToString();
    const other = await run.s3.send(new PutObjectCommand({ Bucket: "exp", Key: "keep/b", Body: "b" }));
    assert.equal(other.Expiration, undefined);
  });
});

describe("versioned buckets", () => {
  test("NoncurrentVersionExpiration with NewerNoncurrentVersions", async () => {
    const run = await createRun();
    const s3 = run.s3;
    await s3.send(new CreateBucketCommand({ Bucket: "ver" }));
    await s3.send(
      new PutBucketVersioningCommand({ Bucket: "ver", VersioningConfiguration: { Status: "Enabled" } }),
    );
    await putLifecycle(s3, "ver", [
      {
        ID: "keep-1",
        Status: "Enabled",
        Filter: { Prefix: "" },
        NoncurrentVersionExpiration: { NoncurrentDays: 1, NewerNoncurrentVersions: 1 },
      },
    ]);
    const ids = [];
    for (let i = 0; i < 4; i++) {
      ids.push((await s3.send(new PutObjectCommand({ Bucket: "ver", Key: "k", Body: `v${i}` }))).VersionId);
    }
    await run.advance("12h");
    let out = await s3.send(new ListObjectVersionsCommand({ Bucket: "ver" }));
    assert.equal(out.Versions.length, 4, "noncurrent versions expired before NoncurrentDays");
    await run.advance("3d");
    out = await s3.send(new ListObjectVersionsCommand({ Bucket: "ver" }));
    assert.deepEqual(
      out.Versions.map((v) => [v.VersionId, v.IsLatest]),
      [
        [ids[3], true],
        [ids[2], false],
      ],
    );
  });

  test("expiring a current version adds a delete marker; a lone marker is removed", async () => {
    const run = await createRun();
    const s3 = run.s3;
    await s3.send(new CreateBucketCommand({ Bucket: "markers-dm" }));
    await s3.send(
      new PutBucketVersioningCommand({ Bucket: "markers-dm", VersioningConfiguration: { Status: "Enabled" } }),
    );
    await putLifecycle(s3, "markers-dm", [
      { ID: "exp", Status: "Enabled", Filter: { Prefix: "data/" }, Expiration: { Days: 1 } },
      { ID: "markers", Status: "Enabled", Filter: { Prefix: "lone/" }, Expiration: { ExpiredObjectDeleteMarker: true } },
    ]);
    const vid = (await s3.send(new PutObjectCommand({ Bucket: "markers-dm", Key: "data/x", Body: "x" }))).VersionId;
    const lone = await s3.send(new DeleteObjectCommand({ Bucket: "markers-dm", Key: "lone/y" }));
    assert.equal(lone.DeleteMarker, true);
    await run.advance("3d");
    const out = await s3.send(new ListObjectVersionsCommand({ Bucket: "markers-dm" }));
    assert.deepEqual((out.Versions ?? []).map((v) => [v.Key, v.VersionId, v.IsLatest]), [["data/x", vid, false]]);
    assert.deepEqual((out.DeleteMarkers ?? []).map((m) => [m.Key, m.IsLatest]), [["data/x", true]]);
    const old = await s3.send(new GetObjectCommand({ Bucket: "markers-dm", Key: "data/x", VersionId: vid }));
    assert.equal(await old.Body.transformToString(), "x");
  });
});

describe("multipart uploads", () => {
  test("AbortIncompleteMultipartUpload removes the upload", async () => {
    const run = await createRun();
    const s3 = run.s3;
    await s3.send(new CreateBucketCommand({ Bucket: "uploads-mp" }));
    await putLifecycle(s3, "uploads-mp", [
      {
        ID: "abort",
        Status: "Enabled",
        Filter: { Prefix: "" },
        AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
      },
    ]);
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: "uploads-mp", Key: "big" }));
    await s3.send(
      new UploadPartCommand({ Bucket: "uploads-mp", Key: "big", UploadId, PartNumber: 1, Body: "part one" }),
    );
    let uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket: "uploads-mp" }));
    assert.deepEqual((uploads.Uploads ?? []).map((u) => u.UploadId), [UploadId]);
    await run.advance("3d");
    uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket: "uploads-mp" }));
    assert.deepEqual(uploads.Uploads ?? [], []);
    await expectS3Error(() => s3.send(new ListPartsCommand({ Bucket: "uploads-mp", Key: "big", UploadId })), {
      name: "NoSuchUpload",
      status: 404,
    });
    await expectS3Error(
      () => s3.send(new AbortMultipartUploadCommand({ Bucket: "uploads-mp", Key: "big", UploadId })),
      { name: "NoSuchUpload", status: 404 },
    );
  });
});

describe("archive and restore", () => {
  test("transition to GLACIER, InvalidObjectState, restore, expiry of the restored copy", async () => {
    const run = await createRun();
    const s3 = run.s3;
    await run.pin(T0);
    await s3.send(new CreateBucketCommand({ Bucket: "arc" }));
    await putLifecycle(s3, "arc", [
      {
        ID: "to-glacier",
        Status: "Enabled",
        Filter: { Prefix: "old/" },
        Transitions: [{ Days: 1, StorageClass: "GLACIER" }],
      },
    ], "varies_by_storage_class"); // objects under 128 KiB go to GLACIER only under it
    await s3.send(new PutObjectCommand({ Bucket: "arc", Key: "old/ledger.csv", Body: "ledger" }));
    await s3.send(new PutObjectCommand({ Bucket: "arc", Key: "new/today.csv", Body: "today" }));
    await run.set(new Date("2030-01-04T10:00:00Z"));

    const listed = await s3.send(new ListObjectsV2Command({ Bucket: "arc" }));
    assert.deepEqual(
      listed.Contents.map((o) => [o.Key, o.StorageClass]),
      [
        ["new/today.csv", "STANDARD"],
        ["old/ledger.csv", "GLACIER"],
      ],
    );
    const head = await s3.send(new HeadObjectCommand({ Bucket: "arc", Key: "old/ledger.csv" }));
    assert.equal(head.StorageClass, "GLACIER");
    assert.equal(head.Restore, undefined);
    await expectS3Error(() => s3.send(new GetObjectCommand({ Bucket: "arc", Key: "old/ledger.csv" })), {
      name: "InvalidObjectState",
      status: 403,
    });

    const restore = await s3.send(
      new RestoreObjectCommand({
        Bucket: "arc",
        Key: "old/ledger.csv",
        RestoreRequest: { Days: 1, GlacierJobParameters: { Tier: "Expedited" } },
      }),
    );
    assert.equal(restore.$metadata.httpStatusCode, 202);
    let h = await s3.send(new HeadObjectCommand({ Bucket: "arc", Key: "old/ledger.csv" }));
    assert.equal(h.Restore, 'ongoing-request="true"');
    await expectS3Error(
      () =>
        s3.send(
          new RestoreObjectCommand({
            Bucket: "arc",
            Key: "old/ledger.csv",
            RestoreRequest: { Days: 1, GlacierJobParameters: { Tier: "Expedited" } },
          }),
        ),
      { name: "RestoreAlreadyInProgress", status: 409 },
    );

    await run.advance("4m"); // Expedited: 5 minutes
    h = await s3.send(new HeadObjectCommand({ Bucket: "arc", Key: "old/ledger.csv" }));
    assert.equal(h.Restore, 'ongoing-request="true"');
    await run.advance("2m");
    h = await s3.send(new HeadObjectCommand({ Bucket: "arc", Key: "old/ledger.csv" }));
    // Done at Jan 4 10:05, 1 day -> Jan 5 10:05 -> rounded up to Jan 6 00:00.
    assert.equal(h.Restore, 'ongoing-request="false", expiry-date="Sun, 06 Jan 2030 00:00:00 GMT"');
    const got = await s3.send(new GetObjectCommand({ Bucket: "arc", Key: "old/ledger.csv" }));
    assert.equal(await got.Body.transformToString(), "ledger");

    await run.set(new Date("2030-01-06T00:30:00Z"));
    await expectS3Error(() => s3.send(new GetObjectCommand({ Bucket: "arc", Key: "old/ledger.csv" })), {
      name: "InvalidObjectState",
      status: 403,
    });
  });

  test("DEEP_ARCHIVE Standard restore takes 12 hours", async () => {
    const run = await createRun();
    const s3 = run.s3;
    await run.pin(T0);
    await s3.send(new CreateBucketCommand({ Bucket: "deep" }));
    await s3.send(
      new PutObjectCommand({ Bucket: "deep", Key: "tape", Body: "old tape", StorageClass: "DEEP_ARCHIVE" }),
    );
    await expectS3Error(() => s3.send(new GetObjectCommand({ Bucket: "deep", Key: "tape" })), {
      name: "InvalidObjectState",
      status: 403,
    });
    const r = await s3.send(
      new RestoreObjectCommand({
        Bucket: "deep",
        Key: "tape",
        RestoreRequest: { Days: 3, GlacierJobParameters: { Tier: "Standard" } },
      }),
    );
    assert.equal(r.$metadata.httpStatusCode, 202);
    await run.advance("11h59m");
    assert.equal(
      (await s3.send(new HeadObjectCommand({ Bucket: "deep", Key: "tape" }))).Restore,
      'ongoing-request="true"',
    );
    await run.advance("2m");
    const h = await s3.send(new HeadObjectCommand({ Bucket: "deep", Key: "tape" }));
    assert.match(h.Restore, /^ongoing-request="false", expiry-date="[^"]+ 00:00:00 GMT"$/);
    assert.equal(h.StorageClass, "DEEP_ARCHIVE");
    const got = await s3.send(new GetObjectCommand({ Bucket: "deep", Key: "tape" }));
    assert.equal(await got.Body.transformToString(), "old tape");
  });
});

describe("presigned URLs on the run's clock", () => {
  async function twoRuns() {
    const a = await createRun();
    const b = await createRun();
    for (const run of [a, b]) {
      await run.s3.send(new CreateBucketCommand({ Bucket: "docs" }));
      await run.s3.send(new PutObjectCommand({ Bucket: "docs", Key: "r.txt", Body: `from ${run.id}` }));
    }
    return [a, b];
  }

  async function checkExpired(res, url, run) {
    assert.equal(res.status, 403);
    const body = await res.text();
    assert.equal(xmlValue(body, "Code"), "AccessDenied", body);
    assert.equal(xmlValue(body, "Message"), "Request has expired", body);
    const q = new URL(url).searchParams;
    assert.equal(xmlValue(body, "X-Amz-Expires"), q.get("X-Amz-Expires"), body);
    const d = q.get("X-Amz-Date");
    const signed = new Date(
      `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 8)}T${d.slice(9, 11)}:${d.slice(11, 13)}:${d.slice(13, 15)}Z`,
    );
    const expires = new Date(xmlValue(body, "Expires"));
    assert.equal(expires.getTime(), signed.getTime() + Number(q.get("X-Amz-Expires")) * 1000, body);
    const serverTime = new Date(xmlValue(body, "ServerTime"));
    assert.ok(closeTo(serverTime, await run.now()), body);
    assert.ok(serverTime > expires, body);
  }

  for (const kind of ["s3-request-presigner", "twin presign"]) {
    test(`${kind}: a 1-hour GET works, then expires after 2 hours on this run only`, async () => {
      const [a, b] = await twoRuns();
      const make = (run) =>
        kind === "twin presign"
          ? run.presign("GET", "docs", "r.txt", 3600)
          : getSignedUrl(run.s3, new GetObjectCommand({ Bucket: "docs", Key: "r.txt" }), { expiresIn: 3600 });
      const urlA = await make(a);
      const urlB = await make(b);
      assert.match(urlA, /X-Amz-Expires=3600/);
      assert.ok(urlA.includes(`/t/${a.id}/`), urlA);

      let res = await fetch(urlA);
      assert.equal(res.status, 200);
      assert.equal(await res.text(), `from ${a.id}`);

      await a.advance("2h");
      res = await fetch(urlA);
      await checkExpired(res, urlA, a);

      res = await fetch(urlB);
      assert.equal(res.status, 200);
      assert.equal(await res.text(), `from ${b.id}`);
    });
  }

  test("twin presign on a frozen clock is deterministic", async () => {
    const run = await createRun();
    await run.pin(T0);
    await run.s3.send(new CreateBucketCommand({ Bucket: "docs" }));
    await run.s3.send(new PutObjectCommand({ Bucket: "docs", Key: "k", Body: "frozen" }));
    const u1 = await run.presign("GET", "docs", "k", 3600);
    const u2 = await run.presign("GET", "docs", "k", 3600);
    assert.equal(u1, u2);
    assert.equal(new URL(u1).searchParams.get("X-Amz-Date"), "20300101T100000Z");
    const res = await fetch(u1);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), "frozen");
  });

  test("X-Amz-Expires over a week → AuthorizationQueryParametersError", async () => {
    const run = await createRun();
    await run.s3.send(new CreateBucketCommand({ Bucket: "docs" }));
    await run.s3.send(new PutObjectCommand({ Bucket: "docs", Key: "k", Body: "x" }));
    const url = await getSignedUrl(run.s3, new GetObjectCommand({ Bucket: "docs", Key: "k" }), {
      expiresIn: 3600,
    });
    const res = await fetch(url.replace("X-Amz-Expires=3600", "X-Amz-Expires=604801"));
    assert.equal(res.status, 400);
    assert.equal(xmlValue(await res.text(), "Code"), "AuthorizationQueryParametersError");
  });

  test("a presigned PUT stores the x-amz-meta-* and tagging it carries in its query", async () => {
    const run = await createRun();
    await run.s3.send(new CreateBucketCommand({ Bucket: "docs" }));
    const command = () =>
      new PutObjectCommand({
        Bucket: "docs",
        Key: "meta.txt",
        Metadata: { color: "blue" },
        Tagging: "team=core",
      });
    // Without a body at signing time the default client signs the CRC32 of an empty payload
    // into the URL: AWS refuses any real upload through it (aws-sdk-js-v3#6994).
    const withEmptyCrc = await getSignedUrl(run.s3, command(), { expiresIn: 3600 });
    assert.equal(new URL(withEmptyCrc).searchParams.get("x-amz-checksum-crc32"), "AAAAAA==");
    let res = await fetch(withEmptyCrc, { method: "PUT", body: "hello" });
    assert.equal(res.status, 400);
    assert.equal(xmlValue(await res.text(), "Code"), "BadDigest");

    // The documented fix: checksums only when required.
    const presigner = clientFor(run.info, { requestChecksumCalculation: "WHEN_REQUIRED" });
    const url = await getSignedUrl(presigner, command(), { expiresIn: 3600 });
    // The presigner hoists the x-amz-* headers into the signed query string.
    assert.equal(new URL(url).searchParams.get("x-amz-meta-color"), "blue", url);
    res = await fetch(url, { method: "PUT", body: "hello" });
    assert.equal(res.status, 200, await res.text());
    const head = await run.s3.send(new HeadObjectCommand({ Bucket: "docs", Key: "meta.txt" }));
    assert.deepEqual(head.Metadata, { color: "blue" });
    const tags = await run.s3.send(new GetObjectTaggingCommand({ Bucket: "docs", Key: "meta.txt" }));
    assert.deepEqual(tags.TagSet, [{ Key: "team", Value: "core" }]);
  });
});

describe("clocks", () => {
  test("two runs keep independent clocks; LastModified follows each", async () => {
    const a = await createRun();
    const b = await createRun();
    await a.advance("3d");
    for (const run of [a, b]) {
      await run.s3.send(new CreateBucketCommand({ Bucket: "same" }));
      await run.s3.send(new PutObjectCommand({ Bucket: "same", Key: "k", Body: run.id }));
    }
    const real = new Date();
    const ha = await a.s3.send(new HeadObjectCommand({ Bucket: "same", Key: "k" }));
    const hb = await b.s3.send(new HeadObjectCommand({ Bucket: "same", Key: "k" }));
    assert.ok(closeTo(ha.LastModified, new Date(real.getTime() + 3 * DAY)), ha.LastModified.toISOString());
    assert.ok(closeTo(hb.LastModified, real), hb.LastModified.toISOString());
    const la = await a.s3.send(new ListObjectsV2Command({ Bucket: "same" }));
    assert.ok(closeTo(la.Contents[0].LastModified, new Date(real.getTime() + 3 * DAY)));
    assert.ok(closeTo(await b.now(), new Date()));
  });

  test("frozen clock: exact timestamps everywhere", async () => {
    const run = await createRun();
    await run.pin(T0);
    await run.s3.send(new CreateBucketCommand({ Bucket: "stamps" }));
    await run.s3.send(new PutObjectCommand({ Bucket: "stamps", Key: "k", Body: "v" }));
    const head = await run.s3.send(new HeadObjectCommand({ Bucket: "stamps", Key: "k" }));
    assert.equal(head.LastModified.toISOString(), "2030-01-01T10:00:00.000Z");
    const { UploadId } = await run.s3.send(new CreateMultipartUploadCommand({ Bucket: "stamps", Key: "uploads-mp" }));
    const ups = await run.s3.send(new ListMultipartUploadsCommand({ Bucket: "stamps" }));
    assert.deepEqual(
      ups.Uploads.map((u) => [u.UploadId, u.Initiated.toISOString()]),
      [[UploadId, "2030-01-01T10:00:00.000Z"]],
    );
    const res = await fetch(await run.presign("GET", "stamps", "k", 600));
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("date"), "Tue, 01 Jan 2030 10:00:00 GMT");
    assert.equal(res.headers.get("last-modified"), "Tue, 01 Jan 2030 10:00:00 GMT");
    await res.arrayBuffer();
  });

  test("reset of one run leaves the other's clock and objects", async () => {
    const a = await createRun();
    const b = await createRun();
    for (const run of [a, b]) {
      await run.s3.send(new CreateBucketCommand({ Bucket: "same" }));
      await run.s3.send(new PutObjectCommand({ Bucket: "same", Key: "k", Body: run.id }));
    }
    await b.advance("5d");
    const res = await admin("POST", `/_s3twin/reset?runId=${a.id}`);
    assert.equal(res.status, 200, res.text);
    assert.deepEqual((await a.s3.send(new ListBucketsCommand({}))).Buckets ?? [], []);
    assert.ok(closeTo(await b.now(), new Date(Date.now() + 5 * DAY)));
    const got = await b.s3.send(new GetObjectCommand({ Bucket: "same", Key: "k" }));
    assert.equal(await got.Body.transformToString(), b.id);
  });
});

describe("bad admin input", () => {
  test("clock of an unknown run → 404", async () => {
    const ghost = newRunId("ghost");
    assertJsonError(await admin("GET", `/_s3twin/clock?runId=${ghost}`), 404);
    assertJsonError(await admin("POST", `/_s3twin/clock?runId=${ghost}`, { body: { advance: "1d" } }), 404);
  });

  test("malformed JSON → 400, clock unchanged", async () => {
    const run = await createRun();
    await run.pin(T0);
    const res = await admin("POST", `/_s3twin/clock?runId=${run.id}`, { raw: '{"advance": ' });
    assertJsonError(res, 400);
    assert.equal((await run.now()).getTime(), T0.getTime());
  });

  test('"advance":"-3d" → 400, clock unchanged', async () => {
    const run = await createRun();
    await run.pin(T0);
    assertJsonError(await run.postClock({ advance: "-3d" }), 400);
    assertJsonError(await run.postClock({ set: "2029-12-31T00:00:00Z" }), 400);
    const clock = await run.clock();
    assert.equal(new Date(clock.now).getTime(), T0.getTime());
    assert.equal(clock.frozen, true);
  });

  test("seed with a bad bucket name → 400, no bucket created", async () => {
    const run = await createRun();
    const res = await run.seed({ buckets: [{ name: "good-one" }, { name: "Bad_Name" }] });
    assertJsonError(res, 400);
    assert.deepEqual((await run.s3.send(new ListBucketsCommand({}))).Buckets ?? [], []);
  });

  test("seed with an unknown field → 400, no bucket created", async () => {
    const run = await createRun();
    const res = await run.seed({ buckets: [{ name: "good-one", objects: [{ key: "a", body: "x", colour: "red" }] }] });
    assertJsonError(res, 400);
    assert.deepEqual((await run.s3.send(new ListBucketsCommand({}))).Buckets ?? [], []);
  });

  test("seed with body and bodyBase64 → 400", async () => {
    const run = await createRun();
    const res = await run.seed({
      buckets: [{ name: "good-one", objects: [{ key: "a", body: "x", bodyBase64: "eA==" }] }],
    });
    assertJsonError(res, 400);
    assert.deepEqual((await run.s3.send(new ListBucketsCommand({}))).Buckets ?? [], []);
  });
});

describe("seeding", () => {
  test("an exported run imports as a run the SDK cannot tell apart", async () => {
    const src = await createRun();
    await src.clockOk({ freeze: true });
    const b = "js-export";
    await src.s3.send(new CreateBucketCommand({ Bucket: b }));
    await src.s3.send(
      new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: "Enabled" } }),
    );
    await src.s3.send(
      new PutObjectCommand({ Bucket: b, Key: "k", Body: "one", Metadata: { n: "1" }, Tagging: "z=1&a=2" }),
    );
    await src.clockOk({ advance: "1h" });
    await src.s3.send(new PutObjectCommand({ Bucket: b, Key: "k", Body: "two", ContentType: "text/plain" }));
    await src.s3.send(new DeleteObjectCommand({ Bucket: b, Key: "k" }));
    const exp = await admin("GET", `/_s3twin/runs/${src.id}/export`);
    assert.equal(exp.status, 200, exp.text);
    const copy = await createRun({ seed: exp.json });
    const state = async (run) => {
      const v = await run.s3.send(new ListObjectVersionsCommand({ Bucket: b }));
      const out = [
        (v.Versions ?? []).map((x) => [x.Key, x.VersionId, x.ETag, x.Size, x.LastModified?.getTime(), x.IsLatest]),
        (v.DeleteMarkers ?? []).map((m) => [m.Key, m.VersionId, m.IsLatest, m.LastModified?.getTime()]),
      ];
      for (const x of v.Versions ?? []) {
        const h = await run.s3.send(new HeadObjectCommand({ Bucket: b, Key: x.Key, VersionId: x.VersionId }));
        const g = await run.s3.send(new GetObjectCommand({ Bucket: b, Key: x.Key, VersionId: x.VersionId }));
        const t = await run.s3.send(new GetObjectTaggingCommand({ Bucket: b, Key: x.Key, VersionId: x.VersionId }));
        out.push([h.ETag, h.ContentType, h.Metadata, await g.Body.transformToString(), t.TagSet]);
      }
      return out;
    };
    const original = await state(src);
    assert.equal(original[0].length, 2);
    assert.equal(original[1].length, 1);
    assert.deepEqual(await state(copy), original);
  });

  test("a seed document creates buckets, objects, versioning and lifecycle", async () => {
    const run = await createRun();
    const rules = [
      { ID: "tmp-7d", Status: "Enabled", Filter: { Prefix: "tmp/" }, Expiration: { Days: 7 } },
    ];
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 1, 2, 255]);
    const res = await run.seed(
      {
        buckets: [
          {
            name: "invoices",
            versioning: "Enabled",
            lifecycle: rules,
            objects: [
              { key: "2030/inv-1.txt", body: "invoice one", contentType: "text/plain", metadata: { client: "acme" } },
              { key: "img/logo.png", bodyBase64: png.toString("base64"), contentType: "image/png" },
              { key: "tmp/upload.part", body: "partial", tags: { stage: "tmp" } },
            ],
          },
        ],
      },
      "/_s3twin/seed",
    );
    assert.equal(res.status, 200, res.text);
    const { runId, buckets, objects } = res.json;
    assert.deepEqual({ runId, buckets, objects }, { runId: run.id, buckets: 1, objects: 3 });
    const s3 = run.s3;
    assert.deepEqual(await keys(s3, "invoices"), ["2030/inv-1.txt", "img/logo.png", "tmp/upload.part"]);
    const inv = await s3.send(new GetObjectCommand({ Bucket: "invoices", Key: "2030/inv-1.txt" }));
    assert.equal(inv.ContentType, "text/plain");
    assert.deepEqual(inv.Metadata, { client: "acme" });
    assert.equal(await inv.Body.transformToString(), "invoice one");
    const logo = await s3.send(new GetObjectCommand({ Bucket: "invoices", Key: "img/logo.png" }));
    assert.deepEqual(Buffer.from(await logo.Body.transformToByteArray()), png);
    const lc = await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: "invoices" }));
    assert.deepEqual(lc.Rules, rules);
    await run.advance("8d");
    assert.deepEqual(await keys(s3, "invoices"), ["2030/inv-1.txt", "img/logo.png"]);
  });
});

describe("runs API", () => {
  test("create with a runId", async () => {
    const runId = newRunId("named");
    const run = await createRun({ runId });
    assert.equal(run.info.runId, runId);
    assert.equal(run.info.endpoint, `${EP}/t/${runId}`);
    assert.equal(run.info.region, "us-east-1");
    assert.ok(run.info.accessKeyId && run.info.secretAccessKey);
    await run.s3.send(new CreateBucketCommand({ Bucket: "works" }));
    assert.deepEqual(
      ((await run.s3.send(new ListBucketsCommand({}))).Buckets ?? []).map((x) => x.Name),
      ["works"],
    );
  });

  test("create without a runId gets a fresh valid one", async () => {
    const r1 = await createRun({ noId: true });
    const r2 = await createRun({ noId: true });
    assert.match(r1.id, RUN_ID_RE);
    assert.match(r2.id, RUN_ID_RE);
    assert.notEqual(r1.id, r2.id);
    assert.equal(r1.info.endpoint, `${EP}/t/${r1.id}`);
  });

  test("duplicate runId → 409", async () => {
    const run = await createRun();
    assertJsonError(await admin("POST", "/_s3twin/runs", { body: { runId: run.id } }), 409);
  });

  test("list and delete", async () => {
    const run = await createRun();
    await run.s3.send(new CreateBucketCommand({ Bucket: "one" }));
    let list = await admin("GET", "/_s3twin/runs");
    assert.equal(list.status, 200);
    const mine = list.json.runs.find((r) => r.runId === run.id);
    assert.ok(mine, list.text);
    assert.equal(mine.buckets, 1);
    const del = await admin("DELETE", `/_s3twin/runs/${run.id}`);
    assert.equal(del.status, 200, del.text);
    list = await admin("GET", "/_s3twin/runs");
    assert.ok(!list.json.runs.some((r) => r.runId === run.id));
    assertJsonError(await admin("DELETE", `/_s3twin/runs/${run.id}`), 404);
  });

  test("preset invoice-store", async () => {
    const run = await createRun({ seed: "invoice-store" });
    const s3 = run.s3;
    const buckets = ((await s3.send(new ListBucketsCommand({}))).Buckets ?? []).map((x) => x.Name);
    assert.deepEqual(buckets, ["invoices"]);
    const lc = await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: "invoices" }));
    const tmp = lc.Rules.filter(
      (r) =>
        r.Status === "Enabled" &&
        (r.Filter?.Prefix === "tmp/" || r.Prefix === "tmp/") &&
        r.Expiration?.Days === 7,
    );
    assert.equal(tmp.length, 1, JSON.stringify(lc.Rules));
    const pdfs = (await keys(s3, "invoices")).filter((k) => k.endsWith(".pdf"));
    assert.ok(pdfs.length >= 2, JSON.stringify(pdfs));
    for (const key of pdfs) {
      const obj = await s3.send(new GetObjectCommand({ Bucket: "invoices", Key: key }));
      assert.equal(obj.ContentType, "application/pdf", key);
      const bytes = Buffer.from(await obj.Body.transformToByteArray());
      assert.equal(bytes.subarray(0, 4).toString("latin1"), "%PDF", key);
    }
  });
});
