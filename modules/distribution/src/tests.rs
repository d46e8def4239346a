#![allow(clippy::arithmetic_side_effects)] // small known test values

use cosmwasm_std::testing::MockStorage;
use cosmwasm_std::{Decimal, Order, Storage, Uint128};
use proptest::prelude::*;
use verdict_bank::Bank;
use verdict_core::address::Addr;
use verdict_core::coin::Coin;
use verdict_staking::state as staking;

use crate::state::keys::{DELEGATION_REWARDS, VALIDATOR_REWARDS};
use crate::state::*;
use crate::DistributionError;

fn addr(i: u8) -> Addr {
    Addr([i; 20])
}

fn collector() -> Addr {
    Addr::module("fee_collector")
}

fn cons(i: u8) -> [u8; 20] {
    staking::consensus_address(&[i; 32])
}

/// Validators 1..=n with 10 VERD each at 10% commission; accounts 1..=6 funded.
fn setup(n: u8) -> MockStorage {
    let mut s = MockStorage::new();
    for i in 1..=6u8 {
        Bank::mint(&mut s, &addr(i), &[Coin::new(100_000_000, "uverd")]).expect("mint");
    }
    for i in 1..=n {
        staking::create_validator(
            &mut s,
            &addr(i),
            &[i; 32],
            Uint128::new(10_000_000),
            Decimal::percent(10),
            "v",
        )
        .expect("create");
    }
    staking::end_block_updates(&mut s, 1, 0).expect("set");
    s
}

fn fees(s: &mut MockStorage, n: u128) {
    Bank::mint(s, &collector(), &[Coin::new(n, "uverd")]).expect("fees");
}

fn vote(i: u8, power: u64) -> SignedVote {
    SignedVote {
        consensus_address: cons(i),
        power,
    }
}

fn check(s: &MockStorage) {
    check_invariants(s).expect("distribution invariants");
    staking::check_invariants(s).expect("staking invariants");
    verdict_bank::state::check_supply_invariant(s).expect("supply");
}

fn bal(s: &MockStorage, a: &Addr) -> u128 {
    Bank::balance(s, a, "uverd").expect("b").u128()
}

fn snapshot(s: &MockStorage) -> Vec<cosmwasm_std::Record> {
    s.range(None, None, Order::Ascending).collect()
}

#[test]
fn fees_go_to_signers_by_power_commission_first_then_delegators_by_shares() {
    let mut s = setup(2);
    // Validator 1: self 10 VERD + 30 VERD from account 5 (shares 1:3).
    staking::delegate(&mut s, &addr(5), &addr(1), Uint128::new(30_000_000)).expect("d");
    fees(&mut s, 100_000);
    // Validator 1 signed with power 40, validator 2 with 10; a stranger's 50
    // power counts in the total, and its share goes to the community pool.
    let stranger = SignedVote {
        consensus_address: [9; 20],
        power: 50,
    };
    allocate_fees(&mut s, &collector(), &[vote(1, 40), vote(2, 10), stranger]).expect("alloc");
    check(&s);
    assert_eq!(bal(&s, &collector()), 0);
    assert_eq!(bal(&s, &module_account()), 100_000);
    let v1 = VALIDATOR_REWARDS.load(&s, &addr(1).0).expect("v1");
    // 40% = 40 000: 4 000 commission, 36 000 to delegators.
    assert_eq!(v1.commission, Uint128::new(4_000));
    assert_eq!(v1.outstanding, Uint128::new(36_000));
    let v2 = VALIDATOR_REWARDS.load(&s, &addr(2).0).expect("v2");
    assert_eq!(
        (v2.commission, v2.outstanding),
        (Uint128::new(1_000), Uint128::new(9_000))
    );
    assert_eq!(community_pool(&s).expect("pool"), Uint128::new(50_000));
    // Account 5 holds 3/4 of validator 1's shares.
    assert_eq!(
        withdraw_delegator_reward(&mut s, &addr(5), &addr(1)).expect("w"),
        Uint128::new(27_000)
    );
    assert_eq!(
        withdraw_delegator_reward(&mut s, &addr(1), &addr(1)).expect("w"),
        Uint128::new(9_000)
    );
    assert_eq!(
        withdraw_validator_commission(&mut s, &addr(1)).expect("c"),
        Uint128::new(4_000)
    );
    assert_eq!(bal(&s, &addr(5)), 100_000_000 - 30_000_000 + 27_000);
    check(&s);
    // Nothing more to take.
    assert_eq!(
        withdraw_delegator_reward(&mut s, &addr(5), &addr(1)).expect("w"),
        Uint128::zero()
    );
    assert_eq!(
        withdraw_validator_commission(&mut s, &addr(1)),
        Err(DistributionError::NoCommission)
    );
}

