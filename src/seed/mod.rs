//! Seed documents: JSON descriptions of a run — its clock, modes, users, webhooks and chaos
//! rules, buckets with their configurations, objects with every version — loaded into a run
//! all at once or not at all (`format.rs` the document, `check.rs` its checks). Also the
//! built-in presets. An export (`admin/export.rs`) writes the same format.

mod check;
mod format;

pub use check::{config_kind, CONFIG_NAMES, ID_CONFIG_NAMES, MAX_FILLER_BYTES, MAX_OBJECT_SIZE};
pub use format::*;

use crate::clock::iso8601;
use crate::store::{ConfigKind, Run};
use crate::wire::xml::XmlWriter;
use check::{instant, prepare, PreparedObject, MAX_ID_CONFIGS};
use serde::Deserialize;
use serde_json::Value;

/// What a seed put into a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    pub buckets: usize,
    pub objects: usize,
}

/// A seed: a preset name (a JSON string) or a document.
pub fn from_json(value: &Value) -> Result<SeedDoc, String> {
    match value {
        Value::String(name) => preset(name),
        // Deserialized from the borrowed tree: no copy of the bodies it holds.
        other => SeedDoc::deserialize(other).map_err(|e| format!("invalid seed: {e}")),
    }
}

/// The built-in presets, by name.
pub fn preset(name: &str) -> Result<SeedDoc, String> {
    match name {
        "invoice-store" => {
            let pdf = |n: u32, amount: &str| {
                SeedObject {
                key: format!("2026/inv-{n:03}.pdf"),
                body: Some(format!(
                    "%PDF-1.4\n% s3twin sample invoice\n1 0 obj << /Title (Invoice INV-{n:03}) /Amount ({amount}) >> endobj\n%%EOF\n"
                )),
                content_type: Some("application/pdf".into()),
                metadata: Pairs(vec![("invoice-id".into(), format!("INV-{n:03}"))]),
                ..SeedObject::default()
            }
            };
            let mut draft = pdf(3, "0.00");
            draft.key = "tmp/inv-003-draft.pdf".into();
            Ok(SeedDoc {
                buckets: vec![SeedBucket {
                    name: "invoices".into(),
                    lifecycle: Some(serde_json::json!([{
                        "ID": "expire-tmp",
                        "Status": "Enabled",
                        "Filter": {"Prefix": "tmp/"},
                        "Expiration": {"Days": 7}
                    }])),
                    objects: vec![pdf(1, "120.00"), pdf(2, "89.50"), draft],
                    ..SeedBucket::default()
                }],
                ..SeedDoc::default()
            })
        }
        other => Err(format!(
            "unknown seed preset {other:?} (known: invoice-store)"
        )),
    }
}

/// Loads a seed into a run: everything is checked first, so a bad seed changes nothing.
///
/// A seed's clock is shown as given in a run that holds no bucket yet (a new run, an
/// export replayed); a run in use only moves its clock forward to it.
pub fn apply(run: &Run, region: &str, mut doc: SeedDoc) -> Result<Summary, String> {
    let users = std::mem::take(&mut doc.users)
        .iter()
        .map(SeedUser::spec)
        .collect::<Result<Vec<_>, _>>()?;
    let chaos = match doc.chaos.take() {
        None | Some(Value::Null) => Vec::new(),
        Some(v) => crate::chaos::parse_list(&v).map_err(|e| format!("chaos: {e}"))?,
    };
    for (arn, url) in &doc.webhooks {
        crate::events::check_arn(arn)
            .and_then(|()| crate::events::check_webhook_url(url))
            .map_err(|e| format!("webhooks: {e}"))?;
    }
    let auth = match doc.auth.as_deref() {
        None => None,
        Some(a) => Some(
            crate::auth::identity::AuthMode::parse(a)
                .ok_or("auth must be \"none\" or \"enforce\"")?,
        ),
    };
    let clock = match &doc.clock {
        None => None,
        Some(c) => {
            let now = instant(&c.now, "clock.now")?;
            let rate = crate::clock::check_rate(c.rate).map_err(|e| format!("clock: {e}"))?;
            if run.bucket_count() > 0 && now < run.now() {
                return Err(format!(
                    "clock: time never moves backwards: {} is before the run's now ({})",
                    c.now,
                    iso8601(run.now())
                ));
            }
            Some((now, c.frozen, rate))
        }
    };
    let webhooks = std::mem::take(&mut doc.webhooks);
    let prepared = prepare(std::mem::take(&mut doc.buckets), region)?;
    // The last check that can refuse (too many rules in the run), before anything is stored.
    run.chaos.add(chaos).map_err(|e| format!("chaos: {e}"))?;
    for (arn, url) in webhooks {
        run.events.set_webhook(&arn, &url)?;
    }
    for spec in users {
        run.auth.add_user(spec);
    }
    if let Some(strict) = doc.strict {
        run.set_strict(strict);
    }
    if let Some(mode) = auth {
        run.auth.set_mode(mode);
    }
    if let Some((now, frozen, rate)) = clock {
        run.clock
            .restore(now, frozen, rate)
            .map_err(|e| format!("clock: {e}"))?;
    }
    // The run's settings as the seed left them, journaled (`--data-dir`).
    run.save_settings();
    let mut summary = Summary {
        buckets: 0,
        objects: 0,
    };
    for p in prepared {
        let now = run.now();
        run.create_bucket_at(&p.name, &p.region, p.created.unwrap_or(now));
        let bucket = run.bucket(&p.name).map_err(|e| e.message)?;
        summary.buckets += 1;
        if let Some(v) = p.versioning {
            bucket.set_versioning(v, p.mfa_delete);
        }
        for (kind, doc) in p.configs {
            bucket.set_config(kind, Some(doc));
        }
        // Writes look for events only when the configuration configures some (as after a Put).
        let configured = bucket
            .parsed_config(
                ConfigKind::Notification,
                crate::events::config::Notification::from_doc,
            )
            .is_some_and(|n| !n.is_empty());
        bucket.set_notifies(configured);
        for (kind, id, doc) in p.id_configs {
            bucket.put_id_config(kind, &id, doc, MAX_ID_CONFIGS);
        }
        if let Some(acl) = p.acl {
            bucket.set_acl(acl);
        }
        if let Some(o) = p.ownership {
            bucket.set_object_ownership(o);
        }
        for PreparedObject {
            mut object,
            last_modified,
        } in p.objects
        {
            object.last_modified = last_modified.unwrap_or(now);
            bucket.import_version(object).map_err(|e| e.message)?;
            summary.objects += 1;
        }
    }
    Ok(summary)
}

