//! The servers under test: how to start each, when it is ready, how much memory and CPU its
//! process tree uses, and how to stop it (by process group, i.e. by its PID).

use crate::client::{Auth, FAKE_SIGV4};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Peer {
    S3twin,
    /// s3twin with `--data-dir` (journal and body files in the scenario's data directory).
    S3twinDisk,
    /// s3twin with `--auth enforce`: every request's signature verified and authorized.
    S3twinEnforce,
    Moto,
    S3rver,
    S3sFs,
    /// Not an S3 server: bare hyper answering 200 with 4 KiB (`src/bin/bare.rs`), the
    /// reference for what the stack itself can do. Runs the 4 KiB rows only.
    BareHyper,
}

pub const ALL: [Peer; 7] = [
    Peer::S3twin,
    Peer::S3twinDisk,
    Peer::S3twinEnforce,
    Peer::Moto,
    Peer::S3rver,
    Peer::S3sFs,
    Peer::BareHyper,
];

/// Where things are: the bench directory and the s3twin binary.
#[derive(Debug, Clone)]
pub struct Paths {
    pub bench: PathBuf,
    pub s3twin_bin: PathBuf,
}

impl Paths {
    pub fn s3twin(&self) -> PathBuf {
        self.s3twin_bin.clone()
    }
    fn moto(&self) -> PathBuf {
        self.bench.join(".venv/bin/moto_server")
    }
    fn python(&self) -> PathBuf {
        self.bench.join(".venv/bin/python")
    }
    fn s3rver(&self) -> PathBuf {
        self.bench.join(".node/node_modules/s3rver/bin/s3rver.js")
    }
    fn s3s_fs(&self) -> PathBuf {
        self.bench.join(".tools/bin/s3s-fs")
    }
    /// Built beside the load generator (bench/run.sh builds both).
    fn bare(&self) -> PathBuf {
        self.bench.join("target/release/bare")
    }
}

