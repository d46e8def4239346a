use std::collections::BTreeMap;
use std::sync::Arc;

use tendermint_proto::v0_38::abci::{
    response_apply_snapshot_chunk::Result as ApplyResult,
    response_offer_snapshot::Result as OfferResult, RequestApplySnapshotChunk,
    RequestLoadSnapshotChunk, RequestOfferSnapshot, Snapshot,
};

use super::{SnapshotConfig, Snapshots};
use crate::store::{Pruning, Store};

type Changes = BTreeMap<Vec<u8>, Option<Vec<u8>>>;

/// Height `h` rewrites keys, deletes one, and writes IBC paths.
fn block(h: u64) -> Changes {
    let mut c: Changes = (0..40u64)
        .map(|k| (format!("k{k}").into_bytes(), Some(vec![h as u8; 50])))
        .collect();
    c.insert(
        format!("new{h}").into_bytes(),
        Some(h.to_string().into_bytes()),
    );
    if h > 2 {
        c.insert(format!("new{}", h - 2).into_bytes(), None);
    }
    c.insert(
        format!("ibc/clients/c{}", h % 3).into_bytes(),
        Some(vec![7; 30]),
    );
    c
}

fn chain(dir: &std::path::Path, to: u64, pruning: Pruning) -> Arc<Store> {
    let s = Store::open(dir).expect("open").with_pruning(pruning);
    for h in 1..=to {
        s.commit(s.prepare_commit(h, block(h)).expect("prep"))
            .expect("commit");
    }
    Arc::new(s)
}

fn snapshots(dir: &std::path::Path, interval: u64) -> Snapshots {
    Snapshots::new(
        Some(dir.to_path_buf()),
        SnapshotConfig {
            interval,
            keep_recent: 2,
        },
    )
    .with_chunk_bytes(600)
}

fn offer(s: &Snapshot, app_hash: [u8; 32]) -> RequestOfferSnapshot {
    RequestOfferSnapshot {
        snapshot: Some(s.clone()),
        app_hash: app_hash.to_vec().into(),
    }
}

fn chunk(src: &Snapshots, s: &Snapshot, i: u32) -> Vec<u8> {
    src.load_chunk(&RequestLoadSnapshotChunk {
        height: s.height,
        format: s.format,
        chunk: i,
    })
    .chunk
    .to_vec()
}

fn apply(
    dst: &Snapshots,
    store: &Store,
    i: u32,
    bytes: Vec<u8>,
    from: &str,
) -> (ApplyResult, Vec<u32>, Vec<String>) {
    let r = dst.apply_chunk(
        store,
        RequestApplySnapshotChunk {
            index: i,
            chunk: bytes.into(),
            sender: from.into(),
        },
    );
    (
        ApplyResult::try_from(r.result).expect("result"),
        r.refetch_chunks,
        r.reject_senders,
    )
}

/// Source chain at 20 with a snapshot at 20 taken; returns (store, snapshots, snapshot).
fn source(tmp: &tempfile::TempDir) -> (Arc<Store>, Snapshots, Snapshot) {
    let store = chain(&tmp.path().join("src"), 20, Pruning::NOTHING);
    let snaps = snapshots(&tmp.path().join("snaps"), 10);
    snaps.after_commit(&store, 20, true);
    let list = snaps.list().snapshots;
    assert_eq!(list.len(), 1, "one snapshot listed");
    let s = list[0].clone();
    (store, snaps, s)
}

#[test]
fn a_snapshot_restores_the_same_state_and_app_hash_in_a_fresh_store() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (src, snaps, s) = source(&tmp);
    assert_eq!((s.height, s.format), (20, 1));
    assert!(s.chunks > 3, "small chunks: several of them ({})", s.chunks);

    let dst = Store::open(&tmp.path().join("dst")).expect("open");
    let restore = Snapshots::default();
    let app_hash = src.app_hash_at(20).expect("read").expect("hash");
    let r = restore.offer(&dst, offer(&s, app_hash));
    assert_eq!(r.result, OfferResult::Accept as i32);
    for i in 0..s.chunks {
        let (res, _, _) = apply(&restore, &dst, i, chunk(&snaps, &s, i), "peer");
        assert_eq!(res, ApplyResult::Accept, "chunk {i}");
    }
    assert_eq!(dst.height().expect("h"), 20);
    assert_eq!(dst.last_app_hash().expect("hash"), app_hash);
    // Every value and proof reads as on the source; IBC paths too.
    for k in ["k0", "k39", "new20", "new19", "new18"] {
        assert_eq!(
            dst.get(k.as_bytes()).expect("get"),
            src.get(k.as_bytes()).expect("get"),
            "{k}"
        );
    }
    assert_eq!(
        dst.get_ibc_at(b"clients/c2", 20).expect("ibc"),
        src.get_ibc_at(b"clients/c2", 20).expect("ibc")
    );
    let (v, proof) = dst.get_with_proof(b"k3", 20).expect("proof");
    assert!(crate::store::verify_proof(
        &app_hash,
        &proof,
        b"k3",
        v.as_deref()
    ));
    // History starts at the snapshot: earlier heights answer "pruned".
    let e = dst.get_at(b"k3", 19).expect_err("pruned");
    assert!(e.to_string().contains("pruned"), "{e}");
    // And the chain goes on from there with the same app hashes.
    let src = Arc::try_unwrap(src).ok().expect("sole owner");
    for h in 21..=25 {
        let a = src
            .commit(src.prepare_commit(h, block(h)).expect("p"))
            .expect("c");
        let b = dst
            .commit(dst.prepare_commit(h, block(h)).expect("p"))
            .expect("c");
        assert_eq!(a, b, "height {h}");
    }
}

