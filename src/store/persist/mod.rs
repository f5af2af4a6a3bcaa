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

mod compact;
pub mod files;
mod load;
pub(crate) mod packs;
mod records;

use parking_lot::{Condvar, Mutex};
use records::Rec;
use std::cell::Cell;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

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

/// Test knobs of a data directory, not user settings: they let tests reach paths that
/// production sizes reach only after hours (a background rewrite while writers run) or only on
/// some file systems (no hole punching). `Config::persist_tuning`, or else the environment
/// (`from_env`), read once when the directory is opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tuning {
    /// The journal is rewritten (at start, and in the background) once it holds more than
    /// this many records and more than `rewrite_ratio` per live entity.
    pub rewrite_floor: u64,
    pub rewrite_ratio: u64,
    /// How often a running server looks at whether the journal is due for a rewrite.
    pub rewrite_check: Duration,
    /// Small bodies go to packs where holes can be punched; `false` gives every body a file
    /// of its own, as on a file system without `fallocate(PUNCH_HOLE)`.
    pub punch_holes: bool,
}

impl Default for Tuning {
    fn default() -> Tuning {
        Tuning {
            rewrite_floor: load::REWRITE_FLOOR,
            rewrite_ratio: load::REWRITE_RATIO,
            rewrite_check: Duration::from_secs(1),
            punch_holes: true,
        }
    }
}

impl Tuning {
    /// The defaults, changed by `S3TWIN_JOURNAL_REWRITE_FLOOR` (records),
    /// `S3TWIN_JOURNAL_REWRITE_RATIO` (from 1), `S3TWIN_JOURNAL_REWRITE_CHECK_MS` (from 1)
    /// and `S3TWIN_NO_HOLE_PUNCH=1`. A value that does not parse is an error rather than
    /// ignored, so that a test cannot silently run without the path it means to exercise.
    pub fn from_env() -> Result<Tuning, String> {
        fn number(name: &str, min: u64) -> Result<Option<u64>, String> {
            let Some(v) = std::env::var_os(name) else {
                return Ok(None);
            };
            v.to_str()
                .and_then(|s| s.trim().parse::<u64>().ok())
                .filter(|n| *n >= min)
                .map(Some)
                .ok_or_else(|| format!("{name}={v:?}: expected a whole number from {min}"))
        }
        let mut t = Tuning::default();
        if let Some(n) = number("S3TWIN_JOURNAL_REWRITE_FLOOR", 0)? {
            t.rewrite_floor = n;
        }
        if let Some(n) = number("S3TWIN_JOURNAL_REWRITE_RATIO", 1)? {
            t.rewrite_ratio = n;
        }
        if let Some(n) = number("S3TWIN_JOURNAL_REWRITE_CHECK_MS", 1)? {
            t.rewrite_check = Duration::from_millis(n);
        }
        match std::env::var_os("S3TWIN_NO_HOLE_PUNCH") {
            None => {}
            Some(v) if v == "1" => t.punch_holes = false,
            Some(v) if v == "0" => {}
            Some(v) => return Err(format!("S3TWIN_NO_HOLE_PUNCH={v:?}: expected 0 or 1")),
        }
        Ok(t)
    }

    /// Whether a journal of `records` records for `live` live entities is due for a rewrite.
    fn rewrite_due(&self, records: u64, live: u64) -> bool {
        records > self.rewrite_floor && records > self.rewrite_ratio.saturating_mul(live)
    }
}

