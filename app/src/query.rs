//! ABCI `Query`.
//!
//! Paths served now:
//! - `store/key` (also `/store/key`): raw key in `data`; value at `height` (0 =
//!   latest); with `prove` an ICS-23 proof against the app hash of that height, as
//!   a `ProofOp` of type `ics23:jmt`.
//!
//! Every response sets `height`. The gRPC-path router of the bank issue plugs in here.

use prost::Message;
use tendermint_proto::v0_38::abci::{RequestQuery, ResponseQuery};
use tendermint_proto::v0_38::crypto::{ProofOp, ProofOps};

use crate::store::{Store, StoreError};

/// `ProofOp.type` of a proof from this store.
pub const PROOF_OP_TYPE: &str = "ics23:jmt";

pub fn handle(store: &Store, req: &RequestQuery) -> ResponseQuery {
    match req.path.trim_start_matches('/') {
        "store/key" => store_key(store, req),
        other => err(6, format!("unknown query path {other:?}"), 0),
    }
}

fn err(code: u32, log: String, height: i64) -> ResponseQuery {
    ResponseQuery {
        code,
        log,
        codespace: crate::error::SDK_CODESPACE.into(),
        height,
        ..Default::default()
    }
}

fn store_key(store: &Store, req: &RequestQuery) -> ResponseQuery {
    let committed = match store.height() {
        Ok(h) => h,
        Err(e) => return err(1, e.to_string(), 0),
    };
    let height = match u64::try_from(req.height) {
        Ok(0) => committed,
        Ok(h) => h,
        Err(_) => return err(18, format!("invalid height {}", req.height), 0),
    };
    let h_i64 = i64::try_from(height).unwrap_or(i64::MAX);
    let result = if req.prove {
        store.get_with_proof(&req.data, height).map(|(v, p)| {
            (
                v,
                Some(ProofOps {
                    ops: vec![ProofOp {
                        r#type: PROOF_OP_TYPE.into(),
                        key: req.data.to_vec(),
                        data: p.encode_to_vec(),
                    }],
                }),
            )
        })
    } else {
        store.get_at(&req.data, height).map(|v| (v, None))
    };
    match result {
        Ok((value, proof_ops)) => ResponseQuery {
            code: 0,
            key: req.data.clone(),
            value: value.unwrap_or_default().into(),
            proof_ops,
            height: h_i64,
            ..Default::default()
        },
        // SDK ErrInvalidHeight is 26.
        Err(e @ StoreError::NoSuchHeight { .. }) => err(26, e.to_string(), h_i64),
        Err(e) => err(1, e.to_string(), h_i64),
    }
}
