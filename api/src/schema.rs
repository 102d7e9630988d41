//! THE ROOF: the only place that lists the domains. It merges each domain's Query,
//! Mutation and Subscription roots into the schema and builds it with the configuration's
//! limits; nothing imports it but `http/` (and the binary, for the SDL). Adding a domain
//! with live events is its folder plus one line per root here.

use async_graphql::{MergedObject, MergedSubscription, Schema};

use crate::graphql::{errors, guard, nulls};

use crate::core::config::Config;
use crate::graphql::state::AppState;

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
    crate::graphql::errors::ErrorReasonQuery,
    crate::nodes::labels::LabelQuery,
    crate::notify::schema::NotificationQuery,
    crate::notify::schema::NotificationPreferenceQuery,
);

/// The root of every change: one mutation per business action, each taking one `input`.
#[derive(MergedObject, Default)]
#[graphql(name = "Mutation")]
pub struct MutationRoot(
    crate::account::schema::AccountMutation,
    crate::account::sessions::SessionMutation,
    crate::account::privacy_schema::PrivacyMutation,
    crate::places::schema::GridMutation,
    crate::registration::schema::RegistrationMutation,
    crate::wish::schema::WishMutation,
    crate::bank::schema::BankMutation,
    crate::alliance::schema::AllianceMutation,
    crate::schedule::schema::ScheduleMutation,
    crate::incident::schema::IncidentMutation,
    crate::incident::patrol_schema::PatrolMutation,
    crate::notify::schema::NotificationMutation,
    crate::notify::schema::NotificationPreferenceMutation,
);

// Every live field: each domain serves its own from its typed events, checking the
// connection's viewer before each event (`graphql::live`).
/// Live events over graphql-transport-ws at `/graphql/ws`.
#[derive(MergedSubscription, Default)]
#[graphql(name = "Subscription")]
pub struct SubscriptionRoot(
    crate::wish::schema::WishSubscription,
    crate::schedule::schema::ShiftSubscription,
    crate::incident::live::IncidentSubscription,
    crate::notify::schema::NotificationSubscription,
);

pub type ApiSchema = Schema<QueryRoot, MutationRoot, SubscriptionRoot>;

/// Builds the schema for `POST /graphql`, with the limits and switches of the configuration.
///
/// It has no extensions: async-graphql then resolves fields on its fast path (no per-field extension chain), and the HTTP handler does the extensions' work once per request — the alias guard ([`guard::check_document`]), error codes ([`errors::code_errors`]) and the audit log ([`guard::audit`]).
pub fn build_schema(state: Option<AppState>, config: &Config) -> ApiSchema {
    if !nulls::knows_schema() {
        // Null propagation learns the field types from a development build (introspection
        // on, whatever the configuration).
        let mut development = config.clone();
        development.environment = crate::core::config::Environment::Development;
        let development = builder(None, &development).finish();
        errors::learn_schema(&development.sdl());
        nulls::learn_from(development);
    }
    builder(state, config).finish()
}

/// The schema for `POST /graphql`, for a document that has already passed the full validation in a request without variables, sent again without variables: validation depends only on the document, the variables and the schema, so it would pass again. This schema checks the complexity and depth limits and the upload rule only (async-graphql's fast validation mode); the full rules were about a twentieth of the server's work on a page (benchmark profile).
pub fn build_validated_schema(state: Option<AppState>, config: &Config) -> ApiSchema {
    builder(state, config)
        .validation_mode(async_graphql::ValidationMode::Fast)
        .finish()
}

/// Builds the schema for `/graphql/ws`: the same, with the guard, error-code and audit work done by extensions, since no handler sees each operation of a WebSocket connection.
pub fn build_ws_schema(state: Option<AppState>, config: &Config) -> ApiSchema {
    builder(state, config)
        .extension(errors::ErrorCodes(errors::Limits {
            depth: config.max_depth,
            complexity: config.max_complexity,
        }))
        .extension(guard::Guards)
        .extension(nulls::Propagation)
        .finish()
}

/// Builds the schema that answers introspection-only queries (development): the standard introspection query of graphql-js and every tool is about 15 levels deep, so this one has no depth limit; it is used only for a document whose operation selects nothing but `__schema`, `__type` and `__typename`.
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
) -> async_graphql::SchemaBuilder<QueryRoot, MutationRoot, SubscriptionRoot> {
    let mut builder = Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        SubscriptionRoot::default(),
    )
    .limit_depth(config.max_depth)
    .limit_complexity(config.max_complexity)
    .limit_recursive_depth(32)
    .limit_directives(50);
    if config.is_production() {
        builder = builder.disable_introspection().disable_suggestions();
    }
    if config.is_production()
        && let Some(trusted) = &config.trusted_documents
    {
        builder = builder.extension(crate::graphql::trusted::TrustedOnly(trusted.clone()));
    }
    if config.trace_resolvers {
        builder = builder.extension(async_graphql::extensions::Tracing);
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
