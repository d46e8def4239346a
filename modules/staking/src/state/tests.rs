#![allow(clippy::arithmetic_side_effects)] // test arithmetic on small known values
use super::keys::*;
use super::*;
use cosmwasm_std::testing::MockStorage;
use cosmwasm_std::{Decimal, Order};
use proptest::prelude::*;
use verdict_bank::Bank;

fn addr(i: u8) -> Addr {
    Addr([i; 20])
}

fn setup(n_validators: u8) -> MockStorage {
    let mut s = MockStorage::new();
    for i in 1..=6u8 {
        Bank::mint(&mut s, &addr(i), &[Coin::new(100_000_000, "uverd")]).expect("mint");
    }
    for i in 1..=n_validators {
        create_validator(
            &mut s,
            &addr(i),
            &[i; 32],
            Uint128::new(10_000_000),
            Decimal::percent(5),
            "v",
        )
        .expect("create");
    }
    end_block_updates(&mut s, 1, 0).expect("updates");
    s
}

fn check(s: &MockStorage) {
    check_invariants(s).expect("staking invariants");
    verdict_bank::state::check_supply_invariant(s).expect("supply invariant");
}

#[test]
fn creating_validators_bonds_them_and_reports_power() {
    let mut s = MockStorage::new();
    Bank::mint(&mut s, &addr(1), &[Coin::new(50_000_000, "uverd")]).expect("mint");
    create_validator(
        &mut s,
        &addr(1),
        &[1; 32],
        Uint128::new(7_500_000),
        Decimal::percent(5),
        "a",
    )
    .expect("create");
    let ups = end_block_updates(&mut s, 1, 0).expect("updates");
    assert_eq!(
        ups,
        vec![PowerUpdate {
            pubkey: [1; 32],
            power: 7
        }]
    );
    assert_eq!(validator(&s, &addr(1)).expect("v").status, Status::Bonded);
    assert!(
        end_block_updates(&mut s, 1, 0).expect("again").is_empty(),
        "no change, no update"
    );
    check(&s);
    assert!(matches!(
        create_validator(
            &mut s,
            &addr(1),
            &[2; 32],
            Uint128::new(1),
            Decimal::zero(),
            "dup"
        ),
        Err(StakingError::ValidatorExists(_))
    ));
    Bank::mint(&mut s, &addr(2), &[Coin::new(5_000_000, "uverd")]).expect("mint");
    assert_eq!(
        create_validator(
            &mut s,
            &addr(2),
            &[1; 32],
            Uint128::new(1_000_000),
            Decimal::zero(),
            "same key"
        ),
        Err(StakingError::PubkeyTaken)
    );
}

#[test]
fn undelegation_waits_for_the_unbonding_time_then_pays_out() {
    let mut s = setup(1);
    delegate(&mut s, &addr(5), &addr(1), Uint128::new(3_000_000)).expect("delegate");
    assert_eq!(end_block_updates(&mut s, 1, 0).expect("u")[0].power, 13);
    let done = undelegate(
        &mut s,
        &addr(5),
        &addr(1),
        Uint128::new(1_000_000),
        10,
        1_000,
    )
    .expect("undelegate");
    assert_eq!(done, 1_000 + 21 * 24 * 3600);
    assert_eq!(end_block_updates(&mut s, 1, 0).expect("u")[0].power, 12);
    check(&s);
    let before = Bank::balance(&s, &addr(5), "uverd").expect("b");
    complete_unbondings(&mut s, done - 1).expect("not yet");
    assert_eq!(Bank::balance(&s, &addr(5), "uverd").expect("b"), before);
    complete_unbondings(&mut s, done).expect("now");
    assert_eq!(
        Bank::balance(&s, &addr(5), "uverd").expect("b"),
        before + Uint128::new(1_000_000)
    );
    check(&s);
}

#[test]
fn bad_requests_change_nothing() {
    let mut s = setup(1);
    assert!(matches!(
        delegate(&mut s, &addr(5), &addr(9), Uint128::new(1)),
        Err(StakingError::NoValidator(_))
    ));
    assert!(matches!(
        undelegate(&mut s, &addr(5), &addr(1), Uint128::new(1), 1, 1),
        Err(StakingError::NoDelegation { .. })
    ));
    assert!(matches!(
        undelegate(&mut s, &addr(1), &addr(1), Uint128::new(10_000_001), 1, 1),
        Err(StakingError::NotEnoughShares { .. })
    ));
    assert!(
        delegate(&mut s, &addr(5), &addr(1), Uint128::new(200_000_000)).is_err(),
        "more than the balance"
    );
    check(&s);
}

