// Error responses as the AWS SDK for JavaScript v3 surfaces them. Codes and
// statuses are those of the Amazon S3 error-code reference.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from "@aws-sdk/client-s3";

import {
  captureSignedRequest,
  expectS3Error,
  makeClient,
  md5Hex,
  newRunId,
  rawRequest,
  resetRun,
  xmlValue,
} from "./helpers.mjs";

const runId = newRunId("errors");
const bucket = "errors";
const s3 = makeClient({ runId });
const BODY = "hello world"; // 11 bytes
let etag;

before(async () => {
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: "hello.txt", Body: BODY }));
  etag = put.ETag;
});

after(async () => {
  s3.destroy();
  await resetRun(runId);
});

describe("missing things", () => {
  test("GetObject on a missing key → NoSuchKey 404 with the request id of the response", async () => {
    const err = await expectS3Error(
      () => s3.send(new GetObjectCommand({ Bucket: bucket, Key: "no/such/key.txt" })),
      { name: "NoSuchKey", status: 404 },
    );
    const headerId = err.$response?.headers?.["x-amz-request-id"];
    assert.ok(headerId, "response has no x-amz-request-id header");
    assert.equal(err.$metadata.requestId, headerId);
    // S3 pairs every request id with an extended request id (x-amz-id-2).
    assert.ok(err.$metadata.extendedRequestId, "no x-amz-id-2");
    assert.equal(err.$metadata.extendedRequestId, err.$response.headers["x-amz-id-2"]);
    assert.equal(err.$fault, "client");
    assert.ok(err.message && err.message !== "UnknownError", `no error message: ${err.message}`);
  });

  test("the NoSuchKey error body is S3's XML error document", async () => {
    const signed = await captureSignedRequest(
      { runId },
      new GetObjectCommand({ Bucket: bucket, Key: "no-such-key" }),
    );
    const res = await rawRequest(signed, (req) => req.end());
    assert.ifError(res.error);
    assert.equal(res.status, 404);
    assert.match(res.headers["content-type"] ?? "", /xml/);
    const text = res.body;
    assert.match(text, /<Error>/);
    assert.equal(xmlValue(text, "Code"), "NoSuchKey");
    assert.ok(xmlValue(text, "Message"), "no <Message>");
    assert.equal(xmlValue(text, "Key"), "no-such-key");
    // RequestId in the body is the same id as in the header.
    assert.equal(xmlValue(text, "RequestId"), res.headers["x-amz-request-id"]);
  });

  test("HeadObject on a missing key → 404 (no body, so the SDK names it NotFound)", async () => {
    const err = await expectS3Error(
      () => s3.send(new HeadObjectCommand({ Bucket: bucket, Key: "nothing-here" })),
      { name: "NotFound", status: 404 },
    );
    assert.ok(err.$metadata.requestId);
  });

  test("GetObject / ListObjectsV2 / PutObject on a missing bucket → NoSuchBucket 404", async () => {
    const missing = "no-such-bucket-here";
    for (const cmd of [
      new GetObjectCommand({ Bucket: missing, Key: "k" }),
      new ListObjectsV2Command({ Bucket: missing }),
      new PutObjectCommand({ Bucket: missing, Key: "k", Body: "x" }),
      new DeleteBucketCommand({ Bucket: missing }),
    ]) {
      const err = await expectS3Error(() => s3.send(cmd), { name: "NoSuchBucket", status: 404 });
      assert.ok(err.$metadata.requestId);
    }
    const signed = await captureSignedRequest(
      { runId },
      new ListObjectsV2Command({ Bucket: missing }),
    );
    const res = await rawRequest(signed, (req) => req.end());
    assert.ifError(res.error);
    assert.equal(res.status, 404);
    const text = res.body;
    assert.equal(xmlValue(text, "Code"), "NoSuchBucket");
    assert.equal(xmlValue(text, "BucketName"), missing);
  });

  test("HeadBucket on a missing bucket → 404", async () => {
    await expectS3Error(() => s3.send(new HeadBucketCommand({ Bucket: "never-created-bucket" })), {
      name: "NotFound",
      status: 404,
    });
  });

  test("DeleteObject on a missing key succeeds with 204", async () => {
    const out = await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: "never-existed" }));
    assert.equal(out.$metadata.httpStatusCode, 204);
  });
});

