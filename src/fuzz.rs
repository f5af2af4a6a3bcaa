//! Fuzz targets for everything an unauthenticated client can make the server parse.
//!
//! Each `pub fn <target>(data: &[u8])` decodes `data` (raw, or through `arbitrary`'s
//! `Unstructured` into structured inputs that reach deep states) and asserts the target's
//! invariants with `assert!`: a failed assertion, a panic, a hang or a huge allocation is a
//! finding. They are driven by libFuzzer (`fuzz/`, `cargo +nightly fuzz run <target>`) and, on
//! stable, by `tests/fuzz_props.rs`. Not part of the public API.

use crate::api::conditional::{Conditions, COPY_SOURCE, READ};
use crate::checksum::{self, ChecksumAlgorithm};
use crate::clock::{self, Millis, DAY_MS, MAX_INSTANT};
use crate::error::{Code, S3Error};
use crate::lifecycle::{self, Rule, When};
use crate::server::addressing;
use crate::server::query::{decode_component, decode_path, url_encode, Query};
use crate::store::{Body, Bucket, ConfigKind, Object, Store, Versioning, DEFAULT_RUN};
use crate::wire::aws_chunked::{self, AwsChunkedDecoder};
use crate::wire::headers::{parse_range, ByteRange};
use crate::wire::request_body::{receive, BodySpec};
use crate::wire::xml::{self, escape_into, Element};
use arbitrary::{Result as AResult, Unstructured};
use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue};
use http_body::Frame;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// A fuzz target: takes any bytes, panics on a finding.
pub type Target = fn(&[u8]);

/// Every target, by name (what `fuzz/fuzz_targets/` and the stable driver iterate over).
pub const TARGETS: &[(&str, Target)] = &[
    ("xml", xml),
    ("aws_chunked", aws_chunked),
    ("aws_chunked_framed", aws_chunked_framed),
    ("request_body", request_body),
    ("range", range),
    ("dates", dates),
    ("conditional", conditional),
    ("query", query),
    ("addressing", addressing),
    ("duration", duration),
    ("seed_json", seed_json),
    ("seed_bytes", seed_bytes),
    ("admin", admin),
    ("lifecycle_parse", lifecycle_parse),
    ("lifecycle_run", lifecycle_run),
    ("request_headers", request_headers),
    ("notification_parse", notification_parse),
    ("post_policy", post_policy),
    ("auth", auth),
];

// ---------------------------------------------------------------------------------------------
// Small generators

fn bytes<'a>(u: &mut Unstructured<'a>, max: usize) -> AResult<&'a [u8]> {
    let n = u.int_in_range(0..=max)?.min(u.len());
    u.bytes(n)
}

fn text(u: &mut Unstructured, max: usize) -> AResult<String> {
    Ok(String::from_utf8_lossy(bytes(u, max)?).into_owned())
}

fn pick<T: Copy>(u: &mut Unstructured, items: &[T]) -> AResult<T> {
    Ok(*u.choose(items)?)
}

/// A word from `dict` most of the time, else arbitrary text.
fn word(u: &mut Unstructured, dict: &[&str], max: usize) -> AResult<String> {
    Ok(match u.int_in_range(0..=7)? {
        0 => text(u, max)?,
        1 => format!("{}{}", pick(u, dict)?, text(u, 4)?),
        _ => pick(u, dict)?.to_string(),
    })
}

/// An instant: arbitrary, an edge of the i64 / clock range, or near `base` (often midnight).
fn instant(u: &mut Unstructured, base: Millis) -> AResult<Millis> {
    Ok(match u.int_in_range(0..=9)? {
        0 => u.arbitrary::<i64>()?,
        1 => pick(
            u,
            &[
                i64::MIN,
                i64::MIN + 1,
                -DAY_MS,
                -1,
                0,
                1,
                DAY_MS,
                MAX_INSTANT - 1,
                MAX_INSTANT,
                MAX_INSTANT + 1,
                i64::MAX - DAY_MS,
                i64::MAX - 1,
                i64::MAX,
            ],
        )?,
        2 => {
            i64::MAX
                - u.int_in_range(0..=3 * DAY_MS)?
                - u.int_in_range(0..=2_147_483_647i64)? * DAY_MS / 1024
        }
        3 => {
            let days = u.int_in_range(-400i64..=400)?;
            base.div_euclid(DAY_MS)
                .saturating_add(days)
                .saturating_mul(DAY_MS)
                .saturating_add(pick(u, &[0, 0, 1, -1, DAY_MS / 2])?)
        }
        _ => base.saturating_add(u.int_in_range(-400 * DAY_MS..=400 * DAY_MS)?),
    })
}

fn is_client_error(e: &S3Error) -> bool {
    (300..500).contains(&e.code.status())
}

thread_local! {
    static RUNTIME: tokio::runtime::Runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a current-thread runtime");
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    RUNTIME.with(|rt| rt.block_on(f))
}

// ---------------------------------------------------------------------------------------------
// 1. XML reader

const XML_NAMES: &[&str] = &[
    "LifecycleConfiguration",
    "Rule",
    "ID",
    "Status",
    "Filter",
    "Prefix",
    "And",
    "Tag",
    "Key",
    "Value",
    "Expiration",
    "Days",
    "Date",
    "Delete",
    "Object",
    "Quiet",
    "a",
    "b",
    "x:Key",
    "s3:Rule",
];

/// A generated element and what the parser must make of it.
struct XmlModel {
    doc: String,
    /// Whether `doc` is well-formed (no corruption was applied).
    well_formed: bool,
    depth: usize,
    tree: Element,
}

fn local(name: &str) -> &str {
    name.rsplit_once(':').map_or(name, |(_, l)| l)
}

