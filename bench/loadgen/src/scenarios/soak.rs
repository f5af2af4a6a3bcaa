//! The soak: `soak_conns` connections run a mix of S3 operations for `soak_time`, every answer
//! checked against a model of what each key should hold; then every bucket is listed and every
//! object read back and compared byte for byte, and everything is deleted to see how much
//! memory the server gives back. s3twin only: it checks s3twin, it compares nothing.
//!
//! The model stays exact because each key has one writer at a time: the keys are split into
//! ranges, one per connection, and the ranges move on to the next connection every epoch (one
//! second; every connection has finished its epoch before the next one starts), so over the run
//! every key is overwritten from many connections. Reads cross ranges only where the answer is
//! known: a set of read-only objects, and a few hot keys every connection overwrites at once,
//! where a read must return one of the writes that no other write had certainly replaced
//! before the read began.

use super::{check_alive, client_cpu, once, say, start, target, Bench, Cell, Sheet, MIB};
use crate::client::{encode, pattern, xml_value, Answer, Conn, Keep, ReqBody, Target};
use crate::digest::{b64, crc32, hex, md5};
use crate::peers::{rss_of, Peer};
use bytes::Bytes;
use http::Method;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const BUCKETS: [&str; 3] = ["soak-0", "soak-1", "soak-2"];
/// Read-only objects, `soak-0/fixed/NNN`, written before the load starts.
const FIXED: usize = 32;
/// Keys every connection overwrites at once, `soak-1/hot/N`; every write is `HOT_SIZE` bytes.
const HOT: usize = 8;
const HOT_SIZE: usize = 8 << 10;
/// Largest PUT body; a multipart upload has two parts of at most `PART_MAX`.
const MAX_SIZE: usize = 256 << 10;
const PART_MAX: usize = 128 << 10;
/// How long a connection keeps one key range.
const EPOCH: Duration = Duration::from_secs(1);
/// The sub-prefixes of a range (`rNN/a/…`); every fourth key sits directly under `rNN/`.
const SUBS: [&str; 3] = ["a", "b", "c"];

fn range_bucket(r: usize) -> &'static str {
    BUCKETS[r % BUCKETS.len()]
}

fn range_prefix(r: usize) -> String {
    format!("r{r:02}/")
}

fn range_key(r: usize, i: usize) -> String {
    match i % 4 {
        3 => format!("r{r:02}/k{i:03}"),
        s => format!("r{r:02}/{}/{i:03}", SUBS[s]),
    }
}

fn fixed_key(j: usize) -> String {
    format!("fixed/{j:03}")
}

fn hot_key(h: usize) -> String {
    format!("hot/{h}")
}

/// What a key holds: pattern segments (one for a PUT, two for a multipart upload) and the
/// ETag the server gave it.
#[derive(Debug, Clone)]
struct Content {
    segs: Vec<(u64, usize)>,
    etag: String,
}

impl Content {
    fn len(&self) -> usize {
        self.segs.iter().map(|s| s.1).sum()
    }

    fn bytes(&self) -> Bytes {
        match self.segs.as_slice() {
            [(seed, len)] => pattern(*len, *seed),
            segs => {
                let mut v = Vec::with_capacity(self.len());
                for (seed, len) in segs {
                    v.extend_from_slice(&pattern(*len, *seed));
                }
                v.into()
            }
        }
    }
}

/// One PUT of a hot key: its body's MD5, when it was sent, when its answer came back.
#[derive(Debug)]
struct HotWrite {
    md5: [u8; 16],
    sent: Instant,
    acked: Option<Instant>,
}

/// Whether a read of a hot key that began at `began` and ended at `ended` may have answered
/// the body with MD5 `got`: it must be a write sent before the read ended that no other write
/// certainly replaced (sent after it was acknowledged, acknowledged itself) before the read
/// began. With `began` = `ended` = after the load, that is the key's final value.
fn check_hot(
    writes: &[HotWrite],
    got: &[u8; 16],
    began: Instant,
    ended: Instant,
) -> Result<(), String> {
    let Some(w) = writes.iter().find(|w| &w.md5 == got) else {
        return Err("the body is none of the writes to this key".into());
    };
    if w.sent > ended {
        return Err("the body is a write sent after the read ended".into());
    }
    if let Some(acked) = w.acked {
        let replaced = writes
            .iter()
            .filter(|q| q.sent > acked)
            .filter_map(|q| q.acked)
            .filter(|t| *t < began)
            .min();
        if let Some(t) = replaced {
            return Err(format!(
                "stale: that write was replaced by one acknowledged {:.2} ms before the read began",
                (began - t).as_secs_f64() * 1000.0
            ));
        }
    }
    Ok(())
}

/// What every connection shares: the ranges' models, the read-only objects, the hot keys'
/// writes, and the run's counters.
struct Shared {
    keys_per_range: usize,
    /// Per range, what each present key holds (a connection takes its range out for an epoch).
    ranges: Vec<Mutex<BTreeMap<String, Content>>>,
    fixed: Vec<Content>,
    hot: Vec<Mutex<Vec<HotWrite>>>,
    /// Bytes stored as acknowledged, and the most there ever were.
    bytes: AtomicI64,
    peak: AtomicI64,
    next_seed: AtomicU64,
    /// Set at the first problem: every connection stops.
    stop: AtomicBool,
    problems: Mutex<Vec<Cell>>,
}

