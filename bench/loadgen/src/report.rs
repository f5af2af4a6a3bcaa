//! The results as a markdown table (absolute figures and ratios against s3twin), the target
//! check for s3twin, and the JSON record.

use crate::peers::Peer;
use crate::scenarios::{count_label, describe, Better, Cell, Def, Plan, Sheet, MIB};
use serde_json::{json, Value};

/// About the run: when, where, what.
#[derive(Debug, Clone)]
pub struct Meta {
    pub mode: &'static str,
    pub date: String,
    pub cores: usize,
    pub memory_gib: f64,
    pub cpu: String,
    pub kernel: String,
    pub commit: String,
    pub rustc: String,
    pub elapsed_s: f64,
}

pub struct Run<'a> {
    pub meta: &'a Meta,
    pub plan: &'a Plan,
    pub defs: &'a [Def],
    pub peers: &'a [(Peer, Sheet)],
}

/// A figure with a sensible number of digits and thousands separators.
pub fn num(v: f64) -> String {
    if !v.is_finite() {
        return "–".into();
    }
    if v == 0.0 {
        return "0".into();
    }
    let a = v.abs();
    if a >= 1000.0 {
        let s = format!("{:.0}", v);
        let (sign, digits) = s.split_at(if s.starts_with('-') { 1 } else { 0 });
        let mut out = String::new();
        for (i, ch) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                out.push(',');
            }
            out.push(ch);
        }
        format!("{sign}{out}")
    } else if a >= 100.0 {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else if a >= 1.0 {
        format!("{v:.2}")
    } else if a >= 0.01 {
        format!("{v:.3}")
    } else {
        format!("{v:.4}")
    }
}

fn ratio(r: f64) -> String {
    if !r.is_finite() {
        return "–".into();
    }
    if r >= 100.0 {
        format!("{r:.0}×")
    } else if r >= 10.0 {
        format!("{r:.1}×")
    } else if r >= 0.1 {
        format!("{r:.2}×")
    } else {
        format!("{r:.3}×")
    }
}

fn cell_text(c: Option<&Cell>, base: Option<f64>, is_base: bool) -> String {
    match c {
        None => "–".into(),
        Some(Cell::Ok(v)) => match (base, is_base) {
            (Some(b), false) if b > 0.0 => format!("{} ({})", num(*v), ratio(v / b)),
            _ => num(*v),
        },
        Some(other) => describe(other).replace('|', "/"),
    }
}

fn sheet<'a>(run: &'a Run, p: Peer) -> Option<&'a Sheet> {
    run.peers.iter().find(|(q, _)| *q == p).map(|(_, s)| s)
}

fn value(run: &Run, p: Peer, id: &str) -> Option<f64> {
    sheet(run, p)
        .and_then(|s| s.cells.get(id))
        .and_then(Cell::value)
}

