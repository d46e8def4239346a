//! Every table of the distribution module: the only place that names one of
//! its storage namespaces (`distribution/…`). Other crates go through the
//! functions of [`crate::state`].

use cosmwasm_std::Uint128;
use cw_storage_plus::{Item, Map};

use super::{DelegationRewards, ValidatorRewards};

/// Operator → the validator's reward books.
pub(crate) const VALIDATOR_REWARDS: Map<&[u8], ValidatorRewards> =
    Map::new("distribution/validator");
/// (delegator, validator) → the delegation's reward record.
pub(crate) const DELEGATION_REWARDS: Map<(&[u8], &[u8]), DelegationRewards> =
    Map::new("distribution/delegation");
/// Truncation dust and fees nobody could be paid for, in the bond denom.
pub(crate) const COMMUNITY_POOL: Item<Uint128> = Item::new("distribution/community_pool");

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// The storage layout, written out: a change to any namespace (a migration,
    /// a new app hash for the same history) must be a deliberate edit here.
    #[test]
    fn state_layout() {
        let ns = |b: &[u8]| String::from_utf8(b.to_vec()).unwrap();
        let got = [
            ("VALIDATOR_REWARDS", ns(VALIDATOR_REWARDS.namespace_bytes())),
            (
                "DELEGATION_REWARDS",
                ns(DELEGATION_REWARDS.namespace_bytes()),
            ),
            ("COMMUNITY_POOL", ns(COMMUNITY_POOL.as_slice())),
        ];
        let got: Vec<(&str, &str)> = got.iter().map(|(n, k)| (*n, k.as_str())).collect();
        assert_eq!(
            got,
            [
                ("VALIDATOR_REWARDS", "distribution/validator"),
                ("DELEGATION_REWARDS", "distribution/delegation"),
                ("COMMUNITY_POOL", "distribution/community_pool"),
            ]
        );
    }
}
