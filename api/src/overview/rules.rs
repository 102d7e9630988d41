//! The big-screen dashboard overview of a community, in a bounded number of SQL statements.

use chrono::Datelike;
use entity::{
    grid, grid_registration, grid_staff, incident, ledger_entry, passbook, service_slot, shift,
    shift_signup, wish,
};
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect,
    sea_query::{Alias, Expr, ExprTrait, Query},
};

use crate::alliance::rules as alliance;
use crate::core::db::get;
use crate::core::error::AppResult;
use crate::core::validate;

pub struct Overview {
    pub community: entity::community::Model,
    /// (kind, grids, households)
    pub grids: Vec<(String, i64, i64)>,
    /// (role, current posts)
    pub staff: Vec<(String, i64)>,
    pub registered_members: i64,
    pub agreements: alliance::Statistics,
    /// (stored status, count); EXPIRED counted separately.
    pub wishes: Vec<(String, i64)>,
    pub wishes_expired: i64,
    pub wishes_fulfilled_this_month: i64,
    pub points_earned_this_month: i64,
    pub points_redeemed_this_month: i64,
    pub volunteer_hours_this_month: f64,
    /// (stored status, count) of the community's incidents.
    pub incidents: Vec<(String, i64)>,
    pub incidents_overdue: i64,
}

