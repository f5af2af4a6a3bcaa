//! The workload: the same scenarios, in the same order, against every peer. Each scenario
//! starts its own server so memory figures do not carry over from the one before.

use crate::client::{encode, pattern, xml_value, Answer, Conn, Keep, ReqBody, Target};
use crate::peers::{ticks_per_second, Paths, Peer, Server};
use bytes::Bytes;
use http::Method;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::runtime::Runtime;

mod churn;
pub mod instructions;
mod soak;

pub const MIB: f64 = 1024.0 * 1024.0;
const BUCKET: &str = "bench";

/// Sizes, counts and time limits of one run.
#[derive(Debug, Clone)]
pub struct Plan {
    pub quick: bool,
    pub cold_runs: usize,
    pub idle_wait: Duration,
    pub small_size: usize,
    pub small_time: Duration,
    pub small_max_ops: u64,
    pub big_size: u64,
    pub mp_parts: u64,
    pub list_sizes: Vec<u64>,
    pub list_prefixes: u64,
    pub many: u64,
    /// Loading keys for the listing scenario, all sizes together.
    pub list_load_budget: Duration,
    /// Loading the many-objects scenario.
    pub many_budget: Duration,
    /// One complete listing (all pages); a peer that would take longer gets "too slow".
    pub list_time_budget: Duration,
    /// Repeating one listing for its median (the first run always completes).
    pub list_rep_time: Duration,
    pub start_timeout: Duration,
    /// The soak: how long the mixed load runs, over how many connections, with how many keys
    /// in each connection's range.
    pub soak_time: Duration,
    pub soak_conns: usize,
    pub soak_keys: usize,
}

impl Plan {
    pub fn full() -> Plan {
        Plan {
            quick: false,
            cold_runs: 10,
            idle_wait: Duration::from_secs(1),
            small_size: 4096,
            small_time: Duration::from_secs(5),
            small_max_ops: 2_000_000,
            big_size: 1 << 30,
            mp_parts: 100,
            list_sizes: vec![10_000, 100_000],
            list_prefixes: 100,
            many: 1_000_000,
            list_load_budget: Duration::from_secs(240),
            many_budget: Duration::from_secs(120),
            list_time_budget: Duration::from_secs(75),
            list_rep_time: Duration::from_secs(5),
            start_timeout: Duration::from_secs(60),
            soak_time: Duration::from_secs(60),
            soak_conns: 64,
            soak_keys: 32,
        }
    }

    pub fn quick() -> Plan {
        Plan {
            quick: true,
            cold_runs: 3,
            idle_wait: Duration::from_millis(300),
            small_size: 4096,
            small_time: Duration::from_millis(500),
            small_max_ops: 200_000,
            big_size: 16 << 20,
            mp_parts: 3,
            list_sizes: vec![1_000, 5_000],
            list_prefixes: 100,
            many: 20_000,
            list_load_budget: Duration::from_secs(20),
            many_budget: Duration::from_secs(20),
            list_time_budget: Duration::from_secs(10),
            list_rep_time: Duration::from_secs(2),
            start_timeout: Duration::from_secs(20),
            soak_time: Duration::from_secs(5),
            soak_conns: 64,
            soak_keys: 16,
        }
    }

    pub fn part_size(&self) -> u64 {
        self.big_size.div_ceil(self.mp_parts)
    }
}

/// Human size: "1 GiB", "16 MiB", "4 KiB", "100k", "1M".
pub fn bytes_label(n: u64) -> String {
    if n >= 1 << 30 && n.is_multiple_of(1 << 30) {
        format!("{} GiB", n >> 30)
    } else if n >= 1 << 20 && n.is_multiple_of(1 << 20) {
        format!("{} MiB", n >> 20)
    } else if n >= 1 << 10 && n.is_multiple_of(1 << 10) {
        format!("{} KiB", n >> 10)
    } else {
        format!("{n} B")
    }
}

