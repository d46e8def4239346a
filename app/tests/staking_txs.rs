//! Staking (and later distribution) messages through the whole tx pipeline:
//! decode, ante, signature, execution, in blocks of a test net, with the
//! supply and staking books checked after every block (the nodes run with
//! invariant checks).

mod kit;
use kit::*;

use cosmrs::proto::cosmos::staking::v1beta1 as pb;
use cosmrs::Any;
use cosmwasm_std::{Order, Storage, Uint128};
use verdict_staking::state as staking;

/// Account 1 is the user, accounts 2, 3 and 4 are the operators of
/// validators 0, 1 and 2 (any other number: an account that runs nothing).
pub fn key(i: u8) -> AccountKey {
    match i {
        1 => user(),
        _ => operator(i - 2),
    }
}

/// Validators 2 and 3 bond 100 VERD each, validator 4 50 VERD (so that 2 and 3
/// alone hold more than two thirds of the power); commission 10%.
fn start() -> TestNet {
    TestNet::builder()
        .validators(3)
        .stakes(&[100_000_000, 100_000_000, 50_000_000])
        .commission("100000000000000000")
        .start()
}

/// Signs `msgs` with the user's key (fee 10000uverd; the sequence as the
/// chain has it) and delivers it in a block of its own.
fn deliver(net: &mut TestNet, msgs: Vec<Any>) -> ExecTxResult {
    let tx = net.tx_by(&user(), msgs);
    net.run_tx(tx)
}

