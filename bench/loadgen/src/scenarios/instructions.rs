//! Instructions per request, the figure the shared machine cannot blur: s3twin runs under
//! `valgrind --tool=callgrind`, once with `WARM` requests of one kind and once with `WARM +
//! EXTRA`, the same set-up before both; the difference of the two totals ÷ `EXTRA` is what one
//! more request costs, start-up, set-up and exit excluded. The row is the median of `PAIRS`
//! such pairs. One connection, one request at a time. Full runs only, and only when
//! `valgrind` is on PATH.
//!
//! valgrind's CPU has no SHA-NI or AVX-512, so the server runs its software fallbacks there:
//! the counts are for spotting regressions from commit to commit, not for absolute speed.

use super::{say, target, Bench, Cell, Server, Sheet};
use crate::client::{pattern, Conn};
use crate::peers::Peer;
use bytes::Bytes;
use http::Method;
use std::path::Path;
use std::time::Duration;

/// Requests before the measured ones (warm caches, allocator, connection) and the measured.
const WARM: u64 = 200;
const EXTRA: u64 = 1000;
/// Pairs of lives per operation; the row is the median of their differences (a set-up's own
/// count varies by about 1 %, which is a few percent of a request's when spread over 1000).
const PAIRS: usize = 3;
/// Objects the PUT, GET, HEAD and listing requests work on (PUTs overwrite them).
const SET: u64 = 1024;
const BUCKET: &str = "instr";

#[derive(Clone, Copy)]
pub struct Op {
    pub id: &'static str,
    pub label: &'static str,
}

pub const OPS: [Op; 5] = [
    Op {
        id: "put",
        label: "PutObject 4 KiB (overwrite)",
    },
    Op {
        id: "get",
        label: "GetObject 4 KiB",
    },
    Op {
        id: "head",
        label: "HeadObject 4 KiB",
    },
    Op {
        id: "list",
        label: "ListObjectsV2, a page of 100 keys (of 1024)",
    },
    Op {
        id: "delete",
        label: "DeleteObject (zero-byte object)",
    },
];

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|paths| {
        std::env::split_paths(&paths).any(|d| {
            let p = d.join(program);
            p.is_file()
                && std::fs::metadata(&p)
                    .map(|m| std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o111 != 0)
                    .unwrap_or(false)
        })
    })
}

pub fn instructions(b: &Bench, peer: Peer, sheet: &mut Sheet) -> Result<(), Cell> {
    if b.plan.quick {
        return Err(Cell::Na("not measured: quick run".into()));
    }
    if !on_path("valgrind") {
        return Err(Cell::Na("not measured: valgrind not on PATH".into()));
    }
    for op in OPS {
        let pairs: Result<Vec<[u64; 2]>, Cell> = (0..PAIRS)
            .map(|_| Ok([count(b, peer, op, WARM)?, count(b, peer, op, WARM + EXTRA)?]))
            .collect();
        match pairs {
            Ok(pairs) => {
                let mut each: Vec<f64> = pairs
                    .iter()
                    .map(|[short, long]| long.saturating_sub(*short) as f64 / EXTRA as f64)
                    .collect();
                let per = super::median(&mut each);
                sheet.ok(&format!("instr.{}", op.id), per);
                sheet.extra(&format!("instr.{}.totals", op.id), serde_json::json!(pairs));
                sheet.extra(&format!("instr.{}.each", op.id), serde_json::json!(each));
                say(
                    peer,
                    &format!(
                        "instructions, {}: {per:.0} a request (median of {each:.0?})",
                        op.label
                    ),
                );
            }
            Err(c) => {
                say(
                    peer,
                    &format!("instructions, {}: {}", op.label, super::describe(&c)),
                );
                sheet.set(&format!("instr.{}", op.id), c);
            }
        }
    }
    Ok(())
}

