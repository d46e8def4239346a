//! The path file: the two ends a `link` made, and `start`'s progress.
//!
//! ```json
//! {
//!   "key": "relayer",
//!   "a": { "node": "127.0.0.1:26657", "chain_id": "verdict-1",
//!          "client_id": "07-tendermint-0", "connection_id": "connection-0",
//!          "port_id": "inference", "channel_id": "channel-0",
//!          "relayed_height": 42, "pending_recv": [], "pending_acks": [] },
//!   "b": { ... }
//! }
//! ```
//!
//! `client_id` is the client *of the other chain* hosted on this end;
//! `relayed_height` is the last height of this chain whose events were read;
//! `pending_recv` are packets sent from this end not yet received (or timed
//! out), `pending_acks` acknowledgements written on this end not yet delivered.

use std::path::Path;

use anyhow::Context;
use serde::{Deserialize, Serialize};

use crate::packets::{AckInfo, PacketInfo};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct End {
    pub node: String,
    pub chain_id: String,
    pub client_id: String,
    pub connection_id: String,
    pub port_id: String,
    pub channel_id: String,
    #[serde(default)]
    pub relayed_height: u64,
    #[serde(default)]
    pub pending_recv: Vec<PacketInfo>,
    #[serde(default)]
    pub pending_acks: Vec<AckInfo>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PathFile {
    /// Keyring name of the key that signs on both chains.
    pub key: String,
    pub a: End,
    pub b: End,
}

impl PathFile {
    pub fn load(file: &Path) -> anyhow::Result<PathFile> {
        let text = std::fs::read_to_string(file)
            .with_context(|| format!("reading path file {}", file.display()))?;
        serde_json::from_str(&text).with_context(|| format!("path file {}", file.display()))
    }

    /// Writes through a temporary file and a rename, so a crash leaves the old
    /// or the new file, never half of one.
    pub fn save(&self, file: &Path) -> anyhow::Result<()> {
        let tmp = file.with_extension("tmp");
        std::fs::write(&tmp, serde_json::to_vec_pretty(self)?)
            .with_context(|| format!("writing {}", tmp.display()))?;
        std::fs::rename(&tmp, file).with_context(|| format!("writing {}", file.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn end(chain: &str) -> End {
        End {
            node: "127.0.0.1:26657".into(),
            chain_id: chain.into(),
            client_id: "07-tendermint-0".into(),
            connection_id: "connection-0".into(),
            port_id: "inference".into(),
            channel_id: "channel-0".into(),
            relayed_height: 0,
            pending_recv: vec![],
            pending_acks: vec![],
        }
    }

    #[test]
    fn progress_and_pending_packets_survive_a_save_and_load() {
        let dir = tempfile::tempdir().expect("tmp");
        let file = dir.path().join("path.json");
        let mut p = PathFile {
            key: "relayer".into(),
            a: end("verdict-1"),
            b: end("consumer-1"),
        };
        p.save(&file).expect("save");
        assert_eq!(PathFile::load(&file).expect("load"), p);
        p.a.relayed_height = 17;
        p.b.pending_recv.push(PacketInfo {
            sequence: 3,
            src_port: "inference".into(),
            src_channel: "channel-0".into(),
            dst_port: "inference".into(),
            dst_channel: "channel-0".into(),
            data_hex: "00".into(),
            timeout_height: "1-90".into(),
            timeout_timestamp: 0,
            height: 12,
        });
        p.save(&file).expect("save");
        let back = PathFile::load(&file).expect("load");
        assert_eq!(back.a.relayed_height, 17);
        assert_eq!(back.b.pending_recv.len(), 1);
        assert!(!file.with_extension("tmp").exists());
        // A file written by `link` (no progress fields yet) loads with defaults.
        std::fs::write(
            &file,
            r#"{"key":"k","a":{"node":"n","chain_id":"a-1","client_id":"c","connection_id":"x",
                "port_id":"inference","channel_id":"channel-0"},
                "b":{"node":"n","chain_id":"b-1","client_id":"c","connection_id":"x",
                "port_id":"inference","channel_id":"channel-0"}}"#,
        )
        .expect("write");
        let p = PathFile::load(&file).expect("load");
        assert_eq!(p.a.relayed_height, 0);
        assert!(p.a.pending_recv.is_empty());
    }
}
