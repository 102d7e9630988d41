//! Sign-ups: never more than capacity, no overlap for one student, single or for a series,
//! and cancellation.

use chrono::{Duration, Utc};
use entity::slot_eligible_organization;
use entity::{
    role_assignment::Role, service_slot, shift, shift_signup, shift_signup::SignupStatus, user,
};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, EntityTrait,
    FromQueryResult, IdenStatic, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait,
    SelectA, SelectB,
    sea_query::{Alias, Expr, ExprTrait, IntoIden, LockType, Query, SimpleExpr, SubQueryStatement},
};

use crate::auth::AuthUser;
use crate::core::bus::Bus;
use crate::core::config::Config;
use crate::core::db;
use crate::core::db::get;
use crate::core::error::AppError;
use crate::core::error::AppResult;
use crate::core::error::ErrorReason;
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
            NotTaken::Full => AppError::conflict(ErrorReason::ShiftFull, "名额已满"),
            NotTaken::Overlap => {
                AppError::conflict(ErrorReason::ShiftOverlaps, "与已报名的班次时间冲突")
            }
            NotTaken::Closed => {
                AppError::invalid_state(ErrorReason::ShiftStarted, "班次已开始，报名已截止")
            }
            NotTaken::AlreadySignedUp => {
                AppError::conflict(ErrorReason::AlreadySignedUp, "已报名该班次")
            }
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
        return Err(not_eligible());
    }
    let no_shows = shift_signup::Entity::find()
        .filter(no_shows_of(actor, slot.valid_from, slot.valid_to))
        .count(db)
        .await?;
    check_no_shows(config, no_shows)
}

fn not_eligible() -> AppError {
    AppError::Forbidden("所在组织未与该社区签订生效的共建协议，无报名资格")
}

fn check_no_shows(config: &Config, no_shows: u64) -> AppResult<()> {
    if no_shows >= config.max_no_shows {
        return Err(AppError::Forbidden("缺勤次数过多，暂停报名"));
    }
    Ok(())
}

/// The student's no-shows at shifts dated within `from..=to` (a slot's validity), as a
/// filter on sign-ups. The dates may be values or the slot's columns.
fn no_shows_of(
    actor: &AuthUser,
    from: impl Into<sea_orm::sea_query::SimpleExpr>,
    to: impl Into<sea_orm::sea_query::SimpleExpr>,
) -> sea_orm::Condition {
    sea_orm::Condition::all()
        .add(shift_signup::Column::StudentId.eq(actor.id()))
        .add(shift_signup::Column::Status.eq(SignupStatus::NoShow))
        .add(
            shift_signup::Column::ShiftId.in_subquery(
                Query::select()
                    .column(shift::Column::Id)
                    .from(shift::Entity)
                    .and_where(Expr::col((shift::Entity, shift::Column::Date)).gte(from.into()))
                    .and_where(Expr::col((shift::Entity, shift::Column::Date)).lte(to.into()))
                    .to_owned(),
            ),
        )
}

/// The student's active sign-ups that clash with the shift being updated (the same shift,
/// or one whose times overlap it), as a correlated subquery of `UPDATE shifts`.
fn clashes_with_updated_shift(actor: &AuthUser) -> sea_orm::sea_query::SelectStatement {
    let other = Alias::new("other_shift");
    Query::select()
        .expr(Expr::val(1))
        .from(shift_signup::Entity)
        .join_as(
            sea_orm::JoinType::InnerJoin,
            shift::Entity,
            other.clone(),
            Expr::col((other.clone(), shift::Column::Id))
                .equals((shift_signup::Entity, shift_signup::Column::ShiftId)),
        )
        .and_where(
            Expr::col((shift_signup::Entity, shift_signup::Column::StudentId)).eq(actor.id()),
        )
        .and_where(
            Expr::col((shift_signup::Entity, shift_signup::Column::Status))
                .is_in([SignupStatus::SignedUp, SignupStatus::CheckedIn]),
        )
        .cond_where(
            sea_orm::Condition::any()
                .add(
                    Expr::col((shift_signup::Entity, shift_signup::Column::ShiftId))
                        .equals((shift::Entity, shift::Column::Id)),
                )
                .add(
                    sea_orm::Condition::all()
                        .add(
                            Expr::col((other.clone(), shift::Column::StartsAt))
                                .lt(Expr::col((shift::Entity, shift::Column::EndsAt))),
                        )
                        .add(
                            Expr::col((other, shift::Column::EndsAt))
                                .gt(Expr::col((shift::Entity, shift::Column::StartsAt))),
                        ),
                ),
        )
        .to_owned()
}

