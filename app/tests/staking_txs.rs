//! Staking (and later distribution) messages through the whole tx pipeline:
//! decode, ante, signature, execution, with the supply and staking books checked
//! after every transaction.

use cosmrs::proto::cosmos::staking::v1beta1 as pb;
use cosmrs::Any;
use cosmwasm_std::testing::MockStorage;
use cosmwasm_std::{Decimal, Order, Storage, Uint128};
use prost::Message;
use verdict_app::params::AppParams;
use verdict_app::tx::{self, fee_collector, Mode, TxOutcome};
use verdict_app::txbuild::{sign_tx, AccountKey, TxSpec};
use verdict_auth::Accounts;
use verdict_bank::genesis::{BankGenesis, GenesisBalance};
use verdict_core::coin::Coin;
use verdict_core::ctx::BlockInfo;
use verdict_staking::state as staking;

const CHAIN: &str = "verdict-test";

pub fn key(i: u8) -> AccountKey {
    AccountKey::from_bytes(&[i; 32]).expect("key")
}

pub struct Chain {
    pub s: MockStorage,
    pub height: u64,
    pub time: i64,
}

impl Chain {
    /// Keys 1..=4 funded with 1000 VERD; keys 2, 3 and 4 run validators with 100
    /// VERD each (commission 10%).
    fn start() -> Chain {
        let mut s = MockStorage::new();
        verdict_auth::genesis::AuthGenesis::default()
            .init(&mut s)
            .expect("auth");
        Accounts::ensure(&mut s, &fee_collector()).expect("collector");
        BankGenesis {
            balances: (1..=4u8)
                .map(|i| GenesisBalance {
                    address: key(i).address().bech32(),
                    coins: "1000000000uverd".into(),
                })
                .collect(),
        }
        .init(&mut s)
        .expect("bank");
        for i in 2..=4u8 {
            staking::create_validator(
                &mut s,
                &key(i).address(),
                &[i; 32],
                Uint128::new(100_000_000),
                Decimal::percent(10),
                "v",
            )
            .expect("validator");
        }
        staking::end_block_updates(&mut s).expect("set");
        Chain {
            s,
            height: 1,
            time: 1_700_000_000,
        }
    }

    pub fn block(&self) -> BlockInfo {
        BlockInfo {
            height: self.height,
            time_seconds: self.time,
            time_nanos: 0,
            chain_id: CHAIN.into(),
        }
    }

    pub fn snapshot(&self) -> Vec<cosmwasm_std::Record> {
        self.s.range(None, None, Order::Ascending).collect()
    }

    /// Signs `msgs` with key `i` (fee 10000uverd) and delivers it.
    pub fn deliver(&mut self, i: u8, msgs: Vec<Any>) -> TxOutcome {
        let k = key(i);
        let acc = Accounts::get(&self.s, &k.address())
            .expect("get")
            .expect("account");
        let tx = sign_tx(
            &TxSpec {
                msgs,
                memo: String::new(),
                timeout_height: 0,
                fee: vec![Coin::new(10_000, "uverd")],
                gas_limit: 400_000,
            },
            &k,
            CHAIN,
            acc.number,
            acc.sequence,
        );
        let block = self.block();
        let out = tx::run(
            &mut self.s,
            &tx,
            &block,
            &AppParams::default(),
            Mode::Deliver,
        );
        self.check();
        out
    }

    pub fn check(&self) {
        verdict_bank::state::check_supply_invariant(&self.s).expect("supply");
        staking::check_invariants(&self.s).expect("staking");
    }
}

pub fn valoper(i: u8) -> String {
    key(i).address().valoper()
}

pub fn coin(n: u128) -> Option<cosmrs::proto::cosmos::base::v1beta1::Coin> {
    Some(Coin::new(n, "uverd").to_proto())
}

pub fn delegate(d: u8, v: u8, n: u128) -> Any {
    Any {
        type_url: "/cosmos.staking.v1beta1.MsgDelegate".into(),
        value: pb::MsgDelegate {
            delegator_address: key(d).address().bech32(),
            validator_address: valoper(v),
            amount: coin(n),
        }
        .encode_to_vec(),
    }
}

pub fn redelegate(d: u8, src: u8, dst: u8, n: u128) -> Any {
    Any {
        type_url: "/cosmos.staking.v1beta1.MsgBeginRedelegate".into(),
        value: pb::MsgBeginRedelegate {
            delegator_address: key(d).address().bech32(),
            validator_src_address: valoper(src),
            validator_dst_address: valoper(dst),
            amount: coin(n),
        }
        .encode_to_vec(),
    }
}

