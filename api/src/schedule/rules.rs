//! Student assistant schedules (网格员助理排班): weekly slots, their dated shifts, sign-ups
//! that never exceed capacity, attendance that credits hours and points once, and the
//! student's calendar.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};
use entity::{
    calendar_token, community, grid,
    ledger_entry::{EntryKind, EntrySource},
    organization,
    role_assignment::Role,
    service_slot, shift, shift_signup,
    shift_signup::SignupStatus,
    slot_eligible_organization, user,
};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, Condition, DatabaseConnection, DbBackend, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect,
    sea_query::{Expr, ExprTrait},
};

use super::events::{ShiftEventKind, SignupChanged};
use crate::alliance::rules as alliance;
use crate::auth::AuthUser;
use crate::bank::rules as bank;
use crate::core::config::Config;
use crate::core::db;
use crate::core::db::get;
use crate::core::error::AppError;
use crate::core::error::AppResult;
use crate::core::validate;
use crate::events::Events;

/// A local wall-clock time `HH:MM`.
pub fn parse_time(field: &'static str, s: &str) -> AppResult<NaiveTime> {
    NaiveTime::parse_from_str(s.trim(), "%H:%M")
        .map_err(|_| AppError::bad_field(field, "时间格式须为 HH:MM"))
}

/// The instant of a local (Asia/Shanghai) date and time.
pub fn local_instant(date: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
    let naive = date.and_time(time);
    chrono_tz::Asia::Shanghai
        .from_local_datetime(&naive)
        .earliest()
        .map(|d| d.with_timezone(&Utc))
        .unwrap_or_else(|| naive.and_utc() - Duration::hours(8))
}

fn weekday_of(n: i32) -> AppResult<Weekday> {
    Ok(match n {
        1 => Weekday::Mon,
        2 => Weekday::Tue,
        3 => Weekday::Wed,
        4 => Weekday::Thu,
        5 => Weekday::Fri,
        6 => Weekday::Sat,
        7 => Weekday::Sun,
        _ => return Err(AppError::bad_field("weekday", "星期须为 1–7")),
    })
}

/// The dates of a slot: every `weekday` within the validity period, minus skipped dates.
pub fn occurrences(
    weekday: Weekday,
    from: NaiveDate,
    to: NaiveDate,
    skipped: &[NaiveDate],
) -> Vec<NaiveDate> {
    let mut d = from;
    while d.weekday() != weekday {
        d += Duration::days(1);
    }
    let mut out = Vec::new();
    while d <= to {
        if !skipped.contains(&d) {
            out.push(d);
        }
        d += Duration::days(7);
    }
    out
}

pub struct NewSlot {
    pub community_id: i64,
    pub grid_id: Option<i64>,
    pub title: String,
    pub tasks: Vec<String>,
    pub weekday: i32,
    pub start_time: String,
    pub end_time: String,
    pub capacity: i32,
    pub valid_from: NaiveDate,
    pub valid_to: NaiveDate,
    pub skipped_dates: Vec<NaiveDate>,
    pub eligible_organization_ids: Vec<i64>,
}

