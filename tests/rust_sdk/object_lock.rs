//! Object Lock on the run's clock: retention and legal hold through the SDK, protection of
//! locked versions against deletes, DeleteObjects and lifecycle, and AWS's errors (recorded
//! against AWS in LocalStack's validated snapshots, and AWS's own error texts).

use crate::common::*;
use aws_sdk_s3::primitives::DateTime;
use aws_sdk_s3::types::*;
use aws_sdk_s3::Client;

const LOCKED: &str = "Access Denied because object protected by object lock.";

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn in_days(days: i64) -> DateTime {
    DateTime::from_secs(now_secs() + days * 86_400)
}

async fn lock_bucket(c: &Client, name: &str) {
    c.create_bucket()
        .bucket(name)
        .object_lock_enabled_for_bucket(true)
        .send()
        .await
        .expect("create lock bucket");
}

async fn default_retention(c: &Client, b: &str, mode: ObjectLockRetentionMode, days: i32) {
    let cfg = ObjectLockConfiguration::builder()
        .object_lock_enabled(ObjectLockEnabled::Enabled)
        .rule(
            ObjectLockRule::builder()
                .default_retention(DefaultRetention::builder().mode(mode).days(days).build())
                .build(),
        )
        .build();
    c.put_object_lock_configuration()
        .bucket(b)
        .object_lock_configuration(cfg)
        .send()
        .await
        .expect("put lock configuration");
}

async fn put_version(c: &Client, b: &str, key: &str) -> String {
    c.put_object()
        .bucket(b)
        .key(key)
        .body(b"locked bytes".to_vec().into())
        .send()
        .await
        .expect("put")
        .version_id()
        .expect("version id")
        .to_string()
}

async fn delete_version(
    c: &Client,
    b: &str,
    key: &str,
    version: &str,
    bypass: bool,
) -> Result<(), (String, u16, String)> {
    let mut req = c.delete_object().bucket(b).key(key).version_id(version);
    if bypass {
        req = req.bypass_governance_retention(true);
    }
    req.send()
        .await
        .map(|_| ())
        .map_err(|e| error_with_status(&e))
}

fn denied() -> Result<(), (String, u16, String)> {
    Err(("AccessDenied".into(), 403, LOCKED.into()))
}

async fn set_retention(
    c: &Client,
    b: &str,
    key: &str,
    retention: ObjectLockRetention,
    bypass: bool,
) -> Result<(), (String, u16, String)> {
    let mut req = c
        .put_object_retention()
        .bucket(b)
        .key(key)
        .retention(retention);
    if bypass {
        req = req.bypass_governance_retention(true);
    }
    req.send()
        .await
        .map(|_| ())
        .map_err(|e| error_with_status(&e))
}

fn retention(mode: ObjectLockRetentionMode, until: DateTime) -> ObjectLockRetention {
    ObjectLockRetention::builder()
        .mode(mode)
        .retain_until_date(until)
        .build()
}

