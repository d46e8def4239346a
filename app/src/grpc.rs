//! The gRPC server: the route table of ABCI `Query` ([`crate::query::routes`])
//! and the node services ([`crate::node_rpc`]), over tonic.
//!
//! Requests and responses pass through as protobuf bytes (a pass-through codec),
//! so there is one implementation of every query, whichever way it arrives. The
//! height comes from the `x-cosmos-block-height` header, as in the Cosmos SDK, and
//! is echoed back in the response metadata.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Buf, BufMut};
use tonic::body::BoxBody;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::server::{Grpc, UnaryService};
use tonic::{Code, Request, Response, Status};

use crate::app::VerdictApp;

#[derive(Clone, Copy, Default)]
/// Protobuf bytes in and out, unchanged: the server answers every method with it,
/// and a client can call any path with it.
pub struct RawCodec;

pub struct RawEncoder;
pub struct RawDecoder;

impl Encoder for RawEncoder {
    type Item = Vec<u8>;
    type Error = Status;
    fn encode(&mut self, item: Vec<u8>, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.put_slice(&item);
        Ok(())
    }
}

impl Decoder for RawDecoder {
    type Item = Vec<u8>;
    type Error = Status;
    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Vec<u8>>, Status> {
        let n = src.remaining();
        Ok(Some(src.copy_to_bytes(n).to_vec()))
    }
}

impl Codec for RawCodec {
    type Encode = Vec<u8>;
    type Decode = Vec<u8>;
    type Encoder = RawEncoder;
    type Decoder = RawDecoder;
    fn encoder(&mut self) -> RawEncoder {
        RawEncoder
    }
    fn decoder(&mut self) -> RawDecoder {
        RawDecoder
    }
}

/// Maps an SDK error code to the gRPC status the SDK's gRPC server would give.
pub fn status_of(code: u32, log: String) -> Status {
    use verdict_core::codes as c;
    let grpc = match code {
        c::NOT_FOUND => Code::NotFound,
        c::INVALID_REQUEST | c::INVALID_ADDRESS | c::INVALID_COINS | c::TX_DECODE => {
            Code::InvalidArgument
        }
        c::UNKNOWN_REQUEST => Code::Unimplemented,
        c::INVALID_HEIGHT => Code::InvalidArgument,
        c::UNAUTHORIZED => Code::PermissionDenied,
        BUSY => Code::Unavailable,
        _ => Code::Unknown,
    };
    Status::new(grpc, log)
}

/// Queries run at once (gRPC and REST together) unless `--query-concurrency`
/// says otherwise; one over the limit is refused at once, not queued.
pub const DEFAULT_QUERY_CONCURRENCY: usize = 64;

/// What a call needs: the app's store, the CometBFT RPC for node services, and
/// the permits that bound how many queries run at once.
#[derive(Clone)]
pub struct Backend {
    app: VerdictApp,
    rpc: Option<std::sync::Arc<verdict_client::rpc::Rpc>>,
    permits: std::sync::Arc<tokio::sync::Semaphore>,
    limit: usize,
}

impl Backend {
    /// `rpc`: the node's CometBFT RPC (e.g. `http://127.0.0.1:26657`), needed
    /// by the node services only.
    pub fn new(app: VerdictApp, rpc: Option<&str>) -> Self {
        Backend {
            app,
            rpc: rpc.map(|r| std::sync::Arc::new(verdict_client::rpc::Rpc::new(r))),
            permits: std::sync::Arc::new(tokio::sync::Semaphore::new(DEFAULT_QUERY_CONCURRENCY)),
            limit: DEFAULT_QUERY_CONCURRENCY,
        }
    }

    /// At most `n` queries at once.
    pub fn with_concurrency(mut self, n: usize) -> Self {
        self.permits = std::sync::Arc::new(tokio::sync::Semaphore::new(n));
        self.limit = n;
        self
    }

