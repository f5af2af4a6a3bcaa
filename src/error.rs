//! The one S3 error type. Every S3 failure, whatever layer raises it, becomes an `S3Error`
//! and is rendered by `server::response::error_response` into AWS's XML envelope.

use std::fmt;

/// Every S3 error code s3twin can answer with: HTTP status and AWS's default message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    AccessDenied,
    /// A CORS preflight refused (`CORSResponse: …`).
    AccessForbidden,
    AuthorizationQueryParametersError,
    InvalidObjectState,
    RestoreAlreadyInProgress,
    AccessControlListNotSupported,
    InvalidBucketAclWithObjectOwnership,
    InvalidBucketState,
    InvalidBucketOwnerAWSAccountID,
    InvalidTargetBucketForLogging,
    CrossLocationLoggingProhibitted,
    MalformedPolicy,
    NoSuchBucketPolicy,
    NoSuchCORSConfiguration,
    NoSuchLifecycleConfiguration,
    NoSuchPublicAccessBlockConfiguration,
    NoSuchObjectLockConfiguration,
    NoSuchTagSet,
    NoSuchWebsiteConfiguration,
    ObjectLockConfigurationNotFoundError,
    OwnershipControlsNotFoundError,
    ServerSideEncryptionConfigurationNotFoundError,
    NoSuchConfiguration,
    ReplicationConfigurationNotFoundError,
    InvalidConfigurationId,
    TooManyConfigurations,
    BadDigest,
    BucketAlreadyExists,
    BucketAlreadyOwnedByYou,
    BucketNotEmpty,
    EntityTooLarge,
    EntityTooSmall,
    IllegalLocationConstraintException,
    IncompleteBody,
    RequestTimeout,
    BadRequest,
    RequestHeaderSectionTooLarge,
    InternalError,
    InvalidArgument,
    InvalidBucketName,
    InvalidDigest,
    InvalidEncryptionAlgorithmError,
    InvalidLocationConstraint,
    InvalidPart,
    InvalidPartNumber,
    InvalidPartOrder,
    InvalidRange,
    InvalidRequest,
    InvalidStorageClass,
    InvalidTag,
    InvalidURI,
    KeyTooLongError,
    /// `KMS.NotFoundException`: a KMS key id S3 cannot resolve.
    KmsNotFound,
    MalformedACLError,
    MalformedXML,
    MalformedPOSTRequest,
    InvalidPolicyDocument,
    IncorrectNumberOfFilesInPostRequest,
    MaxPostPreDataLengthExceededError,
    MalformedTrailerError,
    MetadataTooLarge,
    MethodNotAllowed,
    MissingContentLength,
    MissingSecurityHeader,
    UnexpectedContent,
    NoSuchBucket,
    NoSuchKey,
    NoSuchUpload,
    NoSuchVersion,
    NotImplemented,
    NotModified,
    PreconditionFailed,
    ConditionalRequestConflict,
    ServiceUnavailable,
    SlowDown,
    XAmzContentSHA256Mismatch,
    SignatureDoesNotMatch,
    InvalidAccessKeyId,
    RequestTimeTooSkewed,
    AuthorizationHeaderMalformed,
}

