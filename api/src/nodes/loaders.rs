//! Batch loads of the shared nodes: places, organisations, users and their roles.

use std::collections::HashMap;

use async_graphql::dataloader::Loader;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::core::error::AppError;
use crate::graphql::loaders::Db;
use crate::graphql::loaders::by_id;
use crate::graphql::loaders::group;
use entity::{
    community, grid, grid_registration, grid_registration::RegistrationStatus, grid_staff,
    organization, role_assignment, role_assignment::Role, street, user,
};

by_id!(StreetKey, street);
by_id!(CommunityKey, community);
by_id!(GridKey, grid);
by_id!(UserKey, user);
by_id!(OrganizationKey, organization);

/// Current posts (no end date) of a grid, leader first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CurrentStaffOfGrid(pub i64);

impl Loader<CurrentStaffOfGrid> for Db {
    type Value = Vec<grid_staff::Model>;
    type Error = AppError;

    async fn load(
        &self,
        keys: &[CurrentStaffOfGrid],
    ) -> Result<HashMap<CurrentStaffOfGrid, Self::Value>, AppError> {
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let rows = grid_staff::Entity::find()
            .filter(grid_staff::Column::GridId.is_in(ids))
            .filter(grid_staff::Column::EndDate.is_null())
            .order_by_asc(grid_staff::Column::Id)
            .all(self.conn().await)
            .await?;
        Ok(group(rows, |r| CurrentStaffOfGrid(r.grid_id)))
    }
}

/// Micro-grids inside a grid.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MicroGridsOf(pub i64);

impl Loader<MicroGridsOf> for Db {
    type Value = Vec<grid::Model>;
    type Error = AppError;

    async fn load(
        &self,
        keys: &[MicroGridsOf],
    ) -> Result<HashMap<MicroGridsOf, Self::Value>, AppError> {
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let rows = grid::Entity::find()
            .filter(grid::Column::ParentId.is_in(ids))
            .order_by_asc(grid::Column::Id)
            .all(self.conn().await)
            .await?;
        Ok(group(rows, |r| {
            MicroGridsOf(r.parent_id.unwrap_or_default())
        }))
    }
}

/// Child organisations of an organisation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ChildOrganizationsOf(pub i64);

impl Loader<ChildOrganizationsOf> for Db {
    type Value = Vec<organization::Model>;
    type Error = AppError;

    async fn load(
        &self,
        keys: &[ChildOrganizationsOf],
    ) -> Result<HashMap<ChildOrganizationsOf, Self::Value>, AppError> {
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let rows = organization::Entity::find()
            .filter(organization::Column::ParentId.is_in(ids))
            .order_by_asc(organization::Column::Id)
            .all(self.conn().await)
            .await?;
        Ok(group(rows, |r| {
            ChildOrganizationsOf(r.parent_id.unwrap_or_default())
        }))
    }
}

/// Roles of a user.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RolesOf(pub i64);

impl Loader<RolesOf> for Db {
    type Value = Vec<role_assignment::Model>;
    type Error = AppError;

    async fn load(&self, keys: &[RolesOf]) -> Result<HashMap<RolesOf, Self::Value>, AppError> {
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let rows = role_assignment::Entity::find()
            .filter(role_assignment::Column::UserId.is_in(ids))
            .order_by_asc(role_assignment::Column::Id)
            .all(self.conn().await)
            .await?;
        Ok(group(rows, |r| RolesOf(r.user_id)))
    }
}

/// Every grant of a role to a user, in force or not (the history), oldest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RoleGrantsOf(pub i64);

impl Loader<RoleGrantsOf> for Db {
    type Value = Vec<entity::role_grant::Model>;
    type Error = AppError;

    async fn load(
        &self,
        keys: &[RoleGrantsOf],
    ) -> Result<HashMap<RoleGrantsOf, Self::Value>, AppError> {
        use entity::role_grant;
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let rows = role_grant::Entity::find()
            .filter(role_grant::Column::UserId.is_in(ids))
            .order_by_asc(role_grant::Column::Id)
            .all(self.conn().await)
            .await?;
        Ok(group(rows, |r| RoleGrantsOf(r.user_id)))
    }
}

/// What the person rule needs to know of a user: whether they hold a public office, and the
/// communities their roles place them in (a grid role's community included). One statement
/// per batch, so a page's statement count does not depend on its data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PersonScopeOf(pub i64);

pub use crate::people::scopes::{PersonScope, PersonScopes, RoleScope};

impl Loader<PersonScopeOf> for Db {
    type Value = PersonScope;
    type Error = AppError;

    async fn load(
        &self,
        keys: &[PersonScopeOf],
    ) -> Result<HashMap<PersonScopeOf, Self::Value>, AppError> {
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        Ok(roles_of_people(self.conn().await, &ids)
            .await?
            .into_iter()
            .map(|(u, scope)| (PersonScopeOf(u), scope))
            .collect())
    }
}

/// The scopes of these people, in one statement (people without roles are left out).
pub async fn roles_of_people(
    db: &DatabaseConnection,
    ids: &[i64],
) -> Result<HashMap<i64, PersonScope>, AppError> {
    let rows: Vec<(i64, Role, Option<i64>, Option<i64>)> = role_assignment::Entity::find()
        .select_only()
        .column(role_assignment::Column::UserId)
        .column(role_assignment::Column::Role)
        .column(role_assignment::Column::CommunityId)
        .column_as(grid::Column::CommunityId, "grid_community_id")
        .join(
            sea_orm::JoinType::LeftJoin,
            crate::core::db::belongs_to::<role_assignment::Entity, grid::Entity>(
                role_assignment::Column::GridId,
                grid::Column::Id,
            ),
        )
        .filter(role_assignment::Column::UserId.is_in(ids.iter().copied()))
        .order_by_asc(role_assignment::Column::Id)
        .into_tuple()
        .all(db)
        .await?;
    let mut by_user: HashMap<i64, Vec<RoleScope>> = HashMap::new();
    for (user, role, community, grid_community) in rows {
        by_user
            .entry(user)
            .or_default()
            .push((role, community, grid_community));
    }
    Ok(by_user
        .into_iter()
        .map(|(u, roles)| (u, PersonScope::from_roles(roles)))
        .collect())
}

/// Number of approved member registrations of a grid.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RegisteredCountOf(pub i64);

impl Loader<RegisteredCountOf> for Db {
    type Value = i64;
    type Error = AppError;

    async fn load(
        &self,
        keys: &[RegisteredCountOf],
    ) -> Result<HashMap<RegisteredCountOf, i64>, AppError> {
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let rows: Vec<(Option<i64>, i64)> = grid_registration::Entity::find()
            .select_only()
            .column(grid_registration::Column::GridId)
            .column_as(grid_registration::Column::Id.count(), "n")
            .filter(grid_registration::Column::GridId.is_in(ids))
            .filter(grid_registration::Column::Status.eq(RegistrationStatus::Approved))
            .group_by(grid_registration::Column::GridId)
            .into_tuple()
            .all(self.conn().await)
            .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(g, n)| g.map(|g| (RegisteredCountOf(g), n)))
            .collect())
    }
}
