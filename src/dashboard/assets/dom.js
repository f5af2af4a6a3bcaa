// DOM helpers. Every value from the store goes in as text (textContent / attributes set one
// by one), never through innerHTML: a key such as <img src=x onerror=…> shows literally.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") el.className = v;
    else if (k === "text") el.textContent = v;
    else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "dataset") Object.assign(el.dataset, v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function clear(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

let toastTimer;
export function toast(message, kind = "ok") {
  const el = document.getElementById("toast");
  clear(el, message);
  el.className = `toast show ${kind}`;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => (el.className = "toast"), kind === "err" ? 6000 : 2200);
}

export async function copy(text) {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    // Without clipboard permission (plain http on another host): select-and-copy fallback.
    const ta = h("textarea", { class: "offscreen" });
    ta.value = text;
    document.body.append(ta);
    ta.select();
    document.execCommand("copy");
    ta.remove();
  }
  toast("Copied");
}

/** A value with a copy button. */
export function copyable(text, cls = "mono") {
  const value = String(text ?? "");
  return h(
    "span",
    { class: `copyable ${cls}` },
    h("span", { class: "v", text: value, title: value }),
    h("button", {
      class: "icon copy",
      title: "Copy",
      "aria-label": "Copy",
      onclick: (e) => {
        e.preventDefault();
        e.stopPropagation();
        copy(value);
      },
    }),
  );
}

export function fmtBytes(n) {
  n = Number(n);
  if (!Number.isFinite(n)) return "—";
  if (n < 1024) return `${n} B`;
  const u = ["KiB", "MiB", "GiB", "TiB"];
  let i = -1;
  do {
    n /= 1024;
    i++;
  } while (n >= 1024 && i < u.length - 1);
  return `${n.toFixed(n < 10 ? 1 : 0)} ${u[i]}`;
}

export function fmtTime(iso) {
  if (!iso) return "—";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z");
}

/** A signed duration in ms as "+8d 2h", "−3m", "0". */
export function fmtOffset(ms) {
  const sign = ms < 0 ? "−" : "+";
  let s = Math.round(Math.abs(ms) / 1000);
  if (s < 2) return "0";
  const parts = [];
  for (const [unit, len] of [["d", 86400], ["h", 3600], ["m", 60], ["s", 1]]) {
    const q = Math.floor(s / len);
    if (q) parts.push(`${q}${unit}`);
    s -= q * len;
    if (parts.length === 2) break;
  }
  return sign + parts.join(" ");
}

export function badge(text, kind = "") {
  return h("span", { class: `badge ${kind}`, text });
}

/** A table from headers and rows of cells. */
export function table(headers, rows, cls = "") {
  return h(
    "table",
    { class: `grid ${cls}` },
    h("thead", {}, h("tr", {}, headers.map((x) => h("th", { text: x })))),
    h("tbody", {}, rows),
  );
}

export function kv(pairs) {
  return h(
    "dl",
    { class: "kv" },
    pairs
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => [h("dt", { text: k }), h("dd", {}, v instanceof Node ? v : copyable(v ?? "—"))]),
  );
}

export function section(title, ...body) {
  return h("section", { class: "card" }, h("h2", { text: title }), ...body);
}

export function errorBox(e) {
  if (e?.xml) {
    return h(
      "div",
      { class: "error-box", role: "alert" },
      h("strong", { text: `${e.status} ${e.code}` }),
      h("span", { text: ` ${e.message ?? ""}` }),
      h("pre", { class: "mono", text: e.xml }),
    );
  }
  return h("div", { class: "error-box", role: "alert", text: String(e?.message ?? e) });
}

export function link(href, text, cls) {
  return h("a", { href, class: cls, text });
}

export function button(text, onclick, cls = "") {
  return h("button", { class: `btn ${cls}`, onclick, text });
}
