use crate::common::*;
use aws_sdk_s3::types::*;

#[tokio::test]
async fn bucket_tagging_round_trip_and_errors() {
    let t = Twin::start().await;
    let c = &t.client;
    let b = new_bucket(c, "btag").await;
    let err = c
        .get_bucket_tagging()
        .bucket(&b)
        .send()
        .await
        .expect_err("unset");
    assert_eq!(error_parts(&err), ("NoSuchTagSet".to_string(), 404));
    let tag = |k: &str, v: &str| Tag::builder().key(k).value(v).build().expect("tag");
    c.put_bucket_tagging()
        .bucket(&b)
        .tagging(
            Tagging::builder()
                .tag_set(tag("team", "data"))
                .tag_set(tag("cost", "42"))
                .build()
                .expect("tagging"),
        )
        .send()
        .await
        .expect("put");
    let got = c.get_bucket_tagging().bucket(&b).send().await.expect("get");
    let pairs: Vec<_> = got.tag_set().iter().map(|t| (t.key(), t.value())).collect();
    assert_eq!(pairs, [("team", "data"), ("cost", "42")]);
    let dup = Tagging::builder()
        .tag_set(tag("a", "1"))
        .tag_set(tag("a", "2"))
        .build()
        .expect("tagging");
    let err = c
        .put_bucket_tagging()
        .bucket(&b)
        .tagging(dup)
        .send()
        .await
        .expect_err("dup");
    assert_eq!(error_parts(&err), ("InvalidTag".to_string(), 400));
    let sys = Tagging::builder()
        .tag_set(tag("aws:owner", "x"))
        .build()
        .expect("tagging");
    let err = c
        .put_bucket_tagging()
        .bucket(&b)
        .tagging(sys)
        .send()
        .await
        .expect_err("aws:");
    assert_eq!(error_parts(&err), ("InvalidTag".to_string(), 400));
    c.delete_bucket_tagging()
        .bucket(&b)
        .send()
        .await
        .expect("delete");
    let err = c
        .get_bucket_tagging()
        .bucket(&b)
        .send()
        .await
        .expect_err("deleted");
    assert_eq!(error_parts(&err).0, "NoSuchTagSet");
}

#[tokio::test]
async fn cors_and_policy() {
    let t = Twin::start().await;
    let c = &t.client;
    let b = new_bucket(c, "cors").await;
    let err = c
        .get_bucket_cors()
        .bucket(&b)
        .send()
        .await
        .expect_err("unset");
    assert_eq!(
        error_parts(&err),
        ("NoSuchCORSConfiguration".to_string(), 404)
    );
    let rule = CorsRule::builder()
        .id("web")
        .allowed_methods("GET")
        .allowed_methods("PUT")
        .allowed_origins("https://app.example.com")
        .allowed_headers("*")
        .expose_headers("ETag")
        .max_age_seconds(3000)
        .build()
        .expect("rule");
    c.put_bucket_cors()
        .bucket(&b)
        .cors_configuration(
            CorsConfiguration::builder()
                .cors_rules(rule.clone())
                .build()
                .expect("cfg"),
        )
        .send()
        .await
        .expect("put cors");
    let got = c
        .get_bucket_cors()
        .bucket(&b)
        .send()
        .await
        .expect("get cors");
    assert_eq!(got.cors_rules(), [rule]);
    let bad = CorsRule::builder()
        .allowed_methods("PATCH")
        .allowed_origins("*")
        .build()
        .expect("rule");
    let err = c
        .put_bucket_cors()
        .bucket(&b)
        .cors_configuration(
            CorsConfiguration::builder()
                .cors_rules(bad)
                .build()
                .expect("cfg"),
        )
        .send()
        .await
        .expect_err("PATCH");
    assert_eq!(error_parts(&err), ("InvalidRequest".to_string(), 400));
    c.delete_bucket_cors()
        .bucket(&b)
        .send()
        .await
        .expect("delete");
    assert_eq!(
        error_parts(
            &c.get_bucket_cors()
                .bucket(&b)
                .send()
                .await
                .expect_err("gone")
        )
        .0,
        "NoSuchCORSConfiguration"
    );

    let err = c
        .get_bucket_policy()
        .bucket(&b)
        .send()
        .await
        .expect_err("unset");
    assert_eq!(error_parts(&err), ("NoSuchBucketPolicy".to_string(), 404));
    let policy = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"Read","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::{b}/*"}}]}}"#
    );
    c.put_bucket_policy()
        .bucket(&b)
        .policy(&policy)
        .send()
        .await
        .expect("put policy");
    let got = c
        .get_bucket_policy()
        .bucket(&b)
        .send()
        .await
        .expect("get policy");
    assert_eq!(got.policy(), Some(policy.as_str()), "byte-faithful");
    for bad in [
        "not json",
        "[1,2]",
        r#"{"Version":"2012-10-17"}"#,
        r#"{"Statement":[{"Effect":"Maybe","Action":"s3:*"}]}"#,
    ] {
        let err = c
            .put_bucket_policy()
            .bucket(&b)
            .policy(bad)
            .send()
            .await
            .expect_err(bad);
        assert_eq!(
            error_parts(&err),
            ("MalformedPolicy".to_string(), 400),
            "{bad}"
        );
    }
    c.delete_bucket_policy()
        .bucket(&b)
        .send()
        .await
        .expect("delete");
    assert_eq!(
        error_parts(
            &c.get_bucket_policy()
                .bucket(&b)
                .send()
                .await
                .expect_err("gone")
        )
        .0,
        "NoSuchBucketPolicy"
    );
}

