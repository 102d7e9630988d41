//! Sign-ups: never more than capacity, no overlap for one student, single or for a series,
//! and cancellation.

use chrono::{Duration, NaiveTime, Utc};
use entity::{
    role_assignment::Role, service_slot, shift, shift_signup, shift_signup::SignupStatus, user,
};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, DatabaseConnection, DbBackend, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
    sea_query::{Expr, ExprTrait},
};

use crate::auth::AuthUser;
use crate::core::config::Config;
use crate::core::db;
use crate::core::db::get;
use crate::core::error::AppError;
use crate::core::error::AppResult;
use crate::events::Events;
use crate::schedule::events::{ShiftEventKind, SignupChanged};

#[allow(unused_imports)]
use super::*;

/// Why a shift was not taken.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum NotTaken {
    Full,
    Overlap,
    Closed,
    AlreadySignedUp,
}

impl NotTaken {
    fn error(self) -> AppError {
        match self {
            NotTaken::Full => AppError::conflict("名额已满"),
            NotTaken::Overlap => AppError::conflict("与已报名的班次时间冲突"),
            NotTaken::Closed => AppError::invalid_state("班次已开始，报名已截止"),
            NotTaken::AlreadySignedUp => AppError::conflict("已报名该班次"),
        }
    }
}

/// Checks that apply to every shift of a slot: role, eligibility, no-show block.
pub(crate) async fn check_student(
    db: &DatabaseConnection,
    config: &Config,
    actor: &AuthUser,
    slot: &service_slot::Model,
) -> AppResult<()> {
    if !actor.has_role(Role::Student) {
        return Err(AppError::Forbidden("只有学生志愿者可以报名"));
    }
    if !eligible(db, actor, slot).await? {
        return Err(AppError::Forbidden(
            "所在组织未与该社区签订生效的共建协议，无报名资格",
        ));
    }
    let start = local_instant(slot.valid_from, NaiveTime::MIN);
    let end = local_instant(slot.valid_to + Duration::days(1), NaiveTime::MIN);
    let no_shows = shift_signup::Entity::find()
        .filter(shift_signup::Column::StudentId.eq(actor.id()))
        .filter(shift_signup::Column::Status.eq(SignupStatus::NoShow))
        .filter(
            shift_signup::Column::ShiftId.in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(shift::Column::Id)
                    .from(shift::Entity)
                    .and_where(Expr::col(shift::Column::StartsAt).gte(start))
                    .and_where(Expr::col(shift::Column::StartsAt).lt(end))
                    .to_owned(),
            ),
        )
        .count(db)
        .await?;
    if no_shows >= config.max_no_shows {
        return Err(AppError::Forbidden("缺勤次数过多，暂停报名"));
    }
    Ok(())
}