pub fn markdown(run: &Run) -> String {
    let m = run.meta;
    let mut out = String::new();
    out.push_str(&format!("# s3twin benchmark ({} run)\n\n", m.mode));
    out.push_str(&format!(
        "- date: {}\n- machine: {} cores ({}), {:.1} GiB memory, Linux {}\n- s3twin commit: {}\n- rustc: {}\n- peers: {}\n- run time: {:.1} min\n\n",
        m.date,
        m.cores,
        m.cpu,
        m.memory_gib,
        m.kernel,
        m.commit,
        m.rustc,
        run.peers
            .iter()
            .map(|(p, s)| format!(
                "{} {}",
                p.name(),
                s.extra.get("version").and_then(|v| v.as_str()).unwrap_or("?")
            ))
            .collect::<Vec<_>>()
            .join(", "),
        m.elapsed_s / 60.0
    ));
    out.push_str(
        "Each cell is the absolute figure and, in parentheses, the peer's figure ÷ s3twin's. \
         ↑ rows: higher is better (a ratio under 1× means s3twin is ahead); ↓ rows: lower is \
         better (a ratio over 1× means s3twin is ahead); rows without an arrow describe the \
         workload. The machine is small and shared, so absolute times are noisy: read the \
         ratios. See bench/README.md for what each row measures.\n\n",
    );
    out.push_str("| scenario | unit |");
    for (p, _) in run.peers {
        out.push_str(&format!(" {} |", p.name()));
    }
    out.push_str("\n|---|---|");
    for _ in run.peers {
        out.push_str("---|");
    }
    out.push('\n');
    let mut section = String::new();
    // The previous row's text per peer: a repeated n/a reason is not spelled out again.
    let mut previous: Vec<String> = vec![String::new(); run.peers.len()];
    for d in run.defs {
        if d.section != section {
            section = d.section.clone();
            out.push_str(&format!("| **{section}** | |"));
            for _ in run.peers {
                out.push_str(" |");
            }
            out.push('\n');
        }
        let arrow = match d.better {
            Better::Higher => " ↑",
            Better::Lower => " ↓",
            Better::Neither => "",
        };
        out.push_str(&format!("| {}{arrow} | {} |", d.label, d.unit));
        let base = value(run, Peer::S3twin, &d.id);
        for (i, (p, s)) in run.peers.iter().enumerate() {
            let c = s.cells.get(&d.id);
            let text = cell_text(c, base, *p == Peer::S3twin);
            let shown = if c.is_some_and(|c| c.value().is_none()) && text == previous[i] {
                "(as above)".to_string()
            } else {
                text.clone()
            };
            previous[i] = text;
            out.push_str(&format!(" {shown} |"));
        }
        out.push('\n');
    }
    if sheet(run, Peer::S3twin).is_some() {
        out.push_str("\n## s3twin against its targets\n\n");
        if run.plan.quick {
            out.push_str("(Quick run: sizes and counts are smaller than the targets assume.)\n\n");
        }
        out.push_str("| target | measured | |\n|---|---|---|\n");
        for t in targets(run) {
            out.push_str(&format!(
                "| {} | {} | {} |\n",
                t.target,
                t.measured,
                match t.met {
                    Some(true) => "met",
                    Some(false) => "**missed**",
                    None => "not measured",
                }
            ));
        }
    }
    out.push_str(
        "\nDisk-backed peers (s3rver, s3s-fs) keep object data in files, so their RSS does \
                  not include it; s3twin and moto keep everything in memory.\n",
    );
    out
}

pub struct TargetCheck {
    pub target: String,
    pub measured: String,
    pub met: Option<bool>,
}

fn check(
    target: impl Into<String>,
    v: Option<f64>,
    unit: &str,
    ok: impl Fn(f64) -> bool,
) -> TargetCheck {
    TargetCheck {
        target: target.into(),
        measured: v
            .map(|v| format!("{} {unit}", num(v)))
            .unwrap_or_else(|| "–".into()),
        met: v.map(ok),
    }
}

