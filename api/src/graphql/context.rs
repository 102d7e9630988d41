//! The request context every resolver reads: the app state, the database, the viewer, the
//! loaders, the event bus, and ID parsing.

use std::sync::Arc;

use async_graphql::{Context, ID};
use sea_orm::DatabaseConnection;

use crate::{
    auth::{AuthUser, Viewer},
    core::{
        config::Config,
        error::{AppError, AppResult},
    },
    graphql::{loaders, state::AppState},
};

pub(crate) fn state<'a>(ctx: &'a Context<'_>) -> AppResult<&'a AppState> {
    ctx.data::<AppState>()
        .map_err(|_| AppError::internal("AppState missing from schema data"))
}

pub(crate) fn db<'a>(ctx: &'a Context<'_>) -> AppResult<&'a DatabaseConnection> {
    Ok(&state(ctx)?.db)
}

pub(crate) fn config<'a>(ctx: &'a Context<'_>) -> AppResult<&'a Arc<Config>> {
    Ok(&state(ctx)?.config)
}

pub(crate) fn viewer<'a>(ctx: &'a Context<'_>) -> &'a Viewer {
    static ANON: Viewer = Viewer::Anonymous;
    ctx.data::<Viewer>().unwrap_or(&ANON)
}

/// The logged-in user or `UNAUTHENTICATED`.
pub(crate) fn actor<'a>(ctx: &'a Context<'_>) -> AppResult<&'a AuthUser> {
    viewer(ctx).require()
}

pub(crate) fn loader<'a>(ctx: &'a Context<'_>) -> AppResult<&'a loaders::Loaders> {
    ctx.data::<loaders::Loaders>()
        .map_err(|_| AppError::internal("DataLoader missing from request data"))
}

/// Parses an `ID` argument.
pub(crate) fn parse_id(field: &'static str, id: &ID) -> AppResult<i64> {
    crate::core::validate::id(field, id.as_str())
}

pub(crate) fn parse_opt_id(field: &'static str, id: Option<&ID>) -> AppResult<Option<i64>> {
    id.map(|i| parse_id(field, i)).transpose()
}

/// The event bus, for the rules that publish after a change.
pub(crate) fn events<'a>(ctx: &'a Context<'_>) -> AppResult<&'a crate::core::bus::Bus> {
    Ok(&state(ctx)?.events)
}

/// Records an unmasked view of a person's phone or address for the access log
/// (`account::privacy`), if the log keeps it. Over HTTP the request's views are written in
/// one statement when it ends; elsewhere (a subscription) at once.
pub(crate) fn log_view(
    ctx: &Context<'_>,
    subject_id: Option<i64>,
    field: crate::people::access_log::Field,
    path: &'static str,
    record: Option<(&'static str, i64)>,
) {
    use crate::people::access_log::{AccessLog, View};
    let Some(view) = View::of(viewer(ctx).user(), subject_id, field, path, record) else {
        return;
    };
    if let Some(log) = ctx.data_opt::<Arc<AccessLog>>() {
        log.push(view);
    } else if let Ok(state) = state(ctx) {
        let db = state.db.clone();
        tokio::spawn(async move {
            if let Err(e) = crate::people::access_log::write(&db, vec![view], None).await {
                tracing::error!(error = %e.message(), "personal-data access not logged");
            }
        });
    }
}
