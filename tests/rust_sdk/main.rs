//! Integration tests: the real aws-sdk-s3 crate against an in-process s3twin over a real
//! socket. One test binary (linking the SDK once), one module per S3 area.

mod common;

mod access;
mod acl;
mod attributes;
mod auth;
mod bucket_analytics;
mod bucket_config;
mod buckets;
mod chaos;
mod cors;
mod dashboard;
mod encryption;
mod export;
mod fidelity;
mod hardening;
mod integrity;
mod listing;
mod mcp;
mod multipart;
mod multipart_checksums;
mod notifications;
mod object_lock;
mod objects;
mod pagination;
mod persist;
mod post_object;
mod request_log;
mod runs;
mod tls;
mod twin;
mod validation;
mod versioning;
mod website;
mod writes;
