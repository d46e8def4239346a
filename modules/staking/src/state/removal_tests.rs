//! The validator lifecycle after the active set (security review H-4): a
//! validator that leaves the set is Unbonding for the unbonding time, then
//! Unbonded, and removed once no delegation is left, so validators created and
//! abandoned do not stay in state forever.
#![allow(clippy::arithmetic_side_effects)] // test arithmetic on small known values

use cosmwasm_std::testing::MockStorage;
use cosmwasm_std::{Decimal, Order, Uint128};
use verdict_bank::Bank;
use verdict_core::address::Addr;
use verdict_core::coin::Coin;

use super::keys::{BY_CONS_ADDR, PARAMS, VALIDATORS, VALIDATOR_QUEUE};
use super::*;
use crate::error::StakingError;

const U: i64 = 1_000;
const T0: i64 = 1_700_000_000;
const STAKE: u128 = 10_000_000;

fn addr(i: u8) -> Addr {
    Addr([i; 20])
}

/// Validators 1..=n bonded at `T0` with [`STAKE`] each; unbonding time [`U`].
fn setup(n: u8) -> MockStorage {
    let mut s = MockStorage::new();
    PARAMS
        .save(
            &mut s,
            &StakingParams {
                unbonding_time_seconds: U as u64,
                ..Default::default()
            },
        )
        .expect("params");
    for i in 1..=9u8 {
        Bank::mint(&mut s, &addr(i), &[Coin::new(100_000_000, "uverd")]).expect("mint");
    }
    for i in 1..=n {
        create_validator(
            &mut s,
            &addr(i),
            &[i; 32],
            Uint128::new(STAKE),
            Decimal::percent(5),
            "v",
        )
        .expect("create");
    }
    end_block_updates(&mut s, 1, T0).expect("updates");
    s
}

/// Jails validator `i` at `T0 + 1` (out of the set at height 2) and runs the
/// EndBlock of height 3 at its maturity: it is Unbonded after.
fn jail_and_mature(s: &mut MockStorage, i: u8) {
    set_jailed(s, &addr(i), true).expect("jail");
    end_block_updates(s, 2, T0 + 1).expect("u");
    end_block_updates(s, 3, T0 + 1 + U).expect("u");
}

fn check(s: &MockStorage) {
    check_invariants(s).expect("staking invariants");
    verdict_bank::state::check_supply_invariant(s).expect("supply invariant");
}

fn status(s: &MockStorage, i: u8) -> Option<Status> {
    find_validator(s, &addr(i).0)
        .expect("read")
        .map(|v| v.status)
}

#[test]
fn a_validator_that_leaves_the_set_unbonds_for_the_unbonding_time_then_is_removed_once_nobody_delegates(
) {
    let mut s = setup(3);
    // The operator takes its whole self-bond out: jailed (below its minimum
    // self-delegation), out of the set at the next EndBlock.
    undelegate(&mut s, &addr(3), &addr(3), Uint128::new(STAKE), 2, T0 + 1).expect("undelegate");
    end_block_updates(&mut s, 2, T0 + 1).expect("u");
    assert_eq!(status(&s, 3), Some(Status::Unbonding));
    let v = validator(&s, &addr(3)).expect("v");
    assert_eq!((v.unbonding_height, v.unbonding_time), (2, T0 + 1 + U));
    check(&s);

    // Still there (and still slashable) one second before maturity.
    end_block_updates(&mut s, 3, T0 + U).expect("u");
    assert_eq!(status(&s, 3), Some(Status::Unbonding));

    // Matured with no delegation left: gone, with its consensus key and queue entry.
    end_block_updates(&mut s, 4, T0 + 1 + U).expect("u");
    assert_eq!(status(&s, 3), None, "removed");
    assert!(!BY_CONS_ADDR.has(&s, &consensus_address(&[3; 32])));
    assert!(super::keys::RETIRED_CONS_ADDR.has(&s, &consensus_address(&[3; 32])));
    assert!(
        operator_by_consensus_address(&s, &consensus_address(&[3; 32]))
            .expect("read")
            .is_none()
    );
    assert_eq!(
        VALIDATOR_QUEUE
            .keys(&s, None, None, Order::Ascending)
            .count(),
        0
    );
    check(&s);
    // Its undelegation still pays out at its own maturity.
    let before = Bank::balance(&s, &addr(3), "uverd").expect("b");
    complete_unbondings(&mut s, T0 + 1 + U).expect("complete");
    assert_eq!(
        Bank::balance(&s, &addr(3), "uverd").expect("b"),
        before + Uint128::new(STAKE)
    );
    check(&s);
    // The operator may come back (with a new consensus key).
    create_validator(
        &mut s,
        &addr(3),
        &[30; 32],
        Uint128::new(STAKE),
        Decimal::percent(5),
        "again",
    )
    .expect("re-create");
    end_block_updates(&mut s, 5, T0 + 2 + U).expect("u");
    assert_eq!(status(&s, 3), Some(Status::Bonded));
    check(&s);
}

