// Destructive-call refusal: production-looking keys never reach *.amazonaws.com.
import { test } from "node:test";
import assert from "node:assert/strict";
import { s3, refuseProduction, looksLikeProductionKeys, ProductionCallRefused } from "s3twin";
import { S3Client, ListBucketsCommand, PutObjectCommand } from "@aws-sdk/client-s3";

// AWS's documented example keys: the shape of real ones.
const PROD = { accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" };

// A request that got past the refusal fails here instead of reaching the network.
let sent = 0;
const neverSend = {
  handle: async (request) => {
    sent += 1;
    throw new Error(`would have sent a request to ${request.hostname}`);
  },
};

test("clone.client() refuses a production-looking call to AWS, saying why and how to allow it", async () => {
  const clone = await s3.start();
  const client = clone.client({
    endpoint: "https://s3.us-east-1.amazonaws.com",
    credentials: PROD,
    requestHandler: neverSend,
  });
  await assert.rejects(client.send(new ListBucketsCommand({})), (e) => {
    assert.ok(e instanceof ProductionCallRefused, String(e));
    assert.match(e.message, /refused to send ListBucketsCommand to s3\.us-east-1\.amazonaws\.com/);
    assert.match(e.message, /look like real AWS keys \(access key id AKIA…MPLE/);
    assert.match(e.message, /allowProduction: true/);
    assert.match(e.message, /S3TWIN_ALLOW_PRODUCTION=1/);
    return true;
  });
  assert.equal(sent, 0);
  client.destroy();
  await clone.stop();
});

test("refuseProduction() guards any S3Client, virtual-hosted and regional hosts too", async () => {
  const client = refuseProduction(new S3Client({ region: "eu-west-1", credentials: PROD, requestHandler: neverSend }));
  await assert.rejects(
    client.send(new PutObjectCommand({ Bucket: "prod-bucket", Key: "k", Body: "x" })),
    (e) => e instanceof ProductionCallRefused && /prod-bucket\.s3\.eu-west-1\.amazonaws\.com/.test(e.message),
  );
  assert.equal(sent, 0);
  client.destroy();
});

test("the guard lets production-shaped keys reach the twin, and test keys pass", async () => {
  const clone = await s3.start();
  await clone.createBucket("guarded-uploads");
  const client = clone.client({ credentials: PROD });
  const out = await client.send(new PutObjectCommand({ Bucket: "guarded-uploads", Key: "k", Body: "x" }));
  assert.equal(out.$metadata.httpStatusCode, 200);
  client.destroy();
  assert.equal((await clone.getObject("guarded-uploads", "k")).toString(), "x");
  await clone.stop();
});

test("what looks like production keys", () => {
  assert.equal(looksLikeProductionKeys(PROD), true);
  assert.equal(looksLikeProductionKeys({ ...PROD, accessKeyId: "ASIAIOSFODNN7EXAMPLE" }), true);
  assert.equal(looksLikeProductionKeys({ accessKeyId: "parlel", secretAccessKey: "parlel" }), false);
  assert.equal(looksLikeProductionKeys({ ...PROD, secretAccessKey: "short" }), false);
  assert.equal(looksLikeProductionKeys({ ...PROD, accessKeyId: "AKIA_not_a_key" }), false);
  assert.equal(looksLikeProductionKeys(undefined), false);
});
