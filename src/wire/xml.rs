//! XML for S3 bodies: a small writer for responses and a tolerant element tree for the few
//! request documents S3 takes (namespaces are ignored, as S3 ignores them).

use crate::error::{S3Error, S3Result};
use quick_xml::events::Event;
use quick_xml::Reader;

pub const S3_NS: &str = "http://s3.amazonaws.com/doc/2006-03-01/";

/// Builds an XML document with the standard declaration.
pub struct XmlWriter {
    buf: String,
    open: Vec<std::borrow::Cow<'static, str>>,
}

impl Default for XmlWriter {
    fn default() -> Self {
        Self::new()
    }
}

impl XmlWriter {
    pub fn new() -> Self {
        Self::with_capacity(512)
    }

    /// A writer whose buffer starts at `capacity` bytes (a listing sizes it by its page, so
    /// that the document is not copied as it grows).
    pub fn with_capacity(capacity: usize) -> Self {
        let mut buf = String::with_capacity(capacity);
        buf.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        XmlWriter {
            buf,
            open: Vec::new(),
        }
    }

    /// Opens the root element with the S3 namespace.
    pub fn root(&mut self, name: &'static str) -> &mut Self {
        self.buf.push('<');
        self.buf.push_str(name);
        self.buf.push_str(" xmlns=\"");
        self.buf.push_str(S3_NS);
        self.buf.push_str("\">");
        self.open.push(name.into());
        self
    }

    /// Opens an element whose name is only known at run time.
    pub fn open_dyn(&mut self, name: &str) -> &mut Self {
        self.buf.push('<');
        self.buf.push_str(name);
        self.buf.push('>');
        self.open.push(name.to_string().into());
        self
    }

    pub fn open(&mut self, name: &'static str) -> &mut Self {
        self.buf.push('<');
        self.buf.push_str(name);
        self.buf.push('>');
        self.open.push(name.into());
        self
    }

    /// Opens an element with attributes (values are escaped), e.g. a grantee's `xsi:type`.
    pub fn open_attrs(&mut self, name: &'static str, attrs: &[(&str, &str)]) -> &mut Self {
        self.buf.push('<');
        self.buf.push_str(name);
        for (k, v) in attrs {
            self.buf.push(' ');
            self.buf.push_str(k);
            self.buf.push_str("=\"");
            escape_into(&mut self.buf, v);
            self.buf.push('"');
        }
        self.buf.push('>');
        self.open.push(name.into());
        self
    }

    pub fn close(&mut self) -> &mut Self {
        if let Some(name) = self.open.pop() {
            self.buf.push_str("</");
            self.buf.push_str(&name);
            self.buf.push('>');
        }
        self
    }

    /// Text content for the element opened last.
    pub fn text(&mut self, text: &str) -> &mut Self {
        escape_into(&mut self.buf, text);
        self
    }

    pub fn elem(&mut self, name: &str, text: &str) -> &mut Self {
        self.buf.push('<');
        self.buf.push_str(name);
        self.buf.push('>');
        escape_into(&mut self.buf, text);
        self.buf.push_str("</");
        self.buf.push_str(name);
        self.buf.push('>');
        self
    }

    /// An element holding an S3 XML timestamp (`xml_timestamp`), written in place.
    pub fn elem_timestamp(&mut self, name: &str, ms: crate::clock::Millis) -> &mut Self {
        self.buf.push('<');
        self.buf.push_str(name);
        self.buf.push('>');
        crate::clock::xml_timestamp_into(&mut self.buf, ms);
        self.buf.push_str("</");
        self.buf.push_str(name);
        self.buf.push('>');
        self
    }

    /// An element whose text is already XML and needs no escape: the pieces are constants and
    /// text the twin builds from ASCII letters and digits (storage classes, checksum names,
    /// ETags' hex between `&quot;`s). Listings write several per key.
    pub fn elem_verbatim(&mut self, name: &str, pieces: &[&str]) -> &mut Self {
        self.buf.push('<');
        self.buf.push_str(name);
        self.buf.push('>');
        for p in pieces {
            debug_assert!(*p == "&quot;" || !p.bytes().any(|b| ESCAPED[usize::from(b)]));
            self.buf.push_str(p);
        }
        self.buf.push_str("</");
        self.buf.push_str(name);
        self.buf.push('>');
        self
    }

    /// An element holding a number, written in place.
    pub fn elem_u64(&mut self, name: &str, n: u64) -> &mut Self {
        self.elem_verbatim(name, &[itoa::Buffer::new().format(n)])
    }

    pub fn elem_opt(&mut self, name: &str, text: Option<&str>) -> &mut Self {
        if let Some(t) = text {
            self.elem(name, t);
        }
        self
    }

