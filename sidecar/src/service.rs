//! The `verdict.sidecar.v1.Sidecar` gRPC service: the server trait and client
//! tonic-build generates from `sidecar.proto` (in verdict-proto), implemented
//! here over the job queue and the loader, plus a small client for the app and
//! the tests.

use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::Duration;

use tonic::{Request, Response, Status};
use verdict_proto::sidecar::v1::sidecar_client::SidecarClient as GrpcClient;
use verdict_proto::sidecar::v1::sidecar_server::{Sidecar, SidecarServer};

use crate::jobs::{JobQueue, JobStatus};
use crate::loader::{LoadState, Loader};
use crate::proto as pb;
use crate::SidecarError;

/// Fully qualified service name.
pub const SERVICE: &str = "verdict.sidecar.v1.Sidecar";

/// The longest a GetResult may wait; keeps a handler from being parked forever.
pub const MAX_WAIT: Duration = Duration::from_secs(30);
/// GetResult calls that may wait at once; more are refused (resource
/// exhausted) instead of each parking a task for up to [`MAX_WAIT`]
/// (security review L-8). The attestor waits for at most a few jobs at a time.
pub const MAX_WAITERS: usize = 256;
/// Requests in flight per connection, and HTTP/2 streams per connection.
const MAX_CONCURRENT_PER_CONNECTION: u32 = 64;

fn loading() -> Status {
    Status::unavailable("sidecar not ready: loading and warming up models")
}

/// Maps a sidecar error to the gRPC code the proto documents.
pub fn status_of(e: &SidecarError) -> Status {
    use SidecarError as E;
    let msg = e.to_string();
    match e {
        E::UnknownModel(_) | E::UnknownJob(_) => Status::not_found(msg),
        E::QueueFull { .. } | E::TooManyModels(_) => Status::resource_exhausted(msg),
        E::DuplicateJob(_) => Status::already_exists(msg),
        E::NotReady(_) => Status::unavailable(msg),
        E::Timeout { .. } => Status::deadline_exceeded(msg),
        E::MissingInput { .. }
        | E::UnknownInput { .. }
        | E::DuplicateInput { .. }
        | E::WrongDType { .. }
        | E::WrongShape { .. }
        | E::WrongElementCount { .. }
        | E::TooManyElements { .. }
        | E::TooManyBytes { .. }
        | E::BadTensor(_)
        | E::InvalidRequest(_) => Status::invalid_argument(msg),
        _ => Status::internal(msg),
    }
}

/// What a handler sees: the queue once the models dir is loaded, and the loader
/// when hot-loading is enabled.
#[derive(Clone)]
struct Ctx {
    queue: Option<JobQueue>,
    loader: Option<Loader>,
    waiters: Arc<tokio::sync::Semaphore>,
}

async fn submit_job(ctx: Ctx, req: pb::SubmitJobRequest) -> Result<pb::SubmitJobResponse, Status> {
    let q = ctx.queue.ok_or_else(loading)?;
    let inputs = pb::tensors_from_proto(req.inputs).map_err(|e| status_of(&e))?;
    let depth = q
        .submit(&req.model_hash, &req.job_id, inputs)
        .map_err(|e| status_of(&e))?;
    Ok(pb::SubmitJobResponse {
        accepted: true,
        queue_depth: u32::try_from(depth).unwrap_or(u32::MAX),
    })
}

