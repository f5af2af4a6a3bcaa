//! s3twin: a local twin of Amazon S3. See README.md for the user guide and ARCHITECTURE.md
//! for the code map.

pub mod admin;
pub mod api;
pub mod auth;
pub mod chaos;
pub mod checksum;
pub mod clock;
pub mod config;
pub mod dashboard;
mod embedded;
pub mod error;
pub mod events;
#[doc(hidden)]
pub mod fuzz;
pub mod ids;
pub mod lifecycle;
pub mod mcp;
pub mod reqlog;
pub mod seed;
pub mod server;
pub mod store;
pub mod wire;

pub use config::Config;
pub use embedded::{RunHandle, S3Server, S3ServerBuilder};
pub use error::{Code, S3Error};
