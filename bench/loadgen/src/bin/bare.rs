//! The bare hyper reference server: the most this stack (the same hyper and tokio as s3twin,
//! a multi-threaded runtime, HTTP/1.1 keep-alive, `TCP_NODELAY`) can answer on this machine.
//! Every request gets 200 with a 4 KiB body; a request body is read and discarded. No S3.
//!
//! ```text
//! bare --host 127.0.0.1 --port P      # bare --version prints the hyper it was built with
//! ```

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;
use tokio::net::TcpListener;

/// The lock file this binary was built with: it names the hyper it links.
const LOCK: &str = include_str!("../../Cargo.lock");

fn hyper_version() -> &'static str {
    let mut lines = LOCK.lines();
    while let Some(l) = lines.next() {
        if l == "name = \"hyper\"" {
            if let Some(v) = lines.next().and_then(|v| v.strip_prefix("version = \"")) {
                return v.trim_end_matches('"');
            }
        }
    }
    "?"
}

async fn answer(req: Request<Incoming>, body: Bytes) -> Result<Response<Full<Bytes>>, Infallible> {
    // Drain the request body (a PUT's 4 KiB) so the connection can carry the next request.
    let mut incoming = req.into_body();
    while let Some(frame) = incoming.frame().await {
        if frame.is_err() {
            break;
        }
    }
    Ok(Response::new(Full::new(body)))
}

fn parse_args() -> Result<SocketAddr, String> {
    let mut host = String::from("127.0.0.1");
    let mut port: u16 = 0;
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--host" => host = it.next().ok_or("--host needs a value")?,
            "--port" => {
                port = it
                    .next()
                    .and_then(|p| p.parse().ok())
                    .ok_or("--port needs a number")?
            }
            "--version" => {
                println!("bare-hyper {}", hyper_version());
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    format!("{host}:{port}")
        .parse()
        .map_err(|e| format!("bad address: {e}"))
}

fn main() -> ExitCode {
    let addr = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("bare: {e}");
            return ExitCode::from(2);
        }
    };
    // As s3twin: a multi-threaded runtime with one worker per core.
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("bare: runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let body = Bytes::from(vec![b'x'; 4096]);
    match rt.block_on(serve(addr, body)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bare: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(addr: SocketAddr, body: Bytes) -> std::io::Result<()> {
    let listener = TcpListener::bind(addr).await?;
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(a) => a,
            Err(_) => {
                // Out of file descriptors and the like: back off, keep serving.
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let body = body.clone();
        tokio::spawn(async move {
            let svc = service_fn(move |req| answer(req, body.clone()));
            // The connection settings s3twin uses (a timer for the header read timeout,
            // half-close, keep-alive).
            let _ = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(Duration::from_secs(30))
                .half_close(true)
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), svc)
                .await;
        });
    }
}
