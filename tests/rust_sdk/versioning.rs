use crate::common::*;
use aws_sdk_s3::types::{
    BucketVersioningStatus, Delete, ObjectIdentifier, VersioningConfiguration,
};

#[tokio::test]
async fn versions_delete_markers_and_reads_by_version() {
    let t = Twin::start().await;
    let c = &t.client;
    let b = new_bucket(c, "ver").await;
    let before = c
        .get_bucket_versioning()
        .bucket(&b)
        .send()
        .await
        .expect("get");
    assert_eq!(
        before.status(),
        None,
        "never-versioned buckets have no Status"
    );
    set_versioning(c, &b, BucketVersioningStatus::Enabled).await;
    let got = c
        .get_bucket_versioning()
        .bucket(&b)
        .send()
        .await
        .expect("get");
    assert_eq!(got.status(), Some(&BucketVersioningStatus::Enabled));

    let v1 = c
        .put_object()
        .bucket(&b)
        .key("doc")
        .body(b"one".to_vec().into())
        .send()
        .await
        .expect("v1");
    let v2 = c
        .put_object()
        .bucket(&b)
        .key("doc")
        .body(b"two".to_vec().into())
        .send()
        .await
        .expect("v2");
    let (id1, id2) = (
        v1.version_id().expect("id").to_string(),
        v2.version_id().expect("id").to_string(),
    );
    assert_ne!(id1, id2);
    assert_eq!(get_bytes(c, &b, "doc").await, b"two");
    let old = c
        .get_object()
        .bucket(&b)
        .key("doc")
        .version_id(&id1)
        .send()
        .await
        .expect("old version");
    assert_eq!(old.version_id(), Some(id1.as_str()));
    assert_eq!(
        old.body.collect().await.expect("b").into_bytes().as_ref(),
        b"one"
    );

    let del = c
        .delete_object()
        .bucket(&b)
        .key("doc")
        .send()
        .await
        .expect("delete");
    assert_eq!(del.delete_marker(), Some(true));
    let marker = del.version_id().expect("marker id").to_string();
    let err = c
        .get_object()
        .bucket(&b)
        .key("doc")
        .send()
        .await
        .expect_err("deleted");
    assert_eq!(error_parts(&err), ("NoSuchKey".to_string(), 404));
    let headers = err.raw_response().expect("raw").headers();
    assert_eq!(headers.get("x-amz-delete-marker"), Some("true"));
    let err = c
        .get_object()
        .bucket(&b)
        .key("doc")
        .version_id(&marker)
        .send()
        .await
        .expect_err("marker");
    assert_eq!(error_parts(&err), ("MethodNotAllowed".to_string(), 405));
    let err = c
        .get_object()
        .bucket(&b)
        .key("doc")
        .version_id("nonexistentversionid000000000000")
        .send()
        .await
        .expect_err("no version");
    assert_eq!(error_parts(&err), ("NoSuchVersion".to_string(), 404));
    let listed = c.list_objects_v2().bucket(&b).send().await.expect("list");
    assert_eq!(listed.key_count(), Some(0), "a delete marker hides the key");

    // Removing the marker for good brings the key back.
    let undel = c
        .delete_object()
        .bucket(&b)
        .key("doc")
        .version_id(&marker)
        .send()
        .await
        .expect("remove marker");
    assert_eq!(undel.delete_marker(), Some(true));
    assert_eq!(get_bytes(c, &b, "doc").await, b"two");

    // Copy from an old version.
    c.copy_object()
        .bucket(&b)
        .key("restored")
        .copy_source(format!("{b}/doc?versionId={id1}"))
        .send()
        .await
        .expect("copy old");
    assert_eq!(get_bytes(c, &b, "restored").await, b"one");

    // DeleteObjects with version ids.
    let out = c
        .delete_objects()
        .bucket(&b)
        .delete(
            Delete::builder()
                .objects(
                    ObjectIdentifier::builder()
                        .key("doc")
                        .version_id(&id1)
                        .build()
                        .expect("id"),
                )
                .objects(
                    ObjectIdentifier::builder()
                        .key("restored")
                        .build()
                        .expect("id"),
                )
                .build()
                .expect("delete"),
        )
        .send()
        .await
        .expect("batch");
    let deleted: Vec<_> = out
        .deleted()
        .iter()
        .map(|d| (d.key(), d.version_id(), d.delete_marker()))
        .collect();
    assert_eq!(deleted[0], (Some("doc"), Some(id1.as_str()), None));
    assert_eq!((deleted[1].0, deleted[1].2), (Some("restored"), Some(true)));
    assert!(out.deleted()[1].delete_marker_version_id().is_some());
}

