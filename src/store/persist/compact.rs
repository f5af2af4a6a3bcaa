//! The journal rewritten while the server runs, so that a server overwriting the same keys
//! keeps a journal the size of its live state. A background task (never a request) writes a
//! snapshot of the live model to `journal.next` — bucket by bucket, keys in chunks of
//! `CHUNK` under the bucket's lock, so requests wait for one chunk at most — while the writer
//! keeps appending to the old journal and keeps a copy of everything it writes from the
//! snapshot's start. The writer then appends that copy to the snapshot, syncs it, renames it
//! over `journal` and appends there from then on. Records are the new state of what they
//! name, so a change the snapshot already saw and also finds in the copy replays to the same
//! state, and one it missed comes after it. A crash before the rename leaves the old journal
//! whole; after it, the new one holds everything written.

use super::hooks::run_rec;
use super::load::frame;
use super::records::Rec;
use super::{sync_dir, Persist, MAGIC};
use crate::store::Store;
use std::fs::File;
use std::io::Write;
use std::ops::Bound;
use std::path::Path;
use std::sync::atomic::Ordering;

/// Keys recorded per hold of a bucket's lock.
const CHUNK: usize = 512;

impl Persist {
    /// Whether the journal is mostly superseded records (the rule the start applies).
    fn compaction_due(&self) -> bool {
        let records = self.shared.journal_records.load(Ordering::Relaxed);
        let live = self.shared.live.load(Ordering::Relaxed);
        self.shared.tuning.rewrite_due(records, live)
    }

    fn path_next(&self) -> std::path::PathBuf {
        self.dir.join("journal.next")
    }
}

impl Store {
    /// Whether the journal is due for a rewrite (never without `--data-dir`).
    pub fn journal_compaction_due(&self) -> bool {
        self.persist()
            .is_some_and(|p| p.compaction_due() && !p.shared.compacting.load(Ordering::Relaxed))
    }

    /// Rewrites the journal from the live state if it is due (`--data-dir`; a blocking call,
    /// for a background thread). Whether a rewrite was handed to the writer.
    pub fn compact_journal(&self) -> bool {
        let Some(p) = self.persist() else {
            return false;
        };
        if !p.compaction_due() || p.shared.compacting.swap(true, Ordering::Acquire) {
            return false;
        }
        {
            let mut pending = p.shared.pending.lock();
            if pending.stop {
                drop(pending);
                p.shared.compacting.store(false, Ordering::Release);
                return false;
            }
            pending.capture = Some((Vec::new(), pending.seq));
        }
        match self.snapshot(&p.path_next()) {
            Ok((file, records)) => {
                p.shared.pending.lock().swap = Some((file, records));
                p.shared.wake.notify_one();
                tracing::debug!(records, "journal snapshot written");
                true
            }
            Err(e) => {
                tracing::warn!(error = %e, "journal rewrite failed (the journal stays as it is)");
                p.shared.pending.lock().capture = None;
                let _ = std::fs::remove_file(p.path_next());
                p.shared.compacting.store(false, Ordering::Release);
                false
            }
        }
    }

    /// Writes every run, bucket, key, upload and part as it is now to `path`, synced.
    fn snapshot(&self, path: &Path) -> std::io::Result<(File, u64)> {
        let mut out = std::io::BufWriter::with_capacity(1 << 20, File::create(path)?);
        out.write_all(MAGIC)?;
        let mut records = 0u64;
        let mut buf = Vec::new();
        let mut put = |out: &mut std::io::BufWriter<File>, rec: &Rec| -> std::io::Result<()> {
            buf.clear();
            frame(rec, &mut buf)?;
            records += 1;
            out.write_all(&buf)
        };
        for run in self.runs() {
            let Some(journal) = run.journal.clone() else {
                continue;
            };
            let rec = {
                let _order = run.settings.lock();
                run_rec(&run)
            };
            put(&mut out, &rec)?;
            for bucket in run.buckets() {
                let recs = {
                    let state = bucket.state.lock();
                    if state.deleted {
                        continue;
                    }
                    let mut recs = vec![journal.bucket_rec(&bucket, &state)];
                    for ((key, _), upload) in &state.uploads {
                        recs.push(journal.upload_rec(&bucket.name, upload));
                        for part in upload.parts.values() {
                            recs.push(journal.part_rec(
                                &bucket.name,
                                &key.0,
                                &upload.upload_id,
                                part,
                            ));
                        }
                    }
                    recs
                };
                for rec in &recs {
                    put(&mut out, rec)?;
                }
                // The keys, a chunk per hold of the lock.
                let mut after: Option<std::sync::Arc<str>> = None;
                loop {
                    let chunk: Vec<Rec> = {
                        let state = bucket.state.lock();
                        let from = match &after {
                            Some(k) => Bound::Excluded(k.as_bytes()),
                            None => Bound::Unbounded,
                        };
                        state
                            .objects
                            .all_from(from)
                            .take(CHUNK)
                            .map(|(key, versions)| {
                                journal.key_rec(&bucket.name, &key.0, Some(versions))
                            })
                            .collect()
                    };
                    let Some(Rec::Key { key, .. }) = chunk.last() else {
                        break;
                    };
                    after = Some(std::sync::Arc::from(key.as_str()));
                    for rec in &chunk {
                        put(&mut out, rec)?;
                    }
                    if chunk.len() < CHUNK {
                        break;
                    }
                }
            }
        }
        let file = out.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        Ok((file, records))
    }
}

/// The writer's part: the records written since the snapshot began appended to it, synced,
/// and the file renamed over the journal. The file to append to from now on, or `None` if
/// the old journal stays (nothing was renamed).
pub(super) fn put_in_place(mut file: File, journal: &Path, captured: &[u8]) -> Option<File> {
    let next = journal.with_extension("next");
    let ready = file
        .write_all(captured)
        .and_then(|()| file.sync_data())
        .and_then(|()| std::fs::rename(&next, journal));
    if let Err(e) = ready {
        tracing::warn!(error = %e, "journal rewrite not put in place (the journal stays as it is)");
        let _ = std::fs::remove_file(&next);
        return None;
    }
    if let Err(e) = sync_dir(journal.parent().unwrap_or(Path::new("."))) {
        tracing::warn!(error = %e, "cannot sync the data dir after the journal rewrite");
    }
    tracing::info!(bytes = ?file.metadata().map(|m| m.len()).ok(), "journal rewritten");
    Some(file)
}
