//! `verdict --node https://…`: the RPC client speaks TLS, checks the node's
//! certificate (Web PKI roots, or the operator's CA with `--node-ca`), and
//! refuses a node whose certificate it cannot verify.
#![cfg(feature = "rpc")]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use verdict_client::rpc::Rpc;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// A TLS server for `localhost` (certificate signed by fixtures/ca.pem) that
/// answers every request with a CometBFT-like `/status` result.
fn https_node(connections: usize) -> SocketAddr {
    let certs = CertificateDer::pem_file_iter(fixture("node.pem"))
        .expect("node.pem")
        .collect::<Result<Vec<_>, _>>()
        .expect("certs");
    let key = PrivateKeyDer::from_pem_file(fixture("node.key")).expect("node.key");
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("versions")
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .expect("server config");
    let config = Arc::new(config);
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        for tcp in listener.incoming().take(connections).flatten() {
            let Ok(conn) = rustls::ServerConnection::new(config.clone()) else {
                continue;
            };
            let mut tls = rustls::StreamOwned::new(conn, tcp);
            let mut req = Vec::new();
            let mut buf = [0u8; 512];
            // A client that rejects the certificate ends the handshake: move on.
            while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                match tls.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => req.extend_from_slice(&buf[..n]),
                }
            }
            if req.is_empty() {
                continue;
            }
            let body = br#"{"jsonrpc":"2.0","id":-1,"result":{"node_info":{"network":"tls-1"}}}"#;
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = tls.write_all(head.as_bytes());
            let _ = tls.write_all(body);
            let _ = tls.flush();
            tls.conn.send_close_notify();
            let _ = tls.flush();
        }
    });
    addr
}

#[test]
fn https_with_the_nodes_ca_works_and_an_unverifiable_certificate_is_refused() {
    let addr = https_node(2);
    let node = format!("https://localhost:{}", addr.port());

    let rpc = Rpc::with_ca_file(&node, &fixture("ca.pem")).expect("ca");
    assert_eq!(rpc.url(), node);
    let status = rpc.get("status").expect("status over TLS");
    assert_eq!(status["node_info"]["network"], "tls-1");

    // The Web PKI does not know the test CA: no reply is trusted.
    let e = Rpc::new(&node).get("status").expect_err("untrusted");
    let msg = format!("{e:#}").to_lowercase();
    assert!(
        msg.contains("certificate") || msg.contains("issuer"),
        "{msg}"
    );
}

#[test]
fn a_ca_file_without_a_certificate_is_an_error() {
    let e = Rpc::with_ca_file("https://localhost:1", &fixture("node.key"))
        .err()
        .expect("a key is not a CA");
    assert!(e.to_string().contains("no certificate"), "{e}");
    assert!(Rpc::with_ca_file("https://localhost:1", &fixture("missing.pem")).is_err());
}
