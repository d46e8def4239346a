//! The validator's own side of attestation (docs/design.md §6.3–6.4), outside consensus:
//! after each Commit it hands the live jobs it sits on the committee of to its
//! sidecar, caches their digests, and `ExtendVote` builds the extension from that
//! cache without ever waiting on the sidecar.
//!
//! Nothing here writes state. Salts come from sha256(secret ‖ job id) with a
//! secret derived from the validator's private key file, so a restarted node
//! recomputes the same commitment and can still open one it made before a crash.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cosmwasm_std::Storage;
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;
use verdict_attestation::LocalJob;
use verdict_inference::state as inf;
use verdict_proto::app::v1::VoteExtension;
use verdict_sidecar::proto as sc;
use verdict_sidecar::service::SidecarClient;

/// How long one job may take on the sidecar before the node gives up on it
/// (the attestation window bounds it on chain anyway).
const JOB_TIMEOUT: Duration = Duration::from_secs(60);

struct Task {
    job_id: u64,
    /// The id the digest's projection is seeded with (`Job::digest_seed`).
    digest_seed: u64,
    attempt: u32,
    model_id: String,
    inputs: Vec<sc::Tensor>,
    tolerance_nano: u64,
    max_output_len: usize,
    salt: Vec<u8>,
}

/// What the worker is asked to do.
enum Work {
    Job(Task),
    /// Fetch, verify and load a registered model (the sidecar's `LoadModel`).
    Load(sc::LoadModelRequest),
}

/// Commits between two `LoadModel` calls for the same model: a sidecar that
/// restarted (and forgot) is asked again; a ready one answers at once.
const LOAD_EVERY: u64 = 50;

#[derive(Default)]
struct Cache {
    /// Commits seen, and when each registered model was last sent to LoadModel.
    commits: u64,
    loads: BTreeMap<String, u64>,
    local: BTreeMap<u64, LocalJob>,
    inflight: BTreeSet<u64>,
    /// Sidecar runs started per job (a retry needs a fresh sidecar job id).
    attempts: BTreeMap<u64, u32>,
}

/// Runs of one job on the sidecar before the node gives up on it.
const MAX_ATTEMPTS: u32 = 3;

/// Test-only misbehaviour of a validator's attestor (`verdictd start --fault`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum AttestorFault {
    #[default]
    None,
    /// Never runs a job: waits for other members' reveals to be public and
    /// commits to their median instead (the protocol refuses it: the commit
    /// phase is over by then, so the copier only ever misses its seats).
    Copy,
    /// Commits like an honest node, never reveals.
    Withhold,
}

impl std::str::FromStr for AttestorFault {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "" | "none" => Ok(AttestorFault::None),
            "copy" => Ok(AttestorFault::Copy),
            "withhold" => Ok(AttestorFault::Withhold),
            _ => Err(format!("unknown attestor fault `{s}` (copy, withhold)")),
        }
    }
}

pub struct Attestor {
    me: [u8; 20],
    secret: [u8; 32],
    fault: AttestorFault,
    cache: Arc<Mutex<Cache>>,
    tasks: Option<mpsc::UnboundedSender<Work>>,
}

impl Attestor {
    /// An attestor with no sidecar: results come only from [`Attestor::insert`]
    /// (app tests).
    pub fn offline(me: [u8; 20], secret: [u8; 32]) -> Self {
        Attestor {
            me,
            secret,
            fault: AttestorFault::None,
            cache: Arc::default(),
            tasks: None,
        }
    }

    pub fn with_fault(mut self, fault: AttestorFault) -> Self {
        if fault != AttestorFault::None {
            tracing::warn!(?fault, "TEST ONLY: attestor fault mode on");
        }
        self.fault = fault;
        self
    }

    pub fn fault(&self) -> AttestorFault {
        self.fault
    }

    /// The seed of this validator's beacon hash chain of `epoch` (derived from
    /// the same secret as the salts; never leaves the node).
    pub fn beacon_seed(&self, epoch: u32) -> [u8; 32] {
        Sha256::new()
            .chain_update(b"verdict-beacon-chain")
            .chain_update(self.secret)
            .chain_update(epoch.to_be_bytes())
            .finalize()
            .into()
    }

    /// What this validator puts in its proposal for the beacon: (reveal, anchor).
    pub fn beacon_contribution(&self, s: &dyn Storage) -> (Vec<u8>, Vec<u8>) {
        verdict_inference::beacon::contribution(s, &self.me, |e| self.beacon_seed(e))
    }

