//! The MCP tools. Each one is a call of the twin's own S3 or admin API (see `client.rs`), so
//! an agent sees what an SDK sees: S3 errors arrive as tool errors `Code: Message`.

use super::client::{Answer, Twin};
use crate::config::{DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY};
use crate::server::addressing::valid_run_id;
use crate::wire::xml::Element;
use bytes::Bytes;
use futures_util::future::BoxFuture;
use http::Method;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Largest object body `s3_get` returns; larger ones are read by range or a presigned URL.
pub const MAX_GET: usize = 1024 * 1024;

/// What a run id may be (as the admin API says it).
const RUN_ID_RULE: &str =
    "runId must be 1 to 64 characters of letters, digits, '.', '_' and '-' (not . or ..)";

/// Path segments keep only unreserved characters (and `/` between key segments).
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');
const KEY: &AsciiSet = &SEGMENT.remove(b'/');

/// A tool's answer: its text, and whether it is a tool error (`isError`: S3 errors, bad
/// arguments), which the agent reads rather than a protocol error.
pub struct Outcome {
    pub text: String,
    pub is_error: bool,
}

type ToolResult = Outcome;

/// The MCP server: the twin it drives and the run this session spawned last.
#[derive(Clone)]
pub struct S3TwinMcp {
    twin: Twin,
    session_run: Arc<parking_lot::Mutex<Option<String>>>,
}

fn done(v: Result<Value, String>) -> ToolResult {
    match v {
        Ok(v) => Outcome {
            text: serde_json::to_string_pretty(&v).unwrap_or_default(),
            is_error: false,
        },
        Err(text) => Outcome {
            text,
            is_error: true,
        },
    }
}

fn s3_ok(answer: Answer) -> Result<Answer, String> {
    if answer.status >= 300 {
        Err(answer.s3_error())
    } else {
        Ok(answer)
    }
}

fn enc(s: &str, set: &'static AsciiSet) -> String {
    utf8_percent_encode(s, set).to_string()
}

/// `?a=1&b=2` from the parameters that are set (a bare name for an empty value).
fn query(params: &[(&str, Option<String>)]) -> String {
    let mut out = String::new();
    for (name, value) in params {
        let Some(value) = value else { continue };
        out.push(if out.is_empty() { '?' } else { '&' });
        out.push_str(name);
        if !value.is_empty() {
            out.push('=');
            out.push_str(&enc(value, SEGMENT));
        }
    }
    out
}

fn text(el: &Element, name: &str) -> Value {
    el.child_text(name).map_or(Value::Null, |t| json!(t))
}

fn number(el: &Element, name: &str) -> Value {
    el.child_text(name)
        .and_then(|t| t.parse::<u64>().ok())
        .map_or(Value::Null, |n| json!(n))
}

fn parse_xml(answer: &Answer) -> Result<Element, String> {
    crate::wire::xml::parse(&answer.body)
        .map_err(|_| "s3twin answered a document that is not XML".into())
}

