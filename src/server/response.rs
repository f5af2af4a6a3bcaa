//! Response bodies and builders, including the S3 error envelope.

use crate::error::S3Error;
use crate::store::BodySlices;
use crate::wire::xml::XmlWriter;
use bytes::Bytes;
use futures_util::Stream;
use http::header::IntoHeaderName;
use http::{HeaderValue, Response, StatusCode};
use http_body::{Frame, SizeHint};
use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

pub type Resp = Response<ResponseBody>;

/// A response body: nothing, one buffer, an object's shared segments streamed in order, or
/// a stream of unknown length (the request log's live tail).
pub enum ResponseBody {
    Empty,
    Full(Option<Bytes>),
    Slices(BodySlices),
    Stream(Pin<Box<dyn Stream<Item = Bytes> + Send>>),
}

impl std::fmt::Debug for ResponseBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ResponseBody::Empty => f.write_str("Empty"),
            ResponseBody::Full(b) => f.debug_tuple("Full").field(b).finish(),
            ResponseBody::Slices(s) => f.debug_tuple("Slices").field(s).finish(),
            ResponseBody::Stream(_) => f.write_str("Stream"),
        }
    }
}

impl http_body::Body for ResponseBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let next = match self.get_mut() {
            ResponseBody::Empty => None,
            ResponseBody::Full(b) => b.take(),
            ResponseBody::Slices(s) => s.next(),
            ResponseBody::Stream(s) => std::task::ready!(s.as_mut().poll_next(cx)),
        };
        Poll::Ready(next.map(|b| Ok(Frame::data(b))))
    }

    fn is_end_stream(&self) -> bool {
        match self {
            ResponseBody::Empty => true,
            ResponseBody::Full(b) => b.is_none(),
            ResponseBody::Slices(s) => s.remaining() == 0,
            ResponseBody::Stream(_) => false,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            ResponseBody::Empty => SizeHint::with_exact(0),
            ResponseBody::Full(b) => SizeHint::with_exact(b.as_ref().map_or(0, |b| b.len() as u64)),
            ResponseBody::Slices(s) => SizeHint::with_exact(s.remaining()),
            ResponseBody::Stream(_) => SizeHint::default(),
        }
    }
}

pub fn status(code: u16) -> StatusCode {
    StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

pub fn empty(code: u16) -> Resp {
    let mut r = Response::new(ResponseBody::Empty);
    *r.status_mut() = status(code);
    r
}

pub fn bytes(code: u16, content_type: &'static str, body: impl Into<Bytes>) -> Resp {
    let mut r = Response::new(ResponseBody::Full(Some(body.into())));
    *r.status_mut() = status(code);
    r.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static(content_type),
    );
    r
}

pub fn xml(code: u16, doc: String) -> Resp {
    bytes(code, "application/xml", doc)
}

pub fn json(code: u16, value: &serde_json::Value) -> Resp {
    bytes(code, "application/json", value.to_string())
}

/// Sets a header from text; values that are not valid header text are skipped, never a panic.
/// Hot paths pass a `HeaderName` (a constant of `http::header` or `names` below), which skips
/// parsing the name that a `&'static str` costs on every call.
pub fn set_header<N: IntoHeaderName>(resp: &mut Resp, name: N, value: &str) {
    set_header_bytes(resp, name, value.as_bytes());
}

/// `set_header` from bytes (text built on the stack: dates, ids).
pub fn set_header_bytes<N: IntoHeaderName>(resp: &mut Resp, name: N, value: &[u8]) {
    if let Ok(v) = HeaderValue::from_bytes(value) {
        resp.headers_mut().insert(name, v);
    }
}

/// `set_header` of a constant value: no copy, no check.
pub fn set_static<N: IntoHeaderName>(resp: &mut Resp, name: N, value: &'static str) {
    resp.headers_mut()
        .insert(name, HeaderValue::from_static(value));
}

/// The S3 header names every response (or every object answer) carries.
pub mod names {
    use http::HeaderName;
    pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-amz-request-id");
    pub const HOST_ID: HeaderName = HeaderName::from_static("x-amz-id-2");
    pub const STORAGE_CLASS: HeaderName = HeaderName::from_static("x-amz-storage-class");
    pub const VERSION_ID: HeaderName = HeaderName::from_static("x-amz-version-id");
}

/// The S3 error envelope. HEAD requests get the status and headers only.
pub fn error_response(err: &S3Error, request_id: &str, host_id: &str, head: bool) -> Resp {
    let code = err.code.status();
    let mut resp = if head || code == 304 {
        empty(code)
    } else {
        xml(code, error_document(err, request_id, host_id))
    };
    for (name, value) in &err.headers {
        set_header(&mut resp, *name, value);
    }
    resp
}

/// The `<Error>` document of the envelope: `Code`, `Message`, the code's own elements,
/// `RequestId`, `HostId`. AWS sends no `Resource` element (older documentation shows one).
pub fn error_document(err: &S3Error, request_id: &str, host_id: &str) -> String {
    let mut w = XmlWriter::new();
    w.open("Error")
        .elem("Code", err.code.as_str())
        .elem("Message", &err.message);
    for (name, value) in &err.extras {
        w.elem(name, value);
    }
    w.elem("RequestId", request_id).elem("HostId", host_id);
    w.finish()
}
