//! Per-validator signing state.

use cosmwasm_std::Storage;
use serde::{Deserialize, Serialize};

use crate::params::SlashingParams;

pub(crate) mod keys;

/// The slashing params in state (defaults before genesis).
pub fn params(s: &dyn Storage) -> SlashingParams {
    keys::PARAMS.may_load(s).ok().flatten().unwrap_or_default()
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SigningInfo {
    pub start_height: u64,
    pub index_offset: u64,
    pub jailed_until: i64,
    pub tombstoned: bool,
    pub missed_blocks_counter: u64,
}
