//! A bucket: its identity and its ordered map of objects.

use super::object::{ObjKey, Object};
use crate::clock::Millis;
use crate::error::{S3Error, S3Result};
use parking_lot::Mutex;
use std::collections::BTreeMap;
use std::sync::Arc;

pub struct Bucket {
    pub name: String,
    pub region: String,
    pub created: Millis,
    pub(super) state: Mutex<BucketState>,
}

#[derive(Default)]
pub(super) struct BucketState {
    pub(super) objects: BTreeMap<ObjKey, Arc<Object>>,
    /// Set when the bucket is deleted, so a writer that looked it up just before cannot
    /// store into a bucket that no longer exists.
    pub(super) deleted: bool,
}

impl Bucket {
    pub(super) fn new(name: &str, region: &str, created: Millis) -> Self {
        Bucket {
            name: name.to_string(),
            region: region.to_string(),
            created,
            state: Mutex::new(BucketState::default()),
        }
    }

    pub(super) fn mark_deleted_if_empty(&self) -> bool {
        let mut state = self.state.lock();
        if state.objects.is_empty() {
            state.deleted = true;
            true
        } else {
            false
        }
    }

    pub fn get(&self, key: &str) -> Option<Arc<Object>> {
        self.state.lock().objects.get(key).cloned()
    }

    /// Stores an object after `check` approves the current one (conditional writes); the check
    /// runs under the bucket lock so two conditional writers cannot both win.
    pub fn put_checked(
        &self,
        object: Object,
        check: impl FnOnce(Option<&Object>) -> S3Result<()>,
    ) -> S3Result<Arc<Object>> {
        let mut state = self.state.lock();
        if state.deleted {
            return Err(S3Error::no_such_bucket(&self.name));
        }
        check(state.objects.get(object.key.as_str()).map(|o| o.as_ref()))?;
        let object = Arc::new(object);
        state
            .objects
            .insert(ObjKey(object.key.clone()), object.clone());
        Ok(object)
    }

    pub fn put(&self, object: Object) -> S3Result<Arc<Object>> {
        self.put_checked(object, |_| Ok(()))
    }

    /// Changes an object in place (its body stays shared); `None` if the key is absent.
    pub fn modify(&self, key: &str, f: impl FnOnce(&mut Object)) -> Option<Arc<Object>> {
        let mut state = self.state.lock();
        let entry = state.objects.get_mut(key)?;
        f(Arc::make_mut(entry));
        Some(entry.clone())
    }

    /// Removes a key; returns the removed object, if any.
    pub fn delete(&self, key: &str) -> Option<Arc<Object>> {
        self.state.lock().objects.remove(key)
    }

    pub fn object_count(&self) -> usize {
        self.state.lock().objects.len()
    }
}
