//! The Cosmos service methods whose answers live in the CometBFT node, not in
//! app state: broadcasting a tx, searching txs by event, blocks, validator sets
//! and sync status. They ask the node's RPC (`verdictd start --rpc`), answer in
//! the SDK's protobuf types, and are served over gRPC and REST like every other
//! route (not over ABCI `Query`: the node would be asking itself).

use cosmrs::proto::cosmos::base::abci::v1beta1::TxResponse;
use cosmrs::proto::cosmos::base::query::v1beta1::{PageRequest, PageResponse};
use cosmrs::proto::cosmos::base::tendermint::v1beta1 as tm_svc;
use cosmrs::proto::cosmos::tx::v1beta1::{
    BroadcastMode, BroadcastTxRequest, BroadcastTxResponse, GetTxResponse, GetTxsEventRequest,
    GetTxsEventResponse,
};
use prost::Message;
use tendermint_rpc::endpoint::{block, broadcast, status, tx_search, validators};
use verdict_client::rpc::Rpc;
use verdict_core::codes;
use verdict_core::module::QueryError;

use crate::store::Store;

/// The methods answered here, by gRPC path.
pub const PATHS: [&str; 7] = [
    "/cosmos.tx.v1beta1.Service/BroadcastTx",
    "/cosmos.tx.v1beta1.Service/GetTxsEvent",
    "/cosmos.base.tendermint.v1beta1.Service/GetLatestBlock",
    "/cosmos.base.tendermint.v1beta1.Service/GetBlockByHeight",
    "/cosmos.base.tendermint.v1beta1.Service/GetLatestValidatorSet",
    "/cosmos.base.tendermint.v1beta1.Service/GetValidatorSetByHeight",
    "/cosmos.base.tendermint.v1beta1.Service/GetSyncing",
];

/// Most items of one page, as the SDK (100).
const MAX_PAGE: u64 = 100;

pub fn serves(path: &str) -> bool {
    PATHS.contains(&path)
}

fn bad(log: impl Into<String>) -> QueryError {
    QueryError::new(codes::INVALID_REQUEST, log)
}

fn node(e: anyhow::Error) -> QueryError {
    QueryError::new(1, format!("the CometBFT node did not answer: {e:#}"))
}

fn decode<M: Message + Default>(data: &[u8]) -> Result<M, QueryError> {
    M::decode(data).map_err(|e| QueryError::new(codes::TX_DECODE, format!("bad request: {e}")))
}

/// Answers one of [`PATHS`] (blocking: it waits on the node's RPC).
pub fn call(rpc: &Rpc, store: &Store, path: &str, data: &[u8]) -> Result<Vec<u8>, QueryError> {
    let method = path.rsplit('/').next().unwrap_or_default();
    match method {
        "BroadcastTx" => broadcast_tx(rpc, decode(data)?),
        "GetTxsEvent" => txs_event(rpc, store, decode(data)?),
        // The latest and by-height answers have the same fields and tags: one
        // encoding serves both methods.
        "GetLatestBlock" => block_answer(rpc, None),
        "GetBlockByHeight" => {
            let req: tm_svc::GetBlockByHeightRequest = decode(data)?;
            block_answer(rpc, Some(positive(req.height)?))
        }
        "GetLatestValidatorSet" => {
            let req: tm_svc::GetLatestValidatorSetRequest = decode(data)?;
            valset_answer(rpc, None, req.pagination)
        }
        "GetValidatorSetByHeight" => {
            let req: tm_svc::GetValidatorSetByHeightRequest = decode(data)?;
            valset_answer(rpc, Some(positive(req.height)?), req.pagination)
        }
        "GetSyncing" => {
            let st: status::Response = rpc.get_as("status").map_err(node)?;
            Ok(tm_svc::GetSyncingResponse {
                syncing: st.sync_info.catching_up,
            }
            .encode_to_vec())
        }
        other => Err(QueryError::new(
            codes::UNKNOWN_REQUEST,
            format!("unknown node service method {other:?}"),
        )),
    }
}

