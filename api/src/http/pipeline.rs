//! The GraphQL pipeline of `POST` and `GET /graphql`: the gate (viewer, must-change,
//! budgets), persisted queries, per-request loaders, limits, audit, access log, error codes
//! and null propagation, in that order, once per request.

use std::{collections::HashMap, net::SocketAddr, sync::Arc};

use axum::{
    Json,
    extract::State,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};

use crate::core::config::Config;
use crate::core::error::AppError;
use crate::core::error::ErrorCode;
use crate::graphql::errors;
use crate::graphql::guard;
use crate::graphql::loaders;
use crate::graphql::state::{AppState, ClientAddr};
use crate::http::gate;
use crate::http::graphiql::GraphiqlPage;
use crate::schema::ApiSchema;

/// What every request handler shares: the state and the schemas.
#[derive(Clone)]
pub(crate) struct Shared {
    pub(crate) state: AppState,
    /// For `POST /graphql` (no extensions: the handler guards, codes and audits).
    pub(crate) schema: ApiSchema,
    /// For `POST /graphql` again, for a document already validated without variables, sent
    /// without variables (see [`crate::schema::build_validated_schema`]).
    pub(crate) validated: ApiSchema,
    /// For `/graphql/ws` (the same work done by extensions).
    pub(crate) ws_schema: ApiSchema,
    /// For introspection-only queries (development): no depth limit.
    pub(crate) introspection: Option<ApiSchema>,
    pub(crate) documents: Arc<guard::Documents>,
    /// Automatic persisted queries by hash.
    pub(crate) persisted: Arc<PersistedQueries>,
    /// GraphiQL for `GET /graphql` from a browser (development).
    pub(crate) graphiql: Option<GraphiqlPage>,
}

/// A GraphQL-shaped error response for failures before execution.
fn coded_error(status: StatusCode, code: ErrorCode, message: &str) -> Response {
    gate::coded(status, code, message)
}

