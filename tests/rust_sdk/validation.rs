//! Validation AWS makes of request values: tag characters, encryption and logging
//! configurations, versioning with MFA delete, object-lock modes, storage classes, listing
//! markers and ACL bodies — each answered with AWS's error.

use crate::common::*;
use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::types::*;

fn tagging(key: &str, value: &str) -> Tagging {
    Tagging::builder()
        .tag_set(Tag::builder().key(key).value(value).build().expect("tag"))
        .build()
        .expect("tagging")
}

fn message<E: ProvideErrorMetadata>(
    err: &aws_sdk_s3::error::SdkError<E, aws_smithy_runtime_api::http::Response>,
) -> String {
    err.as_service_error()
        .and_then(|e| e.message())
        .unwrap_or("")
        .to_string()
}

#[tokio::test]
async fn tags_take_only_the_characters_aws_allows() {
    let t = Twin::start().await;
    let c = &t.client;
    let b = new_bucket(c, "tagchars").await;
    put(c, &b, "k", b"x").await;
    // Letters of any script, digits, spaces and `+ - = . _ : / @` are fine.
    c.put_object_tagging()
        .bucket(&b)
        .key("k")
        .tagging(tagging("Kostenstelle é/1", "a+b-c=d.e_f:g/h@i 9"))
        .send()
        .await
        .expect("allowed characters");
    for (key, value, msg) in [
        ("bad,key", "v", "The TagKey you have provided is invalid"),
        ("k", "a,b", "The TagValue you have provided is invalid"),
        ("k", "x!", "The TagValue you have provided is invalid"),
        ("aws:owner", "v", "Your TagKey cannot be prefixed with aws:"),
        ("AWS:Owner", "v", "Your TagKey cannot be prefixed with aws:"),
    ] {
        let err = c
            .put_object_tagging()
            .bucket(&b)
            .key("k")
            .tagging(tagging(key, value))
            .send()
            .await
            .expect_err("refused");
        assert_eq!(
            error_parts(&err),
            ("InvalidTag".to_string(), 400),
            "{key}={value}"
        );
        assert_eq!(message(&err), msg, "{key}={value}");
    }
    // The x-amz-tagging header of PutObject takes the same tags.
    for (header, msg) in [
        (
            "platform=metal%2Cstack",
            "The TagValue you have provided is invalid",
        ),
        (
            "aws%3Acreated=1",
            "Your TagKey cannot be prefixed with aws:",
        ),
    ] {
        let err = c
            .put_object()
            .bucket(&b)
            .key("h")
            .tagging(header)
            .body(b"x".to_vec().into())
            .send()
            .await
            .expect_err("refused");
        assert_eq!(
            error_parts(&err),
            ("InvalidTag".to_string(), 400),
            "{header}"
        );
        assert_eq!(message(&err), msg, "{header}");
    }
    // Bucket tags too.
    let err = c
        .put_bucket_tagging()
        .bucket(&b)
        .tagging(tagging("team", "a;b"))
        .send()
        .await
        .expect_err("refused");
    assert_eq!(error_parts(&err), ("InvalidTag".to_string(), 400));
    assert_eq!(message(&err), "The TagValue you have provided is invalid");
}

#[tokio::test]
async fn lifecycle_abort_rules_take_no_tag_filter() {
    let t = Twin::start().await;
    let b = new_bucket(&t.client, "lcabort").await;
    let doc = |filter: &str| {
        format!(
            "<LifecycleConfiguration><Rule><ID>r</ID><Filter>{filter}</Filter><Status>Enabled</Status>\
             <AbortIncompleteMultipartUpload><DaysAfterInitiation>7</DaysAfterInitiation></AbortIncompleteMultipartUpload>\
             </Rule></LifecycleConfiguration>"
        )
    };
    for filter in [
        "<Tag><Key>k</Key><Value>v</Value></Tag>",
        "<And><Prefix>p/</Prefix><Tag><Key>k</Key><Value>v</Value></Tag></And>",
    ] {
        let (status, text) = raw_request(&t, "PUT", &format!("/{b}?lifecycle"), &doc(filter)).await;
        assert_eq!(status, 400, "{text}");
        assert_eq!(xml_value(&text, "Code").as_deref(), Some("InvalidRequest"));
        assert_eq!(
            xml_value(&text, "Message").as_deref(),
            Some("AbortIncompleteMultipartUpload cannot be specified with Tags.")
        );
    }
    let (status, text) = raw_request(
        &t,
        "PUT",
        &format!("/{b}?lifecycle"),
        &doc("<Prefix>p/</Prefix>"),
    )
    .await;
    assert_eq!(status, 200, "{text}");
}

