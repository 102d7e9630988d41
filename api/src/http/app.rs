//! The HTTP application: router, layers, request handling and graceful shutdown.

use std::{collections::HashMap, net::SocketAddr, sync::Arc, time::Duration};

use axum::{
    Json, Router,
    body::Bytes,
    extract::State,
    http::{HeaderMap, HeaderValue, Method, StatusCode, header},
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
use crate::auth::Viewer;
use crate::core::config::Config;
use crate::core::db;
use crate::core::error::AppError;
use crate::core::error::ErrorCode;
use crate::core::state::{AppState, ClientAddr};
use crate::graphql;
use crate::graphql::ApiSchema;
use crate::graphql::errors;
use crate::graphql::guard;
use crate::graphql::loaders;
use crate::http::graphiql::GraphiqlPage;

#[derive(Clone)]
struct Shared {
    state: AppState,
    /// For `POST /graphql` (no extensions: the handler guards, codes and audits).
    schema: ApiSchema,
    /// For `POST /graphql` again, for a document already validated without variables, sent
    /// without variables (see [`graphql::build_validated_schema`]).
    validated: ApiSchema,
    /// For `/graphql/ws` (the same work done by extensions).
    ws_schema: ApiSchema,
    /// For introspection-only queries (development): no depth limit.
    introspection: Option<ApiSchema>,
    documents: Arc<guard::Documents>,
    /// Automatic persisted queries by hash.
    persisted: Arc<PersistedQueries>,
    /// GraphiQL for `GET /graphql` from a browser (development).
    graphiql: Option<GraphiqlPage>,
}

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
            metrics: Arc::new(crate::http::metrics::Metrics::default()),
            events: crate::events::Events::default(),
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
    let schema = graphql::build_schema(Some(state.clone()), &config);
    let validated = graphql::build_validated_schema(Some(state.clone()), &config);
    let ws_schema = graphql::build_ws_schema(Some(state.clone()), &config);
    let introspection = graphql::build_introspection_schema(&config);
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
    let graphql_route = axum::routing::post(graphql_handler).get(graphql_get);
    if let Some(page) = graphiql {
        router = router.route(
            "/graphiql/{file}",
            get(move |name| async move { page.file(name) }),
        );
    }
    router
        .route("/graphql", graphql_route)
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/graphql/ws", get(graphql_ws))
        .route("/calendar/{file}", get(calendar))
        .route("/me/personal-data", get(personal_data))
        .route("/templates/people.xlsx", get(people_template))
        .route("/communities/{id}/register.xlsx", get(community_register))
        .route("/files/{id}", get(file))
        .route("/files/{id}/thumb", get(file_thumbnail))
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
            coded_error(StatusCode::INTERNAL_SERVER_ERROR, ErrorCode::Internal, crate::core::error::INTERNAL_MESSAGE)
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

/// A GraphQL-shaped error response for failures before execution.
fn coded_error(status: StatusCode, code: ErrorCode, message: &str) -> Response {
    let body = serde_json::json!({
        "data": null,
        "errors": [{ "message": message, "extensions": { "code": code.as_str() } }]
    });
    (status, Json(body)).into_response()
}

/// Resolves the viewer from the `Authorization` header. No header: anonymous. A header that
/// is not a valid token for an active user: `UNAUTHENTICATED`.
async fn viewer_from_headers(state: &AppState, headers: &HeaderMap) -> Result<Viewer, AppError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(Viewer::Anonymous);
    };
    let bad = AppError::Unauthenticated("登录凭证无效或已过期，请重新登录");
    let value = value.to_str().map_err(|_| bad.clone())?;
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or(bad)?;
    let (user_id, version) = state.viewers.verify(&state.config, token)?;
    let user = state.viewers.viewer(&state.db, user_id, version).await?;
    Ok(Viewer::User(user))
}

