//! Patrols in the schema: `logPatrol`, `patrols`, and the checklist a grid's patrol uses.

use std::collections::HashMap;

use async_graphql::dataloader::Loader;
use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use entity::{grid, patrol, patrol_checklist_item, patrol_revision};
use sea_orm::EntityTrait;

use crate::core::db::get;
use crate::core::error::{AppError, AppResult};
use crate::core::pagination as connection;
use crate::core::pagination::{Conn, Page};
use crate::graphql::context::{actor, db, loader, parse_id, parse_opt_id};
use crate::graphql::loaders::Db;
use crate::graphql::scalars::{Date, Timestamp};
use crate::incident::patrol::{self as rules, PatrolFilter, PatrolLog};
use crate::nodes::loaders::{GridKey, UserKey};
use crate::nodes::place::Grid;
use crate::nodes::user::User;

/// The whole checklist catalogue, by kind (one statement per request).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Catalogue;

impl Loader<Catalogue> for Db {
    type Value = HashMap<String, String>;
    type Error = AppError;

    async fn load(&self, _: &[Catalogue]) -> Result<HashMap<Catalogue, Self::Value>, AppError> {
        let rows = patrol_checklist_item::Entity::find()
            .all(self.conn().await)
            .await?;
        let labels = rows.into_iter().map(|i| (i.code, i.label)).collect();
        Ok(HashMap::from([(Catalogue, labels)]))
    }
}

/// One item of a patrol checklist.
#[derive(SimpleObject, Clone)]
pub struct ChecklistItem {
    /// Its code, as `logPatrol` takes it.
    pub code: String,
    /// What it says (e.g. 独居老人家必到).
    pub label: String,
}

fn codes(json: &str) -> Vec<String> {
    serde_json::from_str(json).unwrap_or_default()
}

async fn items(ctx: &Context<'_>, json: &str) -> AppResult<Vec<ChecklistItem>> {
    let labels = loader(ctx)?.load_one(Catalogue).await?.unwrap_or_default();
    Ok(codes(json)
        .into_iter()
        .map(|code| ChecklistItem {
            label: labels.get(&code).cloned().unwrap_or_else(|| code.clone()),
            code,
        })
        .collect())
}

/// A grid worker's round of a grid on a date.
pub struct Patrol(pub patrol::Model);

/// A patrol (网格巡查): a grid worker's round of their grid on a date — households visited, checklist items done, notes; amended by logging it again, every version kept. Seen by the grid's workers, staff of its community and ADMIN.
#[Object]
impl Patrol {
    /// The id of the patrol.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The grid walked.
    async fn grid(&self, ctx: &Context<'_>) -> AppResult<Grid> {
        loader(ctx)?
            .load_one(GridKey(self.0.grid_id))
            .await?
            .map(Grid)
            .ok_or_else(|| AppError::internal("patrol without grid"))
    }
    /// The grid worker (a public office).
    async fn worker(&self, ctx: &Context<'_>) -> AppResult<Option<User>> {
        Ok(loader(ctx)?
            .load_one(UserKey(self.0.worker_id))
            .await?
            .map(User::new))
    }
    /// The day of the round.
    async fn date(&self) -> Date {
        Date(self.0.date)
    }
    /// Households visited.
    async fn households_visited(&self) -> i32 {
        self.0.households_visited
    }
    /// The checklist items done.
    async fn checklist(&self, ctx: &Context<'_>) -> AppResult<Vec<ChecklistItem>> {
        items(ctx, &self.0.checklist).await
    }
    /// Notes.
    async fn notes(&self) -> Option<&str> {
        self.0.notes.as_deref()
    }
    /// 1 for the first log; raised by each amendment.
    async fn revision(&self) -> i32 {
        self.0.revision
    }
    /// Every version, oldest first.
    async fn revisions(&self, ctx: &Context<'_>) -> AppResult<Vec<PatrolRevision>> {
        Ok(loader(ctx)?
            .load_one(crate::incident::loaders::RevisionsOf(self.0.id))
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(PatrolRevision)
            .collect())
    }
    /// When it was first logged.
    async fn created_at(&self) -> Timestamp {
        Timestamp(self.0.created_at)
    }
    /// When it was last amended.
    async fn updated_at(&self) -> Timestamp {
        Timestamp(self.0.updated_at)
    }
}

