//! Runs and seeds: `POST/GET /_s3twin/runs`, `DELETE /_s3twin/runs/{id}`, `POST /_s3twin/seed`.

use super::{error, AdminRequest, RUN_ID_RULE};
use crate::auth::identity::{AuthMode, UserSpec};
use crate::clock::iso8601;
use crate::config::{DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY};
use crate::seed;
use crate::server::addressing::valid_run_id;
use crate::server::response::{json, Resp};
use crate::server::AppState;
use serde_json::{json, Value};

pub fn create(state: &AppState, req: &AdminRequest) -> Resp {
    // Read in place: a seed document carries its objects' bodies, not worth a copy.
    let empty = serde_json::Map::new();
    let fields = match &req.body {
        None => &empty,
        Some(Value::Object(fields)) => fields,
        Some(_) => return error(400, "the body must be a JSON object"),
    };
    if let Some(unknown) = fields
        .keys()
        .find(|k| !matches!(k.as_str(), "runId" | "seed" | "strict" | "chaos" | "auth"))
    {
        return error(
            400,
            &format!("unknown field {unknown:?} (allowed: runId, seed, strict, chaos, auth)"),
        );
    }
    let auth = match fields.get("auth") {
        None | Some(Value::Null) => state.config.auth,
        Some(Value::String(s)) => match AuthMode::parse(s) {
            Some(m) => m,
            None => return error(400, "auth must be \"none\" or \"enforce\""),
        },
        Some(_) => return error(400, "auth must be \"none\" or \"enforce\""),
    };
    let strict = match fields.get("strict") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return error(400, "strict must be true or false"),
    };
    let run_id = match fields.get("runId") {
        None | Some(Value::Null) => format!("run-{:012x}", crate::ids::next_u64() >> 16),
        Some(Value::String(s)) if valid_run_id(s) => s.clone(),
        Some(_) => return error(400, RUN_ID_RULE),
    };
    // Check the seed before creating anything.
    let seed = match fields.get("seed") {
        None | Some(Value::Null) => None,
        Some(v) => match seed::from_json(v) {
            Ok(doc) => Some(doc),
            Err(e) => return error(400, &e),
        },
    };
    let chaos = match fields.get("chaos") {
        None | Some(Value::Null) => Vec::new(),
        Some(v) => match crate::chaos::parse_list(v) {
            Ok(rules) => rules,
            Err(e) => return error(400, &format!("chaos: {e}")),
        },
    };
    let Some(run) = state.store.create_run(&run_id) else {
        return error(409, &format!("run {run_id:?} already exists"));
    };
    run.set_strict(strict);
    // Checked above; only the rule count can still refuse, and parse_list bounds it.
    let _ = run.chaos.add(chaos);
    run.auth.set_mode(auth);
    if let Some(doc) = seed {
        if let Err(e) = seed::apply(&run, &state.config.region, doc) {
            state.store.delete_run(&run_id);
            return error(400, &e);
        }
        // The request's own fields win over the seed's (an export replayed with auth off).
        if fields.get("strict").is_some_and(|v| !v.is_null()) {
            run.set_strict(strict);
        }
        if fields.get("auth").is_some_and(|v| !v.is_null()) {
            run.auth.set_mode(auth);
        }
    }
    run.save_settings();
    let auth = run.auth.mode();
    json(
        201,
        &json!({
            "runId": run_id,
            "endpoint": format!("{}/t/{run_id}", req.origin),
            "accessKeyId": DEFAULT_ACCESS_KEY,
            "secretAccessKey": DEFAULT_SECRET_KEY,
            "region": state.config.region,
            "accountId": state.config.account_id,
            "auth": auth.as_str(),
        }),
    )
}

pub fn list(state: &AppState) -> Resp {
    let runs: Vec<Value> = state
        .store
        .runs()
        .iter()
        .map(|r| {
            json!({
                "runId": r.id,
                "buckets": r.bucket_count(),
                "now": iso8601(r.now()),
                "frozen": r.clock.is_frozen(),
                "rate": r.clock.rate(),
                "strict": r.strict(),
                "auth": r.auth.mode().as_str(),
                "chaosRules": r.chaos.list().len(),
            })
        })
        .collect();
    json(200, &json!({ "runs": runs }))
}

pub fn delete(state: &AppState, id: &str) -> Resp {
    if state.store.delete_run(id) {
        json(200, &json!({ "status": "ok", "deleted": id }))
    } else {
        error(404, &format!("no run {id:?}"))
    }
}

/// `POST /_s3twin/seed?runId=R` (alias `/_clone/seed`): loads a seed document or preset.
pub fn seed(state: &AppState, req: &AdminRequest) -> Resp {
    let Some(body) = &req.body else {
        return error(400, "a seed document is required");
    };
    let doc = match seed::from_json(body) {
        Ok(d) => d,
        Err(e) => return error(400, &e),
    };
    // Seeding names its run; it is created if needed (the seed's own flow seeds fresh runs).
    let run_id = req.run_id().unwrap_or(crate::store::DEFAULT_RUN);
    let run = state.store.run(run_id);
    match seed::apply(&run, &state.config.region, doc) {
        Ok(s) => json(
            200,
            &json!({ "status": "ok", "runId": run_id, "buckets": s.buckets, "objects": s.objects }),
        ),
        Err(e) => error(400, &e),
    }
}

fn identity_json(id: &crate::auth::identity::Identity) -> Value {
    json!({
        "accessKeyId": id.access_key,
        "secretAccessKey": id.secret_key,
        "name": id.name,
        "accountId": id.account_id,
        "canonicalId": id.canonical_id,
        "arn": id.arn,
    })
}

/// `POST /_s3twin/users?runId=R`: adds an identity to a run, `{"accessKeyId",
/// "secretAccessKey", "name"?, "accountId"?}`.
pub fn add_user(state: &AppState, req: &AdminRequest) -> Resp {
    let Some(run) = req.run(state) else {
        return req.unknown_run();
    };
    let user = match req
        .body
        .clone()
        .map(serde_json::from_value::<seed::SeedUser>)
    {
        Some(Ok(u)) => u,
        Some(Err(e)) => return error(400, &format!("invalid user: {e}")),
        None => return error(400, "a user document is required"),
    };
    let spec = match user.spec() {
        Ok(s) => s,
        Err(e) => return error(400, &e),
    };
    let identity = spec.identity(&state.config.account_id);
    run.auth.add_user(spec);
    run.save_settings();
    json(201, &identity_json(&identity))
}

/// `GET /_s3twin/users?runId=R`: the identities a run accepts (the server's and its own).
pub fn list_users(state: &AppState, req: &AdminRequest) -> Resp {
    let Some(run) = req.run(state) else {
        return req.unknown_run();
    };
    let home = &state.config.account_id;
    let own: Vec<UserSpec> = run.auth.users();
    let mut users: Vec<Value> = state
        .users
        .all()
        .iter()
        .filter(|i| !own.iter().any(|u| u.access_key == i.access_key))
        .map(|i| identity_json(i))
        .collect();
    users.extend(own.iter().map(|u| identity_json(&u.identity(home))));
    json(
        200,
        &json!({ "auth": run.auth.mode().as_str(), "users": users }),
    )
}
