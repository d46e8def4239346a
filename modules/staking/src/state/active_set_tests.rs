//! The active set's cost (security review H-4): EndBlock reads the top
//! `max_validators` of the power index and the validators CometBFT was last
//! told about, never every validator ever created.

use cosmwasm_std::testing::MockStorage;
use cosmwasm_std::{Decimal, Uint128};
use verdict_bank::Bank;
use verdict_core::address::Addr;
use verdict_core::coin::Coin;
use verdict_core::storage::Counting;

use super::keys::PARAMS;
use super::*;

fn bonded_operators(s: &MockStorage) -> Vec<Addr20> {
    let bonded = bonded_validators(s).expect("bonded");
    bonded.iter().map(|v| v.operator).collect()
}

fn operator(i: u16) -> Addr {
    let mut a = [0u8; 20];
    a[..2].copy_from_slice(&i.to_be_bytes());
    Addr(a)
}

fn key(i: u16) -> [u8; 32] {
    let mut k = [7u8; 32];
    k[..2].copy_from_slice(&i.to_be_bytes());
    k
}

#[test]
fn end_block_reads_follow_the_active_set_not_every_validator() {
    let mut s = MockStorage::new();
    let mut p = params(&s);
    p.max_validators = 3;
    PARAMS.save(&mut s, &p).expect("params");
    // 3 big validators, then 300 that meet the minimum self-bond but never
    // make the set, and one jailed big one.
    for i in 0..304u16 {
        let stake = if i < 3 || i == 303 {
            50_000_000 + u128::from(i)
        } else {
            1_000_000
        };
        Bank::mint(&mut s, &operator(i), &[Coin::new(stake, "uverd")]).expect("mint");
        create_validator(
            &mut s,
            &operator(i),
            &key(i),
            Uint128::new(stake),
            Decimal::percent(5),
            "v",
        )
        .expect("create");
    }
    set_jailed(&mut s, &operator(303), true).expect("jail");
    let first = end_block_updates(&mut s, 1, 0).expect("updates");
    assert_eq!(first.len(), 3, "the three big unjailed validators join");
    assert_eq!(
        bonded_operators(&s),
        vec![operator(0).0, operator(1).0, operator(2).0]
    );

    // A block in which the smallest of the set loses to a newcomer.
    Bank::mint(&mut s, &operator(200), &[Coin::new(60_000_000, "uverd")]).expect("mint");
    delegate(
        &mut s,
        &operator(200),
        &operator(200),
        Uint128::new(60_000_000),
    )
    .expect("delegate");
    let mut counting = Counting::new(s);
    let updates = end_block_updates(&mut counting, 1, 0).expect("updates");
    let reads = counting.reads.get();
    let s = counting.inner;
    assert_eq!(updates.len(), 2, "one in, one out: {updates:?}");
    assert!(
        reads < 60,
        "EndBlock read {reads} entries for an active set of 3 among 304 validators"
    );
    assert_eq!(
        bonded_operators(&s),
        vec![operator(1).0, operator(2).0, operator(200).0]
    );
    check_invariants(&s).expect("invariants, the power index among them");
}
