//! Receiving a request body: frame by frame, decoding aws-chunked framing, computing MD5 and
//! the checksums on the fly, keeping the frames themselves as the object's segments (no second
//! buffer), then verifying everything the client declared.

use super::aws_chunked::AwsChunkedDecoder;
use super::body_md5::BodyMd5;
use crate::checksum::{self, Checksum, ChecksumAlgorithm, ChecksumHasher, ChecksumType};
use crate::error::{Code, S3Error, S3Result};
use bytes::{Bytes, BytesMut};
use http::HeaderMap;
use http_body::Body as HttpBody;
use http_body_util::BodyExt;
use sha2::{Digest, Sha256};

/// What the request headers say about its body.
#[derive(Debug, Default, Clone)]
pub struct BodySpec {
    /// Payload length: `Content-Length`, or `x-amz-decoded-content-length` for aws-chunked.
    pub length: Option<u64>,
    pub aws_chunked: bool,
    /// `x-amz-checksum-<algo>` header: algorithm and the raw digest it claims.
    pub header_checksum: Option<(ChecksumAlgorithm, Vec<u8>)>,
    /// `x-amz-trailer: x-amz-checksum-<algo>`: the value comes after the body.
    pub trailer_checksum: Option<ChecksumAlgorithm>,
    pub content_md5: Option<Vec<u8>>,
    /// A hex `x-amz-content-sha256` (not one of the UNSIGNED/STREAMING markers).
    pub content_sha256: Option<Vec<u8>>,
}

/// A body as stored: its frames (or its body file, with `--data-dir`), length, MD5 and the
/// checksum kept with the object.
#[derive(Debug)]
pub struct ReceivedBody {
    pub segments: Vec<Bytes>,
    /// The body, when it was written to a body file as it came.
    pub stored: Option<crate::store::Body>,
    pub len: u64,
    pub md5: [u8; 16],
    /// The checksum kept with the object: the client's, else the default one.
    pub checksum: Option<Checksum>,
    /// The default algorithm's checksum too, when the client sent a different one.
    pub default_checksum: Option<Checksum>,
}

impl ReceivedBody {
    /// The checksum computed with `algo`, if it was computed.
    pub fn checksum_for(&self, algo: ChecksumAlgorithm) -> Option<Checksum> {
        [&self.checksum, &self.default_checksum]
            .into_iter()
            .flatten()
            .find(|c| c.algorithm == algo)
            .cloned()
    }

    /// The body as the store keeps it: the file it was written to, or its frames.
    pub fn take_body(&mut self) -> crate::store::Body {
        match self.stored.take() {
            Some(body) => body,
            None => crate::store::Body::from_segments(std::mem::take(&mut self.segments)),
        }
    }

    pub fn md5_hex(&self) -> String {
        hex::encode(self.md5)
    }

    /// Joins the segments; for small request documents (XML) only.
    pub fn into_bytes(self) -> Bytes {
        if self.segments.len() == 1 {
            return self.segments.into_iter().next().unwrap_or_default();
        }
        let mut v = Vec::with_capacity(self.len as usize);
        for s in &self.segments {
            v.extend_from_slice(s);
        }
        v.into()
    }
}

const STREAMING_MARKERS: [&str; 5] = [
    "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
    "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
    "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
    "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD",
    "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER",
];

use super::headers::value as header_str;

fn parse_len(headers: &HeaderMap, name: &str) -> S3Result<Option<u64>> {
    match super::headers::get(headers, name) {
        None => Ok(None),
        Some(v) => v
            .to_str()
            .ok()
            .and_then(|s| s.trim().parse::<u64>().ok())
            .map(Some)
            .ok_or_else(|| {
                S3Error::invalid_argument(
                    format!("Invalid {name}"),
                    name,
                    String::from_utf8_lossy(v.as_bytes()),
                )
            }),
    }
}

fn invalid_checksum_value(header: &str, trailing: bool) -> S3Error {
    let what = if trailing {
        "trailing header"
    } else {
        "header"
    };
    S3Error::invalid_request(format!("Value for {header} {what} is invalid."))
}

