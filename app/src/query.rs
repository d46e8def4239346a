//! ABCI `Query`: one router keyed by gRPC method path, with protobuf bytes in and
//! out, exactly as cosmjs sends over CometBFT RPC (and as the gRPC server will
//! forward). Also `store/key` for raw, provable reads of app state, and
//! `store/ibc/key` for IBC paths with their two-level proof (`ProofOps` of two
//! ops: the path in the `ibc` sub-store, then the sub-store root in the app hash).
//!
//! Every response sets `height`. Module queries read the latest committed state;
//! a request for another height is refused with code 26 (only `store/key` serves
//! history, from the JMT).

use cosmrs::proto::cosmos::base::abci::v1beta1::{GasInfo, Result as AbciResult};
use cosmrs::proto::cosmos::base::tendermint::v1beta1::{GetNodeInfoResponse, Module, VersionInfo};
use cosmrs::proto::cosmos::tx::v1beta1::{
    GetTxRequest, GetTxResponse, SimulateRequest, SimulateResponse,
};
use std::collections::BTreeMap;
use std::sync::OnceLock;

use prost::Message;
use tendermint_proto::v0_38::abci::{RequestQuery, ResponseQuery};
use tendermint_proto::v0_38::crypto::{ProofOp, ProofOps};
use verdict_core::module::{QueryAnswer, QueryError, QueryFn};
use verdict_core::storage::{Layered, Overlay};
use verdict_core::{codes, SDK_CODESPACE};

use crate::store::{Store, StoreError};
use crate::tx::{self, Mode};

/// `ProofOp.type` of a proof from this store.
pub const PROOF_OP_TYPE: &str = "ics23:jmt";

type Answer = QueryAnswer;

/// How a route is answered: by a module over committed state, or by an app
/// service that needs the store itself (proofs, the tx index, simulation).
#[derive(Clone, Copy)]
pub enum Handler {
    State(QueryFn),
    Service(fn(&Store, u64, &str, &[u8]) -> Answer),
}

/// The one route table: every gRPC method path the node answers, over ABCI
/// `Query` and the gRPC server alike. Module routes come from the module list;
/// the app adds its services and IBC core's queries (which need proofs).
pub fn routes() -> &'static BTreeMap<&'static str, Handler> {
    static TABLE: OnceLock<BTreeMap<&'static str, Handler>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut t: BTreeMap<&'static str, Handler> = crate::modules::routes()
            .into_iter()
            .map(|r| (r.path, Handler::State(r.handler)))
            .collect();
        let services: [(&'static str, Handler); 4] = [
            (
                "/cosmos.tx.v1beta1.Service/Simulate",
                Handler::Service(simulate),
            ),
            ("/cosmos.tx.v1beta1.Service/GetTx", Handler::Service(get_tx)),
            (NODE_INFO, Handler::Service(|_, _, _, _| Ok(node_info()))),
            (
                "/cosmos.base.node.v1beta1.Service/Config",
                Handler::Service(|store, _, _, _| Ok(node_config(store))),
            ),
        ];
        t.extend(services);
        t.extend(
            verdict_ibc::query::PATHS
                .iter()
                .map(|p| (*p, Handler::Service(ibc_query))),
        );
        t
    })
}

pub(crate) const NODE_INFO: &str = "/cosmos.base.tendermint.v1beta1.Service/GetNodeInfo";

pub fn handle(store: &Store, req: &RequestQuery) -> ResponseQuery {
    let committed = match store.height() {
        Ok(h) => h,
        Err(e) => return err(1, e.to_string(), 0),
    };
    let path = req.path.as_str();
    if path.trim_start_matches('/') == "store/key" {
        return store_key(store, req, committed);
    }
    if path.trim_start_matches('/') == "store/ibc/key" {
        return store_ibc_key(store, req, committed);
    }
    let latest = i64::try_from(committed).unwrap_or(i64::MAX);
    if committed == 0 {
        return err(
            codes::INVALID_HEIGHT,
            "the chain has no committed block yet".into(),
            0,
        );
    }
    if req.height != 0 && req.height != latest {
        return err(
            codes::INVALID_HEIGHT,
            format!(
                "queries at height {} are not served (latest is {latest}); historical reads go through store/key",
                req.height
            ),
            latest,
        );
    }
    let answer = match routes().get(path) {
        Some(Handler::State(f)) => f(store, &req.data),
        Some(Handler::Service(f)) => f(store, committed, path, &req.data),
        None => Err(QueryError::new(
            codes::UNKNOWN_REQUEST,
            format!("unknown query path {path:?}: unknown request"),
        )),
    };
    match answer {
        Ok(value) => ResponseQuery {
            code: 0,
            value: value.into(),
            height: latest,
            ..Default::default()
        },
        Err(e) => err(e.code, e.log, latest),
    }
}

