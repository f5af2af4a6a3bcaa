//! Fault injection (chaos): a run's rules, each a match (operations, methods, bucket, key
//! prefix) and an action (latency, an S3 error, a reset connection, a truncated body,
//! throttling, or lifecycle expirations brought forward), with `after` / `count` /
//! `probability` and a `seed` that makes the probabilistic choices replay identically.
//!
//! The front layer asks `decide` for every S3 request; a run without request rules answers
//! that with one relaxed atomic load. Lifecycle reads `lifecycle_early_ms`.

use crate::clock::DAY_MS;
use crate::error::Code;
use crate::reqlog::Applied;
use parking_lot::Mutex;
use serde_json::{json, Map, Value};
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Rules a run may hold.
pub const MAX_RULES: usize = 100;
/// Longest added latency.
pub const MAX_LATENCY_MS: u64 = 300_000;
/// Largest lifecycle shift.
pub const MAX_EARLY_DAYS: u64 = 3_650;

pub const PRESETS: [&str; 3] = ["slow_put", "503_restore", "lifecycle_early_delete"];

/// The S3 errors a rule may answer with: the ones a healthy client must survive.
const FAULT_CODES: [Code; 4] = [
    Code::SlowDown,
    Code::ServiceUnavailable,
    Code::InternalError,
    Code::RequestTimeout,
];

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Match {
    pub operations: Vec<String>,
    pub methods: Vec<String>,
    pub bucket: Option<String>,
    pub key_prefix: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Added before the request is handled: `min..=max` ms (equal for a fixed latency).
    Latency { min_ms: u64, max_ms: u64 },
    /// Answered instead of handling the request (nothing changes).
    Error {
        code: Code,
        retry_after: Option<u64>,
    },
    /// The request is handled; its answer is never sent and the connection is closed.
    Reset,
    /// The request is handled; the response body stops after `bytes` (half when unset) and
    /// the connection is closed.
    Truncate { bytes: Option<u64> },
    /// `per_second` matching requests a second pass; the rest answer 503 `SlowDown`.
    Throttle { per_second: u64 },
    /// Lifecycle expirations happen `days` before they are due. Matches no request.
    LifecycleEarly { days: u64 },
}

impl Action {
    pub fn name(&self) -> &'static str {
        match self {
            Action::Latency { .. } => "latency",
            Action::Error { .. } => "error",
            Action::Reset => "reset",
            Action::Truncate { .. } => "truncate",
            Action::Throttle { .. } => "throttle",
            Action::LifecycleEarly { .. } => "lifecycleEarly",
        }
    }

    fn to_json(&self) -> Value {
        let mut v = match self {
            Action::Latency { min_ms, max_ms } if min_ms == max_ms => json!({ "ms": min_ms }),
            Action::Latency { min_ms, max_ms } => json!({ "minMs": min_ms, "maxMs": max_ms }),
            Action::Error { code, retry_after } => json!({
                "code": code.as_str(),
                "status": code.status(),
                "retryAfter": retry_after,
            }),
            Action::Reset => json!({}),
            Action::Truncate { bytes } => json!({ "bytes": bytes }),
            Action::Throttle { per_second } => json!({ "perSecond": per_second }),
            Action::LifecycleEarly { days } => json!({ "days": days }),
        };
        v["type"] = json!(self.name());
        v
    }
}

/// A rule as given, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleSpec {
    pub matcher: Match,
    pub action: Action,
    pub probability: f64,
    pub after: u64,
    pub count: Option<u64>,
    pub seed: Option<u64>,
    pub preset: Option<&'static str>,
}

impl RuleSpec {
    fn new(action: Action, operations: &[&str], preset: &'static str) -> RuleSpec {
        RuleSpec {
            matcher: Match {
                operations: operations.iter().map(|s| s.to_string()).collect(),
                ..Match::default()
            },
            action,
            probability: 1.0,
            after: 0,
            count: None,
            seed: None,
            preset: Some(preset),
        }
    }
}

/// The rules a preset stands for (documented in the README).
pub fn preset(name: &str) -> Result<Vec<RuleSpec>, String> {
    Ok(vec![match name {
        "slow_put" => RuleSpec::new(
            Action::Latency {
                min_ms: 1000,
                max_ms: 1000,
            },
            &["PutObject", "UploadPart"],
            "slow_put",
        ),
        "503_restore" => RuleSpec::new(
            Action::Error {
                code: Code::ServiceUnavailable,
                retry_after: None,
            },
            &["RestoreObject"],
            "503_restore",
        ),
        "lifecycle_early_delete" => RuleSpec::new(
            Action::LifecycleEarly { days: 1 },
            &[],
            "lifecycle_early_delete",
        ),
        other => {
            return Err(format!(
                "unknown chaos preset {other:?} (known: {})",
                PRESETS.join(", ")
            ))
        }
    }])
}

