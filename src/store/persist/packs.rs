//! Pack files: bodies under 1 MiB are appended to a shared pack instead of a file each
//! (creating, writing and closing a 4 KiB file costs about 0.5 ms; an append at a reserved
//! offset costs a `pwrite`). One pack is open for appending at a time; a lock only reserves
//! the offset, the bytes are written outside it. Each body is a slot: a range starting on a
//! 4 KiB block, so that its blocks are its own. When the journal stops referencing a slot the
//! writer punches its blocks out of the pack (`fallocate(PUNCH_HOLE)`): disk use follows the
//! live bytes without rewriting packs or the records that point into them, and a pack whose
//! slots are all gone is deleted like any body file. Where holes cannot be punched (checked at
//! start) every body keeps a file of its own.

use super::files::{BodyFile, Files, Kind, PACK_BIT};
use crate::store::body::{Body, FileRange};
use bytes::Bytes;
use parking_lot::Mutex;
use std::fs::File;
use std::path::Path;
use std::sync::{Arc, OnceLock};

/// Bodies shorter than this go to packs: the bytes `wire::request_body` gathers before it
/// starts a body file, so a small body is whole in memory when it ends and is appended in
/// one write, while a larger one has already been streaming to its own file.
pub const PACK_BELOW: u64 = 1024 * 1024;
/// A pack takes new slots until it is this long.
const PACK_SIZE: u64 = 64 * 1024 * 1024;
/// Slots start on blocks of this size (the file systems' block; a slot's blocks are its own).
pub(super) const ALIGN: u64 = 4096;

#[derive(Default)]
pub(crate) struct Packs {
    active: Mutex<Option<Active>>,
}

struct Active {
    pack: Arc<BodyFile>,
    file: Arc<File>,
    tail: u64,
}

impl Packs {
    /// Lets the open pack go (at stop: breaks the cycle pack → files → packs).
    pub(super) fn close(&self) {
        self.active.lock().take();
    }
}

fn round_up(n: u64) -> Option<u64> {
    n.checked_add(ALIGN - 1).map(|n| n & !(ALIGN - 1))
}

impl Files {
    /// Appends a small body (the pieces of it, `PACK_BELOW` at most) to the open pack.
    pub fn append(self: &Arc<Self>, pieces: &[Bytes]) -> std::io::Result<Body> {
        use std::os::unix::fs::FileExt;
        let len: u64 = pieces.iter().map(|p| p.len() as u64).sum();
        if len == 0 {
            return Ok(Body::default());
        }
        let Some(packs) = &self.packs else {
            return Err(std::io::Error::other("packs are off"));
        };
        let reserve = round_up(len).ok_or_else(|| std::io::Error::other("body too large"))?;
        let (pack, file, offset) = {
            let mut active = packs.active.lock();
            let full = active
                .as_ref()
                .is_none_or(|a| a.tail > 0 && a.tail.saturating_add(reserve) > PACK_SIZE);
            if full {
                let id = self.take_id() | PACK_BIT;
                let file = Arc::new(
                    std::fs::OpenOptions::new()
                        .read(true)
                        .write(true)
                        .create_new(true)
                        .open(self.path(id))?,
                );
                self.shared.note_new_file();
                let pack = self.holder(id, Kind::Pack(OnceLock::from(file.clone())));
                *active = Some(Active {
                    pack,
                    file,
                    tail: 0,
                });
            }
            let Some(a) = active.as_mut() else {
                return Err(std::io::Error::other("no open pack"));
            };
            let offset = a.tail;
            a.tail += reserve;
            (a.pack.clone(), a.file.clone(), offset)
        };
        // Made before the bytes are written: a failed write releases the slot again.
        let slot = self.adopt_slot(pack, offset, len);
        let mut at = offset;
        for p in pieces {
            file.write_all_at(p, at)?;
            at += p.len() as u64;
        }
        if self.sync_bodies {
            file.sync_data()?;
        }
        Ok(Body::from_ranges(vec![FileRange {
            file: slot,
            offset,
            len,
        }]))
    }
}

