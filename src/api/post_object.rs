//! POST object: the browser form upload. The `multipart/form-data` body is streamed: the
//! fields before `file` are read (bounded), the policy is checked on the run's clock, then the
//! file part flows into the object's segments as PutObject's body does (never held twice).

use super::object::{check_key, object_from_headers, set_expiration_header, MAX_PUT_SIZE};
use super::{object_lock, sse, Ctx, ReqBody};
use crate::auth::post_form::PostCredentials;
use crate::checksum::ChecksumAlgorithm;
use crate::error::{Code, S3Error, S3Result};
use crate::server::query::{url_encode, Query};
use crate::server::response::{empty, set_header, xml, Resp};
use crate::store::Object;
use crate::wire::request_body::{receive_into, BodySpec};
use crate::wire::xml::XmlWriter;
use bytes::Bytes;
use futures_util::{StreamExt, TryStreamExt};
use http::{HeaderMap, HeaderName, HeaderValue, Method};
use http_body::Frame;
use http_body_util::{BodyStream, StreamBody};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// S3's bound on the form fields that precede the file.
const MAX_PRE_DATA: usize = 20 * 1024;

/// A form field as sent: its name (compared case-insensitively) and value.
pub(crate) struct FormField {
    pub name: String,
    pub value: String,
}

/// The form fields before the file.
pub(crate) struct Form {
    pub fields: Vec<FormField>,
}

impl Form {
    fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|f| f.name.eq_ignore_ascii_case(name))
            .map(|f| f.value.as_str())
    }
}

/// The form's signature (enforce mode) and then the request it stands for, PutObject of
/// `key` with the form's fields as headers; in `--auth none` every form passes.
fn authenticate_form(
    ctx: &Ctx,
    creds: &PostCredentials<'_>,
    key: &str,
    headers: &HeaderMap,
) -> S3Result<crate::auth::Auth> {
    if !ctx.auth.enforced() {
        return Ok(Default::default());
    }
    let auth = crate::auth::post_form::authenticate(&ctx.state, &ctx.run, ctx.auth.peer, creds)?;
    crate::auth::authorize::authorize_resolved(
        &auth,
        &crate::auth::authorize::Request {
            run: &ctx.run,
            op: crate::server::router::Op::PostObject,
            bucket: ctx.bucket.as_deref(),
            key: Some(key),
            headers,
            query: &Query::default(),
        },
    )?;
    Ok(auth)
}

fn malformed() -> S3Error {
    S3Error::with_message(
        Code::MalformedPOSTRequest,
        "The body of your POST request is not well-formed multipart/form-data.",
    )
}

fn policy_denied(message: impl std::fmt::Display) -> S3Error {
    S3Error::with_message(
        Code::AccessDenied,
        format!("Invalid according to Policy: {message}"),
    )
}

fn invalid_policy(message: &str) -> S3Error {
    S3Error::with_message(
        Code::InvalidPolicyDocument,
        format!("Invalid Policy: {message}"),
    )
}

fn missing_field(name: &str) -> S3Error {
    S3Error::invalid_argument(
        format!(
            "Bucket POST must contain a field named '{name}'.  If it is specified, please check the order of the fields."
        ),
        name,
        "",
    )
}

/// One policy condition. `text` is how S3 quotes it when it fails.
enum Condition {
    Eq {
        field: String,
        value: String,
    },
    StartsWith {
        field: String,
        prefix: String,
    },
    Range {
        min: u64,
        max: u64,
    },
    /// A condition S3 cannot satisfy (an unknown operator, wrong arity or types).
    Unsatisfiable,
}

pub(crate) struct Policy {
    expiration: crate::clock::Millis,
    conditions: Vec<(Condition, String)>,
}

fn json_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn quote(items: &[String]) -> String {
    let quoted: Vec<String> = items
        .iter()
        .map(|i| serde_json::Value::String(i.clone()).to_string())
        .collect();
    format!("[{}]", quoted.join(", "))
}

