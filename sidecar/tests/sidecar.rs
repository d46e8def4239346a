//! Sidecar tests against the real ONNX Runtime library (found as the binary finds
//! it). Without the library these tests fail with the lookup error: they must
//! never pass vacuously.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use verdict_sidecar::jobs::{Fault, JobConfig, JobQueue, JobStatus, LIE_LATENCY, WRONG_DELTA};
use verdict_sidecar::metrics::Metrics;
use verdict_sidecar::model::{Limits, Model, ModelStore};
use verdict_sidecar::proto as pb;
use verdict_sidecar::runtime::{locate_library, Device, DeviceRequest, Runtime};
use verdict_sidecar::service::{SidecarClient, SidecarService};
use verdict_sidecar::tensor::{tensors_from_json, DType, NamedTensors, Tensor, TensorData};
use verdict_sidecar::SidecarError;

const MLP: &str = "d314a04eacd41b4e02fa9d89d5ab913db15ab8c50faf4db94a1b3ea2d9210200";

fn runtime() -> &'static Runtime {
    static RT: OnceLock<Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        let lib = locate_library(None).unwrap_or_else(|e| {
            panic!("these tests need ONNX Runtime: {e} (for a checkout: `make setup`)")
        });
        Runtime::new(&lib, DeviceRequest::Cpu, 1).expect("load ONNX Runtime")
    })
}

fn models_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../models")
}

fn reference_files() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(models_dir().join("reference"))
        .expect("models/reference")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    v.sort();
    v
}

struct Reference {
    model: PathBuf,
    sha256: String,
    inputs: NamedTensors,
    outputs: NamedTensors,
}

fn reference(path: &Path) -> Reference {
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("read reference"))
            .expect("json");
    let parse = |k: &str| tensors_from_json(&doc[k], |_| None).expect("reference tensors");
    Reference {
        model: models_dir().join(doc["model"].as_str().expect("model")),
        sha256: doc["sha256"].as_str().expect("sha256").to_string(),
        inputs: parse("inputs"),
        outputs: parse("outputs"),
    }
}

fn mlp_input(batch: i64) -> NamedTensors {
    let n = usize::try_from(batch * 16).expect("size");
    let data = (0..n).map(|i| (i as f32 * 0.37).sin()).collect();
    NamedTensors::from([(
        "x".to_string(),
        Tensor::new(vec![batch, 16], TensorData::F32(data)),
    )])
}

/// A models dir holding only the MLP (fast to load) for queue tests.
fn mlp_store() -> (tempfile::TempDir, Arc<ModelStore>) {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::copy(
        models_dir().join("mlp_classifier.onnx"),
        dir.path().join("mlp_classifier.onnx"),
    )
    .expect("copy");
    let store = ModelStore::load_dir(runtime(), dir.path()).expect("load store");
    (dir, Arc::new(store))
}

fn queue(fault: Fault, capacity: usize, timeout_ms: u64) -> (tempfile::TempDir, JobQueue) {
    let (dir, store) = mlp_store();
    let config = JobConfig {
        queue_capacity: capacity,
        workers: 1,
        timeout: Duration::from_millis(timeout_ms),
        fault,
        ..JobConfig::default()
    };
    let q = JobQueue::start(store, config, Arc::new(Metrics::new(capacity))).expect("start queue");
    (dir, q)
}

fn wait_final(q: &JobQueue, id: &str) -> verdict_sidecar::jobs::JobReport {
    let until = Instant::now() + Duration::from_secs(10);
    loop {
        let r = q.result(id).expect("job known");
        if r.status.is_final() {
            return r;
        }
        assert!(Instant::now() < until, "job {id} did not finish");
        std::thread::sleep(Duration::from_millis(2));
    }
}