/// The IBC query services (client, connection, channel) over the latest committed state, with proofs from
/// the store's two-level commitment at that height.
fn ibc_query(store: &Store, committed: u64, path: &str, data: &[u8]) -> Answer {
    let mut ov = Overlay::new();
    let mut view = Layered::new(store, &mut ov);
    let chain_id = crate::state::chain_id(&view);
    let last = crate::state::LAST_BLOCK.may_load(&view).ok().flatten();
    let unbonding = verdict_staking::state::params(&view).unbonding_time_seconds;
    let host = verdict_ibc::context::HostInfo::new(
        &chain_id,
        committed,
        last.as_ref().map_or(0, |b| b.time_seconds),
        last.as_ref().map_or(0, |b| b.time_nanos),
        unbonding,
    )
    .map_err(|e| QueryError::new(1, format!("ibc host: {e}")))?;
    let prove = |height: u64, path: &[u8]| {
        store
            .get_ibc_with_proof(path, height)
            .ok()
            .map(|(_, p)| p.to_bytes())
    };
    let ctx = verdict_ibc::context::IbcContext::new(&mut view, host).with_prover(&prove);
    let whole = verdict_ibc::query::handle(&ctx, path, data)
        .unwrap_or_else(|| Err((codes::UNKNOWN_REQUEST, "unknown request".into())))
        .map_err(|(code, log)| QueryError::new(code, log))?;
    crate::ibc_page::paginate(path, data, whole)
}

/// Runs the transaction on a throwaway overlay of committed state: gas used and
/// the result, signatures not required.
#[allow(deprecated)] // `tx` and `Result.data` are deprecated wire fields, still part of the API
fn simulate(store: &Store, committed: u64, _path: &str, data: &[u8]) -> Answer {
    let req = SimulateRequest::decode(data)
        .map_err(|e| QueryError::new(codes::TX_DECODE, format!("bad SimulateRequest: {e}")))?;
    let tx_bytes = if !req.tx_bytes.is_empty() {
        req.tx_bytes
    } else if let Some(t) = req.tx {
        // Deprecated field: re-encode as TxRaw.
        cosmrs::proto::cosmos::tx::v1beta1::TxRaw {
            body_bytes: t.body.map(|b| b.encode_to_vec()).unwrap_or_default(),
            auth_info_bytes: t.auth_info.map(|a| a.encode_to_vec()).unwrap_or_default(),
            signatures: t.signatures,
        }
        .encode_to_vec()
    } else {
        return Err(QueryError::new(
            codes::INVALID_REQUEST,
            "empty simulate request",
        ));
    };
    let mut ov = Overlay::new();
    let mut view = Layered::new(store, &mut ov);
    let info = crate::state::next_block_info(&view, committed);
    let params = crate::state::params(&view);
    let out = tx::run(&mut view, &tx_bytes, &info, &params, Mode::Simulate);
    if out.code != 0 {
        return Err(QueryError::new(out.code, out.log));
    }
    let msg_data =
        cosmrs::proto::cosmos::base::abci::v1beta1::TxMsgData::decode(out.data.as_slice())
            .unwrap_or_default();
    Ok(SimulateResponse {
        gas_info: Some(GasInfo {
            gas_wanted: out.gas_wanted,
            gas_used: out.gas_used,
        }),
        result: Some(AbciResult {
            data: vec![],
            log: out.log,
            events: out.events.iter().map(|e| e.to_abci()).collect(),
            msg_responses: msg_data.msg_responses,
        }),
    }
    .encode_to_vec())
}

