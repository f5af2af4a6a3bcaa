//! The notification model: a bucket's `NotificationConfiguration` checked the way S3 checks
//! it, and the parsed form events are matched against (parsed once per stored document).

use crate::error::{Code, S3Error, S3Result};
use crate::wire::xml::{Element, XmlWriter};

/// Event names S3 notifications accept.
pub const EVENTS: [&str; 27] = [
    "s3:ObjectCreated:*",
    "s3:ObjectCreated:Put",
    "s3:ObjectCreated:Post",
    "s3:ObjectCreated:Copy",
    "s3:ObjectCreated:CompleteMultipartUpload",
    "s3:ObjectRemoved:*",
    "s3:ObjectRemoved:Delete",
    "s3:ObjectRemoved:DeleteMarkerCreated",
    "s3:ObjectRestore:*",
    "s3:ObjectRestore:Post",
    "s3:ObjectRestore:Completed",
    "s3:ObjectRestore:Delete",
    "s3:ReducedRedundancyLostObject",
    "s3:Replication:*",
    "s3:Replication:OperationFailedReplication",
    "s3:Replication:OperationNotTracked",
    "s3:Replication:OperationMissedThreshold",
    "s3:Replication:OperationReplicatedAfterThreshold",
    "s3:LifecycleExpiration:*",
    "s3:LifecycleExpiration:Delete",
    "s3:LifecycleExpiration:DeleteMarkerCreated",
    "s3:LifecycleTransition",
    "s3:IntelligentTiering",
    "s3:ObjectTagging:*",
    "s3:ObjectTagging:Put",
    "s3:ObjectTagging:Delete",
    "s3:ObjectAcl:Put",
];

/// Most destination configurations one document may hold: the overlap check compares every
/// pair, so it is bounded before it runs.
pub const MAX_CONFIGURATIONS: usize = 1000;

/// Where a configuration sends its events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DestKind {
    Queue,
    Topic,
    Lambda,
    EventBridge,
}

impl DestKind {
    pub fn name(self) -> &'static str {
        match self {
            DestKind::Queue => "queue",
            DestKind::Topic => "topic",
            DestKind::Lambda => "lambda",
            DestKind::EventBridge => "eventbridge",
        }
    }
}

/// One `QueueConfiguration` / `TopicConfiguration` / `CloudFunctionConfiguration`.
#[derive(Debug, Clone)]
pub struct Rule {
    pub id: String,
    pub kind: DestKind,
    pub arn: String,
    pub events: Vec<String>,
    pub prefix: String,
    pub suffix: String,
}

impl Rule {
    /// Whether this rule asks for `event` (`s3:ObjectCreated:Put`) on `key`.
    pub fn wants(&self, event: &str, key: &str) -> bool {
        key.starts_with(&self.prefix)
            && key.ends_with(&self.suffix)
            && self.events.iter().any(|e| event_matches(e, event))
    }
}

/// The parsed configuration of one bucket.
#[derive(Debug, Clone, Default)]
pub struct Notification {
    pub rules: Vec<Rule>,
    /// `EventBridgeConfiguration` present: every event also goes to the default event bus.
    pub event_bridge: bool,
}

impl Notification {
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty() && !self.event_bridge
    }

    /// The stored document's form; a document that no longer parses configures nothing.
    pub fn from_doc(doc: &str) -> Notification {
        crate::wire::xml::parse(doc.as_bytes())
            .ok()
            .and_then(|root| parse(&root, None).ok())
            .unwrap_or_default()
    }
}

/// `pattern` (`s3:ObjectCreated:*` or an exact name) covers `event`.
fn event_matches(pattern: &str, event: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(family) => event.starts_with(family),
        None => pattern == event,
    }
}

/// Two event patterns share an event type.
fn events_overlap(a: &str, b: &str) -> bool {
    event_matches(a, b) || event_matches(b, a)
}

const TARGETS: [(&str, &str, DestKind, &str); 3] = [
    ("QueueConfiguration", "Queue", DestKind::Queue, "sqs"),
    ("TopicConfiguration", "Topic", DestKind::Topic, "sns"),
    (
        "CloudFunctionConfiguration",
        "CloudFunction",
        DestKind::Lambda,
        "lambda",
    ),
];

/// The region of `arn:aws:{service}:{region}:{account}:{name}` (Lambda: `…:function:{name}`),
/// if the ARN has that shape.
fn arn_region<'a>(arn: &'a str, service: &str) -> Option<&'a str> {
    let parts: Vec<&str> = arn.splitn(7, ':').collect();
    let shape = match service {
        "lambda" => parts.len() == 7 && parts[5] == "function" && !parts[6].is_empty(),
        _ => parts.len() == 6 && !parts[5].is_empty(),
    };
    (shape
        && parts[0] == "arn"
        && parts[1].starts_with("aws")
        && parts[2] == service
        && !parts[3].is_empty()
        && !parts[4].is_empty())
    .then(|| parts[3])
}