#[test]
fn a_bad_chunk_is_refetched_from_another_peer_and_a_wrong_state_is_rejected() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (src, snaps, s) = source(&tmp);
    let app_hash = src.app_hash_at(20).expect("read").expect("hash");
    let dst = Store::open(&tmp.path().join("dst")).expect("open");
    let restore = Snapshots::default();
    assert_eq!(
        restore.offer(&dst, offer(&s, app_hash)).result,
        OfferResult::Accept as i32
    );
    let mut bad = chunk(&snaps, &s, 0);
    bad[3] ^= 1;
    let (res, refetch, reject) = apply(&restore, &dst, 0, bad, "liar");
    assert_eq!(
        (res, refetch, reject),
        (ApplyResult::Retry, vec![0], vec!["liar".to_string()])
    );
    // A chunk out of order asks for the expected one.
    let (res, refetch, _) = apply(&restore, &dst, 2, chunk(&snaps, &s, 2), "peer");
    assert_eq!((res, refetch), (ApplyResult::Retry, vec![0]));
    for i in 0..s.chunks {
        assert_eq!(
            apply(&restore, &dst, i, chunk(&snaps, &s, i), "peer").0,
            ApplyResult::Accept
        );
    }
    assert_eq!(dst.height().expect("h"), 20);

    // A snapshot whose items do not give the trusted app hash writes nothing.
    let dst2 = Store::open(&tmp.path().join("dst2")).expect("open");
    let restore = Snapshots::default();
    let mut wrong = app_hash;
    wrong[0] ^= 1;
    assert_eq!(
        restore.offer(&dst2, offer(&s, wrong)).result,
        OfferResult::Accept as i32
    );
    let mut last = ApplyResult::Accept;
    for i in 0..s.chunks {
        last = apply(&restore, &dst2, i, chunk(&snaps, &s, i), "peer").0;
    }
    assert_eq!(last, ApplyResult::RejectSnapshot);
    assert_eq!(dst2.height().expect("h"), 0, "nothing written");
    // Without an accepted snapshot, a chunk aborts.
    assert_eq!(
        apply(&restore, &dst2, 0, chunk(&snaps, &s, 0), "p").0,
        ApplyResult::Abort
    );
}

#[test]
fn offers_that_cannot_be_right_are_refused() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (src, _snaps, s) = source(&tmp);
    let app_hash = src.app_hash_at(20).expect("read").expect("hash");
    let fresh = Store::open(&tmp.path().join("dst")).expect("open");
    let r = Snapshots::default();
    let res = |req| OfferResult::try_from(r.offer(&fresh, req).result).expect("result");
    let mut f = s.clone();
    f.format = 2;
    assert_eq!(res(offer(&f, app_hash)), OfferResult::RejectFormat);
    let mut c = s.clone();
    c.chunks += 1;
    assert_eq!(res(offer(&c, app_hash)), OfferResult::Reject);
    let mut h = s.clone();
    h.hash = vec![0; 32].into();
    assert_eq!(res(offer(&h, app_hash)), OfferResult::Reject);
    let mut m = s.clone();
    m.metadata = vec![0xff, 0xff].into();
    assert_eq!(res(offer(&m, app_hash)), OfferResult::Reject);
    let short = RequestOfferSnapshot {
        snapshot: Some(s.clone()),
        app_hash: vec![1, 2].into(),
    };
    assert_eq!(res(short), OfferResult::Reject);
    assert_eq!(res(RequestOfferSnapshot::default()), OfferResult::Reject);
    // A node that already has other state does not restore over it.
    let r2 = Snapshots::default();
    let mut older = s.clone();
    older.height = 10;
    assert_eq!(
        r2.offer(&src, offer(&older, app_hash)).result,
        OfferResult::Abort as i32
    );
}

