//! Server-side encryption: SSE-S3 / SSE-KMS headers echoed as S3 echoes them, the bucket's
//! default applied, and SSE-C keys checked on every read, part and copy.

use crate::common::*;
use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    CompletedMultipartUpload, CompletedPart, ServerSideEncryption, ServerSideEncryptionByDefault,
    ServerSideEncryptionConfiguration, ServerSideEncryptionRule,
};
use md5::Digest as _;

type RefusedPut<'a> = (&'a [(&'a str, &'a str)], &'a str, &'a str, &'a str);
type KeyCase<'a> = (&'a str, Option<&'a str>, Option<&'a str>, &'a str, &'a str);

const KEY_ID: &str = "1234abcd-12ab-34cd-56ef-1234567890ab";

/// An SSE-C key: (base64 key, base64 MD5 of the key).
fn customer_key(fill: u8) -> (String, String) {
    let key = [fill; 32];
    (b64(&key), b64(&md5::Md5::digest(key)))
}

fn md5_hex(body: &[u8]) -> String {
    format!("\"{}\"", hex::encode(md5::Md5::digest(body)))
}

/// The code and message of an SDK error.
fn code_message<E: ProvideErrorMetadata>(e: &E) -> (String, String) {
    (
        e.code().unwrap_or("").to_string(),
        e.message().unwrap_or("").to_string(),
    )
}

/// A raw request with extra headers; returns the status and the whole response text.
async fn raw_with(
    t: &Twin,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, String) {
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Length: {}\r\nConnection: close\r\n",
        t.addr(),
        body.len()
    );
    for (n, v) in headers {
        req.push_str(&format!("{n}: {v}\r\n"));
    }
    req.push_str("\r\n");
    let mut bytes = req.into_bytes();
    bytes.extend_from_slice(body);
    raw(&t.addr(), &bytes).await
}

