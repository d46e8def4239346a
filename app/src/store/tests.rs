use super::*;
use cosmwasm_std::{Order, Storage};
use proptest::prelude::*;

fn changes(kvs: &[(&str, Option<&str>)]) -> Overlay {
    kvs.iter()
        .map(|(k, v)| (k.as_bytes().to_vec(), v.map(|v| v.as_bytes().to_vec())))
        .collect()
}

/// Everything in the state tree, in order.
pub(super) fn dump(s: &Store) -> Vec<(Vec<u8>, Vec<u8>)> {
    s.disk()
        .iter()
        .map(|item| {
            let (k, v) = item.expect("read");
            (k.to_vec(), v.to_vec())
        })
        .collect()
}

impl Store {
    /// The store, once every committed block is on disk and pruned.
    pub(super) fn synced(&self) -> &Self {
        self.sync().expect("committed blocks written");
        self
    }

    /// The sled tree, once every committed block is on it.
    pub(super) fn disk(&self) -> &sled::Tree {
        self.sync().expect("committed blocks written");
        &self.tree
    }
}

/// The pruning the proptests run under: keep 3 versions, prune every 2 blocks.
pub(super) fn small_pruning() -> Pruning {
    Pruning::named("custom", 3, 2).expect("custom")
}

/// A proptest's one-byte key as a flat key: an app key below `ibc_from`, an
/// IBC path (`ibc/…`, the `ibc` sub-store) from there on.
pub(super) fn small_key(k: u8, ibc_from: u8) -> Vec<u8> {
    if k < ibc_from {
        vec![b'k', k]
    } else {
        [verdict_ibc::FLAT_PREFIX, &[k]].concat()
    }
}

fn commit(store: &Store, h: u64, kvs: &[(&str, Option<&str>)]) -> AppHash {
    let p = store.prepare_commit(h, changes(kvs)).expect("prepare");
    store.commit(p).expect("commit")
}

#[test]
fn commit_and_reload_keeps_height_hash_and_values() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (h1, h2) = {
        let s = Store::open(dir.path()).expect("open");
        let h1 = commit(&s, 1, &[("a", Some("1")), ("b", Some("2"))]);
        let h2 = commit(&s, 2, &[("a", Some("3")), ("b", None)]);
        (h1, h2)
    };
    let s = Store::open(dir.path()).expect("reopen");
    assert_eq!(s.height().expect("h"), 2);
    assert_eq!(s.last_app_hash().expect("hash"), h2);
    assert_eq!(s.app_hash_at(1).expect("hash"), Some(h1));
    assert_ne!(h1, h2);
    assert_eq!(s.get(b"a").expect("get"), Some(b"3".to_vec()));
    assert_eq!(s.get(b"b").expect("get"), None);
    // Versioned reads see history.
    assert_eq!(s.get_at(b"a", 1).expect("get"), Some(b"1".to_vec()));
    assert_eq!(s.get_at(b"b", 1).expect("get"), Some(b"2".to_vec()));
    assert_eq!(s.get_at(b"b", 2).expect("get"), None);
    assert!(matches!(
        s.get_at(b"a", 3),
        Err(StoreError::NoSuchHeight { .. })
    ));
}

#[test]
fn same_changes_give_same_app_hash_in_any_store() {
    let d1 = tempfile::tempdir().expect("tempdir");
    let d2 = tempfile::tempdir().expect("tempdir");
    let s1 = Store::open(d1.path()).expect("open");
    let s2 = Store::open(d2.path()).expect("open");
    let a = commit(&s1, 1, &[("x", Some("1")), ("y", Some("2"))]);
    let b = commit(&s2, 1, &[("y", Some("2")), ("x", Some("1"))]);
    assert_eq!(a, b);
}

