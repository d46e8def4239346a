//! A block in flight (committed, not yet on disk) reads as it will once it is
//! on disk; the next block hashes the same over it; and a crash that loses it
//! leaves the store one height back, from where the same block gives the same
//! app hash again (what CometBFT's handshake replay does).

use super::tests::{dump, small_key, small_pruning};
use super::*;
use proptest::prelude::*;

const KEYS: u8 = 24;
const IBC_FROM: u8 = 16;

fn overlay(block: &BTreeMap<u8, Option<u8>>) -> Overlay {
    block
        .iter()
        .map(|(k, v)| (small_key(*k, IBC_FROM), v.map(|v| vec![v])))
        .collect()
}

/// Everything a reader can ask of the latest height `h` and the one before.
fn observe(s: &Store, h: u64) -> Vec<String> {
    let mut out = vec![
        format!("{:?}", s.height()),
        format!("{:?}", s.last_app_hash()),
        format!("{:?}", s.app_hash_at(h)),
    ];
    for k in 0..KEYS {
        let key = small_key(k, IBC_FROM);
        out.push(format!("{:?}", s.get(&key)));
        for at in [h, h.saturating_sub(1)] {
            match key.strip_prefix(verdict_ibc::FLAT_PREFIX) {
                Some(path) => {
                    out.push(format!("{:?}", s.get_ibc_at(path, at)));
                    out.push(format!("{:?}", s.get_ibc_with_proof(path, at).map(|p| p.0)));
                }
                None => {
                    out.push(format!("{:?}", s.get_at(&key, at)));
                    out.push(format!("{:?}", s.get_with_proof(&key, at)));
                }
            }
        }
    }
    let (lo, hi) = (small_key(4, IBC_FROM), small_key(20, IBC_FROM));
    for descending in [false, true] {
        out.push(format!(
            "{:?}",
            s.range_latest(None, None, descending).collect::<Vec<_>>()
        ));
        out.push(format!(
            "{:?}",
            s.range_latest(Some(&lo), Some(&hi), descending)
                .collect::<Vec<_>>()
        ));
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    #[test]
    fn a_block_in_flight_reads_and_hashes_as_it_does_on_disk(
        blocks in proptest::collection::vec(
            proptest::collection::btree_map(0u8..KEYS, proptest::option::weighted(0.7, 0u8..3), 1..12),
            2..12,
        ),
    ) {
        let (d1, d2) = (tempfile::tempdir().expect("tmp"), tempfile::tempdir().expect("tmp"));
        // `flying` keeps each block in flight until the next one is prepared
        // and read; `landed` writes each one before going on.
        let flying = Store::open(d1.path()).expect("open").with_pruning(small_pruning());
        let landed = Store::open(d2.path()).expect("open").with_pruning(small_pruning());
        for (i, block) in blocks.iter().enumerate() {
            let h = i as u64 + 1;
            if h > 1 {
                prop_assert_eq!(flying.writer.flight().is_some(), h > 2, "block {} in flight", h - 1);
                let (a, b) = (observe(&flying, h - 1), observe(&landed, h - 1));
                for (x, y) in a.iter().zip(&b) {
                    prop_assert_eq!(x, y, "in flight against on disk, height {}", h - 1);
                }
            }
            let pa = flying.prepare_commit(h, overlay(block)).expect("prepare");
            let pb = landed.prepare_commit(h, overlay(block)).expect("prepare");
            prop_assert_eq!(pa.app_hash, pb.app_hash, "hashed over a block in flight, height {}", h);
            flying.writer.hold(false);
            flying.sync().expect("sync");
            // (A store's first commit waits for its write: never held.)
            flying.writer.hold(h > 1);
            flying.commit(pa).expect("commit");
            landed.commit(pb).expect("commit");
            landed.sync().expect("sync");
        }
        flying.writer.hold(false);
        let (a, b) = (dump(&flying), dump(&landed));
        prop_assert!(a == b, "different bytes on disk");
    }
}

#[test]
fn a_crash_with_a_block_in_flight_reopens_one_height_back_and_the_block_hashes_the_same_again() {
    let d = tempfile::tempdir().expect("tmp");
    let block = |h: u8| -> Overlay { overlay(&(0..KEYS).map(|k| (k, Some(h ^ k))).collect()) };
    let (hash, seen) = {
        let s = Store::open(d.path()).expect("open");
        for h in 1..=3u8 {
            s.commit(s.prepare_commit(h.into(), block(h)).expect("prep"))
                .expect("commit");
        }
        s.sync().expect("sync");
        s.writer.hold(true);
        let hash = s
            .commit(s.prepare_commit(4, block(4)).expect("prep"))
            .expect("commit");
        assert_eq!(s.height().expect("height"), 4);
        let seen = observe(&s, 4);
        // The process dies before the writer gets to block 4.
        s.writer.discard();
        (hash, seen)
    };
    let s = Store::open(d.path()).expect("reopen");
    assert_eq!(
        s.height().expect("height"),
        3,
        "the lost block is not on disk"
    );
    assert_ne!(s.last_app_hash().expect("hash"), hash);
    let again = s
        .commit(s.prepare_commit(4, block(4)).expect("prep"))
        .expect("commit");
    assert_eq!(again, hash, "the replayed block hashes the same");
    s.sync().expect("sync");
    assert_eq!(observe(&s, 4), seen, "and reads the same once on disk");
}

#[test]
fn ranges_over_a_block_in_flight_merge_in_both_directions() {
    let base = vec![(vec![1], vec![1]), (vec![3], vec![3]), (vec![5], vec![5])];
    let over = vec![
        (vec![0], Some(vec![0])),
        (vec![3], None),
        (vec![4], Some(vec![4])),
        (vec![5], Some(vec![50])),
        (vec![6], None),
    ];
    let up: Vec<_> = flight::merged(base.clone().into_iter(), over.clone(), false).collect();
    let want = vec![
        (vec![0], vec![0]),
        (vec![1], vec![1]),
        (vec![4], vec![4]),
        (vec![5], vec![50]),
    ];
    assert_eq!(up, want);
    let down: Vec<_> = flight::merged(base.into_iter().rev(), over, true).collect();
    assert_eq!(down, want.into_iter().rev().collect::<Vec<_>>());
}