/// The client's address: the first `X-Forwarded-For` entry when the configuration trusts
/// it, else the TCP peer (none for in-process requests).
fn client_addr(config: &Config, parts: &axum::http::request::Parts) -> ClientAddr {
    if config.trust_forwarded_for
        && let Some(first) = parts
            .headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .map(str::trim)
            .filter(|v| !v.is_empty())
    {
        return ClientAddr(Some(first.chars().take(64).collect()));
    }
    ClientAddr(
        parts
            .extensions
            .get::<axum::extract::ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip().to_string()),
    )
}

async fn graphql_handler(
    State(shared): State<Shared>,
    parts: axum::http::request::Parts,
    body: Bytes,
) -> Response {
    let client = client_addr(&shared.state.config, &parts);
    let headers = parts.headers;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    // Files (`Upload`) come as a GraphQL multipart request, up to the upload limit; every
    // other request is JSON, up to the body limit.
    if content_type.starts_with("multipart/form-data") {
        let config = &shared.state.config;
        let options = async_graphql::http::MultipartOptions::default()
            .max_file_size(config.upload_limit.min(MAX_FILE_BYTES))
            .max_num_files(MAX_FILES);
        let reader = futures_util::io::Cursor::new(body.to_vec());
        return match async_graphql::http::receive_body(Some(content_type), reader, options).await {
            Ok(request) => execute(shared, client, headers, request, false).await,
            Err(async_graphql::ParseRequestError::PayloadTooLarge) => coded_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                ErrorCode::BadUserInput,
                "文件过大",
            ),
            Err(_) => coded_error(
                StatusCode::BAD_REQUEST,
                ErrorCode::BadUserInput,
                "请求不是有效的 GraphQL multipart 请求",
            ),
        };
    }
    if body.len() > shared.state.config.body_limit {
        return coded_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::BadUserInput,
            "请求体过大",
        );
    }
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    if first == Some(&b'[') {
        return coded_error(
            StatusCode::BAD_REQUEST,
            ErrorCode::BadUserInput,
            "不支持批量请求",
        );
    }
    let request: async_graphql::Request = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(_) => {
            return coded_error(
                StatusCode::BAD_REQUEST,
                ErrorCode::BadUserInput,
                "请求体不是有效的 GraphQL JSON",
            );
        }
    };
    execute(shared, client, headers, request, false).await
}