/// One version of a patrol.
pub struct PatrolRevision(pub patrol_revision::Model);

/// A patrol as it was logged at one time.
#[Object]
impl PatrolRevision {
    /// Its number (1 is the first log).
    async fn revision(&self) -> i32 {
        self.0.revision
    }
    /// Households visited.
    async fn households_visited(&self) -> i32 {
        self.0.households_visited
    }
    /// The checklist items done.
    async fn checklist(&self, ctx: &Context<'_>) -> AppResult<Vec<ChecklistItem>> {
        items(ctx, &self.0.checklist).await
    }
    /// Notes.
    async fn notes(&self) -> Option<&str> {
        self.0.notes.as_deref()
    }
    /// When this version was logged.
    async fn recorded_at(&self) -> Timestamp {
        Timestamp(self.0.recorded_at)
    }
}

#[derive(Default)]
pub struct PatrolQuery;

#[Object]
impl PatrolQuery {
    /// Patrols, newest first (grid workers: their grids; staff: their communities; ADMIN: all; anyone else FORBIDDEN).
    #[graphql(complexity = "connection::complexity(child_complexity, first)")]
    async fn patrols(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only this grid's.")] grid_id: Option<ID>,
        #[graphql(desc = "Only this grid worker's.")] worker_id: Option<ID>,
        #[graphql(desc = "From this day (inclusive).")] from: Option<Date>,
        #[graphql(desc = "To this day (inclusive).")] to: Option<Date>,
        #[graphql(desc = "How many items to return (1 to 100, default 20).")] first: Option<i32>,
        #[graphql(
            desc = "Return the items after this cursor (`pageInfo.endCursor` of the previous page)."
        )]
        after: Option<String>,
    ) -> AppResult<Conn<Patrol>> {
        let page = Page::new(ctx, first, after.as_deref())?;
        let filter = PatrolFilter {
            grid_id: parse_opt_id("gridId", grid_id.as_ref())?,
            worker_id: parse_opt_id("workerId", worker_id.as_ref())?,
            from: from.map(|d| d.0),
            to: to.map(|d| d.0),
        };
        let q = rules::list(actor(ctx)?, &filter)?;
        connection::paginate(
            db(ctx)?,
            q,
            patrol::Column::Id,
            true,
            page,
            |m| m.id,
            Patrol,
        )
        .await
    }

    /// The checklist a patrol of this grid uses (the street's catalogue for its kind).
    async fn patrol_checklist(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The grid.")] grid_id: ID,
    ) -> AppResult<Vec<ChecklistItem>> {
        let id = parse_id("gridId", &grid_id)?;
        let grid = get::<grid::Entity, _>(db(ctx)?, id, "网格不存在").await?;
        Ok(rules::checklist(db(ctx)?, grid.kind)
            .await?
            .into_iter()
            .map(|i| ChecklistItem {
                code: i.code,
                label: i.label,
            })
            .collect())
    }
}

/// A patrol to log (or amend).
#[derive(InputObject)]
pub struct LogPatrolInput {
    /// The grid (the caller works in it).
    pub grid_id: ID,
    /// The day (today when absent; up to 30 days back, not in the future).
    pub date: Option<Date>,
    /// Households visited (0 to 10000).
    pub households_visited: i32,
    /// Codes of the checklist items done (`patrolChecklist`).
    pub checklist: Vec<String>,
    /// Notes (up to 2000 characters).
    pub notes: Option<String>,
}

/// The patrol after logging.
#[derive(SimpleObject)]
pub struct PatrolPayload {
    /// The patrol.
    pub patrol: Patrol,
}

#[derive(Default)]
pub struct PatrolMutation;

#[Object]
impl PatrolMutation {
    /// Logs the caller's patrol of a grid on a date (a grid worker of the grid); logging the same worker, grid and date again amends it, keeping every version.
    async fn log_patrol(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The fields of the operation.")] input: LogPatrolInput,
    ) -> AppResult<PatrolPayload> {
        let p = rules::log(
            db(ctx)?,
            actor(ctx)?,
            PatrolLog {
                grid_id: parse_id("gridId", &input.grid_id)?,
                date: input.date.map(|d| d.0),
                households_visited: input.households_visited,
                checklist: input.checklist,
                notes: input.notes,
            },
        )
        .await?;
        Ok(PatrolPayload { patrol: Patrol(p) })
    }
}
