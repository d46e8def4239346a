//! The active set's cost (security review H-4): EndBlock reads the top
//! `max_validators` of the power index and the validators CometBFT was last
//! told about, never every validator ever created.

use std::cell::Cell;

use cosmwasm_std::testing::MockStorage;
use cosmwasm_std::{Decimal, Order, Record, Storage, Uint128};
use verdict_bank::Bank;
use verdict_core::address::Addr;
use verdict_core::coin::Coin;

use super::keys::PARAMS;
use super::*;

/// Counts the entries read (gets and range items) through it.
struct Counting<'a> {
    inner: &'a mut MockStorage,
    reads: Cell<usize>,
}

impl Storage for Counting<'_> {
    fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        self.reads.set(self.reads.get().saturating_add(1));
        self.inner.get(key)
    }
    fn range<'a>(
        &'a self,
        start: Option<&[u8]>,
        end: Option<&[u8]>,
        order: Order,
    ) -> Box<dyn Iterator<Item = Record> + 'a> {
        Box::new(
            self.inner
                .range(start, end, order)
                .inspect(|_| self.reads.set(self.reads.get().saturating_add(1))),
        )
    }
    fn set(&mut self, key: &[u8], value: &[u8]) {
        self.inner.set(key, value)
    }
    fn remove(&mut self, key: &[u8]) {
        self.inner.remove(key)
    }
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
    let first = end_block_updates(&mut s).expect("updates");
    assert_eq!(first.len(), 3, "the three big unjailed validators join");
    let bonded: Vec<_> = bonded_validators(&s)
        .expect("bonded")
        .iter()
        .map(|v| v.operator)
        .collect();
    assert_eq!(bonded, vec![operator(0).0, operator(1).0, operator(2).0]);

    // A block in which the smallest of the set loses to a newcomer.
    Bank::mint(&mut s, &operator(200), &[Coin::new(60_000_000, "uverd")]).expect("mint");
    delegate(
        &mut s,
        &operator(200),
        &operator(200),
        Uint128::new(60_000_000),
    )
    .expect("delegate");
    let mut counting = Counting {
        inner: &mut s,
        reads: Cell::new(0),
    };
    let updates = end_block_updates(&mut counting).expect("updates");
    let reads = counting.reads.get();
    assert_eq!(updates.len(), 2, "one in, one out: {updates:?}");
    assert!(
        reads < 60,
        "EndBlock read {reads} entries for an active set of 3 among 304 validators"
    );
    let bonded: Vec<_> = bonded_validators(&s)
        .expect("bonded")
        .iter()
        .map(|v| v.operator)
        .collect();
    assert_eq!(bonded, vec![operator(1).0, operator(2).0, operator(200).0]);
    check_invariants(&s).expect("invariants, the power index among them");
}