impl Peer {
    pub fn name(self) -> &'static str {
        match self {
            Peer::S3twin => "s3twin",
            Peer::S3twinDisk => "s3twin-disk",
            Peer::S3twinEnforce => "s3twin-enforce",
            Peer::Moto => "moto",
            Peer::S3rver => "s3rver",
            Peer::S3sFs => "s3s-fs",
            Peer::BareHyper => "bare-hyper",
        }
    }

    /// Why this peer skips a section, if it does: the reference server has no S3 behind
    /// it (only the 4 KiB rows mean something), run churn is a twin's feature (moto's reset
    /// is the one like it).
    pub fn skips(self, section: &str) -> Option<&'static str> {
        match (self, section) {
            (Peer::BareHyper, "small") => None,
            (Peer::BareHyper, _) => Some("reference server: 4 KiB rows only"),
            (Peer::S3twin | Peer::Moto, "churn") => None,
            (_, "churn") => Some("s3twin and moto only"),
            (Peer::S3twin, "instructions") => None,
            (_, "instructions") => Some("s3twin only"),
            _ => None,
        }
    }

    pub fn parse(s: &str) -> Option<Peer> {
        ALL.into_iter().find(|p| p.name() == s)
    }

    /// moto refuses anonymous reads of private objects; any well-formed header will do.
    /// s3rver and s3s-fs (started without keys) serve anonymous requests and reject
    /// signatures they cannot verify, so they get none. s3twin-enforce verifies signatures:
    /// its requests are signed as the default identity.
    pub fn auth(self) -> Auth {
        match self {
            Peer::Moto => Auth::Fake,
            Peer::S3twinEnforce => Auth::SigV4("parlel", "parlel"),
            _ => Auth::None,
        }
    }

    /// What the readiness probe asks for.
    pub fn probe_path(self) -> &'static str {
        match self {
            Peer::S3twin | Peer::S3twinDisk | Peer::S3twinEnforce => "/_s3twin/health",
            _ => "/",
        }
    }

    /// Whether objects live on disk (their RSS then excludes the data).
    pub fn disk_backed(self) -> bool {
        matches!(self, Peer::S3rver | Peer::S3sFs | Peer::S3twinDisk)
    }

    pub fn installed(self, paths: &Paths) -> Result<(), String> {
        let p = match self {
            Peer::S3twin | Peer::S3twinDisk | Peer::S3twinEnforce => paths.s3twin(),
            Peer::Moto => paths.moto(),
            Peer::S3rver => paths.s3rver(),
            Peer::S3sFs => paths.s3s_fs(),
            Peer::BareHyper => paths.bare(),
        };
        if p.exists() {
            Ok(())
        } else {
            Err(format!(
                "not installed ({} missing; run bench/run.sh)",
                p.display()
            ))
        }
    }

    fn command(self, paths: &Paths, port: u16, data: Option<&Path>) -> Command {
        let port = port.to_string();
        match self {
            Peer::S3twin | Peer::S3twinEnforce => {
                let mut c = Command::new(paths.s3twin());
                c.args(["--host", "127.0.0.1", "--port", &port]);
                if self == Peer::S3twinEnforce {
                    c.args(["--auth", "enforce"]);
                }
                c.env("RUST_LOG", "warn");
                c
            }
            Peer::S3twinDisk => {
                let mut c = Command::new(paths.s3twin());
                c.args(["--host", "127.0.0.1", "--port", &port, "--data-dir"]);
                c.arg(data.expect("a data directory"));
                c.env("RUST_LOG", "warn");
                c
            }
            Peer::Moto => {
                let mut c = Command::new(paths.moto());
                c.args(["-H", "127.0.0.1", "-p", &port]);
                c
            }
            Peer::S3rver => {
                let mut c = Command::new("node");
                // s3rver makes its continuation tokens with DES, which Node's OpenSSL 3 only
                // has in the legacy provider (without it, paginated listings answer 500).
                c.arg("--openssl-legacy-provider");
                c.arg(paths.s3rver());
                c.args(["-d", &data.expect("a data directory").display().to_string()]);
                c.args(["-a", "127.0.0.1", "-p", &port, "--silent"]);
                c
            }
            Peer::S3sFs => {
                let mut c = Command::new(paths.s3s_fs());
                c.args(["--host", "127.0.0.1", "--port", &port]);
                c.arg(data.expect("a data directory"));
                c.env("RUST_LOG", "warn");
                c
            }
            Peer::BareHyper => {
                let mut c = Command::new(paths.bare());
                c.args(["--host", "127.0.0.1", "--port", &port]);
                c
            }
        }
    }

    pub fn version(self, paths: &Paths) -> String {
        let out = match self {
            Peer::S3twin | Peer::S3twinDisk | Peer::S3twinEnforce => {
                Command::new(paths.s3twin()).arg("--version").output()
            }
            Peer::Moto => Command::new(paths.python())
                .args(["-c", "import moto; print(moto.__version__)"])
                .output(),
            Peer::S3rver => Command::new("node")
                .arg(paths.s3rver())
                .arg("--version")
                .output(),
            Peer::S3sFs => Command::new(paths.s3s_fs()).arg("--version").output(),
            // "bare-hyper 1.12.0": the hyper it links.
            Peer::BareHyper => Command::new(paths.bare()).arg("--version").output(),
        };
        out.ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .map(|v| v.rsplit(' ').next().unwrap_or("").to_string())
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| "?".into())
    }

    /// What it takes on disk: the binary for the Rust servers, the installed tree for the others.
    pub fn footprint(self, paths: &Paths) -> (String, u64) {
        match self {
            Peer::S3twin | Peer::S3twinDisk | Peer::S3twinEnforce => {
                ("binary".into(), file_size(&paths.s3twin()))
            }
            Peer::S3sFs => ("binary".into(), file_size(&paths.s3s_fs())),
            Peer::BareHyper => ("binary".into(), file_size(&paths.bare())),
            Peer::Moto => ("venv".into(), dir_size(&paths.bench.join(".venv"))),
            Peer::S3rver => (
                "node_modules".into(),
                dir_size(&paths.bench.join(".node/node_modules")),
            ),
        }
    }
}

