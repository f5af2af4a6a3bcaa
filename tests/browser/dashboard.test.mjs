// The dashboard (/_s3twin/ui/) in a real headless Chromium against a running s3twin: a run
// created from a preset, a 2,500-key bucket browsed and paged, an object's metadata checked
// against boto3, a 12 MiB upload through the file input read back with the JS SDK, the clock
// advanced past a lifecycle rule, the live request log, an XSS key rendered as text, a page
// of another origin refused by the admin API's cross-site guard. Screenshots of every view
// in light and dark go to docs/screenshots/.

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import zlib from "node:zlib";

import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadBucketCommand,
  ListObjectsV2Command,
  PutBucketNotificationConfigurationCommand,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { chromium } from "playwright-core";

const EP = (process.env.S3TWIN_ENDPOINT ?? "").replace(/\/+$/, "");
if (!EP) throw new Error("S3TWIN_ENDPOINT is not set: run through tests/browser/run.sh");
const PYTHON = process.env.S3TWIN_PYTHON;
if (!PYTHON) throw new Error("S3TWIN_PYTHON is not set: run through tests/browser/run.sh");
const HERE = path.dirname(new URL(import.meta.url).pathname);
const SHOTS = path.resolve(HERE, "../../docs/screenshots");
const UI = `${EP}/_s3twin/ui/`;

const run = `dash-${crypto.randomBytes(4).toString("hex")}`;
const RUN_EP = `${EP}/t/${run}`;
const s3 = new S3Client({
  region: "us-east-1",
  endpoint: RUN_EP,
  forcePathStyle: true,
  credentials: { accessKeyId: "parlel", secretAccessKey: "parlel" },
});
const XSS = "<img src=x onerror=alert(1)>";
const KEYS = 2500;

let browser;
let context;
let page;
const consoleErrors = [];
const dialogs = [];
const createdRuns = [run];

