//! A bucket policy judged for one request: the statements that apply to the principal,
//! the IAM action and the resource ARN, whose conditions hold; an explicit Deny wins.

use super::condition::Facts;
use super::{wildcard, Effect, Policy, Principals, Statement};
use crate::auth::Principal;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// No statement applies.
    Silent,
    /// Allowed; `public`: only by statements open to everyone.
    Allow {
        public: bool,
    },
    Deny,
}

pub struct PolicyRequest<'a> {
    pub principal: &'a Principal,
    /// `s3:GetObject`.
    pub action: &'a str,
    /// `arn:aws:s3:::bucket/key`.
    pub resource: &'a str,
    pub facts: &'a Facts,
}

fn names(p: &Principals, who: &Principal) -> bool {
    if p.any {
        return true;
    }
    let Principal::User(id) = who else {
        return false;
    };
    let root = format!("arn:aws:iam::{}:root", id.account_id);
    p.aws
        .iter()
        .any(|a| a == &id.account_id || a == &root || a == &id.arn)
        || p.canonical.iter().any(|c| c == &id.canonical_id)
}

fn applies(s: &Statement, r: &PolicyRequest) -> bool {
    if names(&s.principals, r.principal) == s.not_principal {
        return false;
    }
    let action = s
        .actions
        .iter()
        .any(|a| a == "*" || wildcard(a, r.action, true));
    if action == s.not_action {
        return false;
    }
    let resource = s
        .resources
        .iter()
        .any(|p| wildcard(&r.facts.substitute(p), r.resource, false));
    if resource == s.not_resource {
        return false;
    }
    s.conditions.iter().all(|c| c.holds(r.facts))
}

pub fn evaluate(policy: &Policy, r: &PolicyRequest) -> Decision {
    let mut decision = Decision::Silent;
    for s in &policy.statements {
        if !applies(s, r) {
            continue;
        }
        match s.effect {
            Effect::Deny => return Decision::Deny,
            Effect::Allow => {
                let public = (s.principals.any || s.not_principal)
                    && !s.conditions.iter().any(|c| c.narrows_principal());
                decision = match decision {
                    Decision::Allow { public: p } => Decision::Allow {
                        public: p && public,
                    },
                    _ => Decision::Allow { public },
                };
            }
        }
    }
    decision
}
