//! Serving side, security review I-7: what is left in the payer account of a
//! channel the counterparty closed goes to the community pool. No key holds a
//! payer and a closed channel serves nothing more, so without this its funds
//! would be stranded for good. Swept when the close is confirmed, and again
//! when a job served before the close settles and its refund lands in the
//! payer (its acknowledgement then fails: the channel is not open).

use cosmwasm_std::Storage;
use verdict_bank::Bank;
use verdict_core::address::FEE_DENOM;
use verdict_core::event::Event;

use super::state::payer;

/// Moves the payer of `channel_id`'s `uverd` into the community pool (the only
/// denom the pool holds, and the only one a payer can spend on jobs); `None`
/// when it held none.
pub(super) fn sweep_payer(s: &mut dyn Storage, channel_id: &str) -> Result<Option<Event>, String> {
    let from = payer(channel_id);
    let amount = Bank::balance(s, &from, FEE_DENOM).map_err(|e| e.to_string())?;
    if amount.is_zero() {
        return Ok(None);
    }
    let coin = verdict_core::coin::Coin::new(amount.u128(), FEE_DENOM);
    verdict_distribution::state::fund_community_pool(s, &from, &coin)
        .map_err(|e| format!("community pool: {e}"))?;
    Ok(Some(
        Event::new("inference_payer_swept")
            .attr("channel_id", channel_id)
            .attr("payer", from.bech32())
            .attr("amount", coin.to_string())
            .attr("to", "community_pool"),
    ))
}