#[test]
fn a_new_delegation_earns_only_from_allocations_after_it() {
    let mut s = setup(1);
    fees(&mut s, 10_000);
    allocate_fees(&mut s, &collector(), &[vote(1, 10)]).expect("a1");
    // Account 5 arrives with as much as the operator.
    staking::delegate(&mut s, &addr(5), &addr(1), Uint128::new(10_000_000)).expect("d");
    fees(&mut s, 10_000);
    allocate_fees(&mut s, &collector(), &[vote(1, 20)]).expect("a2");
    check(&s);
    // Operator: 9 000 + 4 500; newcomer: 4 500.
    assert_eq!(
        withdraw_delegator_reward(&mut s, &addr(5), &addr(1)).expect("w"),
        Uint128::new(4_500)
    );
    assert_eq!(
        withdraw_delegator_reward(&mut s, &addr(1), &addr(1)).expect("w"),
        Uint128::new(13_500)
    );
    // Undelegating keeps what was earned withdrawable.
    fees(&mut s, 10_000);
    allocate_fees(&mut s, &collector(), &[vote(1, 20)]).expect("a3");
    staking::undelegate(&mut s, &addr(5), &addr(1), Uint128::new(10_000_000), 9, 100)
        .expect("undelegate all");
    fees(&mut s, 10_000);
    allocate_fees(&mut s, &collector(), &[vote(1, 10)]).expect("a4");
    assert_eq!(
        withdraw_delegator_reward(&mut s, &addr(5), &addr(1)).expect("w"),
        Uint128::new(4_500),
        "a3 only"
    );
    check(&s);
    assert!(!DELEGATION_REWARDS.has(&s, (&addr(5).0, &addr(1).0)));
}

#[test]
fn slashing_keeps_per_share_rewards_and_redelegation_moves_the_earning_shares() {
    let mut s = setup(2);
    staking::delegate(&mut s, &addr(5), &addr(1), Uint128::new(10_000_000)).expect("d");
    staking::slash(&mut s, &addr(1), 1, 20, Decimal::percent(50)).expect("slash");
    fees(&mut s, 20_000);
    allocate_fees(&mut s, &collector(), &[vote(1, 10)]).expect("a");
    // Shares unchanged by the slash: still half each of 18 000.
    assert_eq!(
        withdraw_delegator_reward(&mut s, &addr(5), &addr(1)).expect("w"),
        Uint128::new(9_000)
    );
    // Redelegate to 2, then the source's slash unbonds part of the moved shares.
    staking::begin_redelegation(
        &mut s,
        &addr(5),
        &addr(1),
        &addr(2),
        Uint128::new(5_000_000),
        10,
        100,
    )
    .expect("redelegate");
    staking::slash(&mut s, &addr(1), 9, 10, Decimal::percent(10)).expect("slash again");
    check(&s);
    fees(&mut s, 30_000);
    allocate_fees(&mut s, &collector(), &[vote(1, 5), vote(2, 15)]).expect("a");
    check(&s);
    let shares = |s: &MockStorage, d: u8, v: u8| {
        staking::delegation_shares(s, &addr(d).0, &addr(v).0)
            .expect("d")
            .unwrap_or_default()
    };
    assert_eq!(
        DELEGATION_REWARDS
            .load(&s, (&addr(5).0, &addr(2).0))
            .expect("r")
            .shares,
        shares(&s, 5, 2),
        "the slash's share change was settled before the allocation"
    );
}

#[test]
fn allocate_to_validator_is_how_other_modules_pay_a_validator() {
    let mut s = setup(1);
    pay_validator(&mut s, &addr(6), &addr(1), &[Coin::new(1_000, "uverd")]).expect("pay");
    check(&s);
    assert_eq!(
        VALIDATOR_REWARDS
            .load(&s, &addr(1).0)
            .expect("v")
            .commission,
        Uint128::new(100)
    );
    let before = snapshot(&s);
    assert!(matches!(
        pay_validator(&mut s, &addr(6), &addr(9), &[Coin::new(1, "uverd")]),
        Err(DistributionError::NoValidator(_))
    ));
    assert!(allocate_to_validator(&mut s, &addr(1), &[Coin::new(1, "uatom")]).is_err());
    assert_eq!(snapshot(&s), before);
}

