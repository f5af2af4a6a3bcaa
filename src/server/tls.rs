//! HTTPS (`--tls`): the certificate the server presents and the TLS side of accepting a
//! connection. By default the certificate is a leaf for the local names, signed by a local CA
//! made on first use and kept in a directory, so a client trusts the CA once and every later
//! start (and every new leaf) verifies; `--tls-cert`/`--tls-key` bring your own instead.
//! Plain HTTP never passes through here: TLS is a separate branch of the accept loop.

use super::x509::{self, Key};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::io::{self, Write};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// A client that has not finished its handshake by then is dropped (slow or silent clients,
/// plain HTTP that waits for an answer); a shorter `--header-timeout` bounds it too.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a client may take over its handshake.
pub fn handshake_timeout(header_read_timeout: Duration) -> Duration {
    header_read_timeout.min(HANDSHAKE_TIMEOUT)
}

/// The generated CA's certificate, the file clients are told to trust.
pub const CA_FILE: &str = "ca.pem";
const CA_KEY_FILE: &str = "ca-key.pem";
const LEAF_FILE: &str = "cert.pem";
const LEAF_KEY_FILE: &str = "key.pem";
/// What the stored leaf was made for: its CA, its expiry and its names.
const LEAF_META_FILE: &str = "cert.names";
const LOCK_FILE: &str = ".lock";

/// The CA outlives many leaves; a leaf stays within the 398 days clients accept.
const CA_DAYS: i64 = 3650;
const LEAF_DAYS: i64 = 397;
/// A stored leaf this close to its expiry is replaced at start.
const RENEW_DAYS: i64 = 30;

/// Where the certificate comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A leaf signed by the local CA kept in `dir` (each made when missing).
    LocalCa { dir: PathBuf },
    /// Your own certificate chain and private key, PEM files.
    Files { cert: PathBuf, key: PathBuf },
}

/// A ready TLS server side.
pub struct Tls {
    pub acceptor: tokio_rustls::TlsAcceptor,
    /// The CA certificate clients should trust (the generated CA only).
    pub ca_file: Option<PathBuf>,
}

/// The local CA's directory when none is given: `$S3TWIN_TLS_DIR`, else
/// `$XDG_DATA_HOME/s3twin/tls`, else `~/.local/share/s3twin/tls`.
pub fn default_dir() -> Option<PathBuf> {
    let var = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if let Some(dir) = var("S3TWIN_TLS_DIR") {
        return Some(dir);
    }
    // The XDG spec ignores a relative XDG_DATA_HOME.
    if let Some(data) = var("XDG_DATA_HOME").filter(|d| d.is_absolute()) {
        return Some(data.join("s3twin").join("tls"));
    }
    var("HOME").map(|home| home.join(".local/share/s3twin/tls"))
}

/// The names the generated leaf covers: the loopback names and addresses, the local
/// virtual-host and website domains, each configured domain (and its subdomains, for
/// virtual-hosted buckets) and the listening address when it is a specific one.
pub fn names(config: &crate::config::Config) -> Vec<String> {
    let mut names: Vec<String> = [
        "localhost",
        "127.0.0.1",
        "::1",
        "*.localhost",
        "*.s3.localhost",
        "*.s3-website.localhost",
    ]
    .map(String::from)
    .to_vec();
    for domain in config.domains.iter().chain(&config.website_domains) {
        let domain = domain.trim_end_matches('.').to_ascii_lowercase();
        if domain.is_empty() {
            continue;
        }
        let wildcard = domain
            .parse::<IpAddr>()
            .is_err()
            .then(|| format!("*.{domain}"));
        names.push(domain);
        names.extend(wildcard);
    }
    if let Ok(ip) = config.host.parse::<IpAddr>() {
        if !ip.is_unspecified() {
            names.push(ip.to_string());
        }
    }
    let mut seen = std::collections::HashSet::new();
    names.retain(|n| seen.insert(n.clone()));
    names
}