#[tokio::test]
async fn logging_targets_must_exist_in_the_same_region() {
    let t = Twin::start().await;
    let c = &t.client;
    let b = new_bucket(c, "logsrc").await;
    let same = new_bucket(c, "logdst").await;
    let far = new_bucket_in(c, "logfar", "eu-west-1").await;
    let logging = |target: &str| {
        BucketLoggingStatus::builder()
            .logging_enabled(
                LoggingEnabled::builder()
                    .target_bucket(target)
                    .target_prefix("logs/")
                    .build()
                    .expect("logging"),
            )
            .build()
    };
    let doc = |target: &str| {
        format!(
            "<BucketLoggingStatus><LoggingEnabled><TargetBucket>{target}</TargetBucket>\
             <TargetPrefix>logs/</TargetPrefix></LoggingEnabled></BucketLoggingStatus>"
        )
    };
    let (status, text) = raw_request(&t, "PUT", &format!("/{b}?logging"), &doc(&far)).await;
    assert_eq!(status, 403, "{text}");
    assert_eq!(
        xml_value(&text, "Code").as_deref(),
        Some("CrossLocationLoggingProhibitted")
    );
    assert_eq!(
        xml_value(&text, "Message").as_deref(),
        Some("Cross S3 location logging not allowed.")
    );
    assert_eq!(
        xml_value(&text, "TargetBucketLocation").as_deref(),
        Some("eu-west-1")
    );
    assert_eq!(
        xml_value(&text, "SourceBucketLocation").as_deref(),
        Some("us-east-1")
    );
    let missing = bucket_name("nolog");
    let err = c
        .put_bucket_logging()
        .bucket(&b)
        .bucket_logging_status(logging(&missing))
        .send()
        .await
        .expect_err("missing target");
    assert_eq!(
        error_parts(&err),
        ("InvalidTargetBucketForLogging".to_string(), 400)
    );
    c.put_bucket_logging()
        .bucket(&b)
        .bucket_logging_status(logging(&same))
        .send()
        .await
        .expect("same region");
}

#[tokio::test]
async fn mfa_delete_needs_the_mfa_header() {
    let t = Twin::start().await;
    let c = &t.client;
    let b = new_bucket(c, "mfa").await;
    let conf = |mfa: MfaDelete| {
        VersioningConfiguration::builder()
            .status(BucketVersioningStatus::Enabled)
            .mfa_delete(mfa)
            .build()
    };
    let err = c
        .put_bucket_versioning()
        .bucket(&b)
        .versioning_configuration(conf(MfaDelete::Enabled))
        .send()
        .await
        .expect_err("no x-amz-mfa");
    assert_eq!(error_parts(&err), ("AccessDenied".to_string(), 403));
    assert_eq!(
        message(&err),
        "Mfa Authentication must be used for this request"
    );
    // Nothing changed.
    let got = c
        .get_bucket_versioning()
        .bucket(&b)
        .send()
        .await
        .expect("get");
    assert_eq!(got.status(), None);
    // Disabling it needs no device.
    c.put_bucket_versioning()
        .bucket(&b)
        .versioning_configuration(conf(MfaDelete::Disabled))
        .send()
        .await
        .expect("disabled without mfa");
    c.put_bucket_versioning()
        .bucket(&b)
        .versioning_configuration(conf(MfaDelete::Enabled))
        .mfa("arn:aws:iam::123456789012:mfa/root-account-mfa-device 123456")
        .send()
        .await
        .expect("with x-amz-mfa");
    // While it is on, every versioning change needs the device.
    let err = c
        .put_bucket_versioning()
        .bucket(&b)
        .versioning_configuration(
            VersioningConfiguration::builder()
                .status(BucketVersioningStatus::Suspended)
                .build(),
        )
        .send()
        .await
        .expect_err("mfa on");
    assert_eq!(error_parts(&err), ("AccessDenied".to_string(), 403));

    // A bucket with lifecycle rules cannot turn it on.
    let lc = new_bucket(c, "mfalc").await;
    let rules = "<LifecycleConfiguration><Rule><ID>r</ID><Filter><Prefix>p/</Prefix></Filter>\
                 <Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule></LifecycleConfiguration>";
    let (status, text) = raw_request(&t, "PUT", &format!("/{lc}?lifecycle"), rules).await;
    assert_eq!(status, 200, "{text}");
    let err = c
        .put_bucket_versioning()
        .bucket(&lc)
        .versioning_configuration(conf(MfaDelete::Enabled))
        .mfa("serial 123456")
        .send()
        .await
        .expect_err("lifecycle");
    assert_eq!(error_parts(&err), ("InvalidBucketState".to_string(), 409));
    assert_eq!(
        message(&err),
        "Mfa Authentication is not supported on a bucket with lifecycle configuration. Delete lifecycle configuration before enabling Mfa Authentication."
    );
}