/// splitmix64: the workload's own random numbers, one stream per connection.
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

    /// A body size in 0..=max, with the edges (0, a few bytes, max) more often than chance.
    fn size(&mut self, max: usize) -> usize {
        match self.below(16) {
            0 => 0,
            1 => self.below(64) as usize,
            2 => max,
            _ => self.below(max as u64 + 1) as usize,
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    Put,
    PutBadDigest,
    Get,
    GetRange,
    Head,
    ReadFixed,
    Delete,
    DeleteObjects,
    List,
    ListDelimiter,
    ListFixed,
    Copy,
    Multipart,
    MultipartAbort,
    HotPut,
    HotGet,
}

/// The operation mix: what, its name in the JSON, its share in percent.
const MIX: [(Kind, &str, u64); 16] = [
    (Kind::Put, "PutObject", 26),
    (Kind::PutBadDigest, "PutObject with a wrong digest", 2),
    (Kind::Get, "GetObject", 12),
    (Kind::GetRange, "GetObject with Range", 8),
    (Kind::Head, "HeadObject", 8),
    (Kind::ReadFixed, "GET/Range/HEAD of read-only objects", 6),
    (Kind::Delete, "DeleteObject", 6),
    (Kind::DeleteObjects, "DeleteObjects", 3),
    (Kind::List, "ListObjectsV2 by prefix, paginated", 5),
    (
        Kind::ListDelimiter,
        "ListObjectsV2 with delimiter, paginated",
        2,
    ),
    (Kind::ListFixed, "ListObjectsV2 of read-only objects", 1),
    (Kind::Copy, "CopyObject", 6),
    (Kind::Multipart, "multipart upload, 2 parts, completed", 3),
    (Kind::MultipartAbort, "multipart upload, aborted", 2),
    (Kind::HotPut, "PutObject of a hot key", 5),
    (Kind::HotGet, "GetObject of a hot key", 5),
];

fn expect(a: &Answer, status: u16, code: Option<&str>, what: &str) -> Result<(), Cell> {
    let code_ok = code.is_none_or(|c| xml_value(&a.text(), "Code").as_deref() == Some(c));
    if a.status.as_u16() == status && code_ok {
        return Ok(());
    }
    let want = match code {
        Some(c) => format!("{status} {c}"),
        None => status.to_string(),
    };
    Err(Cell::Invalid(format!(
        "{what} answered {}, expected {want}",
        a.describe()
    )))
}

fn wrong(what: &str, msg: impl std::fmt::Display) -> Cell {
    Cell::Invalid(format!("{what}: {msg}"))
}

fn check_etag(a: &Answer, want: &Content, what: &str) -> Result<(), Cell> {
    match a.header("etag") {
        Some(e) if e == want.etag => Ok(()),
        got => Err(wrong(
            what,
            format!(
                "ETag {got:?}, expected {} (the last acknowledged)",
                want.etag
            ),
        )),
    }
}

/// Checks a GET's answer against what the key holds: every byte, and the ETag.
fn check_body(a: &Answer, want: &Content, what: &str) -> Result<(), Cell> {
    let body = want.bytes();
    if a.body != body {
        let at = a
            .body
            .iter()
            .zip(body.iter())
            .position(|(x, y)| x != y)
            .unwrap_or(a.body.len().min(body.len()));
        return Err(wrong(
            what,
            format!(
                "the body ({} bytes) is not the last acknowledged write ({} bytes); first difference at byte {at}",
                a.body.len(),
                body.len()
            ),
        ));
    }
    check_etag(a, want, what)
}

/// One key of a listing: name, size, ETag.
type Entry = (String, u64, String);

fn parse_listing(text: &str, entries: &mut Vec<Entry>, prefixes: &mut Vec<String>) {
    for block in text.split("<Contents>").skip(1) {
        let block = block.split("</Contents>").next().unwrap_or("");
        entries.push((
            xml_value(block, "Key").unwrap_or_default(),
            xml_value(block, "Size")
                .and_then(|s| s.parse().ok())
                .unwrap_or(u64::MAX),
            xml_value(block, "ETag").unwrap_or_default(),
        ));
    }
    for block in text.split("<CommonPrefixes>").skip(1) {
        prefixes.push(xml_value(block, "Prefix").unwrap_or_default());
    }
}

/// Every page of the ListObjectsV2 `query` (`&prefix=…&max-keys=…`) of `bucket`, following
/// the continuation tokens: the keys and the common prefixes, in the order they came.
async fn list_pages(
    c: &mut Conn,
    bucket: &str,
    query: &str,
    max_pages: usize,
    requests: &mut u64,
) -> Result<(Vec<Entry>, Vec<String>), Cell> {
    let (mut entries, mut prefixes) = (Vec::new(), Vec::new());
    let mut token: Option<String> = None;
    for _ in 0..max_pages {
        let mut path = format!("/{bucket}?list-type=2{query}");
        if let Some(t) = &token {
            path.push_str(&format!("&continuation-token={}", encode(t)));
        }
        *requests += 1;
        let a = c
            .get(&path, Keep::Body)
            .await
            .map_err(|e| Cell::Failed(format!("GET {path}: {e}")))?;
        expect(&a, 200, None, &format!("GET {path}"))?;
        let text = a.text();
        parse_listing(&text, &mut entries, &mut prefixes);
        if xml_value(&text, "IsTruncated").as_deref() != Some("true") {
            return Ok((entries, prefixes));
        }
        token = Some(
            xml_value(&text, "NextContinuationToken")
                .filter(|t| !t.is_empty())
                .ok_or_else(|| {
                    wrong(
                        &format!("GET {path}"),
                        "truncated page without NextContinuationToken",
                    )
                })?,
        );
    }
    Err(Cell::Invalid(format!(
        "ListObjectsV2 of /{bucket}?list-type=2{query}: more than {max_pages} pages"
    )))
}

/// Where a listing differs from the model.
fn listing_diff(got: &[Entry], want: &[Entry]) -> String {
    let i = got
        .iter()
        .zip(want)
        .position(|(g, w)| g != w)
        .unwrap_or(got.len().min(want.len()));
    format!(
        "listed {} keys, the model has {}; first difference at #{i}: listed {:?}, expected {:?}",
        got.len(),
        want.len(),
        got.get(i),
        want.get(i)
    )
}

fn delete_doc(keys: &[String]) -> Bytes {
    let mut doc = String::from("<Delete>");
    for k in keys {
        doc.push_str(&format!("<Object><Key>{k}</Key></Object>"));
    }
    doc.push_str("</Delete>");
    doc.into()
}

/// Checks a DeleteObjects answer: every key reported deleted, no errors.
fn check_deleted(a: &Answer, keys: &[String], what: &str) -> Result<(), Cell> {
    expect(a, 200, None, what)?;
    let text = a.text();
    if let Some(e) = text.split("<Error>").nth(1) {
        return Err(wrong(
            what,
            format!(
                "error for key {:?}: {:?}",
                xml_value(e, "Key").unwrap_or_default(),
                xml_value(e, "Code").unwrap_or_default()
            ),
        ));
    }
    let deleted: BTreeSet<String> = text
        .split("<Deleted>")
        .skip(1)
        .filter_map(|d| xml_value(d, "Key"))
        .collect();
    let asked: BTreeSet<String> = keys.iter().cloned().collect();
    if deleted != asked {
        return Err(wrong(
            what,
            format!("{} of {} keys reported deleted", deleted.len(), asked.len()),
        ));
    }
    Ok(())
}

/// Where a copy's source is and what the copy should do.
enum Source {
    /// The destination itself, with nothing changed: 400 InvalidRequest.
    Itself,
    /// A key with nothing in it: 404 NoSuchKey.
    Absent,
    Holds(Content),
}

/// One connection.
struct Worker {
    sh: Arc<Shared>,
    conn: Conn,
    rng: Rng,
    requests: u64,
    /// The range this connection writes in this epoch, and its model, taken from `Shared`.
    range: usize,
    keys: BTreeMap<String, Content>,
}

impl Worker {
    fn seed(&self) -> u64 {
        self.sh.next_seed.fetch_add(1, Ordering::Relaxed)
    }

    fn bucket(&self) -> &'static str {
        range_bucket(self.range)
    }

    fn path(&self, key: &str) -> String {
        format!("/{}/{key}", self.bucket())
    }

    fn pick_key(&mut self) -> String {
        let i = self.rng.below(self.sh.keys_per_range as u64) as usize;
        range_key(self.range, i)
    }

    /// A key of this range that holds something (and, if `nonempty`, at least one byte).
    fn pick_present(&mut self, nonempty: bool) -> Option<(String, Content)> {
        let held: Vec<(&String, &Content)> = self
            .keys
            .iter()
            .filter(|(_, c)| !nonempty || c.len() > 0)
            .collect();
        if held.is_empty() {
            return None;
        }
        let (k, c) = held[self.rng.below(held.len() as u64) as usize];
        Some((k.clone(), c.clone()))
    }

    fn pick_fixed(&mut self) -> (String, Content) {
        let j = self.rng.below(FIXED as u64) as usize;
        (
            format!("/{}/{}", BUCKETS[0], fixed_key(j)),
            self.sh.fixed[j].clone(),
        )
    }

    /// Records what `key` now holds (`None`: nothing) and keeps the data-set size.
    fn store(&mut self, key: String, content: Option<Content>) {
        let new = content.as_ref().map_or(0, |c| c.len() as i64);
        let old = match content {
            Some(c) => self.keys.insert(key, c),
            None => self.keys.remove(&key),
        }
        .map_or(0, |c| c.len() as i64);
        let now = self.sh.bytes.fetch_add(new - old, Ordering::Relaxed) + new - old;
        self.sh.peak.fetch_max(now, Ordering::Relaxed);
    }

    async fn send(
        &mut self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Bytes,
    ) -> Result<Answer, Cell> {
        self.requests += 1;
        self.conn
            .request(
                method.clone(),
                path,
                headers,
                &|| {
                    if body.is_empty() {
                        ReqBody::Empty
                    } else {
                        ReqBody::Full(Some(body.clone()))
                    }
                },
                Keep::Body,
            )
            .await
            .map_err(|e| Cell::Failed(format!("{method} {path}: {e}")))
    }

    async fn run(&mut self, kind: Kind) -> Result<(), Cell> {
        match kind {
            Kind::Put => self.put().await,
            Kind::PutBadDigest => self.put_bad_digest().await,
            Kind::Get => {
                let key = self.pick_key();
                let want = self.keys.get(&key).cloned();
                self.check_get(&self.path(&key), want.as_ref()).await
            }
            Kind::GetRange => match self.pick_present(true) {
                Some((key, c)) => self.check_range(&self.path(&key), &c).await,
                None => {
                    let key = self.pick_key();
                    let want = self.keys.get(&key).cloned();
                    self.check_get(&self.path(&key), want.as_ref()).await
                }
            },
            Kind::Head => {
                let key = self.pick_key();
                let want = self.keys.get(&key).cloned();
                self.check_head(&self.path(&key), want.as_ref()).await
            }
            Kind::ReadFixed => {
                let (path, c) = self.pick_fixed();
                match self.rng.below(3) {
                    0 => self.check_get(&path, Some(&c)).await,
                    1 if c.len() > 0 => self.check_range(&path, &c).await,
                    _ => self.check_head(&path, Some(&c)).await,
                }
            }
            Kind::Delete => {
                let key = self.pick_key();
                let path = self.path(&key);
                let a = self.send(Method::DELETE, &path, &[], Bytes::new()).await?;
                expect(&a, 204, None, &format!("DELETE {path}"))?;
                self.store(key, None);
                Ok(())
            }
            Kind::DeleteObjects => self.delete_objects().await,
            Kind::List => self.list().await,
            Kind::ListDelimiter => self.list_delimiter().await,
            Kind::ListFixed => self.list_fixed().await,
            Kind::Copy => self.copy().await,
            Kind::Multipart => self.multipart(false).await,
            Kind::MultipartAbort => self.multipart(true).await,
            Kind::HotPut => self.hot_put().await,
            Kind::HotGet => self.hot_get().await,
        }
    }

    async fn put(&mut self) -> Result<(), Cell> {
        let key = self.pick_key();
        let path = self.path(&key);
        let len = self.rng.size(MAX_SIZE);
        let seed = self.seed();
        let body = pattern(len, seed);
        // A third with Content-MD5, a third with a CRC32, a third with neither.
        let (digest, want_etag) = match self.rng.below(3) {
            0 => (None, None),
            1 => {
                let d = md5(&body);
                (
                    Some(("content-md5", b64(&d))),
                    Some(format!("\"{}\"", hex(&d))),
                )
            }
            _ => (
                Some(("x-amz-checksum-crc32", b64(&crc32(&body).to_be_bytes()))),
                None,
            ),
        };
        let mut headers = vec![("content-type", "application/octet-stream")];
        if let Some((name, value)) = &digest {
            headers.push((*name, value.as_str()));
        }
        let what = format!("PUT {path} ({len} bytes)");
        let a = self.send(Method::PUT, &path, &headers, body).await?;
        expect(&a, 200, None, &what)?;
        let etag = a.header("etag").unwrap_or_default().to_string();
        if etag.is_empty() {
            return Err(wrong(&what, "no ETag"));
        }
        if let Some(w) = want_etag.filter(|w| *w != etag) {
            return Err(wrong(&what, format!("ETag {etag}, expected {w} (the MD5)")));
        }
        self.store(
            key,
            Some(Content {
                segs: vec![(seed, len)],
                etag,
            }),
        );
        Ok(())
    }

    /// A PUT whose Content-MD5 or CRC32 is of other bytes: 400 BadDigest, the key unchanged.
    async fn put_bad_digest(&mut self) -> Result<(), Cell> {
        let key = self.pick_key();
        let path = self.path(&key);
        let len = self.rng.size(MAX_SIZE);
        let body = pattern(len, self.seed());
        let other: Vec<u8> = if body.is_empty() {
            b"x".to_vec()
        } else {
            let mut v = body.to_vec();
            v[len / 2] ^= 0x20;
            v
        };
        let (name, value) = if self.rng.below(2) == 0 {
            ("content-md5", b64(&md5(&other)))
        } else {
            ("x-amz-checksum-crc32", b64(&crc32(&other).to_be_bytes()))
        };
        let headers = [
            ("content-type", "application/octet-stream"),
            (name, value.as_str()),
        ];
        let a = self.send(Method::PUT, &path, &headers, body).await?;
        expect(
            &a,
            400,
            Some("BadDigest"),
            &format!("PUT {path} with a wrong {name}"),
        )
    }

    async fn check_get(&mut self, path: &str, want: Option<&Content>) -> Result<(), Cell> {
        let what = format!("GET {path}");
        let a = self.send(Method::GET, path, &[], Bytes::new()).await?;
        match want {
            Some(c) => {
                expect(&a, 200, None, &what)?;
                check_body(&a, c, &what)
            }
            None => expect(&a, 404, Some("NoSuchKey"), &what),
        }
    }

    async fn check_head(&mut self, path: &str, want: Option<&Content>) -> Result<(), Cell> {
        let what = format!("HEAD {path}");
        let a = self.send(Method::HEAD, path, &[], Bytes::new()).await?;
        match want {
            Some(c) => {
                expect(&a, 200, None, &what)?;
                let len = a
                    .header("content-length")
                    .and_then(|v| v.parse::<usize>().ok());
                if len != Some(c.len()) {
                    return Err(wrong(
                        &what,
                        format!("Content-Length {len:?}, expected {}", c.len()),
                    ));
                }
                check_etag(&a, c, &what)
            }
            None => expect(&a, 404, None, &what),
        }
    }

    /// A Range GET of a key holding `c` (at least one byte): `first-last`, `first-`, `-n`, or
    /// one that starts past the end (416 InvalidRange).
    async fn check_range(&mut self, path: &str, c: &Content) -> Result<(), Cell> {
        let n = c.len() as u64;
        let (range, span) = match self.rng.below(8) {
            0 => (format!("bytes={n}-"), None),
            1 | 2 => {
                let k = 1 + self.rng.below(n + 1024);
                (format!("bytes=-{k}"), Some((n - k.min(n), n - 1)))
            }
            3 => {
                let f = self.rng.below(n);
                (format!("bytes={f}-"), Some((f, n - 1)))
            }
            _ => {
                let f = self.rng.below(n);
                let l = f + self.rng.below(64 << 10);
                (format!("bytes={f}-{l}"), Some((f, l.min(n - 1))))
            }
        };
        let what = format!("GET {path} Range: {range} ({n} bytes)");
        let a = self
            .send(
                Method::GET,
                path,
                &[("range", range.as_str())],
                Bytes::new(),
            )
            .await?;
        let Some((s, e)) = span else {
            return expect(&a, 416, Some("InvalidRange"), &what);
        };
        expect(&a, 206, None, &what)?;
        let want = c.bytes().slice(s as usize..e as usize + 1);
        if a.body != want {
            return Err(wrong(
                &what,
                format!(
                    "{} bytes that are not bytes {s}..={e} of the last acknowledged write",
                    a.body.len()
                ),
            ));
        }
        let cr = format!("bytes {s}-{e}/{n}");
        if a.header("content-range") != Some(cr.as_str()) {
            return Err(wrong(
                &what,
                format!(
                    "Content-Range {:?}, expected {cr}",
                    a.header("content-range")
                ),
            ));
        }
        check_etag(&a, c, &what)
    }

    async fn delete_objects(&mut self) -> Result<(), Cell> {
        let n = (2 + self.rng.below(7) as usize).min(self.sh.keys_per_range);
        let mut chosen = BTreeSet::new();
        while chosen.len() < n {
            chosen.insert(self.pick_key());
        }
        let keys: Vec<String> = chosen.into_iter().collect();
        let doc = delete_doc(&keys);
        let digest = b64(&md5(&doc));
        let path = format!("/{}?delete", self.bucket());
        let headers = [
            ("content-type", "application/xml"),
            ("content-md5", digest.as_str()),
        ];
        let a = self.send(Method::POST, &path, &headers, doc).await?;
        check_deleted(&a, &keys, &format!("POST {path} ({} keys)", keys.len()))?;
        for k in keys {
            self.store(k, None);
        }
        Ok(())
    }

    async fn list_query(
        &mut self,
        bucket: &str,
        query: &str,
    ) -> Result<(Vec<Entry>, Vec<String>), Cell> {
        let pages = self.sh.keys_per_range.max(FIXED) + 2;
        list_pages(&mut self.conn, bucket, query, pages, &mut self.requests).await
    }

    /// The range (or one of its sub-prefixes), a few keys a page: exactly the model's keys,
    /// sizes and ETags, in order.
    async fn list(&mut self) -> Result<(), Cell> {
        let mut prefix = range_prefix(self.range);
        if self.rng.below(2) == 0 {
            prefix.push_str(SUBS[self.rng.below(SUBS.len() as u64) as usize]);
            prefix.push('/');
        }
        let max = 1 + self.rng.below(8);
        let query = format!("&prefix={}&max-keys={max}", encode(&prefix));
        let (got, prefixes) = self.list_query(self.bucket(), &query).await?;
        let want: Vec<Entry> = self
            .keys
            .range(prefix.clone()..)
            .take_while(|(k, _)| k.starts_with(&prefix))
            .map(|(k, c)| (k.clone(), c.len() as u64, c.etag.clone()))
            .collect();
        let what = format!(
            "ListObjectsV2 /{}?prefix={prefix}&max-keys={max}",
            self.bucket()
        );
        if !prefixes.is_empty() {
            return Err(wrong(&what, "common prefixes without a delimiter"));
        }
        if got != want {
            return Err(wrong(&what, listing_diff(&got, &want)));
        }
        Ok(())
    }

    /// `prefix=rNN/&delimiter=/`, a few entries a page: the keys directly under the range and
    /// the sub-prefixes that hold something.
    async fn list_delimiter(&mut self) -> Result<(), Cell> {
        let prefix = range_prefix(self.range);
        let max = 1 + self.rng.below(5);
        let query = format!("&prefix={}&delimiter=%2F&max-keys={max}", encode(&prefix));
        let (got, prefixes) = self.list_query(self.bucket(), &query).await?;
        let (mut want, mut want_prefixes) = (Vec::new(), Vec::<String>::new());
        for (k, c) in &self.keys {
            let rest = &k[prefix.len()..];
            match rest.find('/') {
                Some(i) => {
                    let p = format!("{prefix}{}", &rest[..=i]);
                    if want_prefixes.last() != Some(&p) {
                        want_prefixes.push(p);
                    }
                }
                None => want.push((k.clone(), c.len() as u64, c.etag.clone())),
            }
        }
        let what = format!(
            "ListObjectsV2 /{}?prefix={prefix}&delimiter=/&max-keys={max}",
            self.bucket()
        );
        if got != want {
            return Err(wrong(&what, listing_diff(&got, &want)));
        }
        if prefixes != want_prefixes {
            return Err(wrong(
                &what,
                format!("common prefixes {prefixes:?}, expected {want_prefixes:?}"),
            ));
        }
        Ok(())
    }

    async fn list_fixed(&mut self) -> Result<(), Cell> {
        let max = 1 + self.rng.below(12);
        let query = format!("&prefix=fixed%2F&max-keys={max}");
        let (got, _) = self.list_query(BUCKETS[0], &query).await?;
        let want: Vec<Entry> = self
            .sh
            .fixed
            .iter()
            .enumerate()
            .map(|(j, c)| (fixed_key(j), c.len() as u64, c.etag.clone()))
            .collect();
        if got != want {
            return Err(wrong(
                &format!("ListObjectsV2 /{}?prefix=fixed/&max-keys={max}", BUCKETS[0]),
                listing_diff(&got, &want),
            ));
        }
        Ok(())
    }

    /// CopyObject into this range from a read-only object or another key of the range; now
    /// and then onto itself (400) or from an empty key (404).
    async fn copy(&mut self) -> Result<(), Cell> {
        let dest = self.pick_key();
        let dpath = self.path(&dest);
        let (src_path, source) = match self.rng.below(12) {
            0 if self.keys.contains_key(&dest) => (dpath.clone(), Source::Itself),
            1 => {
                let k = self.pick_key();
                match self.keys.get(&k) {
                    None => (self.path(&k), Source::Absent),
                    Some(_) => {
                        let (p, c) = self.pick_fixed();
                        (p, Source::Holds(c))
                    }
                }
            }
            2..=6 => {
                let (p, c) = self.pick_fixed();
                (p, Source::Holds(c))
            }
            _ => match self.pick_present(false) {
                Some((k, c)) if k != dest => (self.path(&k), Source::Holds(c)),
                _ => {
                    let (p, c) = self.pick_fixed();
                    (p, Source::Holds(c))
                }
            },
        };
        let what = format!("PUT {dpath} x-amz-copy-source: {src_path}");
        let a = self
            .send(
                Method::PUT,
                &dpath,
                &[("x-amz-copy-source", src_path.as_str())],
                Bytes::new(),
            )
            .await?;
        match source {
            Source::Itself => expect(&a, 400, Some("InvalidRequest"), &what),
            Source::Absent => expect(&a, 404, Some("NoSuchKey"), &what),
            Source::Holds(c) => {
                expect(&a, 200, None, &what)?;
                let text = a.text();
                let etag = xml_value(&text, "ETag")
                    .filter(|e| !e.is_empty() && text.contains("<CopyObjectResult"))
                    .ok_or_else(|| wrong(&what, "no CopyObjectResult with an ETag"))?;
                self.store(dest, Some(Content { segs: c.segs, etag }));
                Ok(())
            }
        }
    }

    /// Create, two parts, Complete (the ETag must be S3's MD5 of the parts' MD5s, "-2"); or
    /// create, one part, Abort, and a part sent after the abort (404 NoSuchUpload).
    async fn multipart(&mut self, abort: bool) -> Result<(), Cell> {
        let key = self.pick_key();
        let path = self.path(&key);
        let octets = [("content-type", "application/octet-stream")];
        let what = format!("CreateMultipartUpload {path}");
        let a = self
            .send(
                Method::POST,
                &format!("{path}?uploads"),
                &octets,
                Bytes::new(),
            )
            .await?;
        expect(&a, 200, None, &what)?;
        let id = xml_value(&a.text(), "UploadId")
            .filter(|u| !u.is_empty())
            .ok_or_else(|| wrong(&what, "no UploadId"))?;
        let q = encode(&id);
        let mut segs = Vec::new();
        let mut md5s = Vec::new();
        let mut doc = String::from("<CompleteMultipartUpload>");
        for n in 1..=(if abort { 1 } else { 2 }) {
            let len = 1 + self.rng.below(PART_MAX as u64) as usize;
            let seed = self.seed();
            let body = pattern(len, seed);
            if !abort {
                md5s.extend_from_slice(&md5(&body));
            }
            let ppath = format!("{path}?partNumber={n}&uploadId={q}");
            let what = format!("UploadPart {ppath} ({len} bytes)");
            let a = self.send(Method::PUT, &ppath, &octets, body).await?;
            expect(&a, 200, None, &what)?;
            let etag = a
                .header("etag")
                .filter(|e| !e.is_empty())
                .ok_or_else(|| wrong(&what, "no ETag"))?;
            doc.push_str(&format!(
                "<Part><PartNumber>{n}</PartNumber><ETag>{etag}</ETag></Part>"
            ));
            segs.push((seed, len));
        }
        doc.push_str("</CompleteMultipartUpload>");
        if abort {
            let apath = format!("{path}?uploadId={q}");
            let a = self.send(Method::DELETE, &apath, &[], Bytes::new()).await?;
            expect(&a, 204, None, &format!("AbortMultipartUpload {apath}"))?;
            let ppath = format!("{path}?partNumber=2&uploadId={q}");
            let a = self
                .send(Method::PUT, &ppath, &octets, pattern(16, self.seed()))
                .await?;
            return expect(
                &a,
                404,
                Some("NoSuchUpload"),
                &format!("UploadPart {ppath} after the abort"),
            );
        }
        let cpath = format!("{path}?uploadId={q}");
        let what = format!("CompleteMultipartUpload {cpath}");
        let a = self
            .send(
                Method::POST,
                &cpath,
                &[("content-type", "application/xml")],
                doc.into(),
            )
            .await?;
        expect(&a, 200, None, &what)?;
        let text = a.text();
        let etag = xml_value(&text, "ETag")
            .filter(|_| text.contains("<CompleteMultipartUploadResult"))
            .ok_or_else(|| wrong(&what, "no CompleteMultipartUploadResult with an ETag"))?;
        let want = format!("\"{}-2\"", hex(&md5(&md5s)));
        if etag != want {
            return Err(wrong(&what, format!("ETag {etag}, expected {want}")));
        }
        self.store(key, Some(Content { segs, etag }));
        Ok(())
    }

    async fn hot_put(&mut self) -> Result<(), Cell> {
        let h = self.rng.below(HOT as u64) as usize;
        let body = pattern(HOT_SIZE, self.seed());
        let digest = md5(&body);
        let i = {
            let mut w = self.sh.hot[h].lock().unwrap();
            w.push(HotWrite {
                md5: digest,
                sent: Instant::now(),
                acked: None,
            });
            w.len() - 1
        };
        let path = format!("/{}/{}", BUCKETS[1], hot_key(h));
        let a = self
            .send(
                Method::PUT,
                &path,
                &[("content-type", "application/octet-stream")],
                body,
            )
            .await?;
        expect(&a, 200, None, &format!("PUT {path}"))?;
        self.sh.hot[h].lock().unwrap()[i].acked = Some(Instant::now());
        Ok(())
    }

    async fn hot_get(&mut self) -> Result<(), Cell> {
        let h = self.rng.below(HOT as u64) as usize;
        let path = format!("/{}/{}", BUCKETS[1], hot_key(h));
        let what = format!("GET {path} (written by every connection)");
        let began = Instant::now();
        let a = self.send(Method::GET, &path, &[], Bytes::new()).await?;
        let ended = Instant::now();
        expect(&a, 200, None, &what)?;
        if a.body.len() != HOT_SIZE {
            return Err(wrong(
                &what,
                format!("{} bytes, every write has {HOT_SIZE}", a.body.len()),
            ));
        }
        let got = md5(&a.body);
        let writes = self.sh.hot[h].lock().unwrap();
        check_hot(&writes, &got, began, ended).map_err(|m| wrong(&what, m))
    }
}