describe("ranges", () => {
  test("Range within the object → 206 with Content-Range", async () => {
    const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: "hello.txt", Range: "bytes=0-4" }));
    assert.equal(out.$metadata.httpStatusCode, 206);
    assert.equal(out.ContentRange, "bytes 0-4/11");
    assert.equal(out.ContentLength, 5);
    assert.equal(await out.Body.transformToString(), "hello");
  });

  test("Range whose end is past the object is clipped to the last byte", async () => {
    const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: "hello.txt", Range: "bytes=6-1000" }));
    assert.equal(out.$metadata.httpStatusCode, 206);
    assert.equal(out.ContentRange, "bytes 6-10/11");
    assert.equal(await out.Body.transformToString(), "world");
  });

  test("suffix Range bytes=-3 → last three bytes", async () => {
    const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: "hello.txt", Range: "bytes=-3" }));
    assert.equal(out.$metadata.httpStatusCode, 206);
    assert.equal(out.ContentRange, "bytes 8-10/11");
    assert.equal(await out.Body.transformToString(), "rld");
  });

  test("Range starting beyond the size → InvalidRange 416", async () => {
    const err = await expectS3Error(
      () => s3.send(new GetObjectCommand({ Bucket: bucket, Key: "hello.txt", Range: "bytes=100-200" })),
      { name: "InvalidRange", status: 416 },
    );
    assert.ok(err.$metadata.requestId);
  });
});

describe("conditional requests", () => {
  test("IfMatch with a wrong ETag → PreconditionFailed 412", async () => {
    await expectS3Error(
      () =>
        s3.send(
          new GetObjectCommand({
            Bucket: bucket,
            Key: "hello.txt",
            IfMatch: `"${md5Hex(Buffer.from("something else"))}"`,
          }),
        ),
      { name: "PreconditionFailed", status: 412 },
    );
  });

  test("IfMatch with the current ETag → 200", async () => {
    const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: "hello.txt", IfMatch: etag }));
    assert.equal(out.$metadata.httpStatusCode, 200);
    assert.equal(await out.Body.transformToString(), BODY);
  });

  test("IfNoneMatch with the current ETag → 304 Not Modified", async () => {
    const err = await expectS3Error(
      () => s3.send(new GetObjectCommand({ Bucket: bucket, Key: "hello.txt", IfNoneMatch: etag })),
      { status: 304 },
    );
    assert.ok(err);
    // HeadObject behaves the same way.
    await expectS3Error(
      () => s3.send(new HeadObjectCommand({ Bucket: bucket, Key: "hello.txt", IfNoneMatch: etag })),
      { status: 304 },
    );
  });

  test("IfNoneMatch with another ETag → 200", async () => {
    const out = await s3.send(
      new GetObjectCommand({ Bucket: bucket, Key: "hello.txt", IfNoneMatch: '"0123456789abcdef0123456789abcdef"' }),
    );
    assert.equal(out.$metadata.httpStatusCode, 200);
    await out.Body.transformToString();
  });

  test("the 304 response has no body and carries the ETag", async () => {
    const signed = await captureSignedRequest(
      { runId },
      new GetObjectCommand({ Bucket: bucket, Key: "hello.txt", IfNoneMatch: etag }),
    );
    const res = await rawRequest(signed, (req) => req.end());
    assert.ifError(res.error);
    assert.equal(res.status, 304);
    assert.equal(res.body, "");
    // RFC 9110 §15.4.5: a 304 carries the ETag a 200 would have carried.
    assert.equal(res.headers.etag, etag);
  });

  test("If-Match true + If-Unmodified-Since false → 200 (GetObject reference)", async () => {
    const out = await s3.send(
      new GetObjectCommand({
        Bucket: bucket,
        Key: "hello.txt",
        IfMatch: etag,
        IfUnmodifiedSince: new Date("2001-01-01T00:00:00Z"),
      }),
    );
    assert.equal(out.$metadata.httpStatusCode, 200);
    assert.equal(await out.Body.transformToString(), BODY);
  });

  test("If-None-Match false + If-Modified-Since true → 304 (GetObject reference)", async () => {
    await expectS3Error(
      () =>
        s3.send(
          new GetObjectCommand({
            Bucket: bucket,
            Key: "hello.txt",
            IfNoneMatch: etag,
            IfModifiedSince: new Date("2001-01-01T00:00:00Z"),
          }),
        ),
      { status: 304 },
    );
  });

  test("PutObject If-None-Match: * on an existing key → 412; on a new key → 200", async () => {
    await expectS3Error(
      () => s3.send(new PutObjectCommand({ Bucket: bucket, Key: "hello.txt", Body: "clobber", IfNoneMatch: "*" })),
      { name: "PreconditionFailed", status: 412 },
    );
    const still = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: "hello.txt" }));
    assert.equal(await still.Body.transformToString(), BODY);
    const created = await s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: "created-once.txt", Body: "new", IfNoneMatch: "*" }),
    );
    assert.equal(created.$metadata.httpStatusCode, 200);
  });

  test("IfModifiedSince = the object's Last-Modified → 304; IfUnmodifiedSince in the past → 412", async () => {
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: "hello.txt" }));
    await expectS3Error(
      () =>
        s3.send(
          new GetObjectCommand({
            Bucket: bucket,
            Key: "hello.txt",
            IfModifiedSince: head.LastModified,
          }),
        ),
      { status: 304 },
    );
    await expectS3Error(
      () =>
        s3.send(
          new GetObjectCommand({
            Bucket: bucket,
            Key: "hello.txt",
            IfUnmodifiedSince: new Date("2001-01-01T00:00:00Z"),
          }),
        ),
      { name: "PreconditionFailed", status: 412 },
    );
  });
});

