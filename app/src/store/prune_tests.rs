use super::*;

fn changes(kvs: &[(String, Option<String>)]) -> Overlay {
    kvs.iter()
        .map(|(k, v)| {
            (
                k.as_bytes().to_vec(),
                v.as_ref().map(|v| v.as_bytes().to_vec()),
            )
        })
        .collect()
}

/// Height `h` rewrites ten keys, adds one, deletes one, and touches an IBC path.
fn block(h: u64) -> Vec<(String, Option<String>)> {
    let mut kvs: Vec<(String, Option<String>)> = (0..10)
        .map(|k| (format!("k{k}"), Some(format!("v{h}.{k}"))))
        .collect();
    kvs.push((format!("new{h}"), Some(h.to_string())));
    if h > 2 {
        kvs.push((format!("new{}", h - 2), None));
    }
    kvs.push((format!("ibc/clients/c{}", h % 3), Some(format!("state{h}"))));
    kvs
}

fn node_entries(s: &Store) -> usize {
    s.disk().scan_prefix([P_NODE]).count() + s.disk().scan_prefix([P_VALUE]).count()
}

#[test]
fn pruning_keeps_recent_versions_whole_and_the_app_hash_unchanged() {
    let (d1, d2) = (
        tempfile::tempdir().expect("tmp"),
        tempfile::tempdir().expect("tmp"),
    );
    let full = Store::open(d1.path()).expect("open");
    let pruned = Store::open(d2.path())
        .expect("open")
        .with_pruning(Pruning::named("custom", 5, 5).expect("custom"));
    for h in 1..=60u64 {
        let a = full
            .commit(full.prepare_commit(h, changes(&block(h))).expect("prep"))
            .expect("commit");
        let b = pruned
            .commit(pruned.prepare_commit(h, changes(&block(h))).expect("prep"))
            .expect("commit");
        assert_eq!(a, b, "pruning changed the app hash at height {h}");
    }
    // Pruned at 60: heights 56..=60 stay whole.
    assert_eq!(pruned.synced().oldest_height().expect("oldest"), 56);
    for h in 56..=60u64 {
        for k in ["k3", "new55", "new58", "new60"] {
            assert_eq!(
                pruned.get_at(k.as_bytes(), h).expect("read"),
                full.get_at(k.as_bytes(), h).expect("read"),
                "{k} at {h}"
            );
        }
        let (v, proof) = pruned.get_with_proof(b"k3", h).expect("proof");
        let root = pruned.app_hash_at(h).expect("hash").expect("recorded");
        assert!(
            verify_proof(&root, &proof, b"k3", v.as_deref()),
            "proof at {h}"
        );
        let (_, ibc) = pruned
            .get_ibc_with_proof(b"clients/c1", h)
            .expect("ibc proof");
        let _ = ibc;
    }
    assert!(matches!(
        pruned.get_at(b"k3", 40),
        Err(StoreError::Pruned { oldest: 56, .. })
    ));
    assert_eq!(
        full.get_at(b"k3", 40).expect("full history"),
        Some(b"v40.3".to_vec())
    );
    // Bounded: far fewer tree entries than the full history.
    let (n_full, n_pruned) = (node_entries(&full), node_entries(&pruned));
    assert!(
        n_pruned * 4 < n_full,
        "{n_pruned} entries pruned vs {n_full} full"
    );
    // The store reopens consistent, and keeps committing.
    drop(pruned);
    let again = Store::open(d2.path()).expect("reopen");
    again
        .commit(again.prepare_commit(61, changes(&block(61))).expect("prep"))
        .expect("commit 61");
}

#[test]
fn pruning_names_are_the_sdks() {
    assert_eq!(Pruning::named("nothing", 0, 0), Ok(Pruning::NOTHING));
    assert_eq!(Pruning::named("everything", 0, 0), Ok(Pruning::EVERYTHING));
    assert_eq!(Pruning::named("default", 0, 0), Ok(Pruning::DEFAULT));
    assert!(Pruning::named("custom", 1, 10).is_err());
    assert!(Pruning::named("sometimes", 5, 5).is_err());
    assert_eq!(Pruning::NOTHING.due(100), None);
    assert_eq!(Pruning::EVERYTHING.due(100), Some(99));
    assert_eq!(Pruning::EVERYTHING.due(101), None);
}

fn indexed(height: i64, seed: u8) -> IndexedTx {
    IndexedTx {
        hash: [seed; 32],
        response: cosmrs::proto::cosmos::base::abci::v1beta1::TxResponse {
            height,
            ..Default::default()
        },
    }
}

