//! Bucket configuration documents (CORS, policy, lifecycle, …), kept as the client sent them
//! so they round-trip byte for byte. The api layer validates them before they are stored.

use super::bucket::Bucket;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ConfigKind {
    Accelerate,
    Cors,
    Encryption,
    Lifecycle,
    Logging,
    Notification,
    ObjectLock,
    Policy,
    PublicAccessBlock,
    RequestPayment,
    Tagging,
    Website,
}

impl Bucket {
    /// The stored document of a kind, if one was put.
    pub fn config(&self, kind: ConfigKind) -> Option<String> {
        self.state.lock().configs.get(&kind).cloned()
    }

    /// Stores (`Some`) or removes (`None`) a document.
    pub fn set_config(&self, kind: ConfigKind, doc: Option<String>) {
        let mut state = self.state.lock();
        match doc {
            Some(d) => state.configs.insert(kind, d),
            None => state.configs.remove(&kind),
        };
    }
}