#[test]
fn every_shipped_model_matches_python_onnxruntime_within_1e_5() {
    let refs = reference_files();
    let onnx_files = std::fs::read_dir(models_dir())
        .expect("models")
        .filter(|e| {
            e.as_ref()
                .map(|e| e.path().extension().is_some_and(|x| x == "onnx"))
                .unwrap_or(false)
        })
        .count();
    assert_eq!(
        refs.len(),
        onnx_files,
        "every models/*.onnx needs models/reference/<stem>.json (models/reference.py)"
    );
    for path in refs {
        let r = reference(&path);
        let model = Model::load(runtime(), &r.model, Some(&r.sha256)).expect("load model");
        model
            .validate(&r.inputs, &Limits::default())
            .expect("reference inputs valid");
        let out = model.run(r.inputs.clone(), None).expect("run");
        assert_eq!(out.device, Device::Cpu);
        assert_eq!(
            out.outputs.keys().collect::<Vec<_>>(),
            r.outputs.keys().collect::<Vec<_>>()
        );
        for (name, want) in &r.outputs {
            let got = &out.outputs[name];
            let diff = got
                .max_abs_diff(want)
                .unwrap_or_else(|| panic!("{name}: shape/dtype differ"));
            assert!(
                diff <= 1e-5,
                "{}: output {name} differs from onnxruntime by {diff}",
                path.display()
            );
        }
    }
}

#[test]
fn store_loads_and_warms_every_shipped_model_under_its_listed_hash() {
    let store = ModelStore::load_dir(runtime(), &models_dir()).expect("load models/");
    let sums = std::fs::read_to_string(models_dir().join("SHA256SUMS")).expect("SHA256SUMS");
    assert_eq!(store.len(), sums.lines().count());
    for line in sums.lines() {
        let hash = line.split_whitespace().next().expect("hash");
        let m = store.get(hash).expect("listed model loaded");
        assert_eq!(m.sha256, hash);
    }
    assert!(matches!(
        store.get(&"0".repeat(64)),
        Err(SidecarError::UnknownModel(_))
    ));
}

#[test]
fn a_model_whose_bytes_do_not_match_the_requested_hash_is_refused() {
    let mlp = models_dir().join("mlp_classifier.onnx");
    let wrong = "ab".repeat(32);
    let err = Model::load(runtime(), &mlp, Some(&wrong)).expect_err("must refuse");
    assert!(matches!(err, SidecarError::HashMismatch { .. }), "{err}");
    assert!(
        err.to_string().contains(MLP) && err.to_string().contains("refused"),
        "{err}"
    );

    // Listed in SHA256SUMS under another hash: the whole directory is refused.
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::copy(&mlp, dir.path().join("mlp.onnx")).expect("copy");
    std::fs::write(
        dir.path().join("SHA256SUMS"),
        format!("{wrong}  mlp.onnx\n"),
    )
    .expect("write");
    let err = ModelStore::load_dir(runtime(), dir.path()).expect_err("must refuse");
    assert!(matches!(err, SidecarError::HashMismatch { .. }), "{err}");

    // Named by a hash it does not have.
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::copy(&mlp, dir.path().join(format!("{wrong}.onnx"))).expect("copy");
    let err = ModelStore::load_dir(runtime(), dir.path()).expect_err("must refuse");
    assert!(matches!(err, SidecarError::HashMismatch { .. }), "{err}");

    // Named by its own hash: accepted.
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::copy(&mlp, dir.path().join(format!("{MLP}.onnx"))).expect("copy");
    ModelStore::load_dir(runtime(), dir.path()).expect("right hash accepted");
}