#[test]
fn the_tx_index_drops_blocks_below_the_retain_height_a_bounded_amount_at_a_time() {
    let d = tempfile::tempdir().expect("tmp");
    let s = Store::open(d.path()).expect("open");
    for h in 1..=10u8 {
        s.index_txs(vec![indexed(h.into(), h), indexed(h.into(), h + 100)], None)
            .expect("index");
    }
    // The same bytes executed again at height 9: the later entry must survive.
    s.index_txs(vec![indexed(9, 2)], None).expect("index");
    assert_eq!(s.tx_index_len().expect("len"), (20, 21));

    assert_eq!(
        s.prune_tx_index(6, 3).expect("prune"),
        3,
        "bounded per call"
    );
    assert_eq!(s.prune_tx_index(6, 100).expect("prune"), 7);
    assert_eq!(
        s.prune_tx_index(6, 100).expect("prune"),
        0,
        "nothing left below 6"
    );
    for h in 1..=5u8 {
        let gone = s.indexed_tx(&[h + 100; 32]).expect("read");
        assert!(gone.is_none(), "height {h} pruned");
    }
    let kept = s.indexed_tx(&[2; 32]).expect("read").expect("re-indexed");
    assert_eq!(kept.height, 9);
    for h in 6..=10u8 {
        let e = s.indexed_tx(&[h; 32]).expect("read").expect("kept");
        assert_eq!(e.height, i64::from(h));
    }
    assert_eq!(s.tx_index_len().expect("len"), (11, 11));
    // Reopened, the index and its height entries are what was left.
    drop(s);
    let s = Store::open(d.path()).expect("reopen");
    assert_eq!(s.tx_index_len().expect("len"), (11, 11));
}

#[test]
fn pruning_also_drops_old_roots_of_an_unchanged_sub_store_and_old_app_hashes() {
    // Seen in `make bench-disk`: with no IBC traffic the sub-store gets a new
    // root every height that the JMT never marks stale, and the app
    // hash of every height stayed in the meta records: both grew ~1 per block.
    let d = tempfile::tempdir().expect("tmp");
    let s = Store::open(d.path())
        .expect("open")
        .with_pruning(Pruning::named("custom", 5, 5).expect("custom"));
    for h in 1..=60u64 {
        let mut kvs = vec![(format!("k{}", h % 4), Some(format!("v{h}")))];
        if h == 1 {
            kvs.push(("ibc/clients/c0".into(), Some("state".into())));
        }
        s.commit(s.prepare_commit(h, changes(&kvs)).expect("prep"))
            .expect("commit");
    }
    assert_eq!(s.synced().oldest_height().expect("oldest"), 56);
    let ibc_nodes = s.disk().scan_prefix([P_IBC_NODE]).count();
    assert!(
        ibc_nodes <= 10,
        "{ibc_nodes} sub-store nodes kept for 5 versions"
    );
    let hashes = (1..=60u64)
        .filter(|h| s.app_hash_at(*h).expect("read").is_some())
        .count();
    assert_eq!(hashes, 5, "app hashes of the kept heights only");
    for h in 56..=60u64 {
        let (v, _) = s.get_ibc_with_proof(b"clients/c0", h).expect("ibc proof");
        assert_eq!(v.as_deref(), Some(b"state".as_slice()), "sub-store at {h}");
        let root = s.app_hash_at(h).expect("hash").expect("kept");
        let (v, proof) = s.get_with_proof(b"k1", h).expect("proof");
        assert!(
            verify_proof(&root, &proof, b"k1", v.as_deref()),
            "proof at {h}"
        );
    }
    drop(s);
    let again = Store::open(d.path()).expect("reopen");
    again
        .commit(again.prepare_commit(61, changes(&block(61))).expect("prep"))
        .expect("commit 61");
}

#[test]
fn a_history_that_starts_late_never_moves_back_and_prunes_only_what_it_holds() {
    // A chain started from an export (or a restored snapshot) begins at 50;
    // pruning with a keep-recent reaching below that must not claim heights
    // the store never had, and must not walk the versions before 50.
    let d = tempfile::tempdir().expect("tmp");
    let s = Store::open(d.path())
        .expect("open")
        .with_pruning(Pruning::named("custom", 20, 10).expect("custom"));
    for h in 50..=60u64 {
        s.commit(s.prepare_commit(h, changes(&block(h))).expect("prep"))
            .expect("commit");
    }
    assert_eq!(
        s.synced().oldest_height().expect("oldest"),
        50,
        "target 41 is below the history"
    );
    assert!(matches!(
        s.get_at(b"k3", 45),
        Err(StoreError::Pruned { oldest: 50, .. })
    ));
    assert_eq!(s.get_at(b"k3", 50).expect("read"), Some(b"v50.3".to_vec()));
    for h in 61..=80u64 {
        s.commit(s.prepare_commit(h, changes(&block(h))).expect("prep"))
            .expect("commit");
    }
    assert_eq!(s.synced().oldest_height().expect("oldest"), 61);
    let hashes = (50..=80u64)
        .filter(|h| s.app_hash_at(*h).expect("read").is_some())
        .count();
    assert_eq!(hashes, 20);
}

