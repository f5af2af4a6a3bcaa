//! HTTPS (`--tls`): the SDK over TLS trusting the generated local CA (and only it), the CA and
//! leaf kept and reused across starts, your own certificate, the names the leaf covers, and
//! hostile or silent clients on the TLS port.

use crate::common::*;
use aws_sdk_s3::error::SdkError;
use s3twin::S3Server;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn tls_twin(dir: &std::path::Path) -> (S3Server, Vec<u8>) {
    let server = S3Server::builder().port(0).tls(dir).build();
    server.start().await.expect("server starts");
    let ca = std::fs::read(server.ca_file().expect("a generated CA")).expect("CA file");
    (server, ca)
}

/// One request over TLS with `name` as the server name (SNI and the name verified), trusting
/// `ca_pem` only; the whole answer.
async fn tls_exchange(addr: &str, name: &str, ca_pem: &[u8], request: &str) -> String {
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls::pki_types::CertificateDer::pem_slice_iter(ca_pem) {
        roots.add(cert.expect("CA PEM")).expect("CA");
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("versions")
    .with_root_certificates(roots)
    .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let server_name = rustls::pki_types::ServerName::try_from(name.to_string()).expect("name");
    let mut tls = connector
        .connect(server_name, tcp)
        .await
        .unwrap_or_else(|e| panic!("handshake as {name}: {e}"));
    tls.write_all(request.as_bytes()).await.expect("write");
    let mut out = Vec::new();
    let _ = tls.read_to_end(&mut out).await;
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test]
async fn the_sdk_works_over_https_trusting_the_generated_ca() {
    let dir = temp_dir("tls-sdk");
    let (server, ca) = tls_twin(&dir).await;
    let endpoint = server.endpoint();
    assert!(endpoint.starts_with("https://127.0.0.1:"), "{endpoint}");
    let port = server.local_addr().expect("started").port();
    for endpoint in [endpoint, format!("https://localhost:{port}")] {
        let c = https_client(&endpoint, &ca);
        let bucket = new_bucket(&c, "tls").await;
        put(&c, &bucket, "k", b"over tls").await;
        assert_eq!(get_bytes(&c, &bucket, "k").await, b"over tls");
    }
    // A client that trusts another CA refuses the server: the certificate is really checked.
    let other_dir = temp_dir("tls-other");
    let (other, other_ca) = tls_twin(&other_dir).await;
    assert_ne!(ca, other_ca);
    let stranger = https_client(&server.endpoint(), &other_ca);
    let err = stranger.list_buckets().send().await.expect_err("untrusted");
    assert!(matches!(err, SdkError::DispatchFailure(_)), "{err:?}");
    other.stop().await.ok();
    server.stop().await.ok();
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&other_dir);
}

