use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::{config::Config, db::StatementCounter};

/// Shared by every request.
#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub config: Arc<Config>,
    pub statements: StatementCounter,
}
