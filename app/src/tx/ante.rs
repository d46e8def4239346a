//! Stage 2, the ante handler (stateful, in its own overlay, all-or-nothing):
//! timeout height, size gas, minimum gas price, signature limit; accounts
//! exist, public keys match addresses, sequences, single signatures in
//! SIGN_MODE_DIRECT over `SignDoc{body, auth_info, chain_id, account_number}`
//! or in SIGN_MODE_LEGACY_AMINO_JSON over the amino `StdSignDoc`
//! ([`super::amino`]); the fee moved to the fee collector, sequences bumped.

use cosmrs::proto::cosmos::tx::signing::v1beta1::SignMode;
use cosmrs::proto::cosmos::tx::v1beta1::{mode_info, SignDoc};
use cosmwasm_std::{Storage, Uint128};
use prost::Message;
use verdict_auth::params::AuthParams;
use verdict_auth::{fee_collector, Accounts};
use verdict_bank::Bank;
use verdict_core::address::FEE_DENOM;
use verdict_core::codes;
use verdict_core::coin::{self, Coin};
use verdict_core::ctx::BlockInfo;
use verdict_core::event::Event;
use verdict_core::gas::GasMeter;
use verdict_core::storage::Metered;

use super::amino;
use super::decode::DecodedTx;
use super::env::Mode;
use super::sig::{address_of_pubkey, pubkey_of, verify_secp256k1};
use crate::error::TxFail;
use crate::params::AppParams;

/// What the ante handler checks a transaction against.
pub(super) struct AnteEnv<'a> {
    pub tx_len: usize,
    pub block: &'a BlockInfo,
    pub params: &'a AppParams,
    pub mode: Mode,
}

pub(super) fn ante(
    store: &mut dyn Storage,
    gas: &GasMeter,
    tx: &DecodedTx,
    env: &AnteEnv<'_>,
    events: &mut Vec<Event>,
) -> Result<(), TxFail> {
    let auth_params = Accounts::params(store);
    limits(gas, tx, env, &auth_params)?;
    let mut metered = Metered::new(store, gas);
    for i in 0..tx.signers.len() {
        verify_signer(&mut metered, gas, tx, env, i, &auth_params, events)?;
    }
    let payer = tx.fee_payer;
    charge_fee(&mut metered, gas, tx, env.mode, &auth_params)?;
    gas.check().map_err(TxFail::from)?;
    events.insert(
        0,
        Event::new("tx")
            .attr("fee", coin::display(&tx.fee))
            .attr("fee_payer", payer),
    );
    Ok(())
}

/// Timeout height, the size's gas, the minimum gas price, the signature limit.
fn limits(
    gas: &GasMeter,
    tx: &DecodedTx,
    env: &AnteEnv<'_>,
    auth_params: &AuthParams,
) -> Result<(), TxFail> {
    let AnteEnv {
        tx_len,
        block,
        params,
        mode,
    } = *env;
    if tx.body.timeout_height != 0 && block.height > tx.body.timeout_height {
        return Err(TxFail::new(
            codes::TX_TIMEOUT_HEIGHT,
            format!(
                "block height: {}, timeout height: {}: tx timeout height",
                block.height, tx.body.timeout_height
            ),
        ));
    }
    gas.consume(
        auth_params
            .tx_size_cost_per_byte
            .saturating_mul(u64::try_from(tx_len).unwrap_or(u64::MAX)),
        "txSize",
    )
    .map_err(TxFail::from)?;
    if !matches!(mode, Mode::Simulate | Mode::Genesis) {
        let price = params.min_gas_price().map_err(|e| TxFail::new(1, e))?;
        let required = Uint128::from(tx.gas_limit).mul_ceil(price);
        let paid = tx.fee.first().map(|c| c.amount).unwrap_or_default();
        if paid < required {
            return Err(TxFail::new(
                codes::INSUFFICIENT_FEE,
                format!(
                    "insufficient fees; got: {paid}{FEE_DENOM} required: {required}{FEE_DENOM} (gas {} × min gas price {}): insufficient fee",
                    tx.gas_limit, params.min_gas_price
                ),
            ));
        }
    }
    if u64::try_from(tx.signers.len()).unwrap_or(u64::MAX) > auth_params.tx_sig_limit {
        return Err(TxFail::new(
            codes::TOO_MANY_SIGNATURES,
            format!(
                "signatures: {}, limit: {}: too many signatures",
                tx.signers.len(),
                auth_params.tx_sig_limit
            ),
        ));
    }
    Ok(())
}

