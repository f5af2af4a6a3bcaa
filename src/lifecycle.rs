//! Lifecycle rules, executed. A bucket's stored `LifecycleConfiguration` is parsed into rules,
//! and `run_due` applies every action that is due at a run's `now`: expirations (with AWS's
//! round-up to the next UTC midnight), noncurrent-version expiration, expired delete markers,
//! aborts of incomplete multipart uploads and storage-class transitions (objects under 128 KiB
//! only where a size filter or `varies_by_storage_class` lets them, as S3 does since 2024).

use crate::clock::{next_midnight, parse_rfc3339, Millis, DAY_MS, MAX_INSTANT};
use crate::events::{Change, EventName, Origin};
use crate::ids;
use crate::store::{
    storage_class_named, Bucket, ConfigKind, Object, Run, Versioning, NULL_VERSION,
};
use crate::wire::xml::{self, Element};
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    Days(u64),
    Date(Millis),
}

impl When {
    /// When an action counted from `since` is due; `None` when that is past the clock's range
    /// (`clock::MAX_INSTANT`): never, rather than a wrapped instant in the past.
    fn due(self, since: Millis) -> Option<Millis> {
        let at = match self {
            When::Days(d) => Millis::try_from(d)
                .ok()
                .and_then(|d| d.checked_mul(DAY_MS))
                .and_then(|ms| since.checked_add(ms))
                .map(next_midnight)?,
            When::Date(t) => t,
        };
        (at <= MAX_INSTANT).then_some(at)
    }

    /// Whether the action is due at `now`.
    fn reached(self, since: Millis, now: Millis) -> bool {
        self.due(since).is_some_and(|at| at <= now)
    }
}

#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub prefix: String,
    pub tags: Vec<(String, String)>,
    pub size_greater_than: Option<u64>,
    pub size_less_than: Option<u64>,
}

/// Objects smaller than this are not transitioned by default (`all_storage_classes_128K`).
pub const MIN_TRANSITION_SIZE: u64 = 128 * 1024;

/// Which small objects a bucket's transitions may move: the lifecycle's
/// `TransitionDefaultMinimumObjectSize`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MinimumSize {
    /// Under 128 KiB, to no storage class (the default since September 2024).
    #[default]
    AllStorageClasses128K,
    /// Under 128 KiB, to GLACIER and DEEP_ARCHIVE only (the default before).
    VariesByStorageClass,
}

impl MinimumSize {
    fn of(bucket: &Bucket) -> MinimumSize {
        bucket
            .parsed_config(ConfigKind::TransitionMinimumSize, |v| {
                if v == "varies_by_storage_class" {
                    MinimumSize::VariesByStorageClass
                } else {
                    MinimumSize::AllStorageClasses128K
                }
            })
            .map_or(MinimumSize::AllStorageClasses128K, |m| *m)
    }

    /// Whether a rule may transition an object of `size` bytes to `class`: a rule's own size
    /// filter always takes precedence over the default.
    fn allows(self, rule: &Rule, size: u64, class: &str) -> bool {
        size >= MIN_TRANSITION_SIZE
            || rule.filter.size_greater_than.is_some()
            || rule.filter.size_less_than.is_some()
            || (self == MinimumSize::VariesByStorageClass
                && matches!(class, "GLACIER" | "DEEP_ARCHIVE"))
    }
}

impl Filter {
    fn matches(&self, o: &Object) -> bool {
        if !o.key.starts_with(&self.prefix) {
            return false;
        }
        if o.delete_marker {
            return self.tags.is_empty()
                && self.size_greater_than.is_none()
                && self.size_less_than.is_none();
        }
        self.tags.iter().all(|t| o.tags().contains(t))
            && self.size_greater_than.is_none_or(|n| o.size() > n)
            && self.size_less_than.is_none_or(|n| o.size() < n)
    }
}

