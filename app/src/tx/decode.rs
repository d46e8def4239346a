//! Stage 1, stateless: size cap before decoding, decode, known messages, memo,
//! fee shape, signer count.

use cosmrs::proto::cosmos::tx::v1beta1::{AuthInfo, Fee, TxBody, TxRaw};
use prost::Message;
use verdict_core::address::{Addr, FEE_DENOM};
use verdict_core::codes;
use verdict_core::coin::{self, Coin};

use super::env::blocked_recipient;
use super::unknown::Refusal;
use crate::error::TxFail;
use crate::modules::Msg;
use crate::params::AppParams;

/// A decoded, statelessly valid transaction.
pub struct DecodedTx {
    pub body_bytes: Vec<u8>,
    pub auth_info_bytes: Vec<u8>,
    pub body: TxBody,
    pub auth_info: AuthInfo,
    pub signatures: Vec<Vec<u8>>,
    pub msgs: Vec<Msg>,
    pub signers: Vec<Addr>,
    /// Who pays the fee: `fee.payer` when set (it signs), else the first signer.
    pub fee_payer: Addr,
    pub fee: Vec<Coin>,
    pub gas_limit: u64,
}

/// Stateless checks. `params` bound the size and gas.
pub fn decode(tx: &[u8], params: &AppParams, max_memo: u64) -> Result<DecodedTx, TxFail> {
    if tx.len() > params.max_tx_bytes as usize {
        return Err(TxFail::new(
            codes::TX_TOO_LARGE,
            format!(
                "tx is {} bytes, the limit is {}: tx too large",
                tx.len(),
                params.max_tx_bytes
            ),
        ));
    }
    let raw = TxRaw::decode(tx)
        .map_err(|e| TxFail::new(codes::TX_DECODE, format!("tx parse error: {e}")))?;
    // TxRaw is not signed: any other encoding of it (an extra field, a longer
    // varint) would be the same signed tx under another hash.
    if raw.encoded_len() != tx.len() || raw.encode_to_vec() != tx {
        return Err(TxFail::new(
            codes::TX_DECODE,
            "tx parse error: TxRaw is not canonically encoded (unknown fields or non-minimal encoding)",
        ));
    }
    reject_unknown_fields("cosmos.tx.v1beta1.TxBody", &raw.body_bytes, true)?;
    reject_unknown_fields("cosmos.tx.v1beta1.AuthInfo", &raw.auth_info_bytes, false)?;
    let body = TxBody::decode(raw.body_bytes.as_slice())
        .map_err(|e| TxFail::new(codes::TX_DECODE, format!("tx parse error: body: {e}")))?;
    let auth_info = AuthInfo::decode(raw.auth_info_bytes.as_slice())
        .map_err(|e| TxFail::new(codes::TX_DECODE, format!("tx parse error: auth info: {e}")))?;
    let msgs = messages(&body, max_memo)?;
    let fee_msg = auth_info.fee.clone().unwrap_or_default();
    let fee = fee_of(&fee_msg, params)?;
    let signers = signers_of(&msgs, &fee_msg)?;
    let fee_payer = if fee_msg.payer.is_empty() {
        *signers.first().ok_or_else(|| {
            TxFail::new(codes::INVALID_REQUEST, "invalid request: tx has no signers")
        })?
    } else {
        Addr::parse(&fee_msg.payer)
            .map_err(|e| TxFail::new(codes::INVALID_ADDRESS, format!("fee payer: {e}")))?
    };
    if auth_info.signer_infos.len() != signers.len() || raw.signatures.len() != signers.len() {
        return Err(TxFail::new(
            codes::UNAUTHORIZED,
            format!(
                "wrong number of signers; expected {}, got {} signer infos and {} signatures: unauthorized",
                signers.len(),
                auth_info.signer_infos.len(),
                raw.signatures.len()
            ),
        ));
    }
    Ok(DecodedTx {
        body_bytes: raw.body_bytes,
        auth_info_bytes: raw.auth_info_bytes,
        gas_limit: fee_msg.gas_limit,
        body,
        auth_info,
        signatures: raw.signatures,
        msgs,
        signers,
        fee_payer,
        fee,
    })
}