async function adminPost(route, body) {
  const res = await fetch(`${EP}/_s3twin/${route}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  assert.ok(res.ok, `${route}: ${res.status} ${await res.clone().text()}`);
  return res.json();
}

async function inBatches(items, n, fn) {
  for (let i = 0; i < items.length; i += n) await Promise.all(items.slice(i, i + n).map(fn));
}

before(async () => {
  await adminPost("runs", { runId: run });
  await s3.send(new CreateBucketCommand({ Bucket: "big" }));
  const keys = Array.from({ length: KEYS }, (_, i) => `data/part-${String(i).padStart(5, "0")}.json`);
  await inBatches(keys, 64, (Key) => s3.send(new PutObjectCommand({ Bucket: "big", Key, Body: `{"n":"${Key}"}`, ContentType: "application/json" })));
  for (const Key of ["README.md", `${XSS}.txt`, "logs/2026-12-01.log"]) {
    await s3.send(new PutObjectCommand({ Bucket: "big", Key, Body: `body of ${Key}` }));
  }
  await s3.send(new CreateBucketCommand({ Bucket: "reports" }));
  await s3.send(new PutObjectCommand({
    Bucket: "reports",
    Key: "2026/q4/summary.pdf",
    Body: "%PDF-1.4 quarterly summary",
    ContentType: "application/pdf",
    CacheControl: "max-age=60",
    Metadata: { "invoice-id": "INV-2026-042", owner: "billing team", note: `${XSS}` },
    Tagging: "team=billing&year=2026",
    ChecksumAlgorithm: "CRC32",
  }));

  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  context = await browser.newContext({ viewport: { width: 1360, height: 860 }, colorScheme: "light", deviceScaleFactor: 1 });
  page = await context.newPage();
  page.on("console", (m) => {
    if (m.type() === "error" && !configAnswer(m)) consoleErrors.push(`${m.text()} ${m.location().url}`);
  });
  page.on("pageerror", (e) => consoleErrors.push(String(e)));
  page.on("dialog", (d) => {
    dialogs.push(d.message());
    d.dismiss().catch(() => {});
  });
  fs.mkdirSync(SHOTS, { recursive: true });
});

after(async () => {
  await browser?.close();
  for (const r of createdRuns) await fetch(`${EP}/_s3twin/runs/${r}`, { method: "DELETE" }).catch(() => {});
});

/**
 * Chromium logs every 4xx answer as "Failed to load resource". The configuration editor asks
 * for configurations a bucket does not have (S3's 404 NoSuch…Configuration) and shows the
 * server's refusal of a bad document: those answers, and only those, are expected.
 */
const CONFIG_SUBRESOURCE = /\/t\/dash-[0-9a-f]+\/reports\?(cors|lifecycle|policy|tagging|encryption|website|publicAccessBlock|object-lock)$/;
function configAnswer(m) {
  return /^Failed to load resource: the server responded with a status of 40[04]/.test(m.text()) && CONFIG_SUBRESOURCE.test(m.location().url);
}

/** Screenshots of the page as it is, light and dark. */
async function shoot(name) {
  // Transient toasts are not part of the view.
  await page.evaluate(() => document.getElementById("toast").classList.remove("show"));
  await page.waitForTimeout(200);
  for (const scheme of ["light", "dark"]) {
    await page.emulateMedia({ colorScheme: scheme });
    await page.waitForTimeout(60);
    await page.screenshot({ path: path.join(SHOTS, `${name}-${scheme}.png`) });
  }
  await page.emulateMedia({ colorScheme: "light" });
}

const go = (hash) => page.goto(`${UI}${hash}`);

test("a browser's visit to / lands on the dashboard, and its assets stay within 200 KiB gzipped", async () => {
  await page.goto(`${EP}/`);
  assert.equal(page.url(), UI);
  // Every file the page references, followed from index.html, as served.
  const seen = new Map();
  const queue = ["index.html"];
  while (queue.length) {
    const name = queue.shift();
    if (seen.has(name)) continue;
    const res = await fetch(`${UI}${name}`);
    assert.equal(res.status, 200, name);
    assert.ok(res.headers.get("etag"), `${name} has an ETag`);
    const body = Buffer.from(await res.arrayBuffer());
    seen.set(name, body);
    const text = body.toString("utf8");
    for (const m of text.matchAll(/(?:href|src)="([\w.-]+\.(?:js|css|svg))"|"\.\/([\w.-]+\.js)"|url\("([\w.-]+\.svg)"\)/g)) {
      queue.push(m[1] ?? m[2] ?? m[3]);
    }
  }
  for (const f of ["app.js", "runs.js", "bucket.js", "object.js", "clock.js", "activity.js", "style.css"]) assert.ok(seen.has(f), f);
  const gz = [...seen.values()].reduce((n, b) => n + zlib.gzipSync(b, { level: 9 }).length, 0);
  console.log(`dashboard assets: ${gz} bytes gzipped`);
  assert.ok(gz <= 200 * 1024, `assets are ${gz} bytes gzipped`);
});

test("the runs page renders within 300 ms and creates a run from a preset", async () => {
  // From navigation start to the runs table in the DOM (a mark the page sets), over three
  // loads: the median, since other processes share this machine's two cores.
  const times = [];
  for (let i = 0; i < 3; i++) {
    await go("");
    await page.waitForSelector(`tr[data-run="${run}"]`);
    times.push(await page.evaluate(() => performance.getEntriesByName("s3twin:runs-rendered")[0]?.startTime));
  }
  const rendered = times.sort((a, b) => a - b)[1];
  console.log(`runs page first render: ${times.map((t) => t?.toFixed(1)).join(", ")} ms (median ${rendered?.toFixed(1)})`);
  assert.ok(rendered !== undefined && rendered <= 300, `first render of the runs page at ${times} ms`);
  const row = page.locator(`tr[data-run="${run}"]`);
  assert.match(await row.innerText(), /\b2\b/); // its two buckets

  const made = `made-${crypto.randomBytes(3).toString("hex")}`;
  createdRuns.push(made);
  await page.fill("#create-run input[name=runId]", made);
  await page.selectOption("#create-run select[name=seed]", "invoice-store");
  await page.click("#create-run button[type=submit]");
  await page.waitForSelector(`tr[data-run="${made}"]`);
  const listed = await new S3Client({ region: "us-east-1", endpoint: `${EP}/t/${made}`, forcePathStyle: true, credentials: { accessKeyId: "parlel", secretAccessKey: "parlel" } })
    .send(new ListObjectsV2Command({ Bucket: "invoices" }));
  assert.deepEqual(listed.Contents.map((o) => o.Key), ["2026/inv-001.pdf", "2026/inv-002.pdf", "tmp/inv-003-draft.pdf"]);
});

test("the Invoice PDF lifecycle preset advances the clock and shows what lifecycle removed", async () => {
  await go("");
  await page.waitForSelector(`tr[data-run="${run}"]`);
  await page.click("text=Invoice PDF lifecycle");
  const walk = page.locator("#walkthrough");
  await walk.locator("text=Run created").waitFor();
  const runId = await walk.locator("h3 .copyable .v").first().innerText();
  createdRuns.push(runId);
  await walk.locator("ul.keys li", { hasText: "tmp/inv-003-draft.pdf" }).waitFor();
  await page.click("text=Advance the clock 8 days");
  await walk.locator("ul.keys.removed li", { hasText: "tmp/inv-003-draft.pdf" }).waitFor();
  assert.deepEqual(await walk.locator("ul.keys.kept li").allInnerTexts(), ["2026/inv-001.pdf", "2026/inv-002.pdf"]);
  await shoot("lifecycle");
  // The bucket view no longer lists it either, and neither does an SDK.
  await walk.locator("text=Open the bucket").click();
  await page.locator("tr.folder a", { hasText: "2026/" }).waitFor();
  assert.deepEqual(await page.locator("tr.folder a").allInnerTexts(), ["2026/"]);
  const sdk = new S3Client({ region: "us-east-1", endpoint: `${EP}/t/${runId}`, forcePathStyle: true, credentials: { accessKeyId: "parlel", secretAccessKey: "parlel" } });
  const left = await sdk.send(new ListObjectsV2Command({ Bucket: "invoices" }));
  assert.deepEqual(left.Contents.map((o) => o.Key), ["2026/inv-001.pdf", "2026/inv-002.pdf"]);
});

test("browsing into a prefix and paging through 2,500 keys, a page at a time", async () => {
  const lists = [];
  const onReq = (r) => {
    const u = new URL(r.url());
    if (u.pathname === `/t/${run}/big` && u.searchParams.get("list-type") === "2") lists.push(u.searchParams);
  };
  page.on("request", onReq);
  await go(`#/r/${run}`);
  await page.locator("a", { hasText: "reports" }).waitFor();
  assert.deepEqual(await page.locator("main table a").allInnerTexts(), ["big", "reports"]);
  await shoot("buckets");
  await go(`#/r/${run}/b/big`);
  await page.locator("tr.folder a", { hasText: "logs/" }).waitFor();
  assert.deepEqual(await page.locator("tr.folder a").allInnerTexts(), ["data/", "logs/"]);
  await page.locator("tr.folder a", { hasText: "data/" }).click();
  await page.waitForSelector('tr[data-key="data/part-00000.json"]');
  await page.selectOption("select[name=pageSize]", "250");
  await page.waitForSelector('tr[data-key="data/part-00249.json"]');
  const all = [];
  for (let p = 0; ; p++) {
    const keys = await page.locator("tr[data-key]").evaluateAll((rows) => rows.map((r) => r.dataset.key));
    assert.equal(keys.length, 250, `page ${p + 1}`);
    all.push(...keys);
    if (await page.locator("[data-pager=next]").isDisabled()) break;
    const last = keys.at(-1);
    await page.click("[data-pager=next]");
    await page.waitForFunction((k) => !document.querySelector(`tr[data-key="${k}"]`), last);
  }
  assert.equal(all.length, KEYS);
  assert.equal(new Set(all).size, KEYS);
  assert.deepEqual(all, [...all].sort());
  assert.match(await page.locator(".page-info").innerText(), /Page 10 · 2251–2500 · end/);
  await page.click("[data-pager=prev]");
  await page.waitForSelector('tr[data-key="data/part-02000.json"]');
  page.off("request", onReq);
  // Never the whole bucket: every listing asked for one page under the prefix.
  assert.ok(lists.length >= 11);
  for (const q of lists) assert.ok(Number(q.get("max-keys")) <= 250, q.toString());
  // Search by prefix.
  await page.fill("input[name=prefix]", "data/part-0123");
  await page.press("input[name=prefix]", "Enter");
  await page.waitForFunction(() => document.querySelectorAll("tr[data-key]").length === 10);
  await go(`#/r/${run}/b/big?prefix=data%2F`);
  await page.waitForSelector('tr[data-key="data/part-00099.json"]');
  await shoot("bucket");
});

