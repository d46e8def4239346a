//! A real `VerdictApp` for the ABCI-level targets: a sled store in a temp dir,
//! InitChain with four CometBFT genesis validators (fixed ed25519 keys) and a
//! funded user, and height 1 committed, so every target starts from state a
//! running chain has. Built once per fuzzing process: the targets below only
//! call methods that must not change committed state (VerifyVoteExtension,
//! ProcessProposal, Query), and each checks that the app hash stayed put.
#![allow(dead_code)]

use std::sync::OnceLock;

use ed25519_consensus::SigningKey;
use tendermint_abci::Application;
use tendermint_proto::google::protobuf::Timestamp;
use tendermint_proto::v0_38::abci::{
    RequestFinalizeBlock, RequestInfo, RequestInitChain, ValidatorUpdate,
};
use tendermint_proto::v0_38::crypto::{public_key::Sum, PublicKey};
use tendermint_proto::v0_38::types::{AbciParams, ConsensusParams};
use verdict_app::app::tendermint_address;
use verdict_app::store::Store;
use verdict_app::VerdictApp;

pub const CHAIN: &str = "fuzz-1";
pub const VALIDATORS: u8 = 4;
/// The genesis `max_vote_extension_bytes`.
pub const MAX_VE_BYTES: usize = 8192;
const GENESIS_TIME: i64 = 1_700_000_000;

pub struct Fixture {
    pub app: VerdictApp,
    pub keys: Vec<SigningKey>,
    pub addresses: Vec<Vec<u8>>,
    _dir: tempfile::TempDir,
}

pub fn key(i: u8) -> SigningKey {
    SigningKey::from([i.wrapping_add(1); 32])
}

pub fn time(height: i64) -> Timestamp {
    Timestamp {
        seconds: GENESIS_TIME + height,
        nanos: 0,
    }
}

fn user() -> String {
    verdict_app::txbuild::AccountKey::from_bytes(&[7; 32])
        .expect("key")
        .address()
        .bech32()
}

fn build() -> Fixture {
    let dir = tempfile::tempdir().expect("tmp");
    let app = VerdictApp::new(Store::open(dir.path()).expect("store"));
    let keys: Vec<SigningKey> = (0..VALIDATORS).map(key).collect();
    let pubkeys: Vec<Vec<u8>> = keys
        .iter()
        .map(|k| k.verification_key().to_bytes().to_vec())
        .collect();
    let addresses = pubkeys.iter().map(|p| tendermint_address(p)).collect();
    let app_state = serde_json::json!({
        "app": {"params": {"max_vote_extension_bytes": MAX_VE_BYTES}},
        "bank": {"balances": [{"address": user(), "coins": "1000000000uverd"}]},
    });
    app.init_chain(RequestInitChain {
        time: Some(time(0)),
        chain_id: CHAIN.into(),
        consensus_params: Some(ConsensusParams {
            abci: Some(AbciParams {
                vote_extensions_enable_height: 1,
            }),
            ..Default::default()
        }),
        validators: pubkeys
            .iter()
            .map(|p| ValidatorUpdate {
                pub_key: Some(PublicKey {
                    sum: Some(Sum::Ed25519(p.clone())),
                }),
                power: 10,
            })
            .collect(),
        app_state_bytes: app_state.to_string().into_bytes().into(),
        initial_height: 1,
    });
    let fixture = Fixture {
        app,
        keys,
        addresses,
        _dir: dir,
    };
    fixture.app.finalize_block(RequestFinalizeBlock {
        height: 1,
        time: Some(time(1)),
        proposer_address: fixture.addresses[0].clone().into(),
        ..Default::default()
    });
    fixture.app.commit();
    fixture
}

/// The process-wide fixture (libFuzzer runs one input at a time).
pub fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(build)
}

/// The committed height and app hash, which no target may move.
pub fn committed(app: &VerdictApp) -> (i64, Vec<u8>) {
    let info = app.info(RequestInfo::default());
    (info.last_block_height, info.last_block_app_hash.to_vec())
}
