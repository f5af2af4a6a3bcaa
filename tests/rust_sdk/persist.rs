//! `--data-dir`: state written through the SDK survives the process being killed (SIGKILL,
//! no clean stop) and started again on the same directory, byte for byte.

use crate::common::{
    client, put_expiration_rule, raw, set_versioning, temp_dir, upload_parts, Spawned,
};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    BucketLifecycleConfiguration, BucketVersioningStatus, CompletedMultipartUpload,
    CorsConfiguration, CorsRule, ExpirationStatus, LifecycleExpiration, LifecycleRule,
    LifecycleRuleFilter, ObjectCannedAcl, ObjectOwnership, OwnershipControls,
    OwnershipControlsRule, Tag, Tagging,
};
use std::os::unix::fs::MetadataExt;

/// A JSON admin call to a spawned server.
async fn admin(s: &Spawned, method: &str, path: &str, body: &str) -> (u16, serde_json::Value) {
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        s.addr,
        body.len()
    );
    let (status, text) = raw(&s.addr, req.as_bytes()).await;
    let json = text
        .find("\r\n\r\n")
        .and_then(|i| serde_json::from_str(&text[i + 4..]).ok())
        .unwrap_or(serde_json::Value::Null);
    (status, json)
}

fn data(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u32).wrapping_mul(2654435761).to_le_bytes()[1] ^ seed)
        .collect()
}

async fn bytes(c: &aws_sdk_s3::Client, b: &str, k: &str, version: Option<&str>) -> Vec<u8> {
    c.get_object()
        .bucket(b)
        .key(k)
        .set_version_id(version.map(str::to_string))
        .send()
        .await
        .expect("get")
        .body
        .collect()
        .await
        .expect("body")
        .into_bytes()
        .to_vec()
}

