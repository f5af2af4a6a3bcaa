//! Request authentication. Signatures are not verified yet (any credentials are accepted);
//! presigned-URL expiry is always checked, on the run's clock.

pub mod presign;