/// Loads or makes the certificate and builds the TLS server side.
pub fn load(source: &Source, names: &[String]) -> io::Result<Tls> {
    let (chain, key, ca_file) = match source {
        Source::LocalCa { dir } => {
            let (chain, key) = local_ca_leaf(dir, names)?;
            (chain, key, Some(dir.join(CA_FILE)))
        }
        Source::Files { cert, key } => {
            let chain = read_chain(cert)?;
            let key = read_key(key)?;
            (chain, key, None)
        }
    };
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(provider()))
        .with_safe_default_protocol_versions()
        .map_err(invalid)?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| invalid(format!("the TLS certificate and key: {e}")))?;
    // HTTP/1.1 only; a client that offers h2 too (curl, browsers) picks it.
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Tls {
        acceptor: tokio_rustls::TlsAcceptor::from(Arc::new(config)),
        ca_file,
    })
}

/// ring's TLS 1.3 suites with the two key exchanges clients offer first (X25519, P-256) and
/// no signature verification (a server without client certificates verifies nothing): the
/// default provider's P-384 and verification tables would only add to the binary.
fn provider() -> rustls::crypto::CryptoProvider {
    use rustls::crypto::ring::{cipher_suite, kx_group};
    rustls::crypto::CryptoProvider {
        cipher_suites: vec![
            cipher_suite::TLS13_AES_128_GCM_SHA256,
            cipher_suite::TLS13_AES_256_GCM_SHA384,
            cipher_suite::TLS13_CHACHA20_POLY1305_SHA256,
        ],
        kx_groups: vec![kx_group::X25519, kx_group::SECP256R1],
        signature_verification_algorithms: rustls::crypto::WebPkiSupportedAlgorithms {
            all: &[],
            mapping: &[],
        },
        secure_random: &Ring,
        key_provider: &Ring,
    }
}

/// Randomness and key loading from ring (RSA, ECDSA and Ed25519 keys, for your own pair).
#[derive(Debug)]
struct Ring;

impl rustls::crypto::SecureRandom for Ring {
    fn fill(&self, buf: &mut [u8]) -> Result<(), rustls::crypto::GetRandomFailed> {
        use ring::rand::SecureRandom;
        ring::rand::SystemRandom::new()
            .fill(buf)
            .map_err(|_| rustls::crypto::GetRandomFailed)
    }
}

impl rustls::crypto::KeyProvider for Ring {
    fn load_private_key(
        &self,
        key: PrivateKeyDer<'static>,
    ) -> Result<Arc<dyn rustls::sign::SigningKey>, rustls::Error> {
        rustls::crypto::ring::sign::any_supported_type(&key)
    }
}

fn invalid(e: impl std::fmt::Display) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, e.to_string())
}

/// `path: what went wrong`, for errors about a file.
fn at(path: &Path) -> impl Fn(io::Error) -> io::Error + '_ {
    move |e| io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}

fn read_chain(path: &Path) -> io::Result<Vec<CertificateDer<'static>>> {
    let pem = std::fs::read(path).map_err(at(path))?;
    let chain = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| invalid(format!("{}: {e}", path.display())))?;
    if chain.is_empty() {
        return Err(invalid(format!(
            "{}: no PEM certificate in it",
            path.display()
        )));
    }
    Ok(chain)
}

fn read_key(path: &Path) -> io::Result<PrivateKeyDer<'static>> {
    let pem = std::fs::read(path).map_err(at(path))?;
    PrivateKeyDer::from_pem_slice(&pem).map_err(|e| {
        invalid(format!(
            "{}: no usable PEM private key in it ({e})",
            path.display()
        ))
    })
}

