// Runs: every run with its buckets, clock, strict, auth and chaos state; create (id, preset
// or pasted seed JSON), reset, delete; and the "Invoice PDF lifecycle" walk-through.

import { admin, forgetClock, listObjects } from "./api.js";
import { badge, button, clear, copyable, errorBox, fmtOffset, fmtTime, h, section, table, toast } from "./dom.js";

/** A button that asks for a second click instead of a dialog. */
export function confirmButton(text, action, cls = "danger") {
  let armed = false;
  let timer;
  const b = button(text, async () => {
    if (!armed) {
      armed = true;
      b.textContent = `Confirm ${text.toLowerCase()}?`;
      b.classList.add("armed");
      timer = setTimeout(() => {
        armed = false;
        b.textContent = text;
        b.classList.remove("armed");
      }, 3000);
      return;
    }
    clearTimeout(timer);
    b.disabled = true;
    try {
      await action();
    } finally {
      b.disabled = false;
    }
  }, `small ${cls}`);
  return b;
}

function clockCell(r) {
  const offset = Date.parse(r.now) - Date.now();
  return h(
    "div",
    { class: "clock-cell" },
    h("span", { class: "mono", text: fmtTime(r.now) }),
    r.frozen ? badge("frozen", "info") : null,
    r.rate !== 1 ? badge(`×${r.rate}`, "warn") : null,
    !r.frozen && Math.abs(offset) > 2000 ? badge(fmtOffset(offset), "accent") : null,
  );
}

export async function runsView(ctx) {
  const { main, hrefs } = ctx;
  const tableBox = h("div", { class: "table-box" }, h("div", { class: "muted pad", text: "Loading runs…" }));
  const walk = h("div", { id: "walkthrough" });

  async function load() {
    const { runs } = await admin("runs");
    if (ctx.stale()) return;
    runs.sort((a, b) => (a.runId === "default" ? -1 : b.runId === "default" ? 1 : a.runId.localeCompare(b.runId)));
    const rows = runs.map((r) =>
      h(
        "tr",
        { dataset: { run: r.runId } },
        h("td", {}, h("a", { href: hrefs.run(r.runId), class: "mono strong", text: r.runId })),
        h("td", { class: "num", text: r.buckets }),
        h("td", {}, clockCell(r)),
        h("td", {}, r.strict ? badge("strict", "warn") : h("span", { class: "muted", text: "lenient" })),
        h("td", {}, r.auth === "enforce" ? badge("enforce", "warn") : h("span", { class: "muted", text: "none" })),
        h("td", {}, r.chaosRules ? badge(`${r.chaosRules} rule${r.chaosRules > 1 ? "s" : ""}`, "err") : h("span", { class: "muted", text: "off" })),
        h(
          "td",
          {},
          h("div", { class: "actions" },
          h("a", { class: "btn small ghost", href: hrefs.clock(r.runId), text: "Clock" }),
          h("a", { class: "btn small ghost", href: hrefs.activity(r.runId), text: "Activity" }),
          confirmButton("Reset", async () => {
            await admin("reset", { method: "POST", run: r.runId });
            toast(`Run ${r.runId} reset`);
            await load();
          }, "warn"),
          r.runId === "default"
            ? null
            : confirmButton("Delete", async () => {
                await admin(`runs/${encodeURIComponent(r.runId)}`, { method: "DELETE" });
                toast(`Run ${r.runId} deleted`);
                await load();
              }),
        )),
      ),
    );
    clear(
      tableBox,
      table(["Run", "Buckets", "Clock (now · offset)", "Strict", "Auth", "Chaos", ""], rows, "runs-table"),
    );
    performance.mark("s3twin:runs-rendered");
  }

  // Create a run.
  const idInput = h("input", { name: "runId", placeholder: "random id", pattern: "[A-Za-z0-9._\\-]{1,64}", autocomplete: "off" });
  const seedSel = h(
    "select",
    { name: "seed" },
    h("option", { value: "", text: "empty" }),
    h("option", { value: "invoice-store", text: "preset: invoice-store" }),
    h("option", { value: "json", text: "seed JSON…" }),
  );
  const seedText = h("textarea", {
    name: "seedJson",
    class: "mono hidden",
    rows: 6,
    placeholder: '{"buckets": [{"name": "uploads", "objects": [{"key": "a.txt", "body": "hello"}]}]}',
  });
  seedSel.addEventListener("change", () => seedText.classList.toggle("hidden", seedSel.value !== "json"));
  const strict = h("input", { type: "checkbox", name: "strict" });
  const formErr = h("div");
  const form = h(
    "form",
    {
      class: "create",
      id: "create-run",
      onsubmit: async (e) => {
        e.preventDefault();
        clear(formErr);
        const body = {};
        if (idInput.value.trim()) body.runId = idInput.value.trim();
        if (seedSel.value === "json") {
          try {
            body.seed = JSON.parse(seedText.value);
          } catch (err) {
            clear(formErr, errorBox(`seed JSON: ${err.message}`));
            return;
          }
        } else if (seedSel.value) body.seed = seedSel.value;
        if (strict.checked) body.strict = true;
        try {
          const made = await admin("runs", { method: "POST", body });
          toast(`Run ${made.runId} created`);
          idInput.value = "";
          await load();
        } catch (err) {
          clear(formErr, errorBox(err));
        }
      },
    },
    h("label", {}, h("span", { text: "Run id" }), idInput),
    h("label", {}, h("span", { text: "Seed" }), seedSel),
    h("label", { class: "check" }, strict, h("span", { text: "strict" })),
    h("button", { class: "btn primary", type: "submit", text: "Create run" }),
    seedText,
    formErr,
  );

  clear(
    main,
    h(
      "div",
      { class: "page-head" },
      h("h1", { text: "Runs" }),
      h("div", { class: "spacer" }),
      button("Invoice PDF lifecycle", () => invoiceWalkthrough(ctx, walk, load), "accent"),
      button("Refresh", () => load(), "ghost"),
    ),
    walk,
    section("All runs", tableBox),
    section("New run", form),
  );
  await load();
}