pub fn targets(run: &Run) -> Vec<TargetCheck> {
    let p = Peer::S3twin;
    let v = |id: &str| value(run, p, id);
    let mut out = vec![
        check("cold start ≤ 5 ms", v("start.cold_ms"), "ms", |x| {
            x <= 5.0
        }),
        check("idle RSS ≤ 5 MiB", v("start.idle_rss"), "MiB", |x| {
            x <= 5.0
        }),
        check(
            "stripped binary ≤ 8 MiB",
            v("start.footprint"),
            "MiB",
            |x| x <= 8.0,
        ),
    ];
    for op in ["put", "get"] {
        for c in [1, 64] {
            let id = format!("small.{op}.c{c}.ops");
            let mine = v(&id);
            let mut parts = Vec::new();
            let mut met = mine.map(|_| true);
            // s3twin's own columns (--data-dir, --auth enforce) and bare-hyper (no S3 server)
            // have targets of their own.
            for (q, _) in run.peers.iter().filter(|(q, _)| {
                !matches!(
                    q,
                    Peer::S3twin | Peer::S3twinDisk | Peer::S3twinEnforce | Peer::BareHyper
                )
            }) {
                let need = if *q == Peer::Moto { 20.0 } else { 1.5 };
                match (mine, value(run, *q, &id)) {
                    (Some(a), Some(b)) if b > 0.0 => {
                        let r = a / b;
                        parts.push(format!("{} vs {} (needs {need}×)", ratio(r), q.name()));
                        if r < need {
                            met = Some(false);
                        }
                    }
                    _ => parts.push(format!("– vs {}", q.name())),
                }
            }
            out.push(TargetCheck {
                target: format!(
                    "4 KiB {} ops/s, {c} conn.: ≥ 20× moto, ≥ 1.5× every other peer",
                    op.to_uppercase()
                ),
                measured: if parts.is_empty() {
                    mine.map(|m| format!("{} ops/s (no peers in this run)", num(m)))
                        .unwrap_or_else(|| "–".into())
                } else {
                    parts.join(", ")
                },
                met: if parts.is_empty() { None } else { met },
            });
        }
    }
    // --data-dir (issue 18): at least twice a file-backed peer, within 3× of memory mode.
    for op in ["put", "get"] {
        for c in [1, 64] {
            let id = format!("small.{op}.c{c}.ops");
            let disk = value(run, Peer::S3twinDisk, &id);
            let Some(d) = disk else {
                continue;
            };
            let mut parts = Vec::new();
            let mut met = true;
            if let Some(m) = v(&id).filter(|m| *m > 0.0) {
                parts.push(format!("{} of memory mode (needs ≥ 0.33×)", ratio(d / m)));
                met &= d / m >= 1.0 / 3.0;
            }
            match value(run, Peer::S3sFs, &id) {
                Some(f) if f > 0.0 => {
                    parts.push(format!("{} vs s3s-fs (needs 2×)", ratio(d / f)));
                    met &= d / f >= 2.0;
                }
                _ => parts.push("– vs s3s-fs".into()),
            }
            out.push(TargetCheck {
                target: format!(
                    "--data-dir 4 KiB {} ops/s, {c} conn.: ≥ 2× s3s-fs, within 3× of memory mode",
                    op.to_uppercase()
                ),
                measured: format!("{} ops/s: {}", num(d), parts.join(", ")),
                met: Some(met),
            });
        }
    }
    // --data-dir's cold start with the largest listing set on disk (100k keys in a full run).
    if let Some(&n) = run.plan.list_sizes.last() {
        let id = format!("list.{n}.restart");
        if let Some(ms) = value(run, Peer::S3twinDisk, &id) {
            out.push(check(
                format!(
                    "--data-dir cold start with {} objects on disk ≤ 200 ms",
                    count_label(n)
                ),
                Some(ms),
                "ms",
                |x| x <= 200.0,
            ));
        }
    }
    // Enforce mode (signatures verified, requests authorized) costs at most 30 %.
    for op in ["put", "get"] {
        for c in [1, 64] {
            let id = format!("small.{op}.c{c}.ops");
            let kept = match (v(&id), value(run, Peer::S3twinEnforce, &id)) {
                (Some(a), Some(b)) if a > 0.0 => Some(b / a),
                _ => None,
            };
            out.push(TargetCheck {
                target: format!(
                    "4 KiB {} ops/s, {c} conn., with --auth enforce: ≥ 0.7× without",
                    op.to_uppercase()
                ),
                measured: kept
                    .map(|k| format!("{} of s3twin's", ratio(k)))
                    .unwrap_or_else(|| "–".into()),
                met: kept.map(|k| k >= 0.7),
            });
        }
    }
    // Near the stack's own limit: bare hyper on the same hyper and tokio, no S3 logic.
    for (op, need) in [("get", 0.7), ("put", 0.5)] {
        for c in [1, 64] {
            let id = format!("small.{op}.c{c}.ops");
            let share = match (v(&id), value(run, Peer::BareHyper, &id)) {
                (Some(a), Some(b)) if b > 0.0 => Some((a, b)),
                _ => None,
            };
            out.push(TargetCheck {
                target: format!(
                    "4 KiB {} ops/s, {c} conn.: ≥ {need}× bare hyper",
                    op.to_uppercase()
                ),
                measured: share
                    .map(|(a, b)| format!("{} ({} vs {} ops/s)", ratio(a / b), num(a), num(b)))
                    .unwrap_or_else(|| "–".into()),
                met: share.map(|(a, b)| a / b >= need),
            });
        }
    }
    out.push(check(
        "run churn (create a run with a 10-object seed, list, delete it) ≤ 200 µs a cycle",
        v("churn.seed.us"),
        "µs",
        |x| x <= 200.0,
    ));
    let size_mib = run.plan.big_size as f64 / MIB;
    let big = crate::scenarios::bytes_label(run.plan.big_size);
    out.push(check(
        format!("{big} PUT ≥ 1 GiB/s"),
        v("big.put.rate"),
        "MiB/s",
        |x| x >= 1024.0,
    ));
    // The ETag's MD5 is one stream on one core: a PUT can approach its speed, not pass it.
    let put = v("big.put.rate");
    let md5 = v("big.md5.rate").filter(|m| *m > 0.0);
    let fs = value(run, Peer::S3sFs, "big.put.rate").filter(|f| *f > 0.0);
    let mut parts = Vec::new();
    let mut met = put.map(|_| true);
    if let (Some(p), Some(m)) = (put, md5) {
        parts.push(format!(
            "{} of MD5's {} MiB/s (needs 0.85×)",
            ratio(p / m),
            num(m)
        ));
        met = met.map(|ok| ok && p / m >= 0.85);
    } else {
        met = None;
    }
    match (put, fs) {
        (Some(p), Some(f)) => {
            parts.push(format!("{} vs s3s-fs (needs 1.2×)", ratio(p / f)));
            met = met.map(|ok| ok && p / f >= 1.2);
        }
        _ => parts.push("– vs s3s-fs".into()),
    }
    out.push(TargetCheck {
        target: format!("{big} PUT ≥ 0.85× one core's MD5 speed and ≥ 1.2× s3s-fs"),
        measured: match put {
            Some(p) => format!("{} MiB/s: {}", num(p), parts.join(", ")),
            None => "–".into(),
        },
        met,
    });
    out.push(check(
        format!("{big} GET ≥ 1 GiB/s"),
        v("big.get.rate"),
        "MiB/s",
        |x| x >= 1024.0,
    ));
    out.push(check(
        format!("{big} PUT: server peak RSS ≤ object + 64 MiB"),
        v("big.put.peak"),
        "MiB",
        |x| x <= size_mib + 64.0,
    ));
    out.push(check(
        format!("{big} GET: server peak RSS ≤ object + 64 MiB"),
        v("big.get.peak"),
        "MiB",
        |x| x <= size_mib + 64.0,
    ));
    let mp = sheet(run, p)
        .and_then(|s| s.cells.get("mp.complete_ms"))
        .cloned();
    out.push(match mp {
        Some(Cell::Ok(x)) => check(
            format!("Complete of {} parts < 50 ms", run.plan.mp_parts),
            Some(x),
            "ms",
            |x| x < 50.0,
        ),
        Some(other) => TargetCheck {
            target: format!("Complete of {} parts < 50 ms", run.plan.mp_parts),
            measured: describe(&other),
            met: Some(false),
        },
        None => check("Complete < 50 ms", None, "ms", |_| false),
    });
    if let (Some(&small), Some(&large)) = (run.plan.list_sizes.first(), run.plan.list_sizes.last())
    {
        out.push(check(
            format!(
                "delimiter listing of one prefix among {} keys < 5 ms",
                count_label(large)
            ),
            v(&format!("list.{large}.prefix")),
            "ms",
            |x| x < 5.0,
        ));
        let a = v(&format!("list.{small}.page100"));
        let b = v(&format!("list.{large}.page100"));
        let predicted = (large as f64).ln() / (small as f64).ln();
        out.push(TargetCheck {
            target: format!(
                "… growing like log n: a 100-key page at {} ÷ at {} ≤ 2× (log n predicts {predicted:.2}×)",
                count_label(large),
                count_label(small)
            ),
            measured: match (a, b) {
                (Some(a), Some(b)) if a > 0.0 => format!("{} ms → {} ms = {}", num(a), num(b), ratio(b / a)),
                _ => "–".into(),
            },
            met: match (a, b) {
                (Some(a), Some(b)) if a > 0.0 => Some(b / a <= 2.0),
                _ => None,
            },
        });
    }
    out.push(check(
        format!(
            "{} zero-byte objects ≤ 400 MiB RSS",
            count_label(run.plan.many)
        ),
        v("many.rss"),
        "MiB",
        |x| x <= 400.0,
    ));
    // --data-dir (issue 18): memory bounded by metadata, not data.
    for (id, when) in [
        ("many.small.rss", "after loading"),
        ("many.small.restart_rss", "after a restart"),
    ] {
        if let Some(mib) = value(run, Peer::S3twinDisk, id) {
            out.push(check(
                format!(
                    "--data-dir: {} 4 KiB objects on disk ≤ 400 MiB RSS ({when})",
                    count_label(run.plan.many)
                ),
                Some(mib),
                "MiB",
                |x| x <= 400.0,
            ));
        }
    }
    out
}

