// The shell: the hash router, the navigation, the theme and keyboard shortcuts.
// Routes: #/ runs · #/r/{run} buckets · #/r/{run}/b/{bucket}[?prefix=…&tab=…]
//         #/r/{run}/o/{bucket}/{key}[?versionId=…] · #/r/{run}/clock · #/r/{run}/activity

import { admin } from "./api.js";
import { clear, h, toast } from "./dom.js";
import { runsView } from "./runs.js";

const main = document.getElementById("main");
const nav = document.getElementById("nav");
const crumbs = document.getElementById("crumbs");
const root = document.documentElement;

// Theme: the stored choice, else the system's (prefers-color-scheme, in style.css).
try {
  const t = localStorage.getItem("s3twin-theme");
  if (t) root.dataset.theme = t;
} catch {}
function toggleTheme() {
  const dark = root.dataset.theme
    ? root.dataset.theme === "dark"
    : matchMedia("(prefers-color-scheme: dark)").matches;
  root.dataset.theme = dark ? "light" : "dark";
  try {
    localStorage.setItem("s3twin-theme", root.dataset.theme);
  } catch {}
}
document.getElementById("theme").addEventListener("click", toggleTheme);

export function parseRoute() {
  const raw = location.hash.replace(/^#\/?/, "");
  const [path, qs = ""] = raw.split("?");
  const seg = path.split("/").filter(Boolean).map(decodeURIComponent);
  const q = Object.fromEntries(new URLSearchParams(qs));
  if (seg[0] !== "r" || !seg[1]) return { view: "runs", q };
  const run = seg[1];
  switch (seg[2]) {
    case "b":
      return { view: "bucket", run, bucket: seg[3], q };
    case "o":
      return { view: "object", run, bucket: seg[3], key: seg.slice(4).join("/"), q };
    case "clock":
      return { view: "clock", run, q };
    case "activity":
      return { view: "activity", run, q };
    default:
      return { view: "buckets", run, q };
  }
}

const enc = encodeURIComponent;
export const hrefs = {
  runs: () => "#/",
  run: (run) => `#/r/${enc(run)}`,
  bucket: (run, bucket, q = {}) => {
    const qs = new URLSearchParams(Object.entries(q).filter(([, v]) => v)).toString();
    return `#/r/${enc(run)}/b/${enc(bucket)}${qs ? `?${qs}` : ""}`;
  },
  object: (run, bucket, key, versionId) =>
    `#/r/${enc(run)}/o/${enc(bucket)}/${enc(key)}${versionId ? `?versionId=${enc(versionId)}` : ""}`,
  clock: (run) => `#/r/${enc(run)}/clock`,
  activity: (run) => `#/r/${enc(run)}/activity`,
};

function renderNav(r) {
  const run = r.run;
  const item = (href, label, active, key) =>
    h("a", { href, class: active ? "active" : "", title: `${label} (${key})` }, label);
  clear(
    nav,
    item(hrefs.runs(), "Runs", r.view === "runs", "g r"),
    run && [
      h("span", { class: "sep", text: "/" }),
      h("span", { class: "run-pill mono", text: run, title: "Current run" }),
      item(hrefs.run(run), "Buckets", ["buckets", "bucket", "object"].includes(r.view), "g b"),
      item(hrefs.clock(run), "Clock", r.view === "clock", "g c"),
      item(hrefs.activity(run), "Activity", r.view === "activity", "g a"),
    ],
  );
  const parts = [h("a", { href: hrefs.runs(), text: "runs" })];
  if (run) parts.push(h("a", { href: hrefs.run(run), text: run, class: "mono" }));
  if (r.bucket) parts.push(h("a", { href: hrefs.bucket(run, r.bucket), text: r.bucket, class: "mono" }));
  if (r.view === "bucket" && r.q.prefix) {
    let acc = "";
    for (const p of r.q.prefix.split("/").filter(Boolean)) {
      acc += `${p}/`;
      parts.push(h("a", { href: hrefs.bucket(run, r.bucket, { prefix: acc }), text: `${p}/`, class: "mono" }));
    }
  }
  if (r.view === "object") parts.push(h("span", { class: "mono", text: r.key }));
  if (r.view === "clock" || r.view === "activity") parts.push(h("span", { text: r.view }));
  clear(crumbs, parts.flatMap((p, i) => (i ? [h("span", { class: "sep", text: "›" }), p] : [p])));
}

let current = { dispose() {} };
let generation = 0;

async function render() {
  const r = parseRoute();
  renderNav(r);
  current.dispose?.();
  current = {};
  const gen = ++generation;
  const ctx = {
    route: r,
    hrefs,
    main,
    stale: () => gen !== generation,
    onDispose: (fn) => {
      const prev = current.dispose;
      current.dispose = () => {
        prev?.();
        fn();
      };
    },
  };
  try {
    if (r.view === "runs") return await runsView(ctx);
    // The other views load on first use: the runs page needs only its own module.
    const mod = await import(
      { buckets: "./bucket.js", bucket: "./bucket.js", object: "./object.js", clock: "./clock.js", activity: "./activity.js" }[r.view]
    );
    if (ctx.stale()) return;
    await mod[`${r.view}View`](ctx);
  } catch (e) {
    if (ctx.stale()) return;
    clear(main, h("div", { class: "error-box", role: "alert", text: String(e?.message ?? e) }));
  }
}

window.addEventListener("hashchange", render);

// Keyboard: "g" then r/b/c/a jumps between views, "/" focuses the page's filter, "t" the theme.
let pendingG = false;
document.addEventListener("keydown", (e) => {
  if (e.target.closest("input, textarea, select, [contenteditable]") || e.metaKey || e.ctrlKey || e.altKey) return;
  const run = parseRoute().run;
  if (pendingG) {
    pendingG = false;
    const to = { r: hrefs.runs(), b: run && hrefs.run(run), c: run && hrefs.clock(run), a: run && hrefs.activity(run) }[e.key];
    if (to) location.hash = to;
    return;
  }
  if (e.key === "g") pendingG = true;
  else if (e.key === "t") toggleTheme();
  else if (e.key === "/") {
    const f = main.querySelector("input[data-filter]");
    if (f) {
      e.preventDefault();
      f.focus();
    }
  }
});

admin("health")
  .then((j) => {
    document.getElementById("health").textContent = `v${j.version} · ${j.region} · auth ${j.auth}`;
  })
  .catch((e) => toast(`health: ${e.message}`, "err"));

render();