#[test]
fn slashing_reaches_unbonding_entries_created_after_the_infraction() {
    let mut s = setup(1);
    delegate(&mut s, &addr(5), &addr(1), Uint128::new(10_000_000)).expect("delegate");
    end_block_updates(&mut s, 1, 0).expect("u");
    // Infraction at height 5 with power 20; the delegator runs at height 8.
    undelegate(&mut s, &addr(5), &addr(1), Uint128::new(10_000_000), 8, 100).expect("undelegate");
    let burned = slash(&mut s, &addr(1), 5, 20, Decimal::percent(5)).expect("slash");
    assert_eq!(burned, Uint128::new(1_000_000)); // 5% of 20 000 000
    let entry = &UNBONDING.load(&s, (&addr(5).0, &addr(1).0)).expect("entry")[0];
    assert_eq!(entry.balance, Uint128::new(9_500_000));
    assert_eq!(
        validator(&s, &addr(1)).expect("v").tokens,
        Uint128::new(9_500_000)
    );
    check(&s);
    // Jailed validators leave the set.
    set_jailed(&mut s, &addr(1), true).expect("jail");
    assert_eq!(
        end_block_updates(&mut s, 1, 0).expect("u"),
        vec![PowerUpdate {
            pubkey: [1; 32],
            power: 0
        }]
    );
    check(&s);
}

/// Every key and value in the store, to show that a refused operation wrote nothing.
fn snapshot(s: &MockStorage) -> Vec<cosmwasm_std::Record> {
    s.range(None, None, Order::Ascending).collect()
}

#[test]
fn redelegation_moves_shares_at_the_exchange_rate_and_matures_by_block_time() {
    let mut s = setup(2);
    // Validator 1 loses 10% so its rate differs from validator 2's.
    slash(&mut s, &addr(1), 1, 10, Decimal::percent(10)).expect("slash");
    end_block_updates(&mut s, 1, 0).expect("u");
    delegate(&mut s, &addr(5), &addr(1), Uint128::new(9_000_000)).expect("delegate");
    let shares_before = DELEGATIONS.load(&s, (&addr(5).0, &addr(1).0)).expect("d");
    // 9 000 000 tokens at 9 000 000 tokens per 10^13 shares.
    assert_eq!(shares_before, Uint128::new(10_000_000_000_000));
    let done = begin_redelegation(
        &mut s,
        &addr(5),
        &addr(1),
        &addr(2),
        Uint128::new(4_500_000),
        7,
        1_000,
    )
    .expect("redelegate");
    assert_eq!(done, 1_000 + 21 * 24 * 3600);
    assert_eq!(
        DELEGATIONS.load(&s, (&addr(5).0, &addr(1).0)).expect("d"),
        Uint128::new(5_000_000_000_000),
        "half the shares left the source"
    );
    // Validator 2 is at 1 token : 10^6 shares.
    assert_eq!(
        DELEGATIONS.load(&s, (&addr(5).0, &addr(2).0)).expect("d"),
        Uint128::new(4_500_000_000_000)
    );
    let v1 = validator(&s, &addr(1)).expect("v1");
    let v2 = validator(&s, &addr(2)).expect("v2");
    assert_eq!(v1.tokens, Uint128::new(13_500_000));
    assert_eq!(v2.tokens, Uint128::new(14_500_000));
    let e = &REDELEGATIONS
        .load(&s, (&addr(5).0, &addr(1).0, &addr(2).0))
        .expect("entry")[0];
    assert_eq!(
        (e.creation_height, e.initial_balance, e.shares_dst),
        (7, Uint128::new(4_500_000), Uint128::new(4_500_000_000_000))
    );
    assert!(SHARES_CHANGED.has(&s, (&addr(5).0, &addr(1).0)));
    assert!(SHARES_CHANGED.has(&s, (&addr(5).0, &addr(2).0)));
    check(&s);
    let ups = end_block_updates(&mut s, 1, 0).expect("u");
    assert_eq!(ups.len(), 2, "both powers changed: {ups:?}");
    complete_unbondings(&mut s, done - 1).expect("not yet");
    assert!(REDELEGATIONS.has(&s, (&addr(5).0, &addr(1).0, &addr(2).0)));
    complete_unbondings(&mut s, done).expect("now");
    assert!(!REDELEGATIONS.has(&s, (&addr(5).0, &addr(1).0, &addr(2).0)));
    assert!(REDELEGATION_QUEUE
        .range(&s, None, None, Order::Ascending)
        .next()
        .is_none());
    check(&s);
}

