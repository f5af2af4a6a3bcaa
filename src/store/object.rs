//! One stored object (a version of a key) and the key type that orders them.

use super::acl::Acl;
use super::body::Body;
use crate::checksum::Checksum;
use crate::clock::Millis;
use std::borrow::Borrow;
use std::sync::Arc;

/// The version id of objects written while versioning is off or suspended.
pub const NULL_VERSION: &str = "null";

/// An object key. Ordered by UTF-8 bytes, which is S3's listing order; borrowable as bytes so
/// listings can seek to byte strings that are not valid UTF-8 (the successor of a prefix).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ObjKey(pub String);

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

/// The HTTP-visible properties of an object that S3 stores verbatim.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObjectHeaders {
    pub content_type: Option<String>,
    pub content_encoding: Option<String>,
    pub content_disposition: Option<String>,
    pub content_language: Option<String>,
    pub cache_control: Option<String>,
    pub expires: Option<String>,
    pub website_redirect_location: Option<String>,
}

/// One part of a multipart object, as GetObject?partNumber and GetObjectAttributes show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartInfo {
    pub number: u32,
    pub size: u64,
    pub etag: String,
    pub checksum: Option<Checksum>,
}

/// A version of a key: an object, or a delete marker (`delete_marker`, empty body).
#[derive(Debug, Clone)]
pub struct Object {
    pub key: String,
    /// `"null"` for objects written while versioning was off or suspended.
    pub version_id: String,
    pub delete_marker: bool,
    pub body: Body,
    /// Hex MD5 (or multipart form `hex-N`), without quotes.
    pub etag: String,
    pub last_modified: Millis,
    pub headers: ObjectHeaders,
    /// User metadata, names lower-cased without the `x-amz-meta-` prefix, in arrival order.
    pub metadata: Vec<(String, String)>,
    pub storage_class: String,
    pub tags: Vec<(String, String)>,
    pub checksum: Option<Checksum>,
    /// Server-side encryption as reported back (`AES256` by default, as S3 does since 2023).
    pub sse: String,
    /// The parts, for objects made by CompleteMultipartUpload.
    pub parts: Option<Arc<[PartInfo]>>,
    /// The object's ACL (`private` unless the writer asked for another).
    pub acl: Arc<Acl>,
    /// A temporary restored copy of an archived object.
    pub restore: Option<Restore>,
}

/// A RestoreObject of an archived (GLACIER / DEEP_ARCHIVE) object: readable from
/// `ready_at` until `expires_at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Restore {
    pub ready_at: Millis,
    pub expires_at: Millis,
}

/// Storage classes whose objects must be restored before they can be read.
pub fn is_archived(storage_class: &str) -> bool {
    matches!(storage_class, "GLACIER" | "DEEP_ARCHIVE")
}

impl Object {
    /// A new object with defaults for everything but its key, body and ETag.
    pub fn new(key: impl Into<String>, body: Body, etag: impl Into<String>, now: Millis) -> Object {
        Object {
            key: key.into(),
            version_id: NULL_VERSION.to_string(),
            delete_marker: false,
            body,
            etag: etag.into(),
            last_modified: now,
            headers: ObjectHeaders::default(),
            metadata: Vec::new(),
            storage_class: "STANDARD".to_string(),
            tags: Vec::new(),
            checksum: None,
            sse: "AES256".to_string(),
            parts: None,
            acl: Acl::private(),
            restore: None,
        }
    }

    pub fn delete_marker(key: &str, version_id: String, now: Millis) -> Object {
        Object {
            version_id,
            delete_marker: true,
            sse: String::new(),
            ..Object::new(key, Body::default(), "", now)
        }
    }

    pub fn size(&self) -> u64 {
        self.body.len()
    }

    pub fn quoted_etag(&self) -> String {
        format!("\"{}\"", self.etag)
    }
}