#[test]
fn proofs_verify_against_the_app_hash_of_their_height_and_fail_when_tampered() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = Store::open(dir.path()).expect("open");
    let h1 = commit(
        &s,
        1,
        &[("k1", Some("v1")), ("k2", Some("v2")), ("k3", Some("v3"))],
    );
    let h2 = commit(&s, 2, &[("k1", Some("new")), ("k4", Some("v4"))]);

    let (v, proof) = s.get_with_proof(b"k1", 1).expect("proof");
    assert_eq!(v.as_deref(), Some(&b"v1"[..]));
    assert!(verify_proof(&h1, &proof, b"k1", Some(b"v1")));
    assert!(!verify_proof(&h2, &proof, b"k1", Some(b"v1")), "wrong root");
    assert!(
        !verify_proof(&h1, &proof, b"k1", Some(b"v2")),
        "wrong value"
    );

    let (v, proof) = s.get_with_proof(b"k1", 2).expect("proof");
    assert_eq!(v.as_deref(), Some(&b"new"[..]));
    assert!(verify_proof(&h2, &proof, b"k1", Some(b"new")));

    // Tamper with the proof bytes: flip one bit in the leaf's value hash path.
    if let Some(ics23::commitment_proof::Proof::Exist(mut ex)) = proof.proof.clone() {
        ex.value[0] ^= 1;
        let bad = ics23::CommitmentProof {
            proof: Some(ics23::commitment_proof::Proof::Exist(ex)),
        };
        assert!(!verify_proof(&h2, &bad, b"k1", Some(b"new")));
    } else {
        panic!("expected an existence proof");
    }

    // Absence is provable too.
    let (v, proof) = s.get_with_proof(b"missing", 2).expect("proof");
    assert!(v.is_none());
    assert!(verify_proof(&h2, &proof, b"missing", None));
    assert!(!verify_proof(&h2, &proof, b"k1", None));
}

#[test]
fn an_uncommitted_block_leaves_the_previous_version_intact() {
    let dir = tempfile::tempdir().expect("tempdir");
    let h1 = {
        let s = Store::open(dir.path()).expect("open");
        let h1 = commit(&s, 1, &[("a", Some("1"))]);
        // FinalizeBlock computed height 2, then the process died before Commit.
        let pending = s
            .prepare_commit(2, changes(&[("a", Some("2")), ("b", Some("x"))]))
            .expect("prepare");
        assert_ne!(pending.app_hash, h1);
        drop(pending);
        h1
    };
    let s = Store::open(dir.path()).expect("reopen");
    assert_eq!(s.height().expect("h"), 1);
    assert_eq!(s.last_app_hash().expect("hash"), h1);
    assert_eq!(s.get(b"a").expect("get"), Some(b"1".to_vec()));
    assert_eq!(s.get(b"b").expect("get"), None);
    // And the same block can be applied again, giving the same hash as before.
    let again = commit(&s, 2, &[("a", Some("2")), ("b", Some("x"))]);
    assert_eq!(s.app_hash_at(2).expect("h"), Some(again));
}

#[test]
fn out_of_order_commits_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = Store::open(dir.path()).expect("open");
    commit(&s, 1, &[("a", Some("1"))]);
    assert!(matches!(
        s.prepare_commit(3, changes(&[("a", Some("2"))])),
        Err(StoreError::OutOfOrder { .. })
    ));
}

#[test]
fn a_second_process_on_the_same_directory_gets_a_clear_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let _s = Store::open(dir.path()).expect("open");
    match Store::open(dir.path()) {
        Err(e @ StoreError::Locked { .. }) => {
            assert!(e.to_string().contains("in use by another process"))
        }
        Err(e) => panic!("unexpected error {e}"),
        Ok(_) => panic!("second open succeeded"),
    }
}

#[test]
fn a_corrupt_database_is_reported_not_used() {
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let s = Store::open(dir.path()).expect("open");
        commit(&s, 1, &[("a", Some("1"))]);
    }
    // Damage the committed record of the app hash.
    {
        let db = open_sled(&dir.path().join("db")).expect("raw open");
        let t = db.open_tree("state").expect("tree");
        t.insert(app_hash_key(1), &[7u8; 32][..]).expect("insert");
        db.flush().expect("flush");
    }
    match Store::open(dir.path()) {
        Err(StoreError::Inconsistent { what, .. }) => assert!(what.contains("height 1")),
        Err(e) => panic!("unexpected error {e}"),
        Ok(_) => panic!("corrupt store opened"),
    }
}