#[tokio::test]
async fn lifecycle_round_trip_and_validation() {
    let t = Twin::start().await;
    let c = &t.client;
    let b = new_bucket(c, "lc").await;
    let err = c
        .get_bucket_lifecycle_configuration()
        .bucket(&b)
        .send()
        .await
        .expect_err("unset");
    assert_eq!(
        error_parts(&err),
        ("NoSuchLifecycleConfiguration".to_string(), 404)
    );
    let expire_tmp = LifecycleRule::builder()
        .id("expire-tmp")
        .status(ExpirationStatus::Enabled)
        .filter(LifecycleRuleFilter::builder().prefix("tmp/").build())
        .expiration(LifecycleExpiration::builder().days(7).build())
        .abort_incomplete_multipart_upload(
            AbortIncompleteMultipartUpload::builder()
                .days_after_initiation(3)
                .build(),
        )
        .build()
        .expect("rule");
    let archive = LifecycleRule::builder()
        .id("archive")
        .status(ExpirationStatus::Disabled)
        .filter(
            LifecycleRuleFilter::builder()
                .and(
                    LifecycleRuleAndOperator::builder()
                        .prefix("logs/")
                        .tags(
                            Tag::builder()
                                .key("class")
                                .value("cold")
                                .build()
                                .expect("tag"),
                        )
                        .object_size_greater_than(1024)
                        .build(),
                )
                .build(),
        )
        .transitions(
            Transition::builder()
                .days(30)
                .storage_class(TransitionStorageClass::Glacier)
                .build(),
        )
        .noncurrent_version_expiration(
            NoncurrentVersionExpiration::builder()
                .noncurrent_days(10)
                .newer_noncurrent_versions(2)
                .build(),
        )
        .build()
        .expect("rule");
    let cfg = BucketLifecycleConfiguration::builder()
        .rules(expire_tmp.clone())
        .rules(archive.clone())
        .build()
        .expect("cfg");
    c.put_bucket_lifecycle_configuration()
        .bucket(&b)
        .lifecycle_configuration(cfg)
        .send()
        .await
        .expect("put");
    let got = c
        .get_bucket_lifecycle_configuration()
        .bucket(&b)
        .send()
        .await
        .expect("get");
    assert_eq!(got.rules(), [expire_tmp.clone(), archive]);

    let put = |rules: Vec<LifecycleRule>| {
        c.put_bucket_lifecycle_configuration()
            .bucket(&b)
            .lifecycle_configuration(
                BucketLifecycleConfiguration::builder()
                    .set_rules(Some(rules))
                    .build()
                    .expect("cfg"),
            )
            .send()
    };
    let err = put(vec![expire_tmp.clone(), expire_tmp.clone()])
        .await
        .expect_err("dup id");
    assert_eq!(error_parts(&err), ("InvalidArgument".to_string(), 400));
    let zero_days = LifecycleRule::builder()
        .id("z")
        .status(ExpirationStatus::Enabled)
        .filter(LifecycleRuleFilter::builder().prefix("").build())
        .expiration(LifecycleExpiration::builder().days(0).build())
        .build()
        .expect("rule");
    let err = put(vec![zero_days]).await.expect_err("days 0");
    assert_eq!(error_parts(&err), ("InvalidArgument".to_string(), 400));
    let no_action = LifecycleRule::builder()
        .id("n")
        .status(ExpirationStatus::Enabled)
        .filter(LifecycleRuleFilter::builder().prefix("").build())
        .build()
        .expect("rule");
    let err = put(vec![no_action]).await.expect_err("no action");
    assert_eq!(error_parts(&err), ("InvalidRequest".to_string(), 400));
    let long_id = LifecycleRule::builder()
        .id("x".repeat(256))
        .status(ExpirationStatus::Enabled)
        .filter(LifecycleRuleFilter::builder().prefix("").build())
        .expiration(LifecycleExpiration::builder().days(1).build())
        .build()
        .expect("rule");
    let err = put(vec![long_id]).await.expect_err("long id");
    assert_eq!(error_parts(&err), ("InvalidArgument".to_string(), 400));
    let noon = LifecycleRule::builder()
        .id("noon")
        .status(ExpirationStatus::Enabled)
        .filter(LifecycleRuleFilter::builder().prefix("").build())
        .expiration(
            LifecycleExpiration::builder()
                .date(aws_sdk_s3::primitives::DateTime::from_secs(1_800_000_000))
                .build(),
        )
        .build()
        .expect("rule");
    let err = put(vec![noon]).await.expect_err("not midnight");
    assert_eq!(error_parts(&err), ("InvalidArgument".to_string(), 400));
    // Nothing invalid replaced the stored rules.
    assert_eq!(
        c.get_bucket_lifecycle_configuration()
            .bucket(&b)
            .send()
            .await
            .expect("get")
            .rules()
            .len(),
        2
    );
    c.delete_bucket_lifecycle()
        .bucket(&b)
        .send()
        .await
        .expect("delete");
    assert_eq!(
        error_parts(
            &c.get_bucket_lifecycle_configuration()
                .bucket(&b)
                .send()
                .await
                .expect_err("gone")
        )
        .0,
        "NoSuchLifecycleConfiguration"
    );
}

