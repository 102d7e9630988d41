use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261129_000001_create_server_settings_and_login_throttle"
    }
}

/// `server_setting` keeps values that must survive restarts and be shared by every instance
/// (the demo server's generated token secret); `login_throttle` counts login attempts per
/// username and per client address in fixed windows, atomically, for every instance.
const UP: &str = r#"
CREATE TABLE server_setting (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    created_at {ts} NOT NULL
);
CREATE TABLE login_throttle (
    key TEXT PRIMARY KEY,
    attempts BIGINT NOT NULL CHECK (attempts >= 0),
    window_start BIGINT NOT NULL
);
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::run_script(manager, UP).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::run_script(
            manager,
            "DROP TABLE login_throttle;\nDROP TABLE server_setting;\n",
        )
        .await
    }
}
