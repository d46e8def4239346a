//! ICS-20's tables (in the app tree: counterparties never prove them).

use cosmwasm_std::Uint128;
use cw_storage_plus::Map;

/// Upper-case hex SHA-256 of a voucher's full trace → that trace
/// (`transfer/channel-0/stake`).
pub(crate) const DENOM_TRACES: Map<&str, String> = Map::new("ibc_transfer/denom_traces");
/// Bank denom → amount held in all of this application's escrow accounts
/// (the sum of [`CHANNEL_ESCROW`] over channels).
pub(crate) const TOTAL_ESCROW: Map<&str, Uint128> = Map::new("ibc_transfer/total_escrow");
/// (channel, bank denom) → amount escrowed for that channel: what tokens
/// coming home over it may release (coins sent to an escrow account by other
/// means are a donation, never released).
pub(crate) const CHANNEL_ESCROW: Map<(&str, &str), Uint128> =
    Map::new("ibc_transfer/channel_escrow");
