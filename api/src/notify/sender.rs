//! The sender: takes due deliveries under a lease and delivers them, once each.
//!
//! A round takes up to `batch` deliveries that are due (PENDING and past their next attempt,
//! or SENDING under a lease that ran out: a sender that died holding them) in one statement —
//! on PostgreSQL `FOR UPDATE SKIP LOCKED`, so several instances each take different rows; on
//! SQLite one writer. Each delivery is then sent and settled: SENT, SKIPPED with why, PENDING
//! again after an exponential backoff, or FAILED after the last attempt with the provider's
//! reason. Settling is conditional on still holding the lease.
//!
//! Crash safety: after `kill -9` nothing is lost (the rows are in the database); what was in
//! flight at the crash is taken again once its lease runs out, so at most those messages are
//! sent twice.

use std::time::Duration;

use chrono::{DateTime, Timelike, Utc};
use entity::{
    notification, notification_delivery, notification_delivery::Channel,
    notification_delivery::DeliveryStatus, notification_preference, wechat_binding,
};
use sea_orm::{
    ColumnTrait, DatabaseConnection, DbBackend, EntityTrait, FromQueryResult, QueryFilter,
    Statement, sea_query::Expr,
};

use crate::core::bus::Bus;
use crate::core::config::Config;
use crate::core::error::AppResult;
pub use crate::notify::delivery::{Outcome, Outgoing};
use crate::notify::events::NotificationsAdded;

/// Quiet hours when a person has set none: 22:00–07:00, Asia/Shanghai.
pub const DEFAULT_QUIET: (&str, &str) = ("22:00", "07:00");

fn minutes(hhmm: &str) -> Option<u32> {
    let (h, m) = hhmm.split_once(':')?;
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    (h < 24 && m < 60).then_some(h * 60 + m)
}

/// Whether the local time of `now` falls in the quiet hours `start`–`end` (which may span
/// midnight; equal ends: none).
pub fn in_quiet_hours(now: DateTime<Utc>, start: &str, end: &str) -> bool {
    let local = now.with_timezone(&chrono_tz::Asia::Shanghai);
    let t = local.hour() * 60 + local.minute();
    match (minutes(start), minutes(end)) {
        (Some(s), Some(e)) if s < e => s <= t && t < e,
        (Some(s), Some(e)) if s > e => t >= s || t < e,
        _ => false,
    }
}

/// Whether a person's preferences let a kind go on a channel (absent: every channel).
pub fn channel_on(
    preferences: Option<&notification_preference::Model>,
    kind: &str,
    channel: Channel,
) -> bool {
    let Some(p) = preferences else {
        return true;
    };
    let map: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&p.channels).unwrap_or_default();
    match map.get(kind).and_then(|v| v.as_array()) {
        None => true,
        Some(list) => list
            .iter()
            .any(|c| c.as_str() == Some(channel_name(channel))),
    }
}

pub fn channel_name(c: Channel) -> &'static str {
    match c {
        Channel::Wechat => "WECHAT",
        Channel::Sms => "SMS",
        Channel::Email => "EMAIL",
    }
}

/// Takes up to `config.notify.batch` due deliveries for `worker`.
async fn take(
    db: &DatabaseConnection,
    config: &Config,
    worker: &str,
    now: DateTime<Utc>,
) -> AppResult<Vec<notification_delivery::Model>> {
    let backend = db.get_database_backend();
    let lease = now + chrono::Duration::from_std(config.notify.lease).unwrap_or_default();
    let limit = config.notify.batch.max(1);
    let (sql, values): (String, Vec<sea_orm::Value>) = if backend == DbBackend::Postgres {
        (
            format!(
                "UPDATE notification_deliveries SET status = 'SENDING', worker = $1, lease_until = $2, attempts = attempts + 1, updated_at = $3 \
                 WHERE id IN (SELECT id FROM notification_deliveries \
                 WHERE (status = 'PENDING' AND next_attempt_at <= $3) OR (status = 'SENDING' AND lease_until < $3) \
                 ORDER BY next_attempt_at, id LIMIT {limit} FOR UPDATE SKIP LOCKED) RETURNING *"
            ),
            vec![worker.into(), lease.into(), now.into()],
        )
    } else {
        (
            format!(
                "UPDATE notification_deliveries SET status = 'SENDING', worker = ?, lease_until = ?, attempts = attempts + 1, updated_at = ? \
                 WHERE id IN (SELECT id FROM notification_deliveries \
                 WHERE (status = 'PENDING' AND next_attempt_at <= ?) OR (status = 'SENDING' AND lease_until < ?) \
                 ORDER BY next_attempt_at, id LIMIT {limit}) RETURNING *"
            ),
            vec![
                worker.into(),
                lease.into(),
                now.into(),
                now.into(),
                now.into(),
            ],
        )
    };
    Ok(
        notification_delivery::Model::find_by_statement(Statement::from_sql_and_values(
            backend, sql, values,
        ))
        .all(db)
        .await?,
    )
}

