// Server-side encryption through @aws-sdk/client-s3: SSE-S3 / SSE-KMS headers echoed as S3
// echoes them (PUT, GET, HEAD, COPY, multipart), the bucket default applied, and SSE-C keys
// required on reads, ranges, parts and copies.

import assert from "node:assert/strict";
import crypto from "node:crypto";
import { after, before, describe, test } from "node:test";

import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutBucketEncryptionCommand,
  PutObjectCommand,
  UploadPartCommand,
} from "@aws-sdk/client-s3";

import { expectS3Error, makeClient, md5Base64, md5Hex, newRunId, resetRun } from "./helpers.mjs";

const runId = newRunId("sse");
const bucket = "sse";
const s3 = makeClient({ runId });

const KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab";
const ARN = `arn:aws:kms:us-east-1:000000000000:key/${KEY_ID}`;

function sseC(key) {
  return {
    SSECustomerAlgorithm: "AES256",
    SSECustomerKey: key.toString("base64"),
    SSECustomerKeyMD5: md5Base64(key),
  };
}

function copySourceSseC(key) {
  return {
    CopySourceSSECustomerAlgorithm: "AES256",
    CopySourceSSECustomerKey: key.toString("base64"),
    CopySourceSSECustomerKeyMD5: md5Base64(key),
  };
}

before(async () => {
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
});

after(async () => {
  s3.destroy();
  await resetRun(runId);
});

describe("SSE-KMS", () => {
  test("echoed on PUT, GET, HEAD and COPY", async () => {
    const body = "kms body";
    const put = await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: "kms",
        Body: body,
        ServerSideEncryption: "aws:kms",
        SSEKMSKeyId: KEY_ID,
        BucketKeyEnabled: true,
      }),
    );
    assert.equal(put.ServerSideEncryption, "aws:kms");
    assert.equal(put.SSEKMSKeyId, ARN);
    assert.equal(put.BucketKeyEnabled, true);
    assert.notEqual(put.ETag, `"${md5Hex(Buffer.from(body))}"`);
    for (const Command of [GetObjectCommand, HeadObjectCommand]) {
      const r = await s3.send(new Command({ Bucket: bucket, Key: "kms" }));
      assert.equal(r.ServerSideEncryption, "aws:kms");
      assert.equal(r.SSEKMSKeyId, ARN);
      assert.equal(r.BucketKeyEnabled, true);
    }
    const copy = await s3.send(
      new CopyObjectCommand({ Bucket: bucket, Key: "kms-copy", CopySource: `${bucket}/kms` }),
    );
    // A copy without encryption headers is SSE-S3 (the bucket's default), not the source's.
    assert.equal(copy.ServerSideEncryption, "AES256");
    assert.equal(copy.SSEKMSKeyId, undefined);
    assert.equal(copy.CopyObjectResult.ETag, `"${md5Hex(Buffer.from(body))}"`);
  });

  test("multipart echoes on Create, UploadPart and Complete", async () => {
    const create = await s3.send(
      new CreateMultipartUploadCommand({
        Bucket: bucket,
        Key: "kms-mp",
        ServerSideEncryption: "aws:kms",
      }),
    );
    assert.equal(create.ServerSideEncryption, "aws:kms");
    const managed = create.SSEKMSKeyId;
    assert.match(managed, /^arn:aws:kms:us-east-1:000000000000:key\/[0-9a-f-]{36}$/);
    const part = await s3.send(
      new UploadPartCommand({
        Bucket: bucket,
        Key: "kms-mp",
        UploadId: create.UploadId,
        PartNumber: 1,
        Body: "only part",
      }),
    );
    assert.equal(part.ServerSideEncryption, "aws:kms");
    assert.equal(part.SSEKMSKeyId, managed);
    const done = await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: "kms-mp",
        UploadId: create.UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
      }),
    );
    assert.equal(done.ServerSideEncryption, "aws:kms");
    assert.equal(done.SSEKMSKeyId, managed);
  });

  test("the bucket default is applied", async () => {
    const b = "sse-default";
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    await s3.send(
      new PutBucketEncryptionCommand({
        Bucket: b,
        ServerSideEncryptionConfiguration: {
          Rules: [
            {
              ApplyServerSideEncryptionByDefault: { SSEAlgorithm: "aws:kms", KMSMasterKeyID: KEY_ID },
              BucketKeyEnabled: true,
            },
          ],
        },
      }),
    );
    const put = await s3.send(new PutObjectCommand({ Bucket: b, Key: "k", Body: "x" }));
    assert.equal(put.ServerSideEncryption, "aws:kms");
    assert.equal(put.SSEKMSKeyId, ARN);
    assert.equal(put.BucketKeyEnabled, true);
    const head = await s3.send(new HeadObjectCommand({ Bucket: b, Key: "k" }));
    assert.equal(head.SSEKMSKeyId, ARN);
  });

  test("an unknown algorithm is refused", async () => {
    const err = await expectS3Error(
      () =>
        s3.send(
          new PutObjectCommand({ Bucket: bucket, Key: "bad", Body: "x", ServerSideEncryption: "AES512" }),
        ),
      { name: "InvalidArgument", status: 400 },
    );
    assert.equal(err.message, "The encryption method specified is not supported");
  });
});