    /// [`crate::service::answer`] off the async threads; refused with code
    /// [`BUSY`] when the limit is reached.
    pub async fn call(
        &self,
        path: String,
        data: Vec<u8>,
        height: i64,
    ) -> Result<(Vec<u8>, i64), verdict_core::module::QueryError> {
        let Ok(permit) = self.permits.clone().try_acquire_owned() else {
            return Err(verdict_core::module::QueryError::new(
                BUSY,
                format!(
                    "node busy: {} queries are running (the limit); retry shortly",
                    self.limit
                ),
            ));
        };
        let b = self.clone();
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            crate::service::answer(b.app.store(), b.rpc.as_deref(), &path, &data, height)
        })
        .await
        .unwrap_or_else(|e| Err(verdict_core::module::QueryError::new(1, e.to_string())))
    }
}

/// Not an SDK code: the answer of a query refused for load (gRPC `Unavailable`).
pub const BUSY: u32 = u32::MAX;

struct Unary {
    backend: Backend,
    path: String,
}

impl UnaryService<Vec<u8>> for Unary {
    type Response = Vec<u8>;
    type Future = Pin<Box<dyn Future<Output = Result<Response<Vec<u8>>, Status>> + Send>>;

    fn call(&mut self, req: Request<Vec<u8>>) -> Self::Future {
        let backend = self.backend.clone();
        let path = self.path.clone();
        Box::pin(async move {
            let height = crate::service::height_header(
                req.metadata()
                    .get(crate::service::HEIGHT_HEADER)
                    .map(|v| v.as_bytes()),
            )
            .map_err(Status::invalid_argument)?;
            let (value, h) = backend
                .call(path, req.into_inner(), height)
                .await
                .map_err(|e| status_of(e.code, e.log))?;
            let mut out = Response::new(value);
            if let Ok(h) = h.to_string().parse() {
                out.metadata_mut().insert(crate::service::HEIGHT_HEADER, h);
            }
            Ok(out)
        })
    }
}

type BoxFuture = Pin<Box<dyn Future<Output = Result<http::Response<BoxBody>, Infallible>> + Send>>;

fn serve(backend: Backend, req: http::Request<BoxBody>) -> BoxFuture {
    Box::pin(async move {
        let path = req.uri().path().to_string();
        if !crate::service::serves(&path) {
            let status = Status::unimplemented(format!("unknown method {path}"));
            return Ok(status.into_http());
        }
        let mut grpc = Grpc::new(RawCodec);
        Ok(grpc.unary(Unary { backend, path }, req).await)
    })
}

/// Every method of the route table, whatever its service: one service behind
/// all paths, so the gRPC server serves exactly what ABCI `Query` does.
#[derive(Clone)]
struct AnyMethod(Backend);

impl tower_service::Service<http::Request<axum::body::Body>> for AnyMethod {
    type Response = http::Response<BoxBody>;
    type Error = Infallible;
    type Future = BoxFuture;
    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }
    fn call(&mut self, req: http::Request<axum::body::Body>) -> BoxFuture {
        serve(self.0.clone(), req.map(tonic::body::boxed))
    }
}

/// Serves gRPC on `listener` until the process ends: every method of the route
/// table and the node services, gRPC server reflection (v1 and v1alpha, from
/// the descriptor set of every `.proto` the node knows, so `grpcurl` lists,
/// describes and calls them) and the standard health service (`grpc.health.v1`).
pub async fn run(
    backend: Backend,
    listener: tokio::net::TcpListener,
) -> Result<(), tonic::transport::Error> {
    let reflection = || {
        tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(verdict_proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
    };
    let (v1, v1alpha) = match (reflection().build_v1(), reflection().build_v1alpha()) {
        (Ok(a), Ok(b)) => (Some(a), Some(b)),
        (Err(e), _) | (_, Err(e)) => {
            tracing::error!(error = %e, "gRPC reflection is off");
            (None, None)
        }
    };
    let (mut reporter, health) = tonic_health::server::health_reporter();
    reporter
        .set_service_status("", tonic_health::ServingStatus::Serving)
        .await;
    let routes =
        tonic::service::Routes::from(axum::Router::new().fallback_service(AnyMethod(backend)));
    tonic::transport::Server::builder()
        .add_routes(routes)
        .add_service(health)
        .add_optional_service(v1)
        .add_optional_service(v1alpha)
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
