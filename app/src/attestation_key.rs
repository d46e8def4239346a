//! The attestor's own key file, `config/attestation_key.json`, apart from
//! CometBFT's consensus key, so that CometBFT may sign through a remote signer
//! (tmkms, Horcrux: `priv_validator_laddr`) while verdictd attests.
//!
//! ```json
//! { "validator_address": "<20-byte consensus address, hex>", "secret": "<32 bytes, hex>" }
//! ```
//!
//! `validator_address` says which validator this node attests for (the
//! address CometBFT signs with, wherever its key lives); `secret` is where
//! the commit-reveal salts and the beacon hash chains derive from. Neither is
//! a consensus key: the vote extensions that carry commitments and reveals are
//! signed by CometBFT (or its remote signer) as part of the vote. Keep the
//! secret private (a leaked one lets others predict salts of unrevealed
//! commitments) and replace it only between epochs with nothing pending
//! (docs/config.md).

use std::path::Path;

use anyhow::Context;
use sha2::{Digest, Sha256};

/// What the attestor needs of its validator.
#[derive(Clone, PartialEq, Eq)]
pub struct AttestationKey {
    pub validator: [u8; 20],
    pub secret: [u8; 32],
}

impl std::fmt::Debug for AttestationKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AttestationKey")
            .field("validator", &hex::encode_upper(self.validator))
            .finish_non_exhaustive()
    }
}

#[derive(serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    validator_address: String,
    secret: String,
}

/// `priv_validator_key.json` as CometBFT writes it (only what we read).
#[derive(serde::Deserialize)]
struct ConsensusKeyFile {
    address: String,
    priv_key: ConsensusKeyValue,
}

#[derive(serde::Deserialize)]
struct ConsensusKeyValue {
    value: String,
}

fn hex_array<const N: usize>(s: &str, what: &str, path: &Path) -> anyhow::Result<[u8; N]> {
    parse_hex(s).ok_or_else(|| anyhow::anyhow!("{}: {what} is not {N} hex bytes", path.display()))
}

/// `N` bytes from hex (surrounding spaces ignored), if that is what `s` is.
pub fn parse_hex<const N: usize>(s: &str) -> Option<[u8; N]> {
    hex::decode(s.trim()).ok().and_then(|b| b.try_into().ok())
}

impl AttestationKey {
    /// A new key for `validator`, with a secret from the OS's random source.
    pub fn generate(validator: [u8; 20]) -> Self {
        let mut secret = [0u8; 32];
        rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut secret);
        AttestationKey { validator, secret }
    }

    /// Reads `config/attestation_key.json`.
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let raw = std::fs::read(path)
            .with_context(|| format!("cannot read attestation key {}", path.display()))?;
        let f: File = serde_json::from_slice(&raw).map_err(|e| {
            anyhow::anyhow!("{} is not an attestation key file: {e}", path.display())
        })?;
        Ok(AttestationKey {
            validator: hex_array(&f.validator_address, "validator_address", path)?,
            secret: hex_array(&f.secret, "secret", path)?,
        })
    }

    /// Writes the key file, readable by its owner only; refuses to replace one.
    pub fn save(&self, path: &Path) -> anyhow::Result<()> {
        use std::io::Write;
        let text = serde_json::to_string_pretty(&File {
            validator_address: hex::encode_upper(self.validator),
            secret: hex::encode(self.secret),
        })?;
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
        let mut f = opts
            .open(path)
            .with_context(|| format!("cannot create {}", path.display()))?;
        f.write_all(text.as_bytes())?;
        f.write_all(b"\n")?;
        Ok(())
    }

    /// The validator address of CometBFT's `priv_validator_key.json`.
    pub fn consensus_address(path: &Path) -> anyhow::Result<[u8; 20]> {
        hex_array(&read_consensus_key(path)?.address, "address", path)
    }

    /// The older way, still accepted (`--validator-key`): the address and a
    /// secret derived from CometBFT's own key file, which then must be on this
    /// host (no remote signer).
    pub fn from_consensus_key(path: &Path) -> anyhow::Result<Self> {
        let kf = read_consensus_key(path)?;
        Ok(AttestationKey {
            validator: hex_array(&kf.address, "address", path)?,
            secret: Sha256::new()
                .chain_update(b"verdict-attestation-salt")
                .chain_update(kf.priv_key.value.as_bytes())
                .finalize()
                .into(),
        })
    }
}

fn read_consensus_key(path: &Path) -> anyhow::Result<ConsensusKeyFile> {
    let raw = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_slice(&raw)
        .map_err(|e| anyhow::anyhow!("{} is not a CometBFT key file: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_file_round_trips_and_bad_ones_are_clear_errors() {
        let d = tempfile::tempdir().expect("tmp");
        let p = d.path().join("attestation_key.json");
        let k = AttestationKey::generate([7; 20]);
        k.save(&p).expect("save");
        assert_eq!(AttestationKey::load(&p).expect("load"), k);
        assert!(k.save(&p).is_err(), "an existing key is never replaced");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&p).expect("meta").permissions().mode();
            assert_eq!(mode & 0o077, 0, "owner only");
        }
        assert_ne!(AttestationKey::generate([7; 20]).secret, k.secret);
        for (bad, says) in [
            ("{", "not an attestation key file"),
            (
                r#"{"validator_address":"AB","secret":"00"}"#,
                "validator_address is not 20",
            ),
            (
                &format!(
                    r#"{{"validator_address":"{}","secret":"zz"}}"#,
                    "AB".repeat(20)
                ),
                "secret is not 32",
            ),
            (
                &format!(
                    r#"{{"validator_address":"{}","secret":"{}","x":1}}"#,
                    "AB".repeat(20),
                    "00".repeat(32)
                ),
                "unknown field",
            ),
        ] {
            std::fs::write(&p, bad).expect("write");
            let e = AttestationKey::load(&p).expect_err(bad).to_string();
            assert!(e.contains(says), "{bad}: {e}");
        }
        assert!(AttestationKey::load(&d.path().join("none")).is_err());
    }
}