pub(crate) fn parse_policy(b64: &str) -> S3Result<Policy> {
    use base64::Engine;
    let raw = base64::engine::general_purpose::STANDARD
        .decode(b64.trim().as_bytes())
        .map_err(|_| invalid_policy("Invalid JSON."))?;
    let doc: serde_json::Value =
        serde_json::from_slice(&raw).map_err(|_| invalid_policy("Invalid JSON."))?;
    let expiration = doc
        .get("expiration")
        .ok_or_else(|| invalid_policy("Policy missing expiration."))?;
    let expiration = expiration
        .as_str()
        .and_then(crate::clock::parse_rfc3339)
        .ok_or_else(|| invalid_policy("Invalid 'expiration' value: must be an ISO 8601 date."))?;
    let list = doc
        .get("conditions")
        .and_then(|c| c.as_array())
        .ok_or_else(|| invalid_policy("Policy missing conditions."))?;
    let mut conditions = Vec::with_capacity(list.len());
    for c in list {
        match c {
            serde_json::Value::Object(map) => {
                if map.len() != 1 {
                    return Err(invalid_policy(
                        "Invalid Simple-Condition: Simple-Conditions must have exactly one property specified.",
                    ));
                }
                for (name, value) in map {
                    let value = json_text(value);
                    let text = quote(&["eq".to_string(), format!("${name}"), value.clone()]);
                    conditions.push((
                        Condition::Eq {
                            field: name.to_ascii_lowercase(),
                            value,
                        },
                        text,
                    ));
                }
            }
            serde_json::Value::Array(items) => {
                let texts: Vec<String> = items.iter().map(json_text).collect();
                let text = quote(&texts);
                let op = texts.first().map(|s| s.to_ascii_lowercase());
                let field = |s: &String| s.strip_prefix('$').map(str::to_ascii_lowercase);
                let cond = match (op.as_deref(), texts.len()) {
                    (Some("eq"), 3) => match field(&texts[1]) {
                        Some(f) => Condition::Eq {
                            field: f,
                            value: texts[2].clone(),
                        },
                        None => Condition::Unsatisfiable,
                    },
                    (Some("starts-with"), 3) => match field(&texts[1]) {
                        Some(f) => Condition::StartsWith {
                            field: f,
                            prefix: texts[2].clone(),
                        },
                        None => Condition::Unsatisfiable,
                    },
                    (Some("content-length-range"), 3) => {
                        match (items[1].as_u64(), items[2].as_u64()) {
                            (Some(min), Some(max)) => Condition::Range { min, max },
                            _ => Condition::Unsatisfiable,
                        }
                    }
                    _ => Condition::Unsatisfiable,
                };
                conditions.push((cond, text));
            }
            _ => return Err(invalid_policy("Invalid JSON.")),
        }
    }
    Ok(Policy {
        expiration,
        conditions,
    })
}

/// Fields a policy need not name.
fn exempt(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    matches!(
        n.as_str(),
        "policy" | "x-amz-signature" | "signature" | "awsaccesskeyid" | "file"
    ) || n.starts_with("x-ignore-")
}

/// Checks the policy's expiration and every condition but the length range against the form
/// (the bucket counts as a field); returns the length range when there is one.
pub(crate) fn check_policy(
    policy: &Policy,
    form: &Form,
    bucket: &str,
    key: &str,
    now: crate::clock::Millis,
) -> S3Result<Option<(u64, u64)>> {
    if policy.expiration <= now {
        return Err(policy_denied("Policy expired."));
    }
    let value_of = |field: &str| -> String {
        match field {
            "bucket" => bucket.to_string(),
            "key" => key.to_string(),
            f => form.get(f).unwrap_or("").to_string(),
        }
    };
    let mut range = None;
    let mut covered: Vec<&str> = Vec::new();
    for (cond, text) in &policy.conditions {
        let ok = match cond {
            Condition::Eq { field, value } => {
                covered.push(field);
                value_of(field) == *value
            }
            Condition::StartsWith { field, prefix } => {
                covered.push(field);
                let v = value_of(field);
                // A Content-Type list: every member must start with the prefix.
                if field == "content-type" && v.contains(',') {
                    v.split(',').all(|p| p.trim().starts_with(prefix.as_str()))
                } else {
                    v.starts_with(prefix.as_str())
                }
            }
            Condition::Range { min, max } => {
                range = Some((*min, *max));
                true
            }
            Condition::Unsatisfiable => false,
        };
        if !ok {
            return Err(policy_denied(format!("Policy Condition failed: {text}")));
        }
    }
    let fields = std::iter::once("bucket").chain(form.fields.iter().map(|f| f.name.as_str()));
    for name in fields {
        if !exempt(name) && !covered.iter().any(|c| c.eq_ignore_ascii_case(name)) {
            return Err(policy_denied(format!(
                "Extra input fields: {}",
                name.to_ascii_lowercase()
            )));
        }
    }
    Ok(range)
}

