//! A minimal CometBFT JSON-RPC client over plain HTTP/1.1 (loopback or LAN nodes).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use serde_json::Value;

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
        stream
            .read_to_end(&mut raw)
            .with_context(|| format!("reading the reply of {}", self.url()))?;
        let text = String::from_utf8_lossy(&raw);
        let (head, body) = text
            .split_once("\r\n\r\n")
            .ok_or_else(|| anyhow!("malformed HTTP reply from {}", self.url()))?;
        let body = if head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked")
        {
            dechunk(body)?
        } else {
            body.to_string()
        };
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

fn dechunk(body: &str) -> anyhow::Result<String> {
    let mut out = String::new();
    let mut rest = body;
    loop {
        let (size, tail) = rest
            .split_once("\r\n")
            .ok_or_else(|| anyhow!("bad chunked body"))?;
        let n = usize::from_str_radix(size.trim(), 16)?;
        if n == 0 {
            return Ok(out);
        }
        let chunk = tail.get(..n).ok_or_else(|| anyhow!("short chunk"))?;
        out.push_str(chunk);
        rest = tail.get(n..).unwrap_or_default().trim_start_matches("\r\n");
    }
}
