//! Accounts: login and user creation with roles and scopes.

use std::{
    collections::{HashMap, VecDeque},
    time::{Duration, Instant},
};

use chrono::Utc;
use entity::{community, grid, organization, role_assignment, role_assignment::Role, user};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter,
};

use crate::auth;
use crate::auth::AuthUser;
use crate::core::config::Config;
use crate::core::db;
use crate::core::db::get;
use crate::core::error::AppError;
use crate::core::error::AppResult;
use crate::core::validate;

pub struct LoginResult {
    pub token: String,
    pub expires_at: chrono::DateTime<Utc>,
    pub user: user::Model,
}

/// Failed logins per username: after `MAX_FAILURES` within `WINDOW`, further attempts for
/// that username are refused with `RATE_LIMITED` until the oldest failure leaves the window.
/// Other usernames are not affected. Kept in memory, per server process.
#[derive(Default)]
pub struct LoginLimiter {
    failures: std::sync::Mutex<HashMap<String, VecDeque<Instant>>>,
}

pub const MAX_FAILURES: usize = 10;
pub const WINDOW: Duration = Duration::from_secs(600);

impl LoginLimiter {
    fn key(username: &str) -> String {
        username.trim().to_lowercase()
    }

    pub fn check(&self, username: &str) -> AppResult<()> {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        if let Some(q) = map.get_mut(&Self::key(username)) {
            while q.front().is_some_and(|t| now.duration_since(*t) > WINDOW) {
                q.pop_front();
            }
            if q.len() >= MAX_FAILURES {
                return Err(AppError::RateLimited);
            }
        }
        Ok(())
    }

    pub fn record_failure(&self, username: &str) {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() > 100_000 {
            // Bound memory under a spray of usernames: forget entries with no recent failure.
            let now = Instant::now();
            map.retain(|_, q| q.back().is_some_and(|t| now.duration_since(*t) <= WINDOW));
        }
        map.entry(Self::key(username))
            .or_default()
            .push_back(Instant::now());
    }
}

/// Checks a username and password. Failures never say whether the username exists.
pub async fn login(
    db: &DatabaseConnection,
    config: &Config,
    limiter: &LoginLimiter,
    username: &str,
    password: &str,
) -> AppResult<LoginResult> {
    limiter.check(username)?;
    let result = check_login(db, config, username, password).await;
    if let Err(AppError::Unauthenticated(_)) = &result {
        limiter.record_failure(username);
    }
    result
}

async fn check_login(
    db: &DatabaseConnection,
    config: &Config,
    username: &str,
    password: &str,
) -> AppResult<LoginResult> {
    let refused = AppError::Unauthenticated("用户名或密码错误");
    let found = user::Entity::find()
        .filter(user::Column::Username.eq(username.trim()))
        .one(db)
        .await?;
    let Some(user) = found else {
        // Spend the same time as a real check.
        let _ = auth::verify_password(password.to_owned(), auth::dummy_hash().await?).await;
        return Err(refused);
    };
    if password.len() > 1024 {
        return Err(refused);
    }
    let ok = auth::verify_password(password.to_owned(), user.password_hash.clone()).await?;
    if !ok || !user.active {
        return Err(refused);
    }
    let (token, expires_at) = auth::issue_token(config, user.id)?;
    Ok(LoginResult {
        token,
        expires_at,
        user,
    })
}

/// A role with its scope, as asked for by a client.
#[derive(Clone, Debug)]
pub struct RoleGrant {
    pub role: Role,
    pub community_id: Option<i64>,
    pub grid_id: Option<i64>,
    pub organization_id: Option<i64>,
}

pub struct NewUser {
    pub username: String,
    pub password: String,
    pub display_name: String,
    pub phone: Option<String>,
    pub avatar_url: Option<String>,
    pub roles: Vec<RoleGrant>,
}

/// Checks the shape of a role's scope and that the actor may grant it; returns the grant
/// completed with the community it falls in.
async fn check_grant(
    db: &DatabaseConnection,
    actor: &AuthUser,
    g: &RoleGrant,
) -> AppResult<RoleGrant> {
    let mut g = g.clone();
    // Where the scope lies, to check the actor's own scope.
    let mut community: Option<i64> = None;
    match g.role {
        Role::Admin => {
            if g.community_id.is_some() || g.grid_id.is_some() || g.organization_id.is_some() {
                return Err(AppError::bad_field("roles", "管理员角色不设范围"));
            }
        }
        Role::CommunityStaff | Role::Resident => {
            let c = g
                .community_id
                .ok_or_else(|| AppError::bad_field("roles", "该角色须指定社区"))?;
            get::<community::Entity, _>(db, c, "社区不存在").await?;
            g.grid_id = None;
            g.organization_id = None;
            community = Some(c);
        }
        Role::GridWorker => {
            let gid = g
                .grid_id
                .ok_or_else(|| AppError::bad_field("roles", "网格员角色须指定网格"))?;
            let grid = get::<grid::Entity, _>(db, gid, "网格不存在").await?;
            g.community_id = None;
            g.organization_id = None;
            community = Some(grid.community_id);
        }
        Role::UnitRep | Role::Student => {
            let o = g
                .organization_id
                .ok_or_else(|| AppError::bad_field("roles", "该角色须指定组织"))?;
            let org = get::<organization::Entity, _>(db, o, "组织不存在").await?;
            g.grid_id = None;
            community = org.community_id;
            g.community_id = None;
        }
        Role::PartyMember => {
            if let Some(c) = g.community_id {
                get::<community::Entity, _>(db, c, "社区不存在").await?;
                community = Some(c);
            }
            g.grid_id = None;
            g.organization_id = None;
        }
    }
    if actor.is_admin() {
        return Ok(g);
    }
    // Community staff grant roles inside their own community, never ADMIN.
    let allowed = g.role != Role::Admin && community.is_some_and(|c| actor.is_staff_of(c));
    if allowed {
        Ok(g)
    } else {
        Err(AppError::forbidden())
    }
}

