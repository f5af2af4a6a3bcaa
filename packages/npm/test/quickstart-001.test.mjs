// Seed 001's quick start, SDK configuration, seeding and lifecycle examples, as written.
import { test } from "node:test";
import assert from "node:assert/strict";
import { s3 } from "s3twin";
import { S3Client, GetObjectCommand, ListBucketsCommand } from "@aws-sdk/client-s3";

const pdfBytes = Buffer.from("%PDF-1.4 invoice 001\n");

test("seed 001 quick start: s3.start({ seed, runId }) and the clone's methods", async () => {
  const clone = await s3.start({ seed: "invoice-store", runId: "run-s3-01" });
  assert.equal(clone.runId, "run-s3-01");
  assert.match(clone.endpoint, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.equal(typeof clone.accessKeyId, "string");
  assert.equal(typeof clone.secretAccessKey, "string");

  await clone.createBucket("invoices");
  await clone.putObject("invoices", "2026/inv-001.pdf", pdfBytes);
  const body = await clone.getObject("invoices", "2026/inv-001.pdf");
  assert.deepEqual(body, pdfBytes);
  const listing = await clone.list("invoices");
  assert.ok(listing.some((o) => o.Key === "2026/inv-001.pdf"), JSON.stringify(listing));
  // The preset's sample PDFs are there too.
  assert.ok(listing.length > 1, JSON.stringify(listing));

  // "AWS SDK configuration" as the seed writes it.
  const client = new S3Client({
    endpoint: clone.endpoint + "/t/" + clone.runId,
    region: "us-east-1",
    credentials: {
      accessKeyId: clone.accessKeyId,
      secretAccessKey: clone.secretAccessKey,
    },
    forcePathStyle: true,
  });
  const got = await client.send(new GetObjectCommand({ Bucket: "invoices", Key: "2026/inv-001.pdf" }));
  assert.equal(await got.Body.transformToString(), pdfBytes.toString());
  client.destroy();

  await clone.stop();
});

test("seed 001: adminPost(/_clone/seed) seeds the run", async () => {
  const clone = await s3.start({ runId: "run-s3-seeded" });
  const out = await clone.adminPost(`/_clone/seed?runId=${clone.runId}`, {
    buckets: [{ name: "invoices" }],
  });
  assert.equal(out.buckets, 1);
  const { Buckets } = await clone.client().send(new ListBucketsCommand({}));
  assert.deepEqual(Buckets.map((b) => b.Name), ["invoices"]);
  await clone.stop();
});

test("seed 001 lifecycle: 7-day expiry, advanceClock('8d'), the listing is empty", async () => {
  const clone = await s3.start({ runId: "run-s3-lifecycle" });
  await clone.createBucket("temp-uploads");
  await clone.putObject("temp-uploads", "upload-1.csv", "a,b\n1,2\n");
  await clone.putBucketLifecycle("temp-uploads", { expirationDays: 7 });
  assert.equal((await clone.list("temp-uploads")).length, 1);
  await clone.advanceClock("8d");
  const objects = await clone.list("temp-uploads");
  assert.deepEqual(objects, []);
  await clone.stop();
});

test("presign(), requests() and the run's clock", async () => {
  const clone = await s3.start();
  await clone.createBucket("presigned-reads");
  await clone.putObject("presigned-reads", "k.txt", "presigned");
  const url = await clone.presign({ method: "GET", bucket: "presigned-reads", key: "k.txt", expiresIn: 60 });
  const res = await fetch(url);
  assert.equal(res.status, 200);
  assert.equal(await res.text(), "presigned");
  const puts = await clone.requests({ operation: "PutObject" });
  assert.equal(puts.length, 1);
  assert.equal(puts[0].key, "k.txt");
  const before = Date.parse((await clone.clock()).now);
  await clone.advanceClock("2h");
  const after = Date.parse((await clone.clock()).now);
  assert.ok(after - before >= 2 * 3600 * 1000, `${before} → ${after}`);
  // Past its expiry on the run's clock the URL is refused as S3 refuses it.
  const expired = await fetch(url);
  assert.equal(expired.status, 403);
  assert.match(await expired.text(), /<Message>Request has expired<\/Message>/);
  await clone.stop();
});