/// Generates an element (bounded depth) into `out`; returns its model and its depth.
fn gen_element(
    u: &mut Unstructured,
    out: &mut String,
    depth_left: usize,
) -> AResult<(Element, usize)> {
    let name = pick(u, XML_NAMES)?;
    let mut el = Element {
        name: local(name).to_string(),
        ..Element::default()
    };
    out.push('<');
    out.push_str(name);
    if u.ratio(1, 6)? {
        out.push_str(" xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"");
    }
    if u.ratio(1, 8)? {
        out.push_str(" attr='v&amp;'");
    }
    if depth_left == 0 || u.ratio(1, 5)? {
        out.push_str("/>");
        return Ok((el, 1));
    }
    out.push('>');
    let mut depth = 1;
    let pieces = u.int_in_range(0..=5)?;
    for _ in 0..pieces {
        match u.int_in_range(0..=9)? {
            0..=3 => {
                let (child, d) = gen_element(u, out, depth_left - 1)?;
                depth = depth.max(d + 1);
                el.children.push(child);
            }
            4 => {
                let (raw, value) = pick(
                    u,
                    &[
                        ("&amp;", "&"),
                        ("&lt;", "<"),
                        ("&gt;", ">"),
                        ("&quot;", "\""),
                        ("&apos;", "'"),
                        ("&#13;", "\r"),
                        ("&#x41;", "A"),
                        ("&#233;", "é"),
                    ],
                )?;
                out.push_str(raw);
                el.text.push_str(value);
            }
            5 => {
                let t = text(u, 12)?.replace("]]>", "");
                out.push_str("<![CDATA[");
                out.push_str(&t);
                out.push_str("]]>");
                el.text.push_str(&t);
            }
            6 => out.push_str("<!-- note -->"),
            _ => {
                // `&#0;` is no character reference in XML.
                let t = text(u, 16)?.replace('\0', "");
                escape_into(out, &t);
                el.text.push_str(&t);
            }
        }
    }
    out.push_str("</");
    out.push_str(name);
    out.push('>');
    Ok((el, depth))
}

fn gen_xml(u: &mut Unstructured) -> AResult<XmlModel> {
    let mut doc = String::new();
    if u.ratio(1, 2)? {
        doc.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    }
    let (tree, depth) = if u.ratio(1, 4)? {
        // Straight nesting around the limit.
        let n = u.int_in_range(xml::MAX_DEPTH - 2..=xml::MAX_DEPTH + 2)?;
        let empty_last = u.ratio(1, 2)?;
        let opened = if empty_last { n - 1 } else { n };
        doc.push_str(&"<a>".repeat(opened));
        if empty_last {
            doc.push_str("<a/>");
        }
        doc.push_str(&"</a>".repeat(opened));
        let mut el = Element {
            name: "a".into(),
            ..Element::default()
        };
        for _ in 1..n {
            el = Element {
                name: "a".into(),
                text: String::new(),
                children: vec![el],
            };
        }
        (el, n)
    } else {
        let max = u.int_in_range(0..=xml::MAX_DEPTH + 3)?;
        gen_element(u, &mut doc, max)?
    };
    if u.ratio(1, 4)? {
        doc.push_str("\n  ");
    }
    let mut well_formed = true;
    if u.ratio(1, 5)? && !doc.is_empty() {
        // Corrupt: truncate, or splice a byte in.
        well_formed = false;
        let mut raw = doc.into_bytes();
        let at = u.int_in_range(0..=raw.len() - 1)?;
        if u.ratio(1, 2)? {
            raw.truncate(at);
        } else {
            let b = pick(u, b"<>&/\"'!?x\0")?;
            raw.insert(at, b);
        }
        doc = String::from_utf8_lossy(&raw).into_owned();
    }
    Ok(XmlModel {
        doc,
        well_formed,
        depth,
        tree,
    })
}

/// Depth of a tree, iteratively (the root is depth 1).
fn tree_depth(root: &Element) -> usize {
    let mut max = 0;
    let mut stack = vec![(root, 1usize)];
    while let Some((e, d)) = stack.pop() {
        max = max.max(d);
        stack.extend(e.children.iter().map(|c| (c, d + 1)));
    }
    max
}

fn same_tree(a: &Element, b: &Element) -> bool {
    let mut stack = vec![(a, b)];
    while let Some((a, b)) = stack.pop() {
        if a.name != b.name || a.text != b.text || a.children.len() != b.children.len() {
            return false;
        }
        stack.extend(a.children.iter().zip(&b.children));
    }
    true
}

fn check_xml(doc: &[u8]) -> Option<Element> {
    match xml::parse(doc) {
        Ok(root) => {
            assert!(
                tree_depth(&root) <= xml::MAX_DEPTH,
                "tree deeper than MAX_DEPTH"
            );
            Some(root)
        }
        Err(e) => {
            assert_eq!(e.code, Code::MalformedXML);
            None
        }
    }
}

/// `xml::parse` never panics, only fails with MalformedXML, bounds the depth, and reads every
/// well-formed document within the depth limit into the tree it describes.
pub fn xml(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode & 1 == 0 {
        check_xml(rest);
        return;
    }
    let mut u = Unstructured::new(rest);
    let Ok(model) = gen_xml(&mut u) else {
        return;
    };
    let parsed = check_xml(model.doc.as_bytes());
    if model.well_formed {
        if model.depth > xml::MAX_DEPTH {
            assert!(parsed.is_none(), "accepted nesting deeper than MAX_DEPTH");
        } else {
            let parsed = parsed.unwrap_or_else(|| {
                panic!(
                    "a well-formed document within the depth limit failed: {:?}",
                    model.doc
                )
            });
            assert!(
                same_tree(&parsed, &model.tree),
                "parsed tree differs from the document: {:?}",
                model.doc
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 2. aws-chunked decoder and the receive path

type Decoded = (Result<(), Code>, Vec<u8>, Vec<(String, String)>);

fn decode_pieces(pieces: &[&[u8]]) -> Decoded {
    let mut d = AwsChunkedDecoder::new();
    let mut out = Vec::new();
    let mut result = Ok(());
    for p in pieces {
        if let Err(e) = d.feed(Bytes::copy_from_slice(p), &mut |b| {
            out.extend_from_slice(&b)
        }) {
            result = Err(e.code);
            break;
        }
    }
    if result.is_ok() {
        result = d.finish().map_err(|e| e.code);
    }
    assert!(d.trailers().len() <= aws_chunked::MAX_TRAILERS);
    (result, out, d.trailers().to_vec())
}

/// Splits `wire` at points drawn from `u` (empty pieces included).
fn split_points<'a>(u: &mut Unstructured, wire: &'a [u8]) -> AResult<Vec<&'a [u8]>> {
    let n = u.int_in_range(0..=12)?;
    let mut cuts = Vec::with_capacity(n + 2);
    for _ in 0..n {
        cuts.push(u.int_in_range(0..=wire.len())?);
    }
    if wire.len() <= 4096 && u.ratio(1, 8)? {
        // Every byte on its own.
        cuts.extend(0..=wire.len());
    }
    cuts.push(0);
    cuts.push(wire.len());
    cuts.sort_unstable();
    Ok(cuts.windows(2).map(|w| &wire[w[0]..w[1]]).collect())
}

fn check_split_invariance(wire: &[u8], pieces: &[&[u8]]) -> Decoded {
    let whole = decode_pieces(&[wire]);
    let split = decode_pieces(pieces);
    assert!(whole.1.len() <= wire.len(), "more output than input");
    assert_eq!(whole, split, "decoding depends on where the input is split");
    whole
}

/// Arbitrary bytes split at arbitrary points: no panic, the same output (and outcome) whatever
/// the split, never more output than input, trailers bounded.
pub fn aws_chunked(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Ok(split_seed) = bytes(&mut u, 32) else {
        return;
    };
    let wire = u.take_rest();
    let mut su = Unstructured::new(split_seed);
    let Ok(pieces) = split_points(&mut su, wire) else {
        return;
    };
    let _ = check_split_invariance(wire, &pieces);
}

/// A valid aws-chunked framing and what it must decode to.
struct Framing {
    wire: Vec<u8>,
    payload: Vec<u8>,
    trailers: Vec<(String, String)>,
    valid: bool,
}

const TRAILER_NAMES: &[&str] = &[
    "x-amz-checksum-crc32",
    "x-amz-checksum-crc32c",
    "x-amz-checksum-crc64nvme",
    "x-amz-checksum-sha1",
    "x-amz-checksum-sha256",
    "x-amz-trailer-signature",
    "X-Amz-Checksum-CRC32",
];

fn gen_framing(
    u: &mut Unstructured,
    payload: &[u8],
    trailers: Vec<(String, String)>,
) -> AResult<Framing> {
    let sig = "chunk-signature=ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648";
    let signed = u.ratio(1, 2)?;
    let mut wire = Vec::new();
    let mut rest = payload;
    let size_line = |u: &mut Unstructured, wire: &mut Vec<u8>, n: usize| -> AResult<()> {
        let zeros = u.int_in_range(0..=2)?;
        let hex = if u.ratio(1, 2)? {
            format!("{n:x}")
        } else {
            format!("{n:X}")
        };
        wire.extend_from_slice("0".repeat(zeros).as_bytes());
        wire.extend_from_slice(hex.as_bytes());
        if signed {
            wire.push(b';');
            wire.extend_from_slice(sig.as_bytes());
        }
        wire.extend_from_slice(b"\r\n");
        Ok(())
    };
    while !rest.is_empty() {
        // (Out of input, `int_in_range` gives its minimum: then one chunk takes the rest.)
        let n = match u.int_in_range(0..=3)? {
            0 => rest.len(),
            1 => 1,
            _ => u.int_in_range(1..=64)?,
        }
        .min(rest.len());
        size_line(u, &mut wire, n)?;
        wire.extend_from_slice(&rest[..n]);
        wire.extend_from_slice(b"\r\n");
        rest = &rest[n..];
    }
    size_line(u, &mut wire, 0)?;
    let mut expected = Vec::new();
    for (name, value) in &trailers {
        wire.extend_from_slice(name.as_bytes());
        wire.push(b':');
        wire.extend_from_slice(value.as_bytes());
        wire.extend_from_slice(b"\r\n");
        expected.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
    }
    // The closing blank line is optional (some clients stop after the last trailer), and a
    // few stray CRLFs after it are tolerated.
    if u.ratio(3, 4)? {
        wire.extend_from_slice(b"\r\n");
        for _ in 0..u.int_in_range(0..=2)? {
            wire.extend_from_slice(b"\r\n");
        }
    }
    let valid = trailers.len() <= aws_chunked::MAX_TRAILERS;
    Ok(Framing {
        wire,
        payload: payload.to_vec(),
        trailers: expected,
        valid,
    })
}

fn gen_trailers(u: &mut Unstructured) -> AResult<Vec<(String, String)>> {
    let n = match u.int_in_range(0..=9)? {
        0 => u.int_in_range(0..=aws_chunked::MAX_TRAILERS + 2)?,
        1..=4 => 0,
        _ => u.int_in_range(1..=2)?,
    };
    let mut out = Vec::new();
    for _ in 0..n {
        let name = pick(u, TRAILER_NAMES)?.to_string();
        let value = pick(u, &["DUoRhQ==", "yZRlqg==", " AAAAAA== ", "abc", ""])?.to_string();
        out.push((name, value));
    }
    Ok(out)
}

/// Valid framings (random chunk sizes, signed or not, trailers, optional closing line) split
/// at random points: they decode to exactly their payload and trailers.
pub fn aws_chunked_framed(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Ok(f) = (|| -> AResult<(Framing, Vec<u8>)> {
        let payload = bytes(&mut u, 512)?.to_vec();
        let trailers = gen_trailers(&mut u)?;
        let f = gen_framing(&mut u, &payload, trailers)?;
        let seed = bytes(&mut u, 32)?.to_vec();
        Ok((f, seed))
    })() else {
        return;
    };
    let (framing, seed) = f;
    let mut su = Unstructured::new(&seed);
    let Ok(pieces) = split_points(&mut su, &framing.wire) else {
        return;
    };
    let (result, out, trailers) = check_split_invariance(&framing.wire, &pieces);
    if framing.valid {
        assert_eq!(result, Ok(()), "a valid framing failed: {:?}", framing.wire);
        assert_eq!(out, framing.payload);
        assert_eq!(trailers, framing.trailers);
    } else {
        assert!(result.is_err(), "more than MAX_TRAILERS trailers accepted");
    }
}

type FrameResult = Result<Frame<Bytes>, std::io::Error>;
type MemBody =
    http_body_util::StreamBody<futures_util::stream::Iter<std::vec::IntoIter<FrameResult>>>;

fn mem_body(frames: Vec<FrameResult>) -> MemBody {
    http_body_util::StreamBody::new(futures_util::stream::iter(frames))
}

const BODY_HEADERS: &[&str] = &[
    "content-length",
    "x-amz-decoded-content-length",
    "content-encoding",
    "x-amz-content-sha256",
    "content-md5",
    "x-amz-checksum-crc32",
    "x-amz-checksum-crc32c",
    "x-amz-checksum-crc64nvme",
    "x-amz-checksum-sha1",
    "x-amz-checksum-sha256",
    "x-amz-trailer",
    "x-amz-sdk-checksum-algorithm",
    "x-amz-meta-a",
];

const BODY_VALUES: &[&str] = &[
    "0",
    "1",
    "5",
    "11",
    "18446744073709551615",
    "18446744073709551616",
    "-1",
    " 7 ",
    "aws-chunked",
    "gzip, aws-chunked",
    "UNSIGNED-PAYLOAD",
    "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
    "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
    "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "1B2M2Y8AsgTpgAmY7PhCfg==",
    "AAAAAA==",
    "DUoRhQ==",
    "x-amz-checksum-crc32",
    "x-amz-checksum-sha256",
    "x-amz-checksum-bogus",
    "CRC32",
    "SHA256",
    "crc64nvme",
    "",
];

fn checksum_of(algo: ChecksumAlgorithm, data: &[u8]) -> Vec<u8> {
    let mut h = algo.hasher();
    h.update(data);
    h.finish()
}

fn insert(h: &mut HeaderMap, name: &str, value: &str) {
    if let (Ok(n), Ok(v)) = (
        HeaderName::from_bytes(name.as_bytes()),
        HeaderValue::from_str(value),
    ) {
        h.append(n, v);
    }
}

/// A request body and headers that describe it correctly.
struct GoodBody {
    headers: HeaderMap,
    frames: Vec<Vec<u8>>,
    payload: Vec<u8>,
    /// Whether the headers declare a digest of the payload (any corruption must be caught).
    digest_declared: bool,
}

fn gen_good_body(u: &mut Unstructured) -> AResult<GoodBody> {
    let payload = bytes(u, 600)?.to_vec();
    let chunked = u.ratio(1, 2)?;
    let mut headers = HeaderMap::new();
    let mut digest_declared = false;
    let algos = ChecksumAlgorithm::ALL;
    let mut trailers = Vec::new();
    let checksum_mode = u.int_in_range(0..=2)?;
    if chunked {
        let trailer = checksum_mode == 2;
        let marker = match (u.ratio(1, 2)?, trailer) {
            (true, true) => "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
            (true, false) => "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
            (false, true) => "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
            (false, false) => "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD",
        };
        insert(&mut headers, "x-amz-content-sha256", marker);
        if u.ratio(1, 2)? {
            insert(&mut headers, "content-encoding", "aws-chunked");
        }
        if u.ratio(3, 4)? {
            insert(
                &mut headers,
                "x-amz-decoded-content-length",
                &payload.len().to_string(),
            );
        }
        if trailer {
            let algo = pick(u, &algos)?;
            insert(&mut headers, "x-amz-trailer", algo.header());
            if u.ratio(1, 2)? {
                insert(&mut headers, "x-amz-sdk-checksum-algorithm", algo.name());
            }
            trailers.push((
                algo.header().to_string(),
                checksum::b64(&checksum_of(algo, &payload)),
            ));
            digest_declared = true;
        }
    } else {
        if u.ratio(3, 4)? {
            insert(&mut headers, "content-length", &payload.len().to_string());
        }
        if u.ratio(1, 4)? {
            insert(
                &mut headers,
                "x-amz-content-sha256",
                &checksum::sha256_hex(&payload),
            );
            digest_declared = true;
        }
    }
    if checksum_mode == 1 {
        let algo = pick(u, &algos)?;
        insert(
            &mut headers,
            algo.header(),
            &checksum::b64(&checksum_of(algo, &payload)),
        );
        digest_declared = true;
    }
    if u.ratio(1, 3)? {
        insert(
            &mut headers,
            "content-md5",
            &checksum::b64(&checksum::md5_digest(&payload)),
        );
        digest_declared = true;
    }
    let wire = if chunked {
        gen_framing(u, &payload, trailers)?.wire
    } else {
        payload.clone()
    };
    let mut su = Unstructured::new(bytes(u, 16)?);
    let frames = split_points(&mut su, &wire)?
        .into_iter()
        .map(<[u8]>::to_vec)
        .collect();
    Ok(GoodBody {
        headers,
        frames,
        payload,
        digest_declared,
    })
}

fn gen_any_headers(u: &mut Unstructured) -> AResult<HeaderMap> {
    let mut headers = HeaderMap::new();
    for _ in 0..u.int_in_range(0..=6)? {
        let name = if u.ratio(1, 10)? {
            text(u, 12)?
        } else {
            pick(u, BODY_HEADERS)?.to_string()
        };
        if u.ratio(1, 6)? {
            if let (Ok(n), Ok(v)) = (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_bytes(bytes(u, 24)?),
            ) {
                headers.append(n, v);
            }
        } else {
            let value = word(u, BODY_VALUES, 24)?;
            insert(&mut headers, &name, &value);
        }
    }
    Ok(headers)
}

struct Received {
    result: Result<crate::wire::request_body::ReceivedBody, S3Error>,
    spec_length: Option<u64>,
    aws_chunked: bool,
}

fn run_receive(
    headers: &HeaderMap,
    frames: Vec<FrameResult>,
    default: Option<ChecksumAlgorithm>,
    max_len: u64,
    timed: bool,
) -> Option<Received> {
    let spec = match BodySpec::from_headers(headers) {
        Ok(s) => s,
        Err(e) => {
            assert!(is_client_error(&e), "{e:?}");
            return None;
        }
    };
    let body = mem_body(frames);
    let result = block_on(async {
        if timed {
            let b = crate::wire::timed_body::TimedBody::new(
                body,
                Some(std::time::Duration::from_secs(5)),
            );
            receive(b, &spec, default, max_len).await
        } else {
            receive(body, &spec, default, max_len).await
        }
    });
    Some(Received {
        result,
        spec_length: spec.length,
        aws_chunked: spec.aws_chunked,
    })
}

/// `BodySpec::from_headers` then `receive` over in-memory frames: Ok or a client S3 error, and
/// a received body is exactly as long as it says (and as declared). Well-described bodies are
/// received intact; a corrupted byte under a declared digest is caught.
pub fn request_body(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let _ = request_body_inner(&mut u);
}

fn request_body_inner(u: &mut Unstructured) -> AResult<()> {
    let default = if u.ratio(1, 2)? {
        Some(ChecksumAlgorithm::Crc64Nvme)
    } else {
        u.choose(&ChecksumAlgorithm::ALL).ok().copied()
    };
    let max_len = match u.int_in_range(0..=5)? {
        0 => u.arbitrary::<u64>()?,
        1 => pick(u, &[0, 1, 16, 100])?,
        _ => 5 * 1024 * 1024 * 1024,
    };
    let timed = u.ratio(1, 4)?;
    if u.ratio(1, 2)? {
        let good = gen_good_body(u)?;
        let corrupt = !good.payload.is_empty() && u.ratio(1, 3)?;
        let mut frames = good.frames.clone();
        let mut corrupted_payload = false;
        if corrupt {
            // Flip one payload byte in place (only in the plain framing, where every byte
            // is payload).
            if !good.headers.contains_key("x-amz-content-sha256")
                || good.headers["x-amz-content-sha256"].len() == 64
            {
                if let Some(f) = frames.iter_mut().find(|f| !f.is_empty()) {
                    f[0] ^= 0x20;
                    corrupted_payload = true;
                }
            }
        }
        let frames: Vec<FrameResult> = frames
            .into_iter()
            .map(|f| Ok(Frame::data(Bytes::from(f))))
            .collect();
        let Some(r) = run_receive(&good.headers, frames, default, max_len, timed) else {
            panic!("headers describing a body correctly were refused");
        };
        check_received(&r, max_len);
        let fits = (good.payload.len() as u64) <= max_len;
        match (&r.result, corrupted_payload, fits) {
            (Ok(b), false, true) => {
                let mut all = Vec::new();
                for s in &b.segments {
                    all.extend_from_slice(s);
                }
                assert_eq!(
                    all, good.payload,
                    "received body differs from what was sent"
                );
            }
            (Err(e), false, true) => panic!("a correctly described body was refused: {e:?}"),
            (Ok(_), true, true) if good.digest_declared => {
                panic!("a corrupted body passed its declared digest")
            }
            (Ok(_), _, false) => panic!("a body over max_len was accepted"),
            _ => {}
        }
        return Ok(());
    }
    let headers = gen_any_headers(u)?;
    let mut frames: Vec<FrameResult> = Vec::new();
    let wire: Vec<u8> = if u.ratio(1, 2)? {
        let payload = bytes(u, 256)?.to_vec();
        let trailers = gen_trailers(u)?;
        gen_framing(u, &payload, trailers)?.wire
    } else {
        bytes(u, 512)?.to_vec()
    };
    let mut su = Unstructured::new(bytes(u, 16)?);
    let mut sent = Vec::new();
    for piece in split_points(&mut su, &wire)? {
        match u.int_in_range(0..=15)? {
            0 => {
                let mut t = HeaderMap::new();
                insert(&mut t, "x-amz-checksum-crc32", "AAAAAA==");
                frames.push(Ok(Frame::trailers(t)));
            }
            1 => frames.push(Err(std::io::Error::other("broken stream"))),
            _ => {}
        }
        sent.extend_from_slice(piece);
        frames.push(Ok(Frame::data(Bytes::copy_from_slice(piece))));
    }
    let errored = frames.iter().any(Result::is_err);
    if let Some(r) = run_receive(&headers, frames, default, max_len, timed) {
        check_received(&r, max_len);
        if let Ok(b) = &r.result {
            assert!(!errored, "a body whose stream failed was accepted");
            if !r.aws_chunked {
                let mut all = Vec::new();
                for s in &b.segments {
                    all.extend_from_slice(s);
                }
                assert_eq!(all, sent, "plain body changed on the way in");
            }
        }
    }
    Ok(())
}

fn check_received(r: &Received, max_len: u64) {
    match &r.result {
        Ok(b) => {
            let total: u64 = b.segments.iter().map(|s| s.len() as u64).sum();
            assert_eq!(total, b.len, "segments do not add up to len");
            if let Some(declared) = r.spec_length {
                assert_eq!(
                    b.len, declared,
                    "received length differs from the declared one"
                );
            }
            assert!(b.len <= max_len, "received more than max_len");
            let mut md5 = checksum::md5_hasher();
            for s in &b.segments {
                md5::Digest::update(&mut md5, s);
            }
            let md5: [u8; 16] = md5::Digest::finalize(md5).into();
            assert_eq!(md5, b.md5, "MD5 is not the MD5 of the stored segments");
        }
        Err(e) => assert!(is_client_error(e), "not a client error: {e:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// 3. Range and conditional headers, dates

fn check_range(raw: &str, sizes: &[u64]) {
    let Some(range) = parse_range(raw) else {
        return;
    };
    for &size in sizes {
        match range.resolve(size, raw) {
            Ok((start, end)) => {
                assert!(
                    start <= end && end < size,
                    "{raw:?} on {size}: {start}-{end}"
                );
                match range {
                    ByteRange::From { first, last } => {
                        assert_eq!(start, first);
                        assert!(last.is_none_or(|l| end <= l));
                    }
                    ByteRange::Suffix(n) => {
                        assert_eq!(end, size - 1);
                        assert_eq!(end - start + 1, n.min(size));
                    }
                }
            }
            Err(e) => assert_eq!(e.code, Code::InvalidRange),
        }
    }
}

/// `parse_range` then `resolve` against arbitrary sizes: a resolved range is within the object.
pub fn range(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let _ = (|| -> AResult<()> {
        let raw = if u.ratio(1, 2)? {
            let num = |u: &mut Unstructured| -> AResult<String> {
                Ok(match u.int_in_range(0..=4)? {
                    0 => String::new(),
                    1 => u.arbitrary::<u64>()?.to_string(),
                    2 => "18446744073709551616".to_string(),
                    _ => u.int_in_range(0u64..=64)?.to_string(),
                })
            };
            let (a, b) = (num(&mut u)?, num(&mut u)?);
            let pre = pick(&mut u, &["bytes=", " bytes=", "bytes= ", "items=", ""])?;
            let sep = pick(&mut u, &["-", " - ", "--", ""])?;
            let tail = pick(&mut u, &["", "", ",0-1", " "])?;
            format!("{pre}{a}{sep}{b}{tail}")
        } else {
            text(&mut u, 64)?
        };
        let mut sizes = vec![0, 1, 2, 10, 64, u64::MAX];
        for _ in 0..4 {
            sizes.push(u.arbitrary()?);
        }
        if let Some(ByteRange::From { first, last }) = parse_range(&raw) {
            sizes.extend([first, first.saturating_add(1)]);
            if let Some(l) = last {
                sizes.extend([l, l.saturating_add(1)]);
            }
        }
        check_range(&raw, &sizes);
        Ok(())
    })();
}

/// Date formatters are total (http_date always 29 characters) and the parsers never panic;
/// instants of the clock's range round-trip through both formats.
pub fn dates(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let _ = (|| -> AResult<()> {
        for _ in 0..4 {
            let ms = instant(&mut u, 1_700_000_000_000)?;
            let iso = clock::iso8601(ms);
            let http = clock::http_date(ms);
            assert_eq!(http.len(), 29, "{http:?} for {ms}");
            let midnight = clock::next_midnight(ms);
            assert!(midnight >= ms || ms > i64::MAX - DAY_MS);
            if (0..=MAX_INSTANT).contains(&ms) {
                assert_eq!(iso.len(), 24, "{iso:?}");
                assert_eq!(clock::parse_rfc3339(&iso), Some(ms), "{iso}");
                assert_eq!(
                    clock::parse_http_date(&http),
                    Some(ms.div_euclid(1000) * 1000),
                    "{http}"
                );
            }
        }
        let s = text(&mut u, 64)?;
        if let Some(t) = clock::parse_rfc3339(&s) {
            let _ = clock::iso8601(t);
        }
        if let Some(t) = clock::parse_http_date(&s) {
            assert_eq!(clock::http_date(t).len(), 29);
        }
        Ok(())
    })();
}

const ETAG_VALUES: &[&str] = &[
    "\"e\"",
    "e",
    "*",
    "W/\"e\"",
    "\"x\", \"e\"",
    "\"x\"",
    "",
    ",",
    "\"",
];

/// `Conditions::check` for reads and copies with arbitrary headers, ETag and Last-Modified:
/// Ok, 412 or (reads only) 304, never a panic.
pub fn conditional(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let _ = (|| -> AResult<()> {
        let etag = if u.ratio(1, 2)? {
            "e".to_string()
        } else {
            text(&mut u, 16)?
        };
        let lm = instant(&mut u, 1_700_000_000_500)?;
        let mut headers = HeaderMap::new();
        for c in [&READ, &COPY_SOURCE] {
            for name in [c.if_match, c.if_none_match] {
                if u.ratio(1, 2)? {
                    let v = word(&mut u, ETAG_VALUES, 24)?;
                    insert(&mut headers, name, &v);
                }
            }
            for name in [c.if_modified_since, c.if_unmodified_since] {
                if u.ratio(1, 2)? {
                    let v = match u.int_in_range(0..=3)? {
                        0 => text(&mut u, 32)?,
                        _ => {
                            let t = lm.saturating_add(u.int_in_range(-3000..=3000)?);
                            clock::http_date(t)
                        }
                    };
                    insert(&mut headers, name, &v);
                }
            }
        }
        let now = lm.saturating_add(u.int_in_range(0..=6000)?);
        check_conditions(&READ, &headers, &etag, lm, now);
        check_conditions(&COPY_SOURCE, &headers, &etag, lm, now);
        check_conditions(&READ, &HeaderMap::new(), &etag, lm, now);
        Ok(())
    })();
}

fn check_conditions(c: &Conditions, headers: &HeaderMap, etag: &str, lm: Millis, now: Millis) {
    let none = [
        c.if_match,
        c.if_none_match,
        c.if_modified_since,
        c.if_unmodified_since,
    ]
    .iter()
    .all(|n| !headers.contains_key(*n));
    match c.check(headers, etag, lm, now) {
        Ok(()) => {}
        Err(e) => {
            assert!(!none, "a request without conditions failed them");
            match e.code {
                Code::PreconditionFailed => {}
                Code::NotModified => assert!(c.not_modified_is_304),
                other => panic!("unexpected condition error {other:?}"),
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 4. Query and path decoding, addressing

/// `Query::parse` and the component decoders never panic; `url_encode` round-trips through
/// both decoders; every parsed name can be looked up.
pub fn query(data: &[u8]) {
    let s = String::from_utf8_lossy(data);
    let q = Query::parse(Some(&s));
    for name in q.names() {
        assert!(q.has(name));
        assert!(q.get(name).is_some());
    }
    let _ = Query::parse(None);
    let _ = decode_component(&s);
    let _ = decode_path(&s);
    let enc = url_encode(&s);
    assert_eq!(decode_component(&enc), s, "url_encode does not round-trip");
    assert_eq!(decode_path(&enc).as_deref(), Some(&*s));
}

const HOSTS: &[&str] = &[
    "127.0.0.1:4566",
    "localhost",
    "b.localhost:4566",
    "b.s3.localhost",
    "s3.localhost",
    "my.bucket.s3.amazonaws.com",
    "b.s3-eu-west-1.amazonaws.com",
    ".s3.amazonaws.com",
    "s3.amazonaws.com",
    "[::1]:4566",
    "[",
    "[]",
    "b.s3.test.internal",
    "B.LOCALHOST.",
    "",
    ":",
];

const PATHS: &[&str] = &[
    "/",
    "/t/",
    "/t/run-1",
    "/t/run-1/",
    "/t/run-1/b/k",
    "/t/%2e%2e/b",
    "/t/r%FF/b",
    "/t//b",
    "/b",
    "/b/",
    "/b/a%20b/c+d",
    "/b/%FF",
    "//k",
    "",
    "t/x",
];

/// `addressing::resolve` with arbitrary Host, path and domains: Ok or a client error, and a
/// path without the run prefix always lands in the default run.
pub fn addressing(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let _ = (|| -> AResult<()> {
        let host = if u.ratio(1, 5)? {
            None
        } else {
            Some(word(&mut u, HOSTS, 32)?)
        };
        let path = match u.int_in_range(0..=3)? {
            0 => text(&mut u, 64)?,
            1 => format!("{}{}", pick(&mut u, PATHS)?, text(&mut u, 16)?),
            _ => pick(&mut u, PATHS)?.to_string(),
        };
        let mut domains = Vec::new();
        for _ in 0..u.int_in_range(0..=2)? {
            domains.push(word(
                &mut u,
                &["s3.test.internal", "test", ".", "", "localhost"],
                16,
            )?);
        }
        let _ = addressing::bucket_from_host(host.as_deref().unwrap_or(""), &domains);
        let _ = addressing::website_bucket(host.as_deref().unwrap_or(""), &domains);
        match addressing::resolve(host.as_deref(), &path, &domains) {
            Ok(t) => {
                if path.starts_with("/t/") {
                    assert!(addressing::valid_run_id(&t.run), "{:?}", t.run);
                } else {
                    assert_eq!(t.run, DEFAULT_RUN, "{path:?}");
                }
                assert!(t.key.as_deref().is_none_or(|k| !k.is_empty()));
            }
            Err(e) => assert!(is_client_error(&e), "{e:?}"),
        }
        Ok(())
    })();
}

// ---------------------------------------------------------------------------------------------
// 5. Durations

/// `parse_duration` never panics and never gives a negative duration; a well-formed duration
/// gives its exact value, or an error when it does not fit.
pub fn duration(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode & 1 == 0 {
        if let Ok(ms) = clock::parse_duration(&String::from_utf8_lossy(rest)) {
            assert!(ms >= 0);
        }
        return;
    }
    let mut u = Unstructured::new(rest);
    let _ = (|| -> AResult<()> {
        let mut s = String::new();
        let mut total: i128 = 0;
        let mut fits = true;
        let parts = u.int_in_range(1..=4)?;
        for _ in 0..parts {
            let n: u64 = if u.ratio(1, 3)? {
                u.arbitrary()?
            } else {
                u.int_in_range(0..=1000)?
            };
            let (unit, ms) = pick(
                &mut u,
                &[
                    ('s', 1_000i128),
                    ('m', 60_000),
                    ('h', 3_600_000),
                    ('d', DAY_MS as i128),
                ],
            )?;
            if u.ratio(1, 8)? {
                s.push('0');
            }
            s.push_str(&n.to_string());
            s.push(unit);
            fits &= n <= i64::MAX as u64;
            total += n as i128 * ms;
        }
        fits &= total <= i64::MAX as i128;
        let padded = format!(
            "{}{s}{}",
            pick(&mut u, &["", " "])?,
            pick(&mut u, &["", "\n"])?
        );
        match clock::parse_duration(&padded) {
            Ok(ms) => {
                assert!(fits, "{padded:?} does not fit but parsed");
                assert_eq!(ms as i128, total, "{padded:?}");
            }
            Err(_) => assert!(!fits, "{padded:?} should parse"),
        }
        assert!(clock::parse_duration(&format!("-{s}")).is_err());
        Ok(())
    })();
}

// ---------------------------------------------------------------------------------------------
// 6. Seeds and the admin API

const JSON_KEYS: &[&str] = &[
    "buckets",
    "name",
    "versioning",
    "lifecycle",
    "objects",
    "key",
    "body",
    "bodyBase64",
    "contentType",
    "metadata",
    "tags",
    "expirationDays",
    "prefix",
    "Rules",
    "ID",
    "Status",
    "Filter",
    "Prefix",
    "Expiration",
    "Days",
    "Transitions",
    "StorageClass",
    "runId",
    "seed",
    "strict",
    "advance",
    "set",
    "freeze",
    "method",
    "bucket",
    "expiresIn",
];

const JSON_STRINGS: &[&str] = &[
    "my-bucket",
    "invoices",
    "Bad_Name",
    "ab",
    "Enabled",
    "Suspended",
    "Disabled",
    "invoice-store",
    "tmp/",
    "a.txt",
    "aGVsbG8=",
    "not base64!",
    "8d",
    "1d12h",
    "-1d",
    "106751991167301d",
    "2027-01-01T00:00:00Z",
    "9999-12-31T23:59:59.999Z",
    "0000-01-01T00:00:00Z",
    "GET",
    "put",
    "fuzz",
    "default",
    "GLACIER",
    "",
];

fn json_number(u: &mut Unstructured) -> AResult<Value> {
    Ok(match u.int_in_range(0..=4)? {
        0 => json!(u.arbitrary::<i64>()?),
        1 => json!(u.arbitrary::<u64>()?),
        2 => serde_json::Number::from_f64(u.arbitrary::<f64>()?).map_or(Value::Null, Value::Number),
        _ => json!(u.int_in_range(-2i64..=3700)?),
    })
}

fn json_value(u: &mut Unstructured, depth: usize) -> AResult<Value> {
    let top = if depth == 0 { 4 } else { 7 };
    Ok(match u.int_in_range(0..=top)? {
        0 => Value::Null,
        1 => Value::Bool(u.arbitrary()?),
        2 => json_number(u)?,
        3 | 4 => Value::String(word(u, JSON_STRINGS, 24)?),
        5 => {
            let n = u.int_in_range(0..=4)?;
            let mut items = Vec::with_capacity(n);
            for _ in 0..n {
                items.push(json_value(u, depth - 1)?);
            }
            Value::Array(items)
        }
        _ => {
            let n = u.int_in_range(0..=5)?;
            let mut map = Map::new();
            for _ in 0..n {
                let k = word(u, JSON_KEYS, 12)?;
                map.insert(k, json_value(u, depth - 1)?);
            }
            Value::Object(map)
        }
    })
}

fn bucket_name(u: &mut Unstructured) -> AResult<String> {
    Ok(match u.int_in_range(0..=5)? {
        0 => word(u, JSON_STRINGS, 12)?,
        _ => {
            let len = u.int_in_range(3..=12)?;
            let mut s = String::new();
            for i in 0..len {
                let c = if i == 0 || i == len - 1 {
                    pick(u, b"abcz09")?
                } else {
                    pick(u, b"abcz09-.")?
                };
                s.push(c as char);
            }
            s
        }
    })
}

/// A mostly valid seed document (boto3-shaped lifecycle rules included).
fn gen_seed(u: &mut Unstructured) -> AResult<Value> {
    let mut buckets = Vec::new();
    for _ in 0..u.int_in_range(0..=3)? {
        let mut b = Map::new();
        b.insert("name".into(), json!(bucket_name(u)?));
        if u.ratio(1, 3)? {
            b.insert(
                "versioning".into(),
                json!(pick(u, &["Enabled", "Suspended", "Off"])?),
            );
        }
        match u.int_in_range(0..=3)? {
            0 => {
                let rules: Vec<Value> = gen_rules(u)?
                    .iter()
                    .map(|r| node_to_json(&r.node))
                    .collect();
                b.insert("lifecycle".into(), Value::Array(rules));
            }
            1 => {
                b.insert(
                    "lifecycle".into(),
                    json!({"expirationDays": json_number(u)?, "prefix": "tmp/"}),
                );
            }
            _ => {}
        }
        let mut objects = Vec::new();
        for _ in 0..u.int_in_range(0..=4)? {
            let mut o = Map::new();
            o.insert("key".into(), json!(word(u, OBJECT_KEYS, 16)?));
            match u.int_in_range(0..=3)? {
                0 => {
                    o.insert("body".into(), json!(text(u, 32)?));
                }
                1 => {
                    o.insert("bodyBase64".into(), json!(checksum::b64(bytes(u, 32)?)));
                }
                2 => {
                    o.insert("bodyBase64".into(), json!(text(u, 8)?));
                }
                _ => {}
            }
            if u.ratio(1, 3)? {
                o.insert("metadata".into(), json!({"Invoice-Id": text(u, 8)?}));
            }
            if u.ratio(1, 3)? {
                let mut tags = Map::new();
                for _ in 0..u.int_in_range(0..=11)? {
                    tags.insert(word(u, &["k", "env", "team"], 8)?, json!(text(u, 8)?));
                }
                o.insert("tags".into(), Value::Object(tags));
            }
            objects.push(Value::Object(o));
        }
        b.insert("objects".into(), Value::Array(objects));
        buckets.push(Value::Object(b));
    }
    let mut doc = json!({ "buckets": buckets });
    if u.ratio(1, 6)? {
        // Graft an arbitrary value somewhere near the top.
        let v = json_value(u, 3)?;
        match u.int_in_range(0..=2)? {
            0 => doc = v,
            1 => doc["buckets"] = v,
            _ => {
                if let Some(first) = doc["buckets"].get_mut(0) {
                    first["lifecycle"] = v;
                }
            }
        }
    }
    Ok(doc)
}

fn check_seed(value: &Value) {
    let Ok(doc) = crate::seed::from_json(value) else {
        return;
    };
    let store = Store::new();
    let run = store.run("fuzz");
    match crate::seed::apply(&run, "us-east-1", doc) {
        Ok(summary) => {
            assert!(run.bucket_count() <= summary.buckets);
            // What was stored exports to a seed that stores it again, identically.
            let strip_clock = |mut v: Value| {
                v.as_object_mut().map(|m| m.remove("clock"));
                v
            };
            let exported = crate::admin::export::document(&run, u64::MAX, u64::MAX);
            let text = serde_json::to_value(&exported).expect("an export serializes");
            let again = crate::seed::from_json(&text).expect("an export parses as a seed");
            let copy = store.run("fuzz-copy");
            crate::seed::apply(&copy, "us-east-1", again).expect("an export applies");
            let second =
                serde_json::to_value(crate::admin::export::document(&copy, u64::MAX, u64::MAX))
                    .expect("an export serializes");
            assert_eq!(
                strip_clock(text),
                strip_clock(second),
                "an export did not round-trip"
            );
            for b in run.buckets() {
                if let Some(doc) = b.config(ConfigKind::Lifecycle) {
                    assert!(
                        crate::api::validate_lifecycle_doc(&doc).is_ok(),
                        "a seed stored a lifecycle document that does not validate: {doc}"
                    );
                    let _ = lifecycle::run_due(&run, run.now());
                }
            }
        }
        Err(_) => assert_eq!(run.bucket_count(), 0, "a bad seed changed the run"),
    }
}

/// `seed::from_json` and `seed::apply` on generated JSON trees (mostly valid seeds, or
/// arbitrary values of bounded depth): never a panic, a refused seed stores nothing.
pub fn seed_json(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let value = match u.ratio(1, 2) {
        Ok(true) => gen_seed(&mut u),
        _ => json_value(&mut u, 5),
    };
    if let Ok(v) = value {
        check_seed(&v);
    }
}

/// The same from arbitrary bytes through `serde_json::from_slice`.
pub fn seed_bytes(data: &[u8]) {
    if let Ok(v) = serde_json::from_slice::<Value>(data) {
        check_seed(&v);
    }
}

const ADMIN_ROUTES: &[&str] = &[
    "health",
    "reset",
    "seed",
    "runs",
    "runs/fuzz",
    "runs/r1",
    "clock",
    "presign",
    "requests",
    "chaos",
    "",
    "nope",
];

fn gen_admin_body(u: &mut Unstructured) -> AResult<Value> {
    Ok(match u.int_in_range(0..=9)? {
        0 => {
            json!({"advance": word(u, &["8d", "1h", "30s", "1d12h", "0s", "106751991167301d", "-1d"], 12)?})
        }
        1 => {
            let t = instant(u, 1_800_000_000_000)?;
            json!({"set": clock::iso8601(t)})
        }
        2 => json!({"freeze": u.arbitrary::<bool>()?}),
        3 => {
            json!({"runId": word(u, &["fuzz", "r1", "default", "..", "bad id"], 12)?, "strict": u.arbitrary::<bool>()?, "seed": gen_seed(u)?})
        }
        4 => json!({"runId": "r1", "seed": "invoice-store"}),
        5 => json!({
            "method": word(u, &["GET", "put", "HEAD", "DELETE", "POST"], 8)?,
            "bucket": word(u, &["invoices", "a b", "", "ü"], 12)?,
            "key": text(u, 24)?,
            "expiresIn": json_number(u)?,
        }),
        6 => gen_seed(u)?,
        7 => gen_chaos_rule(u)?,
        8 if u.arbitrary::<bool>()? => json!([
            gen_chaos_rule(u)?,
            word(
                u,
                &["slow_put", "503_restore", "lifecycle_early_delete", "nope"],
                12
            )?
        ]),
        _ => json_value(u, 4)?,
    })
}

/// A chaos rule near the valid ones: known and unknown actions, fields and values.
fn gen_chaos_rule(u: &mut Unstructured) -> AResult<Value> {
    let action = match u.int_in_range(0..=6)? {
        0 => json!({"type": "latency", "ms": json_number(u)?}),
        1 => json!({"type": "latency", "minMs": json_number(u)?, "maxMs": json_number(u)?}),
        2 => {
            json!({"type": "error", "code": word(u, &["SlowDown", "InternalError", "NoSuchKey"], 12)?, "retryAfter": json_number(u)?})
        }
        3 => {
            json!({"type": word(u, &["reset", "truncate", "throttle", "lifecycleEarly"], 12)?, "bytes": json_number(u)?, "perSecond": json_number(u)?, "days": json_number(u)?})
        }
        _ => json_value(u, 3)?,
    };
    Ok(json!({
        "match": {"operations": [word(u, &["PutObject", "GetObject", ""], 12)?], "keyPrefix": text(u, 8)?},
        "action": action,
        "probability": json_number(u)?,
        "count": json_number(u)?,
        "after": json_number(u)?,
        "seed": json_number(u)?,
    }))
}

/// A sequence of admin requests (arbitrary method, route, query, Host and JSON body) on one
/// fresh server state: every answer is 2xx or 4xx with a JSON body.
pub fn admin(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let state = crate::server::AppState::new(crate::Config::default());
    block_on(async {
        for _ in 0..6 {
            let Ok(Some(req)) = gen_admin_request(&mut u) else {
                break;
            };
            let resp = crate::admin::handle(&state, req).await;
            let status = resp.status().as_u16();
            assert!(
                (200..300).contains(&status) || (400..500).contains(&status),
                "admin answered {status}"
            );
            let body = http_body_util::BodyExt::collect(resp.into_body())
                .await
                .map(|c| c.to_bytes())
                .unwrap_or_default();
            assert!(
                serde_json::from_slice::<Value>(&body).is_ok(),
                "admin body is not JSON: {body:?}"
            );
            if u.is_empty() {
                break;
            }
        }
    });
}

fn gen_admin_request(u: &mut Unstructured) -> AResult<Option<http::Request<MemBody>>> {
    const ENCODE: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'/')
        .remove(b'-')
        .remove(b'_')
        .remove(b'.');
    let method = match u.int_in_range(0..=9)? {
        0 => http::Method::DELETE,
        1 => http::Method::PUT,
        2 => match http::Method::from_bytes(text(u, 8)?.as_bytes()) {
            Ok(m) => m,
            Err(_) => http::Method::PATCH,
        },
        3..=5 => http::Method::GET,
        _ => http::Method::POST,
    };
    let prefix = pick(u, &["/_s3twin/", "/_parlel/", "/_clone/"])?;
    let route = if u.ratio(1, 8)? {
        percent_encoding::utf8_percent_encode(&text(u, 16)?, ENCODE).to_string()
    } else {
        pick(u, ADMIN_ROUTES)?.to_string()
    };
    let slash = if u.ratio(1, 8)? { "/" } else { "" };
    let mut uri = format!("{prefix}{route}{slash}");
    let mut params = Vec::new();
    if u.ratio(1, 2)? {
        let id = word(u, &["fuzz", "r1", "default", "", "..", "bad id", "a/b"], 70)?;
        params.push(format!("runId={}", url_encode(&id)));
    }
    if u.ratio(1, 8)? {
        params.push(url_encode(&text(u, 16)?));
    }
    if !params.is_empty() {
        uri.push('?');
        uri.push_str(&params.join("&"));
    }
    let mut builder = http::Request::builder().method(method).uri(uri);
    match u.int_in_range(0..=5)? {
        0 => {}
        1 => {
            if let Ok(v) = HeaderValue::from_bytes(bytes(u, 24)?) {
                builder = builder.header(http::header::HOST, v);
            }
        }
        _ => {
            let h = pick(
                u,
                &[
                    "127.0.0.1:4566",
                    "localhost",
                    "[::1]:9000",
                    "a b",
                    "h/p",
                    "x:y:z",
                ],
            )?;
            builder = builder.header(http::header::HOST, h);
        }
    }
    let payload: Vec<u8> = match u.int_in_range(0..=9)? {
        0 => Vec::new(),
        1 => bytes(u, 64)?.to_vec(),
        2 => b"  \n".to_vec(),
        _ => serde_json::to_vec(&gen_admin_body(u)?).unwrap_or_default(),
    };
    let mut frames: Vec<FrameResult> = Vec::new();
    let mut su = Unstructured::new(bytes(u, 8)?);
    for piece in split_points(&mut su, &payload)? {
        frames.push(Ok(Frame::data(Bytes::copy_from_slice(piece))));
    }
    if u.ratio(1, 16)? {
        frames.push(Err(std::io::Error::other("reset")));
    }
    Ok(builder.body(mem_body(frames)).ok())
}

// ---------------------------------------------------------------------------------------------
// 7. Lifecycle

/// A generated XML node (rendered to XML, or to the boto3 JSON shape for seeds).
#[derive(Debug, Clone)]
struct Node {
    name: &'static str,
    text: String,
    children: Vec<Node>,
}

fn leaf(name: &'static str, text: impl Into<String>) -> Node {
    Node {
        name,
        text: text.into(),
        children: Vec::new(),
    }
}

fn parent(name: &'static str, children: Vec<Node>) -> Node {
    Node {
        name,
        text: String::new(),
        children,
    }
}

fn node_xml(n: &Node, out: &mut String) {
    out.push('<');
    out.push_str(n.name);
    out.push('>');
    escape_into(out, &n.text);
    for c in &n.children {
        node_xml(c, out);
    }
    out.push_str("</");
    out.push_str(n.name);
    out.push('>');
}

/// boto3's shape: repeated elements become a plural list key.
fn node_to_json(n: &Node) -> Value {
    if n.children.is_empty() {
        return Value::String(n.text.clone());
    }
    let mut map = Map::new();
    for c in &n.children {
        let list = match (n.name, c.name) {
            (_, "Transition") => Some("Transitions"),
            (_, "NoncurrentVersionTransition") => Some("NoncurrentVersionTransitions"),
            ("And", "Tag") => Some("Tags"),
            _ => None,
        };
        match list {
            Some(key) => {
                let entry = map.entry(key).or_insert_with(|| Value::Array(Vec::new()));
                if let Value::Array(items) = entry {
                    items.push(node_to_json(c));
                }
            }
            None => {
                map.insert(c.name.to_string(), node_to_json(c));
            }
        }
    }
    Value::Object(map)
}

/// A generated rule and what `parse_rules` must read from it.
struct GenRule {
    node: Node,
    enabled: bool,
    prefix: String,
    tags: Vec<(String, String)>,
    expiration_days: Option<u64>,
    noncurrent_days: Option<u64>,
    abort_days: Option<u64>,
}

const OBJECT_KEYS: &[&str] = &["tmp/a", "tmp/b", "logs/x", "logs/y/z", "a", "b", "tmp"];
const PREFIXES: &[&str] = &["", "tmp/", "logs/", "logs/y", "a", "zzz"];
const TAGS: &[(&str, &str)] = &[("k", "v"), ("k", "w"), ("env", "prod")];

fn days(u: &mut Unstructured, min: u64) -> AResult<u64> {
    Ok(match u.int_in_range(0..=7)? {
        0 => pick(u, &[2_147_483_647, 2_147_483_646, 1_000_000, 36_500])?,
        1 => u.int_in_range(min..=2_147_483_647)?,
        _ => u.int_in_range(min..=60)?,
    })
}

fn midnight_date(u: &mut Unstructured) -> AResult<String> {
    let day = u.int_in_range(0i64..=2_932_896)?; // 1970-01-01 .. 9999-12-31
    let s = clock::iso8601(day * DAY_MS);
    Ok(if u.ratio(1, 2)? {
        s.replace(".000Z", "Z")
    } else {
        s
    })
}

fn gen_rule(u: &mut Unstructured, index: usize) -> AResult<GenRule> {
    let mut children = Vec::new();
    let enabled = u.ratio(5, 6)?;
    if u.ratio(3, 4)? {
        children.push(leaf("ID", format!("rule-{index}")));
    }
    children.push(leaf("Status", if enabled { "Enabled" } else { "Disabled" }));
    let mut prefix = String::new();
    let mut tags = Vec::new();
    let mut sized = false;
    let tag_node = |(k, v): (&str, &str)| parent("Tag", vec![leaf("Key", k), leaf("Value", v)]);
    let wants_marker = u.ratio(1, 6)?;
    let size_filter = |u: &mut Unstructured| -> AResult<Vec<Node>> {
        // S3's ranges: greater-than from 0, less-than from 1 and above greater-than.
        let mut out = Vec::new();
        let mut greater = 0;
        if u.ratio(1, 3)? {
            greater = u.int_in_range(0u64..=8)?;
            out.push(leaf("ObjectSizeGreaterThan", greater.to_string()));
        }
        if u.ratio(1, 3)? {
            out.push(leaf(
                "ObjectSizeLessThan",
                u.int_in_range(greater + 1..=9)?.to_string(),
            ));
        }
        Ok(out)
    };
    match u.int_in_range(0..=5)? {
        0 => {}
        1 => {
            prefix = pick(u, PREFIXES)?.to_string();
            children.push(leaf("Prefix", prefix.clone()));
        }
        2 => children.push(parent("Filter", Vec::new())),
        3 => {
            prefix = pick(u, PREFIXES)?.to_string();
            children.push(parent("Filter", vec![leaf("Prefix", prefix.clone())]));
        }
        4 if !wants_marker => {
            let t = pick(u, TAGS)?;
            tags.push((t.0.to_string(), t.1.to_string()));
            children.push(parent("Filter", vec![tag_node(t)]));
        }
        _ => {
            let mut and = Vec::new();
            if u.ratio(1, 2)? {
                prefix = pick(u, PREFIXES)?.to_string();
                and.push(leaf("Prefix", prefix.clone()));
            }
            if !wants_marker {
                for _ in 0..u.int_in_range(0..=2)? {
                    let t = pick(u, TAGS)?;
                    if !tags.iter().any(|(k, _)| k == t.0) {
                        tags.push((t.0.to_string(), t.1.to_string()));
                        and.push(tag_node(t));
                    }
                }
                let sizes = size_filter(u)?;
                sized = !sizes.is_empty();
                and.extend(sizes);
            }
            children.push(parent("Filter", vec![parent("And", and)]));
        }
    }
    let mut expiration_days = None;
    let mut actions = 0;
    match u.int_in_range(0..=5)? {
        0 | 1 => {
            let d = days(u, 1)?;
            expiration_days = Some(d);
            children.push(parent("Expiration", vec![leaf("Days", d.to_string())]));
            actions += 1;
        }
        2 => {
            children.push(parent("Expiration", vec![leaf("Date", midnight_date(u)?)]));
            actions += 1;
        }
        3 if wants_marker => {
            children.push(parent(
                "Expiration",
                vec![leaf("ExpiredObjectDeleteMarker", "true")],
            ));
            actions += 1;
        }
        _ => {}
    }
    for _ in 0..u.int_in_range(0..=2)? {
        let class = pick(u, &["GLACIER", "DEEP_ARCHIVE", "STANDARD_IA", "GLACIER_IR"])?;
        let when = if u.ratio(1, 4)? {
            leaf("Date", midnight_date(u)?)
        } else {
            let min = if class == "STANDARD_IA" { 30 } else { 0 };
            leaf("Days", days(u, min)?.to_string())
        };
        children.push(parent(
            "Transition",
            vec![when, leaf("StorageClass", class)],
        ));
        actions += 1;
    }
    let mut noncurrent_days = None;
    if u.ratio(1, 2)? {
        let d = days(u, 1)?;
        noncurrent_days = Some(d);
        let mut nve = vec![leaf("NoncurrentDays", d.to_string())];
        if u.ratio(1, 3)? {
            nve.push(leaf(
                "NewerNoncurrentVersions",
                u.int_in_range(1u64..=3)?.to_string(),
            ));
        }
        children.push(parent("NoncurrentVersionExpiration", nve));
        actions += 1;
    }
    if u.ratio(1, 3)? {
        let class = pick(u, &["GLACIER", "DEEP_ARCHIVE", "ONEZONE_IA"])?;
        let min = if class == "ONEZONE_IA" { 30 } else { 0 };
        children.push(parent(
            "NoncurrentVersionTransition",
            vec![
                leaf("NoncurrentDays", days(u, min)?.to_string()),
                leaf("StorageClass", class),
            ],
        ));
        actions += 1;
    }
    let mut abort_days = None;
    // S3 refuses AbortIncompleteMultipartUpload in a rule filtered by tags or size.
    if tags.is_empty() && !sized && (u.ratio(1, 3)? || actions == 0) {
        let d = days(u, 1)?;
        abort_days = Some(d);
        children.push(parent(
            "AbortIncompleteMultipartUpload",
            vec![leaf("DaysAfterInitiation", d.to_string())],
        ));
    } else if actions == 0 {
        let d = days(u, 1)?;
        noncurrent_days = Some(d);
        children.push(parent(
            "NoncurrentVersionExpiration",
            vec![leaf("NoncurrentDays", d.to_string())],
        ));
    }
    Ok(GenRule {
        node: parent("Rule", children),
        enabled,
        prefix,
        tags,
        expiration_days,
        noncurrent_days,
        abort_days,
    })
}

fn gen_rules(u: &mut Unstructured) -> AResult<Vec<GenRule>> {
    let n = u.int_in_range(1..=4)?;
    (0..n).map(|i| gen_rule(u, i)).collect()
}

fn lifecycle_doc(rules: &[GenRule]) -> String {
    let mut doc =
        String::from("<LifecycleConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">");
    for r in rules {
        node_xml(&r.node, &mut doc);
    }
    doc.push_str("</LifecycleConfiguration>");
    doc
}

/// `parse_rules` and `validate_lifecycle_doc` on arbitrary XML-ish documents never panic;
/// generated well-formed documents validate and parse into the rules they describe.
pub fn lifecycle_parse(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let check = |doc: &str| {
        let rules = lifecycle::parse_rules(doc);
        match crate::api::validate_lifecycle_doc(doc) {
            Ok(()) => {
                let root = xml::parse(doc.as_bytes()).expect("validated documents parse");
                assert_eq!(rules.len(), root.children_named("Rule").count());
            }
            Err(e) => assert!(is_client_error(&e), "{e:?}"),
        }
        rules
    };
    match mode % 3 {
        0 => {
            check(&String::from_utf8_lossy(rest));
        }
        1 => {
            let mut u = Unstructured::new(rest);
            if let Ok(model) = gen_xml(&mut u) {
                check(&model.doc);
            }
        }
        _ => {
            let mut u = Unstructured::new(rest);
            let Ok(gen) = gen_rules(&mut u) else {
                return;
            };
            let doc = lifecycle_doc(&gen);
            assert!(
                crate::api::validate_lifecycle_doc(&doc).is_ok(),
                "a generated valid document was refused: {doc}"
            );
            let rules = check(&doc);
            assert_eq!(rules.len(), gen.len());
            for (r, g) in rules.iter().zip(&gen) {
                assert_eq!(r.enabled, g.enabled);
                assert_eq!(r.filter.prefix, g.prefix);
                assert_eq!(r.filter.tags, g.tags);
                assert_eq!(r.noncurrent_days, g.noncurrent_days);
                assert_eq!(r.abort_multipart_days, g.abort_days);
                if let Some(d) = g.expiration_days {
                    assert_eq!(r.expiration, Some(When::Days(d)));
                }
            }
        }
    }
}

/// One version as seen before and after a lifecycle pass.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Seen {
    key: String,
    id: String,
    marker: bool,
    lm: Millis,
    class: String,
    size: u64,
    tags: Vec<(String, String)>,
}

impl Seen {
    fn same(&self, other: &Seen) -> bool {
        self.id == other.id && self.marker == other.marker && self.lm == other.lm
    }
}

fn snapshot(bucket: &Bucket) -> BTreeMap<String, Vec<Seen>> {
    let mut out = BTreeMap::new();
    bucket.visit_versions(|key, versions| {
        let seen = versions
            .iter()
            .map(|o| Seen {
                key: key.to_string(),
                id: o.version_id.to_string(),
                marker: o.delete_marker,
                lm: o.last_modified,
                class: o.storage_class.to_string(),
                size: o.size(),
                tags: o.tags().to_vec(),
            })
            .collect();
        out.insert(key.to_string(), seen);
    });
    out
}

fn uploads_of(bucket: &Bucket) -> Vec<(String, String, Millis)> {
    bucket
        .uploads()
        .into_iter()
        .map(|u| (u.key, u.upload_id, u.initiated))
        .collect()
}

fn rule_matches(r: &Rule, v: &Seen) -> bool {
    let f = &r.filter;
    if !v.key.starts_with(&f.prefix) {
        return false;
    }
    if v.marker {
        return f.tags.is_empty() && f.size_greater_than.is_none() && f.size_less_than.is_none();
    }
    f.tags.iter().all(|t| v.tags.contains(t))
        && f.size_greater_than.is_none_or(|n| v.size > n)
        && f.size_less_than.is_none_or(|n| v.size < n)
}

/// When an action is due, exactly (no saturation): the next UTC midnight after `since + days`.
fn exact_due(w: When, since: Millis) -> i128 {
    match w {
        When::Days(d) => {
            let t = since as i128 + d as i128 * DAY_MS as i128;
            t + (-t).rem_euclid(DAY_MS as i128)
        }
        When::Date(t) => t as i128,
    }
}

/// Checks one key's versions after a pass at `now` against what the rules allow.
fn check_key_pass(
    rules: &[Rule],
    versioning: Versioning,
    now: Millis,
    pre: &[Seen],
    post: &[Seen],
) {
    let now_i = now as i128;
    let cur_due = pre.last().is_some_and(|c| {
        !c.marker
            && rules.iter().any(|r| {
                rule_matches(r, c) && r.expiration.is_some_and(|w| exact_due(w, c.lm) <= now_i)
            })
    });
    // The version lists the noncurrent pass may have seen: without an expiration of the
    // current version, and (when one was due) with it.
    let mut scenarios = vec![pre.to_vec()];
    if cur_due {
        let marker = |id: &str| Seen {
            key: pre[0].key.clone(),
            id: id.to_string(),
            marker: true,
            lm: now,
            class: "STANDARD".into(),
            size: 0,
            tags: Vec::new(),
        };
        let mut mid = pre.to_vec();
        match versioning {
            Versioning::Unversioned => mid.clear(),
            Versioning::Enabled => {
                let id = post
                    .iter()
                    .find(|p| p.marker && p.lm == now && !pre.iter().any(|v| v.same(p)))
                    .map_or("new", |p| p.id.as_str());
                mid.push(marker(id));
            }
            Versioning::Suspended => {
                mid.retain(|v| v.id != crate::store::NULL_VERSION);
                mid.push(marker(crate::store::NULL_VERSION));
            }
        }
        scenarios.push(mid);
    }
    let justified_removal = |v: &Seen| {
        scenarios.iter().any(|mid| {
            let Some(i) = mid.iter().position(|m| m.same(v)) else {
                // Removed by the expiration of the current version.
                return true;
            };
            let n = mid.len();
            if i + 1 < n {
                let since = mid[i + 1].lm;
                let newer = (n - 2 - i) as u64;
                if rules.iter().any(|r| {
                    rule_matches(r, v)
                        && r.noncurrent_days.is_some_and(|d| {
                            exact_due(When::Days(d), since) <= now_i
                                && newer >= r.newer_noncurrent_versions
                        })
                }) {
                    return true;
                }
            }
            v.marker
                && post.is_empty()
                && rules
                    .iter()
                    .any(|r| r.expired_object_delete_marker && rule_matches(r, v))
        })
    };
    for v in pre {
        match post.iter().find(|p| p.same(v)) {
            None => assert!(
                justified_removal(v),
                "lifecycle removed {v:?} before it was due (now {now}, {versioning:?}, rules {rules:?}, before {pre:?}, after {post:?})"
            ),
            Some(p) if p.class != v.class => {
                let justified = scenarios.iter().any(|mid| {
                    let Some(i) = mid.iter().position(|m| m.same(v)) else {
                        return false;
                    };
                    let current_due = i + 1 == mid.len()
                        && rules.iter().any(|r| {
                            rule_matches(r, v)
                                && r.transitions.iter().any(|(w, c)| {
                                    *c == p.class && exact_due(*w, v.lm) <= now_i
                                })
                        });
                    let noncurrent_due = i + 1 < mid.len()
                        && rules.iter().any(|r| {
                            rule_matches(r, v)
                                && r.noncurrent_transitions.iter().any(|(d, c)| {
                                    *c == p.class
                                        && exact_due(When::Days(*d), mid[i + 1].lm) <= now_i
                                })
                        });
                    current_due || noncurrent_due
                });
                assert!(
                    justified,
                    "lifecycle moved {v:?} to {} before it was due (now {now}, rules {rules:?})",
                    p.class
                );
            }
            Some(_) => {}
        }
    }
    for p in post {
        if !pre.iter().any(|v| v.same(p)) {
            assert!(
                cur_due && p.marker && p.lm == now && versioning != Versioning::Unversioned,
                "lifecycle created {p:?} without a due expiration (now {now})"
            );
        }
    }
}

fn body_of(u: &mut Unstructured) -> AResult<Body> {
    Ok(Body::from_segments(vec![Bytes::copy_from_slice(bytes(
        u, 9,
    )?)]))
}

/// `run_due` on a bucket with a validated lifecycle document, objects and uploads of arbitrary
/// age and an arbitrary `now`: never a panic, and nothing is removed (or transitioned, or
/// aborted) before a rule makes it due.
pub fn lifecycle_run(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let _ = lifecycle_run_inner(&mut u);
}

fn lifecycle_run_inner(u: &mut Unstructured) -> AResult<()> {
    const BASE: Millis = 1_700_000_000_000;
    let doc = if u.ratio(1, 8)? {
        text(u, 512)?
    } else {
        lifecycle_doc(&gen_rules(u)?)
    };
    if crate::api::validate_lifecycle_doc(&doc).is_err() {
        return Ok(());
    }
    let rules: Vec<Rule> = lifecycle::parse_rules(&doc)
        .into_iter()
        .filter(|r| r.enabled)
        .collect();
    let store = Store::new();
    let run = store.run("fuzz");
    run.create_bucket("fuzz-bucket", "us-east-1");
    let bucket = run.bucket("fuzz-bucket").expect("just created");
    bucket.set_config(ConfigKind::Lifecycle, Some(doc));
    for _ in 0..u.int_in_range(0..=12)? {
        match u.int_in_range(0..=9)? {
            0 => {
                let v = pick(
                    u,
                    &[
                        Versioning::Unversioned,
                        Versioning::Enabled,
                        Versioning::Suspended,
                    ],
                )?;
                // S3 never goes back to unversioned once versioning was on.
                if v != Versioning::Unversioned || bucket.versioning().0 == Versioning::Unversioned
                {
                    bucket.set_versioning(v, None);
                }
            }
            1 => {
                let key = pick(u, OBJECT_KEYS)?;
                let _ = bucket.delete(key, instant(u, BASE)?);
            }
            2 => {
                let key = pick(u, OBJECT_KEYS)?;
                let template = Object::new(key, Body::default(), "", 0);
                let _ = bucket.create_upload(
                    template,
                    None,
                    crate::checksum::ChecksumType::FullObject,
                    instant(u, BASE)?,
                );
            }
            _ => {
                let key = pick(u, OBJECT_KEYS)?;
                let mut o = Object::new(key, body_of(u)?, "", instant(u, BASE)?);
                let mut tags = Vec::new();
                for _ in 0..u.int_in_range(0..=2)? {
                    let (k, v) = pick(u, TAGS)?;
                    if !tags.iter().any(|(tk, _): &(String, String)| tk == k) {
                        tags.push((k.to_string(), v.to_string()));
                    }
                }
                o.extra_mut().tags = tags.into_boxed_slice();
                let _ = bucket.put(o);
            }
        }
    }
    for _ in 0..u.int_in_range(1..=3)? {
        let now = instant(u, BASE)?;
        let versioning = bucket.versioning().0;
        let pre = snapshot(&bucket);
        let pre_uploads = uploads_of(&bucket);
        let _ = lifecycle::run_due(&run, now);
        let post = snapshot(&bucket);
        for (key, before) in &pre {
            let after = post.get(key).map_or(&[][..], Vec::as_slice);
            check_key_pass(&rules, versioning, now, before, after);
        }
        for key in post.keys() {
            assert!(pre.contains_key(key), "lifecycle created key {key}");
        }
        let post_uploads = uploads_of(&bucket);
        for up in &pre_uploads {
            if post_uploads.contains(up) {
                continue;
            }
            let justified = rules.iter().any(|r| {
                r.abort_multipart_days.is_some_and(|d| {
                    up.0.starts_with(&r.filter.prefix)
                        && exact_due(When::Days(d), up.2) <= now as i128
                })
            });
            assert!(
                justified,
                "upload {up:?} aborted before it was due (now {now})"
            );
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Other request headers and routing

const REQUEST_HEADERS: &[&str] = &[
    "x-amz-meta-a",
    "x-amz-meta-b",
    "x-amz-meta-",
    "x-amz-tagging",
    "x-amz-copy-source",
    "x-amz-copy-source-range",
    "x-amz-acl",
    "x-amz-storage-class",
    "content-type",
    "range",
    "if-match",
];

const REQUEST_VALUES: &[&str] = &[
    "=?UTF-8?B?bmHDr3ZlIGNhZsOp?=",
    "=?utf-8?Q?caf=C3=A9_au_lait?=",
    "=?iso-8859-1?q?=E9?=",
    "=?UTF-8?B?/w==?=",
    "=?=",
    "=?x?Q?=?=",
    "a=1&b=2",
    "k=&=v&&",
    "%FF=%00",
    "/bucket/key?versionId=1",
    "bucket/a%20b",
    "bytes=0-1",
    "private",
    "GLACIER",
    "",
];

/// User metadata (RFC 2047), tagging strings, ETag lists, presigned-URL expiry and routing
/// with arbitrary method, bucket, key, query and headers: Ok or a client error, and non-ASCII
/// metadata round-trips through its RFC 2047 form.
pub fn request_headers(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let _ = (|| -> AResult<()> {
        let mut headers = HeaderMap::new();
        for _ in 0..u.int_in_range(0..=6)? {
            let name = word(&mut u, REQUEST_HEADERS, 12)?;
            if u.ratio(1, 4)? {
                if let (Ok(n), Ok(v)) = (
                    HeaderName::from_bytes(name.as_bytes()),
                    HeaderValue::from_bytes(bytes(&mut u, 48)?),
                ) {
                    headers.append(n, v);
                }
            } else {
                let v = word(&mut u, REQUEST_VALUES, 32)?;
                insert(&mut headers, &name, &v);
            }
        }
        if let Err(e) = crate::wire::headers::user_metadata(&headers) {
            assert!(is_client_error(&e), "{e:?}");
        }
        let value = text(&mut u, 48)?;
        let encoded = crate::wire::headers::encode_metadata_value(&value);
        assert!(HeaderValue::from_str(&encoded).is_ok(), "{encoded:?}");
        if encoded != value {
            assert_eq!(
                crate::wire::headers::decode_rfc2047(&encoded).as_deref(),
                Some(value.as_str())
            );
        }
        let _ = crate::wire::headers::decode_rfc2047(&value);
        match crate::wire::headers::parse_tagging(&value) {
            Ok(tags) => assert!(tags.len() <= crate::wire::headers::MAX_OBJECT_TAGS),
            Err(e) => assert_eq!(e.code, Code::InvalidTag),
        }
        let _ = crate::wire::headers::etag_matches(&value, "e");
        let q = Query::parse(Some(&word(
            &mut u,
            &[
                "X-Amz-Expires=604800&X-Amz-Date=99991231T235959Z",
                "X-Amz-Expires=-1",
                "X-Amz-Expires=1&X-Amz-Date=00000101T000000Z",
                "AWSAccessKeyId=a&Signature=b&Expires=9223372036854775807",
                "AWSAccessKeyId=a&Signature=b&Expires=-9223372036854775808",
                "list-type=2&prefix=a",
                "uploads",
                "uploadId=x&partNumber=1",
                "versioning",
                "tagging&versionId=1",
                "lifecycle",
                "acl",
                "",
            ],
            48,
        )?));
        if let Err(e) = crate::auth::presign::check_expiry(&q, instant(&mut u, 1_800_000_000_000)?)
        {
            assert!(is_client_error(&e), "{e:?}");
        }
        let method = u
            .choose(&[
                http::Method::GET,
                http::Method::PUT,
                http::Method::POST,
                http::Method::DELETE,
                http::Method::HEAD,
                http::Method::PATCH,
                http::Method::OPTIONS,
            ])?
            .clone();
        let bucket = if u.ratio(1, 5)? {
            None
        } else {
            Some(word(&mut u, &["b", "my-bucket", ""], 8)?)
        };
        let key = if u.ratio(1, 3)? {
            None
        } else {
            Some(text(&mut u, 16)?)
        };
        match crate::server::router::route(&method, bucket.as_deref(), key.as_deref(), &q, &headers)
        {
            Ok(op) => {
                let _ = op.name();
            }
            Err(e) => assert!(
                is_client_error(&e) || e.code == Code::NotImplemented,
                "{e:?}"
            ),
        }
        Ok(())
    })();
}

/// A `NotificationConfiguration` made of pieces S3 accepts and pieces it refuses.
fn gen_notification(u: &mut Unstructured) -> AResult<String> {
    const KINDS: [(&str, &str, &str); 4] = [
        (
            "QueueConfiguration",
            "Queue",
            "arn:aws:sqs:us-east-1:000000000000:q",
        ),
        (
            "TopicConfiguration",
            "Topic",
            "arn:aws:sns:us-east-1:000000000000:t",
        ),
        (
            "CloudFunctionConfiguration",
            "CloudFunction",
            "arn:aws:lambda:us-east-1:000000000000:function:f",
        ),
        ("EventBridgeConfiguration", "", ""),
    ];
    let mut doc = String::from("<NotificationConfiguration>");
    for _ in 0..u.int_in_range(0..=6)? {
        let (element, target, arn) = *u.choose(&KINDS)?;
        doc.push_str(&format!("<{element}>"));
        if !target.is_empty() {
            if u.arbitrary()? {
                doc.push_str(&format!("<Id>{}</Id>", u.int_in_range(0..=3u8)?));
            }
            let arn = if u.ratio(1, 5)? {
                text(u, 40)?
            } else {
                arn.to_string()
            };
            let mut escaped = String::new();
            escape_into(&mut escaped, &arn);
            doc.push_str(&format!("<{target}>{escaped}</{target}>"));
            for _ in 0..u.int_in_range(0..=3)? {
                let event = if u.ratio(1, 8)? {
                    "s3:Nonsense:*"
                } else {
                    *u.choose(&crate::events::config::EVENTS)?
                };
                doc.push_str(&format!("<Event>{event}</Event>"));
            }
            if u.arbitrary()? {
                doc.push_str("<Filter><S3Key>");
                for _ in 0..u.int_in_range(0..=3)? {
                    let name = *u.choose(&["prefix", "Suffix", "other"])?;
                    let mut value = String::new();
                    escape_into(&mut value, &text(u, 8)?);
                    doc.push_str(&format!(
                        "<FilterRule><Name>{name}</Name><Value>{value}</Value></FilterRule>"
                    ));
                }
                doc.push_str("</S3Key></Filter>");
            }
        }
        doc.push_str(&format!("</{element}>"));
    }
    doc.push_str("</NotificationConfiguration>");
    Ok(doc)
}

/// Notification configurations: checking never panics and refuses with client errors; an
/// accepted document, stored with its generated ids, parses back into the same rules; records'
/// key encoding is plain ASCII that decodes back to the key.
pub fn notification_parse(data: &[u8]) {
    use crate::events::config::{parse, with_ids};
    use crate::events::{record::encode_key, Notification};
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let mut u = Unstructured::new(rest);
    let (doc, key) = if mode % 2 == 0 {
        (String::from_utf8_lossy(rest).into_owned(), "k".to_string())
    } else {
        match (gen_notification(&mut u), text(&mut u, 24)) {
            (Ok(d), Ok(k)) => (d, k),
            _ => return,
        }
    };
    let Ok(root) = xml::parse(doc.as_bytes()) else {
        return;
    };
    match parse(&root, Some("us-east-1")) {
        Err(e) => assert!(is_client_error(&e), "{e:?}"),
        Ok(n) => {
            let stored = with_ids(doc.clone(), &root);
            let again = Notification::from_doc(&stored);
            assert_eq!(again.rules.len(), n.rules.len(), "{stored}");
            assert_eq!(again.event_bridge, n.event_bridge);
            assert!(again.rules.iter().all(|r| !r.id.is_empty()), "{stored}");
            for r in &again.rules {
                let _ = r.wants("s3:ObjectCreated:Put", &key);
            }
        }
    }
    let encoded = encode_key(&key);
    assert!(encoded.is_ascii());
    let spaced = encoded.replace('+', " ");
    let decoded = percent_encoding::percent_decode_str(&spaced)
        .decode_utf8()
        .expect("utf-8");
    assert_eq!(decoded, key.as_str());
}

// ---------------------------------------------------------------------------------------------
// POST object policies

/// A POST policy (raw bytes as base64, or a JSON document built from S3's condition forms)
/// parses or is `InvalidPolicyDocument`; checked against any form it passes (with the length
/// range as written) or is refused with `AccessDenied`, never a panic.
pub fn post_policy(data: &[u8]) {
    use crate::api::post_object::{check_policy, parse_policy, Form, FormField};
    use base64::Engine;
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    const FIELDS: &[&str] = &[
        "$key",
        "$bucket",
        "$Content-Type",
        "key",
        "$x-amz-meta-a",
        "$acl",
    ];
    const OPS: &[&str] = &["eq", "starts-with", "content-length-range", "EQ", "in"];
    let mut u = Unstructured::new(rest);
    let _ = (|| -> AResult<()> {
        let policy = if mode & 1 == 0 {
            match mode & 2 {
                0 => b64(rest),
                _ => String::from_utf8_lossy(rest).into_owned(),
            }
        } else {
            let mut conditions = Vec::new();
            for _ in 0..u.int_in_range(0..=6)? {
                let value = match u.int_in_range(0..=3)? {
                    0 => json!(text(&mut u, 12)?),
                    1 => json!(u.int_in_range(0..=20u64)?),
                    2 => json!(-1),
                    _ => Value::Null,
                };
                conditions.push(match u.int_in_range(0..=3)? {
                    0 => json!({ word(&mut u, &["bucket", "key", "acl"], 8)?: value }),
                    1 => json!([pick(&mut u, OPS)?, pick(&mut u, FIELDS)?, value]),
                    2 => json!([pick(&mut u, OPS)?, value, u.int_in_range(0..=20u64)?]),
                    _ => json!([pick(&mut u, OPS)?]),
                });
            }
            let expiration = pick(
                &mut u,
                &["2030-01-01T00:00:00Z", "2000-01-01T00:00:00Z", "x"],
            )?;
            b64(
                json!({ "expiration": expiration, "conditions": conditions })
                    .to_string()
                    .as_bytes(),
            )
        };
        let parsed = match parse_policy(&policy) {
            Ok(p) => p,
            Err(e) => {
                assert_eq!(e.code, Code::InvalidPolicyDocument, "{e:?}");
                return Ok(());
            }
        };
        let mut form = Form { fields: Vec::new() };
        for _ in 0..u.int_in_range(0..=4)? {
            form.fields.push(FormField {
                name: word(
                    &mut u,
                    &["key", "Content-Type", "acl", "x-amz-meta-a", "x-ignore-z"],
                    12,
                )?,
                value: text(&mut u, 12)?,
            });
        }
        let now = pick(&mut u, &[0, 1_900_000_000_000, MAX_INSTANT])?;
        match check_policy(&parsed, &form, "bucket", &text(&mut u, 12)?, now) {
            Ok(Some((min, max))) => assert!(min <= 20 && max <= 20),
            Ok(None) => {}
            Err(e) => assert_eq!(e.code, Code::AccessDenied, "{e:?}"),
        }
        Ok(())
    })();
}

// ---------------------------------------------------------------------------------------------
// Authentication and authorization inputs: Authorization headers, signed paths and queries,
// chunk-signed bodies, bucket policies.

/// Parses whatever a client may send as credentials and whatever a bucket owner may store as
/// a policy; nothing panics, a parsed claim is what was sent, a verified signature is the one
/// computed, and a policy's decision does not depend on anything but its input.
pub fn auth(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let _ = auth_inner(&mut u);
}

fn auth_inner(u: &mut Unstructured) -> AResult<()> {
    use crate::auth::policy::condition::Facts;
    use crate::auth::policy::eval::{evaluate, PolicyRequest};
    use crate::auth::policy::Policy;
    use crate::auth::{sigv2, sigv4, Principal, SigningFacts};
    let header = match u.int_in_range(0..=2)? {
        0 => text(u, 300)?,
        _ => format!(
            "AWS4-HMAC-SHA256 Credential={}/{}/{}/{}/{}, SignedHeaders={}, Signature={}",
            word(u, &["AK", "parlel", ""], 8)?,
            word(u, &["20261201", "2026", ""], 10)?,
            word(u, &["us-east-1", "", "eu west"], 10)?,
            word(u, &["s3", "ec2"], 4)?,
            word(u, &["aws4_request", "x"], 12)?,
            word(u, &["host", "host;x-amz-date", "", ";;"], 20)?,
            text(u, 70)?,
        ),
    };
    let amz_date = word(u, &["20261201T000000Z", ""], 20)?;
    if let Ok(claim) = sigv4::parse_header(&header, Some(&amz_date)) {
        assert!(header.contains(&claim.access_key));
        let mut headers = HeaderMap::new();
        for _ in 0..u.int_in_range(0..=4)? {
            let name = word(u, &["host", "x-amz-date", "range", "x-amz-meta-a"], 12)?;
            let value = text(u, 40)?;
            if let (Ok(n), Ok(v)) = (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(&value),
            ) {
                headers.append(n, v);
            }
        }
        let path = format!("/{}", text(u, 60)?);
        let query = text(u, 60)?;
        let facts = SigningFacts {
            method: &http::Method::GET,
            raw_path: &path,
            raw_query: Some(&query),
            headers: &headers,
        };
        let canonical = sigv4::canonical_request(&facts, &claim, "UNSIGNED-PAYLOAD");
        assert!(canonical.starts_with("GET\n"));
        let key = sigv4::signing_key("secret", &claim.day, &claim.region);
        let sts = sigv4::string_to_sign(&claim, &canonical);
        let good = hex::encode(sigv4::hmac(&key, sts.as_bytes()));
        let mut signed = claim.clone();
        signed.signature = good;
        assert!(sigv4::verify(&facts, &signed, "secret", "UNSIGNED-PAYLOAD").is_ok());
        let _ = sigv2::string_to_sign(&facts, "", &sigv2::resource(&path, Some("b")));
    }
    let path = text(u, 80)?;
    let resource = sigv2::resource(&path, Some("bkt"));
    assert!(resource.starts_with("/bkt/"));

    // A chunk verifier fed arbitrary bytes in arbitrary pieces.
    let mut v = crate::auth::chunk_signature::ChunkVerifier::new(
        [0; 32],
        "AK",
        "20261201T000000Z",
        "scope",
        "seed",
        u.arbitrary()?,
    );
    let wire = bytes(u, 600)?;
    let mut rest = wire;
    while !rest.is_empty() {
        let n = u.int_in_range(1..=rest.len())?;
        let (piece, tail) = rest.split_at(n);
        use crate::wire::timed_body::Observer;
        if v.observe(&Bytes::copy_from_slice(piece)).is_err() {
            break;
        }
        rest = tail;
    }

    // Policies: JSON trees (mostly policy-shaped) parsed, judged, twice the same.
    let doc = match u.int_in_range(0..=1)? {
        0 => text(u, 400)?,
        _ => json!({ "Statement": [{
            "Effect": word(u, &["Allow", "Deny"], 6)?,
            "Principal": word(u, &["*"], 4)?,
            "Action": word(u, &["s3:*", "s3:Get*", "*", "s3:GetObject"], 12)?,
            "Resource": word(u, &["arn:aws:s3:::b/*", "*", "arn:aws:s3:::b/${aws:username}/*"], 30)?,
            "Condition": { word(u, &["StringLike", "IpAddress", "ForAllValues:StringEquals", "NullIfExists", "DateLessThan"], 30)?:
                { word(u, &["s3:prefix", "aws:SourceIp", "aws:CurrentTime"], 20)?: text(u, 30)? } }
        }]})
        .to_string(),
    };
    let policy = Policy::parse(&doc);
    let _ = policy.is_public();
    let mut facts = Facts::default();
    facts.set("aws:SourceIp", "127.0.0.1");
    facts.set("s3:prefix", text(u, 20)?);
    facts.set("aws:CurrentTime", "2026-12-01T00:00:00Z");
    let target = format!("arn:aws:s3:::b/{}", text(u, 40)?);
    let request = PolicyRequest {
        principal: &Principal::Anonymous,
        action: "s3:GetObject",
        resource: &target,
        facts: &facts,
    };
    assert_eq!(evaluate(&policy, &request), evaluate(&policy, &request));
    Ok(())
}