/// `GET /graphql`: GraphiQL for a browser asking for HTML (development); otherwise a query
/// in the URL (`query`, `variables`, `operationName`, `extensions`), as the GraphQL-over-HTTP
/// specification describes, so that responses can be cached. Mutations are refused (405).
async fn graphql_get(
    State(shared): State<Shared>,
    axum::extract::Query(params): axum::extract::Query<HashMap<String, String>>,
    parts: axum::http::request::Parts,
) -> Response {
    let client = client_addr(&shared.state.config, &parts);
    let headers = parts.headers;
    let wants_html = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"));
    if wants_html && !params.contains_key("query") && !params.contains_key("extensions") {
        return match &shared.graphiql {
            Some(page) => page.page().into_response(),
            None => StatusCode::NOT_FOUND.into_response(),
        };
    }
    let json_param = |name: &str| -> Result<Option<serde_json::Value>, Box<Response>> {
        match params.get(name) {
            None => Ok(None),
            Some(text) => serde_json::from_str(text).map(Some).map_err(|_| {
                Box::new(coded_error(
                    StatusCode::BAD_REQUEST,
                    ErrorCode::BadUserInput,
                    &format!("参数 {name} 不是有效的 JSON"),
                ))
            }),
        }
    };
    let variables = match json_param("variables") {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let extensions = match json_param("extensions") {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let body = serde_json::json!({
        "query": params.get("query").cloned().unwrap_or_default(),
        "operationName": params.get("operationName"),
        "variables": variables,
        "extensions": extensions,
    });
    let request: async_graphql::Request = match serde_json::from_value(body) {
        Ok(r) => r,
        Err(_) => {
            return coded_error(
                StatusCode::BAD_REQUEST,
                ErrorCode::BadUserInput,
                "请求参数无效",
            );
        }
    };
    execute(shared, client, headers, request, true).await
}

/// Automatic persisted queries (Apollo's protocol): `extensions.persistedQuery.sha256Hash`
/// stands for the query text; a hash not seen yet answers `PersistedQueryNotFound` and the
/// client sends it again with the text, which is then remembered (bounded, oldest first out).
#[derive(Default)]
pub struct PersistedQueries {
    inner: std::sync::Mutex<PersistedMap>,
}

/// Queries by hash, and the hashes oldest first.
type PersistedMap = (
    HashMap<String, Arc<str>>,
    std::collections::VecDeque<String>,
);

const PERSISTED_MAX: usize = 2000;
const PERSISTED_MAX_QUERY: usize = 64 * 1024;

impl PersistedQueries {
    fn get(&self, hash: &str) -> Option<Arc<str>> {
        let map = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        map.0.get(hash).cloned()
    }

    fn put(&self, hash: String, query: &str) {
        if query.len() > PERSISTED_MAX_QUERY {
            return;
        }
        let mut guard = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let (map, order) = &mut *guard;
        if map.contains_key(&hash) {
            return;
        }
        while map.len() >= PERSISTED_MAX {
            match order.pop_front() {
                Some(old) => {
                    map.remove(&old);
                }
                None => break,
            }
        }
        order.push_back(hash.clone());
        map.insert(hash, Arc::from(query));
    }
}

fn sha256_hex(text: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Resolves an automatic persisted query; `Err` is the response to send.
fn persisted(shared: &Shared, request: &mut async_graphql::Request) -> Result<(), Box<Response>> {
    let Some(pq) = request.extensions.get("persistedQuery") else {
        return Ok(());
    };
    let pq = serde_json::to_value(pq).unwrap_or_default();
    let Some(hash) = pq["sha256Hash"].as_str().map(str::to_lowercase) else {
        return Err(Box::new(coded_error(
            StatusCode::BAD_REQUEST,
            ErrorCode::BadUserInput,
            "persistedQuery 缺少 sha256Hash",
        )));
    };
    if request.query.is_empty() {
        return match shared.persisted.get(&hash) {
            Some(q) => {
                request.query = q.to_string();
                Ok(())
            }
            None => {
                let body = serde_json::json!({
                    "errors": [{
                        "message": "PersistedQueryNotFound",
                        "extensions": { "code": "PERSISTED_QUERY_NOT_FOUND" }
                    }]
                });
                Err(Box::new(Json(body).into_response()))
            }
        };
    }
    if sha256_hex(&request.query) != hash {
        return Err(Box::new(coded_error(
            StatusCode::BAD_REQUEST,
            ErrorCode::BadUserInput,
            "persistedQuery 的 sha256Hash 与查询不符",
        )));
    }
    shared.persisted.put(hash, &request.query);
    Ok(())
}

/// The marker async-graphql puts in a variable for an uploaded file.
const UPLOAD_MARKER: &str = "#__graphql_file__:";

/// The largest file of a multipart request (a spreadsheet; photos are held to 5 MB by their
/// rule, with a coded error).
const MAX_FILE_BYTES: usize = 10 * 1024 * 1024;
/// The most files of one multipart request (a wish's fulfilment photos).
const MAX_FILES: usize = 9;

/// Whether every file a request refers to was uploaded with it. async-graphql trusts the
/// marker it writes for a multipart file and would panic on one a client wrote itself (in
/// the document, or a variable pointing at no file), so such requests stop here.
fn uploads_are_sound(request: &async_graphql::Request) -> bool {
    fn sound(value: &async_graphql::Value, files: usize) -> bool {
        use async_graphql::Value;
        match value {
            Value::String(s) => s
                .strip_prefix(UPLOAD_MARKER)
                .is_none_or(|i| i.parse::<usize>().is_ok_and(|i| i < files)),
            Value::List(items) => items.iter().all(|v| sound(v, files)),
            Value::Object(fields) => fields.values().all(|v| sound(v, files)),
            _ => true,
        }
    }
    !request.query.contains(UPLOAD_MARKER)
        && request
            .variables
            .iter()
            .all(|(_, v)| sound(v, request.uploads.len()))
}

/// Runs one GraphQL request (from a POST body or a GET URL) with the viewer, loaders, guards,
/// audit, error codes and non-null propagation, and answers in the media type asked for.
async fn execute(
    shared: Shared,
    client: ClientAddr,
    headers: HeaderMap,
    mut request: async_graphql::Request,
    is_get: bool,
) -> Response {
    if let Err(response) = persisted(&shared, &mut request) {
        return *response;
    }
    if !uploads_are_sound(&request) {
        return coded_error(
            StatusCode::BAD_REQUEST,
            ErrorCode::BadUserInput,
            "文件须以 GraphQL multipart 请求上传",
        );
    }
    let graphql_response_json = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("application/graphql-response+json"));
    let started = std::time::Instant::now();
    let operation = request
        .operation_name
        .clone()
        .unwrap_or_else(|| operation_label(&request.query));
    let request_id_text = headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-")
        .to_owned();
    let viewer = match viewer_from_headers(&shared.state, &headers).await {
        Ok(v) => v,
        Err(e) => {
            let code = e.code();
            if code == ErrorCode::Internal {
                tracing::error!(?e, "resolving viewer failed");
            }
            shared
                .state
                .metrics
                .record(&operation, started.elapsed(), &[code.as_str().to_owned()]);
            return coded_error(StatusCode::OK, code, &e.message());
        }
    };
    let user_id = viewer.user().map(|u| u.id());
    let viewer_must_change = viewer.user().map(|u| u.user.must_change_password);
    let stall = Arc::new(loaders::Stall::default());
    let loader = loaders::Loaders::new(shared.state.db.clone(), Some(stall.clone()));
    let request_id = headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(|v| crate::graphql::guard::RequestId(v.to_owned()));
    let access_log = Arc::new(crate::account::privacy::AccessLog::default());
    let mut request = request
        .data(viewer)
        .data(loader)
        .data(client)
        .data(access_log.clone());
    // Parsed here (or found parsed) and handed to the schema; a parse error is left to the
    // schema, which reports it.
    let operation_name = request.operation_name.clone();
    let (guard_error, mutation_fields, document) = match shared.documents.get(&request.query) {
        Some(parsed) => {
            let fields = guard::mutation_fields(&parsed.doc, request.operation_name.as_deref());
            request.set_parsed_query(parsed.doc.clone());
            (parsed.refused.clone(), fields, Some(parsed))
        }
        None => (None, Vec::new(), None),
    };
    // GET never changes anything (GraphQL over HTTP): a mutation is 405.
    if is_get
        && let Some(parsed) = &document
        && guard::is_mutation(&parsed.doc, operation_name.as_deref())
    {
        let mut response = coded_error(
            StatusCode::METHOD_NOT_ALLOWED,
            ErrorCode::BadUserInput,
            "修改操作须用 POST 提交",
        );
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST"));
        return response;
    }
    // After a password reset, nothing but changing it (and `me`) until the user does.
    if let Some(user) = viewer_must_change.as_ref()
        && *user
        && document.as_ref().is_none_or(|p| {
            !guard::allowed_before_password_change(&p.doc, operation_name.as_deref())
        })
    {
        let body = serde_json::json!({
            "data": null,
            "errors": [{
                "message": "密码已被重置，请先修改密码",
                "extensions": { "code": "FORBIDDEN", "reason": "PASSWORD_CHANGE_REQUIRED" }
            }]
        });
        return Json(body).into_response();
    }
    // Variables a client forgot or typed wrongly are named before anything runs.
    if guard_error.is_none()
        && let Some(parsed) = &document
        && let Some((variable, message)) =
            guard::check_variables(&parsed.doc, operation_name.as_deref(), &request.variables)
    {
        shared.state.metrics.record(
            &operation,
            started.elapsed(),
            &["BAD_USER_INPUT".to_owned()],
        );
        let body = serde_json::json!({
            "errors": [{
                "message": message,
                "extensions": { "code": "BAD_USER_INPUT", "variable": variable }
            }]
        });
        return Json(body).into_response();
    }
    let mut response = match guard_error {
        Some(message) => {
            async_graphql::Response::from_errors(vec![async_graphql::ServerError::new(
                message, None,
            )])
        }
        None => {
            if let Some(id) = &request_id {
                request = request.data(id.clone());
            }
            let introspection_only = document
                .as_ref()
                .is_some_and(|p| guard::only_introspection(&p.doc, operation_name.as_deref()));
            let without_variables = request.variables.is_empty();
            let validated = without_variables
                && document
                    .as_ref()
                    .is_some_and(|p| p.valid_without_variables());
            let schema = match (&shared.introspection, introspection_only) {
                (Some(meta), true) => meta,
                _ if validated => &shared.validated,
                _ => &shared.schema,
            };
            let response = loaders::Tracked::new(schema.execute(request), stall).await;
            // Data (even partial) means the document passed validation.
            if without_variables
                && !validated
                && response.data != async_graphql::Value::Null
                && let Some(parsed) = &document
            {
                parsed.passed_without_variables();
            }
            response
        }
    };
    // A mutation may have changed users (their roles, password, active flag): the next
    // request of anyone reads their row again, whether or not the announcement arrived.
    if !mutation_fields.is_empty() {
        shared.state.viewers.check_all();
    }
    // The unmasked views of other people's phones and addresses, in one statement.
    if let Err(e) = access_log
        .flush(&shared.state.db, request_id.as_ref().map(|r| r.0.as_str()))
        .await
    {
        tracing::error!(error = %e.message(), "personal-data access not logged");
    }
    // Only a mutation that ran is audited: one refused by the guard, a limit or validation
    // changed nothing.
    let ran = !mutation_fields.is_empty() && guard::executed(&response);
    if let (true, Some(user_id)) = (ran, user_id) {
        let request_id = request_id.map(|r| r.0);
        guard::audit(
            &shared.state,
            user_id,
            request_id,
            mutation_fields,
            &response,
        )
        .await;
    }
    if let Some(parsed) = &document {
        crate::graphql::nulls::propagate(&mut response, &parsed.doc, operation_name.as_deref())
            .await;
    }
    errors::code_errors(&mut response);
    let codes: Vec<String> = response
        .errors
        .iter()
        .filter_map(|e| e.extensions.as_ref().and_then(|x| x.get("code")))
        .map(|c| c.to_string().trim_matches('"').to_owned())
        .collect();
    let elapsed = started.elapsed();
    shared.state.metrics.record(&operation, elapsed, &codes);
    // One structured line per request; never the token, the query text or variables.
    tracing::info!(
        request_id = %request_id_text,
        operation = %operation,
        user_id = ?user_id,
        duration_ms = elapsed.as_secs_f64() * 1000.0,
        errors = ?codes,
        "graphql"
    );
    if graphql_response_json {
        // application/graphql-response+json: a request error (nothing executed, no data) is
        // 400; a response with data is 200.
        let request_error = response.data == async_graphql::Value::Null
            && !response.errors.is_empty()
            && response.errors.iter().all(|e| e.path.is_empty());
        let status = if request_error {
            StatusCode::BAD_REQUEST
        } else {
            StatusCode::OK
        };
        return graphql_json(
            status,
            &response,
            "application/graphql-response+json; charset=utf-8",
        );
    }
    graphql_json(StatusCode::OK, &response, "application/json")
}

/// A GraphQL response as JSON, written into a buffer sized for a page at once (axum's `Json`
/// starts at 128 bytes and copies the body each time it outgrows it; a wish wall of 20 is
/// about 6 KB).
fn graphql_json(
    status: StatusCode,
    response: &async_graphql::Response,
    content_type: &'static str,
) -> Response {
    let mut body = Vec::with_capacity(8 * 1024);
    match serde_json::to_writer(&mut body, response) {
        Ok(()) => (
            status,
            [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))],
            body,
        )
            .into_response(),
        Err(e) => {
            tracing::error!(%e, "writing a response failed");
            coded_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                ErrorCode::Internal,
                crate::core::error::INTERNAL_MESSAGE,
            )
        }
    }
}

