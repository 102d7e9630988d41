use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261130_000006_notify_user_changes"
    }
}

/// On PostgreSQL every change of a user's row (their profile, password version, active flag,
/// or the auth stamp that their roles, registrations and worker grids raise) is announced on
/// the `lianxin_users` channel with the user's id, at commit. Each server LISTENs and forgets
/// the viewer it holds for that user, so it can serve a viewer without reading the row on
/// every request. SQLite has no notifications: the server reads the row each time.
const POSTGRES_UP: &str = r#"
CREATE FUNCTION users_notify() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_notify('lianxin_users', OLD.id::text); RETURN NULL; END $$;
CREATE TRIGGER users_notify AFTER UPDATE OR DELETE ON users FOR EACH ROW EXECUTE FUNCTION users_notify()
"#;

const POSTGRES_DOWN: &str = r#"
DROP TRIGGER users_notify ON users;
DROP FUNCTION users_notify()
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::run_per_backend(manager, "", POSTGRES_UP).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::run_per_backend(manager, "", POSTGRES_DOWN).await
    }
}
