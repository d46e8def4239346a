//! The chain's randomness beacon: where committee seeds come from.
//!
//! Every block H advances `beacon(H) = sha256("verdict-beacon" ‖ beacon(H−1) ‖ H
//! [‖ r])`, where `r` is the contribution of H's proposer, carried in tx[0]: the
//! next element of a hash chain the proposer anchored earlier. Element i is the
//! preimage of element i−1 (the anchor is element 0), so at each step a
//! proposer has exactly one valid value: it can give it or withhold it, never
//! choose it. Committees of the jobs of block H are drawn from beacon(H+1), which
//! neither H's proposer (it does not know H+1's element) nor H+1's proposer (one
//! bit: give or withhold) can steer; tx order, block hashes and the choice of
//! vote extensions never enter it. README "Committees and the beacon" has the
//! bias argument.
//!
//! A proposer registers an anchor (32 bytes, in tx[0] as well) when it has no
//! chain or has used all [`CHAIN_LEN`] elements; that block gets no
//! contribution. The element check is one sha256: bounded work for every node.

use cosmwasm_std::{StdResult, Storage};
use sha2::{Digest, Sha256};

use crate::error::BeaconError;
pub use crate::state::types::BeaconChain;
use crate::state::{BEACON, CHAINS};

/// Elements of one hash chain (a proposer re-anchors after using them all).
pub const CHAIN_LEN: u32 = 4096;

/// The beacon after the last block (`None` before the first).
pub fn latest(s: &dyn Storage) -> StdResult<Option<[u8; 32]>> {
    BEACON.may_load(s)
}

/// What a proposer put in tx[0] for the beacon.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Contribution {
    None,
    Reveal([u8; 32]),
    Anchor([u8; 32]),
}

/// Whether `proposer` may contribute `reveal` / `anchor` on top of `s`.
pub fn validate(
    s: &dyn Storage,
    proposer: &[u8],
    reveal: &[u8],
    anchor: &[u8],
) -> Result<Contribution, BeaconError> {
    let chain = CHAINS.may_load(s, proposer)?;
    match (reveal.is_empty(), anchor.is_empty()) {
        (true, true) => Ok(Contribution::None),
        (false, false) => Err(BeaconError::RevealAndAnchor),
        (false, true) => {
            let r: [u8; 32] = reveal.try_into().map_err(|_| BeaconError::RevealLength)?;
            let c = chain.ok_or(BeaconError::NoChain)?;
            if c.used >= CHAIN_LEN {
                return Err(BeaconError::ChainUsedUp);
            }
            if <[u8; 32]>::from(Sha256::digest(r)) != c.last {
                return Err(BeaconError::NotPreimage);
            }
            Ok(Contribution::Reveal(r))
        }
        (true, false) => {
            let a: [u8; 32] = anchor.try_into().map_err(|_| BeaconError::AnchorLength)?;
            if chain.is_some_and(|c| c.used < CHAIN_LEN) {
                return Err(BeaconError::ChainNotUsedUp);
            }
            Ok(Contribution::Anchor(a))
        }
    }
}

/// [`validate`] with the reason as text (what app's ProcessProposal logs).
pub fn check(
    s: &dyn Storage,
    proposer: &[u8],
    reveal: &[u8],
    anchor: &[u8],
) -> Result<Contribution, String> {
    validate(s, proposer, reveal, anchor).map_err(|e| e.to_string())
}

/// FinalizeBlock(height): the beacon takes this block's contribution (an
/// invalid one counts as none) and returns its new value.
pub fn advance(
    s: &mut dyn Storage,
    height: u64,
    proposer: &[u8],
    reveal: &[u8],
    anchor: &[u8],
) -> StdResult<[u8; 32]> {
    let prev = BEACON.may_load(s)?.unwrap_or([0; 32]);
    let mut h = Sha256::new()
        .chain_update(b"verdict-beacon")
        .chain_update(prev)
        .chain_update(height.to_be_bytes());
    match validate(s, proposer, reveal, anchor).unwrap_or(Contribution::None) {
        Contribution::None => {}
        Contribution::Reveal(r) => {
            h.update(r);
            let mut c = CHAINS.load(s, proposer)?;
            c.last = r;
            c.used = c.used.saturating_add(1);
            CHAINS.save(s, proposer, &c)?;
        }
        Contribution::Anchor(a) => {
            let epoch = CHAINS
                .may_load(s, proposer)?
                .map_or(0, |c| c.epoch.saturating_add(1));
            CHAINS.save(
                s,
                proposer,
                &BeaconChain {
                    epoch,
                    last: a,
                    used: 0,
                },
            )?;
        }
    }
    let next: [u8; 32] = h.finalize().into();
    BEACON.save(s, &next)?;
    Ok(next)
}