/// One attempt at one shift, in its own transaction (a series takes its shifts one by one).
pub(crate) async fn take(
    db: &DatabaseConnection,
    actor: &AuthUser,
    sh: &shift::Model,
) -> AppResult<Result<(shift_signup::Model, shift::Model), NotTaken>> {
    if sh.starts_at <= crate::core::clock::now() {
        return Ok(Err(NotTaken::Closed));
    }
    let txn = db::begin_write(db).await?;
    if db.get_database_backend() == DbBackend::Postgres {
        // Serialise one student's sign-ups so that overlaps are seen, and wait for a change
        // of the slot's times in progress (the conditional update then sees the new times).
        user::Entity::find_by_id(actor.id())
            .lock_exclusive()
            .one(&txn)
            .await?;
        shift::Entity::find_by_id(sh.id)
            .lock_exclusive()
            .one(&txn)
            .await?;
    }
    let taken = take_in(&txn, actor, sh.id).await?;
    if taken.is_ok() {
        txn.commit().await?;
    }
    Ok(taken)
}

/// Takes a place in the shift inside the caller's transaction, which holds the student's
/// and the shift's locks on PostgreSQL (SQLite write transactions are serial). One
/// conditional update holds every rule — a free place, not started, no active sign-up of
/// the student that is this shift or overlaps it — on the shift as it is now (a statement
/// after the locks, so it sees what committed before them). Then the sign-up is inserted.
/// Only a refusal reads more, to say why.
async fn take_in(
    txn: &DatabaseTransaction,
    actor: &AuthUser,
    shift_id: i64,
) -> AppResult<Result<(shift_signup::Model, shift::Model), NotTaken>> {
    let now = crate::core::clock::now();
    let taken = shift::Entity::update_many()
        .col_expr(shift::Column::Taken, Expr::col(shift::Column::Taken).add(1))
        .filter(shift::Column::Id.eq(shift_id))
        .filter(Expr::col(shift::Column::Taken).lt(Expr::col(shift::Column::Capacity)))
        .filter(shift::Column::StartsAt.gt(now))
        .filter(Expr::exists(clashes_with_updated_shift(actor)).not())
        .exec_with_returning(txn)
        .await?
        .pop();
    let Some(taken) = taken else {
        return Ok(Err(why_not_taken(txn, actor, shift_id, now).await?));
    };
    let row = shift_signup::ActiveModel {
        shift_id: Set(shift_id),
        student_id: Set(actor.id()),
        status: Set(SignupStatus::SignedUp),
        signed_up_at: Set(now),
        ..Default::default()
    }
    .insert(txn)
    .await
    .map_err(|e| AppError::on_unique(e, ErrorReason::AlreadySignedUp, "已报名该班次"))?;
    Ok(Ok((row, taken)))
}

/// Why the conditional update took no place (read in the same transaction).
async fn why_not_taken(
    txn: &DatabaseTransaction,
    actor: &AuthUser,
    shift_id: i64,
    now: chrono::DateTime<Utc>,
) -> AppResult<NotTaken> {
    let sh = shift::Entity::find_by_id(shift_id)
        .one(txn)
        .await?
        .ok_or(AppError::NotFound("班次不存在"))?;
    if sh.starts_at <= now {
        return Ok(NotTaken::Closed);
    }
    let clashes = clashing_shifts(txn, actor, &sh).await?;
    Ok(if clashes.contains(&sh.id) {
        NotTaken::AlreadySignedUp
    } else if !clashes.is_empty() {
        NotTaken::Overlap
    } else {
        NotTaken::Full
    })
}