/// What one connection did.
struct Tally {
    requests: u64,
    counts: [u64; MIX.len()],
}

async fn worker(
    w: usize,
    sh: Arc<Shared>,
    t: Arc<Target>,
    started: Instant,
    time: Duration,
    epochs: u32,
    barrier: Arc<tokio::sync::Barrier>,
) -> Tally {
    let mut conn = Conn::new(t);
    conn.timeout = Duration::from_secs(30);
    let mut wk = Worker {
        sh: sh.clone(),
        conn,
        rng: Rng(0x50A4_0000 + w as u64),
        requests: 0,
        range: w,
        keys: BTreeMap::new(),
    };
    let mut counts = [0u64; MIX.len()];
    let ranges = sh.ranges.len();
    for e in 0..epochs {
        let deadline = started + (EPOCH * (e + 1)).min(time);
        wk.range = (w + e as usize) % ranges;
        wk.keys = std::mem::take(&mut *sh.ranges[wk.range].lock().unwrap());
        while Instant::now() < deadline && !sh.stop.load(Ordering::Relaxed) {
            let mut roll = wk.rng.below(100);
            let i = MIX
                .iter()
                .position(|(_, _, share)| {
                    let hit = roll < *share;
                    roll = roll.saturating_sub(*share);
                    hit
                })
                .unwrap_or(0);
            counts[i] += 1;
            if let Err(c) = wk.run(MIX[i].0).await {
                sh.problems.lock().unwrap().push(c);
                sh.stop.store(true, Ordering::Relaxed);
            }
        }
        *sh.ranges[wk.range].lock().unwrap() = std::mem::take(&mut wk.keys);
        // Nobody takes a range before its previous owner has put it back.
        barrier.wait().await;
    }
    Tally {
        requests: wk.requests,
        counts,
    }
}

