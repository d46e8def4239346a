//! Where the sidecar serves gRPC: a loopback TCP address, or a Unix socket
//! that only the sidecar's own user can open (security review L-8).
//!
//! `--listen unix:/run/verdict/sidecar.sock` binds the socket in a fresh
//! 0700 directory beside it, makes it mode 0600 and only then renames it into
//! place, so no other user ever finds it open, whatever the umask; on top of that, every accepted
//! connection's peer credentials are checked, and a process of another user
//! (root aside) is dropped before it can send a byte. verdictd connects with
//! `--sidecar unix:/run/verdict/sidecar.sock`.

use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::str::FromStr;
use std::task::{Context, Poll};

use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, UnixListener, UnixStream};

/// A `--listen` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Listen {
    Tcp(SocketAddr),
    Unix(PathBuf),
}

impl FromStr for Listen {
    type Err = String;

    /// `127.0.0.1:50151`, `[::1]:50151`, `unix:/path` or `unix:///path`.
    fn from_str(s: &str) -> Result<Self, String> {
        if let Some(path) = unix_path(s) {
            if path.as_os_str().is_empty() {
                return Err("unix: needs a socket path".into());
            }
            return Ok(Listen::Unix(path));
        }
        let addr: SocketAddr = s
            .parse()
            .map_err(|e| format!("{s:?}: neither host:port nor unix:PATH ({e})"))?;
        // A token is not transport security: the sidecar never listens beyond this host.
        if !addr.ip().is_loopback() {
            return Err(format!(
                "{addr} is not a loopback address; the sidecar only listens on loopback or a Unix socket"
            ));
        }
        Ok(Listen::Tcp(addr))
    }
}

impl fmt::Display for Listen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Listen::Tcp(a) => write!(f, "{a}"),
            Listen::Unix(p) => write!(f, "unix:{}", p.display()),
        }
    }
}

/// The socket path of a `unix:` address (client or server side).
pub fn unix_path(s: &str) -> Option<PathBuf> {
    s.strip_prefix("unix://")
        .or_else(|| s.strip_prefix("unix:"))
        .map(PathBuf::from)
}

/// A bound listener.
pub enum Bound {
    Tcp(TcpListener),
    /// With the uid that owns the socket (the sidecar's own).
    Unix(UnixListener, u32),
}

/// Binds `listen`. A Unix socket left by an earlier run is replaced; one that
/// a live process still serves, or any other file at that path, is an error.
pub async fn bind(listen: &Listen) -> std::io::Result<Bound> {
    match listen {
        Listen::Tcp(a) => Ok(Bound::Tcp(TcpListener::bind(a).await?)),
        Listen::Unix(path) => bind_unix(path).map(|(l, uid)| Bound::Unix(l, uid)),
    }
}

fn bind_unix(path: &Path) -> std::io::Result<(UnixListener, u32)> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_socket() => {
            if std::os::unix::net::UnixStream::connect(path).is_ok() {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::AddrInUse,
                    format!("{} is in use by a running process", path.display()),
                ));
            }
            std::fs::remove_file(path)?
        }
        Ok(_) => {
            return Err(std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                format!("{} exists and is not a socket", path.display()),
            ))
        }
        Err(_) => {}
    }
    // Bound inside a fresh directory only this user can enter, whatever the
    // umask: nobody else can reach the socket before it is 0600 and in place.
    let mut dir = path.as_os_str().to_owned();
    dir.push(format!(".{}.d", std::process::id()));
    let dir = PathBuf::from(dir);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::DirBuilder::new().mode(0o700).create(&dir)?;
    let placed = (|| {
        let tmp = dir.join("s");
        let listener = UnixListener::bind(&tmp)?;
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o600))?;
        // The owner as created, before the socket is reachable by its name.
        let uid = std::fs::symlink_metadata(&tmp)?.uid();
        std::fs::rename(&tmp, path)?;
        Ok((listener, uid))
    })();
    // Empty after the rename; on a failure it still holds the socket.
    let _ = std::fs::remove_dir_all(&dir);
    placed
}

/// Connections of a Unix listener from the owner's processes (or root's);
/// others are closed unserved.
pub struct OwnerOnly(pub UnixListener, pub u32);

impl futures_core::Stream for OwnerOnly {
    type Item = std::io::Result<UnixStream>;
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        loop {
            match self.0.poll_accept(cx) {
                Poll::Ready(Ok((s, _))) => match s.peer_cred() {
                    Ok(c) if c.uid() == self.1 || c.uid() == 0 => return Poll::Ready(Some(Ok(s))),
                    Ok(c) => {
                        tracing::warn!(
                            uid = c.uid(),
                            "refused a sidecar connection of another user"
                        )
                    }
                    Err(e) => tracing::warn!(error = %e, "no peer credentials; connection refused"),
                },
                Poll::Ready(Err(e)) => return Poll::Ready(Some(Err(e))),
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

/// tonic's connector for a `unix:` sidecar address.
#[derive(Clone)]
pub struct UnixConnector(pub PathBuf);

type Connecting = Pin<Box<dyn Future<Output = std::io::Result<TokioIo<UnixStream>>> + Send>>;

impl tower_service::Service<http::Uri> for UnixConnector {
    type Response = TokioIo<UnixStream>;
    type Error = std::io::Error;
    type Future = Connecting;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: http::Uri) -> Self::Future {
        let path = self.0.clone();
        Box::pin(async move { UnixStream::connect(path).await.map(TokioIo::new) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listen_addresses_parse_and_stay_on_this_host() {
        assert_eq!(
            "unix:/run/s.sock".parse(),
            Ok(Listen::Unix("/run/s.sock".into()))
        );
        assert_eq!(
            "unix:///run/s.sock".parse(),
            Ok(Listen::Unix("/run/s.sock".into()))
        );
        assert!("unix:".parse::<Listen>().is_err());
        assert!("0.0.0.0:50151".parse::<Listen>().is_err());
        assert!("10.0.0.1:50151".parse::<Listen>().is_err());
        let l: Listen = "127.0.0.1:50151".parse().expect("loopback");
        assert_eq!(l.to_string(), "127.0.0.1:50151");
        assert_eq!(
            Listen::Unix("/a".into()).to_string().parse::<Listen>(),
            Ok(Listen::Unix("/a".into()))
        );
    }
}
