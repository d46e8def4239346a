#![allow(clippy::arithmetic_side_effects)] // test arithmetic on small known values
use super::*;
use cosmwasm_std::testing::MockStorage;
use proptest::prelude::*;

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
    end_block_updates(&mut s).expect("updates");
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
    let ups = end_block_updates(&mut s).expect("updates");
    assert_eq!(
        ups,
        vec![PowerUpdate {
            pubkey: [1; 32],
            power: 7
        }]
    );
    assert_eq!(validator(&s, &addr(1)).expect("v").status, Status::Bonded);
    assert!(
        end_block_updates(&mut s).expect("again").is_empty(),
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
    assert_eq!(end_block_updates(&mut s).expect("u")[0].power, 13);
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
    assert_eq!(end_block_updates(&mut s).expect("u")[0].power, 12);
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
    end_block_updates(&mut s).expect("u");
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
        end_block_updates(&mut s).expect("u"),
        vec![PowerUpdate {
            pubkey: [1; 32],
            power: 0
        }]
    );
    check(&s);
}

#[derive(Debug, Clone)]
enum Op {
    Delegate(u8, u8, u64),
    Undelegate(u8, u8, u64),
    Slash(u8, u8),
    Jail(u8, bool),
    Advance(u32),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (4u8..7, 1u8..4, 1u64..20_000_000).prop_map(|(d, v, a)| Op::Delegate(d, v, a)),
        (1u8..7, 1u8..4, 1u64..20_000_000).prop_map(|(d, v, a)| Op::Undelegate(d, v, a)),
        (1u8..4, 1u8..20).prop_map(|(v, p)| Op::Slash(v, p)),
        (1u8..4, any::<bool>()).prop_map(|(v, j)| Op::Jail(v, j)),
        (1u32..3_000_000).prop_map(Op::Advance),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]
    /// Any sequence of bonding, unbonding, slashing, jailing and time keeps the
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
                Op::Slash(v, pct) => slash(&mut s, &addr(v), height.saturating_sub(3), 15, Decimal::percent(u64::from(pct))).map(|_| ()),
                Op::Jail(v, j) => set_jailed(&mut s, &addr(v), j),
                Op::Advance(secs) => { now += i64::from(secs); complete_unbondings(&mut s, now) }
            };
            end_block_updates(&mut s).expect("updates");
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
