//! The S3 wire format that is not specific to one operation: XML, request bodies (aws-chunked,
//! checksums, MD5, the idle timeout), S3's header conventions.

pub mod aws_chunked;
pub mod body_md5;
pub mod headers;
pub mod request_body;
pub mod timed_body;
pub mod xml;