fn file_size(p: &Path) -> u64 {
    std::fs::metadata(p).map(|m| m.len()).unwrap_or(0)
}

fn dir_size(p: &Path) -> u64 {
    let mut total = 0;
    let mut stack = vec![p.to_path_buf()];
    let mut seen = 0usize;
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            seen += 1;
            if seen > 500_000 {
                return total;
            }
            let Ok(m) = e.metadata() else { continue };
            if m.is_dir() {
                stack.push(e.path());
            } else {
                total += m.len();
            }
        }
    }
    total
}

/// A port that was free a moment ago.
fn free_port() -> std::io::Result<u16> {
    let l = TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?.port())
}

static NEXT_DIR: AtomicU64 = AtomicU64::new(0);

/// A running server.
pub struct Server {
    pub peer: Peer,
    pub addr: SocketAddr,
    pub pid: i32,
    child: Child,
    data: Option<PathBuf>,
    log: PathBuf,
    /// Spawn → first successful answer.
    pub ready_after: Duration,
}

impl Server {
    /// Starts `peer` on a free port and waits (up to `timeout`) for its first 200.
    pub fn start(
        peer: Peer,
        paths: &Paths,
        scratch: &Path,
        timeout: Duration,
    ) -> Result<Server, String> {
        Server::start_wrapped(peer, paths, scratch, timeout, &[])
    }

    /// As `start`, with the server's command line after `wrapper` (`valgrind …`).
    pub fn start_wrapped(
        peer: Peer,
        paths: &Paths,
        scratch: &Path,
        timeout: Duration,
        wrapper: &[String],
    ) -> Result<Server, String> {
        peer.installed(paths)?;
        let n = NEXT_DIR.fetch_add(1, Ordering::Relaxed);
        let data = if peer.disk_backed() {
            let d = scratch.join(format!("{}-data-{n}", peer.name()));
            let _ = std::fs::remove_dir_all(&d);
            std::fs::create_dir_all(&d).map_err(|e| format!("data dir: {e}"))?;
            Some(d)
        } else {
            None
        };
        Server::launch(peer, paths, scratch, timeout, wrapper, data, n)
    }

    /// Kills the server (SIGKILL, as a crash) and starts it again on the same data; the new
    /// server's `ready_after` is its cold start with that data.
    pub fn restart(
        mut self,
        paths: &Paths,
        scratch: &Path,
        timeout: Duration,
    ) -> Result<Server, String> {
        let data = self.data.take();
        self.terminate(Duration::ZERO);
        let n = NEXT_DIR.fetch_add(1, Ordering::Relaxed);
        Server::launch(self.peer, paths, scratch, timeout, &[], data, n)
    }

    fn launch(
        peer: Peer,
        paths: &Paths,
        scratch: &Path,
        timeout: Duration,
        wrapper: &[String],
        data: Option<PathBuf>,
        n: u64,
    ) -> Result<Server, String> {
        let port = free_port().map_err(|e| format!("no free port: {e}"))?;
        let log = scratch.join(format!("{}-{n}.log", peer.name()));
        let logf = std::fs::File::create(&log).map_err(|e| format!("log file: {e}"))?;
        let mut cmd = peer.command(paths, port, data.as_deref());
        if let Some((program, args)) = wrapper.split_first() {
            let mut wrapped = Command::new(program);
            wrapped
                .args(args)
                .arg(cmd.get_program())
                .args(cmd.get_args());
            for (k, v) in cmd.get_envs() {
                if let Some(v) = v {
                    wrapped.env(k, v);
                }
            }
            cmd = wrapped;
        }
        cmd.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(logf)
            .process_group(0);
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        let started = Instant::now();
        let child = cmd
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", peer.name()))?;
        let pid = child.id() as i32;
        let mut server = Server {
            peer,
            addr,
            pid,
            child,
            data,
            log,
            ready_after: Duration::ZERO,
        };
        match probe_until_ready(&mut server, started, timeout) {
            Ok(d) => {
                server.ready_after = d;
                Ok(server)
            }
            Err(e) => {
                let tail = server.log_tail();
                server.stop();
                Err(format!("{e}{tail}"))
            }
        }
    }

