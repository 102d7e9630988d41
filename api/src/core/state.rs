use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::account::rules::LoginLimiter;
use crate::core::config::Config;
use crate::core::db::StatementCounter;

/// Shared by every request.
#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub config: Arc<Config>,
    pub statements: StatementCounter,
    /// Failed logins per username (per process).
    pub login_limiter: Arc<LoginLimiter>,
    pub metrics: Arc<crate::http::metrics::Metrics>,
    pub events: crate::events::Events,
}