#[test]
fn redelegation_between_bonded_and_unbonded_validators_moves_tokens_between_pools() {
    let mut s = setup(2);
    set_jailed(&mut s, &addr(2), true).expect("jail");
    end_block_updates(&mut s, 1, 0).expect("u");
    assert_eq!(
        validator(&s, &addr(2)).expect("v").status,
        Status::Unbonding
    );
    delegate(&mut s, &addr(5), &addr(1), Uint128::new(6_000_000)).expect("d");
    let nb = |s: &MockStorage| Bank::balance(s, &not_bonded_pool(), "uverd").expect("b");
    let b = |s: &MockStorage| Bank::balance(s, &bonded_pool(), "uverd").expect("b");
    let (nb0, b0) = (nb(&s), b(&s));
    begin_redelegation(
        &mut s,
        &addr(5),
        &addr(1),
        &addr(2),
        Uint128::new(2_000_000),
        3,
        50,
    )
    .expect("bonded → unbonding");
    assert_eq!(nb(&s), nb0 + Uint128::new(2_000_000));
    assert_eq!(b(&s), b0 - Uint128::new(2_000_000));
    check(&s);
    // And back the other way (a different delegator: no transitive redelegation).
    delegate(&mut s, &addr(6), &addr(2), Uint128::new(1_000_000)).expect("d");
    begin_redelegation(
        &mut s,
        &addr(6),
        &addr(2),
        &addr(1),
        Uint128::new(1_000_000),
        4,
        60,
    )
    .expect("unbonding → bonded");
    assert_eq!(nb(&s), nb0 + Uint128::new(2_000_000));
    assert_eq!(b(&s), b0 - Uint128::new(1_000_000));
    check(&s);
}

#[test]
fn bad_redelegations_are_refused_with_sdk_errors_and_change_nothing() {
    let mut s = setup(3);
    delegate(&mut s, &addr(5), &addr(1), Uint128::new(5_000_000)).expect("d");
    let before = snapshot(&s);
    let r = |s: &mut MockStorage, d: u8, a: u8, b: u8, amt: u128| {
        begin_redelegation(s, &addr(d), &addr(a), &addr(b), Uint128::new(amt), 9, 100)
    };
    assert_eq!(r(&mut s, 5, 1, 1, 1), Err(StakingError::SelfRedelegation));
    assert!(matches!(
        r(&mut s, 5, 9, 1, 1),
        Err(StakingError::NoValidator(_))
    ));
    assert!(matches!(
        r(&mut s, 5, 1, 9, 1),
        Err(StakingError::NoRedelegationDst(_))
    ));
    assert!(matches!(
        r(&mut s, 6, 1, 2, 1),
        Err(StakingError::NoDelegation { .. })
    ));
    assert!(matches!(
        r(&mut s, 5, 1, 2, 5_000_001),
        Err(StakingError::NotEnoughShares { .. })
    ));
    assert!(r(&mut s, 5, 1, 2, 0).is_err());
    assert_eq!(snapshot(&s), before, "refusals wrote nothing");
    // 1 → 2, then 2 → 3 is transitive while the first is immature.
    r(&mut s, 5, 1, 2, 1_000_000).expect("first hop");
    let before = snapshot(&s);
    assert_eq!(
        r(&mut s, 5, 2, 3, 500_000),
        Err(StakingError::TransitiveRedelegation)
    );
    assert_eq!(snapshot(&s), before);
    // Max entries per (delegator, src, dst).
    let max = params(&s).max_entries;
    for _ in 1..max {
        r(&mut s, 5, 1, 2, 100_000).expect("entry");
    }
    let before = snapshot(&s);
    assert_eq!(
        r(&mut s, 5, 1, 2, 100_000),
        Err(StakingError::TooManyRedelegationEntries(max))
    );
    assert_eq!(snapshot(&s), before);
    // Another destination has its own entries.
    r(&mut s, 5, 1, 3, 100_000).expect("other destination");
    check(&s);
}