/// GetBlockByHeight's answer (also GetLatestBlock's: same fields and tags).
fn block_answer(rpc: &Rpc, height: Option<u64>) -> Result<Vec<u8>, QueryError> {
    let (block_id, block, sdk_block) = block_at(rpc, height)?;
    Ok(tm_svc::GetBlockByHeightResponse {
        block_id: Some(block_id),
        block: Some(block),
        sdk_block: Some(sdk_block),
    }
    .encode_to_vec())
}

/// GetValidatorSetByHeight's answer (also GetLatestValidatorSet's).
fn valset_answer(
    rpc: &Rpc,
    height: Option<u64>,
    page: Option<PageRequest>,
) -> Result<Vec<u8>, QueryError> {
    let (block_height, validators, total) = validator_set(rpc, height, page)?;
    Ok(tm_svc::GetValidatorSetByHeightResponse {
        block_height,
        validators,
        pagination: Some(PageResponse {
            next_key: vec![],
            total,
        }),
    }
    .encode_to_vec())
}

/// A GetNodeInfo answer of the route table (the app's version) with the node's
/// own `default_node_info` (id, network, moniker, ...) from CometBFT's status,
/// as the SDK's answer has it. The answer is unchanged if the node is silent.
pub fn with_node_info(rpc: &Rpc, answer: Vec<u8>) -> Vec<u8> {
    let Ok(mut resp) = tm_svc::GetNodeInfoResponse::decode(answer.as_slice()) else {
        return answer;
    };
    let Ok(st) = rpc.get_as::<status::Response>("status") else {
        return answer;
    };
    let n = st.node_info;
    use tendermint_proto::p2p::{DefaultNodeInfo, DefaultNodeInfoOther, ProtocolVersion};
    resp.default_node_info = Some(DefaultNodeInfo {
        protocol_version: Some(ProtocolVersion {
            p2p: n.protocol_version.p2p,
            block: n.protocol_version.block,
            app: n.protocol_version.app,
        }),
        default_node_id: n.id.to_string(),
        listen_addr: n.listen_addr.as_str().to_string(),
        network: n.network.to_string(),
        version: n.version.to_string(),
        channels: hex::decode(n.channels.to_string()).unwrap_or_default(),
        moniker: n.moniker.to_string(),
        other: Some(DefaultNodeInfoOther {
            tx_index: if bool::from(n.other.tx_index) {
                "on"
            } else {
                "off"
            }
            .into(),
            rpc_address: n.other.rpc_address.clone(),
        }),
    });
    resp.encode_to_vec()
}

fn positive(h: i64) -> Result<u64, QueryError> {
    u64::try_from(h)
        .ok()
        .filter(|h| *h > 0)
        .ok_or_else(|| bad(format!("height {h} must be positive")))
}

fn broadcast_tx(rpc: &Rpc, req: BroadcastTxRequest) -> Result<Vec<u8>, QueryError> {
    let method = match BroadcastMode::try_from(req.mode) {
        // BLOCK is deprecated in the SDK (0.47+) and answered as SYNC there too.
        Ok(BroadcastMode::Sync) | Ok(BroadcastMode::Block) => "broadcast_tx_sync",
        Ok(BroadcastMode::Async) => "broadcast_tx_async",
        _ => {
            return Err(bad(format!(
                "unsupported broadcast mode {}; supported types: BROADCAST_MODE_SYNC, BROADCAST_MODE_ASYNC",
                req.mode
            )))
        }
    };
    if req.tx_bytes.is_empty() {
        return Err(bad("invalid empty tx"));
    }
    let r: broadcast::tx_sync::Response = rpc
        .get_as(&format!("{method}?tx=0x{}", hex::encode(&req.tx_bytes)))
        .map_err(node)?;
    Ok(BroadcastTxResponse {
        tx_response: Some(TxResponse {
            txhash: r.hash.to_string(),
            code: r.code.value(),
            codespace: r.codespace,
            raw_log: r.log,
            data: hex::encode_upper(r.data),
            ..Default::default()
        }),
    }
    .encode_to_vec())
}

