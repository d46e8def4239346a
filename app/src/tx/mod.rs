//! The transaction pipeline: Cosmos `TxRaw` in, an ABCI result out.
//!
//! 1. Stateless: size cap before decoding, decode, known messages, memo, timeout
//!    height, fee shape, signer count.
//! 2. Ante (stateful, in its own overlay, all-or-nothing): accounts exist, public
//!    keys match addresses, sequences, SIGN_MODE_DIRECT signatures over
//!    `SignDoc{body, auth_info, chain_id, account_number}`, minimum gas price, fee
//!    moved to the fee collector, sequences bumped.
//! 3. Messages (Deliver and Simulate only), in a second overlay merged only on
//!    success. A failed message keeps the fee and sequence bump of step 2.
//!
//! Gas is metered from the first byte, deterministically (the SDK's schedule). The
//! same function serves CheckTx, ReCheckTx, FinalizeBlock and Simulate, so the
//! rules cannot drift apart.

use cosmrs::proto::cosmos::base::abci::v1beta1::TxMsgData;
use cosmrs::proto::cosmos::crypto::secp256k1::PubKey;
use cosmrs::proto::cosmos::tx::signing::v1beta1::SignMode;
use cosmrs::proto::cosmos::tx::v1beta1::{mode_info, AuthInfo, SignDoc, SignerInfo, TxBody, TxRaw};
use cosmrs::Any;
use cosmwasm_std::{Storage, Uint128};
use prost::Message;
use sha2::Digest;
use verdict_auth::query::SECP256K1_PUBKEY_URL;
use verdict_auth::Accounts;
use verdict_bank::Bank;
use verdict_core::address::{Addr, FEE_DENOM};
use verdict_core::coin::{self, Coin};
use verdict_core::ctx::{BlockInfo, Ctx};
use verdict_core::event::Event;
use verdict_core::gas::{GasMeter, OutOfGas};
use verdict_core::storage::{Layered, Metered, Overlay};
use verdict_core::{codes, AbciError};

use crate::msgs::Msg;
use crate::params::AppParams;

/// Module accounts whose balances other state must match (the SDK's blocked
/// addresses): users cannot send to them.
pub fn blocked_recipient(a: &Addr) -> bool {
    *a == fee_collector()
        || *a == verdict_staking::state::bonded_pool()
        || *a == verdict_staking::state::not_bonded_pool()
        || *a == verdict_inference::state::escrow()
        || *a == verdict_distribution::module_account()
        || *a == verdict_ibc::inference_app::request_escrow()
}

/// The fee collector module account.
pub fn fee_collector() -> Addr {
    Addr::module("fee_collector")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Check,
    ReCheck,
    Deliver,
    Simulate,
    /// Gentxs at InitChain: like Deliver, but no minimum fee (the SDK runs them
    /// with a zero gas price).
    Genesis,
}

/// What a transaction ended in. `code == 0` is success.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TxOutcome {
    pub code: u32,
    pub codespace: String,
    pub log: String,
    pub gas_wanted: u64,
    pub gas_used: u64,
    pub events: Vec<Event>,
    /// Encoded `TxMsgData`.
    pub data: Vec<u8>,
}

/// A failure with its SDK code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxFail {
    pub code: u32,
    pub log: String,
}

impl TxFail {
    pub fn new(code: u32, log: impl Into<String>) -> Self {
        TxFail {
            code,
            log: log.into(),
        }
    }
}

impl<E: AbciError> From<E> for TxFail {
    fn from(e: E) -> Self {
        TxFail::new(e.code(), e.to_string())
    }
}

fn out_of_gas(e: OutOfGas) -> TxFail {
    TxFail::new(codes::OUT_OF_GAS, e.to_string())
}

/// A decoded, statelessly valid transaction.
pub struct DecodedTx {
    pub body_bytes: Vec<u8>,
    pub auth_info_bytes: Vec<u8>,
    pub body: TxBody,
    pub auth_info: AuthInfo,
    pub signatures: Vec<Vec<u8>>,
    pub msgs: Vec<Msg>,
    pub signers: Vec<Addr>,
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
    let body = TxBody::decode(raw.body_bytes.as_slice())
        .map_err(|e| TxFail::new(codes::TX_DECODE, format!("tx parse error: body: {e}")))?;
    let auth_info = AuthInfo::decode(raw.auth_info_bytes.as_slice())
        .map_err(|e| TxFail::new(codes::TX_DECODE, format!("tx parse error: auth info: {e}")))?;
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
    let fee_msg = auth_info.fee.clone().unwrap_or_default();
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
    // Unique signers in message order (the SDK's GetSigners).
    let mut signers: Vec<Addr> = Vec::new();
    for m in &msgs {
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
        fee,
    })
}

