//! Multipart uploads: parts kept as shared segments until Complete stitches them into one
//! object without copying a byte.

use super::body::Body;
use super::bucket::Bucket;
use super::object::{ETag, ObjKey, Object, PartInfo};
use crate::checksum::{self, Checksum, ChecksumAlgorithm, ChecksumType};
use crate::clock::Millis;
use crate::error::{Code, S3Error, S3Result};
use crate::ids;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Lowest and highest part numbers S3 accepts.
pub const MAX_PART_NUMBER: u32 = 10_000;
/// Minimum size of every part but the last (enforced only in strict mode).
pub const MIN_PART_SIZE: u64 = 5 * 1024 * 1024;

#[derive(Debug, Clone)]
pub struct Part {
    pub number: u32,
    pub body: Body,
    /// Hex MD5 of the part.
    pub etag: String,
    pub md5: [u8; 16],
    pub last_modified: Millis,
    /// The checksum in the upload's algorithm (what Complete combines).
    pub checksum: Option<Checksum>,
    /// The checksum the client sent, when in another algorithm than the upload's.
    pub client_checksum: Option<Checksum>,
}

impl Part {
    fn checksum_in(&self, algo: ChecksumAlgorithm) -> Option<&Checksum> {
        [&self.checksum, &self.client_checksum]
            .into_iter()
            .flatten()
            .find(|c| c.algorithm == algo)
    }
}

/// An upload in progress: the object-to-be (key, headers, metadata…) and its parts so far.
#[derive(Debug, Clone)]
pub struct Upload {
    pub upload_id: String,
    pub initiated: Millis,
    /// Everything the object will carry but its body, ETag and checksum.
    pub template: Object,
    pub checksum_algorithm: Option<ChecksumAlgorithm>,
    pub checksum_type: ChecksumType,
    pub parts: BTreeMap<u32, Part>,
    /// Whether the key was deleted while the upload was open (a conditional Complete's 409).
    pub key_deleted: bool,
}

impl Upload {
    fn summary(&self) -> UploadSummary {
        UploadSummary {
            key: self.template.key.to_string(),
            upload_id: self.upload_id.clone(),
            initiated: self.initiated,
            storage_class: self.template.storage_class.to_string(),
            checksum_algorithm: self.checksum_algorithm,
            checksum_type: self.checksum_type,
            key_deleted: self.key_deleted,
            encryption: self.template.encryption.clone(),
        }
    }
}

/// What ListMultipartUploads shows of an upload.
#[derive(Debug, Clone)]
pub struct UploadSummary {
    pub key: String,
    pub upload_id: String,
    pub initiated: Millis,
    pub storage_class: String,
    pub checksum_algorithm: Option<ChecksumAlgorithm>,
    pub checksum_type: ChecksumType,
    pub key_deleted: bool,
    /// The encryption the upload's object will have (UploadPart checks SSE-C keys against it).
    pub encryption: Option<Arc<super::encryption::Encryption>>,
}

/// A part named in CompleteMultipartUpload.
#[derive(Debug, Clone)]
pub struct CompletedPart {
    pub number: u32,
    pub etag: String,
    /// A checksum the client sent for the part (verified against the stored one).
    pub checksum: Option<(ChecksumAlgorithm, String)>,
}

fn no_such_upload(upload_id: &str) -> S3Error {
    S3Error::new(Code::NoSuchUpload).extra("UploadId", upload_id)
}

impl Bucket {
    pub fn create_upload(
        &self,
        template: Object,
        checksum_algorithm: Option<ChecksumAlgorithm>,
        checksum_type: ChecksumType,
        now: Millis,
    ) -> S3Result<String> {
        let mut state = self.lock_live()?;
        let upload_id = ids::upload_id();
        let key = ObjKey(template.key.clone());
        state.uploads.insert(
            (key, upload_id.clone()),
            Upload {
                upload_id: upload_id.clone(),
                initiated: now,
                template,
                checksum_algorithm,
                checksum_type,
                parts: BTreeMap::new(),
                key_deleted: false,
            },
        );
        Ok(upload_id)
    }

    /// An upload's description without its parts: what UploadPart and Complete need to check
    /// before reading a body, without copying the part list.
    pub fn upload_summary(&self, key: &str, upload_id: &str) -> S3Result<UploadSummary> {
        self.state
            .lock()
            .uploads
            .get(&(ObjKey(Arc::from(key)), upload_id.to_string()))
            .map(Upload::summary)
            .ok_or_else(|| no_such_upload(upload_id))
    }

    /// A copy of an upload's description (its parts share their bodies).
    pub fn upload(&self, key: &str, upload_id: &str) -> S3Result<Upload> {
        self.state
            .lock()
            .uploads
            .get(&(ObjKey(Arc::from(key)), upload_id.to_string()))
            .cloned()
            .ok_or_else(|| no_such_upload(upload_id))
    }

    pub fn put_part(&self, key: &str, upload_id: &str, part: Part) -> S3Result<()> {
        let mut state = self.lock_live()?;
        let upload = state
            .uploads
            .get_mut(&(ObjKey(Arc::from(key)), upload_id.to_string()))
            .ok_or_else(|| no_such_upload(upload_id))?;
        upload.parts.insert(part.number, part);
        Ok(())
    }

    pub fn abort_upload(&self, key: &str, upload_id: &str) -> S3Result<()> {
        self.lock_live()?
            .uploads
            .remove(&(ObjKey(Arc::from(key)), upload_id.to_string()))
            .map(|_| ())
            .ok_or_else(|| no_such_upload(upload_id))
    }

