//! ListObjectVersions: every version and delete marker, keys in S3 order, each key's versions
//! newest first, paginated by (key-marker, version-id-marker).

use super::bucket::Bucket;
use super::list::{borrowed, common_prefix, start_bound, successor};
use super::object::Object;
use std::ops::Bound;
use std::sync::Arc;

#[derive(Debug, Clone, Copy)]
pub struct VersionsQuery<'a> {
    pub prefix: &'a str,
    pub delimiter: Option<&'a str>,
    pub key_marker: Option<&'a str>,
    pub version_id_marker: Option<&'a str>,
    pub max: usize,
}

#[derive(Debug, Clone)]
pub enum VersionEntry {
    Version { object: Arc<Object>, latest: bool },
    Prefix(String),
}

#[derive(Debug, Default)]
pub struct VersionsPage {
    pub entries: Vec<VersionEntry>,
    pub truncated: bool,
    pub next_key_marker: Option<String>,
    pub next_version_id_marker: Option<String>,
}

impl Bucket {
    pub fn list_versions(&self, q: &VersionsQuery) -> VersionsPage {
        let mut page = VersionsPage::default();
        if q.max == 0 {
            return page;
        }
        // Resuming inside a key: the versions older than version_id_marker come first.
        let mut resume_in: Option<(&str, &str)> = None;
        let mut bound = start_bound(q.prefix, q.delimiter, q.key_marker);
        if let (Some(k), Some(v)) = (q.key_marker, q.version_id_marker) {
            if matches!(bound, Bound::Excluded(_)) && !v.is_empty() {
                resume_in = Some((k, v));
                bound = Bound::Included(k.as_bytes().to_vec());
            }
        }
        let state = self.state.lock();
        let full = |page: &mut VersionsPage| {
            if page.entries.len() < q.max {
                return false;
            }
            page.truncated = true;
            match page.entries.last() {
                Some(VersionEntry::Version { object, .. }) => {
                    page.next_key_marker = Some(object.key.to_string());
                    page.next_version_id_marker = Some(object.version_id.to_string());
                }
                Some(VersionEntry::Prefix(p)) => page.next_key_marker = Some(p.clone()),
                None => {}
            }
            true
        };
        'scan: loop {
            let mut reseek = None;
            for (key, versions) in state.objects.all_from(borrowed(&bound)) {
                if !key.0.starts_with(q.prefix) {
                    break 'scan;
                }
                if let Some(cp) = common_prefix(&key.0, q.prefix, q.delimiter) {
                    if full(&mut page) {
                        break 'scan;
                    }
                    page.entries.push(VersionEntry::Prefix(cp.to_string()));
                    reseek = Some(successor(cp));
                    break;
                }
                let mut newest_first: Vec<&Arc<Object>> = versions.iter().rev().collect();
                if let Some((k, v)) = resume_in.take() {
                    if k == &*key.0 {
                        match newest_first.iter().position(|o| &*o.version_id == v) {
                            Some(i) => newest_first.drain(..=i),
                            None => newest_first.drain(..0),
                        };
                    }
                }
                let latest_id = versions.last().map(|o| &*o.version_id);
                for object in newest_first {
                    if full(&mut page) {
                        break 'scan;
                    }
                    page.entries.push(VersionEntry::Version {
                        latest: Some(&*object.version_id) == latest_id,
                        object: object.clone(),
                    });
                }
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
    use crate::store::{Body, Versioning};

    fn page_names(p: &VersionsPage) -> Vec<String> {
        p.entries
            .iter()
            .map(|e| match e {
                VersionEntry::Version { object, latest } => {
                    format!(
                        "{}:{}{}",
                        object.key,
                        if object.delete_marker { "DM" } else { "V" },
                        if *latest { "*" } else { "" }
                    )
                }
                VersionEntry::Prefix(p) => p.clone(),
            })
            .collect()
    }

    #[test]
    fn pages_through_versions_newest_first() {
        let b = Bucket::new("b", "us-east-1", 0);
        b.set_versioning(Versioning::Enabled, None);
        for k in ["a", "a", "b", "c/1", "c/2"] {
            b.put(Object::new(k, Body::default(), "", 0)).expect("put");
        }
        b.delete("b", 1).expect("delete marker");
        let q = VersionsQuery {
            prefix: "",
            delimiter: Some("/"),
            key_marker: None,
            version_id_marker: None,
            max: 2,
        };
        let p1 = b.list_versions(&q);
        assert_eq!(page_names(&p1), ["a:V*", "a:V"]);
        assert!(p1.truncated);
        let p2 = b.list_versions(&VersionsQuery {
            key_marker: p1.next_key_marker.as_deref(),
            version_id_marker: p1.next_version_id_marker.as_deref(),
            ..q
        });
        assert_eq!(page_names(&p2), ["b:DM*", "b:V"]);
        let p3 = b.list_versions(&VersionsQuery {
            key_marker: p2.next_key_marker.as_deref(),
            version_id_marker: p2.next_version_id_marker.as_deref(),
            ..q
        });
        assert_eq!(page_names(&p3), ["c/"]);
        assert!(!p3.truncated);
        // Resuming in the middle of a key's versions.
        let one = b.list_versions(&VersionsQuery {
            max: 1,
            delimiter: None,
            ..q
        });
        let rest = b.list_versions(&VersionsQuery {
            key_marker: one.next_key_marker.as_deref(),
            version_id_marker: one.next_version_id_marker.as_deref(),
            delimiter: None,
            max: 10,
            ..q
        });
        assert_eq!(
            page_names(&rest),
            ["a:V", "b:DM*", "b:V", "c/1:V*", "c/2:V*"]
        );
    }
}
