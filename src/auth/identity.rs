//! Identities: access key → secret, canonical user id, display name, account id and ARN.
//! The defaults (`parlel`/`parlel`, `test`/`test`) always exist in the server's account; more
//! come from `--user`, a seed, or the admin API (per run). Pure data: no HTTP here.

use parking_lot::RwLock;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// One key pair and who it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub access_key: String,
    pub secret_key: String,
    /// IAM user name (also the display name).
    pub name: String,
    pub account_id: String,
    /// The account's canonical user id (S3 shows one per account).
    pub canonical_id: String,
    /// `arn:aws:iam::ACCOUNT:user/NAME`.
    pub arn: String,
}

/// The canonical user id of an account: the server's account keeps the id s3twin always
/// showed (`store::OWNER_ID`); another account gets a stable id of its own.
pub fn canonical_id(account_id: &str, home_account: &str) -> String {
    if account_id == home_account {
        return crate::store::OWNER_ID.to_string();
    }
    hex::encode(Sha256::digest(format!(
        "s3twin canonical user {account_id}"
    )))
}

impl Identity {
    pub fn new(access_key: &str, secret_key: &str, name: &str, account: &str, home: &str) -> Self {
        Identity {
            access_key: access_key.to_string(),
            secret_key: secret_key.to_string(),
            name: name.to_string(),
            account_id: account.to_string(),
            canonical_id: canonical_id(account, home),
            arn: format!("arn:aws:iam::{account}:user/{name}"),
        }
    }
}

/// A user as configured: `AK:SK[:name[:account]]` (`--user`) or its JSON form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserSpec {
    pub access_key: String,
    pub secret_key: String,
    pub name: Option<String>,
    pub account_id: Option<String>,
}

/// Access keys and secrets AWS would accept: 1–128 printable characters without `:` in the
/// key (the `--user` separator) or `/` (the credential scope's).
fn valid_key(s: &str) -> bool {
    !s.is_empty() && s.len() <= 128 && s.bytes().all(|b| b.is_ascii_graphic() && b != b'/')
}

impl UserSpec {
    /// `AK:SK[:name[:account]]`.
    pub fn parse(s: &str) -> Result<UserSpec, String> {
        let mut parts = s.splitn(4, ':');
        let ak = parts.next().unwrap_or("");
        let sk = parts.next().unwrap_or("");
        let name = parts.next().filter(|n| !n.is_empty()).map(str::to_string);
        let account = parts.next().filter(|a| !a.is_empty()).map(str::to_string);
        UserSpec::checked(ak, sk, name, account)
    }

    pub fn checked(
        ak: &str,
        sk: &str,
        name: Option<String>,
        account: Option<String>,
    ) -> Result<UserSpec, String> {
        if !valid_key(ak) || ak.contains(':') {
            return Err(
                "the access key must be 1 to 128 printable characters without ':' or '/'".into(),
            );
        }
        if sk.is_empty() || sk.len() > 128 || !sk.bytes().all(|b| b.is_ascii_graphic()) {
            return Err("the secret key must be 1 to 128 printable characters".into());
        }
        if let Some(n) = &name {
            let ok = n.len() <= 64
                && n.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b));
            if !ok {
                return Err("a user name is at most 64 of letters, digits and +=,.@_-".into());
            }
        }
        if let Some(a) = &account {
            if !crate::config::is_account_id(a) {
                return Err(format!("account {a:?} is not a 12-digit AWS account id"));
            }
        }
        Ok(UserSpec {
            access_key: ak.to_string(),
            secret_key: sk.to_string(),
            name,
            account_id: account,
        })
    }

    /// The identity, in `home` (the server's account) unless the spec names another.
    pub fn identity(&self, home: &str) -> Identity {
        Identity::new(
            &self.access_key,
            &self.secret_key,
            self.name.as_deref().unwrap_or(&self.access_key),
            self.account_id.as_deref().unwrap_or(home),
            home,
        )
    }
}

/// A set of identities by access key.
#[derive(Debug, Default)]
pub struct Users {
    by_key: RwLock<HashMap<String, Arc<Identity>>>,
}

