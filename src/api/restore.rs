//! RestoreObject: a temporary readable copy of a GLACIER / DEEP_ARCHIVE object, ready after
//! the tier's duration on the run's clock and kept for the requested days.

use super::bucket::MAX_XML_BODY;
use super::object::{read_version, restored};
use super::{Ctx, ReqBody};
use crate::clock::{next_midnight, Millis, DAY_MS};
use crate::error::{Code, S3Error, S3Result};
use crate::server::response::{empty, Resp};
use crate::store::{is_archived, Object, Restore};
use crate::wire::request_body::{receive, BodySpec};
use crate::wire::xml;

/// How long a restore takes per storage class and tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RestoreDurations {
    pub glacier_expedited: Millis,
    pub glacier_standard: Millis,
    pub glacier_bulk: Millis,
    pub deep_archive_standard: Millis,
    pub deep_archive_bulk: Millis,
}

impl Default for RestoreDurations {
    /// The upper ends of AWS's published retrieval times.
    fn default() -> Self {
        const H: Millis = 3_600_000;
        RestoreDurations {
            glacier_expedited: 5 * 60_000,
            glacier_standard: 4 * H,
            glacier_bulk: 12 * H,
            deep_archive_standard: 12 * H,
            deep_archive_bulk: 48 * H,
        }
    }
}

impl RestoreDurations {
    /// Parses `glacier-standard=4h,deep-archive-bulk=48h,…` over the defaults.
    pub fn parse(spec: &str) -> Result<RestoreDurations, String> {
        let mut d = RestoreDurations::default();
        for item in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (name, value) = item
                .split_once('=')
                .ok_or_else(|| format!("{item:?}: expected name=duration"))?;
            let ms = crate::clock::parse_duration(value)?;
            let slot = match name.trim() {
                "glacier-expedited" => &mut d.glacier_expedited,
                "glacier-standard" => &mut d.glacier_standard,
                "glacier-bulk" => &mut d.glacier_bulk,
                "deep-archive-standard" => &mut d.deep_archive_standard,
                "deep-archive-bulk" => &mut d.deep_archive_bulk,
                other => return Err(format!("unknown restore tier {other:?}")),
            };
            *slot = ms;
        }
        Ok(d)
    }

    fn of(&self, storage_class: &str, tier: &str) -> Option<Millis> {
        match (storage_class, tier) {
            ("GLACIER", "Expedited") => Some(self.glacier_expedited),
            ("GLACIER", "Standard") => Some(self.glacier_standard),
            ("GLACIER", "Bulk") => Some(self.glacier_bulk),
            ("DEEP_ARCHIVE", "Standard") => Some(self.deep_archive_standard),
            ("DEEP_ARCHIVE", "Bulk") => Some(self.deep_archive_bulk),
            _ => None,
        }
    }
}

pub async fn restore_object(ctx: &Ctx, body: ReqBody) -> S3Result<Resp> {
    let bucket = ctx.run.bucket(ctx.bucket_name())?;
    let key = ctx.key_name();
    let spec = BodySpec::from_headers(&ctx.headers)?;
    let doc = receive(body, &spec, None, MAX_XML_BODY).await?.into_bytes();
    let root = xml::parse(&doc)?;
    if root.name != "RestoreRequest" {
        return Err(S3Error::malformed_xml());
    }
    let days: u64 = root
        .child_text("Days")
        .and_then(|d| d.trim().parse().ok())
        .filter(|d| *d > 0)
        .ok_or_else(S3Error::malformed_xml)?;
    let tier = root
        .child("GlacierJobParameters")
        .and_then(|g| g.child_text("Tier"))
        .or_else(|| root.child_text("Tier"))
        .unwrap_or("Standard")
        .trim()
        .to_string();
    let object = read_version(ctx, &bucket, key, "POST")?;
    if !is_archived(&object.storage_class) {
        return Err(S3Error::with_message(
            Code::InvalidObjectState,
            "Restore is not allowed for the object's current storage class",
        )
        .extra("StorageClass", object.storage_class));
    }
    let duration = ctx
        .state
        .config
        .restore_durations
        .of(&object.storage_class, &tier)
        .ok_or_else(S3Error::malformed_xml)?;
    let now = ctx.run.now();
    if object.restore().is_some_and(|r| now < r.ready_at) {
        return Err(S3Error::new(Code::RestoreAlreadyInProgress));
    }
    let already = restored(&object, now);
    // A restored copy asked for again only gets a new expiry.
    let ready_at = if already { now } else { now + duration };
    let restore = Restore {
        ready_at: object
            .restore()
            .filter(|_| already)
            .map_or(ready_at, |r| r.ready_at),
        expires_at: next_midnight(ready_at + days as Millis * DAY_MS),
        ready_announced: already,
        expiry_announced: false,
    };
    let restoring = bucket
        .modify(key, ctx.query.get("versionId"), |o: &mut Object| {
            o.extra_mut().restore = Some(restore)
        })
        .ok_or_else(|| S3Error::no_such_key(key))?;
    if !already {
        ctx.notify_object(&bucket, crate::events::EventName::RestorePost, &restoring);
    }
    Ok(empty(if already { 200 } else { 202 }))
}
