//! Job fees in denoms other than the bond denom (issue 20): an IBC voucher a
//! consumer chain's users hold (`ibc/<hash>`, e.g. wasmd's `stake` as it
//! arrives over a transfer channel) may pay for jobs when the params list it
//! with a price in bond-denom units (`uverd` per unit, a fixed-point decimal).
//!
//! Everything that is measured in the bond denom uses a fee's value at that
//! price: the fee floor at submit, the challenge bond's minimum, the refund
//! and compensation an overturn pays (from slashes, in the bond denom). The
//! fee itself is paid out in its own denom: a completed job's fee goes to the
//! committee members' operator accounts directly (distribution's reward books
//! are in the bond denom only, so delegators share bond-denom fees only); a
//! failed job's base part (`job_base_fee` at the price, rounded up, at most the
//! fee) is burned (the community pool holds the bond denom only), the rest
//! refunded.

use cosmwasm_std::Uint128;
use verdict_core::address::FEE_DENOM;
use verdict_core::coin::Coin;

pub use crate::params::FeeDenom;
use crate::params::InferenceParams;

impl InferenceParams {
    /// Whether a fee may be paid in `denom`.
    pub fn accepts_fee_denom(&self, denom: &str) -> bool {
        denom == FEE_DENOM || self.fee_denoms.iter().any(|f| f.denom == denom)
    }

    /// A fee's value in the bond denom (rounded down); `None` for a denom no
    /// fee may be paid in.
    pub fn fee_value(&self, fee: &Coin) -> Option<Uint128> {
        if fee.denom == FEE_DENOM {
            return Some(fee.amount);
        }
        let f = self.fee_denoms.iter().find(|f| f.denom == fee.denom)?;
        Some(fee.amount.mul_floor(f.price))
    }

    /// `bond_units` of the bond denom in `denom` (rounded up); `None` for a
    /// denom no fee may be paid in.
    pub fn in_fee_denom(&self, bond_units: Uint128, denom: &str) -> Option<Uint128> {
        if denom == FEE_DENOM {
            return Some(bond_units);
        }
        let f = self.fee_denoms.iter().find(|f| f.denom == denom)?;
        bond_units.checked_div_ceil(f.price).ok()
    }

    pub(crate) fn validate_fee_denoms(&self) -> Result<(), String> {
        let mut seen = std::collections::BTreeSet::new();
        for f in &self.fee_denoms {
            verdict_core::coin::validate_denom(&f.denom)
                .map_err(|e| format!("inference.params.fee_denoms: {e}"))?;
            if f.denom == FEE_DENOM {
                return Err(format!(
                    "inference.params.fee_denoms: {FEE_DENOM} is the bond denom, always accepted"
                ));
            }
            if f.price.is_zero() {
                return Err(format!(
                    "inference.params.fee_denoms: {} needs a positive price",
                    f.denom
                ));
            }
            if !seen.insert(f.denom.as_str()) {
                return Err(format!(
                    "inference.params.fee_denoms: {} is listed twice",
                    f.denom
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cosmwasm_std::Decimal;

    fn params() -> InferenceParams {
        InferenceParams {
            fee_denoms: vec![FeeDenom {
                denom: "ibc/ABC".into(),
                price: Decimal::percent(250),
            }],
            ..InferenceParams::default()
        }
    }

    #[test]
    fn fees_are_valued_at_their_price_and_unknown_denoms_refused() {
        let p = params();
        p.validate().expect("valid");
        assert_eq!(
            p.fee_value(&Coin::new(1000, "uverd")),
            Some(Uint128::new(1000))
        );
        assert_eq!(
            p.fee_value(&Coin::new(401, "ibc/ABC")),
            Some(Uint128::new(1002))
        );
        assert_eq!(p.fee_value(&Coin::new(1, "ibc/OTHER")), None);
        // 200 uverd of base fee at 2.5 uverd per unit: 80 units; 201: 81 (up).
        assert_eq!(
            p.in_fee_denom(Uint128::new(200), "ibc/ABC"),
            Some(Uint128::new(80))
        );
        assert_eq!(
            p.in_fee_denom(Uint128::new(201), "ibc/ABC"),
            Some(Uint128::new(81))
        );
        assert!(p.accepts_fee_denom("uverd") && p.accepts_fee_denom("ibc/ABC"));
        for bad in [
            vec![FeeDenom {
                denom: "uverd".into(),
                price: Decimal::one(),
            }],
            vec![FeeDenom {
                denom: "ibc/ABC".into(),
                price: Decimal::zero(),
            }],
            vec![
                FeeDenom {
                    denom: "ibc/ABC".into(),
                    price: Decimal::one(),
                },
                FeeDenom {
                    denom: "ibc/ABC".into(),
                    price: Decimal::one(),
                },
            ],
        ] {
            let p = InferenceParams {
                fee_denoms: bad,
                ..InferenceParams::default()
            };
            assert!(p.validate().is_err());
        }
        // The default serializes as before (no new field in stored params).
        let json = serde_json::to_string(&InferenceParams::default()).expect("json");
        assert!(!json.contains("fee_denoms"));
    }
}
