//! The CAVRA HTTP API (`cavra serve`): axum on tokio, over the stores of
//! `cavra-store` and the engine of `cavra-policy`.
//!
//! The route table in [`routes`] is the single source of both the router
//! and the OpenAPI 3.1 document ([`openapi`]). Every error is
//! `{"detail": "…"}`. Only this crate knows HTTP.

pub mod error;
pub mod metrics;
pub mod openapi;
pub mod routes;
mod static_data;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use cavra_policy::CompiledPolicy;
use cavra_policy::load::PackSource;
use cavra_store::Stores;
use serde_json::json;
use tower_http::cors::{AllowOrigin, CorsLayer};

pub use error::{ApiError, ApiResult};

/// Largest accepted request body (documented: 1 MiB).
pub const BODY_LIMIT: usize = 1024 * 1024;

pub fn body_limit() -> usize {
    BODY_LIMIT
}

/// Server settings, read from the documented `CAVRA_*` variables.
#[derive(Clone, Debug)]
pub struct Config {
    pub api_base_url: String,
    pub cors_origins: Vec<String>,
    /// Whole-request timeout (slow clients are cut off): 408.
    pub request_timeout: Duration,
    /// Time allowed for a client to send its request headers.
    pub header_timeout: Duration,
    pub oidc_config: Option<String>,
    pub rbac_file: Option<String>,
    pub artifact_root: Option<String>,
    pub connector_config: Option<String>,
    pub approval_provider_config: Option<String>,
    pub policy_signing_key: bool,
}

impl Config {
    pub fn from_env() -> Config {
        Config::from_lookup(|k| std::env::var(k).ok())
    }

    pub fn from_lookup(env: impl Fn(&str) -> Option<String>) -> Config {
        let get = |k: &str| env(k).filter(|v| !v.trim().is_empty());
        let secs = |k: &str, default: u64| {
            get(k)
                .and_then(|v| v.trim().parse::<f64>().ok())
                .filter(|v| v.is_finite() && *v > 0.0)
                // `1e20` seconds does not fit a Duration: the default, not
                // a panic at start-up.
                .and_then(|v| Duration::try_from_secs_f64(v).ok())
                .unwrap_or(Duration::from_secs(default))
        };
        Config {
            api_base_url: get("CAVRA_PUBLIC_API_BASE_URL").unwrap_or_default(),
            cors_origins: get("CAVRA_CORS_ORIGINS")
                .map(|v| {
                    v.split(',')
                        .map(|o| o.trim().trim_end_matches('/').to_string())
                        .filter(|o| !o.is_empty())
                        .collect()
                })
                .unwrap_or_default(),
            request_timeout: secs("CAVRA_REQUEST_TIMEOUT_SECONDS", 30),
            header_timeout: secs("CAVRA_HEADER_TIMEOUT_SECONDS", 10),
            oidc_config: get("CAVRA_APPROVAL_OIDC_CONFIG"),
            rbac_file: get("CAVRA_APPROVAL_RBAC_FILE"),
            artifact_root: get("CAVRA_EVIDENCE_ARTIFACT_ROOT"),
            connector_config: get("CAVRA_CONNECTOR_CONFIG"),
            approval_provider_config: get("CAVRA_APPROVAL_PROVIDER_CONFIG"),
            policy_signing_key: get("CAVRA_POLICY_SIGNING_KEY").is_some(),
        }
    }
}

/// Shared state of every handler.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub stores: Stores,
    pub config: Config,
    pub metrics: metrics::Metrics,
    packs: Mutex<HashMap<String, CachedPack>>,
}

/// How long a compiled pack is served before its files are checked again.
/// Edits under `CAVRA_POLICY_DIR` (or `./policies`) take effect within this
/// interval, without a restart.
pub const PACK_RECHECK: Duration = Duration::from_secs(1);

