//! Seed documents: JSON descriptions of buckets (with versioning and lifecycle rules) and
//! objects, loaded into a run all at once or not at all. Also the built-in presets.

use crate::api::{prepare_lifecycle_doc, valid_bucket_name};
use crate::checksum::{self, ChecksumAlgorithm, ChecksumType};
use crate::error::S3Error;
use crate::store::{Body, ConfigKind, Object, ObjectHeaders, Run, Versioning};
use crate::wire::xml::XmlWriter;
use bytes::Bytes;
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedDoc {
    #[serde(default)]
    pub buckets: Vec<SeedBucket>,
    /// Chaos rules and preset names, as `POST /_s3twin/chaos` takes them (a list).
    #[serde(default)]
    pub chaos: Option<Value>,
    /// Notification webhooks for the run: destination ARN → `http://` URL.
    #[serde(default)]
    pub webhooks: BTreeMap<String, String>,
    /// Identities of the run (besides the server's).
    #[serde(default)]
    pub users: Vec<SeedUser>,
}

/// `{"accessKeyId", "secretAccessKey", "name"?, "accountId"?}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SeedUser {
    pub access_key_id: String,
    pub secret_access_key: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub account_id: Option<String>,
}

impl SeedUser {
    pub fn spec(&self) -> Result<crate::auth::identity::UserSpec, String> {
        crate::auth::identity::UserSpec::checked(
            &self.access_key_id,
            &self.secret_access_key,
            self.name.clone(),
            self.account_id.clone(),
        )
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedBucket {
    pub name: String,
    #[serde(default)]
    pub versioning: Option<String>,
    /// Rules in boto3's `LifecycleConfiguration["Rules"]` shape, or `{"expirationDays": N,
    /// "prefix"?: "…"}`.
    #[serde(default)]
    pub lifecycle: Option<Value>,
    #[serde(default)]
    pub objects: Vec<SeedObject>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SeedObject {
    pub key: String,
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    pub body_base64: Option<String>,
    #[serde(default)]
    pub content_type: Option<String>,
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

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
        other => serde_json::from_value(other.clone()).map_err(|e| format!("invalid seed: {e}")),
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
                body_base64: None,
                content_type: Some("application/pdf".into()),
                metadata: BTreeMap::from([("invoice-id".into(), format!("INV-{n:03}"))]),
                tags: BTreeMap::new(),
            }
            };
            let mut draft = pdf(3, "0.00");
            draft.key = "tmp/inv-003-draft.pdf".into();
            Ok(SeedDoc {
                buckets: vec![SeedBucket {
                    name: "invoices".into(),
                    versioning: None,
                    lifecycle: Some(serde_json::json!([{
                        "ID": "expire-tmp",
                        "Status": "Enabled",
                        "Filter": {"Prefix": "tmp/"},
                        "Expiration": {"Days": 7}
                    }])),
                    objects: vec![pdf(1, "120.00"), pdf(2, "89.50"), draft],
                }],
                chaos: None,
                webhooks: BTreeMap::new(),
                users: Vec::new(),
            })
        }
        other => Err(format!(
            "unknown seed preset {other:?} (known: invoice-store)"
        )),
    }
}

/// A seed checked and turned into what will be stored, before anything is.
struct Prepared {
    name: String,
    versioning: Option<Versioning>,
    lifecycle: Option<String>,
    objects: Vec<(SeedObject, Bytes)>,
}

fn prepare(doc: SeedDoc) -> Result<Vec<Prepared>, String> {
    let mut out = Vec::new();
    for b in doc.buckets {
        if !valid_bucket_name(&b.name) {
            return Err(format!("invalid bucket name {:?}", b.name));
        }
        let versioning = match b.versioning.as_deref() {
            None => None,
            Some("Enabled") => Some(Versioning::Enabled),
            Some("Suspended") => Some(Versioning::Suspended),
            Some(v) => {
                return Err(format!(
                    "bucket {}: versioning must be Enabled or Suspended, not {v:?}",
                    b.name
                ))
            }
        };
        let lifecycle = match &b.lifecycle {
            None => None,
            Some(v) => {
                let doc = lifecycle_xml(v).map_err(|e| format!("bucket {}: {e}", b.name))?;
                let doc = prepare_lifecycle_doc(doc).map_err(|e: S3Error| {
                    format!(
                        "bucket {}: lifecycle: {}: {}",
                        b.name,
                        e.code.as_str(),
                        e.message
                    )
                })?;
                Some(doc)
            }
        };
        let mut objects = Vec::new();
        for o in b.objects {
            if o.key.is_empty() || o.key.len() > 1024 {
                return Err(format!(
                    "bucket {}: object keys are 1 to 1024 bytes",
                    b.name
                ));
            }
            let body = match (&o.body, &o.body_base64) {
                (Some(t), None) => Bytes::from(t.clone()),
                (None, Some(b64)) => Bytes::from(
                    checksum::b64_decode(b64)
                        .ok_or_else(|| format!("object {}: bodyBase64 is not base64", o.key))?,
                ),
                (None, None) => Bytes::new(),
                (Some(_), Some(_)) => {
                    return Err(format!(
                        "object {}: give body or bodyBase64, not both",
                        o.key
                    ))
                }
            };
            for (k, v) in &o.tags {
                crate::wire::headers::validate_tag(k, v)
                    .map_err(|e| format!("object {}: tag {k:?}: {}", o.key, e.message))?;
            }
            if o.tags.len() > 10 {
                return Err(format!("object {}: at most 10 tags", o.key));
            }
            objects.push((o, body));
        }
        out.push(Prepared {
            name: b.name,
            versioning,
            lifecycle,
            objects,
        });
    }
    Ok(out)
}

/// Loads a seed into a run: everything is checked first, so a bad seed changes nothing.
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
    let webhooks = std::mem::take(&mut doc.webhooks);
    let prepared = prepare(doc)?;
    // The last check that can refuse (too many rules in the run), before anything is stored.
    run.chaos.add(chaos).map_err(|e| format!("chaos: {e}"))?;
    for (arn, url) in webhooks {
        run.events.set_webhook(&arn, &url)?;
    }
    for spec in users {
        run.auth.add_user(spec);
    }
    let mut summary = Summary {
        buckets: 0,
        objects: 0,
    };
    for p in prepared {
        run.create_bucket(&p.name, region);
        let bucket = run.bucket(&p.name).map_err(|e| e.message)?;
        summary.buckets += 1;
        if let Some(v) = p.versioning {
            bucket.set_versioning(v, None);
        }
        if let Some(doc) = p.lifecycle {
            bucket.set_config(ConfigKind::Lifecycle, Some(doc));
        }
        for (o, body) in p.objects {
            let mut crc = ChecksumAlgorithm::Crc64Nvme.hasher();
            crc.update(&body);
            let mut object = Object::new(
                o.key,
                Body::from_segments(vec![body.clone()]),
                checksum::md5_hex(&body),
                run.now(),
            );
            object.headers = ObjectHeaders {
                content_type: o.content_type,
                ..ObjectHeaders::default()
            }
            .shared();
            object.metadata = o
                .metadata
                .into_iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), v))
                .collect();
            object.tags = o.tags.into_iter().collect();
            object.checksum = Some(checksum::Checksum {
                algorithm: ChecksumAlgorithm::Crc64Nvme,
                value: checksum::b64(&crc.finish()),
                kind: ChecksumType::FullObject,
            });
            bucket.put(object).map_err(|e| e.message)?;
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
