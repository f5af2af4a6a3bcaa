//! `GET /_s3twin/runs/{id}/export`: a run written as a seed document that `POST
//! /_s3twin/runs` (and `POST /_s3twin/seed`) take back, so that a state seen in one test can be
//! replayed in another. Bodies up to `?maxBodyBytes=` are inline (base64); larger ones are left
//! out with their size and ETag (see `seed::SeedObject::body_omitted`).

use super::{error, AdminRequest};
use crate::checksum::{self, Checksum};
use crate::clock::iso8601;
use crate::seed::{
    Pairs, SeedAcl, SeedBucket, SeedChecksum, SeedClock, SeedDoc, SeedEncryption, SeedGrant,
    SeedGrantee, SeedObject, SeedOwner, SeedPart, SeedRestore, SeedRetention, SeedUser,
    CONFIG_NAMES, ID_CONFIG_NAMES,
};
use crate::server::response::{bytes, Resp};
use crate::server::AppState;
use crate::store::{
    Acl, Bucket, Encryption, Grantee, Object, ObjectOwnership, Run, SseKind, Versioning,
};
use serde_json::{Map, Value};
use std::sync::Arc;

/// Bodies inline by default: up to 1 MiB each.
pub const DEFAULT_MAX_BODY_BYTES: u64 = 1024 * 1024;

/// The largest `maxBodyBytes`: what one import (the admin body limit) can take back.
pub const MAX_MAX_BODY_BYTES: u64 = super::MAX_ADMIN_BODY as u64;

/// Bodies inline in one export, in all: past it the rest are omitted too, so that an export
/// costs at most about this much memory (twice, in base64) whatever the run holds.
pub const INLINE_BUDGET: u64 = 64 * 1024 * 1024;

pub fn export(state: &AppState, req: &AdminRequest, id: &str) -> Resp {
    let max_body = match req.query.get("maxBodyBytes") {
        None => DEFAULT_MAX_BODY_BYTES,
        Some(v) => match v.parse::<u64>() {
            Ok(n) if n <= MAX_MAX_BODY_BYTES => n,
            _ => {
                return error(
                    400,
                    &format!("maxBodyBytes must be a whole number from 0 to {MAX_MAX_BODY_BYTES}"),
                )
            }
        },
    };
    // The default run always exists (as for the other admin routes).
    let run = match id {
        crate::store::DEFAULT_RUN => Some(state.store.run(id)),
        _ => state.store.existing_run(id),
    };
    let Some(run) = run else {
        return error(404, &format!("no run {id:?}"));
    };
    match serde_json::to_string(&document(&run, max_body, INLINE_BUDGET)) {
        Ok(text) => bytes(200, "application/json", text),
        Err(e) => error(500, &format!("the export could not be written: {e}")),
    }
}

/// The run as a seed document (bucket by bucket, each read under its own lock): bodies up
/// to `max_body` bytes inline while their total stays within `budget`.
pub fn document(run: &Run, max_body: u64, budget: u64) -> SeedDoc {
    let mut budget = budget;
    let chaos: Vec<Value> = run.chaos.list().iter().map(chaos_rule).collect();
    SeedDoc {
        clock: Some(SeedClock {
            now: iso8601(run.now()),
            frozen: run.clock.is_frozen(),
            rate: run.clock.rate(),
        }),
        strict: Some(run.strict()),
        auth: Some(run.auth.mode().as_str().to_string()),
        buckets: run
            .buckets()
            .iter()
            .map(|b| bucket(b, max_body, &mut budget))
            .collect(),
        chaos: (!chaos.is_empty()).then_some(Value::Array(chaos)),
        webhooks: run.events.webhooks().into_iter().collect(),
        users: run
            .auth
            .users()
            .into_iter()
            .map(|u| SeedUser {
                access_key_id: u.access_key,
                secret_access_key: u.secret_key,
                name: u.name,
                account_id: u.account_id,
            })
            .collect(),
    }
}