#[test]
fn wrong_input_names_dtypes_and_shapes_are_refused_with_clear_errors() {
    let model =
        Model::load(runtime(), &models_dir().join("mlp_classifier.onnx"), None).expect("load");
    let lim = Limits::default();
    let check = |inputs: NamedTensors, want: &str| {
        let err = model.validate(&inputs, &lim).expect_err("must refuse");
        assert!(
            err.to_string().contains(want),
            "`{err}` should mention `{want}`"
        );
        err
    };
    model.validate(&mlp_input(1), &lim).expect("batch 1");
    model
        .validate(&mlp_input(5), &lim)
        .expect("dynamic batch 5");

    let mut renamed = mlp_input(1);
    let t = renamed.remove("x").expect("x");
    renamed.insert("input".into(), t);
    assert!(matches!(
        check(renamed.clone(), "unknown input `input`"),
        SidecarError::UnknownInput { .. }
    ));
    check(NamedTensors::new(), "missing input `x`");

    let ints = NamedTensors::from([(
        "x".into(),
        Tensor::new(vec![1, 16], TensorData::I64(vec![0; 16])),
    )]);
    check(ints, "input `x` has dtype int64, model expects float32");

    let f = |shape: Vec<i64>, n: usize| {
        NamedTensors::from([(
            "x".into(),
            Tensor::new(shape, TensorData::F32(vec![0.0; n])),
        )])
    };
    check(f(vec![16], 16), "has shape [16], model expects [-1, 16]");
    check(f(vec![1, 15], 15), "has shape [1, 15]");
    check(f(vec![0, 16], 0), "has shape [0, 16]");
    check(f(vec![2, 16], 16), "needs 32 elements, got 16");
    let small = Limits {
        max_elements_per_tensor: 16,
        ..Limits::default()
    };
    let err = model
        .validate(&f(vec![2, 16], 32), &small)
        .expect_err("limit");
    assert!(err.to_string().contains("exceeds the limit of 16"), "{err}");
    let tiny = Limits {
        max_job_bytes: 100,
        ..Limits::default()
    };
    let err = model
        .validate(&f(vec![2, 16], 32), &tiny)
        .expect_err("limit");
    assert!(
        err.to_string().contains("128 bytes, over the limit of 100"),
        "{err}"
    );

    // Malformed proto tensors: data in the wrong field, duplicate names.
    let bad = pb::Tensor {
        name: "x".into(),
        dtype: pb::DataType::Int64 as i32,
        shape: vec![1],
        float32_data: vec![1.0],
        ..Default::default()
    };
    assert!(pb::tensors_from_proto(vec![bad])
        .expect_err("wrong field")
        .to_string()
        .contains("does not match dtype"));
    let ok = pb::tensor_to_proto("x", &Tensor::new(vec![1], TensorData::F32(vec![1.0])));
    let err = pb::tensors_from_proto(vec![ok.clone(), ok]).expect_err("dup");
    assert!(err.to_string().contains("given twice"), "{err}");
}

#[test]
fn int64_inputs_are_supported_and_checked() {
    let model = Model::load(runtime(), &models_dir().join("token_embed.onnx"), None).expect("load");
    assert_eq!(model.inputs[0].dtype, DType::I64);
    let ok = NamedTensors::from([(
        "tokens".into(),
        Tensor::new(vec![2, 6], TensorData::I64(vec![1; 12])),
    )]);
    let out = model.run(ok, None).expect("run");
    assert_eq!(out.outputs["embedding"].shape, vec![2, 8]);
    // An index past the table is ONNX Runtime's to reject: an error, not a crash.
    let oob = NamedTensors::from([(
        "tokens".into(),
        Tensor::new(vec![1, 6], TensorData::I64(vec![99; 6])),
    )]);
    assert!(model.run(oob, None).is_err());
}

#[test]
fn a_job_reports_outputs_latency_queue_time_and_device() {
    let (_d, q) = queue(Fault::None, 4, 5000);
    assert!(q.is_ready());
    q.submit(MLP, "j1", mlp_input(2)).expect("submit");
    let r = wait_final(&q, "j1");
    assert_eq!(r.status, JobStatus::Done, "{:?}", r.error);
    assert_eq!(r.outputs["logits"].shape, vec![2, 4]);
    assert!(r.latency > Duration::ZERO);
    assert_eq!(r.device, Some(Device::Cpu));
    let err = q.submit(MLP, "j1", mlp_input(1)).expect_err("duplicate id");
    assert!(matches!(err, SidecarError::DuplicateJob(_)));
    assert!(matches!(
        q.submit(&"1".repeat(64), "j2", mlp_input(1)),
        Err(SidecarError::UnknownModel(_))
    ));
    assert!(matches!(q.result("nope"), Err(SidecarError::UnknownJob(_))));
}

