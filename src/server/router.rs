//! The whole S3 surface on one screen: (method, bucket?, key?, sub-resource, copy-source) →
//! the operation. Operations s3twin does not implement yet route to `Unimplemented` with their
//! AWS name, and answer 501 NotImplemented.

use super::query::Query;
use crate::error::{Code, S3Error, S3Result};
use crate::store::{ConfigKind, IdConfigKind};
use http::{HeaderMap, Method};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    ListBuckets,
    CreateBucket,
    DeleteBucket,
    HeadBucket,
    GetBucketLocation,
    ListObjects,
    ListObjectsV2,
    DeleteObjects,
    PutObject,
    CopyObject,
    GetObject,
    HeadObject,
    DeleteObject,
    GetObjectTagging,
    PutObjectTagging,
    DeleteObjectTagging,
    GetBucketVersioning,
    PutBucketVersioning,
    ListObjectVersions,
    CreateMultipartUpload,
    UploadPart,
    UploadPartCopy,
    CompleteMultipartUpload,
    AbortMultipartUpload,
    ListParts,
    ListMultipartUploads,
    GetBucketAcl,
    PutBucketAcl,
    GetObjectAcl,
    PutObjectAcl,
    GetObjectAttributes,
    RestoreObject,
    GetObjectRetention,
    PutObjectRetention,
    GetObjectLegalHold,
    PutObjectLegalHold,
    GetBucketOwnershipControls,
    PutBucketOwnershipControls,
    DeleteBucketOwnershipControls,
    /// Get/Put/Delete of a bucket configuration document (see `CONFIG_OPS`).
    Config(ConfigMethod, ConfigKind),
    /// Get/Put/Delete/List of an id-keyed configuration (see `ID_CONFIG_OPS`).
    IdConfig(IdConfigMethod, IdConfigKind),
    /// `POST /{bucket}` with a form: a browser upload.
    PostObject,
    /// A request to a bucket's website endpoint.
    Website,
    /// `OPTIONS` on a bucket or object: a CORS preflight.
    CorsPreflight,
    /// A real S3 operation that s3twin does not implement yet.
    Unimplemented(&'static str),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigMethod {
    Get,
    Put,
    Delete,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdConfigMethod {
    Get,
    Put,
    Delete,
    List,
}

/// Id-keyed configuration families: (sub-resource, kind, [Get, Put, Delete, List] names).
/// A GET without `id` lists.
const ID_CONFIG_OPS: &[(&str, IdConfigKind, [&str; 4])] = &[
    (
        "analytics",
        IdConfigKind::Analytics,
        [
            "GetBucketAnalyticsConfiguration",
            "PutBucketAnalyticsConfiguration",
            "DeleteBucketAnalyticsConfiguration",
            "ListBucketAnalyticsConfigurations",
        ],
    ),
    (
        "intelligent-tiering",
        IdConfigKind::IntelligentTiering,
        [
            "GetBucketIntelligentTieringConfiguration",
            "PutBucketIntelligentTieringConfiguration",
            "DeleteBucketIntelligentTieringConfiguration",
            "ListBucketIntelligentTieringConfigurations",
        ],
    ),
    (
        "inventory",
        IdConfigKind::Inventory,
        [
            "GetBucketInventoryConfiguration",
            "PutBucketInventoryConfiguration",
            "DeleteBucketInventoryConfiguration",
            "ListBucketInventoryConfigurations",
        ],
    ),
    (
        "metrics",
        IdConfigKind::Metrics,
        [
            "GetBucketMetricsConfiguration",
            "PutBucketMetricsConfiguration",
            "DeleteBucketMetricsConfiguration",
            "ListBucketMetricsConfigurations",
        ],
    ),
];

/// Bucket configuration documents and their operation names (Get, Put, Delete).
const CONFIG_OPS: &[(ConfigKind, &str, &str, &str)] = &[
    (
        ConfigKind::Accelerate,
        "GetBucketAccelerateConfiguration",
        "PutBucketAccelerateConfiguration",
        "",
    ),
    (
        ConfigKind::Cors,
        "GetBucketCors",
        "PutBucketCors",
        "DeleteBucketCors",
    ),
    (
        ConfigKind::Encryption,
        "GetBucketEncryption",
        "PutBucketEncryption",
        "DeleteBucketEncryption",
    ),
    (
        ConfigKind::Lifecycle,
        "GetBucketLifecycleConfiguration",
        "PutBucketLifecycleConfiguration",
        "DeleteBucketLifecycle",
    ),
    (
        ConfigKind::Logging,
        "GetBucketLogging",
        "PutBucketLogging",
        "",
    ),
    (
        ConfigKind::Notification,
        "GetBucketNotificationConfiguration",
        "PutBucketNotificationConfiguration",
        "",
    ),
    (
        ConfigKind::ObjectLock,
        "GetObjectLockConfiguration",
        "PutObjectLockConfiguration",
        "",
    ),
    (
        ConfigKind::Policy,
        "GetBucketPolicy",
        "PutBucketPolicy",
        "DeleteBucketPolicy",
    ),
    (
        ConfigKind::PublicAccessBlock,
        "GetPublicAccessBlock",
        "PutPublicAccessBlock",
        "DeletePublicAccessBlock",
    ),
    (
        ConfigKind::Replication,
        "GetBucketReplication",
        "PutBucketReplication",
        "DeleteBucketReplication",
    ),
    (
        ConfigKind::RequestPayment,
        "GetBucketRequestPayment",
        "PutBucketRequestPayment",
        "",
    ),
    (
        ConfigKind::Tagging,
        "GetBucketTagging",
        "PutBucketTagging",
        "DeleteBucketTagging",
    ),
    (
        ConfigKind::Website,
        "GetBucketWebsite",
        "PutBucketWebsite",
        "DeleteBucketWebsite",
    ),
];

impl Op {
    /// The operation for an S3 operation name from the sub-resource tables.
    fn from_name(name: &'static str) -> Op {
        for (kind, get, put, delete) in CONFIG_OPS {
            for (method, op_name) in [
                (ConfigMethod::Get, get),
                (ConfigMethod::Put, put),
                (ConfigMethod::Delete, delete),
            ] {
                if *op_name == name {
                    return Op::Config(method, *kind);
                }
            }
        }
        const IMPLEMENTED: [Op; 26] = [
            Op::GetObjectRetention,
            Op::PutObjectRetention,
            Op::GetObjectLegalHold,
            Op::PutObjectLegalHold,
            Op::GetBucketOwnershipControls,
            Op::PutBucketOwnershipControls,
            Op::DeleteBucketOwnershipControls,
            Op::RestoreObject,
            Op::GetObjectTagging,
            Op::PutObjectTagging,
            Op::DeleteObjectTagging,
            Op::GetBucketVersioning,
            Op::PutBucketVersioning,
            Op::ListObjectVersions,
            Op::CreateMultipartUpload,
            Op::UploadPart,
            Op::UploadPartCopy,
            Op::CompleteMultipartUpload,
            Op::AbortMultipartUpload,
            Op::ListParts,
            Op::ListMultipartUploads,
            Op::GetBucketAcl,
            Op::PutBucketAcl,
            Op::GetObjectAcl,
            Op::PutObjectAcl,
            Op::GetObjectAttributes,
        ];
        IMPLEMENTED
            .into_iter()
            .find(|op| op.name() == name)
            .unwrap_or(Op::Unimplemented(name))
    }

    pub fn name(self) -> &'static str {
        match self {
            Op::ListBuckets => "ListBuckets",
            Op::CreateBucket => "CreateBucket",
            Op::DeleteBucket => "DeleteBucket",
            Op::HeadBucket => "HeadBucket",
            Op::GetBucketLocation => "GetBucketLocation",
            Op::ListObjects => "ListObjects",
            Op::ListObjectsV2 => "ListObjectsV2",
            Op::DeleteObjects => "DeleteObjects",
            Op::PutObject => "PutObject",
            Op::CopyObject => "CopyObject",
            Op::GetObject => "GetObject",
            Op::HeadObject => "HeadObject",
            Op::DeleteObject => "DeleteObject",
            Op::GetObjectTagging => "GetObjectTagging",
            Op::PutObjectTagging => "PutObjectTagging",
            Op::DeleteObjectTagging => "DeleteObjectTagging",
            Op::GetBucketVersioning => "GetBucketVersioning",
            Op::PutBucketVersioning => "PutBucketVersioning",
            Op::ListObjectVersions => "ListObjectVersions",
            Op::CreateMultipartUpload => "CreateMultipartUpload",
            Op::UploadPart => "UploadPart",
            Op::UploadPartCopy => "UploadPartCopy",
            Op::CompleteMultipartUpload => "CompleteMultipartUpload",
            Op::AbortMultipartUpload => "AbortMultipartUpload",
            Op::ListParts => "ListParts",
            Op::ListMultipartUploads => "ListMultipartUploads",
            Op::GetBucketAcl => "GetBucketAcl",
            Op::PutBucketAcl => "PutBucketAcl",
            Op::GetObjectAcl => "GetObjectAcl",
            Op::PutObjectAcl => "PutObjectAcl",
            Op::GetObjectAttributes => "GetObjectAttributes",
            Op::RestoreObject => "RestoreObject",
            Op::GetObjectRetention => "GetObjectRetention",
            Op::PutObjectRetention => "PutObjectRetention",
            Op::GetObjectLegalHold => "GetObjectLegalHold",
            Op::PutObjectLegalHold => "PutObjectLegalHold",
            Op::GetBucketOwnershipControls => "GetBucketOwnershipControls",
            Op::PutBucketOwnershipControls => "PutBucketOwnershipControls",
            Op::DeleteBucketOwnershipControls => "DeleteBucketOwnershipControls",
            Op::Config(method, kind) => CONFIG_OPS
                .iter()
                .find(|row| row.0 == kind)
                .map(|row| match method {
                    ConfigMethod::Get => row.1,
                    ConfigMethod::Put => row.2,
                    ConfigMethod::Delete => row.3,
                })
                .unwrap_or("BucketConfiguration"),
            Op::IdConfig(method, kind) => ID_CONFIG_OPS
                .iter()
                .find(|row| row.1 == kind)
                .map(|row| row.2[method as usize])
                .unwrap_or("BucketConfiguration"),
            Op::PostObject => "PostObject",
            Op::Website => "WebsiteRequest",
            Op::CorsPreflight => "CorsPreflight",
            Op::Unimplemented(name) => name,
        }
    }
}

