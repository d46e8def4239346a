//! The fetcher's plain-HTTP/1.1 side: resolving and connecting (bounded by the
//! connect timeout, optionally refusing non-public addresses), one GET per
//! connection, redirects, and streaming the body into the capped [`Sink`].

use std::net::IpAddr;

use bytes::Bytes;
use http::Uri;
use http_body_util::{BodyExt, Empty};

use super::{parse, FetchError, FetchLimits, Sink, Source};

/// Loopback, private, link-local, unspecified and similar addresses.
pub fn is_non_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || o[0] == 0
                || (o[0] == 100 && (o[1] & 0xc0) == 64)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_non_public(IpAddr::V4(v4));
            }
            let s = v6.segments();
            v6.is_loopback()
                || v6.is_unspecified()
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
        }
    }
}

/// Aborts the connection driver when the request is done or dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

type Response = http::Response<hyper::body::Incoming>;

async fn connect(u: &Uri, limits: &FetchLimits) -> Result<tokio::net::TcpStream, FetchError> {
    let uri = u.to_string();
    let host = u.host().unwrap_or_default();
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let port = u.port_u16().unwrap_or(80);
    let net = |reason: String| FetchError::Network {
        uri: uri.clone(),
        reason,
    };
    let attempt = async {
        let addrs: Vec<_> = tokio::net::lookup_host((host, port))
            .await
            .map_err(|e| net(format!("cannot resolve `{host}`: {e}")))?
            .collect();
        let mut last = format!("`{host}` resolves to no address");
        for addr in addrs {
            if limits.public_only && is_non_public(addr.ip()) {
                return Err(FetchError::PrivateAddress {
                    uri: uri.clone(),
                    addr: addr.ip(),
                });
            }
            match tokio::net::TcpStream::connect(addr).await {
                Ok(s) => return Ok(s),
                Err(e) => last = format!("cannot connect to {addr}: {e}"),
            }
        }
        Err(net(last))
    };
    tokio::time::timeout(limits.connect_timeout, attempt)
        .await
        .map_err(|_| FetchError::Timeout {
            uri: uri.clone(),
            what: "connect",
            after_ms: limits.connect_timeout.as_millis() as u64,
        })?
}

async fn request(u: &Uri, limits: &FetchLimits) -> Result<(Response, AbortOnDrop), FetchError> {
    let net = |reason: String| FetchError::Network {
        uri: u.to_string(),
        reason,
    };
    let stream = connect(u, limits).await?;
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .map_err(|e| net(format!("HTTP handshake: {e}")))?;
    let guard = AbortOnDrop(tokio::spawn(async move {
        let _ = conn.await;
    }));
    let path = u.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let authority = u.authority().map(|a| a.as_str()).unwrap_or_default();
    let req = http::Request::get(path)
        .header(http::header::HOST, authority)
        .header(
            http::header::USER_AGENT,
            concat!("verdict-sidecar/", env!("CARGO_PKG_VERSION")),
        )
        .body(Empty::<Bytes>::new())
        .map_err(|e| net(format!("building the request: {e}")))?;
    let resp = sender
        .send_request(req)
        .await
        .map_err(|e| net(format!("HTTP request: {e}")))?;
    Ok((resp, guard))
}

/// Resolves a `Location` header against the URI it came from.
fn redirect_target(base: &Uri, location: &str) -> Result<Uri, FetchError> {
    let bad = |reason: String| FetchError::BadUri {
        uri: location.to_string(),
        reason,
    };
    let target = if location.contains("://") {
        location.to_string()
    } else if let Some(rest) = location.strip_prefix("//") {
        format!("http://{rest}")
    } else {
        let authority = base.authority().map(|a| a.as_str()).unwrap_or_default();
        let path = if location.starts_with('/') {
            location.to_string()
        } else {
            let dir = base.path().rsplit_once('/').map(|(d, _)| d).unwrap_or("");
            format!("{dir}/{location}")
        };
        format!("http://{authority}{path}")
    };
    match parse(&target)? {
        Source::Http(u) => Ok(u),
        Source::File(_) => Err(bad("a redirect may not lead to a file:// URI".to_string())),
    }
}

pub(super) async fn http_get(
    mut u: Uri,
    limits: &FetchLimits,
    size: u64,
    sink: &mut Sink,
) -> Result<(), FetchError> {
    for _ in 0..=limits.max_redirects {
        let (resp, _guard) = request(&u, limits).await?;
        let status = resp.status();
        if status.is_redirection() {
            if let Some(loc) = resp
                .headers()
                .get(http::header::LOCATION)
                .and_then(|v| v.to_str().ok())
            {
                u = redirect_target(&u, loc)?;
                continue;
            }
        }
        if !status.is_success() {
            return Err(FetchError::HttpStatus {
                uri: u.to_string(),
                status: status.as_u16(),
            });
        }
        let declared = resp
            .headers()
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if let Some(n) = declared {
            // Refuse before reading a byte when the server says it is the wrong size.
            if n > sink.limit {
                return Err(sink.too_large());
            }
            if size > 0 && n != size {
                return Err(FetchError::SizeMismatch {
                    uri: u.to_string(),
                    expected: size,
                    actual: n,
                });
            }
        }
        let mut body = resp.into_body();
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| FetchError::Network {
                uri: u.to_string(),
                reason: format!("reading the body: {e}"),
            })?;
            if let Ok(data) = frame.into_data() {
                sink.write(&data).await?;
            }
        }
        return Ok(());
    }
    Err(FetchError::TooManyRedirects {
        uri: u.to_string(),
        max: limits.max_redirects,
    })
}
