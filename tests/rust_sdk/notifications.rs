//! Event notifications: configurations checked as S3 checks them, records delivered to a real
//! webhook receiver in AWS's documented event structure, retries, the delivery log and runs.

use crate::common::*;
use aws_sdk_s3::operation::{RequestId, RequestIdExt};
use aws_sdk_s3::types::*;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const QUEUE: &str = "arn:aws:sqs:us-east-1:000000000000:events";
const TOPIC: &str = "arn:aws:sns:us-east-1:000000000000:topic";

async fn hook(t: &Twin, run: &str, arn: &str, url: &str) {
    t.server.run(run);
    let (s, body) = admin(
        t,
        "POST",
        &format!("/_s3twin/webhooks?runId={run}"),
        Some(json!({ "arn": arn, "url": url })),
    )
    .await;
    assert_eq!(s, 200, "{body}");
}

/// The delivery log once `n` entries matching `filter` settled (the wait form).
async fn log_after(t: &Twin, run: &str, n: usize, filter: &str) -> Vec<Value> {
    let (s, body) = admin(
        t,
        "GET",
        &format!("/_s3twin/notifications?runId={run}&wait={n}&timeout=10s{filter}"),
        None,
    )
    .await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["settled"], true, "{body}");
    body["notifications"].as_array().expect("list").clone()
}

fn queue(events: &[&str], prefix: Option<&str>) -> QueueConfiguration {
    let mut q = QueueConfiguration::builder().queue_arn(QUEUE);
    for e in events {
        q = q.events(Event::from(*e));
    }
    if let Some(p) = prefix {
        q = q.filter(
            NotificationConfigurationFilter::builder()
                .key(
                    S3KeyFilter::builder()
                        .filter_rules(
                            FilterRule::builder()
                                .name(FilterRuleName::Prefix)
                                .value(p)
                                .build(),
                        )
                        .build(),
                )
                .build(),
        );
    }
    q.build().expect("queue")
}

async fn configure(
    c: &aws_sdk_s3::Client,
    b: &str,
    cfg: NotificationConfiguration,
) -> Result<(), String> {
    c.put_bucket_notification_configuration()
        .bucket(b)
        .notification_configuration(cfg)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| {
            let (code, status) = error_parts(&e);
            format!("{code} {status} {}", error_message(&e).1)
        })
}

/// The one record of a `{"Records":[…]}` delivery, checked against the fields every S3 event
/// record has (AWS's "Event message structure").
fn record_of(body: &Value, bucket: &str, event: &str) -> Value {
    let records = body["Records"].as_array().expect("Records");
    assert_eq!(records.len(), 1, "{body}");
    let r = records[0].clone();
    assert_eq!(r["eventSource"], "aws:s3");
    assert_eq!(r["awsRegion"], "us-east-1");
    assert_eq!(r["eventName"], event, "{r}");
    let time = r["eventTime"].as_str().expect("eventTime");
    assert!(time.ends_with('Z') && time.len() == 24, "{time}");
    assert!(r["userIdentity"]["principalId"].is_string());
    assert!(r["requestParameters"]["sourceIPAddress"].is_string());
    assert_eq!(r["s3"]["s3SchemaVersion"], "1.0");
    assert_eq!(r["s3"]["bucket"]["name"], bucket);
    assert_eq!(r["s3"]["bucket"]["arn"], format!("arn:aws:s3:::{bucket}"));
    assert!(r["s3"]["bucket"]["ownerIdentity"]["principalId"].is_string());
    let seq = r["s3"]["object"]["sequencer"].as_str().expect("sequencer");
    assert!(seq.len() >= 16 && seq.bytes().all(|b| b.is_ascii_hexdigit()));
    r
}

