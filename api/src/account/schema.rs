//! Accounts: `login`, `me`, `createUser`, and the `User` type with field-level privacy.

use crate::graphql::scalars::{Date, Timestamp};
use async_graphql::{Context, ID, InputObject, Object, SimpleObject, Upload};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::account::lifecycle;
use crate::account::roles;
use crate::account::rules as svc;
use crate::auth::AuthUser;
use crate::core::error::{AppError, AppResult};
use crate::core::pagination as connection;
use crate::core::pagination::{Conn, Page};
use crate::core::validate;
use crate::graphql::context::actor;
use crate::graphql::context::config;
use crate::graphql::context::db;
use crate::graphql::context::events;
use crate::graphql::context::parse_id;
use crate::graphql::context::parse_opt_id;
use crate::graphql::context::viewer;
use crate::nodes::user::{Role, RoleAssignment, RoleGrant, User};

/// A username and password.
#[derive(InputObject)]
pub struct LoginInput {
    /// The login name.
    pub username: String,
    /// The password.
    pub password: String,
}

/// An access token, a refresh token and the account they belong to.
#[derive(SimpleObject)]
pub struct LoginPayload {
    /// The access token: send as `Authorization: Bearer <token>`. Short-lived (30 minutes by default); before `expiresAt` (or on `extensions.reason: TOKEN_EXPIRED`), trade the refresh token for a new pair with `refreshToken`.
    pub token: String,
    /// When the access token stops working.
    pub expires_at: Timestamp,
    /// The refresh token (30 days by default), usable once: keep it in the app's storage, never send it as a bearer token.
    pub refresh_token: String,
    /// When the refresh token stops working.
    pub refresh_expires_at: Timestamp,
    /// The user. (Personal fields follow the usual rules: this request is still anonymous; query `me` with the token for them.)
    pub user: User,
    /// The logged-in user's roles and scopes, to choose the screens to show.
    pub roles: Vec<RoleAssignment>,
    /// The password was reset: until `changePassword`, every other operation with this token answers FORBIDDEN (`extensions.reason: PASSWORD_CHANGE_REQUIRED`).
    pub must_change_password: bool,
}

/// The caller's current password and the new one.
#[derive(InputObject)]
pub struct ChangePasswordInput {
    /// The current password.
    pub old_password: String,
    /// The new password: 8 to 128 characters, at least two kinds among letters, digits and other characters, not the username.
    pub new_password: String,
}

/// A new pair of tokens: every earlier token of the caller (access and refresh) has stopped working.
#[derive(SimpleObject)]
pub struct ChangePasswordPayload {
    /// Send as `Authorization: Bearer <token>` from now on.
    pub token: String,
    /// When the token stops working.
    pub expires_at: Timestamp,
    /// The new refresh token.
    pub refresh_token: String,
    /// When the refresh token stops working.
    pub refresh_expires_at: Timestamp,
}

/// A person whose password is reset, and the temporary password.
#[derive(InputObject)]
pub struct ResetPasswordInput {
    /// The person.
    pub user_id: ID,
    /// A temporary password (same rule as `changePassword`); the person must change it at their next login.
    pub new_password: String,
}

/// A person to deactivate or reactivate.
#[derive(InputObject)]
pub struct UserStatusInput {
    /// The person.
    pub user_id: ID,
}

/// The account after the change.
#[derive(SimpleObject)]
pub struct AccountPayload {
    /// The person.
    pub user: User,
}

