//! Persistence (`--data-dir`): the in-memory model stays the index every request reads; this
//! module makes it durable. A mutation of the store queues a record of the new state of what
//! it changed (`records.rs`) into an append-only journal; one writer thread writes the queued
//! records in groups, fsyncs them as the policy says, and publishes how far the journal is
//! written. The front layer holds a request's answer until its records are written
//! (`scope` / `Persist::written`). Bodies live in files (`files.rs`); a body file is deleted
//! only after the journal stops referencing it. `load.rs` rebuilds the model at start.
//!
//! Why a journal of our own and not an embedded database: the page cache survives a
//! `kill -9`, so a record written with `write(2)` before the answer is safe from a process
//! crash under every policy, and fsync only guards against power loss. redb's non-durable
//! commits, by contrast, roll back when the process dies, so only fsync-per-commit would be
//! crash-safe there; SQLite would cost a C build and more than the binary's size budget.

pub mod files;
mod load;
mod records;

use parking_lot::{Condvar, Mutex, RwLock, RwLockReadGuard};
use records::Rec;
use std::cell::Cell;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub use load::Loaded;

/// When the journal (and the body files) are fsynced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Fsync {
    /// Before every answer: nothing acknowledged is lost even on power loss.
    Always,
    /// At most every `BATCH_INTERVAL`: a process crash loses nothing acknowledged, a power
    /// loss at most the last interval's writes.
    #[default]
    Batch,
    /// Never (the OS writes back when it likes): a process crash still loses nothing.
    Never,
}

impl Fsync {
    pub fn parse(s: &str) -> Result<Fsync, String> {
        match s {
            "always" => Ok(Fsync::Always),
            "batch" => Ok(Fsync::Batch),
            "never" => Ok(Fsync::Never),
            _ => Err(format!("{s:?}: expected always, batch or never")),
        }
    }
}

/// Longest time written records wait for their fsync under `Fsync::Batch`.
pub const BATCH_INTERVAL: Duration = Duration::from_millis(100);

/// The data directory's format, in its `FORMAT` file.
const FORMAT: &str = "s3twin-data 1\n";
/// The journal's first bytes.
const MAGIC: &[u8; 8] = b"S3TWJNL1";

tokio::task_local! {
    /// The highest journal sequence number a request's mutations queued.
    static TICKET: Cell<u64>;
}

/// Runs a request's handler, noting the records it queues; returns its output and the
/// sequence number the answer must wait for (0: none).
pub async fn scope<F: std::future::Future>(fut: F) -> (F::Output, u64) {
    TICKET
        .scope(Cell::new(0), async move {
            let out = fut.await;
            (out, TICKET.with(|t| t.get()))
        })
        .await
}

/// What mutations and the writer share.
pub(crate) struct Shared {
    pending: Mutex<Pending>,
    wake: Condvar,
    /// Held (shared) by every mutation from its change to its record; the writer takes it
    /// exclusively before deleting released body files, so the records that stopped
    /// referencing them are queued first.
    mutations: RwLock<()>,
    batch: bool,
}

#[derive(Default)]
struct Pending {
    /// Framed records not yet written.
    buf: Vec<u8>,
    /// Records queued so far.
    seq: u64,
    /// Body files no body holds any more.
    released: Vec<u64>,
    /// Body files created since the last fsync (`Fsync::Batch` syncs them with the journal).
    created: Vec<u64>,
    new_files: bool,
    stop: bool,
}

impl Shared {
    fn release(&self, id: u64) {
        self.pending.lock().released.push(id);
        self.wake.notify_one();
    }

    fn note_new_file(&self, id: u64) {
        let mut p = self.pending.lock();
        p.new_files = true;
        if self.batch {
            p.created.push(id);
        }
    }
}

/// How far the journal is written, and whether writing it failed.
#[derive(Debug, Clone, Copy, Default)]
struct Written {
    seq: u64,
    failed: bool,
}

/// An open data directory.
pub struct Persist {
    shared: Arc<Shared>,
    pub files: Arc<files::Files>,
    written: tokio::sync::watch::Receiver<Written>,
    writer: Mutex<Option<std::thread::JoinHandle<()>>>,
    /// The directory's lock, held while the server runs.
    _lock: File,
}

/// A mutation in progress (see `Shared::mutations`).
pub type Mutation<'a> = RwLockReadGuard<'a, ()>;