struct CachedPack {
    compiled: Arc<CompiledPolicy>,
    deps: cavra_packs::PackDeps,
    checked: std::time::Instant,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    pub fn new(stores: Stores, config: Config) -> AppState {
        AppState(Arc::new(Inner {
            stores,
            config,
            metrics: metrics::Metrics::new(),
            packs: Mutex::new(HashMap::new()),
        }))
    }

    /// The compiled pack `id`, cached. Packs come from `CAVRA_POLICY_DIR`,
    /// `./policies` or the packs built into the binary. A cached pack older
    /// than [`PACK_RECHECK`] is served again only when every pack file that
    /// went into it still has the same text; otherwise it is resolved and
    /// compiled afresh, and a pack that no longer loads is an error (no
    /// decision is made on a stale or broken policy).
    pub fn pack(&self, id: &str) -> Result<Arc<CompiledPolicy>, ApiError> {
        let stale = {
            let packs = self.packs.lock().unwrap_or_else(|e| e.into_inner());
            match packs.get(id) {
                Some(p) if p.checked.elapsed() < PACK_RECHECK => return Ok(p.compiled.clone()),
                Some(p) => Some((p.compiled.clone(), p.deps.clone())),
                None => None,
            }
        };
        let source = cavra_packs::default_source();
        if let Some((compiled, deps)) = stale
            && deps.unchanged(&source)
        {
            if let Some(p) = self
                .packs
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get_mut(id)
            {
                p.checked = std::time::Instant::now();
            }
            return Ok(compiled);
        }
        if !source.ids().iter().any(|i| i == id) {
            self.packs
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(id);
            return Err(ApiError::field(
                "policy_pack",
                format!("{id:?} is not an installed policy pack"),
            ));
        }
        let loaded = cavra_packs::resolve_tracked(&source, id)
            .and_then(|(r, deps)| r.compile().map(|c| (c, deps)));
        let (compiled, deps) = match loaded {
            Ok(v) => v,
            Err(e) => {
                self.packs
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .remove(id);
                return Err(ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    format!("policy pack {id} does not load: {e}"),
                ));
            }
        };
        let compiled = Arc::new(compiled);
        self.packs.lock().unwrap_or_else(|e| e.into_inner()).insert(
            id.to_string(),
            CachedPack {
                compiled: compiled.clone(),
                deps,
                checked: std::time::Instant::now(),
            },
        );
        Ok(compiled)
    }
}

/// Replaces empty or non-JSON error bodies (405 from the router, 413 from
/// the body limit, 408 from the timeout) with `{"detail": …}`.
async fn json_errors(req: Request, next: Next) -> Response {
    let resp = next.run(req).await;
    let status = resp.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return resp;
    }
    let is_json = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json {
        return resp;
    }
    let detail = match status {
        StatusCode::METHOD_NOT_ALLOWED => "method not allowed on this path".to_string(),
        StatusCode::PAYLOAD_TOO_LARGE => {
            format!("the request body is larger than the limit of {BODY_LIMIT} bytes")
        }
        StatusCode::REQUEST_TIMEOUT => "the request took too long and was cut off".to_string(),
        s => s.canonical_reason().unwrap_or("error").to_string(),
    };
    let (mut parts, _) = resp.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    let body = json!({"detail": detail}).to_string();
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Response::from_parts(parts, Body::from(body))
}

/// Counts requests and their latency per route.
async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    // Only the standard methods become label values: a made-up method per
    // request must not grow /metrics without bound.
    let method = match req.method().as_str() {
        m @ ("GET" | "POST" | "PUT" | "DELETE" | "PATCH" | "HEAD" | "OPTIONS" | "CONNECT"
        | "TRACE") => m.to_string(),
        _ => "OTHER".to_string(),
    };
    let start = std::time::Instant::now();
    let resp = next.run(req).await;
    state
        .metrics
        .observe(&method, &route, resp.status().as_u16(), start.elapsed());
    resp
}

async fn not_found(req: Request) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        format!("no route {} {}", req.method(), req.uri().path()),
    )
}