fn shares(c: &Chain, d: u8, v: u8) -> Uint128 {
    staking::DELEGATIONS
        .may_load(&c.s, (&key(d).address().0, &key(v).address().0))
        .expect("load")
        .unwrap_or_default()
}

#[test]
fn a_signed_msg_begin_redelegate_moves_the_delegation_and_answers_its_completion_time() {
    let mut c = Chain::start();
    let out = c.deliver(1, vec![delegate(1, 2, 50_000_000)]);
    assert_eq!(out.code, 0, "{}", out.log);
    let out = c.deliver(1, vec![redelegate(1, 2, 3, 20_000_000)]);
    assert_eq!(out.code, 0, "{}", out.log);
    assert_eq!(shares(&c, 1, 2), Uint128::new(30_000_000_000_000));
    assert_eq!(shares(&c, 1, 3), Uint128::new(20_000_000_000_000));
    let data = cosmrs::proto::cosmos::base::abci::v1beta1::TxMsgData::decode(out.data.as_slice())
        .expect("TxMsgData");
    assert_eq!(
        data.msg_responses[0].type_url,
        "/cosmos.staking.v1beta1.MsgBeginRedelegateResponse"
    );
    let resp = pb::MsgBeginRedelegateResponse::decode(data.msg_responses[0].value.as_slice())
        .expect("response");
    let done = c.time + 21 * 24 * 3600;
    assert_eq!(resp.completion_time.map(|t| t.seconds), Some(done));
    assert!(out.events.iter().any(
        |e| e.kind == "redelegate" && e.attributes.iter().any(|(k, _)| k == "source_validator")
    ));
    // The Redelegations query (through the app's router types) sees it.
    let q = verdict_staking::query::redelegations(
        &c.s,
        &pb::QueryRedelegationsRequest {
            delegator_addr: key(1).address().bech32(),
            ..Default::default()
        }
        .encode_to_vec(),
    )
    .expect("query");
    let q = pb::QueryRedelegationsResponse::decode(q.as_slice()).expect("decode");
    assert_eq!(q.redelegation_responses.len(), 1);
    assert_eq!(q.redelegation_responses[0].entries[0].balance, "20000000");
    // Matures by block time.
    staking::complete_unbondings(&mut c.s, done).expect("mature");
    assert!(staking::REDELEGATIONS
        .range(&c.s, None, None, Order::Ascending)
        .next()
        .is_none());
    c.check();
}

#[test]
fn bad_redelegations_fail_with_clear_errors_keep_only_the_fee_and_change_no_stake() {
    let mut c = Chain::start();
    assert_eq!(c.deliver(1, vec![delegate(1, 2, 50_000_000)]).code, 0);
    assert_eq!(c.deliver(1, vec![redelegate(1, 2, 3, 10_000_000)]).code, 0);
    let cases: Vec<(Any, u32, &str)> = vec![
        (
            redelegate(1, 2, 2, 1),
            18,
            "cannot redelegate to the same validator",
        ),
        (
            redelegate(1, 2, 9, 1),
            38,
            "redelegation destination validator not found",
        ),
        (redelegate(1, 2, 4, 40_000_001), 18, "invalid shares amount"),
        (redelegate(1, 4, 2, 1), 38, "no delegation"),
        (
            redelegate(1, 3, 4, 1),
            18,
            "redelegation to this validator already in progress",
        ),
    ];
    for (msg, code, text) in cases {
        let stake_before: Vec<_> = c
            .snapshot()
            .into_iter()
            .filter(|(k, _)| k.windows(8).any(|w| w == b"staking/"))
            .collect();
        let out = c.deliver(1, vec![msg]);
        assert_eq!(out.code, code, "{}", out.log);
        assert!(out.log.contains(text), "{}", out.log);
        let stake_after: Vec<_> = c
            .snapshot()
            .into_iter()
            .filter(|(k, _)| k.windows(8).any(|w| w == b"staking/"))
            .collect();
        assert_eq!(stake_before, stake_after, "{text}: staking state changed");
    }
}

