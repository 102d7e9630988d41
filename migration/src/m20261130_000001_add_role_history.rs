use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261130_000001_add_role_history"
    }
}

/// Roles granted and revoked with their dates, kept as history.
/// - `role_grants`: every grant ever made — who granted it, from which day, until which day
///   (inclusive; open when null), and its revocation (who, when, why). Never deleted.
/// - `role_assignments` stays the set of roles *in force* that every rule reads; each row
///   points at the grant it comes from (`grant_id`). A grant whose first day has come is
///   put in force, a grant past its last day or revoked is taken out (`account::roles`).
/// - The existing roles become grants from the day they were created.
/// - The last active ADMIN's ADMIN role cannot be taken out (a trigger, as for
///   deactivation).
const UP: &str = r#"
CREATE TABLE role_grants (
    id {id},
    user_id BIGINT NOT NULL REFERENCES users(id),
    role TEXT NOT NULL CHECK (role IN ('ADMIN', 'COMMUNITY_STAFF', 'GRID_WORKER', 'PARTY_MEMBER', 'UNIT_REP', 'STUDENT', 'RESIDENT')),
    community_id BIGINT REFERENCES communities(id),
    grid_id BIGINT REFERENCES grids(id),
    organization_id BIGINT REFERENCES organizations(id),
    valid_from {date} NOT NULL,
    valid_until {date},
    granted_by BIGINT REFERENCES users(id),
    granted_at {ts} NOT NULL,
    revoked_by BIGINT REFERENCES users(id),
    revoked_at {ts},
    revoke_reason TEXT,
    CHECK (valid_until IS NULL OR valid_until >= valid_from),
    CHECK (revoked_at IS NOT NULL OR revoked_by IS NULL),
    CHECK (role <> 'COMMUNITY_STAFF' OR community_id IS NOT NULL),
    CHECK (role <> 'RESIDENT' OR community_id IS NOT NULL),
    CHECK (role <> 'GRID_WORKER' OR grid_id IS NOT NULL),
    CHECK (role <> 'UNIT_REP' OR organization_id IS NOT NULL),
    CHECK (role <> 'STUDENT' OR organization_id IS NOT NULL),
    CHECK (role <> 'ADMIN' OR (community_id IS NULL AND grid_id IS NULL AND organization_id IS NULL))
);
CREATE INDEX role_grants_user ON role_grants(user_id);
CREATE INDEX role_grants_pending ON role_grants(valid_from) WHERE revoked_at IS NULL;
ALTER TABLE role_assignments ADD COLUMN grant_id BIGINT REFERENCES role_grants(id);
CREATE UNIQUE INDEX role_assignments_grant ON role_assignments(grant_id);
"#;

const SQLITE: &str = r#"
INSERT INTO role_grants (id, user_id, role, community_id, grid_id, organization_id, valid_from, granted_at) SELECT id, user_id, role, community_id, grid_id, organization_id, substr(created_at, 1, 10), created_at FROM role_assignments;
UPDATE role_assignments SET grant_id = id;
CREATE TRIGGER role_assignments_keep_an_active_admin BEFORE DELETE ON role_assignments WHEN OLD.role = 'ADMIN' AND EXISTS (SELECT 1 FROM users WHERE id = OLD.user_id AND active) AND NOT EXISTS (SELECT 1 FROM role_assignments r JOIN users u ON u.id = r.user_id WHERE r.role = 'ADMIN' AND u.active AND r.id <> OLD.id) BEGIN SELECT RAISE(ABORT, 'the last active ADMIN cannot lose the role'); END;
"#;

const POSTGRES: &str = r#"
INSERT INTO role_grants (id, user_id, role, community_id, grid_id, organization_id, valid_from, granted_at) SELECT id, user_id, role, community_id, grid_id, organization_id, (created_at AT TIME ZONE 'Asia/Shanghai')::date, created_at FROM role_assignments;
SELECT setval(pg_get_serial_sequence('role_grants', 'id'), GREATEST((SELECT MAX(id) FROM role_grants), 1));
UPDATE role_assignments SET grant_id = id;
CREATE FUNCTION role_assignments_keep_an_active_admin() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF OLD.role = 'ADMIN' AND EXISTS (SELECT 1 FROM users WHERE id = OLD.user_id AND active) AND NOT EXISTS (SELECT 1 FROM role_assignments r JOIN users u ON u.id = r.user_id WHERE r.role = 'ADMIN' AND u.active AND r.id <> OLD.id) THEN RAISE EXCEPTION 'the last active ADMIN cannot lose the role'; END IF; RETURN OLD; END $$;
CREATE TRIGGER role_assignments_keep_an_active_admin BEFORE DELETE ON role_assignments FOR EACH ROW EXECUTE FUNCTION role_assignments_keep_an_active_admin();
"#;

const SQLITE_DOWN: &str = r#"
DROP TRIGGER role_assignments_keep_an_active_admin;
DROP INDEX role_assignments_grant;
ALTER TABLE role_assignments DROP COLUMN grant_id;
DROP TABLE role_grants;
"#;

const POSTGRES_DOWN: &str = r#"
DROP TRIGGER role_assignments_keep_an_active_admin ON role_assignments;
DROP FUNCTION role_assignments_keep_an_active_admin();
DROP INDEX role_assignments_grant;
ALTER TABLE role_assignments DROP COLUMN grant_id;
DROP TABLE role_grants;
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
