//! The GraphQL plumbing: the roots merged from every domain's `schema`, the request context
//! (viewer, database, loaders), scalars, error codes and guards. Resolvers stay thin: parse
//! input, ask the domain's policy, call its rules, shape the payload.

pub mod context;
pub mod errors;
pub mod guard;
pub mod live;
pub mod loaders;
pub mod nulls;
pub mod scalars;
pub mod subscription;

use async_graphql::{MergedObject, Schema};

use crate::core::config::Config;
use crate::core::state::AppState;

/// The root of every read.
#[derive(MergedObject, Default)]
#[graphql(name = "Query")]
pub struct QueryRoot(
    crate::account::schema::AccountQuery,
    crate::places::schema::GridQuery,
    crate::registration::schema::RegistrationQuery,
    crate::wish::schema::WishQuery,
    crate::bank::schema::BankQuery,
    crate::alliance::schema::AllianceQuery,
    crate::schedule::schema::ScheduleQuery,
    crate::account::audit::AuditQuery,
    crate::account::privacy_schema::PrivacyQuery,
    crate::overview::schema::OverviewQuery,
    crate::incident::schema::IncidentQuery,
    crate::incident::patrol_schema::PatrolQuery,
    crate::incident::summary_schema::SummaryQuery,
);

/// The root of every change: one mutation per business action, each taking one `input`.
#[derive(MergedObject, Default)]
#[graphql(name = "Mutation")]
pub struct MutationRoot(
    crate::account::schema::AccountMutation,
    crate::account::privacy_schema::PrivacyMutation,
    crate::places::schema::GridMutation,
    crate::registration::schema::RegistrationMutation,
    crate::wish::schema::WishMutation,
    crate::bank::schema::BankMutation,
    crate::alliance::schema::AllianceMutation,
    crate::schedule::schema::ScheduleMutation,
    crate::incident::schema::IncidentMutation,
    crate::incident::patrol_schema::PatrolMutation,
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

/// The schema for `POST /graphql`, for a document that has already passed the full
/// validation in a request without variables, sent again without variables: validation
/// depends only on the document, the variables and the schema, so it would pass again.
/// This schema checks the complexity and depth limits and the upload rule only
/// (async-graphql's fast validation mode); the full rules were about a twentieth of the
/// server's work on a page (benchmark profile).
pub fn build_validated_schema(state: Option<AppState>, config: &Config) -> ApiSchema {
    builder(state, config)
        .validation_mode(async_graphql::ValidationMode::Fast)
        .finish()
}

/// Builds the schema for `/graphql/ws`: the same, with the guard, error-code and audit work
/// done by extensions, since no handler sees each operation of a WebSocket connection.
pub fn build_ws_schema(state: Option<AppState>, config: &Config) -> ApiSchema {
    builder(state, config)
        .extension(errors::ErrorCodes)
        .extension(guard::Guards)
        .extension(nulls::Propagation)
        .finish()
}

/// Builds the schema that answers introspection-only queries (development): the standard
/// introspection query of graphql-js and every tool is about 15 levels deep, so this one has
/// no depth limit; it is used only for a document whose operation selects nothing but
/// `__schema`, `__type` and `__typename`.
pub fn build_introspection_schema(config: &Config) -> Option<ApiSchema> {
    if config.is_production() {
        return None;
    }
    let mut unlimited = config.clone();
    unlimited.max_depth = usize::MAX;
    Some(builder(None, &unlimited).finish())
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
    build_schema(None, &config)
        .sdl_with_options(async_graphql::SDLExportOptions::new().include_specified_by())
}
