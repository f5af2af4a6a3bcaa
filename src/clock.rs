//! A run's virtual clock. Every timestamp S3 shows for a run comes from here: real time plus
//! an offset, real time sped up by a rate, or a frozen instant. Time only moves forward.

use parking_lot::Mutex;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch, UTC.
pub type Millis = i64;

pub const DAY_MS: Millis = 86_400_000;

/// The latest instant a run's clock may show: 9999-12-31T23:59:59.999Z, the last one S3's
/// date formats can write. The admin API refuses to move a clock past it.
pub const MAX_INSTANT: Millis = 253_402_300_799_999;

fn past_max(what: &str) -> String {
    format!(
        "{what} would move the clock past {}, the latest instant a run's clock can show",
        iso8601(MAX_INSTANT)
    )
}

/// The fastest a run's clock may run: a million times real time (a virtual day in 86.4 ms).
/// Bounded so that the virtual time elapsed stays far inside `Millis` between two readings.
pub const MAX_RATE: f64 = 1_000_000.0;

/// Checks a rate asked for by a client: a finite number from 1 to `MAX_RATE`.
pub fn check_rate(rate: f64) -> Result<f64, String> {
    if rate.is_finite() && (1.0..=MAX_RATE).contains(&rate) {
        Ok(rate)
    } else {
        Err("rate must be a number from 1 (real time) to 1000000".into())
    }
}

/// `check_rate` for a command-line value.
pub fn check_rate_arg(text: &str) -> Result<f64, String> {
    check_rate(
        text.trim()
            .parse()
            .map_err(|_| format!("{text:?} is not a number"))?,
    )
}

#[derive(Debug, Default)]
pub struct Clock {
    state: Mutex<ClockState>,
}

#[derive(Debug, Clone, Copy)]
struct ClockState {
    /// Real time plus this, while running at rate 1.
    offset_ms: Millis,
    frozen_at: Option<Millis>,
    /// Virtual milliseconds per real one; kept while frozen, applied when it runs again.
    rate: f64,
    /// While running at a rate other than 1: the monotonic instant the rate took effect and
    /// the virtual time it showed then (a monotonic base, so no wall-clock step moves it back).
    sped_up_from: Option<(Instant, Millis)>,
}

impl Default for ClockState {
    fn default() -> Self {
        ClockState {
            offset_ms: 0,
            frozen_at: None,
            rate: 1.0,
            sped_up_from: None,
        }
    }
}

impl ClockState {
    fn now(&self) -> Millis {
        if let Some(t) = self.frozen_at {
            return t.min(MAX_INSTANT);
        }
        if let Some((since, at)) = self.sped_up_from {
            // f64 holds every instant up to MAX_INSTANT exactly; `as` saturates.
            let elapsed = since.elapsed().as_secs_f64() * 1000.0 * self.rate;
            return ((at as f64) + elapsed).min(MAX_INSTANT as f64) as Millis;
        }
        real_now().saturating_add(self.offset_ms).min(MAX_INSTANT)
    }

    /// Lets the (running) clock go on from `at`, at its rate.
    fn run_from(&mut self, at: Millis) {
        if self.rate == 1.0 {
            self.offset_ms = at - real_now();
            self.sped_up_from = None;
        } else {
            self.sped_up_from = Some((Instant::now(), at));
        }
    }

    /// Shows `to` from now on, frozen or running.
    fn show(&mut self, to: Millis) {
        match self.frozen_at.as_mut() {
            Some(t) => *t = to,
            None => self.run_from(to),
        }
    }
}

impl Clock {
    pub fn now(&self) -> Millis {
        self.state.lock().now()
    }

    pub fn is_frozen(&self) -> bool {
        self.state.lock().frozen_at.is_some()
    }

    /// Virtual milliseconds per real one (1: real time).
    pub fn rate(&self) -> f64 {
        self.state.lock().rate
    }

