//! Start: the journal read back into the latest state of every entity, the body files no
//! record references deleted, the journal rewritten when it is mostly superseded records,
//! and the model rebuilt from that state.

use super::files::{self, Files};
use super::records::{BucketRec, FileMap, ObjectRec, PartRec, Rec, RunRec, UploadRec};
use super::{sync_dir, Journal, Persist, Tuning, MAGIC};
use crate::store::bucket::{Bucket, BucketState};
use crate::store::keys::Keys;
use crate::store::object::ObjKey;
use crate::store::{Run, Store};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Write;
use std::ops::Bound;
use std::path::Path;
use std::sync::Arc;

/// Frame header: length and CRC32C of the record.
const FRAME: usize = 8;
/// The journal is rewritten at start when it holds more than this many records per live
/// entity (plus a floor, so small journals are left alone); the defaults of `Tuning`.
pub(super) const REWRITE_RATIO: u64 = 2;
pub(super) const REWRITE_FLOOR: u64 = 10_000;

/// The state as the journal's records leave it. Objects are built as their records are read
/// (the key map is the bucket's own), so nothing is converted twice.
pub(super) struct Model {
    runs: BTreeMap<String, RunModel>,
    files: FileMap,
    records: usize,
    /// Bytes of whole records (a torn last record, from a crash mid-write, is cut off).
    valid_len: u64,
    torn: bool,
}

/// The (offset, length) slots of each pack, by pack number.
type PackSlots = HashMap<u64, Vec<(u64, u64)>>;

/// An upload and its parts, by part number.
type UploadModel = (Box<UploadRec>, BTreeMap<u32, Box<PartRec>>);

#[derive(Default)]
struct RunModel {
    rec: Option<Box<RunRec>>,
    buckets: BTreeMap<String, BucketModel>,
}

struct BucketModel {
    rec: Box<BucketRec>,
    keys: Keys,
    uploads: BTreeMap<(String, String), UploadModel>,
}

impl Model {
    fn apply(&mut self, rec: Rec) {
        match rec {
            Rec::Run(r) => {
                let id = r.id.clone();
                self.runs.entry(id).or_default().rec = Some(r);
            }
            Rec::RunGone { id } => {
                self.runs.remove(&id);
            }
            Rec::Bucket { run, bucket } => {
                let buckets = &mut self.runs.entry(run).or_default().buckets;
                match buckets.get_mut(&bucket.name) {
                    Some(b) => b.rec = bucket,
                    None => {
                        buckets.insert(
                            bucket.name.clone(),
                            BucketModel {
                                rec: bucket,
                                keys: Keys::default(),
                                uploads: BTreeMap::new(),
                            },
                        );
                    }
                }
            }
            Rec::BucketGone { run, name } => {
                if let Some(r) = self.runs.get_mut(&run) {
                    r.buckets.remove(&name);
                }
            }
            Rec::Key {
                run,
                bucket,
                key,
                versions,
            } => {
                let Some(b) = self
                    .runs
                    .get_mut(&run)
                    .and_then(|r| r.buckets.get_mut(&bucket))
                else {
                    return;
                };
                let name: Arc<str> = Arc::from(key);
                let files = &mut self.files;
                // Not `collect()`: collecting a `Vec<ObjectRec>`'s iterator reuses its
                // allocation (280 bytes a version) for the 8-byte `Arc`s, for as long as the
                // key lives.
                let mut built = crate::store::Versions::with_capacity(versions.len());
                for v in versions {
                    built.push(Arc::new(v.into_object(name.clone(), files)));
                }
                b.keys
                    .update(&name, || ObjKey(name.clone()), |v| *v = built);
            }
            Rec::Upload {
                run,
                bucket,
                upload,
            } => {
                if let Some(b) = self.bucket(&run, &bucket) {
                    b.uploads.insert(
                        (upload.key.clone(), upload.upload_id.clone()),
                        (upload, BTreeMap::new()),
                    );
                }
            }
            Rec::Part {
                run,
                bucket,
                key,
                upload_id,
                part,
            } => {
                if let Some((_, parts)) = self
                    .bucket(&run, &bucket)
                    .and_then(|b| b.uploads.get_mut(&(key, upload_id)))
                {
                    parts.insert(part.number, part);
                }
            }
            Rec::UploadGone {
                run,
                bucket,
                key,
                upload_id,
            } => {
                if let Some(b) = self.bucket(&run, &bucket) {
                    b.uploads.remove(&(key, upload_id));
                }
            }
        }
    }

