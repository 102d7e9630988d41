//! The Monday meeting in the schema: `gridWeeklySummary`, `gridRanking` and
//! `gridStarCandidates`.

use async_graphql::{Context, ID, Object, SimpleObject};

use crate::core::error::{AppError, AppResult};
use crate::graphql::context::{actor, db, loader, parse_id};
use crate::graphql::scalars::Date;
use crate::incident::summary::{self, GridWeek, StarCandidate};
use crate::nodes::loaders::{OrganizationKey, UserKey};
use crate::nodes::place::{Grid, Organization};
use crate::nodes::user::User;

/// One grid's week (Monday to Sunday, Asia/Shanghai) in the figures of the grid meeting.
pub struct GridWeekSummary {
    week: GridWeek,
    monday: chrono::NaiveDate,
}

/// One grid's week (Monday to Sunday, Asia/Shanghai): patrols, incidents, wishes and student hours, as compared at the Monday grid meeting (看一看、比一比).
#[Object]
impl GridWeekSummary {
    /// The grid.
    async fn grid(&self) -> AppResult<Grid> {
        self.week
            .grid
            .clone()
            .map(Grid)
            .ok_or_else(|| AppError::internal("summary without grid"))
    }
    /// The Monday the week starts on.
    async fn week_start(&self) -> Date {
        Date(self.monday)
    }
    /// Patrols logged in the grid in the week (one per worker and day).
    async fn patrols(&self) -> i64 {
        self.week.patrols
    }
    /// Households visited on those patrols.
    async fn households_visited(&self) -> i64 {
        self.week.households_visited
    }
    /// Incidents reported in the grid in the week.
    async fn incidents_found(&self) -> i64 {
        self.week.incidents_found
    }
    /// Incidents resolved on site in the week.
    async fn incidents_resolved_on_site(&self) -> i64 {
        self.week.resolved_on_site
    }
    /// Incidents whistled to the street in the week.
    async fn incidents_whistled(&self) -> i64 {
        self.week.whistled
    }
    /// Incidents closed with the resident in the week.
    async fn incidents_closed(&self) -> i64 {
        self.week.closed
    }
    /// Incidents whose deadline fell in the week and passed before they were handled.
    async fn incidents_overdue(&self) -> i64 {
        self.week.overdue
    }
    /// Wishes of the grid published (approved at review) in the week.
    async fn wishes_published(&self) -> i64 {
        self.week.wishes_published
    }
    /// Wishes of the grid confirmed by the resident in the week.
    async fn wishes_confirmed(&self) -> i64 {
        self.week.wishes_confirmed
    }
    /// Hours served by student assistants at the grid's slots on the week's dates.
    async fn student_hours(&self) -> f64 {
        self.week.student_minutes as f64 / 60.0
    }
    /// The ranking's score: 2 per incident resolved on site, 2 per incident closed, 1 per patrol, 1 per 10 households visited, 2 per wish confirmed, 1 per full student hour, minus 3 per overdue incident.
    async fn score(&self) -> i64 {
        self.week.score()
    }
}

/// A grid's place in the week's ranking.
#[derive(SimpleObject)]
pub struct GridRank {
    /// 1 for the best score; grids with equal scores share a rank.
    pub rank: i64,
    /// The grid's week.
    pub summary: GridWeekSummary,
}

/// A grid worker's quarter, as a 网格之星 candidate.
pub struct GridStarCandidate(StarCandidate);

/// A grid worker's quarter in the community, as a 网格之星 candidate.
#[Object]
impl GridStarCandidate {
    /// The grid worker.
    async fn worker(&self, ctx: &Context<'_>) -> AppResult<Option<User>> {
        Ok(loader(ctx)?
            .load_one(UserKey(self.0.worker_id))
            .await?
            .map(User::new))
    }
    /// 1 per patrol, 1 per 10 households visited, 2 per incident reported, 3 per incident resolved on site, 2 per incident closed with the resident.
    async fn score(&self) -> i64 {
        self.0.score()
    }
    /// Patrols logged in the quarter.
    async fn patrols(&self) -> i64 {
        self.0.patrols
    }
    /// Households visited on them.
    async fn households_visited(&self) -> i64 {
        self.0.households_visited
    }
    /// Incidents reported.
    async fn incidents_reported(&self) -> i64 {
        self.0.incidents_reported
    }
    /// Incidents resolved on site.
    async fn incidents_resolved_on_site(&self) -> i64 {
        self.0.resolved_on_site
    }
    /// Incidents closed with the resident.
    async fn incidents_closed(&self) -> i64 {
        self.0.closed
    }
}