fn check_fields(obj: &Map<String, Value>, what: &str, allowed: &[&str]) -> Result<(), String> {
    match obj.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(format!(
            "{what}: unknown field {k:?} (allowed: {})",
            allowed.join(", ")
        )),
        None => Ok(()),
    }
}

fn uint(v: &Value, name: &str, max: u64) -> Result<u64, String> {
    v.as_u64()
        .filter(|n| *n <= max)
        .ok_or_else(|| format!("{name} must be an integer from 0 to {max}"))
}

fn strings(v: Option<&Value>, name: &str) -> Result<Vec<String>, String> {
    let Some(v) = v else { return Ok(Vec::new()) };
    let list = match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) => items
            .iter()
            .map(|i| i.as_str().map(str::to_string))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| format!("{name} must be a list of strings"))?,
        _ => return Err(format!("{name} must be a list of strings")),
    };
    if list.len() > 100 || list.iter().any(|s| s.is_empty() || s.len() > 64) {
        return Err(format!("{name}: at most 100 names of 1 to 64 characters"));
    }
    Ok(list)
}

fn opt_string(v: Option<&Value>, name: &str) -> Result<Option<String>, String> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.len() <= 1024 => Ok(Some(s.clone())),
        Some(_) => Err(format!("{name} must be a string of at most 1024 bytes")),
    }
}

fn parse_action(v: &Value) -> Result<Action, String> {
    let obj = v
        .as_object()
        .ok_or("action must be an object with a \"type\"")?;
    let kind = obj.get("type").and_then(Value::as_str).ok_or(
        "action.type is required: latency, error, reset, truncate, throttle or lifecycleEarly",
    )?;
    let field = |name: &str| obj.get(name).filter(|v| !v.is_null());
    Ok(match kind {
        "latency" => {
            check_fields(obj, "latency", &["type", "ms", "minMs", "maxMs"])?;
            match (field("ms"), field("minMs"), field("maxMs")) {
                (Some(ms), None, None) => {
                    let ms = uint(ms, "ms", MAX_LATENCY_MS)?;
                    Action::Latency {
                        min_ms: ms,
                        max_ms: ms,
                    }
                }
                (None, Some(lo), Some(hi)) => {
                    let (lo, hi) = (
                        uint(lo, "minMs", MAX_LATENCY_MS)?,
                        uint(hi, "maxMs", MAX_LATENCY_MS)?,
                    );
                    if lo > hi {
                        return Err("minMs must not be above maxMs".into());
                    }
                    Action::Latency {
                        min_ms: lo,
                        max_ms: hi,
                    }
                }
                _ => return Err("latency takes ms, or minMs and maxMs".into()),
            }
        }
        "error" => {
            check_fields(obj, "error", &["type", "code", "retryAfter"])?;
            let name = field("code").and_then(Value::as_str).unwrap_or("SlowDown");
            let code = FAULT_CODES
                .into_iter()
                .find(|c| c.as_str() == name)
                .ok_or_else(|| {
                    format!(
                        "error code {name:?} is not one chaos answers with (known: {})",
                        FAULT_CODES.map(Code::as_str).join(", ")
                    )
                })?;
            let retry_after = field("retryAfter")
                .map(|v| uint(v, "retryAfter", 3600))
                .transpose()?;
            Action::Error { code, retry_after }
        }
        "reset" => {
            check_fields(obj, "reset", &["type"])?;
            Action::Reset
        }
        "truncate" => {
            check_fields(obj, "truncate", &["type", "bytes"])?;
            Action::Truncate {
                bytes: field("bytes")
                    .map(|v| uint(v, "bytes", u64::MAX))
                    .transpose()?,
            }
        }
        "throttle" => {
            check_fields(obj, "throttle", &["type", "perSecond"])?;
            let n = field("perSecond").ok_or("throttle needs perSecond")?;
            Action::Throttle {
                per_second: uint(n, "perSecond", 1_000_000)?,
            }
        }
        "lifecycleEarly" => {
            check_fields(obj, "lifecycleEarly", &["type", "days"])?;
            let d = field("days").ok_or("lifecycleEarly needs days")?;
            Action::LifecycleEarly {
                days: uint(d, "days", MAX_EARLY_DAYS)?,
            }
        }
        other => {
            return Err(format!(
            "unknown action type {other:?} (known: latency, error, reset, truncate, throttle, lifecycleEarly)"
        ))
        }
    })
}

