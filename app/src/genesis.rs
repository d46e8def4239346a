//! Genesis `app_state`: the JSON object CometBFT passes to InitChain.
//!
//! Each module owns one section; an unknown section or field is an error, so a
//! typo in a genesis file stops the node instead of silently using a default.

use serde::{Deserialize, Serialize};

use crate::params::AppParams;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppGenesis {
    #[serde(default)]
    pub app: AppSection,
    #[serde(default)]
    pub auth: verdict_auth::genesis::AuthGenesis,
    #[serde(default)]
    pub bank: verdict_bank::genesis::BankGenesis,
    #[serde(default)]
    pub staking: verdict_staking::genesis::StakingGenesis,
    #[serde(default)]
    pub slashing: SlashingSection,
    #[serde(default)]
    pub inference: verdict_inference::genesis::InferenceGenesis,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlashingSection {
    #[serde(default)]
    pub params: verdict_slashing::SlashingParams,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppSection {
    #[serde(default)]
    pub params: AppParams,
}

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

    /// Every section's own checks, in module order.
    pub fn validate(&self) -> Result<(), String> {
        self.app.params.validate()?;
        self.auth.validate()?;
        self.bank.validate()?;
        self.staking.validate()?;
        self.slashing.params.validate()?;
        self.inference.validate()?;
        // A full block of maximal jobs must fit every honest extension.
        let ip = &self.inference.params;
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
        match doc.get("app_state") {
            None | Some(serde_json::Value::Null) => Ok(Self::default()),
            Some(v) => Self::from_app_state_bytes(v.to_string().as_bytes(), &p),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// protocol.md §7 and §14: an extension cap too small for a full block of
    /// maximal jobs, or a bond denom the fees are not in, is refused up front.
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
