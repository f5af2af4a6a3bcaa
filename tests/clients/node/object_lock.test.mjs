// Object Lock on the run's clock through the AWS SDK for JavaScript v3: default retention,
// retention and legal hold round trips, locked versions refused until the clock passes their
// retain-until date, the governance bypass, COMPLIANCE only extendable, legal holds, per-key
// DeleteObjects errors, and lifecycle next to locks.
//
// Expected behaviour is AWS's (S3 User Guide "Locking objects with Object Lock", the API
// reference, and responses recorded against AWS): a locked version delete answers 403
// AccessDenied "Access Denied because object protected by object lock."; a DELETE without a
// version id adds a delete marker; lock parameters on a bucket without Object Lock answer 400
// InvalidRequest "Bucket is missing Object Lock Configuration"; a retention or legal hold
// never set answers 404 NoSuchObjectLockConfiguration.

import assert from "node:assert/strict";
import { after, describe, test } from "node:test";

import {
  CreateBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectLegalHoldCommand,
  GetObjectRetentionCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  PutBucketLifecycleConfigurationCommand,
  PutObjectCommand,
  PutObjectLegalHoldCommand,
  PutObjectLockConfigurationCommand,
  PutObjectRetentionCommand,
} from "@aws-sdk/client-s3";

import { EP, expectS3Error, makeClient, newRunId } from "./helpers.mjs";

const DAY = 24 * 3600 * 1000;
const LOCKED = "Access Denied because object protected by object lock.";

const runs = [];
const clients = [];

after(async () => {
  for (const c of clients) c.destroy();
  for (const id of runs) {
    await fetch(`${EP}/_s3twin/runs/${encodeURIComponent(id)}`, { method: "DELETE" }).catch(() => {});
  }
});

