//! A local index of executed transactions for `cosmos.tx.v1beta1.Service/GetTx`.
//!
//! Not consensus state: it lives in its own sled trees and is written after
//! Commit, off its path (`txqueue`, which says what a crash loses). Two trees: `txs` maps a tx hash
//! to its TxResponse; `txs_by_height` holds height (BE u64) ‖ hash for each
//! entry, so the entries of blocks below CometBFT's retain height can be
//! dropped with the blocks (`--min-retain-blocks`) without a scan.

use cosmrs::proto::cosmos::base::abci::v1beta1::TxResponse;
use cosmrs::proto::cosmos::tx::v1beta1::{AuthInfo, Tx, TxBody, TxRaw};
use cosmrs::Any;
use prost::Message;
use sha2::Digest;
use verdict_core::ctx::BlockInfo;

use super::error::StoreError;
use crate::outcome::TxOutcome;

/// One executed transaction, as GetTx returns it.
#[derive(Clone)]
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

/// The index's two trees (see the module docs).
pub(super) struct TxIndex {
    by_hash: sled::Tree,
    by_height: sled::Tree,
}

fn height_key(height: u64, hash: &[u8]) -> Vec<u8> {
    let mut k = height.to_be_bytes().to_vec();
    k.extend_from_slice(hash);
    k
}

impl TxIndex {
    pub(super) fn open(db: &sled::Db) -> sled::Result<Self> {
        Ok(TxIndex {
            by_hash: db.open_tree("txs")?,
            by_height: db.open_tree("txs_by_height")?,
        })
    }

    /// Writes a committed block's index entries.
    pub(super) fn write(&self, entries: &[IndexedTx]) -> Result<(), StoreError> {
        if entries.is_empty() {
            return Ok(());
        }
        let mut batch = sled::Batch::default();
        let mut heights = sled::Batch::default();
        for t in entries {
            batch.insert(t.hash.as_slice(), t.response.encode_to_vec());
            let h = u64::try_from(t.response.height).unwrap_or(0);
            heights.insert(height_key(h, &t.hash), &[]);
        }
        // The height entry first: a crash between the two leaves at worst an
        // entry to prune with nothing behind it, never an unprunable one.
        self.by_height.apply_batch(heights)?;
        self.by_hash.apply_batch(batch)?;
        Ok(())
    }

    /// The indexed result of the tx with `hash`, if any.
    pub(super) fn read(&self, hash: &[u8]) -> Result<Option<TxResponse>, StoreError> {
        match self.by_hash.get(hash)? {
            None => Ok(None),
            Some(v) => Ok(TxResponse::decode(v.as_ref()).ok()),
        }
    }

    /// Drops the entries of blocks below `retain` (at most `limit` of them per
    /// call, so a first prune of a long-unpruned index is spread over blocks);
    /// returns how many went. A hash indexed again at a later height (the same
    /// bytes executed twice) keeps its later entry.
    pub(super) fn prune_below(&self, retain: u64, limit: usize) -> Result<usize, StoreError> {
        let mut by_hash = sled::Batch::default();
        let mut by_height = sled::Batch::default();
        let mut n = 0usize;
        for item in self
            .by_height
            .range(..retain.to_be_bytes().to_vec())
            .take(limit)
        {
            let (k, _) = item?;
            let hash = k.get(8..).unwrap_or_default();
            let later = self
                .read(hash)?
                .is_some_and(|r| u64::try_from(r.height).unwrap_or(0) >= retain);
            if !later {
                by_hash.remove(hash);
            }
            by_height.remove(k);
            n = n.saturating_add(1);
        }
        if n > 0 {
            self.by_hash.apply_batch(by_hash)?;
            self.by_height.apply_batch(by_height)?;
        }
        Ok(n)
    }

    /// Entries in the index (both trees' sizes, for tests and metrics).
    pub(super) fn len(&self) -> (usize, usize) {
        (self.by_hash.len(), self.by_height.len())
    }
}