fn decode_checksum(algo: ChecksumAlgorithm, value: &str, trailing: bool) -> S3Result<Vec<u8>> {
    checksum::b64_decode(value)
        .filter(|d| d.len() == algo.digest_len())
        .ok_or_else(|| invalid_checksum_value(algo.header(), trailing))
}

impl BodySpec {
    /// Reads and validates the body-describing headers, before any byte of the body is read.
    pub fn from_headers(headers: &HeaderMap) -> S3Result<BodySpec> {
        let mut spec = BodySpec::default();
        let sha = header_str(headers, "x-amz-content-sha256");
        match sha {
            None | Some("UNSIGNED-PAYLOAD") => {}
            Some(s) if STREAMING_MARKERS.contains(&s) => spec.aws_chunked = true,
            Some(s) => match hex::decode(s) {
                Ok(d) if d.len() == 32 => spec.content_sha256 = Some(d),
                _ => {
                    return Err(S3Error::invalid_argument(
                        "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER, STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD, STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER or a valid sha256 value.",
                        "x-amz-content-sha256",
                        s,
                    ))
                }
            },
        }
        if header_str(headers, "content-encoding").is_some_and(|ce| {
            ce.split(',')
                .any(|p| p.trim().eq_ignore_ascii_case("aws-chunked"))
        }) {
            spec.aws_chunked = true;
        }
        spec.length = if spec.aws_chunked {
            parse_len(headers, "x-amz-decoded-content-length")?
        } else {
            parse_len(headers, "content-length")?
        };

        if let Some(v) = super::headers::get(headers, "content-md5") {
            let d = v
                .to_str()
                .ok()
                .and_then(checksum::b64_decode)
                .filter(|d| d.len() == 16)
                .ok_or_else(|| {
                    S3Error::new(Code::InvalidDigest)
                        .extra("Content-MD5", String::from_utf8_lossy(v.as_bytes()))
                })?;
            spec.content_md5 = Some(d);
        }

        let mut found: Option<(ChecksumAlgorithm, Vec<u8>)> = None;
        for (name, value) in headers {
            let Some(algo) = ChecksumAlgorithm::from_header(name.as_str()) else {
                continue;
            };
            if found.is_some() {
                return Err(S3Error::invalid_request(
                    "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.",
                ));
            }
            let value = value
                .to_str()
                .map_err(|_| invalid_checksum_value(algo.header(), false))?;
            found = Some((algo, decode_checksum(algo, value, false)?));
        }
        spec.header_checksum = found;

        if let Some(t) = header_str(headers, "x-amz-trailer") {
            let algo = ChecksumAlgorithm::from_header(t.trim()).ok_or_else(|| {
                S3Error::invalid_request(format!(
                    "The value specified in the x-amz-trailer header is not supported: {t}"
                ))
            })?;
            if spec.header_checksum.is_some() {
                return Err(S3Error::invalid_request(
                    "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.",
                ));
            }
            spec.trailer_checksum = Some(algo);
        }

        if let Some(sdk) = header_str(headers, "x-amz-sdk-checksum-algorithm") {
            let algo = ChecksumAlgorithm::from_name(sdk.trim()).ok_or_else(|| {
                S3Error::invalid_request(
                    "Value for x-amz-sdk-checksum-algorithm header is invalid.",
                )
            })?;
            let declared = spec
                .header_checksum
                .as_ref()
                .map(|(a, _)| *a)
                .or(spec.trailer_checksum);
            match declared {
                None => return Err(S3Error::invalid_request(
                    "x-amz-sdk-checksum-algorithm specified, but no corresponding x-amz-checksum-* or x-amz-trailer headers were found.",
                )),
                Some(d) if d != algo => {
                    return Err(S3Error::invalid_request(format!(
                        "Value for x-amz-sdk-checksum-algorithm header is invalid. Expected {}",
                        d.name()
                    )))
                }
                _ => {}
            }
        }
        Ok(spec)
    }

    /// The algorithm whose checksum will be kept with the object.
    fn kept_algorithm(&self, default: Option<ChecksumAlgorithm>) -> Option<ChecksumAlgorithm> {
        self.header_checksum
            .as_ref()
            .map(|(a, _)| *a)
            .or(self.trailer_checksum)
            .or(default)
    }
}

