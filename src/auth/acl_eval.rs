//! ACLs judged for a request: the grants (canonical users, the AllUsers /
//! AuthenticatedUsers groups) and the owner's implicit READ_ACP / WRITE_ACP. The ACLs
//! themselves are stored in `store::acl`.

use super::Principal;
use crate::store::{Acl, Grantee, Permission};

const ALL_USERS: &str = "http://acs.amazonaws.com/groups/global/AllUsers";
const AUTHENTICATED_USERS: &str = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers";

/// Whether `acl` gives `principal` `needed`; `ignore_public` (IgnorePublicAcls) leaves out
/// the grants to the public groups.
pub fn allows(acl: &Acl, principal: &Principal, needed: Permission, ignore_public: bool) -> bool {
    let canonical = match principal {
        Principal::User(id) => Some(id.canonical_id.as_str()),
        _ => None,
    };
    if canonical == Some(acl.owner.id.as_str())
        && matches!(needed, Permission::ReadAcp | Permission::WriteAcp)
    {
        return true;
    }
    acl.grants.iter().any(|g| {
        let grantee = match &g.grantee {
            Grantee::CanonicalUser { id, .. } => canonical == Some(id.as_str()),
            Grantee::Group { uri } if uri == ALL_USERS => !ignore_public,
            Grantee::Group { uri } if uri == AUTHENTICATED_USERS => {
                !ignore_public && canonical.is_some()
            }
            _ => false,
        };
        grantee && (g.permission == needed || g.permission == Permission::FullControl)
    })
}

/// Whether the ACL grants anything to the public groups (Block Public Access's notion).
pub fn is_public(acl: &Acl) -> bool {
    acl.grants.iter().any(|g| {
        matches!(&g.grantee, Grantee::Group { uri } if uri == ALL_USERS || uri == AUTHENTICATED_USERS)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::identity::Identity;
    use crate::store::CannedAcl;
    use std::sync::Arc;

    #[test]
    fn grants_and_groups() {
        let other = Principal::User(Arc::new(Identity::new(
            "AK",
            "SK",
            "bob",
            "111122223333",
            "000000000000",
        )));
        let owner = Principal::User(Arc::new(Identity::new(
            "parlel",
            "parlel",
            "parlel",
            "000000000000",
            "000000000000",
        )));
        let public = Acl::canned(CannedAcl::PublicRead);
        assert!(allows(
            &public,
            &Principal::Anonymous,
            Permission::Read,
            false
        ));
        assert!(!allows(
            &public,
            &Principal::Anonymous,
            Permission::Read,
            true
        ));
        assert!(!allows(
            &public,
            &Principal::Anonymous,
            Permission::Write,
            false
        ));
        let auth_read = Acl::canned(CannedAcl::AuthenticatedRead);
        assert!(allows(&auth_read, &other, Permission::Read, false));
        assert!(!allows(
            &auth_read,
            &Principal::Anonymous,
            Permission::Read,
            false
        ));
        let private = Acl::canned(CannedAcl::Private);
        assert!(!allows(&private, &other, Permission::Read, false));
        assert!(allows(&private, &owner, Permission::Write, false));
        assert!(is_public(&public) && !is_public(&private));
    }
}