/// The request headers a form field stands for (content headers, metadata, storage class,
/// checksums, encryption, lock, ACL, tagging), so the object is built as PutObject builds it.
fn form_headers(form: &Form) -> S3Result<HeaderMap> {
    let mut h = HeaderMap::new();
    for f in &form.fields {
        let n = f.name.to_ascii_lowercase();
        let name = match n.as_str() {
            "acl" => "x-amz-acl".to_string(),
            // aws-chunked is a request body's framing, not a form's file.
            "content-encoding" if f.value.to_ascii_lowercase().contains("aws-chunked") => continue,
            "content-type"
            | "cache-control"
            | "content-disposition"
            | "content-encoding"
            | "content-language"
            | "expires" => n,
            "tagging" => {
                let tags = super::tagging::parse_tag_set(f.value.as_bytes())?;
                let encoded: Vec<String> = tags
                    .iter()
                    .map(|(k, v)| format!("{}={}", url_encode(k), url_encode(v)))
                    .collect();
                if let Ok(v) = HeaderValue::from_str(&encoded.join("&")) {
                    h.insert("x-amz-tagging", v);
                }
                continue;
            }
            n if n.starts_with("x-amz-")
                && !matches!(
                    n,
                    "x-amz-algorithm"
                        | "x-amz-credential"
                        | "x-amz-date"
                        | "x-amz-signature"
                        | "x-amz-security-token"
                        // Framing headers describe a request body, not a form's file.
                        | "x-amz-content-sha256"
                        | "x-amz-decoded-content-length"
                        | "x-amz-trailer"
                ) =>
            {
                n.to_string()
            }
            _ => continue,
        };
        let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&f.value),
        ) else {
            return Err(S3Error::invalid_argument(
                "Invalid form field value",
                &f.name,
                f.value.clone(),
            ));
        };
        h.append(name, value);
    }
    Ok(h)
}

/// `POST /{bucket}` with a form.
pub async fn post_object(ctx: &Ctx, body: ReqBody) -> S3Result<Resp> {
    let bucket = ctx.run.bucket(ctx.bucket_name())?;
    let boundary = ctx
        .header("content-type")
        .filter(|ct| {
            ct.trim_start()
                .to_ascii_lowercase()
                .starts_with("multipart/form-data")
        })
        .and_then(|ct| multer::parse_boundary(ct).ok())
        .ok_or_else(|| {
            S3Error::new(Code::PreconditionFailed).extra(
                "Condition",
                "Bucket POST must be of the enclosure-type multipart/form-data",
            )
        })?;
    let stream =
        BodyStream::new(body).try_filter_map(|frame| async move { Ok(frame.into_data().ok()) });
    let mut multipart = multer::Multipart::new(stream, boundary);
    let result = receive_form(ctx, &bucket, &mut multipart).await;
    if result.is_err() {
        drain(&mut multipart).await;
    }
    result
}

/// Most of a refused form read and dropped, so that a client still sending (a browser, an
/// HTTP library) reads the answer instead of a reset connection.
const MAX_DRAIN: u64 = 64 * 1024 * 1024;

async fn drain(multipart: &mut multer::Multipart<'_>) {
    let mut seen = 0u64;
    while let Ok(Some(mut field)) = multipart.next_field().await {
        while let Ok(Some(chunk)) = field.chunk().await {
            seen = seen.saturating_add(chunk.len() as u64);
            if seen > MAX_DRAIN {
                return;
            }
        }
    }
}