#[derive(Debug, Clone, Default)]
pub struct Rule {
    pub id: String,
    pub enabled: bool,
    pub filter: Filter,
    pub expiration: Option<When>,
    pub expired_object_delete_marker: bool,
    pub transitions: Vec<(When, String)>,
    pub noncurrent_days: Option<u64>,
    pub newer_noncurrent_versions: u64,
    pub noncurrent_transitions: Vec<(u64, String)>,
    pub abort_multipart_days: Option<u64>,
}

fn num(e: Option<&Element>, name: &str) -> Option<u64> {
    e?.child_text(name)?.trim().parse().ok()
}

fn when(e: &Element, days: &str) -> Option<When> {
    if let Some(d) = num(Some(e), days) {
        return Some(When::Days(d));
    }
    e.child_text("Date").and_then(parse_rfc3339).map(When::Date)
}

fn tags(e: &Element) -> Vec<(String, String)> {
    e.children_named("Tag")
        .filter_map(|t| {
            Some((
                t.child_text("Key")?.to_string(),
                t.child_text("Value").unwrap_or("").to_string(),
            ))
        })
        .collect()
}

/// Parses a stored (already validated) lifecycle document.
pub fn parse_rules(doc: &str) -> Vec<Rule> {
    let Ok(root) = xml::parse(doc.as_bytes()) else {
        return Vec::new();
    };
    root.children_named("Rule")
        .map(|r| {
            let mut filter = Filter {
                prefix: r.child_text("Prefix").unwrap_or("").to_string(),
                ..Filter::default()
            };
            if let Some(f) = r.child("Filter") {
                let and = f.child("And");
                let holder = and.unwrap_or(f);
                filter.prefix = holder.child_text("Prefix").unwrap_or("").to_string();
                filter.tags = tags(holder);
                filter.size_greater_than = num(Some(holder), "ObjectSizeGreaterThan");
                filter.size_less_than = num(Some(holder), "ObjectSizeLessThan");
            }
            let exp = r.child("Expiration");
            let nve = r.child("NoncurrentVersionExpiration");
            Rule {
                id: r.child_text("ID").unwrap_or("").to_string(),
                enabled: r.child_text("Status").map(str::trim) == Some("Enabled"),
                filter,
                expiration: exp.and_then(|e| when(e, "Days")),
                expired_object_delete_marker: exp
                    .and_then(|e| e.child_text("ExpiredObjectDeleteMarker"))
                    .is_some_and(|v| v.trim() == "true"),
                transitions: r
                    .children_named("Transition")
                    .filter_map(|t| {
                        Some((
                            when(t, "Days")?,
                            t.child_text("StorageClass")?.trim().to_string(),
                        ))
                    })
                    .collect(),
                noncurrent_days: num(nve, "NoncurrentDays"),
                newer_noncurrent_versions: num(nve, "NewerNoncurrentVersions").unwrap_or(0),
                noncurrent_transitions: r
                    .children_named("NoncurrentVersionTransition")
                    .filter_map(|t| {
                        Some((
                            num(Some(t), "NoncurrentDays")?,
                            t.child_text("StorageClass")?.trim().to_string(),
                        ))
                    })
                    .collect(),
                abort_multipart_days: num(
                    r.child("AbortIncompleteMultipartUpload"),
                    "DaysAfterInitiation",
                ),
            }
        })
        .collect()
}

/// The enabled rules of a bucket, parsed once per stored document.
pub fn bucket_rules(bucket: &Bucket) -> Arc<Vec<Rule>> {
    bucket
        .parsed_config(ConfigKind::Lifecycle, |doc| {
            parse_rules(doc)
                .into_iter()
                .filter(|r| r.enabled)
                .collect::<Vec<Rule>>()
        })
        .unwrap_or_default()
}