#[tokio::test]
async fn compliance_default_retention_ends_when_the_clock_passes_it() {
    let t = Twin::start().await;
    t.server.run("ol-c");
    let c = run_client(&t, "ol-c");
    lock_bucket(&c, "vault").await;
    default_retention(&c, "vault", ObjectLockRetentionMode::Compliance, 30).await;
    let v = put_version(&c, "vault", "report.pdf").await;

    let h = head(&c, "vault", "report.pdf").await;
    assert_eq!(
        h.object_lock_mode(),
        Some(&ObjectLockMode::Compliance),
        "the default rule applies to a version that sets none"
    );
    let until = h
        .object_lock_retain_until_date()
        .expect("retain-until")
        .secs();
    let created = h.last_modified().expect("last-modified").secs();
    assert!(
        (until - created - 30 * 86_400).abs() <= 1,
        "exactly 30 days after creation: {until} vs {created}"
    );

    assert_eq!(
        delete_version(&c, "vault", "report.pdf", &v, false).await,
        denied()
    );
    assert_eq!(
        delete_version(&c, "vault", "report.pdf", &v, true).await,
        denied(),
        "COMPLIANCE ignores the governance bypass"
    );
    // A delete without a version id only stacks a delete marker.
    let dm = c
        .delete_object()
        .bucket("vault")
        .key("report.pdf")
        .send()
        .await
        .expect("delete marker");
    assert_eq!(dm.delete_marker(), Some(true));
    // Shortening or weakening a COMPLIANCE retention is refused, even with a bypass.
    let shorter = retention(ObjectLockRetentionMode::Compliance, in_days(10));
    let weaker = retention(ObjectLockRetentionMode::Governance, in_days(60));
    for (r, bypass) in [(shorter, true), (weaker, true)] {
        let res = c
            .put_object_retention()
            .bucket("vault")
            .key("report.pdf")
            .version_id(&v)
            .retention(r)
            .bypass_governance_retention(bypass)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| error_with_status(&e));
        assert_eq!(res, denied());
    }

    advance(&t, "ol-c", "29d").await;
    assert_eq!(
        delete_version(&c, "vault", "report.pdf", &v, false).await,
        denied()
    );
    advance(&t, "ol-c", "2d").await;
    assert_eq!(
        delete_version(&c, "vault", "report.pdf", &v, false).await,
        Ok(()),
        "31 days later the version is deletable"
    );
    let left = c
        .list_object_versions()
        .bucket("vault")
        .send()
        .await
        .expect("versions");
    assert!(left.versions().is_empty());
}

#[tokio::test]
async fn retention_and_legal_hold_round_trip_and_governance_bypass() {
    let t = Twin::start().await;
    t.server.run("ol-g");
    let c = run_client(&t, "ol-g");
    lock_bucket(&c, "docs").await;
    let until = in_days(10);
    let put = c
        .put_object()
        .bucket("docs")
        .key("a.txt")
        .body(b"a".to_vec().into())
        .object_lock_mode(ObjectLockMode::Governance)
        .object_lock_retain_until_date(until)
        .send()
        .await
        .expect("put with lock headers");
    let v = put.version_id().expect("version").to_string();

    let got = c
        .get_object_retention()
        .bucket("docs")
        .key("a.txt")
        .version_id(&v)
        .send()
        .await
        .expect("get retention");
    let r = got.retention().expect("retention");
    assert_eq!(r.mode(), Some(&ObjectLockRetentionMode::Governance));
    assert_eq!(r.retain_until_date().map(|d| d.secs()), Some(until.secs()));

    let err = c
        .get_object_legal_hold()
        .bucket("docs")
        .key("a.txt")
        .send()
        .await
        .expect_err("never set");
    assert_eq!(
        error_with_status(&err),
        (
            "NoSuchObjectLockConfiguration".into(),
            404,
            "The specified object does not have a ObjectLock configuration".into()
        )
    );

    // GOVERNANCE: extending is free, shortening needs the bypass.
    let longer = retention(ObjectLockRetentionMode::Governance, in_days(20));
    assert_eq!(
        set_retention(&c, "docs", "a.txt", longer, false).await,
        Ok(())
    );
    let shorter = retention(ObjectLockRetentionMode::Governance, in_days(5));
    assert_eq!(
        set_retention(&c, "docs", "a.txt", shorter.clone(), false).await,
        denied()
    );
    assert_eq!(
        set_retention(&c, "docs", "a.txt", shorter, true).await,
        Ok(())
    );
    assert_eq!(
        delete_version(&c, "docs", "a.txt", &v, false).await,
        denied()
    );

    // A legal hold blocks the delete even with the bypass, until it is removed.
    let hold = |s| ObjectLockLegalHold::builder().status(s).build();
    c.put_object_legal_hold()
        .bucket("docs")
        .key("a.txt")
        .version_id(&v)
        .legal_hold(hold(ObjectLockLegalHoldStatus::On))
        .send()
        .await
        .expect("hold on");
    let h = head(&c, "docs", "a.txt").await;
    assert_eq!(
        h.object_lock_legal_hold_status(),
        Some(&ObjectLockLegalHoldStatus::On)
    );
    assert_eq!(h.object_lock_mode(), Some(&ObjectLockMode::Governance));
    assert_eq!(
        delete_version(&c, "docs", "a.txt", &v, true).await,
        denied()
    );
    c.put_object_legal_hold()
        .bucket("docs")
        .key("a.txt")
        .version_id(&v)
        .legal_hold(hold(ObjectLockLegalHoldStatus::Off))
        .send()
        .await
        .expect("hold off");
    let got = c
        .get_object_legal_hold()
        .bucket("docs")
        .key("a.txt")
        .send()
        .await
        .expect("get hold");
    assert_eq!(
        got.legal_hold().and_then(|h| h.status()),
        Some(&ObjectLockLegalHoldStatus::Off)
    );
    assert_eq!(delete_version(&c, "docs", "a.txt", &v, true).await, Ok(()));
}