/// CometBFT's event query of a GetTxsEvent request: `query` (SDK 0.50), else
/// the deprecated `events` joined with AND.
#[allow(deprecated)]
fn event_query(req: &GetTxsEventRequest) -> Result<String, QueryError> {
    let q = if !req.query.trim().is_empty() {
        req.query.trim().to_string()
    } else {
        req.events
            .iter()
            .map(|e| e.trim())
            .filter(|e| !e.is_empty())
            .collect::<Vec<_>>()
            .join(" AND ")
    };
    if q.is_empty() {
        return Err(bad("query cannot be empty"));
    }
    // The query travels in a URL: only what CometBFT's grammar uses.
    if let Some(c) = q
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || " ._-'=<>/:,".contains(*c)))
    {
        return Err(bad(format!(
            "character {c:?} is not allowed in an event query"
        )));
    }
    Ok(q)
}

fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'.' | b'_' | b'-' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[allow(deprecated)] // `events` and `pagination`: deprecated in SDK 0.50, still sent by clients
fn txs_event(rpc: &Rpc, store: &Store, req: GetTxsEventRequest) -> Result<Vec<u8>, QueryError> {
    if !store.tx_index_on() {
        // The txs come from this node's index: without it the page would be empty.
        return Err(crate::query::no_tx_index());
    }
    let query = event_query(&req)?;
    // Page and limit: the request's own fields (SDK 0.50), else pagination's
    // offset/limit; pages count from 1.
    let limit = match (req.limit, req.pagination.as_ref().map_or(0, |p| p.limit)) {
        (0, l) | (l, _) => page_limit(l),
    };
    let page = match (req.page, req.pagination.as_ref().map_or(0, |p| p.offset)) {
        (0, 0) => 1,
        (0, off) => off / limit + 1,
        (p, _) => p,
    };
    let order = if req.order_by == 2 { "desc" } else { "asc" };
    let found: tx_search::Response = rpc
        .get_as(&format!(
            "tx_search?query=%22{}%22&page={page}&per_page={limit}&order_by=%22{order}%22",
            percent_encode(&query)
        ))
        .map_err(node)?;
    let mut out = GetTxsEventResponse {
        total: u64::from(found.total_count),
        pagination: Some(PageResponse {
            next_key: vec![],
            total: u64::from(found.total_count),
        }),
        ..Default::default()
    };
    for t in found.txs {
        // A tx the node indexed but this app's index has not (a block being
        // committed right now) is left out rather than shown half-filled.
        if let Ok(Some(GetTxResponse {
            tx: Some(tx),
            tx_response: Some(r),
        })) = crate::query::indexed_tx(store, t.hash.as_bytes())
        {
            out.txs.push(tx);
            out.tx_responses.push(r);
        }
    }
    Ok(out.encode_to_vec())
}

/// A requested page size: 0 is the default, [`MAX_PAGE`] the most.
fn page_limit(asked: u64) -> u64 {
    if asked == 0 {
        MAX_PAGE
    } else {
        asked.min(MAX_PAGE)
    }
}

type BlockParts = (
    tendermint_proto::types::BlockId,
    tendermint_proto::types::Block,
    tm_svc::Block,
);

fn block_at(rpc: &Rpc, height: Option<u64>) -> Result<BlockParts, QueryError> {
    let path = match height {
        Some(h) => format!("block?height={h}"),
        None => "block".into(),
    };
    let r: block::Response = rpc.get_as(&path).map_err(node)?;
    let id: tendermint_proto::types::BlockId = r.block_id.into();
    let raw: tendermint_proto::types::Block = r.block.into();
    let sdk = sdk_block(&raw);
    Ok((id, raw, sdk))
}

