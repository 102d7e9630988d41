//! The HTTP application: router, layers, request handling and graceful shutdown.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use axum::{
    Json, Router,
    extract::State,
    http::{HeaderValue, Method, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use tower_http::{
    LatencyUnit,
    catch_panic::CatchPanicLayer,
    cors::{AllowOrigin, Any, CorsLayer},
    limit::RequestBodyLimitLayer,
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    timeout::TimeoutLayer,
    trace::{DefaultOnRequest, DefaultOnResponse, TraceLayer},
};

use crate::auth;
use crate::core::config::Config;
use crate::core::db;
use crate::core::error::ErrorCode;
use crate::graphql::state::AppState;
use crate::http::gate;
use crate::http::graphiql::GraphiqlPage;
use crate::http::pipeline::{Shared, graphql_get, graphql_handler};
use crate::http::rest;

/// A built application: the state and the router, ready to serve.
pub struct Application {
    pub state: AppState,
    pub router: Router,
}

impl Application {
    /// Connects to the database, runs migrations and builds the router.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let graphiql = match &config.graphiql_assets {
            _ if config.is_production() => None,
            Some(dir) => Some(GraphiqlPage::local(dir)?),
            None => Some(GraphiqlPage::cdn()),
        };
        let (conn, statements) = db::connect(&config.database_url).await?;
        db::migrate(&conn).await?;
        // The dummy hash a login of an unknown username is checked against, made now so
        // that the first such login takes no longer than any other.
        auth::dummy_hash()
            .await
            .map_err(|e| anyhow::anyhow!(e.message()))?;
        let state = AppState {
            db: conn,
            config: Arc::new(config),
            statements,
            metrics: Arc::new(crate::core::metrics::Metrics::default()),
            events: crate::core::bus::Bus::default(),
            viewers: Arc::default(),
            person_scopes: Arc::default(),
        };
        if state.db.get_database_backend() == sea_orm::DbBackend::Postgres {
            state
                .events
                .listen_postgres(state.config.database_url.clone());
            state
                .viewers
                .listen_postgres(state.config.database_url.clone());
        }
        crate::account::roles::apply_due(&state.db, crate::core::validate::today())
            .await
            .map_err(|e| anyhow::anyhow!(e.message()))?;
        let router = router(state.clone(), graphiql);
        Ok(Self { state, router })
    }

    /// Serves until Ctrl-C or SIGTERM.
    pub async fn run_until_stopped(self, listener: tokio::net::TcpListener) -> anyhow::Result<()> {
        crate::account::roles::spawn_job(self.state.db.clone());
        crate::incident::rules::spawn_overdue_job(self.state.db.clone(), self.state.events.clone());
        crate::schedule::rules::reminders::spawn_job(
            self.state.db.clone(),
            self.state.events.clone(),
        );
        crate::wish::rules::spawn_expiry_job(self.state.db.clone(), self.state.events.clone());
        crate::notify::sender::spawn(
            self.state.db.clone(),
            self.state.config.clone(),
            self.state.events.clone(),
        );
        crate::files::pending::spawn_housekeeping(
            self.state.db.clone(),
            self.state.config.pending_upload_ttl,
            self.state.config.event_retention,
        );
        axum::serve(
            listener,
            self.router
                .into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown_signal())
        .await?;
        Ok(())
    }

    pub async fn bind(&self) -> anyhow::Result<tokio::net::TcpListener> {
        let addr: SocketAddr = self.state.config.bind;
        Ok(tokio::net::TcpListener::bind(addr).await?)
    }
}

