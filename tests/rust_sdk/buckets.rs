use crate::common::*;
use aws_sdk_s3::types::{BucketLocationConstraint, CreateBucketConfiguration};

#[tokio::test]
async fn create_list_head_locate_delete() {
    let t = Twin::start().await;
    let c = &t.client;
    let a = new_bucket(c, "alpha").await;
    let b = new_bucket(c, "beta").await;

    let list = c.list_buckets().send().await.expect("list");
    let names: Vec<_> = list.buckets().iter().filter_map(|b| b.name()).collect();
    assert_eq!(names, [a.as_str(), b.as_str()]);
    let owner = list.owner().expect("owner");
    assert_eq!(owner.id().map(str::len), Some(64));
    assert!(list.buckets()[0].creation_date().is_some());
    assert_eq!(list.buckets()[0].bucket_region(), Some("us-east-1"));

    // Prefix filter and paging with max-buckets / continuation-token.
    let only_beta = c.list_buckets().prefix("beta").send().await.expect("list");
    assert_eq!(only_beta.buckets().len(), 1);
    let page1 = c
        .list_buckets()
        .max_buckets(1)
        .send()
        .await
        .expect("page 1");
    assert_eq!(page1.buckets().len(), 1);
    let token = page1.continuation_token().expect("token when more remain");
    let page2 = c
        .list_buckets()
        .max_buckets(1)
        .continuation_token(token)
        .send()
        .await
        .expect("page 2");
    assert_eq!(page2.buckets()[0].name(), Some(b.as_str()));
    assert_eq!(page2.continuation_token(), None);

    let head = c.head_bucket().bucket(&a).send().await.expect("head");
    assert_eq!(head.bucket_region(), Some("us-east-1"));
    let loc = c
        .get_bucket_location()
        .bucket(&a)
        .send()
        .await
        .expect("location");
    // us-east-1 is the empty constraint.
    assert_eq!(
        loc.location_constraint().map(|c| c.as_str()).unwrap_or(""),
        ""
    );

    c.delete_bucket().bucket(&a).send().await.expect("delete");
    let err = c.head_bucket().bucket(&a).send().await.expect_err("gone");
    assert_eq!(error_parts(&err).1, 404);
    let err = c.delete_bucket().bucket(&a).send().await.expect_err("gone");
    assert_eq!(error_parts(&err), ("NoSuchBucket".to_string(), 404));
}

#[tokio::test]
async fn recreate_rules_follow_regions() {
    let t = Twin::start().await;
    let c = &t.client;
    let us = new_bucket(c, "us").await;
    // us-east-1 keeps the legacy answer: re-creating your own bucket is a 200.
    c.create_bucket()
        .bucket(&us)
        .send()
        .await
        .expect("us-east-1 re-create is OK");

    let eu = bucket_name("eu");
    let cfg = CreateBucketConfiguration::builder()
        .location_constraint(BucketLocationConstraint::EuWest1)
        .build();
    c.create_bucket()
        .bucket(&eu)
        .create_bucket_configuration(cfg.clone())
        .send()
        .await
        .expect("create in eu-west-1");
    let loc = c
        .get_bucket_location()
        .bucket(&eu)
        .send()
        .await
        .expect("location");
    assert_eq!(
        loc.location_constraint(),
        Some(&BucketLocationConstraint::EuWest1)
    );
    let head = c.head_bucket().bucket(&eu).send().await.expect("head");
    assert_eq!(head.bucket_region(), Some("eu-west-1"));
    let err = c
        .create_bucket()
        .bucket(&eu)
        .create_bucket_configuration(cfg)
        .send()
        .await
        .expect_err("409");
    assert_eq!(
        error_parts(&err),
        ("BucketAlreadyOwnedByYou".to_string(), 409)
    );
}

#[tokio::test]
async fn invalid_names_and_non_empty_buckets() {
    let t = Twin::start().await;
    let c = &t.client;
    for bad in [
        "ab",
        "bad..dots",
        "192.168.1.1",
        "-dash-first",
        "xn--punycode",
        "under_score",
    ] {
        let err = c.create_bucket().bucket(bad).send().await.expect_err(bad);
        assert_eq!(
            error_parts(&err),
            ("InvalidBucketName".to_string(), 400),
            "{bad}"
        );
    }
    let b = new_bucket(c, "full").await;
    put(c, &b, "k", b"x").await;
    let err = c
        .delete_bucket()
        .bucket(&b)
        .send()
        .await
        .expect_err("not empty");
    assert_eq!(error_parts(&err), ("BucketNotEmpty".to_string(), 409));
    // Nothing was lost.
    assert_eq!(get_bytes(c, &b, "k").await, b"x");
}

#[tokio::test]
async fn malformed_create_bucket_body_is_malformed_xml() {
    let t = Twin::start().await;
    let body = "<CreateBucketConfiguration><LocationConstraint>eu-west-1";
    let req = format!(
        "PUT /badxml HTTP/1.1\r\nHost: {}\r\nContent-Length: {}\r\n\r\n{body}",
        t.addr(),
        body.len()
    );
    let (status, text) = raw(&t.addr(), req.as_bytes()).await;
    assert_eq!(status, 400);
    assert_eq!(xml_value(&text, "Code").as_deref(), Some("MalformedXML"));
    assert!(xml_value(&text, "RequestId")
        .is_some_and(|id| text.contains(&format!("x-amz-request-id: {id}"))));
    let err = t
        .client
        .head_bucket()
        .bucket("badxml")
        .send()
        .await
        .expect_err("not created");
    assert_eq!(error_parts(&err).1, 404);
}

