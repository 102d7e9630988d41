//! The person rule: who may see a person's personal data (full name, phone, address) and
//! their roles, and which people a viewer may list. It sits below the domains, so that every
//! domain (and the shared nodes) applies the one rule.
//!
//! One rule for every path that shows a person — the `User` type wherever it appears, and
//! every copy of a person's profile in another record (a wish's beneficiary, a ranking, a
//! shift's student): the copy is shown through [`person`] of the person it was copied from.

use entity::{
    grid, grid_registration,
    grid_registration::RegistrationStatus,
    role_assignment::{self, Role},
    user,
};
use sea_orm::{
    ColumnTrait, Condition,
    sea_query::{Expr, Query},
};

use crate::{auth::AuthUser, core::mask::Access};

/// What is known of a person for the rule: their id, the communities their roles and
/// approved registrations place them in, and whether they hold a public office.
pub struct Person<'a> {
    pub id: i64,
    pub communities: &'a [i64],
    /// ADMIN, COMMUNITY_STAFF, GRID_WORKER or UNIT_REP: their name is public (连心卡,
    /// signatures), their phone is not.
    pub public_office: bool,
}

/// Roles whose holder's name is public.
pub fn is_public_office(role: Role) -> bool {
    matches!(
        role,
        Role::Admin | Role::CommunityStaff | Role::GridWorker | Role::UnitRep
    )
}

/// The person rule: the person themself, ADMIN and staff of a community the person belongs
/// to see everything; grid workers of such a community see the full name; everyone sees the
/// full name of a person holding a public office; all others see masked values.
pub fn person(viewer: Option<&AuthUser>, p: &Person<'_>) -> Access {
    let name_level = if p.public_office {
        Access::NameOnly
    } else {
        Access::Masked
    };
    let Some(v) = viewer else {
        return name_level;
    };
    if v.id() == p.id || v.is_admin() || p.communities.iter().any(|c| v.is_staff_of(*c)) {
        return Access::Full;
    }
    if p.communities.iter().any(|c| v.is_worker_in(*c)) {
        return Access::NameOnly;
    }
    name_level
}

/// Whether the viewer may list a person's roles: the same people who see their phone.
pub fn may_see_roles(access: Access) -> bool {
    access == Access::Full
}

/// The answer of [`person`] when it needs nothing about the person but their id (the person
/// themself, ADMIN), so that callers can skip loading the person's roles.
pub fn settled(viewer: Option<&AuthUser>, person_id: i64) -> Option<Access> {
    viewer
        .filter(|v| v.id() == person_id || v.is_admin())
        .map(|_| Access::Full)
}

/// Whose unmasked views of another person's phone or address are written to the access
/// log: ADMIN, community staff and grid workers (the people who see them by office).
pub fn access_is_logged(viewer: &AuthUser) -> bool {
    viewer.is_admin() || !viewer.staff_communities().is_empty() || !viewer.worker_grids.is_empty()
}

/// The people a viewer may list (`users`): ADMIN everyone; COMMUNITY_STAFF the people of
/// their communities (a role there or in one of its grids, or an approved member
/// registration there); GRID_WORKER the people with a role in, or an approved registration
/// to, their grids and the micro-grids inside them. `None` for everyone else (FORBIDDEN).
/// The list filter is the condition; each person's fields are then masked by [`person`].
pub fn listable_people(viewer: &AuthUser) -> Option<Condition> {
    if viewer.is_admin() {
        return Some(Condition::all());
    }
    let communities = viewer.staff_communities();
    let grids = viewer.worker_grids.clone();
    if communities.is_empty() && grids.is_empty() {
        return None;
    }
    let mut any = Condition::any();
    if !communities.is_empty() {
        any = any.add(people_of_communities(communities));
    }
    if !grids.is_empty() {
        any = any
            .add(people_with_role(
                role_assignment::Column::GridId.is_in(grids.clone()),
            ))
            .add(people_registered(
                grid_registration::Column::GridId.is_in(grids),
            ));
    }
    Some(any)
}

/// The people of these communities, as a filter on users: a role there or in one of its
/// grids, or an approved member registration there (the same membership as
/// `AuthUser::belongs_to`).
pub fn people_of_communities(communities: Vec<i64>) -> Condition {
    let grids_of = Query::select()
        .column(grid::Column::Id)
        .from(grid::Entity)
        .and_where(grid::Column::CommunityId.is_in(communities.clone()))
        .to_owned();
    Condition::any()
        .add(people_with_role(
            role_assignment::Column::CommunityId.is_in(communities.clone()),
        ))
        .add(people_with_role(
            role_assignment::Column::GridId.in_subquery(grids_of),
        ))
        .add(people_registered(
            grid_registration::Column::CommunityId.is_in(communities),
        ))
}

/// Users holding a role that matches `cond`.
pub fn people_with_role(cond: Expr) -> Expr {
    user::Column::Id.in_subquery(
        Query::select()
            .column(role_assignment::Column::UserId)
            .from(role_assignment::Entity)
            .and_where(cond)
            .to_owned(),
    )
}

/// Users with an approved member registration that matches `cond`.
fn people_registered(cond: Expr) -> Expr {
    user::Column::Id.in_subquery(
        Query::select()
            .column(grid_registration::Column::MemberId)
            .from(grid_registration::Entity)
            .and_where(grid_registration::Column::Status.eq(RegistrationStatus::Approved))
            .and_where(cond)
            .to_owned(),
    )
}