fn header_of<'a>(response: &'a str, name: &str) -> Option<&'a str> {
    let head = response.split("\r\n\r\n").next().unwrap_or("");
    head.lines().find_map(|l| {
        let (n, v) = l.split_once(':')?;
        n.eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

async fn put_bucket_default(
    t: &Twin,
    bucket: &str,
    algorithm: ServerSideEncryption,
    key: Option<&str>,
    bucket_key: bool,
) {
    let by_default = ServerSideEncryptionByDefault::builder()
        .sse_algorithm(algorithm)
        .set_kms_master_key_id(key.map(str::to_string))
        .build()
        .expect("default");
    t.client
        .put_bucket_encryption()
        .bucket(bucket)
        .server_side_encryption_configuration(
            ServerSideEncryptionConfiguration::builder()
                .rules(
                    ServerSideEncryptionRule::builder()
                        .apply_server_side_encryption_by_default(by_default)
                        .bucket_key_enabled(bucket_key)
                        .build(),
                )
                .build()
                .expect("config"),
        )
        .send()
        .await
        .expect("put bucket encryption");
}

#[tokio::test]
async fn sse_kms_headers_echoed_through_put_get_head() {
    let t = Twin::start().await;
    let b = new_bucket(&t.client, "kms").await;
    let context = b64(br#"{"team":"billing"}"#);
    let body = b"kms body";
    let written = t
        .client
        .put_object()
        .bucket(&b)
        .key("k")
        .body(ByteStream::from_static(body))
        .server_side_encryption(ServerSideEncryption::AwsKms)
        .ssekms_key_id(KEY_ID)
        .ssekms_encryption_context(&context)
        .bucket_key_enabled(true)
        .send()
        .await
        .expect("put");
    let arn = format!("arn:aws:kms:us-east-1:000000000000:key/{KEY_ID}");
    assert_eq!(
        written.server_side_encryption(),
        Some(&ServerSideEncryption::AwsKms)
    );
    assert_eq!(written.ssekms_key_id(), Some(arn.as_str()));
    assert_eq!(written.ssekms_encryption_context(), Some(context.as_str()));
    assert_eq!(written.bucket_key_enabled(), Some(true));
    // An SSE-KMS object's ETag is not the MD5 of its bytes.
    assert_ne!(written.e_tag(), Some(md5_hex(body).as_str()));

    let got = t
        .client
        .get_object()
        .bucket(&b)
        .key("k")
        .send()
        .await
        .expect("get");
    assert_eq!(
        got.server_side_encryption(),
        Some(&ServerSideEncryption::AwsKms)
    );
    assert_eq!(got.ssekms_key_id(), Some(arn.as_str()));
    assert_eq!(got.bucket_key_enabled(), Some(true));
    assert_eq!(got.e_tag(), written.e_tag());
    let h = head(&t.client, &b, "k").await;
    assert_eq!(
        h.server_side_encryption(),
        Some(&ServerSideEncryption::AwsKms)
    );
    assert_eq!(h.ssekms_key_id(), Some(arn.as_str()));
    assert_eq!(h.bucket_key_enabled(), Some(true));
    // GET and HEAD never send the context back.
    let (status, text) = raw_with(&t, "HEAD", &format!("/{b}/k"), &[], b"").await;
    assert_eq!(status, 200);
    assert_eq!(
        header_of(&text, "x-amz-server-side-encryption-context"),
        None
    );

    // SSE-S3 asked for explicitly: AES256 and nothing else.
    let s3 = t
        .client
        .put_object()
        .bucket(&b)
        .key("s3")
        .body(ByteStream::from_static(body))
        .server_side_encryption(ServerSideEncryption::Aes256)
        .send()
        .await
        .expect("put sse-s3");
    assert_eq!(
        s3.server_side_encryption(),
        Some(&ServerSideEncryption::Aes256)
    );
    assert_eq!(s3.ssekms_key_id(), None);
    assert_eq!(s3.bucket_key_enabled(), None);
    assert_eq!(s3.e_tag(), Some(md5_hex(body).as_str()));
}

#[tokio::test]
async fn sse_kms_without_a_key_uses_the_aws_managed_key_arn() {
    let t = Twin::start().await;
    let b = new_bucket(&t.client, "kmsdefault").await;
    let mut arns = Vec::new();
    for (key, id) in [("a", None), ("b", None), ("c", Some("alias/aws/s3"))] {
        let written = t
            .client
            .put_object()
            .bucket(&b)
            .key(key)
            .body(ByteStream::from_static(b"x"))
            .server_side_encryption(ServerSideEncryption::AwsKms)
            .set_ssekms_key_id(id.map(str::to_string))
            .send()
            .await
            .expect("put");
        // Without a Bucket Key S3 leaves the field out.
        assert_eq!(written.bucket_key_enabled(), None);
        arns.push(written.ssekms_key_id().unwrap_or("").to_string());
    }
    // The key's ARN (not the alias), in the run's account and the bucket's region.
    let arn = &arns[0];
    let id = arn
        .strip_prefix("arn:aws:kms:us-east-1:000000000000:key/")
        .expect("a key ARN of the account");
    assert_eq!(id.len(), 36, "{arn}");
    assert_eq!(id.matches('-').count(), 4, "{arn}");
    assert!(arns.iter().all(|a| a == arn), "{arns:?}");
    // DSSE-KMS echoes its own algorithm and the same key.
    let dsse = t
        .client
        .put_object()
        .bucket(&b)
        .key("d")
        .body(ByteStream::from_static(b"x"))
        .server_side_encryption(ServerSideEncryption::AwsKmsDsse)
        .send()
        .await
        .expect("put dsse");
    assert_eq!(
        dsse.server_side_encryption(),
        Some(&ServerSideEncryption::AwsKmsDsse)
    );
    assert_eq!(dsse.ssekms_key_id(), Some(arn.as_str()));
}

#[tokio::test]
async fn bucket_default_encryption_is_applied_to_put_copy_and_multipart() {
    let t = Twin::start().await;
    let b = new_bucket(&t.client, "bucketdefault").await;
    put_bucket_default(&t, &b, ServerSideEncryption::AwsKms, Some(KEY_ID), true).await;
    let arn = format!("arn:aws:kms:us-east-1:000000000000:key/{KEY_ID}");

    let written = t
        .client
        .put_object()
        .bucket(&b)
        .key("plain")
        .body(ByteStream::from_static(b"abc"))
        .send()
        .await
        .expect("put");
    assert_eq!(
        written.server_side_encryption(),
        Some(&ServerSideEncryption::AwsKms)
    );
    assert_eq!(written.ssekms_key_id(), Some(arn.as_str()));
    assert_eq!(written.bucket_key_enabled(), Some(true));

    // A request naming aws:kms without the Bucket Key header inherits the bucket's setting
    // but not its key.
    let own = t
        .client
        .put_object()
        .bucket(&b)
        .key("own")
        .body(ByteStream::from_static(b"abc"))
        .server_side_encryption(ServerSideEncryption::AwsKms)
        .send()
        .await
        .expect("put own");
    assert_eq!(own.bucket_key_enabled(), Some(true));
    assert_ne!(own.ssekms_key_id(), Some(arn.as_str()));

    // A request's own SSE-S3 wins over the default.
    let s3 = t
        .client
        .put_object()
        .bucket(&b)
        .key("s3")
        .body(ByteStream::from_static(b"abc"))
        .server_side_encryption(ServerSideEncryption::Aes256)
        .send()
        .await
        .expect("put s3");
    assert_eq!(
        s3.server_side_encryption(),
        Some(&ServerSideEncryption::Aes256)
    );
    assert_eq!(s3.bucket_key_enabled(), None);

    // A copy takes the destination's default, not the source's encryption.
    let plain = new_bucket(&t.client, "plainsrc").await;
    put(&t.client, &plain, "src", b"copied").await;
    let copy = t
        .client
        .copy_object()
        .bucket(&b)
        .key("copy")
        .copy_source(format!("{plain}/src"))
        .send()
        .await
        .expect("copy");
    assert_eq!(
        copy.server_side_encryption(),
        Some(&ServerSideEncryption::AwsKms)
    );
    assert_eq!(copy.ssekms_key_id(), Some(arn.as_str()));
    assert_eq!(copy.bucket_key_enabled(), Some(true));
    let back = t
        .client
        .copy_object()
        .bucket(&plain)
        .key("back")
        .copy_source(format!("{b}/copy"))
        .send()
        .await
        .expect("copy back");
    assert_eq!(
        back.server_side_encryption(),
        Some(&ServerSideEncryption::Aes256)
    );
    assert_eq!(back.ssekms_key_id(), None);
    // Back under SSE-S3, the ETag is the MD5 of the bytes again.
    assert_eq!(
        back.copy_object_result().and_then(|r| r.e_tag()),
        Some(md5_hex(b"copied").as_str())
    );

    // Multipart: Create, UploadPart and Complete all report it.
    let create = t
        .client
        .create_multipart_upload()
        .bucket(&b)
        .key("mp")
        .send()
        .await
        .expect("create");
    assert_eq!(
        create.server_side_encryption(),
        Some(&ServerSideEncryption::AwsKms)
    );
    assert_eq!(create.ssekms_key_id(), Some(arn.as_str()));
    assert_eq!(create.bucket_key_enabled(), Some(true));
    let id = create.upload_id().expect("id");
    let part = t
        .client
        .upload_part()
        .bucket(&b)
        .key("mp")
        .upload_id(id)
        .part_number(1)
        .body(ByteStream::from_static(b"part one"))
        .send()
        .await
        .expect("part");
    assert_eq!(
        part.server_side_encryption(),
        Some(&ServerSideEncryption::AwsKms)
    );
    assert_eq!(part.ssekms_key_id(), Some(arn.as_str()));
    assert_eq!(part.bucket_key_enabled(), Some(true));
    assert_ne!(part.e_tag(), Some(md5_hex(b"part one").as_str()));
    let done = t
        .client
        .complete_multipart_upload()
        .bucket(&b)
        .key("mp")
        .upload_id(id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .parts(
                    CompletedPart::builder()
                        .part_number(1)
                        .e_tag(part.e_tag().unwrap_or(""))
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .expect("complete");
    assert_eq!(
        done.server_side_encryption(),
        Some(&ServerSideEncryption::AwsKms)
    );
    assert_eq!(done.ssekms_key_id(), Some(arn.as_str()));
    assert_eq!(done.bucket_key_enabled(), Some(true));
    let h = head(&t.client, &b, "mp").await;
    assert_eq!(h.ssekms_key_id(), Some(arn.as_str()));

    // Removing the default puts SSE-S3 back.
    t.client
        .delete_bucket_encryption()
        .bucket(&b)
        .send()
        .await
        .expect("delete encryption");
    let after = t
        .client
        .put_object()
        .bucket(&b)
        .key("after")
        .body(ByteStream::from_static(b"abc"))
        .send()
        .await
        .expect("put after");
    assert_eq!(
        after.server_side_encryption(),
        Some(&ServerSideEncryption::Aes256)
    );
}

#[tokio::test]
async fn invalid_sse_headers_get_s3s_errors() {
    let t = Twin::start().await;
    let b = new_bucket(&t.client, "sseerr").await;
    let path = format!("/{b}/k");
    // (request headers, code, message, extra elements)
    let cases: [RefusedPut; 5] = [
        (
            &[("x-amz-server-side-encryption", "AES512")],
            "InvalidArgument",
            "The encryption method specified is not supported",
            "<ArgumentName>x-amz-server-side-encryption</ArgumentName><ArgumentValue>AES512</ArgumentValue>",
        ),
        (
            &[
                ("x-amz-server-side-encryption", "AES256"),
                ("x-amz-server-side-encryption-aws-kms-key-id", KEY_ID),
            ],
            "InvalidArgument",
            "Server Side Encryption with AWS KMS managed key requires HTTP header x-amz-server-side-encryption : aws:kms",
            "<ArgumentName>x-amz-server-side-encryption</ArgumentName>",
        ),
        (
            &[
                ("x-amz-server-side-encryption", "aws:kms"),
                ("x-amz-server-side-encryption-aws-kms-key-id", "fake-key-id"),
            ],
            "KMS.NotFoundException",
            "Invalid keyId 'fake-key-id'",
            "",
        ),
        (
            &[
                ("x-amz-server-side-encryption", "aws:kms"),
                ("x-amz-server-side-encryption-context", "bm90IGpzb24="),
            ],
            "InvalidArgument",
            "The header 'x-amz-server-side-encryption-context' shall be Base64-encoded UTF-8 string holding JSON which represents a string-string map",
            "<ArgumentName>x-amz-server-side-encryption-context</ArgumentName>",
        ),
        (
            &[
                ("x-amz-server-side-encryption", "AES256"),
                ("x-amz-server-side-encryption-customer-algorithm", "AES256"),
                ("x-amz-server-side-encryption-customer-key", &b64(&[1; 32])),
            ],
            "InvalidArgument",
            "Server Side Encryption with Customer provided key is incompatible with the encryption method specified",
            "<ArgumentName>x-amz-server-side-encryption</ArgumentName><ArgumentValue>AES256</ArgumentValue>",
        ),
    ];
    for (headers, code, message, extra) in cases {
        let (status, text) = raw_with(&t, "PUT", &path, headers, b"x").await;
        assert_eq!(status, 400, "{headers:?}: {text}");
        assert_eq!(xml_value(&text, "Code").as_deref(), Some(code), "{text}");
        let got = xml_value(&text, "Message").map(|m| m.replace("&apos;", "'"));
        assert_eq!(got.as_deref(), Some(message), "{text}");
        assert!(text.contains(extra), "{text}");
    }
    // Nothing was stored by the refused writes.
    let err = t.client.head_object().bucket(&b).key("k").send().await;
    assert_eq!(err.err().map(|e| error_parts(&e).1), Some(404));

    // GET and HEAD take no x-amz-server-side-encryption.
    put(&t.client, &b, "k", b"x").await;
    let (status, text) = raw_with(
        &t,
        "GET",
        &path,
        &[("x-amz-server-side-encryption", "AES256")],
        b"",
    )
    .await;
    assert_eq!(status, 400, "{text}");
    assert_eq!(xml_value(&text, "Code").as_deref(), Some("InvalidArgument"));
}

#[tokio::test]
async fn bucket_encryption_configuration_is_validated() {
    let t = Twin::start().await;
    let b = new_bucket(&t.client, "ssecfg").await;
    let rule = "<Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256</SSEAlgorithm></ApplyServerSideEncryptionByDefault></Rule>";
    let two = format!(
        "<ServerSideEncryptionConfiguration>{rule}{rule}</ServerSideEncryptionConfiguration>"
    );
    let (status, text) =
        raw_with(&t, "PUT", &format!("/{b}?encryption"), &[], two.as_bytes()).await;
    assert_eq!(status, 400, "{text}");
    assert_eq!(xml_value(&text, "Code").as_deref(), Some("MalformedXML"));

    // A bucket that blocks SSE-C refuses SSE-C writes with 403.
    let blocked = "<ServerSideEncryptionConfiguration><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256</SSEAlgorithm></ApplyServerSideEncryptionByDefault><BlockedEncryptionTypes><EncryptionType>SSE-C</EncryptionType></BlockedEncryptionTypes></Rule></ServerSideEncryptionConfiguration>";
    let (status, text) = raw_with(
        &t,
        "PUT",
        &format!("/{b}?encryption"),
        &[],
        blocked.as_bytes(),
    )
    .await;
    assert_eq!(status, 200, "{text}");
    let (key, md5) = customer_key(7);
    let err = t
        .client
        .put_object()
        .bucket(&b)
        .key("c")
        .body(ByteStream::from_static(b"x"))
        .sse_customer_algorithm("AES256")
        .sse_customer_key(&key)
        .sse_customer_key_md5(&md5)
        .send()
        .await
        .expect_err("blocked");
    assert_eq!(error_parts(&err), ("AccessDenied".to_string(), 403));
    let message = err
        .as_service_error()
        .and_then(|e| e.message())
        .unwrap_or("");
    assert!(
        message.contains("because this bucket has blocked upload requests that specify Server Side Encryption with Customer provided keys (SSE-C)"),
        "{message}"
    );
    put(&t.client, &b, "plain", b"still fine").await;
}

#[tokio::test]
async fn sse_c_round_trip_with_range_head_and_attributes() {
    let t = Twin::start().await;
    let b = new_bucket(&t.client, "ssec").await;
    let (key, md5) = customer_key(1);
    let body = b"0123456789 secret";
    let written = t
        .client
        .put_object()
        .bucket(&b)
        .key("c")
        .body(ByteStream::from_static(body))
        .sse_customer_algorithm("AES256")
        .sse_customer_key(&key)
        .sse_customer_key_md5(&md5)
        .send()
        .await
        .expect("put");
    assert_eq!(written.sse_customer_algorithm(), Some("AES256"));
    assert_eq!(written.sse_customer_key_md5(), Some(md5.as_str()));
    // No x-amz-server-side-encryption for SSE-C, and an ETag that is not the body's MD5.
    assert_eq!(written.server_side_encryption(), None);
    assert_ne!(written.e_tag(), Some(md5_hex(body).as_str()));

    let got = t
        .client
        .get_object()
        .bucket(&b)
        .key("c")
        .sse_customer_algorithm("AES256")
        .sse_customer_key(&key)
        .sse_customer_key_md5(&md5)
        .send()
        .await
        .expect("get with key");
    assert_eq!(got.sse_customer_algorithm(), Some("AES256"));
    assert_eq!(got.sse_customer_key_md5(), Some(md5.as_str()));
    assert_eq!(got.server_side_encryption(), None);
    let bytes = got.body.collect().await.expect("body").into_bytes();
    assert_eq!(&bytes[..], body);

    let ranged = t
        .client
        .get_object()
        .bucket(&b)
        .key("c")
        .range("bytes=2-5")
        .sse_customer_algorithm("AES256")
        .sse_customer_key(&key)
        .sse_customer_key_md5(&md5)
        .send()
        .await
        .expect("range with key");
    assert_eq!(ranged.content_range(), Some("bytes 2-5/17"));
    let bytes = ranged.body.collect().await.expect("body").into_bytes();
    assert_eq!(&bytes[..], b"2345");

    let h = t
        .client
        .head_object()
        .bucket(&b)
        .key("c")
        .sse_customer_algorithm("AES256")
        .sse_customer_key(&key)
        .sse_customer_key_md5(&md5)
        .send()
        .await
        .expect("head with key");
    assert_eq!(h.sse_customer_key_md5(), Some(md5.as_str()));

    // Without the key: 400 InvalidRequest.
    let err = t
        .client
        .get_object()
        .bucket(&b)
        .key("c")
        .send()
        .await
        .expect_err("no key");
    assert_eq!(error_parts(&err), ("InvalidRequest".to_string(), 400));
    assert_eq!(
        err.as_service_error().map(code_message),
        Some((
            "InvalidRequest".to_string(),
            "The object was stored using a form of Server Side Encryption. The correct parameters must be provided to retrieve the object.".to_string()
        ))
    );
    let err = t.client.head_object().bucket(&b).key("c").send().await;
    assert_eq!(err.err().map(|e| error_parts(&e).1), Some(400));

    // Another key: 403 AccessDenied.
    let (other, other_md5) = customer_key(2);
    let err = t
        .client
        .get_object()
        .bucket(&b)
        .key("c")
        .sse_customer_algorithm("AES256")
        .sse_customer_key(&other)
        .sse_customer_key_md5(&other_md5)
        .send()
        .await
        .expect_err("wrong key");
    assert_eq!(error_parts(&err), ("AccessDenied".to_string(), 403));
    assert_eq!(
        err.as_service_error().and_then(|e| e.message()),
        Some("Requests specifying Server Side Encryption with Customer provided keys must provide the correct secret key.")
    );

    // GetObjectAttributes needs the key too.
    let attrs = || {
        t.client
            .get_object_attributes()
            .bucket(&b)
            .key("c")
            .object_attributes(aws_sdk_s3::types::ObjectAttributes::ObjectSize)
    };
    let err = attrs().send().await.expect_err("attributes without key");
    assert_eq!(error_parts(&err), ("InvalidRequest".to_string(), 400));
    let a = attrs()
        .sse_customer_algorithm("AES256")
        .sse_customer_key(&key)
        .sse_customer_key_md5(&md5)
        .send()
        .await
        .expect("attributes with key");
    assert_eq!(a.object_size(), Some(17));

    // SSE-C headers on an object that is not SSE-C.
    put(&t.client, &b, "plain", b"p").await;
    let err = t
        .client
        .get_object()
        .bucket(&b)
        .key("plain")
        .sse_customer_algorithm("AES256")
        .sse_customer_key(&key)
        .sse_customer_key_md5(&md5)
        .send()
        .await
        .expect_err("not applicable");
    assert_eq!(
        err.as_service_error().map(code_message),
        Some((
            "InvalidRequest".to_string(),
            "The encryption parameters are not applicable to this object.".to_string()
        ))
    );
    // Deleting needs no key.
    t.client
        .delete_object()
        .bucket(&b)
        .key("c")
        .send()
        .await
        .expect("delete");
}

#[tokio::test]
async fn sse_c_key_headers_are_validated() {
    let t = Twin::start().await;
    let b = new_bucket(&t.client, "ssecval").await;
    let (key, md5) = customer_key(3);
    let (_, other_md5) = customer_key(4);
    let short = [5u8; 16];
    let short_md5 = b64(&md5::Md5::digest(short));
    // (algorithm, key, key MD5, code, message)
    let cases: [KeyCase; 5] = [
        (
            "AES256",
            Some(&key),
            Some(&other_md5),
            "InvalidArgument",
            "The calculated MD5 hash of the key did not match the hash that was provided.",
        ),
        (
            "AES256",
            Some(&b64(&short)),
            Some(&short_md5),
            "InvalidArgument",
            "The secret key was invalid for the specified algorithm.",
        ),
        (
            "AES512",
            Some(&key),
            Some(&md5),
            "InvalidEncryptionAlgorithmError",
            "The Encryption request you specified is not valid. Supported value: AES256.",
        ),
        (
            "AES256",
            None,
            None,
            "InvalidArgument",
            "Requests specifying Server Side Encryption with Customer provided keys must provide an appropriate secret key.",
        ),
        (
            "",
            Some(&key),
            Some(&md5),
            "InvalidArgument",
            "Requests specifying Server Side Encryption with Customer provided keys must provide a valid encryption algorithm.",
        ),
    ];
    for (algorithm, k, m, code, message) in cases {
        let err = t
            .client
            .put_object()
            .bucket(&b)
            .key("c")
            .body(ByteStream::from_static(b"x"))
            .set_sse_customer_algorithm((!algorithm.is_empty()).then(|| algorithm.to_string()))
            .set_sse_customer_key(k.map(str::to_string))
            .set_sse_customer_key_md5(m.map(str::to_string))
            .send()
            .await
            .expect_err(message);
        assert_eq!(error_parts(&err).1, 400, "{message}");
        assert_eq!(
            err.as_service_error().map(code_message),
            Some((code.to_string(), message.to_string()))
        );
    }
}

#[tokio::test]
async fn sse_c_copy_needs_the_source_key() {
    let t = Twin::start().await;
    let b = new_bucket(&t.client, "sseccopy").await;
    let (key, md5) = customer_key(1);
    let (key2, md5_2) = customer_key(2);
    t.client
        .put_object()
        .bucket(&b)
        .key("src")
        .body(ByteStream::from_static(b"copy me"))
        .sse_customer_algorithm("AES256")
        .sse_customer_key(&key)
        .sse_customer_key_md5(&md5)
        .send()
        .await
        .expect("put");
    let copy = || {
        t.client
            .copy_object()
            .bucket(&b)
            .key("dst")
            .copy_source(format!("{b}/src"))
    };
    let err = copy().send().await.expect_err("no source key");
    assert_eq!(error_parts(&err), ("InvalidRequest".to_string(), 400));
    let err = copy()
        .copy_source_sse_customer_algorithm("AES256")
        .copy_source_sse_customer_key(&key2)
        .copy_source_sse_customer_key_md5(&md5_2)
        .send()
        .await
        .expect_err("wrong source key");
    assert_eq!(error_parts(&err), ("AccessDenied".to_string(), 403));

    // Re-keyed: the source's key in, another key out.
    let out = copy()
        .copy_source_sse_customer_algorithm("AES256")
        .copy_source_sse_customer_key(&key)
        .copy_source_sse_customer_key_md5(&md5)
        .sse_customer_algorithm("AES256")
        .sse_customer_key(&key2)
        .sse_customer_key_md5(&md5_2)
        .send()
        .await
        .expect("copy re-keyed");
    assert_eq!(out.sse_customer_key_md5(), Some(md5_2.as_str()));
    assert_eq!(out.server_side_encryption(), None);
    let got = t
        .client
        .get_object()
        .bucket(&b)
        .key("dst")
        .sse_customer_algorithm("AES256")
        .sse_customer_key(&key2)
        .sse_customer_key_md5(&md5_2)
        .send()
        .await
        .expect("get copy");
    let bytes = got.body.collect().await.expect("body").into_bytes();
    assert_eq!(&bytes[..], b"copy me");

    // Copied without target encryption: SSE-S3, with the MD5 as ETag.
    let plain = t
        .client
        .copy_object()
        .bucket(&b)
        .key("plain")
        .copy_source(format!("{b}/src"))
        .copy_source_sse_customer_algorithm("AES256")
        .copy_source_sse_customer_key(&key)
        .copy_source_sse_customer_key_md5(&md5)
        .send()
        .await
        .expect("copy to sse-s3");
    assert_eq!(
        plain.server_side_encryption(),
        Some(&ServerSideEncryption::Aes256)
    );
    assert_eq!(plain.sse_customer_algorithm(), None);
    assert_eq!(
        plain.copy_object_result().and_then(|r| r.e_tag()),
        Some(md5_hex(b"copy me").as_str())
    );
    assert_eq!(get_bytes(&t.client, &b, "plain").await, b"copy me");
}

#[tokio::test]
async fn sse_c_multipart_parts_carry_the_uploads_key() {
    let t = Twin::start().await;
    let b = new_bucket(&t.client, "ssecmp").await;
    let (key, md5) = customer_key(9);
    let (other, other_md5) = customer_key(8);
    let create = t
        .client
        .create_multipart_upload()
        .bucket(&b)
        .key("mp")
        .sse_customer_algorithm("AES256")
        .sse_customer_key(&key)
        .sse_customer_key_md5(&md5)
        .send()
        .await
        .expect("create");
    assert_eq!(create.sse_customer_key_md5(), Some(md5.as_str()));
    assert_eq!(create.server_side_encryption(), None);
    let id = create.upload_id().expect("id").to_string();
    let part = |n: i32, body: &'static [u8]| {
        t.client
            .upload_part()
            .bucket(&b)
            .key("mp")
            .upload_id(&id)
            .part_number(n)
            .body(ByteStream::from_static(body))
    };
    let err = part(1, b"first")
        .send()
        .await
        .expect_err("part without key");
    assert_eq!(
        err.as_service_error().map(code_message),
        Some((
            "InvalidRequest".to_string(),
            "The multipart upload initiate requested encryption. Subsequent part requests must include the appropriate encryption parameters.".to_string()
        ))
    );
    let err = part(1, b"first")
        .sse_customer_algorithm("AES256")
        .sse_customer_key(&other)
        .sse_customer_key_md5(&other_md5)
        .send()
        .await
        .expect_err("part with another key");
    assert_eq!(
        err.as_service_error().map(code_message),
        Some((
            "InvalidRequest".to_string(),
            "The provided encryption parameters did not match the ones used originally."
                .to_string()
        ))
    );
    let mut done = Vec::new();
    for (n, body) in [(1, &b"first "[..]), (2, &b"second"[..])] {
        let p = part(n, body)
            .sse_customer_algorithm("AES256")
            .sse_customer_key(&key)
            .sse_customer_key_md5(&md5)
            .send()
            .await
            .expect("part");
        assert_eq!(p.sse_customer_key_md5(), Some(md5.as_str()));
        assert_ne!(p.e_tag(), Some(md5_hex(body).as_str()));
        done.push(
            CompletedPart::builder()
                .part_number(n)
                .e_tag(p.e_tag().unwrap_or(""))
                .build(),
        );
    }
    let complete = t
        .client
        .complete_multipart_upload()
        .bucket(&b)
        .key("mp")
        .upload_id(&id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .set_parts(Some(done))
                .build(),
        )
        .send()
        .await
        .expect("complete");
    assert_eq!(complete.server_side_encryption(), None);
    assert!(complete.e_tag().is_some_and(|e| e.ends_with("-2\"")));

    let get = |part_number: i32| {
        t.client
            .get_object()
            .bucket(&b)
            .key("mp")
            .part_number(part_number)
    };
    let err = get(2).send().await.expect_err("part read without key");
    assert_eq!(error_parts(&err), ("InvalidRequest".to_string(), 400));
    let second = get(2)
        .sse_customer_algorithm("AES256")
        .sse_customer_key(&key)
        .sse_customer_key_md5(&md5)
        .send()
        .await
        .expect("part read with key");
    let bytes = second.body.collect().await.expect("body").into_bytes();
    assert_eq!(&bytes[..], b"second");

    // A plain upload refuses SSE-C parts.
    let plain = t
        .client
        .create_multipart_upload()
        .bucket(&b)
        .key("plain")
        .send()
        .await
        .expect("create plain");
    let err = t
        .client
        .upload_part()
        .bucket(&b)
        .key("plain")
        .upload_id(plain.upload_id().unwrap_or(""))
        .part_number(1)
        .body(ByteStream::from_static(b"x"))
        .sse_customer_algorithm("AES256")
        .sse_customer_key(&key)
        .sse_customer_key_md5(&md5)
        .send()
        .await
        .expect_err("sse-c part on a plain upload");
    assert_eq!(error_parts(&err), ("InvalidRequest".to_string(), 400));
}

#[tokio::test]
async fn strict_mode_refuses_sse_c_over_http() {
    let server = s3twin::S3Server::builder().port(0).strict(true).build();
    server.start().await.expect("start");
    let c = client(&server.endpoint(), true);
    let b = new_bucket(&c, "ssecstrict").await;
    let (key, md5) = customer_key(1);
    let err = c
        .put_object()
        .bucket(&b)
        .key("c")
        .body(ByteStream::from_static(b"x"))
        .sse_customer_algorithm("AES256")
        .sse_customer_key(&key)
        .sse_customer_key_md5(&md5)
        .send()
        .await
        .expect_err("http");
    assert_eq!(
        err.as_service_error().map(code_message),
        Some((
            "InvalidRequest".to_string(),
            "Requests specifying Server Side Encryption with Customer provided keys must be made over a secure connection.".to_string()
        ))
    );
    assert_eq!(error_parts(&err).1, 400);
}

#[tokio::test]
async fn copy_in_place_changes_encryption() {
    let t = Twin::start().await;
    let b = new_bucket(&t.client, "ssecopyinplace").await;
    put(&t.client, &b, "k", b"same bytes").await;
    let in_place = || {
        t.client
            .copy_object()
            .bucket(&b)
            .key("k")
            .copy_source(format!("{b}/k"))
    };
    // Without any change S3 refuses a copy onto itself...
    let err = in_place().send().await.expect_err("no change");
    assert_eq!(error_parts(&err), ("InvalidRequest".to_string(), 400));
    // ...but naming an encryption is a change.
    let out = in_place()
        .server_side_encryption(ServerSideEncryption::AwsKms)
        .ssekms_key_id(KEY_ID)
        .send()
        .await
        .expect("re-encrypt in place");
    assert_eq!(
        out.ssekms_key_id(),
        Some(format!("arn:aws:kms:us-east-1:000000000000:key/{KEY_ID}").as_str())
    );
    let h = head(&t.client, &b, "k").await;
    assert_eq!(
        h.server_side_encryption(),
        Some(&ServerSideEncryption::AwsKms)
    );
    // With a configured bucket default, a plain copy in place is allowed and takes it.
    put_bucket_default(&t, &b, ServerSideEncryption::Aes256, None, false).await;
    let out = in_place()
        .send()
        .await
        .expect("copy in place with a bucket default");
    assert_eq!(
        out.server_side_encryption(),
        Some(&ServerSideEncryption::Aes256)
    );
    assert_eq!(
        out.copy_object_result().and_then(|r| r.e_tag()),
        Some(md5_hex(b"same bytes").as_str())
    );
}

#[tokio::test]
async fn upload_part_copy_from_an_sse_c_source() {
    let t = Twin::start().await;
    let b = new_bucket(&t.client, "ssecpartcopy").await;
    let (key, md5) = customer_key(6);
    t.client
        .put_object()
        .bucket(&b)
        .key("src")
        .body(ByteStream::from_static(b"0123456789"))
        .sse_customer_algorithm("AES256")
        .sse_customer_key(&key)
        .sse_customer_key_md5(&md5)
        .send()
        .await
        .expect("put source");
    let id = t
        .client
        .create_multipart_upload()
        .bucket(&b)
        .key("dst")
        .send()
        .await
        .expect("create")
        .upload_id()
        .unwrap_or("")
        .to_string();
    let copy_part = || {
        t.client
            .upload_part_copy()
            .bucket(&b)
            .key("dst")
            .upload_id(&id)
            .part_number(1)
            .copy_source(format!("{b}/src"))
            .copy_source_range("bytes=2-5")
    };
    let err = copy_part().send().await.expect_err("no source key");
    assert_eq!(error_parts(&err), ("InvalidRequest".to_string(), 400));
    let part = copy_part()
        .copy_source_sse_customer_algorithm("AES256")
        .copy_source_sse_customer_key(&key)
        .copy_source_sse_customer_key_md5(&md5)
        .send()
        .await
        .expect("part copy with the source key");
    assert_eq!(
        part.server_side_encryption(),
        Some(&ServerSideEncryption::Aes256)
    );
    let etag = part
        .copy_part_result()
        .and_then(|r| r.e_tag())
        .unwrap_or("")
        .to_string();
    t.client
        .complete_multipart_upload()
        .bucket(&b)
        .key("dst")
        .upload_id(&id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .parts(CompletedPart::builder().part_number(1).e_tag(etag).build())
                .build(),
        )
        .send()
        .await
        .expect("complete");
    // The target upload was plain: it reads without a key.
    assert_eq!(get_bytes(&t.client, &b, "dst").await, b"2345");
}
