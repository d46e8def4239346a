//! The crate's key layout, pinned: every table namespace, raw key prefix,
//! module account and ICS-24 path this crate writes. Each of them is part of
//! the app hash, so changing one must be a deliberate act that edits this list.

use std::path::Path;

use ibc::core::host::types::identifiers::{ChannelId, ClientId, ConnectionId, PortId};
use ibc::core::host::types::path::{
    AckPath, ChannelEndPath, ClientConnectionPath, ClientConsensusStatePath, ClientStatePath,
    ClientUpdateHeightPath, ClientUpdateTimePath, CommitmentPath, ConnectionPath,
    NextChannelSequencePath, NextClientSequencePath, NextConnectionSequencePath, ReceiptPath,
    SeqAckPath, SeqRecvPath, SeqSendPath,
};
use verdict_core::address::Addr;

use super::{
    consensus_height, consensus_heights_prefix, flat_key, host_consensus, upgrade_path,
    FLAT_PREFIX, STORE_KEY,
};
use crate::inference_app::state::{
    payer, request_escrow, BY_REQUESTER, IN_FLIGHT, REQUESTS, SERVED, WAIT_FINAL,
};

/// Every `cw-storage-plus` namespace of the crate, by table.
const TABLES: &[(&str, &str)] = &[
    ("inference_app::SERVED", "ibc_inference/served"),
    ("inference_app::WAIT_FINAL", "ibc_inference/wait_final"),
    ("inference_app::REQUESTS", "ibc_inference/requests"),
    ("inference_app::IN_FLIGHT", "ibc_inference/in_flight"),
    ("inference_app::BY_REQUESTER", "ibc_inference/by_requester"),
    ("transfer_app::DENOM_TRACES", "ibc_transfer/denom_traces"),
    ("transfer_app::TOTAL_ESCROW", "ibc_transfer/total_escrow"),
    (
        "transfer_app::CHANNEL_ESCROW",
        "ibc_transfer/channel_escrow",
    ),
    ("ica_host::ACCOUNTS", "ibc_ica_host/accounts"),
    ("ica_host::ACTIVE", "ibc_ica_host/active"),
    ("ica_host::PENDING", "ibc_ica_host/pending"),
    ("ica_host::PARAMS", "ibc_ica_host/params"),
];

/// The namespaces of `Map::new`/`Item::new`/… calls in the crate's sources.
fn namespaces_in_sources(dir: &Path, found: &mut Vec<String>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("src dir")
        .map(|e| e.expect("entry").path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            namespaces_in_sources(&p, found);
            continue;
        }
        if p.extension().and_then(|e| e.to_str()) != Some("rs") {
            continue;
        }
        let text = std::fs::read_to_string(&p).expect("source");
        for ctor in [
            "Map::new(\"",
            "Item::new(\"",
            "Deque::new(\"",
            "IndexedMap::new(\"",
        ] {
            for (i, _) in text.match_indices(ctor) {
                let rest = text.get(i.saturating_add(ctor.len())..).unwrap_or_default();
                let end = rest.find('"').expect("closing quote");
                found.push(rest.get(..end).unwrap_or_default().to_string());
            }
        }
    }
}

