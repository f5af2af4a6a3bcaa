//! Body files under `DIR/bodies/`, named by a number: a large body (1 MiB or more, which
//! streams to disk as it arrives) has a file of its own; smaller ones are slots of shared pack
//! files (`packs.rs`), whose numbers have `PACK_BIT` set. Bodies hold files and slots by
//! `Arc`; when the last holder lets go, the file or slot is handed to the journal writer,
//! which deletes the file (or punches the slot's blocks out of its pack) only after the
//! journal no longer references it (see `mod.rs`).

use bytes::Bytes;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

/// Set in the number of a pack file (a record's ranges name packs and files alike).
pub const PACK_BIT: u64 = 1 << 63;

/// Whether a body file number names a pack.
pub fn is_pack(id: u64) -> bool {
    id & PACK_BIT != 0
}

/// The body directory, and where released files go.
pub struct Files {
    dir: PathBuf,
    next: AtomicU64,
    /// Whether a body file is fsynced before its object is recorded (`--fsync always`).
    pub(super) sync_bodies: bool,
    pub(super) shared: Arc<super::Shared>,
    /// The pack small bodies are appended to; `None` where holes cannot be punched (then
    /// every body has a file of its own).
    pub(super) packs: Option<super::packs::Packs>,
}

/// A file or slot no body holds any more, for the writer to reclaim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Released {
    File(u64),
    /// `len` bytes at `offset` of pack `id`.
    Slot {
        id: u64,
        offset: u64,
        len: u64,
    },
}

impl Files {
    pub(super) fn new(
        dir: PathBuf,
        next: u64,
        sync_bodies: bool,
        shared: Arc<super::Shared>,
        packs: bool,
    ) -> Files {
        Files {
            dir,
            next: AtomicU64::new(next),
            sync_bodies,
            shared,
            packs: packs.then(super::packs::Packs::default),
        }
    }

    pub(super) fn set_next(&self, next: u64) {
        self.next.store(next, Ordering::Relaxed);
    }

    pub(super) fn next_id(&self) -> u64 {
        self.next.load(Ordering::Relaxed)
    }

    /// A new file number (without `PACK_BIT`).
    pub(super) fn take_id(&self) -> u64 {
        self.next.fetch_add(1, Ordering::Relaxed) & !PACK_BIT
    }

    pub(super) fn path(&self, id: u64) -> PathBuf {
        path_in(&self.dir, id)
    }

    /// A new body file, open for writing.
    pub fn create(self: &Arc<Self>) -> std::io::Result<BodyWriter> {
        let id = self.take_id();
        let out = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(self.path(id))?;
        self.shared.note_new_file();
        Ok(BodyWriter {
            file: self.holder(id, Kind::Whole),
            out,
            len: 0,
        })
    }

    pub(super) fn holder(self: &Arc<Self>, id: u64, kind: Kind) -> Arc<BodyFile> {
        Arc::new(BodyFile {
            id,
            files: self.clone(),
            kind,
        })
    }

    /// The holder of a body file (or pack) found referenced at start.
    pub(super) fn adopt(self: &Arc<Self>, id: u64) -> Arc<BodyFile> {
        let kind = if is_pack(id) {
            Kind::Pack(OnceLock::new())
        } else {
            Kind::Whole
        };
        self.holder(id, kind)
    }

    /// The holder of a pack slot found referenced at start.
    pub(super) fn adopt_slot(
        self: &Arc<Self>,
        pack: Arc<BodyFile>,
        offset: u64,
        len: u64,
    ) -> Arc<BodyFile> {
        self.holder(pack.id, Kind::Slot { pack, offset, len })
    }

    /// Whether bodies this small are appended to a pack.
    pub fn packs_small(&self, len: u64) -> bool {
        self.packs.is_some() && len < super::packs::PACK_BELOW
    }

    /// Writes a body held in memory (a seed, an embedded put) to a pack slot or a new file.
    pub fn write_all(
        self: &Arc<Self>,
        body: &super::super::Body,
    ) -> std::io::Result<super::super::Body> {
        if self.packs_small(body.len()) {
            let pieces: Vec<Bytes> = body.slices(0, body.len()).collect();
            return self.append(&pieces);
        }
        let mut w = self.create()?;
        for piece in body.slices(0, body.len()) {
            w.write(&piece)?;
        }
        w.finish()
    }

    /// The body with every part-of-a-slot range (an UploadPartCopy of a byte range of a
    /// small body) copied to a slot of its own: a slot is reclaimed as a whole, so no two
    /// slots may share bytes.
    pub fn own_slots(
        self: &Arc<Self>,
        body: super::super::Body,
    ) -> std::io::Result<super::super::Body> {
        use super::super::body::FileRange;
        if !body.ranges().iter().any(|r| r.file.is_partial(r)) {
            return Ok(body);
        }
        let mut out: Vec<FileRange> = Vec::with_capacity(body.ranges().len());
        for r in body.ranges() {
            if r.file.is_partial(r) {
                // To a slot, or a file where packs are off (a directory written with them,
                // opened where holes cannot be punched).
                let piece = super::super::Body::from_ranges(vec![r.clone()]);
                out.extend(self.write_all(&piece)?.ranges().iter().cloned());
            } else {
                out.push(r.clone());
            }
        }
        Ok(super::super::Body::from_ranges(out))
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

/// One body file, pack or pack slot, shared by every body that has ranges of it.
pub struct BodyFile {
    id: u64,
    files: Arc<Files>,
    kind: Kind,
}

pub(super) enum Kind {
    /// A file of one large body.
    Whole,
    /// A pack, and the handle its slots are read through (opened once).
    Pack(OnceLock<Arc<File>>),
    /// `len` bytes at `offset` of `pack`: one small body's.
    Slot {
        pack: Arc<BodyFile>,
        offset: u64,
        len: u64,
    },
}

impl BodyFile {
    /// The number of the file the bytes are in.
    pub fn id(&self) -> u64 {
        self.id
    }

    pub fn open(&self) -> std::io::Result<Arc<File>> {
        match &self.kind {
            Kind::Whole => Ok(Arc::new(File::open(self.files.path(self.id))?)),
            Kind::Pack(handle) => {
                if let Some(f) = handle.get() {
                    return Ok(f.clone());
                }
                let f = Arc::new(File::open(self.files.path(self.id))?);
                Ok(handle.get_or_init(|| f).clone())
            }
            Kind::Slot { pack, .. } => pack.open(),
        }
    }

    /// Whether `range` (of this file) covers only part of a slot.
    pub fn is_partial(&self, range: &super::super::body::FileRange) -> bool {
        match &self.kind {
            Kind::Slot { offset, len, .. } => range.offset != *offset || range.len != *len,
            _ => false,
        }
    }
}

impl std::fmt::Debug for BodyFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.kind {
            Kind::Slot { offset, len, .. } => {
                write!(f, "BodyFile({:016x}@{offset}+{len})", self.id)
            }
            _ => write!(f, "BodyFile({:016x})", self.id),
        }
    }
}

impl Drop for BodyFile {
    fn drop(&mut self) {
        // A slot's pack is released after it (the field drops next), if it was the last.
        self.files.shared.release(match self.kind {
            Kind::Slot { offset, len, .. } => Released::Slot {
                id: self.id,
                offset,
                len,
            },
            _ => Released::File(self.id),
        });
    }
}

/// A body being written while it streams in.
pub struct BodyWriter {
    file: Arc<BodyFile>,
    out: File,
    len: u64,
}

impl BodyWriter {
    /// Bytes written so far.
    pub fn written(&self) -> u64 {
        self.len
    }

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