fn pubkey_of(info: &SignerInfo) -> Result<Option<Vec<u8>>, TxFail> {
    match &info.public_key {
        None => Ok(None),
        Some(any) if any.type_url == SECP256K1_PUBKEY_URL => {
            let pk = PubKey::decode(any.value.as_slice())
                .map_err(|e| TxFail::new(codes::INVALID_PUBKEY, format!("bad public key: {e}")))?;
            if pk.key.len() != 33 {
                return Err(TxFail::new(
                    codes::INVALID_PUBKEY,
                    "secp256k1 public key must be 33 bytes (compressed): invalid pubkey",
                ));
            }
            Ok(Some(pk.key))
        }
        Some(any) => Err(TxFail::new(
            codes::INVALID_PUBKEY,
            format!(
                "unsupported public key type {}: invalid pubkey",
                any.type_url
            ),
        )),
    }
}

/// `ripemd160(sha256(compressed pubkey))`.
pub fn address_of_pubkey(pk: &[u8]) -> Addr {
    let sha = sha2::Sha256::digest(pk);
    let rip = ripemd::Ripemd160::digest(sha);
    let mut a = [0u8; 20];
    a.copy_from_slice(&rip);
    Addr(a)
}

/// ECDSA over sha256(msg), low-S only (high-S signatures are malleable; the SDK
/// rejects them, and libsecp256k1's verify does too). libsecp256k1 (C, built from
/// the crate's bundled source) verifies about 4× faster than pure-Rust k256, and
/// signature checks dominate CheckTx (bench: checktx).
fn verify_secp256k1(pk: &[u8], msg: &[u8], sig: &[u8]) -> bool {
    // Fixed sizes first: with them the memo key below encodes its inputs
    // unambiguously (an attacker-sized signature could otherwise shift bytes
    // between `sig` and `msg` and hit another tx's remembered success).
    if pk.len() != 33 || sig.len() != 64 {
        return false;
    }
    // Verification is a pure function of its inputs, so a remembered success is
    // the same answer on every node: a tx checked by this node's CheckTx is not
    // verified a second time when its block is executed.
    let memo_key: [u8; 32] = {
        let mut h = sha2::Sha256::new();
        h.update(pk);
        h.update(sig);
        h.update(msg);
        h.finalize().into()
    };
    if VERIFIED.lock().is_ok_and(|m| m.contains(&memo_key)) {
        return true;
    }
    let ok = verify_uncached(pk, msg, sig);
    if ok {
        if let Ok(mut m) = VERIFIED.lock() {
            m.insert(memo_key);
        }
    }
    ok
}

/// Remembered successful verifications, oldest dropped first.
static VERIFIED: std::sync::Mutex<VerifiedSet> = std::sync::Mutex::new(VerifiedSet::new());

struct VerifiedSet {
    set: std::collections::BTreeSet<[u8; 32]>,
    order: std::collections::VecDeque<[u8; 32]>,
}

impl VerifiedSet {
    const CAPACITY: usize = 200_000;

    const fn new() -> Self {
        VerifiedSet {
            set: std::collections::BTreeSet::new(),
            order: std::collections::VecDeque::new(),
        }
    }

    fn contains(&self, k: &[u8; 32]) -> bool {
        self.set.contains(k)
    }

    fn insert(&mut self, k: [u8; 32]) {
        if self.set.insert(k) {
            self.order.push_back(k);
            if self.order.len() > Self::CAPACITY {
                if let Some(old) = self.order.pop_front() {
                    self.set.remove(&old);
                }
            }
        }
    }
}

