//! ABCI Query on every route the node answers (and arbitrary paths), with
//! arbitrary request bytes, heights and `prove`: never panics, never moves
//! committed state, answers an error code or a value.
//!
//!   make fuzz FUZZ_TARGET=query
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use tendermint_abci::Application;
use tendermint_proto::v0_38::abci::RequestQuery;

const RAW_PATHS: [&str; 3] = ["store/key", "store/ibc/key", "/store/key"];

fuzz_target!(|data: &[u8]| {
    let f = common::fixture();
    let before = common::committed(&f.app);
    let [which, flags, rest @ ..] = data else {
        return;
    };
    let routes: Vec<&str> = verdict_app::query::routes().keys().copied().collect();
    let extra = RAW_PATHS.len() + 1;
    let i = usize::from(*which) % (routes.len() + extra);
    let (path, body) = if let Some(p) = routes.get(i) {
        (p.to_string(), rest)
    } else if let Some(p) = RAW_PATHS.get(i - routes.len()) {
        (p.to_string(), rest)
    } else {
        // An arbitrary path: the bytes up to the first 0, then the body.
        let end = rest.iter().position(|b| *b == 0).unwrap_or(rest.len());
        (
            String::from_utf8_lossy(&rest[..end]).into_owned(),
            rest.get(end + 1..).unwrap_or_default(),
        )
    };
    let height = match flags & 0x7 {
        0 => 0,
        1 => 1,
        2 => 2,
        3 => -1,
        4 => i64::MAX,
        _ => i64::from(flags >> 3),
    };
    let r = f.app.query(RequestQuery {
        data: body.to_vec().into(),
        path: path.clone(),
        height,
        prove: flags & 0x80 != 0,
    });
    if height > 1 && r.code == 0 && path.trim_start_matches('/').starts_with("store") {
        panic!("a proof at uncommitted height {height} was served");
    }
    assert_eq!(common::committed(&f.app), before, "committed state moved");
});
