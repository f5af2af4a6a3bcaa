// HTTPS (`s3twin --tls`): @aws-sdk/client-s3 verifying the generated local CA, through an
// https agent given the CA and through NODE_EXTRA_CA_CERTS. run.sh starts the `--tls` server
// on a temporary --tls-dir and exports S3TWIN_TLS_ENDPOINT and S3TWIN_TLS_CA.

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import https from "node:https";
import { Readable } from "node:stream";
import { test } from "node:test";
import { promisify } from "node:util";

import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { NodeHttpHandler } from "@smithy/node-http-handler";

import { CREDENTIALS, crc32Base64, newRunId } from "./helpers.mjs";

const TLS_EP = (process.env.S3TWIN_TLS_ENDPOINT || "").replace(/\/+$/, "");
const CA_FILE = process.env.S3TWIN_TLS_CA || "";
const skip = !(TLS_EP && CA_FILE) && "S3TWIN_TLS_ENDPOINT / S3TWIN_TLS_CA not set";

function agent() {
  return new https.Agent({ keepAlive: true, ca: fs.readFileSync(CA_FILE) });
}

function tlsClient(runId) {
  return new S3Client({
    endpoint: `${TLS_EP}/t/${runId}`,
    region: "us-east-1",
    credentials: CREDENTIALS,
    forcePathStyle: true,
    maxAttempts: 1,
    requestHandler: new NodeHttpHandler({ httpsAgent: agent() }),
  });
}

/** A JSON admin GET over HTTPS, trusting the CA. */
function adminGet(path) {
  return new Promise((resolve, reject) => {
    https
      .get(`${TLS_EP}${path}`, { ca: fs.readFileSync(CA_FILE) }, (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (c) => (text += c));
        res.on("end", () => resolve(JSON.parse(text)));
      })
      .on("error", reject);
  });
}

test("client-s3 over https with the CA in its agent: put, get", { skip }, async () => {
  const runId = newRunId("tls");
  const s3 = tlsClient(runId);
  await s3.send(new CreateBucketCommand({ Bucket: "tlsb" }));
  await s3.send(new PutObjectCommand({ Bucket: "tlsb", Key: "k", Body: "over https" }));
  const got = await s3.send(new GetObjectCommand({ Bucket: "tlsb", Key: "k" }));
  assert.equal(await got.Body.transformToString(), "over https");
  s3.destroy();
});

test("a streamed PutObject over https is aws-chunked with a CRC32 trailer", { skip }, async () => {
  const runId = newRunId("tlschunk");
  const s3 = tlsClient(runId);
  await s3.send(new CreateBucketCommand({ Bucket: "tlsb" }));
  const data = crypto.randomBytes(1000);
  await s3.send(
    new PutObjectCommand({
      Bucket: "tlsb",
      Key: "streamed",
      Body: Readable.from([data]),
      ContentLength: data.length,
    }),
  );
  const checksum = crc32Base64(data);
  const log = await adminGet(`/_s3twin/requests?runId=${runId}&operation=PutObject`);
  const entry = log.entries.find((e) => e.key === "streamed");
  assert.ok(entry, JSON.stringify(log));
  assert.equal(entry.status, 200);
  // One chunk, the zero chunk and the trailer: the framing @smithy's aws-chunked stream writes.
  const framed =
    `${data.length.toString(16)}\r\n`.length +
    data.length +
    2 +
    `0\r\nx-amz-checksum-crc32:${checksum}\r\n\r\n`.length;
  assert.equal(entry.bytesIn, framed);
  const head = await s3.send(
    new HeadObjectCommand({ Bucket: "tlsb", Key: "streamed", ChecksumMode: "ENABLED" }),
  );
  assert.equal(head.ChecksumCRC32, checksum);
  assert.equal(head.ContentLength, data.length);
  s3.destroy();
});

// NODE_EXTRA_CA_CERTS is read when node starts: a child process with it trusts the CA,
// one without it refuses the certificate.
const listBuckets = `
import { S3Client, ListBucketsCommand } from "@aws-sdk/client-s3";
const s3 = new S3Client({ endpoint: process.argv[1], region: "us-east-1", forcePathStyle: true,
  maxAttempts: 1, credentials: { accessKeyId: "parlel", secretAccessKey: "parlel" } });
try { await s3.send(new ListBucketsCommand({})); console.log("ok"); }
catch (e) { console.log("failed: " + (e.code || e.name)); }
`;

test("client-s3 trusts the CA through NODE_EXTRA_CA_CERTS", { skip }, async () => {
  const run = promisify(execFile);
  const args = ["--input-type=module", "-e", listBuckets, TLS_EP];
  const base = { ...process.env };
  delete base.NODE_EXTRA_CA_CERTS;
  const trusted = await run(process.execPath, args, {
    env: { ...base, NODE_EXTRA_CA_CERTS: CA_FILE },
  });
  assert.equal(trusted.stdout.trim(), "ok");
  const untrusted = await run(process.execPath, args, { env: base });
  assert.match(untrusted.stdout.trim(), /^failed: (UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED|UNABLE_TO_GET_ISSUER_CERT)/);
});
