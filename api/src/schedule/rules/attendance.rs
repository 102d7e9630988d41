//! Attendance: check-in, check-out crediting hours and points once, no-shows.

use chrono::{DateTime, Duration, Utc};
use entity::{
    grid,
    ledger_entry::{EntryKind, EntrySource},
    service_slot, shift, shift_signup,
    shift_signup::SignupStatus,
};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, sea_query::Expr};

use crate::auth::AuthUser;
use crate::bank::rules as bank;
use crate::core::bus::Bus;
use crate::core::config::Config;
use crate::core::db;
use crate::core::db::get;
use crate::core::error::AppError;
use crate::core::error::AppResult;
use crate::core::error::ErrorReason;
use crate::schedule::events::ShiftEventKind;

#[allow(unused_imports)]
use super::*;

/// Who records attendance: a grid worker of the slot's grid (any grid of the community
/// when the slot has none) or staff of the community.
pub(crate) async fn check_attendance_taker(
    db: &DatabaseConnection,
    actor: &AuthUser,
    slot: &service_slot::Model,
) -> AppResult<()> {
    if actor.is_staff_of(slot.community_id) {
        return Ok(());
    }
    let ok = match slot.grid_id {
        Some(g) => actor.is_worker_of(&get::<grid::Entity, _>(db, g, "网格不存在").await?),
        None => actor.is_worker_in(slot.community_id),
    };
    if ok {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "只有本网格网格员或社区工作者可以登记考勤",
        ))
    }
}

pub(crate) async fn load_signup(
    db: &DatabaseConnection,
    signup_id: i64,
) -> AppResult<(shift_signup::Model, shift::Model, service_slot::Model)> {
    let s = get::<shift_signup::Entity, _>(db, signup_id, "报名记录不存在").await?;
    let sh = get::<shift::Entity, _>(db, s.shift_id, "班次不存在").await?;
    let slot = get::<service_slot::Entity, _>(db, sh.slot_id, "排班不存在").await?;
    Ok((s, sh, slot))
}

/// Checks a student in, at `at` (default now): from an hour before the start to the end.
pub async fn check_in(
    db: &DatabaseConnection,
    events: &Bus,
    actor: &AuthUser,
    signup_id: i64,
    at: Option<DateTime<Utc>>,
) -> AppResult<shift_signup::Model> {
    let (s, sh, slot) = load_signup(db, signup_id).await?;
    check_attendance_taker(db, actor, &slot).await?;
    let now = crate::core::clock::now();
    let at = at.unwrap_or(now);
    if at > now + Duration::minutes(1) {
        return Err(AppError::bad_field("at", "签到时间不能晚于现在"));
    }
    if at < sh.starts_at - Duration::hours(1) || at > sh.ends_at {
        return Err(AppError::bad_field(
            "at",
            "签到时间须在班次开始前一小时至结束之间",
        ));
    }
    if s.status != SignupStatus::SignedUp {
        return Err(AppError::invalid_state(
            ErrorReason::CheckInNotAllowed,
            "该报名当前不能签到",
        ));
    }
    let res = shift_signup::Entity::update_many()
        .col_expr(
            shift_signup::Column::Status,
            Expr::value(SignupStatus::CheckedIn),
        )
        .col_expr(shift_signup::Column::CheckedInAt, Expr::value(at))
        .col_expr(shift_signup::Column::AttendanceBy, Expr::value(actor.id()))
        .filter(shift_signup::Column::Id.eq(s.id))
        .filter(shift_signup::Column::Status.eq(SignupStatus::SignedUp))
        .exec(db)
        .await?;
    if res.rows_affected != 1 {
        return Err(AppError::invalid_state(
            ErrorReason::CheckInNotAllowed,
            "该报名当前不能签到",
        ));
    }
    let s = get::<shift_signup::Entity, _>(db, s.id, "报名记录不存在").await?;
    announce(db, events, ShiftEventKind::CheckedIn, sh.slot_id, &s).await;
    Ok(s)
}