fn bad_checksum(algo: ChecksumAlgorithm) -> S3Error {
    S3Error::with_message(
        Code::BadDigest,
        format!(
            "The {} you specified did not match the calculated checksum.",
            algo.name()
        ),
    )
}

/// Reads `body` according to `spec`. `default_checksum` is computed as well as the client's
/// (S3 keeps a CRC64NVME for every new object; an upload keeps its own algorithm). `max_len` bounds the payload (EntityTooLarge).
pub async fn receive<B>(
    body: B,
    spec: &BodySpec,
    default_checksum: Option<ChecksumAlgorithm>,
    max_len: u64,
) -> S3Result<ReceivedBody>
where
    B: HttpBody<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    receive_into(body, spec, default_checksum, max_len, None).await
}

/// `receive`, writing the body to a new body file as it streams when `files` is given
/// (`--data-dir`): memory stays bounded by one gathering buffer whatever the body's size.
pub async fn receive_into<B>(
    body: B,
    spec: &BodySpec,
    default_checksum: Option<ChecksumAlgorithm>,
    max_len: u64,
    files: Option<&std::sync::Arc<crate::store::persist::files::Files>>,
) -> S3Result<ReceivedBody>
where
    B: HttpBody<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    if let Some(len) = spec.length {
        if len > max_len {
            return Err(S3Error::new(Code::EntityTooLarge)
                .extra("ProposedSize", len.to_string())
                .extra("MaxSizeAllowed", max_len.to_string()));
        }
    }
    let algo = spec.kept_algorithm(default_checksum);
    let extra_algo = default_checksum.filter(|d| Some(*d) != algo);
    let mut sink = Sink {
        segments: Vec::new(),
        gather: BytesMut::new(),
        len: 0,
        // Nothing past the declared length is kept: an aws-chunked body that says 10 bytes
        // fails at the first byte more, not after buffering the rest.
        limit: spec.length.unwrap_or(max_len).min(max_len),
        declared: spec.length.is_some(),
        over: false,
        md5: BodyMd5::for_length(spec.length),
        sha256: spec.content_sha256.as_ref().map(|_| Sha256::new()),
        checksum: algo.map(|a| a.hasher()),
        extra: extra_algo.map(|a| a.hasher()),
        files: files.cloned(),
        spare: Vec::new(),
        file: None,
        file_error: None,
    };
    let too_large = |len: u64| {
        S3Error::new(Code::EntityTooLarge)
            .extra("ProposedSize", len.to_string())
            .extra("MaxSizeAllowed", max_len.to_string())
    };
    let mut decoder = spec.aws_chunked.then(AwsChunkedDecoder::new);
    let mut body = std::pin::pin!(body);
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| frame_error(e.into()))?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        match decoder.as_mut() {
            Some(d) => d.feed(data, &mut |piece| sink.push(piece))?,
            None => sink.push(data),
        }
        sink.md5.feed(&mut sink.spare).await;
        if let Some(e) = sink.file_error.take() {
            return Err(body_file_error(e));
        }
        if sink.over {
            return Err(match spec.length {
                Some(declared) if declared <= max_len => S3Error::new(Code::IncompleteBody),
                _ => too_large(sink.len.saturating_add(1)),
            });
        }
    }
    if let Some(d) = decoder.as_mut() {
        d.finish()?;
    }
    if let Some(expected) = spec.length {
        if sink.len != expected {
            return Err(S3Error::new(Code::IncompleteBody));
        }
    }
    sink.flush(true);
    let packed = match &sink.files {
        // A body that never reached SPILL_AT is whole in memory: one append to a pack.
        Some(f) if sink.file.is_none() && f.packs_small(sink.len) => Some(
            f.append(&std::mem::take(&mut sink.segments))
                .map_err(body_file_error)?,
        ),
        _ => None,
    };
    sink.spill();
    if let Some(e) = sink.file_error.take() {
        return Err(body_file_error(e));
    }

    let md5 = std::mem::replace(&mut sink.md5, BodyMd5::Inline(Default::default()))
        .finish()
        .await
        .ok_or_else(|| S3Error::internal("the body's MD5 could not be computed"))?;
    if let (Some(claimed), Some(hasher)) = (&spec.content_sha256, sink.sha256.take()) {
        let computed = hasher.finalize();
        if claimed[..] != computed[..] {
            return Err(S3Error::new(Code::XAmzContentSHA256Mismatch)
                .extra("ClientComputedContentSHA256", hex::encode(claimed))
                .extra("S3ComputedContentSHA256", hex::encode(computed)));
        }
    }
    if let Some(claimed) = &spec.content_md5 {
        if claimed[..] != md5[..] {
            return Err(S3Error::new(Code::BadDigest)
                .extra("ExpectedDigest", checksum::b64(claimed))
                .extra("CalculatedDigest", checksum::b64(&md5)));
        }
    }
    let computed = sink.checksum.take().map(ChecksumHasher::finish);
    let claimed = match (spec.trailer_checksum, &spec.header_checksum) {
        (Some(t), _) => {
            let trailers = decoder.as_ref().map(|d| d.trailers()).unwrap_or(&[]);
            let value = trailers
                .iter()
                .find(|(n, _)| n == t.header())
                .map(|(_, v)| v.as_str())
                .ok_or_else(|| S3Error::new(Code::IncompleteBody))?;
            Some((t, decode_checksum(t, value, true)?))
        }
        (None, Some((a, d))) => Some((*a, d.clone())),
        (None, None) => None,
    };
    if let (Some((algo, claimed)), Some(computed)) = (&claimed, &computed) {
        if claimed != computed {
            return Err(bad_checksum(*algo));
        }
    }
    let full_object = |algorithm, digest: Vec<u8>| Checksum {
        algorithm,
        value: checksum::b64_value(&digest),
        kind: ChecksumType::FullObject,
    };
    let checksum = algo.zip(computed).map(|(a, d)| full_object(a, d));
    let default_checksum = extra_algo
        .zip(sink.extra.take().map(ChecksumHasher::finish))
        .map(|(a, d)| full_object(a, d));
    let stored = match (packed, sink.file.take(), &sink.files) {
        (Some(body), _, _) => Some(body),
        (None, Some(w), _) => Some(w.finish().map_err(body_file_error)?),
        // Nothing came: an empty body needs no file.
        (None, None, Some(_)) => Some(crate::store::Body::default()),
        (None, None, None) => None,
    };
    Ok(ReceivedBody {
        segments: sink.segments,
        stored,
        len: sink.len,
        md5,
        checksum,
        default_checksum,
    })
}