#[tokio::test]
async fn suspended_versioning_uses_the_null_version() {
    let t = Twin::start().await;
    let c = &t.client;
    let b = new_bucket(c, "susp").await;
    put(c, &b, "k", b"before").await; // a null version from the unversioned days
    set_versioning(c, &b, BucketVersioningStatus::Enabled).await;
    let v = c
        .put_object()
        .bucket(&b)
        .key("k")
        .body(b"versioned".to_vec().into())
        .send()
        .await
        .expect("put");
    let kept = v.version_id().expect("id").to_string();
    c.put_bucket_versioning()
        .bucket(&b)
        .versioning_configuration(
            VersioningConfiguration::builder()
                .status(BucketVersioningStatus::Suspended)
                .mfa_delete(aws_sdk_s3::types::MfaDelete::Disabled)
                .build(),
        )
        .send()
        .await
        .expect("suspend");
    let got = c
        .get_bucket_versioning()
        .bucket(&b)
        .send()
        .await
        .expect("get");
    assert_eq!(got.status(), Some(&BucketVersioningStatus::Suspended));
    assert_eq!(
        got.mfa_delete(),
        Some(&aws_sdk_s3::types::MfaDeleteStatus::Disabled)
    );
    let s = c
        .put_object()
        .bucket(&b)
        .key("k")
        .body(b"suspended".to_vec().into())
        .send()
        .await
        .expect("put");
    // AWS sends no x-amz-version-id for a write into a Suspended bucket (HEAD/GET say null).
    assert_eq!(s.version_id(), None);
    let versions = c
        .list_object_versions()
        .bucket(&b)
        .send()
        .await
        .expect("versions");
    let ids: Vec<_> = versions
        .versions()
        .iter()
        .map(|v| (v.version_id(), v.is_latest()))
        .collect();
    // The null version was replaced, the Enabled-era version kept.
    assert_eq!(
        ids,
        [
            (Some("null"), Some(true)),
            (Some(kept.as_str()), Some(false))
        ]
    );
}

#[tokio::test]
async fn list_object_versions_paginates_across_pages() {
    let t = Twin::start().await;
    let c = &t.client;
    let b = new_bucket(c, "vpages").await;
    set_versioning(c, &b, BucketVersioningStatus::Enabled).await;
    for key in ["a", "b", "c"] {
        for i in 0..3 {
            put(c, &b, key, format!("{key}{i}").as_bytes()).await;
        }
    }
    c.delete_object()
        .bucket(&b)
        .key("b")
        .send()
        .await
        .expect("marker");
    put(c, &b, "dir/x", b"x").await;
    put(c, &b, "dir/y", b"y").await;

    let mut pages = 0;
    let mut seen = Vec::new();
    let mut key_marker: Option<String> = None;
    let mut version_marker: Option<String> = None;
    loop {
        let page = c
            .list_object_versions()
            .bucket(&b)
            .delimiter("/")
            .max_keys(3)
            .set_key_marker(key_marker.clone())
            .set_version_id_marker(version_marker.clone())
            .send()
            .await
            .expect("page");
        pages += 1;
        for v in page.versions() {
            seen.push(format!(
                "{}:{}",
                v.key().unwrap_or(""),
                if v.is_latest() == Some(true) {
                    "latest"
                } else {
                    "old"
                }
            ));
        }
        for m in page.delete_markers() {
            seen.push(format!("{}:marker", m.key().unwrap_or("")));
        }
        for p in page.common_prefixes() {
            seen.push(p.prefix().unwrap_or("").to_string());
        }
        if page.is_truncated() != Some(true) {
            break;
        }
        key_marker = page.next_key_marker().map(str::to_string);
        version_marker = page.next_version_id_marker().map(str::to_string);
    }
    assert_eq!(
        pages, 4,
        "3 + 4 + 3 versions and markers, plus one common prefix, 3 per page"
    );
    seen.sort();
    assert_eq!(
        seen,
        [
            "a:latest", "a:old", "a:old", "b:marker", "b:old", "b:old", "b:old", "c:latest",
            "c:old", "c:old", "dir/"
        ]
    );
}