#[tokio::test]
async fn the_leaf_covers_local_names_and_each_domain_with_addressing_intact() {
    let dir = temp_dir("tls-names");
    let server = S3Server::builder()
        .port(0)
        .domain("s3.example.test")
        .tls(&dir)
        .build();
    server.start().await.expect("server starts");
    let ca = std::fs::read(server.ca_file().expect("CA")).expect("CA file");
    let addr = server.local_addr().expect("started").to_string();
    // Virtual-hosted style on a --domain and on *.s3.localhost: the name verifies and the
    // bucket is read from the Host header, as over HTTP.
    for host in ["nobucket.s3.example.test", "nobucket.s3.localhost"] {
        let req = format!("GET / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
        let text = tls_exchange(&addr, host, &ca, &req).await;
        assert!(text.starts_with("HTTP/1.1 404"), "{host}: {text}");
        assert_eq!(
            xml_value(&text, "Code").as_deref(),
            Some("NoSuchBucket"),
            "{text}"
        );
        assert_eq!(xml_value(&text, "BucketName").as_deref(), Some("nobucket"));
    }
    for name in ["s3.example.test", "localhost", "127.0.0.1", "::1"] {
        let req = "GET /_s3twin/health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
        let text = tls_exchange(&addr, name, &ca, req).await;
        assert!(text.starts_with("HTTP/1.1 200"), "{name}: {text}");
    }
    server.stop().await.ok();
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn plain_http_junk_and_silent_clients_on_the_tls_port_are_closed_not_hung() {
    let dir = temp_dir("tls-hostile");
    let server = S3Server::builder()
        .port(0)
        .header_read_timeout(Duration::from_secs(1))
        .tls(&dir)
        .build();
    server.start().await.expect("server starts");
    let ca = std::fs::read(server.ca_file().expect("CA")).expect("CA file");
    let addr = server.local_addr().expect("started").to_string();
    let within = Duration::from_secs(5);

    // Plain HTTP and junk: the handshake fails at once, no HTTP answer comes back.
    for bytes in [
        &b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"[..],
        &[0u8; 300][..],
        &[0x16, 0x03, 0x01, 0xff, 0xff, 0x01, 0x00][..],
    ] {
        let (status, _) = tokio::time::timeout(within, raw(&addr, bytes))
            .await
            .expect("closed, not hung");
        assert_eq!(status, 0);
    }
    // Silent, and a handshake that stalls half-way: dropped after the handshake timeout.
    for bytes in [&b""[..], &[0x16, 0x03, 0x01, 0x00, 0xc8, 0x01][..]] {
        let mut s = tokio::net::TcpStream::connect(&addr)
            .await
            .expect("connect");
        s.write_all(bytes).await.expect("write");
        let mut buf = Vec::new();
        let read = tokio::time::timeout(within, s.read_to_end(&mut buf)).await;
        assert!(read.is_ok(), "the server closed the stalled handshake");
    }
    // The server still serves.
    let c = https_client(&server.endpoint(), &ca);
    c.list_buckets()
        .send()
        .await
        .expect("list after the hostile clients");
    server.stop().await.ok();
    let _ = std::fs::remove_dir_all(&dir);
}

/// An RSA CA and a leaf for localhost signed by it, made by the openssl command (as mkcert
/// and most tools make them); `None` where there is no openssl.
fn openssl_rsa_pair(
    dir: &std::path::Path,
) -> Option<(Vec<u8>, std::path::PathBuf, std::path::PathBuf)> {
    let run = |args: &[&str]| {
        std::process::Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    std::fs::write(
        dir.join("ext.cnf"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\n",
    )
    .ok()?;
    let ok = run(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=test RSA CA",
    ]) && run(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "leaf.key",
        "-out",
        "leaf.csr",
        "-subj",
        "/CN=localhost",
    ]) && run(&[
        "x509",
        "-req",
        "-in",
        "leaf.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "leaf.pem",
        "-days",
        "2",
        "-extfile",
        "ext.cnf",
    ]);
    ok.then(|| {
        (
            std::fs::read(dir.join("ca.pem")).ok(),
            dir.join("leaf.pem"),
            dir.join("leaf.key"),
        )
    })
    .and_then(|(ca, cert, key)| Some((ca?, cert, key)))
}

#[tokio::test]
async fn your_own_certificate_and_key_are_served() {
    let dir = temp_dir("tls-own");
    std::fs::create_dir_all(&dir).expect("dir");
    // A pair from elsewhere: another server's local CA directory.
    let elsewhere = dir.join("elsewhere");
    let (first, other_ca) = tls_twin(&elsewhere).await;
    first.stop().await.ok();
    let mut pairs = vec![(
        other_ca,
        elsewhere.join("cert.pem"),
        elsewhere.join("key.pem"),
    )];
    // And an RSA pair, when openssl is there to make one.
    pairs.extend(openssl_rsa_pair(&dir));
    for (ca, cert_file, key_file) in &pairs {
        let server = S3Server::builder()
            .port(0)
            .tls_files(cert_file, key_file)
            .build();
        server.start().await.expect("server starts");
        assert_eq!(server.ca_file(), None);
        let c = https_client(&server.endpoint(), ca);
        c.list_buckets()
            .send()
            .await
            .unwrap_or_else(|e| panic!("list with {}: {e:?}", cert_file.display()));
        server.stop().await.ok();
    }

    // A key that is not PEM is a start error naming the file, not a panic.
    let (_, cert_file, _) = &pairs[0];
    let key_file = dir.join("mine-key.pem");
    std::fs::write(&key_file, "not a key").expect("write");
    let bad = S3Server::builder()
        .port(0)
        .tls_files(cert_file, &key_file)
        .build();
    let err = bad.start().await.expect_err("bad key");
    assert!(err.to_string().contains("mine-key.pem"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn the_binary_prints_the_trust_lines_and_reuses_its_ca_across_starts() {
    let dir = temp_dir("tls-bin");
    let dir_arg = dir.to_str().expect("utf-8 path");
    let ca_file = dir.join("ca.pem");
    let leaf_file = dir.join("cert.pem");

    let first = Spawned::start(&["--tls", "--tls-dir", dir_arg]);
    assert!(first.endpoint().starts_with("https://"), "{}", first.banner);
    for var in ["AWS_CA_BUNDLE", "NODE_EXTRA_CA_CERTS"] {
        let line = format!("  export {var}={}\n", ca_file.display());
        assert!(first.banner.contains(&line), "{line} in {}", first.banner);
    }
    let ca = std::fs::read(&ca_file).expect("CA made");
    let leaf = std::fs::read(&leaf_file).expect("leaf made");
    let c = https_client(&first.endpoint(), &ca);
    c.list_buckets().send().await.expect("list");
    drop(first);

    // Same names: the same CA and leaf.
    let second = Spawned::start(&["--tls", "--tls-dir", dir_arg]);
    assert_eq!(std::fs::read(&ca_file).expect("CA"), ca);
    assert_eq!(std::fs::read(&leaf_file).expect("leaf"), leaf);
    drop(second);

    // Another name: a new leaf from the same CA, which clients already trust.
    let third = Spawned::start(&["--tls", "--tls-dir", dir_arg, "--domain", "s3.example.test"]);
    assert_eq!(std::fs::read(&ca_file).expect("CA"), ca);
    assert_ne!(std::fs::read(&leaf_file).expect("leaf"), leaf);
    let c = https_client(&third.endpoint(), &ca);
    c.list_buckets()
        .send()
        .await
        .expect("list with the new leaf");
    drop(third);

    // Without --tls nothing changes: plain HTTP and no trust lines.
    let plain = Spawned::start(&[]);
    assert!(plain.endpoint().starts_with("http://"));
    assert!(!plain.banner.contains("AWS_CA_BUNDLE"), "{}", plain.banner);
    drop(plain);

    // A missing certificate file is a clear start error.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_s3twin"))
        .args(["--port", "0", "--tls-cert"])
        .arg(dir.join("none.pem"))
        .arg("--tls-key")
        .arg(dir.join("none-key.pem"))
        .output()
        .expect("run");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("none.pem"), "{stderr}");
    // --tls-key alone is refused by the argument parser.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_s3twin"))
        .args(["--port", "0", "--tls-key", "k.pem"])
        .output()
        .expect("run");
    assert!(!out.status.success());
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn urls_the_server_hands_out_over_tls_are_https() {
    let dir = temp_dir("tls-urls");
    let (server, ca) = tls_twin(&dir).await;
    let addr = server.local_addr().expect("started").to_string();
    let port = server.local_addr().expect("started").port();
    let c = https_client(&server.endpoint(), &ca);
    let bucket = new_bucket(&c, "tlsurl").await;

    // CompleteMultipartUpload's Location, as S3 answers over HTTPS.
    let up = c
        .create_multipart_upload()
        .bucket(&bucket)
        .key("big")
        .send()
        .await
        .expect("create upload");
    let upload_id = up.upload_id().expect("upload id");
    let part = c
        .upload_part()
        .bucket(&bucket)
        .key("big")
        .upload_id(upload_id)
        .part_number(1)
        .body(b"part one".to_vec().into())
        .send()
        .await
        .expect("part");
    let done = c
        .complete_multipart_upload()
        .bucket(&bucket)
        .key("big")
        .upload_id(upload_id)
        .multipart_upload(
            aws_sdk_s3::types::CompletedMultipartUpload::builder()
                .parts(
                    aws_sdk_s3::types::CompletedPart::builder()
                        .part_number(1)
                        .e_tag(part.e_tag().expect("etag"))
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .expect("complete");
    assert_eq!(
        done.location(),
        Some(format!("https://127.0.0.1:{port}/{bucket}/big").as_str())
    );

    // The admin API's run endpoints and presigned URLs, and the presigned URL works.
    let body = r#"{"runId":"tls-run"}"#;
    let req = format!(
        "POST /_s3twin/runs HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let text = tls_exchange(&addr, "127.0.0.1", &ca, &req).await;
    let want = format!("\"endpoint\":\"https://127.0.0.1:{port}/t/tls-run\"");
    assert!(text.contains(&want), "{text}");
    let body = format!(r#"{{"method":"GET","bucket":"{bucket}","key":"big"}}"#);
    let req = format!(
        "POST /_s3twin/presign HTTP/1.1\r\nHost: localhost:{port}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let text = tls_exchange(&addr, "localhost", &ca, &req).await;
    let json: serde_json::Value =
        serde_json::from_str(&text[text.find("\r\n\r\n").expect("body") + 4..]).expect("json");
    let url = json["url"].as_str().expect("url");
    let path = url
        .strip_prefix(&format!("https://localhost:{port}"))
        .unwrap_or_else(|| panic!("an https URL: {url}"));
    let req = format!("GET {path} HTTP/1.1\r\nHost: localhost:{port}\r\nConnection: close\r\n\r\n");
    let text = tls_exchange(&addr, "localhost", &ca, &req).await;
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(text.ends_with("part one"), "{text}");
    server.stop().await.ok();
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn requests_over_tls_are_secure_transport_for_policies() {
    let dir = temp_dir("tls-policy");
    let server = S3Server::builder()
        .port(0)
        .tls(&dir)
        .auth(s3twin::auth::identity::AuthMode::Enforce)
        .build();
    server.start().await.expect("server starts");
    let ca = std::fs::read(server.ca_file().expect("a generated CA")).expect("CA file");
    let c = https_client(&server.endpoint(), &ca);
    let bucket = new_bucket(&c, "tls-policy").await;
    put(&c, &bucket, "k", b"v").await;
    let deny_when = |secure: &str| {
        serde_json::json!({ "Statement": [{ "Effect": "Deny", "Principal": "*", "Action": "s3:GetObject",
            "Resource": format!("arn:aws:s3:::{bucket}/*"),
            "Condition": {"Bool": {"aws:SecureTransport": secure}} }] })
        .to_string()
    };
    // AWS's "allow TLS requests only" policy lets an HTTPS request in…
    c.put_bucket_policy()
        .bucket(&bucket)
        .policy(deny_when("false"))
        .send()
        .await
        .expect("policy");
    assert_eq!(get_bytes(&c, &bucket, "k").await, b"v");
    // …because the key is really "true" (not merely absent): denying "true" denies it.
    c.put_bucket_policy()
        .bucket(&bucket)
        .policy(deny_when("true"))
        .send()
        .await
        .expect("policy");
    let err = c
        .get_object()
        .bucket(&bucket)
        .key("k")
        .send()
        .await
        .expect_err("denied over TLS");
    assert_eq!(error_parts(&err), ("AccessDenied".to_string(), 403));
    server.stop().await.expect("stops");
}
