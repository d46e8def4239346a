//! A file keyring: one JSON file per key, mode 0600, in a 0700 directory.
//! The secret is the 32-byte secp256k1 key at m/44'/118'/0'/0/0, stored in
//! clear or, with a passphrase, sealed with ChaCha20-Poly1305 under a key from
//! PBKDF2-HMAC-SHA256. The mnemonic is shown once at creation and never stored.

use std::fs;
use std::io::{BufRead, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::txbuild::AccountKey;
use anyhow::{anyhow, bail, Context};
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Nonce};
use rand_core::{OsRng, RngCore};
use serde::{Deserialize, Serialize};

const KDF_ROUNDS: u32 = 100_000;

#[derive(Serialize, Deserialize)]
struct KeyFile {
    name: String,
    address: String,
    pubkey: String,
    /// Hex secret when not encrypted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    secret: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sealed: Option<Sealed>,
}

#[derive(Serialize, Deserialize)]
struct Sealed {
    kdf: String,
    rounds: u32,
    salt: String,
    nonce: String,
    ciphertext: String,
}

pub struct KeyInfo {
    pub name: String,
    pub address: String,
    pub pubkey: String,
    pub encrypted: bool,
}

pub struct Keyring {
    dir: PathBuf,
}

fn valid_name(name: &str) -> anyhow::Result<()> {
    if name.is_empty()
        || name.len() > 64
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
        || name.starts_with('.')
    {
        bail!("invalid key name {name:?}: use letters, digits, '-', '_' and '.'");
    }
    Ok(())
}

fn derive(pass: &str, salt: &[u8], rounds: u32) -> [u8; 32] {
    let mut k = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<sha2::Sha256>(pass.as_bytes(), salt, rounds, &mut k);
    k
}

impl Keyring {
    pub fn open(dir: &Path) -> anyhow::Result<Self> {
        fs::create_dir_all(dir).with_context(|| format!("creating keyring {}", dir.display()))?;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))?;
        Ok(Keyring {
            dir: dir.to_path_buf(),
        })
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.json"))
    }

    pub fn add(
        &self,
        name: &str,
        key: &AccountKey,
        passphrase: Option<&str>,
    ) -> anyhow::Result<KeyInfo> {
        valid_name(name)?;
        let path = self.path(name);
        if path.exists() {
            bail!("key {name:?} already exists in {}", self.dir.display());
        }
        let mut file = KeyFile {
            name: name.into(),
            address: key.address().bech32(),
            pubkey: hex::encode(key.public_key()),
            secret: None,
            sealed: None,
        };
        match passphrase.filter(|p| !p.is_empty()) {
            None => file.secret = Some(hex::encode(key.secret_bytes())),
            Some(p) => {
                let mut salt = [0u8; 16];
                let mut nonce = [0u8; 12];
                OsRng.fill_bytes(&mut salt);
                OsRng.fill_bytes(&mut nonce);
                let cipher = ChaCha20Poly1305::new(&derive(p, &salt, KDF_ROUNDS).into());
                let ct = cipher
                    .encrypt(Nonce::from_slice(&nonce), key.secret_bytes().as_slice())
                    .map_err(|_| anyhow!("encryption failed"))?;
                file.sealed = Some(Sealed {
                    kdf: "pbkdf2-hmac-sha256".into(),
                    rounds: KDF_ROUNDS,
                    salt: hex::encode(salt),
                    nonce: hex::encode(nonce),
                    ciphertext: hex::encode(ct),
                });
            }
        }
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .with_context(|| format!("writing {}", path.display()))?;
        f.write_all(serde_json::to_string_pretty(&file)?.as_bytes())?;
        Ok(self.info_of(&file))
    }

    fn info_of(&self, f: &KeyFile) -> KeyInfo {
        KeyInfo {
            name: f.name.clone(),
            address: f.address.clone(),
            pubkey: f.pubkey.clone(),
            encrypted: f.sealed.is_some(),
        }
    }

    fn read(&self, name: &str) -> anyhow::Result<KeyFile> {
        valid_name(name)?;
        let path = self.path(name);
        let raw = fs::read(&path)
            .map_err(|_| anyhow!("no key named {name:?} in {}", self.dir.display()))?;
        serde_json::from_slice(&raw)
            .with_context(|| format!("key file {} is damaged", path.display()))
    }

    pub fn show(&self, name: &str) -> anyhow::Result<KeyInfo> {
        Ok(self.info_of(&self.read(name)?))
    }

    pub fn list(&self) -> anyhow::Result<Vec<KeyInfo>> {
        let mut names: Vec<String> = fs::read_dir(&self.dir)?
            .filter_map(Result::ok)
            .filter_map(|e| {
                e.file_name()
                    .to_str()
                    .and_then(|n| n.strip_suffix(".json"))
                    .map(str::to_string)
            })
            .collect();
        names.sort();
        names.iter().map(|n| self.show(n)).collect()
    }

    pub fn delete(&self, name: &str) -> anyhow::Result<()> {
        self.read(name)?;
        fs::remove_file(self.path(name))?;
        Ok(())
    }

    pub fn is_encrypted(&self, name: &str) -> anyhow::Result<bool> {
        Ok(self.read(name)?.sealed.is_some())
    }

    /// The signing key, asking for the passphrase of a sealed key (see
    /// [`read_passphrase`]).
    pub fn unlock(&self, name: &str) -> anyhow::Result<AccountKey> {
        let pass = if self.is_encrypted(name)? {
            Some(read_passphrase(&format!("passphrase of {name}"))?)
        } else {
            None
        };
        self.signing_key(name, pass.as_deref())
    }

    /// The signing key; `passphrase` is needed for a sealed key.
    pub fn signing_key(&self, name: &str, passphrase: Option<&str>) -> anyhow::Result<AccountKey> {
        let f = self.read(name)?;
        let secret = match (&f.secret, &f.sealed) {
            (Some(s), _) => hex::decode(s)?,
            (None, Some(sealed)) => {
                let pass = passphrase
                    .ok_or_else(|| anyhow!("key {name:?} is encrypted: a passphrase is needed"))?;
                let cipher = ChaCha20Poly1305::new(
                    &derive(pass, &hex::decode(&sealed.salt)?, sealed.rounds).into(),
                );
                cipher
                    .decrypt(
                        Nonce::from_slice(&hex::decode(&sealed.nonce)?),
                        hex::decode(&sealed.ciphertext)?.as_slice(),
                    )
                    .map_err(|_| anyhow!("wrong passphrase for key {name:?}"))?
            }
            (None, None) => bail!("key file of {name:?} holds no secret"),
        };
        let key =
            AccountKey::from_bytes(&secret).ok_or_else(|| anyhow!("key {name:?} is invalid"))?;
        if key.address().bech32() != f.address {
            bail!("key file of {name:?} is inconsistent: secret does not match its address");
        }
        Ok(key)
    }
}