fn withdraw(d: u8, v: u8) -> Any {
    Any {
        type_url: "/cosmos.distribution.v1beta1.MsgWithdrawDelegatorReward".into(),
        value: cosmrs::proto::cosmos::distribution::v1beta1::MsgWithdrawDelegatorReward {
            delegator_address: key(d).address().bech32(),
            validator_address: valoper(v),
        }
        .encode_to_vec(),
    }
}

/// The decided last commit: validators `signed` voted for the block, the others
/// were absent; all with power 100.
fn commit(signed: &[u8], absent: &[u8]) -> tendermint_proto::v0_38::abci::CommitInfo {
    use tendermint_proto::v0_38::abci::{CommitInfo, Validator, VoteInfo};
    let vote = |i: u8, flag: i32| VoteInfo {
        validator: Some(Validator {
            address: staking::consensus_address(&[i; 32]).to_vec().into(),
            power: 100,
        }),
        block_id_flag: flag,
    };
    CommitInfo {
        round: 0,
        votes: signed
            .iter()
            .map(|&i| vote(i, 2))
            .chain(absent.iter().map(|&i| vote(i, 1)))
            .collect(),
    }
}

fn rewards_of(c: &Chain, d: u8, v: u8) -> String {
    use cosmrs::proto::cosmos::distribution::v1beta1 as dpb;
    let r = verdict_distribution::query::delegation_rewards(
        &c.s,
        &dpb::QueryDelegationRewardsRequest {
            delegator_address: key(d).address().bech32(),
            validator_address: valoper(v),
        }
        .encode_to_vec(),
    )
    .expect("query");
    let r = dpb::QueryDelegationRewardsResponse::decode(r.as_slice()).expect("decode");
    r.rewards
        .first()
        .map(|c| c.amount.clone())
        .unwrap_or_default()
}

fn balance(c: &Chain, i: u8) -> u128 {
    verdict_bank::Bank::balance(&c.s, &key(i).address(), "uverd")
        .expect("b")
        .u128()
}

#[test]
fn fees_reach_the_signers_delegators_who_withdraw_them_with_a_signed_tx() {
    let mut c = Chain::start();
    // Account 1 delegates as much as validator 2's operator: half its shares.
    assert_eq!(c.deliver(1, vec![delegate(1, 2, 100_000_000)]).code, 0);
    // Two txs' fees so far: 20 000 uverd in the fee collector.
    assert_eq!(c.deliver(1, vec![redelegate(1, 2, 3, 1)]).code, 0);
    // Next block: validators 2 and 3 signed, 4 was absent: 10 000 each.
    verdict_app::rewards::allocate_fees(&mut c.s, Some(&commit(&[2, 3], &[4]))).expect("alloc");
    verdict_distribution::state::check_invariants(&c.s).expect("books");
    // Validator 2: 10% commission, 9 000 to delegators; account 1 has half of it
    // (minus the 1 uverd it moved to validator 3).
    let r = rewards_of(&c, 1, 2);
    assert!(
        r.starts_with("44999") && r.len() == 4 + 18,
        "≈4 500 uverd as LegacyDec atomics: {r}"
    );
    let before = balance(&c, 1);
    let out = c.deliver(1, vec![withdraw(1, 2)]);
    assert_eq!(out.code, 0, "{}", out.log);
    assert_eq!(
        balance(&c, 1),
        before - 10_000 + 4_499,
        "fee paid, whole tokens withdrawn"
    );
    let data = cosmrs::proto::cosmos::base::abci::v1beta1::TxMsgData::decode(out.data.as_slice())
        .expect("data");
    let resp =
        cosmrs::proto::cosmos::distribution::v1beta1::MsgWithdrawDelegatorRewardResponse::decode(
            data.msg_responses[0].value.as_slice(),
        )
        .expect("response");
    assert_eq!(resp.amount[0].amount, "4499");
    assert!(out.events.iter().any(|e| e.kind == "withdraw_rewards"));
    verdict_distribution::state::check_invariants(&c.s).expect("books");
    // Validator 4 (absent) earned nothing; account 1 never delegated to it.
    let out = c.deliver(1, vec![withdraw(1, 4)]);
    assert_eq!(out.code, 38, "{}", out.log);
    assert!(
        out.log.contains("no delegation distribution info"),
        "{}",
        out.log
    );
    // Nobody can send to the distribution module account.
    let send = verdict_app::txbuild::msg_send(
        &key(1).address(),
        &verdict_distribution::module_account(),
        &[Coin::new(1, "uverd")],
    );
    assert_eq!(c.deliver(1, vec![send]).code, 4);
}
