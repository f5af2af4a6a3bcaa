//! The journal's records: the new state of what a mutation changed (a run's settings, a
//! bucket's settings, every version of one key, an upload, a part), never a diff, so that
//! replaying a record twice changes nothing. Encoded with postcard; the value types they
//! carry (ACLs, checksums, encryption…) derive serde where they are defined.

use super::super::acl::{Acl, ObjectOwnership};
use super::super::body::{Body, FileRange};
use super::super::bucket::Versioning;
use super::super::config::{ConfigKind, IdConfigKind};
use super::super::encryption::Encryption;
use super::super::lock::Retention;
use super::super::multipart::{Part, Upload};
use super::super::object::{
    null_version, storage_class_named, ETag, Object, ObjectHeaders, PartInfo, Restore, StorageClass,
};
use super::files::{BodyFile, Files};
use crate::checksum::{Checksum, ChecksumAlgorithm, ChecksumType};
use crate::clock::Millis;
use crate::store::Extra;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

#[derive(Debug, Serialize, Deserialize)]
pub(super) enum Rec {
    Run(Box<RunRec>),
    RunGone {
        id: String,
    },
    Bucket {
        run: String,
        bucket: Box<BucketRec>,
    },
    BucketGone {
        run: String,
        name: String,
    },
    /// Every version of a key, oldest first; none: the key is gone.
    Key {
        run: String,
        bucket: String,
        key: String,
        versions: Vec<ObjectRec>,
    },
    Upload {
        run: String,
        bucket: String,
        upload: Box<UploadRec>,
    },
    Part {
        run: String,
        bucket: String,
        key: String,
        upload_id: String,
        part: Box<PartRec>,
    },
    UploadGone {
        run: String,
        bucket: String,
        key: String,
        upload_id: String,
    },
}

/// A run's settings: its clock, modes, users, webhooks and chaos rules.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct RunRec {
    pub id: String,
    /// What the clock showed at real time `real_at`, whether frozen, and its rate.
    pub clock_now: Millis,
    pub frozen: bool,
    pub rate: f64,
    pub real_at: Millis,
    pub strict: bool,
    pub enforce: bool,
    /// access key, secret, name, account.
    pub users: Vec<(String, String, Option<String>, Option<String>)>,
    pub webhooks: Vec<(String, String)>,
    /// The chaos rules as the admin API lists them (JSON), given back to `chaos::parse`.
    pub chaos: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct BucketRec {
    pub name: String,
    pub region: String,
    pub location_constraint: String,
    pub created: Millis,
    pub versioning: Versioning,
    pub mfa_delete: Option<String>,
    pub configs: Vec<(ConfigKind, String)>,
    pub id_configs: Vec<(IdConfigKind, String, String)>,
    pub acl: Acl,
    pub ownership: Option<ObjectOwnership>,
    pub notify: bool,
}

