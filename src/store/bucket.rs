//! A bucket: its identity, its versioning state and its ordered map of keys, each with its
//! versions (oldest first; the last one is current).

use super::acl::Acl;
use super::lock::{Bypass, Locked};
use super::multipart::Upload;
use super::object::{ObjKey, Object, NULL_VERSION};
use crate::clock::Millis;
use crate::error::{S3Error, S3Result};
use crate::ids;
use parking_lot::Mutex;
use std::collections::BTreeMap;
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum Versioning {
    #[default]
    Unversioned,
    Enabled,
    Suspended,
}

pub struct Bucket {
    pub name: String,
    pub region: String,
    /// The LocationConstraint GetBucketLocation reports: empty in us-east-1, `EU` for a
    /// bucket created with that alias of eu-west-1, the region otherwise.
    pub location_constraint: String,
    pub created: Millis,
    pub(super) state: Mutex<BucketState>,
    /// A notification configuration is stored: the one flag writes read before anything is
    /// built for events (see `config.rs`).
    pub(super) notify: std::sync::atomic::AtomicBool,
    /// Where the bucket's changes are journaled (`--data-dir`).
    pub(super) journal: Option<super::persist::Journal>,
}

#[derive(Default)]
pub(super) struct BucketState {
    /// Every key's versions, filed by whether the current one is listed (see `keys.rs`).
    pub(super) objects: super::keys::Keys,
    pub(super) versioning: Versioning,
    /// The MFADelete element as last put (`Enabled` / `Disabled`), echoed back.
    pub(super) mfa_delete: Option<String>,
    /// Configuration documents as put (see `config.rs`).
    pub(super) configs: BTreeMap<super::config::ConfigKind, super::config::StoredDoc>,
    /// Id-keyed configuration documents (metrics, inventory…) as put (see `config.rs`).
    pub(super) id_configs: BTreeMap<(super::config::IdConfigKind, String), Arc<str>>,
    /// The bucket's ACL and object-ownership setting (see `acl.rs`).
    pub(super) acl: super::acl::AclState,
    /// In-progress multipart uploads by (key, upload id); ids sort in creation order.
    pub(super) uploads: BTreeMap<(ObjKey, String), Upload>,
    /// The uploads completed last, oldest first (see `multipart.rs`).
    pub(super) completed: std::collections::VecDeque<super::multipart::Completion>,
    /// Set when the bucket is deleted, so a writer that looked it up just before cannot
    /// store into a bucket that no longer exists.
    pub(super) deleted: bool,
}

impl BucketState {
    /// Marks the key's open uploads: a conditional Complete after the key was written or
    /// deleted is a conflict.
    fn note_key_changed(&mut self, key: &str) {
        if self.uploads.is_empty() {
            return;
        }
        let from = (ObjKey(Arc::from(key)), String::new());
        for ((k, _), upload) in self.uploads.range_mut(from..) {
            if &*k.0 != key {
                break;
            }
            upload.key_changed = true;
        }
    }
}

/// What a delete did, for the response headers.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Deleted {
    /// The version id created (a delete marker) or removed.
    pub version_id: Option<String>,
    /// Whether a delete marker was created, or the removed version was one.
    pub delete_marker: bool,
}

impl Bucket {
    /// A bucket in `region`, which may be S3's `EU` alias of eu-west-1.
    pub(super) fn new(name: &str, region: &str, created: Millis) -> Self {
        let (region, location_constraint) = match region {
            "EU" => ("eu-west-1", "EU"),
            "us-east-1" => ("us-east-1", ""),
            r => (r, r),
        };
        Bucket {
            name: name.to_string(),
            region: region.to_string(),
            location_constraint: location_constraint.to_string(),
            created,
            state: Mutex::new(BucketState::default()),
            notify: Default::default(),
            journal: None,
        }
    }

    /// Journals the bucket's settings as `state` has them (after a change, under its lock).
    pub(super) fn journal_settings(&self, state: &BucketState) {
        if let Some(j) = &self.journal {
            j.bucket(self, state);
        }
    }

    /// Journals every version of `key` as `state` has them.
    fn journal_key(&self, state: &BucketState, key: &str) {
        if let Some(j) = &self.journal {
            j.key(&self.name, key, state.objects.get(key));
        }
    }