/// A unit's open incidents of a community, and how many are overdue (counted against it).
pub struct UnitIncidentLoad(summary::UnitLoad);

/// A unit's open incidents of a community (dispatched, accepted or reopened) and how many of them are past their deadline now.
#[Object]
impl UnitIncidentLoad {
    /// The unit (a street department or an alliance member).
    async fn organization(&self, ctx: &Context<'_>) -> AppResult<Option<Organization>> {
        Ok(loader(ctx)?
            .load_one(OrganizationKey(self.0.organization_id))
            .await?
            .map(Organization))
    }
    /// Incidents it holds open.
    async fn open(&self) -> i64 {
        self.0.open
    }
    /// Of those, how many are overdue now.
    async fn overdue(&self) -> i64 {
        self.0.overdue
    }
}

#[derive(Default)]
pub struct SummaryQuery;

#[Object]
impl SummaryQuery {
    /// Each grid of a community in one week, in grid order (staff of the community and its grid workers).
    async fn grid_weekly_summary(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The community.")] community_id: ID,
        #[graphql(desc = "Any day of the week (Monday to Sunday, Asia/Shanghai).")] week: Date,
    ) -> AppResult<Vec<GridWeekSummary>> {
        let id = parse_id("communityId", &community_id)?;
        let monday = summary::week_of(week.0).0;
        Ok(summary::weekly(db(ctx)?, actor(ctx)?, id, week.0)
            .await?
            .into_iter()
            .map(|week| GridWeekSummary { week, monday })
            .collect())
    }

    /// A community's grids ranked by their week's score, best first (staff of the community and its grid workers). A plain list, not a connection: a ranking is read whole (a community has tens of grids) and its order is the score, not a cursor.
    async fn grid_ranking(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The community.")] community_id: ID,
        #[graphql(desc = "Any day of the week (Monday to Sunday, Asia/Shanghai).")] week: Date,
    ) -> AppResult<Vec<GridRank>> {
        let id = parse_id("communityId", &community_id)?;
        let monday = summary::week_of(week.0).0;
        Ok(summary::ranking(db(ctx)?, actor(ctx)?, id, week.0)
            .await?
            .into_iter()
            .map(|(rank, week)| GridRank {
                rank,
                summary: GridWeekSummary { week, monday },
            })
            .collect())
    }

    /// The units holding a community's incidents, most overdue first (staff of the community): the per-unit count of `incidents(organizationId, overdue: true)`.
    async fn incident_load_by_unit(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The community.")] community_id: ID,
    ) -> AppResult<Vec<UnitIncidentLoad>> {
        let id = parse_id("communityId", &community_id)?;
        Ok(summary::units(db(ctx)?, actor(ctx)?, id)
            .await?
            .into_iter()
            .map(UnitIncidentLoad)
            .collect())
    }

    /// The quarter's 网格之星 candidates of a community: its grid workers by score, best first (staff of the community and its grid workers). A plain list: read whole, ordered by score.
    async fn grid_star_candidates(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The community.")] community_id: ID,
        #[graphql(desc = "The year.")] year: i32,
        #[graphql(desc = "The quarter, 1 to 4.")] quarter: i32,
        #[graphql(desc = "How many candidates (1 to 20, default 5).")] first: Option<i32>,
    ) -> AppResult<Vec<GridStarCandidate>> {
        let id = parse_id("communityId", &community_id)?;
        let first = first.unwrap_or(5);
        if !(1..=20).contains(&first) {
            return Err(AppError::bad_field("first", "first 须在 1 到 20 之间"));
        }
        let range = summary::quarter(year, quarter)?;
        Ok(
            summary::stars(db(ctx)?, actor(ctx)?, id, range, first as usize)
                .await?
                .into_iter()
                .map(GridStarCandidate)
                .collect(),
        )
    }
}
