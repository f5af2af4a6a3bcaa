//! Where a request points: which run, which bucket, which key. Runs come from the
//! `/t/{runId}/` path prefix; buckets from the Host header (virtual-hosted style) or the first
//! path segment (path style).

use super::query::decode_path;
use crate::error::{Code, S3Error, S3Result};
use crate::store::DEFAULT_RUN;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub run: String,
    pub bucket: Option<String>,
    pub key: Option<String>,
    /// The path without the run prefix, as S3 reports it in `<Resource>`.
    pub resource: String,
    /// Addressed to the bucket's website endpoint (`{bucket}.s3-website…`).
    pub website: bool,
}

/// Valid run ids: 1–64 of `[A-Za-z0-9._-]`.
pub fn valid_run_id(id: &str) -> bool {
    // `.` and `..` are path segments, never names (a URL normaliser would eat them).
    !id.is_empty()
        && id != "."
        && id != ".."
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// Splits `/t/{runId}/rest` into the run id and `/rest`. Other paths belong to the default run.
pub fn split_run(raw_path: &str) -> S3Result<(String, &str)> {
    let Some(rest) = raw_path.strip_prefix("/t/") else {
        return Ok((DEFAULT_RUN.to_string(), raw_path));
    };
    let (id, tail) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let id = decode_path(id).unwrap_or_default();
    if !valid_run_id(&id) {
        return Err(S3Error::invalid_argument(
            "Run ids are 1 to 64 characters of letters, digits, '.', '_' and '-' (not . or ..).",
            "runId",
            id,
        ));
    }
    Ok((id, tail))
}

/// The bucket named by a website-endpoint Host header: `{bucket}.s3-website.localhost`,
/// `{bucket}.s3-website-{region}.amazonaws.com`, `{bucket}.s3-website.{region}.amazonaws.com`
/// and `{bucket}.{domain}` for each website domain (any port).
pub fn website_bucket(host: &str, website_domains: &[String]) -> Option<String> {
    let host = strip_port(host).trim_end_matches('.').to_ascii_lowercase();
    let nonempty = |b: &str| (!b.is_empty()).then(|| b.to_string());
    for d in website_domains {
        let d = d.trim_matches('.').to_ascii_lowercase();
        if d.is_empty() {
            continue;
        }
        if let Some(b) = host.strip_suffix(&d).and_then(|h| h.strip_suffix('.')) {
            return nonempty(b);
        }
    }
    if let Some(b) = host.strip_suffix(".s3-website.localhost") {
        return nonempty(b);
    }
    let rest = host.strip_suffix(".amazonaws.com")?;
    let i = rest.rfind(".s3-website")?;
    let region = &rest[i + ".s3-website".len()..];
    let region = region
        .strip_prefix('-')
        .or_else(|| region.strip_prefix('.'))?;
    if region.is_empty() || region.contains('.') {
        return None;
    }
    nonempty(&rest[..i])
}

/// The bucket named by a virtual-hosted-style Host header, if it is one.
pub fn bucket_from_host(host: &str, domains: &[String]) -> Option<String> {
    let host = strip_port(host).trim_end_matches('.').to_ascii_lowercase();
    if host.parse::<std::net::IpAddr>().is_ok() {
        return None;
    }
    for d in domains {
        let d = d.trim_matches('.').to_ascii_lowercase();
        if let Some(b) = host.strip_suffix(&d).and_then(|h| h.strip_suffix('.')) {
            if !b.is_empty() {
                return Some(b.to_string());
            }
        }
    }
    for base in [".s3.localhost", ".localhost"] {
        if let Some(b) = host.strip_suffix(base) {
            if !b.is_empty() && b != "s3" {
                return Some(b.to_string());
            }
        }
    }
    // {bucket}.s3[.-]{region}[.dualstack].amazonaws.com and {bucket}.s3.amazonaws.com
    let rest = host.strip_suffix(".amazonaws.com")?;
    let i = rest.rfind(".s3")?;
    let after = &rest[i + 3..];
    if !(after.is_empty() || after.starts_with('.') || after.starts_with('-')) {
        return None;
    }
    let bucket = &rest[..i];
    (!bucket.is_empty()).then(|| bucket.to_string())
}

fn strip_port(host: &str) -> &str {
    if host.starts_with('[') {
        return host.split(']').next().map(|h| &h[1..]).unwrap_or(host);
    }
    match host.rsplit_once(':') {
        Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => host,
    }
}

/// Resolves a request's run, bucket and key from its Host header and raw (encoded) path.
pub fn resolve(host: Option<&str>, raw_path: &str, domains: &[String]) -> S3Result<Target> {
    resolve_with(host, raw_path, domains, &[])
}

/// As `resolve`, with the website domains too: a website host selects the bucket's website.
pub fn resolve_with(
    host: Option<&str>,
    raw_path: &str,
    domains: &[String],
    website_domains: &[String],
) -> S3Result<Target> {
    let (run, path) = split_run(raw_path)?;
    let resource = decode_path(path).ok_or_else(|| S3Error::new(Code::InvalidURI))?;
    let website = host.and_then(|h| website_bucket(h, website_domains));
    let is_website = website.is_some();
    let vhost_bucket = website.or_else(|| host.and_then(|h| bucket_from_host(h, domains)));
    let virtual_hosted = vhost_bucket.is_some();
    let (bucket, key) = match vhost_bucket {
        Some(b) => (Some(b), path.strip_prefix('/').unwrap_or(path)),
        None => {
            let trimmed = path.strip_prefix('/').unwrap_or(path);
            let (b, k) = trimmed.split_once('/').unwrap_or((trimmed, ""));
            let bucket = (!b.is_empty()).then(|| decode_path(b).unwrap_or_default());
            (bucket, k)
        }
    };
    let key = if key.is_empty() {
        None
    } else {
        Some(decode_path(key).ok_or_else(|| S3Error::new(Code::InvalidURI))?)
    };
    let resource = match &bucket {
        Some(b) if virtual_hosted => format!("/{b}{resource}"),
        _ => resource,
    };
    Ok(Target {
        run,
        bucket,
        key,
        resource,
        website: is_website,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(host: &str, path: &str) -> Target {
        resolve(Some(host), path, &["s3.test.internal".to_string()]).expect("resolves")
    }

    #[test]
    fn virtual_hosts() {
        for host in [
            "b.s3.amazonaws.com",
            "b.s3.eu-west-1.amazonaws.com",
            "b.s3-eu-west-1.amazonaws.com",
            "b.s3.dualstack.us-east-1.amazonaws.com",
            "b.localhost",
            "b.localhost:4566",
            "b.s3.localhost:4566",
            "b.s3.test.internal",
        ] {
            assert_eq!(t(host, "/k").bucket.as_deref(), Some("b"), "{host}");
        }
        assert_eq!(
            t("my.dotted.bucket.s3.amazonaws.com", "/")
                .bucket
                .as_deref(),
            Some("my.dotted.bucket")
        );
        for host in [
            "localhost:4566",
            "127.0.0.1:4566",
            "s3.amazonaws.com",
            "s3.localhost",
            "[::1]:4566",
            "s3.us-east-1.amazonaws.com",
        ] {
            assert_eq!(t(host, "/b/k").bucket.as_deref(), Some("b"), "{host}");
        }
    }

    #[test]
    fn website_hosts() {
        let w = |h: &str| {
            resolve_with(Some(h), "/docs/", &[], &["web.test".to_string()]).expect("resolves")
        };
        for host in [
            "site.s3-website.localhost",
            "site.s3-website.localhost:4566",
            "site.s3-website-us-east-1.amazonaws.com",
            "site.s3-website.eu-west-1.amazonaws.com",
            "site.web.test:8080",
        ] {
            let t = w(host);
            assert!(t.website, "{host}");
            assert_eq!(t.bucket.as_deref(), Some("site"), "{host}");
            assert_eq!(t.key.as_deref(), Some("docs/"), "{host}");
        }
        assert_eq!(
            w("my.site.s3-website.localhost").bucket.as_deref(),
            Some("my.site")
        );
        for host in [
            "site.s3.amazonaws.com",
            "site.localhost",
            "s3-website.localhost",
            "127.0.0.1",
        ] {
            assert!(!w(host).website, "{host}");
        }
    }

    #[test]
    fn path_style_keys_and_runs() {
        let x = t("127.0.0.1", "/t/run-1/bucket/a%20b/c+d");
        assert_eq!(x.run, "run-1");
        assert_eq!(x.bucket.as_deref(), Some("bucket"));
        assert_eq!(x.key.as_deref(), Some("a b/c+d"));
        assert_eq!(x.resource, "/bucket/a b/c+d");
        let root = t("127.0.0.1", "/t/r");
        assert_eq!((root.bucket, root.key), (None, None));
        assert_eq!(t("127.0.0.1", "/bucket/").key, None);
        assert_eq!(t("127.0.0.1", "/").run, DEFAULT_RUN);
        let v = t("b.localhost", "/t/r2/dir/file");
        assert_eq!(
            (v.run.as_str(), v.bucket.as_deref(), v.key.as_deref()),
            ("r2", Some("b"), Some("dir/file"))
        );
        assert_eq!(v.resource, "/b/dir/file");
        assert!(resolve(None, "/t/bad!id/x", &[]).is_err());
        assert!(resolve(None, "/t/../x", &[]).is_err());
        assert!(resolve(None, "/t/./x", &[]).is_err());
        assert!(resolve(None, "/b/%FF", &[]).is_err());
    }
}
