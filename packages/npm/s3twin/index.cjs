"use strict";
// s3twin for Node.js: starts the s3twin binary from test code, gives each test its own run
// ("clone") on one shared server per Node process, and guards S3 clients against reaching
// real AWS with real keys.
//
// Written as CommonJS so that `require` and `import` load one copy (index.mjs re-exports it).

const { spawn } = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");

const EXE = process.platform === "win32" ? "s3twin.exe" : "s3twin";
const START_TIMEOUT_MS = 15000;
const STOP_TIMEOUT_MS = 5000;

// ---------------------------------------------------------------------------------------------
// Finding the binary

let tripleCache;
/** This machine's platform package suffix, e.g. `linux-x64-gnu` (the esbuild / biome pattern). */
function platformTriple() {
  if (tripleCache) return tripleCache;
  const { platform, arch } = process;
  if (platform === "linux") {
    // glibcVersionRuntime is only reported where Node runs on glibc.
    const report = process.report && process.report.getReport ? process.report.getReport() : {};
    const glibc = report && report.header && report.header.glibcVersionRuntime;
    tripleCache = `linux-${arch}-${glibc ? "gnu" : "musl"}`;
  } else if (platform === "win32") {
    tripleCache = `win32-${arch}-msvc`;
  } else {
    tripleCache = `${platform}-${arch}`;
  }
  return tripleCache;
}

function isExecutable(file) {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

function onPath(name) {
  for (const dir of (process.env.PATH || "").split(path.delimiter)) {
    if (!dir) continue;
    const file = path.join(dir, name);
    if (isExecutable(file)) return file;
  }
  return null;
}

/**
 * The s3twin binary: `S3TWIN_BINARY`, else the platform package (`@s3twin/<triple>`), else
 * `s3twin` on PATH.
 */
function findBinary() {
  const env = process.env.S3TWIN_BINARY;
  if (env) {
    if (isExecutable(env)) return env;
    throw new Error(`s3twin: S3TWIN_BINARY=${env} is not an executable file`);
  }
  const pkg = `@s3twin/${platformTriple()}`;
  let pkgNote = "not installed";
  try {
    const dir = path.dirname(require.resolve(`${pkg}/package.json`));
    const bin = path.join(dir, "bin", EXE);
    if (isExecutable(bin)) return bin;
    pkgNote = `installed, but ${bin} is missing`;
  } catch {
    // Not installed (optional dependencies off, or no package for this platform).
  }
  const found = onPath(EXE);
  if (found) return found;
  throw new Error(
    `s3twin: no s3twin binary found. Looked at 1) the S3TWIN_BINARY environment variable (unset), ` +
      `2) the platform package ${pkg} (${pkgNote}), 3) ${EXE} on PATH (not found). ` +
      `Set S3TWIN_BINARY to the binary's path, install ${pkg} (npm installs it with s3twin ` +
      `unless optional dependencies are turned off), or put s3twin on PATH.`,
  );
}

// ---------------------------------------------------------------------------------------------
// Server processes

// Every server process this Node process started and has not seen exit. Besides this `exit`
// hook, each server watches its stdin (--exit-with-stdin): when Node dies without running
// hooks (kill -9, a crashed test runner), the pipe closes and the server stops by itself.
const live = new Set();
let exitHookInstalled = false;
function killAllOnExit() {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => {
    for (const child of live) {
      try {
        child.kill("SIGKILL");
      } catch {
        // Already gone.
      }
    }
  });
}

async function adminRequest(base, method, route, body) {
  const init = { method, headers: {} };
  if (body !== undefined) {
    init.body = typeof body === "string" ? body : JSON.stringify(body);
    init.headers["content-type"] = "application/json";
  }
  const res = await fetch(base + route, init);
  const text = await res.text();
  let json;
  try {
    json = text ? JSON.parse(text) : {};
  } catch {
    json = undefined;
  }
  if (!res.ok) {
    const why = json && json.error ? json.error : text;
    const err = new Error(`s3twin: ${method} ${route} answered ${res.status}: ${why}`);
    err.status = res.status;
    err.body = json === undefined ? text : json;
    throw err;
  }
  return json === undefined ? text : json;
}