pub fn count_label(n: u64) -> String {
    if n >= 1_000_000 && n.is_multiple_of(1_000_000) {
        format!("{}M", n / 1_000_000)
    } else if n >= 1_000 && n.is_multiple_of(1_000) {
        format!("{}k", n / 1_000)
    } else {
        n.to_string()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Better {
    Higher,
    Lower,
    /// Neither: the row describes the workload (a data set's size), not a result.
    Neither,
}

/// One row of the results table.
#[derive(Debug, Clone)]
pub struct Def {
    pub id: String,
    pub section: String,
    pub label: String,
    pub unit: &'static str,
    pub better: Better,
}

/// One peer's figure for one row.
#[derive(Debug, Clone)]
pub enum Cell {
    Ok(f64),
    /// Not applicable: the peer lacks the feature, or would take too long.
    Na(String),
    /// Measured, but with non-2xx answers or wrong results.
    Invalid(String),
    /// The scenario broke: the server crashed or stopped answering.
    Failed(String),
}

impl Cell {
    pub fn value(&self) -> Option<f64> {
        match self {
            Cell::Ok(v) => Some(*v),
            _ => None,
        }
    }
}

pub fn catalog(plan: &Plan) -> Vec<Def> {
    let mut defs = Vec::new();
    let mut add = |id: String, section: &str, label: String, unit: &'static str, better: Better| {
        defs.push(Def {
            id,
            section: section.to_string(),
            label,
            unit,
            better,
        })
    };
    use Better::*;
    let s = "start";
    add(
        "start.cold_ms".into(),
        s,
        format!(
            "cold start: spawn → first 200 (median of {})",
            plan.cold_runs
        ),
        "ms",
        Lower,
    );
    add(
        "start.idle_rss".into(),
        s,
        "idle RSS after start".into(),
        "MiB",
        Lower,
    );
    add(
        "start.footprint".into(),
        s,
        "on disk (binary, or installed tree)".into(),
        "MiB",
        Lower,
    );
    let small = bytes_label(plan.small_size as u64);
    for op in ["put", "get"] {
        for c in [1, 64] {
            let sec = format!("{small} {}", op.to_uppercase());
            let head = format!("{} {small}, {c} conn.", op.to_uppercase());
            add(
                format!("small.{op}.c{c}.ops"),
                &sec,
                format!("{head}: ops/s"),
                "ops/s",
                Higher,
            );
            add(
                format!("small.{op}.c{c}.p50"),
                &sec,
                format!("{head}: p50 latency"),
                "ms",
                Lower,
            );
            add(
                format!("small.{op}.c{c}.p99"),
                &sec,
                format!("{head}: p99 latency"),
                "ms",
                Lower,
            );
            add(
                format!("small.{op}.c{c}.cpu"),
                &sec,
                format!("{head}: server CPU per op"),
                "µs",
                Lower,
            );
        }
    }
    let sec = "run churn, 1 conn.";
    let objs = format!(
        "{} objects of {}",
        churn::OBJECTS,
        bytes_label(churn::OBJECT_SIZE as u64)
    );
    for (v, what) in [
        (
            "seed",
            format!("create a run with a seed document of {objs}, ListObjectsV2, delete the run"),
        ),
        (
            "puts",
            format!("create a run (moto: a bucket), {objs} PUT one by one, ListObjectsV2, delete the run (moto: POST /moto-api/reset)"),
        ),
    ] {
        add(
            format!("churn.{v}.rate"),
            sec,
            format!("{what}: cycles/s"),
            "cycles/s",
            Higher,
        );
        add(
            format!("churn.{v}.us"),
            sec,
            format!("{what}: time a cycle"),
            "µs",
            Lower,
        );
    }
    let big = bytes_label(plan.big_size);
    let sec = format!("{big} object");
    add(
        "big.md5.rate".into(),
        &sec,
        "MD5 on one core (the server's md-5 code, in the load generator): speed".into(),
        "MiB/s",
        Higher,
    );
    add(
        "big.put.rate".into(),
        &sec,
        format!("PUT {big} (streamed): throughput"),
        "MiB/s",
        Higher,
    );
    add(
        "big.put.peak".into(),
        &sec,
        format!("PUT {big}: server peak RSS"),
        "MiB",
        Lower,
    );
    add(
        "big.get.rate".into(),
        &sec,
        format!("GET {big} (streamed): throughput"),
        "MiB/s",
        Higher,
    );
    add(
        "big.get.peak".into(),
        &sec,
        format!("GET {big}: server peak RSS"),
        "MiB",
        Lower,
    );
    let sec = format!("multipart {big}, {} parts", plan.mp_parts);
    add(
        "mp.upload.rate".into(),
        &sec,
        format!("UploadPart × {} (4 conn.): throughput", plan.mp_parts),
        "MiB/s",
        Higher,
    );
    add(
        "mp.complete_ms".into(),
        &sec,
        "CompleteMultipartUpload: time".into(),
        "ms",
        Lower,
    );
    add(
        "mp.peak".into(),
        &sec,
        "server peak RSS (parts + complete)".into(),
        "MiB",
        Lower,
    );
    for &n in &plan.list_sizes {
        let k = count_label(n);
        let sec = format!("listing, {k} keys in {} prefixes", plan.list_prefixes);
        let per = n / plan.list_prefixes;
        add(
            format!("list.{n}.load"),
            &sec,
            format!("load {k} zero-byte keys (64 conn.): rate"),
            "obj/s",
            Higher,
        );
        add(
            format!("list.{n}.full"),
            &sec,
            format!("ListObjectsV2, all {k} keys (1000/page)"),
            "ms",
            Lower,
        );
        add(
            format!("list.{n}.prefix"),
            &sec,
            format!("prefix=p042/&delimiter=/ ({per} keys)"),
            "ms",
            Lower,
        );
        add(
            format!("list.{n}.page100"),
            &sec,
            "prefix=p042/&delimiter=/&max-keys=100".into(),
            "ms",
            Lower,
        );
        add(
            format!("list.{n}.root"),
            &sec,
            format!(
                "delimiter=/ at the root ({} common prefixes)",
                plan.list_prefixes
            ),
            "ms",
            Lower,
        );
        if Some(&n) == plan.list_sizes.last() {
            add(
                format!("list.{n}.restart"),
                &sec,
                format!("disk-backed: killed and restarted with the {k} keys, spawn → first 200"),
                "ms",
                Lower,
            );
        }
    }
    let k = count_label(plan.many);
    let sec = format!("{k} zero-byte objects");
    add(
        "many.rss".into(),
        &sec,
        format!("RSS after {k} zero-byte objects"),
        "MiB",
        Lower,
    );
    add(
        "many.per_obj".into(),
        &sec,
        "RSS growth per object".into(),
        "B",
        Lower,
    );
    add(
        "many.rate".into(),
        &sec,
        "load rate (64 conn.)".into(),
        "obj/s",
        Higher,
    );
    add(
        "many.small.rss".into(),
        &sec,
        format!("disk-backed: RSS after {k} 4 KiB objects"),
        "MiB",
        Lower,
    );
    add(
        "many.small.restart_rss".into(),
        &sec,
        format!("disk-backed: RSS after a restart on the {k} 4 KiB objects"),
        "MiB",
        Lower,
    );
    add(
        "many.small.rate".into(),
        &sec,
        format!("disk-backed: {k} 4 KiB objects, load rate (64 conn.)"),
        "obj/s",
        Higher,
    );
    let sec = "instructions per request (callgrind, s3twin only)";
    for op in instructions::OPS {
        add(
            format!("instr.{}", op.id),
            sec,
            op.label.to_string(),
            "instr.",
            Lower,
        );
    }
    let sec = format!(
        "soak: {} s of mixed operations, {} conn.",
        plan.soak_time.as_secs(),
        plan.soak_conns
    );
    add(
        "soak.ops".into(),
        &sec,
        "operations completed".into(),
        "ops",
        Higher,
    );
    add(
        "soak.rate".into(),
        &sec,
        "operations per second".into(),
        "ops/s",
        Higher,
    );
    add(
        "soak.errors".into(),
        &sec,
        "errors: unexpected answers, wrong bodies, failed requests".into(),
        "count",
        Lower,
    );
    add(
        "soak.verified".into(),
        &sec,
        "objects verified byte for byte at the end".into(),
        "objects",
        Higher,
    );
    add(
        "soak.data_peak".into(),
        &sec,
        "data set at its peak".into(),
        "MiB",
        Neither,
    );
    add(
        "soak.rss_start".into(),
        &sec,
        "server RSS at start".into(),
        "MiB",
        Lower,
    );
    add(
        "soak.rss_peak".into(),
        &sec,
        "server RSS at the peak data set".into(),
        "MiB",
        Lower,
    );
    add(
        "soak.rss_after".into(),
        &sec,
        "server RSS after delete-all (+2 s)".into(),
        "MiB",
        Lower,
    );
    defs
}

/// Everything one peer measured.
#[derive(Debug, Default)]
pub struct Sheet {
    pub cells: HashMap<String, Cell>,
    /// Figures that are kept in the JSON only.
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl Sheet {
    fn ok(&mut self, id: &str, v: f64) {
        self.cells.insert(id.to_string(), Cell::Ok(v));
    }
    fn set(&mut self, id: &str, c: Cell) {
        self.cells.insert(id.to_string(), c);
    }
    /// Gives every row under `prefix` that has no figure yet this one.
    fn fill(&mut self, defs: &[Def], prefix: &str, c: &Cell) {
        for d in defs.iter().filter(|d| d.id.starts_with(prefix)) {
            self.cells.entry(d.id.clone()).or_insert_with(|| c.clone());
        }
    }
    fn extra(&mut self, key: &str, v: serde_json::Value) {
        self.extra.insert(key.to_string(), v);
    }
}

pub struct Bench<'a> {
    pub plan: &'a Plan,
    pub paths: &'a Paths,
    pub scratch: PathBuf,
    pub rt: &'a Runtime,
    /// Run only these sections (`start`, `small`, `churn`, `big`, `multipart`, `listing`,
    /// `many`, `instructions`, `soak`).
    pub only: Option<Vec<String>>,
}

pub const SECTIONS: [&str; 9] = [
    "start",
    "small",
    "churn",
    "big",
    "multipart",
    "listing",
    "many",
    "instructions",
    "soak",
];

fn say(peer: Peer, msg: &str) {
    eprintln!("  [{}] {msg}", peer.name());
}

fn target(s: &Server) -> Arc<Target> {
    Arc::new(Target {
        addr: s.addr,
        auth: s.peer.auth(),
    })
}

/// Runs every section against every peer: section by section, each peer in turn, so the
/// figures a ratio compares are taken close together in time (the machine may be shared).
pub fn run_all(b: &Bench, peers: &[Peer], defs: &[Def]) -> Vec<(Peer, Sheet)> {
    let mut sheets: Vec<(Peer, Sheet, bool)> = peers
        .iter()
        .map(|&peer| {
            let mut sheet = Sheet::default();
            let ready = match peer.installed(b.paths) {
                Err(e) => {
                    sheet.fill(defs, "", &Cell::Na(e));
                    false
                }
                Ok(()) => {
                    if peer.skips("start").is_none() {
                        let (what, size) = peer.footprint(b.paths);
                        sheet.ok("start.footprint", size as f64 / MIB);
                        sheet.extra("footprint_kind", what.into());
                    }
                    sheet.extra("version", peer.version(b.paths).into());
                    true
                }
            };
            (peer, sheet, ready)
        })
        .collect();

    type Section = fn(&Bench, Peer, &mut Sheet) -> Result<(), Cell>;
    let sections: [(&str, &str, Section); 9] = [
        ("start", "start.", startup),
        ("small", "small.", small_objects),
        ("churn", "churn.", churn::churn),
        ("big", "big.", big_objects),
        ("multipart", "mp.", multipart),
        ("listing", "list.", listing),
        ("many", "many.", many_objects),
        ("instructions", "instr.", instructions::instructions),
        ("soak", "soak.", soak::soak),
    ];
    for (name, prefix, f) in sections {
        let skipped = b
            .only
            .as_ref()
            .is_some_and(|o| !o.iter().any(|s| s == name));
        if !skipped {
            eprintln!("== {name}");
        }
        for (peer, sheet, ready) in sheets.iter_mut() {
            if skipped {
                sheet.fill(defs, prefix, &Cell::Na("section not run".into()));
                continue;
            }
            if !*ready {
                continue;
            }
            if let Some(why) = peer.skips(name) {
                sheet.fill(defs, prefix, &Cell::Na(why.into()));
                continue;
            }
            let t0 = Instant::now();
            let outcome = f(b, *peer, sheet);
            if let Err(c) = &outcome {
                say(*peer, &format!("{name}: {}", describe(c)));
                sheet.fill(defs, prefix, c);
            }
            say(
                *peer,
                &format!("{name} done in {:.1} s", t0.elapsed().as_secs_f64()),
            );
        }
    }
    sheets
        .into_iter()
        .map(|(peer, mut sheet, _)| {
            sheet.fill(defs, "", &Cell::Na("not measured".into()));
            (peer, sheet)
        })
        .collect()
}

pub fn describe(c: &Cell) -> String {
    match c {
        Cell::Ok(v) => format!("{v}"),
        Cell::Na(r) => format!("n/a ({r})"),
        Cell::Invalid(r) => format!("invalid ({r})"),
        Cell::Failed(r) => format!("failed ({r})"),
    }
}

fn start(b: &Bench, peer: Peer) -> Result<Server, Cell> {
    Server::start(peer, b.paths, &b.scratch, b.plan.start_timeout).map_err(Cell::Failed)
}

/// One request on a fresh connection; `Err` unless it answered 2xx.
fn once(
    b: &Bench,
    t: &Arc<Target>,
    method: Method,
    path: &str,
    body: Option<Bytes>,
) -> Result<Answer, Cell> {
    let t = t.clone();
    let path = path.to_string();
    b.rt.block_on(async move {
        let mut c = Conn::new(t);
        let a = c
            .request(
                method.clone(),
                &path,
                &[("content-type", "application/octet-stream")],
                &|| ReqBody::Full(body.clone()),
                Keep::Body,
            )
            .await
            .map_err(|e| Cell::Failed(format!("{method} {path}: {e}")))?;
        if a.ok() {
            Ok(a)
        } else {
            Err(Cell::Invalid(format!(
                "{method} {path} answered {}",
                a.describe()
            )))
        }
    })
}

/// One request on `c` (JSON to the admin API, bytes elsewhere); `Err` unless it answered `want` (any 2xx when `None`).
pub(crate) async fn send(
    c: &mut Conn,
    method: Method,
    path: &str,
    body: Option<Bytes>,
    want: Option<u16>,
) -> Result<Answer, Cell> {
    let ctype = if path.starts_with("/_s3twin/") {
        "application/json"
    } else {
        "application/octet-stream"
    };
    let headers: &[(&str, &str)] = if body.is_some() {
        &[("content-type", ctype)]
    } else {
        &[]
    };
    let a = c
        .request(
            method.clone(),
            path,
            headers,
            &|| match &body {
                Some(b) => ReqBody::Full(Some(b.clone())),
                None => ReqBody::Empty,
            },
            Keep::Body,
        )
        .await
        .map_err(|e| Cell::Failed(format!("{method} {path}: {e}")))?;
    let fine = match want {
        Some(code) => a.status.as_u16() == code,
        None => a.ok(),
    };
    if fine {
        Ok(a)
    } else {
        Err(Cell::Invalid(format!(
            "{method} {path} answered {}",
            a.describe()
        )))
    }
}

fn create_bucket(b: &Bench, s: &Server) -> Result<(), Cell> {
    once(b, &target(s), Method::PUT, &format!("/{BUCKET}"), None).map(|_| ())
}

/// Checks the server is still up after a scenario.
fn check_alive(s: &mut Server) -> Result<(), Cell> {
    s.alive().map_err(Cell::Failed)
}

// ---------------------------------------------------------------------------------------------
// cold start, idle RSS, small objects

fn startup(b: &Bench, peer: Peer, sheet: &mut Sheet) -> Result<(), Cell> {
    let plan = b.plan;
    let mut colds = Vec::new();
    for _ in 0..plan.cold_runs {
        let s = start(b, peer)?;
        colds.push(s.ready_after.as_secs_f64() * 1000.0);
        s.kill();
    }
    let cold = median(&mut colds);
    sheet.ok("start.cold_ms", cold);
    sheet.extra("cold_ms_all", serde_json::json!(colds));
    say(
        peer,
        &format!("cold start {cold:.1} ms (median of {})", colds.len()),
    );

    let mut s = start(b, peer)?;
    std::thread::sleep(plan.idle_wait);
    let idle = s.rss() as f64 / MIB;
    sheet.ok("start.idle_rss", idle);
    say(peer, &format!("idle RSS {idle:.1} MiB"));
    let alive = check_alive(&mut s);
    s.stop();
    alive
}

fn small_objects(b: &Bench, peer: Peer, sheet: &mut Sheet) -> Result<(), Cell> {
    let mut s = start(b, peer)?;
    let outcome = small_on(b, &mut s, sheet);
    let alive = check_alive(&mut s);
    s.stop();
    outcome.and(alive)
}

struct OpSpec {
    method: Method,
    path: String,
    body: Option<Bytes>,
    /// GET: the body length a correct answer has.
    expect_len: Option<u64>,
}

#[derive(Debug, Default)]
struct Phase {
    ok: u64,
    non2xx: u64,
    errors: u64,
    problem: Option<String>,
    elapsed: Duration,
    lats_ns: Vec<u64>,
    client_cpu: Duration,
    server_ticks: u64,
}

impl Phase {
    fn rate(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
    /// The reason this phase's figures cannot be trusted, if any.
    fn verdict(&self) -> Option<Cell> {
        if self.errors > 0 {
            return Some(Cell::Failed(format!(
                "{} failed requests: {}",
                self.errors,
                self.problem.clone().unwrap_or_default()
            )));
        }
        if self.non2xx > 0 {
            return Some(Cell::Invalid(format!(
                "{} non-2xx: {}",
                self.non2xx,
                self.problem.clone().unwrap_or_default()
            )));
        }
        if self.ok == 0 {
            return Some(Cell::Failed("no request completed".into()));
        }
        None
    }
}

fn client_cpu() -> Duration {
    // SAFETY: getrusage writes into the struct we hand it.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe {
        libc::getrusage(libc::RUSAGE_SELF, &mut u);
    }
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, (t.tv_usec as u32) * 1000);
    tv(u.ru_utime) + tv(u.ru_stime)
}

