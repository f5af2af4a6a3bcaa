//! Query strings and URL components, decoded the way S3 decodes them.

use percent_encoding::percent_decode_str;

/// Decodes a query component: `%XX` escapes and `+` as space.
pub fn decode_component(s: &str) -> String {
    let spaced = s.replace('+', " ");
    percent_decode_str(&spaced).decode_utf8_lossy().into_owned()
}

/// Decodes a path component (`+` stays `+`); `None` if the result is not UTF-8.
pub fn decode_path(s: &str) -> Option<String> {
    percent_decode_str(s)
        .decode_utf8()
        .ok()
        .map(|c| c.into_owned())
}

/// The parsed query: names in order, with their values (`None` for `?acl`-style flags).
#[derive(Debug, Default, Clone)]
pub struct Query {
    pairs: Vec<(String, Option<String>)>,
}

impl Query {
    pub fn parse(raw: Option<&str>) -> Query {
        let pairs = raw
            .unwrap_or("")
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| match p.split_once('=') {
                Some((k, v)) => (decode_component(k), Some(decode_component(v))),
                None => (decode_component(p), None),
            })
            .collect();
        Query { pairs }
    }

    pub fn has(&self, name: &str) -> bool {
        self.pairs.iter().any(|(k, _)| k == name)
    }

    /// The value of a parameter; `Some("")` for a flag without a value.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_deref().unwrap_or(""))
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.pairs.iter().map(|(k, _)| k.as_str())
    }
}

/// Characters S3 leaves unescaped in `encoding-type=url` listings.
const URL_ENCODE_SET: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b'/');

/// Encodes a key or prefix for `encoding-type=url` responses.
pub fn url_encode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, URL_ENCODE_SET).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_flags_and_values() {
        let q = Query::parse(Some("list-type=2&prefix=a%2Fb+c&acl&empty="));
        assert_eq!(q.get("list-type"), Some("2"));
        assert_eq!(q.get("prefix"), Some("a/b c"));
        assert_eq!(q.get("acl"), Some(""));
        assert!(q.has("empty"));
        assert_eq!(q.get("missing"), None);
        assert_eq!(decode_path("a+b%20c").as_deref(), Some("a+b c"));
        assert_eq!(decode_path("%FF"), None);
        assert_eq!(url_encode("a b/ü+"), "a%20b/%C3%BC%2B");
    }
}
