//! Id-keyed bucket configurations (metrics, inventory, analytics, intelligent-tiering),
//! replication, and the bucket check S3 makes before operations the twin does not implement.

use crate::common::*;
use aws_sdk_s3::types::*;

fn metrics(id: &str) -> MetricsConfiguration {
    MetricsConfiguration::builder()
        .id(id)
        .filter(MetricsFilter::Prefix("logs/".into()))
        .build()
        .expect("metrics")
}

#[tokio::test]
async fn metrics_configurations_round_trip_page_and_refuse() {
    let t = Twin::start().await;
    let c = &t.client;
    let b = new_bucket(c, "metrics").await;
    let err = c
        .get_bucket_metrics_configuration()
        .bucket(&b)
        .id("absent")
        .send()
        .await
        .expect_err("unset");
    assert_eq!(error_parts(&err), ("NoSuchConfiguration".to_string(), 404));
    assert_eq!(
        err.as_service_error().and_then(|e| e.meta().message()),
        Some("The specified configuration does not exist.")
    );
    let listed = c
        .list_bucket_metrics_configurations()
        .bucket(&b)
        .send()
        .await
        .expect("empty list");
    assert!(listed.metrics_configuration_list().is_empty());
    assert_eq!(listed.is_truncated(), Some(false));

    for i in 0..101 {
        let id = format!("m{i:03}");
        c.put_bucket_metrics_configuration()
            .bucket(&b)
            .id(&id)
            .metrics_configuration(metrics(&id))
            .send()
            .await
            .expect("put");
    }
    let got = c
        .get_bucket_metrics_configuration()
        .bucket(&b)
        .id("m007")
        .send()
        .await
        .expect("get");
    let conf = got.metrics_configuration().expect("configuration");
    assert_eq!(conf.id(), "m007");
    assert_eq!(conf.filter(), Some(&MetricsFilter::Prefix("logs/".into())));

    // Pages of 100, in id order.
    let first = c
        .list_bucket_metrics_configurations()
        .bucket(&b)
        .send()
        .await
        .expect("list");
    assert_eq!(first.metrics_configuration_list().len(), 100);
    assert_eq!(first.is_truncated(), Some(true));
    assert_eq!(first.metrics_configuration_list()[0].id(), "m000");
    let token = first.next_continuation_token().expect("token");
    let second = c
        .list_bucket_metrics_configurations()
        .bucket(&b)
        .continuation_token(token)
        .send()
        .await
        .expect("page 2");
    let ids: Vec<&str> = second
        .metrics_configuration_list()
        .iter()
        .map(|m| m.id())
        .collect();
    assert_eq!(ids, ["m100"]);
    assert_eq!(second.continuation_token(), Some(token));
    assert_eq!(second.is_truncated(), Some(false));

    c.delete_bucket_metrics_configuration()
        .bucket(&b)
        .id("m007")
        .send()
        .await
        .expect("delete");
    let err = c
        .delete_bucket_metrics_configuration()
        .bucket(&b)
        .id("m007")
        .send()
        .await
        .expect_err("gone");
    assert_eq!(error_parts(&err), ("NoSuchConfiguration".to_string(), 404));

    // Metrics ids: letters, digits, `.`, `-`, `_`; the body's Id must be the query's.
    let err = c
        .put_bucket_metrics_configuration()
        .bucket(&b)
        .id("bad id")
        .metrics_configuration(metrics("bad id"))
        .send()
        .await
        .expect_err("bad id");
    assert_eq!(
        error_parts(&err),
        ("InvalidConfigurationId".to_string(), 400)
    );
    let body = "<MetricsConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Id>other</Id></MetricsConfiguration>";
    let (status, text) = raw_request(&t, "PUT", &format!("/{b}?metrics&id=mine"), body).await;
    assert_eq!(status, 400, "{text}");
    assert_eq!(xml_value(&text, "Code").as_deref(), Some("MalformedXML"));
    let (status, text) = raw_request(&t, "PUT", &format!("/{b}?metrics"), body).await;
    assert_eq!(status, 400, "{text}");
    assert_eq!(
        xml_value(&text, "Code").as_deref(),
        Some("InvalidConfigurationId")
    );
}