/// The object headers an agent cares about, by their S3 names.
fn object_headers(answer: &Answer) -> Map<String, Value> {
    let mut out = Map::new();
    for (field, header) in [
        ("contentType", "content-type"),
        ("contentLength", "content-length"),
        ("contentRange", "content-range"),
        ("etag", "etag"),
        ("lastModified", "last-modified"),
        ("versionId", "x-amz-version-id"),
        ("storageClass", "x-amz-storage-class"),
        ("expiration", "x-amz-expiration"),
        ("serverSideEncryption", "x-amz-server-side-encryption"),
        ("deleteMarker", "x-amz-delete-marker"),
    ] {
        if let Some(v) = answer.header(header) {
            let v = match field {
                "contentLength" => v.parse::<u64>().map_or_else(|_| json!(v), |n| json!(n)),
                _ => json!(v),
            };
            out.insert(field.into(), v);
        }
    }
    let metadata: Map<String, Value> = answer
        .headers
        .iter()
        .filter_map(|(name, value)| {
            let name = name.as_str().strip_prefix("x-amz-meta-")?;
            Some((name.to_string(), json!(value.to_str().ok()?)))
        })
        .collect();
    if !metadata.is_empty() {
        out.insert("metadata".into(), Value::Object(metadata));
    }
    out
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SpawnArgs {
    /// A preset name (e.g. "invoice-store") or a seed document {"buckets":[{"name":…,"objects":[{"key":…,"body":…}]}]}.
    pub seed: Option<Value>,
    /// The new run's id (default: a generated one).
    pub run_id: Option<String>,
    /// Enforce limits relaxed by default (multipart parts of at least 5 MiB).
    pub strict: Option<bool>,
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CloneSpawnArgs {
    /// The kind of clone: only "s3".
    pub kind: Option<String>,
    /// A preset name (e.g. "invoice-store") or a seed document.
    pub seed: Option<Value>,
    /// The new run's id (default: a generated one).
    pub run_id: Option<String>,
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RunArgs {
    /// The run (default: the run this session spawned, else "default").
    pub run_id: Option<String>,
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateBucketArgs {
    /// A run's endpoint as spawn returned it (http://host:port/t/{runId}); its run is used when runId is not given.
    pub url: Option<String>,
    /// The run (default: the run this session spawned, else "default").
    pub run_id: Option<String>,
    /// The bucket name.
    pub bucket: String,
    /// Turn versioning on after creating it.
    pub versioning: Option<bool>,
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PutArgs {
    /// The run (default: the run this session spawned, else "default").
    pub run_id: Option<String>,
    pub bucket: String,
    pub key: String,
    /// The body as text (UTF-8).
    pub body: Option<String>,
    /// The body as base64, for binary data (instead of body).
    pub body_base64: Option<String>,
    /// The Content-Type to store.
    pub content_type: Option<String>,
    /// User metadata (x-amz-meta-*), name to value.
    pub metadata: Option<BTreeMap<String, String>>,
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ObjectArgs {
    /// The run (default: the run this session spawned, else "default").
    pub run_id: Option<String>,
    pub bucket: String,
    pub key: String,
    /// A version of the object (versioned buckets).
    pub version_id: Option<String>,
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GetArgs {
    /// The run (default: the run this session spawned, else "default").
    pub run_id: Option<String>,
    pub bucket: String,
    pub key: String,
    /// A version of the object (versioned buckets).
    pub version_id: Option<String>,
    /// An HTTP Range, e.g. "bytes=0-99".
    pub range: Option<String>,
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ListArgs {
    /// The run (default: the run this session spawned, else "default").
    pub run_id: Option<String>,
    pub bucket: String,
    /// Only keys that begin with this.
    pub prefix: Option<String>,
    /// Roll keys up to common prefixes at this character (usually "/").
    pub delimiter: Option<String>,
    /// Most keys in the page (1 to 1000).
    pub max_keys: Option<u32>,
    /// The nextContinuationToken of the previous page.
    pub continuation_token: Option<String>,
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ListVersionsArgs {
    /// The run (default: the run this session spawned, else "default").
    pub run_id: Option<String>,
    pub bucket: String,
    pub prefix: Option<String>,
    /// Most entries in the page (1 to 1000).
    pub max_keys: Option<u32>,
    /// The nextKeyMarker of the previous page.
    pub key_marker: Option<String>,
    /// The nextVersionIdMarker of the previous page.
    pub version_id_marker: Option<String>,
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PresignArgs {
    /// The run (default: the run this session spawned, else "default").
    pub run_id: Option<String>,
    pub bucket: String,
    pub key: String,
    /// GET (default), PUT, HEAD or DELETE.
    pub method: Option<String>,
    /// Seconds the URL is valid on the run's clock (1 to 604800, default 3600).
    pub expires_in: Option<i64>,
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LifecycleArgs {
    /// The run (default: the run this session spawned, else "default").
    pub run_id: Option<String>,
    pub bucket: String,
    /// Short form: expire current objects this many days after they were written.
    pub expiration_days: Option<u64>,
    /// Short form: only keys under this prefix.
    pub prefix: Option<String>,
    /// Full form instead: rules in boto3's shape, [{"ID":…,"Status":"Enabled","Filter":{…},"Expiration":{"Days":7}}].
    pub rules: Option<Value>,
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AdvanceArgs {
    /// The run (default: the run this session spawned, else "default").
    pub run_id: Option<String>,
    /// How far to move the clock forward, e.g. "8d", "1d12h", "90m", "30s".
    pub by: String,
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ChaosArgs {
    /// The run (default: the run this session spawned, else "default").
    pub run_id: Option<String>,
    /// The fault rules (or preset) as the `/_s3twin/chaos` admin route takes them.
    pub rules: Value,
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExportArgs {
    /// The run (default: the run this session spawned, else "default").
    pub run_id: Option<String>,
    /// Bodies up to this many bytes are inline (base64); larger ones are left out with their
    /// size and ETag. Default 1 MiB.
    pub max_body_bytes: Option<u64>,
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedArgs {
    /// The run (default: the run this session spawned, else "default"); created if needed.
    pub run_id: Option<String>,
    /// A preset name (e.g. "invoice-store") or a seed document {"buckets":[…]}.
    pub seed: Value,
}

impl S3TwinMcp {
    pub fn new(twin: Twin) -> Self {
        S3TwinMcp {
            twin,
            session_run: Arc::default(),
        }
    }

    /// Makes `run` the default of the calls that name none.
    pub fn set_session_run(&self, run: String) {
        *self.session_run.lock() = Some(run);
    }

    /// The run a call names, else the one this session spawned, else `default`.
    fn run(&self, run_id: Option<&str>) -> Result<String, String> {
        let run = match run_id.filter(|r| !r.is_empty()) {
            Some(r) => r.to_string(),
            None => self
                .session_run
                .lock()
                .clone()
                .unwrap_or_else(|| crate::store::DEFAULT_RUN.to_string()),
        };
        if valid_run_id(&run) {
            Ok(run)
        } else {
            Err(RUN_ID_RULE.into())
        }
    }

    /// The path of a bucket (and key) in a run, path-style.
    fn path(run: &str, bucket: &str, key: Option<&str>) -> Result<String, String> {
        if bucket.is_empty() || bucket.contains('/') {
            return Err(format!("bucket {bucket:?} is not a bucket name"));
        }
        let prefix = if run == crate::store::DEFAULT_RUN {
            String::new()
        } else {
            format!("/t/{run}")
        };
        Ok(match key {
            None => format!("{prefix}/{}", enc(bucket, SEGMENT)),
            Some("") => return Err("key must not be empty".into()),
            Some(k) => format!("{prefix}/{}/{}", enc(bucket, SEGMENT), enc(k, KEY)),
        })
    }

    async fn s3(
        &self,
        method: Method,
        path: String,
        headers: &[(&str, String)],
        body: Bytes,
    ) -> Result<Answer, String> {
        s3_ok(self.twin.send(method, &path, headers, body).await?)
    }

    async fn spawn(
        &self,
        run_id: Option<String>,
        seed: Option<Value>,
        strict: Option<bool>,
    ) -> Result<Value, String> {
        let mut body = Map::new();
        if let Some(r) = run_id {
            body.insert("runId".into(), json!(r));
        }
        if let Some(s) = seed {
            body.insert("seed".into(), s);
        }
        if let Some(s) = strict {
            body.insert("strict".into(), json!(s));
        }
        let mut run = self
            .twin
            .admin(Method::POST, "runs", Some(&Value::Object(body)))
            .await?;
        let id = run["runId"].as_str().unwrap_or_default().to_string();
        let endpoint = run["endpoint"].as_str().unwrap_or_default().to_string();
        run["env"] = json!({
            "AWS_ENDPOINT_URL_S3": endpoint,
            "AWS_ACCESS_KEY_ID": DEFAULT_ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": DEFAULT_SECRET_KEY,
            "AWS_REGION": run["region"],
            "AWS_S3_FORCE_PATH_STYLE": "true",
        });
        *self.session_run.lock() = Some(id);
        Ok(run)
    }

    async fn create_bucket_impl(&self, a: CreateBucketArgs) -> Result<Value, String> {
        let from_url = match &a.url {
            None => None,
            Some(u) => Some(run_of_url(u)?),
        };
        let run = self.run(a.run_id.as_deref().or(from_url.as_deref()))?;
        let path = Self::path(&run, &a.bucket, None)?;
        let answer = self
            .s3(Method::PUT, path.clone(), &[], Bytes::new())
            .await?;
        if a.versioning == Some(true) {
            let doc = "<VersioningConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Status>Enabled</Status></VersioningConfiguration>";
            self.s3(
                Method::PUT,
                format!("{path}?versioning"),
                &[],
                Bytes::from(doc),
            )
            .await?;
        }
        Ok(json!({
            "runId": run,
            "bucket": a.bucket,
            "location": answer.header("location"),
            "versioning": if a.versioning == Some(true) { "Enabled" } else { "Unversioned" },
        }))
    }

    async fn put_impl(&self, a: PutArgs) -> Result<Value, String> {
        let run = self.run(a.run_id.as_deref())?;
        let path = Self::path(&run, &a.bucket, Some(&a.key))?;
        let body = match (a.body, a.body_base64) {
            (Some(_), Some(_)) => return Err("give body or bodyBase64, not both".into()),
            (Some(t), None) => Bytes::from(t),
            (None, Some(b)) => Bytes::from(
                crate::checksum::b64_decode(b.trim()).ok_or("bodyBase64 is not valid base64")?,
            ),
            (None, None) => Bytes::new(),
        };
        let mut headers = Vec::new();
        if let Some(ct) = a.content_type {
            headers.push(("content-type".to_string(), ct));
        }
        for (name, value) in a.metadata.unwrap_or_default() {
            headers.push((format!("x-amz-meta-{name}"), value));
        }
        // Names and values an HTTP header cannot carry are refused by name.
        for (name, value) in &headers {
            if http::HeaderName::from_bytes(name.as_bytes()).is_err()
                || http::HeaderValue::from_str(value).is_err()
            {
                return Err(format!(
                    "{name} cannot be sent as an HTTP header (metadata names are letters, digits and '-'; values printable ASCII)"
                ));
            }
        }
        let headers: Vec<(&str, String)> = headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.clone()))
            .collect();
        let size = body.len();
        let answer = self.s3(Method::PUT, path, &headers, body).await?;
        Ok(json!({
            "runId": run,
            "bucket": a.bucket,
            "key": a.key,
            "size": size,
            "etag": answer.header("etag"),
            "versionId": answer.header("x-amz-version-id"),
        }))
    }

    async fn list_impl(&self, a: ListArgs) -> Result<Value, String> {
        let run = self.run(a.run_id.as_deref())?;
        let path = Self::path(&run, &a.bucket, None)?;
        let q = query(&[
            ("list-type", Some("2".into())),
            ("prefix", a.prefix),
            ("delimiter", a.delimiter),
            ("max-keys", a.max_keys.map(|n| n.to_string())),
            ("continuation-token", a.continuation_token),
        ]);
        let answer = self
            .s3(Method::GET, format!("{path}{q}"), &[], Bytes::new())
            .await?;
        let doc = parse_xml(&answer)?;
        let keys: Vec<Value> = doc
            .children_named("Contents")
            .map(|c| {
                json!({
                    "key": text(c, "Key"),
                    "size": number(c, "Size"),
                    "etag": text(c, "ETag"),
                    "lastModified": text(c, "LastModified"),
                    "storageClass": text(c, "StorageClass"),
                })
            })
            .collect();
        let prefixes: Vec<Value> = doc
            .children_named("CommonPrefixes")
            .map(|c| text(c, "Prefix"))
            .collect();
        Ok(json!({
            "runId": run,
            "bucket": a.bucket,
            "keyCount": number(&doc, "KeyCount"),
            "keys": keys,
            "commonPrefixes": prefixes,
            "isTruncated": doc.child_text("IsTruncated") == Some("true"),
            "nextContinuationToken": text(&doc, "NextContinuationToken"),
        }))
    }

    async fn get_impl(&self, a: GetArgs) -> Result<Value, String> {
        let run = self.run(a.run_id.as_deref())?;
        let path = Self::path(&run, &a.bucket, Some(&a.key))?;
        let q = query(&[("versionId", a.version_id)]);
        let mut headers = Vec::new();
        if let Some(r) = a.range {
            headers.push(("range", r));
        }
        let answer = self
            .twin
            .send_capped(Method::GET, &format!("{path}{q}"), &headers, MAX_GET)
            .await?;
        let answer = s3_ok(answer)?;
        let mut out = object_headers(&answer);
        out.insert("runId".into(), json!(run));
        out.insert("bucket".into(), json!(a.bucket));
        out.insert("key".into(), json!(a.key));
        match std::str::from_utf8(&answer.body) {
            Ok(t) => {
                out.insert("encoding".into(), json!("text"));
                out.insert("body".into(), json!(t));
            }
            Err(_) => {
                out.insert("encoding".into(), json!("base64"));
                out.insert("body".into(), json!(crate::checksum::b64(&answer.body)));
            }
        }
        Ok(Value::Object(out))
    }

    async fn head_impl(&self, a: ObjectArgs) -> Result<Value, String> {
        let run = self.run(a.run_id.as_deref())?;
        let path = Self::path(&run, &a.bucket, Some(&a.key))?;
        let q = query(&[("versionId", a.version_id)]);
        let answer = self
            .s3(Method::HEAD, format!("{path}{q}"), &[], Bytes::new())
            .await?;
        let mut out = object_headers(&answer);
        out.insert("runId".into(), json!(run));
        out.insert("bucket".into(), json!(a.bucket));
        out.insert("key".into(), json!(a.key));
        Ok(Value::Object(out))
    }

    async fn delete_impl(&self, a: ObjectArgs) -> Result<Value, String> {
        let run = self.run(a.run_id.as_deref())?;
        let path = Self::path(&run, &a.bucket, Some(&a.key))?;
        let q = query(&[("versionId", a.version_id)]);
        let answer = self
            .s3(Method::DELETE, format!("{path}{q}"), &[], Bytes::new())
            .await?;
        Ok(json!({
            "runId": run,
            "bucket": a.bucket,
            "key": a.key,
            "versionId": answer.header("x-amz-version-id"),
            "deleteMarker": answer.header("x-amz-delete-marker") == Some("true"),
        }))
    }

    async fn list_buckets_impl(&self, a: RunArgs) -> Result<Value, String> {
        let run = self.run(a.run_id.as_deref())?;
        let path = if run == crate::store::DEFAULT_RUN {
            "/".to_string()
        } else {
            format!("/t/{run}/")
        };
        let answer = self.s3(Method::GET, path, &[], Bytes::new()).await?;
        let doc = parse_xml(&answer)?;
        let buckets: Vec<Value> = doc
            .child("Buckets")
            .map(|b| {
                b.children_named("Bucket")
                    .map(|b| json!({"name": text(b, "Name"), "creationDate": text(b, "CreationDate")}))
                    .collect()
            })
            .unwrap_or_default();
        Ok(json!({ "runId": run, "buckets": buckets }))
    }

    async fn list_versions_impl(&self, a: ListVersionsArgs) -> Result<Value, String> {
        let run = self.run(a.run_id.as_deref())?;
        let path = Self::path(&run, &a.bucket, None)?;
        let q = query(&[
            ("versions", Some(String::new())),
            ("prefix", a.prefix),
            ("max-keys", a.max_keys.map(|n| n.to_string())),
            ("key-marker", a.key_marker),
            ("version-id-marker", a.version_id_marker),
        ]);
        let answer = self
            .s3(Method::GET, format!("{path}{q}"), &[], Bytes::new())
            .await?;
        let doc = parse_xml(&answer)?;
        let versions: Vec<Value> = doc
            .children
            .iter()
            .filter(|c| c.name == "Version" || c.name == "DeleteMarker")
            .map(|c| {
                json!({
                    "key": text(c, "Key"),
                    "versionId": text(c, "VersionId"),
                    "isLatest": c.child_text("IsLatest") == Some("true"),
                    "deleteMarker": c.name == "DeleteMarker",
                    "size": number(c, "Size"),
                    "etag": text(c, "ETag"),
                    "lastModified": text(c, "LastModified"),
                })
            })
            .collect();
        Ok(json!({
            "runId": run,
            "bucket": a.bucket,
            "versions": versions,
            "isTruncated": doc.child_text("IsTruncated") == Some("true"),
            "nextKeyMarker": text(&doc, "NextKeyMarker"),
            "nextVersionIdMarker": text(&doc, "NextVersionIdMarker"),
        }))
    }

    async fn lifecycle_impl(&self, a: LifecycleArgs) -> Result<Value, String> {
        let run = self.run(a.run_id.as_deref())?;
        let path = Self::path(&run, &a.bucket, None)?;
        let rules = match (a.rules, a.expiration_days) {
            (Some(_), Some(_)) => {
                return Err("give rules or expirationDays (with prefix), not both".into())
            }
            (Some(r), None) => r,
            (None, Some(days)) => {
                json!({"expirationDays": days, "prefix": a.prefix.unwrap_or_default()})
            }
            (None, None) => {
                return Err("give expirationDays (with an optional prefix) or rules".into())
            }
        };
        let doc = crate::seed::lifecycle_xml(&rules)?;
        let md5 = crate::checksum::b64(&crate::checksum::md5_digest(doc.as_bytes()));
        self.s3(
            Method::PUT,
            format!("{path}?lifecycle"),
            &[("content-md5", md5)],
            Bytes::from(doc),
        )
        .await?;
        Ok(json!({ "runId": run, "bucket": a.bucket, "lifecycle": rules }))
    }

    async fn run_admin(
        &self,
        method: Method,
        route: &str,
        run_id: Option<&str>,
        body: Option<&Value>,
    ) -> Result<Value, String> {
        let run = self.run(run_id)?;
        self.twin
            .admin(method, &format!("{route}?runId={run}"), body)
            .await
    }
}

/// The run of an endpoint `http://host:port/t/{runId}` (`default` without `/t/`).
fn run_of_url(url: &str) -> Result<String, String> {
    let uri: http::Uri = url
        .parse()
        .map_err(|_| format!("url {url:?} is not an URL"))?;
    let path = uri.path().trim_end_matches('/');
    match path.strip_prefix("/t/") {
        Some(run) if valid_run_id(run) => Ok(run.to_string()),
        Some(_) => Err(format!("url {url:?}: {RUN_ID_RULE}")),
        None if path.is_empty() => Ok(crate::store::DEFAULT_RUN.to_string()),
        None => Err(format!(
            "url {url:?} is not a run endpoint (http://host:port/t/{{runId}})"
        )),
    }
}

impl S3TwinMcp {
    async fn molar_clone_spawn(&self, a: CloneSpawnArgs) -> ToolResult {
        if let Some(kind) = a.kind.as_deref().filter(|k| *k != "s3") {
            return done(Err(format!("kind {kind:?} is not available: only \"s3\"")));
        }
        done(self.spawn(a.run_id, a.seed, None).await)
    }

    async fn s3twin_spawn_run(&self, a: SpawnArgs) -> ToolResult {
        done(self.spawn(a.run_id, a.seed, a.strict).await)
    }

    async fn s3_create_bucket(&self, a: CreateBucketArgs) -> ToolResult {
        done(self.create_bucket_impl(a).await)
    }

    async fn s3_put(&self, a: PutArgs) -> ToolResult {
        done(self.put_impl(a).await)
    }

    async fn s3_list(&self, a: ListArgs) -> ToolResult {
        done(self.list_impl(a).await)
    }

    async fn s3_get(&self, a: GetArgs) -> ToolResult {
        done(self.get_impl(a).await)
    }

    async fn s3_head(&self, a: ObjectArgs) -> ToolResult {
        done(self.head_impl(a).await)
    }

    async fn s3_delete(&self, a: ObjectArgs) -> ToolResult {
        done(self.delete_impl(a).await)
    }

    async fn s3_list_buckets(&self, a: RunArgs) -> ToolResult {
        done(self.list_buckets_impl(a).await)
    }

    async fn s3_list_versions(&self, a: ListVersionsArgs) -> ToolResult {
        done(self.list_versions_impl(a).await)
    }

    async fn s3_presign(&self, a: PresignArgs) -> ToolResult {
        let mut body = json!({"bucket": a.bucket, "key": a.key});
        if let Some(m) = a.method {
            body["method"] = json!(m);
        }
        if let Some(e) = a.expires_in {
            body["expiresIn"] = json!(e);
        }
        done(
            self.run_admin(Method::POST, "presign", a.run_id.as_deref(), Some(&body))
                .await,
        )
    }

    async fn s3_put_lifecycle(&self, a: LifecycleArgs) -> ToolResult {
        done(self.lifecycle_impl(a).await)
    }

    async fn clock_get(&self, a: RunArgs) -> ToolResult {
        done(
            self.run_admin(Method::GET, "clock", a.run_id.as_deref(), None)
                .await,
        )
    }

    async fn clock_advance(&self, a: AdvanceArgs) -> ToolResult {
        let body = json!({ "advance": a.by });
        done(
            self.run_admin(Method::POST, "clock", a.run_id.as_deref(), Some(&body))
                .await,
        )
    }

    async fn seed(&self, a: SeedArgs) -> ToolResult {
        done(
            self.run_admin(Method::POST, "seed", a.run_id.as_deref(), Some(&a.seed))
                .await,
        )
    }

    async fn run_export(&self, a: ExportArgs) -> ToolResult {
        let run = match self.run(a.run_id.as_deref()) {
            Ok(r) => r,
            Err(e) => return done(Err(e)),
        };
        let query = a
            .max_body_bytes
            .map_or(String::new(), |n| format!("?maxBodyBytes={n}"));
        done(
            self.twin
                .admin(Method::GET, &format!("runs/{run}/export{query}"), None)
                .await,
        )
    }

    async fn notifications_log(&self, a: RunArgs) -> ToolResult {
        done(
            self.run_admin(Method::GET, "notifications", a.run_id.as_deref(), None)
                .await,
        )
    }

    async fn requests_log(&self, a: RunArgs) -> ToolResult {
        done(
            self.run_admin(Method::GET, "requests", a.run_id.as_deref(), None)
                .await,
        )
    }

    async fn chaos_set(&self, a: ChaosArgs) -> ToolResult {
        done(
            self.run_admin(Method::POST, "chaos", a.run_id.as_deref(), Some(&a.rules))
                .await,
        )
    }

    async fn chaos_clear(&self, a: RunArgs) -> ToolResult {
        done(
            self.run_admin(Method::DELETE, "chaos", a.run_id.as_deref(), None)
                .await,
        )
    }

    async fn reset_run(&self, a: RunArgs) -> ToolResult {
        done(
            self.run_admin(Method::POST, "reset", a.run_id.as_deref(), None)
                .await,
        )
    }
}

/// One MCP tool: what `tools/list` says of it and the handler `tools/call` runs.
pub struct Tool {
    pub name: &'static str,
    pub description: &'static str,
    /// The JSON schema of its arguments (`inputSchema`).
    pub schema: fn() -> Value,
    pub call: fn(S3TwinMcp, Map<String, Value>) -> BoxFuture<'static, Outcome>,
}

/// The arguments as the tool's type: a missing, misspelt or mistyped one is a tool error
/// naming it (not a protocol error: the model reads it and can correct the call).
fn arguments<T: DeserializeOwned>(a: Map<String, Value>) -> Result<T, String> {
    serde_json::from_value(Value::Object(a))
        .map_err(|e| format!("failed to deserialize parameters: {e}"))
}

/// The draft 2020-12 schema of `T`, without the root's title and description (the Rust type's
/// name and doc comment, noise to a model).
fn schema<T: schemars::JsonSchema>() -> Value {
    let generator = schemars::generate::SchemaSettings::draft2020_12().into_generator();
    let mut schema = serde_json::to_value(generator.into_root_schema_for::<T>())
        .unwrap_or_else(|_| json!({"type": "object"}));
    if let Some(root) = schema.as_object_mut() {
        root.remove("title");
        root.remove("description");
    }
    schema
}

/// A table entry: `tool!(method, Args, "description")` calls `S3TwinMcp::method`.
macro_rules! tool {
    ($name:ident, $args:ty, $description:expr) => {
        Tool {
            name: stringify!($name),
            description: $description,
            schema: schema::<$args>,
            call: |server, a| {
                Box::pin(async move {
                    match arguments::<$args>(a) {
                        Ok(a) => server.$name(a).await,
                        Err(e) => done(Err(e)),
                    }
                })
            },
        }
    };
}

/// Every tool, in the order they were written.
pub static TOOLS: &[Tool] = &[
    tool!(
        molar_clone_spawn,
        CloneSpawnArgs,
        "Spawn a private S3 clone (kind \"s3\"), optionally seeded; returns runId, endpoint, credentials and region. Later tools default to this run."
    ),
    tool!(
        s3twin_spawn_run,
        SpawnArgs,
        "Create an isolated S3 run (own buckets, objects, clock), optionally seeded with a preset or seed document; returns runId, endpoint, credentials, region and the env vars for an AWS SDK. Later tools default to this run."
    ),
    tool!(
        s3_create_bucket,
        CreateBucketArgs,
        "Create a bucket (CreateBucket), optionally with versioning enabled."
    ),
    tool!(
        s3_put,
        PutArgs,
        "Put an object (PutObject): body as text or bodyBase64, optional contentType and metadata; returns its ETag and versionId."
    ),
    tool!(
        s3_list,
        ListArgs,
        "List a bucket's objects (ListObjectsV2): keys with size, ETag and LastModified, common prefixes, and the token for the next page."
    ),
    tool!(
        s3_get,
        GetArgs,
        "Read an object (GetObject), whole or a range: body as text when it is UTF-8, else base64. Bodies over 1 MiB are refused: read them by range."
    ),
    tool!(
        s3_head,
        ObjectArgs,
        "Read an object's metadata without its body (HeadObject): size, type, ETag, LastModified, versionId, user metadata."
    ),
    tool!(
        s3_delete,
        ObjectArgs,
        "Delete an object (DeleteObject), or one version of it with versionId."
    ),
    tool!(
        s3_list_buckets,
        RunArgs,
        "List the run's buckets (ListBuckets)."
    ),
    tool!(
        s3_list_versions,
        ListVersionsArgs,
        "List a bucket's object versions and delete markers (ListObjectVersions)."
    ),
    tool!(
        s3_presign,
        PresignArgs,
        "Make a SigV4 presigned URL for an object (GET, PUT, HEAD or DELETE), valid for expiresIn seconds of the run's clock."
    ),
    tool!(
        s3_put_lifecycle,
        LifecycleArgs,
        "Set a bucket's lifecycle (PutBucketLifecycleConfiguration): short form expirationDays with an optional prefix, or full rules in boto3's shape. Rules run when the clock moves."
    ),
    tool!(
        clock_get,
        RunArgs,
        "Read the run's virtual clock: now, frozen, rate."
    ),
    tool!(
        clock_advance,
        AdvanceArgs,
        "Move the run's clock forward (e.g. \"8d\") and run what became due: lifecycle expirations, transitions, aborts. Returns the new time and what lifecycle did."
    ),
    tool!(
        seed,
        SeedArgs,
        "Load a seed (preset name or seed document of buckets and objects) into a run, all or nothing."
    ),
    tool!(
        run_export,
        ExportArgs,
        "Export a run as a seed document (its clock, buckets, configurations, every version with its ETag, metadata and tags), which s3twin_spawn_run or seed take back to replay the state."
    ),
    tool!(
        notifications_log,
        RunArgs,
        "Read the run's event-notification delivery log (what webhooks were sent for puts, deletes, completed uploads)."
    ),
    tool!(
        requests_log,
        RunArgs,
        "Read the run's recent request log: method, path, S3 operation, status, time and request ids."
    ),
    tool!(
        chaos_set,
        ChaosArgs,
        "Inject faults into the run (errors, latency) with rules or a preset, as the chaos admin route takes them."
    ),
    tool!(
        chaos_clear,
        RunArgs,
        "Remove every fault rule of the run."
    ),
    tool!(
        reset_run,
        RunArgs,
        "Empty a run: delete all its buckets and objects."
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_endpoints_name_their_run() {
        assert_eq!(
            run_of_url("http://127.0.0.1:4566/t/run-1").as_deref(),
            Ok("run-1")
        );
        assert_eq!(
            run_of_url("http://localhost:4566/t/run-1/").as_deref(),
            Ok("run-1")
        );
        assert_eq!(
            run_of_url("http://localhost:4566").as_deref(),
            Ok("default")
        );
        assert!(run_of_url("http://localhost:4566/t/a%2Fb").is_err());
        assert!(run_of_url("http://localhost:4566/bucket").is_err());
        assert!(run_of_url("not a url").is_err());
    }

    #[test]
    fn paths_and_queries_are_encoded() {
        assert_eq!(
            S3TwinMcp::path("r1", "b", Some("a b/ü?#%")).as_deref(),
            Ok("/t/r1/b/a%20b/%C3%BC%3F%23%25")
        );
        assert_eq!(S3TwinMcp::path("default", "b", None).as_deref(), Ok("/b"));
        assert!(S3TwinMcp::path("r1", "b", Some("")).is_err());
        assert!(S3TwinMcp::path("r1", "a/b", None).is_err());
        assert_eq!(
            query(&[
                ("versions", Some(String::new())),
                ("prefix", None),
                ("key-marker", Some("a/&b".into()))
            ]),
            "?versions&key-marker=a%2F%26b"
        );
    }
}
