//! Object bodies: immutable, reference-counted byte segments. A copy of an object shares its
//! segments; a GET (or a range of it) walks them without copying.

use bytes::Bytes;
use std::sync::Arc;

#[derive(Clone, Debug)]
pub struct Body {
    segments: Arc<[Bytes]>,
    len: u64,
}

impl Default for Body {
    /// Empty bodies share one allocation (a million empty objects cost nothing here).
    fn default() -> Self {
        static EMPTY: std::sync::OnceLock<Arc<[Bytes]>> = std::sync::OnceLock::new();
        Body {
            segments: EMPTY.get_or_init(|| Arc::from(Vec::new())).clone(),
            len: 0,
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
            segments: segments.into(),
            len,
        }
    }

    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The bytes in `start..end` as a sequence of shared slices (no copy).
    pub fn slices(&self, start: u64, end: u64) -> BodySlices {
        BodySlices {
            segments: self.segments.clone(),
            index: 0,
            skip: start,
            remaining: end.min(self.len).saturating_sub(start),
        }
    }

    /// The whole body in one buffer. Only for small bodies (tests, admin views).
    pub fn to_bytes(&self) -> Bytes {
        if self.segments.len() == 1 {
            return self.segments[0].clone();
        }
        let mut out = Vec::with_capacity(self.len as usize);
        for s in self.segments.iter() {
            out.extend_from_slice(s);
        }
        out.into()
    }
}

/// Iterator over the shared slices of a byte range of a body.
#[derive(Debug)]
pub struct BodySlices {
    segments: Arc<[Bytes]>,
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
            let seg = self.segments.get(self.index)?;
            self.index += 1;
            let seg_len = seg.len() as u64;
            if self.skip >= seg_len {
                self.skip -= seg_len;
                continue;
            }
            let start = self.skip as usize;
            let take = (seg_len - self.skip).min(self.remaining) as usize;
            self.skip = 0;
            self.remaining -= take as u64;
            return Some(seg.slice(start..start + take));
        }
        None
    }
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
    }
}
