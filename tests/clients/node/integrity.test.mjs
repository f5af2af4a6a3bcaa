// Data integrity: S3 verifies every checksum a client sends and refuses to
// store an object whose bytes do not match (400 BadDigest), and it refuses a
// body shorter than its Content-Length (400 IncompleteBody, or the connection
// is dropped). A refused upload never creates the object, and the server keeps
// serving afterwards.

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
  EP,
  captureSignedRequest,
  crc32Base64,
  expectS3Error,
  makeClient,
  md5Base64,
  newRunId,
  rawRequest,
  recordRequests,
  resetRun,
  xmlValue,
} from "./helpers.mjs";

const runId = newRunId("integrity");
const bucket = "integrity";
const s3 = makeClient({ runId });

before(async () => {
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
});

after(async () => {
  s3.destroy();
  await resetRun(runId);
});

async function assertAbsent(key) {
  await expectS3Error(() => s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })), {
    status: 404,
  });
}

async function assertServerServes() {
  const res = await fetch(`${EP}/_s3twin/health`);
  assert.equal(res.status, 200);
  const body = await res.json();
  assert.equal(body.status, "ok");
  // And the S3 API itself still answers on a new connection.
  const put = await s3.send(
    new PutObjectCommand({ Bucket: bucket, Key: "after-check", Body: "still here" }),
  );
  assert.ok(put.ETag);
  const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: "after-check" }));
  assert.equal(await got.Body.transformToString(), "still here");
}

/** Replaces the x-amz-checksum-crc32 header after the SDK computed it, before signing. */
function corruptCrc32(client) {
  const seen = { original: undefined };
  client.middlewareStack.add(
    (next) => async (args) => {
      const h = args.request.headers;
      seen.original = h["x-amz-checksum-crc32"];
      if (seen.original !== undefined) {
        const raw = Buffer.from(seen.original, "base64");
        raw[0] ^= 0xff;
        h["x-amz-checksum-crc32"] = raw.toString("base64");
      }
      return next(args);
    },
    // "build" + low priority runs after the SDK's flexible-checksums middleware
    // (build, normal) and before signing (finalizeRequest): the signature covers
    // the corrupted value, so only the checksum itself is wrong.
    { step: "build", priority: "low", name: "corruptCrc32" },
  );
  return seen;
}

describe("checksum mismatches are refused with BadDigest", () => {
  test("PutObject whose x-amz-checksum-crc32 header is corrupted by a middleware → 400 BadDigest", async () => {
    const client = makeClient({ runId, maxAttempts: 1 });
    try {
      const seen = corruptCrc32(client);
      const body = "the quick brown fox jumps over the lazy dog";
      const err = await expectS3Error(
        () => client.send(new PutObjectCommand({ Bucket: bucket, Key: "corrupt-mw", Body: body })),
        { name: "BadDigest", status: 400 },
      );
      assert.equal(seen.original, crc32Base64(Buffer.from(body)), "SDK did not send a CRC32 header");
      assert.ok(err.$metadata.requestId, "error has no request id");
    } finally {
      client.destroy();
    }
    await assertAbsent("corrupt-mw");
    await assertServerServes();
  });

  test("PutObject with an explicit wrong ChecksumCRC32 → 400 BadDigest; the right one → 200", async () => {
    const data = Buffer.from("explicit checksum body");
    const wrong = crc32Base64(Buffer.from("some other body"));
    await expectS3Error(
      () =>
        s3.send(
          new PutObjectCommand({ Bucket: bucket, Key: "explicit", Body: data, ChecksumCRC32: wrong }),
        ),
      { name: "BadDigest", status: 400 },
    );
    await assertAbsent("explicit");

    const ok = await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: "explicit",
        Body: data,
        ChecksumCRC32: crc32Base64(data),
      }),
    );
    assert.equal(ok.ChecksumCRC32, crc32Base64(data));
  });

  test("PutObject with a wrong Content-MD5 → 400 BadDigest, object not stored", async () => {
    const data = Buffer.from("md5 checked body");
    await expectS3Error(
      () =>
        s3.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: "bad-md5",
            Body: data,
            ContentMD5: md5Base64(Buffer.from("different")),
          }),
        ),
      { name: "BadDigest", status: 400 },
    );
    await assertAbsent("bad-md5");

    await s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: "good-md5", Body: data, ContentMD5: md5Base64(data) }),
    );
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: "good-md5" }));
    assert.equal(await got.Body.transformToString(), "md5 checked body");
  });

  test("aws-chunked upload whose CRC32 trailer does not match the bytes → 400 BadDigest", async () => {
    const data = Buffer.from("chunked payload whose trailer will lie about it");
    // Let the SDK build and sign the streaming request (the payload itself is
    // unsigned: STREAMING-UNSIGNED-PAYLOAD-TRAILER), then send our own body.
    const signed = await captureSignedRequest(
      { runId },
      new PutObjectCommand({
        Bucket: bucket,
        Key: "bad-trailer",
        Body: Readable.from([data]),
        ContentLength: data.length,
      }),
    );
    assert.equal(signed.headers["x-amz-content-sha256"], "STREAMING-UNSIGNED-PAYLOAD-TRAILER");
    assert.equal(signed.headers["x-amz-trailer"], "x-amz-checksum-crc32");

    const encode = (crc) =>
      Buffer.concat([
        Buffer.from(`${data.length.toString(16)}\r\n`),
        data,
        Buffer.from(`\r\n0\r\nx-amz-checksum-crc32:${crc}\r\n\r\n`),
      ]);

    const bad = await rawRequest(signed, (req) => req.end(encode(crc32Base64(Buffer.from("lie")))));
    assert.ifError(bad.error);
    assert.equal(bad.status, 400, `expected 400, got ${bad.status}: ${bad.body}`);
    assert.equal(xmlValue(bad.body, "Code"), "BadDigest");
    await assertAbsent("bad-trailer");

    // Control: the very same hand-made request with the true CRC32 is accepted,
    // which shows the request above failed only because of the trailer.
    const signed2 = await captureSignedRequest(
      { runId },
      new PutObjectCommand({
        Bucket: bucket,
        Key: "bad-trailer",
        Body: Readable.from([data]),
        ContentLength: data.length,
      }),
    );
    const good = await rawRequest(signed2, (req) => req.end(encode(crc32Base64(data))));
    assert.ifError(good.error);
    assert.equal(good.status, 200, `expected 200, got ${good.status}: ${good.body}`);
    assert.equal(good.headers["x-amz-checksum-crc32"], crc32Base64(data));
    const got = await s3.send(
      new GetObjectCommand({ Bucket: bucket, Key: "bad-trailer", ChecksumMode: "ENABLED" }),
    );
    assert.equal(got.ChecksumCRC32, crc32Base64(data));
    assert.ok(Buffer.from(await got.Body.transformToByteArray()).equals(data));
  });
});