/// One attempt at one shift, in its own transaction.
pub(crate) async fn take(
    db: &DatabaseConnection,
    actor: &AuthUser,
    sh: &shift::Model,
) -> AppResult<Result<(shift_signup::Model, shift::Model), NotTaken>> {
    let now = Utc::now();
    if sh.starts_at <= now {
        return Ok(Err(NotTaken::Closed));
    }
    let txn = db::begin_write(db).await?;
    // The shift as it is now, inside the transaction: a concurrent change of the slot's
    // times is either committed before (and seen here) or waits for this sign-up (the shift
    // row is locked on PostgreSQL; SQLite write transactions are serial).
    let sh = if db.get_database_backend() == DbBackend::Postgres {
        // Serialise one student's sign-ups so that overlaps are seen.
        user::Entity::find_by_id(actor.id())
            .lock_exclusive()
            .one(&txn)
            .await?;
        shift::Entity::find_by_id(sh.id)
            .lock_exclusive()
            .one(&txn)
            .await?
    } else {
        shift::Entity::find_by_id(sh.id).one(&txn).await?
    }
    .ok_or(AppError::NotFound("班次不存在"))?;
    let sh = &sh;
    if sh.starts_at <= now {
        return Ok(Err(NotTaken::Closed));
    }
    // The student's active sign-ups that clash with this shift (this shift itself, or one
    // whose times overlap it), in one statement.
    let clashes: Vec<i64> = shift_signup::Entity::find()
        .select_only()
        .column(shift_signup::Column::ShiftId)
        .join(
            sea_orm::JoinType::InnerJoin,
            db::belongs_to::<shift_signup::Entity, shift::Entity>(
                shift_signup::Column::ShiftId,
                shift::Column::Id,
            ),
        )
        .filter(shift_signup::Column::StudentId.eq(actor.id()))
        .filter(
            shift_signup::Column::Status.is_in([SignupStatus::SignedUp, SignupStatus::CheckedIn]),
        )
        .filter(
            sea_orm::Condition::any()
                .add(shift_signup::Column::ShiftId.eq(sh.id))
                .add(
                    sea_orm::Condition::all()
                        .add(shift::Column::StartsAt.lt(sh.ends_at))
                        .add(shift::Column::EndsAt.gt(sh.starts_at)),
                ),
        )
        .into_tuple()
        .all(&txn)
        .await?;
    if clashes.contains(&sh.id) {
        return Ok(Err(NotTaken::AlreadySignedUp));
    }
    if !clashes.is_empty() {
        return Ok(Err(NotTaken::Overlap));
    }
    let taken = shift::Entity::update_many()
        .col_expr(shift::Column::Taken, Expr::col(shift::Column::Taken).add(1))
        .filter(shift::Column::Id.eq(sh.id))
        .filter(Expr::col(shift::Column::Taken).lt(Expr::col(shift::Column::Capacity)))
        .filter(shift::Column::StartsAt.gt(now))
        .exec_with_returning(&txn)
        .await?
        .pop();
    let Some(taken) = taken else {
        return Ok(Err(NotTaken::Full));
    };
    let row = shift_signup::ActiveModel {
        shift_id: Set(sh.id),
        student_id: Set(actor.id()),
        status: Set(SignupStatus::SignedUp),
        signed_up_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .map_err(|e| AppError::on_unique(e, "已报名该班次"))?;
    txn.commit().await?;
    Ok(Ok((row, taken)))
}

/// A student signs up for one shift; the sign-up, with the shift as it is after it and the
/// shift's slot.
pub async fn sign_up(
    db: &DatabaseConnection,
    events: &Events,
    config: &Config,
    actor: &AuthUser,
    shift_id: i64,
) -> AppResult<(shift_signup::Model, shift::Model, service_slot::Model)> {
    // The shift with its slot, in one statement.
    let (sh, slot) = db::get_with::<shift::Entity, service_slot::Entity, _>(
        db,
        shift_id,
        shift::Column::SlotId,
        service_slot::Column::Id,
        "班次不存在",
    )
    .await?;
    check_student(db, config, actor, &slot).await?;
    let (signup, shift) = take(db, actor, &sh).await?.map_err(NotTaken::error)?;
    announce(db, events, ShiftEventKind::SignedUp, sh.slot_id, &signup).await;
    Ok((signup, shift, slot))
}

/// Publishes a sign-up's change (after its transaction committed).
pub(crate) async fn announce(
    db: &DatabaseConnection,
    events: &Events,
    kind: ShiftEventKind,
    slot_id: i64,
    s: &shift_signup::Model,
) {
    let event = SignupChanged {
        kind,
        slot_id,
        shift_id: s.shift_id,
        signup_id: s.id,
    };
    events.publish(db, event).await;
}

/// The outcome of a series sign-up for one shift.
pub struct SeriesItem {
    pub shift: shift::Model,
    pub signup: Option<shift_signup::Model>,
    pub reason: Option<NotTaken>,
}

/// A student signs up for every remaining shift of a slot; each shift is taken or reported
/// with its reason.
pub async fn sign_up_series(
    db: &DatabaseConnection,
    events: &Events,
    config: &Config,
    actor: &AuthUser,
    slot_id: i64,
) -> AppResult<Vec<SeriesItem>> {
    let slot = get::<service_slot::Entity, _>(db, slot_id, "排班不存在").await?;
    check_student(db, config, actor, &slot).await?;
    let shifts = shift::Entity::find()
        .filter(shift::Column::SlotId.eq(slot.id))
        .filter(shift::Column::StartsAt.gt(Utc::now()))
        .order_by_asc(shift::Column::StartsAt)
        .all(db)
        .await?;
    let mut out = Vec::with_capacity(shifts.len());
    for sh in shifts {
        let r = take(db, actor, &sh).await?;
        let (signup, reason) = match r {
            Ok((s, _)) => {
                announce(db, events, ShiftEventKind::SignedUp, slot.id, &s).await;
                (Some(s), None)
            }
            Err(why) => (None, Some(why)),
        };
        out.push(SeriesItem {
            shift: sh,
            signup,
            reason,
        });
    }
    Ok(out)
}

/// The student cancels until `cancel_hours` before the start; the place is freed.
pub async fn cancel(
    db: &DatabaseConnection,
    events: &Events,
    config: &Config,
    actor: &AuthUser,
    signup_id: i64,
) -> AppResult<shift_signup::Model> {
    // The sign-up with its shift, in one statement.
    let (s, sh) = db::get_with::<shift_signup::Entity, shift::Entity, _>(
        db,
        signup_id,
        shift_signup::Column::ShiftId,
        shift::Column::Id,
        "报名记录不存在",
    )
    .await?;
    if s.student_id != actor.id() {
        return Err(AppError::Forbidden("只能取消自己的报名"));
    }
    if s.status != SignupStatus::SignedUp {
        return Err(AppError::invalid_state("该报名不能取消"));
    }
    if Utc::now() > sh.starts_at - Duration::hours(config.cancel_hours) {
        return Err(AppError::invalid_state(format!(
            "开始前 {} 小时内不能取消",
            config.cancel_hours
        )));
    }
    let txn = db::begin_write(db).await?;
    let cancelled = shift_signup::Entity::update_many()
        .col_expr(
            shift_signup::Column::Status,
            Expr::value(SignupStatus::Cancelled),
        )
        .col_expr(shift_signup::Column::CancelledAt, Expr::value(Utc::now()))
        .filter(shift_signup::Column::Id.eq(s.id))
        .filter(shift_signup::Column::Status.eq(SignupStatus::SignedUp))
        .exec_with_returning(&txn)
        .await?
        .pop();
    let Some(s) = cancelled else {
        return Err(AppError::invalid_state("该报名不能取消"));
    };
    shift::Entity::update_many()
        .col_expr(shift::Column::Taken, Expr::col(shift::Column::Taken).sub(1))
        .filter(shift::Column::Id.eq(sh.id))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    announce(db, events, ShiftEventKind::Cancelled, sh.slot_id, &s).await;
    Ok(s)
}
