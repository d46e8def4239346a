//! `verdictd init` and app.toml: the written template is the defaults, flags
//! override the file, and a bad file is a clear error naming the key.

use std::path::{Path, PathBuf};
use std::process::Command;

use clap::Parser;
use verdict_app::config::{template, AppConfig, AttestorKey, Start, StartFlags};

#[derive(Parser)]
struct Flags {
    #[command(flatten)]
    start: StartFlags,
}

fn verdictd() -> Command {
    Command::new(env!("CARGO_BIN_EXE_verdictd"))
}

/// `make setup`'s CometBFT, if installed.
fn cometbft() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.tools/bin/cometbft");
    p.is_file().then_some(p)
}

fn write_app_toml(home: &Path, text: &str) -> PathBuf {
    let dir = home.join("config");
    std::fs::create_dir_all(&dir).expect("config dir");
    let path = dir.join("app.toml");
    std::fs::write(&path, text).expect("write app.toml");
    path
}

fn resolve(home: &Path, args: &[&str]) -> Result<Start, String> {
    let home = home.to_str().expect("utf-8 temp path");
    let argv = ["t", "--home", home]
        .into_iter()
        .chain(args.iter().copied());
    Flags::try_parse_from(argv)
        .map_err(|e| e.to_string())?
        .start
        .resolve()
        .map_err(|e| e.to_string())
}

#[test]
fn the_template_is_the_defaults() {
    let d = AppConfig::default();
    assert_eq!(
        AppConfig::parse(&template(), Path::new("app.toml")).expect("parses"),
        d
    );
    assert_eq!(
        AppConfig::parse("", Path::new("app.toml")).expect("empty parses"),
        d
    );
    assert_eq!(d.state_sync.snapshot_interval, 0);
    assert_eq!(d.state_sync.snapshot_keep_recent, 2);
    for key in [
        "abci",
        "rpc",
        "query-concurrency",
        "genesis",
        "check-invariants",
        "log",
        "pruning",
        "pruning-keep-recent",
        "pruning-interval",
        "min-retain-blocks",
        "index-txs",
        "halt-height",
        "halt-time",
        "[grpc]",
        "[api]",
        "cors",
        "[metrics]",
        "[state-sync]",
        "snapshot-interval",
        "snapshot-keep-recent",
        "[attestation]",
        "sidecar",
        "validator-key",
    ] {
        assert!(template().contains(key), "template lacks {key}");
    }
}

#[test]
fn no_file_is_todays_defaults() {
    let home = tempfile::tempdir().expect("tempdir");
    let s = resolve(home.path(), &[]).expect("resolves");
    assert_eq!(s.file, None);
    assert_eq!(s.config.abci, "127.0.0.1:26658");
    assert_eq!(s.config.genesis, home.path().join("config/genesis.json"));
    assert_eq!(
        (s.config.grpc(), s.config.api(), s.config.metrics()),
        (None, None, None)
    );
    assert!(s.config.attestation().is_none());
    assert!(resolve(home.path(), &["--config", "/nonexistent/app.toml"]).is_err());
}

