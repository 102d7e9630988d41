//! Accounts: `login`, `me`, `createUser`, and the `User` type with field-level privacy.

use async_graphql::{Context, Enum, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{role_assignment, user};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::{
    actor, config, db,
    grid::{Community, Grid, Organization},
    loader,
    loaders::{CommunityKey, GridKey, OrganizationKey, RolesOf},
    parse_opt_id, viewer,
};
use crate::{
    auth::AuthUser,
    error::AppError,
    service::{account as svc, validate},
};

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

/// A user account. Phone numbers are shown whole only to the user, ADMIN, and staff of a
/// community the user belongs to; roles only to the user, ADMIN and staff.
pub struct User(pub user::Model);

/// Whether `viewer` may see `target`'s personal fields.
async fn may_see_personal(ctx: &Context<'_>, target: &user::Model) -> Result<bool> {
    let Some(v) = viewer(ctx).user() else {
        return Ok(false);
    };
    if v.id() == target.id || v.is_admin() {
        return Ok(true);
    }
    let staff = v.staff_communities();
    if staff.is_empty() {
        return Ok(false);
    }
    let roles = loader(ctx)?
        .load_one(RolesOf(target.id))
        .await?
        .unwrap_or_default();
    for r in &roles {
        if r.community_id.is_some_and(|c| staff.contains(&c)) {
            return Ok(true);
        }
        if let Some(g) = r.grid_id
            && let Some(grid) = loader(ctx)?.load_one(GridKey(g)).await?
            && staff.contains(&grid.community_id)
        {
            return Ok(true);
        }
    }
    Ok(false)
}

#[Object]
impl User {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    async fn username(&self) -> &str {
        &self.0.username
    }

    /// 显示名
    async fn display_name(&self) -> &str {
        &self.0.display_name
    }

    async fn avatar_url(&self) -> Option<&str> {
        self.0.avatar_url.as_deref()
    }

    /// Phone number; masked (138****5678) unless the viewer may see it.
    async fn phone(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        let Some(phone) = &self.0.phone else {
            return Ok(None);
        };
        if may_see_personal(ctx, &self.0).await? {
            Ok(Some(phone.clone()))
        } else {
            Ok(Some(validate::mask_phone(phone)))
        }
    }

    async fn active(&self) -> bool {
        self.0.active
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// Roles with their scopes (the user, ADMIN and staff of their community only).
    async fn roles(&self, ctx: &Context<'_>) -> Result<Vec<RoleAssignment>> {
        if !may_see_personal(ctx, &self.0).await? {
            return Err(AppError::Forbidden("无权查看该用户的角色").into());
        }
        let roles = loader(ctx)?
            .load_one(RolesOf(self.0.id))
            .await?
            .unwrap_or_default();
        Ok(roles.into_iter().map(RoleAssignment).collect())
    }
}

/// One role of a user and its scope.
pub struct RoleAssignment(pub role_assignment::Model);

#[Object]
impl RoleAssignment {
    async fn role(&self) -> Role {
        self.0.role.into()
    }

    async fn community(&self, ctx: &Context<'_>) -> Result<Option<Community>> {
        match self.0.community_id {
            None => Ok(None),
            Some(c) => Ok(loader(ctx)?.load_one(CommunityKey(c)).await?.map(Community)),
        }
    }

    async fn grid(&self, ctx: &Context<'_>) -> Result<Option<Grid>> {
        match self.0.grid_id {
            None => Ok(None),
            Some(g) => Ok(loader(ctx)?.load_one(GridKey(g)).await?.map(Grid)),
        }
    }

    async fn organization(&self, ctx: &Context<'_>) -> Result<Option<Organization>> {
        match self.0.organization_id {
            None => Ok(None),
            Some(o) => Ok(loader(ctx)?
                .load_one(OrganizationKey(o))
                .await?
                .map(Organization)),
        }
    }
}

#[derive(InputObject)]
pub struct LoginInput {
    pub username: String,
    pub password: String,
}

#[derive(SimpleObject)]
pub struct LoginPayload {
    /// Send as `Authorization: Bearer <token>`.
    pub token: String,
    pub expires_at: DateTime<Utc>,
    /// The user. (Personal fields follow the usual rules: this request is still anonymous;
    /// query `me` with the token for them.)
    pub user: User,
    /// The logged-in user's roles and scopes, to choose the screens to show.
    pub roles: Vec<RoleAssignment>,
}

#[derive(InputObject)]
pub struct RoleInput {
    pub role: Role,
    /// For COMMUNITY_STAFF, RESIDENT (required) and PARTY_MEMBER (optional).
    pub community_id: Option<ID>,
    /// For GRID_WORKER.
    pub grid_id: Option<ID>,
    /// For UNIT_REP and STUDENT.
    pub organization_id: Option<ID>,
}

#[derive(InputObject)]
pub struct CreateUserInput {
    pub username: String,
    pub password: String,
    pub display_name: String,
    pub phone: Option<String>,
    pub avatar_url: Option<String>,
    pub roles: Vec<RoleInput>,
}

#[derive(SimpleObject)]
pub struct CreateUserPayload {
    pub user: User,
}

#[derive(Default)]
pub struct AccountQuery;

#[Object]
impl AccountQuery {
    /// The logged-in user, or null for an anonymous caller.
    async fn me(&self, ctx: &Context<'_>) -> Option<User> {
        viewer(ctx).user().map(|u: &AuthUser| User(u.user.clone()))
    }
}

#[derive(Default)]
pub struct AccountMutation;

#[Object]
impl AccountMutation {
    /// Logs in; returns a JWT. Failures never say whether the username exists.
    async fn login(&self, ctx: &Context<'_>, input: LoginInput) -> Result<LoginPayload> {
        let limiter = &super::state(ctx)?.login_limiter;
        let r = svc::login(
            db(ctx)?,
            config(ctx)?,
            limiter,
            &input.username,
            &input.password,
        )
        .await?;
        let roles = entity::role_assignment::Entity::find()
            .filter(entity::role_assignment::Column::UserId.eq(r.user.id))
            .all(db(ctx)?)
            .await
            .map_err(AppError::from)?;
        Ok(LoginPayload {
            token: r.token,
            expires_at: r.expires_at,
            user: User(r.user),
            roles: roles.into_iter().map(RoleAssignment).collect(),
        })
    }

    /// Creates a user with roles (ADMIN; COMMUNITY_STAFF within their community).
    async fn create_user(
        &self,
        ctx: &Context<'_>,
        input: CreateUserInput,
    ) -> Result<CreateUserPayload> {
        let actor = actor(ctx)?;
        let mut roles = Vec::with_capacity(input.roles.len());
        for r in &input.roles {
            roles.push(svc::RoleGrant {
                role: r.role.into(),
                community_id: parse_opt_id("communityId", r.community_id.as_ref())?,
                grid_id: parse_opt_id("gridId", r.grid_id.as_ref())?,
                organization_id: parse_opt_id("organizationId", r.organization_id.as_ref())?,
            });
        }
        let user = svc::create_user(
            db(ctx)?,
            actor,
            svc::NewUser {
                username: input.username,
                password: input.password,
                display_name: input.display_name,
                phone: input.phone,
                avatar_url: input.avatar_url,
                roles,
            },
        )
        .await?;
        Ok(CreateUserPayload { user: User(user) })
    }
}
