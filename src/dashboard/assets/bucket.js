// Buckets of a run, and one bucket: the prefix browser (delimiter folders, ListObjectsV2
// pages with continuation tokens: a 100,000-key bucket is never loaded whole), versions with
// delete markers, the versioning toggle, uploads, and the configuration editor (the server
// validates; its S3 error is shown as it came).

import { listBuckets, listObjects, listVersions, putDoc, runAuth, s3, s3xml, upload } from "./api.js";
import { canSign } from "./sign.js";
import { badge, button, clear, copyable, errorBox, fmtBytes, fmtTime, h, section, table, toast } from "./dom.js";
import { confirmButton } from "./runs.js";

export async function authNote(run) {
  const j = await runAuth(run);
  if (j.auth !== "enforce") return null;
  return canSign()
    ? h("div", { class: "note info" }, "This run enforces signatures: the explorer signs its requests (SigV4) as the default identity, parlel, on the run's clock.")
    : h("div", { class: "note warn" }, "This run enforces signatures, and this page cannot sign (WebCrypto needs https or localhost): S3 answers its requests AccessDenied.");
}

export async function bucketsView(ctx) {
  const { main, route, hrefs } = ctx;
  const run = route.run;
  const box = h("div", { class: "table-box" });
  const nameIn = h("input", { name: "bucket", placeholder: "new-bucket-name", autocomplete: "off" });
  const err = h("div");
  async function load() {
    try {
      const buckets = await listBuckets(run);
      if (ctx.stale()) return;
      clear(
        box,
        buckets.length
          ? table(
              ["Bucket", "Created"],
              buckets.map((b) =>
                h("tr", {}, h("td", {}, h("a", { class: "mono strong", href: hrefs.bucket(run, b.name), text: b.name })),
                  h("td", { class: "mono", text: fmtTime(b.created) }))),
            )
          : h("div", { class: "empty", text: "No buckets in this run yet." }),
      );
    } catch (e) {
      clear(box, errorBox(e));
    }
  }
  clear(
    main,
    h("div", { class: "page-head" }, h("h1", {}, "Buckets ", h("span", { class: "muted mono", text: run })), h("div", { class: "spacer" }),
      h("form", {
        class: "inline",
        onsubmit: async (e) => {
          e.preventDefault();
          clear(err);
          try {
            await s3(run, "PUT", nameIn.value.trim(), null);
            toast(`Bucket ${nameIn.value} created`);
            nameIn.value = "";
            await load();
          } catch (x) {
            clear(err, errorBox(x));
          }
        },
      }, nameIn, h("button", { class: "btn primary", type: "submit", text: "Create bucket" }))),
    await authNote(run),
    err,
    section("Buckets", box),
  );
  await load();
}

const PAGE_SIZES = [50, 100, 250, 1000];

export async function bucketView(ctx) {
  const { main, route, hrefs } = ctx;
  const { run, bucket } = route;
  const tab = route.q.tab ?? "objects";
  const prefix = route.q.prefix ?? "";
  const head = h("div", { class: "page-head" });
  const body = h("div");
  const versioning = await s3xml(run, "GET", bucket, null, { query: { versioning: "" } })
    .then(({ doc }) => doc.getElementsByTagName("Status")[0]?.textContent ?? "Unversioned")
    .catch(() => "?");
  if (ctx.stale()) return;
  const tabs = ["objects", "versions", "config"].map((t) =>
    h("a", { class: `tab ${t === tab ? "active" : ""}`, href: hrefs.bucket(run, bucket, { prefix, tab: t === "objects" ? "" : t }), text: { objects: "Objects", versions: "Versions", config: "Configuration" }[t] }));
  const toggle = button(versioning === "Enabled" ? "Suspend versioning" : "Enable versioning", async () => {
    const status = versioning === "Enabled" ? "Suspended" : "Enabled";
    try {
      await putDoc(run, bucket, null, { versioning: "" },
        `<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Status>${status}</Status></VersioningConfiguration>`);
      toast(`Versioning ${status}`);
      window.dispatchEvent(new HashChangeEvent("hashchange"));
    } catch (e) {
      toast(`${e.code ?? ""} ${e.message}`, "err");
    }
  }, "small ghost");
  clear(head, h("h1", {}, copyable(bucket, "mono")),
    badge(`versioning: ${versioning}`, versioning === "Enabled" ? "ok" : versioning === "Suspended" ? "warn" : ""),
    toggle, h("div", { class: "spacer" }), h("nav", { class: "tabs" }, tabs));
  clear(main, head, await authNote(run), body);
  if (tab === "versions") return versionsTab(ctx, body, prefix);
  if (tab === "config") return configTab(ctx, body);
  return objectsTab(ctx, body, prefix);
}