#[tokio::test]
async fn a_bucket_holds_at_most_1000_configurations_of_a_kind() {
    let t = Twin::start().await;
    let c = &t.client;
    let b = new_bucket(c, "toomany").await;
    for i in 0..1000 {
        let id = format!("m{i}");
        c.put_bucket_metrics_configuration()
            .bucket(&b)
            .id(&id)
            .metrics_configuration(metrics(&id))
            .send()
            .await
            .expect("put");
    }
    let err = c
        .put_bucket_metrics_configuration()
        .bucket(&b)
        .id("one-more")
        .metrics_configuration(metrics("one-more"))
        .send()
        .await
        .expect_err("limit");
    assert_eq!(
        error_parts(&err),
        ("TooManyConfigurations".to_string(), 400)
    );
    // Replacing an existing one is no new configuration.
    c.put_bucket_metrics_configuration()
        .bucket(&b)
        .id("m5")
        .metrics_configuration(metrics("m5"))
        .send()
        .await
        .expect("replace");
}

fn inventory(id: &str, format: InventoryFormat) -> InventoryConfiguration {
    InventoryConfiguration::builder()
        .id(id)
        .is_enabled(true)
        .included_object_versions(InventoryIncludedObjectVersions::Current)
        .destination(
            InventoryDestination::builder()
                .s3_bucket_destination(
                    InventoryS3BucketDestination::builder()
                        .bucket("arn:aws:s3:::reports")
                        .format(format)
                        .build()
                        .expect("destination"),
                )
                .build(),
        )
        .schedule(
            InventorySchedule::builder()
                .frequency(InventoryFrequency::Daily)
                .build()
                .expect("schedule"),
        )
        .build()
        .expect("inventory")
}

