// The product's quick-start, run unchanged against the server, once with
// path-style addressing and once with virtual-hosted-style addressing.

import assert from "node:assert/strict";
import { after, describe, test } from "node:test";

import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";

import {
  CREDENTIALS,
  EP,
  PORT,
  bucketName,
  deleteBucketQuietly,
  expectS3Error,
  localhostHandler,
  md5Hex,
  recordRequests,
} from "./helpers.mjs";

const clients = [];
after(async () => {
  for (const [client, bucket] of clients) {
    await deleteBucketQuietly(client, bucket);
    client.destroy();
  }
});

describe("quick-start", () => {
  test("path-style (forcePathStyle: true): CreateBucket, PutObject, GetObject", async () => {
    const bucket = bucketName("qs-path");
    const s3 = new S3Client({
      region: "us-east-1",
      endpoint: EP,
      forcePathStyle: true,
      credentials: CREDENTIALS,
    });
    clients.push([s3, bucket]);
    const rec = recordRequests(s3);

    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: "hello.txt", Body: "hello world" }));
    const obj = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: "hello.txt" }));
    assert.equal(await obj.Body.transformToString(), "hello world");

    // The SDK really used path-style addressing against the endpoint host.
    const get = rec.requests.at(-1);
    assert.equal(get.hostname, new URL(EP).hostname);
    assert.equal(get.path, `/${bucket}/hello.txt`);

    assert.equal(obj.ContentLength, 11);
    // For a plain PutObject the ETag is the quoted hex MD5 of the bytes.
    assert.equal(obj.ETag, `"${md5Hex(Buffer.from("hello world"))}"`);
  });

  test("virtual-hosted-style (forcePathStyle: false, Host: {bucket}.localhost)", async () => {
    const bucket = bucketName("qs-vhost");
    const s3 = new S3Client({
      region: "us-east-1",
      endpoint: `http://localhost:${PORT}`,
      forcePathStyle: false,
      credentials: CREDENTIALS,
      requestHandler: localhostHandler(),
    });
    clients.push([s3, bucket]);
    const rec = recordRequests(s3);

    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: "hello.txt", Body: "hello world" }));
    const obj = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: "hello.txt" }));
    assert.equal(await obj.Body.transformToString(), "hello world");

    // The SDK really addressed the bucket through the Host header.
    assert.ok(rec.requests.length >= 3);
    for (const r of rec.requests) {
      assert.equal(r.hostname, `${bucket}.localhost`);
      assert.equal(r.headers.host, `${bucket}.localhost:${PORT}`);
    }
    assert.equal(rec.requests.at(-1).path, "/hello.txt");

    // The same bucket is visible path-style: both addressings name one bucket.
    const pathStyle = new S3Client({
      region: "us-east-1",
      endpoint: EP,
      forcePathStyle: true,
      credentials: CREDENTIALS,
    });
    try {
      await pathStyle.send(new HeadBucketCommand({ Bucket: bucket }));
      const again = await pathStyle.send(new GetObjectCommand({ Bucket: bucket, Key: "hello.txt" }));
      assert.equal(await again.Body.transformToString(), "hello world");
    } finally {
      pathStyle.destroy();
    }
  });

  test("virtual-hosted-style bucket operations: list, multi-delete, delete bucket", async () => {
    const bucket = bucketName("qs-vh-ops");
    const s3 = new S3Client({
      region: "us-east-1",
      endpoint: `http://localhost:${PORT}`,
      forcePathStyle: false,
      credentials: CREDENTIALS,
      requestHandler: localhostHandler(),
    });
    clients.push([s3, bucket]);
    const rec = recordRequests(s3);

    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    for (const k of ["x/1", "x/2", "y"]) {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: k, Body: k }));
    }
    const list = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Delimiter: "/" }));
    assert.deepEqual((list.Contents ?? []).map((o) => o.Key), ["y"]);
    assert.deepEqual((list.CommonPrefixes ?? []).map((p) => p.Prefix), ["x/"]);
    assert.equal(list.Name, bucket);

    const del = await s3.send(
      new DeleteObjectsCommand({
        Bucket: bucket,
        Delete: { Objects: [{ Key: "x/1" }, { Key: "x/2" }, { Key: "y" }] },
      }),
    );
    assert.equal((del.Deleted ?? []).length, 3);
    await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
    await expectS3Error(() => s3.send(new HeadBucketCommand({ Bucket: bucket })), { status: 404 });

    for (const r of rec.requests) assert.equal(r.hostname, `${bucket}.localhost`);
    assert.ok(rec.requests.some((r) => r.method === "POST" && "delete" in r.query && r.path === "/"));
  });
});