/// The stored leaf when it was made by this CA for these names and is not about to expire;
/// otherwise a new one, stored for the next start. The CA is made first when missing. A lock
/// file keeps servers starting together (parallel test workers) from making two CAs.
fn local_ca_leaf(
    dir: &Path,
    names: &[String],
) -> io::Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)> {
    make_private_dir(dir)?;
    let lock_path = dir.join(LOCK_FILE);
    let lock = std::fs::File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(at(&lock_path))?;
    lock.lock().map_err(at(&lock_path))?;

    let ca_key = load_or_make_ca(dir)?;
    let ca_name = ca_name(&ca_key);
    let now = unix_now();
    let meta_path = dir.join(LEAF_META_FILE);
    let wanted = leaf_meta(&ca_name, names);
    if let Ok(meta) = std::fs::read_to_string(&meta_path) {
        if let Some((not_after, rest)) = meta.split_once('\n') {
            let fresh = not_after
                .strip_prefix("not-after ")
                .and_then(|t| t.parse::<i64>().ok())
                .is_some_and(|t| t.saturating_sub(now) > RENEW_DAYS * DAY);
            if fresh && rest == wanted {
                let stored = read_chain(&dir.join(LEAF_FILE))
                    .and_then(|chain| Ok((chain, read_key(&dir.join(LEAF_KEY_FILE))?)));
                if let Ok(stored) = stored {
                    return Ok(stored);
                }
            }
        }
    }

    let key = Key::generate()?;
    let not_after = now + LEAF_DAYS * DAY;
    let cert = x509::certificate(&x509::Spec {
        subject: "s3twin localhost",
        subject_key: &key,
        issuer: &ca_name,
        issuer_key: &ca_key,
        not_before: now - DAY,
        not_after,
        ca: false,
        names,
    })?;
    write_file(
        &dir.join(LEAF_KEY_FILE),
        x509::pem("PRIVATE KEY", key.pkcs8()).as_bytes(),
        true,
    )?;
    write_file(
        &dir.join(LEAF_FILE),
        x509::pem("CERTIFICATE", &cert).as_bytes(),
        false,
    )?;
    let meta = format!("not-after {not_after}\n{wanted}");
    write_file(&meta_path, meta.as_bytes(), false)?;
    let key = PrivateKeyDer::try_from(key.pkcs8().to_vec()).map_err(invalid)?;
    Ok((vec![CertificateDer::from(cert)], key))
}

const DAY: i64 = 86_400;

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX / 2))
}

fn leaf_meta(ca_name: &str, names: &[String]) -> String {
    let mut meta = format!("ca {ca_name}\n");
    for n in names {
        meta.push_str("name ");
        meta.push_str(n);
        meta.push('\n');
    }
    meta
}

/// The CA's key, made (with its certificate) when there is none; its certificate rewritten
/// when only that is missing.
fn load_or_make_ca(dir: &Path) -> io::Result<Key> {
    let key_path = dir.join(CA_KEY_FILE);
    let cert_path = dir.join(CA_FILE);
    let key = match std::fs::read(&key_path) {
        Ok(pem) => {
            let key = match PrivateKeyDer::from_pem_slice(&pem) {
                Ok(PrivateKeyDer::Pkcs8(k)) => Key::from_pkcs8(k.secret_pkcs8_der()),
                _ => None,
            }
            .ok_or_else(|| {
                invalid(format!(
                    "{}: not a PKCS#8 P-256 private key (remove the directory for a new CA)",
                    key_path.display()
                ))
            })?;
            if cert_path.exists() {
                return Ok(key);
            }
            key
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            let key = Key::generate()?;
            let pem = x509::pem("PRIVATE KEY", key.pkcs8());
            write_file(&key_path, pem.as_bytes(), true)?;
            key
        }
        Err(e) => return Err(at(&key_path)(e)),
    };
    let now = unix_now();
    let name = ca_name(&key);
    let cert = x509::certificate(&x509::Spec {
        subject: &name,
        subject_key: &key,
        issuer: &name,
        issuer_key: &key,
        not_before: now - DAY,
        not_after: now + CA_DAYS * DAY,
        ca: true,
        names: &[],
    })?;
    write_file(
        &cert_path,
        x509::pem("CERTIFICATE", &cert).as_bytes(),
        false,
    )?;
    tracing::info!(ca = %cert_path.display(), "made a local CA for TLS");
    Ok(key)
}

/// The CA's name carries a digest of its key, so CAs made on different machines (or after
/// the directory was removed) are told apart by trust stores, and the issuer of a new leaf
/// is known from the key alone.
fn ca_name(key: &Key) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(key.public());
    format!("s3twin local CA {}", hex::encode(&digest[..4]))
}

