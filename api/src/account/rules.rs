//! Accounts: login and user creation with roles and scopes.

use entity::{role_assignment, role_assignment::Role, user};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter,
};

use crate::auth;
use crate::auth::AuthUser;
use crate::core::config::Config;
use crate::core::db;
use crate::core::error::AppResult;
use crate::core::error::{AppError, ErrorReason};
use crate::core::validate;

pub struct LoginResult {
    pub tokens: auth::refresh::TokenPair,
    pub user: user::Model,
}

/// The login throttle: attempts per username and per client address are counted in the
/// database (so every instance behind a balancer shares them) in fixed windows, and each
/// attempt is counted atomically *before* the password is checked, so a burst of parallel
/// attempts is throttled exactly as a sequence is. A successful login clears its username's
/// count.
pub mod throttle {
    use chrono::Utc;
    use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};

    use crate::core::{config::Config, error::AppResult};

    fn sql(backend: DbBackend) -> &'static str {
        match backend {
            DbBackend::Postgres => {
                "INSERT INTO login_throttle (key, attempts, window_start) VALUES ($1, 1, $2) \
                 ON CONFLICT (key) DO UPDATE SET \
                 attempts = CASE WHEN login_throttle.window_start <= $3 THEN 1 ELSE login_throttle.attempts + 1 END, \
                 window_start = CASE WHEN login_throttle.window_start <= $3 THEN $2 ELSE login_throttle.window_start END \
                 RETURNING attempts"
            }
            _ => {
                "INSERT INTO login_throttle (key, attempts, window_start) VALUES (?1, 1, ?2) \
                 ON CONFLICT (key) DO UPDATE SET \
                 attempts = CASE WHEN login_throttle.window_start <= ?3 THEN 1 ELSE login_throttle.attempts + 1 END, \
                 window_start = CASE WHEN login_throttle.window_start <= ?3 THEN ?2 ELSE login_throttle.window_start END \
                 RETURNING attempts"
            }
        }
    }

    /// Counts one attempt for `key`; returns the attempts of the current window, this one
    /// included. One statement: atomic on both databases.
    pub async fn count(db: &DatabaseConnection, config: &Config, key: &str) -> AppResult<i64> {
        let now = Utc::now().timestamp();
        let expired = now - config.login_window.as_secs() as i64;
        let backend = db.get_database_backend();
        let row = db
            .query_one_raw(Statement::from_sql_and_values(
                backend,
                sql(backend),
                [key.into(), now.into(), expired.into()],
            ))
            .await?;
        Ok(match row {
            Some(r) => r.try_get_by_index::<i64>(0)?,
            None => 0,
        })
    }

    /// Forgets the attempts of `key` (after a successful login).
    pub async fn clear(db: &DatabaseConnection, key: &str) -> AppResult<()> {
        let backend = db.get_database_backend();
        let sql = match backend {
            DbBackend::Postgres => "DELETE FROM login_throttle WHERE key = $1",
            _ => "DELETE FROM login_throttle WHERE key = ?1",
        };
        db.execute_raw(Statement::from_sql_and_values(backend, sql, [key.into()]))
            .await?;
        Ok(())
    }

    /// The throttle's key of a username: a digest of its lower-cased form, so that the key
    /// has a bounded length whatever was typed and keeps no login in clear.
    pub fn user_key(username: &str) -> String {
        use sha2::Digest;
        let digest = sha2::Sha256::digest(username.trim().to_lowercase().as_bytes());
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        format!("user:{hex}")
    }

    pub fn address_key(address: &str) -> String {
        format!("addr:{address}")
    }
}

/// Checks a username and password. Failures never say whether the username exists, and take
/// the same time either way. Attempts are throttled per username and per client address
/// (`client`, when known).
pub async fn login(
    db: &DatabaseConnection,
    config: &Config,
    client: Option<&str>,
    username: &str,
    password: &str,
) -> AppResult<LoginResult> {
    let user = authenticate(db, config, client, username, password).await?;
    let tokens = auth::refresh::issue(db, config, &user, None).await?;
    Ok(LoginResult { tokens, user })
}

/// [`login`]'s checks (throttle, password, active), without issuing tokens: the account.
pub async fn authenticate(
    db: &DatabaseConnection,
    config: &Config,
    client: Option<&str>,
    username: &str,
    password: &str,
) -> AppResult<user::Model> {
    let user_key = throttle::user_key(username);
    let by_user = throttle::count(db, config, &user_key).await?;
    let by_address = match client {
        Some(addr) => throttle::count(db, config, &throttle::address_key(addr)).await?,
        None => 0,
    };
    if by_user > config.login_attempts_per_user || by_address > config.login_attempts_per_address {
        return Err(AppError::RateLimited(Some(ErrorReason::LoginThrottled)));
    }
    let result = check_login(db, username, password).await;
    if result.is_ok() {
        throttle::clear(db, &user_key).await?;
    }
    result
}

