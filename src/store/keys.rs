//! A bucket's keys in S3 order, filed by what their current version is: `listed` (an object)
//! or `hidden` (a delete marker). ListObjects walks `listed` alone, so a page costs
//! O(log n + page) however many delete markers lie between its keys; version listings and
//! lookups see both. Every change goes through `update`/`visit`, which re-file the key.

use super::object::{ObjKey, Object};
use std::collections::BTreeMap;
use std::iter::Peekable;
use std::ops::Bound;
use std::sync::Arc;

/// A key's versions, oldest first; the last is current. Nearly every key has one version,
/// kept inline in the map's entry (a `Vec` would allocate 32 bytes for it).
pub type Versions = smallvec::SmallVec<[Arc<Object>; 1]>;

#[derive(Debug, Default)]
pub(super) struct Keys {
    listed: BTreeMap<ObjKey, Versions>,
    hidden: BTreeMap<ObjKey, Versions>,
}

/// Where a key's versions belong: `None` when there are none left.
fn shows(versions: &Versions) -> Option<bool> {
    versions.last().map(|o| !o.delete_marker)
}

impl Keys {
    pub fn is_empty(&self) -> bool {
        self.listed.is_empty() && self.hidden.is_empty()
    }

    /// How many keys (with at least one version).
    pub fn len(&self) -> usize {
        self.listed.len() + self.hidden.len()
    }

    pub fn get(&self, key: &str) -> Option<&Versions> {
        self.listed.get(key).or_else(|| self.hidden.get(key))
    }

    pub fn remove(&mut self, key: &str) {
        if self.listed.remove(key).is_none() {
            self.hidden.remove(key);
        }
    }

    /// Applies `f` to the versions of `key` (empty when the key is new; `make_key` names it
    /// then), then files the key by its current version, dropping it when none remain.
    pub fn update<R>(
        &mut self,
        key: &str,
        make_key: impl FnOnce() -> ObjKey,
        f: impl FnOnce(&mut Versions) -> R,
    ) -> R {
        // The common case, an object over an object, stays one lookup.
        if let Some(versions) = self.listed.get_mut(key) {
            let out = f(versions);
            if shows(versions) != Some(true) {
                self.refile(key, true);
            }
            return out;
        }
        if let Some(versions) = self.hidden.get_mut(key) {
            let out = f(versions);
            if shows(versions) != Some(false) {
                self.refile(key, false);
            }
            return out;
        }
        let mut versions = Versions::new();
        let out = f(&mut versions);
        match shows(&versions) {
            Some(true) => {
                self.listed.insert(make_key(), versions);
            }
            Some(false) => {
                self.hidden.insert(make_key(), versions);
            }
            None => {}
        }
        out
    }

    /// Like `update`, for a key that must already exist (`None` when it does not).
    pub fn update_existing<R>(
        &mut self,
        key: &str,
        f: impl FnOnce(&mut Versions) -> R,
    ) -> Option<R> {
        self.get(key)?;
        Some(self.update(key, || ObjKey(Arc::from(key)), f))
    }

    /// Moves `key` out of the map it was in (`listed` or not) into the one it now belongs to.
    fn refile(&mut self, key: &str, was_listed: bool) {
        let from = if was_listed {
            &mut self.listed
        } else {
            &mut self.hidden
        };
        let Some((k, versions)) = from.remove_entry(key) else {
            return;
        };
        match shows(&versions) {
            Some(true) => {
                self.listed.insert(k, versions);
            }
            Some(false) => {
                self.hidden.insert(k, versions);
            }
            None => {}
        }
    }

    /// Visits every key's versions; the visitor may change or empty them. Keys are re-filed
    /// afterwards (each key is visited once).
    pub fn visit(&mut self, mut f: impl FnMut(&str, &mut Versions)) {
        let mut to_hidden = Vec::new();
        self.listed.retain(|k, versions| {
            f(&k.0, versions);
            match shows(versions) {
                Some(true) => true,
                Some(false) => {
                    to_hidden.push((k.clone(), std::mem::take(versions)));
                    false
                }
                None => false,
            }
        });
        let mut to_listed = Vec::new();
        self.hidden.retain(|k, versions| {
            f(&k.0, versions);
            match shows(versions) {
                Some(false) => true,
                Some(true) => {
                    to_listed.push((k.clone(), std::mem::take(versions)));
                    false
                }
                None => false,
            }
        });
        self.hidden.extend(to_hidden);
        self.listed.extend(to_listed);
    }

