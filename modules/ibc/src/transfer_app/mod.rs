//! ICS-20 fungible token transfer on port `transfer` (channel version
//! `ics20-1`, unordered), ibc-rs's transfer application over Verdict's bank, so
//! an unmodified ibc-go chain can open a transfer channel with Verdict.
//!
//! - **Sending** (`/ibc.applications.transfer.v1.MsgTransfer`, [`send`]): a
//!   token this chain is the source of (`uverd`, or a voucher going further)
//!   is escrowed in the channel's escrow account ([`escrow_address`], ibc-go's
//!   derivation, so both sides agree on it); a voucher going back towards its
//!   source is burned. The packet carries the full trace (`transfer/channel-0/
//!   stake`), never the `ibc/…` bank denom: [`send`] resolves a voucher's
//!   `ibc/<hash>` through the recorded traces first.
//! - **Receiving**: a token coming home is released from escrow; any other is
//!   minted as the voucher `ibc/<SHA-256 of its trace path, upper-case hex>`
//!   ([`bank_denom`]), and its trace recorded ([`DENOM_TRACES`]) for the
//!   `DenomTrace(s)` queries and for sending it back. The acknowledgement is
//!   ibc-go's (`{"result":"AQ=="}` or `{"error":…}`), written in the same
//!   message.
//! - **Acknowledgement with an error, or timeout**: the sender is refunded
//!   (escrow released, or the burned voucher minted back).
//! - The memo travels untouched in the packet data.
//!
//! Bank moves are written as the bank's own `coin_spent`/`coin_received`/
//! `transfer`/`burn`/`coinbase` events. [`TOTAL_ESCROW`] keeps the amount of
//! each denom held in all escrow accounts (ibc-go's `TotalEscrowForDenom`),
//! the sum of per-channel books: a token coming home over a channel is released
//! only from what that channel escrowed. Module accounts and the channel's own
//! escrow never receive (an error acknowledgement), and a failed receive's
//! acknowledgement is ibc-go's code-only error, the reason in an
//! `ics20_receive_failed` event.
//!
//! Files: `token` (ibc-rs's token contexts over the bank), `port` (the channel
//! and packet callbacks), `send`, `queries`, `tests`.

use cosmwasm_std::{Order, Storage, Uint128};
use ibc::apps::transfer::types::{PrefixedCoin, PrefixedDenom};
use ibc::core::host::types::identifiers::{ChannelId, PortId};
use sha2::{Digest, Sha256};
use verdict_core::address::Addr;

mod port;
pub mod queries;
mod send;
pub(crate) mod state;
mod token;

#[cfg(test)]
mod tests;

pub(crate) use port::ack_json;
pub use port::TransferModule;
pub use send::{send, TransferMsg, MSG_TRANSFER_URL};
pub use token::TokenCtx;

use state::{DENOM_TRACES, TOTAL_ESCROW};

/// The port ICS-20 is bound to.
pub const PORT: &str = "transfer";
/// The channel version ICS-20 speaks (ibc-go's `ics20-1`).
pub const VERSION: &str = "ics20-1";
/// Bank denoms of vouchers start with this.
pub const VOUCHER_PREFIX: &str = "ibc/";

fn upper_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

/// The hash part of a voucher's denom: SHA-256 of its full trace, upper-case hex.
pub fn trace_hash(full_path: &str) -> String {
    upper_hex(&Sha256::digest(full_path.as_bytes()))
}

/// The bank denom of a token: its base denom when it has no trace (a token of
/// this chain), else the voucher `ibc/<trace_hash>`.
pub fn bank_denom(denom: &PrefixedDenom) -> String {
    if denom.trace_path.is_empty() {
        denom.base_denom.as_str().to_string()
    } else {
        format!("{VOUCHER_PREFIX}{}", trace_hash(&denom.to_string()))
    }
}

/// ibc-go's escrow account of a channel: the first 20 bytes of
/// SHA-256(`ics20-1` 0x00 `port/channel`).
pub fn escrow_address(port_id: &str, channel_id: &str) -> Addr {
    let mut h = Sha256::new();
    h.update(VERSION.as_bytes());
    h.update([0u8]);
    h.update(format!("{port_id}/{channel_id}").as_bytes());
    let d = h.finalize();
    let mut a = [0u8; 20];
    a.copy_from_slice(&d[..20]);
    Addr(a)
}

pub(crate) fn escrow_of(port_id: &PortId, channel_id: &ChannelId) -> Addr {
    escrow_address(port_id.as_str(), channel_id.as_str())
}

/// The full trace of a voucher's bank denom (`ibc/<hash>`), when this chain
/// has minted it; `None` for anything else.
pub fn resolve_voucher(s: &dyn Storage, bank_denom: &str) -> Option<String> {
    let hash = bank_denom.strip_prefix(VOUCHER_PREFIX)?;
    DENOM_TRACES.may_load(s, hash).ok().flatten()
}

/// A token amount as the bank's `Uint128`; an error above 2^128 - 1.
pub(crate) fn bank_amount(coin: &PrefixedCoin) -> Result<Uint128, String> {
    // Little-endian 64-bit words of a 256-bit integer.
    let w: [u64; 4] = *coin.amount;
    if w[2] != 0 || w[3] != 0 {
        return Err(format!(
            "amount {} of {} exceeds this chain's 128-bit amounts",
            coin.amount, coin.denom
        ));
    }
    Ok(Uint128::new(u128::from(w[0]) | (u128::from(w[1]) << 64)))
}

/// Each stored escrow total is positive, no larger than the denom's supply
/// (escrowed coins stay in the bank's supply; vouchers may be escrowed too,
/// when this chain sends them on over another channel), and the sum of the
/// channels' books.
pub fn check_invariants(s: &dyn Storage) -> Result<(), String> {
    let mut sums: std::collections::BTreeMap<String, Uint128> = Default::default();
    for r in state::CHANNEL_ESCROW.range(s, None, None, Order::Ascending) {
        let ((_, denom), amount) = r.map_err(|e| e.to_string())?;
        let e = sums.entry(denom).or_default();
        *e = e.checked_add(amount).map_err(|e| e.to_string())?;
    }
    let mut totals: std::collections::BTreeMap<String, Uint128> = Default::default();
    for r in TOTAL_ESCROW.range(s, None, None, Order::Ascending) {
        let (denom, total) = r.map_err(|e| e.to_string())?;
        if total.is_zero() {
            return Err(format!("a zero escrow total is stored for {denom}"));
        }
        let supply = verdict_bank::Bank::supply(s, &denom).map_err(|e| e.to_string())?;
        if total > supply {
            return Err(format!(
                "{total}{denom} counted as escrowed, more than its supply {supply}"
            ));
        }
        totals.insert(denom, total);
    }
    if sums != totals {
        return Err(format!(
            "escrow totals {totals:?} are not the sums of the channels' books {sums:?}"
        ));
    }
    Ok(())
}