#[test]
fn a_full_queue_refuses_jobs_with_back_pressure() {
    let (_d, q) = queue(Fault::Slow(Duration::from_millis(400)), 1, 5000);
    q.submit(MLP, "running", mlp_input(1)).expect("first");
    let until = Instant::now() + Duration::from_secs(5);
    while q.result("running").expect("known").status != JobStatus::Running {
        assert!(Instant::now() < until, "worker never picked the job up");
        std::thread::sleep(Duration::from_millis(1));
    }
    q.submit(MLP, "waiting", mlp_input(1)).expect("one slot");
    let err = q
        .submit(MLP, "refused", mlp_input(1))
        .expect_err("queue full");
    assert!(
        matches!(err, SidecarError::QueueFull { capacity: 1 }),
        "{err}"
    );
    assert!(err.to_string().contains("queue full"));
    assert!(matches!(
        q.result("refused"),
        Err(SidecarError::UnknownJob(_))
    ));
    assert_eq!(wait_final(&q, "waiting").status, JobStatus::Done);
    let metrics = q.metrics().render(true, "");
    assert!(
        metrics.contains("verdict_sidecar_errors_total{kind=\"queue_full\"} 1"),
        "{metrics}"
    );
}

#[test]
fn jobs_past_their_deadline_time_out_running_or_queued() {
    let (_d, q) = queue(Fault::Slow(Duration::from_millis(3000)), 4, 150);
    let t0 = Instant::now();
    q.submit(MLP, "slow", mlp_input(1)).expect("submit");
    q.submit(MLP, "behind", mlp_input(1)).expect("submit");
    let r = wait_final(&q, "slow");
    assert_eq!(r.status, JobStatus::TimedOut);
    assert!(
        r.error.as_deref().unwrap_or("").contains("timed out"),
        "{:?}",
        r.error
    );
    assert!(r.outputs.is_empty());
    let r = wait_final(&q, "behind");
    assert_eq!(
        r.status,
        JobStatus::TimedOut,
        "the queued job is not run after its deadline"
    );
    assert!(
        t0.elapsed() < Duration::from_millis(1500),
        "the slow sleep is cut at the deadline"
    );
}

#[test]
fn fault_wrong_moves_every_output_element() {
    let (_d, honest) = queue(Fault::None, 4, 5000);
    let (_d2, wrong) = queue(Fault::Wrong, 4, 5000);
    honest.submit(MLP, "a", mlp_input(3)).expect("submit");
    wrong.submit(MLP, "a", mlp_input(3)).expect("submit");
    let (h, w) = (wait_final(&honest, "a"), wait_final(&wrong, "a"));
    for (name, ht) in &h.outputs {
        let (TensorData::F32(hv), TensorData::F32(wv)) = (&ht.data, &w.outputs[name].data) else {
            panic!("f32 outputs")
        };
        for (a, b) in hv.iter().zip(wv) {
            assert!(
                ((b - a) as f64 - WRONG_DELTA).abs() < 1e-2,
                "{name}: {a} vs {b}"
            );
        }
    }
}

#[test]
fn fault_slow_delays_the_answer_and_counts_in_latency() {
    let (_d, q) = queue(Fault::Slow(Duration::from_millis(120)), 4, 5000);
    let t0 = Instant::now();
    q.submit(MLP, "s", mlp_input(1)).expect("submit");
    let r = wait_final(&q, "s");
    assert_eq!(r.status, JobStatus::Done);
    assert!(t0.elapsed() >= Duration::from_millis(120));
    assert!(r.latency >= Duration::from_millis(120), "{:?}", r.latency);
}

#[test]
fn fault_lie_takes_its_time_but_reports_one_ms_and_no_queue_wait() {
    let (_d, q) = queue(Fault::Lie(Duration::from_millis(150)), 4, 5000);
    let t0 = Instant::now();
    q.submit(MLP, "l1", mlp_input(1)).expect("submit");
    // The second job waits behind the first (one worker) and still claims no queue wait.
    q.submit(MLP, "l2", mlp_input(1)).expect("submit");
    let r = wait_final(&q, "l1");
    assert_eq!(r.status, JobStatus::Done, "{:?}", r.error);
    assert!(t0.elapsed() >= Duration::from_millis(150));
    assert!(r.latency <= LIE_LATENCY, "{:?}", r.latency);
    assert_eq!(r.queue_wait, Duration::ZERO);
    let r = wait_final(&q, "l2");
    assert_eq!(r.status, JobStatus::Done, "{:?}", r.error);
    assert!(t0.elapsed() >= Duration::from_millis(300));
    assert!(r.latency <= LIE_LATENCY, "{:?}", r.latency);
    assert_eq!(r.queue_wait, Duration::ZERO);
}

