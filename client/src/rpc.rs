//! A CometBFT JSON-RPC client over HTTP or HTTPS (ureq, on rustls).
//!
//! `--node` may be `host:port`, `tcp://host:port`, `http://host:port` or
//! `https://host[:port]`. HTTPS checks the node's certificate against the Web
//! PKI roots, or against the operator's own CA ([`Rpc::with_ca_file`], the
//! CLI's `--node-ca`) for a node behind a private certificate. A reply is read
//! up to [`MAX_REPLY_BYTES`] and no further (security review L-7).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use serde_json::Value;
use ureq::tls::{Certificate, PemItem, RootCerts, TlsConfig};

/// Largest reply read from a node: a block with 100 MiB of txs, base64 in JSON.
pub const MAX_REPLY_BYTES: u64 = 256 << 20;

/// How long connecting, and waiting for the reply's head, may take.
const TIMEOUT: Duration = Duration::from_secs(30);
/// How long reading a reply's body may take (256 MiB at ~1 MB/s).
const BODY_TIMEOUT: Duration = Duration::from_secs(300);

/// The node answered, with a JSON-RPC error (as opposed to a transport error).
#[derive(Debug, thiserror::Error)]
#[error("{at}: {error}")]
pub struct RpcError {
    /// "{url} /{path}"
    pub at: String,
    /// The JSON-RPC `error` object.
    pub error: Value,
}

impl RpcError {
    /// Whether the node's error says `text` (CometBFT puts the reason in `data`).
    pub fn says(&self, text: &str) -> bool {
        self.error.to_string().contains(text)
    }
}

pub struct Rpc {
    /// scheme://host:port, no trailing slash.
    base: String,
    agent: ureq::Agent,
}

impl Rpc {
    /// A client of `node`; HTTPS trusts the Web PKI roots.
    pub fn new(node: &str) -> Self {
        Self::build(node, RootCerts::WebPki)
    }

    /// A client of `node` whose HTTPS trusts only the CA certificates of the
    /// PEM file `ca` (a node behind a private or self-signed CA).
    pub fn with_ca_file(node: &str, ca: &Path) -> anyhow::Result<Self> {
        let pem = std::fs::read(ca).with_context(|| format!("reading {}", ca.display()))?;
        let certs = ureq::tls::parse_pem(&pem)
            .filter_map(|item| match item {
                Ok(PemItem::Certificate(c)) => Some(Ok(c)),
                Ok(_) => None,
                Err(e) => Some(Err(e)),
            })
            .collect::<Result<Vec<Certificate<'static>>, _>>()
            .with_context(|| format!("{}: not a PEM file", ca.display()))?;
        if certs.is_empty() {
            bail!("{}: no certificate in it", ca.display());
        }
        Ok(Self::build(node, RootCerts::Specific(Arc::new(certs))))
    }

    fn build(node: &str, roots: RootCerts) -> Self {
        let node = node.trim_end_matches('/');
        let base = if node.starts_with("https://") || node.starts_with("http://") {
            node.to_string()
        } else {
            format!("http://{}", node.trim_start_matches("tcp://"))
        };
        // No proxy from the environment (the node is usually loopback) and no
        // redirects (an https node must not hand the client to http).
        let config = ureq::Agent::config_builder()
            .proxy(None)
            .max_redirects(0)
            .timeout_connect(Some(TIMEOUT))
            .timeout_recv_response(Some(TIMEOUT))
            .timeout_recv_body(Some(BODY_TIMEOUT))
            .http_status_as_error(false)
            .tls_config(TlsConfig::builder().root_certs(roots).build())
            .build();
        Rpc {
            base,
            agent: ureq::Agent::new_with_config(config),
        }
    }

    pub fn url(&self) -> String {
        self.base.clone()
    }

