// Shared helpers for the Node.js real-client suite.
//
// Every test file creates its own run (an isolated namespace reached through
// `EP/t/<runId>`) so files can run in parallel and never see each other's
// buckets. Nothing here talks to anything but the local s3twin endpoint.

import assert from "node:assert/strict";
import crypto from "node:crypto";
import dns from "node:dns";
import http from "node:http";
import zlib from "node:zlib";

import { S3Client } from "@aws-sdk/client-s3";
import { NodeHttpHandler } from "@smithy/node-http-handler";

const rawEndpoint = process.env.S3TWIN_ENDPOINT;
if (!rawEndpoint) {
  throw new Error(
    "S3TWIN_ENDPOINT is not set: run the suite through tests/clients/node/run.sh",
  );
}

/** Base endpoint of the server, e.g. http://127.0.0.1:PORT (no trailing slash). */
export const EP = rawEndpoint.replace(/\/+$/, "");
export const EP_URL = new URL(EP);
export const PORT = Number(EP_URL.port || 80);

export const CREDENTIALS = { accessKeyId: "parlel", secretAccessKey: "parlel" };

/** A fresh run id, unique per call. */
export function newRunId(label = "node") {
  return `${label}-${Date.now().toString(36)}-${crypto.randomBytes(4).toString("hex")}`;
}

/** A fresh, valid bucket name (lowercase, no dots, 3..63 chars). */
export function bucketName(label = "b") {
  return `${label}-${crypto.randomBytes(6).toString("hex")}`.toLowerCase();
}

/** Endpoint of one run's isolated namespace. */
export function runEndpoint(runId) {
  return `${EP}/t/${runId}`;
}

/**
 * `lookup` for http.Agent: resolves `localhost` and every `*.localhost` name to
 * 127.0.0.1 (the machine's resolver does not know `bucket.localhost`).
 * Node 20 calls lookup with `options.all === true` (happy eyeballs), in which
 * case the callback takes an array of `{address, family}`.
 */
export function localhostLookup(hostname, options, callback) {
  if (typeof options === "function") {
    callback = options;
    options = {};
  }
  const name = String(hostname).toLowerCase();
  if (name === "localhost" || name.endsWith(".localhost")) {
    if (options && options.all) {
      process.nextTick(callback, null, [{ address: "127.0.0.1", family: 4 }]);
    } else {
      process.nextTick(callback, null, "127.0.0.1", 4);
    }
    return;
  }
  dns.lookup(hostname, options, callback);
}

/** A NodeHttpHandler whose agent resolves *.localhost to 127.0.0.1. */
export function localhostHandler() {
  return new NodeHttpHandler({
    httpAgent: new http.Agent({ keepAlive: true, lookup: localhostLookup }),
  });
}

/**
 * An S3 client configured the way the product documents it.
 * opts.runId      – talk to EP/t/<runId> (isolated run); omitted = default namespace
 * opts.endpoint   – override the endpoint entirely
 * opts.forcePathStyle – default true
 */
export function makeClient(opts = {}) {
  const { runId, endpoint, forcePathStyle = true, ...rest } = opts;
  return new S3Client({
    region: "us-east-1",
    endpoint: endpoint ?? (runId ? runEndpoint(runId) : EP),
    forcePathStyle,
    credentials: CREDENTIALS,
    ...rest,
  });
}

/** POST EP/_s3twin/reset?runId=R */
export async function resetRun(runId) {
  const res = await fetch(`${EP}/_s3twin/reset?runId=${encodeURIComponent(runId)}`, {
    method: "POST",
  });
  await res.arrayBuffer();
  return res;
}

// ---------------------------------------------------------------------------
// Checksums, computed independently of the SDK.