    /// Marks a mutation in progress (`--data-dir`): released body files wait for its record.
    pub(super) fn begin(&self) -> Option<super::persist::Mutation<'_>> {
        self.journal.as_ref().map(|j| j.begin())
    }

    /// A body held in memory written to a body file first (`--data-dir`): seeds and
    /// embedded puts arrive in memory.
    pub(super) fn stored_body(&self, body: super::body::Body) -> S3Result<super::body::Body> {
        match &self.journal {
            Some(j) if body.in_memory() && !body.is_empty() => j
                .persist
                .files
                .write_all(&body)
                .map_err(|e| S3Error::internal(format!("cannot write a body file: {e}"))),
            _ => Ok(body),
        }
    }

    /// Marks the bucket deleted if it holds no versions and no uploads.
    pub(super) fn mark_deleted_if_empty(&self) -> bool {
        let mut state = self.state.lock();
        if state.objects.is_empty() && state.uploads.is_empty() {
            state.deleted = true;
            true
        } else {
            false
        }
    }

    pub(super) fn lock_live(&self) -> S3Result<parking_lot::MutexGuard<'_, BucketState>> {
        let state = self.state.lock();
        if state.deleted {
            return Err(S3Error::no_such_bucket(&self.name));
        }
        Ok(state)
    }

    pub fn versioning(&self) -> (Versioning, Option<String>) {
        let s = self.state.lock();
        (s.versioning, s.mfa_delete.clone())
    }

    pub fn set_versioning(&self, v: Versioning, mfa_delete: Option<String>) {
        let mut s = self.state.lock();
        s.versioning = v;
        if mfa_delete.is_some() {
            s.mfa_delete = mfa_delete;
        }
        self.journal_settings(&s);
    }

    /// The current version of a key, delete marker included.
    pub fn current(&self, key: &str) -> Option<Arc<Object>> {
        self.state
            .lock()
            .objects
            .get(key)
            .and_then(|v| v.last().cloned())
    }

    /// The current version if it is an object (not a delete marker).
    pub fn get(&self, key: &str) -> Option<Arc<Object>> {
        self.current(key).filter(|o| !o.delete_marker)
    }

    /// A specific version of a key.
    pub fn version(&self, key: &str, version_id: &str) -> Option<Arc<Object>> {
        self.state
            .lock()
            .objects
            .get(key)
            .and_then(|v| v.iter().find(|o| &*o.version_id == version_id).cloned())
    }

    /// Stores a new version after `check` approves the current one (conditional writes); the
    /// check runs under the bucket lock so two conditional writers cannot both win. The
    /// version id follows the bucket's versioning state.
    pub fn put_checked(
        &self,
        mut object: Object,
        check: impl FnOnce(Option<&Object>) -> S3Result<()>,
    ) -> S3Result<Arc<Object>> {
        if self.journal.is_some() {
            object.body = self.stored_body(std::mem::take(&mut object.body))?;
        }
        let _m = self.begin();
        let mut state = self.lock_live()?;
        let versioning = state.versioning;
        let key = object.key.clone();
        let stored = state.objects.update(
            &key,
            || ObjKey(key.clone()),
            |versions| {
                let current = versions
                    .last()
                    .map(|o| o.as_ref())
                    .filter(|o| !o.delete_marker);
                check(current)?;
                object.version_id = match versioning {
                    Versioning::Enabled => ids::version_id().into(),
                    _ => super::object::null_version(),
                };
                let object = Arc::new(object);
                match versioning {
                    Versioning::Unversioned => versions.clear(),
                    Versioning::Suspended => versions.retain(|o| &*o.version_id != NULL_VERSION),
                    Versioning::Enabled => {}
                }
                versions.push(object.clone());
                Ok::<_, S3Error>(object)
            },
        )?;
        state.note_key_changed(&key);
        self.journal_key(&state, &key);
        Ok(stored)
    }

    /// Appends a version exactly as given (its version id, ETag and dates kept), as the new
    /// current version of its key, replacing a version of the same id: how an exported run
    /// is recreated. The caller orders a key's versions oldest first.
    pub fn import_version(&self, mut object: Object) -> S3Result<Arc<Object>> {
        if self.journal.is_some() {
            object.body = self.stored_body(std::mem::take(&mut object.body))?;
        }
        let _m = self.begin();
        let mut state = self.lock_live()?;
        let key = object.key.clone();
        let object = Arc::new(object);
        state.objects.update(
            &key,
            || ObjKey(key.clone()),
            |versions| {
                versions.retain(|o| o.version_id != object.version_id);
                versions.push(object.clone());
            },
        );
        state.note_key_changed(&key);
        self.journal_key(&state, &key);
        Ok(object)
    }

    pub fn put(&self, object: Object) -> S3Result<Arc<Object>> {
        self.put_checked(object, |_| Ok(()))
    }

    /// Changes a version in place (its body stays shared); `None` if it does not exist or is
    /// a delete marker. `version_id` `None` means the current version.
    pub fn modify(
        &self,
        key: &str,
        version_id: Option<&str>,
        f: impl FnOnce(&mut Object),
    ) -> Option<Arc<Object>> {
        let changed = self.try_modify(key, version_id, |o| {
            f(o);
            Ok::<(), std::convert::Infallible>(())
        })?;
        match changed {
            Ok(object) => Some(object),
            Err(never) => match never {},
        }
    }

    /// DeleteObject without a version id: removes the key (unversioned) or stacks a delete
    /// marker (versioned; under Suspended the marker replaces the null version).
    pub fn delete(&self, key: &str, now: Millis) -> S3Result<Deleted> {
        self.delete_by(key, now, None)
    }

    /// `delete`, the delete marker (if one is stacked) owned as `acl` says (the deleter's
    /// account; the account's `private` ACL when `None`).
    pub fn delete_by(&self, key: &str, now: Millis, acl: Option<Arc<Acl>>) -> S3Result<Deleted> {
        let _m = self.begin();
        let mut state = self.lock_live()?;
        state.note_key_changed(key);
        let versioning = state.versioning;
        match versioning {
            Versioning::Unversioned => {
                state.objects.remove(key);
                self.journal_key(&state, key);
                Ok(Deleted::default())
            }
            Versioning::Enabled | Versioning::Suspended => {
                let id = if versioning == Versioning::Enabled {
                    ids::version_id()
                } else {
                    NULL_VERSION.to_string()
                };
                let mut marker = Object::delete_marker(key, id.clone(), now);
                if let Some(acl) = acl {
                    marker.acl = acl;
                }
                let marker = Arc::new(marker);
                state.objects.update(
                    key,
                    || ObjKey(Arc::from(key)),
                    |versions| {
                        if versioning == Versioning::Suspended {
                            versions.retain(|o| &*o.version_id != NULL_VERSION);
                        }
                        versions.push(marker);
                    },
                );
                self.journal_key(&state, key);
                Ok(Deleted {
                    version_id: Some(id),
                    delete_marker: true,
                })
            }
        }
    }

    /// DeleteObject with a version id: removes that version for good, unless Object Lock
    /// protects it at `now` (checked under the bucket lock). Deleting a version that does not
    /// exist succeeds (S3's deletes are idempotent).
    pub fn delete_version(
        &self,
        key: &str,
        version_id: &str,
        now: Millis,
        bypass: Bypass,
    ) -> S3Result<Deleted> {
        let _m = self.begin();
        let mut state = self.lock_live()?;
        let mut out = Deleted {
            version_id: Some(version_id.to_string()),
            delete_marker: false,
        };
        let removed = state.objects.update_existing(key, |versions| {
            if let Some(i) = versions.iter().position(|o| &*o.version_id == version_id) {
                versions[i].check_removable(now, bypass)?;
                out.delete_marker = versions.remove(i).delete_marker;
            }
            Ok::<(), Locked>(())
        });
        removed.unwrap_or(Ok(()))?;
        state.note_key_changed(key);
        self.journal_key(&state, key);
        Ok(out)
    }

    /// Changes a version in place when `f` approves, under the bucket lock (a retention change
    /// is judged against the version as it is when it is replaced). `None` if the version does
    /// not exist or is a delete marker; `version_id` `None` means the current version.
    pub fn try_modify<E>(
        &self,
        key: &str,
        version_id: Option<&str>,
        f: impl FnOnce(&mut Object) -> Result<(), E>,
    ) -> Option<Result<Arc<Object>, E>> {
        let _m = self.begin();
        let mut state = self.state.lock();
        let changed = state
            .objects
            .update_existing(key, |versions| {
                let entry = match version_id {
                    None => versions.last_mut()?,
                    Some(v) => versions.iter_mut().find(|o| &*o.version_id == v)?,
                };
                if entry.delete_marker {
                    return None;
                }
                let mut changed = Object::clone(entry);
                Some(f(&mut changed).map(|()| {
                    *entry = Arc::new(changed);
                    entry.clone()
                }))
            })
            .flatten();
        if matches!(changed, Some(Ok(_))) {
            self.journal_key(&state, key);
        }
        changed
    }

    /// Visits every key's versions (oldest first) under the bucket lock; the visitor may change
    /// or remove them. Keys left without versions are dropped.
    pub fn visit_versions(&self, mut f: impl FnMut(&str, &mut super::Versions)) {
        let _m = self.begin();
        let mut state = self.state.lock();
        match &self.journal {
            None => state.objects.visit(|key, versions| f(key, versions)),
            Some(j) => state.objects.visit(|key, versions| {
                let before: Vec<*const Object> = versions.iter().map(Arc::as_ptr).collect();
                f(key, versions);
                if !versions.iter().map(Arc::as_ptr).eq(before.iter().copied()) {
                    j.key(&self.name, key, Some(versions));
                }
            }),
        }
    }

    /// Drops the uploads `expired` picks, under the bucket lock; returns how many.
    pub fn drop_uploads(
        &self,
        mut expired: impl FnMut(&super::multipart::Upload) -> bool,
    ) -> usize {
        let _m = self.begin();
        let mut state = self.state.lock();
        let before = state.uploads.len();
        let journal = self.journal.as_ref();
        state.uploads.retain(|(k, id), u| {
            let drop = expired(u);
            if let (true, Some(j)) = (drop, journal) {
                j.upload_gone(&self.name, &k.0, id);
            }
            !drop
        });
        before - state.uploads.len()
    }
}
