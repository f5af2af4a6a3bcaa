//! Access control lists: the owner of a bucket or an object and the grants on it, the canned
//! ACLs and how S3 expands them, and a bucket's object-ownership setting (which decides whether
//! the bucket accepts ACLs at all). ACLs are stored and shown; nothing here authorizes requests.

use super::bucket::Bucket;
use std::sync::{Arc, LazyLock};

/// The canonical user that owns everything in s3twin (there is one account).
pub const OWNER_ID: &str = "75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a";
pub const OWNER_NAME: &str = "s3twin";

/// The predefined groups S3 knows.
pub const ALL_USERS: &str = "http://acs.amazonaws.com/groups/global/AllUsers";
pub const AUTHENTICATED_USERS: &str = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers";
pub const LOG_DELIVERY: &str = "http://acs.amazonaws.com/groups/s3/LogDelivery";
pub const GROUPS: [&str; 3] = [ALL_USERS, AUTHENTICATED_USERS, LOG_DELIVERY];

/// The Amazon EC2 account that `aws-exec-read` lets read AMI bundles.
pub const EC2_BUNDLE_READER_ID: &str =
    "6aa5a366c34c1cbe25dc49211496e913e0351eb0e8c37aa3477e40942ec6b97c";
pub const EC2_BUNDLE_READER_NAME: &str = "za-team";

/// Most grants one ACL may hold.
pub const MAX_GRANTS: usize = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Permission {
    FullControl,
    Write,
    WriteAcp,
    Read,
    ReadAcp,
}

