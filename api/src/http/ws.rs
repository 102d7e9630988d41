//! GraphQL subscriptions over WebSocket (graphql-transport-ws, and the older graphql-ws).
//!
//! The token goes in the `connection_init` payload: `{"Authorization": "Bearer <token>"}`
//! (also `authorization`, `authToken` or `token`) and passes the same gate as a POST. A
//! refused token closes the socket with 4403 Forbidden. Once open, the viewer is checked
//! again before each event and every [`LIVE_CHECK`] (and at the token's expiry): the socket
//! is closed with 4401 or 4403 as [`crate::graphql::live`] documents.

use std::{sync::Arc, time::Duration};

use axum::{extract::State, response::Response};
use tokio::sync::watch;

use super::pipeline::Shared;
use crate::auth::Viewer;
use crate::graphql::live::{Closed, Live};
use crate::graphql::loaders;
use crate::graphql::state::AppState;

/// How often an open connection's viewer is checked when no event comes.
pub const LIVE_CHECK: Duration = Duration::from_secs(30);

pub(crate) async fn graphql_ws(
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
        // The connection's live viewer, once `connection_init` has been accepted.
        let (opened, slot) = watch::channel::<Option<Arc<Live>>>(None);
        let init_state = state.clone();
        let init = move |payload: serde_json::Value| async move {
            let state = init_state;
            let token = ["Authorization", "authorization", "authToken", "token"]
                .iter()
                .find_map(|k| payload.get(*k).and_then(|v| v.as_str()))
                .map(|v| crate::http::gate::bearer(v).unwrap_or(v).trim().to_owned());
            let loaders = loaders::Loaders::new(state.db.clone(), None);
            let renew = Some(loaders.renewer());
            let (live, viewer) = match token {
                None => (Live::anonymous(renew), Viewer::Anonymous),
                Some(t) => match Live::open(&state, &t, renew).await {
                    Ok((live, user)) => (live, Viewer::User(user)),
                    Err(e) => {
                        flag.store(true, std::sync::atomic::Ordering::SeqCst);
                        return Err(async_graphql::Error::from(e));
                    }
                },
            };
            let live = Arc::new(live);
            opened.send_replace(Some(live.clone()));
            let mut data = async_graphql::Data::default();
            data.insert(viewer);
            data.insert(loaders);
            data.insert(live);
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
        let closed = watch_live(slot, state);
        futures_util::pin_mut!(closed);
        loop {
            tokio::select! {
                item = output.next() => {
                    let Some(item) = item else { break };
                    if sink.send(item).await.is_err() {
                        break;
                    }
                }
                why = &mut closed => {
                    let _ = sink
                        .send(Message::Close(Some(CloseFrame {
                            code: why.code,
                            reason: why.reason.into(),
                        })))
                        .await;
                    break;
                }
            }
        }
    })
}

/// Resolves when the connection's viewer no longer passes the gate: checked on a timer and at
/// the token's expiry here, and before each event by the subscriptions themselves.
async fn watch_live(mut slot: watch::Receiver<Option<Arc<Live>>>, state: AppState) -> Closed {
    let live = loop {
        if let Some(live) = slot.borrow_and_update().clone() {
            break live;
        }
        if slot.changed().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    watch_live_of(live, state).await
}

/// Resolves when a live viewer no longer passes the gate (every door that streams: the
/// WebSocket, SSE).
pub(crate) async fn watch_live_of(live: Arc<Live>, state: AppState) -> Closed {
    let mut closed = live.closed();
    let mut tick = tokio::time::interval(LIVE_CHECK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        if let Some(why) = *closed.borrow_and_update() {
            return why;
        }
        let expiry = live.expires().map(|at| {
            let left = at - chrono::Utc::now().timestamp();
            Duration::from_secs(left.max(0) as u64 + 1)
        });
        tokio::select! {
            changed = closed.changed() => {
                if changed.is_err() {
                    std::future::pending::<()>().await;
                }
            }
            _ = tick.tick() => {
                live.check(&state).await;
            }
            () = tokio::time::sleep(expiry.unwrap_or(Duration::MAX / 4)), if expiry.is_some() => {
                live.check(&state).await;
            }
        }
    }
}