impl Code {
    pub fn as_str(self) -> &'static str {
        match self {
            Code::AccessDenied => "AccessDenied",
            Code::AccessForbidden => "AccessForbidden",
            Code::AuthorizationQueryParametersError => "AuthorizationQueryParametersError",
            Code::InvalidObjectState => "InvalidObjectState",
            Code::RestoreAlreadyInProgress => "RestoreAlreadyInProgress",
            Code::AccessControlListNotSupported => "AccessControlListNotSupported",
            Code::InvalidBucketOwnerAWSAccountID => "InvalidBucketOwnerAWSAccountID",
            Code::InvalidBucketAclWithObjectOwnership => "InvalidBucketAclWithObjectOwnership",
            Code::InvalidBucketState => "InvalidBucketState",
            Code::InvalidTargetBucketForLogging => "InvalidTargetBucketForLogging",
            Code::CrossLocationLoggingProhibitted => "CrossLocationLoggingProhibitted",
            Code::MalformedPolicy => "MalformedPolicy",
            Code::NoSuchBucketPolicy => "NoSuchBucketPolicy",
            Code::NoSuchCORSConfiguration => "NoSuchCORSConfiguration",
            Code::NoSuchLifecycleConfiguration => "NoSuchLifecycleConfiguration",
            Code::NoSuchPublicAccessBlockConfiguration => "NoSuchPublicAccessBlockConfiguration",
            Code::NoSuchObjectLockConfiguration => "NoSuchObjectLockConfiguration",
            Code::NoSuchTagSet => "NoSuchTagSet",
            Code::NoSuchWebsiteConfiguration => "NoSuchWebsiteConfiguration",
            Code::ObjectLockConfigurationNotFoundError => "ObjectLockConfigurationNotFoundError",
            Code::OwnershipControlsNotFoundError => "OwnershipControlsNotFoundError",
            Code::ServerSideEncryptionConfigurationNotFoundError => {
                "ServerSideEncryptionConfigurationNotFoundError"
            }
            Code::NoSuchConfiguration => "NoSuchConfiguration",
            Code::ReplicationConfigurationNotFoundError => "ReplicationConfigurationNotFoundError",
            Code::InvalidConfigurationId => "InvalidConfigurationId",
            Code::TooManyConfigurations => "TooManyConfigurations",
            Code::BadDigest => "BadDigest",
            Code::BucketAlreadyExists => "BucketAlreadyExists",
            Code::BucketAlreadyOwnedByYou => "BucketAlreadyOwnedByYou",
            Code::BucketNotEmpty => "BucketNotEmpty",
            Code::EntityTooLarge => "EntityTooLarge",
            Code::EntityTooSmall => "EntityTooSmall",
            Code::IllegalLocationConstraintException => "IllegalLocationConstraintException",
            Code::IncompleteBody => "IncompleteBody",
            Code::RequestTimeout => "RequestTimeout",
            Code::BadRequest => "BadRequest",
            Code::RequestHeaderSectionTooLarge => "RequestHeaderSectionTooLarge",
            Code::InternalError => "InternalError",
            Code::InvalidArgument => "InvalidArgument",
            Code::InvalidBucketName => "InvalidBucketName",
            Code::InvalidDigest => "InvalidDigest",
            Code::InvalidEncryptionAlgorithmError => "InvalidEncryptionAlgorithmError",
            Code::InvalidLocationConstraint => "InvalidLocationConstraint",
            Code::InvalidPart => "InvalidPart",
            Code::InvalidPartNumber => "InvalidPartNumber",
            Code::InvalidPartOrder => "InvalidPartOrder",
            Code::InvalidRange => "InvalidRange",
            Code::InvalidRequest => "InvalidRequest",
            Code::InvalidStorageClass => "InvalidStorageClass",
            Code::InvalidTag => "InvalidTag",
            Code::InvalidURI => "InvalidURI",
            Code::KeyTooLongError => "KeyTooLongError",
            Code::KmsNotFound => "KMS.NotFoundException",
            Code::MalformedACLError => "MalformedACLError",
            Code::MalformedXML => "MalformedXML",
            Code::MalformedPOSTRequest => "MalformedPOSTRequest",
            Code::InvalidPolicyDocument => "InvalidPolicyDocument",
            Code::IncorrectNumberOfFilesInPostRequest => "IncorrectNumberOfFilesInPostRequest",
            Code::MaxPostPreDataLengthExceededError => "MaxPostPreDataLengthExceededError",
            Code::MalformedTrailerError => "MalformedTrailerError",
            Code::MetadataTooLarge => "MetadataTooLarge",
            Code::MethodNotAllowed => "MethodNotAllowed",
            Code::MissingContentLength => "MissingContentLength",
            Code::MissingSecurityHeader => "MissingSecurityHeader",
            Code::UnexpectedContent => "UnexpectedContent",
            Code::NoSuchBucket => "NoSuchBucket",
            Code::NoSuchKey => "NoSuchKey",
            Code::NoSuchUpload => "NoSuchUpload",
            Code::NoSuchVersion => "NoSuchVersion",
            Code::NotImplemented => "NotImplemented",
            Code::NotModified => "NotModified",
            Code::PreconditionFailed => "PreconditionFailed",
            Code::ConditionalRequestConflict => "ConditionalRequestConflict",
            Code::ServiceUnavailable => "ServiceUnavailable",
            Code::SlowDown => "SlowDown",
            Code::XAmzContentSHA256Mismatch => "XAmzContentSHA256Mismatch",
            Code::SignatureDoesNotMatch => "SignatureDoesNotMatch",
            Code::InvalidAccessKeyId => "InvalidAccessKeyId",
            Code::RequestTimeTooSkewed => "RequestTimeTooSkewed",
            Code::AuthorizationHeaderMalformed => "AuthorizationHeaderMalformed",
        }
    }

    pub fn status(self) -> u16 {
        match self {
            Code::AccessDenied
            | Code::AccessForbidden
            | Code::SignatureDoesNotMatch
            | Code::InvalidAccessKeyId
            | Code::RequestTimeTooSkewed
            | Code::InvalidObjectState
            | Code::CrossLocationLoggingProhibitted => 403,
            Code::BucketAlreadyExists
            | Code::BucketAlreadyOwnedByYou
            | Code::BucketNotEmpty
            | Code::InvalidBucketState
            | Code::RestoreAlreadyInProgress => 409,
            Code::InternalError => 500,
            Code::InvalidRange | Code::InvalidPartNumber => 416,
            Code::MethodNotAllowed => 405,
            Code::MissingContentLength => 411,
            Code::NoSuchBucket
            | Code::NoSuchKey
            | Code::NoSuchUpload
            | Code::NoSuchVersion
            | Code::NoSuchBucketPolicy
            | Code::NoSuchCORSConfiguration
            | Code::NoSuchLifecycleConfiguration
            | Code::NoSuchPublicAccessBlockConfiguration
            | Code::NoSuchObjectLockConfiguration
            | Code::NoSuchTagSet
            | Code::NoSuchWebsiteConfiguration
            | Code::ObjectLockConfigurationNotFoundError
            | Code::OwnershipControlsNotFoundError
            | Code::ServerSideEncryptionConfigurationNotFoundError
            | Code::NoSuchConfiguration
            | Code::ReplicationConfigurationNotFoundError => 404,
            Code::NotImplemented => 501,
            Code::NotModified => 304,
            Code::PreconditionFailed => 412,
            Code::ConditionalRequestConflict => 409,
            Code::ServiceUnavailable | Code::SlowDown => 503,
            _ => 400,
        }
    }

    /// AWS's default message for the code (as documented in the S3 error-code table).
    pub fn default_message(self) -> &'static str {
        match self {
            Code::AccessDenied => "Access Denied",
            Code::AccessForbidden => "CORSResponse: This CORS request is not allowed.",
            Code::AuthorizationQueryParametersError => "Query-string authentication parameters are not valid.",
            Code::InvalidObjectState => "The operation is not valid for the object's storage class",
            Code::RestoreAlreadyInProgress => "Object restore is already in progress",
            Code::AccessControlListNotSupported => "The bucket does not allow ACLs",
            Code::InvalidBucketAclWithObjectOwnership => "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting",
            Code::InvalidBucketState => "The request is not valid with the current state of the bucket.",
            Code::InvalidTargetBucketForLogging => "The target bucket for logging does not exist",
            Code::CrossLocationLoggingProhibitted => "Cross S3 location logging not allowed.",
            Code::MalformedPolicy => "Policies must be valid JSON and the first byte must be '{'",
            Code::NoSuchBucketPolicy => "The bucket policy does not exist",
            Code::NoSuchCORSConfiguration => "The CORS configuration does not exist",
            Code::NoSuchLifecycleConfiguration => "The lifecycle configuration does not exist",
            Code::NoSuchPublicAccessBlockConfiguration => "The public access block configuration was not found",
            Code::NoSuchObjectLockConfiguration => "The specified object does not have a ObjectLock configuration",
            Code::NoSuchTagSet => "The TagSet does not exist",
            Code::NoSuchWebsiteConfiguration => "The specified bucket does not have a website configuration",
            Code::ObjectLockConfigurationNotFoundError => "Object Lock configuration does not exist for this bucket",
            Code::OwnershipControlsNotFoundError => "The bucket ownership controls were not found",
            Code::ServerSideEncryptionConfigurationNotFoundError => "The server side encryption configuration was not found",
            Code::NoSuchConfiguration => "The specified configuration does not exist.",
            Code::ReplicationConfigurationNotFoundError => "The replication configuration was not found",
            Code::InvalidConfigurationId => "The specified configuration id is invalid.",
            Code::TooManyConfigurations => "You are attempting to create a new configuration but have already reached the 1,000-configuration limit.",
            Code::BadDigest => "The Content-MD5 you specified did not match what we received.",
            Code::InvalidBucketOwnerAWSAccountID => "The value of the expected bucket owner parameter must be an AWS Account ID...",
            Code::BucketAlreadyExists => "The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.",
            Code::BucketAlreadyOwnedByYou => "Your previous request to create the named bucket succeeded and you already own it.",
            Code::BucketNotEmpty => "The bucket you tried to delete is not empty",
            Code::EntityTooLarge => "Your proposed upload exceeds the maximum allowed size",
            Code::EntityTooSmall => "Your proposed upload is smaller than the minimum allowed size",
            Code::IllegalLocationConstraintException => "The unspecified location constraint is incompatible for the region specific endpoint this request was sent to.",
            Code::IncompleteBody => "You did not provide the number of bytes specified by the Content-Length HTTP header",
            Code::RequestHeaderSectionTooLarge => "Your request header section exceeds the maximum allowed size.",
            Code::BadRequest => "An error occurred when parsing the HTTP request.",
            Code::RequestTimeout => "Your socket connection to the server was not read from or written to within the timeout period. Idle connections will be closed.",
            Code::InternalError => "We encountered an internal error. Please try again.",
            Code::InvalidArgument => "Invalid Argument",
            Code::InvalidBucketName => "The specified bucket is not valid.",
            Code::InvalidDigest => "The Content-MD5 you specified was invalid.",
            Code::InvalidEncryptionAlgorithmError => "The Encryption request you specified is not valid. Supported value: AES256.",
            Code::InvalidLocationConstraint => "The specified location-constraint is not valid",
            Code::InvalidPart => "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.",
            Code::InvalidPartNumber => "The requested partnumber is not satisfiable",
            Code::InvalidPartOrder => "The list of parts was not in ascending order. Parts must be ordered by part number.",
            Code::InvalidRange => "The requested range is not satisfiable",
            Code::InvalidRequest => "Invalid Request",
            Code::InvalidStorageClass => "The storage class you specified is not valid",
            Code::InvalidTag => "The TagValue you have provided is invalid",
            Code::InvalidURI => "Couldn't parse the specified URI.",
            Code::KeyTooLongError => "Your key is too long",
            Code::KmsNotFound => "The request was rejected because the specified entity or resource could not be found.",
            Code::MalformedACLError => "The XML you provided was not well-formed or did not validate against our published schema",
            Code::MalformedXML => "The XML you provided was not well-formed or did not validate against our published schema",
            Code::MalformedPOSTRequest => "The body of your POST request is not well-formed multipart/form-data.",
            Code::InvalidPolicyDocument => "The content of the form does not meet the conditions specified in the policy document.",
            Code::IncorrectNumberOfFilesInPostRequest => "POST requires exactly one file upload per request.",
            Code::MaxPostPreDataLengthExceededError => "Your POST request fields preceding the upload file were too large.",
            Code::MalformedTrailerError => "The request contained trailing data that was not well-formed or did not conform to our published schema.",
            Code::MetadataTooLarge => "Your metadata headers exceed the maximum allowed metadata size",
            Code::MethodNotAllowed => "The specified method is not allowed against this resource.",
            Code::MissingContentLength => "You must provide the Content-Length HTTP header.",
            Code::MissingSecurityHeader => "Your request was missing a required header",
            Code::UnexpectedContent => "This request does not support content",
            Code::NoSuchBucket => "The specified bucket does not exist",
            Code::NoSuchKey => "The specified key does not exist.",
            Code::NoSuchUpload => "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.",
            Code::NoSuchVersion => "The specified version does not exist.",
            Code::NotImplemented => "A header you provided implies functionality that is not implemented",
            Code::NotModified => "Not Modified",
            Code::PreconditionFailed => "At least one of the pre-conditions you specified did not hold",
            Code::ConditionalRequestConflict => {
                "The conditional request cannot succeed due to a conflicting operation against this resource."
            }
            Code::ServiceUnavailable => "Please reduce your request rate.",
            Code::SlowDown => "Please reduce your request rate.",
            Code::XAmzContentSHA256Mismatch => "The provided 'x-amz-content-sha256' header does not match what was computed.",
            Code::SignatureDoesNotMatch => "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
            Code::InvalidAccessKeyId => "The AWS Access Key Id you provided does not exist in our records.",
            Code::RequestTimeTooSkewed => "The difference between the request time and the current time is too large.",
            Code::AuthorizationHeaderMalformed => "The authorization header you provided is invalid.",
        }
    }
}

