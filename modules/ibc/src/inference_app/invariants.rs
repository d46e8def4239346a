//! The inference application's invariant: the request escrow holds exactly
//! the fees of the requests in flight.

use cosmwasm_std::{Order, Storage};
use verdict_bank::Bank;
use verdict_core::address::FEE_DENOM;

use super::state::{request_escrow, RemoteStatus, IN_FLIGHT, REQUESTS};

/// The request escrow holds exactly the fees of the requests in flight.
pub fn check_invariants(s: &dyn Storage) -> Result<(), String> {
    let mut sum: u128 = 0;
    for k in IN_FLIGHT.keys(s, None, None, Order::Ascending) {
        let (ch, seq) = k.map_err(|e| e.to_string())?;
        let r = REQUESTS
            .load(s, (ch.as_str(), seq))
            .map_err(|e| e.to_string())?;
        if r.status != RemoteStatus::Pending {
            return Err(format!(
                "request {ch}/{seq} is in flight but {:?}",
                r.status
            ));
        }
        sum = sum.saturating_add(r.fee.amount.u128());
    }
    let held = Bank::balance(s, &request_escrow(), FEE_DENOM)
        .map_err(|e| e.to_string())?
        .u128();
    if held != sum {
        return Err(format!(
            "the IBC request escrow holds {held}{FEE_DENOM}, requests in flight {sum}{FEE_DENOM}"
        ));
    }
    Ok(())
}