/// Every earlier token of the caller has stopped working.
#[derive(SimpleObject)]
pub struct LogoutEverywherePayload {
    /// When the tokens stopped working.
    pub at: Timestamp,
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

/// A role to grant to a person, where it applies, and for which days.
#[derive(InputObject)]
pub struct GrantRoleInput {
    /// The person.
    pub user_id: ID,
    /// The role.
    pub role: Role,
    /// For COMMUNITY_STAFF, RESIDENT (required) and PARTY_MEMBER (optional).
    pub community_id: Option<ID>,
    /// For GRID_WORKER.
    pub grid_id: Option<ID>,
    /// For UNIT_REP and STUDENT.
    pub organization_id: Option<ID>,
    /// First day in force (today when absent; not before today).
    pub start_date: Option<Date>,
    /// Last day in force, inclusive (open-ended when absent).
    pub end_date: Option<Date>,
    /// First day in force.
    #[graphql(deprecation = "Use `startDate`.")]
    pub from: Option<Date>,
    /// Last day in force.
    #[graphql(deprecation = "Use `endDate`.")]
    pub until: Option<Date>,
}

/// A grant to revoke, and why.
#[derive(InputObject)]
pub struct RevokeRoleInput {
    /// The grant (`User.roleHistory`, `RoleAssignment.grantId`).
    pub grant_id: ID,
    /// Why (kept in the history, up to 200 characters).
    pub reason: String,
}

/// The grant after the change, and its person.
#[derive(SimpleObject)]
pub struct RoleGrantPayload {
    /// The grant.
    pub grant: RoleGrant,
    /// The person it is granted to.
    pub user: User,
}

/// A community's spreadsheet of residents and party members to import.
#[derive(InputObject)]
pub struct ImportPeopleInput {
    /// The community the people belong to (grids are looked up by name inside it).
    pub community_id: ID,
    /// An `.xlsx` (first sheet) or UTF-8 `.csv` file, sent as a GraphQL multipart request; columns as in `GET /templates/people.xlsx` (README, "Importing people"). Either this or `fileUploadId`.
    pub file: Option<Upload>,
    /// The file uploaded ahead with `POST /uploads` (purpose `PEOPLE_IMPORT`).
    pub file_upload_id: Option<ID>,
    /// Every new account's password until its first login, where it must be changed (same rule as `changePassword`). Without it, an account logs in after `resetPassword`.
    pub initial_password: Option<String>,
}

/// One bad row (or a problem with the whole file) that refused an import.
#[derive(SimpleObject)]
pub struct ImportProblem {
    /// The spreadsheet's row number (the header is row 1; 0 for the whole file).
    pub row: i32,
    /// The column, as the file named it (null for the whole row or file).
    pub column: Option<String>,
    /// What is wrong, in Chinese.
    pub reason: String,
}

/// An import: everything created, or nothing and every problem.
#[derive(SimpleObject)]
pub struct ImportPeoplePayload {
    /// People created (0 when there are problems).
    pub created: i32,
    /// Passbooks opened with them.
    pub passbooks_opened: i32,
    /// Every bad row and why; empty when the import was done.
    pub problems: Vec<ImportProblem>,
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

