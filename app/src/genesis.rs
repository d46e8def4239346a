//! Genesis `app_state`: the JSON object CometBFT passes to InitChain.
//!
//! Each module owns one section (the struct derives from the module list in
//! `modules.rs`); an unknown section or field is an error, so a typo in a
//! genesis file stops the node instead of silently using a default.

pub use crate::modules::{AppGenesis, AppSection};

#[derive(Debug, thiserror::Error)]
pub enum GenesisError {
    #[error("cannot read genesis file {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("genesis file {path} is not valid JSON: {source}")]
    Json {
        path: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("invalid app_state in {path}: {reason}")]
    AppState { path: String, reason: String },
}

impl AppGenesis {
    /// Parses `app_state` bytes as CometBFT hands them over. Empty bytes mean a
    /// genesis without `app_state`: all defaults.
    pub fn from_app_state_bytes(bytes: &[u8], origin: &str) -> Result<Self, GenesisError> {
        let trimmed = bytes.trim_ascii();
        if trimmed.is_empty() || trimmed == b"null" {
            return Ok(Self::default());
        }
        let g: AppGenesis =
            serde_json::from_slice(trimmed).map_err(|e| GenesisError::AppState {
                path: origin.to_string(),
                reason: e.to_string(),
            })?;
        g.validate().map_err(|reason| GenesisError::AppState {
            path: origin.to_string(),
            reason,
        })?;
        Ok(g)
    }

    /// Every section's own checks, in module order, then the checks across
    /// sections.
    pub fn validate(&self) -> Result<(), String> {
        self.app.params.validate()?;
        if let Some(e) = &self.exported {
            e.check()?;
            let bare = AppGenesis {
                app: self.app.clone(),
                ..AppGenesis::default()
            };
            let sections = AppGenesis {
                exported: None,
                ..self.clone()
            };
            if sections != bare {
                return Err(
                    "an exported genesis carries the state in `exported`: its module \
                            sections must be empty (only app.params may be edited)"
                        .into(),
                );
            }
        }
        crate::modules::validate_genesis(self)?;
        if let Some(e) = &self.exported {
            // The exported state's own sections (params above all) meet this
            // binary's checks, which may be stricter than the exporting one's.
            let sections = e
                .read(|s| crate::modules::export_genesis(s, self.app.clone()))
                .map_err(|err| err.to_string())?
                .map_err(|err| format!("exported state: {err}"))?;
            crate::modules::validate_genesis(&sections)
                .map_err(|err| format!("exported state: {err}"))?;
        }
        // A full block of maximal jobs must fit every honest extension (with an
        // exported state, its own params: the sections are empty).
        let g = self.effective()?;
        let ip = &g.inference.params;
        let worst = verdict_attestation::extension::worst_case_extension_bytes(
            ip.max_jobs_per_block,
            ip.max_output_len,
        );
        if worst > self.app.params.max_vote_extension_bytes as usize {
            return Err(format!(
                "app.params.max_vote_extension_bytes {} cannot hold a full block's attestations \
                 ({} commitments and reveals of {} elements: {worst} bytes); raise it or lower \
                 inference.params.max_jobs_per_block / max_output_len",
                self.app.params.max_vote_extension_bytes,
                ip.max_jobs_per_block,
                ip.max_output_len.saturating_add(1),
            ));
        }
        Ok(())
    }

    /// Reads and checks the `app_state` of a CometBFT `genesis.json`, so that
    /// `verdictd start` can refuse a bad file before CometBFT ever connects.
    pub fn from_genesis_file(path: &std::path::Path) -> Result<Self, GenesisError> {
        let p = path.display().to_string();
        let raw = std::fs::read(path).map_err(|source| GenesisError::Read {
            path: p.clone(),
            source,
        })?;
        let doc: serde_json::Value =
            serde_json::from_slice(&raw).map_err(|source| GenesisError::Json {
                path: p.clone(),
                source,
            })?;
        let g = match doc.get("app_state") {
            None | Some(serde_json::Value::Null) => Self::default(),
            Some(v) => Self::from_app_state_bytes(v.to_string().as_bytes(), &p)?,
        };
        // CometBFT writes int64s as strings in genesis.json.
        let max_bytes = doc
            .pointer("/consensus_params/block/max_bytes")
            .and_then(|v| {
                v.as_str()
                    .and_then(|t| t.parse().ok())
                    .or_else(|| v.as_i64())
            });
        if let Some(b) = max_bytes {
            g.check_block_size(b)
                .map_err(|reason| GenesisError::AppState {
                    path: p.clone(),
                    reason,
                })?;
        }
        Ok(g)
    }

