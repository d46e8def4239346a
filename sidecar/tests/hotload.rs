//! Hot-loading through the real binary: `verdict-sidecar serve` with an empty (or
//! policy-refused) models dir, models served over HTTP by a tiny server in the
//! test, LoadModel, ListModels states, and jobs on the hot-loaded model. Needs
//! ONNX Runtime like `tests/sidecar.rs` (the binary finds it the same way).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use verdict_sidecar::model::{sha256_hex, ModelStore};
use verdict_sidecar::proto as pb;
use verdict_sidecar::runtime::{locate_library, DeviceRequest, Runtime};
use verdict_sidecar::service::SidecarClient;
use verdict_sidecar::tensor::{NamedTensors, Tensor, TensorData};

const MLP: &str = "d314a04eacd41b4e02fa9d89d5ab913db15ab8c50faf4db94a1b3ea2d9210200";
const CNN: &str = "dba292eb8b6384c4be52a1e185d3c737db7ddb1a641cbb7a55e98047e35e0ee7";
const TOKEN: &str = "8dd0d0ccb25443bdcda3ef6be2659ebd9b6bf2620b79a140dbf37fc4d90babed";

fn model_file(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../models")
        .join(name)
}

fn model_bytes(name: &str) -> Vec<u8> {
    std::fs::read(model_file(name)).expect("read model")
}

/// Serves `/mlp.onnx` (the MLP), `/token.onnx` (the token model, 404 until
/// `token_up`), anything else 404; counts requests.
struct ModelServer {
    addr: SocketAddr,
    hits: Arc<AtomicUsize>,
    token_up: Arc<AtomicBool>,
}

