//! What every request shares: the database, the configuration, the event bus and the
//! server's caches (viewers, people's scopes) and metrics. It sits above those caches and
//! below the domains, which reach it through the request context.

use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::core::config::Config;
use crate::core::db::StatementCounter;

/// Shared by every request.
#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub config: Arc<Config>,
    pub statements: StatementCounter,
    pub metrics: Arc<crate::core::metrics::Metrics>,
    pub events: crate::core::bus::Bus,
    /// Viewers loaded by this server, reused while their rights are unchanged.
    pub viewers: Arc<crate::auth::ViewerCache>,
    /// People's scopes for the person rule, reused while their `auth_stamp` is unchanged.
    pub person_scopes: Arc<crate::people::scopes::PersonScopes>,
}

/// The client's address as the server sees it (the TCP peer, or the first `X-Forwarded-For`
/// entry when configured to trust it); none for in-process requests.
#[derive(Clone, Debug)]
pub struct ClientAddr(pub Option<String>);