    /// Completes an upload into an object (not yet stored: the caller stores it with its
    /// write conditions, then calls `finish_upload`). Validates the part list as S3 does.
    pub fn assemble_upload(
        &self,
        key: &str,
        upload_id: &str,
        wanted: &[CompletedPart],
        strict: bool,
        now: Millis,
    ) -> S3Result<Object> {
        let upload = self.upload(key, upload_id)?;
        if wanted.is_empty() {
            return Err(S3Error::malformed_xml());
        }
        if wanted.windows(2).any(|w| w[0].number >= w[1].number) {
            return Err(S3Error::new(Code::InvalidPartOrder).extra("UploadId", upload_id));
        }
        let mut chosen: Vec<&Part> = Vec::with_capacity(wanted.len());
        for w in wanted {
            let invalid = || {
                S3Error::new(Code::InvalidPart)
                    .extra("UploadId", upload_id)
                    .extra("PartNumber", w.number.to_string())
                    .extra("ETag", w.etag.clone())
            };
            let part = upload.parts.get(&w.number).ok_or_else(invalid)?;
            if w.etag.trim().trim_matches('"') != part.etag {
                return Err(invalid());
            }
            if let Some((algo, value)) = &w.checksum {
                if part.checksum_in(*algo).is_none_or(|c| c.value != *value) {
                    return Err(S3Error::with_message(
                        Code::InvalidPart,
                        format!(
                            "The {} you specified for part {} did not match what we received.",
                            algo.name(),
                            w.number
                        ),
                    )
                    .extra("UploadId", upload_id)
                    .extra("PartNumber", w.number.to_string()));
                }
            }
            chosen.push(part);
        }
        if strict {
            if let Some(small) = chosen[..chosen.len() - 1]
                .iter()
                .find(|p| p.body.len() < MIN_PART_SIZE)
            {
                return Err(S3Error::new(Code::EntityTooSmall)
                    .extra("ProposedSize", small.body.len().to_string())
                    .extra("MinSizeAllowed", MIN_PART_SIZE.to_string())
                    .extra("PartNumber", small.number.to_string())
                    .extra("ETag", small.etag.clone()));
            }
        }

        // ETag: MD5 of the concatenated binary part MD5s, then "-N".
        let mut md5s = Vec::with_capacity(chosen.len() * 16);
        for p in &chosen {
            md5s.extend_from_slice(&p.md5);
        }
        let etag = ETag::multipart(checksum::md5_digest(&md5s), chosen.len() as u32);
        let checksum = combine_checksums(&upload, &chosen)?;
        let segments = chosen
            .iter()
            .flat_map(|p| p.body.slices(0, p.body.len()))
            .collect();
        let parts: Arc<[PartInfo]> = chosen
            .iter()
            .map(|p| PartInfo {
                number: p.number,
                size: p.body.len(),
                etag: p.etag.clone(),
                checksum: p.checksum.clone(),
            })
            .collect();
        Ok(Object {
            body: Body::from_segments(segments),
            etag,
            last_modified: now,
            checksum,
            parts: Some(parts),
            ..upload.template
        })
    }

    /// Drops a completed upload.
    pub fn finish_upload(&self, key: &str, upload_id: &str) {
        self.state
            .lock()
            .uploads
            .remove(&(ObjKey(Arc::from(key)), upload_id.to_string()));
    }

    /// Uploads in key order, then creation order, for ListMultipartUploads.
    pub fn uploads(&self) -> Vec<UploadSummary> {
        self.state
            .lock()
            .uploads
            .values()
            .map(Upload::summary)
            .collect()
    }
}

/// The object's checksum from its parts': a checksum of the part checksums ("-N", COMPOSITE)
/// or, for CRCs, the CRC of the whole object combined from the part CRCs (FULL_OBJECT).
fn combine_checksums(upload: &Upload, parts: &[&Part]) -> S3Result<Option<Checksum>> {
    let Some(algo) = upload.checksum_algorithm else {
        return Ok(None);
    };
    let mut raw = Vec::with_capacity(parts.len());
    for p in parts {
        let c = p.checksum.as_ref().filter(|c| c.algorithm == algo).ok_or_else(|| {
            S3Error::invalid_request(format!(
                "The upload was created using a {} checksum. The complete request referenced parts without a checksum.",
                algo.name().to_lowercase()
            ))
        })?;
        raw.push(checksum::b64_decode(&c.value).unwrap_or_default());
    }
    let value = match upload.checksum_type {
        ChecksumType::Composite => {
            let mut h = algo.hasher();
            for r in &raw {
                h.update(r);
            }
            format!("{}-{}", checksum::b64(&h.finish()), parts.len())
        }
        ChecksumType::FullObject => {
            let combined = raw
                .iter()
                .zip(parts)
                .map(|(r, p)| (r.as_slice(), p.body.len()))
                .try_fold(None, |acc: Option<Vec<u8>>, (r, len)| {
                    Some(Some(match acc {
                        None => r.to_vec(),
                        Some(a) => checksum::crc_combine(algo, &a, r, len)?,
                    }))
                })
                .flatten()
                .ok_or_else(|| S3Error::internal("full-object checksum of a non-CRC algorithm"))?;
            checksum::b64(&combined)
        }
    };
    Ok(Some(Checksum {
        algorithm: algo,
        value,
        kind: upload.checksum_type,
    }))
}