/// Writes the read-only objects and the hot keys' first values; returns their models and the
/// next free content seed.
async fn setup(t: Arc<Target>) -> Result<(Vec<Content>, Vec<Vec<HotWrite>>, u64), Cell> {
    async fn put(c: &mut Conn, path: String, len: usize, seed: u64) -> Result<String, Cell> {
        let body = pattern(len, seed);
        let what = format!("PUT {path}");
        let a = c
            .request(
                Method::PUT,
                &path,
                &[("content-type", "application/octet-stream")],
                &|| ReqBody::Full(Some(body.clone())),
                Keep::Body,
            )
            .await
            .map_err(|e| Cell::Failed(format!("{what}: {e}")))?;
        expect(&a, 200, None, &what)?;
        Ok(a.header("etag").unwrap_or_default().to_string())
    }
    let mut c = Conn::new(t);
    let mut rng = Rng(0xF1_ED);
    let mut seed = 1u64;
    let mut fixed = Vec::new();
    for j in 0..FIXED {
        let len = rng.size(MAX_SIZE);
        let etag = put(
            &mut c,
            format!("/{}/{}", BUCKETS[0], fixed_key(j)),
            len,
            seed,
        )
        .await?;
        fixed.push(Content {
            segs: vec![(seed, len)],
            etag,
        });
        seed += 1;
    }
    let mut hot = Vec::new();
    for h in 0..HOT {
        let sent = Instant::now();
        put(
            &mut c,
            format!("/{}/{}", BUCKETS[1], hot_key(h)),
            HOT_SIZE,
            seed,
        )
        .await?;
        hot.push(vec![HotWrite {
            md5: md5(&pattern(HOT_SIZE, seed)),
            sent,
            acked: Some(Instant::now()),
        }]);
        seed += 1;
    }
    Ok((fixed, hot, seed))
}

