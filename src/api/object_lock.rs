//! Object Lock on the wire: the `x-amz-object-lock-*` headers of PutObject, CopyObject and
//! CreateMultipartUpload (checked, stamped onto the new version, echoed by GET and HEAD), the
//! bucket's default retention, `x-amz-bypass-governance-retention`, and Put/GetObjectRetention
//! and Put/GetObjectLegalHold. Whether a version is protected is the store's rule
//! (`store::lock`); this file only translates.

use super::bucket::MAX_XML_BODY;
use super::object::{check_version_id, read_subresource_version};
use super::{Ctx, ReqBody};
use crate::clock::{iso8601, parse_rfc3339, Millis};
use crate::error::{Code, S3Error, S3Result};
use crate::server::response::{empty, set_header, xml, Resp};
use crate::store::{
    check_retention_change, Bucket, Bypass, ConfigKind, DefaultRetention, LockMode, Object,
    Retention,
};
use crate::wire::request_body::{receive, BodySpec};
use crate::wire::xml::{self as xmlp, Element, XmlWriter};
use std::sync::Arc;

const MODE: &str = "x-amz-object-lock-mode";
const UNTIL: &str = "x-amz-object-lock-retain-until-date";
const LEGAL_HOLD: &str = "x-amz-object-lock-legal-hold";
const BYPASS: &str = "x-amz-bypass-governance-retention";

/// A bucket's Object Lock configuration, parsed once per stored document.
#[derive(Debug, Clone, Copy, Default)]
pub struct LockConfig {
    pub default: Option<DefaultRetention>,
}

fn parse_config(doc: &str) -> LockConfig {
    let Ok(root) = xmlp::parse(doc.as_bytes()) else {
        return LockConfig::default();
    };
    let default = root
        .child("Rule")
        .and_then(|r| r.child("DefaultRetention"))
        .and_then(|d| {
            let mode = LockMode::from_name(d.child_text("Mode")?.trim())?;
            let number = |name| {
                d.child_text(name)
                    .and_then(|n| n.trim().parse::<u64>().ok())
            };
            match (number("Days"), number("Years")) {
                (Some(days), None) => Some(DefaultRetention { mode, days }),
                (None, Some(years)) => Some(DefaultRetention::from_years(mode, years)),
                _ => None,
            }
        });
    LockConfig { default }
}

/// The bucket's Object Lock configuration; `None` when Object Lock is not enabled on it.
pub fn lock_config(bucket: &Bucket) -> Option<Arc<LockConfig>> {
    bucket.parsed_config(ConfigKind::ObjectLock, parse_config)
}

fn missing_lock_config() -> S3Error {
    S3Error::invalid_request("Bucket is missing Object Lock Configuration")
}

/// What a write's `x-amz-object-lock-*` headers ask for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RequestedLock {
    pub retention: Option<Retention>,
    pub legal_hold: Option<bool>,
}

impl RequestedLock {
    pub fn is_empty(&self) -> bool {
        self.retention.is_none() && self.legal_hold.is_none()
    }
}

fn argument_name_only(message: &str, name: &str) -> S3Error {
    S3Error::with_message(Code::InvalidArgument, message).extra("ArgumentName", name)
}

const PAST_DATE: &str = "The retain until date must be in the future!";

