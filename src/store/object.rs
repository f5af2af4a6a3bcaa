//! One stored object (a version of a key) and the key type that orders them.

use super::acl::Acl;
use super::body::Body;
use super::encryption::Encryption;
use crate::checksum::Checksum;
use crate::clock::Millis;
use std::borrow::Borrow;
use std::sync::Arc;

/// The version id of objects written while versioning is off or suspended.
pub const NULL_VERSION: &str = "null";

/// An entity tag, kept binary: the MD5 of the object, or for a multipart object the MD5 of its
/// parts' MD5s and the part count. Shown as hex (`…-N` for multipart).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct ETag {
    pub md5: [u8; 16],
    /// The number of parts of a multipart object; 0 otherwise.
    pub parts: u32,
}

impl ETag {
    pub fn from_md5(md5: [u8; 16]) -> ETag {
        ETag { md5, parts: 0 }
    }

    pub fn multipart(md5: [u8; 16], parts: u32) -> ETag {
        ETag { md5, parts }
    }
}

/// An ETag's text on the stack: 32 hex digits, then `-N` for a multipart object, optionally
/// in quotes. Every GET and HEAD writes one (and compares one), so no formatter is involved.
pub struct ETagText {
    buf: [u8; ETagText::CAPACITY],
    len: usize,
}

impl ETagText {
    /// `"` + 32 hex + `-` + the ten digits of a u32 + `"`.
    const CAPACITY: usize = 1 + 32 + 1 + 10 + 1;

    fn push(&mut self, b: u8) {
        // The capacity holds the longest text; a write past it cannot happen.
        if let Some(slot) = self.buf.get_mut(self.len) {
            *slot = b;
            self.len += 1;
        }
    }

    pub fn as_str(&self) -> &str {
        // Only ASCII digits, letters, '-' and '"' are ever pushed.
        std::str::from_utf8(&self.buf[..self.len]).unwrap_or_default()
    }
}

impl std::ops::Deref for ETagText {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl ETag {
    /// The tag's text, quoted as in an `ETag` header when `quoted`.
    pub fn text(&self, quoted: bool) -> ETagText {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut t = ETagText {
            buf: [0; ETagText::CAPACITY],
            len: 0,
        };
        if quoted {
            t.push(b'"');
        }
        for b in self.md5 {
            t.push(HEX[usize::from(b >> 4)]);
            t.push(HEX[usize::from(b & 0x0f)]);
        }
        if self.parts > 0 {
            t.push(b'-');
            let mut digits = [0u8; 10];
            let (mut n, mut i) = (self.parts, digits.len());
            while n > 0 && i > 0 {
                i -= 1;
                digits[i] = b'0' + (n % 10) as u8;
                n /= 10;
            }
            for &d in &digits[i..] {
                t.push(d);
            }
        }
        if quoted {
            t.push(b'"');
        }
        t
    }
}

impl std::fmt::Display for ETag {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text(false))
    }
}

impl From<&str> for ETag {
    /// Parses `hex` or `hex-N`; anything else is the all-zero tag.
    fn from(s: &str) -> ETag {
        let (hex_part, parts) = match s.split_once('-') {
            Some((h, n)) => (h, n.parse().unwrap_or(0)),
            None => (s, 0),
        };
        let mut md5 = [0u8; 16];
        if hex::decode_to_slice(hex_part, &mut md5).is_err() {
            md5 = [0; 16];
        }
        ETag { md5, parts }
    }
}

impl From<String> for ETag {
    fn from(s: String) -> ETag {
        ETag::from(s.as_str())
    }
}

/// The shared `"null"` version id.
pub fn null_version() -> Arc<str> {
    static NULL: std::sync::OnceLock<Arc<str>> = std::sync::OnceLock::new();
    NULL.get_or_init(|| Arc::from(NULL_VERSION)).clone()
}

/// An object key. Ordered by UTF-8 bytes, which is S3's listing order; borrowable as bytes so
/// listings can seek to byte strings that are not valid UTF-8 (the successor of a prefix).
///
/// The text is shared with the object's own `key` (one allocation per key).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ObjKey(pub Arc<str>);

