//! Multipart uploads: parts kept as shared segments until Complete stitches them into one
//! object without copying a byte.

use super::body::Body;
use super::bucket::Bucket;
use super::object::{ETag, ObjKey, Object, PartInfo};
use crate::checksum::{self, Checksum, ChecksumAlgorithm, ChecksumType};
use crate::clock::Millis;
use crate::error::{Code, S3Error, S3Result};
use crate::ids;
use crate::store::Extra;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Lowest and highest part numbers S3 accepts.
pub const MAX_PART_NUMBER: u32 = 10_000;
/// Minimum size of every part but the last (enforced only in strict mode).
pub const MIN_PART_SIZE: u64 = 5 * 1024 * 1024;
/// Completed uploads remembered per bucket, so that a retried Complete gets the first answer.
pub const REMEMBERED_COMPLETIONS: usize = 1000;

#[derive(Debug, Clone)]
pub struct Part {
    pub number: u32,
    pub body: Body,
    /// Hex MD5 of the part.
    pub etag: String,
    pub md5: [u8; 16],
    pub last_modified: Millis,
    /// The checksum in the upload's kept algorithm (what Complete combines).
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
    /// The algorithm Create named; `None` when it named none (the object still gets S3's
    /// default full-object CRC64NVME, but the upload shows no algorithm until completed).
    pub checksum_algorithm: Option<ChecksumAlgorithm>,
    pub checksum_type: ChecksumType,
    pub parts: BTreeMap<u32, Part>,
    /// Whether the key was written or deleted while the upload was open (a conditional
    /// Complete's 409).
    pub key_changed: bool,
}

impl Upload {
    /// The algorithm whose part checksums are kept and combined at Complete.
    pub fn kept_algorithm(&self) -> ChecksumAlgorithm {
        self.checksum_algorithm
            .unwrap_or(ChecksumAlgorithm::Crc64Nvme)
    }