async fn receive_form(
    ctx: &Ctx,
    bucket: &crate::store::Bucket,
    multipart: &mut multer::Multipart<'_>,
) -> S3Result<Resp> {
    let mut form = Form { fields: Vec::new() };
    let mut pre_data = 0usize;
    let file = loop {
        let field = match multipart.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => {
                return Err(S3Error::with_message(
                    Code::IncorrectNumberOfFilesInPostRequest,
                    "POST requires exactly one file upload per request.",
                ))
            }
            Err(e) => return Err(multipart_error(e)),
        };
        let name = field.name().unwrap_or("").to_string();
        if name.eq_ignore_ascii_case("file") {
            break field;
        }
        let mut value = Vec::new();
        let mut field = field;
        while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
            pre_data = pre_data.saturating_add(chunk.len());
            if pre_data > MAX_PRE_DATA {
                return Err(S3Error::with_message(
                    Code::MaxPostPreDataLengthExceededError,
                    "Your POST request fields preceding the upload file were too large.",
                )
                .extra("MaxPostPreDataLength", MAX_PRE_DATA.to_string()));
            }
            value.extend_from_slice(&chunk);
        }
        form.fields.push(FormField {
            name,
            value: String::from_utf8_lossy(&value).into_owned(),
        });
    };

    let filename = file.file_name().unwrap_or("").to_string();
    let key = form
        .get("key")
        .ok_or_else(|| missing_field("key"))?
        .replace("${filename}", &filename);
    check_key(&key)?;
    let creds = PostCredentials {
        policy: form.get("policy"),
        algorithm: form.get("x-amz-algorithm"),
        credential: form.get("x-amz-credential"),
        date: form.get("x-amz-date"),
        signature_v4: form.get("x-amz-signature"),
        access_key_id: form.get("awsaccesskeyid"),
        signature_v2: form.get("signature"),
    };
    let headers = form_headers(&form)?;
    let auth = authenticate_form(ctx, &creds, &key, &headers)?;
    let range = match form.get("policy") {
        Some(p) => check_policy(&parse_policy(p)?, &form, &bucket.name, &key, ctx.run.now())?,
        None => None,
    };

    let form_ctx = Ctx {
        state: ctx.state.clone(),
        run: ctx.run.clone(),
        method: Method::POST,
        headers,
        query: Query::default(),
        bucket: ctx.bucket.clone(),
        key: Some(key.clone()),
        ids: ctx.ids,
        // The form's principal, authorized already as the request it stands for.
        auth,
    };
    let mut object: Object = object_from_headers(&form_ctx, &key)?;
    let encryption = sse::for_write(&form_ctx, bucket, &key, "s3:PutObject")?;
    let spec = BodySpec::from_headers(&form_ctx.headers)?;
    let lock = object_lock::lock_config(bucket);
    let requested = object_lock::requested_lock(&form_ctx, lock.as_deref())?;
    object_lock::stamp(&mut object, requested);

    // The file part, counted as it passes, so a too-large file reports its whole size.
    let seen = Arc::new(AtomicU64::new(0));
    let counter = seen.clone();
    let mut file_stream = Box::pin(file.inspect_ok(move |b: &Bytes| {
        counter.fetch_add(b.len() as u64, Ordering::Relaxed);
    }));
    let max = range.map_or(MAX_PUT_SIZE, |(_, max)| max.min(MAX_PUT_SIZE));
    let received = {
        let body = StreamBody::new((&mut file_stream).map_ok(Frame::data));
        receive_into(
            body,
            &spec,
            Some(ChecksumAlgorithm::Crc64Nvme),
            max,
            ctx.run.body_files(),
        )
        .await
    };
    let mut received = match received {
        Ok(r) => r,
        Err(e) if e.code == Code::EntityTooLarge => {
            // Read the rest of the file (kept nowhere) to report its size, as S3 does.
            while let Some(Ok(_)) = file_stream.next().await {}
            return Err(S3Error::new(Code::EntityTooLarge)
                .extra("ProposedSize", seen.load(Ordering::Relaxed).to_string())
                .extra("MaxSizeAllowed", max.to_string()));
        }
        Err(e) => return Err(e),
    };
    if let Some((min, _)) = range {
        if received.len < min {
            return Err(S3Error::new(Code::EntityTooSmall)
                .extra("ProposedSize", received.len.to_string())
                .extra("MinSizeAllowed", min.to_string()));
        }
    }
    object.etag = sse::etag(&encryption, received.md5);
    object.encryption = Some(encryption);
    object.body = received.take_body();
    object.checksum = received.checksum;
    object.last_modified = ctx.run.now();
    object_lock::apply_default(&mut object, lock.as_deref());
    let stored = bucket.put_checked(object, |_| Ok(()))?;
    ctx.notify_object(bucket, crate::events::EventName::Post, &stored);

    let etag = stored.quoted_etag();
    if let Some(redirect) = form
        .get("success_action_redirect")
        .or_else(|| form.get("redirect"))
        .filter(|r| r.starts_with("http://") || r.starts_with("https://"))
    {
        let sep = if redirect.contains('?') { '&' } else { '?' };
        let target = format!(
            "{redirect}{sep}bucket={}&key={}&etag={}",
            url_encode(&bucket.name),
            url_encode(&key),
            url_encode(&etag)
        );
        let mut resp = empty(303);
        set_header(&mut resp, "location", &target);
        return Ok(resp);
    }
    let location = super::multipart::location(ctx, &bucket.name, &key);
    let mut resp = match form.get("success_action_status") {
        Some("200") => empty(200),
        Some("201") => {
            let mut w = XmlWriter::new();
            // S3 sends this document without its namespace.
            w.open("PostResponse")
                .elem("Location", &location)
                .elem("Bucket", &bucket.name)
                .elem("Key", &key)
                .elem("ETag", &etag);
            xml(201, w.finish())
        }
        _ => empty(204),
    };
    set_header(&mut resp, "etag", &etag);
    set_header(&mut resp, "location", &location);
    sse::echo(&mut resp, stored.encryption.as_deref(), sse::Echo::Write);
    super::object::set_written_version_header(&mut resp, &stored);
    set_expiration_header(&mut resp, bucket, &stored);
    Ok(resp)
}