/// Frames at least this long are kept as they arrived (no copy). Shorter ones are gathered
/// into buffers of our own, so a stored body never pins a connection's read buffer (a 1-byte
/// object sent after a 200 KB header) nor costs a segment per tiny frame (a body sent as a
/// million 1-byte aws-chunked chunks): its memory stays within a small constant of its length.
const KEEP_FRAMES_FROM: usize = 128 * 1024;
/// Largest buffer short frames are gathered into.
const GATHER_MAX: usize = 1024 * 1024;
/// First gathering buffer when the length is not declared.
const GATHER_MIN: usize = 8 * 1024;

struct Sink {
    segments: Vec<Bytes>,
    gather: BytesMut,
    len: u64,
    /// Most payload bytes accepted; `over` is set (and the data dropped) past it.
    limit: u64,
    /// Whether `limit` is the declared length (else only the size cap).
    declared: bool,
    over: bool,
    md5: BodyMd5,
    sha256: Option<Sha256>,
    checksum: Option<ChecksumHasher>,
    extra: Option<ChecksumHasher>,
    /// Where bodies are written (`--data-dir`), and the body file, made at the first byte.
    files: Option<std::sync::Arc<crate::store::persist::files::Files>>,
    /// Gathering buffers written out and hashed, to be filled again (`--data-dir`).
    spare: Vec<BytesMut>,
    file: Option<crate::store::persist::files::BodyWriter>,
    file_error: Option<std::io::Error>,
}

/// Bytes held before they are written to the body file: a body that ends below it goes to a
/// pack (`persist::packs::PACK_BELOW`) instead of a file of its own.
const SPILL_AT: u64 = crate::store::persist::packs::PACK_BELOW;