/// Signer `i`: its account, key, sequence and signature; bumps the sequence.
fn verify_signer(
    store: &mut dyn Storage,
    gas: &GasMeter,
    tx: &DecodedTx,
    env: &AnteEnv<'_>,
    i: usize,
    auth_params: &AuthParams,
    events: &mut Vec<Event>,
) -> Result<(), TxFail> {
    let signer = &tx.signers[i];
    let info = &tx.auth_info.signer_infos[i];
    let mut acc = Accounts::get(store, signer)?.ok_or_else(|| {
        TxFail::new(
            codes::UNKNOWN_ADDRESS,
            format!("account {signer} does not exist: unknown address"),
        )
    })?;
    let pk = match (pubkey_of(info)?, &acc.pub_key) {
        (Some(pk), _) => pk,
        (None, Some(stored)) => hex::decode(stored).map_err(|e| TxFail::new(1, e.to_string()))?,
        (None, None) => {
            return Err(TxFail::new(
                codes::INVALID_PUBKEY,
                format!("account {signer} has no public key yet; the first tx must carry it: invalid pubkey"),
            ))
        }
    };
    if address_of_pubkey(&pk) != *signer {
        return Err(TxFail::new(
            codes::INVALID_PUBKEY,
            format!("public key does not belong to signer {signer}: invalid pubkey"),
        ));
    }
    if info.sequence != acc.sequence {
        return Err(TxFail::new(
            codes::WRONG_SEQUENCE,
            format!(
                "account sequence mismatch, expected {}, got {}: incorrect account sequence",
                acc.sequence, info.sequence
            ),
        ));
    }
    gas.consume(auth_params.sig_verify_cost_secp256k1, "sigverify")
        .map_err(TxFail::from)?;
    if matches!(env.mode, Mode::Check | Mode::Deliver | Mode::Genesis) {
        check_signature(tx, env.block, i, acc.number, acc.sequence, &pk)?;
    }
    events.push(Event::new("tx").attr("acc_seq", format!("{signer}/{}", acc.sequence)));
    if env.mode != Mode::Simulate {
        use base64::Engine;
        events.push(Event::new("tx").attr(
            "signature",
            base64::engine::general_purpose::STANDARD.encode(&tx.signatures[i]),
        ));
    }
    acc.sequence = acc.sequence.saturating_add(1);
    acc.pub_key = Some(hex::encode(&pk));
    Accounts::set(store, signer, &acc)?;
    Ok(())
}

/// A single signature, SIGN_MODE_DIRECT over the protobuf `SignDoc` or
/// SIGN_MODE_LEGACY_AMINO_JSON over the amino `StdSignDoc`.
fn check_signature(
    tx: &DecodedTx,
    block: &BlockInfo,
    i: usize,
    number: u64,
    sequence: u64,
    pk: &[u8],
) -> Result<(), TxFail> {
    let info = &tx.auth_info.signer_infos[i];
    let mode = match info.mode_info.as_ref().and_then(|m| m.sum.as_ref()) {
        Some(mode_info::Sum::Single(s)) => SignMode::try_from(s.mode).ok(),
        _ => None,
    };
    let doc = match mode {
        Some(SignMode::Direct) => SignDoc {
            body_bytes: tx.body_bytes.clone(),
            auth_info_bytes: tx.auth_info_bytes.clone(),
            chain_id: block.chain_id.clone(),
            account_number: number,
        }
        .encode_to_vec(),
        Some(SignMode::LegacyAminoJson) => amino_sign_bytes(tx, block, number, sequence)?,
        _ => {
            return Err(TxFail::new(
                codes::UNAUTHORIZED,
                "only single signatures in SIGN_MODE_DIRECT or SIGN_MODE_LEGACY_AMINO_JSON are supported: unauthorized",
            ))
        }
    };
    if !verify_secp256k1(pk, &doc, &tx.signatures[i]) {
        return Err(TxFail::new(
            codes::UNAUTHORIZED,
            format!(
                "signature verification failed; please verify account number ({number}), sequence ({sequence}) and chain-id ({}): unauthorized",
                block.chain_id
            ),
        ));
    }
    Ok(())
}

/// The amino `StdSignDoc` of this tx for the signer with account `number` and
/// `sequence`: the body's messages, memo and timeout height, the fee as the
/// auth info carries it. What it cannot express is refused (a message type
/// without an amino name, a tip).
fn amino_sign_bytes(
    tx: &DecodedTx,
    block: &BlockInfo,
    number: u64,
    sequence: u64,
) -> Result<Vec<u8>, TxFail> {
    let refused = |why: String| {
        TxFail::new(
            codes::UNAUTHORIZED,
            format!("SIGN_MODE_LEGACY_AMINO_JSON: {why}: unauthorized"),
        )
    };
    #[allow(deprecated)] // `tip` is deprecated in the SDK but still on the wire type
    if tx.auth_info.tip.is_some() {
        return Err(refused("tips are not supported".into()));
    }
    let fee = tx.auth_info.fee.clone().unwrap_or_default();
    amino::sign_bytes(&amino::SignDocInput {
        chain_id: &block.chain_id,
        account_number: number,
        sequence,
        timeout_height: tx.body.timeout_height,
        memo: &tx.body.memo,
        msgs: &tx.body.messages,
        fee: &fee,
    })
    .map_err(refused)
}

/// The fee to the fee collector; in Simulate without a fee, the gas a real
/// signature and fee transfer would cost.
fn charge_fee(
    store: &mut dyn Storage,
    gas: &GasMeter,
    tx: &DecodedTx,
    mode: Mode,
    auth_params: &AuthParams,
) -> Result<(), TxFail> {
    let payer = tx.fee_payer;
    if !tx.fee.is_empty() {
        Bank::transfer(store, &payer, &fee_collector(), &tx.fee)?;
    } else if mode == Mode::Simulate {
        let unsigned = tx.signatures.iter().filter(|s| s.is_empty()).count();
        gas.consume(
            auth_params
                .tx_size_cost_per_byte
                .saturating_mul(64)
                .saturating_mul(u64::try_from(unsigned).unwrap_or(u64::MAX)),
            "simulatedSignatures",
        )
        .map_err(TxFail::from)?;
        let nominal = [Coin::new(1, FEE_DENOM)];
        if Bank::balance(store, &payer, FEE_DENOM)?.u128() >= 1 {
            Bank::transfer(store, &payer, &fee_collector(), &nominal)?;
        }
    }
    Ok(())
}
