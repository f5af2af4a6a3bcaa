//! `--max-memory`: above the limit, requests that would store more answer 503 `SlowDown`
//! instead of the process growing until the OS kills it (and every run's data with it).
//! Reads, deletes and the admin API keep working, so a test can clean up and carry on.
//!
//! The resident size is sampled off the request path (every 100 ms, from /proc on Linux);
//! a request only compares two numbers.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

pub const SAMPLE_EVERY: Duration = Duration::from_millis(100);

#[derive(Debug)]
pub struct MemoryGuard {
    limit: u64,
    resident: AtomicU64,
}

impl MemoryGuard {
    pub fn new(limit: u64) -> Self {
        let guard = MemoryGuard {
            limit,
            resident: AtomicU64::new(0),
        };
        guard.sample();
        guard
    }

    /// Re-reads the process's resident size.
    pub fn sample(&self) {
        if let Some(rss) = resident_bytes() {
            self.resident.store(rss, Ordering::Relaxed);
        }
    }

    /// Whether storing `incoming` more bytes would cross the limit.
    pub fn refuses(&self, incoming: u64) -> bool {
        self.resident
            .load(Ordering::Relaxed)
            .saturating_add(incoming)
            > self.limit
    }

    pub fn limit(&self) -> u64 {
        self.limit
    }

    pub fn resident(&self) -> u64 {
        self.resident.load(Ordering::Relaxed)
    }
}

/// The process's resident set size in bytes (`VmRSS`), where the OS tells it.
pub fn resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    kib.checked_mul(1024)
}

/// Parses sizes like `512MiB`, `2GiB`, `1.5G`, `800M`, `1048576` (bytes).
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num
        .parse()
        .map_err(|_| format!("bad size {text:?}: use e.g. 512MiB or 2GiB"))?;
    let scale: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        "t" | "tb" | "tib" => 1 << 40,
        _ => {
            return Err(format!(
                "bad size unit in {text:?}: use B, KiB, MiB, GiB or TiB"
            ))
        }
    };
    let bytes = n * scale as f64;
    if !bytes.is_finite() || bytes < 1.0 || bytes > u64::MAX as f64 {
        return Err(format!("size {text:?} is out of range"));
    }
    Ok(bytes as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("512MiB"), Ok(512 << 20));
        assert_eq!(parse_size("2G"), Ok(2 << 30));
        assert_eq!(parse_size("1.5GiB"), Ok(3 << 29));
        assert_eq!(parse_size("4096"), Ok(4096));
        assert!(parse_size("-1G").is_err());
        assert!(parse_size("0").is_err());
        assert!(parse_size("1e400").is_err());
        assert!(parse_size("12 parsecs").is_err());
        let g = MemoryGuard::new(u64::MAX);
        assert!(!g.refuses(1 << 40));
        let g = MemoryGuard::new(1);
        assert!(resident_bytes().is_none() || g.refuses(0));
    }
}