/// The complete application: routes, OpenAPI, metrics, limits, CORS.
pub fn app(state: AppState) -> Router {
    let mut router = Router::new();
    for (ep, handler) in routes::endpoints() {
        router = router.route(&ep.axum_path(), handler);
    }
    let router = router
        .route("/openapi.json", axum::routing::get(openapi_json))
        .route("/metrics", axum::routing::get(metrics_text))
        .fallback(not_found)
        .route_layer(middleware::from_fn_with_state(state.clone(), track))
        .with_state(state.clone());
    let mut router = router
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(BODY_LIMIT))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            state.config.request_timeout,
        ))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(
            panic_response,
        ));
    if !state.config.cors_origins.is_empty() {
        // `*` is any origin (without credentials); otherwise the exact
        // list. (tower-http refuses `*` inside a list by panicking.)
        let any = state.config.cors_origins.iter().any(|o| o == "*");
        let origins: Vec<HeaderValue> = state
            .config
            .cors_origins
            .iter()
            .filter_map(|o| HeaderValue::from_str(o).ok())
            .collect();
        let allow = if any {
            AllowOrigin::any()
        } else {
            AllowOrigin::list(origins)
        };
        router = router.layer(
            CorsLayer::new()
                .allow_origin(allow)
                .allow_methods([Method::GET, Method::POST, Method::OPTIONS])
                .allow_headers(tower_http::cors::Any)
                .allow_credentials(false),
        );
        if !any {
            router = router.layer(middleware::from_fn_with_state(
                state.config.cors_origins.clone(),
                cors_only_for_allowed,
            ));
        }
    }
    router
        .layer(middleware::from_fn(json_errors))
        .layer(
            tower_http::trace::TraceLayer::new_for_http()
                .make_span_with(|req: &Request| {
                    tracing::info_span!("request", method = %req.method(), path = %req.uri().path())
                })
                .on_response(
                    |resp: &Response, latency: Duration, _span: &tracing::Span| {
                        tracing::info!(
                            status = resp.status().as_u16(),
                            latency_ms = latency.as_secs_f64() * 1e3,
                            "response"
                        );
                    },
                ),
        )
}

/// No CORS header at all for an origin not on the list: tower-http answers
/// a preflight from any origin with the allowed methods and headers (only
/// leaving out the allowed origin).
async fn cors_only_for_allowed(
    State(origins): State<Vec<String>>,
    req: Request,
    next: middleware::Next,
) -> Response {
    let allowed = req
        .headers()
        .get(axum::http::header::ORIGIN)
        .and_then(|o| o.to_str().ok())
        .is_some_and(|o| origins.iter().any(|a| a == o));
    let mut resp = next.run(req).await;
    if !allowed {
        let names: Vec<axum::http::HeaderName> = resp
            .headers()
            .keys()
            .filter(|k| k.as_str().starts_with("access-control-"))
            .cloned()
            .collect();
        for n in names {
            resp.headers_mut().remove(n);
        }
    }
    resp
}

/// A handler that panicked (a bug) still answers, with a 500 in the
/// error shape, instead of dropping the connection; the server goes on.
fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a request handler panicked");
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal error: the request could not be completed",
    )
    .into_response()
}

async fn openapi_json() -> impl IntoResponse {
    axum::Json(openapi::document())
}

async fn metrics_text(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
}