describe("truncated bodies", () => {
  test("Content-Length larger than the bytes sent, then the socket is closed → IncompleteBody or dropped connection; nothing stored", async () => {
    const full = crypto.randomBytes(100);
    const signed = await captureSignedRequest(
      { runId },
      new PutObjectCommand({ Bucket: bucket, Key: "truncated", Body: full }),
    );
    assert.equal(String(signed.headers["content-length"]), "100");

    const res = await rawRequest(
      signed,
      (req) => {
        // Send 10 of the 100 announced bytes, then half-close our side.
        req.write(full.subarray(0, 10), () => req.socket.end());
      },
      { timeoutMs: 15000 },
    );
    if (res.error) {
      // Dropping the connection is acceptable; hanging until our timeout is not.
      assert.doesNotMatch(String(res.error.message), /timed out/, "server neither answered nor closed");
    } else {
      assert.equal(res.status, 400, `expected 400 IncompleteBody, got ${res.status}: ${res.body}`);
      assert.equal(xmlValue(res.body, "Code"), "IncompleteBody");
    }
    await assertAbsent("truncated");
    await assertServerServes();
  });

  test("a non-streaming PutObject whose body does not match its signed x-amz-content-sha256 is refused", async () => {
    // Over plain http the SDK signs the payload hash. A body with the announced
    // length but different bytes must be rejected (XAmzContentSHA256Mismatch
    // per the S3 error reference) and not stored.
    const full = Buffer.from("0123456789abcdef");
    const signed = await captureSignedRequest(
      { runId, requestChecksumCalculation: "WHEN_REQUIRED" },
      new PutObjectCommand({ Bucket: bucket, Key: "sha-mismatch", Body: full }),
    );
    const announced = signed.headers["x-amz-content-sha256"];
    assert.match(announced ?? "", /^[0-9a-f]{64}$/, `payload not signed: ${announced}`);
    const res = await rawRequest(signed, (req) => req.end(Buffer.from("fedcba9876543210")));
    assert.ifError(res.error);
    assert.equal(res.status, 400, `expected 400, got ${res.status}: ${res.body}`);
    assert.equal(xmlValue(res.body, "Code"), "XAmzContentSHA256Mismatch");
    await assertAbsent("sha-mismatch");
  });
});

describe("request ids", () => {
  test("every response carries x-amz-request-id; SDK metadata exposes it", async () => {
    const client = makeClient({ runId });
    const rec = recordRequests(client);
    try {
      const out = await client.send(
        new PutObjectCommand({ Bucket: bucket, Key: "rid", Body: "x" }),
      );
      assert.ok(rec.requests.length === 1);
      assert.equal(typeof out.$metadata.requestId, "string");
      assert.ok(out.$metadata.requestId.length > 0);
      const again = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: "rid" }));
      assert.notEqual(again.$metadata.requestId, out.$metadata.requestId, "request ids must be unique");
    } finally {
      client.destroy();
    }
  });
});