    /// Attests for the validator `key` names, with its secret for salts and
    /// beacon seeds, and starts the worker that talks to `sidecar` (e.g.
    /// `http://127.0.0.1:26659`).
    pub fn start(
        key: crate::attestation_key::AttestationKey,
        sidecar: Sidecar,
    ) -> anyhow::Result<Self> {
        let crate::attestation_key::AttestationKey {
            validator: me,
            secret,
        } = key;
        let cache: Arc<Mutex<Cache>> = Arc::default();
        let (tx, rx) = mpsc::unbounded_channel();
        let worker_cache = cache.clone();
        std::thread::Builder::new()
            .name("attestor".into())
            .spawn(move || {
                let rt = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        tracing::error!(error = %e, "attestor runtime failed to start");
                        return;
                    }
                };
                rt.block_on(worker(rx, worker_cache, sidecar));
            })?;
        tracing::info!(validator = %hex::encode_upper(me), "attestor on");
        Ok(Attestor {
            me,
            secret,
            fault: AttestorFault::None,
            cache,
            tasks: Some(tx),
        })
    }

    /// Asks the sidecar to load every registered model with URIs that it was
    /// not asked about in the last [`LOAD_EVERY`] commits.
    fn request_models(&self, s: &dyn Storage) {
        let Some(tasks) = &self.tasks else { return };
        let Ok(ids) = inf::model_ids(s) else { return };
        let mut c = lock(&self.cache);
        c.commits = c.commits.saturating_add(1);
        let now = c.commits;
        for id in ids {
            if c.loads
                .get(&id)
                .is_some_and(|t| now.saturating_sub(*t) < LOAD_EVERY)
            {
                continue;
            }
            let Ok(Some(m)) = inf::model(s, &id) else {
                continue;
            };
            if m.uris.is_empty() {
                continue;
            }
            c.loads.insert(id.clone(), now);
            let _ = tasks.send(Work::Load(sc::LoadModelRequest {
                model_hash: id,
                size_bytes: m.size_bytes,
                uris: m.uris,
            }));
        }
    }

    pub fn address(&self) -> [u8; 20] {
        self.me
    }

    pub fn salt(&self, job_id: u64) -> Vec<u8> {
        Sha256::new()
            .chain_update(self.secret)
            .chain_update(job_id.to_be_bytes())
            .finalize()[..16]
            .to_vec()
    }

    /// Records a finished result (the worker does this; tests call it directly).
    pub fn insert(&self, job_id: u64, digest: Vec<i64>, latency_ms: u32) {
        self.insert_ran(job_id, digest, latency_ms, "");
    }

    /// [`Attestor::insert`], saying what ran it (`runtime`, the sidecar's label).
    pub fn insert_ran(&self, job_id: u64, digest: Vec<i64>, latency_ms: u32, runtime: &str) {
        let salt = self.salt(job_id);
        let mut c = lock(&self.cache);
        c.inflight.remove(&job_id);
        c.local.entry(job_id).or_insert(LocalJob {
            digest,
            latency_ms,
            salt,
            runtime: verdict_attestation::extension::runtime_field(runtime),
        });
    }

    /// After Commit: registered models go to the sidecar to be fetched and
    /// loaded (its policy decides which it serves), then every live job with
    /// us on its committee that we have not run yet (again after a restart).
    pub fn after_commit(&self, s: &dyn Storage) {
        self.request_models(s);
        if self.fault == AttestorFault::Copy {
            if let Ok(live) = inf::live_jobs(s) {
                self.copy_public_answers(s, &live);
            }
            return;
        }
        let Some(tasks) = &self.tasks else { return };
        let Ok(live) = inf::live_jobs(s) else { return };
        let mut c = lock(&self.cache);
        c.attempts.retain(|id, _| live.iter().any(|(_, l)| l == id));
        for (_, id) in live {
            if c.local.contains_key(&id) || c.inflight.contains(&id) {
                continue;
            }
            let Ok(Some(job)) = inf::job(s, id) else {
                continue;
            };
            if job.status.is_final() || inf::member(&job, &self.me).is_none() {
                continue;
            }
            let done = verdict_inference::jobs::attestation(s, id, &self.me)
                .ok()
                .flatten()
                .is_some_and(|a| a.digest.is_some() || a.bad_reveal);
            let Ok(Some(model)) = inf::model(s, &job.model_id) else {
                continue;
            };
            let attempt = c.attempts.get(&id).copied().unwrap_or(0);
            if done || attempt >= MAX_ATTEMPTS {
                continue;
            }
            c.attempts.insert(id, attempt.saturating_add(1));
            let Ok(Some(job_inputs)) = inf::inputs(s, id) else {
                continue;
            };
            let Some(inputs) = job_inputs
                .iter()
                .map(to_sidecar)
                .collect::<Option<Vec<_>>>()
            else {
                continue;
            };
            c.inflight.insert(id);
            let _ = tasks.send(Work::Job(Task {
                job_id: id,
                digest_seed: job.digest_seed(),
                attempt,
                model_id: job.model_id.clone(),
                inputs,
                tolerance_nano: model.tolerance_nano,
                max_output_len: model.max_output_len as usize,
                salt: self.salt(id),
            }));
        }
    }

    /// The `copy` fault: for each live job we sit on, take the first revealed
    /// digest on chain as our own answer (the commit phase is over by the time
    /// any reveal is public, so `build_extension` finds nothing it may say).
    fn copy_public_answers(&self, s: &dyn Storage, live: &[(u64, u64)]) {
        let mut c = lock(&self.cache);
        for (_, id) in live {
            if c.local.contains_key(id) {
                continue;
            }
            let Ok(Some(job)) = inf::job(s, *id) else {
                continue;
            };
            if inf::member(&job, &self.me).is_none() {
                continue;
            }
            let copied = job.committee.iter().find_map(|m| {
                let a = m.address_bytes()?;
                verdict_inference::jobs::attestation(s, *id, &a)
                    .ok()
                    .flatten()?
                    .digest
            });
            if let Some(digest) = copied {
                tracing::warn!(job = id, "TEST ONLY (copy): copying a public answer");
                let salt = self.salt(*id);
                c.local.insert(
                    *id,
                    LocalJob {
                        digest,
                        latency_ms: 1,
                        salt,
                        runtime: String::new(),
                    },
                );
            }
        }
    }

    /// ExtendVote over committed state (the height before the vote's); `next`:
    /// the block being voted on, when ExtendVote's request tells it.
    pub fn extension(
        &self,
        s: &dyn Storage,
        cap: usize,
        version: u32,
        next: Option<&verdict_attestation::NextBlock>,
    ) -> VoteExtension {
        let mut c = lock(&self.cache);
        let mut ve =
            verdict_attestation::build_extension(s, &self.me, &mut c.local, cap, version, next);
        if self.fault == AttestorFault::Withhold {
            ve.reveals.clear();
        }
        ve
    }
}