/// Records an outcome, if `worker` still holds the delivery.
async fn settle(
    db: &DatabaseConnection,
    config: &Config,
    worker: &str,
    d: &notification_delivery::Model,
    outcome: Outcome,
) -> AppResult<()> {
    use notification_delivery::Column as C;
    let now = crate::core::clock::now();
    let mut q = notification_delivery::Entity::update_many()
        .filter(C::Id.eq(d.id))
        .filter(C::Status.eq(DeliveryStatus::Sending))
        .filter(C::Worker.eq(worker))
        .col_expr(C::UpdatedAt, Expr::value(now))
        .col_expr(C::LeaseUntil, Expr::value(Option::<DateTime<Utc>>::None));
    let (status, reason) = match outcome {
        Outcome::Sent(reference) => {
            q = q.col_expr(C::ProviderRef, Expr::value(reference));
            (DeliveryStatus::Sent, None)
        }
        Outcome::Skipped(why) => (DeliveryStatus::Skipped, Some(why)),
        Outcome::Failed(why) => (DeliveryStatus::Failed, Some(why)),
        Outcome::Retry(why) if d.attempts >= config.notify.max_attempts => (
            DeliveryStatus::Failed,
            Some(format!("{why}（已尝试 {} 次）", d.attempts)),
        ),
        Outcome::Retry(why) => {
            let exp = u32::try_from(d.attempts.saturating_sub(1))
                .unwrap_or(0)
                .min(16);
            let delay = config
                .notify
                .retry_base
                .saturating_mul(2u32.saturating_pow(exp));
            let next = now + chrono::Duration::from_std(delay).unwrap_or_default();
            q = q.col_expr(C::NextAttemptAt, Expr::value(next));
            (DeliveryStatus::Pending, Some(why))
        }
    };
    let reason = reason.map(|r| r.chars().take(300).collect::<String>());
    q.col_expr(C::Status, Expr::value(status))
        .col_expr(C::Reason, Expr::value(reason))
        .exec(db)
        .await?;
    Ok(())
}

/// One round: takes due deliveries, sends and settles them; how many were handled.
pub async fn run_once(db: &DatabaseConnection, config: &Config, worker: &str) -> AppResult<usize> {
    let now = crate::core::clock::now();
    let taken = take(db, config, worker, now).await?;
    if taken.is_empty() {
        return Ok(0);
    }
    let ids: Vec<i64> = taken.iter().map(|d| d.notification_id).collect();
    let messages = notification::Entity::find()
        .filter(notification::Column::Id.is_in(ids))
        .all(db)
        .await?;
    let people: Vec<i64> = messages.iter().map(|m| m.recipient_id).collect();
    let bindings = wechat_binding::Entity::find()
        .filter(wechat_binding::Column::UserId.is_in(people.clone()))
        .all(db)
        .await?;
    let preferences = notification_preference::Entity::find()
        .filter(notification_preference::Column::UserId.is_in(people.clone()))
        .all(db)
        .await?;
    let phones: Vec<(i64, Option<String>)> = entity::user::Entity::find()
        .filter(entity::user::Column::Id.is_in(people))
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.id, u.phone))
        .collect();
    let handled = taken.len();
    for d in taken {
        let Some(message) = messages.iter().find(|m| m.id == d.notification_id).cloned() else {
            continue;
        };
        let prefs = preferences
            .iter()
            .find(|p| p.user_id == message.recipient_id);
        let (quiet_start, quiet_end) = prefs
            .map(|p| (p.quiet_start.as_str(), p.quiet_end.as_str()))
            .unwrap_or(DEFAULT_QUIET);
        let outcome = if !channel_on(prefs, &message.kind, d.channel) {
            Outcome::Skipped("已在偏好中关闭该渠道".into())
        } else if !message.urgent && in_quiet_hours(now, quiet_start, quiet_end) {
            Outcome::Skipped("免打扰时段".into())
        } else {
            let out = Outgoing {
                openid: bindings
                    .iter()
                    .find(|b| b.user_id == message.recipient_id)
                    .map(|b| b.openid.clone()),
                phone: phones
                    .iter()
                    .find(|(id, _)| *id == message.recipient_id)
                    .and_then(|(_, p)| p.clone()),
                delivery: d.clone(),
                message,
            };
            match d.channel {
                Channel::Wechat => super::wechat::deliver(db, config, &out).await,
                Channel::Sms => super::sms::deliver(db, config, &out).await,
                Channel::Email => Outcome::Skipped("未配置邮件服务".into()),
            }
        };
        settle(db, config, worker, &d, outcome).await?;
    }
    Ok(handled)
}

/// A name for this server's sender, unique among instances.
pub fn worker_name() -> String {
    use argon2::password_hash::rand_core::{OsRng, RngCore};
    format!("{}-{:08x}", std::process::id(), OsRng.next_u32())
}

/// Runs the sender for the life of the server: a round whenever messages were added (or
/// every few seconds, for retries and leases that ran out).
pub fn spawn(db: DatabaseConnection, config: std::sync::Arc<Config>, events: Bus) {
    if !config.notify.run_sender {
        return;
    }
    let mut added = events.subscribe::<NotificationsAdded>();
    tokio::spawn(async move {
        let worker = worker_name();
        loop {
            match run_once(&db, &config, &worker).await {
                Ok(n) if n > 0 => continue,
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e.message(), "notification round failed"),
            }
            tokio::select! {
                _ = added.recv() => {}
                _ = tokio::time::sleep(Duration::from_secs(5)) => {}
            }
        }
    });
}