/// GET /calendar/{token}.ics: a student's upcoming shifts as iCalendar.
async fn calendar(
    State(shared): State<Shared>,
    axum::extract::Path(file): axum::extract::Path<String>,
) -> Response {
    let Some(token) = file
        .strip_suffix(".ics")
        .filter(|t| !t.is_empty() && t.len() <= 128)
    else {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    };
    match crate::schedule::rules::calendar_feed(&shared.state.db, token).await {
        Ok(Some(body)) => (
            [
                (header::CONTENT_TYPE, "text/calendar; charset=utf-8"),
                (header::CACHE_CONTROL, "private, max-age=300"),
            ],
            body,
        )
            .into_response(),
        Ok(None) => (StatusCode::NOT_FOUND, "not found").into_response(),
        Err(e) => {
            if let AppError::Internal(detail) = &e {
                tracing::error!(%detail, "calendar feed failed");
            }
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}

/// `GET /me/personal-data` with `Authorization: Bearer …`: everything held about the caller
/// (`myPersonalData`, every field) as a JSON file to keep. Runs the same query through the
/// same policies as `POST /graphql`; errors are answered as GraphQL errors are.
async fn personal_data(
    State(shared): State<Shared>,
    parts: axum::http::request::Parts,
) -> Response {
    let client = client_addr(&shared.state.config, &parts);
    if !parts.headers.contains_key(header::AUTHORIZATION) {
        return coded_error(
            StatusCode::UNAUTHORIZED,
            ErrorCode::Unauthenticated,
            "请先登录",
        );
    }
    let request = async_graphql::Request::new(crate::account::privacy_schema::DOWNLOAD_QUERY);
    let response = execute(shared, client, parts.headers, request, false).await;
    let (head, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return coded_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::Internal,
            crate::core::error::INTERNAL_MESSAGE,
        );
    };
    let parsed: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
    let data = &parsed["data"]["myPersonalData"];
    if data.is_null() || parsed.get("errors").is_some_and(|e| !e.is_null()) {
        return Response::from_parts(head, axum::body::Body::from(bytes));
    }
    let username = data["profile"]["username"].as_str().unwrap_or("me");
    let file: String = username
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let body = serde_json::to_vec_pretty(data).unwrap_or_default();
    (
        [
            (
                header::CONTENT_TYPE,
                "application/json; charset=utf-8".to_owned(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"lianxin-personal-data-{file}.json\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        body,
    )
        .into_response()
}

/// `GET /templates/people.xlsx`: the spreadsheet `importPeople` reads, with an example row
/// and the columns explained.
async fn people_template() -> Response {
    match crate::account::register::template() {
        Ok(bytes) => xlsx_file("people.xlsx", bytes),
        Err(e) => app_error(&e),
    }
}

/// `GET /communities/{id}/register.xlsx` with `Authorization: Bearer …` (ADMIN; staff of the
/// community): the community's register of people.
async fn community_register(
    State(shared): State<Shared>,
    axum::extract::Path(id): axum::extract::Path<String>,
    headers: HeaderMap,
) -> Response {
    let viewer = match viewer_from_headers(&shared.state, &headers).await {
        Ok(v) => v,
        Err(e) => return app_error(&e),
    };
    let result = async {
        let actor = viewer.require()?;
        let id = crate::core::validate::id("id", &id)?;
        crate::account::register::register(&shared.state.db, actor, id).await
    }
    .await;
    match result {
        Ok(bytes) => xlsx_file(&format!("register-{id}.xlsx"), bytes),
        Err(e) => app_error(&e),
    }
}

/// A photo's query: its signed link.
#[derive(serde::Deserialize)]
struct FileQuery {
    access: Option<String>,
}

/// `GET /files/{id}`: a photo, to a viewer who may see what it belongs to (by the link's
/// viewer, or the `Authorization` header).
async fn file(
    State(shared): State<Shared>,
    axum::extract::Path(id): axum::extract::Path<String>,
    axum::extract::Query(q): axum::extract::Query<FileQuery>,
    headers: HeaderMap,
) -> Response {
    serve_file(shared, id, q, headers, false).await
}

/// `GET /files/{id}/thumb`: a photo's thumbnail, under the same rule.
async fn file_thumbnail(
    State(shared): State<Shared>,
    axum::extract::Path(id): axum::extract::Path<String>,
    axum::extract::Query(q): axum::extract::Query<FileQuery>,
    headers: HeaderMap,
) -> Response {
    serve_file(shared, id, q, headers, true).await
}

async fn serve_file(
    shared: Shared,
    id: String,
    q: FileQuery,
    headers: HeaderMap,
    thumbnail: bool,
) -> Response {
    let result = async {
        let id = crate::core::validate::id("id", &id)?;
        let viewer = match q.access.as_deref() {
            Some(token) => match auth::verify_file_link(&shared.state.config, token, id)? {
                Some((user, version)) => Viewer::User(
                    shared
                        .state
                        .viewers
                        .viewer(&shared.state.db, user, version)
                        .await?,
                ),
                None => Viewer::Anonymous,
            },
            None => viewer_from_headers(&shared.state, &headers).await?,
        };
        photo_for(&shared.state.db, viewer.user(), id, thumbnail).await
    }
    .await;
    match result {
        Ok((media_type, bytes)) => (
            [
                (header::CONTENT_TYPE, media_type),
                (header::CACHE_CONTROL, "private, max-age=3600".to_owned()),
                (
                    header::HeaderName::from_static("x-content-type-options"),
                    "nosniff".to_owned(),
                ),
            ],
            bytes,
        )
            .into_response(),
        Err(e) => app_error(&e),
    }
}

/// A photo's bytes (or its thumbnail's) and media type, for a viewer who may see what it
/// belongs to: the incident's policy or the wish's. Anyone else is told it does not exist
/// (or to log in, when anonymous).
async fn photo_for(
    db: &sea_orm::DatabaseConnection,
    viewer: Option<&auth::AuthUser>,
    id: i64,
    thumbnail: bool,
) -> Result<(String, Vec<u8>), AppError> {
    use crate::core::db::get;
    let file = crate::files::rules::find(db, id).await?;
    let allowed = match (file.incident_id, file.wish_id) {
        (Some(i), _) => {
            let i = get::<entity::incident::Entity, _>(db, i, "文件不存在").await?;
            crate::incident::policy::may_see(viewer, &i)
        }
        (None, Some(w)) => {
            let w = get::<entity::wish::Entity, _>(db, w, "文件不存在").await?;
            crate::wish::policy::scope(viewer).admits(&w)
        }
        (None, None) => false,
    };
    if !allowed {
        return Err(if viewer.is_none() {
            AppError::unauthenticated()
        } else {
            AppError::NotFound("文件不存在")
        });
    }
    Ok(if thumbnail {
        let media = if file.thumbnail.starts_with(b"\x89PNG") {
            "image/png"
        } else {
            "image/jpeg"
        };
        (media.to_owned(), file.thumbnail)
    } else {
        (file.media_type, file.content)
    })
}

fn xlsx_file(name: &str, bytes: Vec<u8>) -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_owned(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        bytes,
    )
        .into_response()
}

/// An error of a non-GraphQL route, coded as GraphQL errors are.
fn app_error(e: &AppError) -> Response {
    let code = e.code();
    if let AppError::Internal(detail) = e {
        tracing::error!(%detail, "request failed");
    }
    let status = match code {
        ErrorCode::Unauthenticated => StatusCode::UNAUTHORIZED,
        ErrorCode::Forbidden => StatusCode::FORBIDDEN,
        ErrorCode::NotFound => StatusCode::NOT_FOUND,
        ErrorCode::BadUserInput => StatusCode::BAD_REQUEST,
        ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::CONFLICT,
    };
    coded_error(status, code, &e.message())
}

/// GraphQL subscriptions over WebSocket (graphql-transport-ws). The token goes in the
/// `connection_init` payload: `{"Authorization": "Bearer <token>"}` (also `authorization`,
/// `authToken` or `token`). A refused token closes the socket with graphql-ws's 4403
/// Forbidden.
async fn graphql_ws(
    State(shared): State<Shared>,
    upgrade: axum::extract::WebSocketUpgrade,
) -> Response {
    use axum::extract::ws::{CloseFrame, Message};
    use futures_util::{SinkExt, StreamExt};
    let schema = shared.ws_schema.clone();
    let state = shared.state.clone();
    let upgrade = upgrade.protocols(async_graphql::http::ALL_WEBSOCKET_PROTOCOLS);
    let protocol = upgrade
        .selected_protocol()
        .and_then(|p| p.to_str().ok())
        .and_then(|p| p.parse::<async_graphql::http::WebSocketProtocols>().ok())
        .unwrap_or(async_graphql::http::WebSocketProtocols::GraphQLWS);
    upgrade.on_upgrade(move |socket| async move {
        let (mut sink, source) = socket.split();
        let input = source
            .take_while(|m| std::future::ready(m.is_ok()))
            .filter_map(|m| {
                std::future::ready(match m {
                    Ok(m @ (Message::Text(_) | Message::Binary(_))) => Some(m.into_data()),
                    _ => None,
                })
            });
        let refused = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = refused.clone();
        let init = move |payload: serde_json::Value| async move {
            let token = ["Authorization", "authorization", "authToken", "token"]
                .iter()
                .find_map(|k| payload.get(*k).and_then(|v| v.as_str()))
                .map(|v| v.trim_start_matches("Bearer ").trim().to_owned());
            let viewer = match token {
                None => Viewer::Anonymous,
                Some(t) => {
                    let user = match state.viewers.verify(&state.config, &t) {
                        Ok((uid, version)) => state.viewers.viewer(&state.db, uid, version).await,
                        Err(e) => Err(e),
                    };
                    let user = user.and_then(|u| {
                        if u.user.must_change_password {
                            Err(AppError::Forbidden("密码已被重置，请先修改密码"))
                        } else {
                            Ok(u)
                        }
                    });
                    match user {
                        Ok(user) => Viewer::User(user),
                        Err(e) => {
                            flag.store(true, std::sync::atomic::Ordering::SeqCst);
                            return Err(async_graphql::Error::from(e));
                        }
                    }
                }
            };
            let mut data = async_graphql::Data::default();
            data.insert(viewer);
            data.insert(loaders::Loaders::new(state.db.clone(), None));
            Ok(data)
        };
        let output = async_graphql::http::WebSocket::new(schema, input, protocol)
            .on_connection_init(init)
            .map(|msg| match msg {
                async_graphql::http::WsMessage::Text(text) => Message::Text(text.into()),
                async_graphql::http::WsMessage::Close(code, reason) => {
                    let (code, reason) = if refused.load(std::sync::atomic::Ordering::SeqCst) {
                        (4403, "Forbidden".to_owned())
                    } else {
                        (code, reason)
                    };
                    Message::Close(Some(CloseFrame {
                        code,
                        reason: reason.into(),
                    }))
                }
            });
        futures_util::pin_mut!(output);
        while let Some(item) = output.next().await {
            if sink.send(item).await.is_err() {
                break;
            }
        }
    })
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

/// A label for logs and metrics when the client named no operation: the operation's name in
/// the document (`query Grids {…}` → `Grids`), else its first root field.
fn operation_label(query: &str) -> String {
    let words = |s: &str| -> Vec<String> {
        s.split(|c: char| !(c.is_alphanumeric() || c == '_'))
            .filter(|w| !w.is_empty())
            .take(3)
            .map(str::to_owned)
            .collect()
    };
    let head: String = query.chars().take(200).collect();
    let w = words(&head);
    match w.first().map(String::as_str) {
        Some("query" | "mutation" | "subscription") => w.get(1).cloned().unwrap_or_default(),
        Some(first) => first.to_owned(),
        None => "unknown".to_owned(),
    }
}
