//! Models reach validators (issue 14, the chain's side): a registration names
//! where the bytes are, validators' operators declare what they serve, and
//! committees come only from validators that serve the job's model; a job on
//! a model too few of them serve is refused at submit.

mod kit;
use kit::*;

fn register_with(net: &mut TestNet, uris: Vec<String>, size_bytes: u64) -> ExecTxResult {
    let m = TestNet::register_msg(uris, size_bytes);
    // Refused before the ante handler, a tx bumps no sequence: sign with the
    // committed one and keep the kit's count in step.
    let tx = net.tx_by(
        &user(),
        vec![cosmrs::Any {
            type_url: pb::MSG_REGISTER_MODEL_URL.into(),
            value: m.encode_to_vec(),
        }],
    );
    let r = net.run_tx(tx);
    net.user_seq = account_of(net.app(), &user().address()).expect("user").1;
    r
}

#[test]
fn a_registration_must_say_where_the_bytes_are_within_the_bounds() {
    let mut net = TestNet::new(&[Honest; 4], 8);
    for (uris, size, want) in [
        (vec![], 1_024, "uris"),
        (vec!["ftp://x/m.onnx".to_string()], 1_024, "http://"),
        (vec!["http://".to_string()], 1_024, "with a location"),
        (vec!["http://a/m.onnx".to_string(); 5], 1_024, "1..4 uris"),
        (
            vec![format!("http://a/{}", "x".repeat(300))],
            1_024,
            "at most 256",
        ),
        (vec!["http://a/m.onnx".to_string()], 0, "size_bytes"),
        (
            vec!["http://a/m.onnx".to_string()],
            (1 << 30) + 1,
            "max_model_bytes",
        ),
    ] {
        let r = register_with(&mut net, uris.clone(), size);
        assert_ne!(r.code, 0, "{uris:?} {size}");
        assert!(r.log.contains(want), "{uris:?} {size}: {}", r.log);
    }
    assert_eq!(net.try_query("Model", json!({ "id": MODEL })).0, 38);
    let uris = vec![
        "http://127.0.0.1:8000/m.onnx".to_string(),
        "ipfs://bafy".to_string(),
    ];
    let r = register_with(&mut net, uris.clone(), 4_096);
    assert_eq!(r.code, 0, "{}", r.log);
    let m = net.query("Model", json!({ "id": MODEL }));
    assert_eq!(m["uris"], json!(uris));
    assert_eq!(m["size_bytes"], json!(4_096));
    assert_eq!(m["servers"], json!([]));
}

#[test]
fn a_job_on_a_model_nobody_serves_is_refused_at_submit_and_costs_only_the_tx_fee() {
    let mut net = TestNet::new(&[Honest; 4], 8);
    let reg = net.register_tx();
    assert_eq!(net.run_tx(reg).code, 0);
    let before = net.balance(&user().address().bech32());
    let sub = net.submit();
    let r = net.run_tx(sub);
    assert_ne!(r.code, 0);
    assert!(
        r.log
            .contains("is served by 0 bonded validators; at least 1 needed"),
        "{}",
        r.log
    );
    // Only the tx fee went; no job, nothing escrowed.
    assert_eq!(net.balance(&user().address().bech32()), before - 10_000);
    assert_eq!(net.try_query("Job", json!({"id": 1})).0, 38);
}

#[test]
fn only_validators_that_serve_the_model_are_seated_and_the_query_lists_them() {
    let mut net = TestNet::new(&[Honest; 4], 8);
    let reg = net.register_tx();
    let serve: Vec<Vec<u8>> = (0..3)
        .map(|i| net.serve_tx(i, &[MODEL.to_string()], true))
        .collect();
    let mut txs = vec![reg];
    txs.extend(serve);
    let r = net.run_height(txs);
    assert!(
        r.tx_results.iter().all(|t| t.code == 0),
        "{:?}",
        r.tx_results
    );
    let m = net.query("Model", json!({ "id": MODEL }));
    let servers = m["servers"].as_array().expect("servers");
    assert_eq!(servers.len(), 3, "{m}");
    assert!(servers.iter().all(|s| s["power"] == json!(POWER)), "{m}");
    let outsider = net.nodes[3].hex();
    for _ in 0..3 {
        let sub = net.submit();
        net.run_height(vec![sub]);
    }
    net.run_heights(6);
    for id in 1..=3u64 {
        let j = net.job(id);
        let members: Vec<&str> = j["committee"]
            .as_array()
            .expect("committee")
            .iter()
            .map(|m| m["address"].as_str().expect("address"))
            .collect();
        assert_eq!(members.len(), 3, "{j}");
        assert!(!members.contains(&outsider.as_str()), "{j}");
        assert_eq!(j["status"], "completed", "{j}");
    }
    // Not serving costs nothing: the outsider has no missed seat, no fault.
    assert!(net
        .query("Faults", json!({}))
        .as_array()
        .expect("list")
        .is_empty());
    // A validator stops serving: it leaves the list; the others stay.
    let stop = net.serve_tx(2, &[MODEL.to_string()], false);
    assert_eq!(net.run_tx(stop).code, 0);
    let m = net.query("Model", json!({ "id": MODEL }));
    assert_eq!(m["servers"].as_array().map(Vec::len), Some(2), "{m}");
}

#[test]
fn only_a_validators_operator_declares_serving_and_only_registered_models() {
    let mut net = TestNet::new(&[Honest; 4], 8);
    let reg = net.register_tx();
    assert_eq!(net.run_tx(reg).code, 0);
    // Unknown model.
    let other = "22".repeat(32);
    let r = net.run_tx(net.serve_tx(0, std::slice::from_ref(&other), true));
    assert_ne!(r.code, 0);
    assert!(r.log.contains("unknown model"), "{}", r.log);
    // The user is no validator.
    let m = pb::MsgServeModel {
        operator: user().address().valoper(),
        model_ids: vec![MODEL.into()],
        serve: true,
    };
    let tx = net.user_tx(vec![cosmrs::Any {
        type_url: pb::MSG_SERVE_MODEL_URL.into(),
        value: m.encode_to_vec(),
    }]);
    let r = net.run_tx(tx);
    assert_ne!(r.code, 0);
    assert!(r.log.contains("is not a validator"), "{}", r.log);
    // Malformed ids are refused before any state is read.
    let r = net.run_tx(net.serve_tx(0, &["x".to_string()], true));
    assert!(r.log.contains("64 lower-case hex"), "{}", r.log);
    let m = net.query("Model", json!({ "id": MODEL }));
    assert_eq!(m["servers"], json!([]));
}
