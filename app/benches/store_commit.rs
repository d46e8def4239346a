//! Store commit time for blocks of 1 000 writes: the Verdict store (JMT + sled,
//! one atomic batch, flushed) — what FinalizeBlock and Commit pay (hashing,
//! and handing the block to the writer thread) and the time until the block
//! is on disk — beside a bare sled batch of the same writes (the floor any
//! sled-backed store pays to make them durable), and the tx index for a block of 1 000
//! txs: its write (the writer thread's) and what Commit pays to queue it. Prints one JSON object;
//! `bench/run.py` records it. Run: `cargo bench -p verdict-app --bench store_commit`.

use std::time::Instant;

use cosmrs::proto::cosmos::base::abci::v1beta1::TxResponse;
use sha2::{Digest, Sha256};
use verdict_app::store::{IndexedTx, Overlay, Store};

const WRITES: usize = 1000;
const BLOCKS: u64 = 40;

fn block(h: u64) -> Overlay {
    (0..WRITES)
        .map(|i| {
            // Half the keys are new each block, half overwrite earlier ones.
            let seed = if i % 2 == 0 {
                h * 10_000 + i as u64
            } else {
                i as u64
            };
            let k = Sha256::digest(seed.to_be_bytes()).to_vec();
            let mut key = b"bench/".to_vec();
            key.extend_from_slice(&k);
            (key, Some(Sha256::digest(k).repeat(3)))
        })
        .collect()
}

fn stats(mut v: Vec<f64>) -> serde_json::Value {
    v.sort_by(|a, b| a.total_cmp(b));
    let mean = v.iter().sum::<f64>() / v.len() as f64;
    serde_json::json!({"median_ms": v[v.len() / 2], "mean_ms": mean, "p90_ms": v[v.len() * 9 / 10], "blocks": v.len()})
}

fn main() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let store = Store::open(dir.path())?;
    let (mut prepare, mut total, mut durable) = (Vec::new(), Vec::new(), Vec::new());
    for h in 1..=BLOCKS {
        let b = block(h);
        let t0 = Instant::now();
        let pending = store.prepare_commit(h, b)?;
        let t1 = Instant::now();
        store.commit(pending)?;
        let t2 = Instant::now();
        // The writer thread's share: the block on disk (at a real block
        // interval it is done long before the next commit).
        store.sync()?;
        let t3 = Instant::now();
        prepare.push((t1 - t0).as_secs_f64() * 1e3);
        total.push((t2 - t0).as_secs_f64() * 1e3);
        durable.push((t3 - t0).as_secs_f64() * 1e3);
    }

    // A block of 1 000 MsgSend-sized txs (a ~320-byte tx and a dozen events each).
    let (mut queue, mut index) = (Vec::new(), Vec::new());
    for h in 1..=BLOCKS {
        let txs: Vec<IndexedTx> = (0..WRITES)
            .map(|i| {
                let hash: [u8; 32] = Sha256::digest((h * 10_000 + i as u64).to_be_bytes()).into();
                let event = tendermint_proto::v0_38::abci::Event {
                    r#type: "transfer".into(),
                    attributes: (0..3)
                        .map(|a| tendermint_proto::v0_38::abci::EventAttribute {
                            key: format!("attribute{a}"),
                            value: "cosmos1qypqxpq9qcrsszg2pvxq6rs0zqg3yyc5lzv7xu".into(),
                            index: true,
                        })
                        .collect(),
                };
                IndexedTx {
                    hash,
                    response: TxResponse {
                        height: h as i64,
                        txhash: hex::encode_upper(hash),
                        gas_wanted: 200_000,
                        gas_used: 60_000,
                        tx: Some(cosmrs::Any {
                            type_url: "/cosmos.tx.v1beta1.Tx".into(),
                            value: vec![7; 320],
                        }),
                        events: vec![event; 12],
                        ..Default::default()
                    },
                }
            })
            .collect();
        let t0 = Instant::now();
        store.index_txs(txs, None)?;
        let t1 = Instant::now();
        store.tx_index_len()?; // waits for the writer
        queue.push((t1 - t0).as_secs_f64() * 1e3);
        index.push(t1.elapsed().as_secs_f64() * 1e3);
    }

    let dir2 = tempfile::tempdir()?;
    let db = sled::open(dir2.path())?;
    let mut raw = Vec::new();
    for h in 1..=BLOCKS {
        let b = block(h);
        let t0 = Instant::now();
        let mut batch = sled::Batch::default();
        for (k, v) in b {
            if let Some(v) = v {
                batch.insert(k, v);
            }
        }
        db.apply_batch(batch)?;
        db.flush()?;
        raw.push(t0.elapsed().as_secs_f64() * 1e3);
    }
    println!(
        "{}",
        serde_json::json!({
            "writes_per_block": WRITES,
            "verdict_store_commit": stats(total),
            "verdict_store_hash_only": stats(prepare),
            "verdict_store_until_durable": stats(durable),
            "bare_sled_batch": stats(raw),
            "tx_index_write": stats(index),
            "tx_index_on_commit_path": stats(queue),
        })
    );
    Ok(())
}
