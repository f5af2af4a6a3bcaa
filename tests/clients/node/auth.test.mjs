// Authentication in enforce mode (issue 13): @aws-sdk/client-s3 signs for real against a run
// created with {"auth": "enforce"}; wrong secrets, unknown keys and tampered presigned URLs are
// refused with AWS's errors.

import assert from "node:assert/strict";
import { test } from "node:test";

import {
  CreateBucketCommand,
  GetObjectCommand,
  ListBucketsCommand,
  PutObjectCommand,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";

import { EP, bucketName, expectS3Error, makeClient, newRunId, resetRun } from "./helpers.mjs";

async function enforcingRun() {
  const runId = newRunId("auth");
  const res = await fetch(`${EP}/_s3twin/runs`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ runId, auth: "enforce" }),
  });
  const body = await res.json();
  assert.equal(res.status, 201);
  assert.equal(body.auth, "enforce");
  return runId;
}

test("auth: right keys work, a wrong secret and an unknown key are refused", async () => {
  const runId = await enforcingRun();
  try {
    const s3 = makeClient({ runId });
    const b = bucketName("auth");
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    await s3.send(new PutObjectCommand({ Bucket: b, Key: "a b/c+d", Body: "hello" }));
    const got = await s3.send(new GetObjectCommand({ Bucket: b, Key: "a b/c+d" }));
    assert.equal(await got.Body.transformToString(), "hello");
    const big = Buffer.alloc(11 * 1024 * 1024, 7);
    await new Upload({ client: s3, params: { Bucket: b, Key: "big", Body: big }, partSize: 5 * 1024 * 1024 }).done();
    const back = await s3.send(new GetObjectCommand({ Bucket: b, Key: "big" }));
    assert.equal(Buffer.from(await back.Body.transformToByteArray()).equals(big), true);

    const wrong = makeClient({ runId, credentials: { accessKeyId: "parlel", secretAccessKey: "wrong" } });
    await expectS3Error(() => wrong.send(new GetObjectCommand({ Bucket: b, Key: "a b/c+d" })), {
      name: "SignatureDoesNotMatch",
      status: 403,
    });
    await expectS3Error(() => wrong.send(new PutObjectCommand({ Bucket: b, Key: "x", Body: "x" })), {
      name: "SignatureDoesNotMatch",
      status: 403,
    });
    const unknown = makeClient({ runId, credentials: { accessKeyId: "AKIDNOPE", secretAccessKey: "x" } });
    await expectS3Error(() => unknown.send(new ListBucketsCommand({})), {
      name: "InvalidAccessKeyId",
      status: 403,
    });
  } finally {
    await resetRun(runId);
  }
});

test("auth: presigned URLs verify and fail once tampered", async () => {
  const runId = await enforcingRun();
  try {
    const s3 = makeClient({ runId });
    const b = bucketName("pre");
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    await s3.send(new PutObjectCommand({ Bucket: b, Key: "k", Body: "presigned" }));
    const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: b, Key: "k" }), { expiresIn: 60 });
    const ok = await fetch(url);
    assert.equal(ok.status, 200);
    assert.equal(await ok.text(), "presigned");
    const tampered = await fetch(url.replace("/k?", "/j?"));
    assert.equal(tampered.status, 403);
    assert.match(await tampered.text(), /<Code>SignatureDoesNotMatch<\/Code>/);
    // Without a body to sign, the presigner would sign the CRC32 of an empty one.
    const signer = makeClient({ runId, requestChecksumCalculation: "WHEN_REQUIRED" });
    const put = await getSignedUrl(signer, new PutObjectCommand({ Bucket: b, Key: "up" }), { expiresIn: 60 });
    const res = await fetch(put, { method: "PUT", body: "via url" });
    assert.equal(res.status, 200, await res.text());
  } finally {
    await resetRun(runId);
  }
});

test("auth: a presigned POST form is verified (signed by createPresignedPost)", async () => {
  const { createPresignedPost } = await import("@aws-sdk/s3-presigned-post");
  const runId = await enforcingRun();
  try {
    const s3 = makeClient({ runId });
    const b = bucketName("authpost");
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    const send = async ({ url, fields }) => {
      const form = new FormData();
      for (const [k, v] of Object.entries(fields)) form.append(k, v);
      form.append("file", new Blob(["form body"]), "f.txt");
      return fetch(url, { method: "POST", body: form });
    };
    const post = await createPresignedPost(s3, { Bucket: b, Key: "up/${filename}", Expires: 300 });
    const ok = await send(post);
    assert.equal(ok.status, 204, await ok.text());
    const got = await s3.send(new GetObjectCommand({ Bucket: b, Key: "up/f.txt" }));
    assert.equal(await got.Body.transformToString(), "form body");

    const wrong = makeClient({ runId, credentials: { accessKeyId: "parlel", secretAccessKey: "wrong" } });
    const forged = await createPresignedPost(wrong, { Bucket: b, Key: "up/x", Expires: 300 });
    const refused = await send(forged);
    const text = await refused.text();
    assert.equal(refused.status, 403, text);
    assert.match(text, /<Code>SignatureDoesNotMatch<\/Code>/);
    assert.ok(text.includes(`<StringToSign>${forged.fields.Policy}</StringToSign>`), text);
  } finally {
    await resetRun(runId);
  }
});
