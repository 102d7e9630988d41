use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261208_000001_add_notifications"
    }
}

/// Notifications (消息提醒).
///
/// - `notifications`: one row per message to one person, written in the same transaction as
///   the change that causes it (the outbox); it is also the person's in-app inbox. `batch`
///   groups the rows of one event, so that their deliveries are written in one statement.
///   `dedup_key` makes a scheduled reminder once per (recipient, kind, subject), across
///   restarts and instances.
/// - `notification_deliveries`: one row per message and outside channel (WeChat subscription
///   message, SMS, email): PENDING until due, SENDING under a lease held by one sender,
///   then SENT, FAILED (after the last retry, with the provider's reason) or SKIPPED (with
///   why: no consent, quiet hours, channel off, no address).
/// - `notification_preferences`: a person's channels per kind and quiet hours.
/// - `wechat_consents`: how many one-time subscription messages a person has allowed per
///   template (one tap, one message).
const UP: &str = r#"
CREATE TABLE notifications (
    id {id},
    recipient_id BIGINT NOT NULL REFERENCES users(id),
    kind TEXT NOT NULL CHECK (length(kind) BETWEEN 1 AND 40),
    urgent {bool} NOT NULL DEFAULT {false},
    title TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 100),
    body TEXT NOT NULL CHECK (length(body) <= 500),
    page TEXT CHECK (page IS NULL OR length(page) <= 200),
    subject_type TEXT,
    subject_id BIGINT,
    fields TEXT NOT NULL DEFAULT '{}',
    dedup_key TEXT CHECK (dedup_key IS NULL OR length(dedup_key) <= 100),
    batch TEXT NOT NULL CHECK (length(batch) = 32),
    created_at {ts} NOT NULL,
    read_at {ts},
    CHECK (read_at IS NULL OR read_at >= created_at)
);
CREATE INDEX notifications_inbox ON notifications(recipient_id, id);
CREATE INDEX notifications_batch ON notifications(batch);
CREATE INDEX notifications_created ON notifications(created_at);
CREATE UNIQUE INDEX notifications_once ON notifications(recipient_id, kind, dedup_key) WHERE dedup_key IS NOT NULL;
CREATE TABLE notification_deliveries (
    id {id},
    notification_id BIGINT NOT NULL REFERENCES notifications(id) ON DELETE CASCADE,
    channel TEXT NOT NULL CHECK (channel IN ('WECHAT', 'SMS', 'EMAIL')),
    status TEXT NOT NULL CHECK (status IN ('PENDING', 'SENDING', 'SENT', 'FAILED', 'SKIPPED')),
    attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0 AND attempts <= 20),
    next_attempt_at {ts} NOT NULL,
    lease_until {ts},
    worker TEXT,
    reason TEXT CHECK (reason IS NULL OR length(reason) <= 300),
    provider_ref TEXT,
    created_at {ts} NOT NULL,
    updated_at {ts} NOT NULL,
    UNIQUE (notification_id, channel),
    CHECK (status <> 'SENDING' OR (lease_until IS NOT NULL AND worker IS NOT NULL)),
    CHECK (status NOT IN ('FAILED', 'SKIPPED') OR reason IS NOT NULL)
);
CREATE INDEX notification_deliveries_due ON notification_deliveries(status, next_attempt_at);
CREATE TABLE notification_preferences (
    user_id BIGINT PRIMARY KEY REFERENCES users(id),
    quiet_start TEXT NOT NULL CHECK (length(quiet_start) = 5),
    quiet_end TEXT NOT NULL CHECK (length(quiet_end) = 5),
    channels TEXT NOT NULL DEFAULT '{}',
    updated_at {ts} NOT NULL
);
CREATE TABLE wechat_consents (
    user_id BIGINT NOT NULL REFERENCES users(id),
    template_id TEXT NOT NULL CHECK (length(template_id) BETWEEN 1 AND 64),
    remaining INTEGER NOT NULL CHECK (remaining >= 0 AND remaining <= 1000),
    updated_at {ts} NOT NULL,
    PRIMARY KEY (user_id, template_id)
);
"#;

const DOWN: &str = r#"
DROP TABLE wechat_consents;
DROP TABLE notification_preferences;
DROP TABLE notification_deliveries;
DROP TABLE notifications;
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::run_script(manager, UP).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::run_script(manager, DOWN).await
    }
}