/// A keyring passphrase: `$VERDICT_KEYRING_PASSPHRASE`, else a line read from
/// standard input after `prompt` on standard error.
pub fn read_passphrase(prompt: &str) -> anyhow::Result<String> {
    if let Ok(p) = std::env::var("VERDICT_KEYRING_PASSPHRASE") {
        return Ok(p);
    }
    eprint!("{prompt}: ");
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

/// A new 24-word BIP39 mnemonic.
pub fn new_mnemonic() -> String {
    bip32::Mnemonic::random(OsRng, Default::default())
        .phrase()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_clear_and_sealed_with_0600_files() {
        let dir = tempfile::tempdir().expect("tmp");
        let kr = Keyring::open(dir.path()).expect("open");
        let m = new_mnemonic();
        assert_eq!(m.split_whitespace().count(), 24);
        let k = AccountKey::from_mnemonic(&m, "").expect("derive");
        kr.add("alice", &k, None).expect("add");
        kr.add("bob", &k, Some("hunter2")).expect("add sealed");
        let mode = fs::metadata(dir.path().join("bob.json"))
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        assert!(!fs::read_to_string(dir.path().join("bob.json"))
            .expect("read")
            .contains(&hex::encode(k.secret_bytes())));
        assert_eq!(
            kr.signing_key("alice", None).expect("key").address(),
            k.address()
        );
        assert_eq!(
            kr.signing_key("bob", Some("hunter2"))
                .expect("key")
                .address(),
            k.address()
        );
        assert!(kr.signing_key("bob", Some("wrong")).is_err());
        assert!(kr.signing_key("bob", None).is_err());
        assert!(kr.add("alice", &k, None).is_err(), "no overwrite");
        assert!(kr.add("../evil", &k, None).is_err());
        assert_eq!(kr.list().expect("list").len(), 2);
        kr.delete("alice").expect("delete");
        assert!(kr.show("alice").is_err());
    }
}
