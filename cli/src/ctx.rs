//! What every command may use: the node, the output format, the keyring.

use std::path::{Path, PathBuf};

use anyhow::anyhow;
use verdict_client::keyring::Keyring;
use verdict_client::rpc::Rpc;
use verdict_core::address::Addr;

use crate::output::Output;

/// What every command may use: the node, the output format, the keyring.
pub struct Ctx {
    pub rpc: Rpc,
    pub out: Output,
    kr_dir: PathBuf,
}

impl Ctx {
    /// `node_ca`: the --node-ca flag; `keyring_dir`: the --keyring-dir flag.
    pub fn new(
        node: &str,
        node_ca: Option<&Path>,
        out: Output,
        keyring_dir: Option<PathBuf>,
    ) -> anyhow::Result<Self> {
        let rpc = match node_ca {
            Some(ca) => Rpc::with_ca_file(node, ca)?,
            None => Rpc::new(node),
        };
        Ok(Ctx {
            rpc,
            out,
            kr_dir: default_keyring_dir(keyring_dir),
        })
    }

    /// Opens (creating it if need be) the keyring directory.
    pub fn keyring(&self) -> anyhow::Result<Keyring> {
        Keyring::open(&self.kr_dir)
    }
}

/// --keyring-dir, else $VERDICT_HOME/keyring, else ~/.verdict/keyring.
fn default_keyring_dir(flag: Option<PathBuf>) -> PathBuf {
    flag.or_else(|| std::env::var_os("VERDICT_HOME").map(|h| PathBuf::from(h).join("keyring")))
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
                .join(".verdict")
                .join("keyring")
        })
}

/// An address argument may be a bech32 address or a key name.
pub fn resolve_addr(kr: &Keyring, s: &str) -> anyhow::Result<Addr> {
    if s.starts_with("verdict1") {
        return Addr::parse(s).map_err(|e| anyhow!("{e}"));
    }
    let info = kr.show(s).map_err(|_| {
        anyhow!("{s:?} is neither a verdict1… address nor a key name in the keyring")
    })?;
    Addr::parse(&info.address).map_err(|e| anyhow!("{e}"))
}
