//! Building and signing Cosmos transactions (secp256k1; SIGN_MODE_DIRECT, and
//! SIGN_MODE_LEGACY_AMINO_JSON given the node's sign-doc encoder): used by
//! the CLI, the relayer, the benchmarks and the tests. Nothing on the consensus path
//! uses it (`verdict_app::txbuild` re-exports this module).

use cosmrs::proto::cosmos::bank::v1beta1::MsgSend;
use cosmrs::proto::cosmos::base::v1beta1::Coin as ProtoCoin;
use cosmrs::proto::cosmos::crypto::secp256k1::PubKey;
use cosmrs::proto::cosmos::tx::signing::v1beta1::SignMode;
use cosmrs::proto::cosmos::tx::v1beta1::{
    mode_info, AuthInfo, Fee, ModeInfo, SignDoc, SignerInfo, TxBody, TxRaw,
};
use cosmrs::Any;
use k256::ecdsa::signature::Signer;
use k256::ecdsa::{Signature, SigningKey};
use prost::Message;
use verdict_core::address::Addr;
use verdict_core::coin::Coin;

/// Type URL of an account's public key (`cosmos.crypto.secp256k1.PubKey`).
const SECP256K1_PUBKEY_URL: &str = "/cosmos.crypto.secp256k1.PubKey";
/// Type URL of `cosmos.bank.v1beta1.MsgSend`.
const MSG_SEND_URL: &str = "/cosmos.bank.v1beta1.MsgSend";

pub use verdict_core::address::address_of_pubkey;

/// A secp256k1 account key.
#[derive(Clone)]
pub struct AccountKey {
    key: SigningKey,
}

impl AccountKey {
    pub fn from_bytes(b: &[u8]) -> Option<Self> {
        SigningKey::from_slice(b).ok().map(|key| AccountKey { key })
    }

    /// Key at the Cosmos HD path m/44'/118'/0'/0/0 of a BIP39 mnemonic.
    pub fn from_mnemonic(phrase: &str, bip39_passphrase: &str) -> Result<Self, String> {
        let m = bip32::Mnemonic::new(phrase.trim(), Default::default())
            .map_err(|e| format!("invalid mnemonic: {e}"))?;
        let seed = m.to_seed(bip39_passphrase);
        let path: bip32::DerivationPath = "m/44'/118'/0'/0/0"
            .parse()
            .map_err(|e| format!("derivation path: {e}"))?;
        let xprv =
            bip32::XPrv::derive_from_path(seed, &path).map_err(|e| format!("derivation: {e}"))?;
        Self::from_bytes(&xprv.private_key().to_bytes()).ok_or_else(|| "bad derived key".into())
    }

    pub fn secret_bytes(&self) -> Vec<u8> {
        self.key.to_bytes().to_vec()
    }

    pub fn public_key(&self) -> Vec<u8> {
        self.key
            .verifying_key()
            .to_encoded_point(true)
            .as_bytes()
            .to_vec()
    }

    pub fn address(&self) -> Addr {
        address_of_pubkey(&self.public_key())
    }

    pub fn pubkey_any(&self) -> Any {
        Any {
            type_url: SECP256K1_PUBKEY_URL.into(),
            value: PubKey {
                key: self.public_key(),
            }
            .encode_to_vec(),
        }
    }

    pub fn sign(&self, msg: &[u8]) -> Vec<u8> {
        let sig: Signature = self.key.sign(msg);
        sig.to_bytes().to_vec()
    }
}

pub fn msg_send(from: &Addr, to: &Addr, amount: &[Coin]) -> Any {
    Any {
        type_url: MSG_SEND_URL.into(),
        value: MsgSend {
            from_address: from.bech32(),
            to_address: to.bech32(),
            amount: amount.iter().map(Coin::to_proto).collect(),
        }
        .encode_to_vec(),
    }
}

/// Everything about a transaction except who signs it.
#[derive(Clone, Default)]
pub struct TxSpec {
    pub msgs: Vec<Any>,
    pub memo: String,
    pub timeout_height: u64,
    pub fee: Vec<Coin>,
    pub gas_limit: u64,
}

fn auth_info(spec: &TxSpec, key: &AccountKey, sequence: u64, mode: SignMode) -> AuthInfo {
    #[allow(deprecated)] // `tip` is deprecated in the SDK but still on the wire type
    AuthInfo {
        signer_infos: vec![SignerInfo {
            public_key: Some(key.pubkey_any()),
            mode_info: Some(ModeInfo {
                sum: Some(mode_info::Sum::Single(mode_info::Single {
                    mode: mode as i32,
                })),
            }),
            sequence,
        }],
        fee: Some(Fee {
            amount: spec
                .fee
                .iter()
                .map(Coin::to_proto)
                .collect::<Vec<ProtoCoin>>(),
            gas_limit: spec.gas_limit,
            payer: String::new(),
            granter: String::new(),
        }),
        tip: None,
    }
}

fn body(spec: &TxSpec) -> TxBody {
    TxBody {
        messages: spec.msgs.clone(),
        memo: spec.memo.clone(),
        timeout_height: spec.timeout_height,
        extension_options: vec![],
        non_critical_extension_options: vec![],
    }
}