/// The data directory's format, in its `FORMAT` file. 2: small bodies are slots of pack
/// files, which a reader of 1 would delete with their first released body.
const FORMAT: &str = "s3twin-data 2\n";
/// The format before packs: read as is, then marked 2 (a directory this version wrote to
/// must not be opened by an older one).
const FORMAT_1: &str = "s3twin-data 1\n";
/// The journal's first bytes.
const MAGIC: &[u8; 8] = b"S3TWJNL1";
/// Written at a clean stop (the next body file number); removed at start. Without it the
/// start looks for body files no record references (left by a crash).
const CLEAN: &str = "CLEAN";

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
    /// Every mutation is counted here from its change to its record; the writer waits for
    /// those in progress before deleting released body files, so the records that stopped
    /// referencing them are queued first.
    mutations: Mutations,
    /// `Fsync::Always`: the body directory is fsynced when files were created.
    always: bool,
    /// Records in the journal file, and live entities when it was last rewritten (or read):
    /// when the first is mostly the second superseded, it is rewritten in the background.
    journal_records: AtomicU64,
    live: AtomicU64,
    /// A rewrite is under way (from its snapshot to the writer's swap).
    compacting: AtomicBool,
    /// The journal file, written by whoever holds it (set once the journal is read).
    out: Mutex<Option<Out>>,
    /// How far the journal is written, for the answers waiting on it.
    written: tokio::sync::watch::Sender<Written>,
    /// Records were written since `batch`'s last flush.
    unsynced: AtomicBool,
    tuning: Tuning,
}

#[derive(Default)]
struct Pending {
    /// Framed records not yet written.
    buf: Vec<u8>,
    /// Records queued so far.
    seq: u64,
    /// Body files and pack slots no body holds any more.
    released: Vec<files::Released>,
    new_files: bool,
    stop: bool,
    /// While a rewrite's snapshot is taken: every record written from its start, and the
    /// sequence number it started at.
    capture: Option<(Vec<u8>, u64)>,
    /// The rewritten journal (snapshot written and synced) and its records, for the writer to
    /// complete with the captured records and put in place.
    swap: Option<(File, u64)>,
}

impl Shared {
    fn release(&self, r: files::Released) {
        self.pending.lock().released.push(r);
        self.wake.notify_one();
    }