impl Persist {
    /// Opens (or creates) a data directory and reads its state.
    pub fn open(dir: &Path, policy: Fsync) -> Result<(Arc<Persist>, Loaded), String> {
        let fail =
            |what: &str, e: std::io::Error| format!("data dir {}: {what}: {e}", dir.display());
        std::fs::create_dir_all(dir).map_err(|e| fail("cannot create it", e))?;
        let format_path = dir.join("FORMAT");
        match std::fs::read_to_string(&format_path) {
            Ok(f) if f == FORMAT => {}
            Ok(f) => {
                return Err(format!(
                    "data dir {}: unsupported format {:?} (this s3twin reads {:?})",
                    dir.display(),
                    f.trim(),
                    FORMAT.trim()
                ))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let foreign = std::fs::read_dir(dir)
                    .map_err(|e| fail("cannot read it", e))?
                    .flatten()
                    .any(|e| e.file_name() != "LOCK");
                if foreign {
                    return Err(format!(
                        "data dir {}: not an s3twin data directory (no FORMAT file, and not empty)",
                        dir.display()
                    ));
                }
                write_synced(&format_path, FORMAT.as_bytes())
                    .map_err(|e| fail("cannot write FORMAT", e))?;
            }
            Err(e) => return Err(fail("cannot read FORMAT", e)),
        }
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(dir.join("LOCK"))
            .map_err(|e| fail("cannot open LOCK", e))?;
        if lock.try_lock().is_err() {
            return Err(format!(
                "data dir {}: another s3twin is using it",
                dir.display()
            ));
        }
        let bodies = dir.join("bodies");
        std::fs::create_dir_all(&bodies).map_err(|e| fail("cannot create bodies/", e))?;

        let shared = Arc::new(Shared {
            pending: Mutex::default(),
            wake: Condvar::new(),
            mutations: RwLock::new(()),
            batch: policy == Fsync::Batch,
        });
        let journal_path = dir.join("journal");
        let (model, next_file) = load::read(&journal_path, &bodies)?;
        let files = Arc::new(files::Files::new(
            bodies.clone(),
            next_file,
            policy == Fsync::Always,
            shared.clone(),
        ));
        let journal = load::open_for_append(&journal_path, &model)
            .map_err(|e| fail("cannot write the journal", e))?;
        let (tx, rx) = tokio::sync::watch::channel(Written::default());
        let writer = {
            let shared = shared.clone();
            let bodies = bodies.clone();
            std::thread::Builder::new()
                .name("s3twin-journal".into())
                .spawn(move || write_loop(shared, journal, bodies, policy, tx))
                .map_err(|e| fail("cannot start the journal writer", e))?
        };
        let persist = Arc::new(Persist {
            shared,
            files,
            written: rx,
            writer: Mutex::new(Some(writer)),
            _lock: lock,
        });
        let loaded = model.into_loaded(&persist.files);
        Ok((persist, loaded))
    }

    /// Marks a mutation in progress until the guard drops; its records must be queued before.
    pub fn begin(&self) -> Mutation<'_> {
        self.shared.mutations.read_recursive()
    }

    fn record(&self, rec: &Rec) {
        let bytes = match postcard::to_allocvec(rec) {
            Ok(b) => b,
            Err(e) => {
                tracing::error!(error = %e, "journal record not encoded");
                return;
            }
        };
        let Ok(len) = u32::try_from(bytes.len()) else {
            tracing::error!(len = bytes.len(), "journal record too large");
            return;
        };
        let crc = crc_fast::checksum(crc_fast::CrcAlgorithm::Crc32Iscsi, &bytes) as u32;
        let seq = {
            let mut p = self.shared.pending.lock();
            p.buf.extend_from_slice(&len.to_le_bytes());
            p.buf.extend_from_slice(&crc.to_le_bytes());
            p.buf.extend_from_slice(&bytes);
            p.seq += 1;
            p.seq
        };
        self.shared.wake.notify_one();
        let _ = TICKET.try_with(|t| t.set(t.get().max(seq)));
    }

    /// Waits until the journal is written up to `seq` (as the fsync policy says); an error if
    /// writing it failed.
    pub async fn written(&self, seq: u64) -> Result<(), ()> {
        if seq == 0 {
            return Ok(());
        }
        let mut rx = self.written.clone();
        let ok = rx
            .wait_for(|w| w.seq >= seq || w.failed)
            .await
            .map(|w| !w.failed);
        match ok {
            Ok(true) => Ok(()),
            _ => Err(()),
        }
    }

    /// Writes what is queued, fsyncs it and stops the writer; later releases delete nothing
    /// (the model is being dropped, not deleted).
    pub fn shutdown(&self) {
        self.shared.pending.lock().stop = true;
        self.shared.wake.notify_one();
        if let Some(w) = self.writer.lock().take() {
            let _ = w.join();
        }
    }
}

