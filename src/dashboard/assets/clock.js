// The run's clock: now, advance (1h, 1d, 8d, custom), set, freeze, rate; and the lifecycle
// summary the last advance returned.

import { admin, forgetClock } from "./api.js";
import { badge, button, clear, copyable, errorBox, fmtOffset, fmtTime, h, kv, section } from "./dom.js";

export async function clockView(ctx) {
  const { main, route } = ctx;
  const run = route.run;
  const now = h("div", { class: "big-clock mono", id: "clock-now" });
  const facts = h("div");
  const result = h("div", { id: "lifecycle-result" });
  let clock;
  let ticker;

  function show(c) {
    clock = { ...c, fetched: Date.now() };
    tick();
    const offset = Date.parse(c.now) - Date.now();
    clear(facts, kv([
      ["Now", c.now],
      ["State", c.frozen ? badge("frozen", "info") : badge("running", "ok")],
      ["Rate", `${c.rate}×`],
      ["Offset from real time", fmtOffset(offset)],
    ]));
  }
  function tick() {
    if (!clock) return;
    const t = clock.frozen ? Date.parse(clock.now) : Date.parse(clock.now) + (Date.now() - clock.fetched) * clock.rate;
    now.textContent = fmtTime(new Date(Math.min(t, 253402300799999)).toISOString());
  }
  ticker = setInterval(tick, 1000);
  ctx.onDispose(() => clearInterval(ticker));

  async function post(body, label) {
    try {
      const c = await admin("clock", { method: "POST", run, body });
      forgetClock(run);
      show(c);
      if (c.lifecycle) {
        const l = c.lifecycle;
        const total = l.expired + l.noncurrentRemoved + l.deleteMarkersRemoved + l.transitioned + l.uploadsAborted;
        clear(result, section(`Lifecycle after ${label}`,
          h("div", { class: "stats" },
            [["expired", l.expired], ["noncurrent removed", l.noncurrentRemoved], ["delete markers removed", l.deleteMarkersRemoved], ["transitioned", l.transitioned], ["uploads aborted", l.uploadsAborted]]
              .map(([k, v]) => h("div", { class: `stat ${v ? "hot" : ""}`, dataset: { stat: k } }, h("b", { text: v }), h("span", { text: k })))),
          h("p", { class: "muted small", text: total ? "Open the buckets to see what changed." : "Nothing became due." })));
      }
    } catch (e) {
      clear(result, errorBox(e));
    }
  }
  const custom = h("input", { name: "advance", placeholder: "e.g. 36h, 1d12h, 90m", class: "mono", "data-filter": "" });
  const setIn = h("input", { name: "set", placeholder: "2027-01-01T00:00:00Z", class: "mono" });
  const rateIn = h("input", { name: "rate", placeholder: "8640", class: "mono", size: 8 });

  clear(main,
    h("div", { class: "page-head" }, h("h1", {}, "Clock ", h("span", { class: "muted mono", text: run }))),
    h("div", { class: "cards two" },
      section("Run clock", now, facts),
      section("Move it",
        h("div", { class: "row" }, ["1h", "1d", "8d"].map((d) => button(`+${d}`, () => post({ advance: d }, `+${d}`), "primary")),
          h("form", { class: "inline", onsubmit: (e) => { e.preventDefault(); if (custom.value) post({ advance: custom.value.trim() }, `+${custom.value.trim()}`); } },
            custom, h("button", { class: "btn", type: "submit", text: "Advance" }))),
        h("form", { class: "inline", onsubmit: (e) => { e.preventDefault(); if (setIn.value) post({ set: setIn.value.trim() }, `set ${setIn.value.trim()}`); } },
          setIn, h("button", { class: "btn", type: "submit", text: "Set" })),
        h("div", { class: "row" },
          button("Freeze", () => post({ freeze: true }, "freeze"), "ghost"),
          button("Unfreeze", () => post({ freeze: false }, "unfreeze"), "ghost"),
          h("form", { class: "inline", onsubmit: (e) => { e.preventDefault(); if (rateIn.value) post({ rate: Number(rateIn.value) }, `rate ${rateIn.value}`); } },
            rateIn, h("button", { class: "btn ghost", type: "submit", text: "Set rate" }))),
        h("p", { class: "muted small" }, "Time only moves forward. Advancing runs every lifecycle rule that became due before the answer comes back. Run id: ", copyable(run)))),
    result);
  try {
    show(await admin("clock", { run }));
  } catch (e) {
    clear(facts, errorBox(e));
  }
}
