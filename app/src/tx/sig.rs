//! Public keys and secp256k1 signatures, with a bounded cache of verified
//! signatures so that a tx verified in CheckTx is not verified again in
//! FinalizeBlock.

use cosmrs::proto::cosmos::crypto::secp256k1::PubKey;
use cosmrs::proto::cosmos::tx::v1beta1::SignerInfo;
use prost::Message;
use sha2::Digest;
use verdict_auth::query::SECP256K1_PUBKEY_URL;
use verdict_core::codes;

use crate::error::TxFail;

pub(super) fn pubkey_of(info: &SignerInfo) -> Result<Option<Vec<u8>>, TxFail> {
    match &info.public_key {
        None => Ok(None),
        Some(any) if any.type_url == SECP256K1_PUBKEY_URL => {
            let pk = PubKey::decode(any.value.as_slice())
                .map_err(|e| TxFail::new(codes::INVALID_PUBKEY, format!("bad public key: {e}")))?;
            if pk.key.len() != 33 {
                return Err(TxFail::new(
                    codes::INVALID_PUBKEY,
                    "secp256k1 public key must be 33 bytes (compressed): invalid pubkey",
                ));
            }
            Ok(Some(pk.key))
        }
        Some(any) => Err(TxFail::new(
            codes::INVALID_PUBKEY,
            format!(
                "unsupported public key type {}: invalid pubkey",
                any.type_url
            ),
        )),
    }
}

pub use verdict_core::address::address_of_pubkey;

/// ECDSA over sha256(msg), low-S only (high-S signatures are malleable; the SDK
/// rejects them, and libsecp256k1's verify does too). libsecp256k1 (C, built from
/// the crate's bundled source) verifies about 4× faster than pure-Rust k256, and
/// signature checks dominate CheckTx (bench: checktx).
pub(super) fn verify_secp256k1(pk: &[u8], msg: &[u8], sig: &[u8]) -> bool {
    // Fixed sizes first: with them the memo key below encodes its inputs
    // unambiguously (an attacker-sized signature could otherwise shift bytes
    // between `sig` and `msg` and hit another tx's remembered success).
    if pk.len() != 33 || sig.len() != 64 {
        return false;
    }
    // Verification is a pure function of its inputs, so a remembered success is
    // the same answer on every node: a tx checked by this node's CheckTx is not
    // verified a second time when its block is executed.
    let memo_key: [u8; 32] = {
        let mut h = sha2::Sha256::new();
        h.update(pk);
        h.update(sig);
        h.update(msg);
        h.finalize().into()
    };
    if VERIFIED.lock().is_ok_and(|m| m.contains(&memo_key)) {
        return true;
    }
    let ok = verify_uncached(pk, msg, sig);
    if ok {
        if let Ok(mut m) = VERIFIED.lock() {
            m.insert(memo_key);
        }
    }
    ok
}

/// Remembered successful verifications, oldest dropped first.
static VERIFIED: std::sync::Mutex<VerifiedSet> = std::sync::Mutex::new(VerifiedSet::new());

struct VerifiedSet {
    set: std::collections::BTreeSet<[u8; 32]>,
    order: std::collections::VecDeque<[u8; 32]>,
}

impl VerifiedSet {
    const CAPACITY: usize = 200_000;

    const fn new() -> Self {
        VerifiedSet {
            set: std::collections::BTreeSet::new(),
            order: std::collections::VecDeque::new(),
        }
    }

    fn contains(&self, k: &[u8; 32]) -> bool {
        self.set.contains(k)
    }

    fn insert(&mut self, k: [u8; 32]) {
        if self.set.insert(k) {
            self.order.push_back(k);
            if self.order.len() > Self::CAPACITY {
                if let Some(old) = self.order.pop_front() {
                    self.set.remove(&old);
                }
            }
        }
    }
}

fn verify_uncached(pk: &[u8], msg: &[u8], sig: &[u8]) -> bool {
    static CTX: std::sync::OnceLock<secp256k1::Secp256k1<secp256k1::VerifyOnly>> =
        std::sync::OnceLock::new();
    let ctx = CTX.get_or_init(secp256k1::Secp256k1::verification_only);
    let Ok(pk) = secp256k1::PublicKey::from_slice(pk) else {
        return false;
    };
    let Ok(sig) = secp256k1::ecdsa::Signature::from_compact(sig) else {
        return false;
    };
    let digest: [u8; 32] = sha2::Sha256::digest(msg).into();
    ctx.verify_ecdsa(&secp256k1::Message::from_digest(digest), &sig, &pk)
        .is_ok()
}
