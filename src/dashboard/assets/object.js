// One object (or one version of it): system headers, user metadata, tags, ACL, storage
// class, restore and lock state, checksums, versions; download, delete, presigned URL.

import { admin, listVersions, runAuth, s3, s3url, s3xml, txt } from "./api.js";
import { badge, button, clear, copy, copyable, errorBox, fmtBytes, fmtTime, h, kv, section, table, toast } from "./dom.js";
import { confirmButton } from "./runs.js";

const SYSTEM = ["content-type", "content-length", "etag", "last-modified", "cache-control", "content-disposition",
  "content-encoding", "content-language", "expires", "x-amz-version-id", "x-amz-storage-class", "x-amz-server-side-encryption",
  "x-amz-server-side-encryption-aws-kms-key-id", "x-amz-expiration", "x-amz-website-redirect-location", "x-amz-mp-parts-count",
  "accept-ranges"];

export async function objectView(ctx) {
  const { main, route, hrefs } = ctx;
  const { run, bucket, key } = route;
  const versionId = route.q.versionId;
  const q = versionId ? { versionId } : undefined;
  let res;
  try {
    res = await s3(run, "HEAD", bucket, key, { query: q, headers: { "x-amz-checksum-mode": "ENABLED" } });
  } catch (e) {
    // HEAD has no body: ask GET for the error document.
    const err = await s3(run, "GET", bucket, key, { query: q, headers: { range: "bytes=0-0" } }).then(() => e, (x) => x);
    clear(main, h("div", { class: "page-head" }, h("h1", { class: "object-title" }, copyable(key, "mono"))), errorBox(err), versionsCard(ctx));
    return;
  }
  if (ctx.stale()) return;
  const hd = res.headers;
  const meta = [];
  const checks = [];
  const lock = [];
  hd.forEach((v, k) => {
    if (k.startsWith("x-amz-meta-")) meta.push([k.slice(11), v]);
    else if (k === "x-amz-checksum-type") checks.push(["Type", v]);
    else if (k.startsWith("x-amz-checksum-")) checks.push([k.slice(15).toUpperCase(), v]);
    else if (k.startsWith("x-amz-object-lock-")) lock.push([k.slice(18), v]);
  });
  meta.sort((a, b) => a[0].localeCompare(b[0]));
  const system = SYSTEM.filter((k) => hd.has(k)).map((k) => [k, hd.get(k)]);
  const restore = hd.get("x-amz-restore");

  const tags = await s3xml(run, "GET", bucket, key, { query: { tagging: "", ...q } })
    .then(({ doc }) => [...doc.getElementsByTagName("Tag")].map((t) => [txt(t, "Key"), txt(t, "Value")]))
    .catch((e) => e);
  const acl = await s3xml(run, "GET", bucket, key, { query: { acl: "", ...q } })
    .then(({ doc }) => [...doc.getElementsByTagName("Grant")].map((g) => {
      const who = g.getElementsByTagName("Grantee")[0];
      return [txt(g, "Permission"), txt(who, "DisplayName") || txt(who, "ID") || txt(who, "URI") || txt(who, "EmailAddress") || "?"];
    }))
    .catch((e) => e);
  if (ctx.stale()) return;

  const presignBtn = button("Copy presigned URL", async () => {
    try {
      const { url } = await admin("presign", { method: "POST", run, body: { method: "GET", bucket, key, expiresIn: 3600 } });
      presignOut.textContent = url;
      await copy(url);
    } catch (e) {
      toast(e.message, "err");
    }
  }, "ghost");
  // A plain link for runs without auth; for enforcing runs a signed GET saved from a blob.
  const name = key.split("/").pop() || "object";
  const download = h("a", { class: "btn primary", href: s3url(run, bucket, key, q), download: name, text: "Download" });
  if ((await runAuth(run)).auth === "enforce") {
    download.addEventListener("click", async (e) => {
      e.preventDefault();
      try {
        const blob = await (await s3(run, "GET", bucket, key, { query: q })).blob();
        const a = h("a", { href: URL.createObjectURL(blob), download: name });
        a.click();
        setTimeout(() => URL.revokeObjectURL(a.href), 10000);
      } catch (x) {
        toast(`${x.code ?? ""} ${x.message}`, "err");
      }
    });
  }
  const presignOut = h("div", { class: "mono small wrap muted presigned", id: "presigned" });
  const delBtn = confirmButton(versionId ? "Delete version" : "Delete", async () => {
    try {
      await s3(run, "DELETE", bucket, key, { query: q });
      toast(`Deleted ${key}`);
      location.hash = hrefs.bucket(run, bucket, { prefix: key.includes("/") ? key.slice(0, key.lastIndexOf("/") + 1) : "" });
    } catch (e) {
      toast(`${e.code}: ${e.message}`, "err");
    }
  });
  const rows = (pairs, empty) => (pairs instanceof Error ? errorBox(pairs) : pairs.length ? kv(pairs) : h("div", { class: "empty small", text: empty }));

  clear(
    main,
    h("div", { class: "page-head" },
      h("h1", { class: "object-title" }, copyable(key, "mono")),
      versionId ? badge(`version ${versionId}`, "info") : null,
      h("div", { class: "spacer" }),
      download,
      presignBtn, delBtn),
    presignOut,
    h("div", { class: "cards" },
      section("Object", kv([
        ["Bucket", bucket], ["Key", key], ["Size", h("span", {}, copyable(hd.get("content-length")), h("span", { class: "muted small", text: ` ${fmtBytes(hd.get("content-length"))}` }))],
        ["ETag", hd.get("etag")], ["Last modified", fmtTime(hd.get("last-modified"))],
        ["Storage class", hd.get("x-amz-storage-class") ?? "STANDARD"],
        ["Restore", restore ?? "—"], ["Version", hd.get("x-amz-version-id") ?? "—"],
        ["S3 URI", `s3://${bucket}/${key}`],
      ])),
      h("section", { class: "card", id: "metadata" }, h("h2", { text: "User metadata" }), rows(meta, "No user metadata.")),
      h("section", { class: "card", id: "system" }, h("h2", { text: "System headers" }), rows(system, "")),
      section("Checksums", rows(checks, "No checksum stored (none was sent on upload).")),
      section("Tags", rows(tags, "No tags.")),
      section("ACL", rows(acl, "No grants.")),
      section("Object Lock", rows(lock, "No retention or legal hold.")),
    ),
    versionsCard(ctx),
  );
}

function versionsCard(ctx) {
  const { run, bucket, key } = ctx.route;
  const box = h("div", { class: "table-box" }, h("div", { class: "muted pad", text: "Loading versions…" }));
  listVersions(run, bucket, { prefix: key, maxKeys: 100 }).then((res) => {
    const mine = res.rows.filter((v) => v.key === key);
    clear(box, mine.length ? table(["Version", "", "Size", "Last modified", "ETag"], mine.map((v) => h("tr", { class: v.marker ? "marker" : "" },
      h("td", {}, h("a", { class: "mono small", href: ctx.hrefs.object(run, bucket, key, v.versionId), text: v.versionId })),
      h("td", {}, v.marker ? badge("delete marker", "err") : null, v.latest ? badge("latest", "ok") : null, v.storageClass && v.storageClass !== "STANDARD" ? badge(v.storageClass, "info") : null),
      h("td", { class: "num", text: v.marker ? "" : fmtBytes(v.size) }),
      h("td", { class: "mono small", text: fmtTime(v.modified) }),
      h("td", {}, v.etag ? copyable(v.etag, "mono small") : "")))) : h("div", { class: "empty small", text: "No versions." }));
  }, (e) => clear(box, errorBox(e)));
  return section("Versions", box);
}

