//! Who may see and do what with incidents — the one place these rules live.

use entity::incident::{self, IncidentStatus};
use entity::role_assignment::Role;
use sea_orm::{ColumnTrait, Condition};

use crate::auth::AuthUser;

/// The incidents a viewer may see, as a filter: ADMIN all; staff their communities; grid
/// workers their grids (and micro-grids); a unit's rep what is dispatched to their
/// organisation; anyone the incidents they raised. `None`: nothing (anonymous).
pub fn visible(viewer: Option<&AuthUser>) -> Option<Condition> {
    let v = viewer?;
    if v.is_admin() {
        return Some(Condition::all());
    }
    let mut any = Condition::any().add(incident::Column::RaisedBy.eq(v.id()));
    let communities = v.staff_communities();
    if !communities.is_empty() {
        any = any.add(incident::Column::CommunityId.is_in(communities));
    }
    if !v.worker_grids.is_empty() {
        any = any.add(incident::Column::GridId.is_in(v.worker_grids.clone()));
    }
    let orgs = rep_organizations(v);
    if !orgs.is_empty() {
        any = any.add(incident::Column::OrganizationId.is_in(orgs));
    }
    Some(any)
}

/// The same rule for one incident.
pub fn may_see(viewer: Option<&AuthUser>, i: &incident::Model) -> bool {
    let Some(v) = viewer else {
        return false;
    };
    v.is_admin()
        || i.raised_by == Some(v.id())
        || v.is_staff_of(i.community_id)
        || v.worker_of_grid(i.grid_id)
        || i.organization_id.is_some_and(|o| v.is_rep_of(o))
}

/// Who raised it (a resident through the grid worker) is shown to that resident, to staff
/// of the community and to the grid's workers; never to a unit or to other residents.
pub fn may_see_raiser(viewer: Option<&AuthUser>, i: &incident::Model) -> bool {
    viewer.is_some_and(|v| {
        i.raised_by == Some(v.id()) || v.is_staff_of(i.community_id) || v.worker_of_grid(i.grid_id)
    })
}

/// Reporting, resolving on site, whistling, closing and reopening: a grid worker of the grid.
pub fn may_work_grid(actor: &AuthUser, grid_id: i64) -> bool {
    actor.worker_of_grid(grid_id)
}

/// Dispatching: staff of the incident's community (ADMIN everywhere).
pub fn may_dispatch(actor: &AuthUser, i: &incident::Model) -> bool {
    actor.is_staff_of(i.community_id)
}

/// Accepting and handling: a UNIT_REP of the organisation it is dispatched to.
pub fn may_act_for_unit(actor: &AuthUser, i: &incident::Model) -> bool {
    i.organization_id.is_some_and(|o| actor.is_rep_of(o))
}

/// Adopting as a 民生实事 project: a UNIT_REP of the handling organisation, or staff of the
/// community (ADMIN everywhere).
pub fn may_adopt(actor: &AuthUser, i: &incident::Model) -> bool {
    may_act_for_unit(actor, i) || actor.is_staff_of(i.community_id)
}

/// The Monday meeting's figures of a community (weekly summary, ranking, 网格之星): its staff
/// (ADMIN everywhere) and the workers of any of its grids.
pub fn may_see_meeting(
    viewer: &AuthUser,
    community_id: i64,
    grids: &[entity::grid::Model],
) -> bool {
    viewer.is_staff_of(community_id) || grids.iter().any(|g| viewer.worker_of_grid(g.id))
}

/// Who may take the step to `to`: reporting, resolving on site, whistling, closing and
/// reopening a grid worker of the grid; dispatching staff of the community; accepting and
/// handling a rep of the organisation it is dispatched to.
pub fn may_step(actor: &AuthUser, i: &incident::Model, to: IncidentStatus) -> bool {
    use IncidentStatus::*;
    match to {
        Reported | ResolvedOnSite | Whistled | Closed | Reopened => may_work_grid(actor, i.grid_id),
        Dispatched => may_dispatch(actor, i),
        Accepted | Handled => may_act_for_unit(actor, i),
    }
}

/// The statuses each step starts from.
pub fn steps_from(to: IncidentStatus) -> &'static [IncidentStatus] {
    use IncidentStatus::*;
    match to {
        Reported => &[],
        ResolvedOnSite | Whistled => &[Reported],
        // A redispatch (an overdue or reopened incident, or another unit) is a dispatch too;
        // an ACCEPTED incident only once it is overdue (checked by the step).
        Dispatched => &[Whistled, Dispatched, Reopened, Accepted],
        Accepted => &[Dispatched, Reopened],
        Handled => &[Accepted],
        Closed | Reopened => &[Handled],
    }
}

fn rep_organizations(v: &AuthUser) -> Vec<i64> {
    v.roles
        .iter()
        .filter(|r| r.role == Role::UnitRep)
        .filter_map(|r| r.organization_id)
        .collect()
}

/// The patrols a viewer may see, as a filter on the grid: ADMIN all; staff the grids of their
/// communities; grid workers their grids. `None`: FORBIDDEN (residents, units).
pub fn visible_patrols(viewer: &AuthUser) -> Option<Condition> {
    use entity::{grid, patrol};
    use sea_orm::sea_query::Query;
    if viewer.is_admin() {
        return Some(Condition::all());
    }
    let communities = viewer.staff_communities();
    if communities.is_empty() && viewer.worker_grids.is_empty() {
        return None;
    }
    let mut any = Condition::any();
    if !communities.is_empty() {
        any = any.add(
            patrol::Column::GridId.in_subquery(
                Query::select()
                    .column(grid::Column::Id)
                    .from(grid::Entity)
                    .and_where(grid::Column::CommunityId.is_in(communities))
                    .to_owned(),
            ),
        );
    }
    if !viewer.worker_grids.is_empty() {
        any = any.add(patrol::Column::GridId.is_in(viewer.worker_grids.clone()));
    }
    Some(any)
}
