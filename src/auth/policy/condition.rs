//! Policy conditions: the operators (String*, Numeric*, Date*, Bool, IpAddress /
//! NotIpAddress, Null, Arn*), their `…IfExists` forms and the `ForAnyValue:` /
//! `ForAllValues:` set qualifiers, judged against a request's condition keys.

use super::wildcard;
use serde_json::Value;
use std::collections::HashMap;
use std::net::IpAddr;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operator {
    StringEquals,
    StringEqualsIgnoreCase,
    StringLike,
    NumericEquals,
    NumericLessThan,
    NumericLessThanEquals,
    NumericGreaterThan,
    NumericGreaterThanEquals,
    DateEquals,
    DateLessThan,
    DateLessThanEquals,
    DateGreaterThan,
    DateGreaterThanEquals,
    Bool,
    IpAddress,
    Null,
    ArnLike,
    /// An operator IAM does not know: never true.
    Unknown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetQualifier {
    Single,
    ForAnyValue,
    ForAllValues,
}

#[derive(Debug, Clone)]
pub struct Condition {
    pub operator: Operator,
    /// `StringNotEquals`, `NotIpAddress`, `ArnNotLike`…: the operator's result inverted.
    pub negated: bool,
    pub if_exists: bool,
    pub set: SetQualifier,
    /// The key as written (matched case-insensitively, but for a tag key's own case).
    pub key: String,
    pub values: Vec<String>,
}

fn operator(name: &str) -> (Operator, bool) {
    use Operator::*;
    match name {
        "StringEquals" => (StringEquals, false),
        "StringNotEquals" => (StringEquals, true),
        "StringEqualsIgnoreCase" => (StringEqualsIgnoreCase, false),
        "StringNotEqualsIgnoreCase" => (StringEqualsIgnoreCase, true),
        "StringLike" => (StringLike, false),
        "StringNotLike" => (StringLike, true),
        "NumericEquals" => (NumericEquals, false),
        "NumericNotEquals" => (NumericEquals, true),
        "NumericLessThan" => (NumericLessThan, false),
        "NumericLessThanEquals" => (NumericLessThanEquals, false),
        "NumericGreaterThan" => (NumericGreaterThan, false),
        "NumericGreaterThanEquals" => (NumericGreaterThanEquals, false),
        "DateEquals" => (DateEquals, false),
        "DateNotEquals" => (DateEquals, true),
        "DateLessThan" => (DateLessThan, false),
        "DateLessThanEquals" => (DateLessThanEquals, false),
        "DateGreaterThan" => (DateGreaterThan, false),
        "DateGreaterThanEquals" => (DateGreaterThanEquals, false),
        "Bool" => (Bool, false),
        "IpAddress" => (IpAddress, false),
        "NotIpAddress" => (IpAddress, true),
        "Null" => (Null, false),
        "ArnEquals" | "ArnLike" => (ArnLike, false),
        "ArnNotEquals" | "ArnNotLike" => (ArnLike, true),
        _ => (Unknown, false),
    }
}

fn value_strings(v: &Value) -> Vec<String> {
    let one = |x: &Value| match x {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    match v {
        Value::Array(a) => a.iter().filter_map(one).collect(),
        other => one(other).into_iter().collect(),
    }
}

/// A `Condition` block: `{"Operator": {"key": value-or-values, …}, …}`.
pub fn parse_block(v: &Value) -> Vec<Condition> {
    let Some(block) = v.as_object() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (name, keys) in block {
        let (set, rest) = if let Some(r) = name.strip_prefix("ForAnyValue:") {
            (SetQualifier::ForAnyValue, r)
        } else if let Some(r) = name.strip_prefix("ForAllValues:") {
            (SetQualifier::ForAllValues, r)
        } else {
            (SetQualifier::Single, name.as_str())
        };
        let (base, if_exists) = match rest.strip_suffix("IfExists") {
            Some(b) => (b, true),
            None => (rest, false),
        };
        let (operator, negated) = operator(base);
        let Some(keys) = keys.as_object() else {
            continue;
        };
        for (key, values) in keys {
            out.push(Condition {
                operator,
                negated,
                if_exists,
                set,
                key: key.clone(),
                values: value_strings(values),
            });
        }
    }
    out
}

/// A request's condition keys: lower-cased names (a tag key keeps its case after the `/`).
#[derive(Debug, Default, Clone)]
pub struct Facts {
    values: HashMap<String, Vec<String>>,
}

/// `s3:ExistingObjectTag/Key` → `s3:existingobjecttag/Key`.
fn normal_key(key: &str) -> String {
    match key.split_once('/') {
        Some((head, tail)) => format!("{}/{tail}", head.to_ascii_lowercase()),
        None => key.to_ascii_lowercase(),
    }
}

impl Facts {
    pub fn set(&mut self, key: &str, value: impl Into<String>) {
        self.values.insert(normal_key(key), vec![value.into()]);
    }

    pub fn set_many(&mut self, key: &str, values: Vec<String>) {
        self.values.insert(normal_key(key), values);
    }

    pub fn get(&self, key: &str) -> Option<&[String]> {
        self.values.get(&normal_key(key)).map(Vec::as_slice)
    }

    /// `${aws:username}`-style policy variables replaced by the request's values (`${*}`,
    /// `${?}`, `${$}` are the literal characters).
    pub fn substitute(&self, text: &str) -> String {
        if !text.contains("${") {
            return text.to_string();
        }
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(i) = rest.find("${") {
            out.push_str(&rest[..i]);
            let after = &rest[i + 2..];
            let Some(end) = after.find('}') else {
                out.push_str(&rest[i..]);
                return out;
            };
            let name = &after[..end];
            match name {
                "*" | "?" | "$" => out.push_str(name),
                _ => {
                    if let Some(v) = self.get(name).and_then(|v| v.first()) {
                        out.push_str(v);
                    }
                }
            }
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        out
    }
}

fn parse_cidr(s: &str) -> Option<(IpAddr, u8)> {
    let (ip, len) = match s.split_once('/') {
        Some((ip, len)) => (ip.parse::<IpAddr>().ok()?, len.parse::<u8>().ok()?),
        None => {
            let ip = s.parse::<IpAddr>().ok()?;
            (ip, if ip.is_ipv4() { 32 } else { 128 })
        }
    };
    Some((ip, len))
}

fn in_cidr(ip: &str, cidr: &str) -> bool {
    let (Ok(ip), Some((net, len))) = (ip.parse::<IpAddr>(), parse_cidr(cidr)) else {
        return false;
    };
    let (a, b, bits) = match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(b)) => (u32::from(a) as u128, u32::from(b) as u128, 32),
        (IpAddr::V6(a), IpAddr::V6(b)) => (u128::from(a), u128::from(b), 128),
        _ => return false,
    };
    let len = u32::from(len).min(bits);
    if len == 0 {
        return true;
    }
    let shift = bits - len;
    (a >> shift) == (b >> shift)
}

fn date(s: &str) -> Option<i64> {
    crate::clock::parse_rfc3339(s).or_else(|| {
        s.parse::<i64>()
            .ok()
            .and_then(|secs| secs.checked_mul(1000))
    })
}

/// One request value against one policy value.
fn matches(op: Operator, request: &str, policy: &str) -> bool {
    use Operator::*;
    let num = || Some((request.parse::<f64>().ok()?, policy.parse::<f64>().ok()?));
    let dates = || Some((date(request)?, date(policy)?));
    match op {
        StringEquals => request == policy,
        StringEqualsIgnoreCase => request.eq_ignore_ascii_case(policy),
        StringLike => wildcard(policy, request, false),
        NumericEquals => num().is_some_and(|(a, b)| a == b),
        NumericLessThan => num().is_some_and(|(a, b)| a < b),
        NumericLessThanEquals => num().is_some_and(|(a, b)| a <= b),
        NumericGreaterThan => num().is_some_and(|(a, b)| a > b),
        NumericGreaterThanEquals => num().is_some_and(|(a, b)| a >= b),
        DateEquals => dates().is_some_and(|(a, b)| a == b),
        DateLessThan => dates().is_some_and(|(a, b)| a < b),
        DateLessThanEquals => dates().is_some_and(|(a, b)| a <= b),
        DateGreaterThan => dates().is_some_and(|(a, b)| a > b),
        DateGreaterThanEquals => dates().is_some_and(|(a, b)| a >= b),
        Bool => request.eq_ignore_ascii_case(policy),
        IpAddress => in_cidr(request, policy),
        ArnLike => wildcard(policy, request, false),
        Null | Unknown => false,
    }
}

impl Condition {
    pub fn holds(&self, facts: &Facts) -> bool {
        let present = facts.get(&self.key).filter(|v| !v.is_empty());
        if self.operator == Operator::Null {
            let wants_absent = self.values.iter().any(|v| v.eq_ignore_ascii_case("true"));
            return present.is_none() == wants_absent;
        }
        if self.operator == Operator::Unknown {
            return false;
        }
        let policy: Vec<String> = self.values.iter().map(|v| facts.substitute(v)).collect();
        let Some(request) = present else {
            return match self.set {
                SetQualifier::ForAllValues => true,
                SetQualifier::ForAnyValue => false,
                SetQualifier::Single => self.if_exists || self.negated,
            };
        };
        // One request value satisfies the condition.
        let one = |r: &String| {
            let any = policy.iter().any(|p| matches(self.operator, r, p));
            any != self.negated
        };
        match self.set {
            SetQualifier::ForAllValues => request.iter().all(one),
            SetQualifier::ForAnyValue => request.iter().any(one),
            SetQualifier::Single => {
                let any = request
                    .iter()
                    .any(|r| policy.iter().any(|p| matches(self.operator, r, p)));
                any != self.negated
            }
        }
    }

    /// Whether the condition pins the caller to a fixed source, so that AWS does not count
    /// the statement as public.
    pub fn narrows_principal(&self) -> bool {
        const FIXED: [&str; 11] = [
            "aws:sourceip",
            "aws:sourcearn",
            "aws:sourcevpc",
            "aws:sourcevpce",
            "aws:sourceaccount",
            "aws:sourceowner",
            "aws:principalorgid",
            "aws:principalaccount",
            "aws:principalarn",
            "aws:userid",
            "s3:x-amz-server-side-encryption-aws-kms-key-id",
        ];
        let key = self.key.to_ascii_lowercase();
        if self.negated || !FIXED.contains(&key.as_str()) || self.values.is_empty() {
            return false;
        }
        if key == "aws:sourceip" {
            return self.values.iter().all(|v| {
                parse_cidr(v).is_some_and(|(ip, len)| len >= if ip.is_ipv4() { 8 } else { 32 })
            });
        }
        self.values.iter().all(|v| !v.contains('*'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cond(json: &str) -> Condition {
        parse_block(&serde_json::from_str(json).unwrap()).remove(0)
    }

    #[test]
    fn operators_and_missing_keys() {
        let mut f = Facts::default();
        f.set("aws:SourceIp", "192.0.2.7");
        f.set("aws:SecureTransport", "false");
        f.set("s3:prefix", "home/alice/");
        f.set("aws:username", "alice");
        f.set_many("s3:RequestObjectTagKeys", vec!["a".into(), "b".into()]);
        assert!(cond(r#"{"IpAddress":{"aws:SourceIp":"192.0.2.0/24"}}"#).holds(&f));
        assert!(!cond(r#"{"NotIpAddress":{"aws:SourceIp":"192.0.2.0/24"}}"#).holds(&f));
        assert!(cond(r#"{"Bool":{"aws:SecureTransport":"false"}}"#).holds(&f));
        assert!(cond(r#"{"StringLike":{"s3:prefix":["home/${aws:username}/*"]}}"#).holds(&f));
        assert!(!cond(r#"{"StringEquals":{"s3:x-amz-acl":"private"}}"#).holds(&f));
        assert!(cond(r#"{"StringEqualsIfExists":{"s3:x-amz-acl":"private"}}"#).holds(&f));
        assert!(cond(r#"{"StringNotEquals":{"s3:x-amz-acl":"private"}}"#).holds(&f));
        assert!(cond(r#"{"Null":{"s3:x-amz-server-side-encryption":"true"}}"#).holds(&f));
        assert!(
            cond(r#"{"ForAllValues:StringEquals":{"s3:RequestObjectTagKeys":["a","b","c"]}}"#)
                .holds(&f)
        );
        assert!(
            !cond(r#"{"ForAllValues:StringEquals":{"s3:RequestObjectTagKeys":["a"]}}"#).holds(&f)
        );
        assert!(
            cond(r#"{"ForAnyValue:StringEquals":{"s3:RequestObjectTagKeys":["b"]}}"#).holds(&f)
        );
        let mut few = Facts::default();
        few.set("s3:max-keys", "5");
        assert!(cond(r#"{"NumericLessThan":{"s3:max-keys":"10"}}"#).holds(&few));
        assert!(!cond(r#"{"NumericGreaterThan":{"s3:max-keys":"10"}}"#).holds(&few));
        f.set("aws:CurrentTime", "2026-12-01T00:00:00Z");
        assert!(
            cond(r#"{"DateGreaterThan":{"aws:CurrentTime":"2026-01-01T00:00:00Z"}}"#).holds(&f)
        );
    }
}