/// Longest configuration `Id` and filter-rule value S3 accepts.
const MAX_ID: usize = 255;
const MAX_FILTER_VALUE: usize = 1024;

const EVENT_OVERLAP: &str =
    "Configurations overlap. Configurations on the same bucket cannot share a common event type.";

/// Parses and checks a `NotificationConfiguration` as S3 does; destinations must be in
/// `bucket_region` when it is given (a document already stored is not checked again).
pub fn parse(root: &Element, bucket_region: Option<&str>) -> S3Result<Notification> {
    if root.name != "NotificationConfiguration" {
        return Err(S3Error::malformed_xml());
    }
    if root.children.len() > MAX_CONFIGURATIONS {
        return Err(S3Error::malformed_xml());
    }
    let mut out = Notification::default();
    for c in &root.children {
        if c.name == "EventBridgeConfiguration" {
            out.event_bridge = true;
            continue;
        }
        let Some(&(_, target, kind, service)) = TARGETS.iter().find(|t| t.0 == c.name) else {
            return Err(S3Error::malformed_xml());
        };
        let arn = c
            .child_text(target)
            .map(str::trim)
            .ok_or_else(S3Error::malformed_xml)?;
        let events: Vec<String> = c
            .children_named("Event")
            .map(|e| e.text.trim().to_string())
            .collect();
        if events.is_empty() {
            return Err(S3Error::malformed_xml());
        }
        if let Some(bad) = events.iter().find(|e| !EVENTS.contains(&e.as_str())) {
            return Err(S3Error::invalid_argument(
                "The event is not supported for notifications",
                "Event",
                bad.as_str(),
            ));
        }
        let Some(region) = arn_region(arn, service) else {
            return Err(S3Error::invalid_argument(
                "The ARN could not be parsed",
                target,
                arn,
            ));
        };
        if bucket_region.is_some_and(|b| b != region) {
            return Err(S3Error::with_message(
                Code::InvalidArgument,
                "The notification destination service region is not valid for the bucket location constraint",
            ));
        }
        let id = c.child_text("Id").unwrap_or("").trim();
        if id.len() > MAX_ID {
            return Err(S3Error::with_message(
                Code::InvalidArgument,
                "ID length exceeded allowed limit of 255",
            ));
        }
        // One configuration may not name an event type twice (`*` and one of its events).
        for (i, a) in events.iter().enumerate() {
            if let Some(b) = events[i + 1..].iter().find(|b| events_overlap(a, b)) {
                return Err(S3Error::with_message(Code::InvalidArgument, EVENT_OVERLAP)
                    .extra("ArgumentName", "Event")
                    .extra("ArgumentValue", format!("{a}, {b}")));
            }
        }
        let (prefix, suffix) = filter_rules(c)?;
        out.rules.push(Rule {
            id: id.to_string(),
            kind,
            arn: arn.to_string(),
            events,
            prefix,
            suffix,
        });
    }
    check_overlaps(&out.rules)?;
    Ok(out)
}

/// `Filter.S3Key.FilterRule`: at most one prefix and one suffix rule.
fn filter_rules(c: &Element) -> S3Result<(String, String)> {
    let (mut prefix, mut suffix) = (None, None);
    let Some(filter) = c.child("Filter") else {
        return Ok((String::new(), String::new()));
    };
    let key = filter.child("S3Key").ok_or_else(S3Error::malformed_xml)?;
    if key.child("FilterRule").is_none() {
        return Err(S3Error::malformed_xml());
    }
    for rule in key.children_named("FilterRule") {
        let name = rule.child_text("Name").unwrap_or("").trim();
        let value = rule.child_text("Value").unwrap_or("").to_string();
        let slot = match name.to_ascii_lowercase().as_str() {
            "prefix" => &mut prefix,
            "suffix" => &mut suffix,
            _ => {
                return Err(S3Error::invalid_argument(
                    "filter rule name must be either prefix or suffix",
                    "FilterRule.Name",
                    name,
                ))
            }
        };
        if slot.is_some() {
            return Err(S3Error::with_message(
                Code::InvalidArgument,
                format!(
                    "Cannot specify more than one {} rule in a filter.",
                    name.to_ascii_lowercase()
                ),
            ));
        }
        if value.len() > MAX_FILTER_VALUE {
            return Err(S3Error::with_message(
                Code::InvalidArgument,
                "Size of filter rule value cannot exceed 1024 bytes in UTF-8 representation",
            ));
        }
        *slot = Some(value);
    }
    Ok((prefix.unwrap_or_default(), suffix.unwrap_or_default()))
}

