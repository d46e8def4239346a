//! The fixed keys every test net uses, block times, gentxs and attestors.

use ed25519_consensus::SigningKey;
use tendermint_proto::google::protobuf::Timestamp;
use verdict_app::app::tendermint_address;
use verdict_app::attestor::{Attestor, AttestorFault};
use verdict_app::txbuild::{sign_tx, AccountKey, TxSpec};
use verdict_core::coin::Coin;

use super::{Behaviour, GENESIS_TIME};

/// A secp256k1 account key made of 32 copies of `seed`.
pub fn account_key(seed: u8) -> AccountKey {
    AccountKey::from_bytes(&[seed; 32]).expect("key")
}

/// The funded genesis account (account number 1: the fee collector is 0).
pub fn user() -> AccountKey {
    account_key(42)
}

/// The operator of validator `i` (node `i`), funded at genesis when the net
/// is made of gentxs (account number `2 + i`).
pub fn operator(i: u8) -> AccountKey {
    account_key(100 + i)
}

/// Node `i`'s consensus (ed25519) key.
pub fn consensus_key(i: u8) -> SigningKey {
    SigningKey::from([i + 1; 32])
}

/// CometBFT's address of a consensus key.
pub fn consensus_address(key: &SigningKey) -> Vec<u8> {
    tendermint_address(key.verification_key().as_bytes())
}

/// Block time of height `h` on a net with the default genesis time.
pub fn time(h: i64) -> Timestamp {
    Timestamp {
        seconds: GENESIS_TIME + h,
        nanos: 0,
    }
}

/// Node `i`'s attestor, fed directly by the kit instead of a sidecar.
pub fn attestor_for(key: &SigningKey, i: u8) -> Attestor {
    let a: [u8; 20] = consensus_address(key).try_into().expect("20 bytes");
    Attestor::offline(a, [i; 32])
}

/// Node `i`'s attestor for a sidecar that behaves as `b`.
pub fn attestor_with(key: &SigningKey, i: u8, b: Behaviour) -> Attestor {
    let a = attestor_for(key, i);
    if b == Behaviour::Copier {
        a.with_fault(AttestorFault::Copy)
    } else {
        a
    }
}

/// Validator `i`'s gentx: its operator bonds `stake` uverd to `key` with
/// `commission` (an 18-decimal atomics string), as `verdict genesis gentx`
/// does.
pub fn gentx(chain_id: &str, i: u8, key: &SigningKey, stake: u128, commission: &str) -> String {
    let op = operator(i);
    let msg = verdict_app::txbuild::create_validator_msg(
        &op.address(),
        &key.verification_key().to_bytes(),
        &Coin::new(stake, "uverd"),
        &format!("v{i}"),
        commission,
    );
    let spec = TxSpec {
        msgs: vec![msg],
        memo: String::new(),
        timeout_height: 0,
        fee: vec![],
        gas_limit: 400_000,
    };
    // Account numbers: fee collector 0, user 1, operators 2.. (genesis order).
    hex::encode(sign_tx(&spec, &op, chain_id, 2 + u64::from(i), 0))
}
