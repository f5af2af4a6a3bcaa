//! Event records in the shapes AWS documents: the S3 event record (`{"Records":[…]}` for
//! queues and Lambda), the SNS HTTP-subscription envelope for topics, EventBridge's event, and
//! `s3:TestEvent`.

use super::{Change, EventName, Origin};
use crate::clock::{iso8601, Millis};
use serde_json::{json, Map, Value};

/// What every record of one event shares.
pub struct Context<'a> {
    pub bucket: &'a str,
    pub region: &'a str,
    pub account: &'a str,
    pub time: Millis,
    pub sequencer: &'a str,
    pub origin: &'a Origin,
}

/// The object key as S3 writes it in records: form-URL-encoded (space as `+`), `/` kept.
pub fn encode_key(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    for b in key.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' | b'/' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// One S3 event record (`Records[i]`).
pub fn s3_record(cx: &Context, change: &Change, configuration_id: &str) -> Value {
    let mut object = Map::new();
    object.insert("key".into(), encode_key(&change.key).into());
    if let Some(size) = change.size {
        object.insert("size".into(), size.into());
    }
    if let Some(etag) = &change.etag {
        object.insert("eTag".into(), etag.as_str().into());
    }
    if let Some(v) = &change.version_id {
        object.insert("versionId".into(), v.as_ref().into());
    }
    object.insert("sequencer".into(), cx.sequencer.into());
    let mut record = json!({
        "eventVersion": change.event.version(),
        "eventSource": "aws:s3",
        "awsRegion": cx.region,
        "eventTime": iso8601(cx.time),
        "eventName": change.event.name(),
        "userIdentity": { "principalId": cx.origin.principal },
        "requestParameters": { "sourceIPAddress": cx.origin.source_ip },
        "responseElements": {
            "x-amz-request-id": cx.origin.request_id,
            "x-amz-id-2": cx.origin.host_id,
        },
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": configuration_id,
            "bucket": {
                "name": cx.bucket,
                "ownerIdentity": { "principalId": cx.account },
                "arn": format!("arn:aws:s3:::{}", cx.bucket),
            },
            "object": object,
        },
    });
    if let Some((expiry, class)) = change.restore {
        record["glacierEventData"] = json!({ "restoreEventData": {
            "lifecycleRestorationExpiryTime": iso8601(expiry),
            "lifecycleRestoreStorageClass": class,
        }});
    }
    if let (EventName::LifecycleTransition, Some(class)) = (change.event, change.storage_class) {
        record["lifecycleEventData"] = json!({ "transitionEventData": {
            "destinationStorageClass": class,
        }});
    }
    record
}

/// The message S3 sends to a destination when a configuration naming it is put.
pub fn test_event(bucket: &str, time: Millis, origin: &Origin) -> Value {
    json!({
        "Service": "Amazon S3",
        "Event": "s3:TestEvent",
        "Time": iso8601(time),
        "Bucket": bucket,
        "RequestId": origin.request_id,
        "HostId": origin.host_id,
    })
}

/// A topic's delivery to an HTTP subscription: the S3 message as the envelope's `Message`.
pub fn sns_envelope(topic_arn: &str, message: &Value, time: Millis, message_id: &str) -> Value {
    let region = topic_arn.split(':').nth(3).unwrap_or("us-east-1");
    json!({
        "Type": "Notification",
        "MessageId": message_id,
        "TopicArn": topic_arn,
        "Subject": "Amazon S3 Notification",
        "Message": message.to_string(),
        "Timestamp": iso8601(time),
        "SignatureVersion": "1",
        "Signature": "",
        "SigningCertURL": format!("https://sns.{region}.amazonaws.com/SimpleNotificationService.pem"),
        "UnsubscribeURL": format!("https://sns.{region}.amazonaws.com/?Action=Unsubscribe&SubscriptionArn={topic_arn}"),
    })
}

/// The event S3 puts on the default EventBridge bus.
pub fn event_bridge(cx: &Context, change: &Change, id: &str) -> Value {
    let mut object = Map::new();
    object.insert("key".into(), change.key.as_ref().into());
    if let Some(size) = change.size {
        object.insert("size".into(), size.into());
    }
    if let Some(etag) = &change.etag {
        object.insert("etag".into(), etag.as_str().into());
    }
    if let Some(v) = &change.version_id {
        object.insert("version-id".into(), v.as_ref().into());
    }
    object.insert("sequencer".into(), cx.sequencer.into());
    let (detail_type, reason, deletion) = change.event.event_bridge();
    let mut detail = json!({
        "version": "0",
        "bucket": { "name": cx.bucket },
        "object": object,
        "request-id": cx.origin.request_id,
        "requester": cx.origin.requester(cx.account),
        "source-ip-address": cx.origin.source_ip,
    });
    if !reason.is_empty() {
        detail["reason"] = reason.into();
    }
    if let Some(d) = deletion {
        detail["deletion-type"] = d.into();
    }
    if let Some(class) = change.storage_class {
        detail["destination-storage-class"] = class.into();
    }
    let secs = cx.time.div_euclid(1000).saturating_mul(1000);
    let time = iso8601(secs).replace(".000Z", "Z");
    json!({
        "version": "0",
        "id": id,
        "detail-type": detail_type,
        "source": "aws.s3",
        "account": cx.account,
        "time": time,
        "region": cx.region,
        "resources": [format!("arn:aws:s3:::{}", cx.bucket)],
        "detail": detail,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn keys_are_form_encoded() {
        assert_eq!(super::encode_key("a b/c=d+é"), "a+b/c%3Dd%2B%C3%A9");
    }
}