    /// People within the caller's scope, in id order (ADMIN: everyone; COMMUNITY_STAFF: the people of their communities; GRID_WORKER: the people of their grids). Names and phones are masked by the person rule as everywhere else.
    #[allow(clippy::too_many_arguments)]
    #[graphql(complexity = "connection::complexity(child_complexity, first)")]
    async fn users(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only people holding this role.")] role: Option<Role>,
        #[graphql(
            desc = "Only people of this community (a role there or in one of its grids, or an approved registration)."
        )]
        community_id: Option<ID>,
        #[graphql(desc = "Only people with a role in this grid.")] grid_id: Option<ID>,
        #[graphql(desc = "Only active (true) or deactivated (false) accounts.")] active: Option<
            bool,
        >,
        #[graphql(desc = "How many items to return (1 to 100, default 20).")] first: Option<i32>,
        #[graphql(
            desc = "Return the items after this cursor (`pageInfo.endCursor` of the previous page)."
        )]
        after: Option<String>,
    ) -> AppResult<Conn<User>> {
        let page = Page::new(ctx, first, after.as_deref())?;
        let filter = svc::PeopleFilter {
            role: role.map(Into::into),
            community_id: parse_opt_id("communityId", community_id.as_ref())?,
            grid_id: parse_opt_id("gridId", grid_id.as_ref())?,
            active,
        };
        let q = svc::people(actor(ctx)?, &filter)?;
        connection::paginate(
            db(ctx)?,
            q,
            entity::user::Column::Id,
            false,
            page,
            |m| m.id,
            User::new,
        )
        .await
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
            .data_opt::<crate::graphql::state::ClientAddr>()
            .and_then(|c| c.0.as_deref());
        let r = svc::login(
            db(ctx)?,
            config(ctx)?,
            client,
            &input.username,
            &input.password,
        )
        .await?;
        login_payload(db(ctx)?, r.user, r.tokens).await
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

    /// Changes the caller's own password (the old one required). Every earlier token of the caller stops working; the answer carries a new token.
    async fn change_password(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The fields of the operation.")] input: ChangePasswordInput,
    ) -> AppResult<ChangePasswordPayload> {
        let t = lifecycle::change_password(
            db(ctx)?,
            config(ctx)?,
            actor(ctx)?,
            &input.old_password,
            &input.new_password,
        )
        .await?;
        Ok(ChangePasswordPayload {
            token: t.tokens.access_token,
            expires_at: Timestamp(t.tokens.access_expires_at),
            refresh_token: t.tokens.refresh_token,
            refresh_expires_at: Timestamp(t.tokens.refresh_expires_at),
        })
    }

    /// Resets a person's password to a temporary one (ADMIN; COMMUNITY_STAFF for people of their community). The person must change it at their next login; their earlier tokens stop working.
    async fn reset_password(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The fields of the operation.")] input: ResetPasswordInput,
    ) -> AppResult<AccountPayload> {
        let id = parse_id("userId", &input.user_id)?;
        let user =
            lifecycle::reset_password(db(ctx)?, events(ctx)?, actor(ctx)?, id, &input.new_password)
                .await?;
        Ok(AccountPayload {
            user: User::new(user),
        })
    }

    /// Deactivates a person (ADMIN; COMMUNITY_STAFF for people of their community): they cannot log in and their tokens stop working at once. The last ADMIN cannot be deactivated.
    async fn deactivate_user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The fields of the operation.")] input: UserStatusInput,
    ) -> AppResult<AccountPayload> {
        let id = parse_id("userId", &input.user_id)?;
        let user = lifecycle::set_active(db(ctx)?, actor(ctx)?, id, false).await?;
        Ok(AccountPayload {
            user: User::new(user),
        })
    }

    /// Reactivates a deactivated person (same rights as `deactivateUser`); they log in again.
    async fn reactivate_user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The fields of the operation.")] input: UserStatusInput,
    ) -> AppResult<AccountPayload> {
        let id = parse_id("userId", &input.user_id)?;
        let user = lifecycle::set_active(db(ctx)?, actor(ctx)?, id, true).await?;
        Ok(AccountPayload {
            user: User::new(user),
        })
    }

    /// Grants a role for a period (ADMIN; COMMUNITY_STAFF within their community, to people of it, never ADMIN). In force from its first day; kept in the role history.
    async fn grant_role(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The fields of the operation.")] input: GrantRoleInput,
    ) -> AppResult<RoleGrantPayload> {
        let grant = roles::Grant {
            user_id: parse_id("userId", &input.user_id)?,
            scope: svc::RoleGrant {
                role: input.role.into(),
                community_id: parse_opt_id("communityId", input.community_id.as_ref())?,
                grid_id: parse_opt_id("gridId", input.grid_id.as_ref())?,
                organization_id: parse_opt_id("organizationId", input.organization_id.as_ref())?,
            },
            from: validate::renamed("startDate", input.start_date, "from", input.from)?
                .map(|d| d.0),
            until: validate::renamed("endDate", input.end_date, "until", input.until)?.map(|d| d.0),
        };
        let db = db(ctx)?;
        let g = roles::grant_role(
            db,
            events(ctx)?,
            actor(ctx)?,
            grant,
            crate::core::validate::today(),
        )
        .await?;
        grant_payload(db, g).await
    }

    /// Revokes a grant at once (same rights as granting it); it stays in the history with who, when and why. The last active ADMIN's role cannot be revoked.
    async fn revoke_role(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The fields of the operation.")] input: RevokeRoleInput,
    ) -> AppResult<RoleGrantPayload> {
        let id = parse_id("grantId", &input.grant_id)?;
        let db = db(ctx)?;
        let g = roles::revoke_role(
            db,
            events(ctx)?,
            actor(ctx)?,
            id,
            &input.reason,
            crate::core::validate::today(),
        )
        .await?;
        grant_payload(db, g).await
    }

    /// Imports a community's residents and party members from its spreadsheet (ADMIN; staff of the community). The whole file is checked first: any bad row refuses the whole import and every bad row is reported; a good file creates every account, role and passbook in one transaction. Send as a GraphQL multipart request.
    async fn import_people(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The fields of the operation.")] input: ImportPeopleInput,
    ) -> AppResult<ImportPeoplePayload> {
        let community_id = parse_id("communityId", &input.community_id)?;
        let actor = actor(ctx)?;
        let (bytes, pending) = match (input.file, input.file_upload_id) {
            (Some(file), None) => {
                let value = file
                    .value(ctx)
                    .map_err(|_| AppError::bad_field("file", "未收到文件"))?;
                (value.content.to_vec(), None)
            }
            (None, Some(id)) => {
                let id = parse_id("fileUploadId", &id)?;
                (
                    crate::files::pending::file(db(ctx)?, actor.id(), id).await?,
                    Some(id),
                )
            }
            _ => {
                return Err(AppError::bad_field(
                    "file",
                    "请提供 file 或 fileUploadId（二选一）",
                ));
            }
        };
        let outcome = crate::account::import::import_people(
            db(ctx)?,
            actor,
            community_id,
            &bytes,
            input.initial_password.as_deref(),
        )
        .await?;
        // A file that was imported is used up; one refused stays for another try until it
        // expires.
        if let Some(id) = pending
            && outcome.problems.is_empty()
        {
            crate::files::pending::take(db(ctx)?, actor.id(), id).await?;
        }
        let count = |n: usize| i32::try_from(n).unwrap_or(i32::MAX);
        Ok(ImportPeoplePayload {
            created: count(outcome.created),
            passbooks_opened: count(outcome.passbooks),
            problems: outcome
                .problems
                .into_iter()
                .map(|p| ImportProblem {
                    row: count(p.row),
                    column: p.column,
                    reason: p.reason,
                })
                .collect(),
        })
    }

    /// Makes every token of the caller issued so far stop working (a lost phone).
    async fn logout_everywhere(&self, ctx: &Context<'_>) -> AppResult<LogoutEverywherePayload> {
        lifecycle::logout_everywhere(db(ctx)?, actor(ctx)?).await?;
        Ok(LogoutEverywherePayload {
            at: Timestamp(crate::core::clock::now()),
        })
    }
}

/// The payload of a login (by password, WeChat or a refresh): the pair, the user and roles.
pub(crate) async fn login_payload(
    db: &sea_orm::DatabaseConnection,
    user: entity::user::Model,
    tokens: crate::auth::refresh::TokenPair,
) -> AppResult<LoginPayload> {
    let roles = entity::role_assignment::Entity::find()
        .filter(entity::role_assignment::Column::UserId.eq(user.id))
        .all(db)
        .await
        .map_err(AppError::from)?;
    Ok(LoginPayload {
        token: tokens.access_token,
        expires_at: Timestamp(tokens.access_expires_at),
        refresh_token: tokens.refresh_token,
        refresh_expires_at: Timestamp(tokens.refresh_expires_at),
        must_change_password: user.must_change_password,
        user: User::own(user),
        roles: roles.into_iter().map(RoleAssignment).collect(),
    })
}

async fn grant_payload(
    db: &sea_orm::DatabaseConnection,
    grant: entity::role_grant::Model,
) -> AppResult<RoleGrantPayload> {
    let user =
        crate::core::db::get::<entity::user::Entity, _>(db, grant.user_id, "用户不存在").await?;
    Ok(RoleGrantPayload {
        grant: RoleGrant(grant),
        user: User::new(user),
    })
}