pub fn json(run: &Run) -> Value {
    let m = run.meta;
    let mut peers = serde_json::Map::new();
    for (p, s) in run.peers {
        let mut metrics = serde_json::Map::new();
        for d in run.defs {
            let c = s.cells.get(&d.id);
            let (status, v, note) = match c {
                Some(Cell::Ok(v)) => ("ok", json!(v), String::new()),
                Some(Cell::Na(r)) => ("n/a", Value::Null, r.clone()),
                Some(Cell::Invalid(r)) => ("invalid", Value::Null, r.clone()),
                Some(Cell::Failed(r)) => ("failed", Value::Null, r.clone()),
                None => ("missing", Value::Null, String::new()),
            };
            let base = value(run, Peer::S3twin, &d.id);
            let r = match (c.and_then(Cell::value), base) {
                (Some(a), Some(b)) if b > 0.0 => json!(a / b),
                _ => Value::Null,
            };
            metrics.insert(
                d.id.clone(),
                json!({ "label": d.label, "unit": d.unit, "better": match d.better { Better::Higher => "higher", Better::Lower => "lower", Better::Neither => "neither" },
                        "status": status, "value": v, "ratio_to_s3twin": r, "note": note }),
            );
        }
        peers.insert(
            p.name().into(),
            json!({ "metrics": metrics, "extra": s.extra }),
        );
    }
    let targets: Vec<Value> = if sheet(run, Peer::S3twin).is_some() {
        targets(run)
            .into_iter()
            .map(|t| json!({ "target": t.target, "measured": t.measured, "met": t.met }))
            .collect()
    } else {
        Vec::new()
    };
    json!({
        "mode": m.mode,
        "date": m.date,
        "machine": { "cores": m.cores, "memory_gib": m.memory_gib, "cpu": m.cpu, "kernel": m.kernel },
        "commit": m.commit,
        "rustc": m.rustc,
        "elapsed_s": m.elapsed_s,
        "plan": format!("{:?}", run.plan),
        "peers": peers,
        "targets": targets,
    })
}

