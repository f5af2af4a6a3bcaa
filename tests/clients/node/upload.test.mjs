// @aws-sdk/lib-storage `Upload`: a small stream goes up as one PutObject; a
// stream larger than the part size goes up as a multipart upload.

import assert from "node:assert/strict";
import crypto from "node:crypto";
import { Readable } from "node:stream";
import { after, before, describe, test } from "node:test";

import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";

import { makeClient, md5Hex, newRunId, recordRequests, resetRun } from "./helpers.mjs";

const runId = newRunId("upload");
const bucket = "uploads";
const s3 = makeClient({ runId });
const rec = recordRequests(s3);

before(async () => {
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
});

after(async () => {
  s3.destroy();
  await resetRun(runId);
});

function chunked(buf, size) {
  const parts = [];
  for (let off = 0; off < buf.length; off += size) parts.push(buf.subarray(off, off + size));
  return Readable.from(parts, { objectMode: false });
}

describe("lib-storage Upload", () => {
  test("small stream (single part) uploads with one PutObject", async () => {
    const data = crypto.randomBytes(300 * 1024 + 7);
    const before = rec.requests.length;
    const upload = new Upload({
      client: s3,
      params: { Bucket: bucket, Key: "small/stream.bin", Body: chunked(data, 64 * 1024), ContentType: "application/x-test" },
    });
    const out = await upload.done();
    assert.equal(out.Key, "small/stream.bin");
    assert.equal(out.Bucket, bucket);
    assert.equal(out.ETag, `"${md5Hex(data)}"`);

    const sent = rec.requests.slice(before);
    assert.equal(sent.length, 1, `expected one request, got ${sent.map((r) => r.method + " " + r.path)}`);
    assert.equal(sent[0].method, "PUT");
    assert.equal(sent[0].query.uploadId, undefined);

    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: "small/stream.bin" }));
    assert.equal(head.ContentLength, data.length);
    assert.equal(head.ContentType, "application/x-test");
    const obj = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: "small/stream.bin" }));
    assert.ok(Buffer.from(await obj.Body.transformToByteArray()).equals(data));
  });

  test("12 MiB stream in 5 MiB parts goes up as a 3-part multipart upload", async () => {
    const partSize = 5 * 1024 * 1024;
    const data = crypto.randomBytes(12 * 1024 * 1024);
    const before = rec.requests.length;
    const upload = new Upload({
      client: s3,
      partSize,
      queueSize: 2,
      leavePartsOnError: false,
      params: { Bucket: bucket, Key: "big/multipart.bin", Body: chunked(data, 256 * 1024) },
    });
    const out = await upload.done();

    const sent = rec.requests.slice(before);
    const parts = sent.filter((r) => r.method === "PUT" && r.query.uploadId !== undefined);
    assert.equal(parts.length, 3, "expected three UploadPart requests");

    // Multipart ETag: MD5 of the concatenated binary part MD5s, then "-<parts>"
    // (Amazon S3 user guide, "Checking object integrity").
    const partMd5s = [0, 1, 2].map((i) =>
      crypto.createHash("md5").update(data.subarray(i * partSize, (i + 1) * partSize)).digest(),
    );
    const expectedEtag = `"${crypto.createHash("md5").update(Buffer.concat(partMd5s)).digest("hex")}-3"`;
    assert.equal(out.ETag, expectedEtag);

    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: "big/multipart.bin" }));
    assert.equal(head.ContentLength, data.length);
    assert.equal(head.ETag, expectedEtag);
    const obj = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: "big/multipart.bin" }));
    const got = Buffer.from(await obj.Body.transformToByteArray());
    assert.equal(got.length, data.length);
    assert.ok(got.equals(data), "multipart object differs from the uploaded bytes");

    // Completed uploads are no longer listed as in progress.
    const inProgress = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
    assert.equal((inProgress.Uploads ?? []).length, 0);
  });
});
