//! The commented app.toml that `verdictd init` writes: every key, what it
//! does, and its default, rendered from `AppConfig::default()` so that the
//! defaults are written down only once.

use serde::Serialize;

use super::AppConfig;

const HEADER: &str = "\
# verdictd's node settings, read by `verdictd start --home HOME` from
# HOME/config/app.toml (or `--config PATH`). Written by `verdictd init`.
#
# Every key is optional: a key left out takes its default (each one is shown
# below). A command-line flag overrides the value here (`--grpc` over
# [grpc] address, and so on). An unknown key or a wrong type is an error.
# An empty address (\"\") is off. Relative paths are relative to HOME.
# docs/config.md lists every key.
#
# There is no `minimum-gas-prices`: the minimum gas price is a chain-wide
# consensus parameter (genesis app_state.app.params.min_gas_price, enforced in
# CheckTx and FinalizeBlock), not a node setting.
";

/// One `key = value` with its comment.
struct Key<'a> {
    name: &'a str,
    doc: &'a str,
    value: String,
}

/// A value as TOML writes it.
fn v<T: Serialize>(x: &T) -> String {
    toml::Value::try_from(x)
        .map(|v| v.to_string())
        .unwrap_or_default()
}

fn key<'a, T: Serialize>(name: &'a str, doc: &'a str, value: &T) -> Key<'a> {
    Key {
        name,
        doc,
        value: v(value),
    }
}

fn section(out: &mut String, name: Option<&str>, doc: &str, keys: &[Key<'_>]) {
    out.push('\n');
    if let Some(name) = name {
        out.push_str(&format!(
            "###############################################################\n[{name}]\n"
        ));
    }
    for line in doc.lines() {
        out.push_str(&format!("# {line}\n"));
    }
    for k in keys {
        out.push('\n');
        for line in k.doc.lines() {
            out.push_str(&format!("# {line}\n"));
        }
        out.push_str(&format!(
            "# Default: {}\n{} = {}\n",
            k.value, k.name, k.value
        ));
    }
}

/// The app.toml `verdictd init` writes: the defaults, each explained.
pub fn template() -> String {
    let d = AppConfig::default();
    let mut out = String::from(HEADER);
    section(&mut out, None, "Base settings (top level, before any [section]).", &[
        key("abci", "ABCI listen address: CometBFT's `proxy_app` (--abci).", &d.abci),
        key("rpc", "This node's CometBFT RPC, e.g. \"http://127.0.0.1:26657\": the gRPC and REST\nmethods answered by the node (broadcast, tx search, blocks, validator sets,\nsyncing) ask it. \"\": none (--rpc).", &d.rpc),
        key("query-concurrency", "gRPC and REST queries run at once, together; more are refused\n(gRPC Unavailable, HTTP 503) until one ends (--query-concurrency).", &d.query_concurrency),
        key("genesis", "CometBFT genesis file checked before serving (--genesis).", &d.genesis),
        key("check-invariants", "Check the supply and staking invariants after every block; halt if broken\n(--check-invariants).", &d.check_invariants),
        key("log", "Log filter, tracing EnvFilter syntax, e.g. \"info,verdict_app=debug\" (--log).", &d.log),
    ]);
    pruning(&mut out, &d);
    servers(&mut out, &d);
    section(&mut out, Some("state-sync"), "State-sync snapshots this node takes and serves to new nodes\n(in HOME/verdict/snapshots).", &[
        key("snapshot-interval", "Take a snapshot every this many blocks; 0: never (--snapshot-interval).", &d.state_sync.snapshot_interval),
        key("snapshot-keep-recent", "Snapshots kept on disk, the newest; at least 1 (--snapshot-keep-recent).", &d.state_sync.snapshot_keep_recent),
    ]);
    section(&mut out, Some("attestation"), "Inference attestation: with a sidecar and a key set, the node hands the jobs\nits validator is drawn for to its sidecar and commits and reveals the answers.\nWithout them it follows the chain but attests nothing (its validator misses\nits committee seats). A sidecar and one key, or neither.", &[
        key("sidecar", "This node's inference sidecar, e.g. \"http://127.0.0.1:26659\" or\n\"unix:/run/verdict-sidecar/sidecar.sock\"; \"\": none (--sidecar).", &d.attestation.sidecar),
        key("key", "The attestor's key file, e.g. \"config/attestation_key.json\" (written by\n`verdictd init`): the validator address it attests for and the secret its\ncommit-reveal salts derive from. Apart from CometBFT's key, so CometBFT may\nsign through a remote signer (priv_validator_laddr). \"\": none\n(--attestation-key).", &d.attestation.key),
        key("sidecar-token-file", "The file with the token the sidecar asks for (its --token-file), e.g.\n\"config/sidecar_token\"; \"\": none (--sidecar-token-file).", &d.attestation.sidecar_token_file),
        key("validator-key", "The older way, instead of key: CometBFT's priv_validator_key.json of this\nnode, for its address and a salt secret (rules out a remote signer). \"\":\nnone (--validator-key).", &d.attestation.validator_key),
    ]);
    out
}

fn pruning(out: &mut String, d: &AppConfig) {
    section(out, None, "Pruning, the tx index and halting (top level too).", &[
        key("pruning", "Which state versions to keep: \"default\" (the last 362880), \"nothing\"\n(all), \"everything\" (the last 2) or \"custom\" (the next two) (--pruning).", &d.pruning),
        key("pruning-keep-recent", "custom pruning: versions kept, at least 2 (--pruning-keep-recent).", &d.pruning_keep_recent),
        key("pruning-interval", "custom pruning: prune every this many blocks, at least 1\n(--pruning-interval).", &d.pruning_interval),
        key("min-retain-blocks", "Blocks CometBFT keeps (returned as Commit's retain_height); 0 keeps all\n(--min-retain-blocks).", &d.min_retain_blocks),
        key("index-txs", "Keep this node's own tx index, which GetTx and GetTxsEvent read; false:\nnone (they answer so), saving its writes (--index-txs).", &d.index_txs),
        key("halt-height", "Stop cleanly after committing this height (an upgrade); 0: never\n(--halt-height).", &d.halt_height),
        key("halt-time", "Stop cleanly after the first block at or after this block time, Unix\nseconds; 0: never (--halt-time).", &d.halt_time),
    ]);
}

fn servers(out: &mut String, d: &AppConfig) {
    section(
        out,
        Some("grpc"),
        "The gRPC query server (cosmos.* and verdict.* services, reflection, health).",
        &[key(
            "address",
            "Listen address, e.g. \"127.0.0.1:9090\"; \"\": off (--grpc).",
            &d.grpc.address,
        )],
    );
    section(out, Some("api"), "The REST (LCD) gateway wallets and explorers use.", &[
        key("address", "Listen address, e.g. \"127.0.0.1:1317\"; \"\": off (--api).", &d.api.address),
        key("cors", "Origins allowed cross-origin requests, e.g. [\"*\"] for any; none by\ndefault (--api-cors, repeatable).", &d.api.cors),
    ]);
    section(
        out,
        Some("metrics"),
        "verdictd's Prometheus metrics (GET /metrics).",
        &[key(
            "address",
            "Listen address, e.g. \"127.0.0.1:26662\"; \"\": off (--metrics).",
            &d.metrics.address,
        )],
    );
}