/** The preset: a run seeded with invoice-store, then the clock past the expiry rule. */
async function invoiceWalkthrough(ctx, box, reload) {
  const { hrefs } = ctx;
  const runId = `invoices-${Math.random().toString(16).slice(2, 8)}`;
  try {
    await admin("runs", { method: "POST", body: { runId, seed: "invoice-store" } });
  } catch (e) {
    clear(box, errorBox(e));
    return;
  }
  await reload();
  const keys = async () => (await listObjects(runId, "invoices", { maxKeys: 1000 })).objects.map((o) => o.key);
  const before = await keys();
  const list = (ks, cls) => h("ul", { class: `keys ${cls}` }, ks.map((k) => h("li", {}, copyable(k))));
  const step2 = h("div", { class: "step" });
  const advance = button("Advance the clock 8 days", async () => {
    advance.disabled = true;
    const res = await admin("clock", { method: "POST", run: runId, body: { advance: "8d" } });
    forgetClock(runId);
    const after = await keys();
    const removed = before.filter((k) => !after.includes(k));
    clear(
      step2,
      h("h3", {}, h("span", { class: "n", text: "3" }), "Lifecycle ran"),
      h("p", {}, `Clock now ${fmtTime(res.now)}. Expired: ${res.lifecycle.expired}, transitioned: ${res.lifecycle.transitioned}.`),
      h("div", { class: "cols" },
        h("div", {}, h("h4", { text: "Removed by lifecycle" }), list(removed, "removed")),
        h("div", {}, h("h4", { text: "Still in invoices" }), list(after, "kept"))),
      h("a", { class: "btn small", href: hrefs.bucket(runId, "invoices"), text: "Open the bucket" }),
    );
    await reload();
  }, "primary");
  clear(
    box,
    section(
      "Invoice PDF lifecycle",
      h("div", { class: "step" },
        h("h3", {}, h("span", { class: "n", text: "1" }), "Run created: ", copyable(runId)),
        h("p", {}, "Seeded with ", h("code", { text: "invoice-store" }), ": bucket ", h("code", { text: "invoices" }),
          " with rule ", h("code", { text: "expire-tmp" }), " — objects under ", h("code", { text: "tmp/" }), " expire after 7 days."),
        list(before, "")),
      h("div", { class: "step" },
        h("h3", {}, h("span", { class: "n", text: "2" }), "Move the run's clock past the rule"),
        h("p", { class: "muted", text: "Expiry is at the UTC midnight after creation + 7 days, so 8 days is enough." }),
        advance),
      step2,
    ),
  );
}