/// The lock a write asks for, checked as S3 checks it: mode and date both or neither, known
/// values, a date in the future, and a bucket with Object Lock.
pub fn requested_lock(ctx: &Ctx, lock: Option<&LockConfig>) -> S3Result<RequestedLock> {
    let mode = ctx.header(MODE);
    let until = ctx.header(UNTIL);
    let hold = ctx.header(LEGAL_HOLD);
    if mode.is_none() && until.is_none() && hold.is_none() {
        return Ok(RequestedLock::default());
    }
    const BOTH: &str =
        "x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied";
    let retention = match (mode, until) {
        (None, None) => None,
        (Some(_), None) => return Err(argument_name_only(BOTH, UNTIL)),
        (None, Some(_)) => return Err(argument_name_only(BOTH, MODE)),
        (Some(m), Some(u)) => {
            let mode = LockMode::from_name(m)
                .ok_or_else(|| S3Error::invalid_argument("Unknown wormMode directive.", MODE, m))?;
            let until = parse_rfc3339(u).ok_or_else(|| {
                S3Error::invalid_argument(
                    "The retain until date must be provided in ISO 8601 format",
                    UNTIL,
                    u,
                )
            })?;
            Some((Retention { mode, until }, u))
        }
    };
    let legal_hold = match hold {
        None => None,
        Some("ON") => Some(true),
        Some("OFF") => Some(false),
        Some(other) => {
            return Err(S3Error::invalid_argument(
                "Legal Hold must be either of 'ON' or 'OFF'",
                LEGAL_HOLD,
                other,
            ))
        }
    };
    if lock.is_none() {
        return Err(missing_lock_config());
    }
    // A header date in the past is shown as sent.
    if let Some((_, sent)) = retention.filter(|(r, _)| r.until <= ctx.run.now()) {
        return Err(S3Error::invalid_argument(PAST_DATE, UNTIL, sent));
    }
    Ok(RequestedLock {
        retention: retention.map(|(r, _)| r),
        legal_hold,
    })
}

/// Puts with lock parameters — their own, or the bucket's default retention — must carry
/// Content-MD5 or an `x-amz-checksum-*` (header or trailer); `x-amz-content-sha256` does not
/// count.
pub fn check_integrity_header(
    spec: &BodySpec,
    requested: &RequestedLock,
    lock: Option<&LockConfig>,
) -> S3Result<()> {
    let has_lock = !requested.is_empty() || lock.is_some_and(|l| l.default.is_some());
    if has_lock
        && spec.content_md5.is_none()
        && spec.header_checksum.is_none()
        && spec.trailer_checksum.is_none()
    {
        return Err(S3Error::invalid_request(
            "Content-MD5 OR x-amz-checksum- HTTP header is required for Put Object requests with Object Lock parameters",
        ));
    }
    Ok(())
}

/// Stamps the requested lock onto a new version.
pub fn stamp(object: &mut Object, requested: RequestedLock) {
    if requested.retention.is_some() || requested.legal_hold.is_some() {
        let extra = object.extra_mut();
        extra.retention = requested.retention;
        extra.legal_hold = requested.legal_hold;
    }
}

/// A new version without a retention of its own gets the bucket's default, counted from its
/// creation (`last_modified`).
pub fn apply_default(object: &mut Object, lock: Option<&LockConfig>) {
    if object.retention().is_none() {
        if let Some(d) = lock.and_then(|l| l.default) {
            object.extra_mut().retention = Some(d.retention_from(object.last_modified));
        }
    }
}

/// The lock headers GET and HEAD (and nothing else) answer with.
pub fn set_lock_headers(resp: &mut Resp, o: &Object) {
    if let Some(r) = o.retention() {
        set_header(resp, MODE, r.mode.name());
        set_header(resp, UNTIL, &iso8601(r.until));
    }
    if let Some(hold) = o.legal_hold() {
        set_header(resp, LEGAL_HOLD, if hold { "ON" } else { "OFF" });
    }
}

/// `x-amz-bypass-governance-retention` of a delete or a retention change. Only Object Lock
/// buckets take the header, whatever its value.
///
/// Authorization seam: with enforced auth, a bypass also needs the caller's
/// `s3:BypassGovernanceRetention` permission; that check belongs to the authorization stage
/// (it has the principal) and must run before this value reaches the store.
pub fn bypass(ctx: &Ctx, bucket: &Bucket) -> S3Result<Bypass> {
    let Some(value) = ctx.header(BYPASS) else {
        return Ok(Bypass(false));
    };
    if lock_config(bucket).is_none() {
        return Err(argument_name_only(
            "x-amz-bypass-governance-retention is only applicable to Object Lock enabled buckets.",
            BYPASS,
        ));
    }
    Ok(Bypass(value.trim().eq_ignore_ascii_case("true")))
}

