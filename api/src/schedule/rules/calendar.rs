//! Certificates of hours, the student's schedule and the iCalendar feed.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use entity::{
    calendar_token, community, role_assignment::Role, service_slot, shift, shift_signup,
    shift_signup::SignupStatus,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder,
};

use crate::auth::AuthUser;
use crate::core::db;
use crate::core::error::AppError;
use crate::core::error::AppResult;

#[allow(unused_imports)]
use super::*;

/// Hours and shifts per community for a student in `[from, to]` (local dates).
pub struct CertificateLine {
    pub community_id: i64,
    pub minutes: i64,
    pub shifts: i64,
}

/// A student's hours per community, as far as the schedule policy lets the actor read them:
/// the whole certificate for the student, a rep of their organisation and ADMIN; the lines of
/// their own communities for staff.
pub async fn certificate(
    db: &DatabaseConnection,
    actor: &AuthUser,
    student_id: i64,
    from: NaiveDate,
    to: NaiveDate,
) -> AppResult<Vec<CertificateLine>> {
    let student = crate::auth::load_auth_user(db, student_id)
        .await
        .map_err(|_| AppError::NotFound("学生不存在"))?;
    let view = crate::schedule::policy::certificate(actor, student_id, &student.roles);
    if view == crate::schedule::policy::CertificateView::Forbidden {
        return Err(AppError::Forbidden("无权查看该学生的服务证明"));
    }
    if to < from {
        return Err(AppError::bad_field("to", "结束日期不能早于开始日期"));
    }
    let done = shift_signup::Entity::find()
        .filter(shift_signup::Column::StudentId.eq(student_id))
        .filter(shift_signup::Column::Status.eq(SignupStatus::Completed))
        .all(db)
        .await?;
    let shifts = shift::Entity::find()
        .filter(shift::Column::Id.is_in(done.iter().map(|d| d.shift_id).collect::<Vec<_>>()))
        .filter(shift::Column::Date.gte(from))
        .filter(shift::Column::Date.lte(to))
        .all(db)
        .await?;
    let slots = service_slot::Entity::find()
        .filter(
            service_slot::Column::Id.is_in(shifts.iter().map(|s| s.slot_id).collect::<Vec<_>>()),
        )
        .all(db)
        .await?;
    let mut per: BTreeMap<i64, (i64, i64)> = BTreeMap::new();
    for d in &done {
        let Some(sh) = shifts.iter().find(|s| s.id == d.shift_id) else {
            continue;
        };
        let Some(slot) = slots.iter().find(|s| s.id == sh.slot_id) else {
            continue;
        };
        if let crate::schedule::policy::CertificateView::Communities(allowed) = &view
            && !allowed.contains(&slot.community_id)
        {
            continue;
        }
        let e = per.entry(slot.community_id).or_default();
        e.0 += i64::from(d.minutes.unwrap_or(0));
        e.1 += 1;
    }
    Ok(per
        .into_iter()
        .map(|(community_id, (minutes, shifts))| CertificateLine {
            community_id,
            minutes,
            shifts,
        })
        .collect())
}

/// The student's sign-ups (not cancelled) with shifts in `[from, to]`, by start.
pub async fn schedule(
    db: &DatabaseConnection,
    student_id: i64,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> AppResult<Vec<(shift_signup::Model, shift::Model)>> {
    let signups = shift_signup::Entity::find()
        .filter(shift_signup::Column::StudentId.eq(student_id))
        .filter(shift_signup::Column::Status.ne(SignupStatus::Cancelled))
        .all(db)
        .await?;
    let shifts = shift::Entity::find()
        .filter(shift::Column::Id.is_in(signups.iter().map(|s| s.shift_id).collect::<Vec<_>>()))
        .filter(shift::Column::StartsAt.gte(from))
        .filter(shift::Column::StartsAt.lt(to))
        .order_by_asc(shift::Column::StartsAt)
        .all(db)
        .await?;
    Ok(shifts
        .into_iter()
        .filter_map(|sh| {
            signups
                .iter()
                .find(|s| s.shift_id == sh.id)
                .cloned()
                .map(|s| (s, sh))
        })
        .collect())
}

// ---- calendar feed --------------------------------------------------------------------

pub(crate) fn new_token() -> String {
    use argon2::password_hash::rand_core::{OsRng, RngCore};
    let mut bytes = [0u8; 24];
    OsRng.fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Issues a new calendar token for a student (the old one stops working).
pub async fn rotate_calendar_token(db: &DatabaseConnection, actor: &AuthUser) -> AppResult<String> {
    if !actor.has_role(Role::Student) {
        return Err(AppError::Forbidden("只有学生志愿者有排班日历"));
    }
    let token = new_token();
    let txn = db::begin_write(db).await?;
    calendar_token::Entity::delete_many()
        .filter(calendar_token::Column::UserId.eq(actor.id()))
        .exec(&txn)
        .await?;
    calendar_token::ActiveModel {
        user_id: Set(actor.id()),
        token: Set(token.clone()),
        created_at: Set(crate::core::clock::now()),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok(token)
}

/// The iCalendar feed of a token's student: upcoming shifts, UTC times, stable UIDs.
pub async fn calendar_feed(db: &DatabaseConnection, token: &str) -> AppResult<Option<String>> {
    use icalendar::{Calendar, Component, Event, EventLike};
    let Some(row) = calendar_token::Entity::find()
        .filter(calendar_token::Column::Token.eq(token))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    // The feed serves an account that still exists and is active, checked on every fetch.
    let active = entity::user::Entity::find_by_id(row.user_id)
        .one(db)
        .await?
        .is_some_and(|u| u.active);
    if !active {
        return Ok(None);
    }
    let now = crate::core::clock::now();
    let items = schedule(db, row.user_id, now, now + Duration::days(400)).await?;
    let slots = service_slot::Entity::find()
        .filter(
            service_slot::Column::Id
                .is_in(items.iter().map(|(_, sh)| sh.slot_id).collect::<Vec<_>>()),
        )
        .all(db)
        .await?;
    let communities = community::Entity::find()
        .filter(
            community::Column::Id.is_in(slots.iter().map(|s| s.community_id).collect::<Vec<_>>()),
        )
        .all(db)
        .await?;
    let mut cal = Calendar::new();
    cal.name("连心 · 网格员助理排班");
    for (signup, sh) in items {
        if !matches!(
            signup.status,
            SignupStatus::SignedUp | SignupStatus::CheckedIn
        ) {
            continue;
        }
        let Some(slot) = slots.iter().find(|s| s.id == sh.slot_id) else {
            continue;
        };
        let place = communities
            .iter()
            .find(|c| c.id == slot.community_id)
            .map(|c| c.name.clone())
            .unwrap_or_default();
        let tasks: Vec<String> = serde_json::from_str(&slot.tasks).unwrap_or_default();
        let event = Event::new()
            .uid(&format!("lianxin-signup-{}@lianxin", signup.id))
            .summary(&slot.title)
            .description(&tasks.join("；"))
            .location(&place)
            .starts(sh.starts_at)
            .ends(sh.ends_at)
            .done();
        cal.push(event);
    }
    Ok(Some(cal.done().to_string()))
}
