//! The gRPC query server: the same route table as ABCI `Query`
//! ([`crate::query::routes`]), over tonic.
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
use tendermint_proto::v0_38::abci::RequestQuery;
use tonic::body::BoxBody;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::server::{Grpc, UnaryService};
use tonic::{Code, Request, Response, Status};

use crate::app::VerdictApp;

#[derive(Clone, Copy, Default)]
struct RawCodec;

struct RawEncoder;
struct RawDecoder;

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
fn status_of(code: u32, log: String) -> Status {
    use verdict_core::codes as c;
    let grpc = match code {
        c::NOT_FOUND => Code::NotFound,
        c::INVALID_REQUEST | c::INVALID_ADDRESS | c::INVALID_COINS | c::TX_DECODE => {
            Code::InvalidArgument
        }
        c::UNKNOWN_REQUEST => Code::Unimplemented,
        c::INVALID_HEIGHT => Code::InvalidArgument,
        c::UNAUTHORIZED => Code::PermissionDenied,
        _ => Code::Unknown,
    };
    Status::new(grpc, log)
}

struct Unary {
    app: VerdictApp,
    path: String,
}

impl UnaryService<Vec<u8>> for Unary {
    type Response = Vec<u8>;
    type Future = Pin<Box<dyn Future<Output = Result<Response<Vec<u8>>, Status>> + Send>>;

    fn call(&mut self, req: Request<Vec<u8>>) -> Self::Future {
        let app = self.app.clone();
        let path = self.path.clone();
        Box::pin(async move {
            let height = match req.metadata().get("x-cosmos-block-height") {
                None => 0,
                Some(v) => v
                    .to_str()
                    .ok()
                    .and_then(|s| s.parse::<i64>().ok())
                    .ok_or_else(|| {
                        Status::invalid_argument("x-cosmos-block-height is not a number")
                    })?,
            };
            let data = req.into_inner();
            let resp = tokio::task::spawn_blocking(move || {
                crate::query::handle(
                    app.store(),
                    &RequestQuery {
                        data: data.into(),
                        path,
                        height,
                        prove: false,
                    },
                )
            })
            .await
            .map_err(|e| Status::internal(e.to_string()))?;
            if resp.code != 0 {
                return Err(status_of(resp.code, resp.log));
            }
            let mut out = Response::new(resp.value.to_vec());
            if let Ok(h) = resp.height.to_string().parse() {
                out.metadata_mut().insert("x-cosmos-block-height", h);
            }
            Ok(out)
        })
    }
}

type BoxFuture = Pin<Box<dyn Future<Output = Result<http::Response<BoxBody>, Infallible>> + Send>>;

fn serve(app: VerdictApp, req: http::Request<BoxBody>) -> BoxFuture {
    Box::pin(async move {
        let path = req.uri().path().to_string();
        if !crate::query::routes().contains_key(path.as_str()) {
            let status = Status::unimplemented(format!("unknown method {path}"));
            return Ok(status.into_http());
        }
        let mut grpc = Grpc::new(RawCodec);
        Ok(grpc.unary(Unary { app, path }, req).await)
    })
}

/// Every method of the route table, whatever its service: one service behind
/// all paths, so the gRPC server serves exactly what ABCI `Query` does.
#[derive(Clone)]
struct AnyMethod(VerdictApp);

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

/// Serves gRPC on `listener` until the process ends.
pub async fn run(
    app: VerdictApp,
    listener: tokio::net::TcpListener,
) -> Result<(), tonic::transport::Error> {
    let routes = tonic::service::Routes::from(axum::Router::new().fallback_service(AnyMethod(app)));
    tonic::transport::Server::builder()
        .add_routes(routes)
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
