//! The MD5 behind a body's ETag. It is the slowest step of receiving a body (one core hashes
//! MD5 at well under the speed a socket delivers bytes), so for large bodies it runs on a
//! blocking thread of its own, fed with the body's segments as they are formed: receiving,
//! gathering and the other checksums happen beside it instead of before it. Small bodies are
//! hashed in place: handing 4 KiB to another thread costs more than hashing it.

use bytes::{Bytes, BytesMut};
use md5::{Digest, Md5};
use tokio::sync::mpsc;

/// Declared bodies from this length on are hashed on a thread of their own.
pub const OFFLOAD_FROM: u64 = 1024 * 1024;
/// Segments waiting for the hashing thread. Segments are up to 1 MiB (or one large frame), so
/// this bounds how far receiving runs ahead of hashing, and the memory that pins.
pub const QUEUE: usize = 4;

pub enum BodyMd5 {
    Inline(Md5),
    Offloaded {
        /// Segments formed but not yet handed to the thread (`push` is synchronous).
        pending: Vec<Bytes>,
        tx: mpsc::Sender<Bytes>,
        /// Segments hashed, handed back: let go of on the receiving side, or reused there as
        /// buffers when nothing else holds them (`--data-dir`, where they are written out).
        hashed: std::sync::mpsc::Receiver<Bytes>,
        digest: tokio::task::JoinHandle<[u8; 16]>,
    },
}

impl BodyMd5 {
    /// A hasher for a body of `declared` bytes (if known).
    pub fn for_length(declared: Option<u64>) -> BodyMd5 {
        match declared {
            Some(len) if len >= OFFLOAD_FROM => {
                let (tx, mut rx) = mpsc::channel::<Bytes>(QUEUE);
                let (done, hashed) = std::sync::mpsc::channel();
                let digest = tokio::task::spawn_blocking(move || {
                    let mut md5 = Md5::new();
                    while let Some(segment) = rx.blocking_recv() {
                        md5.update(&segment);
                        // Gone only if the body was given up on; then it is freed here.
                        let _ = done.send(segment);
                    }
                    md5.finalize().into()
                });
                BodyMd5::Offloaded {
                    pending: Vec::new(),
                    tx,
                    hashed,
                    digest,
                }
            }
            _ => BodyMd5::Inline(Md5::new()),
        }
    }

    /// Bytes as they arrive: hashed now when hashing in place.
    pub fn piece(&mut self, data: &[u8]) {
        if let BodyMd5::Inline(md5) = self {
            md5.update(data);
        }
    }

    /// A segment of the body, in order: queued when hashing on the thread. Together the
    /// segments are the whole body, as the pieces are.
    pub fn segment(&mut self, segment: &Bytes) {
        if let BodyMd5::Offloaded { pending, .. } = self {
            pending.push(segment.clone());
        }
    }

    /// Hands the queued segments to the thread, waiting while it is `QUEUE` behind. Segments
    /// it has hashed and nothing else holds come back into `spare` as empty buffers.
    pub async fn feed(&mut self, spare: &mut Vec<BytesMut>) {
        if let BodyMd5::Offloaded {
            pending,
            tx,
            hashed,
            ..
        } = self
        {
            while let Ok(segment) = hashed.try_recv() {
                if let Ok(mut buffer) = segment.try_into_mut() {
                    if spare.len() < QUEUE {
                        buffer.clear();
                        spare.push(buffer);
                    }
                }
            }
            for segment in pending.drain(..) {
                // A send fails only if the thread is gone (it panicked); `finish` reports that.
                if tx.send(segment).await.is_err() {
                    break;
                }
            }
        }
    }

    /// The digest of everything fed; `None` if the hashing thread failed.
    pub async fn finish(mut self) -> Option<[u8; 16]> {
        self.feed(&mut Vec::new()).await;
        match self {
            BodyMd5::Inline(md5) => Some(md5.finalize().into()),
            BodyMd5::Offloaded {
                tx, digest, hashed, ..
            } => {
                drop(tx);
                let md5 = digest.await.ok();
                // What the thread handed back is let go of here, where it was allocated.
                while hashed.try_recv().is_ok() {}
                md5
            }
        }
    }
}
