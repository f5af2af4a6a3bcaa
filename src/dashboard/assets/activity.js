// Activity: the request log as a live tail (Server-Sent Events) with filters, the
// notification delivery log with each attempt, and the run's chaos rules.

import { admin } from "./api.js";
import { badge, button, clear, copyable, errorBox, fmtBytes, h, section, table, toast } from "./dom.js";
import { confirmButton } from "./runs.js";

const MAX_ROWS = 500;
const PRESETS = ["slow_put", "503_restore", "lifecycle_early_delete"];

export async function activityView(ctx) {
  const { main, route } = ctx;
  const run = route.run;
  const requests = h("div");
  const notes = h("div");
  const chaos = h("div");
  clear(main,
    h("div", { class: "page-head" }, h("h1", {}, "Activity ", h("span", { class: "muted mono", text: run }))),
    requests, h("div", { class: "cards two" }, notes, chaos));
  requestLog(ctx, requests);
  notifications(ctx, notes);
  chaosRules(ctx, chaos);
}

function statusBadge(s) {
  return badge(String(s), s >= 500 ? "err" : s >= 400 ? "warn" : "ok");
}

function requestLog(ctx, box) {
  const run = ctx.route.run;
  const op = h("input", { name: "operation", placeholder: "operation, e.g. PutObject", class: "mono", "data-filter": "" });
  const status = h("select", { name: "status" }, ["", "2xx", "3xx", "4xx", "5xx"].map((s) => h("option", { value: s, text: s || "any status" })));
  const code = h("input", { name: "errorCode", placeholder: "error code", class: "mono", size: 14 });
  const text = h("input", { name: "text", placeholder: "bucket / key contains", class: "mono" });
  const showAdmin = h("input", { type: "checkbox", name: "admin" });
  const live = h("span", { class: "live", id: "live-state", text: "connecting" });
  const tbody = h("tbody");
  const empty = h("div", { class: "empty small", text: "No requests yet: they appear here as they happen." });
  let source;
  const shown = [];

  function row(e) {
    return h("tr", { dataset: { seq: e.seq, op: e.operation } },
      h("td", { class: "mono small", text: e.time.slice(11, 23), title: `real ${e.time} · run ${e.runTime}` }),
      h("td", { class: "mono small", text: e.method }),
      h("td", { class: "strong small", text: e.operation }),
      h("td", { class: "mono small path" }, h("span", { text: e.bucket ? `${e.bucket}/${e.key ?? ""}` : e.path, title: e.path })),
      h("td", {}, statusBadge(e.status), e.errorCode ? h("span", { class: "small err-code", text: ` ${e.errorCode}` }) : null),
      h("td", { class: "num small", text: `${fmtBytes(e.bytesIn)} / ${fmtBytes(e.bytesOut)}` }),
      h("td", { class: "num small", text: `${e.durationMs.toFixed(1)} ms` }),
      h("td", {}, copyable(e.requestId, "mono small")),
      h("td", {}, (e.chaos ?? []).map((c) => badge(`chaos #${c.ruleId} ${c.action}`, "err"))));
  }
  function matchesText(e) {
    const t = text.value.trim();
    if (e.operation === "Admin" && !showAdmin.checked) return false;
    return !t || `${e.bucket ?? ""}/${e.key ?? ""}${e.path}`.includes(t);
  }
  const seen = new Set();
  function add(e) {
    if (seen.has(e.seq) || !matchesText(e)) return;
    seen.add(e.seq);
    shown.push(e);
    tbody.prepend(row(e));
    while (tbody.children.length > MAX_ROWS) tbody.lastChild.remove();
    empty.remove();
  }
  function query() {
    const p = new URLSearchParams({ runId: run });
    if (op.value.trim()) p.set("operation", op.value.trim());
    if (status.value) p.set("status", status.value);
    if (code.value.trim()) p.set("errorCode", code.value.trim());
    return p;
  }
  async function connect() {
    source?.close();
    live.textContent = "connecting";
    live.className = "live";
    clear(tbody);
    shown.length = 0;
    seen.clear();
    // Entries logged between the snapshot below and the tail's start come with the tail.
    const started = new Date().toISOString();
    tableBox.append(empty);
    const p = query();
    p.set("limit", "100");
    let since = 0;
    try {
      const j = await admin(`requests?${p}`);
      for (const e of j.entries) add(e);
      since = j.entries.at(-1)?.seq ?? 0;
    } catch (e) {
      clear(tableBox, errorBox(e));
      return;
    }
    if (ctx.stale()) return;
    const q = query();
    q.set("since", since ? String(since) : started);
    source = new EventSource(`/_s3twin/requests?${q}`);
    source.addEventListener("open", () => { live.textContent = "live"; live.className = "live on"; });
    source.addEventListener("error", () => { live.textContent = "reconnecting"; live.className = "live"; });
    source.addEventListener("request", (m) => add(JSON.parse(m.data)));
    source.addEventListener("lagged", (m) => toast(`${m.data} log entries skipped (the tail fell behind)`, "err"));
  }
  ctx.onDispose(() => source?.close());
  const tableBox = h("div", { class: "table-box tail" },
    h("table", { class: "grid log" }, h("thead", {}, h("tr", {}, ["Time", "", "Operation", "Bucket / key", "Status", "In / out", "Duration", "Request id", ""].map((x) => h("th", { text: x })))), tbody), empty);
  for (const el of [op, code, text]) el.addEventListener("keydown", (e) => e.key === "Enter" && connect());
  status.addEventListener("change", connect);
  showAdmin.addEventListener("change", connect);
  clear(box, section("Request log",
    h("div", { class: "toolbar" }, op, status, code, text, h("label", { class: "check", title: "Admin API calls (this page makes some)" }, showAdmin, h("span", { text: "admin" })),
      button("Apply", connect, "small"), h("div", { class: "spacer" }), live),
    tableBox));
  connect();
}

