//! Tx decoding and the whole CheckTx/DeliverTx pipeline on arbitrary bytes: must
//! never panic, and must change nothing unless the bytes are a valid signed tx.
//!
//!   make fuzz                       # 60 s
//!   FUZZ_SECONDS=3600 make fuzz     # longer
#![no_main]

use cosmwasm_std::testing::MockStorage;
use cosmwasm_std::{Order, Storage};
use libfuzzer_sys::fuzz_target;
use verdict_app::params::AppParams;
use verdict_app::tx::{self, Mode};
use verdict_app::txbuild::AccountKey;
use verdict_core::ctx::BlockInfo;

fn genesis() -> MockStorage {
    let mut s = MockStorage::new();
    verdict_auth::genesis::AuthGenesis::default()
        .init(&mut s)
        .expect("auth");
    let who = AccountKey::from_bytes(&[1; 32])
        .expect("key")
        .address()
        .bech32();
    verdict_bank::genesis::BankGenesis {
        balances: vec![verdict_bank::genesis::GenesisBalance {
            address: who,
            coins: "1000000uverd".into(),
        }],
    }
    .init(&mut s)
    .expect("bank");
    s
}

fuzz_target!(|data: &[u8]| {
    let block = BlockInfo {
        height: 5,
        time_seconds: 1,
        time_nanos: 0,
        chain_id: "fuzz".into(),
    };
    let params = AppParams::default();
    for mode in [Mode::Check, Mode::Deliver, Mode::Simulate] {
        let mut s = genesis();
        let before: Vec<_> = s.range(None, None, Order::Ascending).collect();
        let out = tx::run(&mut s, data, &block, &params, mode);
        if out.code != 0 {
            let after: Vec<_> = s.range(None, None, Order::Ascending).collect();
            // A failed ante leaves no trace; a failed message keeps only fee and sequence.
            if !out.log.contains("failed to execute") && !out.log.contains("out of gas") {
                assert_eq!(
                    before, after,
                    "state changed on code {}: {}",
                    out.code, out.log
                );
            }
        }
    }
});
