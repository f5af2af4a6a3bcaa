//! How an object is encrypted at rest, as S3 reports it: SSE-S3, SSE-KMS, DSSE-KMS or SSE-C.
//! Bytes are not actually encrypted; the store keeps what S3 would echo and, for SSE-C, a keyed
//! hash of the customer's key (never the key) to judge later requests.

use std::sync::{Arc, OnceLock};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum SseKind {
    /// SSE-S3 (`AES256`), S3's default since 2023.
    S3,
    /// SSE-KMS (`aws:kms`).
    Kms,
    /// DSSE-KMS (`aws:kms:dsse`).
    KmsDsse,
    /// SSE-C: a customer-provided key.
    Customer,
}

impl SseKind {
    /// The `x-amz-server-side-encryption` value; SSE-C objects report none.
    pub fn header_value(self) -> Option<&'static str> {
        match self {
            SseKind::S3 => Some("AES256"),
            SseKind::Kms => Some("aws:kms"),
            SseKind::KmsDsse => Some("aws:kms:dsse"),
            SseKind::Customer => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Encryption {
    pub kind: SseKind,
    /// The KMS key's ARN (SSE-KMS / DSSE-KMS).
    pub kms_key_id: Option<Arc<str>>,
    /// The encryption context as the writer sent it (base64 JSON).
    pub context: Option<Arc<str>>,
    /// Whether an S3 Bucket Key is used (SSE-KMS only).
    pub bucket_key: bool,
    /// A keyed hash of the SSE-C key.
    pub customer_key_hash: Option<[u8; 32]>,
    /// The base64 MD5 of the SSE-C key, echoed back.
    pub customer_key_md5: Option<Arc<str>>,
}

impl Encryption {
    /// The shared SSE-S3 value most objects carry.
    pub fn sse_s3() -> Arc<Encryption> {
        static S3: OnceLock<Arc<Encryption>> = OnceLock::new();
        S3.get_or_init(|| Arc::new(Encryption::of(SseKind::S3)))
            .clone()
    }

    pub fn of(kind: SseKind) -> Encryption {
        Encryption {
            kind,
            kms_key_id: None,
            context: None,
            bucket_key: false,
            customer_key_hash: None,
            customer_key_md5: None,
        }
    }

    /// Whether S3 gives such objects an ETag that is the MD5 of their bytes (SSE-S3 single-part
    /// writes do; SSE-KMS and SSE-C ones do not).
    pub fn etag_is_md5(&self) -> bool {
        self.kind == SseKind::S3
    }
}
