//! Every table of the staking module: the only place that names one of its
//! storage namespaces (`staking/…`). Other crates read and write through the
//! functions of [`crate::state`].

use cosmwasm_std::Uint128;
use cw_storage_plus::{Item, Map};

use super::{Addr20, RedelegationEntry, StakingParams, UnbondingEntry, Validator};

pub(crate) const PARAMS: Item<StakingParams> = Item::new("staking/params");
pub(crate) const VALIDATORS: Map<&[u8], Validator> = Map::new("staking/validators");
/// Consensus address (first 20 bytes of sha256(pubkey)) → operator.
pub(crate) const BY_CONS_ADDR: Map<&[u8], Addr20> = Map::new("staking/by_cons");
/// (delegator, validator) → shares.
pub(crate) const DELEGATIONS: Map<(&[u8], &[u8]), Uint128> = Map::new("staking/delegations");
pub(crate) const UNBONDING: Map<(&[u8], &[u8]), Vec<UnbondingEntry>> =
    Map::new("staking/unbonding");
/// (validator, delegator): the pairs with unbonding entries, by validator, so a
/// slash visits only its own validator's entries.
pub(crate) const UNBONDING_BY_VAL: Map<(&[u8], &[u8]), ()> = Map::new("staking/ubd_by_val");
/// (completion time, delegator, validator): pairs with an entry maturing then.
pub(crate) const UNBONDING_QUEUE: Map<(u64, &[u8], &[u8]), ()> = Map::new("staking/ubd_queue");
/// (u128::MAX − tokens as 16 bytes BE, operator): the validators that may be in
/// the active set (unjailed, at least one unit of power), most tokens first, so
/// EndBlock reads the top `max_validators` instead of every validator. Kept by
/// `validators::store_validator`, the only writer of [`VALIDATORS`].
pub(crate) const BY_POWER: Map<(&[u8], &[u8]), ()> = Map::new("staking/by_power");
/// Set once [`BY_POWER`] holds every validator (state from before it existed is
/// indexed at the first EndBlock that finds this unset).
pub(crate) const BY_POWER_BUILT: Item<bool> = Item::new("staking/by_power_built");
/// (maturity time, operator): validators that left the active set and become
/// Unbonded at that block time (entries of a validator back in the set are
/// removed when it rejoins).
pub(crate) const VALIDATOR_QUEUE: Map<(u64, &[u8]), ()> = Map::new("staking/val_queue");
/// Set once every Unbonding validator has a maturity in [`VALIDATOR_QUEUE`]
/// (state from before the queue existed is queued at the first EndBlock that
/// finds this unset).
pub(crate) const VALIDATOR_QUEUE_BUILT: Item<bool> = Item::new("staking/val_queue_built");
/// Consensus addresses of removed validators: never registered again, so a
/// tombstoned key cannot come back unjailed (nor inherit its predecessor's
/// evidence).
pub(crate) const RETIRED_CONS_ADDR: Map<&[u8], ()> = Map::new("staking/retired_cons");
/// The powers CometBFT was last told, by operator.
pub(crate) const LAST_POWERS: Map<&[u8], u64> = Map::new("staking/last_powers");
/// (delegator, validator) pairs whose delegation shares changed since the
/// distribution module last looked: an outbox that distribution drains (and
/// clears) before it allocates rewards, so its per-share books follow every share
/// change — including those inside a slash — without a hook from staking upward.
/// Distribution reaches it through [`super::shares_changed_pairs`],
/// [`super::has_shares_changed`] and [`super::clear_shares_changed`].
pub(crate) const SHARES_CHANGED: Map<(&[u8], &[u8]), ()> = Map::new("staking/shares_changed");

/// A (delegator, source, destination) key.
pub(crate) type Triple<'a> = (&'a [u8], &'a [u8], &'a [u8]);

/// (delegator, source, destination) → entries, oldest first.
pub(crate) const REDELEGATIONS: Map<Triple<'static>, Vec<RedelegationEntry>> =
    Map::new("staking/redelegations");
/// (completion time, delegator ‖ source ‖ destination): triples with an entry
/// maturing then (cw-storage-plus keys have at most three parts).
pub(crate) const REDELEGATION_QUEUE: Map<(u64, &[u8]), ()> = Map::new("staking/red_queue");
/// (source, delegator, destination): the triples a slash of the source visits.
pub(crate) const REDELEGATIONS_BY_SRC: Map<Triple<'static>, ()> = Map::new("staking/red_by_src");

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
            ("PARAMS", ns(PARAMS.as_slice())),
            ("VALIDATORS", ns(VALIDATORS.namespace_bytes())),
            ("BY_POWER", ns(BY_POWER.namespace_bytes())),
            ("BY_POWER_BUILT", ns(BY_POWER_BUILT.as_slice())),
            ("BY_CONS_ADDR", ns(BY_CONS_ADDR.namespace_bytes())),
            ("DELEGATIONS", ns(DELEGATIONS.namespace_bytes())),
            ("UNBONDING", ns(UNBONDING.namespace_bytes())),
            ("UNBONDING_BY_VAL", ns(UNBONDING_BY_VAL.namespace_bytes())),
            ("UNBONDING_QUEUE", ns(UNBONDING_QUEUE.namespace_bytes())),
            ("VALIDATOR_QUEUE", ns(VALIDATOR_QUEUE.namespace_bytes())),
            (
                "VALIDATOR_QUEUE_BUILT",
                ns(VALIDATOR_QUEUE_BUILT.as_slice()),
            ),
            ("RETIRED_CONS_ADDR", ns(RETIRED_CONS_ADDR.namespace_bytes())),
            ("LAST_POWERS", ns(LAST_POWERS.namespace_bytes())),
            ("SHARES_CHANGED", ns(SHARES_CHANGED.namespace_bytes())),
            ("REDELEGATIONS", ns(REDELEGATIONS.namespace_bytes())),
            (
                "REDELEGATION_QUEUE",
                ns(REDELEGATION_QUEUE.namespace_bytes()),
            ),
            (
                "REDELEGATIONS_BY_SRC",
                ns(REDELEGATIONS_BY_SRC.namespace_bytes()),
            ),
        ];
        let got: Vec<(&str, &str)> = got.iter().map(|(n, k)| (*n, k.as_str())).collect();
        assert_eq!(
            got,
            [
                ("PARAMS", "staking/params"),
                ("VALIDATORS", "staking/validators"),
                ("BY_POWER", "staking/by_power"),
                ("BY_POWER_BUILT", "staking/by_power_built"),
                ("BY_CONS_ADDR", "staking/by_cons"),
                ("DELEGATIONS", "staking/delegations"),
                ("UNBONDING", "staking/unbonding"),
                ("UNBONDING_BY_VAL", "staking/ubd_by_val"),
                ("UNBONDING_QUEUE", "staking/ubd_queue"),
                ("VALIDATOR_QUEUE", "staking/val_queue"),
                ("VALIDATOR_QUEUE_BUILT", "staking/val_queue_built"),
                ("RETIRED_CONS_ADDR", "staking/retired_cons"),
                ("LAST_POWERS", "staking/last_powers"),
                ("SHARES_CHANGED", "staking/shares_changed"),
                ("REDELEGATIONS", "staking/redelegations"),
                ("REDELEGATION_QUEUE", "staking/red_queue"),
                ("REDELEGATIONS_BY_SRC", "staking/red_by_src"),
            ]
        );
    }
}
