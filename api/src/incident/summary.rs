//! The Monday grid meeting (看一看、比一比): each grid's week in figures, a ranking of the
//! community's grids on those figures, and the quarter's 网格之星 candidates. Every figure is
//! one grouped statement over the whole community, so the number of statements does not grow
//! with the number of grids.

use chrono::{Datelike, Duration, NaiveDate};
use entity::{
    grid, incident, incident::IncidentStatus, incident_step, patrol, service_slot, shift,
    shift_signup, wish,
};
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, EntityTrait, JoinType, QueryFilter, QueryOrder,
    QuerySelect,
    sea_query::{Alias, Expr, ExprTrait, Query},
};
use std::collections::HashMap;

use crate::auth::AuthUser;
use crate::core::db::{self, get};
use crate::core::error::{AppError, AppResult};
use crate::core::validate::local_midnight;
use crate::incident::{policy, rules::overdue_condition};

/// One grid's week (Monday to Sunday, Asia/Shanghai).
#[derive(Clone, Debug, Default)]
pub struct GridWeek {
    pub grid: Option<grid::Model>,
    pub patrols: i64,
    pub households_visited: i64,
    pub incidents_found: i64,
    pub resolved_on_site: i64,
    pub whistled: i64,
    pub closed: i64,
    pub overdue: i64,
    pub wishes_published: i64,
    pub wishes_confirmed: i64,
    pub student_minutes: i64,
}

impl GridWeek {
    /// The ranking's score (documented in the README): 2 per incident resolved on site,
    /// 2 per incident closed, 1 per patrol, 1 per 10 households visited, 2 per wish
    /// confirmed, 1 per full student hour, minus 3 per overdue incident.
    pub fn score(&self) -> i64 {
        2 * self.resolved_on_site
            + 2 * self.closed
            + self.patrols
            + self.households_visited / 10
            + 2 * self.wishes_confirmed
            + self.student_minutes / 60
            - 3 * self.overdue
    }
}

/// The Monday of the week `day` is in, and the Monday after.
pub fn week_of(day: NaiveDate) -> (NaiveDate, NaiveDate) {
    let monday = day - Duration::days(day.weekday().num_days_from_monday() as i64);
    (monday, monday + Duration::days(7))
}

