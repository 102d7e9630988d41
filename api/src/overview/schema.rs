//! `overview(communityId)`: figures for big-screen dashboards (no personal data).

use crate::core::error::AppResult;
use crate::incident::schema::IncidentStatus;
use crate::nodes::place::{GridKind, StaffRole};
use crate::wish::schema::WishStatus;
use async_graphql::{Context, ID, Object, SimpleObject};
use sea_orm::ActiveEnum;
use sea_orm::Iterable;

use crate::alliance::schema::AgreementStatistics;
use crate::graphql::context::db;
use crate::graphql::context::parse_id;
use crate::nodes::place::Community;
use crate::overview::rules as svc;

/// Grids of one kind and their households.
#[derive(SimpleObject)]
pub struct GridKindCount {
    /// The grid kind.
    pub kind: GridKind,
    /// Grids of this kind.
    pub grids: i64,
    /// Households in grids of this kind.
    pub households: i64,
}

/// Current grid posts of one role.
#[derive(SimpleObject)]
pub struct StaffRoleCount {
    /// The post.
    pub role: StaffRole,
    /// People on it.
    pub count: i64,
}

/// Wishes that read as one status today (EXPIRED included).
#[derive(SimpleObject)]
pub struct WishStatusCount {
    /// The status.
    pub status: WishStatus,
    /// Wishes in it.
    pub count: i64,
}

/// The community's incidents in one status.
#[derive(SimpleObject)]
pub struct IncidentStatusCount {
    /// The status.
    pub status: IncidentStatus,
    /// Incidents in it.
    pub count: i64,
}

/// A community's dashboard figures.
#[derive(SimpleObject)]
pub struct Overview {
    /// The community.
    pub community: Community,
    /// Grids per kind, with their households (micro-grids counted as their own kind).
    pub grids: Vec<GridKindCount>,
    /// Households in all grids.
    pub total_households: i64,
    /// Current grid staff per post.
    pub staff: Vec<StaffRoleCount>,
    /// Party members registered with the community (approved).
    pub registered_members: i64,
    /// Agreements that concern the community, per status and kind.
    pub agreements: AgreementStatistics,
    /// Wishes per status (EXPIRED counted as its own status).
    pub wishes: Vec<WishStatusCount>,
    /// Wishes fulfilled since the first of this month.
    pub wishes_fulfilled_this_month: i64,
    /// Moral-bank points earned since the first of this month.
    pub points_earned_this_month: i64,
    /// Moral-bank points redeemed since the first of this month.
    pub points_redeemed_this_month: i64,
    /// Volunteer hours served since the first of this month.
    pub volunteer_hours_this_month: f64,
    /// The community's incidents per status (every status, zeros included).
    pub incidents: Vec<IncidentStatusCount>,
    /// Incidents dispatched and not handled by their deadline now.
    pub incidents_overdue: i64,
}

#[derive(Default)]
pub struct OverviewQuery;

#[Object]
impl OverviewQuery {
    /// A community's figures for dashboards, computed in a bounded number of SQL statements.
    async fn overview(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The community.")] community_id: ID,
    ) -> AppResult<Overview> {
        let id = parse_id("communityId", &community_id)?;
        let o = svc::overview(db(ctx)?, id).await?;
        let expired = o.wishes_expired;
        let mut wishes: Vec<WishStatusCount> = o
            .wishes
            .into_iter()
            .filter_map(|(status, count)| {
                let stored = entity::wish::WishStatus::try_from_value(&status).ok()?;
                Some(WishStatusCount {
                    status: crate::wish::rules::EffectiveStatus::Stored(stored).into(),
                    count,
                })
            })
            .collect();
        if expired > 0 {
            wishes.push(WishStatusCount {
                status: WishStatus::Expired,
                count: expired,
            });
        }
        Ok(Overview {
            community: Community(o.community),
            total_households: o.grids.iter().filter(|g| g.0 != "MICRO").map(|g| g.2).sum(),
            grids: o
                .grids
                .into_iter()
                .filter_map(|(kind, grids, households)| {
                    let kind = entity::grid::GridKind::try_from_value(&kind).ok()?;
                    Some(GridKindCount {
                        kind: kind.into(),
                        grids,
                        households,
                    })
                })
                .collect(),
            staff: o
                .staff
                .into_iter()
                .filter_map(|(role, count)| {
                    let role = entity::grid_staff::StaffRole::try_from_value(&role).ok()?;
                    Some(StaffRoleCount {
                        role: role.into(),
                        count,
                    })
                })
                .collect(),
            registered_members: o.registered_members,
            agreements: o.agreements.into(),
            wishes,
            wishes_fulfilled_this_month: o.wishes_fulfilled_this_month,
            points_earned_this_month: o.points_earned_this_month,
            points_redeemed_this_month: o.points_redeemed_this_month,
            volunteer_hours_this_month: o.volunteer_hours_this_month,
            incidents: entity::incident::IncidentStatus::iter()
                .map(|st| IncidentStatusCount {
                    status: st.into(),
                    count: o
                        .incidents
                        .iter()
                        .find(|(s, _)| *s == st.to_value())
                        .map(|(_, n)| *n)
                        .unwrap_or(0),
                })
                .collect(),
            incidents_overdue: o.incidents_overdue,
        })
    }
}