#[tokio::test]
async fn inventory_analytics_and_tiering_configurations_round_trip() {
    let t = Twin::start().await;
    let c = &t.client;
    let b = new_bucket(c, "inv").await;
    c.put_bucket_inventory_configuration()
        .bucket(&b)
        .id("daily")
        .inventory_configuration(inventory("daily", InventoryFormat::Parquet))
        .send()
        .await
        .expect("put inventory");
    let got = c
        .get_bucket_inventory_configuration()
        .bucket(&b)
        .id("daily")
        .send()
        .await
        .expect("get inventory");
    let inv = got.inventory_configuration().expect("inventory");
    assert_eq!(
        inv.schedule().map(|s| s.frequency()),
        Some(&InventoryFrequency::Daily)
    );
    let listed = c
        .list_bucket_inventory_configurations()
        .bucket(&b)
        .send()
        .await
        .expect("list inventory");
    assert_eq!(listed.inventory_configuration_list().len(), 1);
    assert_eq!(listed.inventory_configuration_list()[0].id(), "daily");
    let err = c
        .put_bucket_inventory_configuration()
        .bucket(&b)
        .id("json")
        .inventory_configuration(inventory("json", InventoryFormat::from("JSON")))
        .send()
        .await
        .expect_err("format");
    assert_eq!(error_parts(&err), ("MalformedXML".to_string(), 400));

    let analysis = |version: &str| {
        AnalyticsConfiguration::builder()
            .id("sca")
            .storage_class_analysis(
                StorageClassAnalysis::builder()
                    .data_export(
                        StorageClassAnalysisDataExport::builder()
                            .output_schema_version(StorageClassAnalysisSchemaVersion::from(version))
                            .destination(
                                AnalyticsExportDestination::builder()
                                    .s3_bucket_destination(
                                        AnalyticsS3BucketDestination::builder()
                                            .bucket("arn:aws:s3:::reports")
                                            .format(AnalyticsS3ExportFileFormat::Csv)
                                            .build()
                                            .expect("dest"),
                                    )
                                    .build(),
                            )
                            .build()
                            .expect("export"),
                    )
                    .build(),
            )
            .build()
            .expect("analytics")
    };
    c.put_bucket_analytics_configuration()
        .bucket(&b)
        .id("sca")
        .analytics_configuration(analysis("V_1"))
        .send()
        .await
        .expect("put analytics");
    let listed = c
        .list_bucket_analytics_configurations()
        .bucket(&b)
        .send()
        .await
        .expect("list analytics");
    assert_eq!(listed.analytics_configuration_list().len(), 1);
    let err = c
        .put_bucket_analytics_configuration()
        .bucket(&b)
        .id("sca")
        .analytics_configuration(analysis("V_2"))
        .send()
        .await
        .expect_err("schema version");
    assert_eq!(error_parts(&err), ("MalformedXML".to_string(), 400));

    let tiering = IntelligentTieringConfiguration::builder()
        .id("archive")
        .status(IntelligentTieringStatus::Enabled)
        .tierings(
            Tiering::builder()
                .days(90)
                .access_tier(IntelligentTieringAccessTier::ArchiveAccess)
                .build()
                .expect("tiering"),
        )
        .build()
        .expect("configuration");
    c.put_bucket_intelligent_tiering_configuration()
        .bucket(&b)
        .id("archive")
        .intelligent_tiering_configuration(tiering)
        .send()
        .await
        .expect("put tiering");
    let got = c
        .get_bucket_intelligent_tiering_configuration()
        .bucket(&b)
        .id("archive")
        .send()
        .await
        .expect("get tiering");
    let conf = got.intelligent_tiering_configuration().expect("tiering");
    assert_eq!(conf.tierings()[0].days(), 90);
    let listed = c
        .list_bucket_intelligent_tiering_configurations()
        .bucket(&b)
        .send()
        .await
        .expect("list tiering");
    assert_eq!(listed.intelligent_tiering_configuration_list().len(), 1);
    for (tier, days, msg) in [
        (
            IntelligentTieringAccessTier::ArchiveAccess,
            89,
            "Days specified in ARCHIVE_ACCESS tier should not be less than 90.",
        ),
        (
            IntelligentTieringAccessTier::DeepArchiveAccess,
            90,
            "Days specified in DEEP_ARCHIVE_ACCESS tier should not be less than 180.",
        ),
    ] {
        let conf = IntelligentTieringConfiguration::builder()
            .id("short")
            .status(IntelligentTieringStatus::Enabled)
            .tierings(
                Tiering::builder()
                    .days(days)
                    .access_tier(tier)
                    .build()
                    .expect("tiering"),
            )
            .build()
            .expect("configuration");
        let err = c
            .put_bucket_intelligent_tiering_configuration()
            .bucket(&b)
            .id("short")
            .intelligent_tiering_configuration(conf)
            .send()
            .await
            .expect_err("too few days");
        assert_eq!(error_parts(&err), ("InvalidArgument".to_string(), 400));
        assert_eq!(
            err.as_service_error().and_then(|e| e.meta().message()),
            Some(msg)
        );
    }
    // The families are separate: the tiering id is no metrics configuration.
    let err = c
        .get_bucket_metrics_configuration()
        .bucket(&b)
        .id("archive")
        .send()
        .await
        .expect_err("other family");
    assert_eq!(error_parts(&err), ("NoSuchConfiguration".to_string(), 404));
}

fn replication(dest: &str) -> ReplicationConfiguration {
    ReplicationConfiguration::builder()
        .role("arn:aws:iam::123456789012:role/replication")
        .rules(
            ReplicationRule::builder()
                .id("all")
                .status(ReplicationRuleStatus::Enabled)
                .priority(1)
                .filter(ReplicationRuleFilter::builder().prefix("").build())
                .delete_marker_replication(
                    DeleteMarkerReplication::builder()
                        .status(DeleteMarkerReplicationStatus::Disabled)
                        .build(),
                )
                .destination(
                    Destination::builder()
                        .bucket(format!("arn:aws:s3:::{dest}"))
                        .build()
                        .expect("destination"),
                )
                .build()
                .expect("rule"),
        )
        .build()
        .expect("replication")
}