impl Permission {
    pub const ALL: [Permission; 5] = [
        Permission::FullControl,
        Permission::Write,
        Permission::WriteAcp,
        Permission::Read,
        Permission::ReadAcp,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Permission::FullControl => "FULL_CONTROL",
            Permission::Write => "WRITE",
            Permission::WriteAcp => "WRITE_ACP",
            Permission::Read => "READ",
            Permission::ReadAcp => "READ_ACP",
        }
    }

    /// Permission names are case-sensitive, as in S3.
    pub fn from_name(name: &str) -> Option<Permission> {
        Permission::ALL.into_iter().find(|p| p.name() == name)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Grantee {
    CanonicalUser {
        id: String,
        display_name: Option<String>,
    },
    Group {
        uri: String,
    },
    AmazonCustomerByEmail {
        email: String,
    },
}

impl Grantee {
    /// The grantee's `xsi:type`.
    pub fn type_name(&self) -> &'static str {
        match self {
            Grantee::CanonicalUser { .. } => "CanonicalUser",
            Grantee::Group { .. } => "Group",
            Grantee::AmazonCustomerByEmail { .. } => "AmazonCustomerByEmail",
        }
    }

    /// A canonical user by id, with the display name S3 shows for the users it knows.
    pub fn user(id: &str) -> Grantee {
        let display_name = match id {
            OWNER_ID => Some(OWNER_NAME.to_string()),
            EC2_BUNDLE_READER_ID => Some(EC2_BUNDLE_READER_NAME.to_string()),
            _ => None,
        };
        Grantee::CanonicalUser {
            id: id.to_string(),
            display_name,
        }
    }

    pub fn group(uri: &str) -> Grantee {
        Grantee::Group {
            uri: uri.to_string(),
        }
    }

    pub fn owner() -> Grantee {
        Grantee::user(OWNER_ID)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Grant {
    pub grantee: Grantee,
    pub permission: Permission,
}

impl Grant {
    pub fn new(grantee: Grantee, permission: Permission) -> Grant {
        Grant {
            grantee,
            permission,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Owner {
    pub id: String,
    pub display_name: String,
}

impl Owner {
    /// The one account of s3twin.
    pub fn account() -> Owner {
        Owner {
            id: OWNER_ID.to_string(),
            display_name: OWNER_NAME.to_string(),
        }
    }
}

/// An access control list: the resource's owner and the grants, in the order they were given.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Acl {
    pub owner: Owner,
    pub grants: Vec<Grant>,
}

static PRIVATE: LazyLock<Arc<Acl>> = LazyLock::new(|| Arc::new(Acl::canned(CannedAcl::Private)));

impl Acl {
    /// An ACL of the account with these grants (no implicit grant is added).
    pub fn with_grants(grants: Vec<Grant>) -> Acl {
        Acl {
            owner: Owner::account(),
            grants,
        }
    }

    /// The grants of a canned ACL, as S3 expands them. With one account the bucket owner is
    /// always the object owner, so `bucket-owner-read` and `bucket-owner-full-control` add
    /// nothing to the owner's FULL_CONTROL.
    pub fn canned(canned: CannedAcl) -> Acl {
        Acl::canned_for(canned, Owner::account(), OWNER_ID)
    }

    /// A canned ACL of a resource `owner` owns in a bucket `bucket_owner` owns:
    /// `bucket-owner-read` / `bucket-owner-full-control` grant the bucket owner when it is
    /// another account.
    pub fn canned_for(canned: CannedAcl, owner: Owner, bucket_owner: &str) -> Acl {
        let mut grants = vec![Grant::new(
            Grantee::user(&owner.id),
            Permission::FullControl,
        )];
        let other = bucket_owner != owner.id;
        match canned {
            CannedAcl::BucketOwnerRead if other => {
                grants.push(Grant::new(Grantee::user(bucket_owner), Permission::Read));
            }
            CannedAcl::BucketOwnerFullControl if other => {
                grants.push(Grant::new(
                    Grantee::user(bucket_owner),
                    Permission::FullControl,
                ));
            }
            CannedAcl::Private | CannedAcl::BucketOwnerRead | CannedAcl::BucketOwnerFullControl => {
            }
            CannedAcl::PublicRead => {
                grants.push(Grant::new(Grantee::group(ALL_USERS), Permission::Read));
            }
            CannedAcl::PublicReadWrite => {
                grants.push(Grant::new(Grantee::group(ALL_USERS), Permission::Read));
                grants.push(Grant::new(Grantee::group(ALL_USERS), Permission::Write));
            }
            CannedAcl::AuthenticatedRead => {
                grants.push(Grant::new(
                    Grantee::group(AUTHENTICATED_USERS),
                    Permission::Read,
                ));
            }
            CannedAcl::AwsExecRead => {
                grants.push(Grant::new(
                    Grantee::user(EC2_BUNDLE_READER_ID),
                    Permission::Read,
                ));
            }
            CannedAcl::LogDeliveryWrite => {
                grants.push(Grant::new(Grantee::group(LOG_DELIVERY), Permission::Write));
                grants.push(Grant::new(
                    Grantee::group(LOG_DELIVERY),
                    Permission::ReadAcp,
                ));
            }
        }
        Acl { owner, grants }
    }

    /// The `private` ACL every bucket and object starts with, shared.
    pub fn private() -> Arc<Acl> {
        PRIVATE.clone()
    }

    /// Whether the ACL gives FULL_CONTROL to the owner and nothing to anyone else (what a
    /// bucket with ACLs disabled accepts).
    pub fn is_owner_full_control_only(&self) -> bool {
        !self.grants.is_empty() && self.grants.iter().all(|g| {
            g.permission == Permission::FullControl
                && matches!(&g.grantee, Grantee::CanonicalUser { id, .. } if id == &self.owner.id)
        })
    }
}

/// The canned ACLs of `x-amz-acl`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CannedAcl {
    Private,
    PublicRead,
    PublicReadWrite,
    AuthenticatedRead,
    AwsExecRead,
    BucketOwnerRead,
    BucketOwnerFullControl,
    LogDeliveryWrite,
}

impl CannedAcl {
    pub const ALL: [CannedAcl; 8] = [
        CannedAcl::Private,
        CannedAcl::PublicRead,
        CannedAcl::PublicReadWrite,
        CannedAcl::AuthenticatedRead,
        CannedAcl::AwsExecRead,
        CannedAcl::BucketOwnerRead,
        CannedAcl::BucketOwnerFullControl,
        CannedAcl::LogDeliveryWrite,
    ];

    pub fn name(self) -> &'static str {
        match self {
            CannedAcl::Private => "private",
            CannedAcl::PublicRead => "public-read",
            CannedAcl::PublicReadWrite => "public-read-write",
            CannedAcl::AuthenticatedRead => "authenticated-read",
            CannedAcl::AwsExecRead => "aws-exec-read",
            CannedAcl::BucketOwnerRead => "bucket-owner-read",
            CannedAcl::BucketOwnerFullControl => "bucket-owner-full-control",
            CannedAcl::LogDeliveryWrite => "log-delivery-write",
        }
    }

    /// A canned ACL by name; `log-delivery-write` applies to buckets only.
    pub fn from_name(name: &str, for_bucket: bool) -> Option<CannedAcl> {
        CannedAcl::ALL
            .into_iter()
            .find(|c| c.name() == name)
            .filter(|c| for_bucket || *c != CannedAcl::LogDeliveryWrite)
    }

    /// The canned ACLs a bucket with ACLs disabled still accepts.
    pub fn allowed_without_acls(self) -> bool {
        matches!(self, CannedAcl::Private | CannedAcl::BucketOwnerFullControl)
    }
}

/// S3 Object Ownership, a bucket setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ObjectOwnership {
    /// ACLs are disabled (the default for new buckets since April 2023).
    BucketOwnerEnforced,
    BucketOwnerPreferred,
    ObjectWriter,
}

impl ObjectOwnership {
    pub fn name(self) -> &'static str {
        match self {
            ObjectOwnership::BucketOwnerEnforced => "BucketOwnerEnforced",
            ObjectOwnership::BucketOwnerPreferred => "BucketOwnerPreferred",
            ObjectOwnership::ObjectWriter => "ObjectWriter",
        }
    }

    pub fn from_name(name: &str) -> Option<ObjectOwnership> {
        [
            ObjectOwnership::BucketOwnerEnforced,
            ObjectOwnership::BucketOwnerPreferred,
            ObjectOwnership::ObjectWriter,
        ]
        .into_iter()
        .find(|o| o.name() == name)
    }
}