/// The instruction total of one server life: start, set-up, `n` requests of `op`, exit.
fn count(b: &Bench, peer: Peer, op: Op, n: u64) -> Result<u64, Cell> {
    let out = b.scratch.join(format!("callgrind-{}-{n}.out", op.id));
    let _ = std::fs::remove_file(&out);
    let wrapper = vec![
        "valgrind".to_string(),
        "--tool=callgrind".to_string(),
        format!("--callgrind-out-file={}", out.display()),
    ];
    let s = Server::start_wrapped(peer, b.paths, &b.scratch, b.plan.start_timeout, &wrapper)
        .map_err(Cell::Failed)?;
    let sent = drive(b, &s, op, n);
    // SIGTERM: s3twin shuts down and valgrind writes the file on the way out.
    s.stop_within(Duration::from_secs(60));
    sent?;
    let total = totals(&out);
    let _ = std::fs::remove_file(&out);
    total
}

/// Set-up (the same for every `n`), then `n` requests of `op`, one at a time.
fn drive(b: &Bench, s: &Server, op: Op, n: u64) -> Result<(), Cell> {
    let t = target(s);
    let data = pattern(4096, 11);
    b.rt.block_on(async move {
        let mut c = Conn::new(t);
        c.timeout = Duration::from_secs(60);
        send(&mut c, Method::PUT, &format!("/{BUCKET}"), None, None).await?;
        for j in 0..SET {
            let path = format!("/{BUCKET}/o/{j:05}");
            send(&mut c, Method::PUT, &path, Some(data.clone()), None).await?;
        }
        // The objects DeleteObject removes: as many as the longer run deletes, in both runs.
        for j in 0..WARM + EXTRA {
            let path = format!("/{BUCKET}/d/{j:05}");
            send(&mut c, Method::PUT, &path, Some(Bytes::new()), None).await?;
        }
        for i in 0..n {
            let obj = format!("/{BUCKET}/o/{:05}", i % SET);
            match op.id {
                "put" => send(&mut c, Method::PUT, &obj, Some(data.clone()), None).await?,
                "get" => send(&mut c, Method::GET, &obj, None, Some(4096)).await?,
                "head" => send(&mut c, Method::HEAD, &obj, None, Some(0)).await?,
                "list" => {
                    let path = format!("/{BUCKET}?list-type=2&prefix=o/&max-keys=100");
                    let keys = send(&mut c, Method::GET, &path, None, None).await?;
                    if keys != 100 {
                        return Err(Cell::Invalid(format!(
                            "GET {path}: {keys} keys, expected 100"
                        )));
                    }
                    keys
                }
                _ => {
                    let path = format!("/{BUCKET}/d/{i:05}");
                    send(&mut c, Method::DELETE, &path, None, None).await?
                }
            };
        }
        Ok(())
    })
}

/// One request, which must answer 2xx (and, with `len`, that many body bytes). Returns the
/// number of `<Key>` elements in the body (for the listing).
async fn send(
    c: &mut Conn,
    method: Method,
    path: &str,
    body: Option<Bytes>,
    len: Option<u64>,
) -> Result<usize, Cell> {
    let a = super::send(c, method.clone(), path, body, None).await?;
    if len.is_some_and(|l| l != a.len) {
        return Err(Cell::Invalid(format!(
            "{method} {path}: {} bytes, expected {len:?}",
            a.len
        )));
    }
    Ok(a.text().matches("<Key>").count())
}

/// The `totals:` (or `summary:`) line of a callgrind output file: instructions executed.
fn totals(out: &Path) -> Result<u64, Cell> {
    let text = std::fs::read_to_string(out)
        .map_err(|e| Cell::Failed(format!("callgrind wrote no output: {e}")))?;
    ["totals:", "summary:"]
        .iter()
        .find_map(|tag| {
            text.lines()
                .find_map(|l| l.strip_prefix(tag))
                .and_then(|v| v.split_whitespace().next())
                .and_then(|v| v.parse().ok())
        })
        .ok_or_else(|| Cell::Failed("callgrind output without totals".into()))
}
