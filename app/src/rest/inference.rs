//! REST paths of Verdict's inference queries, which take and answer JSON (they
//! have no `.proto` service yet, so no `google.api.http` options to read). Path
//! variables and query parameters become the JSON request's fields; a whole
//! number is sent as a number (sequences, limits), ids always as strings.

use http::Method;

use super::template::Template;
use super::{Entry, Kind};

/// (REST path, gRPC method) of every JSON query route.
pub const PATHS: [(&str, &str); 9] = [
    ("/verdict/inference/v1/params", "Params"),
    ("/verdict/inference/v1/models", "Models"),
    ("/verdict/inference/v1/models/{id}", "Model"),
    ("/verdict/inference/v1/jobs", "Jobs"),
    ("/verdict/inference/v1/jobs/{id}", "Job"),
    ("/verdict/inference/v1/faults", "Faults"),
    ("/verdict/inference/v1/remote_requests", "RemoteRequests"),
    (
        "/verdict/inference/v1/remote_requests/{channel_id}/{sequence}",
        "RemoteRequest",
    ),
    (
        "/verdict/inference/v1/channel_payers/{channel_id}",
        "ChannelPayer",
    ),
];

pub(super) fn entries() -> Vec<Entry> {
    PATHS
        .iter()
        .filter_map(|(rest, method)| {
            let grpc = crate::query::grpc_paths()
                .find(|p| p.strip_prefix("/verdict.inference.v1.Query/") == Some(method))?;
            Some(Entry {
                verb: Method::GET,
                template: Template::parse(rest)?,
                method: grpc,
                kind: Kind::Json,
            })
        })
        .collect()
}

/// The JSON request of one call.
pub(super) fn request(
    query: &[(String, String)],
    bound: &[(String, String)],
) -> Result<Vec<u8>, String> {
    let mut obj = serde_json::Map::new();
    for (k, v) in query.iter().chain(bound) {
        // Ids stay strings (a model id is hex; a job id is read from either).
        let is_id = k == "id" || k.ends_with("_id");
        let value = match v.parse::<u64>() {
            Ok(n) if !is_id => serde_json::Value::from(n),
            _ => serde_json::Value::String(v.clone()),
        };
        obj.insert(k.clone(), value);
    }
    serde_json::to_vec(&obj).map_err(|e| e.to_string())
}
