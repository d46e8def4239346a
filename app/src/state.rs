//! The app's own typed state (keys under `app/`).

use cw_storage_plus::{Item, Map};
use serde::{Deserialize, Serialize};

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