/// The SDK's `Block`: CometBFT's, with the proposer as a bech32 consensus address.
fn sdk_block(raw: &tendermint_proto::types::Block) -> tm_svc::Block {
    let header = raw.header.clone().map(|h| tm_svc::Header {
        version: h.version,
        chain_id: h.chain_id,
        height: h.height,
        time: h.time,
        last_block_id: h.last_block_id,
        last_commit_hash: h.last_commit_hash,
        data_hash: h.data_hash,
        validators_hash: h.validators_hash,
        next_validators_hash: h.next_validators_hash,
        consensus_hash: h.consensus_hash,
        app_hash: h.app_hash,
        last_results_hash: h.last_results_hash,
        evidence_hash: h.evidence_hash,
        proposer_address: valcons(&h.proposer_address),
    });
    tm_svc::Block {
        header,
        data: raw.data.clone(),
        evidence: raw.evidence.clone(),
        last_commit: raw.last_commit.clone(),
    }
}

fn valcons(addr: &[u8]) -> String {
    <[u8; 20]>::try_from(addr)
        .map(|a| verdict_core::address::Addr(a).valcons())
        .unwrap_or_default()
}

fn validator_set(
    rpc: &Rpc,
    height: Option<u64>,
    page: Option<PageRequest>,
) -> Result<(i64, Vec<tm_svc::Validator>, u64), QueryError> {
    let (offset, limit) = page.map_or((0, MAX_PAGE), |p| (p.offset, page_limit(p.limit)));
    // CometBFT pages from 1; an offset that is not a page boundary starts at
    // the page that holds it.
    let page_no = offset / limit + 1;
    let mut path = format!("validators?page={page_no}&per_page={limit}");
    if let Some(h) = height {
        path.push_str(&format!("&height={h}"));
    }
    let r: validators::Response = rpc.get_as(&path).map_err(node)?;
    let vals = r
        .validators
        .iter()
        .map(|v| tm_svc::Validator {
            address: valcons(v.address.as_bytes()),
            pub_key: Some(tendermint_proto::google::protobuf::Any {
                type_url: "/cosmos.crypto.ed25519.PubKey".into(),
                value: cosmrs::proto::cosmos::crypto::ed25519::PubKey {
                    key: v.pub_key.to_bytes(),
                }
                .encode_to_vec(),
            }),
            voting_power: i64::try_from(v.power.value()).unwrap_or(i64::MAX),
            proposer_priority: v.proposer_priority.value(),
        })
        .collect();
    Ok((
        i64::try_from(r.block_height.value()).unwrap_or(i64::MAX),
        vals,
        u64::try_from(r.total).unwrap_or(0),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_node_without_a_tx_index_refuses_tx_searches_before_asking_cometbft() {
        let d = tempfile::tempdir().expect("tmp");
        let store = Store::open(d.path()).expect("open").with_tx_index(false);
        // Nothing listens there: the answer comes before any request is made.
        let rpc = Rpc::new("http://127.0.0.1:1");
        let req = GetTxsEventRequest {
            query: "tx.height=2".into(),
            ..Default::default()
        };
        let path = "/cosmos.tx.v1beta1.Service/GetTxsEvent";
        let e = call(&rpc, &store, path, &req.encode_to_vec()).expect_err("no index");
        assert_eq!(e.code, codes::UNKNOWN_REQUEST);
        assert!(
            e.log.contains("keeps no tx index (index-txs = false"),
            "{}",
            e.log
        );
    }

    #[test]
    #[allow(deprecated)]
    fn event_queries_come_from_query_or_events() {
        let mut r = GetTxsEventRequest {
            events: vec![
                "message.sender='a'".into(),
                " transfer.amount='5uverd' ".into(),
            ],
            ..Default::default()
        };
        assert_eq!(
            event_query(&r).expect("test value"),
            "message.sender='a' AND transfer.amount='5uverd'"
        );
        r.query = "tx.height=5".into();
        assert_eq!(event_query(&r).expect("test value"), "tx.height=5");
        r.query = "a='1'&b=2".into();
        assert!(event_query(&r)
            .expect_err("test error")
            .log
            .contains("not allowed"));
        assert!(event_query(&GetTxsEventRequest::default()).is_err());
        assert_eq!(percent_encode("a.b='1' AND c"), "a.b%3D%271%27%20AND%20c");
    }
}