function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) {
    if (v !== undefined && v !== null) q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `&${s}` : "";
}

class S3Server {
  /**
   * @param {number | {port?: number, host?: string, region?: string, seed?: string | object,
   *   strict?: boolean, auth?: "none" | "enforce", binary?: string, args?: string[]}} [options]
   */
  constructor(options = {}) {
    if (typeof options === "number") options = { port: options };
    this.options = { port: 4566, host: "127.0.0.1", ...options };
    this.child = null;
    this.endpoint = null;
    this.port = null;
    this.host = this.options.host;
  }

  /** The server process id while it runs. */
  get pid() {
    return this.child ? this.child.pid : undefined;
  }

  async start() {
    if (this.child) throw new Error("s3twin: this server is already started");
    const o = this.options;
    const bin = o.binary || findBinary();
    const args = ["--port", String(o.port), "--host", o.host, "--exit-with-stdin"];
    if (o.region) args.push("--region", o.region);
    if (o.strict) args.push("--strict");
    if (o.auth) args.push("--auth", o.auth);
    if (typeof o.seed === "string") args.push("--seed", o.seed);
    if (o.args) args.push(...o.args);
    killAllOnExit();
    const child = spawn(bin, args, { stdio: ["pipe", "pipe", "pipe"], windowsHide: true });
    live.add(child);
    child.once("exit", () => live.delete(child));
    let stderr = "";
    // Both streams are read to the end, so a chatty server never blocks on a full pipe.
    child.stderr.on("data", (d) => {
      stderr = (stderr + d).slice(-8192);
    });
    let stdout = "";
    const endpoint = await new Promise((resolve, reject) => {
      let settled = false;
      const finish = (err, value) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (err) {
          try {
            child.kill("SIGKILL");
          } catch {
            // Already gone.
          }
          reject(err);
        } else {
          resolve(value);
        }
      };
      const timer = setTimeout(
        () => finish(new Error(`s3twin: ${bin} did not start within ${START_TIMEOUT_MS} ms: ${stderr.trim()}`)),
        START_TIMEOUT_MS,
      );
      child.stdout.on("data", (d) => {
        if (settled) return;
        stdout += d;
        const m = /s3twin listening on (http\S+)/.exec(stdout);
        if (m) finish(null, m[1]);
      });
      child.once("error", (e) => finish(new Error(`s3twin: cannot start ${bin}: ${e.message}`)));
      child.once("exit", (code, signal) =>
        finish(new Error(`s3twin: ${bin} exited before listening (${signal || `code ${code}`}): ${stderr.trim()}`)),
      );
    });
    this.child = child;
    this.endpoint = endpoint;
    this.port = Number(new URL(endpoint).port);
    // The server does not keep Node alive: a test file that forgot stop() still ends, and the
    // exit hook (or the closed stdin) takes the server down.
    child.unref();
    for (const s of [child.stdin, child.stdout, child.stderr]) if (s && s.unref) s.unref();
    if (o.seed && typeof o.seed === "object") {
      await adminRequest(endpoint, "POST", "/_s3twin/seed", o.seed);
    }
    return this;
  }

  async stop() {
    const child = this.child;
    if (!child) return;
    this.child = null;
    this.endpoint = null;
    if (child.exitCode !== null || child.signalCode !== null) return;
    // Referenced again so that Node waits for the exit instead of ending mid-stop.
    child.ref();
    await new Promise((resolve) => {
      const timer = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
      child.once("exit", () => {
        clearTimeout(timer);
        resolve();
      });
      child.kill("SIGTERM");
    });
  }

  /** Empties every run. */
  async reset() {
    return this.adminPost("/_s3twin/reset");
  }

  /** A new run on this server; `stop()` of the returned clone drops the run. */
  async run(options = {}) {
    return createClone(this, options, async () => {});
  }

  async adminGet(route) {
    return adminRequest(this._base(), "GET", route);
  }

  async adminPost(route, body) {
    return adminRequest(this._base(), "POST", route, body);
  }

  async adminDelete(route) {
    return adminRequest(this._base(), "DELETE", route);
  }

  _base() {
    if (!this.endpoint) throw new Error("s3twin: the server is not started");
    return this.endpoint;
  }
}