impl Borrow<[u8]> for ObjKey {
    fn borrow(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl Borrow<str> for ObjKey {
    fn borrow(&self) -> &str {
        &self.0
    }
}

/// Every storage class S3 knows, as the `&'static str` objects keep (no allocation per object).
pub const STORAGE_CLASSES: [&str; 12] = [
    "STANDARD",
    "REDUCED_REDUNDANCY",
    "STANDARD_IA",
    "ONEZONE_IA",
    "INTELLIGENT_TIERING",
    "GLACIER",
    "DEEP_ARCHIVE",
    "OUTPOSTS",
    "GLACIER_IR",
    "SNOW",
    "EXPRESS_ONEZONE",
    "FSX_OPENZFS",
];

/// A storage class, one byte (an index into `STORAGE_CLASSES`); reads as its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StorageClass(u8);

impl StorageClass {
    pub const STANDARD: StorageClass = StorageClass(0);

    pub fn as_str(self) -> &'static str {
        STORAGE_CLASSES[self.0 as usize]
    }
}

impl std::ops::Deref for StorageClass {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq<&str> for StorageClass {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl From<StorageClass> for String {
    fn from(c: StorageClass) -> String {
        c.as_str().to_string()
    }
}

/// The storage class of this name, `None` if S3 has no such class.
pub fn storage_class_named(name: &str) -> Option<StorageClass> {
    STORAGE_CLASSES
        .iter()
        .position(|c| *c == name)
        .map(|i| StorageClass(i as u8))
}

/// The HTTP-visible properties of an object that S3 stores verbatim.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct ObjectHeaders {
    pub content_type: Option<String>,
    pub content_encoding: Option<String>,
    pub content_disposition: Option<String>,
    pub content_language: Option<String>,
    pub cache_control: Option<String>,
    pub expires: Option<String>,
    pub website_redirect_location: Option<String>,
}

/// How many recently stored header sets each thread remembers (see `ObjectHeaders::shared`).
const RECENT_HEADERS: usize = 16;

thread_local! {
    static RECENT: std::cell::RefCell<[Option<Arc<ObjectHeaders>>; RECENT_HEADERS]> =
        const { std::cell::RefCell::new([const { None }; RECENT_HEADERS]) };
}

impl ObjectHeaders {
    /// The set as objects keep it: objects without any of these headers share one empty set,
    /// and a set like one recently stored on this thread (most writers send the same
    /// Content-Type every time) shares that one. A set of its own costs 200 bytes, as much as
    /// the rest of a small object; the cache is a few slots per thread, so it stays bounded
    /// however many distinct sets there are.
    pub fn shared(self) -> Arc<ObjectHeaders> {
        use std::hash::{Hash, Hasher};
        static EMPTY: std::sync::OnceLock<Arc<ObjectHeaders>> = std::sync::OnceLock::new();
        if self == ObjectHeaders::default() {
            return EMPTY.get_or_init(Default::default).clone();
        }
        let mut h = std::collections::hash_map::DefaultHasher::new();
        self.hash(&mut h);
        let slot = (h.finish() % RECENT_HEADERS as u64) as usize;
        // `try_with` fails only while the thread is being torn down: then nothing is shared.
        let kept = RECENT
            .try_with(|r| r.borrow()[slot].as_ref().filter(|k| ***k == self).cloned())
            .ok()
            .flatten();
        if let Some(kept) = kept {
            return kept;
        }
        let new = Arc::new(self);
        let _ = RECENT.try_with(|r| r.borrow_mut()[slot] = Some(new.clone()));
        new
    }
}

/// One part of a multipart object, as GetObject?partNumber and GetObjectAttributes show it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PartInfo {
    pub number: u32,
    pub size: u64,
    pub etag: String,
    pub checksum: Option<Checksum>,
}

/// A version of a key: an object, or a delete marker (`delete_marker`, empty body).
#[derive(Debug, Clone)]
pub struct Object {
    pub key: Arc<str>,
    /// `"null"` for objects written while versioning was off or suspended.
    pub version_id: Arc<str>,
    pub delete_marker: bool,
    pub body: Body,
    /// Hex MD5 (or multipart form `hex-N`), without quotes.
    pub etag: ETag,
    pub last_modified: Millis,
    pub headers: Arc<ObjectHeaders>,
    /// User metadata, names lower-cased without the `x-amz-meta-` prefix, in arrival order.
    pub metadata: Box<[(String, String)]>,
    pub storage_class: StorageClass,
    pub checksum: Option<Checksum>,
    /// How the object is encrypted at rest (SSE-S3 unless the writer or the bucket's default
    /// asked for another); delete markers are not.
    pub encryption: Option<Arc<Encryption>>,
    /// The object's ACL (`private` unless the writer asked for another).
    pub acl: Arc<Acl>,
    /// Tags, parts, a restored copy, Object Lock state: `None` for an object with none of
    /// them (most), read through `tags()`, `parts()`, … and set through `extra_mut()` or
    /// `set_extra()` (visible in the crate only so that struct literals can name it).
    pub(crate) extra: Option<Box<Extra>>,
}

/// What few objects have, kept behind one pointer: every object is in memory for as long as it
/// exists, and these fields would otherwise make each of them 48 bytes larger (a million
/// small objects are one of the bench's rows).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Extra {
    pub tags: Box<[(String, String)]>,
    /// The parts, for objects made by CompleteMultipartUpload.
    pub parts: Option<Arc<[PartInfo]>>,
    /// A temporary restored copy of an archived object.
    pub restore: Option<Restore>,
    /// Object Lock retention (see `lock.rs`).
    pub retention: Option<super::lock::Retention>,
    /// Object Lock legal hold: `None` until one was ever set (GetObjectLegalHold then answers
    /// NoSuchObjectLockConfiguration), then ON (`true`) or OFF.
    pub legal_hold: Option<bool>,
}

