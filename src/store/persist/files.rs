//! Body files: one file per stored body (a PUT, a part), named by a number, under
//! `DIR/bodies/`. Bodies hold them by `Arc`; when the last holder lets go, the file's number
//! is handed to the journal writer, which deletes the file only after the journal no longer
//! references it (see `mod.rs`).

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// The body directory, and where released files go.
pub struct Files {
    dir: PathBuf,
    next: AtomicU64,
    /// Whether a body file is fsynced before its object is recorded (`--fsync always`).
    pub(super) sync_bodies: bool,
    pub(super) shared: Arc<super::Shared>,
}

impl Files {
    pub(super) fn new(
        dir: PathBuf,
        next: u64,
        sync_bodies: bool,
        shared: Arc<super::Shared>,
    ) -> Files {
        Files {
            dir,
            next: AtomicU64::new(next),
            sync_bodies,
            shared,
        }
    }

    pub(super) fn set_next(&self, next: u64) {
        self.next.store(next, Ordering::Relaxed);
    }

    pub(super) fn next_id(&self) -> u64 {
        self.next.load(Ordering::Relaxed)
    }

    pub(super) fn path(&self, id: u64) -> PathBuf {
        path_in(&self.dir, id)
    }

    /// A new body file, open for writing.
    pub fn create(self: &Arc<Self>) -> std::io::Result<BodyWriter> {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let out = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(self.path(id))?;
        self.shared.note_new_file();
        Ok(BodyWriter {
            file: Arc::new(BodyFile {
                id,
                files: self.clone(),
            }),
            out,
            len: 0,
        })
    }

    /// The holder of a body file found referenced at start.
    pub(super) fn adopt(self: &Arc<Self>, id: u64) -> Arc<BodyFile> {
        Arc::new(BodyFile {
            id,
            files: self.clone(),
        })
    }

    /// Writes a body held in memory (a seed, an embedded put) to a new file.
    pub fn write_all(
        self: &Arc<Self>,
        body: &super::super::Body,
    ) -> std::io::Result<super::super::Body> {
        let mut w = self.create()?;
        for piece in body.slices(0, body.len()) {
            w.write(&piece)?;
        }
        w.finish()
    }
}

pub(super) fn path_in(dir: &Path, id: u64) -> PathBuf {
    dir.join(format!("{id:016x}"))
}

/// A body file's number from its name.
pub(super) fn parse_name(name: &str) -> Option<u64> {
    (name.len() == 16)
        .then(|| u64::from_str_radix(name, 16).ok())
        .flatten()
}

/// One body file, shared by every body that has ranges of it.
pub struct BodyFile {
    id: u64,
    files: Arc<Files>,
}

impl BodyFile {
    pub fn id(&self) -> u64 {
        self.id
    }

    pub fn open(&self) -> std::io::Result<File> {
        File::open(self.files.path(self.id))
    }
}

impl std::fmt::Debug for BodyFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "BodyFile({:016x})", self.id)
    }
}

impl Drop for BodyFile {
    fn drop(&mut self) {
        self.files.shared.release(self.id);
    }
}

/// A body being written while it streams in.
pub struct BodyWriter {
    file: Arc<BodyFile>,
    out: File,
    len: u64,
}

impl BodyWriter {
    pub fn write(&mut self, data: &[u8]) -> std::io::Result<()> {
        self.out.write_all(data)?;
        self.len += data.len() as u64;
        Ok(())
    }

    /// The body, once every byte is written (and, under `--fsync always`, on disk).
    pub fn finish(self) -> std::io::Result<super::super::Body> {
        if self.file.files.sync_bodies && self.len > 0 {
            self.out.sync_data()?;
        }
        Ok(super::super::Body::from_ranges(vec![
            super::super::body::FileRange {
                file: self.file,
                offset: 0,
                len: self.len,
            },
        ]))
    }
}

impl std::fmt::Debug for BodyWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "BodyWriter({:?}, {})", self.file, self.len)
    }
}