/// Punches `len` bytes at `offset` (rounded out to whole blocks: the slot's own) out of `file`.
#[cfg(target_os = "linux")]
pub(super) fn punch(file: &File, offset: u64, len: u64) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    let end = offset
        .checked_add(len)
        .and_then(round_up)
        .ok_or_else(|| std::io::Error::other("slot out of range"))?;
    let start = offset & !(ALIGN - 1);
    let (Ok(off), Ok(n)) = (i64::try_from(start), i64::try_from(end - start)) else {
        return Err(std::io::Error::other("slot out of range"));
    };
    if n == 0 {
        return Ok(());
    }
    // SAFETY: `fallocate` only reads the descriptor, which `file` keeps open for the call.
    let r = unsafe {
        libc::fallocate(
            file.as_raw_fd(),
            libc::FALLOC_FL_PUNCH_HOLE | libc::FALLOC_FL_KEEP_SIZE,
            off,
            n,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

#[cfg(not(target_os = "linux"))]
pub(super) fn punch(_file: &File, _offset: u64, _len: u64) -> std::io::Result<()> {
    Err(std::io::Error::other("holes cannot be punched here"))
}

/// Whether holes can be punched in files of `dir` (tried on a scratch file).
pub(super) fn can_punch(dir: &Path) -> bool {
    use std::os::unix::fs::FileExt;
    let path = dir.join("punch-probe");
    let ok = (|| -> std::io::Result<()> {
        let f = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)?;
        f.write_all_at(&[1u8; 2 * ALIGN as usize], 0)?;
        punch(&f, 0, ALIGN)
    })()
    .is_ok();
    let _ = std::fs::remove_file(&path);
    ok
}

/// Punches every block of the pack at `path` outside `live` (slot ranges, sorted): the slots
/// of writes a crash left unacknowledged, and released ones a crash kept from being punched.
pub(super) fn punch_dead(path: &Path, live: &[(u64, u64)]) -> std::io::Result<()> {
    let file = std::fs::OpenOptions::new().write(true).open(path)?;
    let size = file.metadata()?.len();
    let mut at = 0u64;
    for &(offset, len) in live {
        let start = offset & !(ALIGN - 1);
        if start > at {
            punch(&file, at, start - at)?;
        }
        at = at.max(offset.saturating_add(len).saturating_add(ALIGN - 1) & !(ALIGN - 1));
    }
    if size > at {
        punch(&file, at, size - at)?;
    }
    Ok(())
}

/// Reclaims what bodies let go: files deleted, slots punched out of their packs (skipped when
/// the pack itself goes).
pub(super) fn reclaim(bodies: &Path, mut released: Vec<super::files::Released>) {
    use super::files::Released;
    if released.is_empty() {
        return;
    }
    released.sort_unstable_by_key(|r| match *r {
        // Files first, so that slots of a pack deleted in the same batch are skipped.
        Released::File(id) => (0, id, 0),
        Released::Slot { id, offset, .. } => (1, id, offset),
    });
    let mut gone = std::collections::HashSet::new();
    let mut open: Option<(u64, Option<File>)> = None;
    for r in released {
        match r {
            Released::File(id) => {
                gone.insert(id);
                let _ = std::fs::remove_file(super::files::path_in(bodies, id));
            }
            Released::Slot { id, offset, len } => {
                if gone.contains(&id) {
                    continue;
                }
                if open.as_ref().is_none_or(|(o, _)| *o != id) {
                    let f = std::fs::OpenOptions::new()
                        .write(true)
                        .open(super::files::path_in(bodies, id))
                        .ok();
                    open = Some((id, f));
                }
                if let Some((_, Some(f))) = &open {
                    if let Err(e) = punch(f, offset, len) {
                        tracing::warn!(error = %e, pack = id, "cannot punch a released slot");
                    }
                }
            }
        }
    }
}