const CRC32_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32Table(buf) {
  let c = 0xffffffff;
  for (let i = 0; i < buf.length; i++) c = CRC32_TABLE[(c ^ buf[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** CRC32 (IEEE) of a Buffer as an unsigned 32-bit integer. */
export function crc32(buf) {
  return typeof zlib.crc32 === "function" ? zlib.crc32(buf) >>> 0 : crc32Table(buf);
}

/** CRC32 of a Buffer in the form S3 uses: base64 of the 4 big-endian bytes. */
export function crc32Base64(buf) {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(crc32(buf));
  return out.toString("base64");
}

const CRC32C_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC32C (Castagnoli) of a Buffer, base64 of the 4 big-endian bytes. */
export function crc32cBase64(buf) {
  let c = 0xffffffff;
  for (let i = 0; i < buf.length; i++) c = CRC32C_TABLE[(c ^ buf[i]) & 0xff] ^ (c >>> 8);
  const out = Buffer.alloc(4);
  out.writeUInt32BE((c ^ 0xffffffff) >>> 0);
  return out.toString("base64");
}

export function sha1Base64(buf) {
  return crypto.createHash("sha1").update(buf).digest("base64");
}

export function sha256Base64(buf) {
  return crypto.createHash("sha256").update(buf).digest("base64");
}

export function md5Hex(buf) {
  return crypto.createHash("md5").update(buf).digest("hex");
}

export function md5Base64(buf) {
  return crypto.createHash("md5").update(buf).digest("base64");
}

export function sha256Hex(buf) {
  return crypto.createHash("sha256").update(buf).digest("hex");
}

// ---------------------------------------------------------------------------
// Errors

/**
 * Runs `fn`, expects it to reject with an S3 service error, checks name and
 * HTTP status, and returns the error for further assertions.
 */
export async function expectS3Error(fn, { name, status }) {
  let err;
  try {
    await fn();
  } catch (e) {
    err = e;
  }
  assert.ok(err, `expected an error${name ? ` named ${name}` : ""}, but the call succeeded`);
  if (status !== undefined) {
    assert.equal(
      err.$metadata?.httpStatusCode,
      status,
      `expected HTTP ${status} (${name}), got ${err.$metadata?.httpStatusCode}: ${err.name}: ${err.message}`,
    );
  }
  if (name !== undefined) {
    assert.equal(err.name, name, `expected error ${name}, got ${err.name}: ${err.message}`);
  }
  return err;
}

// ---------------------------------------------------------------------------
// Request capture: lets a test see the exact request the SDK put on the wire,
// or take its signed headers and replay them with a hand-made body.

/**
 * Adds a middleware at the very end of the stack (after signing) that records
 * the outgoing request. Returns an object whose `.requests` collects them.
 */
export function recordRequests(client) {
  const rec = { requests: [] };
  client.middlewareStack.add(
    (next) => async (args) => {
      const r = args.request;
      rec.requests.push({
        method: r.method,
        hostname: r.hostname,
        port: r.port,
        path: r.path,
        query: { ...(r.query ?? {}) },
        headers: { ...r.headers },
      });
      return next(args);
    },
    { step: "deserialize", priority: "low", name: `recordRequests-${crypto.randomUUID()}` },
  );
  return rec;
}

class CapturedRequest extends Error {
  constructor(request) {
    super("captured request (not sent)");
    this.name = "CapturedRequest";
    this.request = request;
  }
}

/**
 * Builds and signs a request with the SDK but does not send it: returns
 * `{ method, path, headers }` ready to be replayed with `http.request`.
 * `clientOpts` are passed to makeClient; `command` is any S3 Command.
 */
export async function captureSignedRequest(clientOpts, command) {
  const client = makeClient({ ...clientOpts, maxAttempts: 1 });
  client.middlewareStack.add(
    () => async (args) => {
      throw new CapturedRequest(args.request);
    },
    { step: "deserialize", priority: "low", name: "captureSignedRequest" },
  );
  try {
    await client.send(command);
  } catch (e) {
    if (e instanceof CapturedRequest || e?.name === "CapturedRequest") {
      const r = e.request;
      const qs = new URLSearchParams();
      for (const [k, v] of Object.entries(r.query ?? {})) {
        if (Array.isArray(v)) v.forEach((x) => qs.append(k, x));
        else if (v === null || v === undefined) qs.append(k, "");
        else qs.append(k, v);
      }
      const q = qs.toString();
      return {
        method: r.method,
        path: r.path + (q ? `?${q}` : ""),
        headers: { ...r.headers },
      };
    }
    throw e;
  } finally {
    client.destroy();
  }
  throw new Error("request was sent instead of captured");
}

/**
 * Sends a raw HTTP/1.1 request to the server. `writeBody(req)` writes the body
 * and decides how to end it. Resolves with `{ status, headers, body }` or
 * `{ error }` when the connection failed before a response arrived.
 */
export function rawRequest({ method, path, headers }, writeBody, { timeoutMs = 10000 } = {}) {
  return new Promise((resolve) => {
    let settled = false;
    const done = (v) => {
      if (!settled) {
        settled = true;
        clearTimeout(timer);
        resolve(v);
      }
    };
    const req = http.request({
      host: EP_URL.hostname,
      port: PORT,
      method,
      path,
      headers,
      agent: false,
    });
    const timer = setTimeout(() => {
      req.destroy(new Error("raw request timed out"));
    }, timeoutMs);
    req.on("response", (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () =>
        done({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }),
      );
      res.on("error", (error) => done({ error, status: res.statusCode, headers: res.headers }));
    });
    req.on("error", (error) => done({ error }));
    writeBody(req);
  });
}

/** Extracts `<Tag>value</Tag>` from an XML string. */
export function xmlValue(xml, tag) {
  const m = new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(xml ?? "");
  return m ? m[1] : undefined;
}

/** Empties and deletes every bucket of a client's namespace (best effort). */
export async function deleteBucketQuietly(client, bucket) {
  const { ListObjectsV2Command, DeleteObjectCommand, DeleteBucketCommand } = await import(
    "@aws-sdk/client-s3"
  );
  try {
    let token;
    do {
      const page = await client.send(
        new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }),
      );
      for (const o of page.Contents ?? []) {
        await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: o.Key }));
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    await client.send(new DeleteBucketCommand({ Bucket: bucket }));
  } catch {
    // best effort cleanup
  }
}