    /// Writes `el`'s children (and theirs) inside the element opened last: leaves with their
    /// text, other elements with their children only. Iterative, whatever the depth.
    pub fn children_of(&mut self, el: &Element) -> &mut Self {
        let mut stack: Vec<std::slice::Iter<'_, Element>> = vec![el.children.iter()];
        while let Some(next) = stack.last_mut().map(Iterator::next) {
            match next {
                Some(c) if c.children.is_empty() => {
                    self.elem(&c.name, &c.text);
                }
                Some(c) => {
                    self.open_dyn(&c.name);
                    stack.push(c.children.iter());
                }
                None => {
                    stack.pop();
                    if !stack.is_empty() {
                        self.close();
                    }
                }
            }
        }
        self
    }

    pub fn finish(mut self) -> String {
        while !self.open.is_empty() {
            self.close();
        }
        self.buf
    }
}

/// Which bytes `escape_into` replaces: markup, quotes, and control characters but `\n` and `\t`.
const ESCAPED: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 0x20 {
        t[b] = b != b'\n' as usize && b != b'\t' as usize;
        b += 1;
    }
    t[b'&' as usize] = true;
    t[b'<' as usize] = true;
    t[b'>' as usize] = true;
    t[b'"' as usize] = true;
    t[b'\'' as usize] = true;
    t
};

/// Escapes text for element content. Carriage returns are written as references so that
/// parsers, which normalise line ends, give keys back unchanged. Runs of bytes that need no
/// escape are copied whole (a listing escapes every key it writes).
pub fn escape_into(out: &mut String, text: &str) {
    let bytes = text.as_bytes();
    let mut done = 0;
    while let Some(at) = bytes[done..].iter().position(|&b| ESCAPED[usize::from(b)]) {
        let i = done + at;
        // `i` is at an ASCII byte, so both slices end on character boundaries.
        out.push_str(&text[done..i]);
        let b = bytes[i];
        match b {
            b'&' => out.push_str("&amp;"),
            b'<' => out.push_str("&lt;"),
            b'>' => out.push_str("&gt;"),
            b'"' => out.push_str("&quot;"),
            b'\'' => out.push_str("&apos;"),
            _ => {
                // A control character as its decimal reference: `&#1;` … `&#31;` (`\r` is `&#13;`).
                out.push_str("&#");
                if b >= 10 {
                    out.push(char::from(b'0' + b / 10));
                }
                out.push(char::from(b'0' + b % 10));
                out.push(';');
            }
        }
        done = i + 1;
    }
    out.push_str(&text[done..]);
}

/// A parsed element: local name, its text and its children.
#[derive(Debug, Default, Clone)]
pub struct Element {
    pub name: String,
    pub text: String,
    pub children: Vec<Element>,
}

impl Element {
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> {
        self.children.iter().filter(move |c| c.name == name)
    }

    pub fn child_text(&self, name: &str) -> Option<&str> {
        self.child(name).map(|c| c.text.as_str())
    }
}

/// Deepest nesting accepted in a request document. S3's deepest documents (lifecycle,
/// notification, replication) nest about seven levels; the limit keeps the tree (and the
/// recursive drop of its `children`) shallow whatever a client sends.
pub const MAX_DEPTH: usize = 32;

/// Parses a request document; any syntax error, or nesting deeper than `MAX_DEPTH`, is S3's
/// `MalformedXML`. Iterative: no recursion proportional to the input.
pub fn parse(body: &[u8]) -> S3Result<Element> {
    let mut reader = Reader::from_reader(body);
    reader.config_mut().trim_text(false);
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    let mut buf = Vec::new();
    loop {
        let event = reader
            .read_event_into(&mut buf)
            .map_err(|_| S3Error::malformed_xml())?;
        match event {
            Event::Start(e) => {
                if root.is_some() || stack.len() >= MAX_DEPTH {
                    return Err(S3Error::malformed_xml());
                }
                stack.push(Element {
                    name: local_name(e.name().as_ref())?,
                    ..Element::default()
                });
            }
            Event::Empty(e) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(S3Error::malformed_xml());
                }
                let el = Element {
                    name: local_name(e.name().as_ref())?,
                    ..Element::default()
                };
                match stack.last_mut() {
                    Some(parent) => parent.children.push(el),
                    None if root.is_none() => root = Some(el),
                    None => return Err(S3Error::malformed_xml()),
                }
            }
            Event::End(_) => {
                let el = stack.pop().ok_or_else(S3Error::malformed_xml)?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(el),
                    None => root = Some(el),
                }
            }
            Event::Text(t) => {
                if let Some(cur) = stack.last_mut() {
                    let text = t.unescape().map_err(|_| S3Error::malformed_xml())?;
                    cur.text.push_str(&text);
                } else if !t.iter().all(|b| b.is_ascii_whitespace()) {
                    return Err(S3Error::malformed_xml());
                }
            }
            Event::CData(t) => {
                if let Some(cur) = stack.last_mut() {
                    let text = std::str::from_utf8(&t).map_err(|_| S3Error::malformed_xml())?;
                    cur.text.push_str(text);
                }
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    if !stack.is_empty() {
        return Err(S3Error::malformed_xml());
    }
    root.ok_or_else(S3Error::malformed_xml)
}