#[test]
fn view_range_merges_overlay_over_committed_state_in_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = Store::open(dir.path()).expect("open");
    commit(
        &s,
        1,
        &[("a", Some("1")), ("c", Some("3")), ("e", Some("5"))],
    );
    let mut ov = changes(&[
        ("b", Some("2")),
        ("c", None),
        ("d", Some("4")),
        ("e", Some("55")),
    ]);
    let view = StateView::new(&s, &mut ov);
    let asc: Vec<_> = view.range(None, None, Order::Ascending).collect();
    let expect = vec![
        (b"a".to_vec(), b"1".to_vec()),
        (b"b".to_vec(), b"2".to_vec()),
        (b"d".to_vec(), b"4".to_vec()),
        (b"e".to_vec(), b"55".to_vec()),
    ];
    assert_eq!(asc, expect);
    let desc: Vec<_> = view
        .range(Some(b"b"), Some(b"e"), Order::Descending)
        .collect();
    assert_eq!(
        desc,
        vec![
            (b"d".to_vec(), b"4".to_vec()),
            (b"b".to_vec(), b"2".to_vec())
        ]
    );
    assert_eq!(view.get(b"c"), None);
    assert_eq!(view.get(b"a"), Some(b"1".to_vec()));
}

#[test]
fn cw_storage_plus_maps_work_over_the_view() {
    use cw_storage_plus::{Item, Map};
    const COUNT: Item<u64> = Item::new("count");
    const NAMES: Map<&str, u32> = Map::new("names");
    let dir = tempfile::tempdir().expect("tempdir");
    let s = Store::open(dir.path()).expect("open");
    let mut ov = Overlay::new();
    {
        let mut view = StateView::new(&s, &mut ov);
        COUNT.save(&mut view, &7).expect("save");
        NAMES.save(&mut view, "zed", &3).expect("save");
        NAMES.save(&mut view, "amy", &1).expect("save");
    }
    let p = s.prepare_commit(1, ov).expect("prepare");
    s.commit(p).expect("commit");
    let mut ov = Overlay::new();
    let mut view = StateView::new(&s, &mut ov);
    NAMES.save(&mut view, "bob", &2).expect("save");
    assert_eq!(COUNT.load(&view).expect("load"), 7);
    let names: Vec<_> = NAMES
        .range(&view, None, None, Order::Ascending)
        .collect::<Result<_, _>>()
        .expect("range");
    assert_eq!(
        names,
        vec![
            ("amy".to_string(), 1),
            ("bob".to_string(), 2),
            ("zed".to_string(), 3)
        ]
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    /// The merged view behaves exactly like a single ordered map.
    #[test]
    fn view_range_matches_a_btreemap_model(
        base in proptest::collection::btree_map(proptest::collection::vec(0u8..4, 1..3), proptest::collection::vec(any::<u8>(), 0..3), 0..12),
        over in proptest::collection::btree_map(proptest::collection::vec(0u8..4, 1..3), proptest::option::of(proptest::collection::vec(any::<u8>(), 0..3)), 0..12),
        lo in proptest::option::of(proptest::collection::vec(0u8..4, 0..3)),
        hi in proptest::option::of(proptest::collection::vec(0u8..4, 0..3)),
        desc in any::<bool>(),
    ) {
        let dir = tempfile::tempdir().expect("tempdir");
        let s = Store::open(dir.path()).expect("open");
        let mut base_ov: Overlay = base.iter().map(|(k, v)| (k.clone(), Some(v.clone()))).collect();
        base_ov.insert(b"\xff".to_vec(), Some(vec![]));
        let p = s.prepare_commit(1, base_ov.clone()).expect("prepare");
        s.commit(p).expect("commit");
        let mut model: BTreeMap<Vec<u8>, Vec<u8>> = base_ov.into_iter().filter_map(|(k, v)| v.map(|v| (k, v))).collect();
        for (k, v) in &over {
            match v { Some(v) => { model.insert(k.clone(), v.clone()); } None => { model.remove(k); } }
        }
        let mut ov = over.clone();
        let view = StateView::new(&s, &mut ov);
        let order = if desc { Order::Descending } else { Order::Ascending };
        let got: Vec<_> = view.range(lo.as_deref(), hi.as_deref(), order).collect();
        let mut want: Vec<_> = model.into_iter().filter(|(k, _)| {
            lo.as_ref().is_none_or(|l| k >= l) && hi.as_ref().is_none_or(|h| k < h)
        }).collect();
        if desc { want.reverse(); }
        prop_assert_eq!(got, want);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]
    /// jmt's batch insertion (what `prepare_commit` uses for sets without a
    /// deletion) and its per-key insertion build the same tree on top of any
    /// committed one: the same root, the same new nodes, the same stale nodes.
    #[test]
    fn batch_and_per_key_insertion_agree(
        blocks in proptest::collection::vec(
            proptest::collection::btree_map(0u8..96, proptest::option::weighted(0.8, 0u8..3), 0..48),
            1..6,
        ),
    ) {
        let dir = tempfile::tempdir().expect("tempdir");
        let s = Store::open(dir.path()).expect("open");
        for (i, block) in blocks.iter().enumerate() {
            let h = i as u64 + 1;
            // Keys 0..48 go to the app tree, the rest to the `ibc` sub-store,
            // which starts empty and empties again when its keys are deleted.
            let ov: Overlay = block.iter().map(|(k, v)| (small_key(*k, 48), v.map(|v| vec![v]))).collect();
            let (app_set, ibc_set) = split_sets(ov.iter().map(|(k, v)| (k.as_slice(), v.as_deref())), None);
            for (reader, set) in [(s.app_tree(), app_set), (s.ibc_tree(), ibc_set)] {
                let puts: ValueSet = set.into_iter().filter(|(_, v)| v.is_some()).collect();
                let tree = Sha256Jmt::new(&reader);
                let (root_a, batch_a) = put_set(&tree, puts.clone(), h).expect("batch");
                let (root_b, batch_b) = tree.put_value_set(puts, h).expect("per key");
                prop_assert_eq!(root_a, root_b);
                prop_assert_eq!(batch_a.node_batch, batch_b.node_batch);
                prop_assert_eq!(batch_a.stale_node_index_batch, batch_b.stale_node_index_batch);
            }
            // Commit the block with its deletions, so the next one starts from
            // a tree that has grown, shrunk and rebalanced.
            s.commit(s.prepare_commit(h, ov).expect("prepare")).expect("commit");
        }
    }
}

/// A block that writes a key and removes it again leaves a deletion of a key
/// the store never held: it changes no root, and leaves nothing on disk (no
/// tombstone, no preimage), so it does not keep the block off jmt's batch
/// insertion either.
#[test]
fn deleting_a_key_the_store_never_held_changes_nothing() {
    let (d1, d2) = (
        tempfile::tempdir().expect("tmp"),
        tempfile::tempdir().expect("tmp"),
    );
    let (a, b) = (
        Store::open(d1.path()).expect("open"),
        Store::open(d2.path()).expect("open"),
    );
    for s in [&a, &b] {
        commit(s, 1, &[("x", Some("1")), ("ibc/p", Some("2"))]);
    }
    let with = commit(
        &a,
        2,
        &[("x", Some("3")), ("ghost", None), ("ibc/ghost", None)],
    );
    let without = commit(&b, 2, &[("x", Some("3"))]);
    assert_eq!(with, without);
    assert_eq!(dump(&a), dump(&b));
    // A key the store does hold is deleted as before.
    let gone = commit(&a, 3, &[("x", None)]);
    assert_ne!(gone, with);
    assert_eq!(a.get(b"x").expect("get"), None);
    assert_eq!(a.get_at(b"x", 2).expect("get"), Some(b"3".to_vec()));
}

/// The node cache holds the live trees: a commit takes out the nodes it makes
/// stale, so rewriting the same keys block after block does not grow it.
#[test]
fn the_node_cache_drops_what_commits_make_stale() {
    let d = tempfile::tempdir().expect("tmp");
    let s = Store::open(d.path()).expect("open");
    for h in 1..=60u64 {
        let block: Overlay = (0..10u8)
            .map(|k| (small_key(k, 255), Some(h.to_be_bytes().to_vec())))
            .chain([(small_key(200, 100), Some(vec![h as u8]))])
            .collect();
        s.commit(s.prepare_commit(h, block).expect("prep"))
            .expect("commit");
    }
    // 11 app keys plus `ibc`, one IBC path: a dozen leaves and a few internal
    // nodes per tree, not sixty blocks' worth (~900).
    assert!(s.nodes.len() < 40, "{} nodes cached", s.nodes.len());
}