// ---------------------------------------------------------------------------------------------
// Runs ("clones")

let sdkCache;
function sdk() {
  if (sdkCache) return sdkCache;
  try {
    sdkCache = require("@aws-sdk/client-s3");
  } catch (e) {
    if (e && e.code === "MODULE_NOT_FOUND") {
      throw new Error("s3twin: this needs the peer dependency @aws-sdk/client-s3: npm install @aws-sdk/client-s3");
    }
    throw e;
  }
  return sdkCache;
}

async function createClone(server, options, release) {
  const body = {};
  for (const k of ["runId", "seed", "strict", "chaos", "auth"]) {
    if (options[k] !== undefined) body[k] = options[k];
  }
  const info = await server.adminPost("/_s3twin/runs", body);
  return new Clone(server, info, release);
}

class Clone {
  constructor(server, info, release) {
    this.server = server;
    /** The server's endpoint (`http://127.0.0.1:PORT`); the run's S3 API is under `/t/{runId}`. */
    this.endpoint = server.endpoint;
    this.runId = info.runId;
    /** `endpoint + "/t/" + runId`: what an S3 client of this run uses. */
    this.runEndpoint = `${server.endpoint}/t/${info.runId}`;
    this.accessKeyId = info.accessKeyId;
    this.secretAccessKey = info.secretAccessKey;
    this.region = info.region;
    this._release = release;
    this._client = null;
    this._stopped = false;
  }