/// The shifts of the student's active sign-ups that are `sh` or overlap it.
async fn clashing_shifts(
    conn: &impl ConnectionTrait,
    actor: &AuthUser,
    sh: &shift::Model,
) -> AppResult<Vec<i64>> {
    Ok(shift_signup::Entity::find()
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
        .all(conn)
        .await?)
}

/// Whether [`sign_up`] would take a place for the student now, by its checks: the role, the
/// organisation's eligibility, the no-show block, not started, a free place, and no active
/// sign-up of theirs that is this shift or overlaps it.
pub async fn may_sign_up(
    db: &DatabaseConnection,
    config: &Config,
    actor: &AuthUser,
    sh: &shift::Model,
    slot: &service_slot::Model,
) -> AppResult<bool> {
    match check_student(db, config, actor, slot).await {
        Err(AppError::Forbidden(_)) => return Ok(false),
        Err(e) => return Err(e),
        Ok(()) => {}
    }
    if sh.starts_at <= crate::core::clock::now() || sh.taken >= sh.capacity {
        return Ok(false);
    }
    Ok(clashing_shifts(db, actor, sh).await?.is_empty())
}

/// Why [`cancel`] would refuse the student's sign-up `s` of `sh` now (None: it would cancel).
pub fn cancel_refusal(
    config: &Config,
    actor: &AuthUser,
    s: &shift_signup::Model,
    sh: &shift::Model,
) -> Option<AppError> {
    if s.student_id != actor.id() {
        return Some(AppError::Forbidden("只能取消自己的报名"));
    }
    if s.status != SignupStatus::SignedUp {
        return Some(AppError::invalid_state(
            ErrorReason::SignupNotCancellable,
            "该报名不能取消",
        ));
    }
    if crate::core::clock::now() > sh.starts_at - Duration::hours(config.cancel_hours) {
        return Some(AppError::invalid_state(
            ErrorReason::CancelWindowClosed,
            format!("开始前 {} 小时内不能取消", config.cancel_hours),
        ));
    }
    None
}

