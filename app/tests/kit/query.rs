//! Queries over ABCI, as a client sends them through CometBFT: on any node's
//! app (the free functions) or on node 0 (the `TestNet` methods).

use prost::Message;
use serde_json::Value;
use tendermint_abci::Application;
use tendermint_proto::v0_38::abci::{RequestQuery, ResponseQuery};
use verdict_app::VerdictApp;
use verdict_core::address::Addr;
use verdict_ibc::ibc::core::commitment_types::merkle::MerkleProof;

use super::net::TestNet;

/// The query `path` with `data` at `height` (0: the latest).
pub fn raw_query(
    app: &VerdictApp,
    path: &str,
    data: Vec<u8>,
    height: i64,
    prove: bool,
) -> ResponseQuery {
    app.query(RequestQuery {
        data: data.into(),
        path: path.into(),
        height,
        prove,
    })
}

/// A protobuf (gRPC-style) query at the latest height, answered as is.
pub fn proto_query(app: &VerdictApp, path: &str, req: impl Message) -> ResponseQuery {
    raw_query(app, path, req.encode_to_vec(), 0, false)
}

/// A protobuf query that must succeed, decoded.
pub fn decode_query<R: Message + Default>(app: &VerdictApp, path: &str, req: impl Message) -> R {
    let resp = proto_query(app, path, req);
    assert_eq!(resp.code, 0, "{path}: {}", resp.log);
    R::decode(resp.value.as_ref()).expect("response decodes")
}

/// An inference query with its request and answer as JSON (through the
/// descriptors of `query.proto`, 64-bit integers as numbers): the code and the
/// answer (the log when it failed).
pub fn json_query(app: &VerdictApp, method: &str, req: Value) -> (u32, Value) {
    use verdict_proto::json;
    let path = format!("/verdict.inference.v1.Query/{method}");
    let data = json::request(&path, &req).expect("request JSON");
    let resp = raw_query(app, &path, data, 0, false);
    if resp.code != 0 {
        return (resp.code, Value::String(resp.log));
    }
    (
        0,
        json::response(&path, &resp.value, json::Style::Plain).expect("response"),
    )
}

/// The uverd balance of `addr` (bech32); 0 when it has none.
pub fn balance_of(app: &VerdictApp, addr: &str) -> u128 {
    use cosmrs::proto::cosmos::bank::v1beta1::{QueryBalanceRequest, QueryBalanceResponse};
    let r = proto_query(
        app,
        "/cosmos.bank.v1beta1.Query/Balance",
        QueryBalanceRequest {
            address: addr.into(),
            denom: "uverd".into(),
        },
    );
    let b = QueryBalanceResponse::decode(r.value.as_ref()).expect("decode");
    b.balance.map_or(0, |c| c.amount.parse().expect("amount"))
}

/// The account number and sequence of `addr`, if it exists.
pub fn account_of(app: &VerdictApp, addr: &Addr) -> Option<(u64, u64)> {
    use cosmrs::proto::cosmos::auth::v1beta1::{
        BaseAccount, QueryAccountRequest, QueryAccountResponse,
    };
    let r = proto_query(
        app,
        "/cosmos.auth.v1beta1.Query/Account",
        QueryAccountRequest {
            address: addr.bech32(),
        },
    );
    if r.code != 0 {
        return None;
    }
    let any = QueryAccountResponse::decode(r.value.as_ref())
        .expect("decode")
        .account?;
    let acc = BaseAccount::decode(any.value.as_slice()).expect("account");
    Some((acc.account_number, acc.sequence))
}

/// The value of IBC `path` at committed `height` and its two-level proof
/// (path → `ibc` sub-store root → app hash), as a relayer queries it.
pub fn ibc_query(app: &VerdictApp, path: &[u8], height: i64) -> (Vec<u8>, MerkleProof) {
    let resp = raw_query(app, "store/ibc/key", path.to_vec(), height, true);
    assert_eq!(resp.code, 0, "{}", resp.log);
    assert_eq!(resp.height, height);
    let ops = resp.proof_ops.expect("proof ops").ops;
    assert_eq!(
        ops.len(),
        2,
        "path in the ibc sub-store, then ibc in the app hash"
    );
    assert_eq!(ops[0].key, path);
    assert_eq!(ops[1].key, b"ibc");
    let proofs = ops
        .iter()
        .map(|op| ics23::CommitmentProof::decode(op.data.as_slice()).expect("ics23 proof"))
        .collect();
    (resp.value.to_vec(), MerkleProof { proofs })
}

/// The item of a single-item answer and the list of a list answer (`{"job":
/// {...}}` → the job, `{"jobs": [...], "pagination": ...}` → the jobs); other
/// answers whole.
fn item(method: &str, mut v: Value) -> Value {
    let field = match method {
        "Job" => "job",
        "Jobs" => "jobs",
        "Model" => "model",
        "Models" => "models",
        "Faults" => "faults",
        "RemoteRequest" => "request",
        "RemoteRequests" => "requests",
        _ => return v,
    };
    v[field].take()
}

impl TestNet {
    /// An inference query on node 0 that must succeed, as JSON: the item or
    /// the list it answers (see [`item`]).
    pub fn query(&self, method: &str, req: Value) -> Value {
        let (code, v) = json_query(self.app(), method, req);
        assert_eq!(code, 0, "{v}");
        item(method, v)
    }

    /// An inference query on node 0: the code and the item or list it answers
    /// (the log when it failed).
    pub fn try_query(&self, method: &str, req: Value) -> (u32, Value) {
        match json_query(self.app(), method, req) {
            (0, v) => (0, item(method, v)),
            other => other,
        }
    }

    pub fn job(&self, id: u64) -> Value {
        self.query("Job", serde_json::json!({ "id": id }))
    }

    /// A protobuf query on node 0 that must succeed, decoded.
    pub fn proto<R: Message + Default>(&self, path: &str, req: impl Message) -> R {
        decode_query(self.app(), path, req)
    }

    /// The uverd balance of `addr` (bech32) on node 0.
    pub fn balance(&self, addr: &str) -> u128 {
        balance_of(self.app(), addr)
    }

    /// A proven IBC path on node 0 (see [`ibc_query`]).
    pub fn query_ibc(&self, path: &[u8], height: i64) -> (Vec<u8>, MerkleProof) {
        ibc_query(self.app(), path, height)
    }
}
