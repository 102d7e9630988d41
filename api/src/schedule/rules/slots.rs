//! Weekly slots and their dated shifts: local times, occurrences, creation, changes and
//! who may sign up.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};
use entity::{
    community, grid, organization, role_assignment::Role, service_slot, shift,
    slot_eligible_organization,
};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, Condition, DatabaseConnection, DbBackend, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect,
    sea_query::{Expr, ExprTrait},
};

use crate::alliance::rules as alliance;
use crate::auth::AuthUser;
use crate::core::db;
use crate::core::db::get;
use crate::core::error::AppError;
use crate::core::error::AppResult;
use crate::core::error::ErrorReason;
use crate::core::validate;

#[allow(unused_imports)]
use super::*;

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

pub(crate) fn weekday_of(n: i32) -> AppResult<Weekday> {
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
        created_at: Set(crate::core::clock::now()),
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
    let now = crate::core::clock::now();
    let txn = db::begin_write(db).await?;
    // Lock the slot and its future shifts (PostgreSQL; SQLite write transactions are
    // serial): a sign-up racing this change either committed before (its place is seen
    // below) or waits until the new times are in place and sees them.
    let mut future = shift::Entity::find()
        .filter(shift::Column::SlotId.eq(slot.id))
        .filter(shift::Column::StartsAt.gt(now))
        .order_by_asc(shift::Column::Id);
    if db.get_database_backend() == DbBackend::Postgres {
        service_slot::Entity::find_by_id(slot.id)
            .lock_exclusive()
            .one(&txn)
            .await?;
        future = future.lock_exclusive();
    }
    let future = future.all(&txn).await?;
    if let Some(cap) = capacity {
        if !(1..=1000).contains(&cap) {
            return Err(AppError::bad_field("capacity", "名额须在 1 到 1000 之间"));
        }
        if let Some(full) = future.iter().find(|s| s.taken > cap) {
            return Err(AppError::conflict(
                ErrorReason::CapacityBelowSignups,
                format!(
                    "{} 已有 {} 人报名，名额不能少于报名人数",
                    full.date, full.taken
                ),
            ));
        }
        let res = shift::Entity::update_many()
            .col_expr(shift::Column::Capacity, Expr::value(cap))
            .filter(shift::Column::SlotId.eq(slot.id))
            .filter(shift::Column::StartsAt.gt(now))
            .filter(shift::Column::Taken.lte(cap))
            .exec(&txn)
            .await?;
        if res.rows_affected as usize != future.len() {
            return Err(AppError::conflict(
                ErrorReason::ShiftChangedMeanwhile,
                "报名人数已变化，请重试",
            ));
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
            return Err(AppError::conflict(
                ErrorReason::ShiftHasSignups,
                format!("{} 已有学生报名，不能调整时间", busy.date),
            ));
        }
        for sh in &future {
            let res = shift::Entity::update_many()
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
            if res.rows_affected != 1 {
                // Never leave the slot and its shifts disagreeing: refuse the whole change.
                return Err(AppError::conflict(
                    ErrorReason::SignupChangedMeanwhile,
                    "报名情况已变化，请重试",
                ));
            }
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
pub(crate) async fn community_party_orgs(
    db: &DatabaseConnection,
    community_id: i64,
) -> AppResult<Vec<i64>> {
    Ok(organization::Entity::find()
        .filter(organization::Column::CommunityId.eq(community_id))
        .all(db)
        .await?
        .into_iter()
        .filter(|o| o.kind.is_party())
        .map(|o| o.id)
        .collect())
}

/// The organisations a student signs up for (their STUDENT roles' organisations).
pub(crate) fn student_organizations(student: &AuthUser) -> Vec<i64> {
    student
        .roles
        .iter()
        .filter(|r| r.role == Role::Student)
        .filter_map(|r| r.organization_id)
        .collect()
}

/// Whether a student may sign up for a slot: their organisation is one of the slot's
/// eligible organisations, or is party to an ACTIVE agreement with a party organisation of
/// the slot's community.
pub async fn eligible(
    db: &DatabaseConnection,
    student: &AuthUser,
    slot: &service_slot::Model,
) -> AppResult<bool> {
    let orgs = student_organizations(student);
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

/// Filter for shifts that still have free places.
pub fn has_free_places() -> Condition {
    Condition::all().add(Expr::col(shift::Column::Taken).lt(Expr::col(shift::Column::Capacity)))
}

/// Ids of the slots (still valid) the student may sign up for, in a bounded number of
/// statements.
pub async fn open_slot_ids(db: &DatabaseConnection, actor: &AuthUser) -> AppResult<Vec<i64>> {
    let orgs = student_organizations(actor);
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