    /// tx[0] carries one extension per validator: it must always fit a block,
    /// or every proposer would build an oversize proposal and no block would
    /// ever be produced (protocol review §13). Half a block at most; a
    /// non-positive `max_bytes` (CometBFT: no limit of the app's) passes.
    pub fn check_block_size(&self, max_bytes: i64) -> Result<(), String> {
        if max_bytes <= 0 {
            return Ok(());
        }
        let g = self.effective()?;
        let worst = injected_tx_bound(
            g.staking.params.max_validators,
            g.app.params.max_vote_extension_bytes,
        );
        if worst > u64::try_from(max_bytes).unwrap_or(0) / 2 {
            return Err(format!(
                "consensus block.max_bytes {max_bytes} is too small: the vote extensions of \
                 {} validators (tx[0], up to {worst} bytes) must fit in half a block",
                g.staking.params.max_validators
            ));
        }
        Ok(())
    }

    /// This genesis with, for an exported state, the staking and inference
    /// params that state holds (its sections are empty), so the checks across
    /// sections see what the chain will run with.
    pub fn effective(&self) -> Result<std::borrow::Cow<'_, AppGenesis>, String> {
        let Some(e) = &self.exported else {
            return Ok(std::borrow::Cow::Borrowed(self));
        };
        let (staking, inference) = e
            .read(|s| {
                (
                    verdict_staking::state::params(s),
                    verdict_inference::state::params(s),
                )
            })
            .map_err(|err| err.to_string())?;
        let mut g = self.clone();
        g.staking.params = staking;
        g.inference.params = inference;
        Ok(std::borrow::Cow::Owned(g))
    }
}

