//! IBC state at genesis: the three identifier counters at 0, as ibc-go writes
//! them, so the `ibc` sub-store is never empty (an empty tree has no neighbours
//! to prove a path absent with).

use cosmwasm_std::Storage;
use ibc::core::host::types::path::{
    NextChannelSequencePath, NextClientSequencePath, NextConnectionSequencePath,
};

use serde::{Deserialize, Serialize};

use crate::ica_host::IcaHostParams;
use crate::keys::flat_key;

/// The `ibc` genesis section: the interchain-accounts host's params, when
/// they differ from the defaults (`{}` keeps the defaults).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IbcGenesis {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ica_host: Option<IcaHostParams>,
}

pub fn init(store: &mut dyn Storage) {
    for path in [
        NextClientSequencePath.to_string(),
        NextConnectionSequencePath.to_string(),
        NextChannelSequencePath.to_string(),
    ] {
        store.set(&flat_key(path.as_bytes()), &0u64.to_be_bytes());
    }
}
