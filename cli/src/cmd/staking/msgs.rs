//! Staking and slashing messages.

use anyhow::anyhow;
use cosmrs::proto::cosmos::slashing::v1beta1::MsgUnjail;
use cosmrs::proto::cosmos::staking::v1beta1 as pb;
use cosmrs::Any;
use prost::Message;
use verdict_core::address::Addr;
use verdict_core::coin::Coin;

pub fn valoper(s: &str) -> anyhow::Result<Addr> {
    Addr::parse_valoper(s).map_err(|e| anyhow!("validator: {e}"))
}

pub fn delegate(me: &Addr, validator: &Addr, amount: &Coin) -> Any {
    Any {
        type_url: "/cosmos.staking.v1beta1.MsgDelegate".into(),
        value: pb::MsgDelegate {
            delegator_address: me.bech32(),
            validator_address: validator.valoper(),
            amount: Some(amount.to_proto()),
        }
        .encode_to_vec(),
    }
}

pub fn undelegate(me: &Addr, validator: &Addr, amount: &Coin) -> Any {
    Any {
        type_url: "/cosmos.staking.v1beta1.MsgUndelegate".into(),
        value: pb::MsgUndelegate {
            delegator_address: me.bech32(),
            validator_address: validator.valoper(),
            amount: Some(amount.to_proto()),
        }
        .encode_to_vec(),
    }
}

pub fn redelegate(me: &Addr, src: &Addr, dst: &Addr, amount: &Coin) -> Any {
    Any {
        type_url: "/cosmos.staking.v1beta1.MsgBeginRedelegate".into(),
        value: pb::MsgBeginRedelegate {
            delegator_address: me.bech32(),
            validator_src_address: src.valoper(),
            validator_dst_address: dst.valoper(),
            amount: Some(amount.to_proto()),
        }
        .encode_to_vec(),
    }
}

pub fn unjail(me: &Addr) -> Any {
    Any {
        type_url: "/cosmos.slashing.v1beta1.MsgUnjail".into(),
        value: MsgUnjail {
            validator_addr: me.valoper(),
        }
        .encode_to_vec(),
    }
}

/// `commission` as a decimal like "0.05"; the wire form is LegacyDec atomics.
pub fn create_validator(
    me: &Addr,
    ed25519_pubkey: &[u8],
    amount: &Coin,
    moniker: &str,
    commission: &str,
) -> anyhow::Result<Any> {
    let rate: cosmwasm_std_dec::Dec = commission
        .parse()
        .map_err(|_| anyhow!("--commission-rate {commission:?} is not a decimal"))?;
    Ok(verdict_client::txbuild::create_validator_msg(
        me,
        ed25519_pubkey,
        amount,
        moniker,
        &rate.atomics(),
    ))
}

/// `--commission-rate 0.06` as LegacyDec atomics.
pub fn legacy_dec(s: &str) -> anyhow::Result<String> {
    let d: cosmwasm_std_dec::Dec = s.parse().map_err(|_| anyhow!("{s:?} is not a decimal"))?;
    Ok(d.atomics())
}

pub fn edit_validator(
    me: &Addr,
    moniker: Option<&str>,
    rate_atomics: Option<String>,
    msd: Option<&str>,
) -> Any {
    Any {
        type_url: "/cosmos.staking.v1beta1.MsgEditValidator".into(),
        value: pb::MsgEditValidator {
            description: Some(pb::Description {
                moniker: moniker.unwrap_or("[do-not-modify]").into(),
                ..Default::default()
            }),
            validator_address: me.valoper(),
            commission_rate: rate_atomics.unwrap_or_default(),
            min_self_delegation: msd.unwrap_or_default().into(),
        }
        .encode_to_vec(),
    }
}

/// A decimal parsed into LegacyDec atomics without floats.
mod cosmwasm_std_dec {
    pub struct Dec(u128);
    impl std::str::FromStr for Dec {
        type Err = ();
        fn from_str(s: &str) -> Result<Self, ()> {
            let (int, frac) = s.split_once('.').unwrap_or((s, ""));
            if frac.len() > 18 || int.is_empty() && frac.is_empty() {
                return Err(());
            }
            let digits = format!("{int}{frac:0<18}");
            digits.parse::<u128>().map(Dec).map_err(|_| ())
        }
    }
    impl Dec {
        pub fn atomics(&self) -> String {
            self.0.to_string()
        }
    }
}