/// The bucket of a retention or legal-hold request, which must have Object Lock.
fn lock_bucket(ctx: &Ctx) -> S3Result<Arc<Bucket>> {
    let bucket = ctx.run.bucket(ctx.bucket_name())?;
    if lock_config(&bucket).is_none() {
        return Err(missing_lock_config());
    }
    Ok(bucket)
}

async fn read_document(ctx: &Ctx, body: ReqBody) -> S3Result<Element> {
    let spec = BodySpec::from_headers(&ctx.headers)?;
    let doc = receive(body, &spec, None, MAX_XML_BODY).await?.into_bytes();
    xmlp::parse(&doc)
}

/// Applies `change` to the addressed version under the bucket lock.
fn change_version(
    ctx: &Ctx,
    bucket: &Bucket,
    change: impl FnOnce(&mut Object) -> S3Result<()>,
) -> S3Result<Resp> {
    let key = ctx.key_name();
    let version = ctx.query.get("versionId");
    if let Some(v) = version {
        check_version_id(v)?;
    }
    // The version must exist (NoSuchKey / NoSuchVersion / 405 on a delete marker)…
    read_subresource_version(ctx, bucket, key, "PUT")?;
    // …and is changed as it is under the lock (a concurrent delete makes it missing).
    bucket
        .try_modify(key, version, change)
        .ok_or_else(|| S3Error::no_such_key(key))??;
    Ok(empty(200))
}

pub async fn put_object_retention(ctx: &Ctx, body: ReqBody) -> S3Result<Resp> {
    let bucket = lock_bucket(ctx)?;
    let root = read_document(ctx, body).await?;
    if root.name != "Retention" {
        return Err(S3Error::malformed_xml());
    }
    let mode = root.child_text("Mode").map(str::trim);
    let until = root.child_text("RetainUntilDate").map(str::trim);
    // An empty <Retention/> removes the retention (a GOVERNANCE one only with a bypass).
    let new = match (mode, until) {
        (None, None) => None,
        (Some(m), Some(u)) => {
            let mode = LockMode::from_name(m).ok_or_else(S3Error::malformed_xml)?;
            let until = parse_rfc3339(u).ok_or_else(S3Error::malformed_xml)?;
            if until <= ctx.run.now() {
                // In the XML's case AWS shows the value as its servers print dates.
                return Err(S3Error::invalid_argument(
                    PAST_DATE,
                    "RetainUntilDate",
                    java_date_pacific(until),
                ));
            }
            Some(Retention { mode, until })
        }
        _ => return Err(S3Error::malformed_xml()),
    };
    let bypass = bypass(ctx, &bucket)?;
    let now = ctx.run.now();
    change_version(ctx, &bucket, |o| {
        check_retention_change(o.retention(), new, now, bypass)?;
        o.extra_mut().retention = new;
        Ok(())
    })
}

pub fn get_object_retention(ctx: &Ctx) -> S3Result<Resp> {
    let bucket = lock_bucket(ctx)?;
    let object = read_subresource_version(ctx, &bucket, ctx.key_name(), "GET")?;
    let r = object
        .retention()
        .ok_or_else(|| S3Error::new(Code::NoSuchObjectLockConfiguration))?;
    let mut w = XmlWriter::new();
    w.root("Retention")
        .elem("Mode", r.mode.name())
        .elem("RetainUntilDate", &iso8601(r.until));
    Ok(xml(200, w.finish()))
}

pub async fn put_object_legal_hold(ctx: &Ctx, body: ReqBody) -> S3Result<Resp> {
    let bucket = lock_bucket(ctx)?;
    let root = read_document(ctx, body).await?;
    if root.name != "LegalHold" {
        return Err(S3Error::malformed_xml());
    }
    let hold = match root.child_text("Status").map(str::trim) {
        Some("ON") => true,
        Some("OFF") => false,
        _ => return Err(S3Error::malformed_xml()),
    };
    change_version(ctx, &bucket, |o| {
        o.extra_mut().legal_hold = Some(hold);
        Ok(())
    })
}