/// The directory for keys: created readable by its owner only.
fn make_private_dir(dir: &Path) -> io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).map_err(at(dir))
}

/// Writes through a temporary file and a rename, so a reader never sees half a file.
/// Private keys are created 0600.
fn write_file(path: &Path, contents: &[u8], private: bool) -> io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".tmp{}", std::process::id()));
    let tmp = PathBuf::from(tmp);
    let mut options = std::fs::File::options();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, if private { 0o600 } else { 0o644 });
    let _ = private;
    let mut file = options.open(&tmp).map_err(at(&tmp))?;
    file.write_all(contents).map_err(at(&tmp))?;
    file.sync_all().map_err(at(&tmp))?;
    drop(file);
    std::fs::rename(&tmp, path).map_err(at(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "s3twin-tls-{tag}-{}-{}",
            std::process::id(),
            crate::ids::request_id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    fn names_of(domains: &[&str]) -> Vec<String> {
        let config = crate::config::Config {
            domains: domains.iter().map(|d| d.to_string()).collect(),
            ..Default::default()
        };
        names(&config)
    }

    #[test]
    fn names_cover_loopback_local_domains_and_each_domain() {
        let n = names_of(&["S3.Example.test.", "10.1.2.3"]);
        for want in [
            "localhost",
            "127.0.0.1",
            "::1",
            "*.localhost",
            "*.s3.localhost",
            "s3.example.test",
            "*.s3.example.test",
            "10.1.2.3",
        ] {
            assert!(n.iter().any(|x| x == want), "{want} missing from {n:?}");
        }
        assert!(!n.iter().any(|x| x == "*.10.1.2.3"));
        // The default host (127.0.0.1) is not repeated.
        assert_eq!(n.iter().filter(|x| *x == "127.0.0.1").count(), 1);
    }

    #[test]
    fn the_ca_is_reused_and_the_leaf_renewed_only_when_names_change() {
        let dir = temp_dir("reuse");
        let src = Source::LocalCa { dir: dir.clone() };
        let a = names_of(&[]);
        load(&src, &a).unwrap();
        let ca1 = std::fs::read(dir.join(CA_FILE)).unwrap();
        let leaf1 = std::fs::read(dir.join(LEAF_FILE)).unwrap();
        load(&src, &a).unwrap();
        assert_eq!(std::fs::read(dir.join(CA_FILE)).unwrap(), ca1);
        assert_eq!(std::fs::read(dir.join(LEAF_FILE)).unwrap(), leaf1);
        load(&src, &names_of(&["s3.example.test"])).unwrap();
        assert_eq!(std::fs::read(dir.join(CA_FILE)).unwrap(), ca1);
        assert_ne!(std::fs::read(dir.join(LEAF_FILE)).unwrap(), leaf1);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            for f in [CA_KEY_FILE, LEAF_KEY_FILE] {
                let mode = std::fs::metadata(dir.join(f)).unwrap().permissions().mode();
                assert_eq!(mode & 0o777, 0o600, "{f}");
            }
            let mode = std::fs::metadata(&dir).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o700);
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn bad_files_are_errors_not_panics() {
        let dir = temp_dir("bad");
        std::fs::create_dir_all(&dir).unwrap();
        let junk = dir.join("junk.pem");
        std::fs::write(&junk, "not a pem").unwrap();
        let src = Source::Files {
            cert: junk.clone(),
            key: junk.clone(),
        };
        let e = load(&src, &[]).err().unwrap();
        assert!(e.to_string().contains("junk.pem"), "{e}");
        let missing = Source::Files {
            cert: dir.join("none.pem"),
            key: junk,
        };
        assert!(load(&missing, &[]).is_err());
        // A corrupt CA key is reported, not replaced.
        std::fs::write(dir.join(CA_KEY_FILE), "garbage").unwrap();
        let e = load(&Source::LocalCa { dir: dir.clone() }, &names_of(&[]))
            .err()
            .unwrap();
        assert!(e.to_string().contains(CA_KEY_FILE), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