/// Installs the tracing subscriber: JSON lines when
/// `CAVRA_LOG_FORMAT=json`, else human-readable. `RUST_LOG` filters.
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let json = std::env::var("CAVRA_LOG_FORMAT").is_ok_and(|v| v.eq_ignore_ascii_case("json"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if json {
        builder.json().flatten_event(true).try_init()
    } else {
        builder.try_init()
    };
}

/// A running server (tests bind 127.0.0.1:0).
pub struct Server {
    pub addr: SocketAddr,
    shutdown: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Server {
    /// Stops accepting, finishes in-flight requests, flushes the stores.
    pub async fn stop(self) -> anyhow::Result<()> {
        let _ = self.shutdown.send(true);
        self.task.await?
    }
}

/// Binds and serves in the background.
pub async fn start(addr: SocketAddr, state: AppState) -> anyhow::Result<Server> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let (tx, rx) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(serve_on(listener, state, rx));
    Ok(Server {
        addr,
        shutdown: tx,
        task,
    })
}

/// The accept loop: HTTP/1.1 and HTTP/2, a header-read timeout against slow
/// clients, graceful shutdown when `stop` turns true.
async fn serve_on(
    listener: tokio::net::TcpListener,
    state: AppState,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> anyhow::Result<()> {
    use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
    use hyper_util::server::conn::auto::Builder;
    use hyper_util::service::TowerToHyperService;

    let app = app(state.clone());
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(state.config.header_timeout);
    // Idle HTTP/2 connections are pinged; one that does not answer goes.
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(Some(Duration::from_secs(20)))
        .keep_alive_timeout(Duration::from_secs(10));
    let first_byte = state.config.header_timeout;
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, _) = match accepted {
                    Ok(s) => s,
                    Err(e) => {
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let service = TowerToHyperService::new(app.clone());
                let builder = builder.clone();
                let watcher = graceful.watcher();
                tokio::spawn(async move {
                    // A connection that sends nothing at all is closed after
                    // the header timeout too (hyper's starts with the first
                    // byte), so idle sockets cannot use up the descriptors.
                    let mut one = [0u8; 1];
                    if tokio::time::timeout(first_byte, stream.peek(&mut one)).await.is_err() {
                        tracing::debug!("closing a connection that sent nothing");
                        return;
                    }
                    let conn = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
                    if let Err(e) = watcher.watch(conn.into_owned()).await {
                        tracing::debug!(error = %e, "connection ended with an error");
                    }
                });
            }
            changed = stop.changed() => {
                if changed.is_err() || *stop.borrow() {
                    break;
                }
            }
        }
    }
    drop(listener);
    tracing::info!("shutting down: finishing in-flight requests");
    if tokio::time::timeout(Duration::from_secs(30), graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("in-flight requests did not finish within 30 s");
    }
    state.stores.close().await?;
    tracing::info!("stores flushed; bye");
    Ok(())
}

/// `cavra serve`: runs until SIGTERM or SIGINT.
pub async fn run(host: &str, port: u16) -> anyhow::Result<()> {
    init_logging();
    let stores = Stores::from_env().await?;
    let state = AppState::new(stores, Config::from_env());
    let addr: SocketAddr = format!("{host}:{port}")
        .parse()
        .or_else(|_| {
            std::net::ToSocketAddrs::to_socket_addrs(&(host, port))
                .ok()
                .and_then(|mut a| a.next())
                .ok_or(())
        })
        .map_err(|_| anyhow::anyhow!("--host {host}: not an address"))?;
    let spool = cavra_store::spool::spool_path(|k| std::env::var(k).ok(), None);
    let ingest_stores = state.stores.clone();
    ingest_spool(&ingest_stores, &spool).await;
    let server = start(addr, state).await?;
    tracing::info!(addr = %server.addr, "CAVRA API listening");
    eprintln!("CAVRA API listening on http://{}", server.addr);
    let ticker = {
        let stores = ingest_stores.clone();
        let spool = spool.clone();
        tokio::spawn(async move {
            let mut t = tokio::time::interval(std::time::Duration::from_secs(1));
            loop {
                t.tick().await;
                ingest_spool(&stores, &spool).await;
            }
        })
    };
    shutdown_signal().await;
    ticker.abort();
    ingest_spool(&ingest_stores, &spool).await;
    server.stop().await
}

/// Moves decisions recorded by hook processes into the activity store
/// (see `cavra_store::spool`); failures are logged and retried next tick.
async fn ingest_spool(stores: &Stores, spool: &std::path::Path) {
    match cavra_store::spool::ingest(stores, spool).await {
        Ok(r) if r.ingested + r.rejected > 0 => {
            tracing::info!(ingested = r.ingested, rejected = r.rejected, spool = %spool.display(), "hook spool ingested");
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, spool = %spool.display(), "hook spool ingest failed"),
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
