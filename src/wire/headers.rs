//! S3's header conventions: user metadata (`x-amz-meta-*`, RFC 2047 for non-ASCII), tagging
//! strings, entity-tag lists and byte ranges; and the lookup every handler uses.

use crate::checksum;
use crate::error::{Code, S3Error, S3Result};
use http::{HeaderMap, HeaderValue};

/// The first value of header `name` (any case). A request carries a handful of headers and a
/// handler asks for a dozen that are absent, so a scan comparing lengths first is several
/// times cheaper than `HeaderMap::get(&str)`, which parses and hashes the name every time.
pub fn get<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a HeaderValue> {
    if headers.keys_len() > 24 {
        return headers.get(name);
    }
    headers
        .iter()
        .find(|(n, _)| n.as_str().len() == name.len() && n.as_str().eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

/// `get` as text; a value that is not visible ASCII counts as absent.
pub fn value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    get(headers, name).and_then(|v| v.to_str().ok())
}

/// Maximum size of user metadata (names + values), as S3 enforces it.
pub const MAX_USER_METADATA: usize = 2048;

/// A header value as text. S3 headers may carry raw UTF-8; anything else is lossy-decoded.
pub fn text(headers: &HeaderMap, name: &str) -> Option<String> {
    get(headers, name).map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
}

/// `x-amz-meta-*` headers → (lower-case name without prefix, decoded value).
pub fn user_metadata(headers: &HeaderMap) -> S3Result<Vec<(String, String)>> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut size = 0;
    for (name, value) in headers {
        let Some(short) = name.as_str().strip_prefix("x-amz-meta-") else {
            continue;
        };
        let raw = String::from_utf8_lossy(value.as_bytes());
        let value = decode_rfc2047(raw.trim()).unwrap_or_else(|| raw.trim().to_string());
        size += short.len() + value.len();
        // Repeated headers are joined with commas, as HTTP does.
        match out.iter_mut().find(|(n, _)| n == short) {
            Some((_, v)) => {
                v.push(',');
                v.push_str(&value);
            }
            None => out.push((short.to_string(), value)),
        }
    }
    if size > MAX_USER_METADATA {
        return Err(S3Error::new(Code::MetadataTooLarge)
            .extra("Size", size.to_string())
            .extra("MaxSizeAllowed", MAX_USER_METADATA.to_string()));
    }
    Ok(out)
}

/// Header-safe form of a metadata value: non-ASCII text is RFC 2047-encoded, as S3 returns it.
pub fn encode_metadata_value(value: &str) -> String {
    if value
        .bytes()
        .all(|b| (0x20..0x7f).contains(&b) || b == b'\t')
    {
        value.to_string()
    } else {
        format!("=?UTF-8?B?{}?=", checksum::b64(value.as_bytes()))
    }
}

/// Decodes `=?charset?B|Q?text?=` words (UTF-8 and ISO-8859-1); `None` if not encoded.
pub fn decode_rfc2047(value: &str) -> Option<String> {
    if !value.starts_with("=?") || !value.ends_with("?=") {
        return None;
    }
    let mut out = String::new();
    for word in value.split_whitespace() {
        let inner = word.strip_prefix("=?")?.strip_suffix("?=")?;
        let mut parts = inner.splitn(3, '?');
        let charset = parts.next()?.to_ascii_lowercase();
        let enc = parts.next()?.to_ascii_uppercase();
        let data = parts.next()?;
        let bytes = match enc.as_str() {
            "B" => checksum::b64_decode(data)?,
            "Q" => decode_q(data)?,
            _ => return None,
        };
        match charset.as_str() {
            "utf-8" | "utf8" => out.push_str(&String::from_utf8(bytes).ok()?),
            "iso-8859-1" | "latin1" => out.extend(bytes.iter().map(|&b| b as char)),
            _ => return None,
        }
    }
    Some(out)
}

fn decode_q(data: &str) -> Option<Vec<u8>> {
    let b = data.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'_' => out.push(b' '),
            b'=' => {
                let h = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
                out.push(u8::from_str_radix(h, 16).ok()?);
                i += 2;
            }
            c => out.push(c),
        }
        i += 1;
    }
    Some(out)
}

/// Whether an `If-Match` / `If-None-Match` list matches an ETag (`*` matches anything).
pub fn etag_matches(list: &str, etag: &str) -> bool {
    list.split(',').map(str::trim).any(|candidate| {
        let c = candidate.strip_prefix("W/").unwrap_or(candidate);
        c == "*" || c.trim_matches('"') == etag
    })
}

/// A requested byte range, before it is resolved against an object size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ByteRange {
    /// `bytes=first-[last]`
    From { first: u64, last: Option<u64> },
    /// `bytes=-n`: the last n bytes.
    Suffix(u64),
}

/// Parses a `Range` header. S3 ignores ranges it cannot parse and multi-range requests
/// (serving the whole object), so those give `None`.
pub fn parse_range(value: &str) -> Option<ByteRange> {
    let spec = value.trim().strip_prefix("bytes=")?;
    if spec.contains(',') {
        return None;
    }
    let (a, b) = spec.split_once('-')?;
    let (a, b) = (a.trim(), b.trim());
    if a.is_empty() {
        return b.parse().ok().map(ByteRange::Suffix);
    }
    let first: u64 = a.parse().ok()?;
    let last = if b.is_empty() {
        None
    } else {
        let l: u64 = b.parse().ok()?;
        if l < first {
            return None;
        }
        Some(l)
    };
    Some(ByteRange::From { first, last })
}

