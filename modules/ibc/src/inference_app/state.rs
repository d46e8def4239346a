//! The inference application's accounts, tables and request records.
//!
//! The tables are crate-private: other crates read requests through the
//! `RemoteRequest`/`RemoteRequests` queries ([`super::query`]).

use cosmwasm_std::Binary;
use cw_storage_plus::Map;
use serde::{Deserialize, Serialize};
use verdict_core::address::Addr;
use verdict_core::coin::Coin;
use verdict_inference::state::Addr20;

use crate::inference_packet::InferenceResult;

/// The account that pays for the jobs requested over `channel_id` of port
/// `inference` on this (serving) chain. Anyone may fund it with a bank send;
/// only jobs spend from it, and failed jobs refund to it. Once the
/// counterparty closes the channel, its funds go to the community pool
/// (`sweep`).
pub fn payer(channel_id: &str) -> Addr {
    Addr::module(&format!("ibc-inference/{channel_id}"))
}

/// Escrow of the fees of this chain's requests still in flight.
pub fn request_escrow() -> Addr {
    Addr::module("ibc-inference-requests")
}

/// Serving side: job id → the packet (`ibc.core.channel.v1.Packet` bytes) whose
/// acknowledgement the job's settlement writes.
pub(crate) const SERVED: Map<u64, Binary> = Map::new("ibc_inference/served");
/// Serving side: served jobs whose request asked to wait for a final result.
pub(crate) const WAIT_FINAL: Map<u64, ()> = Map::new("ibc_inference/wait_final");
/// Requesting side: (channel, sequence) → the request and its outcome.
pub(crate) const REQUESTS: Map<(&str, u64), RemoteRequest> = Map::new("ibc_inference/requests");
/// Requests still waiting for an acknowledgement or a timeout.
pub(crate) const IN_FLIGHT: Map<(&str, u64), ()> = Map::new("ibc_inference/in_flight");
/// (requester, channel, sequence) → (): a requester's requests.
pub(crate) const BY_REQUESTER: Map<(&[u8], &str, u64), ()> = Map::new("ibc_inference/by_requester");

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RemoteStatus {
    /// Sent, no acknowledgement or timeout yet.
    Pending,
    /// The serving chain's committee finalized a result.
    Completed,
    /// An error acknowledgement (refused request, failed or expired job): refunded.
    Failed,
    /// The packet timed out before it was received: refunded.
    TimedOut,
}

/// A request this chain sent, as the queries show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoteRequest {
    pub channel_id: String,
    pub sequence: u64,
    pub requester: Addr20,
    pub model_id: String,
    pub fee: Coin,
    pub sent_height: u64,
    pub timeout_timestamp_nanos: u64,
    pub status: RemoteStatus,
    pub result: Option<InferenceResult>,
    pub error: Option<String>,
    /// Height of the acknowledgement or timeout (0 while pending).
    pub closed_height: u64,
}