test("an object's metadata, tags and checksum are what boto3 reads", async () => {
  const key = "2026/q4/summary.pdf";
  await go(`#/r/${run}/o/reports/${encodeURIComponent(key)}`);
  await page.waitForSelector("#metadata dl");
  const shown = await page.evaluate(() => {
    const pairs = (sel) => Object.fromEntries([...document.querySelectorAll(`${sel} dt`)].map((dt) => [dt.textContent, dt.nextElementSibling.querySelector(".v")?.textContent]));
    const cards = Object.fromEntries([...document.querySelectorAll("section.card")].map((c) => [c.querySelector("h2").textContent, c]));
    const of = (title) => Object.fromEntries([...cards[title].querySelectorAll("dt")].map((dt) => [dt.textContent, dt.nextElementSibling.querySelector(".v")?.textContent]));
    return { meta: pairs("#metadata"), system: pairs("#system"), tags: of("Tags"), checks: of("Checksums"), object: of("Object") };
  });
  const { stdout } = await promisify(execFile)(PYTHON, [path.join(HERE, "boto3_head.py"), RUN_EP, "reports", key]);
  const boto = JSON.parse(stdout);
  assert.deepEqual(shown.meta, boto.Metadata);
  assert.equal(shown.meta.note, XSS);
  assert.equal(shown.system["content-type"], boto.ContentType);
  assert.equal(Number(shown.system["content-length"]), boto.ContentLength);
  assert.equal(shown.system.etag, boto.ETag);
  assert.equal(shown.object.ETag, boto.ETag);
  assert.equal(shown.object["Storage class"], boto.StorageClass);
  assert.deepEqual(shown.tags, boto.Tags);
  assert.ok(boto.ChecksumCRC32);
  assert.equal(shown.checks.CRC32, boto.ChecksumCRC32);
  assert.equal(await page.locator("main img").count(), 0);
  // A presigned URL from the admin route, that fetches the object.
  await page.click("text=Copy presigned URL");
  await page.locator("#presigned", { hasText: "X-Amz-Signature=" }).waitFor();
  const url = await page.locator("#presigned").innerText();
  assert.match(url, /X-Amz-Signature=/);
  assert.equal(await (await fetch(url)).text(), "%PDF-1.4 quarterly summary");
  await shoot("object");
});