/// Bucket sub-resources and the operations they select, by method.
/// (sub-resource, GET, PUT, DELETE, POST)
const BUCKET_SUBRESOURCES: &[(&str, &str, &str, &str, &str)] = &[
    (
        "accelerate",
        "GetBucketAccelerateConfiguration",
        "PutBucketAccelerateConfiguration",
        "",
        "",
    ),
    ("acl", "GetBucketAcl", "PutBucketAcl", "", ""),
    (
        "cors",
        "GetBucketCors",
        "PutBucketCors",
        "DeleteBucketCors",
        "",
    ),
    (
        "encryption",
        "GetBucketEncryption",
        "PutBucketEncryption",
        "DeleteBucketEncryption",
        "",
    ),
    (
        "lifecycle",
        "GetBucketLifecycleConfiguration",
        "PutBucketLifecycleConfiguration",
        "DeleteBucketLifecycle",
        "",
    ),
    ("logging", "GetBucketLogging", "PutBucketLogging", "", ""),
    (
        "metadataConfiguration",
        "GetBucketMetadataConfiguration",
        "",
        "DeleteBucketMetadataConfiguration",
        "CreateBucketMetadataConfiguration",
    ),
    (
        "metadataTable",
        "GetBucketMetadataTableConfiguration",
        "",
        "DeleteBucketMetadataTableConfiguration",
        "CreateBucketMetadataTableConfiguration",
    ),
    (
        "notification",
        "GetBucketNotificationConfiguration",
        "PutBucketNotificationConfiguration",
        "",
        "",
    ),
    (
        "object-lock",
        "GetObjectLockConfiguration",
        "PutObjectLockConfiguration",
        "",
        "",
    ),
    (
        "ownershipControls",
        "GetBucketOwnershipControls",
        "PutBucketOwnershipControls",
        "DeleteBucketOwnershipControls",
        "",
    ),
    (
        "policy",
        "GetBucketPolicy",
        "PutBucketPolicy",
        "DeleteBucketPolicy",
        "",
    ),
    ("policyStatus", "GetBucketPolicyStatus", "", "", ""),
    (
        "publicAccessBlock",
        "GetPublicAccessBlock",
        "PutPublicAccessBlock",
        "DeletePublicAccessBlock",
        "",
    ),
    (
        "replication",
        "GetBucketReplication",
        "PutBucketReplication",
        "DeleteBucketReplication",
        "",
    ),
    (
        "requestPayment",
        "GetBucketRequestPayment",
        "PutBucketRequestPayment",
        "",
        "",
    ),
    ("session", "CreateSession", "", "", ""),
    (
        "tagging",
        "GetBucketTagging",
        "PutBucketTagging",
        "DeleteBucketTagging",
        "",
    ),
    ("uploads", "ListMultipartUploads", "", "", ""),
    (
        "versioning",
        "GetBucketVersioning",
        "PutBucketVersioning",
        "",
        "",
    ),
    ("versions", "ListObjectVersions", "", "", ""),
    (
        "website",
        "GetBucketWebsite",
        "PutBucketWebsite",
        "DeleteBucketWebsite",
        "",
    ),
];

