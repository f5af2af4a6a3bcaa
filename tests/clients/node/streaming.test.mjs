// Streamed uploads. Given a Node Readable body, the JS SDK v3 sends
//   Content-Encoding: aws-chunked
//   x-amz-content-sha256: STREAMING-UNSIGNED-PAYLOAD-TRAILER
//   x-amz-trailer: x-amz-checksum-crc32
//   x-amz-decoded-content-length: <n>
// and an aws-chunked body ending with a CRC32 trailer. S3 must decode the body,
// store exactly the payload bytes, verify the trailer and keep the checksum.

import assert from "node:assert/strict";
import crypto from "node:crypto";
import { Readable } from "node:stream";
import { after, before, describe, test } from "node:test";

import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
} from "@aws-sdk/client-s3";

import {
  crc32Base64,
  makeClient,
  md5Hex,
  newRunId,
  recordRequests,
  resetRun,
} from "./helpers.mjs";

const runId = newRunId("stream");
const bucket = "streaming";
const s3 = makeClient({ runId });
const rec = recordRequests(s3);

before(async () => {
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
});

after(async () => {
  s3.destroy();
  await resetRun(runId);
});

/** Splits a buffer into a Readable of uneven chunks (so chunk edges vary). */
function streamOf(buf, sizes = [1, 7, 4096, 65536, 1000]) {
  const parts = [];
  let off = 0;
  let i = 0;
  while (off < buf.length) {
    const n = Math.min(sizes[i++ % sizes.length], buf.length - off);
    parts.push(buf.subarray(off, off + n));
    off += n;
  }
  return Readable.from(parts, { objectMode: false });
}

async function bodyBytes(obj) {
  return Buffer.from(await obj.Body.transformToByteArray());
}

function lastPut() {
  const puts = rec.requests.filter((r) => r.method === "PUT");
  return puts.at(-1);
}

function assertAwsChunked(req, decodedLength) {
  // Guard: the SDK really took the streaming path; otherwise this test would
  // not exercise aws-chunked decoding at all.
  assert.ok(req, "no PUT request recorded");
  assert.match(req.headers["content-encoding"] ?? "", /aws-chunked/);
  assert.equal(req.headers["x-amz-content-sha256"], "STREAMING-UNSIGNED-PAYLOAD-TRAILER");
  assert.equal(req.headers["x-amz-trailer"], "x-amz-checksum-crc32");
  assert.equal(String(req.headers["x-amz-decoded-content-length"]), String(decodedLength));
}

describe("streamed PutObject (aws-chunked with CRC32 trailer)", () => {
  test("small Readable body comes back byte-exact with its CRC32", async () => {
    const data = Buffer.from("streamed hello, \u00e9t\u00e9 \u2603 \u0000\u0001\u00ff end\n", "utf8");
    const key = "dir/small stream.bin";
    const put = await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: streamOf(data, [3, 5]),
        ContentLength: data.length,
        ContentType: "application/octet-stream",
      }),
    );
    assertAwsChunked(lastPut(), data.length);

    const expectedCrc = crc32Base64(data);
    // S3 returns the checksum it verified on the PutObject response.
    assert.equal(put.ChecksumCRC32, expectedCrc);
    assert.equal(put.ETag, `"${md5Hex(data)}"`);

    const obj = await s3.send(
      new GetObjectCommand({ Bucket: bucket, Key: key, ChecksumMode: "ENABLED" }),
    );
    assert.equal(obj.ChecksumCRC32, expectedCrc);
    assert.equal(obj.ContentLength, data.length);
    assert.equal(obj.ContentType, "application/octet-stream");
    // aws-chunked is a transfer detail, never stored as the object's encoding.
    assert.doesNotMatch(obj.ContentEncoding ?? "", /aws-chunked/);
    const got = await bodyBytes(obj);
    assert.ok(got.equals(data), `body differs: got ${JSON.stringify(got.toString("latin1"))}`);
  });

  test("streamed body keeps a user Content-Encoding but drops aws-chunked", async () => {
    const data = Buffer.from("pretend this is gzip", "utf8");
    const key = "encoded.txt";
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: streamOf(data),
        ContentLength: data.length,
        ContentEncoding: "gzip",
      }),
    );
    const req = lastPut();
    assertAwsChunked(req, data.length);
    assert.equal(req.headers["content-encoding"], "gzip,aws-chunked");

    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    assert.equal(head.ContentEncoding, "gzip");
    assert.equal(head.ContentLength, data.length);
  });

  test("8 MiB of random bytes streamed comes back byte-exact", async () => {
    const size = 8 * 1024 * 1024;
    const data = crypto.randomBytes(size);
    const key = "big/random-8MiB.bin";
    const put = await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: streamOf(data, [65536, 12345, 1 << 20, 3]),
        ContentLength: size,
      }),
    );
    assertAwsChunked(lastPut(), size);
    const expectedCrc = crc32Base64(data);
    assert.equal(put.ChecksumCRC32, expectedCrc);
    assert.equal(put.ETag, `"${md5Hex(data)}"`);

    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    assert.equal(head.ContentLength, size);

    const obj = await s3.send(
      new GetObjectCommand({ Bucket: bucket, Key: key, ChecksumMode: "ENABLED" }),
    );
    assert.equal(obj.ChecksumCRC32, expectedCrc);
    assert.equal(obj.ContentLength, size);
    const got = await bodyBytes(obj);
    assert.equal(got.length, size);
    assert.ok(got.equals(data), "8 MiB body differs from what was uploaded");

    // A ranged read from the middle of the streamed object is exact too.
    const start = 3 * 1024 * 1024 + 17;
    const end = start + 99_999;
    const part = await s3.send(
      new GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=${start}-${end}` }),
    );
    assert.equal(part.$metadata.httpStatusCode, 206);
    assert.equal(part.ContentRange, `bytes ${start}-${end}/${size}`);
    const slice = await bodyBytes(part);
    assert.ok(slice.equals(data.subarray(start, end + 1)), "ranged body differs");
  });

  test("empty Readable body (ContentLength 0) stores an empty object", async () => {
    const key = "empty-stream";
    const put = await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: Readable.from([], { objectMode: false }),
        ContentLength: 0,
      }),
    );
    assertAwsChunked(lastPut(), 0);
    assert.equal(put.ChecksumCRC32, crc32Base64(Buffer.alloc(0)));
    assert.equal(put.ETag, `"${md5Hex(Buffer.alloc(0))}"`);
    const obj = await s3.send(
      new GetObjectCommand({ Bucket: bucket, Key: key, ChecksumMode: "ENABLED" }),
    );
    assert.equal(obj.ContentLength, 0);
    assert.equal((await bodyBytes(obj)).length, 0);
  });

  test("non-streamed PutObject with a string also gets its CRC32 kept", async () => {
    const data = Buffer.from("not streamed");
    const put = await s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: "plain.txt", Body: "not streamed" }),
    );
    const req = lastPut();
    // The SDK computes CRC32 up front and sends it as a header here.
    assert.equal(req.headers["x-amz-checksum-crc32"], crc32Base64(data));
    assert.doesNotMatch(req.headers["content-encoding"] ?? "", /aws-chunked/);
    assert.equal(put.ChecksumCRC32, crc32Base64(data));
    const obj = await s3.send(
      new GetObjectCommand({ Bucket: bucket, Key: "plain.txt", ChecksumMode: "ENABLED" }),
    );
    assert.equal(obj.ChecksumCRC32, crc32Base64(data));
    assert.equal(await obj.Body.transformToString(), "not streamed");
  });
});
