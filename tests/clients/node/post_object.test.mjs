// POST object: @aws-sdk/s3-presigned-post builds the form, fetch + FormData send it,
// as a browser would. AWS's error texts as its recorded answers show them.

import assert from "node:assert/strict";
import { after, test } from "node:test";

import { CreateBucketCommand, GetObjectCommand } from "@aws-sdk/client-s3";
import { createPresignedPost } from "@aws-sdk/s3-presigned-post";

import { bucketName, makeClient, md5Hex, newRunId, resetRun, xmlValue } from "./helpers.mjs";

const runId = newRunId("post");
const s3 = makeClient({ runId });
after(() => resetRun(runId));

async function send({ url, fields }, body, filename = "photo.jpg") {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  form.append("file", new Blob([body]), filename);
  return fetch(url, { method: "POST", body: form });
}

test("createPresignedPost + fetch uploads a file", async () => {
  const Bucket = bucketName("post");
  await s3.send(new CreateBucketCommand({ Bucket }));
  const post = await createPresignedPost(s3, {
    Bucket,
    Key: "uploads/${filename}",
    Conditions: [["starts-with", "$key", "uploads/"], ["content-length-range", 1, 1024]],
    Fields: { "Content-Type": "image/jpeg" },
    Expires: 300,
  });
  const res = await send(post, "jpeg bytes");
  assert.equal(res.status, 204, await res.text());
  assert.equal(res.headers.get("etag"), `"${md5Hex(Buffer.from("jpeg bytes"))}"`);
  const got = await s3.send(new GetObjectCommand({ Bucket, Key: "uploads/photo.jpg" }));
  assert.equal(await got.Body.transformToString(), "jpeg bytes");
  assert.equal(got.ContentType, "image/jpeg");
});

test("policy violations are refused with AWS's errors", async () => {
  const Bucket = bucketName("postbad");
  await s3.send(new CreateBucketCommand({ Bucket }));
  const post = await createPresignedPost(s3, {
    Bucket,
    Key: "user/a.txt",
    Conditions: [["starts-with", "$key", "user/"], ["content-length-range", 1, 4]],
    Expires: 300,
  });
  let res = await send({ url: post.url, fields: { ...post.fields, key: "admin/a.txt" } }, "x");
  let text = await res.text();
  assert.equal(res.status, 403, text);
  assert.equal(xmlValue(text, "Code"), "AccessDenied");
  assert.equal(
    xmlValue(text, "Message").replaceAll("&quot;", '"'),
    'Invalid according to Policy: Policy Condition failed: ["starts-with", "$key", "user/"]',
  );
  res = await send(post, "too large");
  text = await res.text();
  assert.equal(res.status, 400, text);
  assert.equal(xmlValue(text, "Code"), "EntityTooLarge");
  assert.equal(xmlValue(text, "ProposedSize"), "9");
});