describe("bucket errors", () => {
  test("DeleteBucket on a bucket with objects → BucketNotEmpty 409", async () => {
    const b = "not-empty-bucket";
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    await s3.send(new PutObjectCommand({ Bucket: b, Key: "keep", Body: "x" }));
    await expectS3Error(() => s3.send(new DeleteBucketCommand({ Bucket: b })), {
      name: "BucketNotEmpty",
      status: 409,
    });
    // Still there with its object.
    await s3.send(new HeadBucketCommand({ Bucket: b }));
    // Once emptied it can be deleted.
    await s3.send(new DeleteObjectCommand({ Bucket: b, Key: "keep" }));
    const del = await s3.send(new DeleteBucketCommand({ Bucket: b }));
    assert.equal(del.$metadata.httpStatusCode, 204);
    await expectS3Error(() => s3.send(new HeadBucketCommand({ Bucket: b })), { status: 404 });
  });

  for (const bad of [
    "ab", // too short
    "a".repeat(64), // too long
    "Invalid_Bucket_Name", // uppercase and underscore
    "bad..dots", // adjacent periods
    "-starts-with-hyphen",
    "ends-with-hyphen-",
    "192.168.5.4", // formatted as an IP address
    "xn--prefixed-bucket", // reserved prefix
  ]) {
    test(`CreateBucket ${JSON.stringify(bad)} → InvalidBucketName 400`, async () => {
      await expectS3Error(() => s3.send(new CreateBucketCommand({ Bucket: bad })), {
        name: "InvalidBucketName",
        status: 400,
      });
    });
  }

  test("an invalid bucket name is not created", async () => {
    await expectS3Error(() => s3.send(new CreateBucketCommand({ Bucket: "Invalid_Bucket_Name" })), {
      name: "InvalidBucketName",
      status: 400,
    });
    const list = await s3.send(new ListBucketsCommand({}));
    const names = (list.Buckets ?? []).map((b) => b.Name);
    assert.ok(!names.includes("Invalid_Bucket_Name"), `listed: ${names.join(",")}`);
  });

  test("re-creating a bucket you own in us-east-1 answers 200 (legacy us-east-1 behaviour)", async () => {
    // AWS CreateBucket reference: BucketAlreadyOwnedByYou is returned "in all
    // AWS Regions except in the North Virginia Region"; there it is 200 OK.
    const b = "created-twice";
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    await s3.send(new PutObjectCommand({ Bucket: b, Key: "survives", Body: "x" }));
    const again = await s3.send(new CreateBucketCommand({ Bucket: b }));
    assert.equal(again.$metadata.httpStatusCode, 200);
    // Objects are untouched.
    const got = await s3.send(new GetObjectCommand({ Bucket: b, Key: "survives" }));
    assert.equal(await got.Body.transformToString(), "x");
  });
});
