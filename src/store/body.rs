//! Object bodies: immutable and shared. In memory they are reference-counted byte segments;
//! with `--data-dir` they are ranges of body files (`persist::files`). A copy of an object
//! shares its segments or ranges; a multipart Complete lists its parts' ones; a GET (or a
//! range of it) walks them: slices of memory without copying, or a file read in chunks.

use super::persist::files::BodyFile;
use bytes::{Bytes, BytesMut};
use std::sync::Arc;

#[derive(Clone, Debug)]
pub struct Body {
    repr: Repr,
}

/// 32 bytes whichever the kind: it is part of every object kept.
#[derive(Clone, Debug)]
enum Repr {
    Memory(Arc<[Bytes]>, u64),
    Files(Arc<[FileRange]>, u64),
    /// One range (a pack slot, or a large body's file): the common file-backed body, kept
    /// without a list of its own (an allocation less for each of a million small objects).
    One(FileRange),
}

/// `len` bytes of a body file from `offset`.
#[derive(Clone, Debug)]
pub struct FileRange {
    pub file: Arc<BodyFile>,
    pub offset: u64,
    pub len: u64,
}

impl Default for Body {
    /// Empty bodies share one allocation (a million empty objects cost nothing here).
    fn default() -> Self {
        static EMPTY: std::sync::OnceLock<Arc<[Bytes]>> = std::sync::OnceLock::new();
        Body {
            repr: Repr::Memory(EMPTY.get_or_init(|| Arc::from(Vec::new())).clone(), 0),
        }
    }
}

impl Body {
    pub fn from_segments(mut segments: Vec<Bytes>) -> Self {
        segments.retain(|s| !s.is_empty());
        if segments.is_empty() {
            return Body::default();
        }
        let len = segments.iter().map(|s| s.len() as u64).sum();
        Body {
            repr: Repr::Memory(segments.into(), len),
        }
    }

    /// A body made of file ranges (empty ones are dropped).
    pub fn from_ranges(mut ranges: Vec<FileRange>) -> Self {
        ranges.retain(|r| r.len > 0);
        if ranges.is_empty() {
            return Body::default();
        }
        if ranges.len() == 1 {
            if let Some(one) = ranges.pop() {
                return Body {
                    repr: Repr::One(one),
                };
            }
        }
        let len = ranges.iter().fold(0u64, |a, r| a.saturating_add(r.len));
        Body {
            repr: Repr::Files(ranges.into(), len),
        }
    }

    /// The file ranges of a file-backed body (empty for bodies in memory).
    pub fn ranges(&self) -> &[FileRange] {
        match &self.repr {
            Repr::Files(r, _) => r,
            Repr::One(r) => std::slice::from_ref(r),
            Repr::Memory(..) => &[],
        }
    }

    /// Whether the bytes live in memory (every body without `--data-dir`, and empty ones).
    pub fn in_memory(&self) -> bool {
        matches!(self.repr, Repr::Memory(..))
    }

    pub fn len(&self) -> u64 {
        match &self.repr {
            Repr::Memory(_, len) | Repr::Files(_, len) => *len,
            Repr::One(r) => r.len,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The bodies one after another, sharing their segments or ranges (multipart Complete):
    /// no byte is copied. Bodies of both kinds (never mixed in one server) are read into
    /// memory.
    pub fn concat<'a>(bodies: impl IntoIterator<Item = &'a Body>) -> Body {
        let bodies: Vec<&Body> = bodies.into_iter().filter(|b| !b.is_empty()).collect();
        if bodies.iter().all(|b| !b.in_memory()) {
            return Body::from_ranges(
                bodies
                    .iter()
                    .flat_map(|b| b.ranges().iter().cloned())
                    .collect(),
            );
        }
        Body::from_segments(bodies.iter().flat_map(|b| b.slices(0, b.len())).collect())
    }

    /// The bytes in `start..end` as a body of their own, sharing this one's storage.
    pub fn range(&self, start: u64, end: u64) -> Body {
        let end = end.min(self.len());
        match &self.repr {
            Repr::Memory(..) => Body::from_segments(self.slices(start, end).collect()),
            Repr::Files(..) | Repr::One(_) => {
                let mut out = Vec::new();
                let mut at = 0u64;
                for r in self.ranges() {
                    let (from, to) = (at, at.saturating_add(r.len));
                    at = to;
                    let (s, e) = (start.max(from), end.min(to));
                    if s < e {
                        out.push(FileRange {
                            file: r.file.clone(),
                            offset: r.offset + (s - from),
                            len: e - s,
                        });
                    }
                }
                Body::from_ranges(out)
            }
        }
    }

    /// The bytes in `start..end` as a sequence of pieces: shared slices of memory (no copy),
    /// or chunks read from the body files as the iterator is consumed (bounded memory).
    pub fn slices(&self, start: u64, end: u64) -> BodySlices {
        let remaining = end.min(self.len()).saturating_sub(start);
        let from = match &self.repr {
            Repr::Memory(segments, _) => From::Memory(segments.clone()),
            Repr::Files(..) | Repr::One(_) => From::Files(self.clone(), None),
        };
        BodySlices {
            from,
            index: 0,
            skip: start,
            remaining,
        }
    }

    /// The whole body in one buffer. Only for small bodies (tests, admin views).
    pub fn to_bytes(&self) -> Bytes {
        if let Repr::Memory(segments, _) = &self.repr {
            if segments.len() == 1 {
                return segments[0].clone();
            }
        }
        let mut out = Vec::with_capacity(usize::try_from(self.len()).unwrap_or(0));
        for s in self.slices(0, self.len()) {
            out.extend_from_slice(&s);
        }
        out.into()
    }
}

/// Largest chunk a GET of a file-backed body reads at once.
const READ_CHUNK: u64 = 256 * 1024;

#[derive(Debug)]
enum From {
    Memory(Arc<[Bytes]>),
    /// The file-backed body (its ranges shared) and the file being read (opened on first use,
    /// one at a time).
    Files(Body, Option<(u64, Arc<std::fs::File>)>),
}

/// Iterator over the pieces of a byte range of a body.
#[derive(Debug)]
pub struct BodySlices {
    from: From,
    index: usize,
    skip: u64,
    remaining: u64,
}

impl BodySlices {
    pub fn remaining(&self) -> u64 {
        self.remaining
    }
}

impl Iterator for BodySlices {
    type Item = Bytes;