/// The instruction-count history (`bench/results/instructions.md`, kept in git): one row per
/// run that measured them, so that a regression of a few percent between commits shows.
pub const INSTRUCTIONS_HISTORY: &str = "instructions.md";

const HISTORY_HEAD: &str = "# Instructions per request, by commit\n\n\
Appended by every `bench/run.sh` run that measures them (full runs with valgrind on PATH, \
`--only instructions` too; see README.md, \"Instruction counts\"). Newest last. \
Compare rows of the same valgrind.\n\n\
| commit | date | valgrind | PutObject 4 KiB | GetObject 4 KiB | HeadObject 4 KiB | ListObjectsV2, 100 keys | DeleteObject |\n\
|---|---|---|---:|---:|---:|---:|---:|\n";

/// The history row of this run, `None` when no instruction count was measured.
pub fn instructions_row(run: &Run, valgrind: &str) -> Option<String> {
    let figures: Vec<Option<f64>> = crate::scenarios::instructions::OPS
        .iter()
        .map(|op| value(run, Peer::S3twin, &format!("instr.{}", op.id)))
        .collect();
    if figures.iter().all(Option::is_none) {
        return None;
    }
    let cells: Vec<String> = figures
        .iter()
        .map(|f| f.map_or_else(|| "—".to_string(), |v| format!("{}", v.round() as u64)))
        .collect();
    Some(format!(
        "| {} | {} | {valgrind} | {} |\n",
        run.meta.commit.replace('|', "/"),
        run.meta.date,
        cells.join(" | ")
    ))
}

/// Appends `row` to the history file at `path`, writing its head first if it is new.
pub fn append_history(path: &std::path::Path, row: &str) -> std::io::Result<()> {
    use std::io::Write;
    let fresh = !path.exists();
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    if fresh {
        f.write_all(HISTORY_HEAD.as_bytes())?;
    }
    f.write_all(row.as_bytes())
}