/// The expiration S3 announces for an object in `x-amz-expiration`: (due time, rule id).
pub fn expiration_of(rules: &[Rule], o: &Object) -> Option<(Millis, String)> {
    rules
        .iter()
        .filter(|r| r.filter.matches(o))
        .filter_map(|r| Some((r.expiration?.due(o.last_modified)?, r.id.clone())))
        .min_by_key(|(t, _)| *t)
}

/// What a pass did, for logs and tests.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Report {
    pub expired: usize,
    pub noncurrent_removed: usize,
    pub markers_removed: usize,
    pub transitioned: usize,
    pub uploads_aborted: usize,
    /// Expirations a chaos `lifecycleEarly` rule brought forward (included in the counts above).
    pub expired_early: usize,
}

/// What a pass changed, for the run's events; collected only for buckets that notify.
struct Changes {
    on: bool,
    list: Vec<Change>,
}

impl Changes {
    fn push(&mut self, change: impl FnOnce() -> Change) {
        if self.on {
            self.list.push(change());
        }
    }
}

/// Applies every lifecycle action of every bucket of `run` that is due at `now`, and raises
/// the lifecycle and restore events of what it did.
pub fn run_due(run: &Run, now: Millis) -> Report {
    let mut report = Report::default();
    // Chaos (`lifecycle_early_delete`) can make expirations happen before they are due.
    let expire_at = Expiry {
        now,
        early: run.chaos.lifecycle_early_ms(),
    };
    for bucket in run.buckets() {
        let mut changes = Changes {
            on: bucket.notifies(),
            list: Vec::new(),
        };
        let rules = bucket_rules(&bucket);
        if !rules.is_empty() {
            apply(&bucket, &rules, expire_at, &mut report, &mut changes);
        }
        if changes.on {
            restores_due(&bucket, now, &mut changes);
            let origin = Origin::s3();
            for change in changes.list {
                run.events.raise(&bucket, now, &origin, change);
            }
        }
    }
    run.chaos.record_early(report.expired_early as u64);
    report
}

/// The instant expirations are judged at: `now`, or `early` ms later under chaos.
#[derive(Clone, Copy)]
struct Expiry {
    now: Millis,
    early: Millis,
}

impl Expiry {
    fn judge(self) -> Millis {
        self.now.saturating_add(self.early)
    }

    /// Whether an expiration due at `due` happens now, and whether only chaos made it so.
    fn reached(self, due: Millis) -> (bool, bool) {
        (due <= self.judge(), due > self.now)
    }
}

/// Restores whose copy became readable (`ObjectRestore:Completed`) or expired
/// (`ObjectRestore:Delete`) by `now`, each announced once.
fn restores_due(bucket: &Bucket, now: Millis, changes: &mut Changes) {
    bucket.visit_versions(|_, versions| {
        for o in versions.iter_mut() {
            let Some(r) = o.restore().copied() else {
                continue;
            };
            let completed = !r.ready_announced && r.ready_at <= now;
            let expired = !r.expiry_announced && r.expires_at <= now;
            if !(completed || expired) {
                continue;
            }
            let o = Arc::make_mut(o);
            if let Some(r) = o.extra_mut().restore.as_mut() {
                r.ready_announced = true;
                r.expiry_announced |= expired;
            }
            let class = o.storage_class.as_str();
            if completed {
                changes.push(|| Change {
                    restore: Some((r.expires_at, class)),
                    ..Change::object(EventName::RestoreCompleted, o)
                });
            }
            if expired {
                changes.push(|| Change::object(EventName::RestoreDelete, o));
            }
        }
    });
}

fn apply(
    bucket: &Bucket,
    rules: &[Rule],
    expire_at: Expiry,
    report: &mut Report,
    out: &mut Changes,
) {
    let now = expire_at.now;
    let versioning = bucket.versioning().0;
    let min = MinimumSize::of(bucket);
    bucket.visit_versions(|key, versions| {
        expire_current(key, versions, rules, versioning, expire_at, report, out);
        transition_current(versions, rules, min, now, report, out);
        expire_noncurrent(versions, rules, min, expire_at, report, out);
        remove_expired_marker(versions, rules, report, out);
    });
    report.uploads_aborted += bucket.drop_uploads(|u| {
        rules.iter().any(|r| {
            r.abort_multipart_days.is_some_and(|d| {
                u.template.key.starts_with(&r.filter.prefix)
                    && When::Days(d).reached(u.initiated, now)
            })
        })
    });
}