    fn next(&mut self) -> Option<Bytes> {
        while self.remaining > 0 {
            let seg_len = match &self.from {
                From::Memory(s) => s.get(self.index)?.len() as u64,
                From::Files(b, _) => b.ranges().get(self.index)?.len,
            };
            if self.skip >= seg_len {
                self.skip -= seg_len;
                self.index += 1;
                continue;
            }
            let take = (seg_len - self.skip).min(self.remaining);
            let piece = match &mut self.from {
                From::Memory(s) => {
                    let start = self.skip as usize;
                    let piece = s[self.index].slice(start..start + take as usize);
                    self.index += 1;
                    self.skip = 0;
                    piece
                }
                From::Files(body, open) => {
                    let range = &body.ranges()[self.index];
                    let take = take.min(READ_CHUNK);
                    let piece = match read_range(range, open, self.skip, take) {
                        Ok(p) => p,
                        Err(e) => {
                            // The response ends short; the client sees a broken body.
                            tracing::error!(error = %e, file = range.file.id(), "body file read failed");
                            self.remaining = 0;
                            return None;
                        }
                    };
                    self.skip += take;
                    if self.skip == seg_len {
                        self.index += 1;
                        self.skip = 0;
                    }
                    piece
                }
            };
            self.remaining -= piece.len() as u64;
            return Some(piece);
        }
        None
    }
}

/// Reads `len` bytes at `skip` into `range`, reusing the open file when it is the same one.
fn read_range(
    range: &FileRange,
    open: &mut Option<(u64, Arc<std::fs::File>)>,
    skip: u64,
    len: u64,
) -> std::io::Result<Bytes> {
    use std::os::unix::fs::FileExt;
    if open.as_ref().is_none_or(|(id, _)| *id != range.file.id()) {
        *open = Some((range.file.id(), range.file.open()?));
    }
    let Some((_, file)) = open.as_ref() else {
        return Err(std::io::Error::other("body file not open"));
    };
    // `len` is at most READ_CHUNK.
    let mut buf = BytesMut::zeroed(len as usize);
    file.read_exact_at(&mut buf, range.offset + skip)?;
    Ok(buf.freeze())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_cross_segments_without_copying() {
        let body = Body::from_segments(vec![
            Bytes::from_static(b"hello "),
            Bytes::from_static(b""),
            Bytes::from_static(b"wor"),
            Bytes::from_static(b"ld"),
        ]);
        assert_eq!(body.len(), 11);
        let joined: Vec<u8> = body.slices(4, 9).flat_map(|b| b.to_vec()).collect();
        assert_eq!(joined, b"o wor");
        let all: Vec<u8> = body.slices(0, 11).flat_map(|b| b.to_vec()).collect();
        assert_eq!(all, b"hello world");
        assert_eq!(body.slices(11, 11).count(), 0);
        assert_eq!(&body.to_bytes()[..], b"hello world");
        assert_eq!(&body.range(2, 8).to_bytes()[..], b"llo wo");
        let both = Body::concat([&body, &Body::default(), &body.range(0, 5)]);
        assert_eq!(&both.to_bytes()[..], b"hello worldhello");
    }
}