async fn get_result(ctx: Ctx, req: pb::GetResultRequest) -> Result<pb::GetResultResponse, Status> {
    let q = ctx.queue.ok_or_else(loading)?;
    let wait = Duration::from_millis(u64::from(req.wait_ms)).min(MAX_WAIT);
    // Only a call that waits takes a permit; a plain look never does.
    let _permit = if wait.is_zero() {
        None
    } else {
        Some(ctx.waiters.try_acquire_owned().map_err(|_| {
            Status::resource_exhausted(format!(
                "{MAX_WAITERS} GetResult calls are already waiting; retry, or ask with wait_ms 0"
            ))
        })?)
    };
    let r = q
        .wait_result(&req.job_id, wait)
        .await
        .map_err(|e| status_of(&e))?;
    Ok(pb::GetResultResponse {
        job_id: r.job_id,
        model_hash: r.model_hash,
        status: pb::JobStatus::from(r.status) as i32,
        outputs: if r.status == JobStatus::Done {
            pb::tensors_to_proto(&r.outputs)
        } else {
            Vec::new()
        },
        latency_us: r.latency.as_micros() as u64,
        queue_us: r.queue_wait.as_micros() as u64,
        device: r.device.map(|d| d.name().to_string()).unwrap_or_default(),
        runtime: r
            .device
            .map(crate::runtime::runtime_label)
            .unwrap_or_default(),
        error: r.error.unwrap_or_default(),
    })
}

/// The store's models (ready) merged with what the loader tracks, by sha256.
async fn list_models(ctx: Ctx, _: pb::ListModelsRequest) -> Result<pb::ListModelsResponse, Status> {
    let q = ctx.queue.ok_or_else(loading)?;
    let mut statuses = ctx.loader.map(|l| l.statuses()).unwrap_or_default();
    let mut models: Vec<pb::ModelInfo> = q
        .store()
        .models()
        .iter()
        .map(|m| {
            let attempts = statuses.remove(&m.sha256).map_or(0, |s| s.attempts);
            pb::ready_model_info(m, attempts)
        })
        .collect();
    // A status still READY here was never in the store: impossible, but skip it.
    models.extend(
        statuses
            .values()
            .filter(|s| s.state != LoadState::Ready)
            .map(pb::ModelInfo::from),
    );
    models.sort_by(|a, b| a.sha256.cmp(&b.sha256));
    Ok(pb::ListModelsResponse { models })
}

async fn load_model(ctx: Ctx, req: pb::LoadModelRequest) -> Result<pb::LoadModelResponse, Status> {
    ctx.queue.ok_or_else(loading)?;
    let loader = ctx
        .loader
        .ok_or_else(|| Status::unimplemented("model loading is not enabled on this sidecar"))?;
    let state = loader
        .load(&req.model_hash, req.size_bytes, req.uris)
        .map_err(|e| status_of(&e))?;
    let detail = match state {
        LoadState::Failed | LoadState::RefusedByPolicy => loader
            .status(&req.model_hash)
            .map(|s| s.last_error)
            .unwrap_or_default(),
        _ => String::new(),
    };
    Ok(pb::LoadModelResponse {
        state: pb::ModelState::from(state) as i32,
        detail,
    })
}

/// The device of the sessions: "cuda" if any model got CUDA, else "cpu".
pub fn store_device(q: &JobQueue) -> &'static str {
    if q.store()
        .models()
        .iter()
        .any(|m| m.device == crate::runtime::Device::Cuda)
    {
        "cuda"
    } else {
        "cpu"
    }
}

async fn health(ctx: Ctx, _: pb::HealthRequest) -> Result<pb::HealthResponse, Status> {
    let Some(q) = ctx.queue else {
        return Ok(pb::HealthResponse {
            detail: "loading and warming up models".into(),
            ..Default::default()
        });
    };
    let fault = q.config().fault.to_string();
    let ready = q.is_ready();
    Ok(pb::HealthResponse {
        ready,
        device: store_device(&q).to_string(),
        models: u32::try_from(q.store().len()).unwrap_or(u32::MAX),
        queue_depth: u32::try_from(q.queue_depth()).unwrap_or(u32::MAX),
        queue_capacity: u32::try_from(q.config().queue_capacity).unwrap_or(u32::MAX),
        detail: if ready {
            String::new()
        } else if fault == "down" {
            "fault mode `down`".into()
        } else {
            "warming up".into()
        },
        fault,
    })
}