/// A listed chaos rule in the form `POST /_s3twin/chaos` takes (its counters start afresh).
fn chaos_rule(listed: &Value) -> Value {
    let mut rule = Map::new();
    for field in ["match", "action", "probability", "after", "count", "seed"] {
        let Some(v) = listed.get(field).filter(|v| !v.is_null()) else {
            continue;
        };
        let v = match v {
            Value::Object(m) => Value::Object(
                m.iter()
                    // `status` is shown with an error action, not taken.
                    .filter(|(k, v)| !(v.is_null() || field == "action" && *k == "status"))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            ),
            other => other.clone(),
        };
        rule.insert(field.to_string(), v);
    }
    Value::Object(rule)
}

fn bucket(b: &Bucket, max_body: u64, budget: &mut u64) -> SeedBucket {
    let (versioning, mfa_delete) = b.versioning();
    let configurations = CONFIG_NAMES
        .iter()
        .filter_map(|(name, kind)| b.config(*kind).map(|doc| (name.to_string(), doc)))
        .collect();
    let mut id_configurations = std::collections::BTreeMap::new();
    for (name, kind) in ID_CONFIG_NAMES {
        let mut docs = std::collections::BTreeMap::new();
        let mut after: Option<String> = None;
        loop {
            let page = b.id_configs(kind, after.as_deref(), 1000);
            after = page.docs.last().map(|(id, _)| id.clone());
            for (id, doc) in page.docs {
                docs.insert(id, doc.to_string());
            }
            if !page.truncated || after.is_none() {
                break;
            }
        }
        if !docs.is_empty() {
            id_configurations.insert(name.to_string(), docs);
        }
    }
    let mut versions: Vec<(Arc<str>, crate::store::Versions)> = Vec::new();
    b.visit_versions(|key, v| versions.push((Arc::from(key), v.clone())));
    versions.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    let objects = versions
        .iter()
        .flat_map(|(_, v)| v.iter())
        .map(|o| object(o, max_body, budget))
        .collect();
    let acl = b.acl();
    SeedBucket {
        name: b.name.clone(),
        region: Some(if b.location_constraint == "EU" {
            "EU".to_string()
        } else {
            b.region.clone()
        }),
        created: Some(iso8601(b.created)),
        versioning: match versioning {
            Versioning::Unversioned => None,
            Versioning::Enabled => Some("Enabled".into()),
            Versioning::Suspended => Some("Suspended".into()),
        },
        mfa_delete,
        lifecycle: None,
        configurations,
        id_configurations,
        acl: (*acl != *Acl::private()).then(|| seed_acl(&acl)),
        object_ownership: match b.object_ownership() {
            Some(ObjectOwnership::BucketOwnerEnforced) => None,
            other => Some(other.map(|o| o.name().to_string())),
        },
        objects,
    }
}

fn seed_acl(acl: &Acl) -> SeedAcl {
    SeedAcl {
        owner: SeedOwner {
            id: acl.owner.id.clone(),
            display_name: acl.owner.display_name.clone(),
        },
        grants: acl
            .grants
            .iter()
            .map(|g| SeedGrant {
                grantee: match &g.grantee {
                    Grantee::CanonicalUser { id, display_name } => SeedGrantee {
                        kind: "CanonicalUser".into(),
                        id: Some(id.clone()),
                        display_name: display_name.clone(),
                        uri: None,
                        email: None,
                    },
                    Grantee::Group { uri } => SeedGrantee {
                        kind: "Group".into(),
                        id: None,
                        display_name: None,
                        uri: Some(uri.clone()),
                        email: None,
                    },
                    Grantee::AmazonCustomerByEmail { email } => SeedGrantee {
                        kind: "AmazonCustomerByEmail".into(),
                        id: None,
                        display_name: None,
                        uri: None,
                        email: Some(email.clone()),
                    },
                },
                permission: g.permission.name().to_string(),
            })
            .collect(),
    }
}

fn seed_checksum(c: &Checksum) -> SeedChecksum {
    SeedChecksum {
        algorithm: c.algorithm.name().to_string(),
        value: c.value.to_string(),
        kind: c.kind.name().to_string(),
    }
}

fn seed_encryption(e: &Encryption) -> SeedEncryption {
    SeedEncryption {
        algorithm: match e.kind {
            SseKind::Customer => "SSE-C".to_string(),
            k => k.header_value().unwrap_or("AES256").to_string(),
        },
        kms_key_id: e.kms_key_id.as_deref().map(str::to_string),
        context: e.context.as_deref().map(str::to_string),
        bucket_key: e.bucket_key,
        customer_key_hash: e.customer_key_hash.map(hex::encode),
        customer_key_md5: e.customer_key_md5.as_deref().map(str::to_string),
    }
}