pub async fn overview(db: &DatabaseConnection, community_id: i64) -> AppResult<Overview> {
    let community = get::<entity::community::Entity, _>(db, community_id, "社区不存在").await?;
    let today = validate::today();
    let month_start = today.with_day(1).unwrap_or(today);
    let month_instant = validate::local_midnight(month_start);

    let grids: Vec<(String, i64, Option<i64>)> = grid::Entity::find()
        .select_only()
        .column(grid::Column::Kind)
        .column_as(grid::Column::Id.count(), "n")
        .column_as(
            Expr::col(grid::Column::Households)
                .sum()
                .cast_as(Alias::new("BIGINT")),
            "h",
        )
        .filter(grid::Column::CommunityId.eq(community_id))
        .group_by(grid::Column::Kind)
        .into_tuple()
        .all(db)
        .await?;
    let grids_here = Query::select()
        .column(grid::Column::Id)
        .from(grid::Entity)
        .and_where(Expr::col(grid::Column::CommunityId).eq(community_id))
        .to_owned();
    let staff: Vec<(String, i64)> = grid_staff::Entity::find()
        .select_only()
        .column(grid_staff::Column::Role)
        .column_as(grid_staff::Column::Id.count(), "n")
        .filter(grid_staff::Column::GridId.in_subquery(grids_here))
        .filter(grid_staff::Column::EndDate.is_null())
        .group_by(grid_staff::Column::Role)
        .into_tuple()
        .all(db)
        .await?;
    let registered_members = grid_registration::Entity::find()
        .filter(grid_registration::Column::CommunityId.eq(community_id))
        .filter(
            grid_registration::Column::Status
                .eq(entity::grid_registration::RegistrationStatus::Approved),
        )
        .count(db)
        .await? as i64;
    let agreements = alliance::statistics(db, None, Some(community_id)).await?;
    let wishes: Vec<(String, i64)> = wish::Entity::find()
        .select_only()
        .column(wish::Column::Status)
        .column_as(wish::Column::Id.count(), "n")
        .filter(wish::Column::CommunityId.eq(community_id))
        .group_by(wish::Column::Status)
        .into_tuple()
        .all(db)
        .await?;
    let expired: Vec<(String, i64)> = wish::Entity::find()
        .select_only()
        .column(wish::Column::Status)
        .column_as(wish::Column::Id.count(), "n")
        .filter(wish::Column::CommunityId.eq(community_id))
        .filter(crate::wish::rules::status_condition(None, true, today))
        .group_by(wish::Column::Status)
        .into_tuple()
        .all(db)
        .await?;
    let wishes_expired = expired.iter().map(|e| e.1).sum();
    // Expired wishes are stored as pending, published or claimed: count them as EXPIRED.
    let wishes = wishes
        .into_iter()
        .map(|(st, n)| {
            let gone = expired.iter().find(|e| e.0 == st).map(|e| e.1).unwrap_or(0);
            (st, n - gone)
        })
        .filter(|(_, n)| *n > 0)
        .collect();
    let wishes_fulfilled_this_month = wish::Entity::find()
        .filter(wish::Column::CommunityId.eq(community_id))
        .filter(wish::Column::FulfilledAt.gte(month_instant))
        .count(db)
        .await? as i64;
    let books_here = Query::select()
        .column(passbook::Column::Id)
        .from(passbook::Entity)
        .and_where(Expr::col(passbook::Column::CommunityId).eq(community_id))
        .to_owned();
    let points: Vec<(String, Option<i64>)> = ledger_entry::Entity::find()
        .select_only()
        .column(ledger_entry::Column::Kind)
        .column_as(
            Expr::col(ledger_entry::Column::Amount)
                .sum()
                .cast_as(Alias::new("BIGINT")),
            "s",
        )
        .filter(ledger_entry::Column::PassbookId.in_subquery(books_here))
        .filter(ledger_entry::Column::CreatedAt.gte(month_instant))
        .filter(ledger_entry::Column::Kind.is_in(["EARN", "REDEEM"]))
        .group_by(ledger_entry::Column::Kind)
        .into_tuple()
        .all(db)
        .await?;
    let slots_here = Query::select()
        .column(service_slot::Column::Id)
        .from(service_slot::Entity)
        .and_where(Expr::col(service_slot::Column::CommunityId).eq(community_id))
        .to_owned();
    let shifts_this_month = Query::select()
        .column(shift::Column::Id)
        .from(shift::Entity)
        .and_where(Expr::col(shift::Column::SlotId).in_subquery(slots_here))
        .and_where(Expr::col(shift::Column::Date).gte(month_start))
        .to_owned();
    let minutes: Option<i64> = shift_signup::Entity::find()
        .select_only()
        .column_as(
            Expr::col(shift_signup::Column::Minutes)
                .sum()
                .cast_as(Alias::new("BIGINT")),
            "m",
        )
        .filter(shift_signup::Column::ShiftId.in_subquery(shifts_this_month))
        .filter(shift_signup::Column::Status.eq(entity::shift_signup::SignupStatus::Completed))
        .into_tuple()
        .one(db)
        .await?
        .flatten();
    let incidents: Vec<(String, i64)> = incident::Entity::find()
        .select_only()
        .column(incident::Column::Status)
        .column_as(incident::Column::Id.count(), "n")
        .filter(incident::Column::CommunityId.eq(community_id))
        .group_by(incident::Column::Status)
        .into_tuple()
        .all(db)
        .await?;
    let incidents_overdue = incident::Entity::find()
        .filter(incident::Column::CommunityId.eq(community_id))
        .filter(crate::incident::rules::overdue_condition(
            crate::core::clock::now(),
        ))
        .count(db)
        .await? as i64;
    let sum_of = |kind: &str| {
        points
            .iter()
            .find(|p| p.0 == kind)
            .and_then(|p| p.1)
            .unwrap_or(0)
    };
    Ok(Overview {
        community,
        grids: grids
            .into_iter()
            .map(|(k, n, h)| (k, n, h.unwrap_or(0)))
            .collect(),
        staff,
        registered_members,
        agreements,
        wishes,
        wishes_expired,
        wishes_fulfilled_this_month,
        points_earned_this_month: sum_of("EARN"),
        points_redeemed_this_month: -sum_of("REDEEM"),
        volunteer_hours_this_month: minutes.unwrap_or(0) as f64 / 60.0,
        incidents,
        incidents_overdue,
    })
}
