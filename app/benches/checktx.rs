//! CheckTx and DeliverTx cost per signed MsgSend, in-process, on a real sled store:
//! where the time of a transaction goes (`cargo bench -p verdict-app --bench checktx`).

use std::time::Instant;

use verdict_app::params::AppParams;
use verdict_app::store::{Overlay, StateView, Store};
use verdict_app::tx::{self, Mode};
use verdict_app::txbuild::{msg_send, sign_tx, AccountKey, TxSpec};
use verdict_core::coin::Coin;
use verdict_core::ctx::BlockInfo;

fn main() -> anyhow::Result<()> {
    let senders: Vec<AccountKey> = (1..=200u32)
        .map(|i| {
            let mut b = [7u8; 32];
            b[..4].copy_from_slice(&i.to_be_bytes());
            AccountKey::from_bytes(&b).ok_or_else(|| anyhow::anyhow!("key"))
        })
        .collect::<anyhow::Result<_>>()?;
    let dir = tempfile::tempdir()?;
    let store = Store::open(dir.path())?;
    let mut ov = Overlay::new();
    {
        let mut view = StateView::new(&store, &mut ov);
        verdict_auth::genesis::AuthGenesis::default().init(&mut view)?;
        verdict_auth::Accounts::ensure(&mut view, &tx::fee_collector())?;
        verdict_bank::genesis::BankGenesis {
            balances: senders
                .iter()
                .map(|k| verdict_bank::genesis::GenesisBalance {
                    address: k.address().bech32(),
                    coins: "100000000uverd".into(),
                })
                .collect(),
        }
        .init(&mut view)?;
    }
    let p = store.prepare_commit(1, ov)?;
    store.commit(p)?;
    let sink = senders[0].address();
    let mut txs = Vec::new();
    for seq in 0..15u64 {
        for (i, k) in senders.iter().enumerate() {
            let spec = TxSpec {
                msgs: vec![msg_send(&k.address(), &sink, &[Coin::new(1, "uverd")])],
                memo: String::new(),
                timeout_height: 0,
                fee: vec![Coin::new(2500, "uverd")],
                gas_limit: 100_000,
            };
            txs.push(sign_tx(
                &spec,
                k,
                "bench",
                u64::try_from(i).unwrap_or(0) + 1,
                seq,
            ));
        }
    }
    let block = BlockInfo {
        height: 2,
        time_seconds: 1,
        time_nanos: 0,
        chain_id: "bench".into(),
    };
    let params = AppParams::default();
    for mode in [Mode::Check, Mode::Deliver, Mode::Simulate] {
        let mut ov = Overlay::new();
        let mut view = StateView::new(&store, &mut ov);
        let t = Instant::now();
        let mut ok = 0;
        for tx in &txs {
            if tx::run(&mut view, tx, &block, &params, mode).code == 0 {
                ok += 1;
            }
        }
        let el = t.elapsed();
        println!(
            "{mode:?}: {ok}/{} ok, {:.1} µs per tx, {:.0} tx/s",
            txs.len(),
            el.as_secs_f64() * 1e6 / txs.len() as f64,
            txs.len() as f64 / el.as_secs_f64()
        );
        let n = ov.len();
        let t = Instant::now();
        let p = store.prepare_commit(2, ov)?;
        let t1 = t.elapsed();
        println!(
            "  block of {n} writes: JMT root {:.1} ms",
            t1.as_secs_f64() * 1e3
        );
        drop(p);
    }
    Ok(())
}