fn expire_current(
    key: &str,
    versions: &mut crate::store::Versions,
    rules: &[Rule],
    versioning: Versioning,
    expire_at: Expiry,
    report: &mut Report,
    out: &mut Changes,
) {
    let now = expire_at.now;
    let Some(current) = versions.last().filter(|o| !o.delete_marker) else {
        return;
    };
    let Some((due, early)) = expiration_of(rules, current).map(|(t, _)| expire_at.reached(t))
    else {
        return;
    };
    if !due {
        return;
    }
    report.expired += 1;
    report.expired_early += usize::from(early);
    match versioning {
        Versioning::Unversioned => {
            out.push(|| Change::object(EventName::LifecycleExpirationDelete, current));
            versions.clear()
        }
        Versioning::Enabled => {
            versions.push(Arc::new(Object::delete_marker(key, ids::version_id(), now)))
        }
        Versioning::Suspended => {
            versions.retain(|o| &*o.version_id != NULL_VERSION);
            versions.push(Arc::new(Object::delete_marker(
                key,
                NULL_VERSION.to_string(),
                now,
            )));
        }
    }
    if let Some(marker) = versions.last().filter(|o| o.delete_marker) {
        out.push(|| Change {
            size: None,
            etag: None,
            ..Change::object(EventName::LifecycleExpirationDeleteMarkerCreated, marker)
        });
    }
}

/// The storage class the latest due transition asks for, if any.
fn due_class<'a>(
    candidates: impl Iterator<Item = (Millis, &'a str)>,
    now: Millis,
) -> Option<&'a str> {
    candidates
        .filter(|(due, _)| *due <= now)
        .max_by_key(|(due, _)| *due)
        .map(|(_, class)| class)
}

fn transition_current(
    versions: &mut [Arc<Object>],
    rules: &[Rule],
    min: MinimumSize,
    now: Millis,
    report: &mut Report,
    out: &mut Changes,
) {
    let Some(current) = versions.last_mut().filter(|o| !o.delete_marker) else {
        return;
    };
    let size = current.size();
    let class = due_class(
        rules
            .iter()
            .filter(|r| r.filter.matches(current))
            .flat_map(|r| {
                r.transitions
                    .iter()
                    .filter(move |(_, c)| min.allows(r, size, c))
                    .filter_map(|(w, c)| Some((w.due(current.last_modified)?, c.as_str())))
            }),
        now,
    );
    if let Some(class) = class
        .filter(|c| *c != current.storage_class.as_str())
        .and_then(storage_class_named)
    {
        Arc::make_mut(current).storage_class = class;
        report.transitioned += 1;
        out.push(|| Change {
            storage_class: Some(class.as_str()),
            ..Change::object(EventName::LifecycleTransition, current)
        });
    }
}

