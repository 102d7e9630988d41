use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261129_000003_keep_an_active_admin"
    }
}

/// The last active ADMIN cannot be deactivated, held by the database too (the rule in
/// `account::lifecycle` answers INVALID_STATE and serialises concurrent attempts).
const SQLITE: &str = r#"
CREATE TRIGGER users_keep_an_active_admin BEFORE UPDATE OF active ON users WHEN OLD.active AND NOT NEW.active AND EXISTS (SELECT 1 FROM role_assignments WHERE user_id = OLD.id AND role = 'ADMIN') AND NOT EXISTS (SELECT 1 FROM users u JOIN role_assignments r ON r.user_id = u.id WHERE r.role = 'ADMIN' AND u.active AND u.id <> OLD.id) BEGIN SELECT RAISE(ABORT, 'the last active ADMIN cannot be deactivated'); END;
"#;

const POSTGRES: &str = r#"
CREATE FUNCTION users_keep_an_active_admin() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF OLD.active AND NOT NEW.active AND EXISTS (SELECT 1 FROM role_assignments WHERE user_id = OLD.id AND role = 'ADMIN') AND NOT EXISTS (SELECT 1 FROM users u JOIN role_assignments r ON r.user_id = u.id WHERE r.role = 'ADMIN' AND u.active AND u.id <> OLD.id) THEN RAISE EXCEPTION 'the last active ADMIN cannot be deactivated'; END IF; RETURN NEW; END $$;
CREATE TRIGGER users_keep_an_active_admin BEFORE UPDATE OF active ON users FOR EACH ROW EXECUTE FUNCTION users_keep_an_active_admin();
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::run_per_backend(manager, SQLITE, POSTGRES).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::run_per_backend(
            manager,
            "DROP TRIGGER users_keep_an_active_admin;\n",
            "DROP TRIGGER users_keep_an_active_admin ON users;\nDROP FUNCTION users_keep_an_active_admin();\n",
        )
        .await
    }
}
