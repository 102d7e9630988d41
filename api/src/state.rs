use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::{config::Config, db::StatementCounter, service::account::LoginLimiter};

/// Shared by every request.
#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub config: Arc<Config>,
    pub statements: StatementCounter,
    /// Failed logins per username (per process).
    pub login_limiter: Arc<LoginLimiter>,
    pub metrics: Arc<crate::metrics::Metrics>,
    pub events: crate::events::Events,
}