/// Object sub-resources. (sub-resource, GET, PUT, DELETE, POST)
const OBJECT_SUBRESOURCES: &[(&str, &str, &str, &str, &str)] = &[
    ("acl", "GetObjectAcl", "PutObjectAcl", "", ""),
    ("attributes", "GetObjectAttributes", "", "", ""),
    (
        "legal-hold",
        "GetObjectLegalHold",
        "PutObjectLegalHold",
        "",
        "",
    ),
    ("renameObject", "", "RenameObject", "", ""),
    ("restore", "", "", "", "RestoreObject"),
    (
        "retention",
        "GetObjectRetention",
        "PutObjectRetention",
        "",
        "",
    ),
    ("select", "", "", "", "SelectObjectContent"),
    (
        "tagging",
        "GetObjectTagging",
        "PutObjectTagging",
        "DeleteObjectTagging",
        "",
    ),
    ("torrent", "GetObjectTorrent", "", "", ""),
    (
        "uploadId",
        "ListParts",
        "UploadPart",
        "AbortMultipartUpload",
        "CompleteMultipartUpload",
    ),
    ("uploads", "", "", "", "CreateMultipartUpload"),
];

fn method_not_allowed(method: &Method, resource_type: &str) -> S3Error {
    S3Error::new(Code::MethodNotAllowed)
        .extra("Method", method.as_str())
        .extra("ResourceType", resource_type)
}