fn verify_uncached(pk: &[u8], msg: &[u8], sig: &[u8]) -> bool {
    static CTX: std::sync::OnceLock<secp256k1::Secp256k1<secp256k1::VerifyOnly>> =
        std::sync::OnceLock::new();
    let ctx = CTX.get_or_init(secp256k1::Secp256k1::verification_only);
    let Ok(pk) = secp256k1::PublicKey::from_slice(pk) else {
        return false;
    };
    let Ok(sig) = secp256k1::ecdsa::Signature::from_compact(sig) else {
        return false;
    };
    let digest: [u8; 32] = sha2::Sha256::digest(msg).into();
    ctx.verify_ecdsa(&secp256k1::Message::from_digest(digest), &sig, &pk)
        .is_ok()
}

/// Ante: everything that must hold before messages run; writes fee and sequences.
/// What the ante handler checks a transaction against.
struct AnteEnv<'a> {
    tx_len: usize,
    block: &'a BlockInfo,
    params: &'a AppParams,
    mode: Mode,
}

fn ante(
    store: &mut dyn Storage,
    gas: &GasMeter,
    tx: &DecodedTx,
    env: &AnteEnv<'_>,
    events: &mut Vec<Event>,
) -> Result<(), TxFail> {
    let AnteEnv {
        tx_len,
        block,
        params,
        mode,
    } = *env;
    let auth_params = Accounts::params(store);
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
    .map_err(out_of_gas)?;
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
    let mut metered = Metered::new(store, gas);
    for (i, signer) in tx.signers.iter().enumerate() {
        let info = &tx.auth_info.signer_infos[i];
        let mut acc = Accounts::get(&metered, signer)?.ok_or_else(|| {
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
            .map_err(out_of_gas)?;
        // A recheck (after a block) only has to learn whether the tx is still valid
        // against the new state; its signature was verified when it entered the
        // mempool and cannot have changed (the SDK skips it too).
        if matches!(mode, Mode::Check | Mode::Deliver | Mode::Genesis) {
            let single = matches!(
                info.mode_info.as_ref().and_then(|m| m.sum.as_ref()),
                Some(mode_info::Sum::Single(s)) if s.mode == SignMode::Direct as i32
            );
            if !single {
                return Err(TxFail::new(
                    codes::UNAUTHORIZED,
                    "only SIGN_MODE_DIRECT single signatures are supported: unauthorized",
                ));
            }
            let doc = SignDoc {
                body_bytes: tx.body_bytes.clone(),
                auth_info_bytes: tx.auth_info_bytes.clone(),
                chain_id: block.chain_id.clone(),
                account_number: acc.number,
            }
            .encode_to_vec();
            if !verify_secp256k1(&pk, &doc, &tx.signatures[i]) {
                return Err(TxFail::new(
                    codes::UNAUTHORIZED,
                    format!(
                        "signature verification failed; please verify account number ({}), sequence ({}) and chain-id ({}): unauthorized",
                        acc.number, acc.sequence, block.chain_id
                    ),
                ));
            }
        }
        events.push(Event::new("tx").attr("acc_seq", format!("{signer}/{}", acc.sequence)));
        if mode != Mode::Simulate {
            use base64::Engine;
            events.push(Event::new("tx").attr(
                "signature",
                base64::engine::general_purpose::STANDARD.encode(&tx.signatures[i]),
            ));
        }
        acc.sequence = acc.sequence.saturating_add(1);
        acc.pub_key = Some(hex::encode(&pk));
        Accounts::set(&mut metered, signer, &acc)?;
    }
    // The fee payer is the first signer (the SDK's default).
    let payer = tx.signers[0];
    if !tx.fee.is_empty() {
        Bank::transfer(&mut metered, &payer, &fee_collector(), &tx.fee)?;
    } else if mode == Mode::Simulate {
        // Simulations come without a fee (it is what they are for), but the real tx
        // will pay one: charge the gas of that transfer on the throwaway state, and
        // of the signatures the simulated tx lacks, so `--gas auto` is not short.
        let unsigned = tx.signatures.iter().filter(|s| s.is_empty()).count();
        gas.consume(
            auth_params
                .tx_size_cost_per_byte
                .saturating_mul(64)
                .saturating_mul(u64::try_from(unsigned).unwrap_or(u64::MAX)),
            "simulatedSignatures",
        )
        .map_err(out_of_gas)?;
        let nominal = [Coin::new(1, FEE_DENOM)];
        if Bank::balance(&metered, &payer, FEE_DENOM)?.u128() >= 1 {
            Bank::transfer(&mut metered, &payer, &fee_collector(), &nominal)?;
        }
    }
    gas.check().map_err(out_of_gas)?;
    events.insert(
        0,
        Event::new("tx")
            .attr("fee", coin::display(&tx.fee))
            .attr("fee_payer", payer),
    );
    Ok(())
}

/// Runs one transaction against `state` (a block or check-state overlay view).
/// Writes reach `state` only for what succeeded: the ante part always together,
/// the messages together.
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
        Err(f) => return fail(f, 0, 0),
    };
    let gas_limit = if mode == Mode::Simulate {
        u64::MAX
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
        return fail(f, tx.gas_limit, gas.used());
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

    let mut msg_ov = Overlay::new();
    let mut msg_events = Vec::new();
    let result = {
        let mut view = Layered::new(&*state, &mut msg_ov);
        let mut metered = Metered::new(&mut view, &gas);
        let mut responses = Vec::with_capacity(tx.msgs.len());
        let mut r = Ok(());
        for (i, m) in tx.msgs.iter().enumerate() {
            let mut ctx = Ctx {
                store: &mut metered,
                gas: &gas,
                events: &mut msg_events,
                block,
            };
            ctx.emit(
                Event::new("message")
                    .attr("action", m.type_url())
                    .attr("sender", m.signer())
                    .attr("module", m.module())
                    .attr("msg_index", i),
            );
            let result: Result<Any, (u32, String)> = match m {
                Msg::Bank(b) => verdict_bank::handler::execute(&mut ctx, b)
                    .map_err(|e| (e.code(), e.to_string())),
                Msg::Staking(st) => verdict_staking::handler::execute(&mut ctx, st)
                    .map_err(|e| (e.code(), e.to_string())),
                Msg::Inference(im) => verdict_inference::handler::execute(&mut ctx, im)
                    .map_err(|e| (e.code(), e.to_string())),
                Msg::Distribution(d) => verdict_distribution::msgs::execute(&mut ctx, d)
                    .map_err(|e| (e.code(), e.to_string())),
                Msg::Ibc(im) => {
                    verdict_ibc::execute(&mut ctx, im).map_err(|e| (e.code(), e.to_string()))
                }
                Msg::Unjail(op) => verdict_slashing::unjail(ctx.store, op, block.time_seconds)
                    .map(|()| {
                        ctx.emit(Event::new("unjail").attr("validator", op.valoper()));
                        Any {
                            type_url: "/cosmos.slashing.v1beta1.MsgUnjailResponse".into(),
                            value: vec![],
                        }
                    })
                    .map_err(|e| (e.code(), e.to_string())),
            };
            match result {
                Ok(resp) => responses.push(resp),
                Err((code, log)) => {
                    r = Err(TxFail::new(
                        code,
                        format!("failed to execute message; message index: {i}: {log}"),
                    ));
                    break;
                }
            }
            if let Err(e) = gas.check() {
                r = Err(out_of_gas(e));
                break;
            }
        }
        r.map(|()| responses)
    };
    match result.and_then(|resps| gas.check().map(|()| resps).map_err(out_of_gas)) {
        Ok(responses) => {
            apply(state, msg_ov);
            events.extend(msg_events);
            TxOutcome {
                code: 0,
                codespace: String::new(),
                log: String::new(),
                gas_wanted: tx.gas_limit,
                gas_used: gas.used(),
                events,
                #[allow(deprecated)] // `data` is the pre-0.46 field; msg_responses carry the answers
                data: TxMsgData {
                    data: vec![],
                    msg_responses: responses
                        .into_iter()
                        .map(|a: Any| Any {
                            type_url: a.type_url,
                            value: a.value,
                        })
                        .collect(),
                }
                .encode_to_vec(),
            }
        }
        Err(f) => {
            // The fee stays paid and the sequence bumped: the ante events stand.
            let mut out = fail(f, tx.gas_limit, gas.used());
            out.events = events;
            out
        }
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

fn fail(f: TxFail, gas_wanted: u64, gas_used: u64) -> TxOutcome {
    TxOutcome {
        code: f.code,
        codespace: verdict_core::SDK_CODESPACE.into(),
        log: f.log,
        gas_wanted,
        gas_used,
        events: vec![],
        data: vec![],
    }
}

#[cfg(test)]
mod tests;