#[test]
fn fault_noise_moves_every_output_element_by_rel() {
    let rel = 1e-3;
    let (_d, honest) = queue(Fault::None, 4, 5000);
    let (_d2, noisy) = queue(Fault::noise(rel).expect("valid"), 4, 5000);
    honest.submit(MLP, "n", mlp_input(3)).expect("submit");
    noisy.submit(MLP, "n", mlp_input(3)).expect("submit");
    let (h, n) = (wait_final(&honest, "n"), wait_final(&noisy, "n"));
    assert_eq!(n.status, JobStatus::Done, "{:?}", n.error);
    for (name, ht) in &h.outputs {
        let (TensorData::F32(hv), TensorData::F32(nv)) = (&ht.data, &n.outputs[name].data) else {
            panic!("f32 outputs")
        };
        for (a, b) in hv.iter().zip(nv) {
            let r = f64::from(b - a) / f64::from(*a);
            assert!(
                r.abs() <= rel + f64::from(f32::EPSILON) && a != b,
                "{name}: {a} vs {b}"
            );
        }
    }
}

#[test]
fn fault_down_refuses_every_job_and_is_not_ready() {
    let (_d, q) = queue(Fault::Down, 4, 5000);
    assert!(!q.is_ready());
    let err = q.submit(MLP, "d", mlp_input(1)).expect_err("down");
    assert!(
        matches!(err, SidecarError::NotReady(_)) && err.to_string().contains("down"),
        "{err}"
    );
    assert_eq!("down".parse::<Fault>(), Ok(Fault::Down));
    assert_eq!(
        "slow=250".parse::<Fault>(),
        Ok(Fault::Slow(Duration::from_millis(250)))
    );
    assert!("slow=x".parse::<Fault>().is_err());
}

