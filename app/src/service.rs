//! One call of a gRPC method, as the gRPC server and the REST gateway make it:
//! a route of the table ([`crate::query::routes`]) over committed state, or a
//! node service through the CometBFT RPC ([`crate::node_rpc`]).

use tendermint_proto::v0_38::abci::RequestQuery;
use verdict_core::codes;
use verdict_core::module::QueryError;

use crate::query::{handle, routes, NODE_INFO};
use crate::store::Store;

/// The header (gRPC metadata) a query's height travels in, as in the SDK.
pub const HEIGHT_HEADER: &str = "x-cosmos-block-height";

/// A request's [`HEIGHT_HEADER`] value: absent is 0 (the latest); anything
/// but a number is an error.
pub fn height_header(value: Option<&[u8]>) -> Result<i64, String> {
    match value {
        None => Ok(0),
        Some(v) => std::str::from_utf8(v)
            .ok()
            .and_then(|s| s.parse::<i64>().ok())
            .ok_or_else(|| format!("{HEIGHT_HEADER} is not a number")),
    }
}

/// Every gRPC method path the node answers over gRPC and REST: the route
/// table and the node services ([`crate::node_rpc::PATHS`]).
pub fn grpc_paths() -> impl Iterator<Item = &'static str> {
    routes()
        .keys()
        .copied()
        .chain(crate::node_rpc::PATHS.iter().copied())
}

/// True when [`answer`] serves `path`.
pub fn serves(path: &str) -> bool {
    routes().contains_key(path) || crate::node_rpc::serves(path)
}

/// One call of a gRPC method, as the gRPC server and the REST gateway make it:
/// a route of the table over committed state (at `height`, 0 for the latest),
/// or a node service through the CometBFT RPC at `rpc`. Blocking. The answer
/// is the response bytes and the height they are from.
pub fn answer(
    store: &Store,
    rpc: Option<&verdict_client::rpc::Rpc>,
    path: &str,
    data: &[u8],
    height: i64,
) -> Result<(Vec<u8>, i64), QueryError> {
    if crate::node_rpc::serves(path) {
        let rpc = rpc.ok_or_else(|| {
            QueryError::new(
                codes::UNKNOWN_REQUEST,
                format!("{path} needs the node's RPC: start verdictd with --rpc"),
            )
        })?;
        let h = store
            .height()
            .map_or(0, |h| i64::try_from(h).unwrap_or(i64::MAX));
        return crate::node_rpc::call(rpc, store, path, data).map(|v| (v, h));
    }
    let resp = handle(
        store,
        &RequestQuery {
            data: data.to_vec().into(),
            path: path.to_string(),
            height,
            prove: false,
        },
    );
    if resp.code != 0 {
        return Err(QueryError::new(resp.code, resp.log));
    }
    let value = match rpc {
        Some(rpc) if path == NODE_INFO => crate::node_rpc::with_node_info(rpc, resp.value.to_vec()),
        _ => resp.value.to_vec(),
    };
    Ok((value, resp.height))
}

#[cfg(test)]
mod tests {
    #[test]
    fn grpc_and_rest_serve_the_route_table_and_the_node_services() {
        let table = crate::query::routes();
        assert_eq!(
            super::grpc_paths().count(),
            table.len() + crate::node_rpc::PATHS.len()
        );
        for p in crate::node_rpc::PATHS {
            assert!(!table.contains_key(p), "{p} is a node service, not a route");
            assert!(super::serves(p));
        }
    }
}
