//! Distribution messages and queries for the CLI.

use cosmrs::proto::cosmos::distribution::v1beta1 as pb;
use cosmrs::Any;
use prost::Message;
use verdict_core::address::Addr;

pub fn withdraw_rewards(me: &Addr, validator: &Addr) -> Any {
    Any {
        type_url: "/cosmos.distribution.v1beta1.MsgWithdrawDelegatorReward".into(),
        value: pb::MsgWithdrawDelegatorReward {
            delegator_address: me.bech32(),
            validator_address: validator.valoper(),
        }
        .encode_to_vec(),
    }
}

pub fn withdraw_commission(me: &Addr) -> Any {
    Any {
        type_url: "/cosmos.distribution.v1beta1.MsgWithdrawValidatorCommission".into(),
        value: pb::MsgWithdrawValidatorCommission {
            validator_address: me.valoper(),
        }
        .encode_to_vec(),
    }
}

/// A `LegacyDec` amount (atomics, 18 decimals) as a decimal string.
pub fn legacy_dec_display(atomics: &str) -> String {
    let digits = atomics.trim_start_matches('0');
    if digits.is_empty() {
        return "0".into();
    }
    let padded = format!("{digits:0>19}");
    let (int, frac) = padded.split_at(padded.len().saturating_sub(18));
    let frac = frac.trim_end_matches('0');
    if frac.is_empty() {
        int.to_string()
    } else {
        format!("{int}.{frac}")
    }
}

/// `DecCoin`s as "12.5uverd,…".
pub fn dec_coins(cs: &[cosmrs::proto::cosmos::base::v1beta1::DecCoin]) -> String {
    if cs.is_empty() {
        return "0".into();
    }
    cs.iter()
        .map(|c| format!("{}{}", legacy_dec_display(&c.amount), c.denom))
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::legacy_dec_display;

    #[test]
    fn legacy_decs_print_as_decimals() {
        assert_eq!(legacy_dec_display("0"), "0");
        assert_eq!(legacy_dec_display("1500000000000000000"), "1.5");
        assert_eq!(legacy_dec_display("27000000000000000000000"), "27000");
        assert_eq!(legacy_dec_display("5"), "0.000000000000000005");
    }
}