function objectsTab(ctx, box, prefix) {
  const { route, hrefs } = ctx;
  const { run, bucket } = route;
  const state = { tokens: [undefined], page: 0, size: Number(route.q.size) || 100, folders: route.q.flat !== "1", sort: "key", desc: false };
  const search = h("input", { type: "search", name: "prefix", placeholder: "Filter by prefix  ( / )", value: prefix, "data-filter": "", autocomplete: "off", class: "mono grow" });
  search.addEventListener("keydown", (e) => {
    if (e.key === "Enter") location.hash = hrefs.bucket(run, bucket, { prefix: search.value });
  });
  const folders = h("input", { type: "checkbox", checked: state.folders });
  folders.addEventListener("change", () => {
    state.folders = folders.checked;
    reset();
  });
  const sizeSel = h("select", { name: "pageSize", title: "Keys per page" }, PAGE_SIZES.map((n) => h("option", { value: n, text: `${n} / page`, selected: n === state.size })));
  sizeSel.addEventListener("change", () => {
    state.size = Number(sizeSel.value);
    reset();
  });
  const listBox = h("div", { class: "table-box" });
  const pager = h("div", { class: "pager" });
  const prev = button("‹ Prev", () => go(state.page - 1), "small");
  const next = button("Next ›", () => go(state.page + 1), "small");
  prev.dataset.pager = "prev";
  next.dataset.pager = "next";
  const pageInfo = h("span", { class: "muted small page-info" });
  clear(pager, prev, pageInfo, next);

  // Upload: a drop zone and a file picker, with a progress bar.
  const fileIn = h("input", { type: "file", multiple: true, id: "file-input", class: "hidden" });
  const bar = h("div", { class: "bar" }, h("div", { class: "fill" }));
  const progressText = h("span", { class: "small mono" });
  const progress = h("div", { class: "progress hidden", id: "upload-progress" }, bar, progressText);
  const drop = h("label", { class: "drop", for: "file-input" },
    h("strong", { text: "Drop files here" }), h("span", { class: "muted", text: " or click to pick · multipart above 8 MiB · into " }), h("code", { text: prefix || "/" }), fileIn, progress);
  async function send(files) {
    for (const f of files) {
      const key = prefix + f.name;
      progress.classList.remove("hidden");
      try {
        const r = await upload(run, bucket, key, f, (done, total) => {
          bar.firstChild.style.width = `${total ? (100 * done) / total : 100}%`;
          progressText.textContent = `${key} · ${fmtBytes(done)} / ${fmtBytes(total)}`;
        });
        progressText.textContent = `${key} · ${fmtBytes(f.size)} uploaded${r.parts ? ` in ${r.parts} parts` : ""}`;
        progress.dataset.done = key;
        toast(`Uploaded ${key}`);
      } catch (e) {
        progressText.textContent = `${key}: ${e.code ?? ""} ${e.message}`;
        toast(`Upload failed: ${e.message}`, "err");
      }
    }
    reset();
  }
  fileIn.addEventListener("change", () => send([...fileIn.files]));
  for (const ev of ["dragenter", "dragover"]) drop.addEventListener(ev, (e) => { e.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    send([...e.dataTransfer.files]);
  });

  let rows = null;
  function sortBy(col) {
    state.desc = state.sort === col ? !state.desc : false;
    state.sort = col;
    draw();
  }
  function draw() {
    if (!rows) return;
    const dir = state.desc ? -1 : 1;
    const objs = [...rows.objects].sort((a, b) =>
      state.sort === "size" ? dir * (a.size - b.size) : state.sort === "modified" ? dir * a.modified.localeCompare(b.modified) : dir * (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    const th = (col, label) => h("th", { class: `sortable ${state.sort === col ? (state.desc ? "desc" : "asc") : ""}`, onclick: () => sortBy(col), text: label });
    const trs = [
      ...rows.prefixes.map((p) => h("tr", { class: "folder" },
        h("td", {}, h("a", { class: "mono", href: hrefs.bucket(run, bucket, { prefix: p }) }, h("span", { class: "ico folder-ico", "aria-hidden": "true" }), p.slice(prefix.length))),
        h("td", { class: "muted", text: "folder" }), h("td"), h("td"), h("td"))),
      ...objs.map((o) => h("tr", { dataset: { key: o.key } },
        h("td", {}, h("a", { class: "mono key", href: hrefs.object(run, bucket, o.key), text: o.key.slice(prefix.length) || o.key })),
        h("td", { class: "num", text: fmtBytes(o.size), title: `${o.size} bytes` }),
        h("td", { class: "mono small", text: fmtTime(o.modified) }),
        h("td", { class: "small", text: o.storageClass ?? "" }),
        h("td", {}, copyable(o.etag ?? "", "mono small")))),
    ];
    clear(listBox, trs.length
      ? h("table", { class: "grid objects" }, h("thead", {}, h("tr", {}, th("key", "Key"), th("size", "Size"), th("modified", "Last modified"), h("th", { text: "Class" }), h("th", { text: "ETag" }))), h("tbody", {}, trs))
      : h("div", { class: "empty", text: prefix ? `Nothing under ${prefix}` : "This bucket is empty." }));
    const first = state.page * state.size + 1;
    pageInfo.textContent = `Page ${state.page + 1} · ${rows.count ? `${first}–${first + rows.count - 1}` : "0"} ${rows.truncated ? "· more" : "· end"}`;
    prev.disabled = state.page === 0;
    next.disabled = !rows.truncated;
  }
  async function go(page) {
    if (page < 0 || page >= state.tokens.length) return;
    listBox.classList.add("loading");
    try {
      const res = await listObjects(run, bucket, { prefix, delimiter: state.folders ? "/" : "", token: state.tokens[page], maxKeys: state.size });
      if (ctx.stale()) return;
      state.page = page;
      state.tokens.length = page + 1;
      if (res.truncated && res.next) state.tokens.push(res.next);
      rows = res;
      draw();
    } catch (e) {
      clear(listBox, errorBox(e));
    } finally {
      listBox.classList.remove("loading");
    }
  }
  function reset() {
    state.tokens = [undefined];
    go(0);
  }
  clear(box,
    h("div", { class: "toolbar" }, search, h("label", { class: "check" }, folders, h("span", { text: "folders" })), sizeSel),
    section("Objects", listBox, pager),
    drop);
  return go(0);
}

function versionsTab(ctx, box, prefix) {
  const { route, hrefs } = ctx;
  const { run, bucket } = route;
  const markers = [{}];
  let page = 0;
  const listBox = h("div", { class: "table-box" });
  const prev = button("‹ Prev", () => go(page - 1), "small");
  const next = button("Next ›", () => go(page + 1), "small");
  const info = h("span", { class: "muted small page-info" });
  async function go(p) {
    if (p < 0 || p >= markers.length) return;
    try {
      const res = await listVersions(run, bucket, { prefix, keyMarker: markers[p].key, versionMarker: markers[p].version });
      if (ctx.stale()) return;
      page = p;
      markers.length = p + 1;
      if (res.truncated) markers.push({ key: res.nextKey, version: res.nextVersion });
      clear(listBox, res.rows.length ? table(["Key", "Version", "", "Size", "Last modified", ""], res.rows.map((v) => h("tr", { class: v.marker ? "marker" : "", dataset: { key: v.key } },
        h("td", {}, h("a", { class: "mono", href: hrefs.object(run, bucket, v.key, v.versionId), text: v.key })),
        h("td", {}, copyable(v.versionId, "mono small")),
        h("td", {}, v.marker ? badge("delete marker", "err") : null, v.latest ? badge("latest", "ok") : null),
        h("td", { class: "num", text: v.marker ? "" : fmtBytes(v.size) }),
        h("td", { class: "mono small", text: fmtTime(v.modified) }),
        h("td", {}, h("div", { class: "actions" }, confirmButton("Delete", async () => {
          await s3(run, "DELETE", bucket, v.key, { query: { versionId: v.versionId } });
          toast(`Deleted version ${v.versionId}`);
          go(page);
        })))))) : h("div", { class: "empty", text: "No versions." }));
      info.textContent = `Page ${page + 1}${res.truncated ? " · more" : " · end"}`;
      prev.disabled = page === 0;
      next.disabled = !res.truncated;
    } catch (e) {
      clear(listBox, errorBox(e));
    }
  }
  clear(box, section(`Versions${prefix ? ` under ${prefix}` : ""}`, listBox, h("div", { class: "pager" }, prev, info, next)));
  return go(0);
}

const NS = 'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"';
const CONFIGS = [
  { id: "versioning", label: "Versioning", remove: false, template: `<VersioningConfiguration ${NS}>\n  <Status>Enabled</Status>\n</VersioningConfiguration>` },
  { id: "lifecycle", label: "Lifecycle", template: `<LifecycleConfiguration ${NS}>\n  <Rule>\n    <ID>expire-tmp</ID>\n    <Filter><Prefix>tmp/</Prefix></Filter>\n    <Status>Enabled</Status>\n    <Expiration><Days>7</Days></Expiration>\n  </Rule>\n</LifecycleConfiguration>` },
  { id: "cors", label: "CORS", template: `<CORSConfiguration ${NS}>\n  <CORSRule>\n    <AllowedOrigin>http://localhost:3000</AllowedOrigin>\n    <AllowedMethod>GET</AllowedMethod>\n    <AllowedHeader>*</AllowedHeader>\n  </CORSRule>\n</CORSConfiguration>` },
  { id: "policy", label: "Policy", json: true, template: '{\n  "Version": "2012-10-17",\n  "Statement": []\n}' },
  { id: "tagging", label: "Tagging", template: `<Tagging ${NS}>\n  <TagSet>\n    <Tag><Key>team</Key><Value>billing</Value></Tag>\n  </TagSet>\n</Tagging>` },
  { id: "encryption", label: "Encryption", template: `<ServerSideEncryptionConfiguration ${NS}>\n  <Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256</SSEAlgorithm></ApplyServerSideEncryptionByDefault></Rule>\n</ServerSideEncryptionConfiguration>` },
  { id: "notification", label: "Notification", remove: false, template: `<NotificationConfiguration ${NS}>\n</NotificationConfiguration>` },
  { id: "object-lock", label: "Object Lock", remove: false, template: `<ObjectLockConfiguration ${NS}>\n  <ObjectLockEnabled>Enabled</ObjectLockEnabled>\n</ObjectLockConfiguration>` },
  { id: "website", label: "Website", template: `<WebsiteConfiguration ${NS}>\n  <IndexDocument><Suffix>index.html</Suffix></IndexDocument>\n</WebsiteConfiguration>` },
  { id: "publicAccessBlock", label: "Public access block", template: `<PublicAccessBlockConfiguration ${NS}>\n  <BlockPublicAcls>true</BlockPublicAcls>\n  <IgnorePublicAcls>true</IgnorePublicAcls>\n  <BlockPublicPolicy>true</BlockPublicPolicy>\n  <RestrictPublicBuckets>true</RestrictPublicBuckets>\n</PublicAccessBlockConfiguration>` },
];

/** Indents an XML document, one element a line (iterative; the server's text otherwise). */
export function prettyXml(text) {
  if (!text.trim().startsWith("<")) return text;
  const tokens = text.replace(/>\s+</g, "><").replace(/></g, ">\n<").split("\n");
  let depth = 0;
  return tokens.map((t) => {
    if (/^<\//.test(t)) depth = Math.max(0, depth - 1);
    const line = "  ".repeat(depth) + t;
    if (/^<[^!?/][^>]*[^/]>$/.test(t) && !/<\//.test(t)) depth++;
    return line;
  }).join("\n");
}

function configTab(ctx, box) {
  const { run, bucket } = ctx.route;
  let which = CONFIGS.find((c) => c.id === ctx.route.q.config) ?? CONFIGS[0];
  const list = h("nav", { class: "config-list" });
  const editor = h("textarea", { class: "mono editor", spellcheck: "false", rows: 18, name: "config" });
  const status = h("div");
  const actions = h("div", { class: "row" });
  async function open(c) {
    which = c;
    clear(list, CONFIGS.map((x) => h("a", { href: "#", class: x === c ? "active" : "", onclick: (e) => { e.preventDefault(); open(x); }, text: x.label })));
    clear(status, h("span", { class: "muted", text: "Loading…" }));
    try {
      const res = await s3(run, "GET", bucket, null, { query: { [c.id]: "" } });
      const text = await res.text();
      editor.value = c.json ? JSON.stringify(JSON.parse(text), null, 2) : prettyXml(text);
      clear(status, badge("set", "ok"), h("span", { class: "muted small", text: ` GET ?${c.id} → ${res.status}` }));
    } catch (e) {
      editor.value = c.template;
      clear(status, badge("not set", ""), h("span", { class: "muted small", text: ` ${e.code}: ${e.message} — a template is in the editor` }));
    }
    clear(actions,
      button(`Save ${c.label}`, async () => {
        try {
          await putDoc(run, bucket, null, { [c.id]: "" }, editor.value, c.json ? "application/json" : "application/xml");
          toast(`${c.label} saved`);
          open(c);
        } catch (e) {
          clear(status, errorBox(e));
        }
      }, "primary"),
      c.remove === false ? null : confirmButton("Delete", async () => {
        try {
          await s3(run, "DELETE", bucket, null, { query: { [c.id]: "" } });
          toast(`${c.label} deleted`);
          open(c);
        } catch (e) {
          clear(status, errorBox(e));
        }
      }));
  }
  clear(box, h("div", { class: "config" }, list, section("Configuration", status, editor, actions)));
  return open(which);
}

