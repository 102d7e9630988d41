use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261207_000001_add_sessions_wechat_uploads_events"
    }
}

/// The mini-program contract.
///
/// - `refresh_tokens`: one row per refresh token issued (its SHA-256, never the token), in
///   families that start at a login; a token is used once (`used_at`), and a family ends
///   (`revoked_at`) when a retired token is presented again. Raising a user's token version
///   (password change or reset, `logoutEverywhere`, erasure) or deactivating them ends every
///   refresh token of theirs, by trigger, whatever code path did it.
/// - `wechat_bindings`: one WeChat openid per account and one account per openid.
/// - `pending_uploads`: a file uploaded on its own (`POST /uploads`), already checked, kept
///   for its owner until a mutation attaches it or the expiry job removes it.
/// - `live_events`: every event the bus publishes, with a monotonically increasing id (the
///   cursor a subscription resumes `after`), kept for a bounded time.
const UP: &str = r#"
CREATE TABLE refresh_tokens (
    id {id},
    user_id BIGINT NOT NULL REFERENCES users(id),
    family TEXT NOT NULL CHECK (length(family) = 32),
    token_hash TEXT NOT NULL UNIQUE CHECK (length(token_hash) = 64),
    token_version BIGINT NOT NULL,
    created_at {ts} NOT NULL,
    expires_at {ts} NOT NULL,
    used_at {ts},
    revoked_at {ts},
    CHECK (expires_at > created_at)
);
CREATE INDEX refresh_tokens_family ON refresh_tokens(family);
CREATE INDEX refresh_tokens_user ON refresh_tokens(user_id);
CREATE UNIQUE INDEX refresh_tokens_one_live_per_family ON refresh_tokens(family) WHERE used_at IS NULL AND revoked_at IS NULL;
CREATE TABLE wechat_bindings (
    user_id BIGINT PRIMARY KEY REFERENCES users(id),
    openid TEXT NOT NULL UNIQUE CHECK (length(openid) BETWEEN 1 AND 128),
    bound_at {ts} NOT NULL
);
CREATE TABLE pending_uploads (
    id {id},
    owner_id BIGINT NOT NULL REFERENCES users(id),
    purpose TEXT NOT NULL CHECK (purpose IN ('INCIDENT_PHOTO', 'WISH_PHOTO', 'PEOPLE_IMPORT')),
    media_type TEXT NOT NULL,
    content {bytes} NOT NULL,
    size INTEGER NOT NULL CHECK (size > 0 AND size <= 10485760),
    width INTEGER,
    height INTEGER,
    thumbnail {bytes},
    created_at {ts} NOT NULL,
    CHECK ((purpose = 'PEOPLE_IMPORT') = (thumbnail IS NULL)),
    CHECK (purpose = 'PEOPLE_IMPORT' OR (media_type IN ('image/jpeg', 'image/png', 'image/webp') AND size <= 5242880 AND width > 0 AND height > 0))
);
CREATE INDEX pending_uploads_owner ON pending_uploads(owner_id);
CREATE INDEX pending_uploads_created ON pending_uploads(created_at);
CREATE TABLE live_events (
    id {id},
    topic TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at {ts} NOT NULL
);
CREATE INDEX live_events_topic ON live_events(topic, id);
CREATE INDEX live_events_created ON live_events(created_at);
"#;

const SQLITE_TRIGGERS: &str = r#"
CREATE TRIGGER users_end_refresh_tokens AFTER UPDATE OF token_version, active ON users WHEN NEW.token_version <> OLD.token_version OR NOT NEW.active BEGIN UPDATE refresh_tokens SET revoked_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE user_id = NEW.id AND revoked_at IS NULL; END;
"#;

const POSTGRES_TRIGGERS: &str = r#"
CREATE FUNCTION users_end_refresh_tokens() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW.token_version <> OLD.token_version OR NOT NEW.active THEN UPDATE refresh_tokens SET revoked_at = now() WHERE user_id = NEW.id AND revoked_at IS NULL; END IF; RETURN NULL; END $$;
CREATE TRIGGER users_end_refresh_tokens AFTER UPDATE ON users FOR EACH ROW EXECUTE FUNCTION users_end_refresh_tokens()
"#;

const SQLITE_DOWN: &str = r#"
DROP TRIGGER users_end_refresh_tokens;
"#;

const POSTGRES_DOWN: &str = r#"
DROP TRIGGER users_end_refresh_tokens ON users;
DROP FUNCTION users_end_refresh_tokens()
"#;

const DOWN: &str = r#"
DROP TABLE live_events;
DROP TABLE pending_uploads;
DROP TABLE wechat_bindings;
DROP TABLE refresh_tokens;
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::run_script(manager, UP).await?;
        crate::run_per_backend(manager, SQLITE_TRIGGERS, POSTGRES_TRIGGERS).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::run_per_backend(manager, SQLITE_DOWN, POSTGRES_DOWN).await?;
        crate::run_script(manager, DOWN).await
    }
}