async function notifications(ctx, box) {
  const run = ctx.route.run;
  const list = h("div", { class: "table-box" });
  async function load() {
    try {
      const j = await admin("notifications?limit=100", { run });
      clear(list, j.notifications.length ? j.notifications.slice().reverse().map((n) => h("details", { class: "delivery" },
        h("summary", {}, badge(n.status, n.status === "delivered" ? "ok" : n.status === "pending" ? "info" : "err"),
          h("span", { class: "strong small", text: ` ${n.eventName} ` }), h("span", { class: "mono small", text: `${n.bucket}/${n.key}` }),
          h("span", { class: "muted small", text: ` → ${n.destination?.arn ?? ""}` })),
        table(["Attempt", "Time", "Status", "Latency", "Error"], (n.attempts ?? []).map((a, i) => h("tr", {},
          h("td", { class: "num", text: i + 1 }), h("td", { class: "mono small", text: a.time }), h("td", { text: a.status ?? "—" }),
          h("td", { class: "num small", text: a.latencyMs === undefined ? "" : `${a.latencyMs} ms` }), h("td", { class: "small", text: a.error ?? "" })))),
        h("details", {}, h("summary", { class: "small muted", text: "payload" }), h("pre", { class: "mono small", text: JSON.stringify(n.payload, null, 2) })))) : h("div", { class: "empty small", text: "No notifications: configure a bucket's notification and map its ARN to a webhook." }));
    } catch (e) {
      clear(list, errorBox(e));
    }
  }
  clear(box, h("section", { class: "card" }, h("div", { class: "card-head" }, h("h2", { text: "Notification deliveries" }), button("Refresh", load, "small ghost")), list));
  return load();
}

async function chaosRules(ctx, box) {
  const run = ctx.route.run;
  const list = h("div", { class: "table-box" });
  const ruleIn = h("textarea", { class: "mono", rows: 3, name: "rule", placeholder: '{"match": {"operation": "GetObject"}, "action": {"error": "SlowDown"}, "probability": 0.5}' });
  const err = h("div");
  async function load() {
    try {
      const j = await admin("chaos", { run });
      clear(list, j.rules.length ? table(["#", "Rule", "Hits", ""], j.rules.map((r) => h("tr", {},
        h("td", { class: "num", text: r.id }),
        h("td", {}, r.preset ? badge(r.preset, "accent") : null, h("code", { class: "small", text: ` ${JSON.stringify(r.match)} → ${JSON.stringify(r.action)}` })),
        h("td", { class: "num small", text: `${r.hits}/${r.matched}` }),
        h("td", {}, button("Remove", async () => {
          await admin(`chaos?id=${r.id}`, { method: "DELETE", run });
          load();
        }, "small ghost"))))) : h("div", { class: "empty small", text: "No chaos rules: requests are answered normally." }));
    } catch (e) {
      clear(list, errorBox(e));
    }
  }
  async function add(body) {
    clear(err);
    try {
      await admin("chaos", { method: "POST", run, body });
      toast("Chaos rule added");
      load();
    } catch (e) {
      clear(err, errorBox(e));
    }
  }
  clear(box, h("section", { class: "card" },
    h("div", { class: "card-head" }, h("h2", { text: "Chaos" }), confirmButton("Remove all", async () => { await admin("chaos", { method: "DELETE", run }); load(); }, "ghost")),
    h("div", { class: "row" }, PRESETS.map((p) => button(p, () => add({ preset: p }), "small"))),
    list,
    h("form", { class: "stack", onsubmit: (e) => {
      e.preventDefault();
      try {
        add(JSON.parse(ruleIn.value));
      } catch (x) {
        clear(err, errorBox(`rule JSON: ${x.message}`));
      }
    } }, ruleIn, h("button", { class: "btn small", type: "submit", text: "Add rule" })),
    err));
  return load();
}