    /// Runs the clock `rate` times faster than real time from now on (checked by
    /// `check_rate`); a frozen clock stays frozen and runs at that rate once let go.
    pub fn set_rate(&self, rate: f64) -> Result<Millis, String> {
        let rate = check_rate(rate)?;
        let mut s = self.state.lock();
        let now = s.now();
        s.rate = rate;
        if s.frozen_at.is_none() {
            s.run_from(now);
        }
        Ok(now)
    }

    /// Moves the clock forward by `by` milliseconds (negative → error).
    pub fn advance(&self, by: Millis) -> Result<Millis, String> {
        if by < 0 {
            return Err("time never moves backwards: advance must not be negative".into());
        }
        let mut s = self.state.lock();
        let to = s
            .now()
            .checked_add(by)
            .filter(|t| *t <= MAX_INSTANT)
            .ok_or_else(|| past_max("this advance"))?;
        s.show(to);
        Ok(s.now())
    }

    /// Sets the clock to an instant at or after now.
    pub fn set(&self, to: Millis) -> Result<Millis, String> {
        if to > MAX_INSTANT {
            return Err(past_max(&format!("setting {}", iso8601(to))));
        }
        let mut s = self.state.lock();
        let now = s.now();
        if to < now {
            return Err(format!(
                "time never moves backwards: {} is before the run's now ({})",
                iso8601(to),
                iso8601(now)
            ));
        }
        s.show(to);
        Ok(s.now())
    }

    /// What the clock shows, for the journal: (its instant now, frozen, rate).
    pub fn snapshot(&self) -> (Millis, bool, f64) {
        let s = self.state.lock();
        (s.now(), s.frozen_at.is_some(), s.rate)
    }

    /// A clock restored from `snapshot` taken at real time `real_at`: a frozen one shows the
    /// same instant, a running one what it would show now had it kept running (never less
    /// than it showed).
    pub fn restored(now: Millis, frozen: bool, rate: f64, real_at: Millis) -> Clock {
        let rate = check_rate(rate).unwrap_or(1.0);
        let mut s = ClockState {
            rate,
            ..ClockState::default()
        };
        let now = now.clamp(0, MAX_INSTANT);
        if frozen {
            s.frozen_at = Some(now);
        } else {
            let elapsed = real_now().saturating_sub(real_at).max(0) as f64 * rate;
            let at = ((now as f64) + elapsed).min(MAX_INSTANT as f64) as Millis;
            s.run_from(at);
        }
        Clock {
            state: Mutex::new(s),
        }
    }

    /// Shows `now` (frozen there, or running from it at `rate`), whatever the clock showed:
    /// only for a run that nothing has read yet (a run recreated from an export, whose
    /// instant may be earlier than real time by now).
    pub fn restore(&self, now: Millis, frozen: bool, rate: f64) -> Result<(), String> {
        let rate = check_rate(rate)?;
        if !(0..=MAX_INSTANT).contains(&now) {
            return Err(format!(
                "a clock instant is from 1970 to {}",
                iso8601(MAX_INSTANT)
            ));
        }
        let mut s = self.state.lock();
        s.rate = rate;
        s.frozen_at = frozen.then_some(now);
        if !frozen {
            s.run_from(now);
        }
        Ok(())
    }

    /// Freezes the clock at its current instant, or lets it run again from there.
    pub fn freeze(&self, frozen: bool) -> Millis {
        let mut s = self.state.lock();
        let now = s.now();
        match (frozen, s.frozen_at) {
            (true, None) => s.frozen_at = Some(now),
            (false, Some(at)) => {
                s.frozen_at = None;
                s.run_from(at);
            }
            _ => {}
        }
        now
    }
}

