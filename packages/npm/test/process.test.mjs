// The server never outlives the Node process that started it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const alive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function gone(pid, ms = 5000) {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (!alive(pid)) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return false;
}

// A Node process that starts a clone, prints the server's pid, then does what `rest` says.
function child(rest) {
  const code = `import { s3 } from "s3twin";
const clone = await s3.start();
console.log("pid " + clone.server.pid);
${rest}`;
  return spawn(process.execPath, ["--input-type=module", "-e", code], { stdio: ["ignore", "pipe", "inherit"] });
}

function serverPid(proc) {
  return new Promise((resolve, reject) => {
    let out = "";
    proc.stdout.on("data", (d) => {
      out += d;
      const m = /pid (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    proc.once("exit", (code) => reject(new Error(`child exited (${code}) before starting: ${out}`)));
  });
}

test("kill -9 of the Node process leaves no s3twin running", async () => {
  const proc = child("setInterval(() => {}, 1000);");
  const pid = await serverPid(proc);
  assert.ok(alive(pid));
  proc.kill("SIGKILL");
  assert.ok(await gone(pid), `s3twin ${pid} still running after its Node process was killed`);
});

test("a Node process that ends without stop() takes its server with it", async () => {
  const proc = child("");
  const pid = await serverPid(proc);
  const code = await new Promise((r) => proc.once("exit", r));
  assert.equal(code, 0);
  assert.ok(await gone(pid), `s3twin ${pid} still running after its Node process ended`);
});

test("a Node process that throws takes its server with it", async () => {
  const proc = child("throw new Error('test runner crashed');");
  const pid = await serverPid(proc);
  const code = await new Promise((r) => proc.once("exit", r));
  assert.notEqual(code, 0);
  assert.ok(await gone(pid));
});

test("with no binary anywhere, the error names all three places", () => {
  // The package file alone, where no platform package resolves, with an empty PATH.
  const dir = mkdtempSync(join(tmpdir(), "s3twin-nobin-"));
  try {
    copyFileSync(createRequire(import.meta.url).resolve("s3twin"), join(dir, "index.cjs"));
    const r = spawnSync(
      process.execPath,
      ["-e", `try { require(${JSON.stringify(join(dir, "index.cjs"))}).findBinary() } catch (e) { console.log(e.message) }`],
      { env: { PATH: "" }, encoding: "utf8" },
    );
    assert.match(r.stdout, /S3TWIN_BINARY/);
    assert.match(r.stdout, /@s3twin\/linux-x64-gnu \(not installed\)|@s3twin\/[a-z0-9-]+ \(not installed\)/);
    assert.match(r.stdout, /s3twin on PATH \(not found\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("S3TWIN_BINARY that is not a binary is an error", () => {
  const r = spawnSync(
    process.execPath,
    ["--input-type=module", "-e", `import { findBinary } from "s3twin"; try { findBinary() } catch (e) { console.log(e.message) }`],
    { env: { ...process.env, S3TWIN_BINARY: "/nonexistent/s3twin" }, encoding: "utf8" },
  );
  assert.match(r.stdout, /S3TWIN_BINARY=\/nonexistent\/s3twin is not an executable file/);
});
