//! The fuzz targets of `s3twin::fuzz` on stable: each one runs on random inputs from a seeded
//! generator until its time budget is spent (`S3TWIN_FUZZ_SECS` seconds per target, default
//! 3; `S3TWIN_FUZZ_SEED` replays a run). The targets decode the bytes themselves: a first
//! byte or a few selects between raw input and their structured generators (valid-ish XML,
//! aws-chunked framings split at random points, well-formed lifecycle documents, seeds, admin
//! request sequences), so uniform random bytes reach deep states too.
//!
//! A failure prints the target, the seed and the input in hex;
//! `S3TWIN_FUZZ_REPLAY=<target>:<hex> cargo test --test fuzz_props <target>` runs that input
//! alone.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

/// splitmix64: small, seedable, good enough to drive the targets.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    /// Random bytes, mostly short, sometimes a few KiB; sometimes from a small alphabet of
    /// bytes that parsers care about.
    fn input(&mut self) -> Vec<u8> {
        let len = match self.below(8) {
            0 => self.below(8),
            1..=4 => self.below(256),
            5 | 6 => self.below(1024),
            _ => self.below(4096),
        } as usize;
        let alphabet: &[u8] = match self.below(4) {
            0 => b"<>/&;#x0123456789abcdefABCDEF\r\n:=-, \"'?!t",
            _ => &[],
        };
        (0..len)
            .map(|_| {
                if alphabet.is_empty() {
                    self.next() as u8
                } else {
                    alphabet[self.below(alphabet.len() as u64) as usize]
                }
            })
            .collect()
    }
}

fn budget() -> Duration {
    let secs = std::env::var("S3TWIN_FUZZ_SECS")
        .ok()
        .and_then(|s| s.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s >= 0.0)
        .unwrap_or(3.0);
    Duration::from_secs_f64(secs)
}

fn base_seed() -> u64 {
    std::env::var("S3TWIN_FUZZ_SEED")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64)
        })
}

fn hex(data: &[u8]) -> String {
    data.iter().map(|b| format!("{b:02x}")).collect()
}

/// Runs `name` until the budget is spent (and at least a few cases).
fn drive(name: &str) {
    let (_, target) = s3twin::fuzz::TARGETS
        .iter()
        .find(|(n, _)| *n == name)
        .unwrap_or_else(|| panic!("no fuzz target {name}"));
    // `S3TWIN_FUZZ_REPLAY=<target>:<hex>` runs one input (as a failure prints it).
    if let Ok(replay) = std::env::var("S3TWIN_FUZZ_REPLAY") {
        if let Some((t, input)) = replay.trim().split_once(':') {
            if t == name {
                let data: Vec<u8> = (0..input.len() / 2)
                    .map(|i| u8::from_str_radix(&input[2 * i..2 * i + 2], 16).expect("hex input"))
                    .collect();
                target(&data);
            }
            return;
        }
    }
    let base = base_seed();
    let mut rng = Rng(base ^ name.bytes().fold(0u64, |h, b| h.rotate_left(5) ^ b as u64));
    let deadline = Instant::now() + budget();
    let mut cases = 0u64;
    while cases < 16 || Instant::now() < deadline {
        let data = rng.input();
        if catch_unwind(AssertUnwindSafe(|| target(&data))).is_err() {
            panic!(
                "fuzz target {name} failed (S3TWIN_FUZZ_SEED={base}, case {cases}); input: {}",
                hex(&data)
            );
        }
        cases += 1;
    }
    eprintln!("fuzz target {name}: {cases} cases");
}

macro_rules! targets {
    ($($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                drive(stringify!($name));
            }
        )*

        #[test]
        fn every_target_is_driven() {
            let driven = [$(stringify!($name)),*];
            for (name, _) in s3twin::fuzz::TARGETS {
                assert!(driven.contains(name), "fuzz target {name} has no test");
            }
        }
    };
}

targets!(
    xml,
    aws_chunked,
    aws_chunked_framed,
    request_body,
    range,
    dates,
    conditional,
    query,
    addressing,
    duration,
    seed_json,
    seed_bytes,
    admin,
    lifecycle_parse,
    lifecycle_run,
    request_headers,
    notification_parse,
    post_policy,
    auth,
);

/// Found by `lifecycle_run`: a due time that overflows `i64` saturates to `Millis::MAX`, which
/// an explicit `now` of `i64::MAX` used to reach, aborting uploads (and expiring noncurrent
/// versions) that are never due.
#[test]
fn regression_saturated_due_time_is_never_reached() {
    use s3twin::store::{Body, ConfigKind, Object, Store, Versioning};
    let store = Store::new();
    let run = store.run("fuzz");
    run.create_bucket("fuzz-bucket", "us-east-1");
    let bucket = run.bucket("fuzz-bucket").expect("bucket");
    let doc = "<LifecycleConfiguration><Rule><ID>r</ID><Status>Enabled</Status>\
        <Filter><Prefix></Prefix></Filter>\
        <NoncurrentVersionExpiration><NoncurrentDays>2147483647</NoncurrentDays></NoncurrentVersionExpiration>\
        <AbortIncompleteMultipartUpload><DaysAfterInitiation>2147483647</DaysAfterInitiation></AbortIncompleteMultipartUpload>\
        </Rule></LifecycleConfiguration>";
    s3twin::api::validate_lifecycle_doc(doc).expect("valid document");
    bucket.set_config(ConfigKind::Lifecycle, Some(doc.to_string()));
    bucket.set_versioning(Versioning::Enabled, None);
    let late = i64::MAX - 1_000 * 86_400_000;
    for _ in 0..2 {
        bucket
            .put(Object::new("k", Body::default(), "", late))
            .expect("put");
    }
    bucket
        .create_upload(
            Object::new("k", Body::default(), "", late),
            None,
            s3twin::checksum::ChecksumType::FullObject,
            late,
        )
        .expect("upload");
    let report = s3twin::lifecycle::run_due(&run, i64::MAX);
    assert_eq!(report.uploads_aborted, 0);
    assert_eq!(report.noncurrent_removed, 0);
    assert_eq!(bucket.uploads().len(), 1);
}