/// An S3 error: a code, its message, and the per-code extra elements AWS adds to the envelope
/// (`<Key>`, `<BucketName>`, `<Condition>`…), in the order AWS writes them.
#[derive(Debug, Clone)]
pub struct S3Error {
    pub code: Code,
    pub message: String,
    pub extras: Vec<(&'static str, String)>,
    /// Response headers the error carries (e.g. `x-amz-delete-marker`, `Allow`).
    pub headers: Vec<(&'static str, String)>,
}

impl S3Error {
    pub fn new(code: Code) -> Self {
        S3Error {
            code,
            message: code.default_message().to_string(),
            extras: Vec::new(),
            headers: Vec::new(),
        }
    }

    pub fn with_message(code: Code, message: impl Into<String>) -> Self {
        S3Error {
            message: message.into(),
            ..S3Error::new(code)
        }
    }

    pub fn extra(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.extras.push((name, value.into()));
        self
    }

    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    pub fn no_such_bucket(bucket: &str) -> Self {
        S3Error::new(Code::NoSuchBucket).extra("BucketName", bucket)
    }

    pub fn no_such_key(key: &str) -> Self {
        S3Error::new(Code::NoSuchKey).extra("Key", key)
    }

    pub fn invalid_argument(
        message: impl Into<String>,
        name: &str,
        value: impl Into<String>,
    ) -> Self {
        S3Error::with_message(Code::InvalidArgument, message)
            .extra("ArgumentName", name)
            .extra("ArgumentValue", value)
    }

    pub fn invalid_request(message: impl Into<String>) -> Self {
        S3Error::with_message(Code::InvalidRequest, message)
    }

    pub fn malformed_xml() -> Self {
        S3Error::new(Code::MalformedXML)
    }

    pub fn precondition_failed(condition: &str) -> Self {
        S3Error::new(Code::PreconditionFailed).extra("Condition", condition)
    }

    pub fn not_implemented(message: impl Into<String>) -> Self {
        S3Error::with_message(Code::NotImplemented, message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        tracing::error!(message = %message.into(), "internal error");
        S3Error::new(Code::InternalError)
    }
}

impl fmt::Display for S3Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.message)
    }
}

impl std::error::Error for S3Error {}

pub type S3Result<T> = Result<T, S3Error>;