#[test]
fn truncation_dust_goes_to_the_community_pool() {
    let mut s = setup(1);
    // Three delegations with awkward share counts.
    staking::delegate(&mut s, &addr(4), &addr(1), Uint128::new(3)).expect("d");
    staking::delegate(&mut s, &addr(5), &addr(1), Uint128::new(7)).expect("d");
    for _ in 0..5 {
        fees(&mut s, 7);
        allocate_fees(&mut s, &collector(), &[vote(1, 10)]).expect("a");
        check(&s);
    }
    let mut paid = 0;
    for d in [1u8, 4, 5] {
        paid += withdraw_delegator_reward(&mut s, &addr(d), &addr(1))
            .expect("w")
            .u128();
    }
    let vr = VALIDATOR_REWARDS.load(&s, &addr(1).0).expect("v");
    let pool = community_pool(&s).expect("p").u128();
    assert_eq!(
        paid + vr.outstanding.u128() + vr.commission.u128() + pool,
        35
    );
    check(&s);
}

#[test]
fn withdrawing_without_a_delegation_is_refused_and_changes_nothing() {
    let mut s = setup(1);
    let before = snapshot(&s);
    assert!(matches!(
        withdraw_delegator_reward(&mut s, &addr(5), &addr(1)),
        Err(DistributionError::NoDelegation { .. })
    ));
    assert!(matches!(
        withdraw_delegator_reward(&mut s, &addr(5), &addr(9)),
        Err(DistributionError::NoValidator(_))
    ));
    assert_eq!(snapshot(&s), before);
}

#[derive(Debug, Clone)]
enum Op {
    Delegate(u8, u8, u64),
    Undelegate(u8, u8, u64),
    Redelegate(u8, u8, u8, u64),
    Slash(u8, u8),
    Fees(u32, [u8; 3]),
    Withdraw(u8, u8),
    Commission(u8),
    Advance(u32),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (1u8..7, 1u8..4, 1u64..20_000_000).prop_map(|(d, v, a)| Op::Delegate(d, v, a)),
        (1u8..7, 1u8..4, 1u64..20_000_000).prop_map(|(d, v, a)| Op::Undelegate(d, v, a)),
        (1u8..7, 1u8..4, 1u8..4, 1u64..20_000_000)
            .prop_map(|(d, a, b, x)| Op::Redelegate(d, a, b, x)),
        (1u8..4, 1u8..30).prop_map(|(v, p)| Op::Slash(v, p)),
        (1u32..1_000_000, any::<[u8; 3]>()).prop_map(|(f, p)| Op::Fees(f, p)),
        (1u8..7, 1u8..4).prop_map(|(d, v)| Op::Withdraw(d, v)),
        (1u8..4).prop_map(Op::Commission),
        (1u32..3_000_000).prop_map(Op::Advance),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    /// Any sequence of staking changes, slashes, fee allocations and withdrawals
    /// keeps the distribution books exact (module balance = outstanding +
    /// commission + community pool), recorded shares in step with staking, and
    /// total supply exact; withdrawals never fail for lack of funds.
    #[test]
    fn books_stay_exact_under_any_sequence(ops in proptest::collection::vec(op(), 1..40)) {
        let mut s = setup(3);
        let (mut height, mut now) = (1u64, 1_000i64);
        let mut allocated = 0u128;
        let mut withdrawn = 0u128;
        for o in ops {
            height += 1;
            match o {
                Op::Delegate(d, v, a) => { let _ = staking::delegate(&mut s, &addr(d), &addr(v), Uint128::from(a)); }
                Op::Undelegate(d, v, a) => { let _ = staking::undelegate(&mut s, &addr(d), &addr(v), Uint128::from(a), height, now); }
                Op::Redelegate(d, a, b, x) => { let _ = staking::begin_redelegation(&mut s, &addr(d), &addr(a), &addr(b), Uint128::from(x), height, now); }
                Op::Slash(v, pct) => { let _ = staking::slash(&mut s, &addr(v), height.saturating_sub(3), 15, Decimal::percent(u64::from(pct))); }
                Op::Fees(f, p) => {
                    fees(&mut s, u128::from(f));
                    allocated += u128::from(f);
                    let votes: Vec<SignedVote> = (0..3u8).map(|i| vote(i + 1, u64::from(p[i as usize]))).collect();
                    allocate_fees(&mut s, &collector(), &votes).expect("allocation never fails");
                }
                Op::Withdraw(d, v) => {
                    if let Ok(n) = withdraw_delegator_reward(&mut s, &addr(d), &addr(v)) { withdrawn += n.u128(); }
                }
                Op::Commission(v) => {
                    match withdraw_validator_commission(&mut s, &addr(v)) {
                        Ok(n) => withdrawn += n.u128(),
                        Err(e) => prop_assert_eq!(e, DistributionError::NoCommission),
                    }
                }
                Op::Advance(secs) => { now += i64::from(secs); staking::complete_unbondings(&mut s, now).expect("mature"); }
            }
            staking::end_block_updates(&mut s, 1, 0).expect("updates");
            prop_assert!(check_invariants(&s).is_ok(), "{:?}", check_invariants(&s));
            prop_assert!(staking::check_invariants(&s).is_ok(), "{:?}", staking::check_invariants(&s));
            prop_assert!(verdict_bank::state::check_supply_invariant(&s).is_ok());
            prop_assert_eq!(bal(&s, &module_account()) + withdrawn, allocated);
        }
        // Everyone can take out everything they earned.
        drain_share_changes(&mut s).expect("drain");
        let keys: Vec<(Vec<u8>, Vec<u8>)> = DELEGATION_REWARDS
            .keys(&s, None, None, Order::Ascending)
            .collect::<Result<_, _>>()
            .expect("keys");
        for (d, v) in keys {
            let (d, v) = (Addr::from_slice(&d).expect("a"), Addr::from_slice(&v).expect("a"));
            withdraw_delegator_reward(&mut s, &d, &v).expect("withdraw");
        }
        prop_assert!(check_invariants(&s).is_ok());
    }
}