/// Checks a student out: credits the hours (check-out minus check-in, capped at the shift's
/// length) and deposits the points, once, in one transaction.
pub async fn check_out(
    db: &DatabaseConnection,
    config: &Config,
    actor: &AuthUser,
    signup_id: i64,
    at: Option<DateTime<Utc>>,
) -> AppResult<shift_signup::Model> {
    let (s, sh, slot) = load_signup(db, signup_id).await?;
    check_attendance_taker(db, actor, &slot).await?;
    if s.status != SignupStatus::CheckedIn {
        return Err(AppError::invalid_state(
            ErrorReason::CheckOutNotAllowed,
            "该报名当前不能签退",
        ));
    }
    let checked_in = s
        .checked_in_at
        .ok_or_else(|| AppError::invalid_state(ErrorReason::NotCheckedIn, "尚未签到"))?;
    let now = crate::core::clock::now();
    let at = at.unwrap_or(now);
    if at > now + Duration::minutes(1) {
        return Err(AppError::bad_field("at", "签退时间不能晚于现在"));
    }
    if at < checked_in {
        return Err(AppError::bad_field("at", "签退时间不能早于签到时间"));
    }
    let length = (sh.ends_at - sh.starts_at).num_minutes();
    let minutes = (at - checked_in).num_minutes().clamp(0, length);
    let txn = db::begin_write(db).await?;
    let res = shift_signup::Entity::update_many()
        .col_expr(
            shift_signup::Column::Status,
            Expr::value(SignupStatus::Completed),
        )
        .col_expr(shift_signup::Column::CheckedOutAt, Expr::value(at))
        .col_expr(shift_signup::Column::Minutes, Expr::value(minutes as i32))
        .col_expr(shift_signup::Column::AttendanceBy, Expr::value(actor.id()))
        .filter(shift_signup::Column::Id.eq(s.id))
        .filter(shift_signup::Column::Status.eq(SignupStatus::CheckedIn))
        .exec(&txn)
        .await?;
    if res.rows_affected != 1 {
        return Err(AppError::invalid_state(
            ErrorReason::CheckOutNotAllowed,
            "该报名当前不能签退",
        ));
    }
    let points = minutes * config.points_per_hour / 60;
    if points > 0 {
        let book =
            bank::ensure_passbook(&txn, s.student_id, slot.community_id, slot.grid_id).await?;
        bank::post(
            &txn,
            bank::Posting {
                passbook_id: book.id,
                amount: points,
                kind: EntryKind::Earn,
                source: EntrySource::Shift,
                source_id: Some(s.id),
                memo: format!("网格员助理服务：{} {}", slot.title, sh.date),
                operator_id: Some(actor.id()),
                reverses: None,
                at: None,
            },
        )
        .await?;
    }
    txn.commit().await?;
    get::<shift_signup::Entity, _>(db, s.id, "报名记录不存在").await
}

/// Marks a student who did not come, once the shift has started.
pub async fn mark_no_show(
    db: &DatabaseConnection,
    actor: &AuthUser,
    signup_id: i64,
) -> AppResult<shift_signup::Model> {
    let (s, sh, slot) = load_signup(db, signup_id).await?;
    check_attendance_taker(db, actor, &slot).await?;
    if crate::core::clock::now() < sh.starts_at {
        return Err(AppError::invalid_state(
            ErrorReason::ShiftNotStarted,
            "班次尚未开始",
        ));
    }
    let res = shift_signup::Entity::update_many()
        .col_expr(
            shift_signup::Column::Status,
            Expr::value(SignupStatus::NoShow),
        )
        .col_expr(shift_signup::Column::AttendanceBy, Expr::value(actor.id()))
        .filter(shift_signup::Column::Id.eq(s.id))
        .filter(shift_signup::Column::Status.eq(SignupStatus::SignedUp))
        .exec(db)
        .await?;
    if res.rows_affected != 1 {
        return Err(AppError::invalid_state(
            ErrorReason::NoShowNotAllowed,
            "只有已报名未签到的学生可以记为缺勤",
        ));
    }
    get::<shift_signup::Entity, _>(db, s.id, "报名记录不存在").await
}