fn get_tx(store: &Store, _committed: u64, _path: &str, data: &[u8]) -> Answer {
    let req = GetTxRequest::decode(data)
        .map_err(|e| QueryError::new(codes::TX_DECODE, format!("bad GetTxRequest: {e}")))?;
    let hash = hex::decode(req.hash.trim_start_matches("0x")).map_err(|_| {
        QueryError::new(
            codes::INVALID_REQUEST,
            format!("tx hash {:?} is not hex", req.hash),
        )
    })?;
    let resp = indexed_tx(store, &hash)
        .map_err(|e| match e {
            crate::store::StoreError::TxIndexOff => no_tx_index(),
            e => QueryError::new(1, e.to_string()),
        })?
        .ok_or_else(|| {
            QueryError::new(
                codes::NOT_FOUND,
                format!(
                    "rpc error: code = NotFound desc = tx not found: {}",
                    req.hash
                ),
            )
        })?;
    Ok(resp.encode_to_vec())
}

/// What GetTx and GetTxsEvent answer on a node that keeps no tx index
/// (`index-txs = false`): the method is not served here (gRPC Unimplemented).
pub(crate) fn no_tx_index() -> QueryError {
    QueryError::new(
        codes::UNKNOWN_REQUEST,
        crate::store::StoreError::TxIndexOff.to_string(),
    )
}

/// The indexed tx with `hash` as GetTx answers it (the tx decoded from its
/// `Any` beside its result); `None` when this node has not indexed it.
pub fn indexed_tx(
    store: &Store,
    hash: &[u8],
) -> Result<Option<GetTxResponse>, crate::store::StoreError> {
    Ok(store.indexed_tx(hash)?.map(|resp| {
        let tx = resp.tx.as_ref().and_then(|any| {
            cosmrs::proto::cosmos::tx::v1beta1::Tx::decode(any.value.as_slice()).ok()
        });
        GetTxResponse {
            tx,
            tx_response: Some(resp),
        }
    }))
}

/// The CometBFT release `make setup` installs (keep in step with scripts/setup.sh).
pub const COMETBFT_VERSION: &str = "v0.38.26";

fn node_info() -> Vec<u8> {
    GetNodeInfoResponse {
        default_node_info: None,
        application_version: Some(VersionInfo {
            name: "verdict".into(),
            app_name: "verdictd".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            git_commit: String::new(),
            build_tags: String::new(),
            go_version: String::new(),
            // The consensus engine this app is built for and tested with
            // (scripts/setup.sh pins it); relayers read its version here.
            build_deps: vec![Module {
                path: "github.com/cometbft/cometbft".into(),
                version: COMETBFT_VERSION.into(),
                sum: String::new(),
            }],
            cosmos_sdk_version: String::new(),
        }),
    }
    .encode_to_vec()
}

/// `cosmos.base.node.v1beta1.Service/Config`: the chain's minimum gas price
/// (a consensus parameter here, the same on every node), which relayers read.
fn node_config(store: &dyn cosmwasm_std::Storage) -> Vec<u8> {
    cosmrs::proto::cosmos::base::node::v1beta1::ConfigResponse {
        minimum_gas_price: format!(
            "{}{}",
            crate::state::params(store).min_gas_price,
            verdict_core::address::FEE_DENOM
        ),
        pruning_keep_recent: String::new(),
        pruning_interval: String::new(),
        halt_height: 0,
    }
    .encode_to_vec()
}

fn err(code: u32, log: String, height: i64) -> ResponseQuery {
    ResponseQuery {
        code,
        log,
        codespace: SDK_CODESPACE.into(),
        height,
        ..Default::default()
    }
}

/// The height a `store/...` query reads: 0 means the latest committed.
fn store_height(req: &RequestQuery, committed: u64) -> Option<u64> {
    match u64::try_from(req.height) {
        Ok(0) => Some(committed),
        Ok(h) => Some(h),
        Err(_) => None,
    }
}