/// Security review H-4: a validator that left the set and lost its last
/// delegation is removed from staking; what it and its delegators earned
/// before stays theirs to withdraw.
#[test]
fn rewards_and_commission_earned_before_a_validator_is_removed_can_still_be_withdrawn() {
    let mut s = setup(2);
    staking::delegate(&mut s, &addr(5), &addr(2), Uint128::new(10_000_000)).expect("d");
    fees(&mut s, 100_000);
    allocate_fees(&mut s, &collector(), &[vote(1, 10), vote(2, 20)]).expect("fees");
    // Validator 2 leaves: jailed, out of the set, unbonded after the unbonding
    // time, and removed when its two delegators have left.
    staking::set_jailed(&mut s, &addr(2), true).expect("jail");
    staking::end_block_updates(&mut s, 2, 10).expect("u");
    let u = i64::try_from(staking::params(&s).unbonding_time_seconds).expect("u");
    staking::end_block_updates(&mut s, 3, 10 + u).expect("u");
    for d in [2u8, 5] {
        let shares = staking::delegation_shares(&s, &addr(d).0, &addr(2).0)
            .expect("read")
            .expect("delegation");
        let v = staking::validator(&s, &addr(2)).expect("v");
        let tokens = staking::tokens_of_shares(&v, shares).expect("t");
        staking::undelegate(&mut s, &addr(d), &addr(2), tokens, 4, 11 + u).expect("leave");
    }
    assert!(staking::find_validator(&s, &addr(2).0)
        .expect("read")
        .is_none());
    check(&s);

    let before = bal(&s, &addr(5));
    let paid = withdraw_delegator_reward(&mut s, &addr(5), &addr(2)).expect("delegator");
    assert!(paid.u128() > 0);
    assert_eq!(bal(&s, &addr(5)), before + paid.u128());
    let paid = withdraw_validator_commission(&mut s, &addr(2)).expect("commission");
    assert!(paid.u128() > 0);
    check(&s);
    // A validator that never existed is still unknown.
    assert!(matches!(
        withdraw_validator_commission(&mut s, &addr(6)),
        Err(DistributionError::NoValidator(_))
    ));
}