#[tokio::test]
async fn encryption_website_and_public_access_block() {
    let t = Twin::start().await;
    let c = &t.client;
    let b = new_bucket(c, "enc").await;
    // Every bucket is SSE-S3 encrypted by default.
    let got = c
        .get_bucket_encryption()
        .bucket(&b)
        .send()
        .await
        .expect("default encryption");
    let rule = &got
        .server_side_encryption_configuration()
        .expect("cfg")
        .rules()[0];
    assert_eq!(
        rule.apply_server_side_encryption_by_default()
            .map(|d| d.sse_algorithm()),
        Some(&ServerSideEncryption::Aes256)
    );
    let kms = ServerSideEncryptionConfiguration::builder()
        .rules(
            ServerSideEncryptionRule::builder()
                .apply_server_side_encryption_by_default(
                    ServerSideEncryptionByDefault::builder()
                        .sse_algorithm(ServerSideEncryption::AwsKms)
                        .kms_master_key_id("arn:aws:kms:us-east-1:123456789012:key/abc")
                        .build()
                        .expect("default"),
                )
                .bucket_key_enabled(true)
                .build(),
        )
        .build()
        .expect("cfg");
    c.put_bucket_encryption()
        .bucket(&b)
        .server_side_encryption_configuration(kms.clone())
        .send()
        .await
        .expect("put");
    let got = c
        .get_bucket_encryption()
        .bucket(&b)
        .send()
        .await
        .expect("get");
    assert_eq!(got.server_side_encryption_configuration(), Some(&kms));
    c.delete_bucket_encryption()
        .bucket(&b)
        .send()
        .await
        .expect("delete");
    let got = c
        .get_bucket_encryption()
        .bucket(&b)
        .send()
        .await
        .expect("back to default");
    assert_eq!(
        got.server_side_encryption_configuration()
            .expect("cfg")
            .rules()[0]
            .apply_server_side_encryption_by_default()
            .map(|d| d.sse_algorithm()),
        Some(&ServerSideEncryption::Aes256)
    );

    let err = c
        .get_bucket_website()
        .bucket(&b)
        .send()
        .await
        .expect_err("unset");
    assert_eq!(
        error_parts(&err),
        ("NoSuchWebsiteConfiguration".to_string(), 404)
    );
    let site = WebsiteConfiguration::builder()
        .index_document(
            IndexDocument::builder()
                .suffix("index.html")
                .build()
                .expect("index"),
        )
        .error_document(
            ErrorDocument::builder()
                .key("404.html")
                .build()
                .expect("error"),
        )
        .build();
    c.put_bucket_website()
        .bucket(&b)
        .website_configuration(site)
        .send()
        .await
        .expect("put website");
    let got = c
        .get_bucket_website()
        .bucket(&b)
        .send()
        .await
        .expect("get website");
    assert_eq!(got.index_document().map(|i| i.suffix()), Some("index.html"));
    assert_eq!(got.error_document().map(|e| e.key()), Some("404.html"));
    let err = c
        .put_bucket_website()
        .bucket(&b)
        .website_configuration(WebsiteConfiguration::builder().build())
        .send()
        .await
        .expect_err("no index");
    assert_eq!(error_parts(&err), ("InvalidArgument".to_string(), 400));
    c.delete_bucket_website()
        .bucket(&b)
        .send()
        .await
        .expect("delete website");

    // New buckets block public access by default.
    let pab = c
        .get_public_access_block()
        .bucket(&b)
        .send()
        .await
        .expect("default pab");
    let cfg = pab.public_access_block_configuration().expect("cfg");
    assert_eq!(
        (cfg.block_public_acls(), cfg.restrict_public_buckets()),
        (Some(true), Some(true))
    );
    let open = PublicAccessBlockConfiguration::builder()
        .block_public_acls(false)
        .ignore_public_acls(false)
        .block_public_policy(false)
        .restrict_public_buckets(true)
        .build();
    c.put_public_access_block()
        .bucket(&b)
        .public_access_block_configuration(open.clone())
        .send()
        .await
        .expect("put pab");
    assert_eq!(
        c.get_public_access_block()
            .bucket(&b)
            .send()
            .await
            .expect("get")
            .public_access_block_configuration(),
        Some(&open)
    );
    c.delete_public_access_block()
        .bucket(&b)
        .send()
        .await
        .expect("delete pab");
    let err = c
        .get_public_access_block()
        .bucket(&b)
        .send()
        .await
        .expect_err("gone");
    assert_eq!(
        error_parts(&err),
        ("NoSuchPublicAccessBlockConfiguration".to_string(), 404)
    );
}