fn invalid_height(req: &RequestQuery) -> ResponseQuery {
    err(
        codes::INVALID_REQUEST,
        format!("invalid height {}", req.height),
        0,
    )
}

/// `store/ibc/key`: the value of an ICS-24 path (request data, e.g.
/// `clients/07-tendermint-0/clientState`) at a committed height, and with
/// `prove` its proof for the Merkle path `["ibc", path]`, innermost op first.
fn store_ibc_key(store: &Store, req: &RequestQuery, committed: u64) -> ResponseQuery {
    let Some(height) = store_height(req, committed) else {
        return invalid_height(req);
    };
    let h_i64 = i64::try_from(height).unwrap_or(i64::MAX);
    let result = if req.prove {
        store.get_ibc_with_proof(&req.data, height).map(|(v, p)| {
            (
                v,
                Some(ProofOps {
                    ops: vec![
                        ProofOp {
                            r#type: PROOF_OP_TYPE.into(),
                            key: req.data.to_vec(),
                            data: p.in_ibc_store.encode_to_vec(),
                        },
                        ProofOp {
                            r#type: PROOF_OP_TYPE.into(),
                            key: verdict_ibc::STORE_KEY.to_vec(),
                            data: p.ibc_root_in_app.encode_to_vec(),
                        },
                    ],
                }),
            )
        })
    } else {
        store.get_ibc_at(&req.data, height).map(|v| (v, None))
    };
    store_answer(req, result, h_i64)
}

fn store_key(store: &Store, req: &RequestQuery, committed: u64) -> ResponseQuery {
    let Some(height) = store_height(req, committed) else {
        return invalid_height(req);
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
    store_answer(req, result, h_i64)
}

fn store_answer(
    req: &RequestQuery,
    result: Result<(Option<Vec<u8>>, Option<ProofOps>), StoreError>,
    h_i64: i64,
) -> ResponseQuery {
    match result {
        Ok((value, proof_ops)) => ResponseQuery {
            code: 0,
            key: req.data.clone(),
            value: value.unwrap_or_default().into(),
            proof_ops,
            height: h_i64,
            ..Default::default()
        },
        Err(e @ (StoreError::NoSuchHeight { .. } | StoreError::Pruned { .. })) => {
            err(codes::INVALID_HEIGHT, e.to_string(), h_i64)
        }
        Err(e @ StoreError::EmptyIbcStore { .. }) => {
            err(codes::INVALID_REQUEST, e.to_string(), h_i64)
        }
        Err(e) => err(1, e.to_string(), h_i64),
    }
}

#[cfg(test)]
mod version_tests {
    #[test]
    fn the_reported_cometbft_version_is_the_one_setup_installs() {
        let setup = include_str!("../../scripts/setup.sh");
        let want = format!("COMETBFT_VERSION=\"{}\"", super::COMETBFT_VERSION);
        assert!(
            setup.contains(&want),
            "scripts/setup.sh does not pin {want}"
        );
    }
}

#[cfg(test)]
mod route_tests {
    use super::*;

    /// One table for ABCI and gRPC: every module route, the app's services and
    /// IBC core's queries, each path once (two modules claiming one path would
    /// be a silent override).
    #[test]
    fn the_route_table_has_every_module_route_once_and_the_app_services() {
        let module_routes = crate::modules::routes();
        let mut seen = std::collections::BTreeSet::new();
        for r in &module_routes {
            assert!(seen.insert(r.path), "{} is routed twice", r.path);
        }
        let table = routes();
        for path in [
            "/cosmos.bank.v1beta1.Query/Balance",
            "/cosmos.slashing.v1beta1.Query/SigningInfos",
            "/cosmos.base.node.v1beta1.Service/Config",
            "/cosmos.tx.v1beta1.Service/Simulate",
            "/verdict.inference.v1.Query/Job",
            "/verdict.inference.v1.Query/RemoteRequest",
            "/ibc.core.client.v1.Query/ClientState",
        ] {
            assert!(table.contains_key(path), "{path} is not routed");
        }
        assert_eq!(
            table.len(),
            module_routes.len() + 4 + verdict_ibc::query::PATHS.len()
        );
    }
}