/// `conc` connections issue `op(i)` for i = 0, 1, 2, … until `max_ops` were issued or `time`
/// is up; each connection waits for its answer before the next request (closed loop).
fn phase(
    b: &Bench,
    s: &Server,
    conc: usize,
    time: Duration,
    max_ops: u64,
    op: Arc<dyn Fn(u64) -> OpSpec + Send + Sync>,
) -> Phase {
    let t = target(s);
    // One connection: the server and the load generator on one CPU (`pin`).
    let _pinned = if conc == 1 {
        crate::pin::together(&s.tree())
    } else {
        None
    };
    let ticks0 = s.cpu_ticks();
    let cpu0 = client_cpu();
    let mut p = b.rt.block_on(async move {
        let next = Arc::new(AtomicU64::new(0));
        let started = Instant::now();
        let deadline = started + time;
        let per_worker = (max_ops / conc as u64).min(1 << 20) as usize + 16;
        let mut tasks = Vec::new();
        for _ in 0..conc {
            let (t, next, op) = (t.clone(), next.clone(), op.clone());
            tasks.push(tokio::spawn(async move {
                let mut conn = Conn::new(t);
                conn.timeout = Duration::from_secs(30);
                let mut w = Phase {
                    lats_ns: Vec::with_capacity(per_worker.min(200_000)),
                    ..Phase::default()
                };
                while Instant::now() < deadline {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= max_ops {
                        break;
                    }
                    let spec = op(i);
                    let body = spec.body.clone();
                    let headers: &[(&str, &str)] = if body.is_some() {
                        &[("content-type", "application/octet-stream")]
                    } else {
                        &[]
                    };
                    let t0 = Instant::now();
                    let r = conn
                        .request(
                            spec.method.clone(),
                            &spec.path,
                            headers,
                            &|| match &body {
                                Some(b) => ReqBody::Full(Some(b.clone())),
                                None => ReqBody::Empty,
                            },
                            Keep::Body,
                        )
                        .await;
                    let dt = t0.elapsed();
                    match r {
                        Ok(a) if a.ok() => {
                            if spec.expect_len.is_some_and(|n| n != a.len) {
                                w.non2xx += 1;
                                w.problem.get_or_insert_with(|| {
                                    format!(
                                        "{} {}: {} bytes, expected {:?}",
                                        spec.method, spec.path, a.len, spec.expect_len
                                    )
                                });
                            } else {
                                w.ok += 1;
                                w.lats_ns.push(dt.as_nanos() as u64);
                            }
                        }
                        Ok(a) => {
                            w.non2xx += 1;
                            w.problem.get_or_insert_with(|| {
                                format!("{} {} → {}", spec.method, spec.path, a.describe())
                            });
                        }
                        Err(e) => {
                            w.errors += 1;
                            w.problem.get_or_insert_with(|| {
                                format!("{} {}: {e}", spec.method, spec.path)
                            });
                            if w.errors >= 20 {
                                break;
                            }
                            tokio::time::sleep(Duration::from_millis(5)).await;
                        }
                    }
                }
                w
            }));
        }
        let mut total = Phase::default();
        for t in tasks {
            if let Ok(w) = t.await {
                total.ok += w.ok;
                total.non2xx += w.non2xx;
                total.errors += w.errors;
                if total.problem.is_none() {
                    total.problem = w.problem;
                }
                total.lats_ns.extend(w.lats_ns);
            } else {
                total.errors += 1;
                total
                    .problem
                    .get_or_insert_with(|| "a load task panicked".into());
            }
        }
        total.elapsed = started.elapsed();
        total
    });
    p.client_cpu = client_cpu().saturating_sub(cpu0);
    p.server_ticks = s.cpu_ticks().saturating_sub(ticks0);
    p.lats_ns.sort_unstable();
    p
}