test("a 12 MiB file uploaded through the file input is read back byte for byte", async () => {
  const body = crypto.randomBytes(12 * 1024 * 1024);
  const parts = [];
  const onReq = (r) => {
    const u = new URL(r.url());
    if (r.method() === "PUT" && u.searchParams.has("partNumber")) parts.push(u.searchParams.get("partNumber"));
  };
  page.on("request", onReq);
  await go(`#/r/${run}/b/big?prefix=uploads%2F`);
  await page.waitForSelector(".drop");
  await page.setInputFiles("#file-input", { name: "blob.bin", mimeType: "application/octet-stream", buffer: body });
  await page.waitForSelector('#upload-progress[data-done="uploads/blob.bin"]', { timeout: 60000 });
  page.off("request", onReq);
  assert.deepEqual(parts, ["1", "2"], "multipart above 8 MiB, in 8 MiB parts");
  assert.equal(await page.locator("#upload-progress .fill").evaluate((e) => e.style.width), "100%");
  const got = await s3.send(new GetObjectCommand({ Bucket: "big", Key: "uploads/blob.bin" }));
  const back = Buffer.from(await got.Body.transformToByteArray());
  assert.equal(back.length, body.length);
  assert.ok(back.equals(body), "the bytes read back are the bytes uploaded");
  assert.match(got.ETag, /-2"$/);
  await page.waitForSelector('tr[data-key="uploads/blob.bin"]');
});

test("the clock view advances the run's clock and shows the lifecycle summary", async () => {
  await s3.send(new PutObjectCommand({ Bucket: "reports", Key: "tmp/scratch.txt", Body: "x" }));
  await fetch(`${RUN_EP}/reports?lifecycle`, {
    method: "PUT",
    headers: { "content-type": "application/xml", "content-md5": crypto.createHash("md5").update(LIFECYCLE).digest("base64") },
    body: LIFECYCLE,
  }).then((r) => assert.equal(r.status, 200));
  await go(`#/r/${run}/clock`);
  await page.waitForSelector("#clock-now:not(:empty)");
  const before = Date.parse((await page.locator("#clock-now").innerText()).replace(" ", "T"));
  await page.click("button:text-is('+8d')");
  await page.waitForSelector('[data-stat="expired"] b');
  assert.equal(await page.locator('[data-stat="expired"] b').innerText(), "1");
  const after = Date.parse((await page.locator("#clock-now").innerText()).replace(" ", "T"));
  assert.ok(after - before >= 8 * 86400e3 - 5000, `${before} → ${after}`);
  const left = await s3.send(new ListObjectsV2Command({ Bucket: "reports" }));
  assert.deepEqual(left.Contents.map((o) => o.Key), ["2026/q4/summary.pdf"]);
  await shoot("clock");
});
const LIFECYCLE = `<LifecycleConfiguration><Rule><ID>tmp</ID><Filter><Prefix>tmp/</Prefix></Filter><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule></LifecycleConfiguration>`;

test("a request shows up in the live request log, a delivery in the notification log", async () => {
  // A webhook that answers 500 once, then 200: the delivery log has two attempts.
  let calls = 0;
  const hook = http.createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      calls++;
      res.writeHead(calls === 2 ? 500 : 200).end();
    });
  });
  await new Promise((r) => hook.listen(0, "127.0.0.1", r));
  const arn = "arn:aws:sqs:us-east-1:000000000000:dashboard-jobs";
  try {
    await adminPost(`webhooks?runId=${run}`, { arn, url: `http://127.0.0.1:${hook.address().port}/hook` });
    await s3.send(new CreateBucketCommand({ Bucket: "events" }));
    await s3.send(new PutBucketNotificationConfigurationCommand({
      Bucket: "events",
      NotificationConfiguration: { QueueConfigurations: [{ Id: "jobs", QueueArn: arn, Events: ["s3:ObjectCreated:*"] }] },
    }));
    await s3.send(new PutObjectCommand({ Bucket: "events", Key: "in/job-1.json", Body: "{}" }));
    const settled = await (await fetch(`${EP}/_s3twin/notifications?runId=${run}&eventName=ObjectCreated:*&wait=1&timeout=20s`)).json();
    assert.equal(settled.notifications[0].status, "delivered", JSON.stringify(settled));
    await go(`#/r/${run}/activity`);
    const delivery = page.locator("details.delivery", { hasText: "in/job-1.json" });
    await delivery.waitFor();
    assert.match(await delivery.locator("summary").first().innerText(), /delivered/);
    await delivery.locator("summary").first().click();
    assert.equal(await delivery.locator("tbody tr").count(), settled.notifications[0].attempts.length);
    assert.equal(settled.notifications[0].attempts.length, 2);
  } finally {
    hook.close();
  }

  await page.waitForSelector("#live-state.on");
  await s3.send(new PutObjectCommand({ Bucket: "big", Key: "live/probe.txt", Body: "tail me" }));
  const row = page.locator('tr[data-op="PutObject"]', { hasText: "big/live/probe.txt" });
  await row.waitFor();
  assert.match(await row.innerText(), /200/);
  // A filter reconnects the tail with the server's filter.
  await page.fill("input[name=operation]", "HeadBucket");
  await page.press("input[name=operation]", "Enter");
  await page.waitForSelector("#live-state.on");
  await s3.send(new HeadBucketCommand({ Bucket: "big" }));
  await page.locator('tr[data-op="HeadBucket"]').first().waitFor();
  assert.equal(await page.locator('tr[data-op="PutObject"]').count(), 0);
  await page.fill("input[name=operation]", "");
  await page.press("input[name=operation]", "Enter");
  await page.locator('tr[data-op="PutObject"]').first().waitFor();
  await shoot("activity");
});

