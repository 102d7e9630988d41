//! The outbox: messages written in the caller's transaction, so a rolled-back change notifies
//! no one and a committed one is never lost. One event's messages, to any number of people,
//! are one INSERT … SELECT, and their deliveries one more.

use chrono::{DateTime, Utc};
use entity::{notification, user};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbBackend, Statement,
    sea_query::{Alias, Expr, ExprTrait, OnConflict, Query, SelectStatement},
};

use crate::core::bus::Bus;
use crate::core::error::{AppError, AppResult};
use crate::notify::events::NotificationsAdded;
use crate::notify::kinds::Kind;

/// One message, as each of its recipients will read it (the producing domain writes it
/// through its own read policy: nothing in it that a recipient may not see).
#[derive(Clone, Debug)]
pub struct Message {
    pub kind: Kind,
    /// Up to 100 characters.
    pub title: String,
    /// Up to 500 characters.
    pub body: String,
    /// The mini-program page it opens (`pages/wish/detail?id=12`).
    pub page: Option<String>,
    /// What it is about (`("Wish", 12)`).
    pub subject: Option<(&'static str, i64)>,
    /// The WeChat template's fields, by key (`thing1`, `time2`, `phrase3`, …); the WeChat
    /// channel cuts each to its type's limit.
    pub fields: Vec<(&'static str, String)>,
    /// A reminder is sent once per (recipient, kind, key): writing it again does nothing.
    pub dedup_key: Option<String>,
}

/// Who receives a message: people by id, or the one-column `uid` of a query (so that a
/// message to every rep of a unit, or every member of a grid, is one statement).
pub enum Recipients {
    Users(Vec<i64>),
    Query(Box<SelectStatement>),
}

/// What [`enqueue`] wrote: hand it to [`announce`] once the transaction has committed.
#[derive(Clone, Debug, Default)]
#[must_use = "announce the batch after the commit"]
pub struct Enqueued {
    pub batch: Option<String>,
}

/// A time as WeChat's `time` fields take it, in Asia/Shanghai.
pub fn local_time(t: DateTime<Utc>) -> String {
    t.with_timezone(&chrono_tz::Asia::Shanghai)
        .format("%Y年%m月%d日 %H:%M")
        .to_string()
}

fn batch_id() -> String {
    use argon2::password_hash::rand_core::{OsRng, RngCore};
    let mut buf = [0u8; 16];
    OsRng.fill_bytes(&mut buf);
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

fn cut(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

/// Writes `m` for each recipient (active accounts, each once) and its pending deliveries on
/// the kind's channels, inside the caller's transaction: two statements whatever the number
/// of recipients.
pub async fn enqueue(
    conn: &impl ConnectionTrait,
    recipients: Recipients,
    m: &Message,
) -> AppResult<Enqueued> {
    let ids = match &recipients {
        Recipients::Users(ids) if ids.is_empty() => return Ok(Enqueued::default()),
        Recipients::Users(ids) => Some(ids.clone()),
        Recipients::Query(_) => None,
    };
    let backend = conn.get_database_backend();
    let now = crate::core::clock::now();
    let batch = batch_id();
    let fields: serde_json::Map<String, serde_json::Value> = m
        .fields
        .iter()
        .map(|(k, v)| ((*k).to_owned(), serde_json::Value::String(v.clone())))
        .collect();
    let r = Alias::new("r");
    let uid = Alias::new("uid");
    let mut select = Query::select();
    select.distinct();
    match recipients {
        Recipients::Users(_) => {
            select
                .expr(Expr::col((user::Entity, user::Column::Id)))
                .from(user::Entity)
                .and_where(
                    Expr::col((user::Entity, user::Column::Id)).is_in(ids.unwrap_or_default()),
                );
        }
        Recipients::Query(q) => {
            select
                .expr(Expr::col((r.clone(), uid.clone())))
                .from_subquery(*q, r.clone())
                .inner_join(
                    user::Entity,
                    Expr::col((user::Entity, user::Column::Id)).equals((r, uid)),
                );
        }
    }
    select
        .and_where(Expr::col((user::Entity, user::Column::Active)).eq(true))
        .and_where(Expr::col((user::Entity, user::Column::ErasedAt)).is_null())
        .expr(Expr::val(m.kind.as_str()))
        .expr(Expr::val(m.kind.urgent()))
        .expr(Expr::val(cut(&m.title, 100)))
        .expr(Expr::val(cut(&m.body, 500)))
        .expr(Expr::val(m.page.clone()))
        .expr(Expr::val(m.subject.map(|s| s.0.to_owned())))
        .expr(Expr::val(m.subject.map(|s| s.1)))
        .expr(Expr::val(serde_json::Value::Object(fields).to_string()))
        .expr(Expr::val(m.dedup_key.clone()))
        .expr(Expr::val(batch.clone()))
        .expr(Expr::val(now));
    use notification::Column as C;
    let mut insert = Query::insert();
    insert
        .into_table(notification::Entity)
        .columns([
            C::RecipientId,
            C::Kind,
            C::Urgent,
            C::Title,
            C::Body,
            C::Page,
            C::SubjectType,
            C::SubjectId,
            C::Fields,
            C::DedupKey,
            C::Batch,
            C::CreatedAt,
        ])
        .select_from(select)
        .map_err(|e| AppError::internal(format!("outbox insert: {e}")))?;
    if m.dedup_key.is_some() {
        // A reminder already written for this recipient is not written again.
        insert.on_conflict(OnConflict::new().do_nothing().to_owned());
    }
    let written = conn
        .execute_raw(backend.build(&insert))
        .await?
        .rows_affected();
    if written == 0 {
        return Ok(Enqueued::default());
    }
    deliveries(conn, backend, m.kind, &batch, now).await?;
    Ok(Enqueued { batch: Some(batch) })
}

/// The pending deliveries of a batch on its kind's channels, in one statement.
async fn deliveries(
    conn: &impl ConnectionTrait,
    backend: DbBackend,
    kind: Kind,
    batch: &str,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let channels = kind.channels();
    if channels.is_empty() {
        return Ok(());
    }
    let (batch_at, now_at) = match backend {
        DbBackend::Postgres => ("$1", "$2"),
        _ => ("?", "?"),
    };
    let mut parts = Vec::new();
    let mut values: Vec<sea_orm::Value> = Vec::new();
    for (i, c) in channels.iter().enumerate() {
        let channel = match c {
            entity::notification_delivery::Channel::Wechat => "WECHAT",
            entity::notification_delivery::Channel::Sms => "SMS",
            entity::notification_delivery::Channel::Email => "EMAIL",
        };
        parts.push(format!(
            "SELECT id, '{channel}', 'PENDING', 0, {now_at}, {now_at}, {now_at} FROM notifications WHERE batch = {batch_at}"
        ));
        if backend != DbBackend::Postgres || i == 0 {
            values.extend([now.into(), now.into(), now.into(), batch.into()]);
        }
    }
    if backend == DbBackend::Postgres {
        // Numbered parameters are shared by every part.
        values = vec![batch.into(), now.into()];
    }
    let sql = format!(
        "INSERT INTO notification_deliveries (notification_id, channel, status, attempts, next_attempt_at, created_at, updated_at) {}",
        parts.join(" UNION ALL ")
    );
    conn.execute_raw(Statement::from_sql_and_values(backend, sql, values))
        .await?;
    Ok(())
}

/// Tells the inbox subscriptions and the sender that a batch committed.
pub async fn announce(db: &DatabaseConnection, events: &Bus, enqueued: Enqueued) {
    if let Some(batch) = enqueued.batch {
        events.publish(db, NotificationsAdded { batch }).await;
    }
}

/// Announces several batches (an event that wrote messages of several kinds).
pub async fn announce_all(db: &DatabaseConnection, events: &Bus, batches: Vec<Enqueued>) {
    for b in batches {
        announce(db, events, b).await;
    }
}
