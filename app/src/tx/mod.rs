//! The transaction pipeline: Cosmos `TxRaw` in, an ABCI result out.
//!
//! 1. Stateless: size cap before decoding, decode, known messages, memo, timeout
//!    height, fee shape, signer count.
//! 2. Ante (stateful, in its own overlay, all-or-nothing): accounts exist, public
//!    keys match addresses, sequences, single signatures in SIGN_MODE_DIRECT over
//!    `SignDoc{body, auth_info, chain_id, account_number}` or in
//!    SIGN_MODE_LEGACY_AMINO_JSON over the amino `StdSignDoc` ([`amino`]),
//!    minimum gas price, fee moved to the fee collector, sequences bumped.
//! 3. Messages (Deliver and Simulate only), in a second overlay merged only on
//!    success. A failed message keeps the fee and sequence bump of step 2.
//!
//! Gas is metered from the first byte, deterministically (the SDK's schedule). The
//! same function serves CheckTx, ReCheckTx, FinalizeBlock and Simulate, so the
//! rules cannot drift apart.

pub mod amino;
mod ante;
mod decode;
mod env;
pub(crate) mod router;
mod sig;
mod unknown;

use cosmrs::proto::cosmos::base::abci::v1beta1::TxMsgData;
use cosmwasm_std::Storage;
use prost::Message;
use verdict_auth::Accounts;
use verdict_core::ctx::{BlockInfo, Ctx};
use verdict_core::event::Event;
use verdict_core::gas::GasMeter;
use verdict_core::module::Any;
use verdict_core::storage::{Layered, Metered, Overlay};

use crate::params::AppParams;
use ante::{ante, AnteEnv};

pub use crate::error::{TxFail, TxOutcome};
pub use decode::{decode, DecodedTx};
pub use env::{blocked_recipient, Mode};
pub use sig::address_of_pubkey;
pub use verdict_auth::fee_collector;

pub fn run(
    state: &mut dyn Storage,
    tx_bytes: &[u8],
    block: &BlockInfo,
    params: &AppParams,
    mode: Mode,
) -> TxOutcome {
    let max_memo = Accounts::params(state).max_memo_characters;
    let tx = match decode(tx_bytes, params, max_memo) {
        Ok(t) => t,
        Err(f) => return TxOutcome::failed(f, 0, 0),
    };
    // A simulation asks how much gas a tx needs, but never gets more than a
    // tx in a block could use (security review M-5).
    let gas_limit = if mode == Mode::Simulate {
        params.max_tx_gas
    } else {
        tx.gas_limit
    };
    let gas = GasMeter::new(gas_limit);
    let mut events = Vec::new();

    let mut ante_ov = Overlay::new();
    let ante_result = {
        let mut view = Layered::new(&*state, &mut ante_ov);
        let env = AnteEnv {
            tx_len: tx_bytes.len(),
            block,
            params,
            mode,
        };
        ante(&mut view, &gas, &tx, &env, &mut events)
    };
    if let Err(f) = ante_result {
        // Out of gas, storage stops answering (see `Metered`): whatever error
        // that led to, the tx failed for want of gas.
        let f = gas.check().map_err(TxFail::from).err().unwrap_or(f);
        return TxOutcome::failed(f, tx.gas_limit, gas.used());
    }
    apply(state, ante_ov);
    if matches!(mode, Mode::Check | Mode::ReCheck) {
        return TxOutcome {
            gas_wanted: tx.gas_limit,
            gas_used: gas.used(),
            codespace: String::new(),
            events,
            ..Default::default()
        };
    }
    // Stage 3: messages, in a second overlay merged only on success. A failed
    // message keeps the fee and sequence bump of the ante handler.
    let mut msg_ov = Overlay::new();
    let mut msg_events = Vec::new();
    let result = {
        let mut view = Layered::new(&*state, &mut msg_ov);
        let mut metered = Metered::new(&mut view, &gas);
        run_messages(&mut metered, &gas, &tx, block, &mut msg_events)
    };
    match result.and_then(|resps| gas.check().map(|()| resps).map_err(TxFail::from)) {
        Ok(responses) => {
            apply(state, msg_ov);
            events.extend(msg_events);
            succeeded(tx.gas_limit, gas.used(), events, responses)
        }
        Err(f) => {
            // The fee stays paid and the sequence bumped: the ante events stand.
            let mut out = TxOutcome::failed(f, tx.gas_limit, gas.used());
            out.events = events;
            out
        }
    }
}

/// Each message in its module, in order; the first failure (or running out
/// of gas) ends the tx.
fn run_messages(
    store: &mut dyn Storage,
    gas: &GasMeter,
    tx: &DecodedTx,
    block: &BlockInfo,
    events: &mut Vec<Event>,
) -> Result<Vec<Any>, TxFail> {
    let mut responses = Vec::with_capacity(tx.msgs.len());
    for (i, m) in tx.msgs.iter().enumerate() {
        let mut ctx = Ctx {
            store: &mut *store,
            gas,
            events: &mut *events,
            block,
            router: Some(&crate::tx::router::AppRouter),
        };
        ctx.emit(
            Event::new("message")
                .attr("action", m.type_url())
                .attr("sender", m.signer())
                .attr("module", m.module())
                .attr("msg_index", i),
        );
        let resp = m.execute(&mut ctx).map_err(|f| match gas.check() {
            // Storage stops answering once the gas is spent: that is the cause.
            Err(oog) => TxFail::from(oog),
            Ok(()) => TxFail::new(
                f.code,
                format!("failed to execute message; message index: {i}: {}", f.log),
            ),
        })?;
        responses.push(resp);
        gas.check().map_err(TxFail::from)?;
    }
    Ok(responses)
}

fn succeeded(gas_wanted: u64, gas_used: u64, events: Vec<Event>, responses: Vec<Any>) -> TxOutcome {
    TxOutcome {
        code: 0,
        codespace: String::new(),
        log: String::new(),
        gas_wanted,
        gas_used,
        events,
        #[allow(deprecated)] // `data` is the pre-0.46 field; msg_responses carry the answers
        data: TxMsgData {
            data: vec![],
            msg_responses: responses,
        }
        .encode_to_vec(),
    }
}

fn apply(state: &mut dyn Storage, ov: Overlay) {
    for (k, v) in ov {
        match v {
            Some(v) => state.set(&k, &v),
            None => state.remove(&k),
        }
    }
}

#[cfg(test)]
mod tests;