    /// The last lines the server wrote to stderr, for error messages.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
        if lines.is_empty() {
            return String::new();
        }
        let tail = lines[lines.len().saturating_sub(3)..].join(" | ");
        format!(
            " (server log: {})",
            tail.chars().take(400).collect::<String>()
        )
    }

    /// `Err` with the exit status if the server is gone.
    pub fn alive(&mut self) -> Result<(), String> {
        match self.child.try_wait() {
            Ok(None) => Ok(()),
            Ok(Some(st)) => Err(format!("server exited ({st}){}", self.log_tail())),
            Err(e) => Err(format!("cannot check the server: {e}")),
        }
    }

    /// The server process and all its descendants.
    pub fn tree(&self) -> Vec<i32> {
        let mut out = vec![self.pid];
        let mut parents: Vec<(i32, i32)> = Vec::new();
        if let Ok(rd) = std::fs::read_dir("/proc") {
            for e in rd.flatten() {
                let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else {
                    continue;
                };
                if let Some(ppid) =
                    stat_fields(pid).and_then(|f| f.get(1).and_then(|s| s.parse().ok()))
                {
                    parents.push((pid, ppid));
                }
            }
        }
        let mut i = 0;
        while i < out.len() {
            let p = out[i];
            for (c, pp) in &parents {
                if *pp == p && !out.contains(c) {
                    out.push(*c);
                }
            }
            i += 1;
        }
        out
    }

    /// Resident memory of the whole tree, in bytes.
    pub fn rss(&self) -> u64 {
        rss_of(&self.tree())
    }

    /// CPU time (user + system) of the whole tree, in clock ticks.
    pub fn cpu_ticks(&self) -> u64 {
        self.tree().iter().map(|p| cpu_ticks(*p)).sum()
    }

    /// Resets the peak-RSS mark of every process in the tree (`clear_refs` 5).
    pub fn reset_peak(&self) {
        for p in self.tree() {
            let _ = std::fs::write(format!("/proc/{p}/clear_refs"), "5");
        }
    }

    /// Sum of the peak-RSS marks (`VmHWM`) of the tree, in bytes.
    pub fn hwm(&self) -> u64 {
        self.tree()
            .iter()
            .map(|p| status_kb(*p, "VmHWM:") * 1024)
            .sum()
    }

    /// Samples the tree's RSS every 10 ms until the returned guard is finished.
    pub fn sample_peak(&self) -> PeakSampler {
        self.reset_peak();
        let pids = self.tree();
        let stop = Arc::new(AtomicBool::new(false));
        let peak = Arc::new(AtomicU64::new(rss_of(&pids)));
        let (s, pk) = (stop.clone(), peak.clone());
        let handle = std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                pk.fetch_max(rss_of(&pids), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(10));
            }
        });
        PeakSampler {
            stop,
            peak,
            handle: Some(handle),
        }
    }

    /// Stops the server: SIGTERM to its process group, SIGKILL after 3 s; removes its data.
    pub fn stop(mut self) {
        self.terminate(Duration::from_secs(3));
    }

    /// As `stop`, waiting up to `grace` before SIGKILL (a server under valgrind writes its
    /// counts on the way out).
    pub fn stop_within(mut self, grace: Duration) {
        self.terminate(grace);
    }

    /// Stops the server at once (SIGKILL to its process group).
    pub fn kill(mut self) {
        self.terminate(Duration::ZERO);
    }

    fn terminate(&mut self, grace: Duration) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let sig = if grace.is_zero() {
                libc::SIGKILL
            } else {
                libc::SIGTERM
            };
            // SAFETY: kill(2) with the (negated) id of a process group this program created.
            unsafe {
                libc::kill(-self.pid, sig);
            }
            let deadline = Instant::now() + grace;
            while Instant::now() < deadline {
                if !matches!(self.child.try_wait(), Ok(None)) {
                    break;
                }
                std::thread::sleep(Duration::from_millis(5));
            }
            // SAFETY: as above.
            unsafe {
                libc::kill(-self.pid, libc::SIGKILL);
            }
        } else {
            // The leader is gone; make sure nothing it started lingers.
            // SAFETY: as above.
            unsafe {
                libc::kill(-self.pid, libc::SIGKILL);
            }
        }
        let _ = self.child.wait();
        if let Some(d) = self.data.take() {
            let _ = std::fs::remove_dir_all(d);
        }
        let _ = std::fs::remove_file(&self.log);
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) || self.data.is_some() {
            self.terminate(Duration::ZERO);
        }
    }
}