#[test]
fn pruning_drops_the_tombstones_and_preimages_of_keys_deleted_before_the_kept_range() {
    // Seen in the 20 000-block `make bench-disk`: a deleted key left its
    // tombstone value and its preimage forever (~0.2 MiB per 1000 blocks).
    let d = tempfile::tempdir().expect("tmp");
    let s = Store::open(d.path())
        .expect("open")
        .with_pruning(Pruning::named("custom", 5, 5).expect("custom"));
    let hash = |k: &str| KeyHash::with::<Sha256>(k.as_bytes());
    for h in 1..=60u64 {
        let mut kvs = block(h);
        // Deleted at 10, written again at 20 and at 58: each is kept.
        match h {
            9 => kvs.push(("back".into(), Some("one".into()))),
            10 => kvs.push(("back".into(), None)),
            20 => kvs.push(("back".into(), Some("two".into()))),
            30 => kvs.push(("again".into(), Some("x".into()))),
            31 => kvs.push(("again".into(), None)),
            58 => kvs.push(("again".into(), Some("y".into()))),
            _ => {}
        }
        s.commit(s.prepare_commit(h, changes(&kvs)).expect("prep"))
            .expect("commit");
    }
    assert_eq!(s.synced().oldest_height().expect("oldest"), 56);
    let values = |k: &str| s.disk().scan_prefix(prefixed(P_VALUE, &hash(k).0)).count();
    let preimage = |k: &str| {
        s.disk()
            .get(prefixed(P_PREIMAGE, &hash(k).0))
            .expect("read")
            .is_some()
    };
    // new10 was deleted at 12 < 56: nothing of it is left.
    for k in ["new1", "new10", "new40", "new53"] {
        assert_eq!(values(k), 0, "values of {k}");
        assert!(!preimage(k), "preimage of {k}");
    }
    // new54 was deleted at 56, the oldest kept height: no kept height reads it.
    assert_eq!(values("new54"), 0);
    assert_eq!(s.get_at(b"new54", 56).expect("read"), None);
    // new55 was deleted at 57 and new57 at 59: kept heights read them.
    for (k, gone) in [("new55", 57u64), ("new57", 59)] {
        assert!(preimage(k), "preimage of {k}");
        assert!(s.get_at(k.as_bytes(), gone - 1).expect("read").is_some());
        assert_eq!(s.get_at(k.as_bytes(), gone).expect("read"), None);
    }
    assert_eq!(s.get_at(b"back", 56).expect("read"), Some(b"two".to_vec()));
    assert!(preimage("back"));
    assert_eq!(s.get_at(b"again", 57).expect("read"), None);
    assert_eq!(s.get_at(b"again", 58).expect("read"), Some(b"y".to_vec()));
    assert!(preimage("again"));
    // What is left is about the live keys, not the history: 10 rewritten
    // keys, ~3 live `new` keys, 3 IBC paths, `back`, `again`.
    let all = s.disk().scan_prefix([P_VALUE]).count();
    assert!(all < 80, "{all} app values kept");
    let preimages = s.disk().scan_prefix([P_PREIMAGE]).count();
    assert!(preimages < 30, "{preimages} preimages kept");
    let (v, proof) = s.get_with_proof(b"new10", 60).expect("absence proof");
    let root = s.app_hash_at(60).expect("hash").expect("kept");
    assert!(v.is_none() && verify_proof(&root, &proof, b"new10", None));
}

/// Issue 18 (commit time): what a commit makes stale is one sled entry per
/// tree and version, not one per stale node, replaced value and deletion
/// (about 2 400 entries of the 8 000 a 1 000-write block wrote).
#[test]
fn a_commit_records_what_it_made_stale_in_one_entry_per_tree() {
    let d = tempfile::tempdir().expect("tmp");
    let s = Store::open(d.path()).expect("open");
    for h in 1..=20u64 {
        s.commit(s.prepare_commit(h, changes(&block(h))).expect("prep"))
            .expect("commit");
    }
    let count = |p: u8| s.disk().scan_prefix([p]).count();
    for p in [
        prune::P_STALE,
        prune::P_IBC_STALE,
        prune::P_STALE_VALUE,
        prune::P_IBC_STALE_VALUE,
        prune::P_TOMBSTONE,
        prune::P_IBC_TOMBSTONE,
    ] {
        assert_eq!(count(p), 0, "per-item records under {:?}", p as char);
    }
    // Every height from 2 on replaced something in both trees.
    assert_eq!(count(prune::P_RECORD), 19);
    assert_eq!(count(prune::P_IBC_RECORD), 19);
}

