//! The app-hash snapshot: a fixed sequence of blocks — genesis with gentxs,
//! sends, a delegation, a model registration, jobs answered honestly and
//! wrongly, a silent member, an undelegation — must give exactly these app
//! hashes. Any change to what is stored (a key, an encoding, an order of
//! effects) changes them, so a storage change is always deliberate: update
//! the list in the same commit and say why.

mod kit;
use kit::*;

fn delegate(n: u128) -> cosmrs::Any {
    use cosmrs::proto::cosmos::staking::v1beta1::MsgDelegate;
    cosmrs::Any {
        type_url: "/cosmos.staking.v1beta1.MsgDelegate".into(),
        value: MsgDelegate {
            delegator_address: user().address().bech32(),
            validator_address: operator(0).address().valoper(),
            amount: Some(cosmrs::proto::cosmos::base::v1beta1::Coin {
                denom: "uverd".into(),
                amount: n.to_string(),
            }),
        }
        .encode_to_vec(),
    }
}

fn send(n: u128) -> cosmrs::Any {
    verdict_app::txbuild::msg_send(
        &user().address(),
        &operator(1).address(),
        &[Coin::new(n, "uverd")],
    )
}

/// The committed app hash of node 0, hex.
fn hash(net: &Net) -> String {
    hex::encode_upper(
        net.nodes[0]
            .app
            .info(Default::default())
            .last_block_app_hash,
    )
}

/// The app hash after each step of the sequence, hex, from genesis on.
fn run_sequence() -> Vec<String> {
    let mut net = Net::new(&[Honest, Honest, Honest, Wrong], 8);
    let mut hashes = vec![hash(&net)];
    let tx = net.user_tx(vec![send(1_000), delegate(5_000_000)]);
    net.run_height(vec![tx]);
    hashes.push(hash(&net));
    let (job, _) = net.one_job();
    assert_eq!(job["status"], "completed", "{job}");
    hashes.push(hash(&net));
    let tx = net.submit();
    net.run_height(vec![tx]);
    hashes.push(hash(&net));
    for _ in 0..6 {
        net.run_height(vec![]);
        hashes.push(hash(&net));
    }
    hashes
}

#[test]
fn a_fixed_block_sequence_gives_exactly_the_recorded_app_hashes() {
    let got = run_sequence();
    println!("APP_HASHES {}", got.join(" "));
    // Recorded on 258e0f2, before the module redesign (issue #19), which left
    // them unchanged; re-recorded on purpose for issue #14: the inference
    // params gained `max_model_bytes` and `min_model_servers`, a registration
    // names its URIs and size, and the validators declare serving the model
    // (MsgServeModel) in the block that registers it. Re-recorded again for
    // the security review's H-4: the staking params gained `min_self_bond`
    // (stored with the params from genesis on; nothing else changed).
    let want = [
        "10AF9CDB3FF526D22FEFA50E7CE408691CD89461483836A282E4683101571355",
        "5C8CB57DB0EE0407A2CC7E752F5F592DAECAC7B9718719E374C31E7FCFD76617",
        "62CDC846A3290D9C0C4C8CF28C62775EDA0F50240ABF92B50D521D5B824C71A5",
        "204C8E87ADD8468E30F1BE114F60ABEDCE683EC4A79734346D6C4D4B29415867",
        "788FF1A3AB3F13F47E9E185AE4B2AFA234CBA5D20529FB7E7612E14405C76829",
        "B3F767E3D0720BDC4A540C2DC7E7EDCA988957A5452A10D46E4C10EB83C5A191",
        "CBB4575E1732A5AC322948E46D18777C140D919221C4FBF2E9157FF74841A3CA",
        "656D65D0D1863BF7C464A4A0E1BC23300EC3B137FEEBF358B14E86BCB79E7E93",
        "532DC61C7000E65AE8663ECD9E6E7D995B0A8860A034518D81FD99523DE22123",
        "FAA05314B63EDE8D42BAAE0B67A96B6F160CCE629A5CE26C0E7B411E8DEA3A34",
    ];
    assert_eq!(got, want);
}
