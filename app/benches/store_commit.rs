//! Store commit time for blocks of 1 000 writes: the Verdict store (JMT + sled,
//! one atomic batch, flushed) beside a bare sled batch of the same writes (the
//! floor any sled-backed store pays). Prints one JSON object; `bench/run.py`
//! records it. Run: `cargo bench -p verdict-app --bench store_commit`.

use std::time::Instant;

use sha2::{Digest, Sha256};
use verdict_app::store::{Overlay, Store};

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
    let mut prepare = Vec::new();
    let mut total = Vec::new();
    for h in 1..=BLOCKS {
        let b = block(h);
        let t0 = Instant::now();
        let pending = store.prepare_commit(h, b)?;
        let t1 = Instant::now();
        store.commit(pending)?;
        let t2 = Instant::now();
        prepare.push((t1 - t0).as_secs_f64() * 1e3);
        total.push((t2 - t0).as_secs_f64() * 1e3);
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
            "bare_sled_batch": stats(raw),
        })
    );
    Ok(())
}