#[test]
fn grpc_service_end_to_end_with_metrics() {
    let rt = tokio_runtime();
    rt.block_on(async {
        let (_d, q) = queue(Fault::None, 4, 5000);
        let (service, slot) = SidecarService::loading();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(verdict_sidecar::service::serve(service, listener, None));
        let mut c = SidecarClient::connect(format!("http://{addr}"))
            .await
            .expect("connect");

        // Before the queue is installed: not ready, jobs unavailable.
        let h = c.health().await.expect("health");
        assert!(!h.ready);
        let req = pb::SubmitJobRequest {
            model_hash: MLP.into(),
            job_id: "g1".into(),
            inputs: pb::tensors_to_proto(&mlp_input(2)),
        };
        let st = c.submit_job(req.clone()).await.expect_err("loading");
        assert_eq!(st.code(), tonic::Code::Unavailable);

        let mq = q.clone();
        assert!(slot.set(q).is_ok());
        let h = c.health().await.expect("health");
        assert!(h.ready && h.models == 1 && h.device == "cpu", "{h:?}");
        let models = c.list_models().await.expect("list").models;
        assert_eq!(models[0].sha256, MLP);
        assert_eq!(models[0].inputs[0].shape, vec![-1, 16]);

        assert!(c.submit_job(req.clone()).await.expect("submit").accepted);
        let r = c
            .get_result(pb::GetResultRequest {
                job_id: "g1".into(),
                wait_ms: 5000,
            })
            .await
            .expect("result");
        assert_eq!(r.status, pb::JobStatus::Done as i32, "{}", r.error);
        assert_eq!(r.device, "cpu");
        // What the validator puts in its commitment (issue 21 §4): the loaded
        // library's version, read from its build info.
        assert!(
            r.runtime.starts_with("onnxruntime/1.") && r.runtime.ends_with(" cpu"),
            "{}",
            r.runtime
        );
        assert_eq!(r.outputs.len(), 2);
        assert_eq!(r.outputs[0].shape, vec![2, 4]);

        let st = c.submit_job(req.clone()).await.expect_err("dup");
        assert_eq!(st.code(), tonic::Code::AlreadyExists);
        let mut bad = req.clone();
        bad.job_id = "g2".into();
        bad.inputs[0].shape = vec![4, 8];
        let st = c.submit_job(bad).await.expect_err("shape");
        assert_eq!(st.code(), tonic::Code::InvalidArgument);
        assert!(st.message().contains("shape [4, 8]"), "{}", st.message());
        let mut unknown = req;
        unknown.model_hash = "2".repeat(64);
        assert_eq!(
            c.submit_job(unknown).await.expect_err("model").code(),
            tonic::Code::NotFound
        );

        // Metrics over plain HTTP.
        let ml = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let maddr = ml.local_addr().expect("addr");
        tokio::spawn(verdict_sidecar::metrics::serve(ml, move || {
            mq.metrics().render(mq.is_ready(), "")
        }));
        let text = tokio::task::spawn_blocking(move || {
            use std::io::{Read, Write};
            let mut s = std::net::TcpStream::connect(maddr).expect("connect");
            s.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
                .expect("write");
            let mut out = String::new();
            s.read_to_string(&mut out).expect("read");
            out
        })
        .await
        .expect("join");
        assert!(text.starts_with("HTTP/1.1 200 OK"), "{text}");
        assert!(
            text.contains(&format!(
                "verdict_sidecar_run_latency_seconds_count{{model=\"{MLP}\"}} 1"
            )),
            "{text}"
        );
        assert!(text.contains("verdict_sidecar_queue_depth 0"));
        assert!(text.contains(&format!(
            "verdict_sidecar_device_info{{model=\"{MLP}\",device=\"cpu\"}} 1"
        )));
        assert!(
            text.contains("verdict_sidecar_errors_total{kind=\"invalid_input\"} 1"),
            "{text}"
        );
    });
}

#[test]
fn infer_cli_prints_the_reference_outputs() {
    let exe = env!("CARGO_BIN_EXE_verdict-sidecar");
    for path in reference_files() {
        let r = reference(&path);
        let dir = tempfile::tempdir().expect("tempdir");
        let input = dir.path().join("in.json");
        std::fs::write(
            &input,
            verdict_sidecar::tensor::tensors_to_json(&r.inputs).to_string(),
        )
        .expect("write");
        let out = std::process::Command::new(exe)
            .args([
                "infer", "--device", "cuda", "--sha256", &r.sha256, "--model",
            ])
            .arg(&r.model)
            .arg("--input")
            .arg(&input)
            .output()
            .expect("run verdict-sidecar");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        // No GPU here: exactly one fallback warning, and the device says what really ran.
        assert_eq!(stderr.matches("falling back to CPU").count(), 1, "{stderr}");
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        assert_eq!(doc["device"], "cpu");
        assert!(doc["latency_us"].as_u64().is_some());
        let got = tensors_from_json(&doc["outputs"], |_| None).expect("outputs");
        for (name, want) in &r.outputs {
            let diff = got[name].max_abs_diff(want).expect("same shape");
            assert!(diff <= 1e-5, "{name}: {diff}");
        }
    }
}

#[test]
fn an_oversized_request_is_refused_before_it_is_decoded() {
    // Security review L-8: any local process could make the sidecar decode
    // (and allocate) 64 MiB per call; requests are capped at 4 MiB.
    let rt = tokio_runtime();
    rt.block_on(async {
        let (_d, q) = queue(Fault::None, 4, 5000);
        let service = SidecarService::new(q);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(verdict_sidecar::service::serve(service, listener, None));
        let mut raw = verdict_proto::sidecar::v1::sidecar_client::SidecarClient::connect(format!(
            "http://{addr}"
        ))
        .await
        .expect("connect")
        .max_encoding_message_size(usize::MAX);
        let big = pb::Tensor {
            name: "x".into(),
            dtype: pb::DataType::Float32 as i32,
            shape: vec![1, 2_000_000],
            float32_data: vec![0.5; 2_000_000],
            ..Default::default()
        };
        let st = raw
            .submit_job(pb::SubmitJobRequest {
                model_hash: MLP.into(),
                job_id: "big".into(),
                inputs: vec![big],
            })
            .await
            .expect_err("8 MB request");
        assert_eq!(st.code(), tonic::Code::OutOfRange, "{st}");
    });
}

