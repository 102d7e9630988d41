//! The user account and its roles, shared by every domain, with personal fields shown by
//! the account policy.

use crate::graphql::scalars::{Date, Timestamp};
use async_graphql::{Context, Enum, ID, Object};
use entity::{role_assignment, user};

use super::{
    loaders::{
        CommunityKey, GridKey, OrganizationKey, PersonScopeOf, RoleGrantsOf, RolesOf, UserKey,
    },
    place::{Community, Grid, Organization},
};
use crate::{
    core::{error::AppResult, mask::Access},
    graphql::context::{loader, log_view, viewer},
    people::access_log::Field,
    people::policy::{self, Person},
};

/// A role that grants rights.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::role_assignment::Role")]
pub enum Role {
    /// 街道管理员
    Admin,
    /// 社区工作者
    CommunityStaff,
    /// 网格长、网格员、网格辅助员
    GridWorker,
    /// 党员
    PartyMember,
    /// 单位联络人
    UnitRep,
    /// 大学生志愿者
    Student,
    /// 居民
    Resident,
}

/// A user account. The display name (a full name) and the phone follow the account policy (`people::policy::person`): whole for the person, ADMIN and staff of their community, the name for grid workers there and for holders of a public office, masked otherwise.
pub struct User {
    pub model: user::Model,
    /// At least this much is shown, whatever the account policy says: what another domain's policy grants on the record the user is reached through (a shift's student for the grid workers who check them in), or `Full` for the person themself.
    granted: Access,
}

impl User {
    pub fn new(model: user::Model) -> Self {
        Self::granted(model, Access::Masked)
    }

    /// The user as they see themself (a login payload, before the token is sent).
    pub fn own(model: user::Model) -> Self {
        Self::granted(model, Access::Full)
    }

    /// The user reached through a record whose policy grants `granted`.
    pub fn granted(model: user::Model, granted: Access) -> Self {
        Self { model, granted }
    }

    async fn access(&self, ctx: &Context<'_>) -> AppResult<Access> {
        if self.granted == Access::Full {
            return Ok(Access::Full);
        }
        Ok(access_to(ctx, self.model.id).await?.max(self.granted))
    }
}

/// The viewer's access to a person's personal data (the account policy), from the person's roles; batched, and without loading anything when the answer is already known.
pub async fn access_to(ctx: &Context<'_>, person_id: i64) -> AppResult<Access> {
    let viewer = viewer(ctx).user();
    if let Some(access) = policy::settled(viewer, person_id) {
        return Ok(access);
    }
    let scope = loader(ctx)?
        .load_one(PersonScopeOf(person_id))
        .await?
        .unwrap_or_default();
    Ok(policy::person(
        viewer,
        &Person {
            id: person_id,
            communities: &scope.communities,
            public_office: scope.public_office,
        },
    ))
}

/// A person with an account. Name and phone are shown in full only to those the person rule allows (the person, staff of their community, grid workers of their grid); others see them masked.
#[Object]
impl User {
    /// The id of the user.
    async fn id(&self) -> ID {
        ID(self.model.id.to_string())
    }

    /// The login name.
    async fn username(&self) -> &str {
        &self.model.username
    }

    /// 显示名: the full name for those the account policy allows, masked (王**) otherwise.
    async fn display_name(&self, ctx: &Context<'_>) -> AppResult<String> {
        Ok(self.access(ctx).await?.name(&self.model.display_name))
    }

    /// A picture of the person.
    async fn avatar_url(&self) -> Option<&str> {
        self.model.avatar_url.as_deref()
    }

    /// Phone number; masked (138****5678) unless the viewer may see it.
    async fn phone(&self, ctx: &Context<'_>) -> AppResult<Option<String>> {
        let Some(phone) = &self.model.phone else {
            return Ok(None);
        };
        let access = self.access(ctx).await?;
        if access == Access::Full {
            log_view(ctx, Some(self.model.id), Field::Phone, "User.phone", None);
        }
        Ok(Some(access.phone(phone)))
    }

    /// Whether the account may log in.
    async fn active(&self) -> bool {
        self.model.active
    }

    /// When it was created.
    async fn created_at(&self) -> Timestamp {
        Timestamp(self.model.created_at)
    }

