//! ProcessProposal on arbitrary blocks whose tx[0] looks valid: the injected
//! vote extensions of height 1 carry fuzzed extension bytes and beacon fields
//! but real signatures from the first n validators, so the checks behind the
//! signature check (extension decoding, power, beacon) are reached. Never
//! panics, never moves committed state, and accepts only blocks whose
//! extensions carry more than 2/3 of the power.
//!
//!   make fuzz FUZZ_TARGET=process_proposal
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use tendermint_abci::Application;
use tendermint_proto::v0_38::abci::response_process_proposal::ProposalStatus;
use tendermint_proto::v0_38::abci::{CommitInfo, RequestProcessProposal, Validator, VoteInfo};
use verdict_app::vote_ext::{encode_injected, extension_sign_bytes};
use verdict_proto::app::v1::{InjectedVote, InjectedVoteExtensions};

/// `data` as chunks, each a little-endian u16 length and that many bytes.
fn chunks(mut data: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    while let [a, b, rest @ ..] = data {
        let n = usize::from(u16::from_le_bytes([*a, *b])).min(rest.len());
        out.push(&rest[..n]);
        data = &rest[n..];
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let f = common::fixture();
    let before = common::committed(&f.app);
    let (flags, rest) = data.split_first().unwrap_or((&0, &[]));
    let n = usize::from(flags % 5);
    let parts = chunks(rest);
    let part = |i: usize| parts.get(i).copied().unwrap_or_default().to_vec();
    let votes = (0..n)
        .map(|i| {
            let ext = part(i);
            let msg = extension_sign_bytes(&ext, 1, 0, common::CHAIN);
            InjectedVote {
                validator_address: f.addresses[i].clone(),
                vote_extension: ext,
                extension_signature: f.keys[i].sign(&msg).to_bytes().to_vec(),
            }
        })
        .collect();
    let injected = InjectedVoteExtensions {
        height: 1,
        round: 0,
        votes,
        beacon_reveal: part(n),
        beacon_anchor: part(n + 1),
    };
    let mut txs = vec![];
    if flags & 0x80 == 0 {
        txs.push(encode_injected(&injected).into());
    }
    txs.extend(parts.iter().skip(n + 2).map(|t| t.to_vec().into()));
    let last_commit = CommitInfo {
        round: 0,
        votes: f
            .addresses
            .iter()
            .map(|a| VoteInfo {
                validator: Some(Validator {
                    address: a.clone().into(),
                    power: 10,
                }),
                block_id_flag: 2,
            })
            .collect(),
    };
    let r = f.app.process_proposal(RequestProcessProposal {
        txs,
        proposed_last_commit: Some(last_commit),
        misbehavior: vec![],
        hash: vec![1; 32].into(),
        height: 2,
        time: Some(common::time(2)),
        next_validators_hash: vec![].into(),
        proposer_address: f.addresses[0].clone().into(),
    });
    if r.status == ProposalStatus::Accept as i32 {
        assert!(flags & 0x80 == 0 && n >= 3, "accepted {n} of 4 extensions");
    }
    assert_eq!(common::committed(&f.app), before, "committed state moved");
});
