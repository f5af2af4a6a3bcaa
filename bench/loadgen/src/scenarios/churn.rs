//! Run churn, the twin's own figure: how fast a test can get a fresh, seeded namespace and
//! throw it away. One connection, closed loop, cycle after cycle for `small_time`:
//!
//! - s3twin, seed document: `POST /_s3twin/runs` with a seed of one bucket and 10 objects,
//!   ListObjectsV2 in the run (10 keys must come back), `DELETE /_s3twin/runs/{id}`;
//! - s3twin, 10 PUTs: `POST /_s3twin/runs` with a seed of one empty bucket, 10 PutObjects in
//!   the run, the listing, the delete;
//! - moto, 10 PUTs: CreateBucket, 10 PutObjects, the listing, `POST /moto-api/reset` (moto has
//!   no namespaces: a reset is how a test starts afresh).

use super::{check_alive, say, send, start, target, Bench, Cell, Sheet};
use crate::client::Conn;
use crate::peers::Peer;
use bytes::Bytes;
use http::Method;
use std::time::{Duration, Instant};

/// Objects per cycle, and each one's size.
pub const OBJECTS: usize = 10;
pub const OBJECT_SIZE: usize = 1024;
const BUCKET: &str = "churn";
/// Upper bound on cycles per variant, whatever the time budget.
const MAX_CYCLES: u64 = 1_000_000;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Variant {
    Seed,
    Puts,
}

fn key(j: usize) -> String {
    format!("k{j:02}")
}

/// The object body: printable, so it goes into a seed document as a JSON string as is.
fn body() -> String {
    (0..OBJECT_SIZE)
        .map(|i| char::from(b'a' + (i % 26) as u8))
        .collect()
}

/// The seed request of cycle `run`, from a document made once (`seed_template`): building
/// 10 KiB of JSON is the load generator's work, not the server's.
fn seed_request(template: &(String, String), run: &str) -> Bytes {
    let (head, tail) = template;
    Bytes::from(format!("{head}{run}{tail}"))
}

/// `seed_request`'s document, split where the run id goes.
fn seed_template(with_objects: bool) -> (String, String) {
    const MARK: &str = "@RUN@";
    let doc = seed_document(MARK, with_objects);
    let text = String::from_utf8_lossy(&doc).into_owned();
    match text.split_once(MARK) {
        Some((h, t)) => (h.to_string(), t.to_string()),
        None => (text, String::new()),
    }
}

fn seed_document(run: &str, with_objects: bool) -> Bytes {
    let objects: Vec<serde_json::Value> = if with_objects {
        (0..OBJECTS)
            .map(|j| serde_json::json!({ "key": key(j), "body": body() }))
            .collect()
    } else {
        Vec::new()
    };
    let doc = serde_json::json!({
        "runId": run,
        "seed": { "buckets": [{ "name": BUCKET, "objects": objects }] },
    });
    Bytes::from(doc.to_string())
}