    fn bucket(&mut self, run: &str, bucket: &str) -> Option<&mut BucketModel> {
        self.runs.get_mut(run)?.buckets.get_mut(bucket)
    }

    fn live(&self) -> usize {
        self.runs
            .values()
            .map(|r| {
                1 + r
                    .buckets
                    .values()
                    .map(|b| {
                        1 + b.keys.len()
                            + b.uploads.values().map(|(_, p)| 1 + p.len()).sum::<usize>()
                    })
                    .sum::<usize>()
            })
            .sum()
    }

    /// Calls `f` with every (file, offset, length) a record references.
    fn each_range(&self, mut f: impl FnMut(u64, u64, u64)) {
        for r in self.runs.values() {
            for b in r.buckets.values() {
                for (_, versions) in b.keys.all_from(Bound::Unbounded) {
                    for v in versions {
                        v.body
                            .ranges()
                            .iter()
                            .for_each(|r| f(r.file.id(), r.offset, r.len));
                    }
                }
                for (u, parts) in b.uploads.values() {
                    u.template.body.iter().for_each(|r| f(r.0, r.1, r.2));
                    for p in parts.values() {
                        p.body.iter().for_each(|r| f(r.0, r.1, r.2));
                    }
                }
            }
        }
    }

    /// Every body file a record references, and the slots each referenced pack holds
    /// (sorted by offset), in one walk.
    fn referenced(&self) -> (HashSet<u64>, PackSlots) {
        let mut ids = HashSet::new();
        let mut packs = PackSlots::new();
        let mut last = None;
        self.each_range(|id, offset, len| {
            if last != Some(id) {
                ids.insert(id);
                last = Some(id);
            }
            if files::is_pack(id) {
                packs.entry(id).or_default().push((offset, len));
            }
        });
        for slots in packs.values_mut() {
            slots.sort_unstable();
        }
        (ids, packs)
    }

    /// The live state as records, for a rewritten journal.
    fn records(&self) -> Vec<Rec> {
        let mut out = Vec::new();
        for (id, r) in &self.runs {
            if let Some(rec) = &r.rec {
                out.push(Rec::Run(rec.clone()));
            }
            for b in r.buckets.values() {
                out.push(Rec::Bucket {
                    run: id.clone(),
                    bucket: b.rec.clone(),
                });
                for (key, versions) in b.keys.all_from(Bound::Unbounded) {
                    out.push(Rec::Key {
                        run: id.clone(),
                        bucket: b.rec.name.clone(),
                        key: key.0.to_string(),
                        versions: versions.iter().map(|o| ObjectRec::of(o)).collect(),
                    });
                }
                for (u, parts) in b.uploads.values() {
                    out.push(Rec::Upload {
                        run: id.clone(),
                        bucket: b.rec.name.clone(),
                        upload: u.clone(),
                    });
                    for p in parts.values() {
                        out.push(Rec::Part {
                            run: id.clone(),
                            bucket: b.rec.name.clone(),
                            key: u.key.clone(),
                            upload_id: u.upload_id.clone(),
                            part: p.clone(),
                        });
                    }
                }
            }
        }
        out
    }
}