/// A signed `TxRaw`, ready to broadcast.
pub fn sign_tx(
    spec: &TxSpec,
    key: &AccountKey,
    chain_id: &str,
    account_number: u64,
    sequence: u64,
) -> Vec<u8> {
    let body_bytes = body(spec).encode_to_vec();
    let auth_info_bytes = auth_info(spec, key, sequence, SignMode::Direct).encode_to_vec();
    let doc = SignDoc {
        body_bytes: body_bytes.clone(),
        auth_info_bytes: auth_info_bytes.clone(),
        chain_id: chain_id.to_string(),
        account_number,
    };
    let signature = key.sign(&doc.encode_to_vec());
    TxRaw {
        body_bytes,
        auth_info_bytes,
        signatures: vec![signature],
    }
    .encode_to_vec()
}

/// A signed `TxRaw` in SIGN_MODE_LEGACY_AMINO_JSON, as Keplr, Ledger and
/// cosmjs' amino signers send it: the signer info says LEGACY_AMINO_JSON and
/// the signature is over the amino `StdSignDoc`. That document is made from
/// each message's protobuf descriptor, which the node has and this crate does
/// not, so `std_sign_doc` builds it from the tx's body and fee (the node's
/// `verdict_app::tx::amino::sign_bytes`).
pub fn sign_tx_amino(
    spec: &TxSpec,
    key: &AccountKey,
    sequence: u64,
    std_sign_doc: impl FnOnce(&TxBody, &Fee) -> Vec<u8>,
) -> Vec<u8> {
    let body = body(spec);
    let auth_info = auth_info(spec, key, sequence, SignMode::LegacyAminoJson);
    let fee = auth_info.fee.clone().unwrap_or_default();
    let signature = key.sign(&std_sign_doc(&body, &fee));
    TxRaw {
        body_bytes: body.encode_to_vec(),
        auth_info_bytes: auth_info.encode_to_vec(),
        signatures: vec![signature],
    }
    .encode_to_vec()
}

/// The unsigned form `Simulate` takes (SIGN_MODE_UNSPECIFIED, empty signature).
pub fn simulate_tx(spec: &TxSpec, key: &AccountKey, sequence: u64) -> Vec<u8> {
    TxRaw {
        body_bytes: body(spec).encode_to_vec(),
        auth_info_bytes: auth_info(spec, key, sequence, SignMode::Unspecified).encode_to_vec(),
        signatures: vec![vec![]],
    }
    .encode_to_vec()
}

/// `MsgCreateValidator` for operator `op` with consensus key `ed25519_pubkey`,
/// self-bond `amount`, commission `rate_atomics` (LegacyDec atomics, 18
/// decimals), max rate 100 %, max change 1 %, min self-delegation 1. Used by
/// the CLI, gentxs of test nets and the simulation.
#[allow(deprecated)] // `delegator_address` is deprecated on the wire type but still a field
pub fn create_validator_msg(
    op: &Addr,
    ed25519_pubkey: &[u8],
    amount: &Coin,
    moniker: &str,
    rate_atomics: &str,
) -> Any {
    use cosmrs::proto::cosmos::staking::v1beta1 as st;
    Any {
        type_url: "/cosmos.staking.v1beta1.MsgCreateValidator".into(),
        value: st::MsgCreateValidator {
            description: Some(st::Description {
                moniker: moniker.into(),
                ..Default::default()
            }),
            commission: Some(st::CommissionRates {
                rate: rate_atomics.into(),
                max_rate: "1000000000000000000".into(),
                max_change_rate: "10000000000000000".into(),
            }),
            min_self_delegation: "1".into(),
            delegator_address: String::new(),
            validator_address: op.valoper(),
            pubkey: Some(Any {
                type_url: "/cosmos.crypto.ed25519.PubKey".into(),
                value: cosmrs::proto::cosmos::crypto::ed25519::PubKey {
                    key: ed25519_pubkey.to_vec(),
                }
                .encode_to_vec(),
            }),
            value: Some(amount.to_proto()),
        }
        .encode_to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_derive_on_the_cosmos_hd_path_to_sdk_addresses() {
        let phrase = format!("{}art", "abandon ".repeat(23));
        let k = AccountKey::from_mnemonic(&phrase, "").expect("key");
        assert_eq!(
            hex::encode(k.public_key()),
            "02ba66a84cf7839af172a13e7fc9f5e7008cb8bca1585f8f3bafb3039eda3c1fdd"
        );
        // The SDK's cosmos1r5v5srda7xfth3hn2s26txvrcrntldju… with Verdict's prefix.
        assert_eq!(
            k.address().bech32(),
            "verdict1r5v5srda7xfth3hn2s26txvrcrntldjuxrv4vc"
        );
        let again = AccountKey::from_bytes(&k.secret_bytes()).expect("key");
        assert_eq!(again.address(), k.address());
    }

    #[test]
    fn type_urls_are_the_ones_the_modules_accept() {
        assert_eq!(
            SECP256K1_PUBKEY_URL,
            verdict_auth::query::SECP256K1_PUBKEY_URL
        );
        assert_eq!(MSG_SEND_URL, verdict_bank::msgs::MSG_SEND_URL);
    }
}