#[tokio::test]
async fn object_lock_headers_take_aws_modes_only() {
    let t = Twin::start().await;
    let c = &t.client;
    let locked = bucket_name("lock");
    c.create_bucket()
        .bucket(&locked)
        .object_lock_enabled_for_bucket(true)
        .send()
        .await
        .expect("create locked");
    let plain = new_bucket(c, "nolock").await;
    let until = aws_sdk_s3::primitives::DateTime::from_secs(4_102_444_800); // 2100-01-01
    let put = |bucket: &str, mode: Option<&str>, with_date: bool| {
        let mut req = c
            .put_object()
            .bucket(bucket)
            .key("k")
            .body(b"x".to_vec().into());
        if let Some(m) = mode {
            req = req.object_lock_mode(ObjectLockMode::from(m));
        }
        if with_date {
            req = req.object_lock_retain_until_date(until);
        }
        req.send()
    };
    let err = put(&locked, Some("FOREVER"), true).await.expect_err("mode");
    assert_eq!(error_parts(&err), ("InvalidArgument".to_string(), 400));
    assert_eq!(message(&err), "Unknown wormMode directive.");
    let err = put(&locked, Some("GOVERNANCE"), false)
        .await
        .expect_err("no date");
    assert_eq!(error_parts(&err), ("InvalidArgument".to_string(), 400));
    assert_eq!(
        message(&err),
        "x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied"
    );
    let err = put(&plain, Some("COMPLIANCE"), true)
        .await
        .expect_err("no lock");
    assert_eq!(error_parts(&err), ("InvalidRequest".to_string(), 400));
    assert_eq!(message(&err), "Bucket is missing Object Lock Configuration");
    put(&locked, Some("GOVERNANCE"), true).await.expect("valid");
    let err = c
        .create_multipart_upload()
        .bucket(&locked)
        .key("mp")
        .object_lock_mode(ObjectLockMode::from("governance"))
        .object_lock_retain_until_date(until)
        .send()
        .await
        .expect_err("multipart mode");
    assert_eq!(message(&err), "Unknown wormMode directive.");
}

#[tokio::test]
async fn storage_classes_of_other_products_are_refused() {
    let t = Twin::start().await;
    let c = &t.client;
    let b = new_bucket(c, "classes").await;
    for class in [
        "OUTPOSTS",
        "SNOW",
        "EXPRESS_ONEZONE",
        "FSX_OPENZFS",
        "NEARLINE",
    ] {
        let err = c
            .put_object()
            .bucket(&b)
            .key("k")
            .storage_class(StorageClass::from(class))
            .body(b"x".to_vec().into())
            .send()
            .await
            .expect_err("refused");
        assert_eq!(
            error_parts(&err),
            ("InvalidStorageClass".to_string(), 400),
            "{class}"
        );
        assert_eq!(
            message(&err),
            "The storage class you specified is not valid"
        );
        let err = c
            .create_multipart_upload()
            .bucket(&b)
            .key("mp")
            .storage_class(StorageClass::from(class))
            .send()
            .await
            .expect_err("refused");
        assert_eq!(error_parts(&err).0, "InvalidStorageClass", "{class}");
    }
    for class in ["GLACIER_IR", "INTELLIGENT_TIERING", "STANDARD_IA"] {
        c.put_object()
            .bucket(&b)
            .key(class)
            .storage_class(StorageClass::from(class))
            .body(b"x".to_vec().into())
            .send()
            .await
            .expect(class);
    }
}