/// multer's errors as S3 answers them: a body error stays what it was (a timeout, a reset),
/// anything about the framing is a malformed POST.
fn multipart_error(e: multer::Error) -> S3Error {
    match e {
        multer::Error::StreamReadFailed(inner) => {
            if inner.is::<crate::wire::timed_body::BodyTimeout>() {
                S3Error::new(Code::RequestTimeout)
            } else {
                S3Error::new(Code::IncompleteBody)
            }
        }
        _ => malformed(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    fn policy(json: &str) -> Policy {
        let b64 = base64::engine::general_purpose::STANDARD.encode(json);
        parse_policy(&b64).unwrap_or_else(|e| panic!("{}", e.message))
    }

    fn form(fields: &[(&str, &str)]) -> Form {
        Form {
            fields: fields
                .iter()
                .map(|(n, v)| FormField {
                    name: n.to_string(),
                    value: v.to_string(),
                })
                .collect(),
        }
    }

    #[test]
    fn conditions() {
        let p = policy(
            r#"{"expiration":"2030-01-01T00:00:00Z","conditions":[{"bucket":"b"},["starts-with","$key","user/"],["content-length-range",1,10]]}"#,
        );
        let f = form(&[("key", "user/a")]);
        assert_eq!(
            check_policy(&p, &f, "b", "user/a", 0).ok(),
            Some(Some((1, 10)))
        );
        let err = check_policy(&p, &f, "b", "other/a", 0)
            .err()
            .map(|e| e.message);
        assert_eq!(
            err.as_deref(),
            Some(
                r#"Invalid according to Policy: Policy Condition failed: ["starts-with", "$key", "user/"]"#
            )
        );
        let f = form(&[("key", "user/a"), ("Content-Type", "text/plain")]);
        let err = check_policy(&p, &f, "b", "user/a", 0)
            .err()
            .map(|e| e.message);
        assert_eq!(
            err.as_deref(),
            Some("Invalid according to Policy: Extra input fields: content-type")
        );
        let late = crate::clock::parse_rfc3339("2030-01-01T00:00:00Z").unwrap_or(0);
        let err = check_policy(&p, &f, "b", "user/a", late)
            .err()
            .map(|e| e.message);
        assert_eq!(
            err.as_deref(),
            Some("Invalid according to Policy: Policy expired.")
        );
    }
}