pub fn get_object_legal_hold(ctx: &Ctx) -> S3Result<Resp> {
    let bucket = lock_bucket(ctx)?;
    let object = read_subresource_version(ctx, &bucket, ctx.key_name(), "GET")?;
    let hold = object
        .legal_hold()
        .ok_or_else(|| S3Error::new(Code::NoSuchObjectLockConfiguration))?;
    let mut w = XmlWriter::new();
    w.root("LegalHold")
        .elem("Status", if hold { "ON" } else { "OFF" });
    Ok(xml(200, w.finish()))
}

/// `Tue Dec 31 16:00:00 PST 2019`: an instant as AWS's error details print it (Java's
/// `Date.toString()` in US Pacific time, with today's daylight-saving rule). Total: instants
/// outside years 1–9999 are clamped.
pub fn java_date_pacific(ms: Millis) -> String {
    use time::{Duration, OffsetDateTime, Weekday};
    let secs = ms.div_euclid(1000).clamp(-62_135_596_800, 253_402_300_799);
    let Ok(utc) = OffsetDateTime::from_unix_timestamp(secs) else {
        return String::new();
    };
    // Daylight time: from the second Sunday of March, 02:00 PST (10:00 UTC), to the first
    // Sunday of November, 02:00 PDT (09:00 UTC).
    let sunday_on_or_after = |month: time::Month, day: u8| {
        let mut d = time::Date::from_calendar_date(utc.year(), month, day).ok()?;
        while d.weekday() != Weekday::Sunday {
            d = d.next_day()?;
        }
        Some(d.midnight().assume_utc().unix_timestamp())
    };
    let daylight = match (
        sunday_on_or_after(time::Month::March, 8),
        sunday_on_or_after(time::Month::November, 1),
    ) {
        (Some(start), Some(end)) => secs >= start + 10 * 3600 && secs < end + 9 * 3600,
        _ => false,
    };
    let (offset, zone) = if daylight { (7, "PDT") } else { (8, "PST") };
    let local = utc.saturating_sub(Duration::hours(offset));
    let weekday = &format!("{:?}", local.weekday())[..3];
    let month = &format!("{:?}", local.month())[..3];
    format!(
        "{weekday} {month} {:02} {:02}:{:02}:{:02} {zone} {}",
        local.day(),
        local.hour(),
        local.minute(),
        local.second(),
        local.year()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_dates_in_pacific_time() {
        // AWS's own answer for 2020-01-01T00:00:00Z.
        assert_eq!(
            java_date_pacific(parse_rfc3339("2020-01-01T00:00:00Z").unwrap_or(0)),
            "Tue Dec 31 16:00:00 PST 2019"
        );
        assert_eq!(
            java_date_pacific(parse_rfc3339("2025-07-04T12:00:00Z").unwrap_or(0)),
            "Fri Jul 04 05:00:00 PDT 2025"
        );
        // DST starts 2025-03-09 at 10:00 UTC.
        assert_eq!(
            java_date_pacific(parse_rfc3339("2025-03-09T09:59:59Z").unwrap_or(0)),
            "Sun Mar 09 01:59:59 PST 2025"
        );
        assert_eq!(
            java_date_pacific(parse_rfc3339("2025-03-09T10:00:00Z").unwrap_or(0)),
            "Sun Mar 09 03:00:00 PDT 2025"
        );
        assert!(!java_date_pacific(i64::MIN).is_empty());
        assert!(!java_date_pacific(i64::MAX).is_empty());
    }

    #[test]
    fn default_retention_parsed_from_the_stored_document() {
        let doc = "<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule><DefaultRetention><Mode>COMPLIANCE</Mode><Days>30</Days></DefaultRetention></Rule></ObjectLockConfiguration>";
        assert_eq!(
            parse_config(doc).default,
            Some(DefaultRetention {
                mode: LockMode::Compliance,
                days: 30
            })
        );
        let doc = "<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled></ObjectLockConfiguration>";
        assert_eq!(parse_config(doc).default, None);
    }
}
