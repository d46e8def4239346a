//! `verdictd export`: the state at a height as a genesis a new chain (or a new
//! binary) starts from, with every balance, stake, job and IBC record as they
//! were (the upgrade procedure in docs/upgrade.md).
//!
//! The module sections of a genesis describe a chain's start (balances,
//! gentxs, params) and cannot say everything a running chain holds (bonded
//! validators, delegations, unbondings, rewards, models, jobs in flight, IBC
//! clients). So the export carries the state itself: `app_state.exported`
//! lists every key and value of both trees at height N, and InitChain writes
//! them back as they were, then sets the new chain's own records (chain id,
//! `app.params` from the file, which may be edited, the vote-extension
//! height) and hands CometBFT the validator set in force. The new chain
//! starts at N+1 (`initial_height`), so heights in state keep their meaning.

use cosmwasm_std::Storage;
use serde::{Deserialize, Serialize};

use crate::state::{self, ConsensusValidator};
use crate::store::Store;

/// A key and its value.
pub type Item = (Vec<u8>, Vec<u8>);

/// `app_state.exported`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportedState {
    /// The height the state is of; the new chain's `initial_height` is the next.
    pub height: u64,
    /// The chain it came from, and its app hash after `height`.
    pub chain_id: String,
    pub app_hash: String,
    /// Every key and value, hex, in the store's snapshot order.
    pub items: Vec<(String, String)>,
}

impl ExportedState {
    /// The state of `height` (default: the last committed) of a stopped node's store.
    pub fn of(store: &Store, height: Option<u64>) -> anyhow::Result<Self> {
        let height = match height {
            Some(h) => h,
            None => store.height()?,
        };
        anyhow::ensure!(height > 0, "the store has no committed block to export");
        let app_hash = store
            .app_hash_at(height)?
            .ok_or_else(|| anyhow::anyhow!("no app hash recorded for height {height}"))?;
        let mut items = Vec::new();
        store.for_each_item(height, |k, v| {
            items.push((hex::encode(k), hex::encode(v)));
            Ok(())
        })?;
        let mut out = ExportedState {
            height,
            chain_id: String::new(),
            app_hash: hex::encode_upper(app_hash),
            items,
        };
        out.chain_id = out.read(|s| state::chain_id(s))?;
        Ok(out)
    }

    /// Decoded items.
    pub fn decoded(&self) -> Result<Vec<Item>, String> {
        self.items
            .iter()
            .map(|(k, v)| match (hex::decode(k), hex::decode(v)) {
                (Ok(k), Ok(v)) => Ok((k, v)),
                _ => Err(format!("exported.items: {k:?} is not hex key and value")),
            })
            .collect()
    }

    /// Reads the exported state as a store would.
    pub fn read<R>(&self, f: impl FnOnce(&dyn Storage) -> R) -> anyhow::Result<R> {
        let mut s = cosmwasm_std::testing::MockStorage::new();
        for (k, v) in self.decoded().map_err(|e| anyhow::anyhow!(e))? {
            s.set(&k, &v);
        }
        Ok(f(&s))
    }

    /// The items hash to `app_hash`: the state is the one exported, unedited.
    pub fn check_root(&self) -> Result<(), String> {
        let items = self.decoded()?;
        let root =
            crate::store::state_root(items.iter().map(|(k, v)| (k.as_slice(), v.as_slice())))
                .map_err(|e| format!("exported.items: {e}"))?;
        if !hex::encode(root).eq_ignore_ascii_case(&self.app_hash) {
            return Err(format!(
                "exported.items hash to {}, not the exported app_hash {}: the state was changed \
                 after export (only app.params may be edited)",
                hex::encode_upper(root),
                self.app_hash
            ));
        }
        Ok(())
    }

    pub fn check(&self) -> Result<(), String> {
        if self.height == 0 {
            return Err("exported.height must be positive".into());
        }
        self.decoded().map(|_| ())
    }
}

/// Writes the exported items into genesis state, and returns the validator
/// set the new chain starts with: the newest one the old chain had decided on
/// (in force at N+1, or at N+2 when height N changed it), now in force from
/// `initial` on.
pub(crate) fn restore(
    s: &mut dyn Storage,
    e: &ExportedState,
    initial: u64,
) -> Result<Vec<(String, ConsensusValidator)>, String> {
    e.check_root()?;
    for (k, v) in e.decoded()? {
        s.set(&k, &v);
    }
    let set: Vec<(String, ConsensusValidator)> =
        state::valset_at(s, u64::MAX).into_iter().collect();
    if set.is_empty() {
        return Err("exported state has no validator set".into());
    }
    let newer: Vec<u64> = state::VALSETS
        .keys(
            s,
            Some(cw_storage_plus::Bound::exclusive(initial)),
            None,
            cosmwasm_std::Order::Ascending,
        )
        .collect::<cosmwasm_std::StdResult<_>>()
        .map_err(|e| e.to_string())?;
    for h in newer {
        state::VALSETS.remove(s, h);
    }
    state::VALSETS
        .save(s, initial, &set)
        .map_err(|e| e.to_string())?;
    Ok(set)
}

/// A CometBFT genesis document for the new chain: the old one's consensus
/// params (vote extensions from the first height), `initial_height` N+1, no
/// validators (InitChain returns them), `app_state` = `app.params` (as in
/// force) and the state.
pub fn genesis_doc(
    old: &serde_json::Value,
    e: ExportedState,
    chain_id: Option<String>,
    genesis_time: Option<String>,
) -> anyhow::Result<serde_json::Value> {
    let params = e.read(|s| state::params(s))?;
    let last = e.read(|s| state::LAST_BLOCK.may_load(s).ok().flatten())?;
    let time = match genesis_time {
        Some(t) => t,
        None => {
            let b = last.ok_or_else(|| anyhow::anyhow!("the state has no last block time"))?;
            tendermint::Time::from_unix_timestamp(
                b.time_seconds,
                u32::try_from(b.time_nanos).unwrap_or(0),
            )
            .map_err(|err| anyhow::anyhow!("last block time: {err}"))?
            .to_rfc3339()
        }
    };
    let initial = e.height.saturating_add(1);
    let mut consensus = old
        .get("consensus_params")
        .cloned()
        .ok_or_else(|| anyhow::anyhow!("the old genesis has no consensus_params"))?;
    if let Some(abci) = consensus.get_mut("abci").and_then(|a| a.as_object_mut()) {
        abci.insert(
            "vote_extensions_enable_height".into(),
            serde_json::Value::String(initial.to_string()),
        );
    }
    Ok(serde_json::json!({
        "genesis_time": time,
        "chain_id": chain_id.unwrap_or_else(|| e.chain_id.clone()),
        "initial_height": initial.to_string(),
        "consensus_params": consensus,
        "validators": [],
        "app_hash": "",
        "app_state": { "app": { "params": params }, "exported": e },
    }))
}
