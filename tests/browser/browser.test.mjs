// A real headless Chromium against s3twin. A page served from another origin (a static
// server on its own port) uploads with a presigned PUT through fetch (a CORS preflight),
// reads the exposed ETag and the object back, and uploads through an HTML form POST built
// from @aws-sdk/s3-presigned-post; the same page is refused when the bucket's CORS rules do
// not name its origin. A bucket configured as a website is browsed on its website endpoint.

import assert from "node:assert/strict";
import crypto from "node:crypto";
import http from "node:http";
import { after, before, test } from "node:test";

import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutBucketCorsCommand,
  PutBucketWebsiteCommand,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { createPresignedPost } from "@aws-sdk/s3-presigned-post";
import { chromium } from "playwright-core";

const EP = (process.env.S3TWIN_ENDPOINT ?? "").replace(/\/+$/, "");
if (!EP) throw new Error("S3TWIN_ENDPOINT is not set: run through tests/browser/run.sh");
const S3_PORT = Number(new URL(EP).port || 80);
const runId = `browser-${crypto.randomBytes(4).toString("hex")}`;
const RUN_EP = `${EP}/t/${runId}`;
const s3 = new S3Client({
  region: "us-east-1",
  endpoint: RUN_EP,
  forcePathStyle: true,
  credentials: { accessKeyId: "parlel", secretAccessKey: "parlel" },
});

const PAGE = `<!doctype html><html><head><title>app</title></head><body>
<form id="upload" method="post" enctype="multipart/form-data"></form></body></html>`;

let pageServer;
let ORIGIN;
let browser;
let page;

before(async () => {
  pageServer = http.createServer((req, res) => {
    res.writeHead(200, { "content-type": "text/html" });
    res.end(req.url.startsWith("/done") ? "<p id=done>uploaded</p>" : PAGE);
  });
  await new Promise((r) => pageServer.listen(0, "127.0.0.1", r));
  ORIGIN = `http://127.0.0.1:${pageServer.address().port}`;
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  page = await browser.newPage();
});

after(async () => {
  await browser?.close();
  pageServer?.close();
  await fetch(`${EP}/_s3twin/reset?runId=${runId}`, { method: "POST" }).catch(() => {});
});

async function bucketWithCors(origin) {
  const Bucket = `web-${crypto.randomBytes(5).toString("hex")}`;
  await s3.send(new CreateBucketCommand({ Bucket }));
  await s3.send(
    new PutBucketCorsCommand({
      Bucket,
      CORSConfiguration: {
        CORSRules: [
          {
            AllowedOrigins: [origin],
            AllowedMethods: ["GET", "PUT", "POST"],
            AllowedHeaders: ["*"],
            ExposeHeaders: ["ETag"],
            MaxAgeSeconds: 60,
          },
        ],
      },
    }),
  );
  return Bucket;
}

