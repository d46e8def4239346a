//! `verdictd init`: a node home with CometBFT's files (written by the
//! `cometbft init` of the CometBFT the node runs, so that they are exactly what
//! that version reads) and verdictd's commented `config/app.toml`.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Context;

/// `verdictd init`.
#[derive(clap::Args, Debug, Clone)]
pub struct InitArgs {
    /// Node home to create (CometBFT's config/ and data/, verdictd's
    /// config/app.toml).
    #[arg(long)]
    pub home: PathBuf,
    /// Chain id written to config/genesis.json.
    #[arg(long)]
    pub chain_id: String,
    /// This node's name, written to config/config.toml.
    #[arg(long)]
    pub moniker: String,
    /// The cometbft binary (v0.38) that writes CometBFT's files. Default: $COMETBFT,
    /// else `cometbft` next to verdictd, else on PATH.
    #[arg(long, value_name = "PATH")]
    pub cometbft: Option<PathBuf>,
    /// Replace an existing config/app.toml and config/genesis.json (the keys
    /// and config.toml of the home are kept).
    #[arg(long)]
    pub overwrite: bool,
    /// The validator the attestation key attests for (its consensus address,
    /// hex), when CometBFT signs through a remote signer. Default: the address
    /// of this home's config/priv_validator_key.json.
    #[arg(long, value_name = "HEX")]
    pub validator_address: Option<String>,
}

/// What `init` wrote.
#[derive(Debug)]
pub struct Written {
    pub app_toml: PathBuf,
    pub genesis: PathBuf,
    pub cometbft: PathBuf,
    /// The attestation key, new or kept.
    pub attestation_key: PathBuf,
}

/// The cometbft to run: the flag, $COMETBFT, next to this binary, on PATH.
pub fn find_cometbft(flag: Option<&Path>) -> anyhow::Result<PathBuf> {
    if let Some(p) = flag {
        anyhow::ensure!(p.is_file(), "cometbft binary {} not found", p.display());
        return Ok(p.to_path_buf());
    }
    let env = std::env::var_os("COMETBFT").map(PathBuf::from);
    let beside = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(|d| d.join("cometbft")));
    let on_path = std::env::var_os("PATH")
        .map(|p| {
            std::env::split_paths(&p)
                .map(|d| d.join("cometbft"))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    env.into_iter()
        .chain(beside)
        .chain(on_path)
        .find(|p| p.is_file())
        .ok_or_else(|| {
            anyhow::anyhow!(
                "verdictd init runs `cometbft init` (v0.38) to write CometBFT's files, and found no \
                 cometbft: pass --cometbft PATH, set COMETBFT, or put it on PATH (`make setup` \
                 installs it at .tools/bin/cometbft)"
            )
        })
}

/// Writes the home; refuses to replace app.toml or genesis.json without `overwrite`.
pub fn run(args: &InitArgs) -> anyhow::Result<Written> {
    let config = args.home.join("config");
    let app_toml = super::default_path(&args.home);
    let genesis = config.join("genesis.json");
    anyhow::ensure!(
        !args.chain_id.trim().is_empty(),
        "--chain-id must not be empty"
    );
    let existing: Vec<&PathBuf> = [&app_toml, &genesis]
        .into_iter()
        .filter(|f| f.exists())
        .collect();
    if let Some(f) = existing.first() {
        anyhow::ensure!(
            args.overwrite,
            "{} already exists: pass --overwrite to replace it",
            f.display()
        );
    }
    let cometbft = find_cometbft(args.cometbft.as_deref())?;
    for f in existing {
        std::fs::remove_file(f).with_context(|| format!("cannot remove {}", f.display()))?;
    }
    let out = Command::new(&cometbft)
        .arg("init")
        .arg("--home")
        .arg(&args.home)
        .output()
        .with_context(|| format!("cannot run {}", cometbft.display()))?;
    anyhow::ensure!(
        out.status.success(),
        "{} init failed ({}): {}",
        cometbft.display(),
        out.status,
        String::from_utf8_lossy(&out.stderr).trim()
    );
    edit_genesis(&genesis, &args.chain_id)?;
    set_moniker(&config.join("config.toml"), &args.moniker)?;
    std::fs::write(&app_toml, super::template())
        .with_context(|| format!("cannot write {}", app_toml.display()))?;
    let attestation_key = attestation_key(args, &config)?;
    Ok(Written {
        app_toml,
        genesis,
        cometbft,
        attestation_key,
    })
}

/// config/attestation_key.json for the home's validator (or the one named);
/// an existing one is kept, even with --overwrite.
fn attestation_key(args: &InitArgs, config: &Path) -> anyhow::Result<PathBuf> {
    use crate::attestation_key::AttestationKey;
    let path = config.join("attestation_key.json");
    if path.exists() {
        AttestationKey::load(&path)?;
        return Ok(path);
    }
    let validator: [u8; 20] = match &args.validator_address {
        Some(h) => crate::attestation_key::parse_hex(h)
            .ok_or_else(|| anyhow::anyhow!("--validator-address {h} is not 20 hex bytes"))?,
        None => AttestationKey::consensus_address(&config.join("priv_validator_key.json"))?,
    };
    AttestationKey::generate(validator).save(&path)?;
    Ok(path)
}

/// The chain id, vote extensions from height 1 (Verdict's attestations ride
/// on them), and the default `app_state`, spelled out to be edited.
fn edit_genesis(path: &Path, chain_id: &str) -> anyhow::Result<()> {
    let raw = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut doc: serde_json::Value = serde_json::from_slice(&raw)
        .with_context(|| format!("{} is not valid JSON", path.display()))?;
    let obj = doc
        .as_object_mut()
        .with_context(|| format!("{} is not a JSON object", path.display()))?;
    obj.insert("chain_id".into(), chain_id.into());
    let abci = obj
        .entry("consensus_params")
        .or_insert_with(|| serde_json::json!({}))
        .as_object_mut()
        .with_context(|| format!("{}: consensus_params is not an object", path.display()))?
        .entry("abci")
        .or_insert_with(|| serde_json::json!({}));
    if let Some(a) = abci.as_object_mut() {
        a.insert("vote_extensions_enable_height".into(), "1".into());
    }
    obj.insert(
        "app_state".into(),
        serde_json::to_value(crate::genesis::AppGenesis::default())?,
    );
    let mut text = serde_json::to_string_pretty(&doc)?;
    text.push('\n');
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))?;
    crate::genesis::AppGenesis::from_genesis_file(path)?;
    Ok(())
}

/// Sets the top-level `moniker` of CometBFT's config.toml, keeping the rest
/// (and its comments) as written.
fn set_moniker(path: &Path, moniker: &str) -> anyhow::Result<()> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let value = toml::Value::String(moniker.to_string()).to_string();
    let mut done = false;
    let mut lines = Vec::new();
    for line in text.lines() {
        if line.trim_start().starts_with('[') {
            done = true; // past the top level
        }
        let is_moniker = line
            .split_once('=')
            .is_some_and(|(k, _)| k.trim() == "moniker");
        if !done && is_moniker {
            lines.push(format!("moniker = {value}"));
            done = true;
        } else {
            lines.push(line.to_string());
        }
    }
    anyhow::ensure!(
        lines.iter().any(|l| l == &format!("moniker = {value}")),
        "{} has no top-level moniker",
        path.display()
    );
    let mut out = lines.join("\n");
    out.push('\n');
    std::fs::write(path, out).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}
