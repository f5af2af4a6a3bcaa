// Seed 000's quick start, as written (the server import is the package's).
import { test } from "node:test";
import assert from "node:assert/strict";
import { S3Server } from "s3twin";
import {
  S3Client,
  CreateBucketCommand,
  PutObjectCommand,
  GetObjectCommand,
} from "@aws-sdk/client-s3";

test("seed 000 quick start: new S3Server(4566), the real SDK, reset, stop", async () => {
  const server = new S3Server(4566);
  await server.start();
  assert.equal(server.endpoint, "http://127.0.0.1:4566");

  const s3 = new S3Client({
    region: "us-east-1",
    endpoint: "http://127.0.0.1:4566",
    forcePathStyle: true, // recommended for the fake
    credentials: { accessKeyId: "parlel", secretAccessKey: "parlel" },
  });

  await s3.send(new CreateBucketCommand({ Bucket: "my-bucket" }));
  await s3.send(new PutObjectCommand({ Bucket: "my-bucket", Key: "hello.txt", Body: "hello world" }));
  const obj = await s3.send(new GetObjectCommand({ Bucket: "my-bucket", Key: "hello.txt" }));
  assert.equal(await obj.Body.transformToString(), "hello world");

  // The seed's health route, then reset() empties the server.
  const health = await (await fetch("http://127.0.0.1:4566/_parlel/health")).json();
  assert.equal(health.buckets, 1);
  await server.reset();
  const after = await (await fetch("http://127.0.0.1:4566/_parlel/health")).json();
  assert.equal(after.buckets, 0);

  s3.destroy();
  const pid = server.pid;
  await server.stop();
  assert.equal(server.endpoint, null);
  assert.throws(() => process.kill(pid, 0), { code: "ESRCH" });
});