#[test]
fn snapshots_are_deterministic_kept_recent_and_survive_pruning() {
    let tmp = tempfile::tempdir().expect("tmp");
    // Two nodes, one pruning everything but the last two versions: the same
    // snapshot (hash) at every interval; only the newest two kept.
    let a = chain(&tmp.path().join("a"), 0, Pruning::NOTHING);
    let b = chain(
        &tmp.path().join("b"),
        0,
        Pruning::named("custom", 2, 1).expect("p"),
    );
    let (sa, sb) = (
        snapshots(&tmp.path().join("sa"), 5),
        snapshots(&tmp.path().join("sb"), 5),
    );
    for h in 1..=20 {
        for (st, sn) in [(&a, &sa), (&b, &sb)] {
            st.commit(st.prepare_commit(h, block(h)).expect("p"))
                .expect("c");
            sn.after_commit(st, h, true);
        }
    }
    let (la, lb) = (sa.list().snapshots, sb.list().snapshots);
    assert_eq!(
        la.iter().map(|s| s.height).collect::<Vec<_>>(),
        vec![20, 15]
    );
    assert_eq!(la, lb, "same snapshots on both nodes");
    // A pinned version survives pruning while a snapshot reads it.
    b.pin(20);
    for h in 21..=25 {
        b.commit(b.prepare_commit(h, block(h)).expect("p"))
            .expect("c");
    }
    assert!(b.get_at(b"k1", 20).is_ok(), "pinned height still readable");
    b.unpin(20);
    b.commit(b.prepare_commit(26, block(26)).expect("p"))
        .expect("c");
    b.sync().expect("written and pruned");
    assert!(b.get_at(b"k1", 20).is_err(), "pruned once unpinned");
}

/// A snapshot that is consistent in itself but writes the derived key `ibc`
/// is rejected (CometBFT then tries another), never an `Abort` that would end
/// state sync for good.
#[test]
fn a_snapshot_writing_the_reserved_key_is_rejected_not_aborted() {
    use prost::Message;
    use sha2::Digest;
    let tmp = tempfile::tempdir().expect("tmp");
    let chunk = super::Chunk {
        items: vec![
            super::Item {
                key: b"a".to_vec(),
                value: b"1".to_vec(),
            },
            super::Item {
                key: b"ibc".to_vec(),
                value: vec![0; 32],
            },
        ],
    }
    .encode_to_vec();
    let hashes = vec![sha2::Sha256::digest(&chunk).to_vec()];
    let s = Snapshot {
        height: 7,
        format: 1,
        chunks: 1,
        hash: super::hash_of_hashes(&hashes).to_vec().into(),
        metadata: super::Metadata {
            chunk_hashes: hashes,
        }
        .encode_to_vec()
        .into(),
    };
    let dst = Store::open(&tmp.path().join("dst")).expect("open");
    let r = Snapshots::default();
    assert_eq!(
        r.offer(&dst, offer(&s, [9; 32])).result,
        OfferResult::Accept as i32
    );
    assert_eq!(
        apply(&r, &dst, 0, chunk, "liar").0,
        ApplyResult::RejectSnapshot
    );
    assert_eq!(dst.height().expect("h"), 0);
}

/// A restore written just before a crash: CometBFT starts state sync again
/// and offers the same snapshot; the node accepts it without writing twice
/// (anything else would leave it stuck until its store is removed by hand).
#[test]
fn the_same_snapshot_offered_again_after_a_crash_is_accepted_as_already_held() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (src, snaps, s) = source(&tmp);
    let app_hash = src.app_hash_at(20).expect("read").expect("hash");
    let dst = Store::open(&tmp.path().join("dst")).expect("open");
    for round in 0..2 {
        let r = Snapshots::default();
        assert_eq!(
            r.offer(&dst, offer(&s, app_hash)).result,
            OfferResult::Accept as i32,
            "round {round}"
        );
        for i in 0..s.chunks {
            assert_eq!(
                apply(&r, &dst, i, chunk(&snaps, &s, i), "p").0,
                ApplyResult::Accept
            );
        }
        assert_eq!(dst.height().expect("h"), 20);
        assert_eq!(dst.last_app_hash().expect("hash"), app_hash);
        assert!(dst
            .get_at(b"k1", 19)
            .expect_err("history starts at 20")
            .to_string()
            .contains("pruned"));
    }
    // Another height (or hash) on a store that has state is still refused.
    let mut other = s.clone();
    other.height = 30;
    assert_eq!(
        Snapshots::default()
            .offer(&dst, offer(&other, app_hash))
            .result,
        OfferResult::Abort as i32
    );
}