#[test]
fn with_a_token_only_callers_that_present_it_are_answered() {
    // Security review L-8: without a token any local process could fill the
    // queue or burn the attestor's job ids.
    let rt = tokio_runtime();
    rt.block_on(async {
        let (_d, q) = queue(Fault::None, 4, 5000);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = format!("http://{}", listener.local_addr().expect("addr"));
        let token = verdict_sidecar::auth::Token::new("s3cret-token-0123456789").expect("token");
        tokio::spawn(verdict_sidecar::service::serve(
            SidecarService::new(q),
            listener,
            Some(token.clone()),
        ));
        let job = |id: &str| pb::SubmitJobRequest {
            model_hash: MLP.into(),
            job_id: id.into(),
            inputs: pb::tensors_to_proto(&mlp_input(2)),
        };
        let mut anon = SidecarClient::connect(addr.clone()).await.expect("connect");
        let e = anon.submit_job(job("a1")).await.expect_err("no token");
        assert_eq!(e.code(), tonic::Code::Unauthenticated);
        assert_eq!(
            anon.health().await.expect_err("no token").code(),
            tonic::Code::Unauthenticated
        );
        let wrong = verdict_sidecar::auth::Token::new("s3cret-token-0123456780").expect("token");
        let mut liar = SidecarClient::connect_with(addr.clone(), Some(wrong))
            .await
            .expect("connect");
        assert!(liar.submit_job(job("a2")).await.is_err());
        // The refused calls took no slot and no id: the holder of the token
        // submits the same ids.
        let mut me = SidecarClient::connect_with(addr, Some(token))
            .await
            .expect("connect");
        assert!(me.health().await.expect("health").ready);
        assert!(me.submit_job(job("a1")).await.expect("submit").accepted);
        assert!(me.submit_job(job("a2")).await.expect("submit").accepted);
    });
}

#[test]
fn waiting_get_result_calls_are_bounded_and_plain_looks_are_not() {
    // Security review L-8: every GetResult may park a task for 30 s; past
    // MAX_WAITERS at once the sidecar refuses to wait instead of piling up.
    use verdict_sidecar::service::MAX_WAITERS;
    let rt = tokio_runtime();
    rt.block_on(async {
        let (_d, q) = queue(Fault::Slow(Duration::from_millis(2500)), 4, 10_000);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = format!("http://{}", listener.local_addr().expect("addr"));
        tokio::spawn(verdict_sidecar::service::serve(
            SidecarService::new(q),
            listener,
            None,
        ));
        let mut me = SidecarClient::connect(addr.clone()).await.expect("connect");
        let job = pb::SubmitJobRequest {
            model_hash: MLP.into(),
            job_id: "slow".into(),
            inputs: pb::tensors_to_proto(&mlp_input(1)),
        };
        assert!(me.submit_job(job).await.expect("submit").accepted);
        let ask = |wait_ms| pb::GetResultRequest {
            job_id: "slow".into(),
            wait_ms,
        };
        // More waiters than allowed, over several connections (each takes 64
        // requests in flight at most).
        let extra = 12;
        let mut calls = Vec::new();
        for c in 0..8 {
            let client = SidecarClient::connect(addr.clone()).await.expect("connect");
            for _ in (c..MAX_WAITERS + extra).step_by(8) {
                let mut client = client.clone();
                calls.push(tokio::spawn(
                    async move { client.get_result(ask(5_000)).await },
                ));
            }
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        // While they wait, a plain look (wait_ms 0) is still answered.
        let look = me.get_result(ask(0)).await.expect("a look never waits");
        assert_ne!(look.status, pb::JobStatus::Done as i32);
        let mut refused = 0;
        let mut done = 0;
        for c in calls {
            match c.await.expect("task") {
                Ok(r) if r.status == pb::JobStatus::Done as i32 => done += 1,
                Ok(r) => panic!("a waiter returned before the job finished: {r:?}"),
                Err(e) => {
                    assert_eq!(e.code(), tonic::Code::ResourceExhausted, "{e}");
                    refused += 1;
                }
            }
        }
        assert_eq!(refused, extra, "{done} waited");
        assert_eq!(done, MAX_WAITERS);
        // The permits came back: a new waiter is served.
        assert_eq!(
            me.get_result(ask(1_000)).await.expect("served").status,
            pb::JobStatus::Done as i32
        );
    });
}

/// The runtime the gRPC tests serve and call from.
fn tokio_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio")
}

