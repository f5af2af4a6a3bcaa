//! The run clock (`GET/POST /_s3twin/clock`) and presigning on it (`POST /_s3twin/presign`).

use super::{error, AdminRequest};
use crate::auth::presign::{presign_v4, PresignRequest, MAX_EXPIRES_SECS};
use crate::clock::{check_rate, iso8601, parse_duration, parse_rfc3339};
use crate::config::{DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY};
use crate::lifecycle;
use crate::server::response::{json, Resp};
use crate::server::AppState;
use crate::store::{Run, DEFAULT_RUN};
use serde_json::{json, Value};

fn clock_json(run: &Run) -> Value {
    json!({
        "runId": run.id,
        "now": iso8601(run.now()),
        "frozen": run.clock.is_frozen(),
        "rate": run.clock.rate(),
    })
}

pub fn get(state: &AppState, req: &AdminRequest) -> Resp {
    match req.run(state) {
        Some(run) => json(200, &clock_json(&run)),
        None => req.unknown_run(),
    }
}

/// Advances, sets, freezes or speeds up the clock, then runs everything that became due.
pub fn post(state: &AppState, req: &AdminRequest) -> Resp {
    let Some(run) = req.run(state) else {
        return req.unknown_run();
    };
    let Some(fields) = req.body.as_ref().and_then(Value::as_object) else {
        return error(400, "expected a JSON object: {\"advance\":\"8d\"}, {\"set\":\"2027-01-01T00:00:00Z\"}, {\"freeze\":true} or {\"rate\":8640}");
    };
    if let Some(unknown) = fields
        .keys()
        .find(|k| !matches!(k.as_str(), "advance" | "set" | "freeze" | "rate"))
    {
        return error(
            400,
            &format!("unknown field {unknown:?} (allowed: advance, set, freeze, rate)"),
        );
    }
    // Validate everything before changing anything.
    let advance = match fields.get("advance") {
        None => None,
        Some(Value::String(s)) => match parse_duration(s) {
            Ok(ms) => Some(ms),
            Err(e) => return error(400, &e),
        },
        Some(_) => {
            return error(
                400,
                "advance must be a duration string like \"8d\" or \"1d12h\"",
            )
        }
    };
    let set = match fields.get("set") {
        None => None,
        Some(Value::String(s)) => match parse_rfc3339(s) {
            Some(t) if t >= run.now() => Some(t),
            Some(_) => {
                return error(
                    400,
                    &format!(
                        "time never moves backwards: {s} is before the run's now ({})",
                        iso8601(run.now())
                    ),
                )
            }
            None => return error(400, &format!("set must be an RFC 3339 instant, not {s:?}")),
        },
        Some(_) => return error(400, "set must be an RFC 3339 instant string"),
    };
    let freeze = match fields.get("freeze") {
        None => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(_) => return error(400, "freeze must be true or false"),
    };
    let rate = match fields.get("rate") {
        None => None,
        // A non-number is refused with the same message as a number out of range.
        Some(v) => match check_rate(v.as_f64().unwrap_or(f64::NAN)) {
            Ok(r) => Some(r),
            Err(e) => return error(400, &e),
        },
    };
    if advance.is_none() && set.is_none() && freeze.is_none() && rate.is_none() {
        return error(400, "nothing to do: give advance, set, freeze or rate");
    }
    if let Some(f) = freeze {
        run.clock.freeze(f);
    }
    if let Some(r) = rate {
        if let Err(e) = run.clock.set_rate(r) {
            return error(400, &e);
        }
    }
    let moved = match (advance, set) {
        (Some(ms), _) => run.clock.advance(ms),
        (None, Some(t)) => run.clock.set(t),
        (None, None) => Ok(run.now()),
    };
    // A freeze or rate applied before a refused move is kept, so it is saved either way.
    run.save_settings();
    if let Err(e) = moved {
        return error(400, &e);
    }
    let report = lifecycle::run_due(&run, run.now());
    let mut body = clock_json(&run);
    body["lifecycle"] = json!({
        "expired": report.expired,
        "noncurrentRemoved": report.noncurrent_removed,
        "deleteMarkersRemoved": report.markers_removed,
        "transitioned": report.transitioned,
        "uploadsAborted": report.uploads_aborted,
    });
    json(200, &body)
}

/// A SigV4 presigned URL for the run, computed on its clock.
pub fn presign(state: &AppState, req: &AdminRequest) -> Resp {
    let Some(run) = req.run(state) else {
        return req.unknown_run();
    };
    let Some(fields) = req.body.as_ref().and_then(Value::as_object) else {
        return error(
            400,
            "expected {\"method\":\"GET\",\"bucket\":\"…\",\"key\":\"…\",\"expiresIn\":3600}",
        );
    };
    if let Some(unknown) = fields
        .keys()
        .find(|k| !matches!(k.as_str(), "method" | "bucket" | "key" | "expiresIn"))
    {
        return error(
            400,
            &format!("unknown field {unknown:?} (allowed: method, bucket, key, expiresIn)"),
        );
    }
    let method = fields
        .get("method")
        .and_then(Value::as_str)
        .unwrap_or("GET")
        .to_ascii_uppercase();
    if !matches!(method.as_str(), "GET" | "PUT" | "HEAD" | "DELETE") {
        return error(400, "method must be GET, PUT, HEAD or DELETE");
    }
    let (Some(bucket), Some(key)) = (
        fields.get("bucket").and_then(Value::as_str),
        fields.get("key").and_then(Value::as_str),
    ) else {
        return error(400, "bucket and key are required strings");
    };
    let expires = match fields.get("expiresIn") {
        None => 3600,
        Some(v) => match v.as_i64() {
            Some(s) if (1..=MAX_EXPIRES_SECS).contains(&s) => s,
            _ => {
                return error(
                    400,
                    "expiresIn must be an integer number of seconds from 1 to 604800",
                )
            }
        },
    };
    let prefix = if run.id == DEFAULT_RUN {
        String::new()
    } else {
        format!("/t/{}", run.id)
    };
    let url = presign_v4(&PresignRequest {
        method: &method,
        origin: &req.origin,
        path_prefix: &prefix,
        bucket,
        key,
        expires_secs: expires,
        access_key: DEFAULT_ACCESS_KEY,
        secret_key: DEFAULT_SECRET_KEY,
        region: &state.config.region,
        now: run.now(),
    });
    json(
        200,
        &json!({ "url": url, "method": method, "expiresIn": expires }),
    )
}