/// What a key should hold at the end.
enum Want {
    Exact(Content),
    /// Hot key N: the last of its writes.
    Hot(usize),
}

/// Lists every bucket (exactly the model's keys, sizes and ETags) and GETs every object over
/// 8 connections (every byte). Returns the number of objects verified and each bucket's keys.
async fn verify(sh: Arc<Shared>, t: Arc<Target>) -> Result<(u64, Vec<Vec<String>>), Cell> {
    let mut expected: Vec<BTreeMap<String, Want>> =
        BUCKETS.iter().map(|_| BTreeMap::new()).collect();
    for (r, m) in sh.ranges.iter().enumerate() {
        for (k, c) in m.lock().unwrap().iter() {
            expected[r % BUCKETS.len()].insert(k.clone(), Want::Exact(c.clone()));
        }
    }
    for (j, c) in sh.fixed.iter().enumerate() {
        expected[0].insert(fixed_key(j), Want::Exact(c.clone()));
    }
    for h in 0..HOT {
        expected[1].insert(hot_key(h), Want::Hot(h));
    }
    let total: usize = expected.iter().map(BTreeMap::len).sum();
    let mut c = Conn::new(t.clone());
    let mut requests = 0;
    let mut listed = Vec::new();
    for (bucket, want) in BUCKETS.iter().zip(&expected) {
        let (got, _) = list_pages(&mut c, bucket, "", total / 1000 + 10, &mut requests).await?;
        let what = format!("ListObjectsV2 /{bucket}, every page, after the load");
        let want_entries: Vec<Entry> = want
            .iter()
            .map(|(k, w)| match w {
                Want::Exact(c) => (k.clone(), c.len() as u64, c.etag.clone()),
                Want::Hot(_) => (k.clone(), HOT_SIZE as u64, String::new()),
            })
            .collect();
        // A hot key's ETag is whichever write came last: not compared here.
        let got_cmp: Vec<Entry> = got
            .iter()
            .map(|(k, size, etag)| match want.get(k) {
                Some(Want::Hot(_)) => (k.clone(), *size, String::new()),
                _ => (k.clone(), *size, etag.clone()),
            })
            .collect();
        if got_cmp != want_entries {
            let missing: Vec<&String> = want
                .keys()
                .filter(|k| !got.iter().any(|g| &g.0 == *k))
                .take(3)
                .collect();
            let extra: Vec<&String> = got
                .iter()
                .map(|g| &g.0)
                .filter(|k| !want.contains_key(*k))
                .take(3)
                .collect();
            return Err(wrong(
                &what,
                format!(
                    "{}; missing {missing:?}, unexpected {extra:?}",
                    listing_diff(&got_cmp, &want_entries)
                ),
            ));
        }
        listed.push(got.into_iter().map(|g| g.0).collect());
    }

    let jobs: Arc<Vec<(String, Want)>> = Arc::new(
        BUCKETS
            .iter()
            .zip(expected)
            .flat_map(|(bucket, m)| {
                m.into_iter()
                    .map(move |(k, w)| (format!("/{bucket}/{k}"), w))
            })
            .collect(),
    );
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let (t, jobs, next, sh) = (t.clone(), jobs.clone(), next.clone(), sh.clone());
        tasks.push(tokio::spawn(async move {
            let mut c = Conn::new(t);
            c.timeout = Duration::from_secs(30);
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some((path, want)) = jobs.get(i) else {
                    return Ok(());
                };
                let what = format!("GET {path} after the load");
                let a = c
                    .get(path, Keep::Body)
                    .await
                    .map_err(|e| Cell::Failed(format!("{what}: {e}")))?;
                expect(&a, 200, None, &what)?;
                match want {
                    Want::Exact(content) => check_body(&a, content, &what)?,
                    Want::Hot(h) => {
                        let now = Instant::now();
                        let writes = sh.hot[*h].lock().unwrap();
                        check_hot(&writes, &md5(&a.body), now, now).map_err(|m| wrong(&what, m))?;
                    }
                }
            }
        }));
    }
    for task in tasks {
        match task.await {
            Ok(r) => r?,
            Err(_) => return Err(Cell::Failed("a verification task panicked".into())),
        }
    }
    Ok((total as u64, listed))
}

