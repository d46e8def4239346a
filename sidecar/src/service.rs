//! The `verdict.sidecar.v1.Sidecar` gRPC service over tonic, hand-wired with
//! `tonic::server::Grpc` and `ProstCodec` (no generated code), plus a matching
//! small client for the app and the tests.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::Duration;

use http::uri::PathAndQuery;
use tonic::body::BoxBody;
use tonic::codec::ProstCodec;
use tonic::server::{Grpc, NamedService, UnaryService};
use tonic::{Request, Response, Status};

use crate::jobs::{JobQueue, JobStatus};
use crate::loader::{LoadState, Loader};
use crate::proto as pb;
use crate::SidecarError;

/// Fully qualified service name.
pub const SERVICE: &str = "verdict.sidecar.v1.Sidecar";

/// The longest a GetResult may wait; keeps a handler from being parked forever.
pub const MAX_WAIT: Duration = Duration::from_secs(30);

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

type BoxFut<T> = Pin<Box<dyn Future<Output = T> + Send>>;

struct Unary<Req, Resp> {
    ctx: Ctx,
    handler: Handler<Req, Resp>,
}

type Handler<Req, Resp> = fn(Ctx, Req) -> BoxFut<Result<Resp, Status>>;

impl<Req: Send + 'static, Resp: Send + 'static> UnaryService<Req> for Unary<Req, Resp> {
    type Response = Resp;
    type Future = BoxFut<Result<Response<Resp>, Status>>;
    fn call(&mut self, req: Request<Req>) -> Self::Future {
        let fut = (self.handler)(self.ctx.clone(), req.into_inner());
        Box::pin(async move { fut.await.map(Response::new) })
    }
}

async fn unary<Req, Resp>(
    ctx: Ctx,
    handler: Handler<Req, Resp>,
    req: http::Request<BoxBody>,
) -> http::Response<BoxBody>
where
    Req: prost::Message + Default + Send + 'static,
    Resp: prost::Message + Send + 'static,
{
    // Inputs can be large tensors; the size limits proper are checked in validation.
    let mut grpc = Grpc::new(ProstCodec::<Resp, Req>::default())
        .max_decoding_message_size(64 << 20)
        .max_encoding_message_size(64 << 20);
    grpc.unary(Unary { ctx, handler }, req).await
}

/// The tower service tonic routes `verdict.sidecar.v1.Sidecar/*` to.
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
}

impl SidecarService {
    pub fn new(queue: JobQueue) -> Self {
        SidecarService {
            queue: Arc::new(OnceLock::from(queue)),
            loader: Arc::new(OnceLock::new()),
        }
    }

    /// A service with no models yet, and the slot to put the queue in once ready.
    pub fn loading() -> (Self, Arc<OnceLock<JobQueue>>) {
        let slot = Arc::new(OnceLock::new());
        (
            SidecarService {
                queue: slot.clone(),
                loader: Arc::new(OnceLock::new()),
            },
            slot,
        )
    }

    /// The slot for the loader that enables LoadModel (set it before the queue).
    pub fn loader_slot(&self) -> Arc<OnceLock<Loader>> {
        self.loader.clone()
    }
}

impl NamedService for SidecarService {
    const NAME: &'static str = SERVICE;
}

impl tower_service::Service<http::Request<BoxBody>> for SidecarService {
    type Response = http::Response<BoxBody>;
    type Error = Infallible;
    type Future = BoxFut<Result<http::Response<BoxBody>, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<BoxBody>) -> Self::Future {
        let q = Ctx {
            queue: self.queue.get().cloned(),
            loader: self.loader.get().cloned(),
        };
        Box::pin(async move {
            let path = req.uri().path().to_string();
            let method = path.strip_prefix(&format!("/{SERVICE}/")).unwrap_or("");
            Ok(match method {
                "SubmitJob" => unary(q, |q, r| Box::pin(submit_job(q, r)), req).await,
                "GetResult" => unary(q, |q, r| Box::pin(get_result(q, r)), req).await,
                "ListModels" => unary(q, |q, r| Box::pin(list_models(q, r)), req).await,
                "Health" => unary(q, |q, r| Box::pin(health(q, r)), req).await,
                "LoadModel" => unary(q, |q, r| Box::pin(load_model(q, r)), req).await,
                _ => Status::unimplemented(format!("unknown method {path}")).into_http(),
            })
        })
    }
}

/// Serves the sidecar on `listener` until the process ends.
pub async fn serve(
    service: SidecarService,
    listener: tokio::net::TcpListener,
) -> Result<(), tonic::transport::Error> {
    tonic::transport::Server::builder()
        .add_service(service)
        .serve_with_incoming(Incoming(listener))
        .await
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

/// A minimal client for the service (the app's vote-extension path, tests).
#[derive(Clone)]
pub struct SidecarClient {
    inner: tonic::client::Grpc<tonic::transport::Channel>,
}

impl SidecarClient {
    /// `addr` like `http://127.0.0.1:50051`.
    pub async fn connect(addr: impl Into<String>) -> Result<Self, tonic::transport::Error> {
        let channel = tonic::transport::Endpoint::new(addr.into())?
            .connect()
            .await?;
        Ok(SidecarClient {
            inner: tonic::client::Grpc::new(channel)
                .max_decoding_message_size(64 << 20)
                .max_encoding_message_size(64 << 20),
        })
    }

    async fn call<Req, Resp>(&mut self, method: &'static str, req: Req) -> Result<Resp, Status>
    where
        Req: prost::Message + Send + Sync + 'static,
        Resp: prost::Message + Default + Send + Sync + 'static,
    {
        self.inner
            .ready()
            .await
            .map_err(|e| Status::unavailable(e.to_string()))?;
        let path = PathAndQuery::from_static(method);
        self.inner
            .unary(Request::new(req), path, ProstCodec::<Req, Resp>::default())
            .await
            .map(Response::into_inner)
    }

    pub async fn submit_job(
        &mut self,
        req: pb::SubmitJobRequest,
    ) -> Result<pb::SubmitJobResponse, Status> {
        self.call("/verdict.sidecar.v1.Sidecar/SubmitJob", req)
            .await
    }

    pub async fn get_result(
        &mut self,
        req: pb::GetResultRequest,
    ) -> Result<pb::GetResultResponse, Status> {
        self.call("/verdict.sidecar.v1.Sidecar/GetResult", req)
            .await
    }

    pub async fn list_models(&mut self) -> Result<pb::ListModelsResponse, Status> {
        self.call(
            "/verdict.sidecar.v1.Sidecar/ListModels",
            pb::ListModelsRequest {},
        )
        .await
    }

    pub async fn health(&mut self) -> Result<pb::HealthResponse, Status> {
        self.call("/verdict.sidecar.v1.Sidecar/Health", pb::HealthRequest {})
            .await
    }

    /// Asks the sidecar to load a model (returns at once; poll [`Self::list_models`]).
    pub async fn load_model(
        &mut self,
        req: pb::LoadModelRequest,
    ) -> Result<pb::LoadModelResponse, Status> {
        self.call("/verdict.sidecar.v1.Sidecar/LoadModel", req)
            .await
    }
}