#[test]
fn a_unix_socket_sidecar_is_private_to_its_user() {
    // Security review L-8: besides the token, `--listen unix:PATH` keeps other
    // users off the sidecar: the socket is 0600 from the moment it appears,
    // and a connection from another uid is dropped unserved.
    use std::os::unix::fs::PermissionsExt;
    use verdict_sidecar::listen::{bind, Listen};
    let rt = tokio_runtime();
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("sidecar.sock");
    std::fs::write(&path, b"not a socket").expect("file");
    rt.block_on(async {
        let listen = Listen::Unix(path.clone());
        let e = bind(&listen).await.err().expect("a file is in the way");
        assert!(e.to_string().contains("not a socket"), "{e}");
        std::fs::remove_file(&path).expect("rm");
        // A socket left by an earlier run is replaced.
        drop(bind(&listen).await.expect("first"));
        let bound = bind(&listen).await.expect("stale socket replaced");
        let mode = std::fs::metadata(&path)
            .expect("socket")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        // The private directory it was bound in is gone; only the socket is left.
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .expect("dir")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("sidecar.sock")]);
        let (_d, q) = queue(Fault::None, 4, 5000);
        tokio::spawn(verdict_sidecar::service::serve_bound(
            SidecarService::new(q),
            bound,
            None,
        ));
        let addr = format!("unix:{}", path.display());
        let mut me = SidecarClient::connect(addr).await.expect("connect");
        assert!(me.health().await.expect("health").ready);
        // A second sidecar on the same path is refused while this one serves.
        let e = bind(&listen).await.err().expect("in use");
        assert!(e.to_string().contains("in use"), "{e}");
        let job = pb::SubmitJobRequest {
            model_hash: MLP.into(),
            job_id: "u1".into(),
            inputs: pb::tensors_to_proto(&mlp_input(2)),
        };
        assert!(me.submit_job(job).await.expect("submit").accepted);
    });
    // Another user, even with the mode opened up, gets no answer: the peer's
    // uid is checked at accept. Needs root to run a process as `nobody`.
    let root = std::fs::metadata(&path).map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0);
    if root.unwrap_or(false) {
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).expect("dir");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o666)).expect("chmod");
        // Prints the bytes it was answered with; 0 when the sidecar hung up.
        let probe = "import socket,sys\ns=socket.socket(socket.AF_UNIX)\ns.connect(sys.argv[1])\n\
                     s.settimeout(5)\ntry:\n s.sendall(b'PRI * HTTP/2.0\\r\\n\\r\\nSM\\r\\n\\r\\n')\n\
                     \x20print(len(s.recv(100)))\nexcept (BrokenPipeError, ConnectionResetError):\n print(0)";
        let out = std::process::Command::new("python3")
            .args(["-c", probe])
            .arg(&path)
            .uid(65534)
            .gid(65534)
            .output()
            .expect("python3");
        let said = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            said.trim(),
            "0",
            "another user was answered: {said} {}",
            String::from_utf8_lossy(&out.stderr)
        );
        // The owner is still served on the same socket.
        rt.block_on(async {
            let mut me = SidecarClient::connect(format!("unix:{}", path.display()))
                .await
                .expect("connect");
            assert!(me.health().await.expect("health").ready);
        });
    }
}