/// The router with every layer; `graphiql` (none in production) is served at `GET /graphql`.
pub fn router(state: AppState, graphiql: Option<GraphiqlPage>) -> Router {
    let config = state.config.clone();
    let schema = crate::schema::build_schema(Some(state.clone()), &config);
    let validated = crate::schema::build_validated_schema(Some(state.clone()), &config);
    let ws_schema = crate::schema::build_ws_schema(Some(state.clone()), &config);
    let introspection = crate::schema::build_introspection_schema(&config);
    let shared = Shared {
        state,
        schema,
        validated,
        ws_schema,
        introspection,
        documents: Arc::default(),
        persisted: Arc::default(),
        graphiql: graphiql.clone(),
    };
    let mut router = Router::new();
    for route in gate::ROUTES {
        let handler: axum::routing::MethodRouter<Shared> = match route.path {
            "/graphql" => axum::routing::post(graphql_handler).get(graphql_get),
            "/graphql/ws" => get(super::ws::graphql_ws),
            "/graphql/stream" => axum::routing::post(super::sse::graphql_stream),
            "/uploads" => axum::routing::post(super::uploads::upload),
            "/healthz" => get(healthz),
            "/metrics" => get(metrics),
            "/graphiql/{file}" => match graphiql.clone() {
                Some(page) => get(move |name| async move { page.file(name) }),
                None => continue,
            },
            "/templates/people.xlsx" => get(rest::people_template),
            "/calendar/{file}" => get(rest::calendar),
            "/me/personal-data" => get(rest::personal_data),
            "/communities/{id}/register.xlsx" => get(rest::community_register),
            "/files/{id}" => get(rest::file),
            "/files/{id}/thumb" => get(rest::file_thumbnail),
            other => {
                tracing::error!(route = other, gate = ?route.gate, "a route of the table has no handler");
                continue;
            }
        };
        router = router.route(route.path, handler);
    }
    router
        .with_state(shared)
        // The limit is the layer below (and the handler's own per kind of request), not
        // axum's default of 2 MB for a buffered body.
        .layer(axum::extract::DefaultBodyLimit::disable())
        .layer(RequestBodyLimitLayer::new(config.body_limit.max(config.upload_limit)))
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, config.request_timeout))
        .layer(cors(&config))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &axum::http::Request<_>| {
            let id = req
                .headers()
                .get("x-request-id")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("-");
            tracing::info_span!("request", method = %req.method(), uri = %req.uri().path(), request_id = %id)
        })
        .on_response(DefaultOnResponse::new().level(tracing::Level::INFO).latency_unit(LatencyUnit::Millis))
        .on_request(DefaultOnRequest::new().level(tracing::Level::DEBUG)))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .layer(CatchPanicLayer::custom(|_: Box<dyn std::any::Any + Send>| {
            tracing::error!("panic while handling a request");
            gate::coded(StatusCode::INTERNAL_SERVER_ERROR, ErrorCode::Internal, crate::core::error::INTERNAL_MESSAGE)
        }))
}

fn cors(config: &Config) -> CorsLayer {
    let layer = CorsLayer::new()
        .allow_methods([Method::GET, Method::POST, Method::OPTIONS])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
        .max_age(Duration::from_secs(3600));
    if config.cors_origins.is_empty() {
        layer.allow_origin(Any)
    } else {
        let origins: Vec<HeaderValue> = config
            .cors_origins
            .iter()
            .filter_map(|o| o.parse().ok())
            .collect();
        layer.allow_origin(AllowOrigin::list(origins))
    }
}

async fn metrics(State(shared): State<Shared>) -> Response {
    let db = &shared.state.db;
    let (size, idle) = match db.get_database_backend() {
        sea_orm::DbBackend::Postgres => {
            let p = db.get_postgres_connection_pool();
            (p.size(), p.num_idle())
        }
        _ => {
            let p = db.get_sqlite_connection_pool();
            (p.size(), p.num_idle())
        }
    };
    let body = shared
        .state
        .metrics
        .render(shared.state.statements.get(), size, idle);
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response()
}

async fn healthz(State(shared): State<Shared>) -> Response {
    match shared.state.db.ping().await {
        Ok(()) => (StatusCode::OK, Json(serde_json::json!({ "status": "ok" }))).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "health check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(serde_json::json!({ "status": "unavailable" })),
            )
                .into_response()
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