impl Users {
    /// The default identities and `extra`, all in `home` unless they name an account.
    pub fn with_defaults(home: &str, extra: &[UserSpec]) -> Users {
        let users = Users::default();
        for (ak, sk) in DEFAULT_KEYS {
            users.add(Identity::new(ak, sk, ak, home, home));
        }
        for spec in extra {
            users.add(spec.identity(home));
        }
        users
    }

    pub fn add(&self, identity: Identity) {
        self.by_key
            .write()
            .insert(identity.access_key.clone(), Arc::new(identity));
    }

    pub fn get(&self, access_key: &str) -> Option<Arc<Identity>> {
        self.by_key.read().get(access_key).cloned()
    }

    /// Every identity, by access key.
    pub fn all(&self) -> Vec<Arc<Identity>> {
        let mut v: Vec<_> = self.by_key.read().values().cloned().collect();
        v.sort_by(|a, b| a.access_key.cmp(&b.access_key));
        v
    }
}

/// The key pairs that always exist.
pub const DEFAULT_KEYS: [(&str, &str); 2] = [("parlel", "parlel"), ("test", "test")];

/// Whether requests are authenticated and authorized.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AuthMode {
    /// Any credentials (presigned expiry still checked).
    #[default]
    None,
    /// Signatures verified, requests authorized.
    Enforce,
}

impl AuthMode {
    pub fn parse(s: &str) -> Option<AuthMode> {
        match s {
            "none" => Some(AuthMode::None),
            "enforce" => Some(AuthMode::Enforce),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            AuthMode::None => "none",
            AuthMode::Enforce => "enforce",
        }
    }
}

/// A run's own auth state: its mode and the users added to it alone (kept as specs: their
/// canonical ids depend on the server's account, known to the caller).
#[derive(Debug, Default)]
pub struct RunAuth {
    enforce: AtomicBool,
    users: RwLock<HashMap<String, UserSpec>>,
}

impl RunAuth {
    pub fn mode(&self) -> AuthMode {
        if self.enforce.load(Ordering::Relaxed) {
            AuthMode::Enforce
        } else {
            AuthMode::None
        }
    }

    pub fn set_mode(&self, mode: AuthMode) {
        self.enforce
            .store(mode == AuthMode::Enforce, Ordering::Relaxed);
    }

    pub fn add_user(&self, spec: UserSpec) {
        self.users.write().insert(spec.access_key.clone(), spec);
    }

    pub fn user(&self, access_key: &str) -> Option<UserSpec> {
        self.users.read().get(access_key).cloned()
    }

    pub fn users(&self) -> Vec<UserSpec> {
        let mut v: Vec<_> = self.users.read().values().cloned().collect();
        v.sort_by(|a, b| a.access_key.cmp(&b.access_key));
        v
    }
}

/// The identity of `access_key` for a run: the run's own users first, then the server's.
pub fn lookup(
    run: &RunAuth,
    server: &Users,
    home: &str,
    access_key: &str,
) -> Option<Arc<Identity>> {
    match run.user(access_key) {
        Some(spec) => Some(Arc::new(spec.identity(home))),
        None => server.get(access_key),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_specs() {
        let u = UserSpec::parse("AK2:SK2:alice:111122223333").expect("valid");
        let id = u.identity("000000000000");
        assert_eq!(id.arn, "arn:aws:iam::111122223333:user/alice");
        assert_ne!(id.canonical_id, crate::store::OWNER_ID);
        assert_eq!(id.canonical_id.len(), 64);
        let home = UserSpec::parse("AK3:SK3")
            .expect("valid")
            .identity("000000000000");
        assert_eq!(home.canonical_id, crate::store::OWNER_ID);
        assert_eq!(home.name, "AK3");
        for bad in ["", "AK", "AK:", "A/K:SK", "AK:SK:bad name", "AK:SK:n:12"] {
            assert!(UserSpec::parse(bad).is_err(), "{bad}");
        }
        let users = Users::with_defaults("000000000000", &[u]);
        assert!(users.get("parlel").is_some() && users.get("test").is_some());
        assert_eq!(
            users.get("AK2").map(|i| i.name.clone()).as_deref(),
            Some("alice")
        );
    }
}