/// Two configurations may not both take an event type for keys both filters admit: S3 asks
/// that their prefixes or their suffixes be disjoint.
fn check_overlaps(rules: &[Rule]) -> S3Result<()> {
    let overlap = |a: &str, b: &str, f: fn(&str, &str) -> bool| f(a, b) || f(b, a);
    for (i, a) in rules.iter().enumerate() {
        for b in &rules[i + 1..] {
            let Some((ea, eb)) = a
                .events
                .iter()
                .flat_map(|ea| b.events.iter().map(move |eb| (ea, eb)))
                .find(|(ea, eb)| events_overlap(ea, eb))
            else {
                continue;
            };
            let prefixes = overlap(&a.prefix, &b.prefix, |x, y| x.starts_with(y));
            let suffixes = overlap(&a.suffix, &b.suffix, |x, y| x.ends_with(y));
            if !(prefixes && suffixes) {
                continue;
            }
            let unfiltered = [a, b]
                .iter()
                .all(|r| r.prefix.is_empty() && r.suffix.is_empty());
            let message = if unfiltered {
                EVENT_OVERLAP
            } else {
                "Configuration is ambiguously defined. Cannot have overlapping suffixes in two rules if the prefixes are overlapping for the same event type."
            };
            return Err(S3Error::with_message(Code::InvalidArgument, message)
                .extra("ArgumentName", "Event")
                .extra("ArgumentValue", format!("{ea}, {eb}")));
        }
    }
    Ok(())
}

/// The document to store: as sent, unless a configuration has no `Id`; then rewritten with
/// one generated for each, as S3 does (GetBucketNotificationConfiguration shows them).
pub fn with_ids(text: String, root: &Element) -> String {
    let needs_id = |c: &Element| TARGETS.iter().any(|t| t.0 == c.name) && c.child("Id").is_none();
    if !root.children.iter().any(needs_id) {
        return text;
    }
    let mut root = root.clone();
    for c in root.children.iter_mut() {
        if needs_id(c) {
            c.children.insert(
                0,
                Element {
                    name: "Id".into(),
                    text: crate::checksum::b64(crate::ids::uuid().as_bytes()),
                    children: Vec::new(),
                },
            );
        }
    }
    let mut w = XmlWriter::new();
    w.root("NotificationConfiguration").children_of(&root);
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(body: &str) -> S3Result<Notification> {
        let xml = format!("<NotificationConfiguration>{body}</NotificationConfiguration>");
        parse(
            &crate::wire::xml::parse(xml.as_bytes()).unwrap(),
            Some("us-east-1"),
        )
    }

    const Q: &str = "<Queue>arn:aws:sqs:us-east-1:000000000000:q</Queue>";

    #[test]
    fn wildcards_filters_and_overlaps() {
        let n = doc(&format!("<QueueConfiguration>{Q}<Event>s3:ObjectCreated:*</Event><Filter><S3Key><FilterRule><Name>prefix</Name><Value>in/</Value></FilterRule><FilterRule><Name>Suffix</Name><Value>.jpg</Value></FilterRule></S3Key></Filter></QueueConfiguration>")).unwrap();
        let r = &n.rules[0];
        assert!(r.wants("s3:ObjectCreated:Copy", "in/a.jpg"));
        assert!(!r.wants("s3:ObjectCreated:Copy", "in/a.png"));
        assert!(!r.wants("s3:ObjectRemoved:Delete", "in/a.jpg"));
        // Disjoint prefixes may share events; overlapping ones may not.
        let two = |p1: &str, p2: &str| {
            doc(&format!("<QueueConfiguration>{Q}<Event>s3:ObjectCreated:*</Event><Filter><S3Key><FilterRule><Name>prefix</Name><Value>{p1}</Value></FilterRule></S3Key></Filter></QueueConfiguration><QueueConfiguration>{Q}<Event>s3:ObjectCreated:Put</Event><Filter><S3Key><FilterRule><Name>prefix</Name><Value>{p2}</Value></FilterRule></S3Key></Filter></QueueConfiguration>"))
        };
        assert!(two("a/", "b/").is_ok());
        assert!(two("a/", "a/b/").is_err());
        assert!(doc("<QueueConfiguration><Queue>sqs</Queue><Event>s3:ObjectCreated:*</Event></QueueConfiguration>").is_err());
        // A destination in another region than the bucket's.
        assert!(doc("<QueueConfiguration><Queue>arn:aws:sqs:eu-west-1:000000000000:q</Queue><Event>s3:ObjectCreated:*</Event></QueueConfiguration>").is_err());
        // An event type named twice in one configuration.
        assert!(doc(&format!("<QueueConfiguration>{Q}<Event>s3:ObjectCreated:*</Event><Event>s3:ObjectCreated:Put</Event></QueueConfiguration>")).is_err());
    }
}