#[tokio::test]
async fn everything_survives_a_kill_and_restart() {
    let dir = temp_dir("persist");
    let dir_arg = dir.to_str().expect("utf-8 path").to_string();
    let big = data(3 * 1024 * 1024 + 17, 7);
    let part1 = data(1024 * 1024 + 5, 1);
    let part2 = data(333, 2);
    let (v1, upload_id, completed);
    {
        let s = Spawned::start(&["--data-dir", &dir_arg]);
        let c = client(&s.endpoint(), true);
        c.create_bucket()
            .bucket("keep")
            .send()
            .await
            .expect("create");
        set_versioning(&c, "keep", BucketVersioningStatus::Enabled).await;
        c.put_bucket_ownership_controls()
            .bucket("keep")
            .ownership_controls(
                OwnershipControls::builder()
                    .rules(
                        OwnershipControlsRule::builder()
                            .object_ownership(ObjectOwnership::ObjectWriter)
                            .build()
                            .expect("rule"),
                    )
                    .build()
                    .expect("controls"),
            )
            .send()
            .await
            .expect("ownership");
        v1 = c
            .put_object()
            .bucket("keep")
            .key("doc.txt")
            .content_type("text/plain")
            .metadata("colour", "blue")
            .tagging("a=1&b=two")
            .body(ByteStream::from_static(b"first version"))
            .send()
            .await
            .expect("put v1")
            .version_id
            .expect("version id");
        c.put_object()
            .bucket("keep")
            .key("doc.txt")
            .body(ByteStream::from_static(b"second version"))
            .send()
            .await
            .expect("put v2");
        c.put_object()
            .bucket("keep")
            .key("big.bin")
            .acl(ObjectCannedAcl::PublicRead)
            .body(big.clone().into())
            .send()
            .await
            .expect("put big");
        c.copy_object()
            .bucket("keep")
            .key("copy.bin")
            .copy_source("keep/big.bin")
            .send()
            .await
            .expect("copy");
        c.put_object()
            .bucket("keep")
            .key("gone.txt")
            .body(ByteStream::from_static(b"deleted"))
            .send()
            .await
            .expect("put gone");
        c.delete_object()
            .bucket("keep")
            .key("gone.txt")
            .send()
            .await
            .expect("delete (marker)");
        c.put_bucket_tagging()
            .bucket("keep")
            .tagging(
                Tagging::builder()
                    .tag_set(
                        Tag::builder()
                            .key("team")
                            .value("storage")
                            .build()
                            .expect("tag"),
                    )
                    .build()
                    .expect("tagging"),
            )
            .send()
            .await
            .expect("bucket tagging");
        c.put_bucket_cors()
            .bucket("keep")
            .cors_configuration(
                CorsConfiguration::builder()
                    .cors_rules(
                        CorsRule::builder()
                            .allowed_methods("GET")
                            .allowed_origins("https://example.com")
                            .build()
                            .expect("cors rule"),
                    )
                    .build()
                    .expect("cors"),
            )
            .send()
            .await
            .expect("cors");
        c.put_bucket_lifecycle_configuration()
            .bucket("keep")
            .lifecycle_configuration(
                BucketLifecycleConfiguration::builder()
                    .rules(
                        LifecycleRule::builder()
                            .id("old-logs")
                            .filter(LifecycleRuleFilter::builder().prefix("logs/").build())
                            .status(ExpirationStatus::Enabled)
                            .expiration(LifecycleExpiration::builder().days(30).build())
                            .build()
                            .expect("rule"),
                    )
                    .build()
                    .expect("lifecycle"),
            )
            .send()
            .await
            .expect("lifecycle");
        c.put_bucket_policy()
            .bucket("keep")
            .policy(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::keep/*"}]}"#)
            .send()
            .await
            .expect("policy");
        let upload = c
            .create_multipart_upload()
            .bucket("keep")
            .key("parts.bin")
            .content_type("application/x-parts")
            .send()
            .await
            .expect("create upload");
        upload_id = upload.upload_id.expect("upload id");
        completed = upload_parts(
            &c,
            "keep",
            "parts.bin",
            &upload_id,
            &[part1.clone(), part2.clone()],
        )
        .await;
        // A second run with a frozen clock.
        let (st, _) = admin(&s, "POST", "/_s3twin/runs", r#"{"runId":"frozen"}"#).await;
        assert_eq!(st, 201);
        let (st, clock) = admin(
            &s,
            "POST",
            "/_s3twin/clock?runId=frozen",
            r#"{"set":"2030-01-02T03:04:05Z","freeze":true}"#,
        )
        .await;
        assert_eq!(st, 200, "{clock}");
        let rc = client(&format!("{}/t/frozen/", s.endpoint()), true);
        rc.create_bucket()
            .bucket("other")
            .send()
            .await
            .expect("run bucket");
        rc.put_object()
            .bucket("other")
            .key("k")
            .body(ByteStream::from_static(b"in a run"))
            .send()
            .await
            .expect("run put");
        // `s` is dropped here: SIGKILL, no clean stop.
    }

    let s = Spawned::start(&["--data-dir", &dir_arg]);
    let c = client(&s.endpoint(), true);
    // Versions, metadata, tags.
    assert_eq!(bytes(&c, "keep", "doc.txt", None).await, b"second version");
    assert_eq!(
        bytes(&c, "keep", "doc.txt", Some(&v1)).await,
        b"first version"
    );
    let head = c
        .head_object()
        .bucket("keep")
        .key("doc.txt")
        .version_id(&v1)
        .send()
        .await
        .expect("head v1");
    assert_eq!(head.content_type(), Some("text/plain"));
    assert_eq!(
        head.metadata()
            .and_then(|m| m.get("colour"))
            .map(String::as_str),
        Some("blue")
    );
    let tags = c
        .get_object_tagging()
        .bucket("keep")
        .key("doc.txt")
        .version_id(&v1)
        .send()
        .await
        .expect("tags");
    let tags: Vec<_> = tags
        .tag_set()
        .iter()
        .map(|t| (t.key(), t.value()))
        .collect();
    assert_eq!(tags, [("a", "1"), ("b", "two")]);
    let versions = c
        .list_object_versions()
        .bucket("keep")
        .send()
        .await
        .expect("versions");
    assert_eq!(versions.versions().len(), 5, "doc ×2, big, copy, gone");
    assert_eq!(versions.delete_markers().len(), 1);
    assert!(c
        .get_object()
        .bucket("keep")
        .key("gone.txt")
        .send()
        .await
        .is_err());
    // Bodies byte-exact, the copy too, and a range across the read chunks.
    assert!(bytes(&c, "keep", "big.bin", None).await == big);
    assert!(bytes(&c, "keep", "copy.bin", None).await == big);
    let range = c
        .get_object()
        .bucket("keep")
        .key("big.bin")
        .range("bytes=262140-262150")
        .send()
        .await
        .expect("range")
        .body
        .collect()
        .await
        .expect("range body")
        .into_bytes();
    assert_eq!(&range[..], &big[262140..=262150]);
    // ACLs and ownership.
    let acl = c
        .get_object_acl()
        .bucket("keep")
        .key("big.bin")
        .send()
        .await
        .expect("acl");
    assert!(
        acl.grants().iter().any(|g| g
            .grantee()
            .and_then(|g| g.uri())
            .is_some_and(|u| u.ends_with("/global/AllUsers"))),
        "{acl:?}"
    );
    let own = c
        .get_bucket_ownership_controls()
        .bucket("keep")
        .send()
        .await
        .expect("ownership");
    assert_eq!(
        own.ownership_controls()
            .and_then(|o| o.rules().first())
            .map(|r| r.object_ownership().clone()),
        Some(ObjectOwnership::ObjectWriter)
    );
    // Bucket configurations.
    let v = c
        .get_bucket_versioning()
        .bucket("keep")
        .send()
        .await
        .expect("versioning");
    assert_eq!(v.status(), Some(&BucketVersioningStatus::Enabled));
    let t = c
        .get_bucket_tagging()
        .bucket("keep")
        .send()
        .await
        .expect("tagging");
    assert_eq!(t.tag_set()[0].value(), "storage");
    let cors = c
        .get_bucket_cors()
        .bucket("keep")
        .send()
        .await
        .expect("cors");
    assert_eq!(
        cors.cors_rules()[0].allowed_origins(),
        ["https://example.com"]
    );
    let lc = c
        .get_bucket_lifecycle_configuration()
        .bucket("keep")
        .send()
        .await
        .expect("lifecycle");
    assert_eq!(lc.rules()[0].id(), Some("old-logs"));
    let policy = c
        .get_bucket_policy()
        .bucket("keep")
        .send()
        .await
        .expect("policy");
    assert!(policy.policy().unwrap_or_default().contains("s3:GetObject"));
    // The run, its frozen clock and its bucket.
    let (st, clock) = admin(&s, "GET", "/_s3twin/clock?runId=frozen", "").await;
    assert_eq!(st, 200);
    assert_eq!(clock["frozen"], true);
    assert_eq!(clock["now"], "2030-01-02T03:04:05.000Z");
    let rc = client(&format!("{}/t/frozen/", s.endpoint()), true);
    assert_eq!(bytes(&rc, "other", "k", None).await, b"in a run");
    let head = rc
        .head_object()
        .bucket("other")
        .key("k")
        .send()
        .await
        .expect("run head");
    assert_eq!(
        head.last_modified().map(|d| d.secs()),
        Some(1_893_553_445),
        "written at the frozen instant"
    );
    // The upload in progress: listed with its parts, and it completes.
    let parts = c
        .list_parts()
        .bucket("keep")
        .key("parts.bin")
        .upload_id(&upload_id)
        .send()
        .await
        .expect("list parts");
    assert_eq!(parts.parts().len(), 2);
    c.complete_multipart_upload()
        .bucket("keep")
        .key("parts.bin")
        .upload_id(&upload_id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .set_parts(Some(completed))
                .build(),
        )
        .send()
        .await
        .expect("complete after restart");
    let mut whole = part1.clone();
    whole.extend_from_slice(&part2);
    assert!(bytes(&c, "keep", "parts.bin", None).await == whole);
    drop(s);

    // Once more: the completed object, and no upload left.
    let s = Spawned::start(&["--data-dir", &dir_arg]);
    let c = client(&s.endpoint(), true);
    assert!(bytes(&c, "keep", "parts.bin", None).await == whole);
    let head = c
        .head_object()
        .bucket("keep")
        .key("parts.bin")
        .send()
        .await
        .expect("head");
    assert_eq!(head.content_type(), Some("application/x-parts"));
    assert_eq!(head.e_tag().map(|e| e.ends_with("-2\"")), Some(true));
    let uploads = c
        .list_multipart_uploads()
        .bucket("keep")
        .send()
        .await
        .expect("uploads");
    assert!(uploads.uploads().is_empty());
    drop(s);
    // Deleting every version frees the body files (after the journal stops naming them).
    let s = Spawned::start(&["--data-dir", &dir_arg]);
    let c = client(&s.endpoint(), true);
    let versions = c
        .list_object_versions()
        .bucket("keep")
        .send()
        .await
        .expect("versions");
    for v in versions.versions() {
        c.delete_object()
            .bucket("keep")
            .key(v.key().unwrap_or_default())
            .version_id(v.version_id().unwrap_or_default())
            .send()
            .await
            .expect("delete version");
    }
    let rc = client(&format!("{}/t/frozen/", s.endpoint()), true);
    rc.delete_object()
        .bucket("other")
        .key("k")
        .send()
        .await
        .expect("run delete");
    let bodies = dir.join("bodies");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while std::fs::read_dir(&bodies).expect("bodies").count() > 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "body files left behind"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    drop(s);
    let _ = std::fs::remove_dir_all(&dir);
}

fn start_error(args: &[&str]) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_s3twin"))
        .args(["--port", "0"])
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run s3twin");
    assert!(!out.status.success(), "it started");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[tokio::test]
async fn a_foreign_damaged_or_busy_data_dir_is_a_start_error() {
    let foreign = temp_dir("persist-foreign");
    std::fs::create_dir_all(&foreign).expect("dir");
    std::fs::write(foreign.join("notes.txt"), "mine").expect("write");
    let err = start_error(&["--data-dir", foreign.to_str().expect("path")]);
    assert!(err.contains("not an s3twin data directory"), "{err}");
    assert_eq!(
        std::fs::read_to_string(foreign.join("notes.txt")).expect("kept"),
        "mine"
    );

    let dir = temp_dir("persist-busy");
    let arg = dir.to_str().expect("path").to_string();
    {
        let s = Spawned::start(&["--data-dir", &arg]);
        let err = start_error(&["--data-dir", &arg]);
        assert!(err.contains("another s3twin is using it"), "{err}");
        let c = client(&s.endpoint(), true);
        c.create_bucket()
            .bucket("bk1")
            .send()
            .await
            .expect("create");
        for i in 0..3 {
            c.put_object()
                .bucket("bk1")
                .key(format!("k{i}"))
                .body(ByteStream::from_static(b"x"))
                .send()
                .await
                .expect("put");
        }
    }
    // A byte flipped inside a record that is not the last one.
    let journal = dir.join("journal");
    let mut bytes = std::fs::read(&journal).expect("journal");
    bytes[20] ^= 0xff;
    std::fs::write(&journal, &bytes).expect("damage");
    let err = start_error(&["--data-dir", &arg]);
    assert!(err.contains("damaged record"), "{err}");
    // A torn last record (a crash mid-write) is cut off, and the rest is read.
    bytes[20] ^= 0xff;
    let torn = bytes.len() - 3;
    std::fs::write(&journal, &bytes[..torn]).expect("tear");
    let s = Spawned::start(&["--data-dir", &arg]);
    let c = client(&s.endpoint(), true);
    let list = c
        .list_objects_v2()
        .bucket("bk1")
        .send()
        .await
        .expect("list");
    assert_eq!(
        list.contents().len(),
        2,
        "the torn last put is gone, the others stay"
    );
    drop(s);
    // The format before pack files is read and marked as the current one.
    std::fs::write(dir.join("FORMAT"), "s3twin-data 1\n").expect("format");
    let s = Spawned::start(&["--data-dir", &arg]);
    drop(s);
    assert_eq!(
        std::fs::read_to_string(dir.join("FORMAT")).expect("format"),
        "s3twin-data 2\n"
    );
    // Another format.
    std::fs::write(dir.join("FORMAT"), "s3twin-data 99\n").expect("format");
    let err = start_error(&["--data-dir", &arg]);
    assert!(err.contains("unsupported format"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&foreign);
}

#[tokio::test]
async fn a_clean_stop_deletes_released_bodies_and_the_next_start_trusts_it() {
    let dir = temp_dir("persist-clean");
    let arg = dir.to_str().expect("path").to_string();
    let mut s = Spawned::start(&["--data-dir", &arg]);
    let c = client(&s.endpoint(), true);
    c.create_bucket()
        .bucket("tidy")
        .send()
        .await
        .expect("create");
    for (k, v) in [("a", "old"), ("b", "bee"), ("a", "new")] {
        c.put_object()
            .bucket("tidy")
            .key(k)
            .body(ByteStream::from_static(v.as_bytes()))
            .send()
            .await
            .expect("put");
    }
    c.delete_object()
        .bucket("tidy")
        .key("b")
        .send()
        .await
        .expect("delete");
    s.terminate();
    let bodies = std::fs::read_dir(dir.join("bodies"))
        .expect("bodies")
        .count();
    assert_eq!(bodies, 1, "only the body of a's current version is left");
    assert!(dir.join("CLEAN").exists(), "a clean stop is marked");
    let s = Spawned::start(&["--data-dir", &arg]);
    assert!(!dir.join("CLEAN").exists(), "the mark is removed at start");
    let c = client(&s.endpoint(), true);
    assert_eq!(bytes(&c, "tidy", "a", None).await, b"new");
    assert!(c
        .head_object()
        .bucket("tidy")
        .key("b")
        .send()
        .await
        .is_err());
    // A new body after a clean start does not reuse a live file's number.
    c.put_object()
        .bucket("tidy")
        .key("c")
        .body(ByteStream::from_static(b"sea"))
        .send()
        .await
        .expect("put c");
    assert_eq!(bytes(&c, "tidy", "a", None).await, b"new");
    assert_eq!(bytes(&c, "tidy", "c", None).await, b"sea");
    drop(s);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Overwrites numbered `n` in `ns` (key `k{n % keys}`, body `n`) from 16 tasks at a time.
async fn overwrite(c: &aws_sdk_s3::Client, bucket: &str, keys: u32, ns: std::ops::Range<u32>) {
    let mut tasks = Vec::new();
    for w in 0..16u32 {
        let (c, bucket) = (c.clone(), bucket.to_string());
        let ns = ns.clone();
        tasks.push(tokio::spawn(async move {
            for n in ns.skip(w as usize).step_by(16) {
                c.put_object()
                    .bucket(&bucket)
                    .key(format!("k{}", n % keys))
                    .body(ByteStream::from(format!("{n}").into_bytes()))
                    .send()
                    .await
                    .expect("put");
            }
        }));
    }
    for t in tasks {
        t.await.expect("task");
    }
}

#[tokio::test]
async fn a_mostly_superseded_journal_is_rewritten() {
    let dir = temp_dir("persist-rewrite");
    let arg = dir.to_str().expect("path").to_string();
    let s = Spawned::start(&["--data-dir", &arg, "--fsync", "never"]);
    let c = client(&s.endpoint(), true);
    c.create_bucket()
        .bucket("churn")
        .send()
        .await
        .expect("create");
    // 10,500 overwrites of 3 keys (past the rewrite floor of 10,000 records), 16 at a time.
    overwrite(&c, "churn", 3, 0..10_500).await;
    let mut last = Vec::new();
    for k in 0..3 {
        last.push(bytes(&c, "churn", &format!("k{k}"), None).await);
    }
    drop(s);
    let before = std::fs::metadata(dir.join("journal"))
        .expect("journal")
        .len();
    for _ in 0..2 {
        let s = Spawned::start(&["--data-dir", &arg]);
        let after = std::fs::metadata(dir.join("journal"))
            .expect("journal")
            .len();
        // Rewritten at this start, or already in the background before the kill (then what
        // is left is the live state and the records since): either way far from 10,500
        // records of about 140 bytes.
        assert!(
            after * 10 < 10_500 * 140 && after <= before,
            "rewritten: {before} → {after} bytes"
        );
        let c = client(&s.endpoint(), true);
        for (k, want) in last.iter().enumerate() {
            assert_eq!(&bytes(&c, "churn", &format!("k{k}"), None).await, want);
        }
        // The 10,500 small bodies went to one pack; the 10,497 dead slots are punched out.
        let files: Vec<_> = std::fs::read_dir(dir.join("bodies"))
            .expect("bodies")
            .map(|e| e.expect("entry").metadata().expect("metadata"))
            .collect();
        assert_eq!(files.len(), 1, "one pack file");
        let used: u64 = files.iter().map(|m| m.blocks() * 512).sum();
        assert!(
            used <= 64 * 1024,
            "{used} bytes on disk for 3 live bodies (a pack of {} bytes)",
            files[0].len()
        );
    }
    // At start, for certain: the journal's records appended to it 3,000 times over (replay is
    // idempotent, so the state is the same) make 15,000 superseded ones; the start rewrites
    // them down to the live state.
    let journal = std::fs::read(dir.join("journal")).expect("journal");
    let records = &journal[8..];
    let mut grown = journal.clone();
    for _ in 0..3_000 {
        grown.extend_from_slice(records);
    }
    std::fs::write(dir.join("journal"), &grown).expect("grow the journal");
    let s = Spawned::start(&["--data-dir", &arg]);
    let after = std::fs::metadata(dir.join("journal"))
        .expect("journal")
        .len();
    assert!(
        after * 100 < grown.len() as u64,
        "rewritten at start: {} → {after} bytes",
        grown.len()
    );
    let c = client(&s.endpoint(), true);
    for (k, want) in last.iter().enumerate() {
        assert_eq!(&bytes(&c, "churn", &format!("k{k}"), None).await, want);
    }
    drop(s);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Every version of `bucket` as (version id, ETag), newest first.
async fn version_ids_and_etags(
    c: &aws_sdk_s3::Client,
    bucket: &str,
) -> Vec<(Option<String>, Option<String>)> {
    c.list_object_versions()
        .bucket(bucket)
        .send()
        .await
        .expect("versions")
        .versions()
        .iter()
        .map(|v| {
            (
                v.version_id().map(str::to_string),
                v.e_tag().map(str::to_string),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_run_imported_from_an_export_survives_a_kill_and_restart() {
    let dir = temp_dir("persist-import");
    let dir_arg = dir.to_str().expect("utf-8 path").to_string();
    let (versions_before, settings_before);
    {
        let s = Spawned::start(&["--data-dir", &dir_arg]);
        let (status, _) = admin(&s, "POST", "/_s3twin/runs", r#"{"runId": "orig"}"#).await;
        assert_eq!(status, 201);
        let c = client(&format!("{}/t/orig/", s.endpoint()), true);
        c.create_bucket()
            .bucket("exp")
            .send()
            .await
            .expect("bucket");
        set_versioning(&c, "exp", BucketVersioningStatus::Enabled).await;
        for body in [&b"first"[..], b"second"] {
            c.put_object()
                .bucket("exp")
                .key("k")
                .body(ByteStream::from(body.to_vec()))
                .send()
                .await
                .expect("put");
        }
        let (status, _) = admin(
            &s,
            "POST",
            "/_s3twin/clock?runId=orig",
            r#"{"freeze": true}"#,
        )
        .await;
        assert_eq!(status, 200);
        let (status, doc) = admin(&s, "GET", "/_s3twin/runs/orig/export", "").await;
        assert_eq!(status, 200, "{doc}");
        let body = serde_json::json!({"runId": "copy", "seed": doc}).to_string();
        let (status, made) = admin(&s, "POST", "/_s3twin/runs", &body).await;
        assert_eq!(status, 201, "{made}");
        let copy = client(&format!("{}/t/copy/", s.endpoint()), true);
        versions_before = version_ids_and_etags(&copy, "exp").await;
        settings_before = admin(&s, "GET", "/_s3twin/clock?runId=copy", "").await.1;
        assert_eq!(versions_before.len(), 2);
    } // killed (SIGKILL), no clean stop
    let s = Spawned::start(&["--data-dir", &dir_arg]);
    let copy = client(&format!("{}/t/copy/", s.endpoint()), true);
    let versions_after = version_ids_and_etags(&copy, "exp").await;
    assert_eq!(versions_after, versions_before);
    assert_eq!(bytes(&copy, "exp", "k", None).await, b"second");
    let oldest = versions_after[1].0.as_deref();
    assert_eq!(bytes(&copy, "exp", "k", oldest).await, b"first");
    // The imported (frozen) clock is the run's setting that was journaled with the seed.
    let settings_after = admin(&s, "GET", "/_s3twin/clock?runId=copy", "").await.1;
    assert_eq!(settings_after["now"], settings_before["now"]);
    assert_eq!(settings_after["frozen"], serde_json::Value::Bool(true));
}

/// The keys `bucket` lists, in order.
async fn keys(c: &aws_sdk_s3::Client, bucket: &str) -> Vec<String> {
    c.list_objects_v2()
        .bucket(bucket)
        .send()
        .await
        .expect("list")
        .contents()
        .iter()
        .filter_map(|o| o.key().map(str::to_string))
        .collect()
}

#[tokio::test]
async fn the_background_lifecycle_tick_expires_objects_after_a_restart() {
    let dir = temp_dir("persist-lifecycle");
    let arg = dir.to_str().expect("path").to_string();
    {
        let s = Spawned::start(&["--data-dir", &arg]);
        let c = client(&s.endpoint(), true);
        c.create_bucket()
            .bucket("aging")
            .send()
            .await
            .expect("create");
        put_expiration_rule(&c, "aging", "tmp", "tmp/", 1).await;
        for key in ["keep/c", "tmp/a", "tmp/b"] {
            c.put_object()
                .bucket("aging")
                .key(key)
                .body(ByteStream::from(vec![b'x'; 4096]))
                .send()
                .await
                .expect("put");
        }
        // Frozen, so nothing can expire before the restart.
        let (st, clock) = admin(&s, "POST", "/_s3twin/clock", r#"{"freeze":true}"#).await;
        assert_eq!(st, 200, "{clock}");
    } // SIGKILL
    let s = Spawned::start(&["--data-dir", &arg]);
    let c = client(&s.endpoint(), true);
    let (_, clock) = admin(&s, "GET", "/_s3twin/clock", "").await;
    assert_eq!(clock["frozen"], true, "{clock}");
    assert_eq!(keys(&c, "aging").await, ["keep/c", "tmp/a", "tmp/b"]);
    // Sped up: a virtual day every 4.3 s. Nothing moves the clock by hand from here, so only
    // the background tick (every second for sped-up runs) can expire the objects, by the
    // rule read back from the journal, at most two virtual days after they were written.
    let (st, clock) = admin(
        &s,
        "POST",
        "/_s3twin/clock",
        r#"{"freeze":false,"rate":20000}"#,
    )
    .await;
    assert_eq!(st, 200, "{clock}");
    assert_eq!(clock["lifecycle"]["expired"], 0, "{clock}");
    let started = std::time::Instant::now();
    loop {
        let listed = keys(&c, "aging").await;
        if listed == ["keep/c"] {
            break;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(40),
            "not expired after 40 s: {listed:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    drop(s);
    // The expirations were journaled, and the rate too.
    let s = Spawned::start(&["--data-dir", &arg]);
    let c = client(&s.endpoint(), true);
    assert_eq!(keys(&c, "aging").await, ["keep/c"]);
    let (_, clock) = admin(&s, "GET", "/_s3twin/clock", "").await;
    assert_eq!(clock["rate"], 20000.0, "{clock}");
    drop(s);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn the_embedded_builder_keeps_state_in_its_data_dir() {
    use s3twin::store::persist::Fsync;
    let dir = temp_dir("persist-embedded");
    // A small body (a pack slot) and a large one (a file of its own).
    let small = vec![b's'; 4096];
    let large: Vec<u8> = (0..2 * 1024 * 1024u32).map(|i| (i % 251) as u8).collect();
    {
        let server = s3twin::S3Server::builder()
            .port(0)
            .data_dir(&dir, Fsync::Always)
            .build();
        server.start().await.expect("start");
        let c = client(&server.endpoint(), true);
        c.create_bucket()
            .bucket("embedded")
            .send()
            .await
            .expect("create");
        for (key, body) in [("small", &small), ("large", &large)] {
            c.put_object()
                .bucket("embedded")
                .key(key)
                .body(ByteStream::from(body.clone()))
                .send()
                .await
                .expect("put");
        }
        // A second server on the directory is refused while this one holds it.
        let second = s3twin::S3Server::builder()
            .port(0)
            .data_dir(&dir, Fsync::Batch)
            .build();
        let refused = second.start().await.expect_err("the directory is in use");
        assert!(refused.to_string().contains("another s3twin"), "{refused}");
        server.stop().await.expect("stop");
    } // dropped: the directory is let go
    let server = s3twin::S3Server::builder()
        .port(0)
        .data_dir(&dir, Fsync::Batch)
        .build();
    server.start().await.expect("start again");
    let c = client(&server.endpoint(), true);
    assert_eq!(keys(&c, "embedded").await, ["large", "small"]);
    assert_eq!(bytes(&c, "embedded", "small", None).await, small);
    assert_eq!(bytes(&c, "embedded", "large", None).await, large);
    c.put_object()
        .bucket("embedded")
        .key("after")
        .body(ByteStream::from_static(b"after the restart"))
        .send()
        .await
        .expect("put after");
    // What a run driven in process (`RunHandle`) writes is journaled as well.
    let run = server.run("inproc");
    run.create_bucket("direct").expect("bucket");
    run.put_object("direct", "k", vec![b'd'; 10_000])
        .expect("put");
    drop(run);
    server.stop().await.expect("stop");
    drop(server);
    let server = s3twin::S3Server::builder()
        .port(0)
        .data_dir(&dir, Fsync::Never)
        .build();
    server.start().await.expect("third start");
    let c = client(&server.endpoint(), true);
    assert_eq!(keys(&c, "embedded").await, ["after", "large", "small"]);
    assert_eq!(
        bytes(&c, "embedded", "after", None).await,
        b"after the restart"
    );
    let run = server.run("inproc");
    assert_eq!(run.list("direct").expect("list"), ["k"]);
    assert_eq!(
        run.get_object("direct", "k").expect("object"),
        vec![b'd'; 10_000]
    );
    drop(run);
    server.stop().await.expect("stop");
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_running_server_rewrites_its_journal_in_the_background() {
    let dir = temp_dir("persist-compact");
    let arg = dir.to_str().expect("path").to_string();
    let journal_len = || {
        std::fs::metadata(dir.join("journal"))
            .expect("journal")
            .len()
    };
    let s = Spawned::start(&["--data-dir", &arg, "--fsync", "never"]);
    let c = client(&s.endpoint(), true);
    c.create_bucket()
        .bucket("churn")
        .send()
        .await
        .expect("create");
    // Overwrites of 4 keys, 16 at a time, in rounds of 5,000; the journal's length is read
    // after each round. Without a rewrite it only grows (about 150 bytes a record).
    let put_round = |round: u32| overwrite(&c, "churn", 4, round * 5_000..(round + 1) * 5_000);
    put_round(0).await;
    let per_round = journal_len();
    let mut lengths = Vec::new();
    for round in 1..8 {
        put_round(round).await;
        lengths.push(journal_len());
    }
    // 40,000 records written; a rewrite happens past 10,000 superseded ones, checked every
    // second: the journal never holds much more than 15,000 records' worth.
    let most = lengths.iter().copied().max().unwrap_or(0);
    assert!(
        most < 4 * per_round,
        "journal lengths {lengths:?} (5,000 records: {per_round} bytes)"
    );
    let mut last = Vec::new();
    for k in 0..4 {
        last.push(bytes(&c, "churn", &format!("k{k}"), None).await);
    }
    println!("journal lengths {lengths:?} (5,000 records: {per_round} bytes)");
    drop(s); // SIGKILL
    let s = Spawned::start(&["--data-dir", &arg]);
    let c = client(&s.endpoint(), true);
    for (k, want) in last.iter().enumerate() {
        assert_eq!(&bytes(&c, "churn", &format!("k{k}"), None).await, want);
    }
    assert_eq!(keys(&c, "churn").await, ["k0", "k1", "k2", "k3"]);
    drop(s);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A large body streamed to a `--data-dir` server in pieces that do not divide the server's
/// 1 MiB gathering buffers (aws-chunked, 100,000-byte chunks, as an SDK streaming a file
/// sends them) goes to disk as it comes: the server's peak memory stays far below the body.
#[tokio::test]
async fn a_large_body_in_odd_sized_chunks_streams_to_disk() {
    use md5::{Digest, Md5};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let dir = temp_dir("persist-stream");
    let dir_arg = dir.join("data").display().to_string();
    let s = Spawned::start(&["--data-dir", &dir_arg]);
    let c = client(&s.endpoint(), true);
    c.create_bucket()
        .bucket("stream")
        .send()
        .await
        .expect("bucket");
    let len = 160usize << 20;
    let body = data(len, 7);
    let mut framed = Vec::with_capacity(len + len / 10_000);
    for chunk in body.chunks(100_000) {
        framed.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        framed.extend_from_slice(chunk);
        framed.extend_from_slice(b"\r\n");
    }
    framed.extend_from_slice(b"0\r\n\r\n");
    let idle = s.rss_kib();
    let head = format!(
        "PUT /stream/big HTTP/1.1\r\nHost: {}\r\nContent-Encoding: aws-chunked\r\n\
         x-amz-content-sha256: STREAMING-UNSIGNED-PAYLOAD-TRAILER\r\n\
         x-amz-decoded-content-length: {len}\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n",
        s.addr,
        framed.len()
    );
    let mut sock = tokio::net::TcpStream::connect(&s.addr)
        .await
        .expect("connect");
    sock.write_all(head.as_bytes()).await.expect("head");
    for piece in framed.chunks(100_000) {
        sock.write_all(piece).await.expect("body");
    }
    let mut answer = String::new();
    sock.read_to_string(&mut answer).await.expect("answer");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let grown = s.peak_rss_kib().saturating_sub(idle);
    let want = format!("\"{}\"", hex::encode(Md5::digest(&body)));
    let head = c
        .head_object()
        .bucket("stream")
        .key("big")
        .send()
        .await
        .expect("head");
    assert_eq!(head.e_tag(), Some(want.as_str()));
    assert!(
        grown < 64 * 1024,
        "peak RSS grew by {grown} KiB for a {len}-byte body"
    );
    assert_eq!(bytes(&c, "stream", "big", None).await, body);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The names in the body directory, sorted.
fn body_files(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir.join("bodies"))
        .expect("bodies")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Whether a body file's name is a pack's (its number has the top bit set).
fn is_pack(name: &str) -> bool {
    u64::from_str_radix(name, 16).is_ok_and(|id| id >> 63 == 1)
}

/// The body files once they are exactly `want` (released files are deleted by the journal
/// writer shortly after the answer), or a failure after 10 s.
async fn body_files_become(dir: &std::path::Path, want: &[String]) {
    let started = std::time::Instant::now();
    loop {
        let now = body_files(dir);
        if now == want {
            return;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "body files {now:?}, expected {want:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// Puts `body` at `key` and returns the body files it created.
async fn put_new_files(
    c: &aws_sdk_s3::Client,
    dir: &std::path::Path,
    bucket: &str,
    key: &str,
    body: &[u8],
) -> Vec<String> {
    let before = body_files(dir);
    c.put_object()
        .bucket(bucket)
        .key(key)
        .body(ByteStream::from(body.to_vec()))
        .send()
        .await
        .expect("put");
    body_files(dir)
        .into_iter()
        .filter(|n| !before.contains(n))
        .collect()
}

async fn is_gone(c: &aws_sdk_s3::Client, bucket: &str, key: &str) -> bool {
    c.get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .is_err_and(|e| e.into_service_error().is_no_such_key())
}

/// `S3TWIN_NO_HOLE_PUNCH=1` (what a file system without `fallocate(PUNCH_HOLE)` gets): no
/// pack, every body a file of its own — small and large, overwritten, copied, multipart,
/// ranges copied into parts — each deleted once nothing names it, and everything read back
/// after a kill.
#[tokio::test]
async fn without_hole_punching_every_body_has_a_file_of_its_own() {
    let dir = temp_dir("persist-nopunch");
    let arg = dir.to_str().expect("path").to_string();
    let env = [("S3TWIN_NO_HOLE_PUNCH", "1")];
    let s = Spawned::start_env(&["--data-dir", &arg, "--fsync", "never"], &env);
    let c = client(&s.endpoint(), true);
    c.create_bucket()
        .bucket("own")
        .send()
        .await
        .expect("create");
    let (tiny, page, mid, big) = (
        data(100, 1),
        data(4096, 2),
        data(300_000, 3),
        data(2 * 1024 * 1024 + 3, 4),
    );
    let mut live = Vec::new();
    let mut file_of = std::collections::HashMap::new();
    for (key, body) in [
        ("tiny", &tiny),
        ("page", &page),
        ("mid", &mid),
        ("big", &big),
    ] {
        let new = put_new_files(&c, &dir, "own", key, body).await;
        assert_eq!(new.len(), 1, "{key}: one new file, {new:?}");
        assert!(!is_pack(&new[0]), "{key}: not a pack slot");
        file_of.insert(key, new[0].clone());
        live.extend(new);
    }
    // An overwrite: a new file, the old one deleted.
    let tiny2 = data(150, 5);
    let new = put_new_files(&c, &dir, "own", "tiny", &tiny2).await;
    assert_eq!(new.len(), 1, "{new:?}");
    live.retain(|n| *n != file_of["tiny"]);
    live.extend(new);
    live.sort();
    body_files_become(&dir, &live).await;
    // A copy shares the source's file; deleting the source leaves it to the copy.
    c.copy_object()
        .bucket("own")
        .key("page-copy")
        .copy_source("own/page")
        .send()
        .await
        .expect("copy");
    assert_eq!(body_files(&dir), live, "a copy writes no file");
    c.delete_object()
        .bucket("own")
        .key("page")
        .send()
        .await
        .expect("delete page");
    // Multipart: a part uploaded (a file each) and a range of `mid` copied into a part (a
    // range of mid's file, no new file).
    let up = c
        .create_multipart_upload()
        .bucket("own")
        .key("parts")
        .send()
        .await
        .expect("create upload");
    let id = up.upload_id().expect("upload id").to_string();
    let (p1, p2) = (data(1024 * 1024 + 5, 6), data(333, 7));
    let before = body_files(&dir);
    let mut completed = upload_parts(&c, "own", "parts", &id, std::slice::from_ref(&p1)).await;
    let copied = c
        .upload_part_copy()
        .bucket("own")
        .key("parts")
        .upload_id(&id)
        .part_number(2)
        .copy_source("own/mid")
        .copy_source_range("bytes=1000-200999")
        .send()
        .await
        .expect("upload part copy");
    completed.push(
        aws_sdk_s3::types::CompletedPart::builder()
            .part_number(2)
            .e_tag(
                copied
                    .copy_part_result()
                    .and_then(|r| r.e_tag())
                    .expect("etag"),
            )
            .build(),
    );
    let part3 = c
        .upload_part()
        .bucket("own")
        .key("parts")
        .upload_id(&id)
        .part_number(3)
        .body(p2.clone().into())
        .send()
        .await
        .expect("part 3");
    completed.push(
        aws_sdk_s3::types::CompletedPart::builder()
            .part_number(3)
            .e_tag(part3.e_tag().expect("etag"))
            .build(),
    );
    let new: Vec<String> = body_files(&dir)
        .into_iter()
        .filter(|n| !before.contains(n))
        .collect();
    assert_eq!(new.len(), 2, "two uploaded parts, two files: {new:?}");
    assert!(new.iter().all(|n| !is_pack(n)), "{new:?}");
    c.complete_multipart_upload()
        .bucket("own")
        .key("parts")
        .upload_id(&id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .set_parts(Some(completed))
                .build(),
        )
        .send()
        .await
        .expect("complete");
    live.extend(new);
    live.sort();
    // `mid` deleted: its file stays for the range `parts` holds; `big` deleted: its file goes.
    for key in ["mid", "big"] {
        c.delete_object()
            .bucket("own")
            .key(key)
            .send()
            .await
            .expect("delete");
    }
    live.retain(|n| *n != file_of["big"]);
    body_files_become(&dir, &live).await;
    let whole_parts = [&p1[..], &mid[1000..201_000], &p2[..]].concat();
    let expect = [
        ("tiny", &tiny2),
        ("page-copy", &page),
        ("parts", &whole_parts),
    ];
    for (key, want) in expect {
        assert_eq!(&bytes(&c, "own", key, None).await, want, "{key}");
    }
    drop(s); // SIGKILL
    let s = Spawned::start_env(&["--data-dir", &arg], &env);
    let c = client(&s.endpoint(), true);
    assert_eq!(keys(&c, "own").await, ["page-copy", "parts", "tiny"]);
    for (key, want) in expect {
        assert_eq!(
            &bytes(&c, "own", key, None).await,
            want,
            "{key} after the restart"
        );
    }
    for key in ["page", "mid", "big"] {
        assert!(is_gone(&c, "own", key).await, "{key} stays deleted");
    }
    assert_eq!(body_files(&dir), live, "the same files after the restart");
    // Everything deleted: no file left, before and after a restart.
    for key in ["page-copy", "parts", "tiny"] {
        c.delete_object()
            .bucket("own")
            .key(key)
            .send()
            .await
            .expect("delete");
    }
    body_files_become(&dir, &[]).await;
    drop(s);
    let s = Spawned::start_env(&["--data-dir", &arg], &env);
    let c = client(&s.endpoint(), true);
    assert!(keys(&c, "own").await.is_empty());
    assert!(body_files(&dir).is_empty());
    drop(s);
    let _ = std::fs::remove_dir_all(&dir);
}

/// An in-process server on `dir` (`--fsync never`), with or without hole punching.
async fn embedded_on(dir: &std::path::Path, punch_holes: bool) -> s3twin::S3Server {
    use s3twin::store::persist::{Fsync, Tuning};
    let server = s3twin::S3Server::builder()
        .port(0)
        .data_dir(dir, Fsync::Never)
        .persist_tuning(Tuning {
            punch_holes,
            ..Tuning::default()
        })
        .build();
    server.start().await.expect("start");
    server
}

/// A data dir written with packs, reopened where holes cannot be punched (bodies from then on
/// get files of their own, a range of a pack slot copied into a part too), then with packs
/// again: everything reads back each time, and a slot punched out after the switch back
/// takes no byte of what was copied from it.
#[tokio::test]
async fn a_data_dir_reopened_with_and_without_hole_punching_reads_back_everything() {
    let dir = temp_dir("persist-punch-switch");
    let (small, small2, big) = (data(5000, 1), data(100, 2), data(2 * 1024 * 1024, 3));
    let server = embedded_on(&dir, true).await;
    let c = client(&server.endpoint(), true);
    c.create_bucket()
        .bucket("mixed")
        .send()
        .await
        .expect("create");
    for (key, body) in [("small", &small), ("small2", &small2), ("big", &big)] {
        c.put_object()
            .bucket("mixed")
            .key(key)
            .body(ByteStream::from(body.clone()))
            .send()
            .await
            .expect("put");
    }
    let with_packs = body_files(&dir);
    assert_eq!(
        with_packs.iter().filter(|n| is_pack(n)).count(),
        1,
        "the small bodies share a pack: {with_packs:?}"
    );
    server.stop().await.expect("stop");
    drop(server);

    // Without hole punching.
    let server = embedded_on(&dir, false).await;
    let c = client(&server.endpoint(), true);
    for (key, body) in [("small", &small), ("small2", &small2), ("big", &big)] {
        assert_eq!(&bytes(&c, "mixed", key, None).await, body, "{key}");
    }
    let small3 = data(200, 4);
    let new = put_new_files(&c, &dir, "mixed", "small3", &small3).await;
    assert!(
        new.len() == 1 && !is_pack(&new[0]),
        "a small body gets a file of its own now: {new:?}"
    );
    // A range of a pack slot copied into a part.
    let id = c
        .create_multipart_upload()
        .bucket("mixed")
        .key("ranged")
        .send()
        .await
        .expect("create upload")
        .upload_id()
        .expect("upload id")
        .to_string();
    let copied = c
        .upload_part_copy()
        .bucket("mixed")
        .key("ranged")
        .upload_id(&id)
        .part_number(1)
        .copy_source("mixed/small")
        .copy_source_range("bytes=10-2009")
        .send()
        .await
        .expect("upload part copy of a slot's range");
    let etag = copied
        .copy_part_result()
        .and_then(|r| r.e_tag())
        .expect("etag")
        .to_string();
    c.complete_multipart_upload()
        .bucket("mixed")
        .key("ranged")
        .upload_id(&id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .parts(
                    aws_sdk_s3::types::CompletedPart::builder()
                        .part_number(1)
                        .e_tag(etag)
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .expect("complete");
    let small2b = data(300, 5);
    c.put_object()
        .bucket("mixed")
        .key("small2")
        .body(ByteStream::from(small2b.clone()))
        .send()
        .await
        .expect("overwrite a slot");
    let ranged = small[10..2010].to_vec();
    let expect = [
        ("small", &small),
        ("small2", &small2b),
        ("small3", &small3),
        ("big", &big),
        ("ranged", &ranged),
    ];
    for (key, want) in expect {
        assert_eq!(&bytes(&c, "mixed", key, None).await, want, "{key}");
    }
    server.stop().await.expect("stop");
    drop(server);

    // With packs again: what was written without them reads back; `small`'s slot punched
    // out leaves the range copied from it whole.
    let server = embedded_on(&dir, true).await;
    let c = client(&server.endpoint(), true);
    for (key, want) in expect {
        assert_eq!(
            &bytes(&c, "mixed", key, None).await,
            want,
            "{key} with packs again"
        );
    }
    c.delete_object()
        .bucket("mixed")
        .key("small")
        .send()
        .await
        .expect("delete");
    server.stop().await.expect("stop");
    drop(server);
    let server = embedded_on(&dir, false).await;
    let c = client(&server.endpoint(), true);
    assert!(is_gone(&c, "mixed", "small").await);
    for (key, want) in &expect[1..] {
        assert_eq!(
            &bytes(&c, "mixed", key, None).await,
            *want,
            "{key} at the end"
        );
    }
    assert_eq!(
        keys(&c, "mixed").await,
        ["big", "ranged", "small2", "small3"]
    );
    server.stop().await.expect("stop");
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Background rewrites made frequent (`S3TWIN_JOURNAL_REWRITE_*`: past 200 records, looked at
/// every 10 ms) while 16 writers overwrite, delete and version keys and an upload stays open:
/// each rewrite renames a new journal over the old one (a new inode), several complete while
/// the writes go on, and after a kill everything acknowledged reads back.
#[tokio::test]
async fn background_rewrites_under_writes_lose_nothing() {
    use std::collections::BTreeMap;
    use std::os::unix::fs::MetadataExt;
    use std::sync::{Arc, Mutex};
    let dir = temp_dir("persist-rewrites");
    let arg = dir.to_str().expect("path").to_string();
    let env = [
        ("S3TWIN_JOURNAL_REWRITE_FLOOR", "200"),
        ("S3TWIN_JOURNAL_REWRITE_CHECK_MS", "10"),
    ];
    let s = Spawned::start_env(&["--data-dir", &arg, "--fsync", "never"], &env);
    let c = client(&s.endpoint(), true);
    for b in ["plain", "versioned"] {
        c.create_bucket().bucket(b).send().await.expect("create");
    }
    set_versioning(&c, "versioned", BucketVersioningStatus::Enabled).await;
    let id = c
        .create_multipart_upload()
        .bucket("plain")
        .key("open-upload")
        .send()
        .await
        .expect("create upload")
        .upload_id()
        .expect("upload id")
        .to_string();
    let part = data(70_000, 9);
    let parts = upload_parts(&c, "plain", "open-upload", &id, std::slice::from_ref(&part)).await;
    let inode = || {
        std::fs::metadata(dir.join("journal"))
            .expect("journal")
            .ino()
    };
    let mut seen = vec![inode()];
    // Acknowledged state: plain key → body (None: deleted); versioned key → its versions.
    type Versions = BTreeMap<String, Vec<(String, Vec<u8>)>>;
    let plain: Arc<Mutex<BTreeMap<String, Option<Vec<u8>>>>> = Arc::default();
    let versions: Arc<Mutex<Versions>> = Arc::default();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut tasks = Vec::new();
    for w in 0..16u32 {
        let (c, plain, versions, stop) = (c.clone(), plain.clone(), versions.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            let mut n = 0u32;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) && n < 20_000 {
                n += 1;
                let body = format!("w{w} n{n}").into_bytes();
                // Keys of this writer only, so the acknowledged order is the writer's.
                let key = format!("w{w}/k{}", n % 40);
                match n % 50 {
                    0 | 10 | 20 | 30 | 40 => {
                        c.delete_object()
                            .bucket("plain")
                            .key(&key)
                            .send()
                            .await
                            .expect("delete");
                        plain.lock().expect("lock").insert(key, None);
                    }
                    // At most 640 versions in all: one page of the version listing.
                    1..=5 if n < 400 => {
                        let v = c
                            .put_object()
                            .bucket("versioned")
                            .key(format!("w{w}/v{}", n % 5))
                            .body(ByteStream::from(body.clone()))
                            .send()
                            .await
                            .expect("put version")
                            .version_id
                            .expect("version id");
                        versions
                            .lock()
                            .expect("lock")
                            .entry(format!("w{w}/v{}", n % 5))
                            .or_default()
                            .push((v, body));
                    }
                    _ => {
                        c.put_object()
                            .bucket("plain")
                            .key(&key)
                            .body(ByteStream::from(body.clone()))
                            .send()
                            .await
                            .expect("put");
                        plain.lock().expect("lock").insert(key, Some(body));
                    }
                }
            }
        }));
    }
    // Three rewrites put in place while the writers run.
    let started = std::time::Instant::now();
    while seen.len() < 4 {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(60),
            "journal inodes seen in 60 s: {seen:?}"
        );
        let now = inode();
        if seen.last() != Some(&now) {
            seen.push(now);
        }
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    // Writes continue past the last rewrite seen.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for t in tasks {
        t.await.expect("writer");
    }
    let plain = std::mem::take(&mut *plain.lock().expect("lock"));
    let versions = std::mem::take(&mut *versions.lock().expect("lock"));
    println!(
        "{} journals while writing; {} plain keys, {} versions",
        seen.len(),
        plain.len(),
        versions.values().map(Vec::len).sum::<usize>()
    );
    drop(s); // SIGKILL
             // What a kill in the middle of a rewrite leaves: the background one's `journal.next`, the
             // start's `journal.new` (half written); both are dropped at start, the journal is read.
    for name in ["journal.next", "journal.new"] {
        std::fs::write(dir.join(name), b"S3TWJNL1 cut short").expect("leftover");
    }
    let s = Spawned::start_env(&["--data-dir", &arg], &env);
    let mut entries: Vec<String> = std::fs::read_dir(&dir)
        .expect("data dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    entries.sort();
    assert_eq!(entries, ["FORMAT", "LOCK", "bodies", "journal"]);
    let c = client(&s.endpoint(), true);
    for (key, want) in &plain {
        match want {
            Some(body) => assert_eq!(&bytes(&c, "plain", key, None).await, body, "{key}"),
            None => assert!(is_gone(&c, "plain", key).await, "{key} stays deleted"),
        }
    }
    // At most 640 keys: one page.
    let want_listed: Vec<String> = plain
        .iter()
        .filter(|(_, v)| v.is_some())
        .map(|(k, _)| k.clone())
        .collect();
    assert_eq!(keys(&c, "plain").await, want_listed);
    for (key, vs) in &versions {
        for (v, body) in vs {
            assert_eq!(
                &bytes(&c, "versioned", key, Some(v)).await,
                body,
                "{key} {v}"
            );
        }
        assert_eq!(
            &bytes(&c, "versioned", key, None).await,
            &vs[vs.len() - 1].1
        );
    }
    let all_versions = c
        .list_object_versions()
        .bucket("versioned")
        .send()
        .await
        .expect("versions");
    assert_eq!(
        all_versions.versions().len(),
        versions.values().map(Vec::len).sum::<usize>()
    );
    // The upload left open through every rewrite completes with its part.
    c.complete_multipart_upload()
        .bucket("plain")
        .key("open-upload")
        .upload_id(&id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .set_parts(Some(parts))
                .build(),
        )
        .send()
        .await
        .expect("complete after the restart");
    assert_eq!(bytes(&c, "plain", "open-upload", None).await, part);
    drop(s);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A test knob that does not parse stops the start (a test must not run silently without the
/// path it means to exercise); without a data dir the knobs are not read.
#[test]
fn a_test_knob_that_does_not_parse_is_a_start_error() {
    let dir = temp_dir("persist-knobs");
    let arg = dir.to_str().expect("path").to_string();
    for (name, value) in [
        ("S3TWIN_JOURNAL_REWRITE_FLOOR", "many"),
        ("S3TWIN_JOURNAL_REWRITE_RATIO", "0"),
        ("S3TWIN_JOURNAL_REWRITE_CHECK_MS", "0"),
        ("S3TWIN_NO_HOLE_PUNCH", "yes"),
    ] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_s3twin"))
            .args(["--port", "0", "--data-dir", &arg])
            .env(name, value)
            .stdin(std::process::Stdio::null())
            .output()
            .expect("run s3twin");
        assert!(!out.status.success(), "{name}={value}: it started");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(name), "{name}={value}: {err}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