#[tokio::test]
async fn removing_a_governance_retention_needs_the_bypass() {
    let t = Twin::start().await;
    lock_bucket(&t.client, "ol-rm").await;
    let v = put_version(&t.client, "ol-rm", "k").await;
    let r = retention(ObjectLockRetentionMode::Governance, in_days(3));
    assert_eq!(
        set_retention(&t.client, "ol-rm", "k", r, false).await,
        Ok(())
    );
    let empty = ObjectLockRetention::builder().build();
    assert_eq!(
        set_retention(&t.client, "ol-rm", "k", empty.clone(), false).await,
        denied()
    );
    assert_eq!(
        set_retention(&t.client, "ol-rm", "k", empty, true).await,
        Ok(())
    );
    let err = t
        .client
        .get_object_retention()
        .bucket("ol-rm")
        .key("k")
        .send()
        .await
        .expect_err("removed");
    assert_eq!(
        error_parts(&err),
        ("NoSuchObjectLockConfiguration".into(), 404)
    );
    assert_eq!(
        delete_version(&t.client, "ol-rm", "k", &v, false).await,
        Ok(())
    );
}

#[tokio::test]
async fn delete_objects_reports_locked_versions_per_key() {
    let t = Twin::start().await;
    let c = &t.client;
    lock_bucket(c, "ol-many").await;
    let free = put_version(c, "ol-many", "free").await;
    let held = c
        .put_object()
        .bucket("ol-many")
        .key("held")
        .body(b"h".to_vec().into())
        .object_lock_legal_hold_status(ObjectLockLegalHoldStatus::On)
        .send()
        .await
        .expect("put held")
        .version_id()
        .expect("version")
        .to_string();
    let ids = [("free", free.as_str()), ("held", held.as_str())]
        .into_iter()
        .map(|(k, v)| {
            ObjectIdentifier::builder()
                .key(k)
                .version_id(v)
                .build()
                .expect("id")
        })
        .collect::<Vec<_>>();
    let out = c
        .delete_objects()
        .bucket("ol-many")
        .delete(
            Delete::builder()
                .set_objects(Some(ids))
                .build()
                .expect("delete"),
        )
        .send()
        .await
        .expect("delete objects");
    let deleted: Vec<_> = out.deleted().iter().filter_map(|d| d.key()).collect();
    assert_eq!(deleted, ["free"]);
    let errors = out.errors();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].key(), Some("held"));
    assert_eq!(errors[0].version_id(), Some(held.as_str()));
    assert_eq!(errors[0].code(), Some("AccessDenied"));
    assert_eq!(errors[0].message(), Some(LOCKED));
}