impl ByteRange {
    /// Resolves against an object size: `Ok((start, end_inclusive))`, or `InvalidRange`.
    pub fn resolve(self, size: u64, raw: &str) -> S3Result<(u64, u64)> {
        let unsatisfiable = || {
            S3Error::new(Code::InvalidRange)
                .extra("RangeRequested", raw.trim())
                .extra("ActualObjectSize", size.to_string())
        };
        match self {
            ByteRange::From { first, last } => {
                if first >= size {
                    return Err(unsatisfiable());
                }
                Ok((first, last.unwrap_or(size - 1).min(size - 1)))
            }
            ByteRange::Suffix(n) => {
                if n == 0 || size == 0 {
                    return Err(unsatisfiable());
                }
                Ok((size.saturating_sub(n), size - 1))
            }
        }
    }
}

/// Parses `a=1&b=2` (URL-encoded) tag sets from `x-amz-tagging`.
pub fn parse_tagging(value: &str) -> S3Result<Vec<(String, String)>> {
    let pairs = || value.split('&').filter(|p| !p.is_empty());
    // The count first: the duplicate check below is quadratic, so it only ever sees ten.
    if pairs().count() > MAX_OBJECT_TAGS {
        return Err(too_many_object_tags());
    }
    let mut tags: Vec<(String, String)> = Vec::new();
    for pair in pairs() {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let k = crate::server::query::decode_component(k);
        let v = crate::server::query::decode_component(v);
        if tags.iter().any(|(existing, _)| *existing == k) {
            return Err(S3Error::with_message(
                Code::InvalidTag,
                "Cannot provide multiple Tags with the same key",
            )
            .extra("TagKey", k));
        }
        validate_object_tag(&k, &v)?;
        tags.push((k, v));
    }
    Ok(tags)
}

/// Most tags an object may carry.
pub const MAX_OBJECT_TAGS: usize = 10;

pub fn too_many_object_tags() -> S3Error {
    S3Error::with_message(Code::InvalidTag, "Object tags cannot be greater than 10")
}

/// AWS's tag limits: keys 1–128 characters, values up to 256, both of letters, digits,
/// spaces and `+ - = . _ : / @`.
pub fn validate_tag(key: &str, value: &str) -> S3Result<()> {
    let klen = key.chars().count();
    if klen == 0 || klen > 128 || !key.chars().all(tag_char) {
        return Err(S3Error::with_message(
            Code::InvalidTag,
            "The TagKey you have provided is invalid",
        )
        .extra("TagKey", key));
    }
    if value.chars().count() > 256 || !value.chars().all(tag_char) {
        return Err(S3Error::with_message(
            Code::InvalidTag,
            "The TagValue you have provided is invalid",
        )
        .extra("TagKey", key)
        .extra("TagValue", value));
    }
    Ok(())
}

/// A character AWS allows in tags: a Unicode letter, digit or space separator, or one of
/// `+ - = . _ : / @`.
fn tag_char(c: char) -> bool {
    c.is_alphanumeric()
        || matches!(c, '+' | '-' | '=' | '.' | '_' | ':' | '/' | '@')
        || (c.is_whitespace() && !c.is_control())
}

/// An object tag: AWS's limits, and no key in the reserved `aws:` space.
pub fn validate_object_tag(key: &str, value: &str) -> S3Result<()> {
    validate_tag(key, value)?;
    if key.len() >= 4 && key.as_bytes()[..4].eq_ignore_ascii_case(b"aws:") {
        return Err(S3Error::with_message(
            Code::InvalidTag,
            "Your TagKey cannot be prefixed with aws:",
        )
        .extra("TagKey", key));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc2047_round_trip() {
        let v = "naïve café ✓";
        let enc = encode_metadata_value(v);
        assert!(enc.starts_with("=?UTF-8?B?"));
        assert_eq!(decode_rfc2047(&enc).as_deref(), Some(v));
        assert_eq!(
            decode_rfc2047("=?utf-8?Q?caf=C3=A9_au_lait?=").as_deref(),
            Some("café au lait")
        );
        assert_eq!(encode_metadata_value("plain"), "plain");
        assert_eq!(decode_rfc2047("plain"), None);
    }

    #[test]
    fn ranges() {
        assert_eq!(
            parse_range("bytes=0-4"),
            Some(ByteRange::From {
                first: 0,
                last: Some(4)
            })
        );
        assert_eq!(parse_range("bytes=-3"), Some(ByteRange::Suffix(3)));
        assert_eq!(
            parse_range("bytes=5-"),
            Some(ByteRange::From {
                first: 5,
                last: None
            })
        );
        assert_eq!(parse_range("bytes=0-1,3-4"), None);
        assert_eq!(parse_range("items=0-1"), None);
        assert_eq!(parse_range("bytes=4-2"), None);
        assert_eq!(ByteRange::Suffix(3).resolve(10, "").ok(), Some((7, 9)));
        assert_eq!(ByteRange::Suffix(30).resolve(10, "").ok(), Some((0, 9)));
        assert_eq!(
            ByteRange::From {
                first: 2,
                last: Some(100)
            }
            .resolve(10, "")
            .ok(),
            Some((2, 9))
        );
        assert!(ByteRange::From {
            first: 10,
            last: None
        }
        .resolve(10, "")
        .is_err());
    }

    #[test]
    fn etag_lists() {
        assert!(etag_matches("\"abc\"", "abc"));
        assert!(etag_matches("\"x\", \"abc\"", "abc"));
        assert!(etag_matches("*", "abc"));
        assert!(etag_matches("abc", "abc"));
        assert!(!etag_matches("\"abd\"", "abc"));
    }
}
