//! Validator creation rules (security review H-4 and L-6): the SDK's
//! description limits, a minimum self-bond, and the commission bounds and
//! minimum self-delegation a MsgCreateValidator declares.

use super::keys::VALIDATORS;
use super::*;
use cosmrs::proto::cosmos::staking::v1beta1::{CommissionRates, Description, MsgCreateValidator};
use cosmwasm_std::testing::MockStorage;
use cosmwasm_std::Decimal;
use prost::Message;
use verdict_bank::Bank;

use crate::msgs::{StakingMsg, ED25519_PUBKEY_URL, MSG_CREATE_VALIDATOR_URL};

#[allow(deprecated)] // delegator_address: deprecated in SDK 0.50, still sent
fn msg(description: Description, rates: CommissionRates, msd: &str, amount: u128) -> cosmrs::Any {
    let op = Addr([7; 20]);
    let m = MsgCreateValidator {
        description: Some(description),
        commission: Some(rates),
        min_self_delegation: msd.into(),
        delegator_address: op.bech32(),
        validator_address: op.valoper(),
        pubkey: Some(cosmrs::Any {
            type_url: ED25519_PUBKEY_URL.into(),
            value: cosmrs::proto::cosmos::crypto::ed25519::PubKey { key: vec![9; 32] }
                .encode_to_vec(),
        }),
        value: Some(cosmrs::proto::cosmos::base::v1beta1::Coin {
            denom: "uverd".into(),
            amount: amount.to_string(),
        }),
    };
    cosmrs::Any {
        type_url: MSG_CREATE_VALIDATOR_URL.into(),
        value: m.encode_to_vec(),
    }
}

fn named(moniker: &str) -> Description {
    Description {
        moniker: moniker.into(),
        ..Default::default()
    }
}

fn rates(rate: &str, max: &str, change: &str) -> CommissionRates {
    // LegacyDec on the wire: the integer with 18 implied decimals.
    let dec = |d: &str| (d.parse::<Decimal>().expect("dec").atomics()).to_string();
    CommissionRates {
        rate: dec(rate),
        max_rate: dec(max),
        max_change_rate: dec(change),
    }
}

#[test]
fn descriptions_over_the_sdk_limits_are_refused_at_decode() {
    let ok = rates("0.05", "0.2", "0.01");
    assert!(StakingMsg::decode(&msg(named(&"m".repeat(70)), ok.clone(), "1", 5_000_000)).is_ok());
    for (d, what) in [
        (named(&"m".repeat(71)), "moniker"),
        (named(""), "moniker cannot be blank"),
        (
            Description {
                moniker: "v".into(),
                identity: "i".repeat(3001),
                ..Default::default()
            },
            "identity",
        ),
        (
            Description {
                moniker: "v".into(),
                website: "w".repeat(141),
                ..Default::default()
            },
            "website",
        ),
        (
            Description {
                moniker: "v".into(),
                details: "d".repeat(281),
                ..Default::default()
            },
            "details",
        ),
    ] {
        let e = StakingMsg::decode(&msg(d, ok.clone(), "1", 5_000_000)).expect_err(what);
        assert!(e.to_string().contains(what), "{what}: {e}");
    }
}

fn funded() -> MockStorage {
    let mut s = MockStorage::new();
    Bank::mint(
        &mut s,
        &Addr([7; 20]),
        &[verdict_core::coin::Coin::new(100_000_000, "uverd")],
    )
    .expect("mint");
    s
}

fn create(s: &mut MockStorage, c: Commission, msd: u128, amount: u128) -> Result<(), StakingError> {
    create_validator_with(
        s,
        &Addr([7; 20]),
        &[9; 32],
        Uint128::new(amount),
        c,
        Uint128::new(msd),
        "v",
    )
}

#[test]
fn a_self_bond_below_the_minimum_is_refused() {
    let mut s = funded();
    let e = create(&mut s, Commission::at(Decimal::percent(5)), 1, 1).expect_err("1 uverd");
    assert!(e.to_string().contains("min_self_bond"), "{e}");
    assert!(VALIDATORS.is_empty(&s), "nothing written");
    create(&mut s, Commission::at(Decimal::percent(5)), 1, 1_000_000).expect("1 VERD");
}

#[test]
fn declared_commission_bounds_and_min_self_delegation_are_kept_and_enforced() {
    let c = Commission {
        rate: Decimal::percent(5),
        max_rate: Decimal::percent(20),
        max_change_rate: Decimal::percent(2),
    };
    let mut s = funded();
    // Rate above max, max change above max, self-bond under its own minimum.
    let bad_rate = Commission {
        rate: Decimal::percent(30),
        ..c
    };
    assert!(create(&mut s, bad_rate, 1, 5_000_000).is_err());
    let bad_change = Commission {
        max_change_rate: Decimal::percent(25),
        ..c
    };
    assert!(create(&mut s, bad_change, 1, 5_000_000).is_err());
    assert!(create(&mut s, c, 6_000_000, 5_000_000).is_err());
    assert!(create(&mut s, c, 0, 5_000_000).is_err());
    assert!(VALIDATORS.is_empty(&s));

    create(&mut s, c, 5_000_000, 5_000_000).expect("create");
    let v = validator(&s, &Addr([7; 20])).expect("validator");
    assert_eq!(
        (
            v.commission_max_rate,
            v.commission_max_change_rate,
            v.min_self_delegation
        ),
        (
            Decimal::percent(20),
            Decimal::percent(2),
            Uint128::new(5_000_000)
        )
    );
    // A later edit stays within the declared bounds.
    let day = 24 * 3600 + 1;
    let e = edit_validator(
        &mut s,
        &Addr([7; 20]),
        None,
        Some(Decimal::percent(8)),
        None,
        day,
    )
    .expect_err("3 % change > 2 % max change");
    assert!(e.to_string().contains("max change rate"), "{e}");
    edit_validator(
        &mut s,
        &Addr([7; 20]),
        None,
        Some(Decimal::percent(7)),
        None,
        day,
    )
    .expect("2 % change");
}

#[test]
fn decode_carries_the_declared_rates_and_minimum() {
    let m = StakingMsg::decode(&msg(
        named("v"),
        rates("0.05", "0.2", "0.02"),
        "5000000",
        5_000_000,
    ))
    .expect("decode")
    .expect("staking msg");
    let StakingMsg::CreateValidator {
        commission,
        min_self_delegation,
        ..
    } = m
    else {
        panic!("not a create");
    };
    assert_eq!(commission.max_rate, Decimal::percent(20));
    assert_eq!(commission.max_change_rate, Decimal::percent(2));
    assert_eq!(min_self_delegation, Uint128::new(5_000_000));
}

#[test]
fn numbers_with_a_sign_or_spaces_are_refused_at_decode() {
    // Security review I-6: Rust's integer parser takes "+5"; the SDK does not.
    let ok = rates("0.05", "0.2", "0.02");
    for msd in ["+5000000", " 5000000", "5000000 ", "-1"] {
        assert!(
            StakingMsg::decode(&msg(named("v"), ok.clone(), msd, 5_000_000)).is_err(),
            "min_self_delegation {msd:?}"
        );
    }
    // On the wire a rate is LegacyDec atomics ("50000000000000000" is 0.05);
    // the parser also takes a plain decimal.
    for rate in ["+50000000000000000", "+0.05", " 0.05", "0.05 "] {
        let wire = CommissionRates {
            rate: rate.into(),
            ..ok.clone()
        };
        assert!(
            StakingMsg::decode(&msg(named("v"), wire, "1", 5_000_000)).is_err(),
            "rate {rate:?}"
        );
    }
}
