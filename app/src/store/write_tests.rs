//! What a commit writes does not depend on what the store holds in memory:
//! a store kept open (its caches warm) and one reopened before every commit
//! (caches cold: every answer read from disk) end with the same bytes on disk,
//! pruning included.

use super::tests::{dump, small_key, small_pruning};
use super::*;
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    #[test]
    fn warm_and_cold_stores_write_the_same_bytes(
        blocks in proptest::collection::vec(
            // Keys 0..16 are app keys, 16..24 IBC paths; a few values, some deletions.
            proptest::collection::btree_map(0u8..24, proptest::option::weighted(0.7, 0u8..3), 1..12),
            1..14,
        ),
    ) {
        let (d1, d2) = (tempfile::tempdir().expect("tmp"), tempfile::tempdir().expect("tmp"));
        let warm = Store::open(d1.path()).expect("open").with_pruning(small_pruning());
        for (i, block) in blocks.iter().enumerate() {
            let h = i as u64 + 1;
            let ov: Overlay = block.iter().map(|(k, v)| (small_key(*k, 16), v.map(|v| vec![v]))).collect();
            let a = warm.commit(warm.prepare_commit(h, ov.clone()).expect("prepare")).expect("commit");
            let cold = Store::open(d2.path()).expect("open").with_pruning(small_pruning());
            let b = cold.commit(cold.prepare_commit(h, ov).expect("prepare")).expect("commit");
            prop_assert_eq!(a, b);
            drop(cold);
        }
        let cold = Store::open(d2.path()).expect("open");
        let (a, b) = (dump(&warm), dump(&cold));
        let only_a: Vec<_> = a.iter().filter(|e| !b.contains(e)).collect();
        let only_b: Vec<_> = b.iter().filter(|e| !a.contains(e)).collect();
        prop_assert!(only_a.is_empty() && only_b.is_empty(), "warm only {:?}\ncold only {:?}", only_a, only_b);
    }
}
