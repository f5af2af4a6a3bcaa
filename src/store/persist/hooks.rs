//! The records the store's mutations queue: each builds the new state of what changed from
//! the model, under the lock that guarded the change (so records of one entity are queued in
//! the order of its changes).

use super::records::{BucketRec, ObjectRec, PartRec, Rec, RunRec, UploadRec};
use super::{Journal, Persist};
use crate::store::bucket::{Bucket, BucketState};
use crate::store::multipart::{Part, Upload};
use crate::store::Run;

impl Journal {
    /// Every version of `key` as it is now (none: the key is gone).
    pub(in crate::store) fn key(
        &self,
        bucket: &str,
        key: &str,
        versions: Option<&crate::store::Versions>,
    ) {
        self.persist.record(&self.key_rec(bucket, key, versions));
    }

    pub(super) fn key_rec(
        &self,
        bucket: &str,
        key: &str,
        versions: Option<&crate::store::Versions>,
    ) -> Rec {
        Rec::Key {
            run: self.run.to_string(),
            bucket: bucket.to_string(),
            key: key.to_string(),
            versions: versions
                .map(|v| v.iter().map(|o| ObjectRec::of(o)).collect())
                .unwrap_or_default(),
        }
    }

    /// The bucket's settings as they are now.
    pub(in crate::store) fn bucket(&self, b: &Bucket, state: &BucketState) {
        self.persist.record(&self.bucket_rec(b, state));
    }

    pub(super) fn bucket_rec(&self, b: &Bucket, state: &BucketState) -> Rec {
        Rec::Bucket {
            run: self.run.to_string(),
            bucket: Box::new(BucketRec {
                name: b.name.clone(),
                region: b.region.clone(),
                location_constraint: b.location_constraint.clone(),
                created: b.created,
                versioning: state.versioning,
                mfa_delete: state.mfa_delete.clone(),
                configs: state
                    .configs
                    .iter()
                    .map(|(k, d)| (*k, d.text().to_string()))
                    .collect(),
                id_configs: state
                    .id_configs
                    .iter()
                    .map(|((k, id), d)| (*k, id.clone(), d.to_string()))
                    .collect(),
                acl: crate::store::Acl::clone(&state.acl.acl()),
                ownership: state.acl.ownership(),
                notify: b.notifies(),
            }),
        }
    }

    pub(in crate::store) fn bucket_gone(&self, name: &str) {
        self.persist.record(&Rec::BucketGone {
            run: self.run.to_string(),
            name: name.to_string(),
        });
    }

    /// A new upload (its parts are recorded one by one).
    pub(in crate::store) fn upload(&self, bucket: &str, upload: &Upload) {
        self.persist.record(&self.upload_rec(bucket, upload));
    }

    pub(super) fn upload_rec(&self, bucket: &str, upload: &Upload) -> Rec {
        Rec::Upload {
            run: self.run.to_string(),
            bucket: bucket.to_string(),
            upload: Box::new(UploadRec::of(upload)),
        }
    }

    pub(in crate::store) fn part(&self, bucket: &str, key: &str, upload_id: &str, part: &Part) {
        self.persist
            .record(&self.part_rec(bucket, key, upload_id, part));
    }

    pub(super) fn part_rec(&self, bucket: &str, key: &str, upload_id: &str, part: &Part) -> Rec {
        Rec::Part {
            run: self.run.to_string(),
            bucket: bucket.to_string(),
            key: key.to_string(),
            upload_id: upload_id.to_string(),
            part: Box::new(PartRec::of(part)),
        }
    }

    pub(in crate::store) fn upload_gone(&self, bucket: &str, key: &str, upload_id: &str) {
        self.persist.record(&Rec::UploadGone {
            run: self.run.to_string(),
            bucket: bucket.to_string(),
            key: key.to_string(),
            upload_id: upload_id.to_string(),
        });
    }
}

impl Persist {
    /// The run's settings as they are now: clock, modes, users, webhooks, chaos rules.
    pub(in crate::store) fn run(&self, run: &Run) {
        self.record(&run_rec(run));
    }

    pub(in crate::store) fn run_gone(&self, id: &str) {
        self.record(&Rec::RunGone { id: id.to_string() });
    }
}

/// A run's settings record.
pub(super) fn run_rec(run: &Run) -> Rec {
    let (clock_now, frozen, rate) = run.clock.snapshot();
    Rec::Run(Box::new(RunRec {
        id: run.id.clone(),
        clock_now,
        frozen,
        rate,
        real_at: crate::clock::real_now(),
        strict: run.strict(),
        enforce: run.auth.mode() == crate::auth::identity::AuthMode::Enforce,
        users: run
            .auth
            .users()
            .into_iter()
            .map(|u| (u.access_key, u.secret_key, u.name, u.account_id))
            .collect(),
        webhooks: run.events.webhooks(),
        chaos: serde_json::Value::Array(run.chaos.list()).to_string(),
    }))
}
