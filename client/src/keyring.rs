//! A file keyring: one JSON file per key, mode 0600, in a 0700 directory.
//! The secret is the 32-byte secp256k1 key at m/44'/118'/0'/0/0, stored in
//! clear or, with a non-empty passphrase, sealed with ChaCha20-Poly1305 under a
//! key from scrypt (memory-hard; its parameters are stored in the file, and
//! files sealed earlier with PBKDF2-HMAC-SHA256 still open). The mnemonic is
//! shown once at creation and never stored. A malformed file is an error.

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

/// scrypt cost of new sealed keys: N = 2^15, r = 8, p = 1 (32 MiB, about
/// 0.1 s), the parameters interactive logins are advised to use.
const SCRYPT_LOG_N: u8 = 15;
const SCRYPT_R: u32 = 8;
const SCRYPT_P: u32 = 1;

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
    /// "scrypt" (log_n, r, p) or, in files sealed before it, "pbkdf2-hmac-sha256" (rounds).
    kdf: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    rounds: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    log_n: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    r: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    p: Option<u32>,
    salt: String,
    nonce: String,
    ciphertext: String,
}

/// The most memory a key file may make scrypt use (1 GiB).
const MAX_SCRYPT_MEMORY: u64 = 1 << 30;

impl Sealed {
    /// The sealing key from `pass`, by the file's KDF and parameters.
    fn key(&self, pass: &str) -> anyhow::Result<[u8; 32]> {
        let salt = hex::decode(&self.salt).context("sealed key: salt is not hex")?;
        let mut k = [0u8; 32];
        match self.kdf.as_str() {
            "scrypt" => {
                // A file naming absurd costs must not make the CLI allocate or
                // spin on them: scrypt needs 128·r·2^log_n bytes, p times the work.
                let (n, r, p) = (
                    self.log_n.unwrap_or(0),
                    self.r.unwrap_or(0),
                    self.p.unwrap_or(0),
                );
                let memory = 128u64
                    .saturating_mul(u64::from(r))
                    .saturating_mul(1u64.checked_shl(u32::from(n)).unwrap_or(u64::MAX));
                if n > 22 || memory > MAX_SCRYPT_MEMORY || p > 16 {
                    bail!(
                        "sealed key: scrypt log_n {n}, r {r}, p {p} is refused \
                         (at most log_n 22, {MAX_SCRYPT_MEMORY} bytes, p 16)"
                    );
                }
                let params = scrypt::Params::new(
                    self.log_n
                        .ok_or_else(|| anyhow!("sealed key: scrypt without log_n"))?,
                    self.r
                        .ok_or_else(|| anyhow!("sealed key: scrypt without r"))?,
                    self.p
                        .ok_or_else(|| anyhow!("sealed key: scrypt without p"))?,
                    32,
                )
                .map_err(|e| anyhow!("sealed key: bad scrypt parameters: {e}"))?;
                scrypt::scrypt(pass.as_bytes(), &salt, &params, &mut k)
                    .map_err(|e| anyhow!("sealed key: scrypt: {e}"))?;
            }
            "pbkdf2-hmac-sha256" => {
                let rounds = self
                    .rounds
                    .filter(|r| (1..=10_000_000).contains(r))
                    .ok_or_else(|| anyhow!("sealed key: pbkdf2 rounds missing or out of range"))?;
                pbkdf2::pbkdf2_hmac::<sha2::Sha256>(pass.as_bytes(), &salt, rounds, &mut k);
            }
            other => bail!("sealed key: unknown kdf {other:?}"),
        }
        Ok(k)
    }

    fn open(&self, pass: &str) -> anyhow::Result<Vec<u8>> {
        let nonce = hex::decode(&self.nonce).context("sealed key: nonce is not hex")?;
        if nonce.len() != 12 {
            bail!("sealed key: nonce must be 12 bytes, got {}", nonce.len());
        }
        let ct = hex::decode(&self.ciphertext).context("sealed key: ciphertext is not hex")?;
        ChaCha20Poly1305::new(&self.key(pass)?.into())
            .decrypt(Nonce::from_slice(&nonce), ct.as_slice())
            .map_err(|_| anyhow!("wrong passphrase"))
    }
}