/// Element names of JSON lists in boto3's rule shape: the list key → the repeated element.
fn list_element(key: &str) -> &str {
    match key {
        "Rules" => "Rule",
        "Transitions" => "Transition",
        "NoncurrentVersionTransitions" => "NoncurrentVersionTransition",
        "Tags" => "Tag",
        other => other,
    }
}

fn write_value(w: &mut XmlWriter, name: &str, v: &Value) -> Result<(), String> {
    match v {
        Value::Array(items) => {
            for item in items {
                write_value(w, list_element(name), item)?;
            }
        }
        Value::Object(map) => {
            w.open_dyn(name);
            for (k, v) in map {
                write_value(w, k, v)?;
            }
            w.close();
        }
        Value::String(s) => {
            w.elem(name, s);
        }
        Value::Number(n) => {
            w.elem(name, &n.to_string());
        }
        Value::Bool(b) => {
            w.elem(name, if *b { "true" } else { "false" });
        }
        Value::Null => return Err(format!("{name}: null is not a value")),
    }
    Ok(())
}

/// A lifecycle document from a seed's rules (boto3 shape) or `{"expirationDays": N}`.
pub fn lifecycle_xml(v: &Value) -> Result<String, String> {
    let rules = match v {
        Value::Array(_) => v.clone(),
        Value::Object(m) if m.contains_key("expirationDays") => {
            let days = m
                .get("expirationDays")
                .and_then(Value::as_u64)
                .ok_or("expirationDays must be a positive integer")?;
            let prefix = m.get("prefix").and_then(Value::as_str).unwrap_or("");
            serde_json::json!([{
                "ID": format!("expire-after-{days}-days"),
                "Status": "Enabled",
                "Filter": {"Prefix": prefix},
                "Expiration": {"Days": days}
            }])
        }
        Value::Object(m) if m.contains_key("Rules") => m["Rules"].clone(),
        _ => return Err("lifecycle must be a list of rules or {\"expirationDays\": N}".into()),
    };
    let mut w = XmlWriter::new();
    w.root("LifecycleConfiguration");
    write_value(&mut w, "Rules", &rules)?;
    Ok(w.finish())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    #[test]
    fn bad_seeds_change_nothing() {
        let store = Store::new();
        let run = store.run("r");
        let doc: Value =
            serde_json::json!({"buckets": [{"name": "good-one"}, {"name": "Bad_Name"}]});
        let err = apply(&run, "us-east-1", from_json(&doc).expect("parses")).unwrap_err();
        assert!(err.contains("Bad_Name"), "{err}");
        assert_eq!(run.bucket_count(), 0);
        let unknown = serde_json::json!({"buckets": [{"name": "x-bucket", "colour": "red"}]});
        assert!(from_json(&unknown).is_err());
    }

    #[test]
    fn preset_and_lifecycle_shapes() {
        let store = Store::new();
        let run = store.run("r");
        let summary =
            apply(&run, "us-east-1", preset("invoice-store").expect("preset")).expect("applies");
        assert_eq!(
            summary,
            Summary {
                buckets: 1,
                objects: 3
            }
        );
        let doc = lifecycle_xml(&serde_json::json!({"expirationDays": 7})).expect("xml");
        assert!(
            doc.contains("<Expiration><Days>7</Days></Expiration>"),
            "{doc}"
        );
        let rules = crate::lifecycle::parse_rules(&doc);
        assert_eq!(rules.len(), 1);
    }
}