/// Reads the journal and tidies the body directory; returns the state and the next body
/// file number.
/// `clean`: the next body file number a clean stop left; then the body directory is not
/// read (a clean stop deletes what it releases).
pub(super) fn read(
    journal: &Path,
    bodies: &Path,
    clean: Option<u64>,
    files: &Arc<Files>,
) -> Result<(Model, u64), String> {
    let mut model = Model {
        runs: BTreeMap::new(),
        files: FileMap {
            files: files.clone(),
            held: HashMap::new(),
            slots: HashMap::new(),
        },
        records: 0,
        valid_len: 0,
        torn: false,
    };
    match std::fs::read(journal) {
        Ok(data) => {
            decode(&data, &mut model).map_err(|e| format!("journal {}: {e}", journal.display()))?
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(format!("journal {}: {e}", journal.display())),
    }
    if let Some(next) = clean {
        // Every file a record ever named got a holder while reading (fewer than the objects:
        // small bodies share packs).
        let highest = model
            .files
            .held
            .keys()
            .map(|id| id & !files::PACK_BIT)
            .max()
            .unwrap_or(0);
        return Ok((model, next.max(highest + 1)));
    }
    let (referenced, pack_slots) = model.referenced();
    let mut present = HashSet::with_capacity(referenced.len());
    let mut max = 0u64;
    let entries = std::fs::read_dir(bodies).map_err(|e| format!("{}: {e}", bodies.display()))?;
    for entry in entries.flatten() {
        let name = entry.file_name();
        match name.to_str().and_then(files::parse_name) {
            Some(id) if referenced.contains(&id) => {
                max = max.max(id & !files::PACK_BIT);
                present.insert(id);
            }
            // Bodies of writes that were never acknowledged, or released ones whose deletion
            // a stop cut short.
            other => {
                if let Some(id) = other {
                    max = max.max(id & !files::PACK_BIT);
                }
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
    if let Some(missing) = referenced.iter().find(|id| !present.contains(id)) {
        return Err(format!(
            "data dir is damaged: {} body file(s) the journal references are missing (the first: bodies/{missing:016x})",
            referenced.len() - present.len()
        ));
    }
    // Slots of unacknowledged writes, and released ones a crash kept from being punched.
    for (id, slots) in pack_slots {
        let path = files::path_in(bodies, id);
        if let Err(e) = super::packs::punch_dead(&path, &slots) {
            // Only space is lost; the live slots are intact.
            tracing::warn!(error = %e, pack = %path.display(), "cannot punch dead slots");
        }
    }
    // Every referenced file is present (checked above), so `max` covers them too.
    Ok((model, max + 1))
}

fn decode(data: &[u8], model: &mut Model) -> Result<(), String> {
    if data.is_empty() {
        return Ok(());
    }
    if data.len() < MAGIC.len() || &data[..MAGIC.len()] != MAGIC {
        return Err("not an s3twin journal".into());
    }
    let mut at = MAGIC.len();
    while at < data.len() {
        let rest = &data[at..];
        let Some(len) = rest
            .get(..4)
            .and_then(|b| <[u8; 4]>::try_from(b).ok())
            .map(|b| u32::from_le_bytes(b) as usize)
        else {
            model.torn = true;
            break;
        };
        let crc = rest
            .get(4..8)
            .and_then(|b| <[u8; 4]>::try_from(b).ok())
            .map(u32::from_le_bytes);
        let payload = FRAME.checked_add(len).and_then(|end| rest.get(FRAME..end));
        let (Some(crc), Some(payload)) = (crc, payload) else {
            // A record cut short: the last write before a crash, never acknowledged.
            model.torn = true;
            break;
        };
        let last = at + FRAME + len == data.len();
        if crc_fast::checksum(crc_fast::CrcAlgorithm::Crc32Iscsi, payload) as u32 != crc {
            if last {
                model.torn = true;
                break;
            }
            return Err(format!("damaged record at byte {at}"));
        }
        let rec: Rec = postcard::from_bytes(payload)
            .map_err(|e| format!("unreadable record at byte {at}: {e}"))?;
        model.apply(rec);
        model.records += 1;
        at += FRAME + len;
    }
    model.valid_len = at.min(data.len()) as u64;
    if model.torn {
        model.valid_len = at as u64;
    }
    Ok(())
}

pub(super) fn frame(rec: &Rec, out: &mut Vec<u8>) -> std::io::Result<()> {
    let bytes = postcard::to_allocvec(rec).map_err(std::io::Error::other)?;
    let len = u32::try_from(bytes.len()).map_err(std::io::Error::other)?;
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(
        &(crc_fast::checksum(crc_fast::CrcAlgorithm::Crc32Iscsi, &bytes) as u32).to_le_bytes(),
    );
    out.extend_from_slice(&bytes);
    Ok(())
}

/// The journal, open for appending: created, cut after its last whole record, or rewritten
/// from the live state when mostly superseded; with the records it holds and the live
/// entities.
pub(super) fn open_for_append(
    path: &Path,
    model: &Model,
    tuning: &Tuning,
) -> std::io::Result<(std::fs::File, u64, u64)> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let live = model.live();
    let mut records = model.records;
    let rewrite = tuning.rewrite_due(records as u64, live as u64);
    if rewrite || model.valid_len == 0 {
        records = live;
        let tmp = path.with_extension("new");
        let mut out = MAGIC.to_vec();
        for rec in model.records() {
            frame(&rec, &mut out)?;
        }
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(&out)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)?;
        sync_dir(dir)?;
    } else if model.torn {
        let f = std::fs::OpenOptions::new().write(true).open(path)?;
        f.set_len(model.valid_len)?;
        f.sync_all()?;
    }
    let f = std::fs::OpenOptions::new().append(true).open(path)?;
    Ok((f, records as u64, live as u64))
}

/// The state read at start, as the store's own types.
pub struct Loaded {
    runs: Vec<(String, Option<Box<RunRec>>, Vec<Bucket>)>,
    /// Records read and keys loaded, for the start log.
    pub records: usize,
    pub keys: usize,
}

impl Model {
    pub(super) fn into_loaded(self) -> Loaded {
        let mut map = self.files;
        let mut keys = 0;
        let runs = self
            .runs
            .into_iter()
            .map(|(id, r)| {
                let buckets = r
                    .buckets
                    .into_values()
                    .map(|b| {
                        let mut state = BucketState {
                            versioning: b.rec.versioning,
                            mfa_delete: b.rec.mfa_delete.clone(),
                            acl: crate::store::acl::AclState::from_parts(
                                Arc::new(b.rec.acl.clone()),
                                b.rec.ownership,
                            ),
                            ..BucketState::default()
                        };
                        for (kind, text) in b.rec.configs {
                            state
                                .configs
                                .insert(kind, crate::store::config::StoredDoc::new(text));
                        }
                        for (kind, cid, text) in b.rec.id_configs {
                            state.id_configs.insert((kind, cid), Arc::from(text));
                        }
                        keys += b.keys.len();
                        state.objects = b.keys;
                        for ((key, uid), (u, parts)) in b.uploads {
                            let upload = u.into_upload(parts, &mut map);
                            state.uploads.insert((ObjKey(Arc::from(key)), uid), upload);
                        }
                        Bucket {
                            name: b.rec.name,
                            region: b.rec.region,
                            location_constraint: b.rec.location_constraint,
                            created: b.rec.created,
                            state: parking_lot::Mutex::new(state),
                            notify: std::sync::atomic::AtomicBool::new(b.rec.notify),
                            journal: None,
                        }
                    })
                    .collect();
                (id, r.rec, buckets)
            })
            .collect();
        Loaded {
            runs,
            records: self.records,
            keys,
        }
    }
}

impl Store {
    /// The store of an open data directory: its runs as they were, journaled from now on.
    pub fn with_persist(mut self, persist: Arc<Persist>, loaded: Loaded) -> Store {
        self.persist = Some(persist.clone());
        let mut runs = self.runs.write();
        for (id, rec, buckets) in loaded.runs {
            let journal = Journal {
                persist: persist.clone(),
                run: Arc::from(id.as_str()),
            };
            let mut run = Run::new(&id, self.request_log_capacity, &self.events);
            run.auth.set_mode(self.default_auth);
            if let Some(rec) = rec {
                run.clock =
                    crate::clock::Clock::restored(rec.clock_now, rec.frozen, rec.rate, rec.real_at);
                run.set_strict(rec.strict);
                run.auth.set_mode(if rec.enforce {
                    crate::auth::identity::AuthMode::Enforce
                } else {
                    crate::auth::identity::AuthMode::None
                });
                for (access_key, secret_key, name, account_id) in rec.users {
                    run.auth.add_user(crate::auth::identity::UserSpec {
                        access_key,
                        secret_key,
                        name,
                        account_id,
                    });
                }
                run.events.clear_webhooks();
                for (arn, url) in rec.webhooks {
                    let _ = run.events.set_webhook(&arn, &url);
                }
                if let Ok(v) = serde_json::from_str::<serde_json::Value>(&rec.chaos) {
                    if let Ok(specs) = crate::chaos::parse_list(&v) {
                        let _ = run.chaos.add(specs);
                    }
                }
            }
            {
                let mut map = run.buckets.write();
                for mut b in buckets {
                    b.journal = Some(journal.clone());
                    map.insert(b.name.clone(), Arc::new(b));
                }
            }
            run.journal = Some(journal);
            runs.insert(id, Arc::new(run));
        }
        drop(runs);
        self
    }
}