/// A store written before the per-version record (one entry per stale item)
/// prunes exactly as one written after.
#[test]
fn the_per_item_stale_records_of_older_stores_are_still_pruned() {
    let (d1, d2) = (
        tempfile::tempdir().expect("tmp"),
        tempfile::tempdir().expect("tmp"),
    );
    let (new, old) = (
        Store::open(d1.path()).expect("open"),
        Store::open(d2.path()).expect("open"),
    );
    for h in 1..=20u64 {
        for s in [&new, &old] {
            s.commit(s.prepare_commit(h, changes(&block(h))).expect("prep"))
                .expect("commit");
        }
    }
    // Rewrite `old`'s records as the per-item entries stores wrote before.
    for (rec, stale, stale_values, tombstones) in [
        (
            prune::P_RECORD,
            prune::P_STALE,
            prune::P_STALE_VALUE,
            prune::P_TOMBSTONE,
        ),
        (
            prune::P_IBC_RECORD,
            prune::P_IBC_STALE,
            prune::P_IBC_STALE_VALUE,
            prune::P_IBC_TOMBSTONE,
        ),
    ] {
        for item in old.disk().scan_prefix([rec]) {
            let (k, v) = item.expect("record");
            let since = k.get(1..9).expect("since").to_vec();
            let r: prune::StaleRecord = borsh::from_slice(&v).expect("decode");
            for node in &r.nodes {
                let mut e = since.clone();
                e.extend(borsh::to_vec(node).expect("node key"));
                old.disk().insert(prefixed(stale, &e), &[]).expect("write");
            }
            for (hash, version) in &r.values {
                let mut e = since.clone();
                e.extend_from_slice(hash);
                e.extend_from_slice(&version.to_be_bytes());
                old.disk()
                    .insert(prefixed(stale_values, &e), &[])
                    .expect("write");
            }
            for hash in &r.deleted {
                let mut e = since.clone();
                e.extend_from_slice(hash);
                old.disk()
                    .insert(prefixed(tombstones, &e), &[])
                    .expect("write");
            }
            old.disk().remove(k).expect("remove");
        }
    }
    let pruning = Pruning::named("custom", 5, 5).expect("custom");
    let (new, old) = (new.with_pruning(pruning), old.with_pruning(pruning));
    for h in 21..=30u64 {
        for s in [&new, &old] {
            s.commit(s.prepare_commit(h, changes(&block(h))).expect("prep"))
                .expect("commit");
        }
    }
    let entries = |s: &Store| -> Vec<Vec<u8>> {
        s.disk()
            .iter()
            .keys()
            .map(|k| k.expect("key").to_vec())
            .filter(|k| !matches!(k.first(), Some(b'b' | b'B')))
            .collect()
    };
    assert_eq!(entries(&old), entries(&new));
    assert_eq!(old.synced().oldest_height().expect("oldest"), 26);
}

/// The tx index is written by a thread of its own: what Commit queued is
/// answered at once, the newest entry of a hash wins, and closing the store
/// writes the queue out before the files are released.
#[test]
fn queued_tx_index_entries_are_read_at_once_and_written_before_the_store_closes() {
    let d = tempfile::tempdir().expect("tmp");
    {
        let s = Store::open(d.path()).expect("open");
        for h in 1..=40u8 {
            s.index_txs(vec![indexed(h.into(), h)], None)
                .expect("index");
            let got = s
                .indexed_tx(&[h; 32])
                .expect("read")
                .expect("queued or written");
            assert_eq!(got.height, i64::from(h));
        }
        s.index_txs(vec![indexed(41, 3)], None).expect("index");
        assert_eq!(
            s.indexed_tx(&[3; 32]).expect("read").expect("entry").height,
            41
        );
    }
    let s = Store::open(d.path()).expect("reopen");
    assert_eq!(s.tx_index_len().expect("len"), (40, 41));
    assert_eq!(
        s.indexed_tx(&[3; 32]).expect("read").expect("entry").height,
        41
    );
    assert_eq!(
        s.indexed_tx(&[40; 32])
            .expect("read")
            .expect("entry")
            .height,
        40
    );
}