impl ModelServer {
    fn start() -> Self {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = l.local_addr().expect("addr");
        let hits = Arc::new(AtomicUsize::new(0));
        let token_up = Arc::new(AtomicBool::new(false));
        let (h, up) = (hits.clone(), token_up.clone());
        let (mlp, token) = (
            model_bytes("mlp_classifier.onnx"),
            model_bytes("token_embed.onnx"),
        );
        std::thread::spawn(move || {
            for s in l.incoming() {
                let Ok(mut s) = s else { return };
                let mut head = Vec::new();
                let mut b = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    match s.read(&mut b) {
                        Ok(1) => head.push(b[0]),
                        _ => break,
                    }
                }
                h.fetch_add(1, Ordering::SeqCst);
                let head = String::from_utf8_lossy(&head).to_string();
                let body = match head.split_whitespace().nth(1) {
                    Some("/mlp.onnx") => Some(&mlp),
                    Some("/token.onnx") if up.load(Ordering::SeqCst) => Some(&token),
                    _ => None,
                };
                let _ = match body {
                    Some(b) => s
                        .write_all(
                            format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", b.len())
                                .as_bytes(),
                        )
                        .and_then(|_| s.write_all(b)),
                    None => s.write_all(
                        b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                    ),
                };
            }
        });
        ModelServer {
            addr,
            hits,
            token_up,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

fn free_addr() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
}

fn scrape(addr: SocketAddr) -> String {
    let mut s = std::net::TcpStream::connect(addr).expect("connect metrics");
    s.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        .expect("write");
    let mut out = String::new();
    s.read_to_string(&mut out).expect("read");
    out
}

/// A `verdict-sidecar serve` child process, killed on drop.
struct Sidecar {
    child: Child,
    addr: SocketAddr,
    log: PathBuf,
}

impl Drop for Sidecar {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Sidecar {
    fn start(models: &Path, extra: &[&str]) -> Sidecar {
        let addr = free_addr();
        let log = models.with_extension("log");
        let child = Command::new(env!("CARGO_BIN_EXE_verdict-sidecar"))
            .args([
                "serve",
                "--device",
                "cpu",
                "--listen",
                &addr.to_string(),
                "--models",
            ])
            .arg(models)
            .args(extra)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("log file"))
            .spawn()
            .expect("start verdict-sidecar");
        Sidecar { child, addr, log }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Connects and waits for Health to say ready.
    async fn client(&mut self) -> SidecarClient {
        let until = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(Some(st)) = self.child.try_wait() {
                panic!("sidecar exited with {st}: {}", self.log());
            }
            if let Ok(mut c) = SidecarClient::connect(format!("http://{}", self.addr)).await {
                if c.health().await.map(|h| h.ready).unwrap_or(false) {
                    return c;
                }
            }
            assert!(
                Instant::now() < until,
                "sidecar never ready: {}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

async fn info(c: &mut SidecarClient, hash: &str) -> Option<pb::ModelInfo> {
    let models = c.list_models().await.expect("list").models;
    models.into_iter().find(|m| m.sha256 == hash)
}

/// Polls ListModels until `hash` is in `state`.
async fn wait_state(c: &mut SidecarClient, hash: &str, state: pb::ModelState) -> pb::ModelInfo {
    let until = Instant::now() + Duration::from_secs(30);
    loop {
        let m = info(c, hash).await;
        if let Some(m) = m.as_ref().filter(|m| m.state == state as i32) {
            return m.clone();
        }
        assert!(Instant::now() < until, "{hash} never {state:?}: {m:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn mlp_job(id: &str) -> pb::SubmitJobRequest {
    let data = (0..32).map(|i| (i as f32 * 0.37).sin()).collect();
    let inputs = NamedTensors::from([(
        "x".to_string(),
        Tensor::new(vec![2, 16], TensorData::F32(data)),
    )]);
    pb::SubmitJobRequest {
        model_hash: MLP.into(),
        job_id: id.into(),
        inputs: pb::tensors_to_proto(&inputs),
    }
}

async fn run_mlp_job(c: &mut SidecarClient, id: &str) {
    assert!(c.submit_job(mlp_job(id)).await.expect("submit").accepted);
    let r = c
        .get_result(pb::GetResultRequest {
            job_id: id.into(),
            wait_ms: 5000,
        })
        .await
        .expect("result");
    assert_eq!(r.status, pb::JobStatus::Done as i32, "{}", r.error);
    assert_eq!(r.outputs[0].shape, vec![2, 4]);
}

fn block<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio")
        .block_on(f)
}

fn load(hash: &str, size: usize, uris: &[String]) -> pb::LoadModelRequest {
    pb::LoadModelRequest {
        model_hash: hash.into(),
        size_bytes: size as u64,
        uris: uris.to_vec(),
    }
}

#[test]
fn a_model_is_fetched_verified_and_hot_loaded_while_serving() {
    assert_eq!(sha256_hex(&model_bytes("mlp_classifier.onnx")), MLP);
    let srv = ModelServer::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let models = dir.path().join("models");
    std::fs::create_dir(&models).expect("mkdir");
    let metrics = free_addr();
    let mut sc = Sidecar::start(&models, &["--metrics", &metrics.to_string()]);
    block(async {
        // Empty models dir: ready at once, nothing listed, jobs refused as unknown.
        let mut c = sc.client().await;
        let h = c.health().await.expect("health");
        assert!(h.ready && h.models == 0, "{h:?}");
        assert!(c.list_models().await.expect("list").models.is_empty());
        let st = c.submit_job(mlp_job("early")).await.expect_err("unknown");
        assert_eq!(st.code(), tonic::Code::NotFound);

        // URIs in order: a 404 first, then the file.
        let size = model_bytes("mlp_classifier.onnx").len();
        let uris = [srv.url("/missing.onnx"), srv.url("/mlp.onnx")];
        let r = c.load_model(load(MLP, size, &uris)).await.expect("load");
        assert_eq!(r.state, pb::ModelState::Loading as i32, "{r:?}");
        let m = wait_state(&mut c, MLP, pb::ModelState::Ready).await;
        assert_eq!((m.attempts, m.device.as_str()), (1, "cpu"), "{m:?}");
        assert_eq!(m.file_name, format!("{MLP}.onnx"));
        assert_eq!(m.inputs[0].shape, vec![-1, 16]);
        assert!(m.last_error.is_empty(), "{m:?}");
        assert!(models.join("cache").join(format!("{MLP}.onnx")).is_file());
        assert_eq!(srv.hits(), 2);
        // The queue sees it without a restart.
        run_mlp_job(&mut c, "hot-1").await;
        let h = c.health().await.expect("health");
        assert!(h.ready && h.models == 1, "{h:?}");

        // Again: a no-op (no request).
        let r = c.load_model(load(MLP, size, &uris)).await.expect("load");
        assert_eq!(r.state, pb::ModelState::Ready as i32);
        assert_eq!(srv.hits(), 2);

        // A URI serving other bytes than the hash: failed, never loaded, the rest unharmed.
        let r = c
            .load_model(load(CNN, 0, &[srv.url("/mlp.onnx")]))
            .await
            .expect("load");
        assert_eq!(r.state, pb::ModelState::Loading as i32);
        let m = wait_state(&mut c, CNN, pb::ModelState::Failed).await;
        assert!(
            m.last_error
                .contains(&format!("sha256 {MLP}, expected {CNN}: refused")),
            "{m:?}"
        );
        assert_eq!((m.attempts, m.retry_in_ms), (1, 0), "not retried: {m:?}");
        assert!(m.inputs.is_empty() && m.device.is_empty());
        assert!(!models.join("cache").join(format!("{CNN}.onnx")).exists());
        let h = c.health().await.expect("health");
        assert!(h.ready && h.models == 1, "{h:?}");
        run_mlp_job(&mut c, "hot-2").await;
        let st = c
            .submit_job(pb::SubmitJobRequest {
                model_hash: CNN.into(),
                ..mlp_job("cnn")
            })
            .await
            .expect_err("failed model");
        assert_eq!(st.code(), tonic::Code::NotFound);

        // A passing failure (404) is retried with back-off until the file appears.
        let token_size = model_bytes("token_embed.onnx").len();
        let r = c
            .load_model(load(TOKEN, token_size, &[srv.url("/token.onnx")]))
            .await
            .expect("load");
        assert_eq!(r.state, pb::ModelState::Loading as i32);
        let until = Instant::now() + Duration::from_secs(20);
        loop {
            let m = info(&mut c, TOKEN).await.expect("tracked");
            assert_eq!(m.state, pb::ModelState::Loading as i32, "{m:?}");
            if m.attempts >= 2 && m.retry_in_ms > 0 {
                assert!(m.last_error.contains("HTTP 404"), "{m:?}");
                assert!(m.retry_in_ms <= 2000, "second back-off is 2 s: {m:?}");
                break;
            }
            assert!(Instant::now() < until, "no retry seen: {m:?}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // While loading, another LoadModel is a no-op.
        let r = c
            .load_model(load(TOKEN, token_size, &[srv.url("/token.onnx")]))
            .await
            .expect("load");
        assert_eq!(r.state, pb::ModelState::Loading as i32);
        srv.token_up.store(true, Ordering::SeqCst);
        let m = wait_state(&mut c, TOKEN, pb::ModelState::Ready).await;
        assert!(m.attempts >= 3, "{m:?}");

        // Bad requests are refused at once.
        let st = c
            .load_model(load("abc", 0, &[srv.url("/mlp.onnx")]))
            .await
            .expect_err("bad hash");
        assert_eq!(st.code(), tonic::Code::InvalidArgument);

        // A failed model starts over on a new LoadModel (here from a good URI... of
        // the wrong bytes again, so it fails again, with a fresh attempt count).
        let r = c
            .load_model(load(CNN, 0, &[srv.url("/mlp.onnx")]))
            .await
            .expect("load");
        assert_eq!(r.state, pb::ModelState::Loading as i32);
        let m = wait_state(&mut c, CNN, pb::ModelState::Failed).await;
        assert_eq!(m.attempts, 1, "{m:?}");

        let text = scrape(metrics);
        for line in [
            format!("verdict_sidecar_device_info{{model=\"{MLP}\",device=\"cpu\"}} 1"),
            format!("verdict_sidecar_device_info{{model=\"{TOKEN}\",device=\"cpu\"}} 1"),
            "verdict_sidecar_model_loads_total{outcome=\"ready\"} 2".to_string(),
            "verdict_sidecar_model_loads_total{outcome=\"failed\"} 2".to_string(),
            "verdict_sidecar_ready 1".to_string(),
        ] {
            assert!(text.contains(&line), "{line} missing from:\n{text}");
        }
    });
    // The sidecar survived all of it.
    assert!(sc.child.try_wait().expect("wait").is_none(), "{}", sc.log());
}

#[test]
fn serve_none_refuses_every_model_without_fetching_it() {
    let srv = ModelServer::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let models = dir.path().join("models");
    std::fs::create_dir(&models).expect("mkdir");
    // A model in the models dir is refused too (hashed, not loaded).
    std::fs::copy(
        model_file("token_embed.onnx"),
        models.join("token_embed.onnx"),
    )
    .expect("copy");
    let mut sc = Sidecar::start(&models, &["--serve", "none"]);
    block(async {
        let mut c = sc.client().await;
        let h = c.health().await.expect("health");
        assert!(h.ready && h.models == 0, "{h:?}");
        let m = info(&mut c, TOKEN).await.expect("listed");
        assert_eq!(m.state, pb::ModelState::RefusedByPolicy as i32, "{m:?}");
        assert_eq!(m.file_name, "token_embed.onnx");

        let size = model_bytes("mlp_classifier.onnx").len();
        let r = c
            .load_model(load(MLP, size, &[srv.url("/mlp.onnx")]))
            .await
            .expect("load");
        assert_eq!(r.state, pb::ModelState::RefusedByPolicy as i32, "{r:?}");
        assert!(r.detail.contains("--serve none"), "{r:?}");
        let m = info(&mut c, MLP).await.expect("listed");
        assert_eq!(m.state, pb::ModelState::RefusedByPolicy as i32, "{m:?}");
        assert_eq!(m.attempts, 0);
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(srv.hits(), 0, "a refused model is never fetched");
        assert!(!models.join("cache").join(format!("{MLP}.onnx")).exists());
        let st = c.submit_job(mlp_job("x")).await.expect_err("not served");
        assert_eq!(st.code(), tonic::Code::NotFound);
    });
}

#[test]
fn serve_file_loads_only_the_listed_models_of_the_dir() {
    let lib = locate_library(None).unwrap_or_else(|e| panic!("these tests need ONNX Runtime: {e}"));
    let rt = Runtime::new(&lib, DeviceRequest::Cpu, 1).expect("load ONNX Runtime");
    let dir = tempfile::tempdir().expect("tempdir");
    for f in ["mlp_classifier.onnx", "token_embed.onnx"] {
        std::fs::copy(model_file(f), dir.path().join(f)).expect("copy");
    }
    let list = dir.path().join("serve.txt");
    std::fs::write(&list, format!("# only the MLP\n{MLP}\n")).expect("write");
    let policy =
        verdict_sidecar::policy::ServePolicy::parse(&list.to_string_lossy()).expect("policy");
    let (store, refused) =
        ModelStore::load_dir_filtered(&rt, dir.path(), &|h| policy.allows(h)).expect("load");
    assert_eq!(store.len(), 1);
    assert!(store.contains(MLP) && !store.contains(TOKEN));
    assert_eq!(refused.len(), 1);
    assert_eq!(
        (refused[0].sha256.as_str(), refused[0].file_name.as_str()),
        (TOKEN, "token_embed.onnx")
    );
}