#[tokio::test]
async fn payment_accelerate_logging_notification() {
    let t = Twin::start().await;
    let c = &t.client;
    let b = new_bucket(c, "misc").await;
    assert_eq!(
        c.get_bucket_request_payment()
            .bucket(&b)
            .send()
            .await
            .expect("get")
            .payer(),
        Some(&Payer::BucketOwner)
    );
    c.put_bucket_request_payment()
        .bucket(&b)
        .request_payment_configuration(
            RequestPaymentConfiguration::builder()
                .payer(Payer::Requester)
                .build()
                .expect("cfg"),
        )
        .send()
        .await
        .expect("put");
    assert_eq!(
        c.get_bucket_request_payment()
            .bucket(&b)
            .send()
            .await
            .expect("get")
            .payer(),
        Some(&Payer::Requester)
    );

    assert_eq!(
        c.get_bucket_accelerate_configuration()
            .bucket(&b)
            .send()
            .await
            .expect("get")
            .status(),
        None
    );
    c.put_bucket_accelerate_configuration()
        .bucket(&b)
        .accelerate_configuration(
            AccelerateConfiguration::builder()
                .status(BucketAccelerateStatus::Enabled)
                .build(),
        )
        .send()
        .await
        .expect("put");
    assert_eq!(
        c.get_bucket_accelerate_configuration()
            .bucket(&b)
            .send()
            .await
            .expect("get")
            .status(),
        Some(&BucketAccelerateStatus::Enabled)
    );

    assert!(c
        .get_bucket_logging()
        .bucket(&b)
        .send()
        .await
        .expect("get")
        .logging_enabled()
        .is_none());
    let logging = |target: &str| {
        BucketLoggingStatus::builder()
            .logging_enabled(
                LoggingEnabled::builder()
                    .target_bucket(target)
                    .target_prefix("logs/")
                    .build()
                    .expect("enabled"),
            )
            .build()
    };
    let err = c
        .put_bucket_logging()
        .bucket(&b)
        .bucket_logging_status(logging("no-such-target-bucket"))
        .send()
        .await
        .expect_err("target");
    assert_eq!(
        error_parts(&err),
        ("InvalidTargetBucketForLogging".to_string(), 400)
    );
    let target = new_bucket(c, "logs").await;
    c.put_bucket_logging()
        .bucket(&b)
        .bucket_logging_status(logging(&target))
        .send()
        .await
        .expect("put logging");
    let got = c.get_bucket_logging().bucket(&b).send().await.expect("get");
    assert_eq!(
        got.logging_enabled().map(|l| l.target_bucket()),
        Some(target.as_str())
    );

    let empty = c
        .get_bucket_notification_configuration()
        .bucket(&b)
        .send()
        .await
        .expect("get");
    assert!(empty.queue_configurations().is_empty());
    let queue = QueueConfiguration::builder()
        .id("new-objects")
        .queue_arn("arn:aws:sqs:us-east-1:123456789012:events")
        .events(Event::S3ObjectCreated)
        .filter(
            NotificationConfigurationFilter::builder()
                .key(
                    S3KeyFilter::builder()
                        .filter_rules(
                            FilterRule::builder()
                                .name(FilterRuleName::Prefix)
                                .value("in/")
                                .build(),
                        )
                        .build(),
                )
                .build(),
        )
        .build()
        .expect("queue");
    c.put_bucket_notification_configuration()
        .bucket(&b)
        .notification_configuration(
            NotificationConfiguration::builder()
                .queue_configurations(queue.clone())
                .build(),
        )
        .send()
        .await
        .expect("put notification");
    let got = c
        .get_bucket_notification_configuration()
        .bucket(&b)
        .send()
        .await
        .expect("get");
    assert_eq!(got.queue_configurations(), [queue]);
    let bad = QueueConfiguration::builder()
        .queue_arn("arn:aws:sqs:us-east-1:1:q")
        .events(Event::from("s3:Nonsense:*"))
        .build()
        .expect("queue");
    let err = c
        .put_bucket_notification_configuration()
        .bucket(&b)
        .notification_configuration(
            NotificationConfiguration::builder()
                .queue_configurations(bad)
                .build(),
        )
        .send()
        .await
        .expect_err("bad event");
    assert_eq!(error_parts(&err), ("InvalidArgument".to_string(), 400));
}