#[test]
fn slashing_the_source_reaches_redelegations_made_after_the_infraction() {
    let mut s = setup(2);
    delegate(&mut s, &addr(5), &addr(1), Uint128::new(10_000_000)).expect("d");
    end_block_updates(&mut s, 1, 0).expect("u");
    // Before the infraction (height 4): not slashable for it.
    begin_redelegation(
        &mut s,
        &addr(5),
        &addr(1),
        &addr(2),
        Uint128::new(2_000_000),
        4,
        100,
    )
    .expect("old");
    // After (height 6).
    begin_redelegation(
        &mut s,
        &addr(5),
        &addr(1),
        &addr(2),
        Uint128::new(4_000_000),
        6,
        110,
    )
    .expect("new");
    end_block_updates(&mut s, 1, 0).expect("u");
    let supply0 = Bank::supply(&s, "uverd").expect("supply");
    let v2_before = validator(&s, &addr(2)).expect("v2");
    let d_before = DELEGATIONS.load(&s, (&addr(5).0, &addr(2).0)).expect("d");
    // Power 20 at height 5; 10% → 2 000 000 owed: 400 000 by the new entry, the
    // rest by validator 1's tokens.
    let burned = slash(&mut s, &addr(1), 5, 20, Decimal::percent(10)).expect("slash");
    assert_eq!(burned, Uint128::new(2_000_000));
    let v2 = validator(&s, &addr(2)).expect("v2");
    assert_eq!(v2.tokens, v2_before.tokens - Uint128::new(400_000));
    assert_eq!(
        DELEGATIONS.load(&s, (&addr(5).0, &addr(2).0)).expect("d"),
        d_before - Uint128::new(400_000_000_000),
        "10% of the new entry's destination shares were unbonded"
    );
    assert_eq!(
        validator(&s, &addr(1)).expect("v1").tokens,
        Uint128::new(14_000_000 - 1_600_000)
    );
    assert_eq!(
        Bank::supply(&s, "uverd").expect("supply"),
        supply0 - Uint128::new(2_000_000)
    );
    check(&s);
}

#[test]
fn undelegating_below_min_self_delegation_jails_the_validator() {
    let mut s = setup(1);
    edit_validator(
        &mut s,
        &addr(1),
        None,
        None,
        Some(Uint128::new(8_000_000)),
        0,
    )
    .expect("raise min self delegation");
    undelegate(&mut s, &addr(1), &addr(1), Uint128::new(2_000_000), 3, 10).expect("to the edge");
    assert!(
        !validator(&s, &addr(1)).expect("v").jailed,
        "8 000 000 left: not below"
    );
    undelegate(&mut s, &addr(1), &addr(1), Uint128::new(1), 4, 11).expect("one below");
    assert!(validator(&s, &addr(1)).expect("v").jailed);
    assert_eq!(
        self_delegation_tokens(&s, &addr(1)).expect("t"),
        Uint128::new(7_999_999)
    );
    assert_eq!(
        end_block_updates(&mut s, 1, 0).expect("u"),
        vec![PowerUpdate {
            pubkey: [1; 32],
            power: 0
        }]
    );
    check(&s);
    // Other delegators' undelegations never jail.
    let mut s = setup(1);
    delegate(&mut s, &addr(5), &addr(1), Uint128::new(1_000_000)).expect("d");
    undelegate(&mut s, &addr(5), &addr(1), Uint128::new(1_000_000), 3, 10).expect("u");
    assert!(!validator(&s, &addr(1)).expect("v").jailed);
    // Redelegating the self-delegation away jails too.
    let mut s = setup(2);
    begin_redelegation(
        &mut s,
        &addr(1),
        &addr(1),
        &addr(2),
        Uint128::new(10_000_000),
        3,
        10,
    )
    .expect("all of it");
    assert!(validator(&s, &addr(1)).expect("v").jailed);
    check(&s);
}

#[derive(Debug, Clone)]
enum Op {
    Delegate(u8, u8, u64),
    Undelegate(u8, u8, u64),
    Redelegate(u8, u8, u8, u64),
    Slash(u8, u8),
    Jail(u8, bool),
    Advance(u32),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (4u8..7, 1u8..4, 1u64..20_000_000).prop_map(|(d, v, a)| Op::Delegate(d, v, a)),
        (1u8..7, 1u8..4, 1u64..20_000_000).prop_map(|(d, v, a)| Op::Undelegate(d, v, a)),
        (1u8..7, 1u8..4, 1u8..4, 1u64..20_000_000)
            .prop_map(|(d, a, b, x)| Op::Redelegate(d, a, b, x)),
        (1u8..4, 1u8..20).prop_map(|(v, p)| Op::Slash(v, p)),
        (1u8..4, any::<bool>()).prop_map(|(v, j)| Op::Jail(v, j)),
        (1u32..3_000_000).prop_map(Op::Advance),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]
    /// Any sequence of bonding, unbonding, redelegating, slashing, jailing and time keeps the
    /// pools equal to what validators and entries hold, shares equal to
    /// delegations, and total supply equal to the sum of balances.
    #[test]
    fn invariants_hold_under_any_sequence(ops in proptest::collection::vec(op(), 1..30)) {
        let mut s = setup(3);
        let (mut height, mut now) = (1u64, 1_000i64);
        for o in ops {
            height += 1;
            let _ = match o {
                Op::Delegate(d, v, a) => delegate(&mut s, &addr(d), &addr(v), Uint128::from(a)).map(|_| ()),
                Op::Undelegate(d, v, a) => undelegate(&mut s, &addr(d), &addr(v), Uint128::from(a), height, now).map(|_| ()),
                Op::Redelegate(d, a, b, x) => {
                    // A refused redelegation must write nothing.
                    let before = snapshot(&s);
                    let r = begin_redelegation(&mut s, &addr(d), &addr(a), &addr(b), Uint128::from(x), height, now).map(|_| ());
                    if r.is_err() {
                        prop_assert_eq!(snapshot(&s), before);
                    }
                    r
                }
                Op::Slash(v, pct) => slash(&mut s, &addr(v), height.saturating_sub(3), 15, Decimal::percent(u64::from(pct))).map(|_| ()),
                Op::Jail(v, j) => set_jailed(&mut s, &addr(v), j),
                Op::Advance(secs) => { now += i64::from(secs); complete_unbondings(&mut s, now) }
            };
            end_block_updates(&mut s, 1, 0).expect("updates");
            prop_assert!(check_invariants(&s).is_ok(), "{:?}", check_invariants(&s));
            prop_assert!(verdict_bank::state::check_supply_invariant(&s).is_ok());
        }
    }
}