impl Drop for Persist {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Writes a small file and fsyncs it.
fn write_synced(path: &Path, data: &[u8]) -> std::io::Result<()> {
    let mut f = File::create(path)?;
    f.write_all(data)?;
    f.sync_all()
}

fn sync_dir(dir: &Path) -> std::io::Result<()> {
    File::open(dir)?.sync_all()
}

/// The journal writer: groups what is queued, writes it, fsyncs as `policy` says, publishes
/// how far it wrote, then deletes the body files released before the group was taken.
fn write_loop(
    shared: Arc<Shared>,
    mut journal: File,
    bodies: PathBuf,
    policy: Fsync,
    written: tokio::sync::watch::Sender<Written>,
) {
    let mut last_sync = Instant::now();
    let mut unsynced = false;
    // Released files whose superseding records are written but not yet fsynced (batch).
    let mut after_sync: Vec<u64> = Vec::new();
    let mut failed = false;
    loop {
        {
            let mut p = shared.pending.lock();
            while p.buf.is_empty() && p.released.is_empty() && !p.stop {
                if unsynced {
                    let left = BATCH_INTERVAL.saturating_sub(last_sync.elapsed());
                    if left.is_zero() || shared.wake.wait_for(&mut p, left).timed_out() {
                        break;
                    }
                } else {
                    shared.wake.wait(&mut p);
                }
            }
        }
        let released = std::mem::take(&mut shared.pending.lock().released);
        if !released.is_empty() {
            // Every mutation that was changing the model when these files were let go has
            // queued its record once this returns.
            drop(shared.mutations.write());
        }
        let (buf, seq, stop, new_files, created) = {
            let mut p = shared.pending.lock();
            (
                std::mem::take(&mut p.buf),
                p.seq,
                p.stop,
                std::mem::take(&mut p.new_files),
                std::mem::take(&mut p.created),
            )
        };
        if failed {
            if stop {
                return;
            }
            continue;
        }
        let result = (|| -> std::io::Result<()> {
            if !buf.is_empty() {
                journal.write_all(&buf)?;
                unsynced = true;
            }
            let sync_now = match policy {
                Fsync::Always => unsynced,
                Fsync::Batch => unsynced && (stop || last_sync.elapsed() >= BATCH_INTERVAL),
                Fsync::Never => {
                    unsynced = false;
                    false
                }
            };
            if policy == Fsync::Batch {
                for id in created {
                    if let Ok(f) = File::open(files::path_in(&bodies, id)) {
                        f.sync_data()?;
                    }
                }
            }
            if sync_now {
                if new_files || policy == Fsync::Batch {
                    sync_dir(&bodies)?;
                }
                journal.sync_data()?;
                unsynced = false;
                last_sync = Instant::now();
            }
            Ok(())
        })();
        if let Err(e) = result {
            tracing::error!(error = %e, "journal write failed: writes answer InternalError from now on");
            failed = true;
            written.send_replace(Written { seq, failed: true });
            continue;
        }
        written.send_replace(Written { seq, failed: false });
        if stop {
            // What is released now is the model being dropped: its files stay.
            return;
        }
        let deletable: Vec<u64> = match policy {
            Fsync::Batch if unsynced => {
                after_sync.extend(released);
                Vec::new()
            }
            Fsync::Batch => {
                after_sync.extend(released);
                std::mem::take(&mut after_sync)
            }
            _ => released,
        };
        for id in deletable {
            let _ = std::fs::remove_file(files::path_in(&bodies, id));
        }
    }
}

/// The journal handle a run and its buckets carry: the data directory and the run's id.
#[derive(Clone)]
pub struct Journal {
    pub persist: Arc<Persist>,
    pub run: Arc<str>,
}

impl Journal {
    pub fn begin(&self) -> Mutation<'_> {
        self.persist.begin()
    }
}

mod hooks;