fn percentile_ms(sorted_ns: &[u64], q: f64) -> f64 {
    if sorted_ns.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted_ns.len() as f64 - 1.0) * q).round() as usize;
    sorted_ns[i.min(sorted_ns.len() - 1)] as f64 / 1e6
}

fn small_on(b: &Bench, s: &mut Server, sheet: &mut Sheet) -> Result<(), Cell> {
    let plan = b.plan;
    let peer = s.peer;
    create_bucket(b, s)?;
    let data = pattern(plan.small_size, 7);
    let size = plan.small_size as u64;
    // Objects the GET phases read.
    const READ_SET: u64 = 1024;
    let d = data.clone();
    let preload = phase(
        b,
        s,
        16,
        Duration::from_secs(60),
        READ_SET,
        Arc::new(move |i| OpSpec {
            method: Method::PUT,
            path: format!("/{BUCKET}/g4k/{i:05}"),
            body: Some(d.clone()),
            expect_len: None,
        }),
    );
    if let Some(c) = preload.verdict() {
        return Err(c);
    }
    for op in ["put", "get"] {
        for conc in [1usize, 64] {
            let d = data.clone();
            let spec: Arc<dyn Fn(u64) -> OpSpec + Send + Sync> = if op == "put" {
                // Overwrites within a bounded key set, so disk-backed peers do not fill up.
                Arc::new(move |i| OpSpec {
                    method: Method::PUT,
                    path: format!("/{BUCKET}/s4k/{:05}", i % 8192),
                    body: Some(d.clone()),
                    expect_len: None,
                })
            } else {
                Arc::new(move |i| OpSpec {
                    method: Method::GET,
                    path: format!("/{BUCKET}/g4k/{:05}", i % READ_SET),
                    body: None,
                    expect_len: Some(size),
                })
            };
            let p = phase(b, s, conc, plan.small_time, plan.small_max_ops, spec);
            let id = format!("small.{op}.c{conc}");
            sheet.extra(
                &format!("{id}.client_cpu_us_per_op"),
                serde_json::json!(p.client_cpu.as_secs_f64() * 1e6 / p.ok.max(1) as f64),
            );
            sheet.extra(
                &format!("{id}.requests"),
                serde_json::json!(p.ok + p.non2xx),
            );
            match p.verdict() {
                Some(c) => {
                    say(peer, &format!("{id}: {}", describe(&c)));
                    for m in ["ops", "p50", "p99", "cpu"] {
                        sheet.set(&format!("{id}.{m}"), c.clone());
                    }
                    if matches!(c, Cell::Failed(_)) {
                        check_alive(s)?;
                    }
                }
                None => {
                    let cpu_us =
                        p.server_ticks as f64 * 1e6 / ticks_per_second() as f64 / p.ok as f64;
                    sheet.ok(&format!("{id}.ops"), p.rate());
                    sheet.ok(&format!("{id}.p50"), percentile_ms(&p.lats_ns, 0.50));
                    sheet.ok(&format!("{id}.p99"), percentile_ms(&p.lats_ns, 0.99));
                    sheet.ok(&format!("{id}.cpu"), cpu_us);
                    say(peer, &format!(
                        "{id}: {:.0} ops/s, p50 {:.3} ms, p99 {:.3} ms, server {cpu_us:.0} µs CPU/op, loadgen {:.0} µs CPU/op",
                        p.rate(),
                        percentile_ms(&p.lats_ns, 0.50),
                        percentile_ms(&p.lats_ns, 0.99),
                        p.client_cpu.as_secs_f64() * 1e6 / p.ok as f64
                    ));
                }
            }
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// one large object

fn big_objects(b: &Bench, peer: Peer, sheet: &mut Sheet) -> Result<(), Cell> {
    let plan = b.plan;
    let mut s = start(b, peer)?;
    let outcome = (|| {
        create_bucket(b, &s)?;
        let t = target(&s);
        let chunk = pattern(1 << 20, 11);
        let size = plan.big_size;
        let path = format!("/{BUCKET}/big.bin");

        // What the ETag's MD5 allows a streamed PUT at best: a machine figure, measured in
        // s3twin's column just before the PUT and again after the GET (the best pass counts:
        // the machine is shared), so the PUT's ratio to it is taken at the same moment.
        let md5_rate = || crate::digest::md5_rate(&chunk, size.min(256 << 20));
        let md5_before = (peer == Peer::S3twin).then(md5_rate);
        let sampler = s.sample_peak();
        let started = Instant::now();
        let (tt, p2, c2) = (t.clone(), path.clone(), chunk.clone());
        let put = b.rt.block_on(async move {
            let mut c = Conn::new(tt);
            c.timeout = Duration::from_secs(300);
            c.request(
                Method::PUT,
                &p2,
                &[("content-type", "application/octet-stream")],
                &|| ReqBody::Repeat {
                    chunk: c2.clone(),
                    remaining: size,
                },
                Keep::Body,
            )
            .await
        });
        let put_time = started.elapsed();
        let put_peak = sampler.finish(&s);
        match put {
            Err(e) => {
                check_alive(&mut s)?;
                return Err(Cell::Failed(format!("PUT: {e}")));
            }
            Ok(a) if !a.ok() => {
                return Err(Cell::Invalid(format!("PUT answered {}", a.describe())))
            }
            Ok(_) => {}
        }
        let rate = size as f64 / MIB / put_time.as_secs_f64();
        sheet.ok("big.put.rate", rate);
        sheet.ok("big.put.peak", put_peak as f64 / MIB);
        say(
            peer,
            &format!(
                "PUT {}: {rate:.0} MiB/s, peak RSS {:.0} MiB",
                bytes_label(size),
                put_peak as f64 / MIB
            ),
        );

        let sampler = s.sample_peak();
        let started = Instant::now();
        let (tt, p2) = (t.clone(), path.clone());
        let get = b.rt.block_on(async move {
            let mut c = Conn::new(tt);
            c.timeout = Duration::from_secs(300);
            c.get(&p2, Keep::Count).await
        });
        let get_time = started.elapsed();
        let get_peak = sampler.finish(&s);
        match get {
            Err(e) => {
                check_alive(&mut s)?;
                return Err(Cell::Failed(format!("GET: {e}")));
            }
            Ok(a) if !a.ok() => {
                sheet.set(
                    "big.get.rate",
                    Cell::Invalid(format!("GET answered {}", a.status.as_u16())),
                );
                return Ok(());
            }
            Ok(a) if a.len != size => {
                sheet.set(
                    "big.get.rate",
                    Cell::Invalid(format!("GET returned {} of {size} bytes", a.len)),
                );
                return Ok(());
            }
            Ok(_) => {}
        }
        match md5_before {
            Some(before) => {
                let rate = md5_rate().max(before);
                sheet.ok("big.md5.rate", rate);
                say(peer, &format!("MD5 on one core: {rate:.0} MiB/s"));
            }
            None => sheet.set(
                "big.md5.rate",
                Cell::Na("measured in s3twin's column".into()),
            ),
        }
        let rate = size as f64 / MIB / get_time.as_secs_f64();
        sheet.ok("big.get.rate", rate);
        sheet.ok("big.get.peak", get_peak as f64 / MIB);
        say(
            peer,
            &format!(
                "GET {}: {rate:.0} MiB/s, peak RSS {:.0} MiB",
                bytes_label(size),
                get_peak as f64 / MIB
            ),
        );
        check_alive(&mut s)
    })();
    s.stop();
    outcome
}

// ---------------------------------------------------------------------------------------------
// multipart upload

fn multipart(b: &Bench, peer: Peer, sheet: &mut Sheet) -> Result<(), Cell> {
    let plan = b.plan;
    let mut s = start(b, peer)?;
    let outcome = (|| {
        create_bucket(b, &s)?;
        let t = target(&s);
        let key = format!("/{BUCKET}/multi.bin");
        let total = plan.big_size;
        let part = plan.part_size();
        let parts = total.div_ceil(part);

        let sampler = s.sample_peak();
        let created = {
            let (tt, k) = (t.clone(), key.clone());
            b.rt.block_on(async move {
                Conn::new(tt)
                    .request(
                        Method::POST,
                        &format!("{k}?uploads"),
                        &[("content-type", "application/octet-stream")],
                        &|| ReqBody::Empty,
                        Keep::Body,
                    )
                    .await
            })
        };
        let created = match created {
            Err(e) => return Err(Cell::Failed(format!("CreateMultipartUpload: {e}"))),
            Ok(a) if a.status.as_u16() == 501 => {
                return Err(Cell::Na(format!(
                    "CreateMultipartUpload answered {}",
                    a.describe()
                )))
            }
            Ok(a) if !a.ok() => {
                return Err(Cell::Invalid(format!(
                    "CreateMultipartUpload answered {}",
                    a.describe()
                )))
            }
            Ok(a) => a,
        };
        let upload_id = xml_value(&created.text(), "UploadId")
            .filter(|u| !u.is_empty())
            .ok_or_else(|| Cell::Invalid("CreateMultipartUpload: no UploadId".into()))?;
        let id_q = encode(&upload_id);

        // Parts over 4 connections.
        let chunk = pattern(1 << 20, 13);
        let etags: Arc<Mutex<Vec<(u64, String)>>> = Arc::new(Mutex::new(Vec::new()));
        let problem: Arc<Mutex<Option<Cell>>> = Arc::new(Mutex::new(None));
        let started = Instant::now();
        {
            let (t, key, id_q, chunk, etags, problem) = (
                t.clone(),
                key.clone(),
                id_q.clone(),
                chunk.clone(),
                etags.clone(),
                problem.clone(),
            );
            b.rt.block_on(async move {
                let next = Arc::new(AtomicU64::new(1));
                let mut tasks = Vec::new();
                for _ in 0..4 {
                    let (t, key, id_q, chunk, etags, problem, next) = (
                        t.clone(),
                        key.clone(),
                        id_q.clone(),
                        chunk.clone(),
                        etags.clone(),
                        problem.clone(),
                        next.clone(),
                    );
                    tasks.push(tokio::spawn(async move {
                        let mut c = Conn::new(t);
                        c.timeout = Duration::from_secs(120);
                        loop {
                            let n = next.fetch_add(1, Ordering::Relaxed);
                            if n > parts || problem.lock().unwrap().is_some() {
                                break;
                            }
                            let len = if n == parts {
                                total - part * (parts - 1)
                            } else {
                                part
                            };
                            let r = c
                                .request(
                                    Method::PUT,
                                    &format!("{key}?partNumber={n}&uploadId={id_q}"),
                                    &[("content-type", "application/octet-stream")],
                                    &|| ReqBody::Repeat {
                                        chunk: chunk.clone(),
                                        remaining: len,
                                    },
                                    Keep::Body,
                                )
                                .await;
                            match r {
                                Ok(a) if a.ok() => match a.header("etag") {
                                    Some(e) => etags.lock().unwrap().push((n, e.to_string())),
                                    None => {
                                        *problem.lock().unwrap() =
                                            Some(Cell::Invalid(format!("UploadPart {n}: no ETag")));
                                    }
                                },
                                Ok(a) => {
                                    *problem.lock().unwrap() = Some(Cell::Invalid(format!(
                                        "UploadPart {n} answered {}",
                                        a.describe()
                                    )));
                                }
                                Err(e) => {
                                    *problem.lock().unwrap() =
                                        Some(Cell::Failed(format!("UploadPart {n}: {e}")));
                                }
                            }
                        }
                    }));
                }
                for t in tasks {
                    let _ = t.await;
                }
            });
        }
        let upload_time = started.elapsed();
        if let Some(c) = problem.lock().unwrap().take() {
            let _ = sampler.finish(&s);
            check_alive(&mut s)?;
            return Err(c);
        }
        let mut etags = std::mem::take(&mut *etags.lock().unwrap());
        etags.sort();
        let mut doc = String::from(
            "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">",
        );
        for (n, e) in &etags {
            doc.push_str(&format!(
                "<Part><PartNumber>{n}</PartNumber><ETag>{e}</ETag></Part>"
            ));
        }
        doc.push_str("</CompleteMultipartUpload>");
        let doc = Bytes::from(doc);

        let started = Instant::now();
        let completed = {
            let (tt, k, q) = (t.clone(), key.clone(), id_q.clone());
            b.rt.block_on(async move {
                let mut c = Conn::new(tt);
                c.timeout = Duration::from_secs(300);
                c.request(
                    Method::POST,
                    &format!("{k}?uploadId={q}"),
                    &[("content-type", "application/xml")],
                    &|| ReqBody::Full(Some(doc.clone())),
                    Keep::Body,
                )
                .await
            })
        };
        let complete_time = started.elapsed();
        let peak = sampler.finish(&s);
        match completed {
            Err(e) => {
                check_alive(&mut s)?;
                return Err(Cell::Failed(format!("CompleteMultipartUpload: {e}")));
            }
            Ok(a) if !a.ok() || !a.text().contains("CompleteMultipartUploadResult") => {
                return Err(Cell::Invalid(format!(
                    "CompleteMultipartUpload answered {}",
                    a.describe()
                )))
            }
            Ok(_) => {}
        }
        // The assembled object must have the full size.
        let head = {
            let (tt, k) = (t.clone(), key.clone());
            b.rt.block_on(async move {
                Conn::new(tt)
                    .request(Method::HEAD, &k, &[], &|| ReqBody::Empty, Keep::Body)
                    .await
            })
        };
        let len = head.ok().filter(|a| a.ok()).and_then(|a| {
            a.header("content-length")
                .and_then(|v| v.parse::<u64>().ok())
        });
        if len != Some(total) {
            return Err(Cell::Invalid(format!(
                "the completed object has {len:?} bytes, not {total}"
            )));
        }
        let rate = total as f64 / MIB / upload_time.as_secs_f64();
        sheet.ok("mp.upload.rate", rate);
        sheet.ok("mp.complete_ms", complete_time.as_secs_f64() * 1000.0);
        sheet.ok("mp.peak", peak as f64 / MIB);
        say(
            peer,
            &format!(
                "multipart: parts {rate:.0} MiB/s, Complete {:.1} ms, peak RSS {:.0} MiB",
                complete_time.as_secs_f64() * 1000.0,
                peak as f64 / MIB
            ),
        );
        check_alive(&mut s)
    })();
    s.stop();
    outcome
}

// ---------------------------------------------------------------------------------------------
// listing

/// Zero-byte PUTs of `key(i)` for i in `from..to` over 64 connections. After a few seconds the
/// projected time is checked against `budget`; a peer that would overrun it is stopped early.
/// Returns (objects stored, rate in objects/s, Err with the verdict if it did not finish).
fn load_keys(
    b: &Bench,
    s: &Server,
    from: u64,
    to: u64,
    budget: Duration,
    key: Arc<dyn Fn(u64) -> String + Send + Sync>,
    body: Option<Bytes>,
) -> Result<f64, Cell> {
    let started = Instant::now();
    let mut done = from;
    let probe = Duration::from_secs(if b.plan.quick { 1 } else { 4 });
    let mut first = true;
    while done < to {
        let left = budget.saturating_sub(started.elapsed());
        if left.is_zero() {
            break;
        }
        let slice = if first { probe.min(left) } else { left };
        let base = done;
        let k = key.clone();
        let body = body.clone();
        let p = phase(
            b,
            s,
            64,
            slice,
            to - done,
            Arc::new(move |i| OpSpec {
                method: Method::PUT,
                path: format!("/{BUCKET}/{}", k(base + i)),
                body: body.clone(),
                expect_len: None,
            }),
        );
        // Keys are handed out in order; failed ones count as issued.
        done += p.ok + p.non2xx + p.errors;
        if let Some(c) = p.verdict() {
            return Err(c);
        }
        if first {
            first = false;
            let rate = (done - from) as f64 / started.elapsed().as_secs_f64();
            let projected = (to - from) as f64 / rate.max(1e-9);
            if projected > budget.as_secs_f64() {
                return Err(Cell::Na(format!(
                    "too slow: {rate:.0} objects/s, {} objects would take {projected:.0} s",
                    count_label(to - from)
                )));
            }
        }
    }
    let rate = (done - from) as f64 / started.elapsed().as_secs_f64();
    if done < to {
        return Err(Cell::Na(format!(
            "too slow: {rate:.0} objects/s, {} of {} loaded in {:.0} s",
            done - from,
            to - from,
            budget.as_secs_f64()
        )));
    }
    Ok(rate)
}

/// What one listing request (all its pages) returned.
#[derive(Debug, Default)]
struct Listed {
    keys: u64,
    prefixes: u64,
    pages: u64,
}

/// Lists every page of `query`. `expected` keys let a slow peer be stopped early: when the
/// pages so far project past `budget`, the answer is "too slow".
async fn list_all(
    c: &mut Conn,
    query: &str,
    max_pages: u64,
    expected: u64,
    budget: Duration,
) -> Result<Listed, Cell> {
    let mut out = Listed::default();
    let mut token: Option<String> = None;
    let started = Instant::now();
    loop {
        let spent = started.elapsed();
        if out.keys > 0 && expected > out.keys {
            let projected = spent.as_secs_f64() * expected as f64 / out.keys as f64;
            if projected > budget.as_secs_f64() {
                return Err(Cell::Na(format!(
                    "too slow: {} of {} keys listed in {:.1} s, all would take about {:.0} s",
                    out.keys,
                    expected,
                    spent.as_secs_f64(),
                    projected
                )));
            }
        }
        let mut path = format!("/{BUCKET}?list-type=2{query}");
        if let Some(t) = &token {
            path.push_str(&format!("&continuation-token={}", encode(t)));
        }
        let a = c
            .get(&path, Keep::Body)
            .await
            .map_err(|e| Cell::Failed(format!("GET {path}: {e}")))?;
        if !a.ok() {
            return Err(Cell::Invalid(format!(
                "GET {path} answered {}",
                a.describe()
            )));
        }
        let text = a.text();
        out.pages += 1;
        out.keys += text.matches("<Key>").count() as u64;
        out.prefixes += text.matches("<CommonPrefixes>").count() as u64;
        let truncated = xml_value(&text, "IsTruncated").is_some_and(|v| v == "true");
        if !truncated {
            return Ok(out);
        }
        token = xml_value(&text, "NextContinuationToken");
        if token.is_none() {
            return Err(Cell::Invalid(format!(
                "GET {path}: truncated page without NextContinuationToken"
            )));
        }
        if out.pages >= max_pages {
            return Err(Cell::Invalid(format!("more than {max_pages} pages")));
        }
    }
}

/// Times `query` (all pages) up to `reps` times within `time`; the median, after checking
/// every answer with `check`.
#[allow(clippy::too_many_arguments)]
fn time_listing(
    b: &Bench,
    s: &Server,
    query: &str,
    reps: usize,
    time: Duration,
    max_pages: u64,
    expected: u64,
    check: impl Fn(&Listed) -> Result<(), String>,
) -> Result<f64, Cell> {
    let t = target(s);
    let query = query.to_string();
    let budget = b.plan.list_time_budget;
    let (times, last) = b.rt.block_on(async move {
        let mut c = Conn::new(t);
        c.timeout = Duration::from_secs(120);
        // One untimed request warms the connection (and the server's caches, if any).
        let _ = c.get("/", Keep::Count).await;
        let started = Instant::now();
        let mut times = Vec::new();
        let mut last = Ok(Listed::default());
        while times.len() < reps && (times.is_empty() || started.elapsed() < time) {
            let t0 = Instant::now();
            last = list_all(&mut c, &query, max_pages, expected, budget).await;
            let dt = t0.elapsed();
            if last.is_err() {
                break;
            }
            times.push(dt.as_secs_f64() * 1000.0);
        }
        (times, last)
    });
    let listed = last?;
    check(&listed).map_err(Cell::Invalid)?;
    let mut times = times;
    Ok(median(&mut times))
}

fn key_for(prefixes: u64) -> Arc<dyn Fn(u64) -> String + Send + Sync> {
    Arc::new(move |i| format!("p{:03}/k{:06}", i % prefixes, i / prefixes))
}

fn listing(b: &Bench, peer: Peer, sheet: &mut Sheet) -> Result<(), Cell> {
    let plan = b.plan;
    let mut s = start(b, peer)?;
    let outcome = (|| {
        create_bucket(b, &s)?;
        let started = Instant::now();
        let mut loaded = 0u64;
        for &n in &plan.list_sizes {
            let id = format!("list.{n}");
            let budget = plan.list_load_budget.saturating_sub(started.elapsed());
            let rate = match load_keys(b, &s, loaded, n, budget, key_for(plan.list_prefixes), None)
            {
                Ok(r) => r,
                Err(c) => {
                    // Later (larger) sizes cannot be reached either.
                    check_alive(&mut s)?;
                    return Err(c);
                }
            };
            loaded = n;
            sheet.ok(&format!("{id}.load"), rate);
            let per = n / plan.list_prefixes;
            let pages = n / 1000 + 10;
            let reps_full = if plan.quick { 3 } else { 5 };
            let results = [
                ("full", String::new(), reps_full, n, 0u64),
                (
                    "prefix",
                    "&prefix=p042%2F&delimiter=%2F".to_string(),
                    21,
                    per,
                    0,
                ),
                (
                    "page100",
                    "&prefix=p042%2F&delimiter=%2F&max-keys=100".to_string(),
                    51,
                    per.min(100),
                    0,
                ),
                (
                    "root",
                    "&delimiter=%2F".to_string(),
                    21,
                    0,
                    plan.list_prefixes,
                ),
            ];
            let mut line = format!("{} keys loaded at {rate:.0}/s;", count_label(n));
            for (what, query, reps, keys, prefixes) in results {
                // page100 stops after its first page.
                let max_pages = if what == "page100" { 1 } else { pages };
                let check = move |l: &Listed| {
                    if l.keys != keys || l.prefixes != prefixes {
                        Err(format!(
                            "listed {} keys and {} prefixes, expected {keys} and {prefixes}",
                            l.keys, l.prefixes
                        ))
                    } else {
                        Ok(())
                    }
                };
                // Repetitions stop after this much time (the first one always completes).
                let time = plan.list_rep_time;
                let r = if what == "page100" {
                    time_page(b, &s, &query, reps, time, check)
                } else {
                    time_listing(b, &s, &query, reps, time, max_pages, keys + prefixes, check)
                };
                match r {
                    Ok(ms) => {
                        sheet.ok(&format!("{id}.{what}"), ms);
                        line.push_str(&format!(" {what} {ms:.2} ms"));
                    }
                    Err(c) => {
                        line.push_str(&format!(" {what} {}", describe(&c)));
                        if matches!(c, Cell::Failed(_)) {
                            check_alive(&mut s)?;
                        }
                        sheet.set(&format!("{id}.{what}"), c);
                    }
                }
            }
            say(peer, &line);
        }
        check_alive(&mut s)
    })();
    if outcome.is_err() {
        s.stop();
        return outcome;
    }
    // A disk-backed server restarted on the largest set (killed, as a crash): its cold start
    // with that much on disk, and the keys still there.
    let Some(&n) = plan.list_sizes.last() else {
        s.stop();
        return outcome;
    };
    let id = format!("list.{n}.restart");
    if !peer.disk_backed() {
        sheet.set(&id, Cell::Na("keeps nothing on disk".into()));
        s.stop();
        return outcome;
    }
    let s = s
        .restart(b.paths, &b.scratch, plan.start_timeout)
        .map_err(Cell::Failed)?;
    let ms = s.ready_after.as_secs_f64() * 1000.0;
    let keys = (n / plan.list_prefixes).min(100);
    let query = "&prefix=p042%2F&delimiter=%2F&max-keys=100";
    let listed = time_page(b, &s, query, 1, Duration::ZERO, move |l: &Listed| {
        if l.keys == keys {
            Ok(())
        } else {
            Err(format!(
                "after the restart {} keys listed, expected {keys}",
                l.keys
            ))
        }
    });
    match listed {
        Ok(_) => {
            sheet.ok(&id, ms);
            say(
                peer,
                &format!("restart with {} keys: {ms:.1} ms", count_label(n)),
            );
        }
        Err(c) => sheet.set(&id, c),
    }
    s.stop();
    outcome
}

/// Like `time_listing`, for exactly one page (the answer may be truncated).
fn time_page(
    b: &Bench,
    s: &Server,
    query: &str,
    reps: usize,
    time: Duration,
    check: impl Fn(&Listed) -> Result<(), String>,
) -> Result<f64, Cell> {
    let t = target(s);
    let path = format!("/{BUCKET}?list-type=2{query}");
    let (times, last) = b.rt.block_on(async move {
        let mut c = Conn::new(t);
        let _ = c.get("/", Keep::Count).await;
        let started = Instant::now();
        let mut times = Vec::new();
        let mut last: Result<Listed, Cell> = Ok(Listed::default());
        while times.len() < reps && (times.is_empty() || started.elapsed() < time) {
            let t0 = Instant::now();
            let r = c.get(&path, Keep::Body).await;
            let dt = t0.elapsed();
            last = match r {
                Err(e) => Err(Cell::Failed(format!("GET {path}: {e}"))),
                Ok(a) if !a.ok() => Err(Cell::Invalid(format!(
                    "GET {path} answered {}",
                    a.describe()
                ))),
                Ok(a) => {
                    let text = a.text();
                    Ok(Listed {
                        keys: text.matches("<Key>").count() as u64,
                        prefixes: text.matches("<CommonPrefixes>").count() as u64,
                        pages: 1,
                    })
                }
            };
            if last.is_err() {
                break;
            }
            times.push(dt.as_secs_f64() * 1000.0);
        }
        (times, last)
    });
    let listed = last?;
    check(&listed).map_err(Cell::Invalid)?;
    let mut times = times;
    Ok(median(&mut times))
}

// ---------------------------------------------------------------------------------------------
// many objects

fn many_objects(b: &Bench, peer: Peer, sheet: &mut Sheet) -> Result<(), Cell> {
    let outcome = many_load(b, peer, sheet, None);
    if !peer.disk_backed() {
        sheet.set(
            "many.small.rss",
            Cell::Na("keeps bodies in memory (4 GiB)".into()),
        );
        sheet.set("many.small.rate", Cell::Na("(as above)".into()));
        sheet.set("many.small.restart_rss", Cell::Na("(as above)".into()));
        return outcome;
    }
    // Bodies on disk: what stays in memory is the metadata (the "1M small objects").
    let small = many_load(b, peer, sheet, Some(Bytes::from(vec![b'm'; 4096])));
    outcome.and(small)
}

/// Loads `plan.many` objects (zero-byte, or all with `body`) into a fresh server and records
/// its RSS afterwards.
fn many_load(b: &Bench, peer: Peer, sheet: &mut Sheet, body: Option<Bytes>) -> Result<(), Cell> {
    let plan = b.plan;
    let (rss_id, per_id, rate_id) = match body {
        None => ("many.rss", Some("many.per_obj"), "many.rate"),
        Some(_) => ("many.small.rss", None, "many.small.rate"),
    };
    let what = match &body {
        None => "zero-byte",
        Some(_) => "4 KiB",
    };
    let mut s = start(b, peer)?;
    let outcome = (|| {
        create_bucket(b, &s)?;
        std::thread::sleep(Duration::from_millis(200));
        let before = s.rss();
        let key: Arc<dyn Fn(u64) -> String + Send + Sync> =
            Arc::new(|i| format!("m{:03}/{i:07}", i % 1000));
        let rate = match load_keys(b, &s, 0, plan.many, plan.many_budget, key, body) {
            Ok(r) => r,
            Err(c) => {
                check_alive(&mut s)?;
                if let Cell::Na(_) = &c {
                    sheet.set(rate_id, c.clone());
                }
                return Err(c);
            }
        };
        std::thread::sleep(Duration::from_millis(500));
        let after = s.rss();
        sheet.ok(rss_id, after as f64 / MIB);
        if let Some(per_id) = per_id {
            sheet.ok(
                per_id,
                after.saturating_sub(before) as f64 / plan.many as f64,
            );
        }
        sheet.ok(rate_id, rate);
        say(
            peer,
            &format!(
                "{} {what} objects at {rate:.0}/s: RSS {:.0} MiB ({:.0} B/object)",
                count_label(plan.many),
                after as f64 / MIB,
                after.saturating_sub(before) as f64 / plan.many as f64
            ),
        );
        check_alive(&mut s)
    })();
    if outcome.is_err() || rss_id != "many.small.rss" {
        s.stop();
        return outcome;
    }
    // What the same objects cost once read back from disk (killed, as a crash): the state
    // a restarted server keeps.
    let s = s
        .restart(b.paths, &b.scratch, plan.start_timeout)
        .map_err(Cell::Failed)?;
    std::thread::sleep(Duration::from_millis(500));
    let rss = s.rss();
    sheet.ok("many.small.restart_rss", rss as f64 / MIB);
    say(
        peer,
        &format!(
            "restarted on {} 4 KiB objects in {:.0} ms: RSS {:.0} MiB",
            count_label(plan.many),
            s.ready_after.as_secs_f64() * 1000.0,
            rss as f64 / MIB
        ),
    );
    s.stop();
    Ok(())
}

pub fn median(v: &mut [f64]) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}
