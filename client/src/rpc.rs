//! A minimal CometBFT JSON-RPC client over plain HTTP/1.1 (loopback or LAN nodes).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use serde_json::Value;

/// Largest reply read from a node: a block with 100 MiB of txs, base64 in JSON.
pub const MAX_REPLY_BYTES: u64 = 256 << 20;

pub struct Rpc {
    /// host:port
    addr: String,
}

impl Rpc {
    pub fn new(node: &str) -> Self {
        let addr = node
            .trim_start_matches("http://")
            .trim_start_matches("tcp://")
            .trim_end_matches('/')
            .to_string();
        Rpc { addr }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// GET `/{path}` and return the JSON-RPC `result`.
    pub fn get(&self, path: &str) -> anyhow::Result<Value> {
        let mut stream = TcpStream::connect(&self.addr)
            .with_context(|| format!("node unreachable at {}", self.url()))?;
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        write!(
            stream,
            "GET /{path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nAccept: application/json\r\n\r\n",
            self.addr
        )?;
        let mut raw = Vec::new();
        // A node (or whatever answers on its port) cannot make us hold more
        // than this in memory (security review L-7).
        (&mut stream)
            .take(MAX_REPLY_BYTES + 1)
            .read_to_end(&mut raw)
            .with_context(|| format!("reading the reply of {}", self.url()))?;
        if raw.len() as u64 > MAX_REPLY_BYTES {
            bail!(
                "{} /{path}: reply larger than {MAX_REPLY_BYTES} bytes, refused",
                self.url()
            );
        }
        // Headers and chunks are framed in bytes: decode UTF-8 only once the
        // body is whole (a chunk may end inside a multi-byte character).
        let split = raw
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .ok_or_else(|| anyhow!("malformed HTTP reply from {}", self.url()))?;
        let head = String::from_utf8_lossy(&raw[..split]).to_ascii_lowercase();
        let body = &raw[split + 4..];
        let body = if head.contains("transfer-encoding: chunked") {
            dechunk(body)?
        } else {
            body.to_vec()
        };
        let body = String::from_utf8(body)
            .with_context(|| format!("{} answered /{path} with invalid UTF-8", self.url()))?;
        let doc: Value = serde_json::from_str(&body)
            .with_context(|| format!("{} did not answer JSON for /{path}", self.url()))?;
        if let Some(err) = doc.get("error").filter(|e| !e.is_null()) {
            bail!("{} /{path}: {}", self.url(), err);
        }
        doc.get("result")
            .cloned()
            .ok_or_else(|| anyhow!("{} /{path}: reply without result", self.url()))
    }

    /// [`Rpc::get`], the `result` deserialized as `T`.
    pub fn get_as<T: serde::de::DeserializeOwned>(&self, path: &str) -> anyhow::Result<T> {
        let v = self.get(path)?;
        serde_json::from_value(v)
            .with_context(|| format!("{} /{path}: unexpected reply", self.url()))
    }
}

/// The body of a `Transfer-Encoding: chunked` reply.
fn dechunk(body: &[u8]) -> anyhow::Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut rest = body;
    loop {
        let line_end = rest
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or_else(|| anyhow!("bad chunked body"))?;
        let size = std::str::from_utf8(&rest[..line_end])
            .ok()
            .and_then(|s| usize::from_str_radix(s.split(';').next().unwrap_or("").trim(), 16).ok())
            .ok_or_else(|| anyhow!("bad chunk size"))?;
        let tail = &rest[line_end + 2..];
        if size == 0 {
            return Ok(out);
        }
        let chunk = tail.get(..size).ok_or_else(|| anyhow!("short chunk"))?;
        out.extend_from_slice(chunk);
        rest = tail.get(size..).unwrap_or_default();
        rest = rest.strip_prefix(b"\r\n").unwrap_or(rest);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_oversized_reply_is_refused_not_buffered_whole() {
        use std::io::Write as _;
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = l.local_addr().expect("addr");
        std::thread::spawn(move || {
            if let Ok((mut s, _)) = l.accept() {
                let mut buf = [0u8; 1024];
                let _ = std::io::Read::read(&mut s, &mut buf);
                let _ = s.write_all(b"HTTP/1.1 200 OK\r\n\r\n");
                let chunk = vec![b' '; 1 << 20];
                for _ in 0..(MAX_REPLY_BYTES >> 20) + 2 {
                    if s.write_all(&chunk).is_err() {
                        return;
                    }
                }
            }
        });
        let e = Rpc::new(&addr.to_string())
            .get("status")
            .expect_err("too large");
        assert!(e.to_string().contains("larger than"), "{e}");
    }

    #[test]
    fn a_chunk_boundary_inside_a_multibyte_character_decodes() {
        // "é" is two bytes; the first chunk ends between them.
        let body = "{\"m\":\"caf\u{e9}\"}".as_bytes();
        let split = body.iter().position(|b| *b == 0xc3).expect("é") + 1;
        let mut chunked = Vec::new();
        for part in [&body[..split], &body[split..]] {
            chunked.extend_from_slice(format!("{:x}\r\n", part.len()).as_bytes());
            chunked.extend_from_slice(part);
            chunked.extend_from_slice(b"\r\n");
        }
        chunked.extend_from_slice(b"0\r\n\r\n");
        let out = dechunk(&chunked).expect("dechunk");
        assert_eq!(out, body);
        assert!(dechunk(b"zz\r\nabc").is_err());
        assert!(dechunk(b"5\r\nab").is_err());
    }
}