/// DeleteObjects of every listed key, then checks every bucket is empty and no multipart
/// upload is left.
async fn delete_all(t: Arc<Target>, listed: Vec<Vec<String>>) -> Result<(), Cell> {
    let mut c = Conn::new(t);
    c.timeout = Duration::from_secs(60);
    for (bucket, keys) in BUCKETS.iter().zip(&listed) {
        for batch in keys.chunks(1000) {
            let doc = delete_doc(batch);
            let digest = b64(&md5(&doc));
            let path = format!("/{bucket}?delete");
            let a = c
                .request(
                    Method::POST,
                    &path,
                    &[
                        ("content-type", "application/xml"),
                        ("content-md5", digest.as_str()),
                    ],
                    &|| ReqBody::Full(Some(doc.clone())),
                    Keep::Body,
                )
                .await
                .map_err(|e| Cell::Failed(format!("POST {path}: {e}")))?;
            check_deleted(&a, batch, &format!("POST {path} ({} keys)", batch.len()))?;
        }
        let mut requests = 0;
        let (left, _) = list_pages(&mut c, bucket, "", 10, &mut requests).await?;
        if !left.is_empty() {
            return Err(Cell::Invalid(format!(
                "/{bucket} still lists {} keys after deleting them all",
                left.len()
            )));
        }
        let path = format!("/{bucket}?uploads");
        let a = c
            .get(&path, Keep::Body)
            .await
            .map_err(|e| Cell::Failed(format!("GET {path}: {e}")))?;
        expect(&a, 200, None, &format!("GET {path}"))?;
        let uploads = a.text().matches("<Upload>").count();
        if uploads > 0 {
            return Err(Cell::Invalid(format!(
                "GET {path}: {uploads} multipart uploads left after every one was completed or aborted"
            )));
        }
    }
    Ok(())
}