/// Longest username looked up (accounts have at most 32 characters).
pub const MAX_USERNAME_BYTES: usize = 64;

/// Longest password checked; a longer one is refused after the same work as any other.
pub const MAX_PASSWORD_BYTES: usize = 1024;

async fn check_login(
    db: &DatabaseConnection,
    username: &str,
    password: &str,
) -> AppResult<user::Model> {
    let refused = AppError::Unauthenticated(ErrorReason::InvalidCredentials);
    // A username longer than any account's is never looked up (no statement carries it).
    let username = username.trim();
    let found = if username.len() > MAX_USERNAME_BYTES {
        None
    } else {
        user::Entity::find()
            .filter(user::Column::Username.eq(username))
            .one(db)
            .await?
    };
    // Exactly one argon2 verification of at most MAX_PASSWORD_BYTES, whatever the username
    // and the password's length: against the user's hash, or a dummy one.
    let too_long = password.len() > MAX_PASSWORD_BYTES;
    let mut cut = password.len().min(MAX_PASSWORD_BYTES);
    while !password.is_char_boundary(cut) {
        cut -= 1;
    }
    let checked = password[..cut].to_owned();
    // An account without a usable password (imported without one, or erased) is checked
    // against the dummy hash too, and refused.
    let hash = match (&found, too_long) {
        (Some(user), false) if auth::usable_hash(&user.password_hash) => user.password_hash.clone(),
        _ => auth::dummy_hash().await?,
    };
    let ok = auth::verify_password(checked, hash).await?;
    let Some(user) = found else {
        return Err(refused);
    };
    if !ok || too_long || !user.active || !auth::usable_hash(&user.password_hash) {
        return Err(refused);
    }
    Ok(user)
}

pub use crate::account::roles::RoleGrant;
use crate::account::roles::check_grant;

pub struct NewUser {
    pub username: String,
    pub password: String,
    pub display_name: String,
    pub phone: Option<String>,
    pub avatar_url: Option<String>,
    pub roles: Vec<RoleGrant>,
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
        Some(actor.id()),
    )
    .await
}

/// Inserts a user and their roles (granted by `granted_by`, from today) in one transaction.
/// Used by `createUser`, the CLI and demo data.
pub async fn insert_user(
    db: &DatabaseConnection,
    username: &str,
    display_name: &str,
    phone: Option<String>,
    avatar_url: Option<String>,
    password_hash: String,
    grants: &[RoleGrant],
    granted_by: Option<i64>,
) -> AppResult<user::Model> {
    let txn = db::begin_write(db).await?;
    let today = validate::today();
    let now = crate::core::clock::now();
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
    .map_err(|e| AppError::on_unique(e, ErrorReason::UsernameTaken, "用户名已存在"))?;
    let mut seen = std::collections::HashSet::new();
    for g in grants {
        if !seen.insert((g.role, g.community_id, g.grid_id, g.organization_id)) {
            continue;
        }
        crate::account::roles::record_grant(&txn, created.id, g, today, None, granted_by, today)
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
            insert_user(db, &username, "管理员", None, None, hash, &[grant], None).await
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
                let today = validate::today();
                let grant = RoleGrant {
                    role: Role::Admin,
                    community_id: None,
                    grid_id: None,
                    organization_id: None,
                };
                crate::account::roles::record_grant(&txn, u.id, &grant, today, None, None, today)
                    .await?;
            }
            txn.commit().await?;
            Ok(u)
        }
    }
}

/// Filters of the `users` list.
pub struct PeopleFilter {
    pub role: Option<Role>,
    pub community_id: Option<i64>,
    pub grid_id: Option<i64>,
    pub active: Option<bool>,
}

/// The people the actor may list, narrowed by the filters (a filter never widens the scope).
pub fn people(actor: &AuthUser, f: &PeopleFilter) -> AppResult<sea_orm::Select<user::Entity>> {
    use crate::account::policy::{listable_people, people_of_communities, people_with_role};
    let scope = listable_people(actor).ok_or_else(AppError::forbidden)?;
    let mut q = user::Entity::find().filter(scope);
    if let Some(role) = f.role {
        q = q.filter(people_with_role(role_assignment::Column::Role.eq(role)));
    }
    if let Some(c) = f.community_id {
        q = q.filter(people_of_communities(vec![c]));
    }
    if let Some(g) = f.grid_id {
        q = q.filter(people_with_role(role_assignment::Column::GridId.eq(g)));
    }
    if let Some(active) = f.active {
        q = q.filter(user::Column::Active.eq(active));
    }
    Ok(q)
}