test("a key made of HTML is shown as text and runs nothing", async () => {
  await go(`#/r/${run}/b/big`);
  const link = page.locator("a.key", { hasText: "onerror" });
  await link.waitFor();
  assert.equal(await link.innerText(), `${XSS}.txt`);
  assert.equal(await page.locator("main img").count(), 0);
  await link.click();
  await page.waitForSelector(".object-title");
  assert.equal(await page.locator(".object-title .v").innerText(), `${XSS}.txt`);
  assert.equal(await page.locator("main img").count(), 0);
  await page.waitForTimeout(200);
  assert.deepEqual(dialogs, [], "no dialog opened");
});

test("versioning from the page, versions with delete markers, and the configuration editor", async () => {
  await go(`#/r/${run}/b/reports`);
  await page.click("text=Enable versioning");
  await page.waitForSelector("text=versioning: Enabled");
  for (const body of ["one", "two"]) await s3.send(new PutObjectCommand({ Bucket: "reports", Key: "notes.txt", Body: body }));
  await fetch(`${RUN_EP}/reports/notes.txt`, { method: "DELETE" });
  await go(`#/r/${run}/b/reports?tab=versions`);
  const rows = page.locator('tr[data-key="notes.txt"]');
  await rows.nth(2).waitFor();
  assert.equal(await rows.count(), 3);
  const marker = page.locator('tr.marker[data-key="notes.txt"]');
  assert.match(await marker.innerText(), /delete marker/);
  assert.match(await marker.innerText(), /latest/);
  await shoot("versions");

  // A document S3 refuses: the page shows the server's error as it came.
  const bad = "<CORSConfiguration><CORSRule><AllowedMethod>FOO</AllowedMethod><AllowedOrigin>*</AllowedOrigin></CORSRule></CORSConfiguration>";
  await go(`#/r/${run}/b/reports?tab=config`);
  await page.click(".config-list >> text=CORS");
  await page.waitForSelector("text=not set");
  await page.fill("textarea.editor", bad);
  await page.click("text=Save CORS");
  const box = page.locator(".error-box");
  await box.waitFor();
  const direct = await (await fetch(`${RUN_EP}/reports?cors`, { method: "PUT", body: bad, headers: { "content-md5": crypto.createHash("md5").update(bad).digest("base64") } })).text();
  const pick = (xml, n) => xml.match(new RegExp(`<${n}>([^<]*)</${n}>`))?.[1];
  const shown = await box.locator("pre").innerText();
  assert.equal(pick(shown, "Code"), pick(direct, "Code"));
  assert.equal(pick(shown, "Message"), pick(direct, "Message"));
  assert.equal(pick(shown, "Code"), "InvalidRequest");
  // A good one is stored, as an SDK reads it back.
  await page.click(".config-list >> text=Lifecycle");
  await page.waitForFunction(() => document.querySelector("textarea.editor")?.value.includes("<Days>1</Days>"));
  await page.fill("textarea.editor", LIFECYCLE.replace("<Days>1</Days>", "<Days>30</Days>"));
  await page.click("text=Save Lifecycle");
  await page.waitForFunction(() => document.querySelector("textarea.editor")?.value.includes("<Days>30</Days>") && document.body.innerText.includes("GET ?lifecycle"));
  const lc = await fetch(`${RUN_EP}/reports?lifecycle`).then((r) => r.text());
  assert.equal(pick(lc, "Days"), "30");
  await shoot("config");
});