  /** A `@aws-sdk/client-s3` S3Client for this run, refusing production-looking AWS calls. */
  client(config = {}) {
    const { allowProduction, ...rest } = config;
    const { S3Client } = sdk();
    const client = new S3Client({
      region: this.region,
      endpoint: this.runEndpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: this.accessKeyId, secretAccessKey: this.secretAccessKey },
      ...rest,
    });
    return refuseProduction(client, { allow: allowProduction });
  }

  /** The AWS_* variables that point a process at this run. */
  env() {
    return {
      AWS_ENDPOINT_URL_S3: this.runEndpoint,
      AWS_ACCESS_KEY_ID: this.accessKeyId,
      AWS_SECRET_ACCESS_KEY: this.secretAccessKey,
      AWS_REGION: this.region,
      AWS_S3_FORCE_PATH_STYLE: "true",
    };
  }

  _s3() {
    if (!this._client) this._client = this.client();
    return this._client;
  }

  async _send(name, input) {
    const Command = sdk()[name];
    return this._s3().send(new Command(input));
  }

  async createBucket(bucket, input = {}) {
    return this._send("CreateBucketCommand", { Bucket: bucket, ...input });
  }

  async putObject(bucket, key, body, input = {}) {
    return this._send("PutObjectCommand", { Bucket: bucket, Key: key, Body: body, ...input });
  }

  /** The object's bytes (a Buffer: `.toString()` for text). */
  async getObject(bucket, key, input = {}) {
    const out = await this._send("GetObjectCommand", { Bucket: bucket, Key: key, ...input });
    return Buffer.from(await out.Body.transformToByteArray());
  }

  /** Every object of the bucket (all pages of ListObjectsV2): `[{Key, Size, ETag, LastModified, …}]`. */
  async list(bucket, { prefix } = {}) {
    const objects = [];
    let token;
    do {
      const page = await this._send("ListObjectsV2Command", {
        Bucket: bucket,
        Prefix: prefix,
        ContinuationToken: token,
      });
      objects.push(...(page.Contents || []));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return objects;
  }

  /**
   * Puts a lifecycle configuration: `{expirationDays, prefix?, id?}` for one expiration rule, or
   * the SDK's `Rules` (an array, or `{Rules}`).
   */
  async putBucketLifecycle(bucket, rules) {
    let list;
    if (Array.isArray(rules)) list = rules;
    else if (rules && Array.isArray(rules.Rules)) list = rules.Rules;
    else if (rules && rules.expirationDays !== undefined) {
      list = [
        {
          ID: rules.id || `expire-after-${rules.expirationDays}-days`,
          Status: "Enabled",
          Filter: { Prefix: rules.prefix || "" },
          Expiration: { Days: rules.expirationDays },
        },
      ];
    } else {
      throw new TypeError("s3twin: putBucketLifecycle takes {expirationDays, prefix?} or a list of rules");
    }
    return this._send("PutBucketLifecycleConfigurationCommand", {
      Bucket: bucket,
      LifecycleConfiguration: { Rules: list },
    });
  }

  /** Moves the run's clock forward ("8d", "36h", "1d12h") and runs what became due. */
  async advanceClock(by) {
    return this.adminPost(`/_s3twin/clock?runId=${this.runId}`, { advance: by });
  }

  /** Sets the run's clock to an instant (a Date or an RFC 3339 string; never backwards). */
  async setClock(instant) {
    const set = instant instanceof Date ? instant.toISOString() : instant;
    return this.adminPost(`/_s3twin/clock?runId=${this.runId}`, { set });
  }

  /** The run's clock: `{runId, now, frozen, rate}`. */
  async clock() {
    return this.adminGet(`/_s3twin/clock?runId=${this.runId}`);
  }

  /** Loads a seed document (or preset name) into the run. */
  async seed(doc) {
    return this.adminPost(`/_s3twin/seed?runId=${this.runId}`, doc);
  }

  /** Empties the run (buckets, objects, clock, logs, chaos rules). */
  async reset() {
    return this.adminPost(`/_s3twin/reset?runId=${this.runId}`);
  }

  /** A presigned URL on the run's clock: `{method: "GET" | "PUT", bucket, key, expiresIn}`. */
  async presign({ method = "GET", bucket, key, expiresIn = 3600 }) {
    const out = await this.adminPost(`/_s3twin/presign?runId=${this.runId}`, { method, bucket, key, expiresIn });
    return out.url;
  }

  /** The run's notification delivery log (filters: bucket, eventName, prefix, status, limit, wait, timeout). */
  async notifications(filters = {}) {
    const out = await this.adminGet(`/_s3twin/notifications?runId=${this.runId}${query(filters)}`);
    return out.notifications;
  }

  /** The run's request log (filters: operation, status, errorCode, since, limit). */
  async requests(filters = {}) {
    const out = await this.adminGet(`/_s3twin/requests?runId=${this.runId}${query(filters)}`);
    return out.entries;
  }

  /** POST to an admin route of the server, e.g. `/_clone/seed?runId=…`; the JSON answer. */
  async adminPost(route, body) {
    return this.server.adminPost(route, body);
  }

  async adminGet(route) {
    return this.server.adminGet(route);
  }

  /** Drops the run; the last clone of a shared server stops it. */
  async stop() {
    if (this._stopped) return;
    this._stopped = true;
    if (this._client) {
      this._client.destroy();
      this._client = null;
    }
    try {
      if (this.server.endpoint) await this.server.adminDelete(`/_s3twin/runs/${this.runId}`);
    } catch (e) {
      if (e.status !== 404) throw e;
    } finally {
      await this._release();
    }
  }
}

// One server per Node process for every clone `s3.start()` made; stopped with the last clone.
let shared = null;

async function release(entry) {
  entry.clones -= 1;
  if (entry.clones === 0) {
    if (shared === entry) shared = null;
    await entry.server.stop();
  }
}