/// Creates a user (ADMIN, or COMMUNITY_STAFF within their community).
pub async fn create_user(
    db: &DatabaseConnection,
    actor: &AuthUser,
    input: NewUser,
) -> AppResult<user::Model> {
    if !actor.is_admin() && actor.staff_communities().is_empty() {
        return Err(AppError::forbidden());
    }
    let username = validate::username(&input.username)?;
    let password = validate::password(&input.password)?;
    let display_name = validate::text("displayName", &input.display_name, 50)?;
    let phone = validate::opt_phone(input.phone.as_deref())?;
    let avatar_url = validate::opt_url("avatarUrl", input.avatar_url.as_deref())?;
    if input.roles.is_empty() {
        return Err(AppError::bad_field("roles", "至少指定一个角色"));
    }
    if input.roles.len() > 10 {
        return Err(AppError::bad_field("roles", "角色过多"));
    }
    let mut grants = Vec::with_capacity(input.roles.len());
    for g in &input.roles {
        grants.push(check_grant(db, actor, g).await?);
    }
    let hash = auth::hash_password(password).await?;
    insert_user(
        db,
        &username,
        &display_name,
        phone,
        avatar_url,
        hash,
        &grants,
    )
    .await
}

/// Inserts a user and their roles in one transaction. Used by `createUser`, the CLI and demo data.
pub async fn insert_user(
    db: &DatabaseConnection,
    username: &str,
    display_name: &str,
    phone: Option<String>,
    avatar_url: Option<String>,
    password_hash: String,
    grants: &[RoleGrant],
) -> AppResult<user::Model> {
    let txn = db::begin_write(db).await?;
    let now = Utc::now();
    let created = user::ActiveModel {
        username: Set(username.to_owned()),
        display_name: Set(display_name.to_owned()),
        phone: Set(phone),
        avatar_url: Set(avatar_url),
        password_hash: Set(password_hash),
        active: Set(true),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .map_err(|e| AppError::on_unique(e, "用户名已存在"))?;
    let mut seen = std::collections::HashSet::new();
    for g in grants {
        if !seen.insert((g.role, g.community_id, g.grid_id, g.organization_id)) {
            continue;
        }
        role_assignment::ActiveModel {
            user_id: Set(created.id),
            role: Set(g.role),
            community_id: Set(g.community_id),
            grid_id: Set(g.grid_id),
            organization_id: Set(g.organization_id),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
    }
    txn.commit().await?;
    Ok(created)
}

/// Creates or resets an ADMIN account (the `create-admin` command).
pub async fn ensure_admin(
    db: &DatabaseConnection,
    username: &str,
    password: &str,
) -> AppResult<user::Model> {
    let username = validate::username(username)?;
    let password = validate::password(password)?;
    let hash = auth::hash_password(password).await?;
    let existing = user::Entity::find()
        .filter(user::Column::Username.eq(&username))
        .one(db)
        .await?;
    match existing {
        None => {
            let grant = RoleGrant {
                role: Role::Admin,
                community_id: None,
                grid_id: None,
                organization_id: None,
            };
            insert_user(db, &username, "管理员", None, None, hash, &[grant]).await
        }
        Some(u) => {
            let txn = db::begin_write(db).await?;
            let mut am: user::ActiveModel = u.clone().into();
            am.password_hash = Set(hash);
            am.active = Set(true);
            let u = am.update(&txn).await?;
            let has_admin = role_assignment::Entity::find()
                .filter(role_assignment::Column::UserId.eq(u.id))
                .filter(role_assignment::Column::Role.eq(Role::Admin))
                .one(&txn)
                .await?
                .is_some();
            if !has_admin {
                role_assignment::ActiveModel {
                    user_id: Set(u.id),
                    role: Set(Role::Admin),
                    created_at: Set(Utc::now()),
                    ..Default::default()
                }
                .insert(&txn)
                .await?;
            }
            txn.commit().await?;
            Ok(u)
        }
    }
}