/// A body that could not be written to its file or pack (`--data-dir`): logged, and a 500.
pub(crate) fn body_file_error(e: std::io::Error) -> S3Error {
    tracing::error!(error = %e, "body file write failed");
    S3Error::internal(format!("cannot write the body: {e}"))
}

impl Sink {
    fn push(&mut self, data: Bytes) {
        if data.is_empty() || self.over {
            return;
        }
        let n = data.len() as u64;
        if self.len.saturating_add(n) > self.limit {
            self.over = true;
            return;
        }
        self.md5.piece(&data);
        if let Some(h) = self.sha256.as_mut() {
            h.update(&data);
        }
        if let Some(h) = self.checksum.as_mut() {
            h.update(&data);
        }
        if let Some(h) = self.extra.as_mut() {
            h.update(&data);
        }
        self.len += n;
        // With `--data-dir` every frame is copied: a frame kept while it waits to be hashed
        // pins the connection's read buffer, which is then allocated anew for each read
        // (a streamed 1 GiB PUT peaked at 100 MiB instead of 9); our own buffers are reused.
        if data.len() >= KEEP_FRAMES_FROM && self.files.is_none() {
            self.flush(false);
            self.md5.segment(&data);
            self.segments.push(data);
            return;
        }
        if self.gather.capacity() - self.gather.len() < data.len() {
            self.flush(false);
            // Size the buffer by what is still to come when that is known (a small body gets
            // an exact allocation), else grow geometrically.
            let want = if !self.declared {
                (self.gather.capacity() * 2).clamp(GATHER_MIN, GATHER_MAX)
            } else {
                let rest = self.limit - (self.len - n);
                usize::try_from(rest).unwrap_or(GATHER_MAX).min(GATHER_MAX)
            };
            let want = want.max(data.len());
            self.gather = match self.spare.pop() {
                Some(b) if b.capacity() >= want => b,
                _ => BytesMut::with_capacity(want),
            };
        }
        self.gather.extend_from_slice(&data);
        // Everything held counts, the buffers flushed when a piece did not fit too (pieces
        // that do not divide a buffer's size never fill it exactly).
        if self.files.is_some() && self.held() >= SPILL_AT {
            self.flush(false);
            self.spill();
        }
    }

    /// Bytes received and not yet written to the body file.
    fn held(&self) -> u64 {
        let written = self.file.as_ref().map_or(0, |w| w.written());
        self.len.saturating_sub(written)
    }

    /// Writes the segments so far to the body file (`--data-dir`) and lets them go.
    fn spill(&mut self) {
        let Some(files) = &self.files else {
            return;
        };
        if self.segments.is_empty() || self.file_error.is_some() {
            return;
        }
        if self.file.is_none() {
            match files.create() {
                Ok(w) => self.file = Some(w),
                Err(e) => {
                    self.file_error = Some(e);
                    return;
                }
            }
        }
        let Some(w) = self.file.as_mut() else {
            return;
        };
        for s in self.segments.drain(..) {
            if self.file_error.is_none() {
                if let Err(e) = w.write(&s) {
                    self.file_error = Some(e);
                }
            }
        }
    }

    /// Moves gathered bytes into a segment. At the end (`last`), a buffer much larger than
    /// what it holds is copied to an exact one instead of being kept half empty.
    fn flush(&mut self, last: bool) {
        if self.gather.is_empty() {
            return;
        }
        let spare = self.gather.capacity() - self.gather.len();
        let seg = if last && spare > self.gather.len().max(4096) {
            Bytes::copy_from_slice(&self.gather)
        } else if self.files.is_some() {
            // The whole buffer, so that it can come back whole to be reused.
            std::mem::take(&mut self.gather).freeze()
        } else {
            self.gather.split().freeze()
        };
        self.md5.segment(&seg);
        self.segments.push(seg);
    }
}

/// A failed body read: the idle timeout (`RequestTimeout`) or a broken or short stream.
fn frame_error(e: Box<dyn std::error::Error + Send + Sync>) -> S3Error {
    if let Some(refused) = e.downcast_ref::<super::timed_body::Refused>() {
        return refused.0.clone();
    }
    if e.is::<super::timed_body::BodyTimeout>() {
        S3Error::new(Code::RequestTimeout)
    } else {
        S3Error::new(Code::IncompleteBody)
    }
}
