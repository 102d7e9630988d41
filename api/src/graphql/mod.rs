//! The GraphQL plumbing: the roots merged from every domain's `schema`, the request context
//! (viewer, database, loaders), scalars, error codes and guards. Resolvers stay thin: parse
//! input, ask the domain's policy, call its rules, shape the payload.

pub mod errors;
pub mod guard;
pub mod loaders;
pub mod scalars;
pub mod subscription;

use std::sync::Arc;

use async_graphql::{Context, ID, MergedObject, Schema};
use sea_orm::DatabaseConnection;

use crate::auth::AuthUser;
use crate::auth::Viewer;
use crate::core::config::Config;
use crate::core::error::AppError;
use crate::core::error::AppResult;
use crate::core::state::AppState;

#[derive(MergedObject, Default)]
pub struct QueryRoot(
    crate::account::schema::AccountQuery,
    crate::places::schema::GridQuery,
    crate::registration::schema::RegistrationQuery,
    crate::wish::schema::WishQuery,
    crate::bank::schema::BankQuery,
    crate::alliance::schema::AllianceQuery,
    crate::schedule::schema::ScheduleQuery,
    crate::account::audit::AuditQuery,
    crate::overview::schema::OverviewQuery,
);

#[derive(MergedObject, Default)]
pub struct MutationRoot(
    crate::account::schema::AccountMutation,
    crate::places::schema::GridMutation,
    crate::registration::schema::RegistrationMutation,
    crate::wish::schema::WishMutation,
    crate::bank::schema::BankMutation,
    crate::alliance::schema::AllianceMutation,
    crate::schedule::schema::ScheduleMutation,
);

pub type ApiSchema = Schema<QueryRoot, MutationRoot, subscription::SubscriptionRoot>;

/// Builds the schema for `POST /graphql`, with the limits and switches of the configuration.
///
/// It has no extensions: async-graphql then resolves fields on its fast path (no per-field
/// extension chain), and the HTTP handler does the extensions' work once per request — the
/// alias guard ([`guard::check_document`]), error codes ([`errors::code_errors`]) and the
/// audit log ([`guard::audit`]).
pub fn build_schema(state: Option<AppState>, config: &Config) -> ApiSchema {
    builder(state, config).finish()
}

/// Builds the schema for `/graphql/ws`: the same, with the guard, error-code and audit work
/// done by extensions, since no handler sees each operation of a WebSocket connection.
pub fn build_ws_schema(state: Option<AppState>, config: &Config) -> ApiSchema {
    builder(state, config)
        .extension(errors::ErrorCodes)
        .extension(guard::Guards)
        .finish()
}

fn builder(
    state: Option<AppState>,
    config: &Config,
) -> async_graphql::SchemaBuilder<QueryRoot, MutationRoot, subscription::SubscriptionRoot> {
    let mut builder = Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        subscription::SubscriptionRoot,
    )
    .limit_depth(config.max_depth)
    .limit_complexity(config.max_complexity)
    .limit_recursive_depth(32)
    .limit_directives(50);
    if config.is_production() {
        builder = builder.disable_introspection().disable_suggestions();
    }
    if let Some(state) = state {
        builder = builder.data(state);
    }
    builder
}

/// The SDL of the schema, as written to `schema.graphql`.
pub fn sdl() -> String {
    let config = Config::new(
        "sqlite::memory:",
        crate::core::config::Secret::new("x".repeat(32)),
    )
    .unwrap_or_else(|_| unreachable!("the default secret is long enough"));
    build_schema(None, &config).sdl()
}

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