/// ADR-020: no field the chain does not know, at any depth (`super::unknown`).
/// A TxBody's non-critical extension fields (numbers with bit 11 set) pass.
fn reject_unknown_fields(type_name: &str, bytes: &[u8], body: bool) -> Result<(), TxFail> {
    let desc = verdict_proto::descriptor_pool()
        .get_message_by_name(type_name)
        .ok_or_else(|| TxFail::new(codes::TX_DECODE, format!("no descriptor of {type_name}")))?;
    super::unknown::check(&desc, bytes, body).map_err(|r| match r {
        Refusal::Malformed(why) => TxFail::new(codes::TX_DECODE, format!("tx parse error: {why}")),
        Refusal::Unknown { number, path } => TxFail::new(
            codes::TX_DECODE,
            format!(
                "tx parse error: unknown field {number} in {path}: the chain does not know it, so it may not be signed (ADR-020)"
            ),
        ),
    })
}

/// The body's messages, decoded by their modules; no payments to module
/// accounts; the memo within its limit.
fn messages(body: &TxBody, max_memo: u64) -> Result<Vec<Msg>, TxFail> {
    if body.messages.is_empty() {
        return Err(TxFail::new(
            codes::INVALID_REQUEST,
            "invalid request: tx has no messages",
        ));
    }
    if !body.extension_options.is_empty() || !body.non_critical_extension_options.is_empty() {
        return Err(TxFail::new(
            codes::UNKNOWN_REQUEST,
            "unknown extension options: none are supported",
        ));
    }
    let msgs = body
        .messages
        .iter()
        .map(Msg::decode)
        .collect::<Result<Vec<_>, _>>()?;
    for m in &msgs {
        if let Some(to) = m.recipients().into_iter().find(blocked_recipient) {
            return Err(TxFail::new(
                codes::UNAUTHORIZED,
                format!(
                    "{to} is a module account and is not allowed to receive funds: unauthorized"
                ),
            ));
        }
    }
    if u64::try_from(body.memo.chars().count()).unwrap_or(u64::MAX) > max_memo {
        return Err(TxFail::new(
            codes::MEMO_TOO_LARGE,
            format!(
                "maximum number of characters is {max_memo} but received {} characters: memo too large",
                body.memo.chars().count()
            ),
        ));
    }
    Ok(msgs)
}

/// The fee's shape: gas limit within bounds, no grants, `uverd` only.
fn fee_of(fee_msg: &Fee, params: &AppParams) -> Result<Vec<Coin>, TxFail> {
    if fee_msg.gas_limit > params.max_tx_gas {
        return Err(TxFail::new(
            codes::INVALID_GAS_LIMIT,
            format!(
                "gas limit {} exceeds the maximum {}: invalid gas limit",
                fee_msg.gas_limit, params.max_tx_gas
            ),
        ));
    }
    if !fee_msg.granter.is_empty() {
        return Err(TxFail::new(
            codes::INVALID_REQUEST,
            "fee grants are not supported",
        ));
    }
    let fee = coin::from_protos(&fee_msg.amount)
        .map_err(|e| TxFail::new(codes::INVALID_COINS, format!("fee: {e}")))?;
    let fee: Vec<Coin> = fee.into_iter().filter(|c| !c.amount.is_zero()).collect();
    if fee.iter().any(|c| c.denom != FEE_DENOM) || fee.len() > 1 {
        return Err(TxFail::new(
            codes::INSUFFICIENT_FEE,
            format!(
                "fees are paid in {FEE_DENOM} only, got {}: insufficient fee",
                coin::display(&fee)
            ),
        ));
    }
    Ok(fee)
}

/// Who must sign, in order of first appearance; a fee payer last.
fn signers_of(msgs: &[Msg], fee_msg: &Fee) -> Result<Vec<Addr>, TxFail> {
    let mut signers: Vec<Addr> = Vec::new();
    for m in msgs {
        let s = m.signer();
        if !signers.contains(&s) {
            signers.push(s);
        }
    }
    if !fee_msg.payer.is_empty() {
        let payer = Addr::parse(&fee_msg.payer)
            .map_err(|e| TxFail::new(codes::INVALID_ADDRESS, format!("fee payer: {e}")))?;
        if !signers.contains(&payer) {
            signers.push(payer);
        }
    }
    Ok(signers)
}