    /// Roles with their scopes (the user, ADMIN and staff of their community only; an empty list for everyone else, without an error, so the person's other fields stay).
    async fn roles(&self, ctx: &Context<'_>) -> AppResult<Vec<RoleAssignment>> {
        if !policy::may_see_roles(self.access(ctx).await?) {
            return Ok(Vec::new());
        }
        let roles = loader(ctx)?
            .load_one(RolesOf(self.model.id))
            .await?
            .unwrap_or_default();
        Ok(roles.into_iter().map(RoleAssignment).collect())
    }

    /// The places the person belongs to: each community and grid of a role in force (a resident's community, a worker's grid, a member's community) and each grid the person is registered (报到) to, once each, communities first. The same people as `roles` may see it (an empty list for everyone else).
    async fn places(&self, ctx: &Context<'_>) -> AppResult<Vec<Place>> {
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        if !policy::may_see_roles(self.access(ctx).await?) {
            return Ok(Vec::new());
        }
        let db = crate::graphql::context::db(ctx)?;
        let roles = loader(ctx)?
            .load_one(RolesOf(self.model.id))
            .await?
            .unwrap_or_default();
        let registered = entity::grid_registration::Entity::find()
            .filter(entity::grid_registration::Column::MemberId.eq(self.model.id))
            .filter(
                entity::grid_registration::Column::Status
                    .eq(entity::grid_registration::RegistrationStatus::Approved),
            )
            .all(db)
            .await?;
        let mut grid_ids: Vec<i64> = roles.iter().filter_map(|r| r.grid_id).collect();
        grid_ids.extend(registered.iter().filter_map(|r| r.grid_id));
        grid_ids.sort_unstable();
        grid_ids.dedup();
        let grids = if grid_ids.is_empty() {
            Vec::new()
        } else {
            entity::grid::Entity::find()
                .filter(entity::grid::Column::Id.is_in(grid_ids.clone()))
                .all(db)
                .await?
        };
        let mut community_ids: Vec<i64> = roles.iter().filter_map(|r| r.community_id).collect();
        community_ids.extend(grids.iter().map(|g| g.community_id));
        community_ids.extend(registered.iter().map(|r| r.community_id));
        community_ids.sort_unstable();
        community_ids.dedup();
        let communities = if community_ids.is_empty() {
            Vec::new()
        } else {
            entity::community::Entity::find()
                .filter(entity::community::Column::Id.is_in(community_ids))
                .all(db)
                .await?
        };
        let mut out = Vec::new();
        for c in &communities {
            out.push(Place {
                community: crate::nodes::place::Community(c.clone()),
                grid: None,
            });
        }
        for g in grids {
            if let Some(c) = communities.iter().find(|c| c.id == g.community_id) {
                out.push(Place {
                    community: crate::nodes::place::Community(c.clone()),
                    grid: Some(crate::nodes::place::Grid(g)),
                });
            }
        }
        Ok(out)
    }

    /// Every role ever granted to the person, in force or not, with its dates and its revocation (the history; oldest first). The same people as `roles` may see it (an empty list for everyone else).
    async fn role_history(&self, ctx: &Context<'_>) -> AppResult<Vec<RoleGrant>> {
        if !policy::may_see_roles(self.access(ctx).await?) {
            return Ok(Vec::new());
        }
        let grants = loader(ctx)?
            .load_one(RoleGrantsOf(self.model.id))
            .await?
            .unwrap_or_default();
        Ok(grants.into_iter().map(RoleGrant).collect())
    }
}

/// A place a person belongs to: a community, or a grid of it.
#[derive(async_graphql::SimpleObject)]
pub struct Place {
    /// The community.
    pub community: crate::nodes::place::Community,
    /// The grid, for a grid-level place (null: the community as a whole).
    pub grid: Option<crate::nodes::place::Grid>,
}

/// One role of a user and its scope.
pub struct RoleAssignment(pub role_assignment::Model);

/// A role held by a person, and where it applies.
#[Object]
impl RoleAssignment {
    /// The role.
    async fn role(&self) -> Role {
        self.0.role.into()
    }

    /// The grant it is in force by (`revokeRole` takes it); null for a role written without one (bulk loads outside the API).
    async fn grant_id(&self) -> Option<ID> {
        self.0.grant_id.map(|g| ID(g.to_string()))
    }