test("a page of another origin cannot reset, seed or create runs", async () => {
  const evil = http.createServer((req, res) => {
    res.writeHead(200, { "content-type": "text/html" });
    res.end(`<!doctype html><form id=f method=post action="${EP}/_s3twin/reset?runId=${run}"><input name=a value=b></form>`);
  });
  await new Promise((r) => evil.listen(0, "127.0.0.1", r));
  const origin = `http://127.0.0.1:${evil.address().port}`;
  const other = await context.newPage();
  const victim = `evil-${crypto.randomBytes(3).toString("hex")}`;
  try {
    await other.goto(`${origin}/`);
    const statuses = await other.evaluate(async ({ ep, run, victim }) => {
      const out = [];
      for (const [url, init] of [
        [`${ep}/_s3twin/reset?runId=${run}`, { method: "POST", mode: "no-cors" }],
        [`${ep}/_s3twin/reset`, { method: "POST", mode: "no-cors", body: "x" }],
        [`${ep}/_s3twin/runs`, { method: "POST", mode: "no-cors", body: JSON.stringify({ runId: victim }) }],
        [`${ep}/_s3twin/seed?runId=${run}`, { method: "POST", mode: "no-cors", body: '"invoice-store"' }],
        [`${ep}/_s3twin/runs/${run}`, { method: "DELETE", mode: "no-cors" }],
      ]) {
        out.push(await fetch(url, init).then((r) => r.type, (e) => String(e)));
      }
      return out;
    }, { ep: EP, run, victim });
    assert.equal(statuses.length, 5);
    await Promise.all([other.waitForNavigation(), other.evaluate(() => document.getElementById("f").submit())]);
    assert.match(await other.content(), /refused/);
  } finally {
    await other.close();
    evil.close();
  }
  // The run survived with its buckets and objects; nothing was created or seeded.
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: "big", Prefix: "data/", MaxKeys: 1000 }));
  assert.equal(listed.KeyCount, 1000);
  await s3.send(new HeadBucketCommand({ Bucket: "reports" }));
  await assert.rejects(s3.send(new HeadBucketCommand({ Bucket: "invoices" })));
  const runs = await (await fetch(`${EP}/_s3twin/runs`)).json();
  assert.ok(!runs.runs.some((r) => r.runId === victim), "no run was created");
  assert.ok(runs.runs.some((r) => r.runId === run), "the run still exists");
});