#[test]
fn a_flag_overrides_the_file() {
    let home = tempfile::tempdir().expect("tempdir");
    let file = write_app_toml(
        home.path(),
        "halt-height = 5\ncheck-invariants = true\n[grpc]\naddress = \"127.0.0.1:9999\"\n\
         [api]\naddress = \"127.0.0.1:1317\"\ncors = [\"*\"]\n[state-sync]\nsnapshot-interval = 10\n\
         [attestation]\nsidecar = \"http://127.0.0.1:26659\"\n\
         key = \"config/attestation_key.json\"\n",
    );
    let s = resolve(home.path(), &[]).expect("file alone");
    assert_eq!(s.file.as_deref(), Some(file.as_path()));
    assert_eq!(s.config.halt_height, 5);
    assert_eq!(s.config.grpc().as_deref(), Some("127.0.0.1:9999"));
    assert_eq!(s.config.snapshots().interval, 10);
    assert_eq!(s.config.snapshots().keep_recent, 2);
    let key = home.path().join("config/attestation_key.json");
    assert_eq!(
        s.config.attestation(),
        Some(("http://127.0.0.1:26659".into(), AttestorKey::Own(key)))
    );
    // The older consensus-key file instead of it is still accepted; both are not.
    let pv = home.path().join("config/priv_validator_key.json");
    let both = resolve(
        home.path(),
        &["--validator-key", pv.to_str().expect("utf-8")],
    )
    .expect_err("two keys");
    assert!(both.to_string().contains("one key"), "{both}");
    let older_file = "[attestation]\nsidecar = \"http://127.0.0.1:26659\"\n\
                      validator-key = \"config/priv_validator_key.json\"\n";
    write_app_toml(home.path(), older_file);
    let older = resolve(home.path(), &[]).expect("older key");
    assert_eq!(
        older.config.attestation(),
        Some(("http://127.0.0.1:26659".into(), AttestorKey::Consensus(pv)))
    );
    write_app_toml(
        home.path(),
        "halt-height = 5\ncheck-invariants = true\n[grpc]\naddress = \"127.0.0.1:9999\"\n\
         [api]\naddress = \"127.0.0.1:1317\"\ncors = [\"*\"]\n[state-sync]\nsnapshot-interval = 10\n\
         [attestation]\nsidecar = \"http://127.0.0.1:26659\"\n\
         key = \"config/attestation_key.json\"\n",
    );
    let s = resolve(
        home.path(),
        &[
            "--grpc",
            "127.0.0.1:7777",
            "--api",
            "",
            "--check-invariants=false",
            "--snapshot-keep-recent",
            "4",
            "--api-cors",
            "https://a.example",
        ],
    )
    .expect("flags over the file");
    assert_eq!(s.config.grpc().as_deref(), Some("127.0.0.1:7777"));
    assert_eq!(
        s.config.api(),
        None,
        "an empty address turns the file's off"
    );
    assert!(!s.config.check_invariants);
    assert_eq!(s.config.api.cors, vec!["https://a.example".to_string()]);
    assert_eq!(s.config.snapshots().keep_recent, 4);
    assert_eq!(
        s.config.halt_height, 5,
        "the file's value where no flag is given"
    );
    let s = resolve(home.path(), &["--check-invariants"]).expect("bare bool flag");
    assert!(s.config.check_invariants);
    assert!(s.config.index_txs, "the tx index is kept by default");
    write_app_toml(home.path(), "index-txs = false\n");
    assert!(!resolve(home.path(), &[]).expect("file").config.index_txs);
    let s = resolve(home.path(), &["--index-txs"]).expect("flag over the file");
    assert!(s.config.index_txs);
}

#[test]
fn unknown_keys_and_wrong_types_name_the_key_and_the_file() {
    let home = tempfile::tempdir().expect("tempdir");
    for (text, key) in [
        ("halt-heigth = 5\n", "halt-heigth"),
        ("[grpc]\naddres = \"x\"\n", "addres"),
        ("[telemetry]\nenabled = true\n", "telemetry"),
        (
            "minimum-gas-prices = \"0.025uverd\"\n",
            "minimum-gas-prices",
        ),
        ("halt-height = \"soon\"\n", "halt-height"),
        ("[api]\ncors = \"*\"\n", "api.cors"),
        (
            "[state-sync]\nsnapshot-keep-recent = -1\n",
            "state-sync.snapshot-keep-recent",
        ),
    ] {
        let file = write_app_toml(home.path(), text);
        let e = resolve(home.path(), &[]).expect_err(text);
        assert!(e.contains(key), "{text:?}: {e}");
        assert!(e.contains(&file.display().to_string()), "{text:?}: {e}");
    }
}

#[test]
fn invalid_settings_are_refused() {
    let home = tempfile::tempdir().expect("tempdir");
    write_app_toml(home.path(), "pruning = \"sometimes\"\n");
    let e = resolve(home.path(), &[]).expect_err("unknown pruning");
    assert!(e.contains("pruning") && e.contains("sometimes"), "{e}");
    assert!(e.contains("app.toml"), "names the file: {e}");
    write_app_toml(
        home.path(),
        "pruning = \"custom\"\npruning-keep-recent = 1\n",
    );
    assert!(resolve(home.path(), &[]).is_err(), "custom keeping 1");
    let ok = ["--pruning-keep-recent", "3", "--pruning-interval", "10"];
    assert!(
        resolve(home.path(), &ok).is_ok(),
        "flags complete the file's custom"
    );
    write_app_toml(
        home.path(),
        "[attestation]\nsidecar = \"http://127.0.0.1:1\"\n",
    );
    let e = resolve(home.path(), &[]).expect_err("sidecar without key");
    assert!(e.contains("a key"), "{e}");
    write_app_toml(home.path(), "");
    assert!(resolve(home.path(), &["--snapshot-keep-recent", "0"]).is_err());
    assert!(
        resolve(home.path(), &["--fault", "copy"]).is_err(),
        "fault without sidecar"
    );
}

