//! The gRPC server and REST gateway of a test net's node, and a plain
//! HTTP/1.0 client for the gateway.

use std::io::{Read, Write};

use verdict_app::grpc::Backend;
use verdict_app::rest;

/// Serves the gateway over `backend` on a free loopback port, on `rt`: its
/// address.
pub fn serve_rest(rt: &tokio::runtime::Runtime, backend: Backend, cors: rest::Cors) -> String {
    rt.block_on(async {
        let r = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let a = r.local_addr().expect("addr").to_string();
        tokio::spawn(rest::run(backend, cors, r));
        a
    })
}

/// Serves gRPC over `backend` on a free loopback port, on `rt`: its address.
pub fn serve_grpc(rt: &tokio::runtime::Runtime, backend: Backend) -> String {
    rt.block_on(async {
        let g = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let a = g.local_addr().expect("addr").to_string();
        tokio::spawn(verdict_app::grpc::run(backend, g));
        a
    })
}

/// One request (from the origin `http://explorer.test`): the status, the
/// JSON body (null when empty) and the headers, lower-cased.
pub fn http(addr: &str, method: &str, path: &str, body: &[u8]) -> (u16, serde_json::Value, String) {
    let mut s = std::net::TcpStream::connect(addr).expect("connect REST");
    write!(
        s,
        "{method} {path} HTTP/1.0\r\nHost: {addr}\r\nOrigin: http://explorer.test\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .expect("write");
    s.write_all(body).expect("body");
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).expect("read");
    let text = String::from_utf8(raw).expect("utf8");
    let (head, body) = text.split_once("\r\n\r\n").expect("http reply");
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .expect("status");
    let json = if body.is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::from_str(body).unwrap_or_else(|e| panic!("{path}: not JSON ({e}): {body}"))
    };
    (status, json, head.to_ascii_lowercase())
}