pub struct PeakSampler {
    stop: Arc<AtomicBool>,
    peak: Arc<AtomicU64>,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl PeakSampler {
    /// The highest RSS seen, also counting the kernel's own peak mark.
    pub fn finish(mut self, server: &Server) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
        self.peak.load(Ordering::Relaxed).max(server.hwm())
    }
}

fn stat_fields(pid: i32) -> Option<Vec<String>> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which is in parentheses and may contain spaces.
    let rest = &s[s.rfind(')')? + 2..];
    Some(rest.split_whitespace().map(str::to_string).collect())
}

fn cpu_ticks(pid: i32) -> u64 {
    stat_fields(pid)
        .map(|f| {
            // utime and stime are fields 14 and 15 of stat; 12 and 13 after the name.
            let u: u64 = f.get(11).and_then(|v| v.parse().ok()).unwrap_or(0);
            let s: u64 = f.get(12).and_then(|v| v.parse().ok()).unwrap_or(0);
            u + s
        })
        .unwrap_or(0)
}

fn status_kb(pid: i32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

/// Resident memory of these processes, in bytes.
pub fn rss_of(pids: &[i32]) -> u64 {
    pids.iter().map(|p| status_kb(*p, "VmRSS:") * 1024).sum()
}

pub fn ticks_per_second() -> u64 {
    // SAFETY: sysconf has no preconditions.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 {
        t as u64
    } else {
        100
    }
}

/// Polls with a plain blocking connection until the probe path answers 200.
fn probe_until_ready(
    server: &mut Server,
    started: Instant,
    timeout: Duration,
) -> Result<Duration, String> {
    let request = {
        let mut r = format!(
            "GET {} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n",
            server.peer.probe_path(),
            server.addr
        );
        if server.peer.auth() == Auth::Fake {
            r.push_str(&format!(
                "Authorization: {FAKE_SIGV4}\r\nx-amz-content-sha256: UNSIGNED-PAYLOAD\r\nx-amz-date: 20260101T000000Z\r\n"
            ));
        }
        r.push_str("\r\n");
        r
    };
    let mut last_err = String::from("no answer");
    loop {
        if started.elapsed() > timeout {
            return Err(format!("not ready after {:?}: {last_err}", timeout));
        }
        match probe_once(server.addr, &request) {
            Ok(200) => return Ok(started.elapsed()),
            Ok(code) => last_err = format!("probe answered {code}"),
            Err(e) => last_err = e,
        }
        server.alive()?;
        // Poll finely at first (the fast servers start in milliseconds), then back off.
        let pause = if started.elapsed() < Duration::from_millis(100) {
            Duration::from_micros(200)
        } else {
            Duration::from_millis(2)
        };
        std::thread::sleep(pause);
    }
}

fn probe_once(addr: SocketAddr, request: &str) -> Result<u16, String> {
    let mut s =
        TcpStream::connect_timeout(&addr, Duration::from_millis(500)).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(Duration::from_secs(5)))
        .map_err(|e| e.to_string())?;
    s.write_all(request.as_bytes()).map_err(|e| e.to_string())?;
    let mut buf = [0u8; 64];
    let mut got = 0;
    while got < 12 {
        let n = s.read(&mut buf[got..]).map_err(|e| e.to_string())?;
        if n == 0 {
            break;
        }
        got += n;
    }
    let head = String::from_utf8_lossy(&buf[..got]);
    head.split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| format!("bad answer {head:?}"))
}