#[tokio::test]
async fn lifecycle_keeps_locked_versions_until_their_retention_passes() {
    let t = Twin::start().await;
    t.server.run("ol-lc");
    let c = run_client(&t, "ol-lc");
    lock_bucket(&c, "logs").await;
    default_retention(&c, "logs", ObjectLockRetentionMode::Governance, 10).await;
    c.put_bucket_lifecycle_configuration()
        .bucket("logs")
        .lifecycle_configuration(
            BucketLifecycleConfiguration::builder()
                .rules(
                    LifecycleRule::builder()
                        .id("short")
                        .status(ExpirationStatus::Enabled)
                        .filter(LifecycleRuleFilter::builder().prefix("").build())
                        .expiration(LifecycleExpiration::builder().days(1).build())
                        .noncurrent_version_expiration(
                            NoncurrentVersionExpiration::builder()
                                .noncurrent_days(1)
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
        .expect("put lifecycle");
    let v1 = put_version(&c, "logs", "app.log").await;
    let v2 = put_version(&c, "logs", "app.log").await;

    let versions = |c: Client| async move {
        let out = c
            .list_object_versions()
            .bucket("logs")
            .send()
            .await
            .expect("versions");
        let mut ids: Vec<String> = out
            .versions()
            .iter()
            .filter_map(|v| v.version_id().map(str::to_string))
            .collect();
        ids.sort();
        (ids, out.delete_markers().len())
    };
    let mut both = vec![v1.clone(), v2.clone()];
    both.sort();

    // Three days on: the current version expired into a delete marker, and neither version
    // (noncurrent for days) was removed, both being locked for ten days.
    advance(&t, "ol-lc", "3d").await;
    assert_eq!(versions(c.clone()).await, (both, 1));
    // Past the retention, noncurrent-version expiration removes them.
    advance(&t, "ol-lc", "8d").await;
    assert_eq!(versions(c.clone()).await, (vec![], 1));
}

#[tokio::test]
async fn copies_and_multipart_uploads_take_their_own_lock() {
    let t = Twin::start().await;
    let c = &t.client;
    lock_bucket(c, "ol-cp").await;
    c.put_object()
        .bucket("ol-cp")
        .key("src")
        .body(b"s".to_vec().into())
        .object_lock_legal_hold_status(ObjectLockLegalHoldStatus::On)
        .send()
        .await
        .expect("put src");
    c.copy_object()
        .bucket("ol-cp")
        .key("plain-copy")
        .copy_source("ol-cp/src")
        .send()
        .await
        .expect("copy");
    let h = head(c, "ol-cp", "plain-copy").await;
    assert_eq!(
        h.object_lock_legal_hold_status(),
        None,
        "not the source's lock"
    );
    let until = in_days(2);
    c.copy_object()
        .bucket("ol-cp")
        .key("locked-copy")
        .copy_source("ol-cp/src")
        .object_lock_mode(ObjectLockMode::Compliance)
        .object_lock_retain_until_date(until)
        .send()
        .await
        .expect("copy with lock");
    let h = head(c, "ol-cp", "locked-copy").await;
    assert_eq!(h.object_lock_mode(), Some(&ObjectLockMode::Compliance));
    assert_eq!(
        h.object_lock_retain_until_date().map(|d| d.secs()),
        Some(until.secs())
    );

    let up = c
        .create_multipart_upload()
        .bucket("ol-cp")
        .key("mpu")
        .object_lock_mode(ObjectLockMode::Governance)
        .object_lock_retain_until_date(until)
        .object_lock_legal_hold_status(ObjectLockLegalHoldStatus::Off)
        .send()
        .await
        .expect("create upload");
    let id = up.upload_id().expect("id");
    let part = c
        .upload_part()
        .bucket("ol-cp")
        .key("mpu")
        .upload_id(id)
        .part_number(1)
        .body(b"part".to_vec().into())
        .send()
        .await
        .expect("part");
    c.complete_multipart_upload()
        .bucket("ol-cp")
        .key("mpu")
        .upload_id(id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .parts(
                    CompletedPart::builder()
                        .part_number(1)
                        .e_tag(part.e_tag().unwrap_or_default())
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .expect("complete");
    let h = head(c, "ol-cp", "mpu").await;
    assert_eq!(h.object_lock_mode(), Some(&ObjectLockMode::Governance));
    assert_eq!(
        h.object_lock_legal_hold_status(),
        Some(&ObjectLockLegalHoldStatus::Off)
    );
}

#[tokio::test]
async fn lock_requests_are_checked_as_aws_checks_them() {
    let t = Twin::start().await;
    let c = &t.client;
    let plain = new_bucket(c, "ol-plain").await;
    put(c, &plain, "k", b"x").await;
    let missing = (
        "InvalidRequest".to_string(),
        400,
        "Bucket is missing Object Lock Configuration".to_string(),
    );
    let r = retention(ObjectLockRetentionMode::Governance, in_days(1));
    assert_eq!(
        set_retention(c, &plain, "k", r, false).await,
        Err(missing.clone())
    );
    let err = c
        .get_object_legal_hold()
        .bucket(&plain)
        .key("k")
        .send()
        .await
        .expect_err("no lock");
    assert_eq!(error_with_status(&err), missing);
    let err = c
        .put_object()
        .bucket(&plain)
        .key("k2")
        .body(b"x".to_vec().into())
        .object_lock_legal_hold_status(ObjectLockLegalHoldStatus::On)
        .send()
        .await
        .expect_err("no lock");
    assert_eq!(error_with_status(&err), missing);
    let err = c
        .delete_object()
        .bucket(&plain)
        .key("k")
        .bypass_governance_retention(false)
        .send()
        .await
        .expect_err("bypass on a plain bucket");
    assert_eq!(
        error_with_status(&err),
        (
            "InvalidArgument".into(),
            400,
            "x-amz-bypass-governance-retention is only applicable to Object Lock enabled buckets."
                .into()
        )
    );

    let err = c
        .delete_objects()
        .bucket(&plain)
        .bypass_governance_retention(true)
        .delete(
            Delete::builder()
                .objects(ObjectIdentifier::builder().key("k").build().expect("id"))
                .build()
                .expect("delete"),
        )
        .send()
        .await
        .expect_err("bypass on a plain bucket");
    assert_eq!(error_parts(&err), ("InvalidArgument".into(), 400));

    lock_bucket(c, "ol-checks").await;
    let err = c
        .put_object()
        .bucket("ol-checks")
        .key("k")
        .body(b"x".to_vec().into())
        .object_lock_mode(ObjectLockMode::Governance)
        .send()
        .await
        .expect_err("mode without date");
    assert_eq!(
        error_with_status(&err),
        (
            "InvalidArgument".into(),
            400,
            "x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied"
                .into()
        )
    );
    put(c, "ol-checks", "k", b"x").await;
    let past = retention(
        ObjectLockRetentionMode::Governance,
        DateTime::from_secs(1_577_836_800),
    );
    assert_eq!(
        set_retention(c, "ol-checks", "k", past, false).await,
        Err((
            "InvalidArgument".into(),
            400,
            "The retain until date must be in the future!".into()
        ))
    );
    let err = c
        .put_bucket_versioning()
        .bucket("ol-checks")
        .versioning_configuration(
            VersioningConfiguration::builder()
                .status(BucketVersioningStatus::Suspended)
                .build(),
        )
        .send()
        .await
        .expect_err("suspend");
    assert_eq!(
        error_with_status(&err),
        (
            "InvalidBucketState".into(),
            409,
            "An Object Lock configuration is present on this bucket, so the versioning state cannot be changed."
                .into()
        )
    );
}

/// The XML and headers an SDK hides: the full envelopes of AWS's errors, the integrity header
/// lock parameters need, and the lock headers of HEAD.
#[tokio::test]
async fn raw_lock_errors_and_headers() {
    let t = Twin::start().await;
    lock_bucket(&t.client, "ol-raw").await;
    let addr = t.addr();
    let put = |headers: &str| {
        format!(
            "PUT /ol-raw/k HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 2\r\n{headers}Connection: close\r\n\r\nhi"
        )
    };
    let future = "2099-01-01T00:00:00.000Z";
    let (status, text) = raw(
        &addr,
        put(&format!(
            "x-amz-object-lock-mode: GOVERNANCE\r\nx-amz-object-lock-retain-until-date: {future}\r\n"
        ))
        .as_bytes(),
    )
    .await;
    assert_eq!(status, 400, "{text}");
    assert_eq!(xml_value(&text, "Code").as_deref(), Some("InvalidRequest"));
    assert_eq!(
        xml_value(&text, "Message").as_deref(),
        Some("Content-MD5 OR x-amz-checksum- HTTP header is required for Put Object requests with Object Lock parameters")
    );
    // A bucket's default retention makes every PUT one with lock parameters.
    default_retention(&t.client, "ol-raw", ObjectLockRetentionMode::Governance, 1).await;
    let (status, text) = raw(&addr, put("").as_bytes()).await;
    assert_eq!(status, 400, "{text}");
    assert_eq!(xml_value(&text, "Code").as_deref(), Some("InvalidRequest"));
    // With Content-MD5 (of "hi") the same PUT is stored, and HEAD shows the lock.
    let (status, text) = raw(
        &addr,
        put(&format!(
            "Content-MD5: SfaKXIST7CwL9ImCHCH8Ow==\r\nx-amz-object-lock-mode: GOVERNANCE\r\nx-amz-object-lock-retain-until-date: {future}\r\nx-amz-object-lock-legal-hold: ON\r\n"
        ))
        .as_bytes(),
    )
    .await;
    assert_eq!(status, 200, "{text}");
    let (_, text) = raw(
        &addr,
        format!("HEAD /ol-raw/k HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .await;
    let lower = text.to_ascii_lowercase();
    assert!(
        lower.contains("x-amz-object-lock-mode: governance\r\n"),
        "{text}"
    );
    assert!(
        lower.contains(&format!(
            "x-amz-object-lock-retain-until-date: {}\r\n",
            future.to_ascii_lowercase()
        )),
        "{text}"
    );
    assert!(
        lower.contains("x-amz-object-lock-legal-hold: on\r\n"),
        "{text}"
    );

    let (status, text) = raw(
        &addr,
        put("Content-MD5: SfaKXIST7CwL9ImCHCH8Ow==\r\nx-amz-object-lock-mode: FOREVER\r\nx-amz-object-lock-retain-until-date: 2099-01-01T00:00:00Z\r\n").as_bytes(),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        xml_value(&text, "Message").as_deref(),
        Some("Unknown wormMode directive.")
    );
    assert_eq!(
        xml_value(&text, "ArgumentName").as_deref(),
        Some("x-amz-object-lock-mode")
    );
    assert_eq!(
        xml_value(&text, "ArgumentValue").as_deref(),
        Some("FOREVER")
    );

    let (status, text) = raw(
        &addr,
        put("Content-MD5: SfaKXIST7CwL9ImCHCH8Ow==\r\nx-amz-object-lock-retain-until-date: 2099-01-01T00:00:00Z\r\n").as_bytes(),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        xml_value(&text, "ArgumentName").as_deref(),
        Some("x-amz-object-lock-mode")
    );
    assert_eq!(xml_value(&text, "ArgumentValue"), None);

    // Header values AWS refuses, each with its argument.
    let md5 = "Content-MD5: SfaKXIST7CwL9ImCHCH8Ow==\r\n";
    for (headers, message, name, value) in [
        (
            "x-amz-object-lock-mode: GOVERNANCE\r\nx-amz-object-lock-retain-until-date: abc\r\n",
            "The retain until date must be provided in ISO 8601 format",
            "x-amz-object-lock-retain-until-date",
            "abc",
        ),
        (
            "x-amz-object-lock-mode: GOVERNANCE\r\nx-amz-object-lock-retain-until-date: 2025-12-25T12:00:00Z\r\n",
            "The retain until date must be in the future!",
            "x-amz-object-lock-retain-until-date",
            "2025-12-25T12:00:00Z",
        ),
        (
            "x-amz-object-lock-legal-hold: maybe\r\n",
            "Legal Hold must be either of 'ON' or 'OFF'",
            "x-amz-object-lock-legal-hold",
            "maybe",
        ),
    ] {
        let (status, text) = raw(&addr, put(&format!("{md5}{headers}")).as_bytes()).await;
        assert_eq!(status, 400, "{text}");
        assert_eq!(xml_value(&text, "Code").as_deref(), Some("InvalidArgument"));
        let got = xml_value(&text, "Message").map(|m| m.replace("&apos;", "'"));
        assert_eq!(got.as_deref(), Some(message));
        assert_eq!(xml_value(&text, "ArgumentName").as_deref(), Some(name));
        assert_eq!(xml_value(&text, "ArgumentValue").as_deref(), Some(value));
    }

    // A retain-until date in the past, shown as AWS's servers print it.
    let body = "<Retention><Mode>GOVERNANCE</Mode><RetainUntilDate>2020-01-01T00:00:00Z</RetainUntilDate></Retention>";
    let (status, text) = raw(
        &addr,
        format!(
            "PUT /ol-raw/k?retention HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .as_bytes(),
    )
    .await;
    assert_eq!(status, 400, "{text}");
    assert_eq!(
        xml_value(&text, "ArgumentName").as_deref(),
        Some("RetainUntilDate")
    );
    assert_eq!(
        xml_value(&text, "ArgumentValue").as_deref(),
        Some("Tue Dec 31 16:00:00 PST 2019")
    );

    let (status, text) = raw(
        &addr,
        format!("GET /ol-raw/k?retention HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n")
            .as_bytes(),
    )
    .await;
    assert_eq!(status, 200, "{text}");
    assert!(
        text.contains("<Retention xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Mode>GOVERNANCE</Mode><RetainUntilDate>2099-01-01T00:00:00.000Z</RetainUntilDate></Retention>"),
        "{text}"
    );
}

#[tokio::test]
async fn a_refused_bypass_on_delete_objects_keeps_the_connection_usable() {
    use md5::{Digest, Md5};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let t = Twin::start().await;
    let plain = new_bucket(&t.client, "bypass-conn").await;
    // 1,000 keys with long names: a body far larger than what is buffered with the headers.
    let objects: String = (0..1000)
        .map(|i| format!("<Object><Key>some/rather/long/prefix/of/a/key/that/takes/room/key-{i:04}</Key></Object>"))
        .collect();
    let body = format!("<Delete><Quiet>true</Quiet>{objects}</Delete>");
    let md5 = b64(&Md5::digest(body.as_bytes()));
    let mut sock = tokio::net::TcpStream::connect(t.addr())
        .await
        .expect("connect");
    let refused = format!(
        "POST /{plain}?delete HTTP/1.1\r\nHost: {}\r\nContent-MD5: {md5}\r\nx-amz-bypass-governance-retention: true\r\nContent-Length: {}\r\n\r\n{body}",
        t.addr(),
        body.len()
    );
    let head = format!(
        "HEAD /{plain} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
        t.addr()
    );
    sock.write_all(refused.as_bytes()).await.expect("first");
    sock.write_all(head.as_bytes()).await.expect("second");
    let mut out = Vec::new();
    let _ = sock.read_to_end(&mut out).await;
    let text = String::from_utf8_lossy(&out);
    assert!(text.starts_with("HTTP/1.1 400"), "{text}");
    assert!(text.contains("<Code>InvalidArgument</Code>"), "{text}");
    // The second request on the same connection is answered.
    assert_eq!(text.matches("HTTP/1.1 ").count(), 2, "{text}");
    assert!(text.contains("HTTP/1.1 200"), "{text}");
}