#[test]
fn an_unbonded_validator_with_delegations_stays_until_the_last_delegator_leaves() {
    let mut s = setup(3);
    delegate(&mut s, &addr(7), &addr(3), Uint128::new(4_000_000)).expect("delegate");
    jail_and_mature(&mut s, 3);
    assert_eq!(
        status(&s, 3),
        Some(Status::Unbonded),
        "matured, delegations left"
    );
    check(&s);
    undelegate(
        &mut s,
        &addr(3),
        &addr(3),
        Uint128::new(STAKE),
        4,
        T0 + 2 + U,
    )
    .expect("self");
    assert_eq!(status(&s, 3), Some(Status::Unbonded), "one delegator left");
    undelegate(
        &mut s,
        &addr(7),
        &addr(3),
        Uint128::new(4_000_000),
        4,
        T0 + 2 + U,
    )
    .expect("last");
    assert_eq!(status(&s, 3), None, "the last undelegation removes it");
    check(&s);
}

#[test]
fn a_validator_back_in_the_set_before_maturity_is_neither_unbonded_nor_removed() {
    let mut s = setup(3);
    set_jailed(&mut s, &addr(2), true).expect("jail");
    end_block_updates(&mut s, 2, T0 + 1).expect("u");
    assert_eq!(status(&s, 2), Some(Status::Unbonding));
    set_jailed(&mut s, &addr(2), false).expect("unjail");
    end_block_updates(&mut s, 3, T0 + 2).expect("u");
    assert_eq!(status(&s, 2), Some(Status::Bonded));
    let v = validator(&s, &addr(2)).expect("v");
    assert_eq!((v.unbonding_height, v.unbonding_time), (0, 0));
    end_block_updates(&mut s, 4, T0 + 1 + U).expect("u");
    assert_eq!(
        status(&s, 2),
        Some(Status::Bonded),
        "the old maturity is void"
    );
    // Leaving again starts a new unbonding period from then.
    set_jailed(&mut s, &addr(2), true).expect("jail");
    end_block_updates(&mut s, 5, T0 + 2 + U).expect("u");
    end_block_updates(&mut s, 6, T0 + 1 + 2 * U).expect("u");
    assert_eq!(status(&s, 2), Some(Status::Unbonding));
    end_block_updates(&mut s, 7, T0 + 2 + 2 * U).expect("u");
    assert_eq!(
        status(&s, 2),
        Some(Status::Unbonded),
        "self-bond left: kept"
    );
    check(&s);
}

#[test]
fn a_validator_slashed_while_unbonding_is_removed_when_its_last_delegator_takes_what_is_left() {
    let mut s = setup(3);
    set_jailed(&mut s, &addr(3), true).expect("jail");
    end_block_updates(&mut s, 2, T0 + 1).expect("u");
    slash(&mut s, &addr(3), 1, 10, Decimal::percent(33)).expect("slash");
    end_block_updates(&mut s, 3, T0 + 1 + U).expect("u");
    assert_eq!(status(&s, 3), Some(Status::Unbonded));
    let v = validator(&s, &addr(3)).expect("v");
    let worth = tokens_of_shares(&v, v.delegator_shares).expect("worth");
    undelegate(&mut s, &addr(3), &addr(3), worth, 4, T0 + 2 + U).expect("all");
    assert_eq!(status(&s, 3), None);
    check(&s);
}