fn object(o: &Object, max_body: u64, budget: &mut u64) -> SeedObject {
    let acl = (*o.acl != *Acl::private()).then(|| seed_acl(&o.acl));
    let mut out = SeedObject {
        key: o.key.to_string(),
        version_id: Some(o.version_id.to_string()),
        last_modified: Some(iso8601(o.last_modified)),
        acl,
        ..SeedObject::default()
    };
    if o.delete_marker {
        out.delete_marker = true;
        return out;
    }
    if o.size() <= max_body && o.size() <= *budget {
        *budget -= o.size();
        out.body_base64 = Some(checksum::b64(&o.body.to_bytes()));
    } else {
        out.body_omitted = true;
        out.size = Some(o.size());
    }
    out.etag = Some(o.etag.to_string());
    let h = &o.headers;
    out.content_type = h.content_type.clone();
    out.content_encoding = h.content_encoding.clone();
    out.content_disposition = h.content_disposition.clone();
    out.content_language = h.content_language.clone();
    out.cache_control = h.cache_control.clone();
    out.expires = h.expires.clone();
    out.website_redirect_location = h.website_redirect_location.clone();
    out.metadata = Pairs(o.metadata.to_vec());
    out.tags = Pairs(o.tags().to_vec());
    out.storage_class = (o.storage_class != crate::store::StorageClass::STANDARD)
        .then(|| o.storage_class.as_str().to_string());
    out.checksum = Some(o.checksum.as_ref().map(seed_checksum));
    out.encryption = match &o.encryption {
        Some(e) if **e == *Encryption::sse_s3() => None,
        Some(e) => Some(Some(seed_encryption(e))),
        None => Some(None),
    };
    out.parts = o.parts().map(|parts| {
        parts
            .iter()
            .map(|p| SeedPart {
                number: p.number,
                size: p.size,
                etag: p.etag.clone(),
                checksum: p.checksum.as_ref().map(seed_checksum),
            })
            .collect()
    });
    out.restore = o.restore().map(|r| SeedRestore {
        ready_at: iso8601(r.ready_at),
        expires_at: iso8601(r.expires_at),
        ready_announced: r.ready_announced,
        expiry_announced: r.expiry_announced,
    });
    out.retention = o.retention().map(|r| SeedRetention {
        mode: r.mode.name().to_string(),
        until: iso8601(r.until),
    });
    out.legal_hold = o.legal_hold();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    #[test]
    fn bodies_past_the_budget_are_omitted_and_come_back_as_zeros() {
        let store = Store::new();
        let run = store.run("r");
        let seed = serde_json::json!({"buckets": [{"name": "budget-bkt", "objects": [
            {"key": "a", "body": "aaaa"}, {"key": "b", "body": "bbbb"}, {"key": "c", "body": "cc"}]}]});
        crate::seed::apply(
            &run,
            "us-east-1",
            crate::seed::from_json(&seed).expect("seed"),
        )
        .expect("applies");
        // 10 bytes in all: a and b fit a budget of 9, c (2 more) does not.
        let doc = document(&run, 1024, 9);
        let objects = &doc.buckets[0].objects;
        let inline: Vec<bool> = objects.iter().map(|o| o.body_base64.is_some()).collect();
        assert_eq!(inline, [true, true, false]);
        assert!(objects[2].body_omitted);
        assert_eq!(objects[2].size, Some(2));
        let copy = store.run("copy");
        let text = serde_json::to_value(&doc).expect("serializes");
        crate::seed::apply(
            &copy,
            "us-east-1",
            crate::seed::from_json(&text).expect("parses"),
        )
        .expect("imports");
        let c = copy
            .bucket("budget-bkt")
            .expect("bucket")
            .get("c")
            .expect("c");
        assert_eq!(&c.body.to_bytes()[..], b"\0\0");
        let original = run
            .bucket("budget-bkt")
            .expect("bucket")
            .get("c")
            .expect("c");
        assert_eq!(c.etag, original.etag);
        assert_eq!(c.last_modified, original.last_modified);
        assert!(
            c.checksum.is_none(),
            "zeros carry no checksum of other bytes"
        );
    }
}