/// A student signs up for one shift; the sign-up, with the shift as it is after it and the
/// shift's slot. In one transaction: one statement reads the shift, its slot, whether the
/// student's organisation is listed for the slot and the student's no-shows (and locks the
/// student on PostgreSQL); one conditional update takes the place; one insert records it.
pub async fn sign_up(
    db: &DatabaseConnection,
    events: &Bus,
    config: &Config,
    actor: &AuthUser,
    shift_id: i64,
) -> AppResult<(shift_signup::Model, shift::Model, service_slot::Model)> {
    if !actor.has_role(Role::Student) {
        return Err(AppError::Forbidden("只有学生志愿者可以报名"));
    }
    let orgs = super::slots::student_organizations(actor);
    if orgs.is_empty() {
        return Err(not_eligible());
    }
    let postgres = db.get_database_backend() == DbBackend::Postgres;
    let mut q = shift::Entity::find_by_id(shift_id)
        .join(
            sea_orm::JoinType::InnerJoin,
            db::belongs_to::<shift::Entity, service_slot::Entity>(
                shift::Column::SlotId,
                service_slot::Column::Id,
            ),
        )
        .select_also(service_slot::Entity)
        .into_query();
    let listed = Query::select()
        .expr(Expr::col(slot_eligible_organization::Column::OrganizationId).count())
        .from(slot_eligible_organization::Entity)
        .and_where(
            Expr::col((
                slot_eligible_organization::Entity,
                slot_eligible_organization::Column::SlotId,
            ))
            .equals((service_slot::Entity, service_slot::Column::Id)),
        )
        .and_where(slot_eligible_organization::Column::OrganizationId.is_in(orgs))
        .to_owned();
    let no_shows = Query::select()
        .expr(Expr::col(shift_signup::Column::Id).count())
        .from(shift_signup::Entity)
        .cond_where(no_shows_of(
            actor,
            Expr::col((service_slot::Entity, service_slot::Column::ValidFrom)),
            Expr::col((service_slot::Entity, service_slot::Column::ValidTo)),
        ))
        .to_owned();
    let scalar = |q: sea_orm::sea_query::SelectStatement| {
        SimpleExpr::SubQuery(None, Box::new(SubQueryStatement::SelectStatement(q)))
    };
    q.expr_as(scalar(listed), Alias::new("listed"))
        .expr_as(scalar(no_shows), Alias::new("no_shows"));
    if postgres {
        // Serialise one student's sign-ups so that overlaps are seen (lock their row), and
        // lock the shift so that a change of the slot's times is either committed before
        // (the update below then sees the new times) or waits for this sign-up.
        q.join(
            sea_orm::JoinType::InnerJoin,
            user::Entity,
            Expr::col((user::Entity, user::Column::Id)).eq(actor.id()),
        )
        .lock_with_tables(
            LockType::Update,
            [user::Entity.into_iden(), shift::Entity.into_iden()],
        );
    }
    let txn = db::begin_write(db).await?;
    let row = txn
        .query_one_raw(db.get_database_backend().build(&q))
        .await?
        .ok_or(AppError::NotFound("班次不存在"))?;
    let sh = shift::Model::from_query_result(&row, SelectA.as_str())?;
    let slot = service_slot::Model::from_query_result(&row, SelectB.as_str())?;
    let listed: i64 = row.try_get("", "listed")?;
    let no_shows: i64 = row.try_get("", "no_shows")?;
    if listed == 0 && !eligible(db, actor, &slot).await? {
        return Err(not_eligible());
    }
    check_no_shows(config, u64::try_from(no_shows).unwrap_or(0))?;
    if sh.starts_at <= crate::core::clock::now() {
        return Err(NotTaken::Closed.error());
    }
    let (signup, shift) = take_in(&txn, actor, sh.id)
        .await?
        .map_err(NotTaken::error)?;
    txn.commit().await?;
    announce(db, events, ShiftEventKind::SignedUp, sh.slot_id, &signup).await;
    Ok((signup, shift, slot))
}

/// Publishes a sign-up's change (after its transaction committed).
pub(crate) async fn announce(
    db: &DatabaseConnection,
    events: &Bus,
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
    events: &Bus,
    config: &Config,
    actor: &AuthUser,
    slot_id: i64,
) -> AppResult<Vec<SeriesItem>> {
    let slot = get::<service_slot::Entity, _>(db, slot_id, "排班不存在").await?;
    check_student(db, config, actor, &slot).await?;
    let shifts = shift::Entity::find()
        .filter(shift::Column::SlotId.eq(slot.id))
        .filter(shift::Column::StartsAt.gt(crate::core::clock::now()))
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
    events: &Bus,
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
    if let Some(refused) = cancel_refusal(config, actor, &s, &sh) {
        return Err(refused);
    }
    let txn = db::begin_write(db).await?;
    let cancelled = shift_signup::Entity::update_many()
        .col_expr(
            shift_signup::Column::Status,
            Expr::value(SignupStatus::Cancelled),
        )
        .col_expr(
            shift_signup::Column::CancelledAt,
            Expr::value(crate::core::clock::now()),
        )
        .filter(shift_signup::Column::Id.eq(s.id))
        .filter(shift_signup::Column::Status.eq(SignupStatus::SignedUp))
        .exec_with_returning(&txn)
        .await?
        .pop();
    let Some(s) = cancelled else {
        return Err(AppError::invalid_state(
            ErrorReason::SignupNotCancellable,
            "该报名不能取消",
        ));
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