#[tokio::test]
async fn put_copy_complete_tagging_acl_and_deletes_reach_the_webhook() {
    let t = Twin::start().await;
    let c = run_client(&t, "ev-a");
    let rx = Receiver::start(vec![]).await;
    hook(&t, "ev-a", QUEUE, &rx.url).await;
    let b = new_bucket(&c, "ev").await;
    let cfg = NotificationConfiguration::builder()
        .queue_configurations(queue(
            &[
                "s3:ObjectCreated:*",
                "s3:ObjectRemoved:*",
                "s3:ObjectTagging:*",
                "s3:ObjectAcl:Put",
            ],
            None,
        ))
        .build();
    configure(&c, &b, cfg).await.expect("configure");
    // S3 sends a test event to the destination when the configuration is put.
    let test = log_after(&t, "ev-a", 1, "").await;
    assert_eq!(test[0]["eventName"], "s3:TestEvent");
    let first = &rx.received()[0];
    assert_eq!(first.body["Event"], "s3:TestEvent");
    assert_eq!(first.body["Service"], "Amazon S3");
    assert_eq!(first.body["Bucket"], b.as_str());
    assert_eq!(first.header("content-type"), Some("application/json"));
    assert_eq!(first.path, "/hook");
    // A configuration without an Id was given one, as S3 does.
    let got = c
        .get_bucket_notification_configuration()
        .bucket(&b)
        .send()
        .await
        .expect("get");
    let id = got.queue_configurations()[0].id().expect("id").to_string();
    assert!(!id.is_empty());

    let put = c
        .put_object()
        .bucket(&b)
        .key("dir/a b=c.txt")
        .body(b"hello".to_vec().into())
        .send()
        .await
        .expect("put");
    c.copy_object()
        .bucket(&b)
        .key("copy.txt")
        .copy_source(format!("{b}/dir/a%20b%3Dc.txt"))
        .send()
        .await
        .expect("copy");
    let up = c
        .create_multipart_upload()
        .bucket(&b)
        .key("mp")
        .send()
        .await
        .expect("create");
    let part = c
        .upload_part()
        .bucket(&b)
        .key("mp")
        .upload_id(up.upload_id().expect("id"))
        .part_number(1)
        .body(b"part".to_vec().into())
        .send()
        .await
        .expect("part");
    c.complete_multipart_upload()
        .bucket(&b)
        .key("mp")
        .upload_id(up.upload_id().expect("id"))
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .parts(
                    CompletedPart::builder()
                        .part_number(1)
                        .e_tag(part.e_tag().expect("etag"))
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .expect("complete");
    c.put_object_tagging()
        .bucket(&b)
        .key("mp")
        .tagging(
            Tagging::builder()
                .tag_set(Tag::builder().key("k").value("v").build().expect("tag"))
                .build()
                .expect("tagging"),
        )
        .send()
        .await
        .expect("tag");
    c.delete_object_tagging()
        .bucket(&b)
        .key("mp")
        .send()
        .await
        .expect("untag");
    c.put_object_acl()
        .bucket(&b)
        .key("mp")
        .acl(ObjectCannedAcl::Private)
        .send()
        .await
        .expect("acl");
    c.delete_object()
        .bucket(&b)
        .key("copy.txt")
        .send()
        .await
        .expect("delete");
    // DeleteObjects raises one event per key.
    c.delete_objects()
        .bucket(&b)
        .delete(
            Delete::builder()
                .objects(ObjectIdentifier::builder().key("mp").build().expect("id"))
                .objects(
                    ObjectIdentifier::builder()
                        .key("dir/a b=c.txt")
                        .build()
                        .expect("id"),
                )
                .build()
                .expect("delete"),
        )
        .send()
        .await
        .expect("delete objects");

    let log = log_after(&t, "ev-a", 10, "").await;
    assert!(log.iter().all(|e| e["status"] == "delivered"), "{log:?}");
    let bodies: Vec<Value> = rx.received().into_iter().map(|r| r.body).collect();
    assert_eq!(bodies.len(), 10);
    let removed: Vec<Value> = bodies[8..]
        .iter()
        .map(|x| record_of(x, &b, "ObjectRemoved:Delete")["s3"]["object"]["key"].clone())
        .collect();
    assert_eq!(removed, [json!("mp"), json!("dir/a+b%3Dc.txt")]);

    let r = record_of(&bodies[1], &b, "ObjectCreated:Put");
    assert_eq!(r["eventVersion"], "2.1");
    assert_eq!(r["s3"]["configurationId"], id.as_str());
    // Keys are form-URL-encoded in records.
    assert_eq!(r["s3"]["object"]["key"], "dir/a+b%3Dc.txt");
    assert_eq!(r["s3"]["object"]["size"], 5);
    assert_eq!(
        r["s3"]["object"]["eTag"],
        "5d41402abc4b2a76b9719d911017c592"
    );
    // Unversioned: no versionId.
    assert!(r["s3"]["object"].get("versionId").is_none(), "{r}");
    assert_eq!(
        r["responseElements"]["x-amz-request-id"],
        put.request_id().expect("request id")
    );
    assert_eq!(
        r["responseElements"]["x-amz-id-2"],
        put.extended_request_id().expect("id-2")
    );
    let copy = record_of(&bodies[2], &b, "ObjectCreated:Copy");
    assert_eq!(copy["s3"]["object"]["key"], "copy.txt");
    let mp = record_of(&bodies[3], &b, "ObjectCreated:CompleteMultipartUpload");
    assert_eq!(mp["s3"]["object"]["size"], 4);
    assert!(mp["s3"]["object"]["eTag"]
        .as_str()
        .is_some_and(|e| e.ends_with("-1")));
    let tag = record_of(&bodies[4], &b, "ObjectTagging:Put");
    assert_eq!(tag["eventVersion"], "2.3");
    record_of(&bodies[5], &b, "ObjectTagging:Delete");
    let acl = record_of(&bodies[6], &b, "ObjectAcl:Put");
    assert_eq!(acl["eventVersion"], "2.3");
    let del = record_of(&bodies[7], &b, "ObjectRemoved:Delete");
    assert!(del["s3"]["object"].get("size").is_none(), "{del}");
    // Sequencers order the events.
    let seq = |v: &Value| v["s3"]["object"]["sequencer"].as_str().unwrap().to_string();
    assert!(seq(&r) < seq(&copy) && seq(&copy) < seq(&del));
}

#[tokio::test]
async fn versioned_delete_raises_delete_marker_created_with_its_version() {
    let t = Twin::start().await;
    let c = run_client(&t, "ev-v");
    let rx = Receiver::start(vec![]).await;
    hook(&t, "ev-v", QUEUE, &rx.url).await;
    let b = new_bucket(&c, "evv").await;
    set_versioning(&c, &b, BucketVersioningStatus::Enabled).await;
    configure(
        &c,
        &b,
        NotificationConfiguration::builder()
            .queue_configurations(queue(&["s3:ObjectRemoved:*", "s3:ObjectCreated:Put"], None))
            .build(),
    )
    .await
    .expect("configure");
    let put = c
        .put_object()
        .bucket(&b)
        .key("k")
        .body(b"v1".to_vec().into())
        .send()
        .await
        .expect("put");
    let marker = c
        .delete_object()
        .bucket(&b)
        .key("k")
        .send()
        .await
        .expect("delete");
    c.delete_object()
        .bucket(&b)
        .key("k")
        .version_id(put.version_id().expect("vid"))
        .send()
        .await
        .expect("delete version");
    // Removing the delete marker itself is a Delete of that version.
    c.delete_object()
        .bucket(&b)
        .key("k")
        .version_id(marker.version_id().expect("marker id"))
        .send()
        .await
        .expect("delete marker");
    log_after(&t, "ev-v", 5, "").await;
    let bodies: Vec<Value> = rx.received().into_iter().map(|r| r.body).collect();
    let created = record_of(&bodies[1], &b, "ObjectCreated:Put");
    assert_eq!(
        created["s3"]["object"]["versionId"],
        put.version_id().unwrap()
    );
    let m = record_of(&bodies[2], &b, "ObjectRemoved:DeleteMarkerCreated");
    assert_eq!(m["s3"]["object"]["versionId"], marker.version_id().unwrap());
    let gone = record_of(&bodies[3], &b, "ObjectRemoved:Delete");
    assert_eq!(gone["s3"]["object"]["versionId"], put.version_id().unwrap());
    let unmarked = record_of(&bodies[4], &b, "ObjectRemoved:Delete");
    assert_eq!(
        unmarked["s3"]["object"]["versionId"],
        marker.version_id().unwrap()
    );
}

#[tokio::test]
async fn filters_and_unregistered_destinations() {
    let t = Twin::start().await;
    let c = run_client(&t, "ev-f");
    let b = new_bucket(&c, "evf").await;
    configure(
        &c,
        &b,
        NotificationConfiguration::builder()
            .queue_configurations(queue(&["s3:ObjectCreated:Put"], Some("in/")))
            .build(),
    )
    .await
    .expect("configure");
    put(&c, &b, "out/x", b"x").await;
    put(&c, &b, "in/y", b"y").await;
    // No webhook for the ARN: the events are logged, undeliverable, filters applied.
    let created = log_after(&t, "ev-f", 1, "&eventName=ObjectCreated:*").await;
    assert_eq!(created.len(), 1);
    let (_, body) = admin(&t, "GET", "/_s3twin/notifications?runId=ev-f", None).await;
    let all = body["notifications"].as_array().expect("list");
    assert_eq!(all.len(), 2, "{body}"); // the test event and in/y
    assert_eq!(all[1]["key"], "in/y");
    assert_eq!(all[1]["status"], "undeliverable");
    assert_eq!(all[1]["destination"]["arn"], QUEUE);
    assert!(all[1]["url"].is_null());
    assert_eq!(
        all[1]["payload"]["Records"][0]["eventName"],
        "ObjectCreated:Put"
    );
    let (_, filtered) = admin(
        &t,
        "GET",
        "/_s3twin/notifications?runId=ev-f&prefix=zzz",
        None,
    )
    .await;
    assert_eq!(filtered["count"], 0);
    // An empty configuration turns notifications off.
    configure(&c, &b, NotificationConfiguration::builder().build())
        .await
        .expect("disable");
    put(&c, &b, "in/z", b"z").await;
    let (_, after) = admin(&t, "GET", "/_s3twin/notifications?runId=ev-f", None).await;
    assert_eq!(after["count"], 2, "{after}");
}

#[tokio::test]
async fn configurations_are_checked_as_s3_checks_them() {
    let t = Twin::start().await;
    let c = &t.client;
    let b = new_bucket(c, "evc").await;
    let both = |a: QueueConfiguration, b2: QueueConfiguration| {
        NotificationConfiguration::builder()
            .queue_configurations(a)
            .queue_configurations(b2)
            .build()
    };
    let err = configure(
        c,
        &b,
        both(
            queue(&["s3:ObjectCreated:*"], Some("logs/")),
            queue(&["s3:ObjectCreated:Put"], Some("logs/2026/")),
        ),
    )
    .await
    .expect_err("overlap");
    assert_eq!(err, "InvalidArgument 400 Configuration is ambiguously defined. Cannot have overlapping suffixes in two rules if the prefixes are overlapping for the same event type.");
    let err = configure(
        c,
        &b,
        both(
            queue(&["s3:ObjectRemoved:*"], None),
            queue(&["s3:ObjectRemoved:*"], None),
        ),
    )
    .await
    .expect_err("same event");
    assert_eq!(err, "InvalidArgument 400 Configurations overlap. Configurations on the same bucket cannot share a common event type.");
    // Disjoint prefixes may share an event type.
    configure(
        c,
        &b,
        both(
            queue(&["s3:ObjectCreated:*"], Some("a/")),
            queue(&["s3:ObjectCreated:*"], Some("b/")),
        ),
    )
    .await
    .expect("disjoint");
    let bad_arn = QueueConfiguration::builder()
        .queue_arn("not-an-arn")
        .events(Event::from("s3:ObjectCreated:*"))
        .build()
        .expect("queue");
    let err = configure(
        c,
        &b,
        NotificationConfiguration::builder()
            .queue_configurations(bad_arn)
            .build(),
    )
    .await
    .expect_err("bad arn");
    assert_eq!(err, "InvalidArgument 400 The ARN could not be parsed");
    // The envelope names the element and the value, as S3's does.
    let doc = "<NotificationConfiguration><QueueConfiguration><Queue>not-an-arn</Queue><Event>s3:ObjectCreated:*</Event></QueueConfiguration></NotificationConfiguration>";
    let (status, text) = raw(
        &t.addr(),
        format!(
            "PUT /{b}?notification HTTP/1.1\r\nHost: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{doc}",
            t.addr(),
            doc.len()
        )
        .as_bytes(),
    )
    .await;
    assert_eq!(status, 400, "{text}");
    assert_eq!(xml_value(&text, "ArgumentName").as_deref(), Some("Queue"));
    assert_eq!(
        xml_value(&text, "ArgumentValue").as_deref(),
        Some("not-an-arn")
    );
    let elsewhere = QueueConfiguration::builder()
        .queue_arn("arn:aws:sqs:eu-west-1:000000000000:q")
        .events(Event::from("s3:ObjectCreated:*"))
        .build()
        .expect("queue");
    let err = configure(
        c,
        &b,
        NotificationConfiguration::builder()
            .queue_configurations(elsewhere)
            .build(),
    )
    .await
    .expect_err("other region");
    assert_eq!(err, "InvalidArgument 400 The notification destination service region is not valid for the bucket location constraint");
    // A refused configuration leaves the previous one in place.
    let got = c
        .get_bucket_notification_configuration()
        .bucket(&b)
        .send()
        .await
        .expect("get");
    assert_eq!(got.queue_configurations().len(), 2);
}

#[tokio::test]
async fn a_failing_receiver_is_retried_and_every_attempt_logged() {
    let t = Twin::start().await;
    let c = run_client(&t, "ev-r");
    let rx = Receiver::start(vec![200, 500, 500, 200]).await;
    hook(&t, "ev-r", QUEUE, &rx.url).await;
    let b = new_bucket(&c, "evr").await;
    configure(
        &c,
        &b,
        NotificationConfiguration::builder()
            .queue_configurations(queue(&["s3:ObjectCreated:*"], None))
            .build(),
    )
    .await
    .expect("configure");
    put(&c, &b, "k", b"x").await;
    let log = log_after(&t, "ev-r", 1, "&eventName=ObjectCreated:Put").await;
    let e = &log[0];
    assert_eq!(e["status"], "delivered", "{e}");
    let attempts = e["attempts"].as_array().expect("attempts");
    let codes: Vec<&Value> = attempts.iter().map(|a| &a["status"]).collect();
    assert_eq!(codes, [&json!(500), &json!(500), &json!(200)]);
    assert!(attempts
        .iter()
        .all(|a| a["latencyMs"].is_u64() && a["time"].is_string()));
    assert_eq!(e["url"], rx.url.as_str());
    assert_eq!(rx.received().len(), 4);
}

#[tokio::test]
async fn a_receiver_that_is_down_never_slows_the_request() {
    let t = Twin::start().await;
    let c = run_client(&t, "ev-d");
    // A port nothing listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}/hook", closed.local_addr().expect("addr"));
    drop(closed);
    hook(&t, "ev-d", QUEUE, &url).await;
    let b = new_bucket(&c, "evd").await;
    configure(
        &c,
        &b,
        NotificationConfiguration::builder()
            .queue_configurations(queue(&["s3:ObjectCreated:*"], None))
            .build(),
    )
    .await
    .expect("configure");
    // Every delivery takes 5 attempts over 1.5 s of backoff; the PUTs do not wait for them.
    let started = Instant::now();
    for i in 0..5 {
        put(&c, &b, &format!("k{i}"), b"x").await;
    }
    assert!(
        started.elapsed() < Duration::from_millis(1000),
        "{:?}",
        started.elapsed()
    );
    let (_, body) = admin(
        &t,
        "GET",
        "/_s3twin/notifications?runId=ev-d&eventName=ObjectCreated:Put&status=pending",
        None,
    )
    .await;
    assert!(body["count"].as_u64().unwrap_or(0) >= 1, "{body}");
    let log = log_after(&t, "ev-d", 1, "&eventName=s3:TestEvent").await;
    assert_eq!(log[0]["status"], "failed");
    let attempts = log[0]["attempts"].as_array().expect("attempts");
    assert_eq!(attempts.len(), 5);
    assert!(attempts[0]["status"].is_null());
    assert!(attempts[0]["error"]
        .as_str()
        .is_some_and(|e| e.contains("connect")));
}

#[tokio::test]
async fn lifecycle_expiration_and_restores_raise_events_on_the_run_clock() {
    let t = Twin::start().await;
    let c = run_client(&t, "ev-l");
    let rx = Receiver::start(vec![]).await;
    hook(&t, "ev-l", QUEUE, &rx.url).await;
    let b = new_bucket(&c, "evl").await;
    put_expiration_rule(&c, &b, "tmp", "tmp/", 1).await;
    configure(
        &c,
        &b,
        NotificationConfiguration::builder()
            .queue_configurations(queue(
                &["s3:LifecycleExpiration:*", "s3:ObjectRestore:*"],
                None,
            ))
            .build(),
    )
    .await
    .expect("configure");
    put(&c, &b, "tmp/x", b"xyz").await;
    c.put_object()
        .bucket(&b)
        .key("cold")
        .storage_class(StorageClass::Glacier)
        .body(b"ice".to_vec().into())
        .send()
        .await
        .expect("put glacier");
    c.restore_object()
        .bucket(&b)
        .key("cold")
        .restore_request(
            RestoreRequest::builder()
                .days(1)
                .glacier_job_parameters(
                    GlacierJobParameters::builder()
                        .tier(Tier::Expedited)
                        .build()
                        .expect("params"),
                )
                .build(),
        )
        .send()
        .await
        .expect("restore");
    let (s, _) = admin(
        &t,
        "POST",
        "/_s3twin/clock?runId=ev-l",
        Some(json!({ "advance": "2d" })),
    )
    .await;
    assert_eq!(s, 200);
    log_after(&t, "ev-l", 4, "").await;
    let bodies: Vec<Value> = rx.received().into_iter().map(|r| r.body).collect();
    let post = record_of(&bodies[1], &b, "ObjectRestore:Post");
    assert_eq!(post["eventVersion"], "2.1");
    let names: Vec<&str> = bodies[2..]
        .iter()
        .map(|b| b["Records"][0]["eventName"].as_str().unwrap_or(""))
        .collect();
    let find = |name: &str| {
        bodies[2..]
            .iter()
            .find(|b| b["Records"][0]["eventName"] == name)
            .unwrap_or_else(|| panic!("{name} in {names:?}"))
    };
    let exp = record_of(
        find("LifecycleExpiration:Delete"),
        &b,
        "LifecycleExpiration:Delete",
    );
    assert_eq!(exp["eventVersion"], "2.3");
    assert_eq!(exp["userIdentity"]["principalId"], "s3.amazonaws.com");
    assert_eq!(
        exp["requestParameters"]["sourceIPAddress"],
        "s3.amazonaws.com"
    );
    assert_eq!(exp["s3"]["object"]["key"], "tmp/x");
    // The event happened on the run's clock: two days on.
    let (_, clock) = admin(&t, "GET", "/_s3twin/clock?runId=ev-l", None).await;
    let day = |s: &str| s[..10].to_string();
    assert_eq!(
        day(exp["eventTime"].as_str().unwrap()),
        day(clock["now"].as_str().unwrap())
    );
    let done = record_of(
        find("ObjectRestore:Completed"),
        &b,
        "ObjectRestore:Completed",
    );
    let restore = &done["glacierEventData"]["restoreEventData"];
    assert_eq!(restore["lifecycleRestoreStorageClass"], "GLACIER");
    assert!(restore["lifecycleRestorationExpiryTime"].is_string());
}

#[tokio::test]
async fn topics_get_the_sns_envelope_and_event_bridge_its_event() {
    let t = Twin::start().await;
    let c = run_client(&t, "ev-t");
    let rx = Receiver::start(vec![]).await;
    let bus = "arn:aws:events:us-east-1:000000000000:event-bus/default";
    hook(&t, "ev-t", TOPIC, &rx.url).await;
    hook(&t, "ev-t", bus, &rx.url).await;
    let b = new_bucket(&c, "evt").await;
    let topic = TopicConfiguration::builder()
        .id("to-topic")
        .topic_arn(TOPIC)
        .events(Event::from("s3:ObjectCreated:Put"))
        .build()
        .expect("topic");
    configure(
        &c,
        &b,
        NotificationConfiguration::builder()
            .topic_configurations(topic)
            .event_bridge_configuration(EventBridgeConfiguration::builder().build())
            .build(),
    )
    .await
    .expect("configure");
    put(&c, &b, "k.txt", b"hi").await;
    log_after(&t, "ev-t", 3, "").await;
    let got = rx.received();
    let sns = got
        .iter()
        .find(|r| {
            r.header("x-amz-sns-message-type") == Some("Notification")
                && r.body["Message"]
                    .as_str()
                    .is_some_and(|m| m.contains("Records"))
        })
        .expect("sns delivery");
    assert_eq!(sns.header("x-amz-sns-topic-arn"), Some(TOPIC));
    assert_eq!(sns.body["Type"], "Notification");
    assert_eq!(sns.body["TopicArn"], TOPIC);
    assert_eq!(sns.body["Subject"], "Amazon S3 Notification");
    let inner: Value = serde_json::from_str(sns.body["Message"].as_str().unwrap()).expect("json");
    let r = record_of(&inner, &b, "ObjectCreated:Put");
    assert_eq!(r["s3"]["configurationId"], "to-topic");
    let eb = got
        .iter()
        .find(|r| r.body["source"] == "aws.s3")
        .expect("eventbridge delivery");
    assert_eq!(eb.body["detail-type"], "Object Created");
    assert_eq!(eb.body["account"], "000000000000");
    assert_eq!(eb.body["resources"][0], format!("arn:aws:s3:::{b}"));
    assert_eq!(eb.body["detail"]["bucket"]["name"], b.as_str());
    assert_eq!(eb.body["detail"]["object"]["key"], "k.txt");
    assert_eq!(eb.body["detail"]["object"]["size"], 2);
    assert_eq!(eb.body["detail"]["reason"], "PutObject");
}

#[tokio::test]
async fn runs_have_their_own_webhooks_and_logs_and_reset_clears_them() {
    let t = Twin::start().await;
    let rx = Receiver::start(vec![]).await;
    hook(&t, "ev-1", QUEUE, &rx.url).await;
    let a = run_client(&t, "ev-1");
    let b2 = run_client(&t, "ev-2");
    for c in [&a, &b2] {
        c.create_bucket()
            .bucket("same")
            .send()
            .await
            .expect("create");
        configure(
            c,
            "same",
            NotificationConfiguration::builder()
                .queue_configurations(queue(&["s3:ObjectCreated:*"], None))
                .build(),
        )
        .await
        .expect("configure");
    }
    put(&a, "same", "k", b"x").await;
    put(&b2, "same", "k", b"x").await;
    let one = log_after(&t, "ev-1", 2, "").await;
    let two = log_after(&t, "ev-2", 2, "").await;
    assert!(one.iter().all(|e| e["status"] == "delivered"));
    assert!(two.iter().all(|e| e["status"] == "undeliverable"));
    assert_eq!(rx.received().len(), 2);
    let (_, hooks) = admin(&t, "GET", "/_s3twin/webhooks?runId=ev-2", None).await;
    assert_eq!(hooks["webhooks"], json!([]));
    let (s, _) = admin(&t, "POST", "/_s3twin/reset?runId=ev-1", None).await;
    assert_eq!(s, 200);
    let (_, log) = admin(&t, "GET", "/_s3twin/notifications?runId=ev-1", None).await;
    assert_eq!(log["count"], 0);
    let (_, hooks) = admin(&t, "GET", "/_s3twin/webhooks?runId=ev-1", None).await;
    assert_eq!(hooks["webhooks"], json!([]));
    let (_, log) = admin(&t, "GET", "/_s3twin/notifications?runId=ev-2", None).await;
    assert_eq!(log["count"], 2);
}

#[tokio::test]
async fn bad_webhooks_are_refused_and_change_nothing() {
    let t = Twin::start().await;
    t.server.run("ev-b");
    for body in [
        json!({ "arn": QUEUE, "url": "ftp://127.0.0.1/x" }),
        json!({ "arn": QUEUE, "url": "https://example.com/x" }),
        json!({ "arn": QUEUE, "url": "not a url" }),
        json!({ "arn": "queue", "url": "http://127.0.0.1:1/x" }),
        json!({ "arn": QUEUE }),
        json!({ "arn": QUEUE, "url": "http://127.0.0.1:1/x", "extra": 1 }),
        json!([1, 2]),
    ] {
        let (s, answer) = admin(
            &t,
            "POST",
            "/_s3twin/webhooks?runId=ev-b",
            Some(body.clone()),
        )
        .await;
        assert_eq!(s, 400, "{body} → {answer}");
        assert!(answer["error"].is_string(), "{answer}");
    }
    let (_, hooks) = admin(&t, "GET", "/_s3twin/webhooks?runId=ev-b", None).await;
    assert_eq!(hooks["webhooks"], json!([]));
    let (s, _) = admin(&t, "GET", "/_s3twin/notifications?runId=ev-b&wait=x", None).await;
    assert_eq!(s, 400);
    let (s, _) = admin(&t, "GET", "/_s3twin/notifications?runId=nope", None).await;
    assert_eq!(s, 404);
    // Removing: one by ARN, 404 for one that is not there.
    hook(&t, "ev-b", QUEUE, "http://127.0.0.1:1/x").await;
    let (s, _) = admin(
        &t,
        "DELETE",
        &format!("/_s3twin/webhooks?runId=ev-b&arn={TOPIC}"),
        None,
    )
    .await;
    assert_eq!(s, 404);
    let (s, hooks) = admin(
        &t,
        "DELETE",
        &format!("/_s3twin/webhooks?runId=ev-b&arn={QUEUE}"),
        None,
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(hooks["webhooks"], json!([]));
    // A run holds at most 1,000 webhooks; replacing one stays possible.
    let run = t.server.run("ev-b");
    for i in 0..1000 {
        run.set_webhook(&format!("{QUEUE}-{i}"), "http://127.0.0.1:1/x")
            .expect("room");
    }
    let (s, answer) = admin(
        &t,
        "POST",
        "/_s3twin/webhooks?runId=ev-b",
        Some(json!({ "arn": QUEUE, "url": "http://127.0.0.1:1/x" })),
    )
    .await;
    assert_eq!(s, 400, "{answer}");
    run.set_webhook(&format!("{QUEUE}-0"), "http://127.0.0.1:2/x")
        .expect("replace");
}

#[tokio::test]
async fn seeds_and_the_embedded_builder_carry_webhooks() {
    let rx = Receiver::start(vec![]).await;
    let server = s3twin::S3Server::builder()
        .port(0)
        .webhook(QUEUE, rx.url.clone())
        .webhook("not-an-arn", "http://127.0.0.1:1/")
        .notify_retry(2, Duration::from_millis(10))
        .build();
    server.start().await.expect("start");
    let t = Twin {
        client: client(&server.endpoint(), true),
        server,
    };
    // Every run starts with the builder's (usable) webhooks.
    let (_, hooks) = admin(&t, "GET", "/_s3twin/webhooks", None).await;
    assert_eq!(hooks["webhooks"], json!([{ "arn": QUEUE, "url": rx.url }]));
    let other = "arn:aws:sqs:us-east-1:000000000000:seeded";
    let (s, body) = admin(
        &t,
        "POST",
        "/_s3twin/seed?runId=ev-s",
        Some(json!({ "buckets": [{ "name": "seeded" }], "webhooks": { other: "http://127.0.0.1:1/x" } })),
    )
    .await;
    assert_eq!(s, 200, "{body}");
    let (_, hooks) = admin(&t, "GET", "/_s3twin/webhooks?runId=ev-s", None).await;
    assert_eq!(
        hooks["webhooks"],
        json!([{ "arn": QUEUE, "url": rx.url }, { "arn": other, "url": "http://127.0.0.1:1/x" }])
    );
    // A seed with a bad webhook changes nothing.
    let (s, body) = admin(
        &t,
        "POST",
        "/_s3twin/seed?runId=ev-s2",
        Some(json!({ "buckets": [{ "name": "never" }], "webhooks": { other: "ftp://x/" } })),
    )
    .await;
    assert_eq!(s, 400, "{body}");
    let c = run_client(&t, "ev-s2");
    assert!(c.head_bucket().bucket("never").send().await.is_err());
    // The RunHandle reads the log and waits on it.
    let run = t.server.run("default");
    t.client
        .create_bucket()
        .bucket("emb")
        .send()
        .await
        .expect("create");
    configure(
        &t.client,
        "emb",
        NotificationConfiguration::builder()
            .queue_configurations(queue(&["s3:ObjectCreated:*"], None))
            .build(),
    )
    .await
    .expect("configure");
    put(&t.client, "emb", "k", b"x").await;
    let log = run.notifications(2, Duration::from_secs(10)).await;
    assert_eq!(log.len(), 2);
    assert!(log.iter().all(|e| e["status"] == "delivered"), "{log:?}");
}

#[tokio::test]
async fn the_webhook_flag_configures_every_run() {
    let rx = Receiver::start(vec![]).await;
    let flag = format!("{QUEUE}={}", rx.url);
    let s = Spawned::start(&["--webhook", &flag]);
    let get = |path: &str| {
        format!(
            "GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            s.addr
        )
    };
    for run in ["default", "other"] {
        raw(&s.addr, format!("PUT /t/{run}/b HTTP/1.1\r\nHost: {}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", s.addr).as_bytes()).await;
        let (status, text) = raw(
            &s.addr,
            get(&format!("/_s3twin/webhooks?runId={run}")).as_bytes(),
        )
        .await;
        assert_eq!(status, 200);
        assert!(text.contains(&rx.url) && text.contains(QUEUE), "{text}");
    }
    // A bad flag stops the server before it listens.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_s3twin"))
        .args([
            "--port",
            "0",
            "--webhook",
            "arn:aws:sqs:us-east-1:000000000000:q=ftp://x/",
        ])
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("http://"));
}

#[tokio::test]
async fn lifecycle_transitions_raise_lifecycle_transition() {
    let t = Twin::start().await;
    let c = run_client(&t, "ev-x");
    let rx = Receiver::start(vec![]).await;
    hook(&t, "ev-x", QUEUE, &rx.url).await;
    let b = new_bucket(&c, "evx").await;
    c.put_bucket_lifecycle_configuration()
        .bucket(&b)
        .lifecycle_configuration(
            BucketLifecycleConfiguration::builder()
                .rules(
                    LifecycleRule::builder()
                        .id("cold")
                        .status(ExpirationStatus::Enabled)
                        .filter(LifecycleRuleFilter::builder().prefix("").build())
                        .transitions(
                            Transition::builder()
                                .days(30)
                                .storage_class(TransitionStorageClass::Glacier)
                                .build(),
                        )
                        .build()
                        .expect("rule"),
                )
                .build()
                .expect("lifecycle"),
        )
        .send()
        .await
        .expect("lifecycle");
    configure(
        &c,
        &b,
        NotificationConfiguration::builder()
            .queue_configurations(queue(&["s3:LifecycleTransition"], None))
            .build(),
    )
    .await
    .expect("configure");
    put(&c, &b, "big", &vec![7u8; 200 * 1024]).await;
    let (s, _) = admin(
        &t,
        "POST",
        "/_s3twin/clock?runId=ev-x",
        Some(json!({ "advance": "31d" })),
    )
    .await;
    assert_eq!(s, 200);
    log_after(&t, "ev-x", 2, "").await;
    let bodies: Vec<Value> = rx.received().into_iter().map(|r| r.body).collect();
    let r = record_of(&bodies[1], &b, "LifecycleTransition");
    assert_eq!(r["eventVersion"], "2.3");
    assert_eq!(
        r["lifecycleEventData"]["transitionEventData"]["destinationStorageClass"],
        "GLACIER"
    );
    assert_eq!(r["s3"]["object"]["size"], 200 * 1024);
}

#[tokio::test]
async fn lifecycle_expiry_in_a_versioned_bucket_creates_a_marker_event() {
    let t = Twin::start().await;
    let c = run_client(&t, "ev-m");
    let rx = Receiver::start(vec![]).await;
    hook(&t, "ev-m", QUEUE, &rx.url).await;
    let b = new_bucket(&c, "evm").await;
    set_versioning(&c, &b, BucketVersioningStatus::Enabled).await;
    put_expiration_rule(&c, &b, "all", "", 1).await;
    configure(
        &c,
        &b,
        NotificationConfiguration::builder()
            .queue_configurations(queue(&["s3:LifecycleExpiration:*"], None))
            .build(),
    )
    .await
    .expect("configure");
    put(&c, &b, "k", b"v").await;
    let (s, _) = admin(
        &t,
        "POST",
        "/_s3twin/clock?runId=ev-m",
        Some(json!({ "advance": "2d" })),
    )
    .await;
    assert_eq!(s, 200);
    log_after(&t, "ev-m", 2, "").await;
    let versions = c
        .list_object_versions()
        .bucket(&b)
        .send()
        .await
        .expect("versions");
    let marker = versions.delete_markers()[0]
        .version_id()
        .expect("marker id");
    let body = &rx.received()[1].body;
    let r = record_of(body, &b, "LifecycleExpiration:DeleteMarkerCreated");
    assert_eq!(r["eventVersion"], "2.3");
    assert_eq!(r["s3"]["object"]["versionId"], marker);
    assert!(r["s3"]["object"].get("size").is_none(), "{r}");
}
