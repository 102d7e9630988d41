//! The gate every request passes before anything costly runs: who is calling (signature,
//! expiry, token version, active, must-change-password), answered with the same codes on
//! every door. [`ROUTES`] lists each route of the router with the gate it passes; the
//! router is built from it, and a test walks it.

use std::sync::Arc;

use axum::{
    Json,
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};

use crate::auth::{AuthUser, Viewer};
use crate::core::error::{AppError, ErrorCode, ErrorReason};
use crate::graphql::state::AppState;

/// What a route asks of its caller before it does any work.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gate {
    /// No viewer is needed (health, metrics, the blank template, GraphiQL's files).
    Open,
    /// GraphQL (POST and GET `/graphql`, each WebSocket operation): the viewer is resolved
    /// here; a token that is sent must be valid; a user who must change their password may
    /// run only `me` and `changePassword` (the pipeline's allow-list).
    GraphQL,
    /// A logged-in, active user with a current token who need not change their password.
    Login,
    /// A photo: [`Gate::Login`] by the `Authorization` header, or a signed link whose viewer
    /// is checked the same way.
    FileLink,
    /// The calendar feed: its own secret token, checked against the account on every fetch.
    CalendarToken,
}

/// One route of the router and its gate.
pub struct Route {
    pub path: &'static str,
    pub gate: Gate,
}

/// Every route the router serves, with its gate.
pub const ROUTES: &[Route] = &[
    Route {
        path: "/graphql",
        gate: Gate::GraphQL,
    },
    Route {
        path: "/graphql/ws",
        gate: Gate::GraphQL,
    },
    Route {
        path: "/graphql/stream",
        gate: Gate::GraphQL,
    },
    Route {
        path: "/uploads",
        gate: Gate::Login,
    },
    Route {
        path: "/healthz",
        gate: Gate::Open,
    },
    Route {
        path: "/metrics",
        gate: Gate::Open,
    },
    Route {
        path: "/graphiql/{file}",
        gate: Gate::Open,
    },
    Route {
        path: "/templates/people.xlsx",
        gate: Gate::Open,
    },
    Route {
        path: "/calendar/{file}",
        gate: Gate::CalendarToken,
    },
    Route {
        path: "/me/personal-data",
        gate: Gate::Login,
    },
    Route {
        path: "/communities/{id}/register.xlsx",
        gate: Gate::Login,
    },
    Route {
        path: "/files/{id}",
        gate: Gate::FileLink,
    },
    Route {
        path: "/files/{id}/thumb",
        gate: Gate::FileLink,
    },
];

pub use crate::auth::{MUST_CHANGE, MUST_CHANGE_REASON, admit};

/// The bearer token of an `Authorization` header value (`Bearer …`, any case).
pub fn bearer(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// The viewer of a token: signature, expiry, issuer and audience, then the account (active,
/// token version) through the viewer cache.
pub async fn user_of_token(state: &AppState, token: &str) -> Result<Arc<AuthUser>, AppError> {
    let (user_id, version) = state.viewers.verify(&state.config, token)?;
    match state.viewers.viewer(&state.db, user_id, version).await {
        // The connection it read on was dead (the pool pings the next one): read again.
        Err(AppError::Unavailable) => state.viewers.viewer(&state.db, user_id, version).await,
        other => other,
    }
}

/// The viewer of a request's `Authorization` header. No header: anonymous. A header that is
/// not a valid token for an active user: `UNAUTHENTICATED`.
pub async fn identify(state: &AppState, headers: &HeaderMap) -> Result<Viewer, AppError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(Viewer::Anonymous);
    };
    let bad = AppError::Unauthenticated(ErrorReason::TokenInvalid);
    let token = value.to_str().ok().and_then(bearer).ok_or(bad)?;
    Ok(Viewer::User(user_of_token(state, token).await?))
}

/// [`Gate::Login`] for a REST route: the caller, or the response refusing them.
pub async fn login(state: &AppState, headers: &HeaderMap) -> Result<Arc<AuthUser>, Response> {
    let viewer = identify(state, headers).await.map_err(|e| refuse(&e))?;
    match viewer {
        Viewer::User(user) => admit(user).map_err(|e| refuse(&e)),
        Viewer::Anonymous => Err(refuse(&AppError::unauthenticated())),
    }
}

/// The HTTP status of an error on a REST route.
pub fn status_of(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::Unauthenticated => StatusCode::UNAUTHORIZED,
        ErrorCode::Forbidden => StatusCode::FORBIDDEN,
        ErrorCode::NotFound => StatusCode::NOT_FOUND,
        ErrorCode::BadUserInput
        | ErrorCode::BadRequest
        | ErrorCode::GraphqlParseFailed
        | ErrorCode::GraphqlValidationFailed => StatusCode::BAD_REQUEST,
        ErrorCode::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        ErrorCode::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::CONFLICT,
    }
}

/// A GraphQL-shaped error body with a status, for failures outside execution; the reason
/// follows from the status and code (a body too large, a malformed request, …).
pub fn coded(status: StatusCode, code: ErrorCode, message: &str) -> Response {
    let reason = match (status, code) {
        (StatusCode::PAYLOAD_TOO_LARGE, _) => Some(ErrorReason::BodyTooLarge),
        (_, ErrorCode::BadUserInput) => Some(ErrorReason::RequestInvalid),
        (_, ErrorCode::Internal) => None,
        (_, ErrorCode::Unavailable) => Some(ErrorReason::DatabaseUnavailable),
        (_, ErrorCode::NotFound) => Some(ErrorReason::RecordNotFound),
        (_, ErrorCode::Forbidden) => Some(ErrorReason::NotAllowed),
        (_, ErrorCode::Unauthenticated) => Some(ErrorReason::AuthenticationRequired),
        _ => Some(ErrorReason::InvalidValue),
    };
    let mut extensions = serde_json::json!({ "code": code.as_str() });
    if let Some(reason) = reason {
        extensions["reason"] = crate::core::error::reason_name(reason).into();
    }
    let body = serde_json::json!({
        "data": null,
        "errors": [{ "message": message, "extensions": extensions }]
    });
    (status, Json(body)).into_response()
}

/// An error of a REST route, coded as GraphQL errors are (with the must-change reason).
pub fn refuse(e: &AppError) -> Response {
    let code = e.code();
    if let AppError::Internal(detail) = e {
        tracing::error!(%detail, "request failed");
    }
    let message = e.message();
    let mut extensions = serde_json::json!({ "code": code.as_str() });
    if let Some(reason) = e.reason() {
        extensions["reason"] = crate::core::error::reason_name(reason).into();
    }
    if let AppError::BadInput {
        field: Some(field), ..
    } = e
    {
        extensions["field"] = (*field).into();
    }
    let body = serde_json::json!({
        "data": null,
        "errors": [{ "message": message, "extensions": extensions }]
    });
    (status_of(code), Json(body)).into_response()
}