fn expire_noncurrent(
    versions: &mut crate::store::Versions,
    rules: &[Rule],
    min: MinimumSize,
    expire_at: Expiry,
    report: &mut Report,
    out: &mut Changes,
) {
    let now = expire_at.now;
    let n = versions.len();
    if n < 2 {
        return;
    }
    // versions[i] became noncurrent when versions[i + 1] was written; newer noncurrent
    // versions are those between it and the current one.
    let mut keep = vec![true; n];
    for i in 0..n - 1 {
        let since = versions[i + 1].last_modified;
        let newer_noncurrent = (n - 2 - i) as u64;
        let o = &versions[i];
        // A locked version stays until its retention has passed on the clock (and its legal
        // hold is off); lifecycle never bypasses governance, not even under chaos.
        let due = rules
            .iter()
            .filter(|r| r.filter.matches(o) && newer_noncurrent >= r.newer_noncurrent_versions)
            .filter_map(|r| When::Days(r.noncurrent_days?).due(since))
            .min()
            .filter(|_| !o.is_locked(now));
        if let Some((true, early)) = due.map(|t| expire_at.reached(t)) {
            keep[i] = false;
            report.expired_early += usize::from(early);
            continue;
        }
        let class = due_class(
            rules.iter().filter(|r| r.filter.matches(o)).flat_map(|r| {
                r.noncurrent_transitions
                    .iter()
                    .filter(move |(_, c)| min.allows(r, o.size(), c))
                    .filter_map(|(d, c)| Some((When::Days(*d).due(since)?, c.as_str())))
            }),
            now,
        );
        if let Some(class) = class
            .filter(|c| !o.delete_marker && *c != o.storage_class.as_str())
            .and_then(storage_class_named)
        {
            Arc::make_mut(&mut versions[i]).storage_class = class;
            report.transitioned += 1;
            out.push(|| Change {
                storage_class: Some(class.as_str()),
                ..Change::object(EventName::LifecycleTransition, &versions[i])
            });
        }
    }
    let mut i = 0;
    versions.retain(|o| {
        let k = keep[i];
        i += 1;
        if !k {
            report.noncurrent_removed += 1;
            out.push(|| removed(o));
        }
        k
    });
}

/// A delete marker with no versions left under it is removed by ExpiredObjectDeleteMarker.
fn remove_expired_marker(
    versions: &mut crate::store::Versions,
    rules: &[Rule],
    report: &mut Report,
    out: &mut Changes,
) {
    if versions.len() == 1
        && versions[0].delete_marker
        && rules
            .iter()
            .any(|r| r.expired_object_delete_marker && r.filter.matches(&versions[0]))
    {
        out.push(|| removed(&versions[0]));
        versions.clear();
        report.markers_removed += 1;
    }
}

/// A version (or delete marker) removed for good.
fn removed(o: &Object) -> Change {
    let mut change = Change::object(EventName::LifecycleExpirationDelete, o);
    if o.delete_marker {
        (change.size, change.etag) = (None, None);
    }
    change
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Body;

    const DOC: &str = r#"<LifecycleConfiguration><Rule><ID>tmp</ID><Status>Enabled</Status><Filter><Prefix>tmp/</Prefix></Filter><Expiration><Days>7</Days></Expiration></Rule><Rule><ID>off</ID><Status>Disabled</Status><Filter></Filter><Expiration><Days>1</Days></Expiration></Rule><Rule><ID>cold</ID><Status>Enabled</Status><Filter><And><Prefix>logs/</Prefix><Tag><Key>k</Key><Value>v</Value></Tag><ObjectSizeGreaterThan>2</ObjectSizeGreaterThan></And></Filter><Transition><Days>30</Days><StorageClass>GLACIER</StorageClass></Transition></Rule></LifecycleConfiguration>"#;

    #[test]
    fn parses_rules_and_rounds_expiry_to_midnight() {
        let rules: Vec<Rule> = parse_rules(DOC).into_iter().filter(|r| r.enabled).collect();
        assert_eq!(rules.len(), 2);
        assert_eq!(
            rules[1].filter.tags,
            vec![("k".to_string(), "v".to_string())]
        );
        // Created 10:30 on day 10 → 7 days later is 10:30 on day 17 → expires day 18, 00:00.
        let o = Object::new("tmp/a", Body::default(), "", 10 * DAY_MS + 37_800_000);
        assert_eq!(
            expiration_of(&rules, &o),
            Some((18 * DAY_MS, "tmp".to_string()))
        );
        let other = Object::new("keep/a", Body::default(), "", 0);
        assert_eq!(expiration_of(&rules, &other), None);
    }
}