const s3 = {
  /**
   * A new run on this process's shared server (started on first use).
   * @param {{seed?: string | object, runId?: string, port?: number, strict?: boolean,
   *   chaos?: unknown[], auth?: "none" | "enforce"}} [options]
   */
  async start(options = {}) {
    const { port, ...run } = options;
    if (!shared) {
      const server = new S3Server({ port: port === undefined ? 0 : port });
      shared = { server, ready: server.start(), clones: 0 };
    }
    const entry = shared;
    entry.clones += 1;
    try {
      await entry.ready;
      if (port && entry.server.port !== port) {
        throw new Error(`s3twin: the shared server already listens on port ${entry.server.port}, not ${port}`);
      }
      return await createClone(entry.server, run, () => release(entry));
    } catch (e) {
      if (!entry.server.endpoint && shared === entry) shared = null;
      await release(entry);
      throw e;
    }
  },
};

// ---------------------------------------------------------------------------------------------
// Destructive-call refusal

const AWS_HOST = /(^|\.)amazonaws\.com(\.cn)?\.?$/i;

/** True for credentials shaped like real AWS keys: an AKIA/ASIA access key id and a 40-character secret. */
function looksLikeProductionKeys(credentials) {
  return (
    !!credentials &&
    typeof credentials.accessKeyId === "string" &&
    /^(AKIA|ASIA)[A-Z0-9]{16}$/.test(credentials.accessKeyId) &&
    typeof credentials.secretAccessKey === "string" &&
    credentials.secretAccessKey.length === 40
  );
}

class ProductionCallRefused extends Error {
  constructor(message) {
    super(message);
    this.name = "ProductionCallRefused";
  }
}

function allowed(options) {
  return (options && options.allow === true) || process.env.S3TWIN_ALLOW_PRODUCTION === "1";
}

/**
 * A finalizeRequest middleware that refuses requests to `*.amazonaws.com` signed with
 * production-looking keys. `config` is the client's resolved config (for its credentials).
 */
function refusalMiddleware(config, options = {}) {
  return (next, context) => async (args) => {
    const host = (args.request && args.request.hostname) || "";
    if (AWS_HOST.test(host) && !allowed(options)) {
      // The identity the request is signed with (newer SDKs), else the client's credentials.
      const smithy = context && context.__smithy_context;
      let identity = smithy && smithy.selectedHttpAuthScheme && smithy.selectedHttpAuthScheme.identity;
      if (!identity && config && config.credentials) {
        identity = typeof config.credentials === "function" ? await config.credentials() : config.credentials;
      }
      if (looksLikeProductionKeys(identity)) {
        const id = identity.accessKeyId;
        const op = (context && context.commandName) || "a request";
        throw new ProductionCallRefused(
          `s3twin refused to send ${op} to ${host}: the credentials look like real AWS keys ` +
            `(access key id ${id.slice(0, 4)}…${id.slice(-4)} with a 40-character secret), and this ` +
            `client is guarded against reaching AWS from tests. Point it at s3twin (clone.client(), ` +
            `or clone.runEndpoint as its endpoint), or, if you mean to call AWS, allow it: ` +
            `refuseProduction(client, { allow: true }), clone.client({ allowProduction: true }), ` +
            `or the environment variable S3TWIN_ALLOW_PRODUCTION=1.`,
        );
      }
    }
    return next(args);
  };
}

/** Adds the refusal to any S3Client (or other AWS SDK v3 client); returns the client. */
function refuseProduction(client, options = {}) {
  client.middlewareStack.add(refusalMiddleware(client.config, options), {
    step: "finalizeRequest",
    name: "s3twinRefuseProduction",
    priority: "high",
    override: true,
  });
  return client;
}

module.exports = {
  S3Server,
  Clone,
  s3,
  findBinary,
  platformTriple,
  refuseProduction,
  refusalMiddleware,
  looksLikeProductionKeys,
  ProductionCallRefused,
};