fn local_name(qname: &[u8]) -> S3Result<String> {
    let local = match qname.iter().position(|&b| b == b':') {
        Some(i) => &qname[i + 1..],
        None => qname,
    };
    String::from_utf8(local.to_vec()).map_err(|_| S3Error::malformed_xml())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The character-by-character escape the byte-run one replaced: same output, every input.
    fn escape_by_char(text: &str) -> String {
        let mut out = String::new();
        for c in text.chars() {
            match c {
                '&' => out.push_str("&amp;"),
                '<' => out.push_str("&lt;"),
                '>' => out.push_str("&gt;"),
                '"' => out.push_str("&quot;"),
                '\'' => out.push_str("&apos;"),
                '\r' => out.push_str("&#13;"),
                c if (c as u32) < 0x20 && c != '\n' && c != '\t' => {
                    out.push_str(&format!("&#{};", c as u32));
                }
                c => out.push(c),
            }
        }
        out
    }

    #[test]
    fn escape_matches_the_character_by_character_escape() {
        let mut texts: Vec<String> = ["", "plain", "a&b<c>d\"e'f", "\r\n\t", "ü&ö😀<", "&&&", "x&"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        texts.extend((0u8..0x80).map(|b| format!("k{}é{}", char::from(b), char::from(b))));
        for t in &texts {
            let mut out = String::from("prefix:");
            escape_into(&mut out, t);
            assert_eq!(out, format!("prefix:{}", escape_by_char(t)), "{t:?}");
        }
    }

    #[test]
    fn number_and_timestamp_elements() {
        let mut w = XmlWriter::with_capacity(0);
        w.elem_u64("Size", 0)
            .elem_u64("Size", u64::MAX)
            .elem_timestamp("LastModified", 1_764_547_200_123);
        assert!(w.finish().ends_with(
            "<Size>0</Size><Size>18446744073709551615</Size>\
             <LastModified>2025-12-01T00:00:00.000Z</LastModified>"
        ));
    }

    #[test]
    fn writer_escapes_and_closes() {
        let mut w = XmlWriter::new();
        w.root("R")
            .open("A")
            .elem("K", "a&b<c>\r")
            .close()
            .elem("E", "");
        let s = w.finish();
        assert!(s.ends_with("<R xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><A><K>a&amp;b&lt;c&gt;&#13;</K></A><E></E></R>"));
    }

    #[test]
    fn parser_builds_tree_and_rejects_garbage() {
        let doc = parse(b"<?xml version=\"1.0\"?><Delete xmlns=\"x\"><Quiet>true</Quiet><Object><Key>a &amp; b</Key></Object><Object><Key>c</Key></Object></Delete>").expect("valid");
        assert_eq!(doc.name, "Delete");
        assert_eq!(doc.child_text("Quiet"), Some("true"));
        let keys: Vec<_> = doc
            .children_named("Object")
            .filter_map(|o| o.child_text("Key"))
            .collect();
        assert_eq!(keys, ["a & b", "c"]);
        assert!(parse(b"<Delete><Object>").is_err());
        assert!(parse(b"").is_err());
        assert!(parse(b"<a></b>").is_err());
        assert!(parse(b"<a/><b/>").is_err());
    }

    #[test]
    fn nesting_is_bounded() {
        let nested = |depth: usize| {
            let mut doc = "<a>".repeat(depth);
            doc.push_str(&"</a>".repeat(depth));
            doc
        };
        assert!(parse(nested(MAX_DEPTH).as_bytes()).is_ok());
        assert!(parse(nested(MAX_DEPTH + 1).as_bytes()).is_err());
        assert!(parse(nested(100_000).as_bytes()).is_err());
        let mut empty_too_deep = "<a>".repeat(MAX_DEPTH);
        empty_too_deep.push_str("<b/>");
        empty_too_deep.push_str(&"</a>".repeat(MAX_DEPTH));
        assert!(parse(empty_too_deep.as_bytes()).is_err());
    }
}