/// A bucket's ACL and object-ownership setting.
#[derive(Debug, Clone)]
pub(super) struct AclState {
    acl: Arc<Acl>,
    /// `None`: the ownership controls were deleted (the bucket behaves as `ObjectWriter`).
    ownership: Option<ObjectOwnership>,
}

impl Default for AclState {
    fn default() -> Self {
        AclState {
            acl: Acl::private(),
            ownership: Some(ObjectOwnership::BucketOwnerEnforced),
        }
    }
}

impl AclState {
    pub(super) fn from_parts(acl: Arc<Acl>, ownership: Option<ObjectOwnership>) -> AclState {
        AclState { acl, ownership }
    }

    pub(super) fn acl(&self) -> Arc<Acl> {
        self.acl.clone()
    }

    pub(super) fn ownership(&self) -> Option<ObjectOwnership> {
        self.ownership
    }
}

impl Bucket {
    /// The bucket's object-ownership setting; `None` once its ownership controls were deleted.
    pub fn object_ownership(&self) -> Option<ObjectOwnership> {
        self.state.lock().acl.ownership
    }

    /// Sets (`Some`) or deletes (`None`) the bucket's ownership controls.
    pub fn set_object_ownership(&self, ownership: Option<ObjectOwnership>) {
        let mut state = self.state.lock();
        state.acl.ownership = ownership;
        self.journal_settings(&state);
    }

    /// Whether the bucket accepts ACLs (every setting but `BucketOwnerEnforced`).
    pub fn acls_enabled(&self) -> bool {
        self.object_ownership() != Some(ObjectOwnership::BucketOwnerEnforced)
    }

    /// The bucket's own ACL, as last set.
    pub fn acl(&self) -> Arc<Acl> {
        self.state.lock().acl.acl.clone()
    }

    pub fn set_acl(&self, acl: Arc<Acl>) {
        let mut state = self.state.lock();
        state.acl.acl = acl;
        self.journal_settings(&state);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canned_expansions() {
        let private = Acl::canned(CannedAcl::Private);
        assert_eq!(
            private.grants,
            [Grant::new(Grantee::owner(), Permission::FullControl)]
        );
        assert!(private.is_owner_full_control_only());
        let public = Acl::canned(CannedAcl::PublicReadWrite);
        assert_eq!(public.grants.len(), 3);
        assert!(!public.is_owner_full_control_only());
        assert!(!Acl::with_grants(Vec::new()).is_owner_full_control_only());
        assert_eq!(
            CannedAcl::from_name("log-delivery-write", true),
            Some(CannedAcl::LogDeliveryWrite)
        );
        assert_eq!(CannedAcl::from_name("log-delivery-write", false), None);
        assert_eq!(CannedAcl::from_name("Private", true), None);
        assert_eq!(Permission::from_name("READ_ACP"), Some(Permission::ReadAcp));
        assert_eq!(Permission::from_name("read"), None);
        assert_eq!(
            ObjectOwnership::from_name("ObjectWriter"),
            Some(ObjectOwnership::ObjectWriter)
        );
    }
}
