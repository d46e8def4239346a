//! Interchain accounts, host side (ICS-27, port `icahost`, version `ics27-1`
//! in ibc-go's metadata JSON, encoding `proto3`, tx type `sdk_multi_msg`): a
//! controller chain (any ibc-go chain, e.g. `wasmd tx interchain-accounts
//! controller register`) opens a channel from its `icacontroller-<owner>` port
//! and gets an account on Verdict that only its packets can drive.
//!
//! - **Handshake** (`port`): the host never initiates. On ChanOpenTry it checks
//!   the controller's metadata as ibc-go's host does (connection ids, encoding,
//!   tx type, version; invalid metadata gets ibc-go's default proposal), refuses
//!   a second live channel for the same (connection, controller port), and
//!   answers with the metadata carrying the account's address. The account is
//!   `Addr::module("icahost/<connection>/<controller port>")`, so a channel
//!   reopened after a close (an ORDERED channel closes on a timeout) drives the
//!   same account. ChanOpenConfirm makes the channel the account's active one.
//!   A user close is refused; a counterparty's close is accepted.
//! - **Packets** (`exec`): `TYPE_EXECUTE_TX` with a proto3 `CosmosTx`. Every
//!   message must be of a type the params allow ([`IcaHostParams`]) and be
//!   signed by the account; they run in order through the app's router, in one
//!   overlay: all or nothing. The acknowledgement is ibc-go's: `{"result":
//!   base64(TxMsgData{msg_responses})}` (so a `MsgSubmitJob`'s job id comes
//!   back), or `{"error":"ABCI code: N: error handling packet: see events for
//!   details"}` with the reason in an `ica_host_tx_failed` event. It is written
//!   in the message that received the packet.
//!
//! Files: `state` (tables, params), `port`, `exec`, `tests`.

use cosmwasm_std::Storage;
use ibc::core::channel::types::proto::v1::Channel as RawChannel;
use ibc::core::connection::types::proto::v1::ConnectionEnd as RawConnectionEnd;
use prost::Message;
use serde::{Deserialize, Serialize};
use verdict_core::address::Addr;

use crate::keys::flat_key;

mod exec;
mod port;
pub(crate) mod state;

#[cfg(test)]
mod tests;

pub use exec::execute_packets;
pub use port::{IcaHostModule, IcaPacket};
pub use state::{params, IcaHostParams};

/// The port the host is bound to.
pub const PORT: &str = "icahost";
/// Controller ports start with this.
pub const CONTROLLER_PORT_PREFIX: &str = "icacontroller-";
pub const VERSION: &str = "ics27-1";
pub const ENCODING: &str = "proto3";
pub const TX_TYPE: &str = "sdk_multi_msg";

/// ibc-go's channel version metadata (fields in its proto order).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Metadata {
    pub version: String,
    pub controller_connection_id: String,
    pub host_connection_id: String,
    #[serde(default)]
    pub address: String,
    pub encoding: String,
    pub tx_type: String,
}

impl Metadata {
    pub fn parse(version: &str) -> Option<Metadata> {
        serde_json::from_str(version).ok()
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// The interchain account of `controller_port` over `connection`.
pub fn account_address(connection: &str, controller_port: &str) -> Addr {
    Addr::module(&format!("{PORT}/{connection}/{controller_port}"))
}

/// The interchain account registered for (connection, controller port).
pub fn registered_account(
    s: &dyn Storage,
    connection: &str,
    controller_port: &str,
) -> Option<Addr> {
    state::ACCOUNTS
        .may_load(s, (connection, controller_port))
        .ok()
        .flatten()
        .and_then(|b| Addr::from_slice(&b))
}

/// The connection id at the other end of `connection` on this chain.
pub(crate) fn counterparty_connection(s: &dyn Storage, connection: &str) -> Option<String> {
    let raw = s.get(&flat_key(format!("connections/{connection}").as_bytes()))?;
    let end = RawConnectionEnd::decode(raw.as_slice()).ok()?;
    end.counterparty.map(|c| c.connection_id)
}

/// A channel end of this chain's `port`.
pub(crate) fn channel_end(s: &dyn Storage, port: &str, channel: &str) -> Option<RawChannel> {
    let raw = s.get(&flat_key(
        format!("channelEnds/ports/{port}/channels/{channel}").as_bytes(),
    ))?;
    RawChannel::decode(raw.as_slice()).ok()
}

/// Every stored account and channel mapping is well formed.
pub fn check_invariants(s: &dyn Storage) -> Result<(), String> {
    for r in state::ACCOUNTS.range(s, None, None, cosmwasm_std::Order::Ascending) {
        let ((conn, port), addr) = r.map_err(|e| e.to_string())?;
        if addr != account_address(&conn, &port).0.to_vec() {
            return Err(format!(
                "the account of {conn}/{port} is not the derived one"
            ));
        }
    }
    Ok(())
}
