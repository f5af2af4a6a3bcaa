//! The dashboard's files, compiled into the binary (no build step, no CDN: hand-written ES
//! modules and one stylesheet).

use std::sync::OnceLock;

pub struct Asset {
    pub name: &'static str,
    pub content_type: &'static str,
    pub body: &'static [u8],
    etag: OnceLock<String>,
}

impl Asset {
    const fn new(name: &'static str, content_type: &'static str, body: &'static [u8]) -> Asset {
        Asset {
            name,
            content_type,
            body,
            etag: OnceLock::new(),
        }
    }

    /// A strong ETag from the bytes (FNV-1a), computed once.
    pub fn etag(&self) -> &str {
        self.etag.get_or_init(|| {
            let mut h: u64 = 0xcbf2_9ce4_8422_2325;
            for b in self.body {
                h = (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
            }
            format!("\"{h:016x}\"")
        })
    }
}

const HTML: &str = "text/html; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
const SVG: &str = "image/svg+xml";

macro_rules! asset {
    ($name:literal, $type:expr) => {
        Asset::new($name, $type, include_bytes!(concat!("assets/", $name)))
    };
}

pub static ALL: [Asset; 12] = [
    asset!("index.html", HTML),
    asset!("style.css", CSS),
    asset!("favicon.svg", SVG),
    asset!("app.js", JS),
    asset!("api.js", JS),
    asset!("dom.js", JS),
    asset!("sign.js", JS),
    asset!("runs.js", JS),
    asset!("bucket.js", JS),
    asset!("object.js", JS),
    asset!("clock.js", JS),
    asset!("activity.js", JS),
];

pub fn find(name: &str) -> Option<&'static Asset> {
    ALL.iter().find(|a| a.name == name)
}