#[test]
fn abandoned_validators_do_not_accumulate_in_state() {
    let mut s = setup(2);
    for i in 10..60u8 {
        let op = addr(i);
        Bank::mint(&mut s, &op, &[Coin::new(2_000_000, "uverd")]).expect("mint");
        create_validator(
            &mut s,
            &op,
            &[i; 32],
            Uint128::new(1_000_000),
            Decimal::zero(),
            "spam",
        )
        .expect("create");
    }
    end_block_updates(&mut s, 2, T0 + 1).expect("u");
    for i in 10..60u8 {
        undelegate(
            &mut s,
            &addr(i),
            &addr(i),
            Uint128::new(1_000_000),
            3,
            T0 + 2,
        )
        .expect("leave");
    }
    end_block_updates(&mut s, 3, T0 + 2).expect("u");
    end_block_updates(&mut s, 4, T0 + 2 + U).expect("u");
    let left: Vec<Addr20> = VALIDATORS
        .keys(&s, None, None, Order::Ascending)
        .map(|k| Addr20::try_from(k.expect("key").as_slice()).expect("20"))
        .collect();
    assert_eq!(left, vec![addr(1).0, addr(2).0]);
    check(&s);
}

#[test]
fn a_removed_validators_consensus_key_is_never_registered_again() {
    // Review of H-4: a tombstoned key freed by the removal would start a new,
    // unjailed validator that double-sign evidence can no longer touch.
    let mut s = setup(3);
    undelegate(&mut s, &addr(3), &addr(3), Uint128::new(STAKE), 2, T0 + 1).expect("leave");
    end_block_updates(&mut s, 2, T0 + 1).expect("u");
    end_block_updates(&mut s, 3, T0 + 1 + U).expect("u");
    assert_eq!(status(&s, 3), None);
    for op in [addr(3), addr(8)] {
        assert!(matches!(
            create_validator(
                &mut s,
                &op,
                &[3; 32],
                Uint128::new(STAKE),
                Decimal::zero(),
                "x"
            ),
            Err(StakingError::PubkeyTaken)
        ));
    }
    create_validator(
        &mut s,
        &addr(3),
        &[33; 32],
        Uint128::new(STAKE),
        Decimal::zero(),
        "new key",
    )
    .expect("the operator may come back with a new key");
    check(&s);
}

#[test]
fn validators_left_unbonding_by_an_older_binary_get_a_maturity_and_unbond() {
    // State exported before the validator queue existed: an Unbonding record
    // with no maturity and no queue entry.
    let mut s = setup(3);
    set_jailed(&mut s, &addr(3), true).expect("jail");
    end_block_updates(&mut s, 2, T0 + 1).expect("u");
    let mut v = validator(&s, &addr(3)).expect("v");
    VALIDATOR_QUEUE.remove(&mut s, (super::queue_time(v.unbonding_time), &v.operator));
    v.unbonding_time = 0;
    v.unbonding_height = 0;
    VALIDATORS
        .save(&mut s, &v.operator, &v)
        .expect("old record");
    super::keys::VALIDATOR_QUEUE_BUILT.remove(&mut s);
    end_block_updates(&mut s, 10, T0 + 5).expect("u");
    let v = validator(&s, &addr(3)).expect("v");
    assert_eq!((v.unbonding_height, v.unbonding_time), (10, T0 + 5 + U));
    end_block_updates(&mut s, 11, T0 + 5 + U).expect("u");
    assert_eq!(status(&s, 3), Some(Status::Unbonded));
    check(&s);
}

#[test]
fn redelegations_into_a_removed_validator_still_answer_the_query() {
    use cosmrs::proto::cosmos::staking::v1beta1 as pb;
    use prost::Message;
    let mut s = setup(3);
    jail_and_mature(&mut s, 3);
    assert_eq!(status(&s, 3), Some(Status::Unbonded));
    delegate(&mut s, &addr(7), &addr(1), Uint128::new(2_000_000)).expect("d");
    begin_redelegation(
        &mut s,
        &addr(7),
        &addr(1),
        &addr(3),
        Uint128::new(2_000_000),
        4,
        T0 + 2 + U,
    )
    .expect("redelegate");
    undelegate(
        &mut s,
        &addr(3),
        &addr(3),
        Uint128::new(STAKE),
        5,
        T0 + 3 + U,
    )
    .expect("self");
    undelegate(
        &mut s,
        &addr(7),
        &addr(3),
        Uint128::new(2_000_000),
        5,
        T0 + 3 + U,
    )
    .expect("d");
    assert_eq!(status(&s, 3), None, "removed with the entry still maturing");
    let req = pb::QueryRedelegationsRequest {
        delegator_addr: addr(7).bech32(),
        ..Default::default()
    };
    let out = crate::query::redelegations(&s, &req.encode_to_vec()).expect("query");
    let r = pb::QueryRedelegationsResponse::decode(out.as_slice()).expect("decode");
    assert_eq!(r.redelegation_responses.len(), 1);
    assert_eq!(r.redelegation_responses[0].entries[0].balance, "0");
    check(&s);
}
