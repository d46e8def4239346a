//! VerifyVoteExtension on arbitrary extension bytes from any of the four
//! validators, an unknown address or none: never panics, never moves committed
//! state, accepts only what decodes under the cap, and a decoded extension is
//! canonical (re-encoding gives the same bytes, so nobody can vary a signed
//! extension's bytes without changing its meaning).
//!
//!   make fuzz FUZZ_TARGET=vote_extension
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use prost::Message;
use tendermint_abci::Application;
use tendermint_proto::v0_38::abci::response_verify_vote_extension::VerifyStatus;
use tendermint_proto::v0_38::abci::RequestVerifyVoteExtension;
use verdict_app::vote_ext::check_extension;

fuzz_target!(|data: &[u8]| {
    let f = common::fixture();
    let before = common::committed(&f.app);
    let (who, ext) = data.split_first().unwrap_or((&0, &[]));
    let address = match who % 6 {
        i @ 0..=3 => f.addresses[usize::from(i)].clone(),
        4 => vec![],
        _ => ext.get(..20).unwrap_or_default().to_vec(),
    };
    let decoded = check_extension(ext, common::MAX_VE_BYTES);
    if let Ok(ve) = &decoded {
        assert_eq!(ve.encode_to_vec(), ext, "a decoded extension is canonical");
    }
    let r = f.app.verify_vote_extension(RequestVerifyVoteExtension {
        hash: vec![0; 32].into(),
        validator_address: address.into(),
        height: 2,
        vote_extension: ext.to_vec().into(),
    });
    if r.status == VerifyStatus::Accept as i32 {
        assert!(
            decoded.is_ok(),
            "accepted an extension that does not decode"
        );
    }
    assert_eq!(common::committed(&f.app), before, "committed state moved");
});
