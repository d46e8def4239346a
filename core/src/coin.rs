//! Coins: a denom and a `Uint128` amount, with the SDK's validation rules.

use cosmwasm_std::Uint128;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Coin {
    pub denom: String,
    pub amount: Uint128,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CoinError {
    #[error("invalid denom {0:?}")]
    Denom(String),
    #[error("invalid amount {amount:?} of {denom}: {reason}")]
    Amount {
        denom: String,
        amount: String,
        reason: &'static str,
    },
    #[error("duplicate denom {0}")]
    Duplicate(String),
    #[error("cannot parse coins {0:?}: want e.g. 1000uverd")]
    Parse(String),
    #[error("no coins given")]
    Empty,
}

impl Coin {
    pub fn new(amount: u128, denom: &str) -> Coin {
        Coin {
            denom: denom.to_string(),
            amount: Uint128::new(amount),
        }
    }

    /// From the wire (`cosmos.base.v1beta1.Coin`, amount as a decimal string).
    /// Zero is allowed here; [`validate_positive`] refuses it where it matters.
    pub fn from_proto(c: &cosmrs::proto::cosmos::base::v1beta1::Coin) -> Result<Coin, CoinError> {
        validate_denom(&c.denom)?;
        let bad = |reason| CoinError::Amount {
            denom: c.denom.clone(),
            amount: c.amount.clone(),
            reason,
        };
        if c.amount.is_empty() || !c.amount.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad("not a non-negative integer"));
        }
        let amount = parse_uint(&c.amount).ok_or_else(|| bad("too large"))?;
        Ok(Coin {
            denom: c.denom.clone(),
            amount: Uint128::new(amount),
        })
    }

    pub fn to_proto(&self) -> cosmrs::proto::cosmos::base::v1beta1::Coin {
        cosmrs::proto::cosmos::base::v1beta1::Coin {
            denom: self.denom.clone(),
            amount: self.amount.to_string(),
        }
    }
}

impl std::fmt::Display for Coin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}{}", self.amount, self.denom)
    }
}

/// The SDK's denom rule: `[a-zA-Z][a-zA-Z0-9/:._-]{2,127}`.
pub fn validate_denom(d: &str) -> Result<(), CoinError> {
    let ok = (3..=128).contains(&d.len())
        && d.as_bytes()[0].is_ascii_alphabetic()
        && d.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/:._-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(CoinError::Denom(d.to_string()))
    }
}

/// A set of coins to move: non-empty, every amount positive, no denom twice.
pub fn validate_positive(coins: &[Coin]) -> Result<(), CoinError> {
    if coins.is_empty() {
        return Err(CoinError::Empty);
    }
    let mut seen = std::collections::BTreeSet::new();
    for c in coins {
        if c.amount.is_zero() {
            return Err(CoinError::Amount {
                denom: c.denom.clone(),
                amount: "0".into(),
                reason: "must be positive",
            });
        }
        if !seen.insert(c.denom.as_str()) {
            return Err(CoinError::Duplicate(c.denom.clone()));
        }
    }
    Ok(())
}

/// A canonical unsigned integer: ASCII digits only, so "+5", " 5" or "" are
/// refused (Rust's `u128::from_str` takes a leading `+`; security review I-6).
pub fn parse_uint(s: &str) -> Option<u128> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// A canonical unsigned decimal ("0.001", "5"): ASCII digits and at most one
/// point, nothing else (no sign, no spaces), as the SDK's `LegacyDec` reads it.
pub fn parse_udec(s: &str) -> Option<cosmwasm_std::Decimal> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return None;
    }
    s.parse().ok()
}

pub fn from_protos(
    cs: &[cosmrs::proto::cosmos::base::v1beta1::Coin],
) -> Result<Vec<Coin>, CoinError> {
    cs.iter().map(Coin::from_proto).collect()
}

/// Parses `1000uverd` or `10uverd,5stake` (CLI and genesis input).
pub fn parse_coins(s: &str) -> Result<Vec<Coin>, CoinError> {
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let split = part
            .find(|c: char| !c.is_ascii_digit())
            .ok_or_else(|| CoinError::Parse(s.to_string()))?;
        let (amt, denom) = part.split_at(split);
        if amt.is_empty() {
            return Err(CoinError::Parse(s.to_string()));
        }
        out.push(Coin::from_proto(
            &cosmrs::proto::cosmos::base::v1beta1::Coin {
                denom: denom.to_string(),
                amount: amt.to_string(),
            },
        )?);
    }
    validate_positive(&out)?;
    Ok(out)
}

pub fn display(coins: &[Coin]) -> String {
    coins
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_digits_are_an_unsigned_integer() {
        assert_eq!(parse_uint("0"), Some(0));
        assert_eq!(
            parse_uint("340282366920938463463374607431768211455"),
            Some(u128::MAX)
        );
        for bad in [
            "",
            "+5",
            "-5",
            " 5",
            "5 ",
            "5e3",
            "340282366920938463463374607431768211456",
        ] {
            assert_eq!(parse_uint(bad), None, "{bad:?}");
        }
        assert_eq!(parse_udec("0.001"), "0.001".parse().ok());
        for bad in ["", "+0.5", "-0.5", " 0.5", "0.5 ", "1e3", "0.5.1"] {
            assert_eq!(parse_udec(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn parses_and_validates() {
        assert_eq!(
            parse_coins("10uverd,5stake").expect("ok"),
            vec![Coin::new(10, "uverd"), Coin::new(5, "stake")]
        );
        assert!(parse_coins("0uverd").is_err());
        assert!(parse_coins("-5uverd").is_err());
        assert!(parse_coins("uverd").is_err());
        assert!(parse_coins("5u").is_err());
        assert!(parse_coins("1uverd,2uverd").is_err());
        assert!(parse_coins("").is_err());
        assert!(
            Coin::from_proto(&cosmrs::proto::cosmos::base::v1beta1::Coin {
                denom: "uverd".into(),
                amount: "1e5".into()
            })
            .is_err()
        );
        assert!(
            Coin::from_proto(&cosmrs::proto::cosmos::base::v1beta1::Coin {
                denom: "uverd".into(),
                amount: "999999999999999999999999999999999999999999".into()
            })
            .is_err()
        );
    }
}