#[tokio::test]
async fn unknown_operations_answer_not_implemented() {
    let t = Twin::start().await;
    let b = new_bucket(&t.client, "ni").await;
    // CreateSession (directory buckets only) is one s3twin does not have.
    let (status, text) = raw_request(&t, "GET", &format!("/{b}?session"), "").await;
    assert_eq!(status, 501, "{text}");
    assert_eq!(xml_value(&text, "Code").as_deref(), Some("NotImplemented"));
}

/// A client signing for `region` (so its requests reach "that region's endpoint").
fn regional_client(t: &Twin, region: &'static str) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(
        config_builder(&t.server.endpoint(), true)
            .region(aws_sdk_s3::config::Region::new(region))
            .build(),
    )
}

/// CreateBucket's outcome: the Location header, or (code, status, message).
async fn create_in(
    c: &aws_sdk_s3::Client,
    bucket: &str,
    constraint: Option<&str>,
) -> Result<String, (String, u16, String)> {
    use aws_sdk_s3::error::ProvideErrorMetadata;
    let cfg = constraint.map(|r| {
        CreateBucketConfiguration::builder()
            .location_constraint(BucketLocationConstraint::from(r))
            .build()
    });
    match c
        .create_bucket()
        .bucket(bucket)
        .set_create_bucket_configuration(cfg)
        .send()
        .await
    {
        Ok(out) => Ok(out.location().unwrap_or("").to_string()),
        Err(e) => {
            let (code, status) = error_parts(&e);
            let message = e
                .as_service_error()
                .and_then(|s| s.message())
                .unwrap_or("")
                .to_string();
            Err((code, status, message))
        }
    }
}

#[tokio::test]
async fn create_bucket_regions_follow_the_endpoint_signed_for() {
    let t = Twin::start().await;
    let us = &t.client;
    let eu = regional_client(&t, "eu-west-1");
    let incompatible = |c: &str| {
        Err((
            "IllegalLocationConstraintException".to_string(),
            400,
            format!("The {c} location constraint is incompatible for the region specific endpoint this request was sent to."),
        ))
    };
    let invalid = Err((
        "InvalidLocationConstraint".to_string(),
        400,
        "The specified location-constraint is not valid".to_string(),
    ));

    // The eu-west-1 endpoint creates buckets in eu-west-1 only (EU is its alias).
    let b = bucket_name("reg");
    assert_eq!(create_in(&eu, &b, None).await, incompatible("unspecified"));
    assert_eq!(
        create_in(&eu, &b, Some("us-west-2")).await,
        incompatible("us-west-2")
    );
    assert_eq!(
        create_in(&eu, &b, Some("us-east-1")).await,
        incompatible("us-east-1")
    );
    assert_eq!(
        create_in(&eu, &b, Some("mars-north-1")).await,
        incompatible("mars-north-1")
    );
    assert_eq!(
        create_in(&eu, &b, Some("eu-west-1")).await,
        Ok(format!("http://{b}.s3.amazonaws.com/"))
    );
    let head = us.head_bucket().bucket(&b).send().await.expect("head");
    assert_eq!(head.bucket_region(), Some("eu-west-1"));

    // us-east-1 creates anywhere but names itself only by saying nothing.
    let e = bucket_name("reg-eu");
    assert_eq!(create_in(us, &e, Some("us-east-1")).await, invalid);
    assert_eq!(create_in(us, &e, Some("mars-north-1")).await, invalid);
    assert_eq!(
        create_in(us, &e, Some("EU")).await,
        Ok(format!("http://{e}.s3.amazonaws.com/"))
    );
    // EU is reported as EU by GetBucketLocation, as eu-west-1 everywhere else.
    let loc = us
        .get_bucket_location()
        .bucket(&e)
        .send()
        .await
        .expect("location");
    assert_eq!(
        loc.location_constraint(),
        Some(&BucketLocationConstraint::Eu)
    );
    let head = us.head_bucket().bucket(&e).send().await.expect("head");
    assert_eq!(head.bucket_region(), Some("eu-west-1"));
    let listed = us.list_buckets().send().await.expect("list");
    let entry = listed
        .buckets()
        .iter()
        .find(|x| x.name() == Some(e.as_str()))
        .expect("listed");
    assert_eq!(entry.bucket_region(), Some("eu-west-1"));
    // The EU bucket is in eu-west-1's endpoint's region: re-creating it there is a 409.
    assert_eq!(
        create_in(&eu, &e, Some("EU"))
            .await
            .map_err(|(c, s, _)| (c, s)),
        Err(("BucketAlreadyOwnedByYou".to_string(), 409))
    );

    // us-east-1's 200 for re-creating your own bucket holds only through us-east-1.
    let u = bucket_name("reg-us");
    assert_eq!(create_in(us, &u, None).await, Ok(format!("/{u}")));
    assert_eq!(create_in(us, &u, None).await, Ok(format!("/{u}")));
    assert_eq!(
        create_in(&eu, &u, Some("eu-west-1"))
            .await
            .map_err(|(c, s, _)| (c, s)),
        Err(("BucketAlreadyOwnedByYou".to_string(), 409))
    );
    assert_eq!(
        create_in(us, &u, Some("us-west-2"))
            .await
            .map_err(|(c, s, _)| (c, s)),
        Err(("BucketAlreadyOwnedByYou".to_string(), 409))
    );

    // The constraint's own element in the envelope, as S3 sends it.
    let body = "<CreateBucketConfiguration><LocationConstraint>us-east-1</LocationConstraint></CreateBucketConfiguration>";
    let req = format!(
        "PUT /{u}-x HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let (status, text) = raw(&t.addr(), req.as_bytes()).await;
    assert_eq!(status, 400, "{text}");
    assert_eq!(
        xml_value(&text, "LocationConstraint").as_deref(),
        Some("us-east-1"),
        "{text}"
    );
}