fn by_method(
    table: &[(&str, &'static str, &'static str, &'static str, &'static str)],
    query: &Query,
    method: &Method,
) -> Option<&'static str> {
    let (_, get, put, delete, post) = table.iter().find(|row| query.has(row.0))?;
    let name = match *method {
        Method::GET | Method::HEAD => *get,
        Method::PUT => *put,
        Method::DELETE => *delete,
        Method::POST => *post,
        _ => "",
    };
    Some(name)
}

pub fn route(
    method: &Method,
    bucket: Option<&str>,
    key: Option<&str>,
    query: &Query,
    headers: &HeaderMap,
) -> S3Result<Op> {
    let Some(_bucket) = bucket else {
        return match *method {
            Method::GET => Ok(Op::ListBuckets),
            _ => Err(method_not_allowed(method, "SERVICE")),
        };
    };
    if key.is_none() {
        if let Some((_, kind, _)) = ID_CONFIG_OPS.iter().find(|row| query.has(row.0)) {
            let id_method = match *method {
                Method::GET | Method::HEAD if query.has("id") => IdConfigMethod::Get,
                Method::GET | Method::HEAD => IdConfigMethod::List,
                Method::PUT => IdConfigMethod::Put,
                Method::DELETE => IdConfigMethod::Delete,
                _ => return Err(method_not_allowed(method, "BUCKET")),
            };
            return Ok(Op::IdConfig(id_method, *kind));
        }
        if let Some(name) = by_method(BUCKET_SUBRESOURCES, query, method) {
            return if name.is_empty() {
                Err(method_not_allowed(method, "BUCKET"))
            } else {
                Ok(Op::from_name(name))
            };
        }
        return match *method {
            Method::GET if query.has("location") => Ok(Op::GetBucketLocation),
            Method::GET if query.get("list-type") == Some("2") => Ok(Op::ListObjectsV2),
            Method::GET => Ok(Op::ListObjects),
            Method::HEAD => Ok(Op::HeadBucket),
            Method::PUT => Ok(Op::CreateBucket),
            Method::DELETE => Ok(Op::DeleteBucket),
            Method::POST if query.has("delete") => Ok(Op::DeleteObjects),
            Method::POST => Ok(Op::PostObject),
            Method::OPTIONS => Ok(Op::CorsPreflight),
            _ => Err(method_not_allowed(method, "BUCKET")),
        };
    }
    let copy = headers.contains_key("x-amz-copy-source");
    if query.has("uploadId") && *method == Method::PUT {
        return Ok(if copy {
            Op::UploadPartCopy
        } else {
            Op::UploadPart
        });
    }
    if let Some(name) = by_method(OBJECT_SUBRESOURCES, query, method) {
        return if name.is_empty() {
            Err(method_not_allowed(method, "OBJECT"))
        } else {
            Ok(Op::from_name(name))
        };
    }
    match *method {
        Method::GET => Ok(Op::GetObject),
        Method::HEAD => Ok(Op::HeadObject),
        Method::PUT if copy => Ok(Op::CopyObject),
        Method::PUT => Ok(Op::PutObject),
        Method::DELETE => Ok(Op::DeleteObject),
        Method::OPTIONS => Ok(Op::CorsPreflight),
        _ => Err(method_not_allowed(method, "OBJECT")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(method: Method, bucket: Option<&str>, key: Option<&str>, q: &str) -> S3Result<Op> {
        route(
            &method,
            bucket,
            key,
            &Query::parse(Some(q)),
            &HeaderMap::new(),
        )
    }

    #[test]
    fn routes() {
        assert_eq!(r(Method::GET, None, None, "").ok(), Some(Op::ListBuckets));
        assert_eq!(
            r(Method::GET, Some("b"), None, "list-type=2").ok(),
            Some(Op::ListObjectsV2)
        );
        assert_eq!(
            r(Method::GET, Some("b"), None, "location").ok(),
            Some(Op::GetBucketLocation)
        );
        assert_eq!(
            r(Method::POST, Some("b"), None, "delete").ok(),
            Some(Op::DeleteObjects)
        );
        assert_eq!(
            r(Method::GET, Some("b"), None, "versioning").ok(),
            Some(Op::GetBucketVersioning)
        );
        assert_eq!(
            r(Method::GET, Some("b"), None, "cors").ok(),
            Some(Op::Config(ConfigMethod::Get, ConfigKind::Cors))
        );
        assert_eq!(
            r(Method::GET, Some("b"), None, "metrics").ok(),
            Some(Op::IdConfig(IdConfigMethod::List, IdConfigKind::Metrics))
        );
        assert_eq!(
            r(Method::GET, Some("b"), None, "inventory&id=x").ok(),
            Some(Op::IdConfig(IdConfigMethod::Get, IdConfigKind::Inventory))
        );
        assert_eq!(
            Op::IdConfig(IdConfigMethod::List, IdConfigKind::IntelligentTiering).name(),
            "ListBucketIntelligentTieringConfigurations"
        );
        assert_eq!(
            r(Method::POST, Some("b"), Some("k"), "uploadId=x").ok(),
            Some(Op::CompleteMultipartUpload)
        );
        assert_eq!(
            r(Method::GET, Some("b"), Some("k"), "uploadId=x").ok(),
            Some(Op::ListParts)
        );
        assert_eq!(
            r(Method::GET, Some("b"), Some("k"), "versionId=1&x=y").ok(),
            Some(Op::GetObject)
        );
        assert_eq!(
            r(Method::PUT, Some("b"), Some("k"), "uploadId=1&partNumber=2").ok(),
            Some(Op::UploadPart)
        );
        assert_eq!(
            r(Method::PATCH, Some("b"), Some("k"), "").unwrap_err().code,
            Code::MethodNotAllowed
        );
        assert_eq!(
            r(Method::PUT, None, None, "").unwrap_err().code,
            Code::MethodNotAllowed
        );
    }
}