/// Parses durations like `8d`, `36h`, `1d12h`, `90m`, `30s` into milliseconds.
pub fn parse_duration(text: &str) -> Result<Millis, String> {
    let t = text.trim();
    let (negative, t) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t),
    };
    let mut total: Millis = 0;
    let mut digits = String::new();
    for c in t.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let unit = match c {
            's' => 1_000,
            'm' => 60_000,
            'h' => 3_600_000,
            'd' => DAY_MS,
            _ => {
                return Err(format!(
                    "bad duration {text:?}: use s, m, h, d, e.g. \"1d12h\""
                ))
            }
        };
        let n: Millis = digits
            .parse()
            .map_err(|_| format!("bad duration {text:?}: a number must come before each unit"))?;
        total = n
            .checked_mul(unit)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(|| format!("duration {text:?} is too large"))?;
        digits.clear();
    }
    if !digits.is_empty() || t.is_empty() {
        return Err(format!(
            "bad duration {text:?}: every number needs a unit (s, m, h, d)"
        ));
    }
    if negative {
        return Err("time never moves backwards: advance must not be negative".into());
    }
    Ok(total)
}

/// Parses an RFC 3339 instant (`2027-01-01T00:00:00Z`).
pub fn parse_rfc3339(text: &str) -> Option<Millis> {
    let t =
        time::OffsetDateTime::parse(text.trim(), &time::format_description::well_known::Rfc3339)
            .ok()?;
    Some((t.unix_timestamp_nanos() / 1_000_000) as Millis)
}

/// The first UTC midnight at or after `t` (S3 rounds lifecycle times up to midnight).
pub fn next_midnight(t: Millis) -> Millis {
    let rem = t.rem_euclid(DAY_MS);
    if rem == 0 {
        t
    } else {
        t.saturating_sub(rem).saturating_add(DAY_MS)
    }
}

