//! The s3twin benchmark harness and load generator. `bench/run.sh` installs the peers, builds
//! this program and runs it; see bench/README.md.
//!
//! ```text
//! loadgen --repo DIR --bench DIR [--quick] [--peers s3twin,moto,s3rver,s3s-fs,bare-hyper]
//!         [--only start,small,churn,big,multipart,listing,many,instructions,soak] [--s3twin-bin PATH]
//!         [--commit TEXT] [--threads N] [--soak-secs N] [--results-md PATH] [--no-results]
//! ```

mod client;
mod digest;
mod peers;
mod pin;
mod report;
mod scenarios;
mod sigv4;

use peers::{Paths, Peer};
use scenarios::{Bench, Plan};
use std::path::PathBuf;
use std::process::{Command, ExitCode};
use std::time::Instant;

struct Args {
    repo: PathBuf,
    bench: PathBuf,
    quick: bool,
    peers: Option<Vec<Peer>>,
    s3twin_bin: Option<PathBuf>,
    commit: Option<String>,
    threads: usize,
    results_md: Option<PathBuf>,
    only: Option<Vec<String>>,
    no_results: bool,
    soak_secs: Option<u64>,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        repo: PathBuf::from("."),
        bench: PathBuf::from("bench"),
        quick: false,
        peers: None,
        s3twin_bin: None,
        commit: None,
        threads: 1,
        results_md: None,
        only: None,
        no_results: false,
        soak_secs: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut val = |name: &str| it.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "--repo" => a.repo = val("--repo")?.into(),
            "--bench" => a.bench = val("--bench")?.into(),
            "--quick" => a.quick = true,
            "--peers" => {
                let list = val("--peers")?;
                let mut ps = Vec::new();
                for name in list.split(',').filter(|s| !s.is_empty()) {
                    ps.push(Peer::parse(name).ok_or(format!("unknown peer {name}"))?);
                }
                a.peers = Some(ps);
            }
            "--s3twin-bin" => a.s3twin_bin = Some(val("--s3twin-bin")?.into()),
            "--commit" => a.commit = Some(val("--commit")?),
            "--threads" => {
                a.threads = val("--threads")?
                    .parse()
                    .map_err(|_| "--threads: a number")?
            }
            "--soak-secs" => {
                let n: u64 = val("--soak-secs")?
                    .parse()
                    .map_err(|_| "--soak-secs: a number of seconds")?;
                if n == 0 {
                    return Err("--soak-secs: at least 1".into());
                }
                a.soak_secs = Some(n);
            }
            "--results-md" => a.results_md = Some(val("--results-md")?.into()),
            "--no-results" => a.no_results = true,
            "--only" => {
                let list: Vec<String> = val("--only")?
                    .split(',')
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect();
                if let Some(bad) = list
                    .iter()
                    .find(|s| !scenarios::SECTIONS.contains(&s.as_str()))
                {
                    return Err(format!(
                        "unknown section {bad} (sections: {})",
                        scenarios::SECTIONS.join(", ")
                    ));
                }
                a.only = Some(list);
            }
            "-h" | "--help" => {
                println!(
                    "{}",
                    include_str!("main.rs")
                        .lines()
                        .skip(4)
                        .take(3)
                        .map(|l| l.trim_start_matches("//! "))
                        .collect::<Vec<_>>()
                        .join("\n")
                );
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(a)
}

fn cmd_out(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

fn commit(repo: &std::path::Path) -> String {
    let r = repo.display().to_string();
    let head = cmd_out("git", &["-C", &r, "rev-parse", "--short=12", "HEAD"]);
    if head.is_empty() {
        return "unknown".into();
    }
    let dirty = cmd_out(
        "git",
        &[
            "-C",
            &r,
            "status",
            "--porcelain",
            "--untracked-files=no",
            "--",
            "src",
            "Cargo.toml",
            "Cargo.lock",
        ],
    );
    if dirty.is_empty() {
        head
    } else {
        format!("{head} + uncommitted changes in src/")
    }
}

fn meminfo_gib() -> f64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| {
                    l.split_whitespace()
                        .nth(1)
                        .and_then(|v| v.parse::<f64>().ok())
                })
        })
        .map(|kb| kb / 1024.0 / 1024.0)
        .unwrap_or(0.0)
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1).map(|v| v.trim().to_string()))
        })
        .unwrap_or_else(|| "unknown CPU".into())
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("loadgen: {e}");
            return ExitCode::from(2);
        }
    };
    let started = Instant::now();
    // Taken now: the code being measured is the code as it is when the run starts.
    let commit_text = args.commit.clone().unwrap_or_else(|| commit(&args.repo));
    let date = cmd_out("date", &["-u", "+%Y-%m-%d %H:%M UTC"]);
    let mut plan = if args.quick {
        Plan::quick()
    } else {
        Plan::full()
    };
    if let Some(n) = args.soak_secs {
        plan.soak_time = std::time::Duration::from_secs(n);
    }
    let peers = args.peers.clone().unwrap_or_else(|| {
        if args.quick {
            vec![Peer::S3twin, Peer::S3twinDisk]
        } else {
            peers::ALL.to_vec()
        }
    });
    let paths = Paths {
        s3twin_bin: args
            .s3twin_bin
            .clone()
            .unwrap_or_else(|| args.repo.join("target/release/s3twin")),
        bench: args.bench.clone(),
    };
    let scratch = std::env::temp_dir().join(format!("s3twin-bench-{}", std::process::id()));
    if let Err(e) = std::fs::create_dir_all(&scratch) {
        eprintln!("loadgen: scratch directory: {e}");
        return ExitCode::FAILURE;
    }
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.threads.max(1))
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("loadgen: runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let defs = scenarios::catalog(&plan);
    let bench = Bench {
        plan: &plan,
        paths: &paths,
        scratch: scratch.clone(),
        rt: &rt,
        only: args.only.clone(),
    };
    let sheets = scenarios::run_all(&bench, &peers, &defs);
    let _ = std::fs::remove_dir_all(&scratch);

    let mode = if args.quick { "quick" } else { "full" };
    let meta = report::Meta {
        mode,
        date,
        cores: std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(0),
        memory_gib: meminfo_gib(),
        cpu: cpu_model(),
        // major.minor only: the rest names the build, not the kernel.
        kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .unwrap_or_default()
            .trim()
            .split('.')
            .take(2)
            .collect::<Vec<_>>()
            .join("."),
        commit: commit_text,
        rustc: cmd_out("rustc", &["--version"]),
        elapsed_s: started.elapsed().as_secs_f64(),
    };
    let run = report::Run {
        meta: &meta,
        plan: &plan,
        defs: &defs,
        peers: &sheets,
    };
    // Messages (a server's log tail, a missing install) may carry absolute paths: keep the
    // written results free of this machine's layout.
    let redact = |text: String| -> String {
        let mut t = text;
        for (path, name) in [
            (
                std::fs::canonicalize(&args.bench).unwrap_or(args.bench.clone()),
                "bench",
            ),
            (
                std::fs::canonicalize(&args.repo).unwrap_or(args.repo.clone()),
                ".",
            ),
            (std::env::temp_dir(), "$TMPDIR"),
        ] {
            let p = path.display().to_string();
            if p.len() > 1 {
                t = t.replace(&p, name);
            }
        }
        t
    };
    let md = redact(report::markdown(&run));
    let js = report::json(&run);
    if args.no_results {
        println!("{md}");
        return exit_code(&sheets, &defs);
    }
    let results = args.bench.join("results");
    let stamp = cmd_out("date", &["-u", "+%Y%m%dT%H%M%SZ"]);
    let _ = std::fs::create_dir_all(&results);
    let text = redact(serde_json::to_string_pretty(&js).unwrap_or_default());
    for (name, body) in [
        (format!("{mode}-{stamp}.json"), &text),
        (format!("latest-{mode}.json"), &text),
        (format!("latest-{mode}.md"), &md),
    ] {
        if let Err(e) = std::fs::write(results.join(&name), body) {
            eprintln!("loadgen: cannot write {name}: {e}");
            return ExitCode::FAILURE;
        }
    }
    // The instruction counts also go into their history, which git keeps (a quick run has none).
    let valgrind = cmd_out("valgrind", &["--version"]);
    if let Some(row) = report::instructions_row(&run, &valgrind) {
        let path = results.join(report::INSTRUCTIONS_HISTORY);
        if let Err(e) = report::append_history(&path, &row) {
            eprintln!(
                "loadgen: cannot append to {}: {e}",
                report::INSTRUCTIONS_HISTORY
            );
            return ExitCode::FAILURE;
        }
    }
    if let Some(p) = &args.results_md {
        if let Err(e) = std::fs::write(p, &md) {
            eprintln!("loadgen: cannot write {}: {e}", p.display());
            return ExitCode::FAILURE;
        }
    }
    println!("{md}");
    exit_code(&sheets, &defs)
}

fn exit_code(sheets: &[(Peer, scenarios::Sheet)], defs: &[scenarios::Def]) -> ExitCode {
    // Any s3twin figure that broke (non-2xx, crash, wrong answer) fails the run; "n/a" (an
    // operation s3twin does not have yet) does not.
    let broken: Vec<String> = sheets
        .iter()
        .filter(|(p, _)| *p == Peer::S3twin)
        .flat_map(|(_, s)| {
            defs.iter().filter_map(|d| match s.cells.get(&d.id) {
                Some(c @ (scenarios::Cell::Invalid(_) | scenarios::Cell::Failed(_))) => {
                    Some(format!("{}: {}", d.label, scenarios::describe(c)))
                }
                _ => None,
            })
        })
        .collect();
    if !broken.is_empty() {
        eprintln!("loadgen: s3twin failed {} figure(s):", broken.len());
        for b in &broken {
            eprintln!("  {b}");
        }
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