fn lock(m: &Mutex<Cache>) -> std::sync::MutexGuard<'_, Cache> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A job's input tensor as the sidecar takes it (little-endian bytes → values).
fn to_sidecar(t: &inf::InputTensor) -> Option<sc::Tensor> {
    let b = t.data.as_slice();
    let mut out = sc::Tensor {
        name: t.name.clone(),
        shape: t.shape.clone(),
        ..Default::default()
    };
    match t.dtype.as_str() {
        "float32" => {
            out.dtype = sc::DataType::Float32 as i32;
            out.float32_data = b
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect();
        }
        "float64" => {
            out.dtype = sc::DataType::Float64 as i32;
            out.float64_data = b
                .chunks_exact(8)
                .map(|c| f64::from_le_bytes(c.try_into().unwrap_or([0; 8])))
                .collect();
        }
        "int32" => {
            out.dtype = sc::DataType::Int32 as i32;
            out.int32_data = b
                .chunks_exact(4)
                .map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect();
        }
        "int64" => {
            out.dtype = sc::DataType::Int64 as i32;
            out.int64_data = b
                .chunks_exact(8)
                .map(|c| i64::from_le_bytes(c.try_into().unwrap_or([0; 8])))
                .collect();
        }
        _ => return None,
    }
    Some(out)
}

/// All output tensors flattened in the order the sidecar returns them (the
/// model's output order).
fn flatten(outputs: &[sc::Tensor]) -> Vec<f64> {
    let mut v = Vec::new();
    for t in outputs {
        v.extend(t.float32_data.iter().map(|x| f64::from(*x)));
        v.extend(t.float64_data.iter().copied());
        v.extend(t.int32_data.iter().map(|x| f64::from(*x)));
        v.extend(t.int64_data.iter().map(|x| *x as f64));
    }
    v
}