/// The first day of `year`'s quarter `quarter` (1–4), and the first day of the next.
pub fn quarter(year: i32, quarter: i32) -> AppResult<(NaiveDate, NaiveDate)> {
    if !(1..=4).contains(&quarter) {
        return Err(AppError::bad_field("quarter", "季度须为 1–4"));
    }
    if !crate::core::validate::YEARS.contains(&year) {
        return Err(AppError::bad_field("year", "年份须在 1900–2199 之间"));
    }
    let start = NaiveDate::from_ymd_opt(year, (quarter as u32 - 1) * 3 + 1, 1)
        .ok_or_else(|| AppError::bad_field("year", "年份无效"))?;
    let end = if quarter == 4 {
        NaiveDate::from_ymd_opt(year + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(year, quarter as u32 * 3 + 1, 1)
    }
    .ok_or_else(|| AppError::bad_field("year", "年份无效"))?;
    Ok((start, end))
}

/// Staff of the community (ADMIN everywhere) and grid workers of one of its grids see its
/// meeting figures.
async fn check_viewer(
    db: &DatabaseConnection,
    viewer: &AuthUser,
    community_id: i64,
) -> AppResult<Vec<grid::Model>> {
    get::<entity::community::Entity, _>(db, community_id, "社区不存在").await?;
    let grids = grid::Entity::find()
        .filter(grid::Column::CommunityId.eq(community_id))
        .order_by_asc(grid::Column::Id)
        .all(db)
        .await?;
    if !policy::may_see_meeting(viewer, community_id, &grids) {
        return Err(AppError::forbidden());
    }
    Ok(grids)
}

/// `q`'s rows counted per grid, in one grouped statement.
async fn per_grid<E: EntityTrait>(
    db: &DatabaseConnection,
    q: sea_orm::Select<E>,
    grid: E::Column,
    id: E::Column,
) -> AppResult<Vec<(i64, i64)>> {
    Ok(q.select_only()
        .column(grid)
        .column_as(id.count(), "n")
        .group_by(grid)
        .into_tuple()
        .all(db)
        .await?)
}

/// Records per-grid counts in the week's rows (grids of other communities are not there).
fn set(weeks: &mut HashMap<i64, GridWeek>, counts: Vec<(i64, i64)>, f: fn(&mut GridWeek, i64)) {
    for (g, n) in counts {
        if let Some(w) = weeks.get_mut(&g) {
            f(w, n);
        }
    }
}

/// Each grid of the community in the week of `day`, in grid order.
pub async fn weekly(
    db: &DatabaseConnection,
    viewer: &AuthUser,
    community_id: i64,
    day: NaiveDate,
) -> AppResult<Vec<GridWeek>> {
    let grids = check_viewer(db, viewer, community_id).await?;
    let (monday, next) = week_of(day);
    let (from, to) = (local_midnight(monday), local_midnight(next));
    let grids_here = || {
        Query::select()
            .column(grid::Column::Id)
            .from(grid::Entity)
            .and_where(Expr::col(grid::Column::CommunityId).eq(community_id))
            .to_owned()
    };
    let mut weeks: HashMap<i64, GridWeek> = grids
        .iter()
        .map(|g| {
            (
                g.id,
                GridWeek {
                    grid: Some(g.clone()),
                    ..Default::default()
                },
            )
        })
        .collect();

    let patrols: Vec<(i64, i64, Option<i64>)> = patrol::Entity::find()
        .select_only()
        .column(patrol::Column::GridId)
        .column_as(patrol::Column::Id.count(), "n")
        .column_as(
            Expr::col(patrol::Column::HouseholdsVisited)
                .sum()
                .cast_as(Alias::new("BIGINT")),
            "h",
        )
        .filter(patrol::Column::GridId.in_subquery(grids_here()))
        .filter(patrol::Column::Date.gte(monday))
        .filter(patrol::Column::Date.lt(next))
        .group_by(patrol::Column::GridId)
        .into_tuple()
        .all(db)
        .await?;
    for (g, n, h) in patrols {
        if let Some(w) = weeks.get_mut(&g) {
            w.patrols = n;
            w.households_visited = h.unwrap_or(0);
        }
    }

    let found = incident::Entity::find()
        .filter(incident::Column::CommunityId.eq(community_id))
        .filter(incident::Column::CreatedAt.gte(from))
        .filter(incident::Column::CreatedAt.lt(to));
    let found = per_grid(db, found, incident::Column::GridId, incident::Column::Id).await?;
    set(&mut weeks, found, |w, n| w.incidents_found = n);

    let steps: Vec<(i64, IncidentStatus, i64)> = incident_step::Entity::find()
        .select_only()
        .column(incident::Column::GridId)
        .column(incident_step::Column::ToStatus)
        .column_as(incident_step::Column::Id.count(), "n")
        .join(
            JoinType::InnerJoin,
            db::belongs_to::<incident_step::Entity, incident::Entity>(
                incident_step::Column::IncidentId,
                incident::Column::Id,
            ),
        )
        .filter(incident::Column::CommunityId.eq(community_id))
        .filter(incident_step::Column::CreatedAt.gte(from))
        .filter(incident_step::Column::CreatedAt.lt(to))
        .filter(incident_step::Column::ToStatus.is_in([
            IncidentStatus::ResolvedOnSite,
            IncidentStatus::Whistled,
            IncidentStatus::Closed,
        ]))
        .group_by(incident::Column::GridId)
        .group_by(incident_step::Column::ToStatus)
        .into_tuple()
        .all(db)
        .await?;
    for (g, status, n) in steps {
        if let Some(w) = weeks.get_mut(&g) {
            match status {
                IncidentStatus::ResolvedOnSite => w.resolved_on_site = n,
                IncidentStatus::Whistled => w.whistled = n,
                _ => w.closed = n,
            }
        }
    }

    // Overdue in the week: the deadline of the current dispatch fell in it and passed before
    // the incident was handled (announced by the overdue job, or overdue right now).
    let overdue = incident::Entity::find()
        .filter(incident::Column::CommunityId.eq(community_id))
        .filter(incident::Column::Deadline.gte(from))
        .filter(incident::Column::Deadline.lt(to))
        .filter(
            Condition::any()
                .add(incident::Column::OverdueNotifiedAt.is_not_null())
                .add(overdue_condition(crate::core::clock::now())),
        );
    let overdue = per_grid(db, overdue, incident::Column::GridId, incident::Column::Id).await?;
    set(&mut weeks, overdue, |w, n| w.overdue = n);

    // Published: approved at review in the week (a rejected wish was never published).
    let published = wish::Entity::find()
        .filter(wish::Column::CommunityId.eq(community_id))
        .filter(wish::Column::ReviewedAt.gte(from))
        .filter(wish::Column::ReviewedAt.lt(to))
        .filter(wish::Column::Status.ne(entity::wish::WishStatus::Rejected));
    let published = per_grid(db, published, wish::Column::GridId, wish::Column::Id).await?;
    set(&mut weeks, published, |w, n| w.wishes_published = n);
    let confirmed = wish::Entity::find()
        .filter(wish::Column::CommunityId.eq(community_id))
        .filter(wish::Column::ConfirmedAt.gte(from))
        .filter(wish::Column::ConfirmedAt.lt(to));
    let confirmed = per_grid(db, confirmed, wish::Column::GridId, wish::Column::Id).await?;
    set(&mut weeks, confirmed, |w, n| w.wishes_confirmed = n);

    // Student hours: completed shifts of the week's dates at slots of the grid.
    let minutes: Vec<(Option<i64>, Option<i64>)> = shift_signup::Entity::find()
        .select_only()
        .column(service_slot::Column::GridId)
        .column_as(
            Expr::col((shift_signup::Entity, shift_signup::Column::Minutes))
                .sum()
                .cast_as(Alias::new("BIGINT")),
            "m",
        )
        .join(
            JoinType::InnerJoin,
            db::belongs_to::<shift_signup::Entity, shift::Entity>(
                shift_signup::Column::ShiftId,
                shift::Column::Id,
            ),
        )
        .join(
            JoinType::InnerJoin,
            db::belongs_to::<shift::Entity, service_slot::Entity>(
                shift::Column::SlotId,
                service_slot::Column::Id,
            ),
        )
        .filter(service_slot::Column::CommunityId.eq(community_id))
        .filter(service_slot::Column::GridId.is_not_null())
        .filter(shift::Column::Date.gte(monday))
        .filter(shift::Column::Date.lt(next))
        .filter(shift_signup::Column::Status.eq(entity::shift_signup::SignupStatus::Completed))
        .group_by(service_slot::Column::GridId)
        .into_tuple()
        .all(db)
        .await?;
    for (g, m) in minutes {
        if let Some(w) = g.and_then(|g| weeks.get_mut(&g)) {
            w.student_minutes = m.unwrap_or(0);
        }
    }

    Ok(grids.iter().filter_map(|g| weeks.remove(&g.id)).collect())
}

/// The community's grids in the week, best score first (ties share a rank; then grid order).
pub async fn ranking(
    db: &DatabaseConnection,
    viewer: &AuthUser,
    community_id: i64,
    day: NaiveDate,
) -> AppResult<Vec<(i64, GridWeek)>> {
    let mut weeks = weekly(db, viewer, community_id, day).await?;
    weeks.sort_by_key(|w| -w.score());
    let mut ranked = Vec::with_capacity(weeks.len());
    let mut rank = 0;
    let mut last = None;
    for (i, w) in weeks.into_iter().enumerate() {
        if last != Some(w.score()) {
            rank = i as i64 + 1;
            last = Some(w.score());
        }
        ranked.push((rank, w));
    }
    Ok(ranked)
}

/// A grid worker's quarter.
#[derive(Clone, Debug, Default)]
pub struct StarCandidate {
    pub worker_id: i64,
    pub patrols: i64,
    pub households_visited: i64,
    pub incidents_reported: i64,
    pub resolved_on_site: i64,
    pub closed: i64,
}

impl StarCandidate {
    /// The 网格之星 score (documented in the README): 1 per patrol, 1 per 10 households
    /// visited, 2 per incident reported, 3 per incident resolved on site, 2 per incident
    /// closed with the resident.
    pub fn score(&self) -> i64 {
        self.patrols
            + self.households_visited / 10
            + 2 * self.incidents_reported
            + 3 * self.resolved_on_site
            + 2 * self.closed
    }
}

/// The quarter's grid workers of the community by score, best first (at most `limit`).
pub async fn stars(
    db: &DatabaseConnection,
    viewer: &AuthUser,
    community_id: i64,
    (start, end): (NaiveDate, NaiveDate),
    limit: usize,
) -> AppResult<Vec<StarCandidate>> {
    check_viewer(db, viewer, community_id).await?;
    let (from, to) = (local_midnight(start), local_midnight(end));
    let mut by: HashMap<i64, StarCandidate> = HashMap::new();
    let patrols: Vec<(i64, i64, Option<i64>)> = patrol::Entity::find()
        .select_only()
        .column(patrol::Column::WorkerId)
        .column_as(patrol::Column::Id.count(), "n")
        .column_as(
            Expr::col(patrol::Column::HouseholdsVisited)
                .sum()
                .cast_as(Alias::new("BIGINT")),
            "h",
        )
        .filter(
            patrol::Column::GridId.in_subquery(
                Query::select()
                    .column(grid::Column::Id)
                    .from(grid::Entity)
                    .and_where(Expr::col(grid::Column::CommunityId).eq(community_id))
                    .to_owned(),
            ),
        )
        .filter(patrol::Column::Date.gte(start))
        .filter(patrol::Column::Date.lt(end))
        .group_by(patrol::Column::WorkerId)
        .into_tuple()
        .all(db)
        .await?;
    let reported: Vec<(i64, i64)> = incident::Entity::find()
        .select_only()
        .column(incident::Column::ReportedBy)
        .column_as(incident::Column::Id.count(), "n")
        .filter(incident::Column::CommunityId.eq(community_id))
        .filter(incident::Column::CreatedAt.gte(from))
        .filter(incident::Column::CreatedAt.lt(to))
        .group_by(incident::Column::ReportedBy)
        .into_tuple()
        .all(db)
        .await?;
    let steps: Vec<(i64, IncidentStatus, i64)> = incident_step::Entity::find()
        .select_only()
        .column(incident_step::Column::ActorId)
        .column(incident_step::Column::ToStatus)
        .column_as(incident_step::Column::Id.count(), "n")
        .join(
            JoinType::InnerJoin,
            db::belongs_to::<incident_step::Entity, incident::Entity>(
                incident_step::Column::IncidentId,
                incident::Column::Id,
            ),
        )
        .filter(incident::Column::CommunityId.eq(community_id))
        .filter(incident_step::Column::CreatedAt.gte(from))
        .filter(incident_step::Column::CreatedAt.lt(to))
        .filter(
            incident_step::Column::ToStatus
                .is_in([IncidentStatus::ResolvedOnSite, IncidentStatus::Closed]),
        )
        .group_by(incident_step::Column::ActorId)
        .group_by(incident_step::Column::ToStatus)
        .into_tuple()
        .all(db)
        .await?;
    fn get_or(by: &mut HashMap<i64, StarCandidate>, id: i64) -> &mut StarCandidate {
        by.entry(id).or_insert_with(|| StarCandidate {
            worker_id: id,
            ..Default::default()
        })
    }
    for (w, n, h) in patrols {
        let c = get_or(&mut by, w);
        c.patrols = n;
        c.households_visited = h.unwrap_or(0);
    }
    for (w, n) in reported {
        get_or(&mut by, w).incidents_reported = n;
    }
    for (w, status, n) in steps {
        let c = get_or(&mut by, w);
        if status == IncidentStatus::ResolvedOnSite {
            c.resolved_on_site = n;
        } else {
            c.closed = n;
        }
    }
    let mut all: Vec<StarCandidate> = by.into_values().filter(|c| c.score() > 0).collect();
    all.sort_by_key(|c| (-c.score(), c.worker_id));
    all.truncate(limit);
    Ok(all)
}

/// A unit's incidents of a community now: those it holds open (dispatched, accepted or
/// reopened) and how many of them are overdue.
#[derive(Clone, Debug)]
pub struct UnitLoad {
    pub organization_id: i64,
    pub open: i64,
    pub overdue: i64,
}

/// Every unit holding incidents of the community, most overdue first (one statement). For
/// the community's staff (ADMIN everywhere).
pub async fn units(
    db: &DatabaseConnection,
    viewer: &AuthUser,
    community_id: i64,
) -> AppResult<Vec<UnitLoad>> {
    get::<entity::community::Entity, _>(db, community_id, "社区不存在").await?;
    if !viewer.is_staff_of(community_id) {
        return Err(AppError::forbidden());
    }
    let overdue_now = Expr::case(overdue_condition(crate::core::clock::now()), 1).finally(0);
    let rows: Vec<(Option<i64>, i64, Option<i64>)> = incident::Entity::find()
        .select_only()
        .column(incident::Column::OrganizationId)
        .column_as(incident::Column::Id.count(), "open")
        .column_as(
            Expr::expr(overdue_now).sum().cast_as(Alias::new("BIGINT")),
            "overdue",
        )
        .filter(incident::Column::CommunityId.eq(community_id))
        .filter(incident::Column::Status.is_in([
            IncidentStatus::Dispatched,
            IncidentStatus::Accepted,
            IncidentStatus::Reopened,
        ]))
        .group_by(incident::Column::OrganizationId)
        .into_tuple()
        .all(db)
        .await?;
    let mut out: Vec<UnitLoad> = rows
        .into_iter()
        .filter_map(|(o, open, overdue)| {
            o.map(|organization_id| UnitLoad {
                organization_id,
                open,
                overdue: overdue.unwrap_or(0),
            })
        })
        .collect();
    out.sort_by_key(|u| (-u.overdue, -u.open, u.organization_id));
    Ok(out)
}
