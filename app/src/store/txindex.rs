//! A local index of executed transactions for `cosmos.tx.v1beta1.Service/GetTx`.
//!
//! Not consensus state: it lives in its own sled tree, is written after Commit,
//! and a replay after a crash writes it again.

use cosmrs::proto::cosmos::base::abci::v1beta1::TxResponse;
use cosmrs::proto::cosmos::tx::v1beta1::{AuthInfo, Tx, TxBody, TxRaw};
use cosmrs::Any;
use prost::Message;
use sha2::Digest;
use verdict_core::ctx::BlockInfo;

use super::error::StoreError;
use crate::outcome::TxOutcome;

/// One executed transaction, as GetTx returns it.
pub struct IndexedTx {
    pub hash: [u8; 32],
    pub response: TxResponse,
}

pub fn tx_hash(tx: &[u8]) -> [u8; 32] {
    sha2::Sha256::digest(tx).into()
}

/// `cosmos.tx.v1beta1.Tx` from raw bytes, when they decode.
pub fn decode_tx(tx: &[u8]) -> Option<Tx> {
    let raw = TxRaw::decode(tx).ok()?;
    Some(Tx {
        body: Some(TxBody::decode(raw.body_bytes.as_slice()).ok()?),
        auth_info: Some(AuthInfo::decode(raw.auth_info_bytes.as_slice()).ok()?),
        signatures: raw.signatures,
    })
}

impl IndexedTx {
    pub fn new(tx: &[u8], height: u64, _index: usize, out: &TxOutcome, block: &BlockInfo) -> Self {
        let hash = tx_hash(tx);
        let timestamp = tendermint::Time::from_unix_timestamp(
            block.time_seconds,
            block.time_nanos.max(0) as u32,
        )
        .map(|t| t.to_rfc3339())
        .unwrap_or_default();
        IndexedTx {
            hash,
            response: TxResponse {
                height: i64::try_from(height).unwrap_or(i64::MAX),
                txhash: hex::encode_upper(hash),
                codespace: out.codespace.clone(),
                code: out.code,
                data: hex::encode_upper(&out.data),
                raw_log: out.log.clone(),
                logs: vec![],
                info: String::new(),
                gas_wanted: i64::try_from(out.gas_wanted).unwrap_or(i64::MAX),
                gas_used: i64::try_from(out.gas_used).unwrap_or(i64::MAX),
                tx: decode_tx(tx).map(|t| Any {
                    type_url: "/cosmos.tx.v1beta1.Tx".into(),
                    value: t.encode_to_vec(),
                }),
                timestamp,
                events: out.events.iter().map(|e| e.to_abci()).collect(),
            },
        }
    }
}

/// Writes a committed block's index entries (not consensus state).
pub(super) fn write(txs: &sled::Tree, entries: &[IndexedTx]) -> Result<(), StoreError> {
    if entries.is_empty() {
        return Ok(());
    }
    let mut batch = sled::Batch::default();
    for t in entries {
        batch.insert(t.hash.as_slice(), t.response.encode_to_vec());
    }
    txs.apply_batch(batch)?;
    Ok(())
}

/// The indexed result of the tx with `hash`, if any.
pub(super) fn read(txs: &sled::Tree, hash: &[u8]) -> Result<Option<TxResponse>, StoreError> {
    match txs.get(hash)? {
        None => Ok(None),
        Some(v) => Ok(TxResponse::decode(v.as_ref()).ok()),
    }
}