fn parse_rule(obj: &Map<String, Value>) -> Result<RuleSpec, String> {
    check_fields(
        obj,
        "rule",
        &["match", "action", "probability", "after", "count", "seed"],
    )?;
    let matcher = match obj.get("match") {
        None | Some(Value::Null) => Match::default(),
        Some(Value::Object(m)) => {
            check_fields(
                m,
                "match",
                &["operations", "methods", "bucket", "keyPrefix"],
            )?;
            Match {
                operations: strings(m.get("operations"), "match.operations")?,
                methods: strings(m.get("methods"), "match.methods")?
                    .into_iter()
                    .map(|s| s.to_ascii_uppercase())
                    .collect(),
                bucket: opt_string(m.get("bucket"), "match.bucket")?,
                key_prefix: opt_string(m.get("keyPrefix"), "match.keyPrefix")?,
            }
        }
        Some(_) => return Err("match must be an object".into()),
    };
    let action = parse_action(obj.get("action").ok_or("a rule needs an action")?)?;
    let probability = match obj.get("probability") {
        None | Some(Value::Null) => 1.0,
        Some(v) => v
            .as_f64()
            .filter(|p| (0.0..=1.0).contains(p))
            .ok_or("probability must be a number from 0 to 1")?,
    };
    let get = |name: &str| obj.get(name).filter(|v| !v.is_null());
    Ok(RuleSpec {
        matcher,
        action,
        probability,
        after: get("after")
            .map(|v| uint(v, "after", u64::MAX))
            .transpose()?
            .unwrap_or(0),
        count: get("count")
            .map(|v| uint(v, "count", u64::MAX))
            .transpose()?,
        seed: get("seed").map(|v| uint(v, "seed", u64::MAX)).transpose()?,
        preset: None,
    })
}

/// One rule or preset: `{"preset": "slow_put"}`, `"slow_put"`, or a rule object.
pub fn parse(v: &Value) -> Result<Vec<RuleSpec>, String> {
    match v {
        Value::String(name) => preset(name),
        Value::Object(obj) if obj.contains_key("preset") => {
            check_fields(obj, "preset", &["preset"])?;
            match obj.get("preset") {
                Some(Value::String(name)) => preset(name),
                _ => Err("preset must be a preset name".into()),
            }
        }
        Value::Object(obj) => Ok(vec![parse_rule(obj)?]),
        _ => Err("a chaos rule is a JSON object (or a preset name)".into()),
    }
}

/// A list of rules and presets (run creation, seeds, several rules in one POST).
pub fn parse_list(v: &Value) -> Result<Vec<RuleSpec>, String> {
    match v {
        Value::Array(items) => {
            let mut out = Vec::new();
            for item in items {
                out.extend(parse(item)?);
            }
            if out.len() > MAX_RULES {
                return Err(format!("at most {MAX_RULES} chaos rules a run"));
            }
            Ok(out)
        }
        _ => Err("chaos must be a list of rules or preset names".into()),
    }
}

/// What a request looks like to the rules.
pub struct Facts<'a> {
    pub operation: &'a str,
    pub method: &'a str,
    pub bucket: Option<&'a str>,
    pub key: Option<&'a str>,
}

impl Match {
    fn matches(&self, f: &Facts) -> bool {
        (self.operations.is_empty() || self.operations.iter().any(|o| o == f.operation))
            && (self.methods.is_empty() || self.methods.iter().any(|m| m == f.method))
            && self.bucket.as_deref().is_none_or(|b| f.bucket == Some(b))
            && self
                .key_prefix
                .as_deref()
                .is_none_or(|p| f.key.is_some_and(|k| k.starts_with(p)))
    }
}

/// What the front layer does to a request.
#[derive(Debug, Default)]
pub struct Decision {
    pub latency: Duration,
    pub fault: Option<Fault>,
    pub applied: Vec<Applied>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    Error {
        code: Code,
        retry_after: Option<u64>,
    },
    Reset,
    Truncate(Option<u64>),
}

struct Rule {
    id: u64,
    spec: RuleSpec,
    seed: u64,
    rng: u64,
    matched: u64,
    hits: u64,
    window: Option<(Instant, u64)>,
}

