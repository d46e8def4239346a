//! The app's own typed state (keys under `app/`).

use cw_storage_plus::{Item, Map};
use serde::{Deserialize, Serialize};

use verdict_core::ctx::BlockInfo;

use crate::params::AppParams;

/// A consensus validator as CometBFT knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsensusValidator {
    /// Ed25519 public key, 32 bytes, hex.
    pub pub_key: String,
    pub power: u64,
}

/// The last finalized block, written in every block so each height has its own
/// JMT version (and, for IBC later, a host consensus record).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockRecord {
    pub height: u64,
    /// Block time as given by CometBFT (seconds, nanos): never the wall clock.
    pub time_seconds: i64,
    pub time_nanos: i32,
    /// Block hash, hex.
    pub hash: String,
    /// Vote extensions verified into this block's tx[0].
    pub extensions: u32,
}

pub const CHAIN_ID: Item<String> = Item::new("app/chain_id");
pub const PARAMS: Item<AppParams> = Item::new("app/params");
/// Height from which CometBFT asks for vote extensions (consensus params).
pub const VE_ENABLE_HEIGHT: Item<u64> = Item::new("app/ve_enable_height");
/// The CometBFT validator set in force from a height on, keyed by that height:
/// a new entry is written whenever FinalizeBlock(h) returns updates (effective at
/// h+2, CometBFT's delay). Vote extensions of height h are checked against
/// [`valset_at`]`(h)`, never against powers a proposer supplies.
pub const VALSETS: Map<u64, Vec<(String, ConsensusValidator)>> = Map::new("app/valsets");

/// The validator set (by hex consensus address) in force at `height`.
/// Removes every stored set older than the one in force at `height` (the
/// newest at or below it), which stays. Returns how many went.
pub fn prune_valsets_before(
    s: &mut dyn cosmwasm_std::Storage,
    height: u64,
) -> cosmwasm_std::StdResult<usize> {
    let keys: Vec<u64> = VALSETS
        .keys(
            s,
            None,
            Some(cw_storage_plus::Bound::inclusive(height)),
            cosmwasm_std::Order::Ascending,
        )
        .collect::<cosmwasm_std::StdResult<_>>()?;
    let Some((_, older)) = keys.split_last() else {
        return Ok(0);
    };
    for k in older {
        VALSETS.remove(s, *k);
    }
    Ok(older.len())
}

pub fn valset_at(
    s: &dyn cosmwasm_std::Storage,
    height: u64,
) -> std::collections::BTreeMap<String, ConsensusValidator> {
    VALSETS
        .range(
            s,
            None,
            Some(cw_storage_plus::Bound::inclusive(height)),
            cosmwasm_std::Order::Descending,
        )
        .next()
        .and_then(Result::ok)
        .map(|(_, v)| v.into_iter().collect())
        .unwrap_or_default()
}
pub const LAST_BLOCK: Item<BlockRecord> = Item::new("app/last_block");

/// The chain id InitChain stored ("" before).
pub fn chain_id(s: &dyn cosmwasm_std::Storage) -> String {
    CHAIN_ID.may_load(s).ok().flatten().unwrap_or_default()
}

/// The app's params (defaults before InitChain).
pub fn params(s: &dyn cosmwasm_std::Storage) -> AppParams {
    PARAMS.may_load(s).ok().flatten().unwrap_or_default()
}

/// Block facts for CheckTx and Simulate: the block that would come after the
/// committed height `committed`.
pub fn next_block_info(s: &dyn cosmwasm_std::Storage, committed: u64) -> BlockInfo {
    let last = LAST_BLOCK.may_load(s).ok().flatten();
    BlockInfo {
        height: committed.saturating_add(1),
        time_seconds: last.as_ref().map_or(0, |b| b.time_seconds),
        time_nanos: last.as_ref().map_or(0, |b| b.time_nanos),
        chain_id: chain_id(s),
    }
}

/// Whether blocks at `height` must carry the extensions of `height - 1`.
pub fn expects_injected(s: &dyn cosmwasm_std::Storage, height: i64) -> bool {
    let enable = VE_ENABLE_HEIGHT.may_load(s).ok().flatten().unwrap_or(0);
    enable > 0 && u64::try_from(height).is_ok_and(|h| h > enable)
}

#[cfg(test)]
mod valset_tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use cosmwasm_std::testing::MockStorage;

    fn set(power: u64) -> Vec<(String, ConsensusValidator)> {
        vec![(
            "AA".into(),
            ConsensusValidator {
                pub_key: "00".into(),
                power,
            },
        )]
    }

    /// threats.md §9: stored validator sets older than the one in force go;
    /// what verification reads (the set at the height, and later ones) stays.
    #[test]
    fn only_the_set_in_force_and_later_ones_are_kept() {
        let mut s = MockStorage::new();
        for (h, p) in [(1u64, 1u64), (3, 3), (5, 5), (9, 9)] {
            VALSETS.save(&mut s, h, &set(p)).unwrap();
        }
        assert_eq!(prune_valsets_before(&mut s, 6).unwrap(), 2);
        assert_eq!(valset_at(&s, 6)["AA"].power, 5);
        assert_eq!(valset_at(&s, 9)["AA"].power, 9);
        assert!(!VALSETS.has(&s, 1) && !VALSETS.has(&s, 3));
        assert_eq!(prune_valsets_before(&mut s, 6).unwrap(), 0);
    }
}

#[cfg(test)]
mod layout_tests {
    use super::*;

    /// The app's own namespaces: a change here is a storage change, to be made
    /// on purpose (and with a migration).
    #[test]
    fn the_app_key_layout_is_pinned() {
        let ns = |b: &[u8]| String::from_utf8(b.to_vec()).expect("utf-8");
        assert_eq!(
            [
                ns(CHAIN_ID.as_slice()),
                ns(PARAMS.as_slice()),
                ns(VE_ENABLE_HEIGHT.as_slice()),
                ns(VALSETS.namespace_bytes()),
                ns(LAST_BLOCK.as_slice()),
            ],
            [
                "app/chain_id",
                "app/params",
                "app/ve_enable_height",
                "app/valsets",
                "app/last_block",
            ]
        );
    }
}
