//! `verdict-relayer`: a small IBC relayer between two Verdict chains, in the
//! repository so that the IBC end-to-end tests need nothing from outside; the
//! CLI's `verdict relayer link | start | status` drive it.
//!
//! It is not a replacement for Hermes or the Go relayer: one path (a client pair,
//! one connection, one channel on port `inference`), one signing key, polling
//! over CometBFT's HTTP RPC (parsed with `tendermint-rpc`'s response types, tx
//! results with `verdict-client`'s), no misbehaviour detection. What it does, it does the standard way:
//!
//! - [`link()`] creates a 07-tendermint client of each chain on the other (trust
//!   level 1/3, the chain's own unbonding period from staking params, trusting
//!   period 2/3 of it, Verdict's [`verdict_ibc::proof_specs`]), then runs the
//!   ICS-03 and ICS-04 handshakes. Each proof-carrying message goes in one tx
//!   after a MsgUpdateClient: a value of the source's state at height `h` is
//!   proven against the consensus state of header `h+1` (whose app hash commits
//!   block `h`), so `proof_height = h+1`.
//! - [`start()`] reads `block_results` of both chains height by height (txs' events
//!   and FinalizeBlock's), relays `send_packet` as MsgRecvPacket, carries
//!   `write_acknowledgement` back as MsgAcknowledgement, and times out packets
//!   the destination can no longer accept with a proof that no receipt exists.
//!   Progress lives in the path file ([`path`]), so a restart relays nothing twice.
//!
//! It signs and sends with `verdict-client` (RPC client, keyring, tx
//! submission); the chain it talks to is any node that serves `store/ibc/key`
//! queries with proofs.

pub mod endpoint;
mod link;
pub mod packets;
pub mod path;
pub mod relay;
pub mod status;

use std::time::Duration;

use anyhow::Context;
use verdict_client::keyring::Keyring;
use verdict_ibc::ibc;

use ibc::core::client::types::proto::v1::Height as RawHeight;
use ibc::core::client::types::Height;
use ibc::primitives::proto::Any;

use endpoint::Endpoint;

pub use link::link;
pub use relay::start;

/// The port and channel version the inference application binds.
pub const PORT: &str = "inference";
pub const VERSION: &str = "verdict-inference-1";
/// Clock drift a client tolerates between the two chains' block times.
pub const MAX_CLOCK_DRIFT: Duration = Duration::from_secs(40);

fn signer_of(kr: &Keyring, key: &str) -> anyhow::Result<String> {
    Ok(kr
        .show(key)
        .with_context(|| format!("key {key:?} in the keyring"))?
        .address)
}

/// Where a proof of `src`'s state is taken, and how `dst` comes to trust it.
pub struct ProofPoint {
    /// Height of the state proven.
    pub h: u64,
    /// `h + 1`: the header (and consensus state on `dst`) that commits it.
    pub proof_height: Height,
    pub app_hash: Vec<u8>,
    /// Block time of header `h + 1` (Unix ns): what a timeout is judged against.
    pub time_ns: u64,
    /// MsgUpdateClient to put first in the tx, when `dst`'s client is behind.
    pub update: Option<Any>,
}

impl ProofPoint {
    pub fn raw_height(&self) -> Option<RawHeight> {
        Some(self.proof_height.into())
    }
}

/// Picks the newest header of `src` (at least `min_h + 1`, so that state `min_h`
/// and later is provable) and the update that makes `dst`'s client
/// `client_on_dst` hold its consensus state.
pub fn proof_point(
    src: &Endpoint,
    dst: &Endpoint,
    client_on_dst: &str,
    min_h: u64,
    signer: &str,
) -> anyhow::Result<ProofPoint> {
    let latest = src.wait_for_height(min_h.saturating_add(1))?;
    let trusted = dst.client_state(client_on_dst)?.inner().latest_height;
    let (p, update) = if trusted.revision_height() >= latest {
        // The client is already there (another message just updated it).
        (trusted.revision_height(), None)
    } else {
        let msg = src.update_client_msg(client_on_dst, trusted, latest, signer)?;
        (latest, Some(msg))
    };
    let header = src.signed_header(p)?.header;
    let time_ns = u64::try_from(header.time.unix_timestamp_nanos()).unwrap_or(0);
    Ok(ProofPoint {
        h: p.saturating_sub(1),
        proof_height: src.height(p)?,
        app_hash: header.app_hash.as_bytes().to_vec(),
        time_ns,
        update,
    })
}