#[tokio::test]
async fn object_lock_configuration() {
    let t = Twin::start().await;
    let c = &t.client;
    let plain = new_bucket(c, "nolock").await;
    let err = c
        .get_object_lock_configuration()
        .bucket(&plain)
        .send()
        .await
        .expect_err("unset");
    assert_eq!(
        error_parts(&err),
        ("ObjectLockConfigurationNotFoundError".to_string(), 404)
    );
    let cfg = ObjectLockConfiguration::builder()
        .object_lock_enabled(ObjectLockEnabled::Enabled)
        .rule(
            ObjectLockRule::builder()
                .default_retention(
                    DefaultRetention::builder()
                        .mode(ObjectLockRetentionMode::Governance)
                        .days(5)
                        .build(),
                )
                .build(),
        )
        .build();
    let err = c
        .put_object_lock_configuration()
        .bucket(&plain)
        .object_lock_configuration(cfg.clone())
        .send()
        .await
        .expect_err("unversioned");
    assert_eq!(error_parts(&err), ("InvalidBucketState".to_string(), 409));

    let locked = bucket_name("locked");
    c.create_bucket()
        .bucket(&locked)
        .object_lock_enabled_for_bucket(true)
        .send()
        .await
        .expect("create locked");
    let got = c
        .get_object_lock_configuration()
        .bucket(&locked)
        .send()
        .await
        .expect("get");
    assert_eq!(
        got.object_lock_configuration()
            .and_then(|c| c.object_lock_enabled()),
        Some(&ObjectLockEnabled::Enabled)
    );
    let versioning = c
        .get_bucket_versioning()
        .bucket(&locked)
        .send()
        .await
        .expect("versioning");
    assert_eq!(versioning.status(), Some(&BucketVersioningStatus::Enabled));
    c.put_object_lock_configuration()
        .bucket(&locked)
        .object_lock_configuration(cfg.clone())
        .send()
        .await
        .expect("put");
    let got = c
        .get_object_lock_configuration()
        .bucket(&locked)
        .send()
        .await
        .expect("get");
    assert_eq!(got.object_lock_configuration(), Some(&cfg));
}

