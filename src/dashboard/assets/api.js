// The twin as a client sees it: the admin API (JSON) and the S3 REST API of a run
// (`/t/{run}/…`: unsigned, which `--auth none` accepts, or signed in the page for runs that
// enforce signatures, see sign.js). S3 errors keep their XML.

import { awsEncode, canSign, sign } from "./sign.js";

export const PART_SIZE = 8 * 1024 * 1024;

export class S3Failure extends Error {
  constructor(status, code, message, xml) {
    super(`${code}: ${message}`);
    Object.assign(this, { status, code, message, xml });
  }
}

export async function admin(route, { method = "GET", body, run } = {}) {
  const q = run ? `${route.includes("?") ? "&" : "?"}runId=${encodeURIComponent(run)}` : "";
  const res = await fetch(`/_s3twin/${route}${q}`, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(json.error ?? `${res.status} ${res.statusText}`);
  return json;
}

export const encKey = (key) => key.split("/").map(awsEncode).join("/");

export function s3url(run, bucket, key, query) {
  let u = `/t/${awsEncode(run)}/`;
  if (bucket) u += awsEncode(bucket);
  if (key !== undefined && key !== null) u += `/${encKey(key)}`;
  if (query) {
    const qs = Object.entries(query)
      .filter(([, v]) => v !== undefined && v !== null)
      .map(([k, v]) => (v === "" ? awsEncode(k) : `${awsEncode(k)}=${awsEncode(v)}`))
      .join("&");
    if (qs) u += `?${qs}`;
  }
  return u;
}

const parser = new DOMParser();

export function parseXml(text) {
  return parser.parseFromString(text, "application/xml");
}

async function failure(res) {
  const text = await res.text();
  if (!text) return new S3Failure(res.status, `${res.status}`, res.statusText || "(no body)", "");
  const doc = parseXml(text);
  const pick = (n) => doc.getElementsByTagName(n)[0]?.textContent ?? "";
  return new S3Failure(res.status, pick("Code") || `${res.status}`, pick("Message"), text);
}

const modes = new Map();
/** The run's auth mode and region (from the health route), asked once per run. */
export function runAuth(run) {
  if (!modes.has(run)) modes.set(run, admin("health", { run }).catch(() => ({ auth: "none", region: "us-east-1" })));
  return modes.get(run);
}

const clocks = new Map();
/** The run's now (ms): signatures are judged against the run's clock, not real time. */
async function runNow(run) {
  let c = clocks.get(run);
  if (!c || Date.now() - c.fetched > 5000) {
    const j = await admin("clock", { run });
    c = { now: Date.parse(j.now), frozen: j.frozen, rate: j.rate, fetched: Date.now() };
    clocks.set(run, c);
  }
  return c.frozen ? c.now : c.now + (Date.now() - c.fetched) * c.rate;
}
/** Called when the page moved a run's clock. */
export const forgetClock = (run) => clocks.delete(run);

/** The headers that sign `method url` for an enforcing run (none for other runs). */
export async function signing(run, method, url, headers = {}) {
  const { auth, region } = await runAuth(run);
  if (auth !== "enforce" || !canSign()) return {};
  const [path, query = ""] = url.split("?");
  return sign({ method, path, query, headers, region, at: await runNow(run) });
}

/** One S3 request; resolves to the Response, throws S3Failure on an error status. */
export async function s3(run, method, bucket, key, { query, headers = {}, body } = {}) {
  const url = s3url(run, bucket, key, query);
  const send = async () => fetch(url, { method, headers: { ...headers, ...(await signing(run, method, url, headers)) }, body });
  let res = await send();
  if (res.status === 403 && clocks.has(run)) {
    // The run's clock may have been moved by someone else: sign again at its new time.
    const again = res.clone();
    if ((await again.text()).includes("<Code>RequestTimeTooSkewed</Code>")) {
      forgetClock(run);
      res = await send();
    }
  }
  if (!res.ok && res.status !== 304) throw await failure(res);
  return res;
}

export async function s3xml(run, method, bucket, key, opts) {
  const res = await s3(run, method, bucket, key, opts);
  const text = await res.text();
  return { res, text, doc: text ? parseXml(text) : null };
}

/** Children of `el` named `name` (direct children only). */
export const kids = (el, name) => [...(el?.children ?? [])].filter((c) => c.localName === name);
export const txt = (el, name) => kids(el, name)[0]?.textContent;

export async function listBuckets(run) {
  const { doc } = await s3xml(run, "GET", null, null);
  return [...doc.getElementsByTagName("Bucket")].map((b) => ({
    name: txt(b, "Name"),
    created: txt(b, "CreationDate"),
  }));
}

export async function listObjects(run, bucket, { prefix, delimiter, token, maxKeys = 100 }) {
  const { doc } = await s3xml(run, "GET", bucket, null, {
    query: {
      "list-type": "2",
      prefix: prefix || undefined,
      delimiter: delimiter || undefined,
      "max-keys": String(maxKeys),
      "continuation-token": token || undefined,
    },
  });
  const root = doc.documentElement;
  return {
    objects: kids(root, "Contents").map((c) => ({
      key: txt(c, "Key"),
      size: Number(txt(c, "Size")),
      modified: txt(c, "LastModified"),
      etag: txt(c, "ETag"),
      storageClass: txt(c, "StorageClass"),
    })),
    prefixes: kids(root, "CommonPrefixes").map((p) => txt(p, "Prefix")),
    truncated: txt(root, "IsTruncated") === "true",
    next: txt(root, "NextContinuationToken"),
    count: Number(txt(root, "KeyCount") ?? 0),
  };
}

export async function listVersions(run, bucket, { prefix, keyMarker, versionMarker, maxKeys = 100 }) {
  const { doc } = await s3xml(run, "GET", bucket, null, {
    query: {
      versions: "",
      prefix: prefix || undefined,
      "key-marker": keyMarker || undefined,
      "version-id-marker": versionMarker || undefined,
      "max-keys": String(maxKeys),
    },
  });
  const root = doc.documentElement;
  const rows = [...root.children]
    .filter((c) => c.localName === "Version" || c.localName === "DeleteMarker")
    .map((v) => ({
      marker: v.localName === "DeleteMarker",
      key: txt(v, "Key"),
      versionId: txt(v, "VersionId"),
      latest: txt(v, "IsLatest") === "true",
      modified: txt(v, "LastModified"),
      size: v.localName === "Version" ? Number(txt(v, "Size")) : undefined,
      etag: txt(v, "ETag"),
      storageClass: txt(v, "StorageClass"),
    }));
  return {
    rows,
    truncated: txt(root, "IsTruncated") === "true",
    nextKey: txt(root, "NextKeyMarker"),
    nextVersion: txt(root, "NextVersionIdMarker"),
  };
}

async function sha256b64(body) {
  if (!globalThis.crypto?.subtle) return null;
  const buf = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(body));
  return btoa(String.fromCharCode(...new Uint8Array(buf)));
}