#[tokio::test]
async fn list_buckets_filters_by_region_and_pages() {
    let t = Twin::start().await;
    let c = &t.client;
    let us = new_bucket(c, "lbus").await;
    let eu1 = new_bucket_in(c, "lbeu", "eu-west-1").await;
    let eu2 = new_bucket_in(c, "lbeu", "eu-west-1").await;
    let out = c
        .list_buckets()
        .bucket_region("eu-west-1")
        .send()
        .await
        .expect("list");
    let names: Vec<&str> = out.buckets().iter().filter_map(|b| b.name()).collect();
    assert_eq!(names, [eu1.as_str(), eu2.as_str()]);
    assert!(!names.contains(&us.as_str()));
    let page = c
        .list_buckets()
        .bucket_region("eu-west-1")
        .max_buckets(1)
        .send()
        .await
        .expect("page");
    assert_eq!(page.buckets().len(), 1);
    let token = page.continuation_token().expect("token").to_string();
    let rest = c
        .list_buckets()
        .bucket_region("eu-west-1")
        .max_buckets(1)
        .continuation_token(&token)
        .send()
        .await
        .expect("page 2");
    let names: Vec<&str> = rest.buckets().iter().filter_map(|b| b.name()).collect();
    assert_eq!(names, [eu2.as_str()]);
    assert_eq!(rest.continuation_token(), None);
    for (query, name) in [
        ("max-buckets=0", "max-buckets"),
        ("max-buckets=10001", "max-buckets"),
        ("max-buckets=x", "max-buckets"),
        ("continuation-token=%21%21", "continuation-token"),
    ] {
        let (status, text) = raw_request(&t, "GET", &format!("/?{query}"), "").await;
        assert_eq!(status, 400, "{query}: {text}");
        assert_eq!(xml_value(&text, "Code").as_deref(), Some("InvalidArgument"));
        assert_eq!(xml_value(&text, "ArgumentName").as_deref(), Some(name));
    }
}

#[tokio::test]
async fn continuation_tokens_are_only_those_issued() {
    let t = Twin::start().await;
    let c = &t.client;
    let b = new_bucket(c, "tokens").await;
    for k in ["a", "b", "c"] {
        put(c, &b, k, b"x").await;
    }
    let page = c
        .list_objects_v2()
        .bucket(&b)
        .max_keys(1)
        .send()
        .await
        .expect("page");
    let token = page.next_continuation_token().expect("token").to_string();
    let next = c
        .list_objects_v2()
        .bucket(&b)
        .continuation_token(&token)
        .send()
        .await
        .expect("issued token");
    let keys: Vec<&str> = next.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(keys, ["b", "c"]);
    // Well-formed base64 that the server never issued ("a", "b") is refused, as on S3.
    for forged in ["YQ==", "Yg==", "not-a-token"] {
        let err = c
            .list_objects_v2()
            .bucket(&b)
            .continuation_token(forged)
            .send()
            .await
            .expect_err("forged");
        assert_eq!(
            error_parts(&err),
            ("InvalidArgument".to_string(), 400),
            "{forged}"
        );
        assert_eq!(
            message(&err),
            "The continuation token provided is incorrect"
        );
        let err = c
            .list_buckets()
            .max_buckets(1)
            .continuation_token(forged)
            .send()
            .await
            .expect_err("forged");
        assert_eq!(
            error_parts(&err),
            ("InvalidArgument".to_string(), 400),
            "{forged}"
        );
    }
}

#[tokio::test]
async fn encryption_settings_take_s3_algorithms_only() {
    let t = Twin::start().await;
    let c = &t.client;
    let b = new_bucket(c, "sse").await;
    // Bucket default encryption: the algorithm is one of S3's, a KMS key only with KMS.
    let doc = |algo: &str, key: &str| {
        format!(
            "<ServerSideEncryptionConfiguration><Rule><ApplyServerSideEncryptionByDefault>\
             <SSEAlgorithm>{algo}</SSEAlgorithm>{key}</ApplyServerSideEncryptionByDefault>\
             </Rule></ServerSideEncryptionConfiguration>"
        )
    };
    let key = "<KMSMasterKeyID>arn:aws:kms:us-east-1:123456789012:key/abc</KMSMasterKeyID>";
    let (status, text) = raw_request(&t, "PUT", &format!("/{b}?encryption"), &doc("DES", "")).await;
    assert_eq!(status, 400, "{text}");
    assert_eq!(xml_value(&text, "Code").as_deref(), Some("MalformedXML"));
    let (status, text) =
        raw_request(&t, "PUT", &format!("/{b}?encryption"), &doc("AES256", key)).await;
    assert_eq!(status, 400, "{text}");
    assert_eq!(xml_value(&text, "Code").as_deref(), Some("InvalidArgument"));
    for algo in ["aws:kms", "aws:kms:dsse"] {
        let (status, text) =
            raw_request(&t, "PUT", &format!("/{b}?encryption"), &doc(algo, key)).await;
        assert_eq!(status, 200, "{algo}: {text}");
    }

    // Object writes: x-amz-server-side-encryption.
    let err = c
        .put_object()
        .bucket(&b)
        .key("k")
        .server_side_encryption(ServerSideEncryption::from("DES"))
        .body(b"x".to_vec().into())
        .send()
        .await
        .expect_err("algorithm");
    assert_eq!(error_parts(&err), ("InvalidArgument".to_string(), 400));
    assert_eq!(
        message(&err),
        "The encryption method specified is not supported"
    );
    let err = c
        .put_object()
        .bucket(&b)
        .key("k")
        .server_side_encryption(ServerSideEncryption::Aes256)
        .ssekms_key_id("arn:aws:kms:us-east-1:123456789012:key/abc")
        .body(b"x".to_vec().into())
        .send()
        .await
        .expect_err("kms key with AES256");
    assert_eq!(error_parts(&err), ("InvalidArgument".to_string(), 400));
    assert_eq!(
        message(&err),
        "Server Side Encryption with AWS KMS managed key requires HTTP header x-amz-server-side-encryption : aws:kms"
    );
    let err = c
        .create_multipart_upload()
        .bucket(&b)
        .key("mp")
        .server_side_encryption(ServerSideEncryption::from("aes256"))
        .send()
        .await
        .expect_err("multipart algorithm");
    assert_eq!(error_parts(&err).0, "InvalidArgument");
    c.put_object()
        .bucket(&b)
        .key("k")
        .server_side_encryption(ServerSideEncryption::Aes256)
        .body(b"x".to_vec().into())
        .send()
        .await
        .expect("AES256");
}