describe("SSE-C", () => {
  const key = crypto.randomBytes(32);
  const other = crypto.randomBytes(32);
  const body = Buffer.from("0123456789abcdef customer bytes");

  before(async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: "c", Body: body, ...sseC(key) }));
  });

  test("round trip echoes the algorithm and key MD5", async () => {
    const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: "c2", Body: body, ...sseC(key) }));
    assert.equal(put.SSECustomerAlgorithm, "AES256");
    assert.equal(put.SSECustomerKeyMD5, md5Base64(key));
    assert.equal(put.ServerSideEncryption, undefined);
    assert.notEqual(put.ETag, `"${md5Hex(body)}"`);
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: "c2", ...sseC(key) }));
    assert.equal(got.SSECustomerKeyMD5, md5Base64(key));
    assert.deepEqual(Buffer.from(await got.Body.transformToByteArray()), body);
  });

  test("range GET with the key", async () => {
    const got = await s3.send(
      new GetObjectCommand({ Bucket: bucket, Key: "c", Range: "bytes=10-15", ...sseC(key) }),
    );
    assert.equal(got.ContentRange, `bytes 10-15/${body.length}`);
    assert.equal(await got.Body.transformToString(), "abcdef");
  });

  test("missing key is 400, wrong key 403", async () => {
    const missing = await expectS3Error(
      () => s3.send(new GetObjectCommand({ Bucket: bucket, Key: "c" })),
      { name: "InvalidRequest", status: 400 },
    );
    assert.equal(
      missing.message,
      "The object was stored using a form of Server Side Encryption. The correct parameters must be provided to retrieve the object.",
    );
    const wrong = await expectS3Error(
      () => s3.send(new GetObjectCommand({ Bucket: bucket, Key: "c", ...sseC(other) })),
      { name: "AccessDenied", status: 403 },
    );
    assert.equal(
      wrong.message,
      "Requests specifying Server Side Encryption with Customer provided keys must provide the correct secret key.",
    );
  });

  test("copy needs the source key", async () => {
    await expectS3Error(
      () => s3.send(new CopyObjectCommand({ Bucket: bucket, Key: "c-copy", CopySource: `${bucket}/c` })),
      { name: "InvalidRequest", status: 400 },
    );
    const out = await s3.send(
      new CopyObjectCommand({
        Bucket: bucket,
        Key: "c-copy",
        CopySource: `${bucket}/c`,
        ...copySourceSseC(key),
        ...sseC(other),
      }),
    );
    assert.equal(out.SSECustomerKeyMD5, md5Base64(other));
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: "c-copy", ...sseC(other) }));
    assert.deepEqual(Buffer.from(await got.Body.transformToByteArray()), body);
  });

  test("multipart parts carry the upload's key", async () => {
    const create = await s3.send(
      new CreateMultipartUploadCommand({ Bucket: bucket, Key: "c-mp", ...sseC(key) }),
    );
    assert.equal(create.SSECustomerKeyMD5, md5Base64(key));
    const uploadPart = (n, text, extra) =>
      s3.send(
        new UploadPartCommand({
          Bucket: bucket,
          Key: "c-mp",
          UploadId: create.UploadId,
          PartNumber: n,
          Body: text,
          ...extra,
        }),
      );
    await expectS3Error(() => uploadPart(1, "first-"), { name: "InvalidRequest", status: 400 });
    const parts = [];
    for (const [n, text] of [
      [1, "first-"],
      [2, "second"],
    ]) {
      const p = await uploadPart(n, text, sseC(key));
      assert.equal(p.SSECustomerKeyMD5, md5Base64(key));
      parts.push({ PartNumber: n, ETag: p.ETag });
    }
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: "c-mp",
        UploadId: create.UploadId,
        MultipartUpload: { Parts: parts },
      }),
    );
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: "c-mp", ...sseC(key) }));
    assert.equal(await got.Body.transformToString(), "first-second");
  });
});
