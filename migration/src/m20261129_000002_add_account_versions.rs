use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261129_000002_add_account_versions"
    }
}

/// Account versions:
/// - `token_version`: carried in every token; raised by a password change or reset,
///   deactivation and "log out everywhere", so every earlier token fails on its next request.
/// - `must_change_password`: set by a reset; the user may only change their password until
///   they do.
/// - `auth_stamp`: raised by the database itself whenever what the viewer's rights are made of
///   changes (the user's roles, their member registrations, micro-grids under a grid they
///   work in), so that a server may keep a loaded viewer while the stamp is unchanged. The
///   triggers hold this even for a write that forgets it.
const UP: &str = r#"
ALTER TABLE users ADD COLUMN token_version BIGINT NOT NULL DEFAULT 0 CHECK (token_version >= 0);
ALTER TABLE users ADD COLUMN auth_stamp BIGINT NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN must_change_password {bool} NOT NULL DEFAULT {false};
"#;

const SQLITE_TRIGGERS: &str = r#"
CREATE TRIGGER role_assignments_stamp_insert AFTER INSERT ON role_assignments BEGIN UPDATE users SET auth_stamp = auth_stamp + 1 WHERE id = NEW.user_id; END;
CREATE TRIGGER role_assignments_stamp_update AFTER UPDATE ON role_assignments BEGIN UPDATE users SET auth_stamp = auth_stamp + 1 WHERE id IN (OLD.user_id, NEW.user_id); END;
CREATE TRIGGER role_assignments_stamp_delete AFTER DELETE ON role_assignments BEGIN UPDATE users SET auth_stamp = auth_stamp + 1 WHERE id = OLD.user_id; END;
CREATE TRIGGER grid_registrations_stamp_insert AFTER INSERT ON grid_registrations BEGIN UPDATE users SET auth_stamp = auth_stamp + 1 WHERE id = NEW.member_id; END;
CREATE TRIGGER grid_registrations_stamp_update AFTER UPDATE ON grid_registrations BEGIN UPDATE users SET auth_stamp = auth_stamp + 1 WHERE id IN (OLD.member_id, NEW.member_id); END;
CREATE TRIGGER grid_registrations_stamp_delete AFTER DELETE ON grid_registrations BEGIN UPDATE users SET auth_stamp = auth_stamp + 1 WHERE id = OLD.member_id; END;
CREATE TRIGGER grids_stamp_insert AFTER INSERT ON grids WHEN NEW.parent_id IS NOT NULL BEGIN UPDATE users SET auth_stamp = auth_stamp + 1 WHERE id IN (SELECT user_id FROM role_assignments WHERE grid_id = NEW.parent_id); END;
CREATE TRIGGER grids_stamp_update AFTER UPDATE OF parent_id, community_id ON grids BEGIN UPDATE users SET auth_stamp = auth_stamp + 1 WHERE id IN (SELECT user_id FROM role_assignments WHERE grid_id IN (NEW.id, OLD.parent_id, NEW.parent_id)); END;
"#;

const POSTGRES_TRIGGERS: &str = r#"
CREATE FUNCTION role_assignments_stamp() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF TG_OP <> 'INSERT' THEN UPDATE users SET auth_stamp = auth_stamp + 1 WHERE id = OLD.user_id; END IF; IF TG_OP <> 'DELETE' THEN UPDATE users SET auth_stamp = auth_stamp + 1 WHERE id = NEW.user_id; END IF; RETURN NULL; END $$;
CREATE TRIGGER role_assignments_stamp AFTER INSERT OR UPDATE OR DELETE ON role_assignments FOR EACH ROW EXECUTE FUNCTION role_assignments_stamp();
CREATE FUNCTION grid_registrations_stamp() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF TG_OP <> 'INSERT' THEN UPDATE users SET auth_stamp = auth_stamp + 1 WHERE id = OLD.member_id; END IF; IF TG_OP <> 'DELETE' THEN UPDATE users SET auth_stamp = auth_stamp + 1 WHERE id = NEW.member_id; END IF; RETURN NULL; END $$;
CREATE TRIGGER grid_registrations_stamp AFTER INSERT OR UPDATE OR DELETE ON grid_registrations FOR EACH ROW EXECUTE FUNCTION grid_registrations_stamp();
CREATE FUNCTION grids_stamp() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF TG_OP = 'INSERT' THEN UPDATE users SET auth_stamp = auth_stamp + 1 WHERE id IN (SELECT user_id FROM role_assignments WHERE grid_id = NEW.parent_id); ELSIF NEW.parent_id IS DISTINCT FROM OLD.parent_id OR NEW.community_id <> OLD.community_id THEN UPDATE users SET auth_stamp = auth_stamp + 1 WHERE id IN (SELECT user_id FROM role_assignments WHERE grid_id IN (NEW.id, OLD.parent_id, NEW.parent_id)); END IF; RETURN NULL; END $$;
CREATE TRIGGER grids_stamp AFTER INSERT OR UPDATE ON grids FOR EACH ROW EXECUTE FUNCTION grids_stamp();
"#;

const SQLITE_DOWN: &str = r#"
DROP TRIGGER grids_stamp_update;
DROP TRIGGER grids_stamp_insert;
DROP TRIGGER grid_registrations_stamp_delete;
DROP TRIGGER grid_registrations_stamp_update;
DROP TRIGGER grid_registrations_stamp_insert;
DROP TRIGGER role_assignments_stamp_delete;
DROP TRIGGER role_assignments_stamp_update;
DROP TRIGGER role_assignments_stamp_insert;
ALTER TABLE users DROP COLUMN must_change_password;
ALTER TABLE users DROP COLUMN auth_stamp;
ALTER TABLE users DROP COLUMN token_version;
"#;

const POSTGRES_DOWN: &str = r#"
DROP TRIGGER grids_stamp ON grids;
DROP FUNCTION grids_stamp();
DROP TRIGGER grid_registrations_stamp ON grid_registrations;
DROP FUNCTION grid_registrations_stamp();
DROP TRIGGER role_assignments_stamp ON role_assignments;
DROP FUNCTION role_assignments_stamp();
ALTER TABLE users DROP COLUMN must_change_password;
ALTER TABLE users DROP COLUMN auth_stamp;
ALTER TABLE users DROP COLUMN token_version;
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::run_script(manager, UP).await?;
        crate::run_per_backend(manager, SQLITE_TRIGGERS, POSTGRES_TRIGGERS).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::run_per_backend(manager, SQLITE_DOWN, POSTGRES_DOWN).await
    }
}