pub fn churn(b: &Bench, peer: Peer, sheet: &mut Sheet) -> Result<(), Cell> {
    let mut s = start(b, peer)?;
    let variants: &[Variant] = if peer == Peer::S3twin {
        &[Variant::Seed, Variant::Puts]
    } else {
        let na = Cell::Na("no seed document: see the 10-PUT rows".into());
        sheet.set("churn.seed.rate", na.clone());
        sheet.set("churn.seed.us", na);
        &[Variant::Puts]
    };
    for &v in variants {
        let name = match v {
            Variant::Seed => "seed",
            Variant::Puts => "puts",
        };
        match cycles(b, &s, v) {
            Ok((n, elapsed, steps)) => {
                let secs = elapsed.as_secs_f64();
                let per_us = secs * 1e6 / n as f64;
                sheet.ok(&format!("churn.{name}.rate"), n as f64 / secs);
                sheet.ok(&format!("churn.{name}.us"), per_us);
                sheet.extra(&format!("churn.{name}.cycles"), serde_json::json!(n));
                // Where a cycle's time goes, per step (client side, send → last byte).
                let step_us: Vec<f64> = steps
                    .iter()
                    .map(|d| d.as_secs_f64() * 1e6 / n as f64)
                    .collect();
                let split: serde_json::Map<String, serde_json::Value> = STEPS
                    .iter()
                    .zip(&step_us)
                    .map(|(k, v)| (k.to_string(), serde_json::json!(v)))
                    .collect();
                sheet.extra(&format!("churn.{name}.step_us"), split.into());
                say(
                    peer,
                    &format!(
                        "churn {name}: {n} cycles, {:.0} cycles/s, {per_us:.0} µs a cycle ({})",
                        n as f64 / secs,
                        STEPS
                            .iter()
                            .zip(&step_us)
                            .map(|(k, v)| format!("{k} {v:.0} µs"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                );
            }
            Err(c) => {
                say(peer, &format!("churn {name}: {}", super::describe(&c)));
                sheet.set(&format!("churn.{name}.rate"), c.clone());
                sheet.set(&format!("churn.{name}.us"), c);
                check_alive(&mut s)?;
            }
        }
    }
    let alive = check_alive(&mut s);
    s.stop();
    alive
}

/// A cycle's steps, as timed one by one.
const STEPS: [&str; 4] = ["create", "puts", "list", "drop"];
type Steps = [Duration; 4];

/// Runs cycles for the time budget; the count, the time they took, and the time per step.
fn cycles(b: &Bench, s: &super::Server, v: Variant) -> Result<(u64, Duration, Steps), Cell> {
    let t = target(s);
    let peer = s.peer;
    let time = b.plan.small_time;
    let object = Bytes::from(body());
    let template = seed_template(v == Variant::Seed);
    // One connection: the server and the load generator on one CPU (`pin`).
    let _pinned = crate::pin::together(&s.tree());
    // On a worker thread, the one that also reads the socket: a future on the calling thread
    // (`block_on`) is woken through a second thread for every answer, tens of µs a hop.
    let work = b.rt.spawn(async move {
        let mut c = Conn::new(t);
        c.timeout = Duration::from_secs(30);
        let started = Instant::now();
        let mut n = 0u64;
        let mut steps = Steps::default();
        while n < MAX_CYCLES && (n == 0 || started.elapsed() < time) {
            cycle(&mut c, peer, v, n, &object, &template, &mut steps).await?;
            n += 1;
        }
        Ok((n, started.elapsed(), steps))
    });
    b.rt.block_on(work)
        .unwrap_or_else(|e| Err(Cell::Failed(format!("churn task: {e}"))))
}

async fn cycle(
    c: &mut Conn,
    peer: Peer,
    v: Variant,
    i: u64,
    object: &Bytes,
    template: &(String, String),
    steps: &mut Steps,
) -> Result<(), Cell> {
    let run = format!("churn-{i}");
    let mut t0 = Instant::now();
    let mut lap = |k: usize| {
        let now = Instant::now();
        steps[k] += now - t0;
        t0 = now;
    };
    // Where the bucket is: inside the run for s3twin, at the root for moto.
    let base = if peer == Peer::S3twin {
        let seed = seed_request(template, &run);
        send(c, Method::POST, "/_s3twin/runs", Some(seed), Some(201)).await?;
        format!("/t/{run}/{BUCKET}")
    } else {
        send(c, Method::PUT, &format!("/{BUCKET}"), None, None).await?;
        format!("/{BUCKET}")
    };
    lap(0);
    if v == Variant::Puts {
        for j in 0..OBJECTS {
            let path = format!("{base}/{}", key(j));
            send(c, Method::PUT, &path, Some(object.clone()), None).await?;
        }
    }
    lap(1);
    let path = format!("{base}?list-type=2");
    let listed = send(c, Method::GET, &path, None, None).await?;
    let keys = listed.text().matches("<Key>").count();
    if keys != OBJECTS {
        return Err(Cell::Invalid(format!(
            "GET {path}: {keys} keys, expected {OBJECTS}"
        )));
    }
    lap(2);
    if peer == Peer::S3twin {
        send(
            c,
            Method::DELETE,
            &format!("/_s3twin/runs/{run}"),
            None,
            None,
        )
        .await?;
    } else {
        send(c, Method::POST, "/moto-api/reset", None, None).await?;
    }
    lap(3);
    Ok(())
}
