//! Fetching a model file by URI into the models cache, verified before anyone
//! loads it.
//!
//! [`fetch`] takes a URI, the sha256 the file must have and its declared size,
//! and returns `<cache>/<sha256>.onnx`. Supported: `http://` (HTTP/1.1, plain)
//! and `file://` (an absolute path to a regular file). `https://` is refused:
//! this build carries no TLS stack, and none is needed for integrity since the
//! hash is checked; `ipfs://` is refused as not supported yet (use an HTTP
//! gateway URL).
//!
//! # Invariants
//! - Nothing reaches the cache path unless its size and sha256 are the expected
//!   ones: bytes go to a temp file in the cache directory, are counted and hashed
//!   as they arrive, and only a verified file is renamed into place (atomic on
//!   one file system). A failed or dropped fetch leaves no file behind.
//! - Reading stops as soon as more bytes arrive than the declared size (or the
//!   absolute cap when no size is declared): a lying or endless server costs at
//!   most `limit + one chunk` of bandwidth and no disk beyond the limit.
//! - Every fetch ends within `timeout` (redirects included); every connection
//!   attempt within `connect_timeout`; at most `max_redirects` are followed.
//! - A cached file with the right hash is reused without touching the network; a
//!   cached file with the wrong one is deleted and fetched again.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use http::Uri;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

mod net;

pub use net::is_non_public;

/// Name of the cache directory inside the models directory.
pub const CACHE_DIR: &str = "cache";

/// What a fetch may cost.
#[derive(Clone, Debug)]
pub struct FetchLimits {
    /// Absolute cap on a model file, whatever size is declared.
    pub max_bytes: u64,
    /// The whole fetch, redirects and hashing included.
    pub timeout: Duration,
    /// Each TCP connection attempt (DNS included).
    pub connect_timeout: Duration,
    pub max_redirects: u32,
    /// Refuse `http://` hosts that resolve to loopback, private or link-local addresses.
    pub public_only: bool,
}

impl Default for FetchLimits {
    fn default() -> Self {
        FetchLimits {
            max_bytes: 1 << 30,
            timeout: Duration::from_secs(600),
            connect_timeout: Duration::from_secs(10),
            max_redirects: 5,
            public_only: false,
        }
    }
}

/// Why a fetch failed; [`FetchError::is_transient`] says whether trying again may help.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("bad URI `{uri}`: {reason}")]
    BadUri { uri: String, reason: String },
    #[error("URI `{uri}`: scheme `{scheme}` is not supported{hint}")]
    UnsupportedScheme {
        uri: String,
        scheme: String,
        hint: &'static str,
    },
    #[error("`{uri}` answered HTTP {status}")]
    HttpStatus { uri: String, status: u16 },
    #[error("`{uri}`: more than {limit} bytes (the {what}): refused")]
    TooLarge {
        uri: String,
        limit: u64,
        what: &'static str,
    },
    #[error("`{uri}`: {what} timed out after {after_ms} ms")]
    Timeout {
        uri: String,
        what: &'static str,
        after_ms: u64,
    },
    #[error("`{uri}`: sha256 {actual}, expected {expected}: refused")]
    HashMismatch {
        uri: String,
        expected: String,
        actual: String,
    },
    #[error("`{uri}`: {actual} bytes, expected {expected}: refused")]
    SizeMismatch {
        uri: String,
        expected: u64,
        actual: u64,
    },
    #[error("`{uri}`: more than {max} redirects")]
    TooManyRedirects { uri: String, max: u32 },
    #[error("`{uri}`: {addr} is not a public address (fetching is limited to public hosts)")]
    PrivateAddress { uri: String, addr: IpAddr },
    #[error("`{uri}`: {reason}")]
    Network { uri: String, reason: String },
    #[error("`{path}`: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl FetchError {
    /// Worth retrying later: the network, the server or the disk may recover.
    /// Wrong bytes, wrong sizes and unusable URIs are not.
    pub fn is_transient(&self) -> bool {
        match self {
            FetchError::HttpStatus { status, .. } => {
                matches!(status, 404 | 408 | 425 | 429) || *status >= 500
            }
            FetchError::Timeout { .. } | FetchError::Network { .. } | FetchError::Io { .. } => true,
            _ => false,
        }
    }
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> FetchError + '_ {
    move |source| FetchError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// `<cache>/<sha256>.onnx`.