// The sizes every stored version costs (with its reference count: a 192-byte allocation).
const _: () = assert!(std::mem::size_of::<Object>() <= 176);
const _: () = assert!(std::mem::size_of::<Body>() == 32);

/// A RestoreObject of an archived (GLACIER / DEEP_ARCHIVE) object: readable from
/// `ready_at` until `expires_at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Restore {
    pub ready_at: Millis,
    pub expires_at: Millis,
    /// Whether the copy becoming readable, and its expiry, were announced to the run's events.
    pub ready_announced: bool,
    pub expiry_announced: bool,
}

/// Storage classes whose objects must be restored before they can be read.
pub fn is_archived(storage_class: &str) -> bool {
    matches!(storage_class, "GLACIER" | "DEEP_ARCHIVE")
}

impl Object {
    /// A new object with defaults for everything but its key, body and ETag.
    pub fn new(key: impl Into<String>, body: Body, etag: impl Into<ETag>, now: Millis) -> Object {
        Object {
            key: Arc::from(key.into()),
            version_id: null_version(),
            delete_marker: false,
            body,
            etag: etag.into(),
            last_modified: now,
            headers: ObjectHeaders::default().shared(),
            metadata: Box::default(),
            storage_class: StorageClass::STANDARD,
            checksum: None,
            encryption: Some(Encryption::sse_s3()),
            acl: Acl::private(),
            extra: None,
        }
    }

    pub fn delete_marker(key: &str, version_id: impl Into<Arc<str>>, now: Millis) -> Object {
        Object {
            version_id: version_id.into(),
            delete_marker: true,
            encryption: None,
            ..Object::new(key, Body::default(), "", now)
        }
    }

    pub fn size(&self) -> u64 {
        self.body.len()
    }

    pub fn quoted_etag(&self) -> ETagText {
        self.etag.text(true)
    }

    pub fn tags(&self) -> &[(String, String)] {
        self.extra.as_ref().map_or(&[], |e| &e.tags)
    }

    pub fn parts(&self) -> Option<&Arc<[PartInfo]>> {
        self.extra.as_ref()?.parts.as_ref()
    }

    pub fn restore(&self) -> Option<&Restore> {
        self.extra.as_ref()?.restore.as_ref()
    }

    pub fn retention(&self) -> Option<super::lock::Retention> {
        self.extra.as_ref()?.retention
    }

    pub fn legal_hold(&self) -> Option<bool> {
        self.extra.as_ref()?.legal_hold
    }

    /// The tags, parts, restored copy and Object Lock state, to change (allocated on first use).
    pub fn extra_mut(&mut self) -> &mut Extra {
        self.extra.get_or_insert_default()
    }

    /// Sets the tags, parts, restored copy and Object Lock state at once (nothing is allocated
    /// when all are empty).
    pub fn set_extra(&mut self, extra: Extra) {
        self.extra = (extra != Extra::default()).then(|| Box::new(extra));
    }
}

#[cfg(test)]
mod tests {
    use super::{ETag, ObjectHeaders};
    use std::sync::Arc;

    #[test]
    fn equal_header_sets_are_kept_once() {
        let typed = |t: &str| ObjectHeaders {
            content_type: Some(t.to_string()),
            ..Default::default()
        };
        let a = typed("application/octet-stream").shared();
        let b = typed("application/octet-stream").shared();
        assert!(Arc::ptr_eq(&a, &b));
        let c = typed("text/plain").shared();
        assert_eq!(c.content_type.as_deref(), Some("text/plain"));
        assert!(!Arc::ptr_eq(&a, &c));
        assert!(Arc::ptr_eq(
            &ObjectHeaders::default().shared(),
            &ObjectHeaders::default().shared()
        ));
        // Many distinct sets: each is still its own (the cache only shares equal ones).
        for i in 0..100 {
            let h = typed(&format!("type/{i}")).shared();
            assert_eq!(
                h.content_type.as_deref(),
                Some(format!("type/{i}").as_str())
            );
        }
    }

    #[test]
    fn etag_text_is_hex_then_part_count() {
        let md5: [u8; 16] = std::array::from_fn(|i| (i as u8).wrapping_mul(37) ^ 0xa5);
        let hex: String = md5.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(ETag::from_md5(md5).to_string(), hex);
        assert_eq!(&*ETag::from_md5(md5).text(true), format!("\"{hex}\""));
        for parts in [1, 9, 10, 10_000, u32::MAX] {
            let tag = ETag::multipart(md5, parts);
            assert_eq!(tag.to_string(), format!("{hex}-{parts}"));
            assert_eq!(&*tag.text(true), format!("\"{hex}-{parts}\""));
            assert_eq!(ETag::from(tag.to_string().as_str()), tag);
        }
    }
}