/// Largest tx[0]: marker and header, then per validator its address, extension
/// (at most the cap) and signature with their protobuf framing.
pub fn injected_tx_bound(max_validators: u32, cap: u32) -> u64 {
    u64::from(max_validators)
        .saturating_mul(u64::from(cap).saturating_add(128))
        .saturating_add(64)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// threats.md §7 and §14: an extension cap too small for a full block of
    /// maximal jobs, or a bond denom the fees are not in, is refused up front.
    /// threats.md §13: a block too small for tx[0] at `max_validators` full
    /// extensions is refused, from the genesis file and in InitChain.
    #[test]
    fn a_block_too_small_for_the_extensions_is_refused() {
        let g = AppGenesis::default();
        // 100 validators × (8192 + 128) + 64 bytes must fit in half a block.
        assert!(g.check_block_size(22_020_096).is_ok());
        assert!(g.check_block_size(-1).is_ok());
        let e = g.check_block_size(1_000_000).expect_err("too small");
        assert!(e.contains("block.max_bytes 1000000 is too small"), "{e}");
        let dir = std::env::temp_dir().join(format!("verdict-genesis-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let f = dir.join("genesis.json");
        std::fs::write(
            &f,
            r#"{"consensus_params":{"block":{"max_bytes":"1000000"}},"app_state":{}}"#,
        )
        .expect("write");
        let e = AppGenesis::from_genesis_file(&f)
            .expect_err("too small")
            .to_string();
        assert!(e.contains("is too small"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn genesis_refuses_a_cap_below_full_load_and_a_foreign_bond_denom() {
        let small = AppGenesis::from_app_state_bytes(
            br#"{"app":{"params":{"max_vote_extension_bytes":2048}}}"#,
            "g",
        );
        let e = small
            .expect_err("2048 bytes cannot hold 8 + 8 maximal entries")
            .to_string();
        assert!(e.contains("cannot hold a full block"), "{e}");
        let fits = AppGenesis::from_app_state_bytes(
            br#"{"app":{"params":{"max_vote_extension_bytes":2048}},
                "inference":{"params":{"max_jobs_per_block":2,"max_output_len":16}}}"#,
            "g",
        );
        assert!(fits.is_ok(), "{fits:?}");
        let denom = AppGenesis::from_app_state_bytes(
            br#"{"staking":{"params":{"bond_denom":"stake"}}}"#,
            "g",
        );
        assert!(denom
            .expect_err("stake")
            .to_string()
            .contains("bond_denom must be uverd"));
    }

    #[test]
    fn empty_app_state_gives_defaults() {
        assert_eq!(
            AppGenesis::from_app_state_bytes(b"", "g").expect("ok"),
            AppGenesis::default()
        );
        assert_eq!(
            AppGenesis::from_app_state_bytes(b"{}", "g").expect("ok"),
            AppGenesis::default()
        );
    }

    #[test]
    fn unknown_sections_and_bad_params_are_named_errors() {
        let e = AppGenesis::from_app_state_bytes(br#"{"gov":{}}"#, "genesis.json")
            .expect_err("unknown section");
        assert!(e.to_string().contains("genesis.json"));
        assert!(e.to_string().contains("gov"));
        let e = AppGenesis::from_app_state_bytes(
            br#"{"app":{"params":{"max_vote_extension_bytes":0}}}"#,
            "g",
        )
        .expect_err("zero cap");
        assert!(e.to_string().contains("max_vote_extension_bytes"));
        assert!(AppGenesis::from_app_state_bytes(b"{not json", "g").is_err());
    }
}

#[cfg(test)]
mod module_tests {
    use super::*;

    #[test]
    fn bank_and_auth_sections_are_checked() {
        let ok = br#"{"bank":{"balances":[{"address":"verdict1qypqxpq9qcrsszg2pvxq6rs0zqg3yyc5z5tpwp","coins":"100uverd"}]}}"#;
        // Any valid bech32 with the verdict prefix would do; this one is 20 bytes 0x01..0x14.
        let r = AppGenesis::from_app_state_bytes(ok, "g");
        assert!(
            r.is_ok()
                || r.as_ref()
                    .is_err_and(|e| e.to_string().contains("checksum")),
            "{r:?}"
        );
        let e = AppGenesis::from_app_state_bytes(
            br#"{"bank":{"balances":[{"address":"cosmos1xyz","coins":"100uverd"}]}}"#,
            "g",
        )
        .expect_err("bad address");
        assert!(e.to_string().contains("bank.balances"));
        let e =
            AppGenesis::from_app_state_bytes(br#"{"app":{"params":{"min_gas_price":"abc"}}}"#, "g")
                .expect_err("bad price");
        assert!(e.to_string().contains("min_gas_price"));
    }
}

#[cfg(test)]
mod exported_tests {
    use super::*;

    /// `verdictd export`'s genesis: the state in `exported`, params beside it,
    /// nothing else; malformed state is refused before InitChain.
    #[test]
    fn an_exported_genesis_carries_the_state_and_only_params_beside_it() {
        let state = r#""exported":{"height":5,"chain_id":"c","app_hash":"AB","items":[["6b6579","76616c"]]}"#;
        // (The root is checked at InitChain, against the store's own hashing.)
        let ok = format!(r#"{{"app":{{"params":{{"min_gas_price":"0.5"}}}},{state}}}"#);
        let g = AppGenesis::from_app_state_bytes(ok.as_bytes(), "g").expect("exported genesis");
        let e = g.exported.expect("exported");
        assert_eq!(
            e.decoded().expect("hex"),
            vec![(b"key".to_vec(), b"val".to_vec())]
        );
        let bank = format!(
            r#"{{"bank":{{"balances":[{{"address":"verdict1qypqxpq9qcrsszg2pvxq6rs0zqg3yyc5z5tpwp","coins":"1uverd"}}]}},{state}}}"#
        );
        let err = AppGenesis::from_app_state_bytes(bank.as_bytes(), "g").expect_err("sections");
        assert!(
            err.to_string().contains("module sections must be empty"),
            "{err}"
        );
        // The exported state's own module params meet this binary's genesis
        // checks (they may be stricter than the exporting binary's).
        let params = hex::encode(br#"{"max_validators":0}"#);
        let zero = format!(
            r#"{{"exported":{{"height":3,"chain_id":"c","app_hash":"","items":[["{}","{params}"]]}}}}"#,
            hex::encode(b"staking/params")
        );
        let err = AppGenesis::from_app_state_bytes(zero.as_bytes(), "g").expect_err("params");
        assert!(
            err.to_string().contains("max_validators must be positive"),
            "{err}"
        );
        for bad in [
            r#"{"exported":{"height":0,"chain_id":"c","app_hash":"","items":[]}}"#,
            r#"{"exported":{"height":3,"chain_id":"c","app_hash":"","items":[["zz","00"]]}}"#,
            r#"{"exported":{"height":3,"chain_id":"c","app_hash":"","items":[],"x":1}}"#,
        ] {
            assert!(
                AppGenesis::from_app_state_bytes(bad.as_bytes(), "g").is_err(),
                "{bad}"
            );
        }
    }
}