pub fn cache_path(cache: &Path, sha256: &str) -> PathBuf {
    cache.join(format!("{sha256}.onnx"))
}

fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Streams a file through sha256: (hex digest, length).
async fn hash_file(path: &Path) -> Result<(String, u64), std::io::Error> {
    let mut f = tokio::fs::File::open(path).await?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut n = 0u64;
    loop {
        let k = f.read(&mut buf).await?;
        if k == 0 {
            return Ok((hex::encode(h.finalize()), n));
        }
        h.update(&buf[..k]);
        n += k as u64;
    }
}

/// The cached file for `sha256`, if there is one with the right hash (and size,
/// when `size > 0`). A cached file that does not verify is deleted.
pub async fn cached(cache: &Path, sha256: &str, size: u64) -> Option<PathBuf> {
    let sha256 = sha256.to_ascii_lowercase();
    let path = cache_path(cache, &sha256);
    let meta = tokio::fs::metadata(&path).await.ok()?;
    if !meta.is_file() {
        return None;
    }
    match hash_file(&path).await {
        Ok((h, n)) if h == sha256 && (size == 0 || n == size) => Some(path),
        other => {
            tracing::warn!(path = %path.display(), result = ?other, "cached model does not verify; deleting it");
            let _ = tokio::fs::remove_file(&path).await;
            None
        }
    }
}

/// Fetches `uri` into `<cache>/<sha256>.onnx` and returns that path, or reuses a
/// verified cached copy. `size` is the declared size in bytes (0: not declared,
/// only the absolute cap applies).
pub async fn fetch(
    uri: &str,
    sha256: &str,
    size: u64,
    cache: &Path,
    limits: &FetchLimits,
) -> Result<PathBuf, FetchError> {
    if !is_sha256_hex(sha256) {
        return Err(FetchError::BadUri {
            uri: uri.to_string(),
            reason: format!("expected sha256 `{sha256}` is not 64 hex digits"),
        });
    }
    let sha256 = sha256.to_ascii_lowercase();
    if size > limits.max_bytes {
        return Err(FetchError::TooLarge {
            uri: uri.to_string(),
            limit: limits.max_bytes,
            what: "absolute cap, declared size is larger",
        });
    }
    if let Some(p) = cached(cache, &sha256, size).await {
        return Ok(p);
    }
    let source = parse(uri)?;
    tokio::fs::create_dir_all(cache)
        .await
        .map_err(io_err(cache))?;
    let (limit, what) = if size > 0 {
        (size, "declared size")
    } else {
        (limits.max_bytes, "absolute cap")
    };
    let mut sink = Sink::new(cache, &sha256, uri, limit, what).await?;
    let work = async {
        match &source {
            Source::File(path) => copy_file(path, uri, &mut sink).await,
            Source::Http(u) => net::http_get(u.clone(), limits, size, &mut sink).await,
        }
    };
    match tokio::time::timeout(limits.timeout, work).await {
        Ok(r) => r?,
        Err(_) => {
            return Err(FetchError::Timeout {
                uri: uri.to_string(),
                what: "fetch",
                after_ms: limits.timeout.as_millis() as u64,
            })
        }
    }
    sink.finish(&sha256, size, &cache_path(cache, &sha256))
        .await
}

enum Source {
    File(PathBuf),
    Http(Uri),
}

fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn parse(uri: &str) -> Result<Source, FetchError> {
    let bad = |reason: &str| FetchError::BadUri {
        uri: uri.to_string(),
        reason: reason.to_string(),
    };
    let (scheme, rest) = uri
        .split_once("://")
        .ok_or_else(|| bad("no scheme (want http://HOST/PATH or file:///PATH)"))?;
    let unsupported = |hint| FetchError::UnsupportedScheme {
        uri: uri.to_string(),
        scheme: scheme.to_string(),
        hint,
    };
    match scheme.to_ascii_lowercase().as_str() {
        "http" => {
            let u: Uri = uri.parse().map_err(|e| bad(&format!("{e}")))?;
            if u.host().is_none_or(str::is_empty) {
                return Err(bad("no host"));
            }
            Ok(Source::Http(u))
        }
        "file" => {
            // file:///abs/path or file://localhost/abs/path; no other hosts.
            let path = rest.strip_prefix("localhost").unwrap_or(rest);
            if !path.starts_with('/') {
                return Err(bad("a file URI needs an absolute path (file:///PATH)"));
            }
            let path = percent_decode(path).ok_or_else(|| bad("bad percent-encoding"))?;
            Ok(Source::File(PathBuf::from(path)))
        }
        "https" => Err(unsupported(
            " by this build (it carries no TLS stack): give an http:// URI (the sha256 \
             check makes plain HTTP safe) or put the file at <models>/cache/<sha256>.onnx",
        )),
        "ipfs" => Err(unsupported(
            " yet: give an HTTP gateway URI instead (http://GATEWAY/ipfs/CID)",
        )),
        _ => Err(unsupported(" (supported: http://, file://)")),
    }
}

static TEMP_SEQ: AtomicU64 = AtomicU64::new(0);

/// A temp file in the cache directory that counts, hashes and caps what is
/// written, and deletes itself unless [`Sink::finish`] renamed it into place.
struct Sink {
    path: PathBuf,
    file: Option<tokio::fs::File>,
    hasher: Sha256,
    written: u64,
    limit: u64,
    what: &'static str,
    uri: String,
}

impl Sink {
    async fn new(
        cache: &Path,
        sha256: &str,
        uri: &str,
        limit: u64,
        what: &'static str,
    ) -> Result<Sink, FetchError> {
        let seq = TEMP_SEQ.fetch_add(1, Ordering::Relaxed);
        let path = cache.join(format!(".{sha256}.{}.{seq}.part", std::process::id()));
        let file = tokio::fs::File::create(&path)
            .await
            .map_err(io_err(&path))?;
        Ok(Sink {
            path,
            file: Some(file),
            hasher: Sha256::new(),
            written: 0,
            limit,
            what,
            uri: uri.to_string(),
        })
    }

    fn too_large(&self) -> FetchError {
        FetchError::TooLarge {
            uri: self.uri.clone(),
            limit: self.limit,
            what: self.what,
        }
    }

    async fn write(&mut self, chunk: &[u8]) -> Result<(), FetchError> {
        if self.written.saturating_add(chunk.len() as u64) > self.limit {
            return Err(self.too_large());
        }
        self.written += chunk.len() as u64;
        self.hasher.update(chunk);
        let Some(f) = self.file.as_mut() else {
            return Ok(());
        };
        f.write_all(chunk).await.map_err(io_err(&self.path))
    }