    fn note_new_file(&self) {
        if !self.always {
            return;
        }
        self.pending.lock().new_files = true;
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
    writer: Mutex<Option<std::thread::JoinHandle<bool>>>,
    dir: PathBuf,
    /// The directory's lock, held while the server runs.
    _lock: File,
}

impl Persist {
    /// Opens (or creates) a data directory and reads its state.
    pub fn open(
        dir: &Path,
        policy: Fsync,
        tuning: Tuning,
    ) -> Result<(Arc<Persist>, Loaded), String> {
        let fail =
            |what: &str, e: std::io::Error| format!("data dir {}: {what}: {e}", dir.display());
        std::fs::create_dir_all(dir).map_err(|e| fail("cannot create it", e))?;
        let format_path = dir.join("FORMAT");
        let mut upgrade = false;
        match std::fs::read_to_string(&format_path) {
            Ok(f) if f == FORMAT => {}
            Ok(f) if f == FORMAT_1 => upgrade = true,
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
        // A rewrite a crash or a stop cut short: in the background (`journal.next`), or at
        // start (`journal.new`, which would otherwise stay until the next start rewrite).
        let _ = std::fs::remove_file(dir.join("journal.next"));
        let _ = std::fs::remove_file(dir.join("journal.new"));
        if upgrade {
            write_synced(&format_path, FORMAT.as_bytes())
                .and_then(|()| sync_dir(dir))
                .map_err(|e| fail("cannot write FORMAT", e))?;
        }
        let bodies = dir.join("bodies");
        std::fs::create_dir_all(&bodies).map_err(|e| fail("cannot create bodies/", e))?;

        let shared = Arc::new(Shared {
            pending: Mutex::default(),
            wake: Condvar::new(),
            mutations: Mutations::default(),
            always: policy == Fsync::Always,
            journal_records: AtomicU64::new(0),
            live: AtomicU64::new(0),
            compacting: AtomicBool::new(false),
            out: Mutex::new(None),
            written: tokio::sync::watch::channel(Written::default()).0,
            unsynced: AtomicBool::new(false),
            tuning,
        });
        let journal_path = dir.join("journal");
        let clean_path = dir.join(CLEAN);
        let clean = std::fs::read_to_string(&clean_path)
            .ok()
            .and_then(|s| s.trim().parse::<u64>().ok());
        if clean_path.exists() {
            // From here on a crash must lead to a full look at the body files.
            std::fs::remove_file(&clean_path).map_err(|e| fail("cannot remove CLEAN", e))?;
            sync_dir(dir).map_err(|e| fail("cannot sync it", e))?;
        }
        let files = Arc::new(files::Files::new(
            bodies.clone(),
            0,
            policy == Fsync::Always,
            shared.clone(),
            tuning.punch_holes && packs::can_punch(&bodies),
        ));
        let (model, next_file) = load::read(&journal_path, &bodies, clean, &files)?;
        files.set_next(next_file);
        let (journal, records, live) = load::open_for_append(&journal_path, &model, &tuning)
            .map_err(|e| fail("cannot write the journal", e))?;
        shared.journal_records.store(records, Ordering::Relaxed);
        shared.live.store(live, Ordering::Relaxed);
        *shared.out.lock() = Some(Out {
            file: journal,
            last_seq: 0,
            failed: false,
        });
        let rx = shared.written.subscribe();
        let writer = {
            let shared = shared.clone();
            let bodies = bodies.clone();
            let path = journal_path.clone();
            std::thread::Builder::new()
                .name("s3twin-journal".into())
                .spawn(move || write_loop(shared, &path, bodies, policy))
                .map_err(|e| fail("cannot start the journal writer", e))?
        };
        let persist = Arc::new(Persist {
            shared,
            files,
            written: rx,
            writer: Mutex::new(Some(writer)),
            dir: dir.to_path_buf(),
            _lock: lock,
        });
        let loaded = model.into_loaded();
        Ok((persist, loaded))
    }

    /// How often a running server looks at whether the journal is due for a rewrite.
    pub fn rewrite_check(&self) -> Duration {
        self.shared.tuning.rewrite_check
    }

    /// Marks a mutation in progress until the guard drops; its records must be queued before.
    pub fn begin(&self) -> Mutation<'_> {
        self.shared.mutations.enter()
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
        // Under `batch` and `never` the answer needs only a `write(2)`: a request that finds
        // the journal free writes what is queued itself, sparing two thread hand-offs (the
        // writer's wake-up and the answer's). Under `always` the writer syncs.
        if !self.shared.always && self.written.borrow().seq < seq {
            if let Some(mut guard) = self.shared.out.try_lock() {
                if let Some(out) = guard.as_mut() {
                    self.shared.write_pending(out, None);
                }
            }
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
        let Some(w) = self.writer.lock().take() else {
            return;
        };
        let clean = w.join().unwrap_or(false);
        if let Some(p) = &self.files.packs {
            p.close();
        }
        if clean {
            // The next start may skip looking for unreferenced body files.
            let next = self.files.next_id().to_string();
            if let Err(e) = write_synced(&self.dir.join(CLEAN), next.as_bytes())
                .and_then(|()| sync_dir(&self.dir))
            {
                tracing::warn!(error = %e, "cannot mark the data dir as cleanly stopped");
            }
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

/// Flushes the whole file system `file` is on (the journal and every body file written
/// since the last flush, in one call).
#[cfg(target_os = "linux")]
fn sync_file_system(file: &File, _bodies: &Path) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    // SAFETY: `syncfs` only reads the descriptor, which `file` keeps open for the call.
    if unsafe { libc::syncfs(file.as_raw_fd()) } == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

#[cfg(not(target_os = "linux"))]
fn sync_file_system(file: &File, bodies: &Path) -> std::io::Result<()> {
    file.sync_data()?;
    sync_dir(bodies)
}

/// The journal file and how far it is written; held while writing (by the writer thread, or
/// by a request that finds it free, see `Persist::written`).
struct Out {
    file: File,
    last_seq: u64,
    failed: bool,
}

/// A rewritten journal and its records, with the records written since its snapshot began
/// and the sequence number they start at.
type Swap = ((File, u64), (Vec<u8>, u64));

/// What `Shared::write_pending` took besides the records.
struct Taken {
    seq: u64,
    stop: bool,
    swap: Option<Swap>,
}

impl Shared {
    /// Writes the records queued so far, in order, and publishes how far the journal is
    /// written. `writer`: called by the writer thread, which alone syncs under
    /// `Fsync::Always` and puts a rewritten journal in place.
    fn write_pending(&self, out: &mut Out, writer: Option<&Path>) -> Taken {
        let (buf, seq, stop, new_files, swap) = {
            let mut p = self.pending.lock();
            let buf = std::mem::take(&mut p.buf);
            if let Some((captured, _)) = p.capture.as_mut() {
                captured.extend_from_slice(&buf);
            }
            // Records queued from here on go to the rewritten journal, if it is ready.
            let swap = match (writer, p.swap.take()) {
                (Some(_), Some(file)) => p.capture.take().map(|c| (file, c)),
                (None, Some(file)) => {
                    p.swap = Some(file);
                    None
                }
                (_, None) => None,
            };
            let new_files = writer.is_some() && std::mem::take(&mut p.new_files);
            (buf, p.seq, p.stop, new_files, swap)
        };
        if !out.failed {
            let result = (|| -> std::io::Result<()> {
                if !buf.is_empty() {
                    out.file.write_all(&buf)?;
                    if let (true, Some(bodies)) = (self.always, writer) {
                        if new_files {
                            sync_dir(bodies)?;
                        }
                        out.file.sync_data()?;
                    }
                    self.unsynced.store(true, Ordering::Release);
                }
                Ok(())
            })();
            if let Err(e) = result {
                tracing::error!(error = %e, "journal write failed: writes answer InternalError from now on");
                out.failed = true;
            }
            self.journal_records
                .fetch_add(seq.saturating_sub(out.last_seq), Ordering::Relaxed);
            out.last_seq = out.last_seq.max(seq);
            self.written.send_replace(Written {
                seq: out.last_seq,
                failed: out.failed,
            });
        }
        Taken { seq, stop, swap }
    }
}

/// The journal writer: groups what is queued, writes it, fsyncs as `policy` says, publishes
/// how far it wrote, then deletes the body files released before the group was taken
/// (under `batch`, once the syncer has flushed the records that stopped naming them).
fn write_loop(shared: Arc<Shared>, journal_path: &Path, bodies: PathBuf, policy: Fsync) -> bool {
    let syncer = (policy == Fsync::Batch)
        .then(|| {
            shared
                .out
                .lock()
                .as_ref()
                .and_then(|o| o.file.try_clone().ok())
        })
        .flatten()
        .map(|file| Syncer::spawn(file, bodies.clone(), shared.clone()));
    loop {
        {
            let mut p = shared.pending.lock();
            while p.buf.is_empty() && p.released.is_empty() && !p.stop && p.swap.is_none() {
                shared.wake.wait(&mut p);
            }
        }
        let released = std::mem::take(&mut shared.pending.lock().released);
        if !released.is_empty() {
            // Every mutation that was changing the model when these files were let go has
            // queued its record once this returns.
            shared.mutations.drain();
        }
        let mut guard = shared.out.lock();
        let Some(out) = guard.as_mut() else {
            return false;
        };
        let Taken { seq, stop, swap } = shared.write_pending(out, Some(&bodies));
        if let Some(((file, snapshot), (captured, from))) = swap {
            if !out.failed {
                if let Some(f) = compact::put_in_place(file, journal_path, &captured) {
                    out.file = f;
                    shared
                        .journal_records
                        .store(snapshot + seq.saturating_sub(from), Ordering::Relaxed);
                    shared.live.store(snapshot, Ordering::Relaxed);
                    if let Some(s) = &syncer {
                        if let Ok(f) = out.file.try_clone() {
                            s.replace_journal(f);
                        }
                    }
                }
            }
            shared.compacting.store(false, Ordering::Release);
        }
        let failed = out.failed;
        if stop {
            // A clean stop: everything written is flushed, the files released so far are
            // deleted; what is released from now on is the model being dropped, whose files
            // stay.
            if failed {
                return false;
            }
            return match syncer {
                Some(s) => {
                    drop(guard);
                    s.after_sync(released);
                    s.stop()
                }
                None => {
                    let ok = out.file.sync_data().is_ok();
                    drop(guard);
                    if ok {
                        packs::reclaim(&bodies, released);
                    }
                    ok
                }
            };
        }
        drop(guard);
        if failed {
            continue;
        }
        match &syncer {
            Some(s) => s.after_sync(released),
            None => packs::reclaim(&bodies, released),
        }
    }
}

/// `Fsync::Batch`'s flusher: every `BATCH_INTERVAL`, the file system is flushed, then the
/// body files whose superseding records were written before the flush are deleted.
type SyncQueue = Arc<(Mutex<SyncState>, Condvar)>;

/// What the syncer is handed. Whether anything was written since the last flush is
/// `Shared::unsynced`, which every journal write sets (the writer's and a request's).
#[derive(Default)]
struct SyncState {
    /// Files and slots to reclaim after the next flush.
    deletable: Vec<files::Released>,
    stop: bool,
    /// The journal to flush from now on, after a background rewrite.
    journal: Option<File>,
}

struct Syncer {
    state: SyncQueue,
    thread: std::thread::JoinHandle<bool>,
}

impl Syncer {
    fn spawn(journal: File, bodies: PathBuf, writes: Arc<Shared>) -> Syncer {
        let state: SyncQueue = Arc::default();
        let shared = state.clone();
        let mut journal = journal;
        let thread = std::thread::spawn(move || loop {
            let (deletable, stop, dirty) = {
                let mut s = shared.0.lock();
                if !s.stop {
                    shared.1.wait_for(&mut s, BATCH_INTERVAL);
                }
                if let Some(f) = s.journal.take() {
                    journal = f;
                }
                // Written by the writer, or by a request (`Persist::written`).
                let dirty = writes.unsynced.swap(false, Ordering::AcqRel);
                (std::mem::take(&mut s.deletable), s.stop, dirty)
            };
            if !dirty && deletable.is_empty() && !stop {
                // Nothing was written since the last flush.
                continue;
            }
            if let Err(e) = sync_file_system(&journal, &bodies) {
                tracing::error!(error = %e, "fsync failed");
                if stop {
                    return false;
                }
                continue;
            }
            packs::reclaim(&bodies, deletable);
            if stop {
                return true;
            }
        });
        Syncer { state, thread }
    }

    /// The files whose deletion waits for the next flush.
    fn after_sync(&self, released: Vec<files::Released>) {
        self.state.0.lock().deletable.extend(released);
    }

    /// The journal file to flush from now on (after a rewrite).
    fn replace_journal(&self, file: File) {
        self.state.0.lock().journal = Some(file);
    }

    /// One last flush and the deletions it allows; whether it succeeded.
    fn stop(self) -> bool {
        self.state.0.lock().stop = true;
        self.state.1.notify_one();
        self.thread.join().unwrap_or(false)
    }
}

/// Mutations in progress, counted per epoch: the writer opens a new epoch and waits for the
/// old one's mutations to finish (each takes microseconds), so it never waits for mutations
/// that started after it asked.
#[derive(Default)]
pub(crate) struct Mutations {
    epoch: AtomicUsize,
    active: [AtomicUsize; 2],
}

impl Mutations {
    fn enter(&self) -> Mutation<'_> {
        loop {
            let e = self.epoch.load(Ordering::SeqCst) & 1;
            self.active[e].fetch_add(1, Ordering::SeqCst);
            if self.epoch.load(Ordering::SeqCst) & 1 == e {
                return Mutation { m: self, e };
            }
            self.active[e].fetch_sub(1, Ordering::SeqCst);
        }
    }

    /// Returns once every mutation that had entered before the call has left.
    fn drain(&self) {
        let old = self.epoch.fetch_add(1, Ordering::SeqCst) & 1;
        let mut spins = 0u32;
        while self.active[old].load(Ordering::SeqCst) != 0 {
            spins += 1;
            if spins < 64 {
                std::hint::spin_loop();
            } else {
                std::thread::sleep(Duration::from_micros(20));
            }
        }
    }
}

/// A mutation in progress (see `Mutations`).
pub struct Mutation<'a> {
    m: &'a Mutations,
    e: usize,
}

impl Drop for Mutation<'_> {
    fn drop(&mut self) {
        self.m.active[self.e].fetch_sub(1, Ordering::SeqCst);
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