#[test]
fn start_refuses_a_bad_file_in_one_line() {
    let home = tempfile::tempdir().expect("tempdir");
    let file = write_app_toml(home.path(), "[api]\nadress = \"127.0.0.1:1317\"\n");
    let out = verdictd()
        .args(["start", "--home"])
        .arg(home.path())
        .output()
        .expect("run verdictd");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("adress") && err.contains(&file.display().to_string()),
        "{err}"
    );
}

fn init(home: &Path, cmt: &Path, extra: &[&str]) -> std::process::Output {
    verdictd()
        .args([
            "init",
            "--chain-id",
            "cfg-test-1",
            "--moniker",
            "node \"one\"",
            "--home",
        ])
        .arg(home)
        .arg("--cometbft")
        .arg(cmt)
        .args(extra)
        .output()
        .expect("run verdictd init")
}

#[test]
fn init_writes_the_home() {
    let Some(cmt) = cometbft() else {
        eprintln!("SKIPPED init_writes_the_home: no .tools/bin/cometbft (run `make setup`)");
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let home = dir.path().join("node");
    let out = init(&home, &cmt, &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let config = home.join("config");
    for f in [
        "config.toml",
        "genesis.json",
        "node_key.json",
        "priv_validator_key.json",
        "app.toml",
        "attestation_key.json",
    ] {
        assert!(config.join(f).is_file(), "{f} not written");
    }
    let genesis: serde_json::Value =
        serde_json::from_slice(&std::fs::read(config.join("genesis.json")).expect("genesis"))
            .expect("json");
    assert_eq!(genesis["chain_id"], "cfg-test-1");
    assert_eq!(
        genesis["consensus_params"]["abci"]["vote_extensions_enable_height"],
        "1"
    );
    verdict_app::genesis::AppGenesis::from_genesis_file(&config.join("genesis.json"))
        .expect("verdictd accepts the genesis");
    let cfg = std::fs::read_to_string(config.join("config.toml")).expect("config.toml");
    let parsed: toml::Table = cfg.parse().expect("config.toml stays TOML");
    assert_eq!(parsed["moniker"].as_str(), Some("node \"one\""));
    assert!(cfg.contains("[p2p]"), "CometBFT's config kept");
    let app = AppConfig::read(&config.join("app.toml")).expect("app.toml parses");
    assert_eq!(app, AppConfig::default());
    // The attestation key is the validator's address with a secret of its own.
    let own =
        verdict_app::attestation_key::AttestationKey::load(&config.join("attestation_key.json"))
            .expect("attestation key");
    let pv = verdict_app::attestation_key::AttestationKey::consensus_address(
        &config.join("priv_validator_key.json"),
    )
    .expect("consensus key");
    assert_eq!(own.validator, pv);
    // A second init refuses to replace the files, unless told to; the keys stay.
    let key = std::fs::read(config.join("priv_validator_key.json")).expect("key");
    let own_key = std::fs::read(config.join("attestation_key.json")).expect("key");
    let again = init(&home, &cmt, &[]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("--overwrite"));
    let over = init(&home, &cmt, &["--overwrite"]);
    assert!(
        over.status.success(),
        "{}",
        String::from_utf8_lossy(&over.stderr)
    );
    assert_eq!(
        std::fs::read(config.join("priv_validator_key.json")).expect("key"),
        key
    );
    assert_eq!(
        std::fs::read(config.join("attestation_key.json")).expect("key"),
        own_key
    );
    // The home starts from its own app.toml: a bad key in it is refused.
    write_app_toml(&home, "abci = 1\n");
    let out = verdictd()
        .args(["start", "--home"])
        .arg(&home)
        .output()
        .expect("start");
    assert!(String::from_utf8_lossy(&out.stderr).contains("abci"));
}
