//! A run's clock. Every timestamp S3 shows for a run comes from here, so that later the run's
//! time can be advanced or frozen without touching the handlers.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch, UTC.
pub type Millis = i64;

#[derive(Debug, Default)]
pub struct Clock {
    offset_ms: AtomicI64,
}

impl Clock {
    pub fn now(&self) -> Millis {
        real_now() + self.offset_ms.load(Ordering::Relaxed)
    }
}

pub fn real_now() -> Millis {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// `2026-11-23T10:33:14.000Z`, the timestamp format of S3's XML bodies.
pub fn iso8601(ms: Millis) -> String {
    let (y, mo, d, h, mi, s) = civil(ms.div_euclid(1000));
    format!(
        "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{:03}Z",
        ms.rem_euclid(1000)
    )
}

/// `Mon, 23 Nov 2026 10:33:14 GMT`, the HTTP date format of headers.
pub fn http_date(ms: Millis) -> String {
    let secs = ms.div_euclid(1000).max(0) as u64;
    httpdate::fmt_http_date(UNIX_EPOCH + std::time::Duration::from_secs(secs))
}

/// Parses any of the three HTTP date formats; `None` when unparseable.
pub fn parse_http_date(s: &str) -> Option<Millis> {
    let t = httpdate::parse_http_date(s.trim()).ok()?;
    let d = t.duration_since(UNIX_EPOCH).ok()?;
    Some(d.as_secs() as i64 * 1000)
}

/// Civil date-time from Unix seconds (Howard Hinnant's days-from-civil inverse).
fn civil(secs: i64) -> (i64, u32, u32, u32, u32, u32) {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = if m <= 2 { y + 1 } else { y };
    (
        y,
        m,
        d,
        (rem / 3600) as u32,
        ((rem % 3600) / 60) as u32,
        (rem % 60) as u32,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instants() {
        // 2026-11-23T10:33:14.250Z
        let ms = 1_795_429_994_250;
        assert_eq!(iso8601(ms), "2026-11-23T10:33:14.250Z");
        assert_eq!(http_date(ms), "Mon, 23 Nov 2026 10:33:14 GMT");
        assert_eq!(
            parse_http_date("Mon, 23 Nov 2026 10:33:14 GMT"),
            Some(ms - 250)
        );
        assert_eq!(iso8601(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso8601(951_782_400_000), "2000-02-29T00:00:00.000Z");
    }
}
