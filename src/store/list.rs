//! Listing a bucket: one page of keys and common prefixes in S3 order. A page costs
//! O(log n + page): the ordered map is entered at the marker and, after each common prefix,
//! re-entered just past every key that prefix rolls up.

use super::bucket::Bucket;
use super::object::Object;
use std::ops::Bound;
use std::sync::Arc;

#[derive(Debug, Clone, Copy)]
pub struct ListQuery<'a> {
    pub prefix: &'a str,
    pub delimiter: Option<&'a str>,
    /// Return only names strictly after this one (a marker, start-after or token).
    pub after: Option<&'a str>,
    pub max: usize,
}

#[derive(Debug, Clone)]
pub enum ListEntry {
    Object(Arc<Object>),
    Prefix(String),
}

impl ListEntry {
    pub fn name(&self) -> &str {
        match self {
            ListEntry::Object(o) => &o.key,
            ListEntry::Prefix(p) => p,
        }
    }
}

#[derive(Debug, Default)]
pub struct ListPage {
    pub entries: Vec<ListEntry>,
    pub truncated: bool,
}

impl ListPage {
    /// The last key or common prefix of the page: where the next page starts.
    pub fn last_name(&self) -> Option<&str> {
        self.entries.last().map(|e| e.name())
    }
}

/// The common prefix `name` rolls up to under `prefix` + `delimiter`, if any.
pub(super) fn common_prefix<'n>(
    name: &'n str,
    prefix: &str,
    delimiter: Option<&str>,
) -> Option<&'n str> {
    let d = delimiter.filter(|d| !d.is_empty())?;
    let rest = name.strip_prefix(prefix)?;
    rest.find(d).map(|i| &name[..prefix.len() + i + d.len()])
}

/// The smallest byte string greater than every string that starts with `p`.
pub(super) fn successor(p: &str) -> Vec<u8> {
    let mut s = p.as_bytes().to_vec();
    // The last byte of UTF-8 text is never 0xFF, so this cannot overflow.
    if let Some(last) = s.last_mut() {
        *last += 1;
    }
    s
}

/// Where a listing starts: just after `after` — past its whole common prefix when the marker
/// lies inside one, since that prefix was already returned — or at `prefix`.
pub(super) fn start_bound(
    prefix: &str,
    delimiter: Option<&str>,
    after: Option<&str>,
) -> Bound<Vec<u8>> {
    match after.filter(|a| !a.is_empty()) {
        Some(after) if after >= prefix => match common_prefix(after, prefix, delimiter) {
            Some(cp) => Bound::Included(successor(cp)),
            None => Bound::Excluded(after.as_bytes().to_vec()),
        },
        _ => Bound::Included(prefix.as_bytes().to_vec()),
    }
}

/// A borrowed view of an owned bound, for `BTreeMap::range`.
pub(super) fn borrowed(bound: &Bound<Vec<u8>>) -> Bound<&[u8]> {
    match bound {
        Bound::Included(b) => Bound::Included(b.as_slice()),
        Bound::Excluded(b) => Bound::Excluded(b.as_slice()),
        Bound::Unbounded => Bound::Unbounded,
    }
}

impl Bucket {
    pub fn list(&self, q: &ListQuery) -> ListPage {
        let mut page = ListPage::default();
        if q.max == 0 {
            // AWS answers max-keys=0 with an empty, complete page.
            return page;
        }
        let mut bound = start_bound(q.prefix, q.delimiter, q.after);
        let state = self.state.lock();
        loop {
            let mut reseek = None;
            // Keys whose current version is a delete marker are not listed, and do not make a
            // common prefix appear: they are not in this map at all.
            for (key, versions) in state.objects.listed_from(borrowed(&bound)) {
                if !key.0.starts_with(q.prefix) {
                    break;
                }
                let Some(object) = versions.last() else {
                    continue;
                };
                if page.entries.len() >= q.max {
                    page.truncated = true;
                    break;
                }
                if let Some(cp) = common_prefix(&key.0, q.prefix, q.delimiter) {
                    page.entries.push(ListEntry::Prefix(cp.to_string()));
                    reseek = Some(successor(cp));
                    break;
                }
                page.entries.push(ListEntry::Object(object.clone()));
            }
            match reseek {
                Some(next) => bound = Bound::Included(next),
                None => break,
            }
        }
        page
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Body;

    fn bucket_with(keys: &[&str]) -> Bucket {
        let b = Bucket::new("b", "us-east-1", 0);
        for k in keys {
            b.put(Object::new(*k, Body::default(), "", 0)).expect("put");
        }
        b
    }

    fn names(p: &ListPage) -> Vec<&str> {
        p.entries.iter().map(|e| e.name()).collect()
    }

    #[test]
    fn delimiter_rolls_up_and_pages_resume_after_prefixes() {
        let b = bucket_with(&["a/1", "a/2", "b", "c/x/1", "c/y", "d"]);
        let q = ListQuery {
            prefix: "",
            delimiter: Some("/"),
            after: None,
            max: 2,
        };
        let p1 = b.list(&q);
        assert_eq!(names(&p1), ["a/", "b"]);
        assert!(p1.truncated);
        let p2 = b.list(&ListQuery {
            after: p1.last_name(),
            ..q
        });
        assert_eq!(names(&p2), ["c/", "d"]);
        assert!(!p2.truncated);
        let sub = b.list(&ListQuery {
            prefix: "c/",
            delimiter: Some("/"),
            after: None,
            max: 10,
        });
        assert_eq!(names(&sub), ["c/x/", "c/y"]);
        let resumed = b.list(&ListQuery {
            prefix: "",
            delimiter: Some("/"),
            after: Some("a/"),
            max: 10,
        });
        assert_eq!(names(&resumed), ["b", "c/", "d"]);
    }

    #[test]
    fn prefix_bounds_the_scan_and_exact_fill_is_not_truncated() {
        let b = bucket_with(&["x1", "y1", "y2", "z"]);
        let p = b.list(&ListQuery {
            prefix: "y",
            delimiter: None,
            after: None,
            max: 2,
        });
        assert_eq!(names(&p), ["y1", "y2"]);
        assert!(!p.truncated);
        let empty = b.list(&ListQuery {
            prefix: "",
            delimiter: None,
            after: None,
            max: 0,
        });
        assert!(empty.entries.is_empty());
        assert!(!empty.truncated);
    }
}