/// Staff of the community create a slot; its shifts are written at once.
pub async fn create_slot(
    db: &DatabaseConnection,
    actor: &AuthUser,
    input: NewSlot,
) -> AppResult<service_slot::Model> {
    let c = get::<community::Entity, _>(db, input.community_id, "社区不存在").await?;
    if !actor.is_staff_of(c.id) {
        return Err(AppError::forbidden());
    }
    if let Some(g) = input.grid_id {
        let g = get::<grid::Entity, _>(db, g, "网格不存在").await?;
        if g.community_id != c.id {
            return Err(AppError::bad_field("gridId", "网格不在该社区"));
        }
    }
    let title = validate::text("title", &input.title, 100)?;
    if input.tasks.len() > 20 {
        return Err(AppError::bad_field("tasks", "任务最多 20 项"));
    }
    let mut tasks = Vec::new();
    for t in &input.tasks {
        tasks.push(validate::text("tasks", t, 200)?);
    }
    let weekday = weekday_of(input.weekday)?;
    let start = parse_time("startTime", &input.start_time)?;
    let end = parse_time("endTime", &input.end_time)?;
    if end <= start {
        return Err(AppError::bad_field("endTime", "结束时间须晚于开始时间"));
    }
    if !(1..=1000).contains(&input.capacity) {
        return Err(AppError::bad_field("capacity", "名额须在 1 到 1000 之间"));
    }
    if input.valid_to < input.valid_from {
        return Err(AppError::bad_field("validTo", "结束日期不能早于开始日期"));
    }
    if (input.valid_to - input.valid_from).num_days() > 366 {
        return Err(AppError::bad_field("validTo", "有效期不能超过一年"));
    }
    let mut eligible = input.eligible_organization_ids.clone();
    eligible.sort_unstable();
    eligible.dedup();
    let orgs = organization::Entity::find()
        .filter(organization::Column::Id.is_in(eligible.clone()))
        .count(db)
        .await?;
    if orgs as usize != eligible.len() {
        return Err(AppError::NotFound("可报名组织不存在"));
    }
    let dates = occurrences(
        weekday,
        input.valid_from,
        input.valid_to,
        &input.skipped_dates,
    );
    if dates.is_empty() {
        return Err(AppError::bad_field("validFrom", "有效期内没有可排班的日期"));
    }
    let skipped: Vec<String> = input.skipped_dates.iter().map(|d| d.to_string()).collect();
    let txn = db::begin_write(db).await?;
    let slot = service_slot::ActiveModel {
        community_id: Set(c.id),
        grid_id: Set(input.grid_id),
        title: Set(title),
        tasks: Set(serde_json::to_string(&tasks).map_err(AppError::internal)?),
        weekday: Set(input.weekday),
        start_time: Set(start.format("%H:%M").to_string()),
        end_time: Set(end.format("%H:%M").to_string()),
        capacity: Set(input.capacity),
        valid_from: Set(input.valid_from),
        valid_to: Set(input.valid_to),
        skipped_dates: Set(serde_json::to_string(&skipped).map_err(AppError::internal)?),
        created_by: Set(actor.id()),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    for o in eligible {
        slot_eligible_organization::ActiveModel {
            slot_id: Set(slot.id),
            organization_id: Set(o),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
    }
    for d in dates {
        shift::ActiveModel {
            slot_id: Set(slot.id),
            date: Set(d),
            starts_at: Set(local_instant(d, start)),
            ends_at: Set(local_instant(d, end)),
            capacity: Set(input.capacity),
            taken: Set(0),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
    }
    txn.commit().await?;
    Ok(slot)
}

/// Changes a slot's capacity (future shifts) or local times (future shifts without
/// sign-ups). Never drops a sign-up: shrinking below the places taken, or moving a shift
/// someone signed up for, is refused with `CONFLICT`.
pub async fn update_slot(
    db: &DatabaseConnection,
    actor: &AuthUser,
    slot_id: i64,
    capacity: Option<i32>,
    times: Option<(String, String)>,
) -> AppResult<service_slot::Model> {
    let slot = get::<service_slot::Entity, _>(db, slot_id, "排班不存在").await?;
    if !actor.is_staff_of(slot.community_id) {
        return Err(AppError::forbidden());
    }
    let now = Utc::now();
    let txn = db::begin_write(db).await?;
    let future = shift::Entity::find()
        .filter(shift::Column::SlotId.eq(slot.id))
        .filter(shift::Column::StartsAt.gt(now))
        .all(&txn)
        .await?;
    if let Some(cap) = capacity {
        if !(1..=1000).contains(&cap) {
            return Err(AppError::bad_field("capacity", "名额须在 1 到 1000 之间"));
        }
        if let Some(full) = future.iter().find(|s| s.taken > cap) {
            return Err(AppError::conflict(format!(
                "{} 已有 {} 人报名，名额不能少于报名人数",
                full.date, full.taken
            )));
        }
        let res = shift::Entity::update_many()
            .col_expr(shift::Column::Capacity, Expr::value(cap))
            .filter(shift::Column::SlotId.eq(slot.id))
            .filter(shift::Column::StartsAt.gt(now))
            .filter(shift::Column::Taken.lte(cap))
            .exec(&txn)
            .await?;
        if res.rows_affected as usize != future.len() {
            return Err(AppError::conflict("报名人数已变化，请重试"));
        }
        service_slot::Entity::update_many()
            .col_expr(service_slot::Column::Capacity, Expr::value(cap))
            .filter(service_slot::Column::Id.eq(slot.id))
            .exec(&txn)
            .await?;
    }
    if let Some((s, e)) = times {
        let start = parse_time("startTime", &s)?;
        let end = parse_time("endTime", &e)?;
        if end <= start {
            return Err(AppError::bad_field("endTime", "结束时间须晚于开始时间"));
        }
        if let Some(busy) = future.iter().find(|s| s.taken > 0) {
            return Err(AppError::conflict(format!(
                "{} 已有学生报名，不能调整时间",
                busy.date
            )));
        }
        for sh in &future {
            shift::Entity::update_many()
                .col_expr(
                    shift::Column::StartsAt,
                    Expr::value(local_instant(sh.date, start)),
                )
                .col_expr(
                    shift::Column::EndsAt,
                    Expr::value(local_instant(sh.date, end)),
                )
                .filter(shift::Column::Id.eq(sh.id))
                .filter(shift::Column::Taken.eq(0))
                .exec(&txn)
                .await?;
        }
        service_slot::Entity::update_many()
            .col_expr(
                service_slot::Column::StartTime,
                Expr::value(start.format("%H:%M").to_string()),
            )
            .col_expr(
                service_slot::Column::EndTime,
                Expr::value(end.format("%H:%M").to_string()),
            )
            .filter(service_slot::Column::Id.eq(slot.id))
            .exec(&txn)
            .await?;
    }
    txn.commit().await?;
    get::<service_slot::Entity, _>(db, slot.id, "排班不存在").await
}

/// Party organisations located in a community.
async fn community_party_orgs(db: &DatabaseConnection, community_id: i64) -> AppResult<Vec<i64>> {
    Ok(organization::Entity::find()
        .filter(organization::Column::CommunityId.eq(community_id))
        .all(db)
        .await?
        .into_iter()
        .filter(|o| o.kind.is_party())
        .map(|o| o.id)
        .collect())
}

/// Whether a student may sign up for a slot: their organisation is one of the slot's
/// eligible organisations, or is party to an ACTIVE agreement with a party organisation of
/// the slot's community.
pub async fn eligible(
    db: &DatabaseConnection,
    student: &AuthUser,
    slot: &service_slot::Model,
) -> AppResult<bool> {
    let orgs: Vec<i64> = student
        .roles
        .iter()
        .filter(|r| r.role == Role::Student)
        .filter_map(|r| r.organization_id)
        .collect();
    if orgs.is_empty() {
        return Ok(false);
    }
    let listed = slot_eligible_organization::Entity::find()
        .filter(slot_eligible_organization::Column::SlotId.eq(slot.id))
        .filter(slot_eligible_organization::Column::OrganizationId.is_in(orgs.clone()))
        .count(db)
        .await?;
    if listed > 0 {
        return Ok(true);
    }
    let community_orgs = community_party_orgs(db, slot.community_id).await?;
    if community_orgs.is_empty() {
        return Ok(false);
    }
    let partners = alliance::partners_in_force(db, &orgs, validate::today()).await?;
    Ok(partners.iter().any(|p| community_orgs.contains(p)))
}

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
async fn check_student(
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
async fn take(
    db: &DatabaseConnection,
    actor: &AuthUser,
    sh: &shift::Model,
) -> AppResult<Result<shift_signup::Model, NotTaken>> {
    let now = Utc::now();
    if sh.starts_at <= now {
        return Ok(Err(NotTaken::Closed));
    }
    let txn = db::begin_write(db).await?;
    if db.get_database_backend() == DbBackend::Postgres {
        // Serialise one student's sign-ups so that overlaps are seen.
        user::Entity::find_by_id(actor.id())
            .lock_exclusive()
            .one(&txn)
            .await?;
    }
    let mine = shift_signup::Entity::find()
        .filter(shift_signup::Column::StudentId.eq(actor.id()))
        .filter(
            shift_signup::Column::Status.is_in([SignupStatus::SignedUp, SignupStatus::CheckedIn]),
        )
        .all(&txn)
        .await?;
    if mine.iter().any(|m| m.shift_id == sh.id) {
        return Ok(Err(NotTaken::AlreadySignedUp));
    }
    if !mine.is_empty() {
        let overlapping = shift::Entity::find()
            .filter(shift::Column::Id.is_in(mine.iter().map(|m| m.shift_id).collect::<Vec<_>>()))
            .filter(shift::Column::StartsAt.lt(sh.ends_at))
            .filter(shift::Column::EndsAt.gt(sh.starts_at))
            .count(&txn)
            .await?;
        if overlapping > 0 {
            return Ok(Err(NotTaken::Overlap));
        }
    }
    let res = shift::Entity::update_many()
        .col_expr(shift::Column::Taken, Expr::col(shift::Column::Taken).add(1))
        .filter(shift::Column::Id.eq(sh.id))
        .filter(Expr::col(shift::Column::Taken).lt(Expr::col(shift::Column::Capacity)))
        .filter(shift::Column::StartsAt.gt(now))
        .exec(&txn)
        .await?;
    if res.rows_affected != 1 {
        return Ok(Err(NotTaken::Full));
    }
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
    Ok(Ok(row))
}

/// A student signs up for one shift.
pub async fn sign_up(
    db: &DatabaseConnection,
    events: &Events,
    config: &Config,
    actor: &AuthUser,
    shift_id: i64,
) -> AppResult<shift_signup::Model> {
    let sh = get::<shift::Entity, _>(db, shift_id, "班次不存在").await?;
    let slot = get::<service_slot::Entity, _>(db, sh.slot_id, "排班不存在").await?;
    check_student(db, config, actor, &slot).await?;
    let signup = take(db, actor, &sh).await?.map_err(NotTaken::error)?;
    announce(db, events, ShiftEventKind::SignedUp, sh.slot_id, &signup).await;
    Ok(signup)
}

/// Publishes a sign-up's change (after its transaction committed).
async fn announce(
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
            Ok(s) => {
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
    let s = get::<shift_signup::Entity, _>(db, signup_id, "报名记录不存在").await?;
    if s.student_id != actor.id() {
        return Err(AppError::Forbidden("只能取消自己的报名"));
    }
    let sh = get::<shift::Entity, _>(db, s.shift_id, "班次不存在").await?;
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
    let res = shift_signup::Entity::update_many()
        .col_expr(
            shift_signup::Column::Status,
            Expr::value(SignupStatus::Cancelled),
        )
        .col_expr(shift_signup::Column::CancelledAt, Expr::value(Utc::now()))
        .filter(shift_signup::Column::Id.eq(s.id))
        .filter(shift_signup::Column::Status.eq(SignupStatus::SignedUp))
        .exec(&txn)
        .await?;
    if res.rows_affected != 1 {
        return Err(AppError::invalid_state("该报名不能取消"));
    }
    shift::Entity::update_many()
        .col_expr(shift::Column::Taken, Expr::col(shift::Column::Taken).sub(1))
        .filter(shift::Column::Id.eq(sh.id))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    let s = get::<shift_signup::Entity, _>(db, s.id, "报名记录不存在").await?;
    announce(db, events, ShiftEventKind::Cancelled, sh.slot_id, &s).await;
    Ok(s)
}

/// Who records attendance: a grid worker of the slot's grid (any grid of the community
/// when the slot has none) or staff of the community.
async fn check_attendance_taker(
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

async fn load_signup(
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
    events: &Events,
    actor: &AuthUser,
    signup_id: i64,
    at: Option<DateTime<Utc>>,
) -> AppResult<shift_signup::Model> {
    let (s, sh, slot) = load_signup(db, signup_id).await?;
    check_attendance_taker(db, actor, &slot).await?;
    let now = Utc::now();
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
        return Err(AppError::invalid_state("该报名当前不能签到"));
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
        return Err(AppError::invalid_state("该报名当前不能签到"));
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
        return Err(AppError::invalid_state("该报名当前不能签退"));
    }
    let checked_in = s
        .checked_in_at
        .ok_or_else(|| AppError::invalid_state("尚未签到"))?;
    let now = Utc::now();
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
        return Err(AppError::invalid_state("该报名当前不能签退"));
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
    if Utc::now() < sh.starts_at {
        return Err(AppError::invalid_state("班次尚未开始"));
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
            "只有已报名未签到的学生可以记为缺勤",
        ));
    }
    get::<shift_signup::Entity, _>(db, s.id, "报名记录不存在").await
}

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
    let view = super::policy::certificate(actor, student_id, &student.roles);
    if view == super::policy::CertificateView::Forbidden {
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
        if let super::policy::CertificateView::Communities(allowed) = &view
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

fn new_token() -> String {
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
        created_at: Set(Utc::now()),
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
    let now = Utc::now();
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

/// Filter for shifts that still have free places.
pub fn has_free_places() -> Condition {
    Condition::all().add(Expr::col(shift::Column::Taken).lt(Expr::col(shift::Column::Capacity)))
}

/// Ids of the slots (still valid) the student may sign up for, in a bounded number of
/// statements.
pub async fn open_slot_ids(db: &DatabaseConnection, actor: &AuthUser) -> AppResult<Vec<i64>> {
    let orgs: Vec<i64> = actor
        .roles
        .iter()
        .filter(|r| r.role == Role::Student)
        .filter_map(|r| r.organization_id)
        .collect();
    if orgs.is_empty() {
        return Ok(Vec::new());
    }
    let today = validate::today();
    let mut ids: Vec<i64> = slot_eligible_organization::Entity::find()
        .select_only()
        .column(slot_eligible_organization::Column::SlotId)
        .filter(slot_eligible_organization::Column::OrganizationId.is_in(orgs.clone()))
        .into_tuple()
        .all(db)
        .await?;
    let partners = alliance::partners_in_force(db, &orgs, today).await?;
    let communities: Vec<i64> = organization::Entity::find()
        .filter(organization::Column::Id.is_in(partners))
        .all(db)
        .await?
        .into_iter()
        .filter(|o| o.kind.is_party())
        .filter_map(|o| o.community_id)
        .collect();
    let by_agreement: Vec<i64> = service_slot::Entity::find()
        .select_only()
        .column(service_slot::Column::Id)
        .filter(service_slot::Column::CommunityId.is_in(communities))
        .into_tuple()
        .all(db)
        .await?;
    ids.extend(by_agreement);
    let valid: Vec<i64> = service_slot::Entity::find()
        .select_only()
        .column(service_slot::Column::Id)
        .filter(service_slot::Column::Id.is_in(ids))
        .filter(service_slot::Column::ValidTo.gte(today))
        .into_tuple()
        .all(db)
        .await?;
    Ok(valid)
}
