//! Shift reminders: each student signed up for a shift is reminded at 20:00 (Asia/Shanghai)
//! the evening before and one hour before it starts — once each, whatever restarts or
//! instances run the job (the outbox writes a reminder once per recipient, kind and key).
//! One runner at a time: a PostgreSQL advisory lock across instances, a lock in the process
//! on SQLite.

use chrono::{DateTime, Duration, NaiveTime, Utc};
use entity::{service_slot, shift, shift_signup, shift_signup::SignupStatus};
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect, QueryTrait,
    TransactionTrait,
    sea_query::{Alias, Expr},
};

use crate::core::bus::Bus;
use crate::core::error::AppResult;
use crate::notify::kinds::Kind;
use crate::notify::outbox::{self, Message, Recipients, local_time};

const REMINDER_LOCK: i64 = 0x6c69_616e_7869_6e02;

static RUNNING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The evening reminder's local time.
const EVENING: (u32, u32) = (20, 0);

/// Which reminder of a shift.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Reminder {
    /// 20:00 the evening before.
    Evening,
    /// One hour before the start.
    HourBefore,
}

/// The students signed up (not cancelled, not yet checked in) for a shift.
fn signed_up(shift_id: i64) -> Recipients {
    let mut q = shift_signup::Entity::find()
        .select_only()
        .filter(shift_signup::Column::ShiftId.eq(shift_id))
        .filter(shift_signup::Column::Status.eq(SignupStatus::SignedUp))
        .into_query();
    q.expr_as(
        Expr::col(shift_signup::Column::StudentId),
        Alias::new("uid"),
    );
    Recipients::Query(Box::new(q))
}

fn message(which: Reminder, sh: &shift::Model, slot: &service_slot::Model) -> Message {
    let (title, key) = match which {
        Reminder::Evening => ("明日服务提醒", "evening"),
        Reminder::HourBefore => ("服务一小时后开始", "hour"),
    };
    Message {
        kind: Kind::ShiftReminder,
        title: title.into(),
        body: format!(
            "「{}」{} 开始（{}–{}），请准时到岗。",
            slot.title,
            local_time(sh.starts_at),
            slot.start_time,
            slot.end_time
        ),
        page: Some(format!("pages/schedule/shift?id={}", sh.id)),
        subject: Some(("Shift", sh.id)),
        fields: vec![
            ("thing1", slot.title.clone()),
            ("time2", local_time(sh.starts_at)),
            ("phrase3", "请准时".into()),
        ],
        dedup_key: Some(format!("shift-{}-{key}", sh.id)),
    }
}

/// Writes the reminders due at `now`: the hour-before ones of shifts starting within the
/// hour, and, from 20:00, the evening ones of tomorrow's shifts. Returns how many shifts had
/// a reminder written (a reminder already written is not written again).
pub async fn remind_due(
    db: &DatabaseConnection,
    events: &Bus,
    now: DateTime<Utc>,
) -> AppResult<usize> {
    let Ok(_running) = RUNNING.try_lock() else {
        return Ok(0);
    };
    let txn = db.begin().await?;
    if !crate::core::db::try_job_lock(&txn, REMINDER_LOCK).await? {
        return Ok(0);
    }
    let local = now.with_timezone(&chrono_tz::Asia::Shanghai);
    let mut due: Vec<(Reminder, shift::Model)> = shift::Entity::find()
        .filter(shift::Column::StartsAt.gt(now))
        .filter(shift::Column::StartsAt.lte(now + Duration::hours(1)))
        .all(&txn)
        .await?
        .into_iter()
        .map(|s| (Reminder::HourBefore, s))
        .collect();
    let evening = NaiveTime::from_hms_opt(EVENING.0, EVENING.1, 0).unwrap_or_default();
    if local.time() >= evening {
        let tomorrow = local.date_naive() + Duration::days(1);
        due.extend(
            shift::Entity::find()
                .filter(shift::Column::Date.eq(tomorrow))
                .filter(shift::Column::StartsAt.gt(now))
                .all(&txn)
                .await?
                .into_iter()
                .map(|s| (Reminder::Evening, s)),
        );
    }
    let mut told = Vec::new();
    for (which, sh) in &due {
        let Some(slot) = service_slot::Entity::find_by_id(sh.slot_id)
            .one(&txn)
            .await?
        else {
            continue;
        };
        told.push(outbox::enqueue(&txn, signed_up(sh.id), &message(*which, sh, &slot)).await?);
    }
    txn.commit().await?;
    let written = told.iter().filter(|t| t.batch.is_some()).count();
    outbox::announce_all(db, events, told).await;
    Ok(written)
}

/// Runs [`remind_due`] every minute for the life of the server.
pub fn spawn_job(db: DatabaseConnection, events: Bus) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
        loop {
            tick.tick().await;
            if let Err(e) = remind_due(&db, &events, crate::core::clock::now()).await {
                tracing::warn!(error = %e.message(), "shift reminders not written");
            }
        }
    });
}
