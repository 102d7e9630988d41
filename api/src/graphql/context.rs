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
        state::AppState,
    },
    graphql::loaders,
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
pub(crate) fn events<'a>(ctx: &'a Context<'_>) -> AppResult<&'a crate::events::Events> {
    Ok(&state(ctx)?.events)
}