/// The service behind `verdict.sidecar.v1.Sidecar/*`.
///
/// It can be served before the models are loaded ([`SidecarService::loading`]):
/// Health then answers not ready and every other call UNAVAILABLE, so a
/// validator can poll it while sessions are created and warmed up.
///
/// LoadModel needs a [`Loader`] in [`SidecarService::loader_slot`]; without one
/// it answers UNIMPLEMENTED.
#[derive(Clone)]
pub struct SidecarService {
    queue: Arc<OnceLock<JobQueue>>,
    loader: Arc<OnceLock<Loader>>,
    waiters: Arc<tokio::sync::Semaphore>,
}

impl SidecarService {
    pub fn new(queue: JobQueue) -> Self {
        let (service, slot) = Self::loading();
        let _ = slot.set(queue);
        service
    }

    /// A service with no models yet, and the slot to put the queue in once ready.
    pub fn loading() -> (Self, Arc<OnceLock<JobQueue>>) {
        let slot = Arc::new(OnceLock::new());
        (
            SidecarService {
                queue: slot.clone(),
                loader: Arc::new(OnceLock::new()),
                waiters: Arc::new(tokio::sync::Semaphore::new(MAX_WAITERS)),
            },
            slot,
        )
    }

    /// The slot for the loader that enables LoadModel (set it before the queue).
    pub fn loader_slot(&self) -> Arc<OnceLock<Loader>> {
        self.loader.clone()
    }
}

impl SidecarService {
    fn ctx(&self) -> Ctx {
        Ctx {
            queue: self.queue.get().cloned(),
            loader: self.loader.get().cloned(),
            waiters: self.waiters.clone(),
        }
    }
}

#[tonic::async_trait]
impl Sidecar for SidecarService {
    async fn submit_job(
        &self,
        req: Request<pb::SubmitJobRequest>,
    ) -> Result<Response<pb::SubmitJobResponse>, Status> {
        submit_job(self.ctx(), req.into_inner())
            .await
            .map(Response::new)
    }

    async fn get_result(
        &self,
        req: Request<pb::GetResultRequest>,
    ) -> Result<Response<pb::GetResultResponse>, Status> {
        get_result(self.ctx(), req.into_inner())
            .await
            .map(Response::new)
    }

    async fn list_models(
        &self,
        req: Request<pb::ListModelsRequest>,
    ) -> Result<Response<pb::ListModelsResponse>, Status> {
        list_models(self.ctx(), req.into_inner())
            .await
            .map(Response::new)
    }

    async fn health(
        &self,
        req: Request<pb::HealthRequest>,
    ) -> Result<Response<pb::HealthResponse>, Status> {
        health(self.ctx(), req.into_inner())
            .await
            .map(Response::new)
    }

    async fn load_model(
        &self,
        req: Request<pb::LoadModelRequest>,
    ) -> Result<Response<pb::LoadModelResponse>, Status> {
        load_model(self.ctx(), req.into_inner())
            .await
            .map(Response::new)
    }
}

/// Largest request the sidecar decodes: job inputs are small (the chain caps
/// them at `max_input_bytes`, 16 KiB by default), so a local process cannot
/// make it allocate more than this per call (security review L-8).
pub const MAX_REQUEST: usize = 4 << 20;
/// Largest response: outputs can be large tensors.
const MAX_MESSAGE: usize = 64 << 20;

/// Serves the sidecar on `listener` until the process ends; with a `token`,
/// only to callers that present it (see [`crate::auth`]).
pub async fn serve(
    service: SidecarService,
    listener: tokio::net::TcpListener,
    token: Option<crate::auth::Token>,
) -> Result<(), tonic::transport::Error> {
    router(service, token)
        .serve_with_incoming(Incoming(listener))
        .await
}

/// [`serve`] on what `--listen` bound: loopback TCP, or a Unix socket whose
/// connections from other users are dropped ([`crate::listen`]).
pub async fn serve_bound(
    service: SidecarService,
    bound: crate::listen::Bound,
    token: Option<crate::auth::Token>,
) -> Result<(), tonic::transport::Error> {
    match bound {
        crate::listen::Bound::Tcp(l) => serve(service, l, token).await,
        crate::listen::Bound::Unix(l, uid) => {
            router(service, token)
                .serve_with_incoming(crate::listen::OwnerOnly(l, uid))
                .await
        }
    }
}