#[tokio::test]
async fn lifecycle_filters_must_fit_their_actions() {
    let t = Twin::start().await;
    let b = new_bucket(&t.client, "lcfit").await;
    let rule = |filter: &str, action: &str| {
        format!(
            "<LifecycleConfiguration><Rule><ID>r</ID><Filter>{filter}</Filter><Status>Enabled</Status>\
             {action}</Rule></LifecycleConfiguration>"
        )
    };
    let marker =
        "<Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration>";
    let expire = "<Expiration><Days>1</Days></Expiration>";
    let tag = |k: &str| format!("<Tag><Key>{k}</Key><Value>v</Value></Tag>");
    let cases = [
        (rule(&tag("k"), marker), "ExpiredObjectDeleteMarker cannot be specified with Tags."),
        (
            rule("<ObjectSizeGreaterThan>10</ObjectSizeGreaterThan>", marker),
            "ExpiredObjectDeleteMarker cannot be specified with Object Size.",
        ),
        (
            rule(
                "<ObjectSizeLessThan>10</ObjectSizeLessThan>",
                "<AbortIncompleteMultipartUpload><DaysAfterInitiation>1</DaysAfterInitiation></AbortIncompleteMultipartUpload>",
            ),
            "AbortIncompleteMultipartUpload cannot be specified with Object Size.",
        ),
        (
            rule(&format!("<And>{}{}</And>", tag("k"), tag("k")), expire),
            "Duplicate Tag Keys are not allowed.",
        ),
        (
            rule(
                "<And><ObjectSizeGreaterThan>100</ObjectSizeGreaterThan><ObjectSizeLessThan>100</ObjectSizeLessThan></And>",
                expire,
            ),
            "'ObjectSizeLessThan' has to be a value greater than 'ObjectSizeGreaterThan'.",
        ),
        (
            rule("<ObjectSizeLessThan>0</ObjectSizeLessThan>", expire),
            "'ObjectSizeLessThan' should be between 1 and 1099511627776000.",
        ),
        (
            rule("<ObjectSizeGreaterThan>1099511627776001</ObjectSizeGreaterThan>", expire),
            "'ObjectSizeGreaterThan' should be between 0 and 1099511627776000.",
        ),
    ];
    for (doc, msg) in cases {
        let (status, text) = raw_request(&t, "PUT", &format!("/{b}?lifecycle"), &doc).await;
        assert_eq!(status, 400, "{doc}: {text}");
        assert_eq!(
            xml_value(&text, "Code").as_deref(),
            Some("InvalidRequest"),
            "{doc}"
        );
        let message = xml_value(&text, "Message").map(|m| m.replace("&apos;", "'"));
        assert_eq!(message.as_deref(), Some(msg), "{doc}");
    }
    let ok = rule(
        &format!(
            "<And><Prefix>p/</Prefix>{}{}<ObjectSizeGreaterThan>0</ObjectSizeGreaterThan>\
             <ObjectSizeLessThan>1099511627776000</ObjectSizeLessThan></And>",
            tag("a"),
            tag("b")
        ),
        expire,
    );
    let (status, text) = raw_request(&t, "PUT", &format!("/{b}?lifecycle"), &ok).await;
    assert_eq!(status, 200, "{text}");
}
