//! Stateful check and execution of bank messages, in one step each.

use cosmrs::Any;
use verdict_core::ctx::Ctx;

use crate::error::BankError;
use crate::events;
use crate::msgs::{BankMsg, MSG_MULTI_SEND_RESPONSE_URL, MSG_SEND_RESPONSE_URL};
use crate::state::Bank;

/// Executes a bank message; returns its response for `TxMsgData`.
pub fn execute(ctx: &mut Ctx<'_>, msg: &BankMsg) -> Result<Any, BankError> {
    match msg {
        BankMsg::Send { from, to, amount } => {
            Bank::transfer(ctx.store, from, to, amount)?;
            ctx.emit(events::coin_spent(from, amount));
            ctx.emit(events::coin_received(to, amount));
            ctx.emit(events::transfer(to, from, amount));
            ctx.emit(events::message_sender(from));
            Ok(Any {
                type_url: MSG_SEND_RESPONSE_URL.into(),
                value: vec![],
            })
        }
        BankMsg::MultiSend { input, outputs } => {
            Bank::burn_from(ctx.store, &input.0, &input.1, false)?;
            ctx.emit(events::coin_spent(&input.0, &input.1));
            ctx.emit(events::message_sender(&input.0));
            for (to, coins) in outputs {
                // Credit without minting: the input's coins were debited above.
                Bank::transfer_in(ctx.store, to, coins)?;
                ctx.emit(events::coin_received(to, coins));
                ctx.emit(events::transfer(to, &input.0, coins));
            }
            Ok(Any {
                type_url: MSG_MULTI_SEND_RESPONSE_URL.into(),
                value: vec![],
            })
        }
    }
}