async function presign(method, bucket, key) {
  const res = await fetch(`${EP}/_s3twin/presign?runId=${runId}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ method, bucket, key, expiresIn: 600 }),
  });
  assert.equal(res.status, 200);
  return (await res.json()).url;
}

/** In the page: PUT through a presigned URL, then GET it back. */
function putAndRead(urls, body) {
  return page.evaluate(
    async ({ putUrl, getUrl, body }) => {
      try {
        const put = await fetch(putUrl, {
          method: "PUT",
          body,
          headers: { "content-type": "text/plain" },
        });
        const etag = put.headers.get("etag");
        const got = await fetch(getUrl);
        return { status: put.status, etag, text: await got.text() };
      } catch (e) {
        return { error: String(e) };
      }
    },
    { ...urls, body },
  );
}

test("presigned PUT through fetch, with the bucket's CORS rules", async () => {
  await page.goto(`${ORIGIN}/app`);
  const Bucket = await bucketWithCors(ORIGIN);
  const body = "hello from the browser";
  const out = await putAndRead(
    { putUrl: await presign("PUT", Bucket, "note.txt"), getUrl: await presign("GET", Bucket, "note.txt") },
    body,
  );
  assert.equal(out.error, undefined, out.error);
  assert.equal(out.status, 200);
  assert.equal(out.etag, `"${crypto.createHash("md5").update(body).digest("hex")}"`);
  assert.equal(out.text, body);
});

test("the same page is refused when the rules name another origin", async () => {
  await page.goto(`${ORIGIN}/app`);
  const Bucket = await bucketWithCors("https://app.example.com");
  const out = await putAndRead(
    { putUrl: await presign("PUT", Bucket, "x.txt"), getUrl: await presign("GET", Bucket, "x.txt") },
    "refused",
  );
  assert.match(out.error ?? "", /TypeError/);
  await assert.rejects(s3.send(new HeadObjectCommand({ Bucket, Key: "x.txt" })));
});

test("an HTML form POST built by createPresignedPost uploads the file", async () => {
  const Bucket = await bucketWithCors(ORIGIN);
  const post = await createPresignedPost(s3, {
    Bucket,
    Key: "uploads/${filename}",
    Conditions: [
      ["starts-with", "$key", "uploads/"],
      ["content-length-range", 1, 1024],
      ["starts-with", "$success_action_redirect", ORIGIN],
    ],
    Fields: { success_action_redirect: `${ORIGIN}/done` },
    Expires: 300,
  });
  await page.goto(`${ORIGIN}/app`);
  await page.evaluate(
    ({ url, fields }) => {
      const form = document.getElementById("upload");
      form.action = url;
      for (const [name, value] of Object.entries(fields)) {
        const input = document.createElement("input");
        input.type = "hidden";
        input.name = name;
        input.value = value;
        form.appendChild(input);
      }
      const file = document.createElement("input");
      file.type = "file";
      file.name = "file";
      file.id = "file";
      form.appendChild(file);
    },
    post,
  );
  await page.setInputFiles("#file", {
    name: "photo.txt",
    mimeType: "text/plain",
    buffer: Buffer.from("form bytes"),
  });
  await Promise.all([page.waitForURL(`${ORIGIN}/done**`), page.evaluate(() => document.getElementById("upload").submit())]);
  const landed = new URL(page.url());
  assert.equal(landed.searchParams.get("bucket"), Bucket);
  assert.equal(landed.searchParams.get("key"), "uploads/photo.txt");
  assert.equal(
    landed.searchParams.get("etag"),
    `"${crypto.createHash("md5").update("form bytes").digest("hex")}"`,
  );
  const got = await s3.send(new GetObjectCommand({ Bucket, Key: "uploads/photo.txt" }));
  assert.equal(await got.Body.transformToString(), "form bytes");
});

test("a website bucket browsed on its website endpoint", async () => {
  const Bucket = `site-${crypto.randomBytes(5).toString("hex")}`;
  await s3.send(new CreateBucketCommand({ Bucket }));
  await s3.send(
    new PutBucketWebsiteCommand({
      Bucket,
      WebsiteConfiguration: {
        IndexDocument: { Suffix: "index.html" },
        ErrorDocument: { Key: "error.html" },
        RoutingRules: [
          { Condition: { KeyPrefixEquals: "old/" }, Redirect: { ReplaceKeyPrefixWith: "docs/" } },
        ],
      },
    }),
  );
  const put = (Key, Body) =>
    s3.send(new PutObjectCommand({ Bucket, Key, Body, ContentType: "text/html" }));
  await put("index.html", "<h1 id=t>home</h1>");
  await put("docs/index.html", "<h1 id=t>docs</h1>");
  await put("error.html", "<h1 id=t>not here</h1>");
  const site = `http://${Bucket}.s3-website.localhost:${S3_PORT}/t/${runId}`;

  let res = await page.goto(`${site}/`);
  assert.equal(res.status(), 200);
  assert.equal(await page.textContent("#t"), "home");
  res = await page.goto(`${site}/docs`);
  assert.equal(new URL(page.url()).pathname, `/t/${runId}/docs/`);
  assert.equal(await page.textContent("#t"), "docs");
  res = await page.goto(`${site}/old/`);
  assert.equal(new URL(page.url()).pathname, `/t/${runId}/docs/`);
  assert.equal(await page.textContent("#t"), "docs");
  res = await page.goto(`${site}/nowhere.html`);
  assert.equal(res.status(), 404);
  assert.equal(await page.textContent("#t"), "not here");
});
