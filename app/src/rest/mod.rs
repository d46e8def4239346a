//! The REST (LCD) gateway wallets and explorers use: the grpc-gateway paths and
//! JSON of every method the gRPC server serves, from the same route table.
//!
//! Nothing here is written per query. The paths come from each method's
//! `google.api.http` option in the `.proto` files ([`template`]); a request's path
//! variables and query parameters (or its JSON body) fill the request message
//! ([`params`]); the call goes through [`crate::service::answer`] like a gRPC call;
//! the answer is rendered as the SDK's gateway renders it ([`verdict_proto::json`]).
//! Errors are grpc-gateway's `{"code", "message", "details"}`.

pub mod params;
pub mod template;

use std::sync::{Arc, OnceLock};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::Response;
use http::{HeaderValue, Method, StatusCode};
use prost::Message;
use prost_reflect::{DynamicMessage, MessageDescriptor};

use crate::grpc::Backend;
use template::Template;
use verdict_proto::json;

/// Largest request body accepted (a broadcast tx in JSON, base64 inside).
const MAX_BODY: usize = 4 << 20;

/// How a REST path reaches a method.
#[derive(Clone)]
pub struct Entry {
    pub verb: Method,
    pub template: Template,
    /// gRPC method path, e.g. `/cosmos.bank.v1beta1.Query/AllBalances`.
    pub method: &'static str,
    kind: Kind,
}

/// A method's request and response types, and whether the request is the body.
#[derive(Clone)]
struct Kind {
    input: MessageDescriptor,
    output: MessageDescriptor,
    body: bool,
}

impl Entry {
    /// The request bytes of a call: the JSON body (for `body: "*"`) or the
    /// query parameters, then the path variables.
    pub fn request(
        &self,
        query: &[(String, String)],
        bound: &[(String, String)],
        body: &[u8],
    ) -> Result<Vec<u8>, String> {
        let Kind {
            input, body: whole, ..
        } = &self.kind;
        let mut m = if *whole {
            params::from_json(input, body)?
        } else {
            let mut m = DynamicMessage::new(input.clone());
            for (k, v) in query {
                params::set(&mut m, k, v)?;
            }
            m
        };
        for (k, v) in bound {
            params::set(&mut m, k, v)?;
        }
        Ok(m.encode_to_vec())
    }

    /// The JSON answer of a call from its response bytes.
    pub fn render(&self, value: &[u8]) -> Result<serde_json::Value, String> {
        DynamicMessage::decode(self.kind.output.clone(), value)
            .map_err(|e| e.to_string())
            .and_then(|m| json::render(&m))
    }

    /// True when the request is the JSON body (`body: "*"`).
    pub fn takes_body(&self) -> bool {
        self.kind.body
    }
}

/// The legacy Cosmos LCD paths of the block and validator-set methods, kept
/// because explorers still ask for them.
const LEGACY: [(&str, &str); 4] = [
    (
        "/blocks/latest",
        "/cosmos.base.tendermint.v1beta1.Service/GetLatestBlock",
    ),
    (
        "/blocks/{height}",
        "/cosmos.base.tendermint.v1beta1.Service/GetBlockByHeight",
    ),
    (
        "/validatorsets/latest",
        "/cosmos.base.tendermint.v1beta1.Service/GetLatestValidatorSet",
    ),
    (
        "/validatorsets/{height}",
        "/cosmos.base.tendermint.v1beta1.Service/GetValidatorSetByHeight",
    ),
];

/// Every REST binding of every served method, most specific first.
pub fn table() -> &'static [Entry] {
    static TABLE: OnceLock<Vec<Entry>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut out = Vec::new();
        for path in crate::service::grpc_paths() {
            if let Some(m) = json::method(path) {
                let legacy = LEGACY
                    .iter()
                    .filter(|(_, p)| *p == path)
                    .filter_map(|(t, _)| {
                        Some(template::Binding {
                            verb: Method::GET,
                            template: Template::parse(t)?,
                            body: None,
                        })
                    });
                for b in template::bindings(&m).into_iter().chain(legacy) {
                    out.push(Entry {
                        verb: b.verb,
                        template: b.template,
                        method: path,
                        kind: Kind {
                            input: m.input(),
                            output: m.output(),
                            body: b.body.as_deref() == Some("*"),
                        },
                    });
                }
            }
        }
        out.sort_by_key(|e| std::cmp::Reverse(e.template.specificity()));
        out
    })
}

/// CORS: the origins answered with `Access-Control-Allow-Origin` (`*`: any).
#[derive(Clone, Debug, Default)]
pub struct Cors {
    pub origins: Vec<String>,
}

impl Cors {
    fn allow(&self, origin: Option<&HeaderValue>) -> Option<HeaderValue> {
        let origin = origin?.to_str().ok()?;
        if self.origins.iter().any(|o| o == "*") {
            return Some(HeaderValue::from_static("*"));
        }
        self.origins
            .iter()
            .any(|o| o == origin)
            .then(|| HeaderValue::from_str(origin).ok())
            .flatten()
    }
}

