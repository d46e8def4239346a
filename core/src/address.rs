//! Addresses: 20-byte account addresses shown as bech32 with prefix `verdict`
//! (`verdictvaloper` for operators), and module accounts.

use sha2::{Digest, Sha256};

pub const ACCOUNT_PREFIX: &str = "verdict";
pub const VALOPER_PREFIX: &str = "verdictvaloper";
/// Consensus (CometBFT validator) addresses, as the SDK shows them.
pub const VALCONS_PREFIX: &str = "verdictvalcons";
pub const FEE_DENOM: &str = "uverd";

/// A 20-byte account address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Addr(pub [u8; 20]);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    #[error("invalid address {input:?}: {reason}")]
    Invalid { input: String, reason: String },
    #[error("address {input:?} has prefix {got:?}, want {want:?}")]
    WrongPrefix {
        input: String,
        got: String,
        want: &'static str,
    },
}

impl Addr {
    pub fn parse(s: &str) -> Result<Addr, AddressError> {
        Self::parse_with(s, ACCOUNT_PREFIX)
    }

    pub fn parse_valoper(s: &str) -> Result<Addr, AddressError> {
        Self::parse_with(s, VALOPER_PREFIX)
    }

    fn parse_with(s: &str, prefix: &'static str) -> Result<Addr, AddressError> {
        let invalid = |reason: String| AddressError::Invalid {
            input: s.to_string(),
            reason,
        };
        let (hrp, data) = bech32::decode(s).map_err(|e| match e {
            bech32::DecodeError::Checksum(_) => invalid("bad bech32 checksum".into()),
            other => invalid(format!("not bech32: {other}")),
        })?;
        if hrp.as_str() != prefix {
            return Err(AddressError::WrongPrefix {
                input: s.to_string(),
                got: hrp.to_string(),
                want: prefix,
            });
        }
        let bytes: [u8; 20] = data
            .try_into()
            .map_err(|d: Vec<u8>| invalid(format!("{} bytes, want 20", d.len())))?;
        Ok(Addr(bytes))
    }

    pub fn from_slice(b: &[u8]) -> Option<Addr> {
        b.try_into().ok().map(Addr)
    }

    pub fn bech32(&self) -> String {
        bech32_of(ACCOUNT_PREFIX, &self.0)
    }

    pub fn valoper(&self) -> String {
        bech32_of(VALOPER_PREFIX, &self.0)
    }

    /// As a consensus address (`verdictvalcons…`): for CometBFT validator addresses.
    pub fn valcons(&self) -> String {
        bech32_of(VALCONS_PREFIX, &self.0)
    }

    /// A module account's address: the SDK's `authtypes.NewModuleAddress(name)`.
    pub fn module(name: &str) -> Addr {
        let h = Sha256::digest(name.as_bytes());
        let mut a = [0u8; 20];
        a.copy_from_slice(&h[..20]);
        Addr(a)
    }
}

/// A consensus address (any length CometBFT gives) as `verdictvalcons1…`.
pub fn valcons(bytes: &[u8]) -> String {
    bech32_of(VALCONS_PREFIX, bytes)
}

fn bech32_of(prefix: &str, bytes: &[u8]) -> String {
    bech32::Hrp::parse(prefix)
        .map_err(|e| e.to_string())
        .and_then(|hrp| bech32::encode::<bech32::Bech32>(hrp, bytes).map_err(|e| e.to_string()))
        // Both inputs are ours and valid: a failure is a bug, shown rather than hidden.
        .unwrap_or_else(|e| format!("<invalid address: {e}>"))
}

impl std::fmt::Display for Addr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.bech32())
    }
}

/// The account address of a compressed secp256k1 public key:
/// `ripemd160(sha256(pk))`, as the Cosmos SDK derives it. The node's ante
/// handler and every client use this one function.
pub fn address_of_pubkey(pk: &[u8]) -> Addr {
    use ripemd::Digest as _;
    let sha = sha2::Sha256::digest(pk);
    let rip = ripemd::Ripemd160::digest(sha);
    let mut a = [0u8; 20];
    a.copy_from_slice(&rip);
    Addr(a)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_names_checksum_errors() {
        let a = Addr([7; 20]);
        let s = a.bech32();
        assert!(s.starts_with("verdict1"));
        assert_eq!(Addr::parse(&s), Ok(a));
        let mut bad = s.clone();
        let last = bad.pop().expect("non-empty");
        bad.push(if last == 'q' { 'p' } else { 'q' });
        let e = Addr::parse(&bad).expect_err("checksum");
        assert!(e.to_string().contains("checksum"), "{e}");
        let cosmos = bech32_of("cosmos", &[7; 20]);
        assert!(matches!(
            Addr::parse(&cosmos),
            Err(AddressError::WrongPrefix { .. })
        ));
        assert!(Addr::parse("").is_err());
    }

    #[test]
    fn module_addresses_match_the_sdk() {
        // authtypes.NewModuleAddress("fee_collector") on any SDK chain.
        assert_eq!(
            bech32_of("cosmos", &Addr::module("fee_collector").0),
            "cosmos17xpfvakm2amg962yls6f84z3kell8c5lserqta"
        );
    }
}