test("a run that enforces signatures is browsed and written with SigV4 signed in the page", async () => {
  const strictRun = `signed-${crypto.randomBytes(3).toString("hex")}`;
  createdRuns.push(strictRun);
  await adminPost("runs", { runId: strictRun, auth: "enforce" });
  // Its clock is 2 days ahead: the page must sign at the run's time, not the browser's.
  await adminPost(`clock?runId=${strictRun}`, { advance: "2d" });
  const signed = new S3Client({ region: "us-east-1", endpoint: `${EP}/t/${strictRun}`, forcePathStyle: true, credentials: { accessKeyId: "parlel", secretAccessKey: "parlel" }, systemClockOffset: 2 * 86400e3 });
  const key = "odd names/a b!(x)*'~.txt";
  await signed.send(new CreateBucketCommand({ Bucket: "locked" }));
  await signed.send(new PutObjectCommand({ Bucket: "locked", Key: key, Body: "signed body", Metadata: { stage: "two" } }));
  assert.equal((await fetch(`${EP}/t/${strictRun}/locked?list-type=2`)).status, 403, "unsigned requests are refused");

  await go(`#/r/${strictRun}/b/locked`);
  await page.locator("tr.folder a", { hasText: "odd names/" }).click();
  await page.waitForSelector(`tr[data-key="${key}"]`);
  assert.match(await page.locator(".note").innerText(), /signs its requests/);
  await page.locator("a.key").click();
  await page.waitForSelector("#metadata dl");
  assert.equal(await page.locator("#metadata dd .v").innerText(), "two");
  await go(`#/r/${strictRun}/b/locked?prefix=up%2F`);
  await page.waitForSelector(".drop");
  await page.setInputFiles("#file-input", { name: "s.txt", mimeType: "text/plain", buffer: Buffer.from("from the page") });
  await page.waitForSelector('#upload-progress[data-done="up/s.txt"]');
  const got = await signed.send(new GetObjectCommand({ Bucket: "locked", Key: "up/s.txt" }));
  assert.equal(await got.Body.transformToString(), "from the page");
  assert.equal(await page.locator(".error-box").count(), 0);
});

test("the runs page shows each run's clock offset, frozen clock, strict mode and chaos rules", async () => {
  const flaky = `flaky-${crypto.randomBytes(3).toString("hex")}`;
  createdRuns.push(flaky);
  await adminPost("runs", { runId: flaky, strict: true, chaos: ["slow_put"] });
  await adminPost(`clock?runId=${flaky}`, { freeze: true });
  await go("");
  const row = page.locator(`tr[data-run="${flaky}"]`);
  await row.waitFor();
  const text = await row.innerText();
  assert.match(text, /strict/);
  assert.match(text, /1 rule/);
  assert.match(text, /frozen/);
  // The test run's clock was moved 8 days on the clock view.
  assert.match(await page.locator(`tr[data-run="${run}"]`).innerText(), /\+8d/);
  await shoot("runs");
});

test("no console errors during the whole session", () => {
  assert.deepEqual(consoleErrors, []);
});