/// How an object is encrypted, without repeating the shared SSE-S3 value.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) enum EncRec {
    None,
    SseS3,
    Other(Box<Encryption>),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct ObjectRec {
    pub version_id: String,
    pub delete_marker: bool,
    /// (file, offset, length) of each range.
    pub body: Vec<(u64, u64, u64)>,
    pub etag: ETag,
    pub last_modified: Millis,
    /// `None`: no headers (the shared empty set).
    pub headers: Option<Box<ObjectHeaders>>,
    pub metadata: Vec<(String, String)>,
    pub storage_class: String,
    pub tags: Vec<(String, String)>,
    pub checksum: Option<Checksum>,
    pub encryption: EncRec,
    pub parts: Option<Vec<PartInfo>>,
    /// `None`: the shared `private` ACL.
    pub acl: Option<Box<Acl>>,
    pub restore: Option<Restore>,
    pub retention: Option<Retention>,
    pub legal_hold: Option<bool>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct UploadRec {
    pub key: String,
    pub upload_id: String,
    pub initiated: Millis,
    pub template: ObjectRec,
    pub checksum_algorithm: Option<ChecksumAlgorithm>,
    pub checksum_type: ChecksumType,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct PartRec {
    pub number: u32,
    pub body: Vec<(u64, u64, u64)>,
    pub etag: String,
    pub md5: [u8; 16],
    pub last_modified: Millis,
    pub checksum: Option<Checksum>,
    pub client_checksum: Option<Checksum>,
}

fn body_rec(body: &Body) -> Vec<(u64, u64, u64)> {
    if body.in_memory() && !body.is_empty() {
        // Every stored body is written to a file before it is recorded (see `Bucket::put`).
        tracing::error!(
            len = body.len(),
            "a body in memory was recorded without its bytes"
        );
    }
    body.ranges()
        .iter()
        .map(|r| (r.file.id(), r.offset, r.len))
        .collect()
}

impl ObjectRec {
    pub fn of(o: &Object) -> ObjectRec {
        let encryption = match &o.encryption {
            None => EncRec::None,
            Some(e) if Arc::ptr_eq(e, &Encryption::sse_s3()) => EncRec::SseS3,
            Some(e) => EncRec::Other(Box::new(Encryption::clone(e))),
        };
        ObjectRec {
            version_id: o.version_id.to_string(),
            delete_marker: o.delete_marker,
            body: body_rec(&o.body),
            etag: o.etag,
            last_modified: o.last_modified,
            headers: (*o.headers != ObjectHeaders::default())
                .then(|| Box::new(ObjectHeaders::clone(&o.headers))),
            metadata: o.metadata.to_vec(),
            storage_class: o.storage_class.to_string(),
            tags: o.tags().to_vec(),
            checksum: o.checksum.clone(),
            encryption,
            parts: o.parts().map(|p| p.to_vec()),
            acl: (!Arc::ptr_eq(&o.acl, &Acl::private())).then(|| Box::new(Acl::clone(&o.acl))),
            restore: o.restore().copied(),
            retention: o.retention(),
            legal_hold: o.legal_hold(),
        }
    }

    pub fn into_object(self, key: Arc<str>, files: &mut FileMap) -> Object {
        let version_id: Arc<str> = if self.version_id == super::super::NULL_VERSION {
            null_version()
        } else {
            Arc::from(self.version_id)
        };
        let mut object = Object {
            key,
            version_id,
            delete_marker: self.delete_marker,
            body: files.body(&self.body),
            etag: self.etag,
            last_modified: self.last_modified,
            headers: self.headers.map(|h| *h).unwrap_or_default().shared(),
            metadata: self.metadata.into(),
            storage_class: storage_class_named(&self.storage_class)
                .unwrap_or(StorageClass::STANDARD),
            checksum: self.checksum,
            encryption: match self.encryption {
                EncRec::None => None,
                EncRec::SseS3 => Some(Encryption::sse_s3()),
                EncRec::Other(e) => Some(Arc::new(*e)),
            },
            acl: self.acl.map_or_else(Acl::private, |a| Arc::new(*a)),
            extra: None,
        };
        object.set_extra(Extra {
            tags: self.tags.into(),
            parts: self.parts.map(Arc::from),
            restore: self.restore,
            retention: self.retention,
            legal_hold: self.legal_hold,
        });
        object
    }
}

impl UploadRec {
    pub fn of(u: &Upload) -> UploadRec {
        UploadRec {
            key: u.template.key.to_string(),
            upload_id: u.upload_id.clone(),
            initiated: u.initiated,
            template: ObjectRec::of(&u.template),
            checksum_algorithm: u.checksum_algorithm,
            checksum_type: u.checksum_type,
        }
    }

    pub fn into_upload(self, parts: BTreeMap<u32, Box<PartRec>>, files: &mut FileMap) -> Upload {
        let key: Arc<str> = Arc::from(self.key);
        Upload {
            upload_id: self.upload_id,
            initiated: self.initiated,
            template: self.template.into_object(key, files),
            checksum_algorithm: self.checksum_algorithm,
            checksum_type: self.checksum_type,
            parts: parts
                .into_iter()
                .map(|(n, p)| (n, (*p).into_part(files)))
                .collect(),
            key_changed: false,
        }
    }
}

impl PartRec {
    pub fn of(p: &Part) -> PartRec {
        PartRec {
            number: p.number,
            body: body_rec(&p.body),
            etag: p.etag.clone(),
            md5: p.md5,
            last_modified: p.last_modified,
            checksum: p.checksum.clone(),
            client_checksum: p.client_checksum.clone(),
        }
    }

    fn into_part(self, files: &mut FileMap) -> Part {
        Part {
            number: self.number,
            body: files.body(&self.body),
            etag: self.etag,
            md5: self.md5,
            last_modified: self.last_modified,
            checksum: self.checksum,
            client_checksum: self.client_checksum,
        }
    }
}

/// One holder per body file, and per pack slot, while the state is rebuilt at start (a
/// slot named by several records, a copied object's, is one holder: it is reclaimed as a
/// whole when the last of them goes).
pub(super) struct FileMap {
    pub files: Arc<Files>,
    pub held: HashMap<u64, Arc<BodyFile>>,
    pub slots: HashMap<(u64, u64, u64), Arc<BodyFile>>,
}

impl FileMap {
    fn body(&mut self, ranges: &[(u64, u64, u64)]) -> Body {
        Body::from_ranges(
            ranges
                .iter()
                .map(|&(id, offset, len)| {
                    let file = self.held.entry(id).or_insert_with(|| self.files.adopt(id));
                    let file = if super::files::is_pack(id) {
                        self.slots
                            .entry((id, offset, len))
                            .or_insert_with(|| self.files.adopt_slot(file.clone(), offset, len))
                            .clone()
                    } else {
                        file.clone()
                    };
                    FileRange { file, offset, len }
                })
                .collect(),
        )
    }
}