#[tokio::test]
async fn replication_needs_versioning_on_both_buckets() {
    let t = Twin::start().await;
    let c = &t.client;
    let src = new_bucket(c, "repl-src").await;
    let dst = new_bucket(c, "repl-dst").await;
    let err = c
        .get_bucket_replication()
        .bucket(&src)
        .send()
        .await
        .expect_err("unset");
    assert_eq!(
        error_parts(&err),
        ("ReplicationConfigurationNotFoundError".to_string(), 404)
    );
    let put = |dest: String| {
        c.put_bucket_replication()
            .bucket(&src)
            .replication_configuration(replication(&dest))
            .send()
    };
    let err = put(dst.clone()).await.expect_err("unversioned source");
    assert_eq!(error_parts(&err), ("InvalidRequest".to_string(), 400));
    assert_eq!(
        err.as_service_error().and_then(|e| e.meta().message()),
        Some("Versioning must be 'Enabled' on the bucket to apply a replication configuration")
    );
    set_versioning(c, &src, BucketVersioningStatus::Enabled).await;
    let err = put(dst.clone()).await.expect_err("unversioned destination");
    assert_eq!(
        err.as_service_error().and_then(|e| e.meta().message()),
        Some("Destination bucket must have versioning enabled.")
    );
    set_versioning(c, &dst, BucketVersioningStatus::Enabled).await;
    let err = put(src.clone()).await.expect_err("onto itself");
    assert_eq!(
        err.as_service_error().and_then(|e| e.meta().message()),
        Some("Destination bucket cannot be the same as the source bucket.")
    );
    let err = put(bucket_name("absent"))
        .await
        .expect_err("no destination");
    assert_eq!(
        err.as_service_error().and_then(|e| e.meta().message()),
        Some("Destination bucket must exist.")
    );
    // A rule with a Filter (the second schema) needs Priority and DeleteMarkerReplication.
    let v2 = |extra: &str| {
        format!(
            "<ReplicationConfiguration><Role>arn:aws:iam::123456789012:role/r</Role><Rule>\
             <Status>Enabled</Status><Filter><Prefix></Prefix></Filter>{extra}\
             <Destination><Bucket>arn:aws:s3:::{dst}</Bucket></Destination></Rule></ReplicationConfiguration>"
        )
    };
    for (extra, msg) in [
        (
            "<DeleteMarkerReplication><Status>Disabled</Status></DeleteMarkerReplication>",
            "Priority must be specified for this version of Cross Region Replication configuration schema.Please refer to S3 Developer Guide for more information.",
        ),
        (
            "<Priority>1</Priority>",
            "DeleteMarkerReplication must be specified for this version of Cross Region Replication configuration schema. Please refer to S3 Developer Guide for more information.",
        ),
    ] {
        let (status, text) =
            raw_request(&t, "PUT", &format!("/{src}?replication"), &v2(extra)).await;
        assert_eq!(status, 400, "{text}");
        assert_eq!(xml_value(&text, "Code").as_deref(), Some("InvalidRequest"));
        assert_eq!(xml_value(&text, "Message").as_deref(), Some(msg));
    }
    put(dst.clone()).await.expect("put");
    let got = c
        .get_bucket_replication()
        .bucket(&src)
        .send()
        .await
        .expect("get");
    let conf = got.replication_configuration().expect("configuration");
    assert_eq!(
        conf.rules()[0].destination().map(|d| d.bucket()),
        Some(format!("arn:aws:s3:::{dst}").as_str())
    );
    c.delete_bucket_replication()
        .bucket(&src)
        .send()
        .await
        .expect("delete");
    let err = c
        .get_bucket_replication()
        .bucket(&src)
        .send()
        .await
        .expect_err("deleted");
    assert_eq!(error_parts(&err).1, 404);
}

#[tokio::test]
async fn unimplemented_operations_check_the_bucket_first() {
    let t = Twin::start().await;
    let c = &t.client;
    let missing = bucket_name("absent");
    let err = c
        .get_bucket_policy_status()
        .bucket(&missing)
        .send()
        .await
        .expect_err("no bucket");
    assert_eq!(error_parts(&err), ("NoSuchBucket".to_string(), 404));
    let err = c
        .get_object_legal_hold()
        .bucket(&missing)
        .key("k")
        .send()
        .await
        .expect_err("no bucket");
    assert_eq!(error_parts(&err), ("NoSuchBucket".to_string(), 404));
    let (status, text) = raw_request(&t, "GET", &format!("/{missing}?policyStatus"), "").await;
    assert_eq!(status, 404);
    assert_eq!(
        xml_value(&text, "BucketName").as_deref(),
        Some(missing.as_str())
    );
    let b = new_bucket(c, "ni").await;
    // CreateSession (directory buckets only) is one s3twin does not have.
    let (status, text) = raw_request(&t, "GET", &format!("/{b}?session"), "").await;
    assert_eq!(status, 501, "{text}");
    assert_eq!(xml_value(&text, "Code").as_deref(), Some("NotImplemented"));
}
