//! Patrols (网格巡查): one per grid worker, grid and date; logging it again amends it, and
//! every version is kept (`patrol_revisions`).

use chrono::{Duration, NaiveDate};
use entity::{grid, grid::GridKind, patrol, patrol_checklist_item, patrol_revision};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, DatabaseConnection, EntityTrait,
    QueryFilter, QueryOrder, sea_query::Expr,
};

use crate::auth::AuthUser;
use crate::core::db::{self, get};
use crate::core::error::ErrorReason;
use crate::core::error::{AppError, AppResult};
use crate::core::validate;
use crate::incident::policy;

/// How far back a patrol may be logged or amended.
pub const DAYS_BACK: i64 = 30;

/// A patrol as the grid worker logs it.
pub struct PatrolLog {
    pub grid_id: i64,
    pub date: Option<NaiveDate>,
    pub households_visited: i32,
    pub checklist: Vec<String>,
    pub notes: Option<String>,
}

/// The catalogue's kind for a grid (a micro-grid uses the comprehensive list).
pub fn catalogue_kind(kind: GridKind) -> &'static str {
    match kind {
        GridKind::Dedicated => "DEDICATED",
        _ => "COMPREHENSIVE",
    }
}

/// The checklist of a kind of grid, in order.
pub async fn checklist(
    db: &DatabaseConnection,
    kind: GridKind,
) -> AppResult<Vec<patrol_checklist_item::Model>> {
    Ok(patrol_checklist_item::Entity::find()
        .filter(patrol_checklist_item::Column::GridKind.eq(catalogue_kind(kind)))
        .order_by_asc(patrol_checklist_item::Column::Position)
        .all(db)
        .await?)
}

/// Logs (or amends) the caller's patrol of a grid on a date (a grid worker of the grid).
pub async fn log(
    db: &DatabaseConnection,
    actor: &AuthUser,
    input: PatrolLog,
) -> AppResult<patrol::Model> {
    let grid = get::<grid::Entity, _>(db, input.grid_id, "网格不存在").await?;
    if !policy::may_work_grid(actor, grid.id) {
        return Err(AppError::forbidden());
    }
    let today = validate::today();
    let date = input.date.unwrap_or(today);
    if date > today {
        return Err(AppError::bad_field("date", "不能登记未来日期的巡查"));
    }
    if date < today - Duration::days(DAYS_BACK) {
        return Err(AppError::bad_field(
            "date",
            format!("只能登记 {DAYS_BACK} 天内的巡查"),
        ));
    }
    if !(0..=10_000).contains(&input.households_visited) {
        return Err(AppError::bad_field(
            "householdsVisited",
            "走访户数须为 0–10000",
        ));
    }
    let notes = match input.notes.as_deref().map(str::trim) {
        Some(n) if !n.is_empty() => Some(validate::text("notes", n, 2000)?),
        _ => None,
    };
    let known: Vec<String> = checklist(db, grid.kind)
        .await?
        .into_iter()
        .map(|i| i.code)
        .collect();
    let mut done: Vec<String> = Vec::new();
    for code in &input.checklist {
        if !known.contains(code) {
            return Err(AppError::bad_field(
                "checklist",
                format!("“{code}”不在本类网格的巡查清单中"),
            ));
        }
        if !done.contains(code) {
            done.push(code.clone());
        }
    }
    let checklist = serde_json::to_string(&done).map_err(AppError::internal)?;
    let now = crate::core::clock::now();
    let txn = db::begin_write(db).await?;
    let existing = patrol::Entity::find()
        .filter(patrol::Column::WorkerId.eq(actor.id()))
        .filter(patrol::Column::GridId.eq(grid.id))
        .filter(patrol::Column::Date.eq(date))
        .one(&txn)
        .await?;
    let saved = match existing {
        None => patrol::ActiveModel {
            grid_id: Set(grid.id),
            worker_id: Set(actor.id()),
            date: Set(date),
            households_visited: Set(input.households_visited),
            checklist: Set(checklist.clone()),
            notes: Set(notes.clone()),
            revision: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await
        .map_err(|e| {
            AppError::on_unique(
                e,
                ErrorReason::PatrolChangedMeanwhile,
                "该巡查正被同时登记，请重试",
            )
        })?,
        Some(p) => patrol::Entity::update_many()
            .col_expr(
                patrol::Column::HouseholdsVisited,
                Expr::value(input.households_visited),
            )
            .col_expr(patrol::Column::Checklist, Expr::value(checklist.clone()))
            .col_expr(patrol::Column::Notes, Expr::value(notes.clone()))
            .col_expr(patrol::Column::Revision, Expr::value(p.revision + 1))
            .col_expr(patrol::Column::UpdatedAt, Expr::value(now))
            .filter(patrol::Column::Id.eq(p.id))
            .filter(patrol::Column::Revision.eq(p.revision))
            .exec_with_returning(&txn)
            .await?
            .pop()
            .ok_or_else(|| {
                AppError::conflict(
                    ErrorReason::PatrolChangedMeanwhile,
                    "该巡查正被同时修改，请重试",
                )
            })?,
    };
    patrol_revision::ActiveModel {
        patrol_id: Set(saved.id),
        revision: Set(saved.revision),
        households_visited: Set(saved.households_visited),
        checklist: Set(checklist),
        notes: Set(notes),
        recorded_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .map_err(|e| {
        AppError::on_unique(
            e,
            ErrorReason::PatrolChangedMeanwhile,
            "该巡查正被同时修改，请重试",
        )
    })?;
    txn.commit().await?;
    Ok(saved)
}

/// Filters of the `patrols` list.
#[derive(Default)]
pub struct PatrolFilter {
    pub grid_id: Option<i64>,
    pub worker_id: Option<i64>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

/// The patrols the viewer may see, narrowed by the filters.
pub fn list(actor: &AuthUser, f: &PatrolFilter) -> AppResult<sea_orm::Select<patrol::Entity>> {
    let scope = policy::visible_patrols(actor).ok_or_else(AppError::forbidden)?;
    let mut cond = Condition::all().add(scope);
    if let Some(g) = f.grid_id {
        cond = cond.add(patrol::Column::GridId.eq(g));
    }
    if let Some(w) = f.worker_id {
        cond = cond.add(patrol::Column::WorkerId.eq(w));
    }
    if let Some(d) = f.from {
        cond = cond.add(patrol::Column::Date.gte(d));
    }
    if let Some(d) = f.to {
        cond = cond.add(patrol::Column::Date.lte(d));
    }
    if let (Some(a), Some(b)) = (f.from, f.to)
        && a > b
    {
        return Err(AppError::bad_field("from", "开始日期不能晚于结束日期"));
    }
    Ok(patrol::Entity::find().filter(cond))
}
