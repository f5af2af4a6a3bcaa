//! Bucket policies: parsed once per stored document (`Bucket::parsed_config`), evaluated per
//! request as IAM does for S3 (`eval.rs`), conditions in `condition.rs`.

pub mod condition;
pub mod eval;

use condition::Condition;
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    Allow,
    Deny,
}

/// Who a statement names: `"*"`, or AWS principals (ARNs, account ids, `*`) and canonical ids.
#[derive(Debug, Clone, Default)]
pub struct Principals {
    pub any: bool,
    pub aws: Vec<String>,
    pub canonical: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Statement {
    pub effect: Effect,
    /// `Principal` (`negated: false`) or `NotPrincipal`.
    pub principals: Principals,
    pub not_principal: bool,
    pub actions: Vec<String>,
    pub not_action: bool,
    pub resources: Vec<String>,
    pub not_resource: bool,
    pub conditions: Vec<Condition>,
}

#[derive(Debug, Clone, Default)]
pub struct Policy {
    pub statements: Vec<Statement>,
}

fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a
            .iter()
            .filter_map(|x| x.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}

fn principals(v: &Value) -> Principals {
    let mut p = Principals::default();
    match v {
        Value::String(s) if s == "*" => p.any = true,
        Value::Object(m) => {
            for (k, v) in m {
                match k.as_str() {
                    "AWS" => p.aws.extend(strings(v)),
                    "CanonicalUser" => p.canonical.extend(strings(v)),
                    _ => {}
                }
            }
            if p.aws.iter().any(|a| a == "*") {
                p.any = true;
            }
        }
        _ => {}
    }
    p
}

impl Policy {
    /// The policy of a stored document (already checked by PutBucketPolicy); what cannot be
    /// understood is left out rather than guessed.
    pub fn parse(doc: &str) -> Policy {
        let Ok(v) = serde_json::from_str::<Value>(doc) else {
            return Policy::default();
        };
        let list = match v.get("Statement") {
            Some(Value::Array(a)) => a.clone(),
            Some(o @ Value::Object(_)) => vec![o.clone()],
            _ => Vec::new(),
        };
        let statements = list
            .iter()
            .filter_map(|s| {
                let effect = match s.get("Effect")?.as_str()? {
                    "Allow" => Effect::Allow,
                    "Deny" => Effect::Deny,
                    _ => return None,
                };
                let (principals, not_principal) = match (s.get("Principal"), s.get("NotPrincipal"))
                {
                    (Some(p), _) => (principals(p), false),
                    (None, Some(p)) => (principals(p), true),
                    (None, None) => return None,
                };
                let (actions, not_action) = match (s.get("Action"), s.get("NotAction")) {
                    (Some(a), _) => (strings(a), false),
                    (None, Some(a)) => (strings(a), true),
                    (None, None) => return None,
                };
                let (resources, not_resource) = match (s.get("Resource"), s.get("NotResource")) {
                    (Some(r), _) => (strings(r), false),
                    (None, Some(r)) => (strings(r), true),
                    (None, None) => return None,
                };
                let conditions = s
                    .get("Condition")
                    .map(condition::parse_block)
                    .unwrap_or_default();
                Some(Statement {
                    effect,
                    principals,
                    not_principal,
                    actions,
                    not_action,
                    resources,
                    not_resource,
                    conditions,
                })
            })
            .collect();
        Policy { statements }
    }

    /// Whether AWS judges the policy public: an Allow open to everyone (`*`) that no
    /// condition on a fixed source (IP range, account, ARN, VPC, organization) narrows.
    pub fn is_public(&self) -> bool {
        self.statements.iter().any(|s| {
            s.effect == Effect::Allow
                && (s.principals.any || s.not_principal)
                && !s.conditions.iter().any(Condition::narrows_principal)
        })
    }
}

/// `*` and `?` wildcards (IAM's), iteratively: O(len(pattern) × len(text)) at worst.
pub fn wildcard(pattern: &str, text: &str, ignore_case: bool) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let eq = |a: char, b: char| {
        if ignore_case {
            a.eq_ignore_ascii_case(&b)
        } else {
            a == b
        }
    };
    let (mut pi, mut ti) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || (p[pi] != '*' && eq(p[pi], t[ti]))) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards() {
        assert!(wildcard("arn:aws:s3:::b/*", "arn:aws:s3:::b/x/y", false));
        assert!(!wildcard("arn:aws:s3:::b/*", "arn:aws:s3:::c/x", false));
        assert!(wildcard("s3:Get*", "s3:getobject", true));
        assert!(wildcard("a?c", "abc", false) && !wildcard("a?c", "ac", false));
        assert!(wildcard("*", "", false));
    }

    #[test]
    fn public_policies() {
        let public = Policy::parse(
            r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}"#,
        );
        assert!(public.is_public());
        let narrowed = Policy::parse(
            r#"{"Statement":{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*","Condition":{"IpAddress":{"aws:SourceIp":"192.0.2.0/24"}}}}"#,
        );
        assert!(!narrowed.is_public());
        let account = Policy::parse(
            r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"s3:*","Resource":"*"}]}"#,
        );
        assert!(!account.is_public());
    }
}