    /// GET `/{path}` and return the JSON-RPC `result`.
    pub fn get(&self, path: &str) -> anyhow::Result<Value> {
        let url = format!("{}/{path}", self.base);
        let mut reply = self
            .agent
            .get(&url)
            .header("Accept", "application/json")
            .call()
            .map_err(|e| anyhow!("node unreachable at {}: {e}", self.base))?;
        let status = reply.status();
        let body = match reply
            .body_mut()
            .with_config()
            .limit(MAX_REPLY_BYTES)
            .read_to_vec()
        {
            Ok(body) => body,
            Err(ureq::Error::BodyExceedsLimit(_)) => bail!(
                "{} /{path}: reply larger than {MAX_REPLY_BYTES} bytes, refused",
                self.base
            ),
            Err(e) => bail!("reading the reply of {}: {e}", self.base),
        };
        let doc: Value = serde_json::from_slice(&body).with_context(|| {
            format!(
                "{} did not answer JSON for /{path} (HTTP {status})",
                self.base
            )
        })?;
        if let Some(err) = doc.get("error").filter(|e| !e.is_null()) {
            return Err(RpcError {
                at: format!("{} /{path}", self.base),
                error: err.clone(),
            }
            .into());
        }
        doc.get("result")
            .cloned()
            .ok_or_else(|| anyhow!("{} /{path}: reply without result", self.base))
    }

    /// [`Rpc::get`], the `result` deserialized as `T`.
    pub fn get_as<T: serde::de::DeserializeOwned>(&self, path: &str) -> anyhow::Result<T> {
        let v = self.get(path)?;
        serde_json::from_value(v)
            .with_context(|| format!("{} /{path}: unexpected reply", self.base))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_oversized_reply_is_refused_not_buffered_whole() {
        use std::io::Write as _;
        let addr = serve(|s| {
            let _ = s.write_all(b"HTTP/1.1 200 OK\r\n\r\n");
            let chunk = vec![b' '; 1 << 20];
            for _ in 0..(MAX_REPLY_BYTES >> 20) + 2 {
                if s.write_all(&chunk).is_err() {
                    return;
                }
            }
        });
        let e = Rpc::new(&addr.to_string())
            .get("status")
            .expect_err("too large");
        assert!(e.to_string().contains("larger than"), "{e}");
    }

    /// Accepts one connection on a loopback port, reads the request, and
    /// lets `reply` write the raw answer.
    fn serve(
        reply: impl FnOnce(&mut std::net::TcpStream) + Send + 'static,
    ) -> std::net::SocketAddr {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = l.local_addr().expect("addr");
        std::thread::spawn(move || {
            if let Ok((mut s, _)) = l.accept() {
                let mut buf = [0u8; 1024];
                let _ = std::io::Read::read(&mut s, &mut buf);
                reply(&mut s);
            }
        });
        addr
    }

    /// Serves one HTTP exchange on a loopback port: the raw reply bytes, in
    /// the given writes.
    fn serve_once(parts: Vec<Vec<u8>>) -> std::net::SocketAddr {
        use std::io::Write as _;
        serve(move |s| {
            for p in parts {
                let _ = s.write_all(&p);
                let _ = s.flush();
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
        })
    }

    #[test]
    fn a_chunk_boundary_inside_a_multibyte_character_decodes() {
        // "é" is two bytes; the first chunk (and the first write) ends between them.
        let body = "{\"result\":{\"m\":\"caf\u{e9}\"}}".as_bytes();
        let split = body.iter().position(|b| *b == 0xc3).expect("é") + 1;
        let mut parts = vec![b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec()];
        for part in [&body[..split], &body[split..]] {
            let mut c = format!("{:x}\r\n", part.len()).into_bytes();
            c.extend_from_slice(part);
            c.extend_from_slice(b"\r\n");
            parts.push(c);
        }
        parts.push(b"0\r\n\r\n".to_vec());
        let addr = serve_once(parts);
        let v = Rpc::new(&format!("tcp://{addr}/"))
            .get("status")
            .expect("reply");
        assert_eq!(v["m"], "caf\u{e9}");
    }

    #[test]
    fn a_json_rpc_error_and_a_reply_that_is_not_json_are_errors() {
        let err = br#"{"error":{"code":-32603,"message":"boom"}}"#;
        let mut reply = format!(
            "HTTP/1.1 500 Internal\r\nContent-Length: {}\r\n\r\n",
            err.len()
        )
        .into_bytes();
        reply.extend_from_slice(err);
        let addr = serve_once(vec![reply]);
        let e = Rpc::new(&addr.to_string())
            .get("status")
            .expect_err("error");
        assert!(e.to_string().contains("boom"), "{e}");
        let addr = serve_once(vec![
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello".to_vec()
        ]);
        let e = Rpc::new(&addr.to_string())
            .get("status")
            .expect_err("not json");
        assert!(e.to_string().contains("did not answer JSON"), "{e}");
    }
}
