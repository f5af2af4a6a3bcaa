//! Integration tests: the real aws-sdk-s3 crate against an in-process s3twin over a real
//! socket. One test binary (linking the SDK once), one module per S3 area.

mod common;

mod acl;
mod attributes;
mod bucket_analytics;
mod bucket_config;
mod buckets;
mod encryption;
mod fidelity;
mod hardening;
mod integrity;
mod listing;
mod mcp;
mod multipart;
mod multipart_checksums;
mod object_lock;
mod objects;
mod pagination;
mod runs;
mod twin;
mod validation;
mod versioning;
mod writes;