/// splitmix64, as `ids.rs`: one stream per rule, so a seed replays its choices.
fn next(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Rule {
    fn to_json(&self) -> Value {
        let m = &self.spec.matcher;
        json!({
            "id": self.id,
            "preset": self.spec.preset,
            "match": {
                "operations": m.operations,
                "methods": m.methods,
                "bucket": m.bucket,
                "keyPrefix": m.key_prefix,
            },
            "action": self.spec.action.to_json(),
            "probability": self.spec.probability,
            "after": self.spec.after,
            "count": self.spec.count,
            "seed": self.seed,
            "matched": self.matched,
            "hits": self.hits,
        })
    }

    /// Whether this matching request is one the rule affects (and counts it).
    fn fires(&mut self) -> bool {
        self.matched = self.matched.saturating_add(1);
        if self.matched <= self.spec.after || self.spec.count.is_some_and(|c| self.hits >= c) {
            return false;
        }
        if let Action::Throttle { per_second } = self.spec.action {
            let now = Instant::now();
            let (start, passed) = self.window.get_or_insert((now, 0));
            if now.duration_since(*start) >= Duration::from_secs(1) {
                *start = now;
                *passed = 0;
            }
            if *passed < per_second {
                *passed += 1;
                return false;
            }
        }
        if self.spec.probability < 1.0 {
            let roll = (next(&mut self.rng) >> 11) as f64 / (1u64 << 53) as f64;
            if roll >= self.spec.probability {
                return false;
            }
        }
        self.hits += 1;
        true
    }
}

/// A run's chaos rules.
#[derive(Default)]
pub struct Chaos {
    /// Rules that can match a request: zero means `decide` has nothing to look at.
    request_rules: AtomicUsize,
    early_ms: AtomicI64,
    rules: Mutex<(u64, Vec<Rule>)>,
}

impl Chaos {
    /// Adds rules (all or none); returns them as listed.
    pub fn add(&self, specs: Vec<RuleSpec>) -> Result<Vec<Value>, String> {
        let mut guard = self.rules.lock();
        let (next_id, rules) = &mut *guard;
        if rules.len() + specs.len() > MAX_RULES {
            return Err(format!("at most {MAX_RULES} chaos rules a run"));
        }
        let mut added = Vec::new();
        for spec in specs {
            *next_id += 1;
            let seed = spec.seed.unwrap_or_else(crate::ids::next_u64);
            let rule = Rule {
                id: *next_id,
                seed,
                rng: seed,
                matched: 0,
                hits: 0,
                window: None,
                spec,
            };
            added.push(rule.to_json());
            rules.push(rule);
        }
        self.refresh(rules);
        Ok(added)
    }

    pub fn list(&self) -> Vec<Value> {
        self.rules.lock().1.iter().map(Rule::to_json).collect()
    }

    /// Removes one rule; whether it existed.
    pub fn remove(&self, id: u64) -> bool {
        let mut guard = self.rules.lock();
        let before = guard.1.len();
        guard.1.retain(|r| r.id != id);
        let removed = guard.1.len() != before;
        self.refresh(&guard.1);
        removed
    }

    /// Removes every rule; how many there were.
    pub fn clear(&self) -> usize {
        let mut guard = self.rules.lock();
        let n = guard.1.len();
        guard.1.clear();
        self.refresh(&guard.1);
        n
    }

    fn refresh(&self, rules: &[Rule]) {
        let requests = rules
            .iter()
            .filter(|r| !matches!(r.spec.action, Action::LifecycleEarly { .. }))
            .count();
        self.request_rules.store(requests, Ordering::Relaxed);
        let days = rules
            .iter()
            .filter_map(|r| match r.spec.action {
                Action::LifecycleEarly { days } => Some(days),
                _ => None,
            })
            .max()
            .unwrap_or(0);
        self.early_ms.store(days as i64 * DAY_MS, Ordering::Relaxed);
    }

    /// Whether no rule can touch a request (the hot path's only question).
    #[inline]
    pub fn is_idle(&self) -> bool {
        self.request_rules.load(Ordering::Relaxed) == 0
    }

    /// How much earlier than due lifecycle expirations happen.
    pub fn lifecycle_early_ms(&self) -> i64 {
        self.early_ms.load(Ordering::Relaxed)
    }

    /// Counts expirations a lifecycle-early rule brought forward, on the rules that did it.
    pub fn record_early(&self, expirations: u64) {
        if expirations == 0 {
            return;
        }
        let mut guard = self.rules.lock();
        for r in guard.1.iter_mut() {
            if matches!(r.spec.action, Action::LifecycleEarly { .. }) {
                r.hits = r.hits.saturating_add(expirations);
            }
        }
    }

    /// What the rules do to this request: every firing latency rule adds its latency; the
    /// first firing fault rule decides the fault. `None` when no rule fired.
    pub fn decide(&self, facts: &Facts) -> Option<Decision> {
        if self.is_idle() {
            return None;
        }
        let mut guard = self.rules.lock();
        let mut d = Decision::default();
        for r in guard.1.iter_mut() {
            if matches!(r.spec.action, Action::LifecycleEarly { .. })
                || !r.spec.matcher.matches(facts)
            {
                continue;
            }
            // A later fault rule is not consulted (nor counted) once one fired.
            if d.fault.is_some() && !matches!(r.spec.action, Action::Latency { .. }) {
                continue;
            }
            if !r.fires() {
                continue;
            }
            d.applied.push(Applied {
                rule: r.id,
                action: r.spec.action.name(),
            });
            match r.spec.action {
                Action::Latency { min_ms, max_ms } => {
                    let span = max_ms - min_ms;
                    let ms = if span == 0 {
                        min_ms
                    } else {
                        min_ms + next(&mut r.rng) % (span + 1)
                    };
                    d.latency += Duration::from_millis(ms);
                }
                Action::Error { code, retry_after } => {
                    d.fault = Some(Fault::Error { code, retry_after })
                }
                Action::Throttle { .. } => {
                    d.fault = Some(Fault::Error {
                        code: Code::SlowDown,
                        retry_after: None,
                    })
                }
                Action::Reset => d.fault = Some(Fault::Reset),
                Action::Truncate { bytes } => d.fault = Some(Fault::Truncate(bytes)),
                Action::LifecycleEarly { .. } => {}
            }
        }
        (!d.applied.is_empty()).then_some(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn put() -> Facts<'static> {
        Facts {
            operation: "PutObject",
            method: "PUT",
            bucket: Some("b"),
            key: Some("logs/a"),
        }
    }

    #[test]
    fn count_and_after_pick_the_nth_to_mth_match() {
        let chaos = Chaos::default();
        assert!(chaos.is_idle());
        let spec = parse(&json!({"match": {"operations": ["PutObject"]}, "action": {"type": "error", "code": "SlowDown"}, "after": 1, "count": 2})).unwrap();
        chaos.add(spec).unwrap();
        let fired: Vec<bool> = (0..5).map(|_| chaos.decide(&put()).is_some()).collect();
        assert_eq!(fired, vec![false, true, true, false, false]);
        let other = Facts {
            operation: "GetObject",
            ..put()
        };
        assert!(chaos.decide(&other).is_none());
    }

    #[test]
    fn a_seed_replays_the_same_choices() {
        let run = |seed: u64| {
            let chaos = Chaos::default();
            let spec =
                parse(&json!({"action": {"type": "error"}, "probability": 0.5, "seed": seed}))
                    .unwrap();
            chaos.add(spec).unwrap();
            (0..64)
                .map(|_| chaos.decide(&put()).is_some())
                .collect::<Vec<_>>()
        };
        assert_eq!(run(7), run(7));
        assert_ne!(run(7), run(8));
        let hits = run(7).iter().filter(|h| **h).count();
        assert!((16..=48).contains(&hits), "{hits}");
    }

    #[test]
    fn bad_rules_are_refused() {
        for bad in [
            json!({"preset": "nope"}),
            json!({"action": {"type": "error"}, "probability": 1.5}),
            json!({"action": {"type": "error", "code": "NoSuchKey"}}),
            json!({"action": {"type": "latency"}}),
            json!({"action": {"type": "latency", "minMs": 5, "maxMs": 1}}),
            json!({"action": {"type": "boom"}}),
            json!({"action": {"type": "error"}, "extra": 1}),
            json!({"match": {"operation": ["PutObject"]}, "action": {"type": "reset"}}),
            json!([1]),
        ] {
            assert!(parse(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn lifecycle_early_is_not_a_request_rule() {
        let chaos = Chaos::default();
        chaos
            .add(preset("lifecycle_early_delete").unwrap())
            .unwrap();
        assert!(chaos.is_idle());
        assert_eq!(chaos.lifecycle_early_ms(), DAY_MS);
        chaos.clear();
        assert_eq!(chaos.lifecycle_early_ms(), 0);
    }
}