    /// Keys whose current version is an object, from `start` on.
    pub fn listed_from<'a>(
        &'a self,
        start: Bound<&[u8]>,
    ) -> impl Iterator<Item = (&'a ObjKey, &'a Versions)> + 'a {
        self.listed.range::<[u8], _>((start, Bound::Unbounded))
    }

    /// Every key, from `start` on, in S3 order (the two maps merged).
    pub fn all_from<'a>(
        &'a self,
        start: Bound<&[u8]>,
    ) -> impl Iterator<Item = (&'a ObjKey, &'a Versions)> + 'a {
        Merge {
            a: self
                .listed
                .range::<[u8], _>((start, Bound::Unbounded))
                .peekable(),
            b: self
                .hidden
                .range::<[u8], _>((start, Bound::Unbounded))
                .peekable(),
        }
    }
}

/// Two ordered iterators with disjoint keys, merged in order.
struct Merge<I: Iterator> {
    a: Peekable<I>,
    b: Peekable<I>,
}

impl<'a, I> Iterator for Merge<I>
where
    I: Iterator<Item = (&'a ObjKey, &'a Versions)>,
{
    type Item = (&'a ObjKey, &'a Versions);

    fn next(&mut self) -> Option<Self::Item> {
        let take_a = match (self.a.peek(), self.b.peek()) {
            (Some((ka, _)), Some((kb, _))) => ka.0.as_bytes() < kb.0.as_bytes(),
            (Some(_), None) => true,
            (None, _) => false,
        };
        if take_a {
            self.a.next()
        } else {
            self.b.next()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Body;

    fn obj(key: &str) -> Arc<Object> {
        Arc::new(Object::new(key, Body::default(), "", 0))
    }

    fn marker(key: &str) -> Arc<Object> {
        Arc::new(Object::delete_marker(key, "m".to_string(), 0))
    }

    fn names<'a>(it: impl Iterator<Item = (&'a ObjKey, &'a Versions)>) -> Vec<String> {
        it.map(|(k, _)| k.0.to_string()).collect()
    }

    #[test]
    fn keys_are_filed_by_their_current_version() {
        let mut keys = Keys::default();
        for k in ["a", "b", "c", "d"] {
            keys.update(k, || ObjKey(Arc::from(k)), |v| v.push(obj(k)));
        }
        keys.update("b", || unreachable!(), |v| v.push(marker("b")));
        keys.update("d", || unreachable!(), |v| v.push(marker("d")));
        assert_eq!(names(keys.listed_from(Bound::Unbounded)), ["a", "c"]);
        assert_eq!(names(keys.all_from(Bound::Unbounded)), ["a", "b", "c", "d"]);
        assert_eq!(
            names(keys.all_from(Bound::Excluded(b"a".as_slice()))),
            ["b", "c", "d"]
        );
        // A new version over a marker lists the key again; removing its last version drops it.
        keys.update("b", || unreachable!(), |v| v.push(obj("b")));
        assert_eq!(names(keys.listed_from(Bound::Unbounded)), ["a", "b", "c"]);
        assert_eq!(keys.update_existing("c", |v| v.clear()), Some(()));
        assert!(keys.get("c").is_none());
        assert_eq!(keys.update_existing("zz", |v| v.clear()), None);
        // The visitor re-files too.
        keys.visit(|k, v| {
            if k == "a" {
                v.push(marker("a"));
            }
            if k == "d" {
                v.clear();
            }
        });
        assert_eq!(names(keys.listed_from(Bound::Unbounded)), ["b"]);
        assert_eq!(names(keys.all_from(Bound::Unbounded)), ["a", "b"]);
        keys.remove("a");
        keys.remove("b");
        assert!(keys.is_empty());
    }
}