#[test]
fn edit_validator_limits_commission_changes_and_only_raises_min_self_delegation() {
    let mut s = setup(1);
    let day = 24 * 3600;
    edit_validator(
        &mut s,
        &addr(1),
        Some("renamed"),
        Some(Decimal::percent(6)),
        None,
        1_000,
    )
    .expect("first change");
    let v = validator(&s, &addr(1)).expect("v");
    assert_eq!(
        (v.moniker.as_str(), v.commission_rate),
        ("renamed", Decimal::percent(6))
    );
    // Within 24 h: refused.
    assert!(edit_validator(
        &mut s,
        &addr(1),
        None,
        Some(Decimal::percent(7)),
        None,
        1_000 + day - 1
    )
    .is_err());
    // More than the max change rate (1%): refused.
    assert!(edit_validator(
        &mut s,
        &addr(1),
        None,
        Some(Decimal::percent(8)),
        None,
        1_000 + day
    )
    .is_err());
    edit_validator(
        &mut s,
        &addr(1),
        None,
        Some(Decimal::percent(7)),
        None,
        1_000 + day,
    )
    .expect("after 24h");
    // Min self-delegation only goes up, and not above the self-delegation.
    assert!(edit_validator(&mut s, &addr(1), None, None, Some(Uint128::zero()), 0).is_err());
    assert!(edit_validator(
        &mut s,
        &addr(1),
        None,
        None,
        Some(Uint128::new(10_000_001)),
        0
    )
    .is_err());
    edit_validator(
        &mut s,
        &addr(1),
        None,
        None,
        Some(Uint128::new(5_000_000)),
        0,
    )
    .expect("raise");
    assert!(matches!(
        edit_validator(&mut s, &addr(9), None, None, None, 0),
        Err(StakingError::NoValidator(_))
    ));
    check(&s);
}

#[test]
fn a_slash_visits_only_its_own_validators_unbonding_entries_through_the_index() {
    let mut s = setup(2);
    delegate(&mut s, &addr(5), &addr(1), Uint128::new(4_000_000)).expect("d");
    delegate(&mut s, &addr(5), &addr(2), Uint128::new(4_000_000)).expect("d");
    undelegate(&mut s, &addr(5), &addr(1), Uint128::new(2_000_000), 8, 100).expect("u1");
    undelegate(&mut s, &addr(5), &addr(2), Uint128::new(2_000_000), 8, 100).expect("u2");
    assert!(UNBONDING_BY_VAL.has(&s, (&addr(1).0, &addr(5).0)));
    slash(&mut s, &addr(1), 5, 14, Decimal::percent(10)).expect("slash");
    let e1 = &UNBONDING.load(&s, (&addr(5).0, &addr(1).0)).expect("e1")[0];
    let e2 = &UNBONDING.load(&s, (&addr(5).0, &addr(2).0)).expect("e2")[0];
    assert_eq!(e1.balance, Uint128::new(1_800_000));
    assert_eq!(
        e2.balance,
        Uint128::new(2_000_000),
        "another validator's entry"
    );
    check(&s);
    complete_unbondings(&mut s, 100 + 21 * 24 * 3600).expect("mature");
    assert!(UNBONDING_BY_VAL
        .range(&s, None, None, Order::Ascending)
        .next()
        .is_none());
    check(&s);
}
