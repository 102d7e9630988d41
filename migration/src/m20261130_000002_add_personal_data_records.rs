use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261130_000002_add_personal_data_records"
    }
}

/// Personal-data rights (PIPL):
/// - `personal_data_access_log`: every view of another person's unmasked phone number or
///   address by ADMIN, staff or a grid worker — who, whose, which field, through which path
///   and record, when. Written by the server, read by ADMIN.
/// - `personal_data_erasures`: each erasure, by whom and why; `users.erased_at` marks an
///   erased account (its personal fields are placeholders, it cannot log in again).
const UP: &str = r#"
CREATE TABLE personal_data_access_log (
    id {id},
    viewer_id BIGINT NOT NULL REFERENCES users(id),
    subject_id BIGINT REFERENCES users(id),
    field TEXT NOT NULL CHECK (field IN ('PHONE', 'ADDRESS')),
    path TEXT NOT NULL,
    record_type TEXT,
    record_id BIGINT,
    request_id TEXT,
    created_at {ts} NOT NULL,
    CHECK (subject_id IS NULL OR subject_id <> viewer_id),
    CHECK (subject_id IS NOT NULL OR record_id IS NOT NULL)
);
CREATE INDEX personal_data_access_log_subject ON personal_data_access_log(subject_id, id);
CREATE INDEX personal_data_access_log_viewer ON personal_data_access_log(viewer_id, id);
CREATE TABLE personal_data_erasures (
    id {id},
    user_id BIGINT NOT NULL UNIQUE REFERENCES users(id),
    erased_by BIGINT NOT NULL REFERENCES users(id),
    reason TEXT NOT NULL CHECK (length(reason) > 0),
    created_at {ts} NOT NULL,
    CHECK (user_id <> erased_by)
);
ALTER TABLE users ADD COLUMN erased_at {ts};
"#;

const SQLITE: &str = r#"
CREATE TRIGGER users_erased_stay_inactive BEFORE UPDATE OF active ON users WHEN OLD.erased_at IS NOT NULL AND NEW.active BEGIN SELECT RAISE(ABORT, 'an erased account cannot be reactivated'); END;
"#;

const POSTGRES: &str = r#"
CREATE FUNCTION users_erased_stay_inactive() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF OLD.erased_at IS NOT NULL AND NEW.active THEN RAISE EXCEPTION 'an erased account cannot be reactivated'; END IF; RETURN NEW; END $$;
CREATE TRIGGER users_erased_stay_inactive BEFORE UPDATE OF active ON users FOR EACH ROW EXECUTE FUNCTION users_erased_stay_inactive();
"#;

const SQLITE_DOWN: &str = r#"
DROP TRIGGER users_erased_stay_inactive;
ALTER TABLE users DROP COLUMN erased_at;
DROP TABLE personal_data_erasures;
DROP TABLE personal_data_access_log;
"#;

const POSTGRES_DOWN: &str = r#"
DROP TRIGGER users_erased_stay_inactive ON users;
DROP FUNCTION users_erased_stay_inactive();
ALTER TABLE users DROP COLUMN erased_at;
DROP TABLE personal_data_erasures;
DROP TABLE personal_data_access_log;
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::run_script(manager, UP).await?;
        crate::run_per_backend(manager, SQLITE, POSTGRES).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::run_per_backend(manager, SQLITE_DOWN, POSTGRES_DOWN).await
    }
}