#[test]
fn the_key_layout_is_pinned() {
    // Tables: the constants, and nothing in the sources the list does not name.
    let ns = |b: &[u8]| String::from_utf8(b.to_vec()).expect("utf8");
    let tables = [
        ("inference_app::SERVED", ns(SERVED.namespace_bytes())),
        (
            "inference_app::WAIT_FINAL",
            ns(WAIT_FINAL.namespace_bytes()),
        ),
        ("inference_app::REQUESTS", ns(REQUESTS.namespace_bytes())),
        ("inference_app::IN_FLIGHT", ns(IN_FLIGHT.namespace_bytes())),
        (
            "inference_app::BY_REQUESTER",
            ns(BY_REQUESTER.namespace_bytes()),
        ),
        (
            "transfer_app::DENOM_TRACES",
            ns(crate::transfer_app::state::DENOM_TRACES.namespace_bytes()),
        ),
        (
            "transfer_app::TOTAL_ESCROW",
            ns(crate::transfer_app::state::TOTAL_ESCROW.namespace_bytes()),
        ),
        (
            "transfer_app::CHANNEL_ESCROW",
            ns(crate::transfer_app::state::CHANNEL_ESCROW.namespace_bytes()),
        ),
        (
            "ica_host::ACCOUNTS",
            ns(crate::ica_host::state::ACCOUNTS.namespace_bytes()),
        ),
        (
            "ica_host::ACTIVE",
            ns(crate::ica_host::state::ACTIVE.namespace_bytes()),
        ),
        (
            "ica_host::PENDING",
            ns(crate::ica_host::state::PENDING.namespace_bytes()),
        ),
        (
            "ica_host::PARAMS",
            ns(crate::ica_host::state::PARAMS.as_slice()),
        ),
    ];
    let tables: Vec<(&str, &str)> = tables.iter().map(|(n, s)| (*n, s.as_str())).collect();
    assert_eq!(tables, TABLES);
    let mut found = Vec::new();
    namespaces_in_sources(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut found,
    );
    found.sort();
    let mut want: Vec<String> = TABLES.iter().map(|(_, ns)| ns.to_string()).collect();
    want.sort();
    assert_eq!(
        found, want,
        "a table was added or renamed: list it in TABLES"
    );

    // The `ibc` sub-store and its flat keys.
    assert_eq!(STORE_KEY, b"ibc");
    assert_eq!(FLAT_PREFIX, b"ibc/");
    assert_eq!(flat_key(b"clients/x"), b"ibc/clients/x");
    assert_eq!(upgrade_path(), ["upgrade", "upgradedIBCState"]);

    // Raw keys in the app tree.
    let mut k = b"ibc_host/consensus/".to_vec();
    k.extend_from_slice(&[0, 0, 0, 0, 0, 0, 1, 2]);
    assert_eq!(host_consensus(258), k);
    assert_eq!(
        consensus_heights_prefix("07-tendermint-0"),
        b"ibc_index/consensus_heights/07-tendermint-0/"
    );
    let mut k = b"ibc_index/consensus_heights/07-tendermint-0/".to_vec();
    k.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 5]);
    assert_eq!(consensus_height("07-tendermint-0", 1, 5), k);

    // Module accounts (their bank balances are keyed by these addresses).
    assert_eq!(payer("channel-0"), Addr::module("ibc-inference/channel-0"));
    assert_eq!(request_escrow(), Addr::module("ibc-inference-requests"));
}

#[test]
fn the_ics24_paths_this_crate_writes_are_ibc_gos() {
    let client = ClientId::new("07-tendermint", 0).expect("client id");
    let conn = ConnectionId::new(0);
    let port = PortId::new("inference".to_string()).expect("port");
    let chan = ChannelId::new(0);
    let seq = 7u64.into();
    let paths = [
        NextClientSequencePath.to_string(),
        NextConnectionSequencePath.to_string(),
        NextChannelSequencePath.to_string(),
        ClientStatePath::new(client.clone()).to_string(),
        ClientConsensusStatePath::new(client.clone(), 1, 5).to_string(),
        ClientUpdateTimePath::new(client.clone(), 1, 5).to_string(),
        ClientUpdateHeightPath::new(client.clone(), 1, 5).to_string(),
        ClientConnectionPath::new(client).to_string(),
        ConnectionPath::new(&conn).to_string(),
        ChannelEndPath::new(&port, &chan).to_string(),
        SeqSendPath::new(&port, &chan).to_string(),
        SeqRecvPath::new(&port, &chan).to_string(),
        SeqAckPath::new(&port, &chan).to_string(),
        CommitmentPath::new(&port, &chan, seq).to_string(),
        ReceiptPath::new(&port, &chan, seq).to_string(),
        AckPath::new(&port, &chan, seq).to_string(),
    ];
    assert_eq!(
        paths,
        [
            "nextClientSequence",
            "nextConnectionSequence",
            "nextChannelSequence",
            "clients/07-tendermint-0/clientState",
            "clients/07-tendermint-0/consensusStates/1-5",
            "clients/07-tendermint-0/consensusStates/1-5/processedTime",
            "clients/07-tendermint-0/consensusStates/1-5/processedHeight",
            "clients/07-tendermint-0/connections",
            "connections/connection-0",
            "channelEnds/ports/inference/channels/channel-0",
            "nextSequenceSend/ports/inference/channels/channel-0",
            "nextSequenceRecv/ports/inference/channels/channel-0",
            "nextSequenceAck/ports/inference/channels/channel-0",
            "commitments/ports/inference/channels/channel-0/sequences/7",
            "receipts/ports/inference/channels/channel-0/sequences/7",
            "acks/ports/inference/channels/channel-0/sequences/7",
        ]
    );
}