#[derive(Debug)]
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
        match passphrase {
            None => file.secret = Some(hex::encode(key.secret_bytes())),
            Some("") => bail!(
                "an empty passphrase cannot seal a key: give one, or leave out --encrypt to store it in clear"
            ),
            Some(p) => {
                let mut salt = [0u8; 16];
                let mut nonce = [0u8; 12];
                OsRng.fill_bytes(&mut salt);
                OsRng.fill_bytes(&mut nonce);
                let mut sealed = Sealed {
                    kdf: "scrypt".into(),
                    rounds: None,
                    log_n: Some(SCRYPT_LOG_N),
                    r: Some(SCRYPT_R),
                    p: Some(SCRYPT_P),
                    salt: hex::encode(salt),
                    nonce: hex::encode(nonce),
                    ciphertext: String::new(),
                };
                let ct = ChaCha20Poly1305::new(&sealed.key(p)?.into())
                    .encrypt(Nonce::from_slice(&nonce), key.secret_bytes().as_slice())
                    .map_err(|_| anyhow!("encryption failed"))?;
                sealed.ciphertext = hex::encode(ct);
                file.sealed = Some(sealed);
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
                sealed.open(pass).with_context(|| format!("key {name:?}"))?
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

/// A keyring passphrase: `$VERDICT_KEYRING_PASSPHRASE`, else typed at the
/// terminal without echo, else (input not a terminal) a line of standard input.
pub fn read_passphrase(prompt: &str) -> anyhow::Result<String> {
    use std::io::IsTerminal;
    if let Ok(p) = std::env::var("VERDICT_KEYRING_PASSPHRASE") {
        return Ok(p);
    }
    if std::io::stdin().is_terminal() {
        return rpassword::prompt_password(format!("{prompt}: "))
            .context("reading the passphrase from the terminal");
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

    #[test]
    fn an_empty_passphrase_never_writes_a_key_in_clear() {
        // Security review L-1: `--encrypt` with an empty passphrase wrote the
        // secret in clear.
        let dir = tempfile::tempdir().expect("tmp");
        let kr = Keyring::open(dir.path()).expect("open");
        let k = AccountKey::from_mnemonic(&new_mnemonic(), "").expect("derive");
        let e = kr.add("carol", &k, Some("")).expect_err("empty passphrase");
        assert!(e.to_string().contains("empty"), "{e}");
        assert!(!dir.path().join("carol.json").exists(), "nothing written");
    }

    #[test]
    fn sealed_keys_use_scrypt_with_its_parameters_in_the_file() {
        let dir = tempfile::tempdir().expect("tmp");
        let kr = Keyring::open(dir.path()).expect("open");
        let k = AccountKey::from_mnemonic(&new_mnemonic(), "").expect("derive");
        kr.add("dave", &k, Some("pw")).expect("add");
        let f: serde_json::Value =
            serde_json::from_str(&fs::read_to_string(dir.path().join("dave.json")).expect("read"))
                .expect("json");
        assert_eq!(f["sealed"]["kdf"], "scrypt");
        assert!(
            f["sealed"]["log_n"].as_u64().is_some_and(|n| n >= 15),
            "{f}"
        );
        assert_eq!(
            kr.signing_key("dave", Some("pw")).expect("open").address(),
            k.address()
        );
    }

    #[test]
    fn malformed_key_files_are_errors_not_panics() {
        let dir = tempfile::tempdir().expect("tmp");
        let kr = Keyring::open(dir.path()).expect("open");
        let k = AccountKey::from_mnemonic(&new_mnemonic(), "").expect("derive");
        kr.add("erin", &k, Some("pw")).expect("add");
        let path = dir.path().join("erin.json");
        let good = fs::read_to_string(&path).expect("read");
        let mut f: serde_json::Value = serde_json::from_str(&good).expect("json");
        for (field, bad) in [
            ("nonce", serde_json::json!("00")),
            ("salt", serde_json::json!("zz")),
            ("log_n", serde_json::json!(99)),
            ("r", serde_json::json!(1u64 << 20)),
            ("p", serde_json::json!(1000)),
            ("ciphertext", serde_json::json!("")),
        ] {
            let mut g = f.clone();
            g["sealed"][field] = bad;
            fs::write(&path, g.to_string()).expect("write");
            assert!(kr.signing_key("erin", Some("pw")).is_err(), "{field}");
        }
        f["sealed"] = serde_json::json!(null);
        fs::write(&path, f.to_string()).expect("write");
        assert!(kr.signing_key("erin", Some("pw")).is_err());
        fs::write(&path, "{not json").expect("write");
        assert!(kr.signing_key("erin", Some("pw")).is_err());
    }
}