/// Every committed record whose key names staking's tables.
fn staking_records(net: &TestNet) -> Vec<cosmwasm_std::Record> {
    let records: Vec<_> = net
        .app()
        .store()
        .range(None, None, Order::Ascending)
        .filter(|(k, _)| k.windows(8).any(|w| w == b"staking/"))
        .collect();
    assert!(!records.is_empty(), "staking has validators");
    records
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

fn shares(net: &TestNet, d: u8, v: u8) -> Uint128 {
    staking::delegation_shares(net.app().store(), &key(d).address().0, &key(v).address().0)
        .expect("load")
        .unwrap_or_default()
}

#[test]
fn a_signed_msg_begin_redelegate_moves_the_delegation_and_answers_its_completion_time() {
    let mut net = start();
    let out = deliver(&mut net, vec![delegate(1, 2, 50_000_000)]);
    assert_eq!(out.code, 0, "{}", out.log);
    let out = deliver(&mut net, vec![redelegate(1, 2, 3, 20_000_000)]);
    assert_eq!(out.code, 0, "{}", out.log);
    assert_eq!(shares(&net, 1, 2), Uint128::new(30_000_000_000_000));
    assert_eq!(shares(&net, 1, 3), Uint128::new(20_000_000_000_000));
    let data = cosmrs::proto::cosmos::base::abci::v1beta1::TxMsgData::decode(out.data.as_ref())
        .expect("TxMsgData");
    assert_eq!(
        data.msg_responses[0].type_url,
        "/cosmos.staking.v1beta1.MsgBeginRedelegateResponse"
    );
    let resp = pb::MsgBeginRedelegateResponse::decode(data.msg_responses[0].value.as_slice())
        .expect("response");
    // The unbonding time after the block time of the redelegation.
    let done = net.time(net.height).seconds + 21 * 24 * 3600;
    assert_eq!(resp.completion_time.map(|t| t.seconds), Some(done));
    assert!(out
        .events
        .iter()
        .any(|e| e.r#type == "redelegate"
            && e.attributes.iter().any(|a| a.key == "source_validator")));
    // The Redelegations query (through the app's query router) sees it.
    let q: pb::QueryRedelegationsResponse = net.proto(
        "/cosmos.staking.v1beta1.Query/Redelegations",
        pb::QueryRedelegationsRequest {
            delegator_addr: key(1).address().bech32(),
            ..Default::default()
        },
    );
    assert_eq!(q.redelegation_responses.len(), 1);
    assert_eq!(q.redelegation_responses[0].entries[0].balance, "20000000");
    // Matures by block time: the first block at or after `done`.
    net.skip_time(done - net.time(net.height + 1).seconds);
    net.run_height(vec![]);
    assert_eq!(net.time(net.height).seconds, done);
    assert!(staking::redelegations(net.app().store()).next().is_none());
    net.check_invariants();
}

#[test]
fn bad_redelegations_fail_with_clear_errors_keep_only_the_fee_and_change_no_stake() {
    let mut net = start();
    assert_eq!(deliver(&mut net, vec![delegate(1, 2, 50_000_000)]).code, 0);
    assert_eq!(
        deliver(&mut net, vec![redelegate(1, 2, 3, 10_000_000)]).code,
        0
    );
    // Distribution settles the changed delegations in the next block.
    net.run_height(vec![]);
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
        let stake_before = staking_records(&net);
        let out = deliver(&mut net, vec![msg]);
        assert_eq!(out.code, code, "{}", out.log);
        assert!(out.log.contains(text), "{}", out.log);
        let stake_after = staking_records(&net);
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

fn rewards_of(net: &TestNet, d: u8, v: u8) -> String {
    use cosmrs::proto::cosmos::distribution::v1beta1 as dpb;
    let r: dpb::QueryDelegationRewardsResponse = net.proto(
        "/cosmos.distribution.v1beta1.Query/DelegationRewards",
        dpb::QueryDelegationRewardsRequest {
            delegator_address: key(d).address().bech32(),
            validator_address: valoper(v),
        },
    );
    r.rewards
        .first()
        .map(|c| c.amount.clone())
        .unwrap_or_default()
}

fn balance(net: &TestNet, i: u8) -> u128 {
    net.balance(&key(i).address().bech32())
}

#[test]
fn fees_reach_the_signers_delegators_who_withdraw_them_with_a_signed_tx() {
    let mut net = start();
    // One block: account 1 delegates as much as validator 2's operator (half
    // its shares), then moves 1 uverd to validator 3; two txs' fees: 20 000
    // uverd in the fee collector. Validators 2 and 3 sign it, 4 is absent.
    let validator_4 = net.nodes[2].addr();
    net.absent.insert(validator_4);
    let (number, seq) = account_of(net.app(), &user().address()).expect("account");
    let txs = vec![
        net.sign(
            &net.spec(vec![delegate(1, 2, 100_000_000)]),
            &user(),
            number,
            seq,
        ),
        net.sign(
            &net.spec(vec![redelegate(1, 2, 3, 1)]),
            &user(),
            number,
            seq + 1,
        ),
    ];
    let r = net.run_height(txs);
    assert!(r.tx_results.iter().all(|t| t.code == 0), "{r:?}");
    net.absent.clear();
    // Next block: its decided last commit pays validators 2 and 3 (power 100
    // each, the delegation not in force yet) 10 000 each.
    net.run_height(vec![]);
    net.check_invariants();
    // Validator 2: 10% commission, 9 000 to delegators; account 1 has half of it
    // (minus the 1 uverd it moved to validator 3).
    let r = rewards_of(&net, 1, 2);
    assert!(
        r.starts_with("44999") && r.len() == 4 + 18,
        "≈4 500 uverd as LegacyDec atomics: {r}"
    );
    let before = balance(&net, 1);
    let out = deliver(&mut net, vec![withdraw(1, 2)]);
    assert_eq!(out.code, 0, "{}", out.log);
    assert_eq!(
        balance(&net, 1),
        before - 10_000 + 4_499,
        "fee paid, whole tokens withdrawn"
    );
    let data = cosmrs::proto::cosmos::base::abci::v1beta1::TxMsgData::decode(out.data.as_ref())
        .expect("data");
    let resp =
        cosmrs::proto::cosmos::distribution::v1beta1::MsgWithdrawDelegatorRewardResponse::decode(
            data.msg_responses[0].value.as_slice(),
        )
        .expect("response");
    assert_eq!(resp.amount[0].amount, "4499");
    assert!(out.events.iter().any(|e| e.r#type == "withdraw_rewards"));
    net.check_invariants();
    // Validator 4 (absent) earned nothing; account 1 never delegated to it.
    let out = deliver(&mut net, vec![withdraw(1, 4)]);
    assert_eq!(out.code, 38, "{}", out.log);
    assert!(
        out.log.contains("no delegation distribution info"),
        "{}",
        out.log
    );
    // Nobody can send to the distribution module account.
    let send = msg_send(
        &key(1).address(),
        &verdict_distribution::module_account(),
        &[Coin::new(1, "uverd")],
    );
    assert_eq!(deliver(&mut net, vec![send]).code, 4);
}

pub fn undelegate(d: u8, v: u8, n: u128) -> Any {
    Any {
        type_url: "/cosmos.staking.v1beta1.MsgUndelegate".into(),
        value: pb::MsgUndelegate {
            delegator_address: key(d).address().bech32(),
            validator_address: valoper(v),
            amount: coin(n),
        }
        .encode_to_vec(),
    }
}

/// Security review H-4, through signed txs and the app's EndBlock: an operator
/// that takes its whole self-bond out leaves CometBFT's set, stays Unbonding
/// (queryable, slashable) for the unbonding time, and is then removed from
/// state, its undelegation paid out on time.
#[test]
fn an_operator_that_leaves_is_unbonding_for_the_unbonding_time_then_removed() {
    let mut net = start();
    let tx = net.tx_by(&key(4), vec![undelegate(4, 4, 50_000_000)]);
    let out = net.run_tx(tx);
    assert_eq!(out.code, 0, "{}", out.log);
    let left_at = net.height;
    net.run_height(vec![]);
    let q: pb::QueryValidatorResponse = net.proto(
        "/cosmos.staking.v1beta1.Query/Validator",
        pb::QueryValidatorRequest {
            validator_addr: valoper(4),
        },
    );
    let v = q.validator.expect("still there while unbonding");
    assert_eq!(v.status, pb::BondStatus::Unbonding as i32);
    assert_eq!(v.unbonding_height, left_at);
    let done = net.time(left_at).seconds + 21 * 24 * 3600;
    assert_eq!(v.unbonding_time.map(|t| t.seconds), Some(done));
    net.check_invariants();

    let before = balance(&net, 4);
    net.skip_time(done - net.time(net.height + 1).seconds);
    net.run_height(vec![]);
    let resp = proto_query(
        net.app(),
        "/cosmos.staking.v1beta1.Query/Validator",
        pb::QueryValidatorRequest {
            validator_addr: valoper(4),
        },
    );
    assert_ne!(resp.code, 0, "removed: {}", resp.log);
    assert!(resp.log.contains("does not exist"), "{}", resp.log);
    assert_eq!(
        balance(&net, 4),
        before + 50_000_000,
        "the undelegation paid out"
    );
    assert!(
        !staking_records(&net)
            .iter()
            .any(|(k, _)| k.windows(20).any(|w| w == key(4).address().0)
                && k.windows(18).any(|w| w == b"staking/validators")),
        "no validator record left"
    );
    net.run_heights(2);
    net.check_invariants();
}