/** PUT of an XML (or JSON) document, with a SHA-256 checksum (some routes require one). */
export async function putDoc(run, bucket, key, query, body, type = "application/xml") {
  const headers = { "content-type": type };
  const sum = await sha256b64(body);
  if (sum) headers["x-amz-checksum-sha256"] = sum;
  return s3(run, "PUT", bucket, key, { query, headers, body });
}

/** An XHR PUT, for its upload progress events. Resolves to the response ETag. */
function xhrPut(url, body, headers, onProgress) {
  return new Promise((resolve, reject) => {
    const x = new XMLHttpRequest();
    x.open("PUT", url);
    for (const [k, v] of Object.entries(headers)) x.setRequestHeader(k, v);
    x.upload.onprogress = (e) => onProgress(e.loaded);
    x.onload = () => {
      if (x.status >= 200 && x.status < 300) return resolve(x.getResponseHeader("etag"));
      const doc = parseXml(x.responseText || "<Error/>");
      const pick = (n) => doc.getElementsByTagName(n)[0]?.textContent ?? "";
      reject(new S3Failure(x.status, pick("Code") || `${x.status}`, pick("Message"), x.responseText));
    };
    x.onerror = () => reject(new Error("network error during upload"));
    x.send(body);
  });
}

/** Uploads a File: one PUT up to 8 MiB, multipart above (8 MiB parts). */
export async function upload(run, bucket, key, file, onProgress = () => {}) {
  const type = file.type || "application/octet-stream";
  const put = async (url, body, headers, progress) => xhrPut(url, body, { ...headers, ...(await signing(run, "PUT", url, headers)) }, progress);
  if (file.size <= PART_SIZE) {
    await put(s3url(run, bucket, key), file, { "content-type": type }, (n) => onProgress(n, file.size));
    onProgress(file.size, file.size);
    return { parts: 0 };
  }
  const { doc } = await s3xml(run, "POST", bucket, key, { query: { uploads: "" }, headers: { "content-type": type } });
  const uploadId = doc.getElementsByTagName("UploadId")[0]?.textContent;
  const etags = [];
  let done = 0;
  try {
    for (let n = 1, off = 0; off < file.size; n++, off += PART_SIZE) {
      const part = file.slice(off, Math.min(off + PART_SIZE, file.size));
      const url = s3url(run, bucket, key, { partNumber: String(n), uploadId });
      etags.push(await put(url, part, {}, (loaded) => onProgress(done + loaded, file.size)));
      done += part.size;
      onProgress(done, file.size);
    }
  } catch (e) {
    await s3(run, "DELETE", bucket, key, { query: { uploadId } }).catch(() => {});
    throw e;
  }
  const xml = `<CompleteMultipartUpload>${etags
    .map((e, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${e}</ETag></Part>`)
    .join("")}</CompleteMultipartUpload>`;
  await s3(run, "POST", bucket, key, { query: { uploadId }, headers: { "content-type": "application/xml" }, body: xml });
  return { parts: etags.length };
}

/** Escapes text for an XML document the page builds. */
export const xmlText = (s) =>
  String(s).replace(/[<>&'"]/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", "'": "&apos;", '"': "&quot;" })[c]);