    async fn finish(mut self, sha256: &str, size: u64, dest: &Path) -> Result<PathBuf, FetchError> {
        if let Some(mut f) = self.file.take() {
            f.flush().await.map_err(io_err(&self.path))?;
            f.sync_all().await.map_err(io_err(&self.path))?;
        }
        if size > 0 && self.written != size {
            return Err(FetchError::SizeMismatch {
                uri: self.uri.clone(),
                expected: size,
                actual: self.written,
            });
        }
        let actual = hex::encode(std::mem::take(&mut self.hasher).finalize());
        if actual != sha256 {
            return Err(FetchError::HashMismatch {
                uri: self.uri.clone(),
                expected: sha256.to_string(),
                actual,
            });
        }
        tokio::fs::rename(&self.path, dest)
            .await
            .map_err(io_err(dest))?;
        self.path = PathBuf::new();
        Ok(dest.to_path_buf())
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        if !self.path.as_os_str().is_empty() {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

async fn copy_file(path: &Path, uri: &str, sink: &mut Sink) -> Result<(), FetchError> {
    // Regular files only: a FIFO or a device could block or never end.
    let meta = tokio::fs::metadata(path).await.map_err(io_err(path))?;
    if !meta.is_file() {
        return Err(FetchError::BadUri {
            uri: uri.to_string(),
            reason: "not a regular file".into(),
        });
    }
    if meta.len() > sink.limit {
        return Err(sink.too_large());
    }
    let mut f = tokio::fs::File::open(path).await.map_err(io_err(path))?;
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let k = f.read(&mut buf).await.map_err(io_err(path))?;
        if k == 0 {
            return Ok(());
        }
        sink.write(&buf[..k]).await?;
    }
}

/// Deletes temp files a killed process may have left in the cache directory.
pub fn sweep_temp_files(cache: &Path) {
    let Ok(entries) = std::fs::read_dir(cache) else {
        return;
    };
    for e in entries.filter_map(Result::ok) {
        let name = e.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') && name.ends_with(".part") {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::{SocketAddr, TcpListener, TcpStream};
    use std::sync::atomic::AtomicUsize;
    use std::sync::Arc;
    use std::time::Instant;

    enum Reply {
        /// 200 with Content-Length.
        Body(Vec<u8>),
        /// 200, chunked transfer encoding.
        Chunked(Vec<u8>),
        /// 200 with no length: the body ends when the connection closes.
        NoLength(Vec<u8>),
        Status(u16),
        Redirect(String),
        /// 200 declaring `len` bytes, then one byte every `every`.
        Drip {
            len: usize,
            every: Duration,
        },
    }

    struct Server {
        addr: SocketAddr,
        hits: Arc<AtomicUsize>,
    }

    impl Server {
        fn url(&self, path: &str) -> String {
            format!("http://{}{path}", self.addr)
        }
        fn hits(&self) -> usize {
            self.hits.load(Ordering::SeqCst)
        }
    }

    type Route = Arc<dyn Fn(&str) -> Reply + Send + Sync>;

    /// A tiny HTTP/1.1 server on 127.0.0.1, one thread per connection.
    fn server(route: impl Fn(&str) -> Reply + Send + Sync + 'static) -> Server {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = l.local_addr().expect("addr");
        let hits = Arc::new(AtomicUsize::new(0));
        let (h, route): (_, Route) = (hits.clone(), Arc::new(route));
        std::thread::spawn(move || {
            for s in l.incoming() {
                let Ok(s) = s else { return };
                let (h, route) = (h.clone(), route.clone());
                std::thread::spawn(move || handle(s, &h, &route));
            }
        });
        Server { addr, hits }
    }

    fn handle(mut s: TcpStream, hits: &AtomicUsize, route: &Route) {
        let mut head = Vec::new();
        let mut b = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            match s.read(&mut b) {
                Ok(1) => head.push(b[0]),
                _ => return,
            }
        }
        let head = String::from_utf8_lossy(&head).to_string();
        let path = head.split_whitespace().nth(1).unwrap_or("/").to_string();
        hits.fetch_add(1, Ordering::SeqCst);
        let ok = |extra: &str| format!("HTTP/1.1 200 OK\r\nConnection: close\r\n{extra}\r\n");
        let _ = match route(&path) {
            Reply::Body(b) => s
                .write_all(ok(&format!("Content-Length: {}\r\n", b.len())).as_bytes())
                .and_then(|_| s.write_all(&b)),
            Reply::NoLength(b) => s.write_all(ok("").as_bytes()).and_then(|_| s.write_all(&b)),
            Reply::Chunked(b) => {
                let mut out = ok("Transfer-Encoding: chunked\r\n").into_bytes();
                for c in b.chunks(100) {
                    out.extend_from_slice(format!("{:x}\r\n", c.len()).as_bytes());
                    out.extend_from_slice(c);
                    out.extend_from_slice(b"\r\n");
                }
                out.extend_from_slice(b"0\r\n\r\n");
                s.write_all(&out)
            }
            Reply::Status(code) => s.write_all(
                format!("HTTP/1.1 {code} Nope\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                    .as_bytes(),
            ),
            Reply::Redirect(to) => s.write_all(
                format!("HTTP/1.1 302 Found\r\nLocation: {to}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                    .as_bytes(),
            ),
            Reply::Drip { len, every } => {
                let r = s.write_all(ok(&format!("Content-Length: {len}\r\n")).as_bytes());
                for _ in 0..len {
                    std::thread::sleep(every);
                    if s.write_all(b"x").and_then(|_| s.flush()).is_err() {
                        break;
                    }
                }
                r
            }
        };
    }

    fn block<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("tokio")
            .block_on(f)
    }

    fn body(n: usize, seed: u8) -> Vec<u8> {
        (0..n).map(|i| (i as u8).wrapping_mul(31) ^ seed).collect()
    }

    fn sha(b: &[u8]) -> String {
        hex::encode(Sha256::digest(b))
    }

    fn run(
        uri: &str,
        hash: &str,
        size: u64,
        cache: &Path,
        l: &FetchLimits,
    ) -> Result<PathBuf, FetchError> {
        block(fetch(uri, hash, size, cache, l))
    }

    /// Nothing but verified `<sha256>.onnx` files in the cache: no temp files left behind.
    fn cache_files(cache: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(cache)
            .map(|d| {
                d.filter_map(Result::ok)
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v
    }

    #[test]
    fn a_verified_body_lands_in_the_cache_and_is_reused_without_a_download() {
        let (good, chunked) = (body(5000, 1), body(3000, 2));
        let (g, c) = (good.clone(), chunked.clone());
        let srv = server(move |p| match p {
            "/m" => Reply::Body(g.clone()),
            "/c" => Reply::Chunked(c.clone()),
            _ => Reply::NoLength(c.clone()),
        });
        let dir = tempfile::tempdir().expect("tempdir");
        let cache = dir.path().join(CACHE_DIR);
        let lim = FetchLimits::default();
        let h = sha(&good);
        let p = run(&srv.url("/m"), &h, good.len() as u64, &cache, &lim).expect("fetch");
        assert_eq!(p, cache.join(format!("{h}.onnx")));
        assert_eq!(std::fs::read(&p).expect("read"), good);
        assert_eq!(cache_files(&cache), vec![format!("{h}.onnx")]);
        assert_eq!(srv.hits(), 1);
        // Cached: no request at all, whatever the URI (even an unusable one).
        let again = run(&srv.url("/m"), &h, good.len() as u64, &cache, &lim).expect("cached");
        assert_eq!(again, p);
        run("https://nowhere.invalid/m", &h, 0, &cache, &lim).expect("cached, no network");
        assert_eq!(srv.hits(), 1);
        // A cached file that no longer verifies is replaced by a fresh download.
        std::fs::write(&p, b"rotten").expect("write");
        run(&srv.url("/m"), &h.to_ascii_uppercase(), 0, &cache, &lim).expect("refetch");
        assert_eq!(std::fs::read(&p).expect("read"), good);
        assert_eq!(srv.hits(), 2);
        // Chunked and length-less bodies, size undeclared.
        let hc = sha(&chunked);
        run(&srv.url("/c"), &hc, 0, &cache, &lim).expect("chunked");
        std::fs::remove_file(cache_path(&cache, &hc)).expect("rm");
        run(&srv.url("/x"), &hc, chunked.len() as u64, &cache, &lim).expect("no length");
        assert_eq!(cache_files(&cache).len(), 2);
    }

    #[test]
    fn non_2xx_answers_are_typed_errors_and_leave_nothing() {
        let srv = server(|p| Reply::Status(if p == "/gone" { 410 } else { 404 }));
        let dir = tempfile::tempdir().expect("tempdir");
        let lim = FetchLimits::default();
        let h = sha(b"x");
        let e = run(&srv.url("/m"), &h, 1, dir.path(), &lim).expect_err("404");
        assert!(
            matches!(e, FetchError::HttpStatus { status: 404, .. }),
            "{e}"
        );
        assert!(
            e.is_transient() && e.to_string().contains("HTTP 404"),
            "{e}"
        );
        let e = run(&srv.url("/gone"), &h, 1, dir.path(), &lim).expect_err("410");
        assert!(matches!(e, FetchError::HttpStatus { status: 410, .. }) && !e.is_transient());
        assert!(cache_files(dir.path()).is_empty());
    }

    #[test]
    fn oversized_bodies_are_cut_off_at_the_declared_size_or_the_cap() {
        let big = body(200_000, 3);
        let b = big.clone();
        let srv = server(move |p| match p {
            "/len" => Reply::Body(b.clone()),
            _ => Reply::NoLength(b.clone()),
        });
        let dir = tempfile::tempdir().expect("tempdir");
        let lim = FetchLimits::default();
        let h = sha(&big);
        // Declared 1000 bytes; the server says 200 000 up front: refused before reading.
        let e = run(&srv.url("/len"), &h, 1000, dir.path(), &lim).expect_err("too large");
        assert!(
            matches!(
                e,
                FetchError::TooLarge {
                    limit: 1000,
                    what: "declared size",
                    ..
                }
            ),
            "{e}"
        );
        // No length header: reading stops once past 1000 bytes.
        let e = run(&srv.url("/nolen"), &h, 1000, dir.path(), &lim).expect_err("too large");
        assert!(
            matches!(e, FetchError::TooLarge { limit: 1000, .. }) && !e.is_transient(),
            "{e}"
        );
        // Size undeclared: the absolute cap applies.
        let small = FetchLimits {
            max_bytes: 4096,
            ..FetchLimits::default()
        };
        let e = run(&srv.url("/nolen"), &h, 0, dir.path(), &small).expect_err("cap");
        assert!(
            matches!(
                e,
                FetchError::TooLarge {
                    limit: 4096,
                    what: "absolute cap",
                    ..
                }
            ),
            "{e}"
        );
        // A declared size over the cap is refused without a request.
        let before = srv.hits();
        let e = run(&srv.url("/len"), &h, 5000, dir.path(), &small).expect_err("cap");
        assert!(matches!(e, FetchError::TooLarge { limit: 4096, .. }), "{e}");
        assert_eq!(srv.hits(), before);
        assert!(
            cache_files(dir.path()).is_empty(),
            "{:?}",
            cache_files(dir.path())
        );
    }

    #[test]
    fn a_slow_drip_hits_the_total_timeout() {
        let srv = server(|_| Reply::Drip {
            len: 1000,
            every: Duration::from_millis(50),
        });
        let dir = tempfile::tempdir().expect("tempdir");
        let lim = FetchLimits {
            timeout: Duration::from_millis(400),
            ..FetchLimits::default()
        };
        let t0 = Instant::now();
        let e = run(&srv.url("/m"), &sha(b"x"), 1000, dir.path(), &lim).expect_err("timeout");
        assert!(
            matches!(
                e,
                FetchError::Timeout {
                    what: "fetch",
                    after_ms: 400,
                    ..
                }
            ),
            "{e}"
        );
        assert!(e.is_transient());
        assert!(t0.elapsed() < Duration::from_secs(3), "{:?}", t0.elapsed());
        assert!(
            cache_files(dir.path()).is_empty(),
            "{:?}",
            cache_files(dir.path())
        );
    }

    #[test]
    fn wrong_bytes_and_wrong_sizes_are_refused_before_reaching_the_cache() {
        let (good, evil) = (body(3000, 4), body(3000, 5));
        let (g, e2) = (good.clone(), evil.clone());
        let srv = server(move |p| match p {
            "/evil" => Reply::Body(e2.clone()),
            "/nolen" => Reply::NoLength(g.clone()),
            _ => Reply::Body(g.clone()),
        });
        let dir = tempfile::tempdir().expect("tempdir");
        let lim = FetchLimits::default();
        let h = sha(&good);
        let e = run(&srv.url("/evil"), &h, 3000, dir.path(), &lim).expect_err("hash");
        let FetchError::HashMismatch {
            expected, actual, ..
        } = &e
        else {
            panic!("{e}")
        };
        assert_eq!((expected, actual), (&h, &sha(&evil)));
        assert!(!e.is_transient() && e.to_string().contains("refused"));
        // Declared 3001: Content-Length says 3000, refused up front; without one, after reading.
        let e = run(&srv.url("/m"), &h, 3001, dir.path(), &lim).expect_err("size");
        assert!(
            matches!(
                e,
                FetchError::SizeMismatch {
                    expected: 3001,
                    actual: 3000,
                    ..
                }
            ),
            "{e}"
        );
        let e = run(&srv.url("/nolen"), &h, 3001, dir.path(), &lim).expect_err("size");
        assert!(
            matches!(
                e,
                FetchError::SizeMismatch {
                    expected: 3001,
                    actual: 3000,
                    ..
                }
            ),
            "{e}"
        );
        assert!(
            cache_files(dir.path()).is_empty(),
            "{:?}",
            cache_files(dir.path())
        );
        run(&srv.url("/m"), &h, 3000, dir.path(), &lim).expect("right size and hash");
    }

    #[test]
    fn bad_uris_and_unsupported_schemes_are_clear() {
        let dir = tempfile::tempdir().expect("tempdir");
        let lim = FetchLimits::default();
        let h = sha(b"x");
        let e = run("https://example.com/m.onnx", &h, 1, dir.path(), &lim).expect_err("https");
        assert!(matches!(e, FetchError::UnsupportedScheme { .. }), "{e}");
        assert!(
            e.to_string().contains("no TLS stack") && e.to_string().contains("http://"),
            "{e}"
        );
        let e = run("ipfs://bafybeigdyrzt", &h, 1, dir.path(), &lim).expect_err("ipfs");
        assert!(e.to_string().contains("not supported yet"), "{e}");
        let e = run("ftp://example.com/m", &h, 1, dir.path(), &lim).expect_err("ftp");
        assert!(matches!(e, FetchError::UnsupportedScheme { .. }), "{e}");
        for bad in [
            "example.com/m.onnx",
            "http:///m",
            "file://relative/x",
            "http://exa mple/",
        ] {
            let e = run(bad, &h, 1, dir.path(), &lim).expect_err(bad);
            assert!(
                matches!(e, FetchError::BadUri { .. }) && !e.is_transient(),
                "{bad}: {e}"
            );
        }
        let e = run("http://127.0.0.1:1/m", "abc", 1, dir.path(), &lim).expect_err("hash");
        assert!(e.to_string().contains("not 64 hex digits"), "{e}");
        // Connection refused: a network error, worth retrying.
        let port = TcpListener::bind("127.0.0.1:0")
            .expect("bind")
            .local_addr()
            .expect("addr")
            .port();
        let e = run(
            &format!("http://127.0.0.1:{port}/m"),
            &h,
            1,
            dir.path(),
            &lim,
        )
        .expect_err("refused");
        assert!(
            matches!(e, FetchError::Network { .. }) && e.is_transient(),
            "{e}"
        );
        assert!(cache_files(dir.path()).is_empty());
    }

    #[test]
    fn file_uris_are_copied_and_verified_like_downloads() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cache = dir.path().join("cache");
        let src = dir.path().join("my model.onnx");
        let good = body(777, 6);
        std::fs::write(&src, &good).expect("write");
        let uri = format!("file://{}", src.display()).replace(' ', "%20");
        let lim = FetchLimits::default();
        let p = run(&uri, &sha(&good), 777, &cache, &lim).expect("file");
        assert_eq!(std::fs::read(p).expect("read"), good);
        let e = run(&uri, &sha(b"other"), 0, &cache, &lim).expect_err("hash");
        assert!(matches!(e, FetchError::HashMismatch { .. }), "{e}");
        let e = run(&uri, &sha(b"other"), 10, &cache, &lim).expect_err("size");
        assert!(matches!(e, FetchError::TooLarge { limit: 10, .. }), "{e}");
        let e = run(
            &format!("file://{}", dir.path().display()),
            &sha(b"o"),
            0,
            &cache,
            &lim,
        )
        .expect_err("dir");
        assert!(e.to_string().contains("not a regular file"), "{e}");
        let e = run("file:///no/such/file.onnx", &sha(b"o"), 0, &cache, &lim).expect_err("missing");
        assert!(matches!(e, FetchError::Io { .. }), "{e}");
        assert_eq!(cache_files(&cache).len(), 1);
    }

    #[test]
    fn redirects_are_followed_a_few_times_only_and_only_to_http() {
        let good = body(1234, 7);
        let g = good.clone();
        let srv = server(move |p| match p {
            "/m" => Reply::Body(g.clone()),
            "/a/rel" => Reply::Redirect("m2".into()),
            "/a/m2" => Reply::Body(g.clone()),
            "/r1" => Reply::Redirect("/m".into()),
            "/tls" => Reply::Redirect("https://example.com/m".into()),
            "/file" => Reply::Redirect("file:///etc/hostname".into()),
            p => {
                let n: u32 = p.trim_start_matches("/loop").parse().unwrap_or(0);
                Reply::Redirect(format!("/loop{}", n + 1))
            }
        });
        let dir = tempfile::tempdir().expect("tempdir");
        let lim = FetchLimits {
            max_redirects: 3,
            ..FetchLimits::default()
        };
        let h = sha(&good);
        run(&srv.url("/r1"), &h, 1234, dir.path(), &lim).expect("one redirect");
        std::fs::remove_file(cache_path(dir.path(), &h)).expect("rm");
        run(&srv.url("/a/rel"), &h, 1234, dir.path(), &lim).expect("relative redirect");
        let h = sha(b"not cached");
        let before = srv.hits();
        let e = run(&srv.url("/loop0"), &h, 0, dir.path(), &lim).expect_err("loop");
        assert!(
            matches!(e, FetchError::TooManyRedirects { max: 3, .. }),
            "{e}"
        );
        assert_eq!(
            srv.hits() - before,
            4,
            "the first request and three redirects"
        );
        let e = run(&srv.url("/tls"), &h, 0, dir.path(), &lim).expect_err("https");
        assert!(matches!(e, FetchError::UnsupportedScheme { .. }), "{e}");
        let e = run(&srv.url("/file"), &h, 0, dir.path(), &lim).expect_err("file");
        assert!(e.to_string().contains("may not lead to a file"), "{e}");
    }

    #[test]
    fn public_only_refuses_loopback_without_connecting() {
        let srv = server(|_| Reply::Status(200));
        let dir = tempfile::tempdir().expect("tempdir");
        let lim = FetchLimits {
            public_only: true,
            ..FetchLimits::default()
        };
        let e = run(&srv.url("/m"), &sha(b"x"), 1, dir.path(), &lim).expect_err("private");
        assert!(
            matches!(e, FetchError::PrivateAddress { .. }) && !e.is_transient(),
            "{e}"
        );
        assert_eq!(srv.hits(), 0);
        for ip in [
            "10.1.2.3",
            "192.168.0.1",
            "169.254.1.1",
            "::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "100.64.0.1",
        ] {
            assert!(is_non_public(ip.parse().expect("ip")), "{ip}");
        }
        for ip in ["8.8.8.8", "2606:4700::1111", "100.128.0.1"] {
            assert!(!is_non_public(ip.parse().expect("ip")), "{ip}");
        }
    }

    #[test]
    fn the_connect_timeout_bounds_a_connection_that_never_completes() {
        block(async {
            // A listener that never accepts, with its accept queue filled: further SYNs
            // are dropped, so connecting hangs until the connect timeout.
            let sock = tokio::net::TcpSocket::new_v4().expect("socket");
            sock.bind("127.0.0.1:0".parse().expect("addr"))
                .expect("bind");
            let l = sock.listen(0).expect("listen");
            let addr = l.local_addr().expect("addr");
            let mut held = Vec::new();
            for _ in 0..8 {
                let c = tokio::net::TcpStream::connect(addr);
                match tokio::time::timeout(Duration::from_millis(200), c).await {
                    Ok(Ok(s)) => held.push(s),
                    _ => break,
                }
            }
            let dir = tempfile::tempdir().expect("tempdir");
            let lim = FetchLimits {
                connect_timeout: Duration::from_millis(300),
                ..FetchLimits::default()
            };
            let t0 = Instant::now();
            let uri = format!("http://{addr}/m");
            let e = fetch(&uri, &sha(b"x"), 1, dir.path(), &lim)
                .await
                .expect_err("connect timeout");
            assert!(
                matches!(
                    e,
                    FetchError::Timeout {
                        what: "connect",
                        after_ms: 300,
                        ..
                    }
                ),
                "{e}"
            );
            assert!(e.is_transient() && t0.elapsed() < Duration::from_secs(3));
            drop((held, l));
        });
    }

    #[test]
    fn stale_temp_files_are_swept() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join(".abc.1.2.part"), b"x").expect("write");
        std::fs::write(dir.path().join("keep.onnx"), b"x").expect("write");
        sweep_temp_files(dir.path());
        assert_eq!(cache_files(dir.path()), vec!["keep.onnx".to_string()]);
    }
}
