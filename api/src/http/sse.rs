//! GraphQL over Server-Sent Events (the `graphql-sse` protocol, distinct connections mode):
//! `POST /graphql/stream` with a GraphQL JSON body (`documentId` for a trusted document too)
//! and `Authorization: Bearer …`, answered `text/event-stream`.
//!
//! Framing (the same bytes for an `EventSource`-like client and for a plain chunked reader
//! such as `wx.request({enableChunked: true})`): each result is
//! `event: next\ndata: <one line of JSON>\n\n`; the end is `event: complete\ndata:\n\n`; a
//! line `:\n\n` every [`KEEP_ALIVE`] keeps proxies from closing an idle stream. A chunk may
//! carry part of an event or several: split the text on blank lines.
//!
//! The viewer passes the same gate as `POST /graphql` before anything runs, and is checked
//! again before each event, every 30 s and at the token's expiry ([`crate::graphql::live`]):
//! when the login ends, a last `next` carries the error (`UNAUTHENTICATED` with its reason,
//! or `FORBIDDEN`) and the stream completes.

use std::{convert::Infallible, sync::Arc, time::Duration};

use axum::{
    extract::State,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use futures_util::StreamExt;

use super::gate;
use super::pipeline::{Shared, client_addr};
use crate::auth::Viewer;
use crate::core::error::{AppError, ErrorCode, ErrorReason};
use crate::graphql::live::{Closed, Live};
use crate::graphql::loaders;

/// How often an idle stream sends a comment line.
pub const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// One SSE event.
fn frame(event: &str, data: &str) -> String {
    format!("event: {event}\ndata: {data}\n\n")
}

pub(crate) async fn graphql_stream(
    State(shared): State<Shared>,
    parts: axum::http::request::Parts,
    body: axum::body::Body,
) -> Response {
    let state = shared.state.clone();
    let client = client_addr(&state.config, &parts);
    let headers = parts.headers;
    // The gate first: nothing of the body is read for a caller it refuses.
    let token = match headers.get(header::AUTHORIZATION) {
        None => None,
        Some(v) => match v.to_str().ok().and_then(gate::bearer) {
            Some(t) => Some(t.to_owned()),
            None => return gate::refuse(&AppError::Unauthenticated(ErrorReason::TokenInvalid)),
        },
    };
    let loader = loaders::Loaders::new(state.db.clone(), None);
    let renew = Some(loader.renewer());
    let (live, viewer) = match &token {
        None => (Live::anonymous(renew), Viewer::Anonymous),
        Some(t) => match Live::open(&state, t, renew).await {
            Ok((live, user)) => (live, Viewer::User(user)),
            Err(e) => return gate::refuse(&e),
        },
    };
    let Ok(body) = axum::body::to_bytes(body, state.config.body_limit).await else {
        return gate::coded(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::BadUserInput,
            "请求体过大",
        );
    };
    let mut request: async_graphql::Request = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(_) => {
            return gate::coded(
                StatusCode::BAD_REQUEST,
                ErrorCode::BadUserInput,
                "请求体不是有效的 GraphQL JSON",
            );
        }
    };
    let document_id = super::pipeline::document_id_of(&body);
    if let Err(refusal) =
        super::pipeline::trusted_document(&shared, &mut request, document_id.as_deref())
    {
        return *refusal;
    }
    let live = Arc::new(live);
    let request = request
        .data(viewer)
        .data(loader)
        .data(client)
        .data(live.clone());
    let mut results = shared.ws_schema.execute_stream(request);
    let (tx, rx) = tokio::sync::mpsc::channel::<String>(16);
    tokio::spawn(async move {
        let expires = live.expires();
        let ended_by = live.closed();
        let closed = super::ws::watch_live_of(live, state);
        futures_util::pin_mut!(closed);
        let mut keep_alive = tokio::time::interval(KEEP_ALIVE);
        keep_alive.tick().await;
        loop {
            let text = tokio::select! {
                item = results.next() => match item {
                    Some(response) => frame(
                        "next",
                        &serde_json::to_string(&response).unwrap_or_else(|_| "{}".to_owned()),
                    ),
                    None => {
                        // The subscription ended because the login did: say why first.
                        let why = *ended_by.borrow();
                        if let Some(why) = why {
                            let _ = tx.send(frame("next", &ended(why, expires).to_string())).await;
                        }
                        let _ = tx.send(frame("complete", "")).await;
                        break;
                    }
                },
                why = &mut closed => {
                    let _ = tx.send(frame("next", &ended(why, expires).to_string())).await;
                    let _ = tx.send(frame("complete", "")).await;
                    break;
                }
                _ = keep_alive.tick() => ":\n\n".to_owned(),
            };
            // The client went away: the subscription ends with the stream.
            if tx.send(text).await.is_err() {
                break;
            }
        }
    });
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|t| (Ok::<_, Infallible>(t), rx))
    });
    let mut response = axum::body::Body::from_stream(stream).into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert("x-accel-buffering", HeaderValue::from_static("no"));
    response
}

/// The last result of a stream whose login ended (`expires`: the token's expiry).
fn ended(why: Closed, expires: Option<i64>) -> serde_json::Value {
    let expired = expires.is_some_and(|at| chrono::Utc::now().timestamp() >= at);
    let e = if why.code == crate::graphql::live::UNAUTHORIZED.code {
        AppError::Unauthenticated(if expired {
            ErrorReason::TokenExpired
        } else {
            ErrorReason::TokenRevoked
        })
    } else {
        AppError::Forbidden("登录状态已变化，请重新订阅")
    };
    let mut extensions = serde_json::json!({ "code": e.code().as_str() });
    if let Some(reason) = e.reason() {
        extensions["reason"] = crate::core::error::reason_name(reason).into();
    }
    serde_json::json!({ "errors": [{ "message": e.message(), "extensions": extensions }] })
}