    fn summary(&self) -> UploadSummary {
        UploadSummary {
            key: self.template.key.to_string(),
            upload_id: self.upload_id.clone(),
            initiated: self.initiated,
            storage_class: self.template.storage_class.to_string(),
            checksum_algorithm: self.checksum_algorithm,
            checksum_type: self.checksum_type,
            key_changed: self.key_changed,
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
    /// The algorithm Create named, if any.
    pub checksum_algorithm: Option<ChecksumAlgorithm>,
    pub checksum_type: ChecksumType,
    pub key_changed: bool,
    /// The encryption the upload's object will have (UploadPart checks SSE-C keys against it).
    pub encryption: Option<Arc<super::encryption::Encryption>>,
}

impl UploadSummary {
    /// The algorithm whose part checksums are kept and combined at Complete.
    pub fn kept_algorithm(&self) -> ChecksumAlgorithm {
        self.checksum_algorithm
            .unwrap_or(ChecksumAlgorithm::Crc64Nvme)
    }
}

/// A part named in CompleteMultipartUpload.
#[derive(Debug, Clone)]
pub struct CompletedPart {
    pub number: u32,
    pub etag: String,
    /// The checksums the client sent for the part (verified against the stored one).
    pub checksums: Vec<(ChecksumAlgorithm, String)>,
}

impl CompletedPart {
    fn etag(&self) -> &str {
        self.etag.trim().trim_matches('"')
    }
}

/// What a CompleteMultipartUpload request claims about the whole object, besides its parts.
#[derive(Debug, Clone, Default)]
pub struct CompleteClaims {
    /// `x-amz-checksum-type`.
    pub checksum_type: Option<ChecksumType>,
    /// `x-amz-checksum-<algorithm>`: the value as sent (a composite one may end in `-N`).
    pub checksum: Option<(ChecksumAlgorithm, String)>,
    /// `x-amz-mp-object-size`.
    pub object_size: Option<u64>,
}

/// A completed upload as remembered for a retried Complete: the object as stored (without
/// its body or part table, so remembering costs little) and the parts it was made of.
#[derive(Debug, Clone)]
pub(super) struct Completion {
    upload_id: String,
    parts: Vec<(u32, String)>,
    object: Arc<Object>,
}

fn part_list(wanted: &[CompletedPart]) -> Vec<(u32, String)> {
    wanted
        .iter()
        .map(|w| (w.number, w.etag().to_string()))
        .collect()
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
        let entry = (key, upload_id.clone());
        state.uploads.insert(
            entry.clone(),
            Upload {
                upload_id: upload_id.clone(),
                initiated: now,
                template,
                checksum_algorithm,
                checksum_type,
                parts: BTreeMap::new(),
                key_changed: false,
            },
        );
        if let (Some(j), Some(u)) = (&self.journal, state.uploads.get(&entry)) {
            j.upload(&self.name, u);
        }
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

    pub fn put_part(&self, key: &str, upload_id: &str, mut part: Part) -> S3Result<()> {
        if self.journal.is_some() {
            part.body = self.stored_body(std::mem::take(&mut part.body))?;
        }
        let _m = self.begin();
        let mut state = self.lock_live()?;
        let upload = state
            .uploads
            .get_mut(&(ObjKey(Arc::from(key)), upload_id.to_string()))
            .ok_or_else(|| no_such_upload(upload_id))?;
        if let Some(j) = &self.journal {
            j.part(&self.name, key, upload_id, &part);
        }
        upload.parts.insert(part.number, part);
        Ok(())
    }

    pub fn abort_upload(&self, key: &str, upload_id: &str) -> S3Result<()> {
        let _m = self.begin();
        let mut state = self.lock_live()?;
        let removed = state
            .uploads
            .remove(&(ObjKey(Arc::from(key)), upload_id.to_string()))
            .map(|_| ())
            .ok_or_else(|| no_such_upload(upload_id));
        if let (Ok(()), Some(j)) = (&removed, &self.journal) {
            j.upload_gone(&self.name, key, upload_id);
        }
        removed
    }

    /// Completes an upload into an object (not yet stored: the caller stores it with its
    /// write conditions, then calls `finish_upload`). Validates the part list and the
    /// request's claims as S3 does, in S3's order.
    pub fn assemble_upload(
        &self,
        key: &str,
        upload_id: &str,
        wanted: &[CompletedPart],
        claims: &CompleteClaims,
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
        let declared = upload.checksum_algorithm;
        if let Some(t) = claims.checksum_type {
            // An upload created without an algorithm has no checksum mode ("null") yet.
            if declared.is_none() || t != upload.checksum_type {
                return Err(S3Error::invalid_request(format!(
                    "The upload was created using the {} checksum mode. The complete request must use the same checksum mode.",
                    declared.map_or("null", |_| upload.checksum_type.name())
                )));
            }
        }
        let mut chosen: Vec<&Part> = Vec::with_capacity(wanted.len());
        for w in wanted {
            let invalid = || {
                S3Error::new(Code::InvalidPart)
                    .extra("UploadId", upload_id)
                    .extra("PartNumber", w.number.to_string())
                    .extra("ETag", w.etag().to_string())
            };
            let part = upload.parts.get(&w.number).ok_or_else(invalid)?;
            if w.etag() != part.etag {
                return Err(invalid());
            }
            let Some(algo) = declared else {
                // Part checksums name parts of uploads that have an algorithm only.
                if !w.checksums.is_empty() {
                    return Err(invalid());
                }
                chosen.push(part);
                continue;
            };
            match w.checksums.iter().find(|(a, _)| *a == algo) {
                Some((_, value))
                    if part
                        .checksum_in(algo)
                        .is_none_or(|c| c.value != value.trim()) =>
                {
                    return Err(invalid());
                }
                Some(_) => {}
                None if upload.checksum_type == ChecksumType::Composite => {
                    if let Some((other, _)) = w.checksums.first() {
                        return Err(S3Error::with_message(
                            Code::BadDigest,
                            format!(
                                "The {} you specified for part {} did not match what we received.",
                                other.name().to_lowercase(),
                                w.number
                            ),
                        ));
                    }
                    return Err(S3Error::invalid_request(format!(
                        "The upload was created using a {} checksum. The complete request must include the checksum for each part. It was missing for part {} in the request.",
                        algo.name().to_lowercase(),
                        w.number
                    )));
                }
                // A full-object checksum needs no part checksums.
                None => {}
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

        let size = chosen
            .iter()
            .fold(0u64, |sum, p| sum.saturating_add(p.body.len()));
        if let Some(claimed) = claims.object_size.filter(|c| *c != size) {
            return Err(S3Error::invalid_request(format!(
                "The provided 'x-amz-mp-object-size' header value {claimed} does not match what was computed: {size}"
            )));
        }

        // ETag: MD5 of the concatenated binary part MD5s, then "-N".
        let mut md5s = Vec::with_capacity(chosen.len() * 16);
        for p in &chosen {
            md5s.extend_from_slice(&p.md5);
        }
        let etag = ETag::multipart(checksum::md5_digest(&md5s), chosen.len() as u32);
        let checksum = combine_checksums(&upload, &chosen)?;
        if let (Some(algo), Some(computed)) = (declared, &checksum) {
            check_claimed_checksum(algo, computed, claims)?;
        }
        let parts: Arc<[PartInfo]> = chosen
            .iter()
            .map(|p| PartInfo {
                number: p.number,
                size: p.body.len(),
                etag: p.etag.clone(),
                checksum: p.checksum.clone(),
            })
            .collect();
        let mut object = Object {
            body: Body::concat(chosen.iter().map(|p| &p.body)),
            etag,
            last_modified: now,
            checksum,
            ..upload.template
        };
        object.extra_mut().parts = Some(parts);
        Ok(object)
    }

    /// Drops a completed upload, remembering what it became for a retried Complete (the
    /// last `REMEMBERED_COMPLETIONS` per bucket).
    pub fn finish_upload(
        &self,
        key: &str,
        upload_id: &str,
        wanted: &[CompletedPart],
        stored: &Object,
    ) {
        let _m = self.begin();
        let mut state = self.state.lock();
        let removed = state
            .uploads
            .remove(&(ObjKey(Arc::from(key)), upload_id.to_string()));
        if let (Some(_), Some(j)) = (&removed, &self.journal) {
            j.upload_gone(&self.name, key, upload_id);
        }
        if state.completed.len() >= REMEMBERED_COMPLETIONS {
            state.completed.pop_front();
        }
        state.completed.push_back(Completion {
            upload_id: upload_id.to_string(),
            parts: part_list(wanted),
            object: Arc::new({
                let mut o = Object {
                    body: Body::default(),
                    ..stored.clone()
                };
                if let Some(extra) = o.extra.take() {
                    o.set_extra(Extra {
                        parts: None,
                        ..*extra
                    });
                }
                o
            }),
        });
    }

    /// The object a just-completed upload became, when `wanted` names the same parts: S3
    /// answers a retried Complete with its first answer.
    pub fn completed_upload(
        &self,
        key: &str,
        upload_id: &str,
        wanted: &[CompletedPart],
    ) -> Option<Arc<Object>> {
        let state = self.state.lock();
        let c = state.completed.iter().find(|c| c.upload_id == upload_id)?;
        (&*c.object.key == key && c.parts == part_list(wanted)).then(|| c.object.clone())
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
    let algo = upload.kept_algorithm();
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
        value: value.into(),
        kind: upload.checksum_type,
    }))
}

/// Checks the whole-object checksum a Complete request sent (for uploads with an algorithm)
/// against the one computed from the parts. S3 answers every disagreement with `BadDigest`
/// naming the upload's algorithm: another algorithm, another value, and a full-object value
/// sent without `x-amz-checksum-type`.
fn check_claimed_checksum(
    algo: ChecksumAlgorithm,
    computed: &Checksum,
    claims: &CompleteClaims,
) -> S3Result<()> {
    let Some((claimed_algo, claimed)) = &claims.checksum else {
        return Ok(());
    };
    let matches = *claimed_algo == algo
        && match computed.kind {
            ChecksumType::FullObject => {
                claims.checksum_type.is_some() && claimed.trim() == computed.value
            }
            // A composite value may be sent with or without its "-N" part count.
            ChecksumType::Composite => {
                let claimed = claimed.trim();
                claimed == computed.value || computed.value.split('-').next() == Some(claimed)
            }
        };
    if matches {
        return Ok(());
    }
    Err(S3Error::with_message(
        Code::BadDigest,
        format!(
            "The {} you specified did not match the calculated checksum.",
            algo.name().to_lowercase()
        ),
    ))
}