#[derive(Clone)]
struct Gateway {
    backend: Backend,
    cors: Arc<Cors>,
}

/// Serves the REST gateway on `listener` until the process ends.
pub async fn run(
    backend: Backend,
    cors: Cors,
    listener: tokio::net::TcpListener,
) -> std::io::Result<()> {
    table(); // built once, before the first request
    let gw = Gateway {
        backend,
        cors: Arc::new(cors),
    };
    let router = axum::Router::new().fallback(handle).with_state(gw);
    axum::serve(listener, router).await
}

/// A grpc-gateway error body with the HTTP status its gRPC code maps to.
fn error(code: tonic::Code, message: impl Into<String>) -> Response {
    let status = match code {
        tonic::Code::NotFound => StatusCode::NOT_FOUND,
        tonic::Code::InvalidArgument | tonic::Code::FailedPrecondition => StatusCode::BAD_REQUEST,
        tonic::Code::Unimplemented => StatusCode::NOT_IMPLEMENTED,
        tonic::Code::PermissionDenied => StatusCode::FORBIDDEN,
        tonic::Code::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    let body = serde_json::json!({
        "code": code as i32,
        "message": message.into(),
        "details": [],
    });
    json_response(status, &body)
}

fn json_response(status: StatusCode, v: &serde_json::Value) -> Response {
    let mut r = Response::new(Body::from(v.to_string()));
    *r.status_mut() = status;
    r.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

async fn handle(State(gw): State<Gateway>, req: Request) -> Response {
    let origin = req.headers().get(http::header::ORIGIN).cloned();
    let allow = gw.cors.allow(origin.as_ref());
    let mut resp = if req.method() == Method::OPTIONS {
        let mut r = Response::new(Body::empty());
        *r.status_mut() = StatusCode::NO_CONTENT;
        if allow.is_some() {
            let h = r.headers_mut();
            h.insert(
                http::header::ACCESS_CONTROL_ALLOW_METHODS,
                HeaderValue::from_static("GET, POST, OPTIONS"),
            );
            h.insert(
                http::header::ACCESS_CONTROL_ALLOW_HEADERS,
                HeaderValue::from_static("content-type, x-cosmos-block-height"),
            );
        }
        r
    } else {
        route(&gw.backend, req).await
    };
    if let Some(a) = allow {
        resp.headers_mut()
            .insert(http::header::ACCESS_CONTROL_ALLOW_ORIGIN, a);
        resp.headers_mut().insert(
            http::header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static("x-cosmos-block-height"),
        );
    }
    resp
}

async fn route(backend: &Backend, req: Request) -> Response {
    let path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or_default().to_string();
    let found = table().iter().find_map(|e| {
        (e.verb == req.method())
            .then(|| e.template.matches(&path).map(|bound| (e, bound)))
            .flatten()
    });
    let Some((entry, bound)) = found else {
        if table().iter().any(|e| e.template.matches(&path).is_some()) {
            return error(
                tonic::Code::Unimplemented,
                format!("method {} not allowed on {path}", req.method()),
            );
        }
        return error(tonic::Code::NotFound, format!("no route for {path}"));
    };
    let height = match crate::service::height_header(
        req.headers()
            .get(crate::service::HEIGHT_HEADER)
            .map(|v| v.as_bytes()),
    ) {
        Ok(h) => h,
        Err(e) => return error(tonic::Code::InvalidArgument, e),
    };
    let body = match axum::body::to_bytes(req.into_body(), MAX_BODY).await {
        Ok(b) => b,
        Err(e) => {
            return error(
                tonic::Code::InvalidArgument,
                format!("request body: {e} (at most {MAX_BODY} bytes)"),
            )
        }
    };
    let pairs = match query_pairs(&query) {
        Ok(p) => p,
        Err(e) => return error(tonic::Code::InvalidArgument, e),
    };
    let request = entry.request(&pairs, &bound, &body);
    let request = match request {
        Ok(r) => r,
        Err(e) => return error(tonic::Code::InvalidArgument, e),
    };
    let (value, h) = match backend
        .call(entry.method.to_string(), request, height)
        .await
    {
        Ok(x) => x,
        Err(e) => {
            let status = crate::grpc::status_of(e.code, e.log);
            return error(status.code(), status.message());
        }
    };
    let rendered = entry.render(&value);
    match rendered {
        Ok(v) => {
            let mut r = json_response(StatusCode::OK, &v);
            if let Ok(hv) = HeaderValue::from_str(&h.to_string()) {
                r.headers_mut().insert(crate::service::HEIGHT_HEADER, hv);
            }
            r
        }
        Err(e) => error(tonic::Code::Internal, e),
    }
}

/// `a=1&b=x%20y` as decoded pairs (`+` is a space in a query string).
fn query_pairs(q: &str) -> Result<Vec<(String, String)>, String> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            let dec = |s: &str| {
                template::percent_decode(&s.replace('+', " "))
                    .ok_or_else(|| format!("query parameter {p:?} is not valid percent-encoding"))
            };
            Ok((dec(k)?, dec(v)?))
        })
        .collect()
}