/// Element `i` (0 = anchor) of the chain grown from `seed`:
/// sha256^(CHAIN_LEN − i)(seed). Off-chain (the proposer's own node).
pub fn element(seed: &[u8; 32], i: u32) -> [u8; 32] {
    let mut x = *seed;
    for _ in 0..CHAIN_LEN.saturating_sub(i) {
        x = Sha256::digest(x).into();
    }
    x
}

/// What `proposer`, whose chain of epoch e grows from `seed_of(e)`, puts in its
/// proposal on top of `s`: (reveal, anchor). Off-chain.
pub fn contribution(
    s: &dyn Storage,
    proposer: &[u8],
    seed_of: impl Fn(u32) -> [u8; 32],
) -> (Vec<u8>, Vec<u8>) {
    match CHAINS.may_load(s, proposer).ok().flatten() {
        Some(c) if c.used < CHAIN_LEN => (
            element(&seed_of(c.epoch), c.used.saturating_add(1)).to_vec(),
            vec![],
        ),
        Some(c) => (
            vec![],
            element(&seed_of(c.epoch.saturating_add(1)), 0).to_vec(),
        ),
        None => (vec![], element(&seed_of(0), 0).to_vec()),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::arithmetic_side_effects)]
    use super::*;
    use cosmwasm_std::testing::MockStorage;

    const P: [u8; 20] = [9; 20];

    fn seed(e: u32) -> [u8; 32] {
        Sha256::digest(e.to_be_bytes()).into()
    }

    #[test]
    fn a_proposer_anchors_then_reveals_one_unique_element_per_block() {
        let mut s = MockStorage::new();
        let (r, a) = contribution(&s, &P, seed);
        assert!(r.is_empty() && a.len() == 32);
        let b1 = advance(&mut s, 1, &P, &r, &a).unwrap();
        // The anchor block has no contribution: the same as an empty proposal.
        let mut t = MockStorage::new();
        assert_eq!(advance(&mut t, 1, &P, &[], &[]).unwrap(), b1);
        for h in 2..6u64 {
            let (r, a) = contribution(&s, &P, seed);
            assert!(a.is_empty());
            assert_eq!(
                check(&s, &P, &r, &a),
                Ok(Contribution::Reveal(r.clone().try_into().unwrap()))
            );
            // Any other value is refused (one valid value per step), and so is
            // the element after next or a repeat of the last one.
            let mut other = r.clone();
            other[0] ^= 1;
            assert_eq!(validate(&s, &P, &other, &[]), Err(BeaconError::NotPreimage));
            let c = CHAINS.load(&s, &P).unwrap();
            assert!(check(&s, &P, &c.last, &[]).is_err());
            assert_eq!(
                check(&s, &P, &[], &a_new()),
                Err("beacon: the proposer's chain is not used up".to_string()),
                "no re-anchoring mid-chain"
            );
            assert_eq!(
                validate(&s, &P, &r, &a_new()),
                Err(BeaconError::RevealAndAnchor)
            );
            advance(&mut s, h, &P, &r, &[]).unwrap();
        }
        assert_eq!(CHAINS.load(&s, &P).unwrap().used, 4);
    }

    fn a_new() -> [u8; 32] {
        [1; 32]
    }

    #[test]
    fn a_used_up_chain_is_reanchored_from_the_next_epoch() {
        let mut s = MockStorage::new();
        CHAINS
            .save(
                &mut s,
                &P,
                &BeaconChain {
                    epoch: 3,
                    last: [0; 32],
                    used: CHAIN_LEN,
                },
            )
            .unwrap();
        let (r, a) = contribution(&s, &P, seed);
        assert!(r.is_empty());
        assert_eq!(a, element(&seed(4), 0).to_vec());
        advance(&mut s, 7, &P, &r, &a).unwrap();
        let c = CHAINS.load(&s, &P).unwrap();
        assert_eq!((c.epoch, c.used), (4, 0));
    }

    fn anchored() -> MockStorage {
        let mut s = MockStorage::new();
        let (_, a) = contribution(&s, &P, seed);
        advance(&mut s, 1, &P, &[], &a).unwrap();
        s
    }

    #[test]
    fn the_beacon_takes_no_input_the_proposer_can_choose() {
        // The preimage is (tag, previous beacon, height, unique element): two
        // blocks at the same height on the same beacon differ only by whether
        // the proposer gave its element.
        let s = anchored();
        let (r, _) = contribution(&s, &P, seed);
        let a = advance(&mut anchored(), 2, &P, &r, &[]).unwrap();
        let b = advance(&mut anchored(), 2, &P, &[], &[]).unwrap();
        assert_ne!(a, b);
        let prev = BEACON.load(&s).unwrap();
        let want: [u8; 32] = Sha256::new()
            .chain_update(b"verdict-beacon")
            .chain_update(prev)
            .chain_update(2u64.to_be_bytes())
            .chain_update(&r)
            .finalize()
            .into();
        assert_eq!(a, want);
        // An invalid reveal counts as none.
        assert_eq!(advance(&mut anchored(), 2, &P, &[7; 32], &[]).unwrap(), b);
    }
}