async fn worker(mut rx: mpsc::UnboundedReceiver<Work>, cache: Arc<Mutex<Cache>>, sidecar: Sidecar) {
    while let Some(work) = rx.recv().await {
        let task = match work {
            Work::Job(t) => t,
            Work::Load(req) => {
                let sidecar = sidecar.clone();
                tokio::spawn(load_model(sidecar, req));
                continue;
            }
        };
        let cache = cache.clone();
        let sidecar = sidecar.clone();
        tokio::spawn(async move {
            let id = task.job_id;
            let salt = task.salt.clone();
            let model = task.model_id.clone();
            match run_task(&sidecar, task).await {
                Ok(Ran {
                    digest,
                    latency_ms,
                    runtime,
                }) => {
                    let mut c = lock(&cache);
                    c.inflight.remove(&id);
                    c.local.entry(id).or_insert(LocalJob {
                        digest,
                        latency_ms,
                        salt,
                        runtime: verdict_attestation::extension::runtime_field(&runtime),
                    });
                }
                Err(e) => {
                    tracing::warn!(job = id, error = %e, "sidecar did not run the job; will retry");
                    let mut c = lock(&cache);
                    c.inflight.remove(&id);
                    // A sidecar that lacks the model (restarted empty, say) is
                    // asked to load it again at the next commit, not in
                    // LOAD_EVERY commits.
                    if e.contains("no model with sha256") {
                        c.loads.remove(&model);
                    }
                }
            }
        });
    }
}

/// The node's sidecar: its address, and the token it asks for (see
/// `verdict_sidecar::auth`).
#[derive(Clone, Debug)]
pub struct Sidecar {
    pub url: String,
    pub token: Option<verdict_sidecar::auth::Token>,
}

impl std::fmt::Display for Sidecar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.url)
    }
}

impl Sidecar {
    async fn connect(&self) -> Result<SidecarClient, tonic::transport::Error> {
        SidecarClient::connect_with(self.url.clone(), self.token.clone()).await
    }
}

/// One `LoadModel` call; the sidecar fetches, verifies and loads in the
/// background and reports its state in `ListModels`.
async fn load_model(sidecar: Sidecar, req: sc::LoadModelRequest) {
    let id = req.model_hash.clone();
    let r = match sidecar.connect().await {
        Ok(mut c) => c.load_model(req).await.map_err(|e| e.message().to_string()),
        Err(e) => Err(format!("connect {sidecar}: {e}")),
    };
    match r {
        Ok(resp) => {
            tracing::info!(model = %id, state = resp.state, detail = %resp.detail, "asked the sidecar to load a registered model")
        }
        Err(e) => tracing::warn!(model = %id, error = %e, "LoadModel failed; will ask again"),
    }
}

/// What the sidecar made of a job.
struct Ran {
    digest: Vec<i64>,
    latency_ms: u32,
    /// "onnxruntime/<version> <device>".
    runtime: String,
}

/// One job on the sidecar, timed for the metrics (submit to result).
async fn run_task(sidecar: &Sidecar, task: Task) -> Result<Ran, String> {
    let started = Instant::now();
    let r = run_task_on(sidecar, task).await;
    crate::metrics::metrics().sidecar_call(started.elapsed(), r.is_ok());
    r
}

async fn run_task_on(sidecar: &Sidecar, task: Task) -> Result<Ran, String> {
    let start = Instant::now();
    let mut client = sidecar
        .connect()
        .await
        .map_err(|e| format!("connect {sidecar}: {e}"))?;
    let job = format!("{}.{}", task.job_id, task.attempt);
    let r = client
        .submit_job(sc::SubmitJobRequest {
            model_hash: task.model_id.clone(),
            job_id: job.clone(),
            inputs: task.inputs,
        })
        .await
        .map_err(|e| e.message().to_string())?;
    if !r.accepted {
        return Err("sidecar queue full".into());
    }
    loop {
        let res = client
            .get_result(sc::GetResultRequest {
                job_id: job.clone(),
                wait_ms: 1000,
            })
            .await
            .map_err(|e| e.message().to_string())?;
        match sc::JobStatus::try_from(res.status) {
            Ok(sc::JobStatus::Done) => {
                let out = flatten(&res.outputs);
                let digest = verdict_attestation::digest::digest_of(
                    &out,
                    task.digest_seed,
                    task.tolerance_nano,
                    task.max_output_len,
                );
                let us = res.latency_us.saturating_add(res.queue_us);
                let ms = u32::try_from(us.div_ceil(1000)).unwrap_or(u32::MAX);
                return Ok(Ran {
                    digest,
                    latency_ms: ms,
                    runtime: res.runtime.clone(),
                });
            }
            Ok(sc::JobStatus::Failed) | Ok(sc::JobStatus::TimedOut) => {
                return Err(format!("job failed on the sidecar: {}", res.error));
            }
            _ if start.elapsed() > JOB_TIMEOUT => return Err("timed out".into()),
            // The sidecar long-polls up to wait_ms; never spin if it answers early.
            _ => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
}