#[tokio::test]
async fn ownership_controls() {
    let t = Twin::start().await;
    let c = &t.client;
    let b = new_bucket(c, "own").await;
    let got = c
        .get_bucket_ownership_controls()
        .bucket(&b)
        .send()
        .await
        .expect("default");
    let rule = &got.ownership_controls().expect("controls").rules()[0];
    assert_eq!(
        rule.object_ownership(),
        &ObjectOwnership::BucketOwnerEnforced
    );
    let controls = |o: ObjectOwnership| {
        OwnershipControls::builder()
            .rules(
                OwnershipControlsRule::builder()
                    .object_ownership(o)
                    .build()
                    .expect("rule"),
            )
            .build()
            .expect("controls")
    };
    c.put_bucket_ownership_controls()
        .bucket(&b)
        .ownership_controls(controls(ObjectOwnership::ObjectWriter))
        .send()
        .await
        .expect("put");
    let got = c
        .get_bucket_ownership_controls()
        .bucket(&b)
        .send()
        .await
        .expect("get");
    assert_eq!(
        got.ownership_controls().expect("controls").rules()[0].object_ownership(),
        &ObjectOwnership::ObjectWriter
    );
    // With ACLs allowed, a public bucket ACL blocks going back to BucketOwnerEnforced.
    c.delete_public_access_block()
        .bucket(&b)
        .send()
        .await
        .expect("allow public ACLs");
    c.put_bucket_acl()
        .bucket(&b)
        .acl(BucketCannedAcl::PublicRead)
        .send()
        .await
        .expect("public-read");
    let err = c
        .put_bucket_ownership_controls()
        .bucket(&b)
        .ownership_controls(controls(ObjectOwnership::BucketOwnerEnforced))
        .send()
        .await
        .expect_err("acl grants others");
    assert_eq!(
        error_parts(&err),
        ("InvalidBucketAclWithObjectOwnership".to_string(), 400)
    );
    c.delete_bucket_ownership_controls()
        .bucket(&b)
        .send()
        .await
        .expect("delete");
    let err = c
        .get_bucket_ownership_controls()
        .bucket(&b)
        .send()
        .await
        .expect_err("gone");
    assert_eq!(
        error_parts(&err),
        ("OwnershipControlsNotFoundError".to_string(), 404)
    );
}