    /// The community where it applies, if limited to one.
    async fn community(&self, ctx: &Context<'_>) -> AppResult<Option<Community>> {
        match self.0.community_id {
            None => Ok(None),
            Some(c) => Ok(loader(ctx)?.load_one(CommunityKey(c)).await?.map(Community)),
        }
    }

    /// The grid where it applies, if limited to one.
    async fn grid(&self, ctx: &Context<'_>) -> AppResult<Option<Grid>> {
        match self.0.grid_id {
            None => Ok(None),
            Some(g) => Ok(loader(ctx)?.load_one(GridKey(g)).await?.map(Grid)),
        }
    }

    /// The organisation where it applies (a unit representative).
    async fn organization(&self, ctx: &Context<'_>) -> AppResult<Option<Organization>> {
        match self.0.organization_id {
            None => Ok(None),
            Some(o) => Ok(loader(ctx)?
                .load_one(OrganizationKey(o))
                .await?
                .map(Organization)),
        }
    }
}

/// One grant of a role: its scope, its dates, who granted it and its revocation.
pub struct RoleGrant(pub entity::role_grant::Model);

/// A role granted to a person for a period (the role history), and its revocation.
#[Object]
impl RoleGrant {
    /// The id of the grant (what `revokeRole` takes).
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// The role.
    async fn role(&self) -> Role {
        self.0.role.into()
    }

    /// The community where it applies, if limited to one.
    async fn community(&self, ctx: &Context<'_>) -> AppResult<Option<Community>> {
        match self.0.community_id {
            None => Ok(None),
            Some(c) => Ok(loader(ctx)?.load_one(CommunityKey(c)).await?.map(Community)),
        }
    }

    /// The grid where it applies, if limited to one.
    async fn grid(&self, ctx: &Context<'_>) -> AppResult<Option<Grid>> {
        match self.0.grid_id {
            None => Ok(None),
            Some(g) => Ok(loader(ctx)?.load_one(GridKey(g)).await?.map(Grid)),
        }
    }

    /// The organisation where it applies.
    async fn organization(&self, ctx: &Context<'_>) -> AppResult<Option<Organization>> {
        match self.0.organization_id {
            None => Ok(None),
            Some(o) => Ok(loader(ctx)?
                .load_one(OrganizationKey(o))
                .await?
                .map(Organization)),
        }
    }

    /// First day in force (Asia/Shanghai).
    async fn start_date(&self) -> Date {
        Date(self.0.valid_from)
    }

    /// Last day in force, inclusive; null when open-ended.
    async fn end_date(&self) -> Option<Date> {
        self.0.valid_until.map(Date)
    }

    /// First day in force (Asia/Shanghai).
    #[graphql(deprecation = "Use `startDate` (an object's period is `startDate`/`endDate`).")]
    async fn from(&self) -> Date {
        Date(self.0.valid_from)
    }

    /// Last day in force, inclusive; null when open-ended.
    #[graphql(deprecation = "Use `endDate` (an object's period is `startDate`/`endDate`).")]
    async fn until(&self) -> Option<Date> {
        self.0.valid_until.map(Date)
    }

    /// Whether it is in force today.
    async fn in_force(&self) -> bool {
        self.0.in_force_on(crate::core::validate::today())
    }

    /// Who granted it (null for roles given by the system: set-up, migration).
    async fn granted_by(&self, ctx: &Context<'_>) -> AppResult<Option<User>> {
        person(ctx, self.0.granted_by).await
    }

    /// When it was granted.
    async fn granted_at(&self) -> Timestamp {
        Timestamp(self.0.granted_at)
    }

    /// Who revoked it, if revoked.
    async fn revoked_by(&self, ctx: &Context<'_>) -> AppResult<Option<User>> {
        person(ctx, self.0.revoked_by).await
    }

    /// When it was revoked, if revoked.
    async fn revoked_at(&self) -> Option<Timestamp> {
        self.0.revoked_at.map(Timestamp)
    }

    /// Why it was revoked.
    async fn revoke_reason(&self) -> Option<&str> {
        self.0.revoke_reason.as_deref()
    }
}

async fn person(ctx: &Context<'_>, id: Option<i64>) -> AppResult<Option<User>> {
    match id {
        None => Ok(None),
        Some(u) => Ok(loader(ctx)?.load_one(UserKey(u)).await?.map(User::new)),
    }
}