/// The client's address: the first `X-Forwarded-For` entry when the configuration trusts
/// it, else the TCP peer (none for in-process requests).
pub(crate) fn client_addr(config: &Config, parts: &axum::http::request::Parts) -> ClientAddr {
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

pub(crate) async fn graphql_handler(
    State(shared): State<Shared>,
    parts: axum::http::request::Parts,
    body: axum::body::Body,
) -> Response {
    let client = client_addr(&shared.state.config, &parts);
    let headers = parts.headers;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    // Files (`Upload`) come as a GraphQL multipart request, up to the upload limit, from a
    // logged-in user who passes the gate: nothing of the body is read before that.
    if content_type.starts_with("multipart/form-data") {
        match gate::identify(&shared.state, &headers).await {
            Ok(crate::auth::Viewer::User(user)) => {
                if let Err(e) = gate::admit(user) {
                    return gate::refuse(&e);
                }
            }
            Ok(crate::auth::Viewer::Anonymous) => {
                return gate::refuse(&AppError::unauthenticated());
            }
            Err(e) => return gate::refuse(&e),
        }
        let config = &shared.state.config;
        let Ok(body) = axum::body::to_bytes(body, config.upload_limit).await else {
            return coded_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                ErrorCode::BadUserInput,
                "上传内容过大",
            );
        };
        match super::upload::check(content_type, &body, MAX_FILES + 2) {
            Ok(()) => {}
            Err(super::upload::Refused::TooManyParts(n)) => {
                return coded_error(
                    StatusCode::BAD_REQUEST,
                    ErrorCode::BadUserInput,
                    &format!("一次最多上传 {} 个文件", n - 2),
                );
            }
            Err(super::upload::Refused::DuplicateName(_)) => {
                return coded_error(
                    StatusCode::BAD_REQUEST,
                    ErrorCode::BadUserInput,
                    "multipart 请求中有重名的部分",
                );
            }
            Err(super::upload::Refused::NotMultipart) => {
                return coded_error(
                    StatusCode::BAD_REQUEST,
                    ErrorCode::BadUserInput,
                    "请求不是有效的 GraphQL multipart 请求",
                );
            }
        }
        let options = async_graphql::http::MultipartOptions::default()
            .max_file_size(config.upload_limit.min(MAX_FILE_BYTES))
            .max_num_files(MAX_FILES);
        let reader = futures_util::io::Cursor::new(body.to_vec());
        return match async_graphql::http::receive_body(Some(content_type), reader, options).await {
            Ok(request) => execute(shared, client, headers, request, None, false).await,
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
    let Ok(body) = axum::body::to_bytes(body, shared.state.config.body_limit).await else {
        return coded_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::BadUserInput,
            "请求体过大",
        );
    };
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
    let document_id = document_id_of(&body);
    execute(shared, client, headers, request, document_id, false).await
}

/// The `documentId` of a JSON body (a trusted document), read only when the body names one.
pub(crate) fn document_id_of(body: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Named {
        #[serde(rename = "documentId")]
        document_id: Option<String>,
    }
    memchr::memmem::find(body, b"documentId")?;
    serde_json::from_slice::<Named>(body)
        .ok()?
        .document_id
        .filter(|id| id.len() <= 200)
}

/// `GET /graphql`: GraphiQL for a browser asking for HTML (development); otherwise a query
/// in the URL (`query`, `variables`, `operationName`, `extensions`), as the GraphQL-over-HTTP
/// specification describes, so that responses can be cached. Mutations are refused (405).
pub(crate) async fn graphql_get(
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
    if wants_html
        && !params.contains_key("query")
        && !params.contains_key("extensions")
        && !params.contains_key("documentId")
    {
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
    let document_id = params
        .get("documentId")
        .filter(|id| id.len() <= 200)
        .cloned();
    execute(shared, client, headers, request, document_id, true).await
}

/// Automatic persisted queries (Apollo's protocol): `extensions.persistedQuery.sha256Hash`
/// stands for the query text; a hash not seen yet answers `PersistedQueryNotFound` and the
/// client sends it again with the text, which is then remembered (bounded: the least
/// recently used leave first).
pub struct PersistedQueries {
    map: crate::core::cache::Bounded<String, Arc<str>>,
}

const PERSISTED_MAX: usize = 2000;
const PERSISTED_MAX_QUERY: usize = 64 * 1024;

impl Default for PersistedQueries {
    fn default() -> Self {
        Self {
            map: crate::core::cache::Bounded::new(PERSISTED_MAX),
        }
    }
}

impl PersistedQueries {
    fn get(&self, hash: &str) -> Option<Arc<str>> {
        self.map.get(hash)
    }

    fn put(&self, hash: String, query: &str) {
        if query.len() > PERSISTED_MAX_QUERY {
            return;
        }
        self.map.put(hash, Arc::from(query));
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
                        "extensions": { "code": "PERSISTED_QUERY_NOT_FOUND", "reason": "PERSISTED_QUERY_UNKNOWN" }
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

/// Replaces a trusted document's id by its text (`documentId`, or a persisted query's hash
/// found among the trusted documents); an id named with `documentId` that is not trusted is
/// refused. Whether a text may run is the schema's [`crate::graphql::trusted::TrustedOnly`] check.
pub(crate) fn trusted_document(
    shared: &Shared,
    request: &mut async_graphql::Request,
    document_id: Option<&str>,
) -> Result<(), Box<Response>> {
    let refuse = || {
        let body = serde_json::json!({ "errors": [crate::graphql::trusted::refusal()] });
        Box::new(Json(body).into_response())
    };
    let trusted = shared.state.config.trusted_documents.as_deref();
    let Some(id) = crate::graphql::trusted::named_id(document_id, request) else {
        return Ok(());
    };
    match trusted.and_then(|t| t.by_id.get(&id)) {
        Some(text) if request.query.trim().is_empty() || request.query == *text => {
            request.query = text.clone();
            request.extensions.remove("persistedQuery");
            Ok(())
        }
        // An id that is not trusted: refused when named as a document id; a persisted
        // query's hash goes on to the automatic persisted queries (development).
        _ if document_id.is_some() => Err(refuse()),
        _ => Ok(()),
    }
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
pub(crate) async fn execute(
    shared: Shared,
    client: ClientAddr,
    headers: HeaderMap,
    mut request: async_graphql::Request,
    document_id: Option<String>,
    is_get: bool,
) -> Response {
    if let Err(response) = trusted_document(&shared, &mut request, document_id.as_deref()) {
        return *response;
    }
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
    let viewer = match gate::identify(&shared.state, &headers).await {
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
            let mut response = gate::refuse(&e);
            *response.status_mut() = StatusCode::OK;
            return response;
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
    // What a read needs to be run again on a fresh connection, should the database drop the
    // one it ran on (a request with files is a mutation, never run again).
    let again = request.uploads.is_empty().then(|| Retry {
        query: request.query.clone(),
        operation_name: request.operation_name.clone(),
        variables: request.variables.clone(),
        viewer: viewer.clone(),
        client: client.clone(),
    });
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
        shared
            .state
            .metrics
            .record(&operation, started.elapsed(), &["BAD_REQUEST".to_owned()]);
        let body = serde_json::json!({
            "errors": [{
                "message": message,
                "extensions": { "code": "BAD_REQUEST", "reason": "INVALID_VARIABLE", "variable": variable }
            }]
        });
        return Json(body).into_response();
    }
    let mut response = match guard_error {
        Some(message) => {
            let mut e = async_graphql::ServerError::new(message, None);
            e.extensions
                .get_or_insert_with(Default::default)
                .set("code", ErrorCode::GraphqlValidationFailed.as_str());
            async_graphql::Response::from_errors(vec![e])
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
            let mut response = loaders::Tracked::new(schema.execute(request), stall).await;
            // A read that lost its database connection runs once more (nothing was written):
            // the pool pings its connections after a loss, so it gets a live one.
            if mutation_fields.is_empty()
                && let Some(again) = again
                && lost_connection(&response)
            {
                let stall = Arc::new(loaders::Stall::default());
                let mut retry = async_graphql::Request::new(again.query)
                    .variables(again.variables)
                    .data(again.viewer)
                    .data(loaders::Loaders::new(
                        shared.state.db.clone(),
                        Some(stall.clone()),
                    ))
                    .data(again.client)
                    .data(access_log.clone());
                retry.operation_name = again.operation_name;
                if let Some(id) = &request_id {
                    retry = retry.data(id.clone());
                }
                if let Some(parsed) = &document {
                    retry.set_parsed_query(parsed.doc.clone());
                }
                tracing::warn!(operation = %operation, "a read lost its database connection: run again");
                response = loaders::Tracked::new(schema.execute(retry), stall).await;
            }
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
        crate::graphql::order::reorder(&mut response.data, &parsed.doc, operation_name.as_deref());
    }
    errors::code_errors(
        &mut response,
        errors::Limits {
            depth: shared.state.config.max_depth,
            complexity: shared.state.config.max_complexity,
        },
    );
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
        let mut sent = graphql_json(
            status,
            &response,
            "application/graphql-response+json; charset=utf-8",
        );
        cache_headers(&mut sent, is_get, user_id.is_some(), &response);
        return sent;
    }
    let mut sent = graphql_json(StatusCode::OK, &response, "application/json");
    cache_headers(&mut sent, is_get, user_id.is_some(), &response);
    sent
}

/// What a shared cache is told of an anonymous GET answer without errors (30 s).
pub const PUBLIC_CACHE: &str = "public, max-age=30";

/// Caching of a GET answer: a viewer's answer is theirs alone (`private, no-store`; it may
/// hold a whole phone number); an anonymous one without errors may be kept by shared caches
/// for 30 s ([`PUBLIC_CACHE`]). Either way it varies by `Authorization`. POST answers are
/// never cached (`no-store`).
fn cache_headers(
    sent: &mut Response,
    is_get: bool,
    logged_in: bool,
    response: &async_graphql::Response,
) {
    let headers = sent.headers_mut();
    let value = if !is_get || logged_in || !response.errors.is_empty() {
        if is_get && logged_in {
            "private, no-store"
        } else {
            "no-store"
        }
    } else {
        PUBLIC_CACHE
    };
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(value));
    headers.insert(header::VARY, HeaderValue::from_static("Authorization"));
}

/// A read to run again (see [`execute`]).
struct Retry {
    query: String,
    operation_name: Option<String>,
    variables: async_graphql::Variables,
    viewer: crate::auth::Viewer,
    client: ClientAddr,
}

/// Whether a response failed because its database connection was lost.
fn lost_connection(response: &async_graphql::Response) -> bool {
    let code = async_graphql::Value::from(ErrorCode::Unavailable.as_str());
    response.errors.iter().any(|e| {
        e.extensions
            .as_ref()
            .and_then(|x| x.get("code"))
            .is_some_and(|c| *c == code)
    })
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

/// A label for logs and metrics when the client named no operation: the operation's name in
/// the document (`query Grids {…}` → `Grids`), else its first root field (`mutation($u: …)
/// { login(…) }` → `login`, never a variable's name).
fn operation_label(query: &str) -> String {
    let head: String = query.chars().take(400).collect();
    let text = head.trim_start();
    let word = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    };
    let mut rest = text;
    for keyword in ["query", "mutation", "subscription"] {
        if let Some(after) = text.strip_prefix(keyword)
            && !after.starts_with(|c: char| c.is_alphanumeric() || c == '_')
        {
            let name = word(after.trim_start());
            if !name.is_empty() {
                return name;
            }
            rest = after;
            break;
        }
    }
    // The first root field: after the selection set's opening brace.
    match rest.find('{') {
        Some(at) => {
            let field = word(rest[at + 1..].trim_start());
            if field.is_empty() {
                "unknown".to_owned()
            } else {
                field
            }
        }
        None => "unknown".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::operation_label;

    #[test]
    fn the_operation_label_is_a_name_or_the_first_root_field() {
        assert_eq!(operation_label("query Grids { grids { id } }"), "Grids");
        assert_eq!(
            operation_label("mutation($u: String!) { login(input: {username: $u}) { token } }"),
            "login"
        );
        assert_eq!(operation_label("{ me { id } }"), "me");
        assert_eq!(
            operation_label("subscription { wishEvents { kind } }"),
            "wishEvents"
        );
        assert_eq!(operation_label(""), "unknown");
    }
}