pub fn real_now() -> Millis {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// `2026-11-23T10:33:14.000Z`, the timestamp format of S3's XML bodies (total over `Millis`).
pub fn iso8601(ms: Millis) -> String {
    let mut out = String::with_capacity(24);
    iso8601_into(&mut out, ms);
    out
}

/// `iso8601` appended to `out`. Years 0–9999 (every instant a run's clock shows) are written
/// digit by digit: a listing writes one per key, and `format!` cost ~3,000 instructions each.
pub fn iso8601_into(out: &mut String, ms: Millis) {
    let (y, mo, d, h, mi, s) = civil(ms.div_euclid(1000));
    let Ok(y @ 0..=9999) = u32::try_from(y) else {
        use std::fmt::Write;
        let _ = write!(
            out,
            "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{:03}Z",
            ms.rem_euclid(1000)
        );
        return;
    };
    let frac = ms.rem_euclid(1000) as u32;
    let digit = |n: u32| b'0' + (n % 10) as u8;
    let mut buf = *b"0000-00-00T00:00:00.000Z";
    for (at, n) in [
        (3, y),
        (6, mo),
        (9, d),
        (12, h),
        (15, mi),
        (18, s),
        (22, frac),
    ] {
        buf[at] = digit(n);
        buf[at - 1] = digit(n / 10);
    }
    buf[0] = digit(y / 1000);
    buf[1] = digit(y / 100);
    buf[20] = digit(frac / 100);
    out.push_str(std::str::from_utf8(&buf).unwrap_or_default());
}

/// `2026-11-23T10:33:14.000Z`: S3's XML bodies show whole seconds (the milliseconds are always
/// `.000`), the same instant as the second-precision `Last-Modified` header and conditionals.
pub fn xml_timestamp(ms: Millis) -> String {
    iso8601(xml_second(ms))
}

/// `xml_timestamp` appended to `out`.
pub fn xml_timestamp_into(out: &mut String, ms: Millis) {
    iso8601_into(out, xml_second(ms))
}

fn xml_second(ms: Millis) -> Millis {
    ms.div_euclid(1000).saturating_mul(1000)
}

/// `Mon, 23 Nov 2026 10:33:14 GMT`, the HTTP date format of headers. Total: instants outside
/// years 0–9999 are clamped to them (a formatter that panics would be reachable by clients).
pub fn http_date(ms: Millis) -> String {
    http_date_bytes(ms).iter().map(|&b| b as char).collect()
}

/// `http_date` as its 29 ASCII bytes, without a formatter or an allocation: every response
/// carries one (`Date`), every object answer two (`Last-Modified`).
pub fn http_date_bytes(ms: Millis) -> [u8; 29] {
    const DAYS: [&[u8; 3]; 7] = [b"Thu", b"Fri", b"Sat", b"Sun", b"Mon", b"Tue", b"Wed"];
    const MONTHS: [&[u8; 3]; 12] = [
        b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov",
        b"Dec",
    ];
    // 0000-01-01T00:00:00Z .. 9999-12-31T23:59:59Z
    let secs = ms
        .div_euclid(1000)
        .clamp(-62_167_219_200, MAX_INSTANT / 1000);
    let (y, mo, d, h, mi, s) = civil(secs);
    let weekday = DAYS[secs.div_euclid(86_400).rem_euclid(7) as usize];
    let month = MONTHS[(mo as usize).saturating_sub(1).min(11)];
    let digit = |n: u32| b'0' + (n % 10) as u8;
    let y = y.clamp(0, 9999) as u32;
    let mut out = *b"Thu, 01 Jan 1970 00:00:00 GMT";
    out[0..3].copy_from_slice(weekday);
    out[5] = digit(d / 10);
    out[6] = digit(d);
    out[8..11].copy_from_slice(month);
    out[12] = digit(y / 1000);
    out[13] = digit(y / 100);
    out[14] = digit(y / 10);
    out[15] = digit(y);
    out[17] = digit(h / 10);
    out[18] = digit(h);
    out[20] = digit(mi / 10);
    out[21] = digit(mi);
    out[23] = digit(s / 10);
    out[24] = digit(s);
    out
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
    fn iso8601_matches_the_formatted_text() {
        let formatted = |ms: Millis| {
            let (y, mo, d, h, mi, s) = civil(ms.div_euclid(1000));
            format!(
                "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{:03}Z",
                ms.rem_euclid(1000)
            )
        };
        let mut at: Vec<Millis> = vec![
            0,
            -1,
            1,
            999,
            MAX_INSTANT,
            MAX_INSTANT + 1,
            -62_167_219_200_000,
        ];
        at.extend([-62_167_219_200_001, i64::MIN / 4, i64::MAX / 4]);
        // A spread of instants across years 0–9999 and beyond, milliseconds included.
        let mut x: i64 = 0x2545_f491_4f6c_dd1d;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            at.push(x.rem_euclid(2 * MAX_INSTANT) - MAX_INSTANT / 2);
        }
        for ms in at {
            assert_eq!(iso8601(ms), formatted(ms), "{ms}");
            assert_eq!(xml_timestamp(ms), formatted(xml_second(ms)), "{ms}");
        }
    }

    #[test]
    fn http_dates_match_the_formatted_text() {
        let formatted = |ms: Millis| {
            httpdate::fmt_http_date(UNIX_EPOCH + std::time::Duration::from_millis(ms as u64))
        };
        for ms in [
            0,
            1_764_547_200_123,
            951_782_400_000,
            4_102_444_799_999,
            253_402_300_799_000,
        ] {
            assert_eq!(http_date(ms), formatted(ms), "{ms}");
        }
        assert_eq!(
            http_date(-62_167_219_200_000),
            "Sat, 01 Jan 0000 00:00:00 GMT"
        );
        assert_eq!(http_date(i64::MAX), http_date(MAX_INSTANT));
    }

    #[test]
    fn durations_and_rounding() {
        assert_eq!(parse_duration("8d"), Ok(8 * DAY_MS));
        assert_eq!(parse_duration("1d12h"), Ok(DAY_MS + 12 * 3_600_000));
        assert_eq!(parse_duration("90m30s"), Ok(90 * 60_000 + 30_000));
        assert!(parse_duration("-3d").is_err());
        assert!(parse_duration("3").is_err());
        assert!(parse_duration("3w").is_err());
        assert!(parse_duration("").is_err());
        assert!(parse_duration(&"-".repeat(1_000_000)).is_err());
        assert!(parse_duration("106751991167301d").is_err());
        assert_eq!(next_midnight(DAY_MS), DAY_MS);
        assert_eq!(next_midnight(DAY_MS + 1), 2 * DAY_MS);
        assert_eq!(parse_rfc3339("1970-01-02T00:00:00Z"), Some(DAY_MS));
    }

    #[test]
    fn clock_moves_forward_only_and_freezes() {
        let c = Clock::default();
        let t0 = c.freeze(true);
        assert!(c.is_frozen());
        assert_eq!(c.now(), t0);
        assert_eq!(c.advance(DAY_MS), Ok(t0 + DAY_MS));
        assert!(c.set(t0).is_err());
        assert_eq!(c.now(), t0 + DAY_MS);
        assert_eq!(c.set(t0 + 2 * DAY_MS), Ok(t0 + 2 * DAY_MS));
        assert!(c.advance(-1).is_err());
        assert!(c.advance(Millis::MAX).is_err());
        assert!(c.set(MAX_INSTANT + 1).is_err());
        assert_eq!(c.set(MAX_INSTANT), Ok(MAX_INSTANT));
        assert!(c.advance(1).is_err());
        assert_eq!(c.now(), MAX_INSTANT);
        c.freeze(false);
        assert!(c.now() >= t0 + 2 * DAY_MS);
    }

    #[test]
    fn rate_speeds_the_clock_up_and_never_past_the_end() {
        let c = Clock::default();
        assert_eq!(c.rate(), 1.0);
        for bad in [0.0, 0.5, -1.0, f64::NAN, f64::INFINITY, MAX_RATE * 2.0] {
            assert!(c.set_rate(bad).is_err(), "{bad}");
        }
        let t0 = c.set_rate(MAX_RATE).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        // 20 ms real at a million times is at least 5.5 virtual hours.
        assert!(c.now() >= t0 + 20_000_000, "{} {}", c.now(), t0);
        // Freezing stops it; the rate is kept for when it runs again.
        let f = c.freeze(true);
        std::thread::sleep(std::time::Duration::from_millis(5));
        assert_eq!(c.now(), f);
        assert_eq!(c.set_rate(8640.0), Ok(f));
        assert_eq!(c.now(), f);
        c.freeze(false);
        assert!(c.now() >= f);
        // Back to real time, from where the sped-up clock had got to.
        let back = c.now();
        c.set_rate(1.0).unwrap();
        assert!(c.now() >= back);
        // At the end of the range it stays there.
        c.set(MAX_INSTANT - 1).unwrap();
        c.set_rate(MAX_RATE).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(2));
        assert_eq!(c.now(), MAX_INSTANT);
        assert!(c.advance(1).is_err());
    }

    #[test]
    fn formats_known_instants() {
        // 2026-11-23T10:33:14.250Z
        let ms = 1_795_429_994_250;
        assert_eq!(iso8601(ms), "2026-11-23T10:33:14.250Z");
        assert_eq!(xml_timestamp(ms), "2026-11-23T10:33:14.000Z");
        let _ = xml_timestamp(Millis::MIN);
        assert_eq!(xml_timestamp(MAX_INSTANT), "9999-12-31T23:59:59.000Z");
        assert_eq!(http_date(ms), "Mon, 23 Nov 2026 10:33:14 GMT");
        assert_eq!(
            parse_http_date("Mon, 23 Nov 2026 10:33:14 GMT"),
            Some(ms - 250)
        );
        assert_eq!(iso8601(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(http_date(951_782_400_000), "Tue, 29 Feb 2000 00:00:00 GMT");
        assert_eq!(http_date(MAX_INSTANT), "Fri, 31 Dec 9999 23:59:59 GMT");
        assert_eq!(http_date(Millis::MAX), http_date(MAX_INSTANT));
        assert_eq!(http_date(Millis::MIN), "Sat, 01 Jan 0000 00:00:00 GMT");
        assert_eq!(iso8601(MAX_INSTANT), "9999-12-31T23:59:59.999Z");
        let _ = iso8601(Millis::MIN);
        let _ = iso8601(Millis::MAX);
        assert_eq!(iso8601(951_782_400_000), "2000-02-29T00:00:00.000Z");
    }
}
