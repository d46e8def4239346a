#![allow(clippy::arithmetic_side_effects)] // small known test values

use super::*;
use crate::state::keys::{PARAMS, SIGNING_INFO};
use cosmwasm_std::testing::MockStorage;
use cosmwasm_std::{Decimal, Uint128};
use verdict_bank::Bank;
use verdict_core::address::Addr;
use verdict_core::coin::Coin;
use verdict_staking::state as staking;

fn addr(i: u8) -> Addr {
    Addr([i; 20])
}

fn cons(i: u8) -> [u8; 20] {
    staking::consensus_address(&[i; 32])
}

fn setup() -> MockStorage {
    let mut s = MockStorage::new();
    PARAMS
        .save(
            &mut s,
            &SlashingParams {
                signed_blocks_window: 10,
                downtime_jail_duration_seconds: 60,
                ..Default::default()
            },
        )
        .expect("params");
    for i in 1..=4u8 {
        Bank::mint(&mut s, &addr(i), &[Coin::new(100_000_000, "uverd")]).expect("mint");
        staking::create_validator(
            &mut s,
            &addr(i),
            &[i; 32],
            Uint128::new(10_000_000),
            Decimal::percent(5),
            "v",
        )
        .expect("create");
    }
    staking::end_block_updates(&mut s, 1, 0).expect("updates");
    s
}

fn votes(absent: &[u8]) -> Vec<CommitVote> {
    (1..=4u8)
        .map(|i| CommitVote {
            consensus_address: cons(i),
            power: 10,
            signed: !absent.contains(&i),
        })
        .collect()
}

#[test]
fn a_validator_missing_too_many_blocks_is_slashed_and_jailed_then_may_unjail() {
    let mut s = setup();
    let mut jailed_at = None;
    for h in 1..=30u64 {
        let ev = handle_commit(&mut s, h, 1000 + h as i64, &votes(&[4])).expect("commit");
        if ev.iter().any(|e| e.kind == "slash") {
            jailed_at = Some(h);
            break;
        }
    }
    // Window 10, min signed 50%: more than 5 missed, once height > start (1) + 10.
    assert_eq!(jailed_at, Some(12));
    let v = staking::validator(&s, &addr(4)).expect("v");
    assert!(v.jailed);
    assert_eq!(v.tokens, Uint128::new(9_900_000), "1% of 10 power × 10^6");
    assert_eq!(
        staking::end_block_updates(&mut s, 1, 0).expect("u").len(),
        1
    );
    staking::check_invariants(&s).expect("staking");
    verdict_bank::state::check_supply_invariant(&s).expect("supply");
    // Others are untouched.
    assert!(!staking::validator(&s, &addr(1)).expect("v").jailed);

    let now = 1000 + 12;
    assert!(matches!(
        unjail(&mut s, &addr(4), now + 59),
        Err(SlashingError::StillJailed { .. })
    ));
    assert!(matches!(
        unjail(&mut s, &addr(1), now),
        Err(SlashingError::NotJailed(_))
    ));
    unjail(&mut s, &addr(4), now + 60).expect("unjail");
    assert!(!staking::validator(&s, &addr(4)).expect("v").jailed);
    assert_eq!(
        staking::end_block_updates(&mut s, 1, 0).expect("u")[0].power,
        9
    );
}

#[test]
fn double_signing_slashes_at_the_infraction_height_tombstones_and_forbids_unjail() {
    let mut s = setup();
    let ev = handle_double_sign(&mut s, &cons(2), 5, 10).expect("evidence");
    assert_eq!(ev.len(), 1);
    let v = staking::validator(&s, &addr(2)).expect("v");
    assert!(v.jailed);
    assert_eq!(v.tokens, Uint128::new(9_500_000), "5% of 10 power × 10^6");
    assert!(SIGNING_INFO.load(&s, &cons(2)).expect("info").tombstoned);
    // Evidence again does nothing more.
    assert!(handle_double_sign(&mut s, &cons(2), 6, 10)
        .expect("again")
        .is_empty());
    assert_eq!(
        staking::validator(&s, &addr(2)).expect("v").tokens,
        Uint128::new(9_500_000)
    );
    assert!(matches!(
        unjail(&mut s, &addr(2), i64::MAX - 1),
        Err(SlashingError::Tombstoned(_))
    ));
    staking::check_invariants(&s).expect("staking");
    verdict_bank::state::check_supply_invariant(&s).expect("supply");
}

#[test]
fn signing_again_clears_missed_blocks_from_the_window() {
    let mut s = setup();
    for h in 1..=4u64 {
        handle_commit(&mut s, h, 1000, &votes(&[3])).expect("commit");
    }
    assert_eq!(
        SIGNING_INFO
            .load(&s, &cons(3))
            .expect("i")
            .missed_blocks_counter,
        4
    );
    for h in 5..=24u64 {
        handle_commit(&mut s, h, 1000, &votes(&[])).expect("commit");
    }
    assert_eq!(
        SIGNING_INFO
            .load(&s, &cons(3))
            .expect("i")
            .missed_blocks_counter,
        0
    );
    assert!(!staking::validator(&s, &addr(3)).expect("v").jailed);
}

#[test]
fn a_validator_jailed_for_low_self_delegation_unjails_only_after_topping_it_up() {
    let mut s = setup();
    staking::edit_validator(
        &mut s,
        &addr(3),
        None,
        None,
        Some(Uint128::new(9_000_000)),
        0,
    )
    .expect("min self delegation 9 VERD");
    staking::undelegate(&mut s, &addr(3), &addr(3), Uint128::new(2_000_000), 5, 1000)
        .expect("undelegate below the minimum");
    assert!(staking::validator(&s, &addr(3)).expect("v").jailed);
    assert!(matches!(
        unjail(&mut s, &addr(3), 1001),
        Err(SlashingError::SelfDelegationTooLow { .. })
    ));
    assert!(
        staking::validator(&s, &addr(3)).expect("v").jailed,
        "refusal changed nothing"
    );
    staking::delegate(&mut s, &addr(3), &addr(3), Uint128::new(1_000_000)).expect("top up");
    unjail(&mut s, &addr(3), 1002).expect("unjail");
    assert!(!staking::validator(&s, &addr(3)).expect("v").jailed);
    staking::check_invariants(&s).expect("staking");
}

#[test]
fn double_sign_slashes_redelegations_made_after_the_infraction() {
    let mut s = setup();
    Bank::mint(&mut s, &addr(7), &[Coin::new(10_000_000, "uverd")]).expect("mint");
    staking::delegate(&mut s, &addr(7), &addr(2), Uint128::new(10_000_000)).expect("delegate");
    staking::end_block_updates(&mut s, 1, 0).expect("u");
    // Infraction at 5; the delegator flees to validator 1 at height 7.
    staking::begin_redelegation(
        &mut s,
        &addr(7),
        &addr(2),
        &addr(1),
        Uint128::new(10_000_000),
        7,
        1000,
    )
    .expect("redelegate");
    let v1 = staking::validator(&s, &addr(1)).expect("v1").tokens;
    handle_double_sign(&mut s, &cons(2), 5, 20).expect("evidence");
    // 5% of 20 power: 500 000 from the redelegated stake, 500 000 from validator 2.
    assert_eq!(
        staking::validator(&s, &addr(1)).expect("v1").tokens,
        v1 - Uint128::new(500_000)
    );
    assert_eq!(
        staking::validator(&s, &addr(2)).expect("v2").tokens,
        Uint128::new(9_500_000)
    );
    staking::check_invariants(&s).expect("staking");
    verdict_bank::state::check_supply_invariant(&s).expect("supply");
}