fn router(
    service: SidecarService,
    token: Option<crate::auth::Token>,
) -> tonic::transport::server::Router {
    let server = SidecarServer::new(service)
        .max_decoding_message_size(MAX_REQUEST)
        .max_encoding_message_size(MAX_MESSAGE);
    tonic::transport::Server::builder()
        .concurrency_limit_per_connection(MAX_CONCURRENT_PER_CONNECTION as usize)
        .max_concurrent_streams(MAX_CONCURRENT_PER_CONNECTION)
        .add_service(tonic::service::interceptor::InterceptedService::new(
            server,
            crate::auth::Check(token),
        ))
}

/// Accepted connections of a bound listener, as the stream tonic serves from.
struct Incoming(tokio::net::TcpListener);

impl futures_core::Stream for Incoming {
    type Item = std::io::Result<tokio::net::TcpStream>;
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        match self.0.poll_accept(cx) {
            Poll::Ready(Ok((s, _))) => Poll::Ready(Some(Ok(s))),
            Poll::Ready(Err(e)) => Poll::Ready(Some(Err(e))),
            Poll::Pending => Poll::Pending,
        }
    }
}

/// A client for the service (the app's attestor, the tests): the generated
/// client with the message size limits of the server.
#[derive(Clone)]
pub struct SidecarClient {
    inner: GrpcClient<
        tonic::service::interceptor::InterceptedService<
            tonic::transport::Channel,
            crate::auth::Bearer,
        >,
    >,
}

impl SidecarClient {
    /// `addr` like `http://127.0.0.1:50051` or `unix:/run/verdict/sidecar.sock`; no token.
    pub async fn connect(addr: impl Into<String>) -> Result<Self, tonic::transport::Error> {
        Self::connect_with(addr, None).await
    }

    /// The same, presenting `token` on every call.
    pub async fn connect_with(
        addr: impl Into<String>,
        token: Option<crate::auth::Token>,
    ) -> Result<Self, tonic::transport::Error> {
        let addr = addr.into();
        let channel = match crate::listen::unix_path(&addr) {
            // The URI is not used to connect; the connector opens the socket.
            Some(path) => {
                tonic::transport::Endpoint::from_static("http://sidecar.local")
                    .connect_with_connector(crate::listen::UnixConnector(path))
                    .await?
            }
            None => tonic::transport::Endpoint::new(addr)?.connect().await?,
        };
        Ok(SidecarClient {
            inner: GrpcClient::with_interceptor(channel, crate::auth::Bearer(token))
                .max_decoding_message_size(MAX_MESSAGE)
                .max_encoding_message_size(MAX_REQUEST),
        })
    }

    pub async fn submit_job(
        &mut self,
        req: pb::SubmitJobRequest,
    ) -> Result<pb::SubmitJobResponse, Status> {
        self.inner.submit_job(req).await.map(Response::into_inner)
    }

    pub async fn get_result(
        &mut self,
        req: pb::GetResultRequest,
    ) -> Result<pb::GetResultResponse, Status> {
        self.inner.get_result(req).await.map(Response::into_inner)
    }

    pub async fn list_models(&mut self) -> Result<pb::ListModelsResponse, Status> {
        self.inner
            .list_models(pb::ListModelsRequest {})
            .await
            .map(Response::into_inner)
    }

    pub async fn health(&mut self) -> Result<pb::HealthResponse, Status> {
        self.inner
            .health(pb::HealthRequest {})
            .await
            .map(Response::into_inner)
    }

    /// Asks the sidecar to load a model (returns at once; poll [`Self::list_models`]).
    pub async fn load_model(
        &mut self,
        req: pb::LoadModelRequest,
    ) -> Result<pb::LoadModelResponse, Status> {
        self.inner.load_model(req).await.map(Response::into_inner)
    }
}