#[tokio::test]
async fn lifecycle_rules_without_id_get_one_and_the_minimum_size_header_round_trips() {
    let t = Twin::start().await;
    let b = new_bucket(&t.client, "lc-id").await;
    let doc = "<LifecycleConfiguration><Rule><Filter><Prefix>tmp/</Prefix></Filter><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule><Rule><ID>named</ID><Filter></Filter><Status>Enabled</Status><Expiration><Days>2</Days></Expiration></Rule></LifecycleConfiguration>";
    let put = |header: &str| {
        format!(
            "PUT /{b}?lifecycle HTTP/1.1\r\nHost: x\r\n{header}Content-Length: {}\r\nConnection: close\r\n\r\n{doc}",
            doc.len()
        )
    };
    let get = format!("GET /{b}?lifecycle HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    let header = "x-amz-transition-default-minimum-object-size";
    let (s, resp) = raw(&t.addr(), put("").as_bytes()).await;
    assert_eq!(s, 200, "{resp}");
    assert!(
        resp.contains(&format!("{header}: all_storage_classes_128K\r\n")),
        "{resp}"
    );
    let (s, resp) = raw(&t.addr(), get.as_bytes()).await;
    assert_eq!(s, 200, "{resp}");
    assert!(
        resp.contains(&format!("{header}: all_storage_classes_128K\r\n")),
        "{resp}"
    );
    // S3 names the first rule itself: 48 characters of base64; the named one keeps its ID.
    let got = t
        .client
        .get_bucket_lifecycle_configuration()
        .bucket(&b)
        .send()
        .await
        .expect("get");
    let ids: Vec<&str> = got.rules().iter().filter_map(|r| r.id()).collect();
    assert_eq!(ids.len(), 2, "{resp}");
    assert_eq!(ids[1], "named");
    assert_eq!(ids[0].len(), 48, "{}", ids[0]);
    assert!(ids[0]
        .bytes()
        .all(|c| c.is_ascii_alphanumeric() || c == b'+' || c == b'/' || c == b'='));
    assert_eq!(
        got.rules()[0].filter().and_then(|f| f.prefix()),
        Some("tmp/")
    );
    assert_eq!(
        got.transition_default_minimum_object_size(),
        Some(&TransitionDefaultMinimumObjectSize::AllStorageClasses128K)
    );
    // The same ID on every read; a new one for a new put.
    let again = t
        .client
        .get_bucket_lifecycle_configuration()
        .bucket(&b)
        .send()
        .await
        .expect("get");
    assert_eq!(again.rules()[0].id(), Some(ids[0]));

    // The request header sets it; the SDK reads it back from Put and Get.
    let out = t
        .client
        .put_bucket_lifecycle_configuration()
        .bucket(&b)
        .transition_default_minimum_object_size(
            TransitionDefaultMinimumObjectSize::VariesByStorageClass,
        )
        .lifecycle_configuration(
            BucketLifecycleConfiguration::builder()
                .set_rules(Some(again.rules().to_vec()))
                .build()
                .expect("cfg"),
        )
        .send()
        .await
        .expect("put");
    assert_eq!(
        out.transition_default_minimum_object_size(),
        Some(&TransitionDefaultMinimumObjectSize::VariesByStorageClass)
    );
    let got = t
        .client
        .get_bucket_lifecycle_configuration()
        .bucket(&b)
        .send()
        .await
        .expect("get");
    assert_eq!(
        got.transition_default_minimum_object_size(),
        Some(&TransitionDefaultMinimumObjectSize::VariesByStorageClass)
    );
    // An unknown value: 400 InvalidRequest, and the stored configuration is unchanged.
    let (s, resp) = raw(
        &t.addr(),
        put(&format!("{header}: ALL_STORAGE_CLASSES_128K\r\n")).as_bytes(),
    )
    .await;
    assert_eq!(s, 400, "{resp}");
    assert_eq!(xml_value(&resp, "Code").as_deref(), Some("InvalidRequest"));
    assert_eq!(
        xml_value(&resp, "Message").as_deref(),
        Some("Invalid TransitionDefaultMinimumObjectSize found: ALL_STORAGE_CLASSES_128K")
    );
    let (_, resp) = raw(&t.addr(), get.as_bytes()).await;
    assert!(
        resp.contains(&format!("{header}: varies_by_storage_class\r\n")),
        "{resp}"
    );
    // A put without the header goes back to the default; so does a delete and a new put.
    raw(&t.addr(), put("").as_bytes()).await;
    let (_, resp) = raw(&t.addr(), get.as_bytes()).await;
    assert!(
        resp.contains(&format!("{header}: all_storage_classes_128K\r\n")),
        "{resp}"
    );
}
