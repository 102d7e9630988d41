use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261122_000005_create_audit_log"
    }
}

const UP: &str = r#"
CREATE TABLE audit_log (
    id {id},
    user_id BIGINT REFERENCES users(id),
    operation TEXT NOT NULL,
    target_type TEXT,
    target_id TEXT,
    outcome TEXT NOT NULL,
    request_id TEXT,
    created_at {ts} NOT NULL
);
CREATE INDEX audit_log_user ON audit_log(user_id, id);
CREATE INDEX audit_log_operation ON audit_log(operation, id);
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::run_script(manager, UP).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::run_script(manager, "DROP TABLE audit_log;\n").await
    }
}
