//! Accounts: `login`, `me`, `createUser`, and the `User` type with field-level privacy.

use crate::graphql::scalars::Timestamp;
use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::account::rules as svc;
use crate::auth::AuthUser;
use crate::core::error::{AppError, AppResult};
use crate::graphql::context::actor;
use crate::graphql::context::config;
use crate::graphql::context::db;
use crate::graphql::context::parse_opt_id;
use crate::graphql::context::viewer;
use crate::nodes::user::{Role, RoleAssignment, User};

/// A username and password.
#[derive(InputObject)]
pub struct LoginInput {
    /// The login name.
    pub username: String,
    /// The password.
    pub password: String,
}

/// A bearer token and the account it belongs to.
#[derive(SimpleObject)]
pub struct LoginPayload {
    /// Send as `Authorization: Bearer <token>`.
    pub token: String,
    /// When the token stops working.
    pub expires_at: Timestamp,
    /// The user. (Personal fields follow the usual rules: this request is still anonymous;
    /// query `me` with the token for them.)
    pub user: User,
    /// The logged-in user's roles and scopes, to choose the screens to show.
    pub roles: Vec<RoleAssignment>,
}

/// A role to grant, and where it applies.
#[derive(InputObject)]
pub struct RoleInput {
    /// The role.
    pub role: Role,
    /// For COMMUNITY_STAFF, RESIDENT (required) and PARTY_MEMBER (optional).
    pub community_id: Option<ID>,
    /// For GRID_WORKER.
    pub grid_id: Option<ID>,
    /// For UNIT_REP and STUDENT.
    pub organization_id: Option<ID>,
}

/// A new account.
#[derive(InputObject)]
pub struct CreateUserInput {
    /// The login name.
    pub username: String,
    /// The password.
    pub password: String,
    /// The full name.
    pub display_name: String,
    /// A contact phone number.
    pub phone: Option<String>,
    /// An address of a picture of the person.
    pub avatar_url: Option<String>,
    /// Roles to grant at once.
    pub roles: Vec<RoleInput>,
}

/// The new account.
#[derive(SimpleObject)]
pub struct CreateUserPayload {
    /// The person.
    pub user: User,
}

#[derive(Default)]
pub struct AccountQuery;

#[Object]
impl AccountQuery {
    /// The logged-in user, or null for an anonymous caller.
    async fn me(&self, ctx: &Context<'_>) -> Option<User> {
        viewer(ctx)
            .user()
            .map(|u: &AuthUser| User::own(u.user.clone()))
    }
}

#[derive(Default)]
pub struct AccountMutation;

#[Object]
impl AccountMutation {
    /// Logs in; returns a JWT. Failures never say whether the username exists.
    async fn login(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The fields of the operation.")] input: LoginInput,
    ) -> AppResult<LoginPayload> {
        let client = ctx
            .data_opt::<crate::core::state::ClientAddr>()
            .and_then(|c| c.0.as_deref());
        let r = svc::login(
            db(ctx)?,
            config(ctx)?,
            client,
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
            expires_at: Timestamp(r.expires_at),
            user: User::own(r.user),
            roles: roles.into_iter().map(RoleAssignment).collect(),
        })
    }

    /// Creates a user with roles (ADMIN; COMMUNITY_STAFF within their community).
    async fn create_user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The fields of the operation.")] input: CreateUserInput,
    ) -> AppResult<CreateUserPayload> {
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
        Ok(CreateUserPayload {
            user: User::new(user),
        })
    }
}