/// The data set at its largest and the server's RSS at that moment; the highest RSS seen.
struct Peak {
    data: i64,
    rss_at_data: u64,
    rss_max: u64,
}

/// Samples the data-set size and the server's RSS every 10 ms until `stop`.
fn sample(sh: Arc<Shared>, pids: Vec<i32>, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<Peak> {
    std::thread::spawn(move || {
        let mut p = Peak {
            data: -1,
            rss_at_data: 0,
            rss_max: 0,
        };
        loop {
            let data = sh.bytes.load(Ordering::Relaxed);
            let rss = rss_of(&pids);
            p.rss_max = p.rss_max.max(rss);
            if data >= p.data {
                p.data = data;
                p.rss_at_data = rss;
            }
            if stop.load(Ordering::Relaxed) {
                return p;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    })
}

pub(super) fn soak(b: &Bench, peer: Peer, sheet: &mut Sheet) -> Result<(), Cell> {
    if peer != Peer::S3twin {
        return Err(Cell::Na("s3twin only".into()));
    }
    let plan = b.plan;
    let mut s = start(b, peer)?;
    let outcome = (|| {
        let t = target(&s);
        for bucket in BUCKETS {
            once(b, &t, Method::PUT, &format!("/{bucket}"), None)?;
        }
        std::thread::sleep(Duration::from_millis(200));
        let rss_start = s.rss();
        sheet.ok("soak.rss_start", rss_start as f64 / MIB);

        let (fixed, hot, next_seed) = b.rt.block_on(setup(t.clone()))?;
        let base = fixed.iter().map(Content::len).sum::<usize>() + HOT * HOT_SIZE;
        let sh = Arc::new(Shared {
            keys_per_range: plan.soak_keys,
            ranges: (0..plan.soak_conns)
                .map(|_| Mutex::new(BTreeMap::new()))
                .collect(),
            fixed,
            hot: hot.into_iter().map(Mutex::new).collect(),
            bytes: AtomicI64::new(base as i64),
            peak: AtomicI64::new(base as i64),
            next_seed: AtomicU64::new(next_seed),
            stop: AtomicBool::new(false),
            problems: Mutex::new(Vec::new()),
        });
        s.reset_peak();
        let sampling = Arc::new(AtomicBool::new(false));
        let sampler = sample(sh.clone(), s.tree(), sampling.clone());
        let finish = |sampler: std::thread::JoinHandle<Peak>| {
            sampling.store(true, Ordering::Relaxed);
            sampler.join().ok()
        };

        let time = plan.soak_time;
        let epochs = (time.as_secs_f64() / EPOCH.as_secs_f64()).ceil().max(1.0) as u32;
        let conns = plan.soak_conns;
        let cpu0 = client_cpu();
        let (tallies, elapsed) = {
            let (sh, t) = (sh.clone(), t.clone());
            b.rt.block_on(async move {
                let barrier = Arc::new(tokio::sync::Barrier::new(conns));
                let started = Instant::now();
                let tasks: Vec<_> = (0..conns)
                    .map(|w| {
                        tokio::spawn(worker(
                            w,
                            sh.clone(),
                            t.clone(),
                            started,
                            time,
                            epochs,
                            barrier.clone(),
                        ))
                    })
                    .collect();
                let mut tallies = Vec::new();
                for task in tasks {
                    match task.await {
                        Ok(tally) => tallies.push(tally),
                        Err(_) => sh
                            .problems
                            .lock()
                            .unwrap()
                            .push(Cell::Failed("a soak task panicked".into())),
                    }
                }
                (tallies, started.elapsed())
            })
        };
        let client_cpu = client_cpu().saturating_sub(cpu0);
        let requests: u64 = tallies.iter().map(|t| t.requests).sum();
        let mut mix = serde_json::Map::new();
        for (i, (_, name, _)) in MIX.iter().enumerate() {
            let n: u64 = tallies.iter().map(|t| t.counts[i]).sum();
            mix.insert(name.to_string(), serde_json::json!(n));
        }
        sheet.extra("soak.mix", mix.into());
        sheet.extra("soak.requests", serde_json::json!(requests));
        sheet.extra("soak.seconds", serde_json::json!(elapsed.as_secs_f64()));
        sheet.extra(
            "soak.client_cpu_us_per_op",
            serde_json::json!(client_cpu.as_secs_f64() * 1e6 / requests.max(1) as f64),
        );
        let problems = std::mem::take(&mut *sh.problems.lock().unwrap());
        if let Some(first) = problems.first() {
            let _ = finish(sampler);
            check_alive(&mut s)?;
            let text = |r: &str| {
                format!(
                    "{} errors in {requests} requests; first: {r}",
                    problems.len()
                )
            };
            return Err(match first {
                Cell::Failed(r) => Cell::Failed(text(r)),
                Cell::Invalid(r) | Cell::Na(r) => Cell::Invalid(text(r)),
                Cell::Ok(_) => Cell::Invalid(text("?")),
            });
        }
        check_alive(&mut s)?;
        let data_end = sh.bytes.load(Ordering::Relaxed);

        let verified = b.rt.block_on(verify(sh.clone(), t.clone()));
        let peak = finish(sampler);
        let (verified, listed) = match verified {
            Ok(v) => v,
            Err(c) => {
                check_alive(&mut s)?;
                return Err(c);
            }
        };
        if let Err(c) = b.rt.block_on(delete_all(t.clone(), listed)) {
            check_alive(&mut s)?;
            return Err(c);
        }
        std::thread::sleep(Duration::from_secs(2));
        let rss_after = s.rss();
        check_alive(&mut s)?;

        let data_peak = sh.peak.load(Ordering::Relaxed) as f64 / MIB;
        let rss_peak = peak.as_ref().map_or(0, |p| p.rss_at_data) as f64 / MIB;
        let rss_max = peak.as_ref().map_or(0, |p| p.rss_max).max(s.hwm()) as f64 / MIB;
        let rate = requests as f64 / elapsed.as_secs_f64();
        sheet.ok("soak.ops", requests as f64);
        sheet.ok("soak.rate", rate);
        sheet.ok("soak.errors", 0.0);
        sheet.ok("soak.verified", verified as f64);
        sheet.ok("soak.data_peak", data_peak);
        sheet.ok("soak.rss_peak", rss_peak);
        sheet.ok("soak.rss_after", rss_after as f64 / MIB);
        sheet.extra("soak.rss_max_mib", serde_json::json!(rss_max));
        sheet.extra(
            "soak.data_end_mib",
            serde_json::json!(data_end as f64 / MIB),
        );
        sheet.extra("soak.epochs", serde_json::json!(epochs));
        say(
            peer,
            &format!(
                "soak: {requests} requests in {:.1} s ({rate:.0}/s), 0 errors, {verified} objects verified; data set peak {data_peak:.1} MiB; RSS start {:.1}, at the peak {rss_peak:.1} (highest {rss_max:.1}), after delete-all {:.1} MiB",
                elapsed.as_secs_f64(),
                rss_start as f64 / MIB,
                rss_after as f64 / MIB
            ),
        );
        Ok(())
    })();
    s.stop();
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hot_reads() {
        let t0 = Instant::now();
        let at = |ms: u64| t0 + Duration::from_millis(ms);
        let writes = vec![
            HotWrite {
                md5: [1; 16],
                sent: at(0),
                acked: Some(at(10)),
            },
            HotWrite {
                md5: [2; 16],
                sent: at(20),
                acked: Some(at(30)),
            },
            // Sent while the second was in flight: either may come last.
            HotWrite {
                md5: [3; 16],
                sent: at(25),
                acked: Some(at(40)),
            },
        ];
        // Before the second write was acknowledged, the first is still a valid answer.
        assert!(check_hot(&writes, &[1; 16], at(22), at(28)).is_ok());
        // After it, the first is stale.
        assert!(check_hot(&writes, &[1; 16], at(35), at(36)).is_err());
        assert!(check_hot(&writes, &[2; 16], at(35), at(36)).is_ok());
        // A write sent after the read ended cannot be its answer; unknown bodies never are.
        assert!(check_hot(&writes, &[3; 16], at(21), at(24)).is_err());
        assert!(check_hot(&writes, &[9; 16], at(50), at(50)).is_err());
        // At the end: the two overlapping writes may both be last, the first may not.
        for (md5, ok) in [([1; 16], false), ([2; 16], true), ([3; 16], true)] {
            assert_eq!(check_hot(&writes, &md5, at(50), at(50)).is_ok(), ok);
        }
    }

    #[test]
    fn listing_pages() {
        let page = "<ListBucketResult><Prefix>r01/</Prefix><Contents><Key>r01/k003</Key>\
            <Size>12</Size><ETag>&quot;ab&quot;</ETag></Contents><CommonPrefixes><Prefix>r01/a/</Prefix>\
            </CommonPrefixes><IsTruncated>false</IsTruncated></ListBucketResult>";
        let (mut entries, mut prefixes) = (Vec::new(), Vec::new());
        parse_listing(page, &mut entries, &mut prefixes);
        assert_eq!(entries, vec![("r01/k003".into(), 12, "\"ab\"".into())]);
        assert_eq!(prefixes, vec!["r01/a/".to_string()]);
        assert_eq!(range_key(1, 3), "r01/k003");
        assert_eq!(range_key(1, 4), "r01/a/004");
    }

    #[test]
    fn mix_adds_up() {
        assert_eq!(MIX.iter().map(|m| m.2).sum::<u64>(), 100);
    }
}