/** A private run with an Object Lock bucket; returns its client and clock. */
async function lockRun(bucket, defaultRetention) {
  const runId = newRunId("jslock");
  runs.push(runId);
  const s3 = makeClient({ runId, maxAttempts: 1 });
  clients.push(s3);
  await s3.send(new CreateBucketCommand({ Bucket: bucket, ObjectLockEnabledForBucket: true }));
  if (defaultRetention) {
    await s3.send(
      new PutObjectLockConfigurationCommand({
        Bucket: bucket,
        ObjectLockConfiguration: {
          ObjectLockEnabled: "Enabled",
          Rule: { DefaultRetention: defaultRetention },
        },
      }),
    );
  }
  const advance = async (by) => {
    const res = await fetch(`${EP}/_s3twin/clock?runId=${runId}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ advance: by }),
    });
    const json = await res.json();
    assert.equal(res.status, 200, JSON.stringify(json));
    return json;
  };
  return { s3, advance };
}

async function expectLocked(fn) {
  const err = await expectS3Error(fn, { name: "AccessDenied", status: 403 });
  assert.equal(err.message, LOCKED);
}

const put = async (s3, Bucket, Key, extra = {}) =>
  (await s3.send(new PutObjectCommand({ Bucket, Key, Body: "locked bytes", ...extra }))).VersionId;

describe("Object Lock", () => {
  test("default retention applies, and the clock releases the version", async () => {
    const { s3, advance } = await lockRun("vault", { Mode: "COMPLIANCE", Days: 30 });
    const v = await put(s3, "vault", "report.pdf");
    const head = await s3.send(new HeadObjectCommand({ Bucket: "vault", Key: "report.pdf" }));
    assert.equal(head.ObjectLockMode, "COMPLIANCE");
    assert.ok(
      Math.abs(head.ObjectLockRetainUntilDate - head.LastModified - 30 * DAY) <= 2000,
      `${head.ObjectLockRetainUntilDate.toISOString()} vs ${head.LastModified.toISOString()}`,
    );
    const del = (extra = {}) =>
      s3.send(new DeleteObjectCommand({ Bucket: "vault", Key: "report.pdf", VersionId: v, ...extra }));
    await expectLocked(() => del());
    await expectLocked(() => del({ BypassGovernanceRetention: true }));
    const marker = await s3.send(new DeleteObjectCommand({ Bucket: "vault", Key: "report.pdf" }));
    assert.equal(marker.DeleteMarker, true);
    await advance("31d");
    await del();
    const left = await s3.send(new ListObjectVersionsCommand({ Bucket: "vault" }));
    assert.deepEqual(left.Versions ?? [], []);
  });

  test("retention and legal hold round trips", async () => {
    const { s3 } = await lockRun("docs");
    const until = new Date(Math.floor((Date.now() + 5 * DAY) / 1000) * 1000);
    const v = await put(s3, "docs", "a.txt", {
      ObjectLockMode: "GOVERNANCE",
      ObjectLockRetainUntilDate: until,
    });
    const r = await s3.send(new GetObjectRetentionCommand({ Bucket: "docs", Key: "a.txt", VersionId: v }));
    assert.equal(r.Retention.Mode, "GOVERNANCE");
    assert.equal(r.Retention.RetainUntilDate.getTime(), until.getTime());

    const err = await expectS3Error(
      () => s3.send(new GetObjectLegalHoldCommand({ Bucket: "docs", Key: "a.txt" })),
      { name: "NoSuchObjectLockConfiguration", status: 404 },
    );
    assert.equal(err.message, "The specified object does not have a ObjectLock configuration");
    await s3.send(
      new PutObjectLegalHoldCommand({ Bucket: "docs", Key: "a.txt", VersionId: v, LegalHold: { Status: "ON" } }),
    );
    const hold = await s3.send(new GetObjectLegalHoldCommand({ Bucket: "docs", Key: "a.txt", VersionId: v }));
    assert.equal(hold.LegalHold.Status, "ON");
    const head = await s3.send(new HeadObjectCommand({ Bucket: "docs", Key: "a.txt" }));
    assert.equal(head.ObjectLockLegalHoldStatus, "ON");
    assert.equal(head.ObjectLockRetainUntilDate.getTime(), until.getTime());
  });

  test("governance is bypassed only on request; compliance is never shortened", async () => {
    const { s3, advance } = await lockRun("modes");
    const g = await put(s3, "modes", "g", {
      ObjectLockMode: "GOVERNANCE",
      ObjectLockRetainUntilDate: new Date(Date.now() + 10 * DAY),
    });
    const shorter = { Mode: "GOVERNANCE", RetainUntilDate: new Date(Date.now() + DAY) };
    await expectLocked(() =>
      s3.send(new PutObjectRetentionCommand({ Bucket: "modes", Key: "g", VersionId: g, Retention: shorter })),
    );
    await s3.send(
      new PutObjectRetentionCommand({
        Bucket: "modes",
        Key: "g",
        VersionId: g,
        Retention: shorter,
        BypassGovernanceRetention: true,
      }),
    );
    await s3.send(
      new DeleteObjectCommand({ Bucket: "modes", Key: "g", VersionId: g, BypassGovernanceRetention: true }),
    );

    const base = new Date(Date.now() + 3 * DAY);
    const c = await put(s3, "modes", "c", { ObjectLockMode: "COMPLIANCE", ObjectLockRetainUntilDate: base });
    for (const Retention of [
      { Mode: "COMPLIANCE", RetainUntilDate: new Date(base.getTime() - DAY) },
      { Mode: "GOVERNANCE", RetainUntilDate: new Date(base.getTime() + DAY) },
    ]) {
      await expectLocked(() =>
        s3.send(
          new PutObjectRetentionCommand({
            Bucket: "modes",
            Key: "c",
            VersionId: c,
            Retention,
            BypassGovernanceRetention: true,
          }),
        ),
      );
    }
    await expectLocked(() => s3.send(new DeleteObjectCommand({ Bucket: "modes", Key: "c", VersionId: c })));
    await advance("4d");
    await s3.send(new DeleteObjectCommand({ Bucket: "modes", Key: "c", VersionId: c }));
  });

  test("a legal hold blocks deletion until removed", async () => {
    const { s3, advance } = await lockRun("held");
    const v = await put(s3, "held", "k", { ObjectLockLegalHoldStatus: "ON" });
    await advance("3650d");
    await expectLocked(() =>
      s3.send(new DeleteObjectCommand({ Bucket: "held", Key: "k", VersionId: v, BypassGovernanceRetention: true })),
    );
    await s3.send(
      new PutObjectLegalHoldCommand({ Bucket: "held", Key: "k", VersionId: v, LegalHold: { Status: "OFF" } }),
    );
    await s3.send(new DeleteObjectCommand({ Bucket: "held", Key: "k", VersionId: v }));
  });

  test("DeleteObjects reports locked versions per key", async () => {
    const { s3 } = await lockRun("batch");
    const free = await put(s3, "batch", "free");
    const kept = await put(s3, "batch", "kept", { ObjectLockLegalHoldStatus: "ON" });
    const out = await s3.send(
      new DeleteObjectsCommand({
        Bucket: "batch",
        Delete: {
          Objects: [
            { Key: "free", VersionId: free },
            { Key: "kept", VersionId: kept },
          ],
        },
      }),
    );
    assert.deepEqual(
      out.Deleted.map((d) => d.Key),
      ["free"],
    );
    assert.deepEqual(out.Errors, [{ Key: "kept", VersionId: kept, Code: "AccessDenied", Message: LOCKED }]);
  });

  test("lifecycle keeps locked versions until their retention passes", async () => {
    const { s3, advance } = await lockRun("logs", { Mode: "GOVERNANCE", Days: 10 });
    await s3.send(
      new PutBucketLifecycleConfigurationCommand({
        Bucket: "logs",
        LifecycleConfiguration: {
          Rules: [
            {
              ID: "short",
              Status: "Enabled",
              Filter: { Prefix: "" },
              Expiration: { Days: 1 },
              NoncurrentVersionExpiration: { NoncurrentDays: 1 },
            },
          ],
        },
      }),
    );
    const v1 = await put(s3, "logs", "app.log");
    const v2 = await put(s3, "logs", "app.log");
    await advance("3d");
    let listing = await s3.send(new ListObjectVersionsCommand({ Bucket: "logs" }));
    assert.deepEqual(listing.Versions.map((x) => x.VersionId).sort(), [v1, v2].sort());
    assert.equal(listing.DeleteMarkers.length, 1);
    const report = await advance("8d");
    assert.equal(report.lifecycle.noncurrentRemoved, 2);
    listing = await s3.send(new ListObjectVersionsCommand({ Bucket: "logs" }));
    assert.deepEqual(listing.Versions ?? [], []);
  });

  test("lock parameters need a bucket with Object Lock", async () => {
    const { s3 } = await lockRun("has-lock");
    await s3.send(new CreateBucketCommand({ Bucket: "plain" }));
    await put(s3, "plain", "k");
    for (const call of [
      () =>
        s3.send(
          new PutObjectRetentionCommand({
            Bucket: "plain",
            Key: "k",
            Retention: { Mode: "GOVERNANCE", RetainUntilDate: new Date(Date.now() + DAY) },
          }),
        ),
      () => s3.send(new GetObjectRetentionCommand({ Bucket: "plain", Key: "k" })),
      () => put(s3, "plain", "k2", { ObjectLockLegalHoldStatus: "ON" }),
    ]) {
      const err = await expectS3Error(call, { name: "InvalidRequest", status: 400 });
      assert.equal(err.message, "Bucket is missing Object Lock Configuration");
    }
  });
});
