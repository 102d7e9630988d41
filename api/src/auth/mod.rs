//! Passwords (argon2), tokens (JWT HS256) and the viewer of a request with its roles and scopes.

pub mod refresh;

use std::{collections::HashMap, sync::Arc};

use argon2::{
    Argon2, PasswordHash, PasswordHasher, PasswordVerifier,
    password_hash::{SaltString, rand_core::OsRng},
};
use chrono::Utc;
use entity::{
    grid, grid_registration, grid_registration::RegistrationStatus, role_assignment,
    role_assignment::Role, user,
};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect};
use serde::{Deserialize, Serialize};

use crate::core::config::Config;
use crate::core::error::AppResult;
use crate::core::error::{AppError, ErrorReason};

pub const ISSUER: &str = "lianxin";
pub const AUDIENCE: &str = "lianxin-api";

/// Hashes a password with argon2id on the blocking pool.
pub async fn hash_password(password: String) -> AppResult<String> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(AppError::internal)
    })
    .await
    .map_err(AppError::internal)?
}

/// Whether a stored hash can match a password: accounts imported without a password and
/// erased accounts hold a marker starting with `!` instead.
pub fn usable_hash(hash: &str) -> bool {
    !hash.starts_with('!')
}

/// Verifies a password against a stored hash on the blocking pool.
pub async fn verify_password(password: String, hash: String) -> AppResult<bool> {
    tokio::task::spawn_blocking(move || {
        let parsed = PasswordHash::new(&hash).map_err(AppError::internal)?;
        Ok(Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok())
    })
    .await
    .map_err(AppError::internal)?
}

/// A hash of a password nobody has, verified when the username does not exist so that a
/// failed login takes the same time either way.
pub async fn dummy_hash() -> AppResult<String> {
    static DUMMY: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
    DUMMY
        .get_or_try_init(|| hash_password("lianxin-no-such-user".to_owned()))
        .await
        .cloned()
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub exp: i64,
    pub iat: i64,
    pub iss: String,
    pub aud: String,
    /// The user's token version when the token was issued (see `users.token_version`).
    #[serde(default)]
    pub ver: i64,
}

/// Issues a token for a user; returns it with its expiry.
pub fn issue_token(
    config: &Config,
    user_id: i64,
    token_version: i64,
) -> AppResult<(String, chrono::DateTime<Utc>)> {
    let now = Utc::now();
    let ttl = chrono::Duration::from_std(config.token_ttl).map_err(AppError::internal)?;
    let exp = now + ttl;
    let claims = Claims {
        sub: user_id.to_string(),
        exp: exp.timestamp(),
        iat: now.timestamp(),
        iss: ISSUER.to_owned(),
        aud: AUDIENCE.to_owned(),
        ver: token_version,
    };
    let token = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(config.jwt_secret.expose().as_bytes()),
    )
    .map_err(AppError::internal)?;
    Ok((token, exp))
}

/// Checks a token's signature, algorithm, expiry, issuer and audience; returns the user id
/// and the token version it was issued with.
pub fn verify_token(config: &Config, token: &str) -> AppResult<(i64, i64)> {
    verify_token_until(config, token).map(|(id, version, _)| (id, version))
}

/// [`verify_token`], with the token's expiry (seconds since the epoch).
fn verify_token_until(config: &Config, token: &str) -> AppResult<(i64, i64, i64)> {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_issuer(&[ISSUER]);
    validation.set_audience(&[AUDIENCE]);
    validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
    validation.leeway = 30;
    let data = jsonwebtoken::decode::<Claims>(
        token,
        &DecodingKey::from_secret(config.jwt_secret.expose().as_bytes()),
        &validation,
    )
    .map_err(|e| {
        tracing::debug!(error = %e, "token refused");
        AppError::Unauthenticated(match e.kind() {
            jsonwebtoken::errors::ErrorKind::ExpiredSignature => ErrorReason::TokenExpired,
            _ => ErrorReason::TokenInvalid,
        })
    })?;
    let id = data
        .claims
        .sub
        .parse()
        .map_err(|_| AppError::Unauthenticated(ErrorReason::TokenInvalid))?;
    Ok((id, data.claims.ver, data.claims.exp))
}

/// The audience of a photo's access link (never accepted as a login token, nor a login
/// token as a link).
const FILE_AUDIENCE: &str = "lianxin-file";
/// How long a photo's access link works.
pub const FILE_LINK_TTL_MINUTES: i64 = 60;

#[derive(Debug, Serialize, Deserialize)]
struct FileClaims {
    /// The viewer's id, or 0 for an anonymous viewer.
    sub: String,
    /// The file.
    file: i64,
    /// The viewer's token version.
    ver: i64,
    exp: i64,
    iat: i64,
    iss: String,
    aud: String,
}

/// Signs a link to one photo for one viewer (`(id, token version)`, none when anonymous),
/// valid for an hour: `<img src>` cannot send a header, so the link carries who asked. The
/// server checks the viewer and the photo's policy again when it is fetched.
pub fn issue_file_link(
    config: &Config,
    file_id: i64,
    viewer: Option<(i64, i64)>,
) -> AppResult<String> {
    let now = Utc::now();
    let (id, ver) = viewer.unwrap_or((0, 0));
    let claims = FileClaims {
        sub: id.to_string(),
        file: file_id,
        ver,
        exp: (now + chrono::Duration::minutes(FILE_LINK_TTL_MINUTES)).timestamp(),
        iat: now.timestamp(),
        iss: ISSUER.to_owned(),
        aud: FILE_AUDIENCE.to_owned(),
    };
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(config.jwt_secret.expose().as_bytes()),
    )
    .map_err(AppError::internal)
}

/// Checks a photo link for `file_id`; returns the viewer it was issued to (none: anonymous).
pub fn verify_file_link(
    config: &Config,
    token: &str,
    file_id: i64,
) -> AppResult<Option<(i64, i64)>> {
    let bad = AppError::Unauthenticated(ErrorReason::LinkInvalid);
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_issuer(&[ISSUER]);
    validation.set_audience(&[FILE_AUDIENCE]);
    validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
    validation.leeway = 30;
    let data = jsonwebtoken::decode::<FileClaims>(
        token,
        &DecodingKey::from_secret(config.jwt_secret.expose().as_bytes()),
        &validation,
    )
    .map_err(|_| bad.clone())?;
    if data.claims.file != file_id {
        return Err(bad);
    }
    let id: i64 = data.claims.sub.parse().map_err(|_| bad)?;
    Ok((id != 0).then_some((id, data.claims.ver)))
}

/// Viewers already loaded by this server, by user id.
///
/// - Everywhere, an entry is reused while the user's `auth_stamp` is unchanged: the database
///   raises the stamp whenever the user's roles, registrations or worker grids change. The
///   user's row is read on each request (one statement) to compare it.
/// - On PostgreSQL, once this server LISTENs on `lianxin_users` (a trigger announces every
///   change of a user's row, with its id, at commit), an entry is reused without reading the
///   row: the announcement removes it. A mutation run here has every entry checked against
///   its row again (before its response is sent), so that the caller's next request never
///   sees the state from before it, even if the announcement has not arrived yet. While the
///   listener is not connected, every request reads the row.
pub struct ViewerCache {
    inner: std::sync::Mutex<Entries>,
    /// Tokens this server has verified, with what they say (see [`ViewerCache::verify`]).
    tokens: crate::core::cache::Bounded<Box<str>, Verified>,
    /// Whether the listener is connected, so that entries may be used without a read.
    trusted: std::sync::atomic::AtomicBool,
    /// The last `sync N` announcement the listener has heard (see [`ViewerCache::settle`]).
    synced: tokio::sync::watch::Sender<u64>,
    syncs: std::sync::atomic::AtomicU64,
}

struct Entries {
    /// Each viewer with the epoch it was read at.
    map: lru::LruCache<i64, (Arc<AuthUser>, u64)>,
    /// Raised by every change heard of (an announcement, a mutation run here, the listener
    /// connecting or lost).
    epoch: u64,
    /// Entries read before this epoch (something changed since) are used only after their
    /// row is read again and its stamp compared.
    checked_from: u64,
}

impl Default for ViewerCache {
    fn default() -> Self {
        Self {
            inner: std::sync::Mutex::new(Entries {
                map: lru::LruCache::new(
                    std::num::NonZeroUsize::new(VIEWER_CACHE_SIZE)
                        .unwrap_or(std::num::NonZeroUsize::MIN),
                ),
                epoch: 0,
                checked_from: 0,
            }),
            tokens: crate::core::cache::Bounded::new(TOKEN_CACHE_SIZE),
            trusted: Default::default(),
            synced: Default::default(),
            syncs: Default::default(),
        }
    }
}

/// A verified token: its user, token version and expiry (seconds since the epoch).
#[derive(Clone, Copy)]
struct Verified {
    user_id: i64,
    version: i64,
    expires: i64,
}

/// Verified tokens kept at most (the least recently used leave first).
const TOKEN_CACHE_SIZE: usize = 10_000;

/// The channel the `users_notify` trigger announces changed users on.
pub const USERS_CHANNEL: &str = "lianxin_users";

/// Entries kept at most (the least recently used leave first).
const VIEWER_CACHE_SIZE: usize = 10_000;

impl ViewerCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// [`verify_token`], remembered: a token whose signature and claims were checked once is
    /// the same bytes the next time, so it is only checked for expiry until it expires (then
    /// it is verified again, with the usual leeway). What the token's user may do is still
    /// decided by their row ([`ViewerCache::viewer`]: active flag, token version).
    pub fn verify(&self, config: &Config, token: &str) -> AppResult<(i64, i64)> {
        self.verify_until(config, token)
            .map(|(user_id, version, _)| (user_id, version))
    }

    /// [`ViewerCache::verify`], with the token's expiry (seconds since the epoch).
    pub fn verify_until(&self, config: &Config, token: &str) -> AppResult<(i64, i64, i64)> {
        let now = Utc::now().timestamp();
        let known = self.tokens.get(token);
        if let Some(v) = known
            && now < v.expires
        {
            return Ok((v.user_id, v.version, v.expires));
        }
        let (user_id, version, expires) = verify_token_until(config, token)?;
        self.tokens.put(
            token.into(),
            Verified {
                user_id,
                version,
                expires,
            },
        );
        Ok((user_id, version, expires))
    }

    /// Forgets one user (their row changed). A viewer of anyone read before now (perhaps
    /// that user's, from before the change, on its way into the cache) is checked against
    /// its row again before it is used.
    pub fn forget(&self, user_id: i64) {
        let mut entries = self.lock();
        entries.map.pop(&user_id);
        entries.epoch += 1;
        entries.checked_from = entries.epoch;
    }

    /// Forgets every user (the listener connected or lost its connection).
    pub fn forget_all(&self) {
        let mut entries = self.lock();
        entries.map.clear();
        entries.epoch += 1;
        entries.checked_from = entries.epoch;
    }

    /// A mutation ran here: every viewer's next request reads their row again (their roles
    /// and scopes are still reused while the stamp is unchanged).
    pub fn check_all(&self) {
        let mut entries = self.lock();
        entries.epoch += 1;
        entries.checked_from = entries.epoch;
    }

    /// Waits until the listener has heard every change committed before this call
    /// (announcements arrive in commit order, so hearing one sent now is enough); at most 5 s.
    /// Nothing to wait for on SQLite or while the listener is disconnected.
    pub async fn settle(&self, db: &DatabaseConnection) -> AppResult<()> {
        use sea_orm::{ConnectionTrait, DbBackend, Statement};
        if !self.trusted() {
            return Ok(());
        }
        let n = self.syncs.fetch_add(1, std::sync::atomic::Ordering::AcqRel) + 1;
        db.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pg_notify($1, $2)",
            [USERS_CHANNEL.into(), format!("sync {n}").into()],
        ))
        .await?;
        let mut heard = self.synced.subscribe();
        let _ = tokio::time::timeout(
            std::time::Duration::from_secs(5),
            heard.wait_for(|seen| *seen >= n),
        )
        .await;
        Ok(())
    }

    fn trusted(&self) -> bool {
        self.trusted.load(std::sync::atomic::Ordering::Acquire)
    }

    /// Whether viewers are served without reading their row (PostgreSQL, listener connected).
    pub fn listening(&self) -> bool {
        self.trusted()
    }

    /// The viewer for a verified token. An inactive user, or a token issued before the user's
    /// current token version, is `UNAUTHENTICATED`.
    pub async fn viewer(
        &self,
        db: &DatabaseConnection,
        user_id: i64,
        token_version: i64,
    ) -> AppResult<Arc<AuthUser>> {
        let stale = AppError::Unauthenticated(ErrorReason::TokenRevoked);
        let (cached, current, epoch) = {
            let mut entries = self.lock();
            let cached = entries.map.get(&user_id).cloned();
            let current = cached
                .as_ref()
                .is_some_and(|(_, read_at)| *read_at >= entries.checked_from);
            (cached.map(|(v, _)| v), current, entries.epoch)
        };
        // The row has not changed since a current entry was read (its change would have
        // removed it). Anything else (a token newer than the entry, say, from a password
        // changed on another instance whose announcement is on its way) reads the row.
        if current
            && self.trusted()
            && let Some(cached) = &cached
            && cached.user.active
            && cached.user.token_version == token_version
        {
            return Ok(cached.clone());
        }
        let user = user::Entity::find_by_id(user_id)
            .one(db)
            .await?
            .filter(|u| u.active && u.token_version == token_version)
            .ok_or(stale)?;
        let loaded = match cached {
            Some(cached) if cached.user.auth_stamp == user.auth_stamp => {
                if cached.user == user {
                    cached
                } else {
                    Arc::new(AuthUser {
                        user,
                        roles: cached.roles.clone(),
                        grid_communities: cached.grid_communities.clone(),
                        registered_communities: cached.registered_communities.clone(),
                        worker_grids: cached.worker_grids.clone(),
                    })
                }
            }
            _ => Arc::new(scopes_of(db, user).await?),
        };
        // Stored as read at `epoch`: if anything was heard of since, the entry is not current
        // and its row is read again before it is used without a read (its roles and scopes
        // are reused only while the stamp read then is the same).
        self.lock().map.put(user_id, (loaded.clone(), epoch));
        Ok(loaded)
    }

    /// Listens for changed users on PostgreSQL for the life of the server, reconnecting on
    /// failure; entries are used without a read only while it listens.
    pub fn listen_postgres(self: &Arc<Self>, url: String) {
        use std::sync::atomic::Ordering;
        let cache = self.clone();
        tokio::spawn(async move {
            loop {
                let listening = async {
                    let mut listener = sea_orm::sqlx::postgres::PgListener::connect(&url).await?;
                    listener.listen(USERS_CHANNEL).await?;
                    Ok::<_, sea_orm::sqlx::Error>(listener)
                };
                match listening.await {
                    Ok(mut listener) => {
                        // Whatever was read before listening may have changed unheard.
                        cache.forget_all();
                        cache.trusted.store(true, Ordering::Release);
                        // `None` or an error: the connection was lost, and announcements
                        // may have been missed.
                        while let Ok(Some(n)) = listener.try_recv().await {
                            let payload = n.payload();
                            if let Some(sync) = payload.strip_prefix("sync ") {
                                let sync = sync.parse::<u64>().unwrap_or(0);
                                cache.synced.send_modify(|seen| *seen = sync.max(*seen));
                            } else if let Ok(id) = payload.parse::<i64>() {
                                cache.forget(id);
                            } else {
                                cache.forget_all();
                            }
                        }
                        cache.trusted.store(false, Ordering::Release);
                        cache.forget_all();
                        tracing::warn!("the listener of changed users lost its connection");
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "the listener of changed users cannot connect")
                    }
                }
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            }
        });
    }
}

/// The refusal of a user who must change their password first (`extensions.reason`
/// [`MUST_CHANGE_REASON`]): after `resetPassword`, nothing but `me` and `changePassword`.
pub const MUST_CHANGE: AppError = AppError::refused(
    crate::core::error::ErrorCode::Forbidden,
    ErrorReason::PasswordChangeRequired,
    MUST_CHANGE_MESSAGE,
);
pub const MUST_CHANGE_MESSAGE: &str = "密码已被重置，请先修改密码";
pub const MUST_CHANGE_REASON: &str = "PASSWORD_CHANGE_REQUIRED";

/// A user allowed through a door that needs a full login: not held to change their
/// password first.
pub fn admit(user: Arc<AuthUser>) -> AppResult<Arc<AuthUser>> {
    if user.user.must_change_password {
        return Err(MUST_CHANGE);
    }
    Ok(user)
}

/// A logged-in user with their roles and what their scopes cover.
#[derive(Debug)]
pub struct AuthUser {
    pub user: user::Model,
    pub roles: Vec<role_assignment::Model>,
    /// Community of each grid a GRID_WORKER role is scoped to.
    pub grid_communities: HashMap<i64, i64>,
    /// Communities where the user holds an APPROVED member registration.
    pub registered_communities: Vec<i64>,
    /// Grids a GRID_WORKER role covers: its grids and their micro-grids.
    pub worker_grids: Vec<i64>,
}

impl AuthUser {
    pub fn id(&self) -> i64 {
        self.user.id
    }

    pub fn has_role(&self, role: Role) -> bool {
        self.roles.iter().any(|r| r.role == role)
    }

    pub fn is_admin(&self) -> bool {
        self.has_role(Role::Admin)
    }

    /// ADMIN, or COMMUNITY_STAFF of that community.
    pub fn is_staff_of(&self, community_id: i64) -> bool {
        self.is_admin()
            || self
                .roles
                .iter()
                .any(|r| r.role == Role::CommunityStaff && r.community_id == Some(community_id))
    }

    /// Communities this user is staff of (empty for ADMIN, who covers all).
    pub fn staff_communities(&self) -> Vec<i64> {
        self.roles
            .iter()
            .filter(|r| r.role == Role::CommunityStaff)
            .filter_map(|r| r.community_id)
            .collect()
    }

    /// GRID_WORKER of the grid or of its parent grid (for a micro-grid).
    pub fn is_worker_of(&self, grid: &grid::Model) -> bool {
        self.worker_of_grid(grid.id)
    }

    /// GRID_WORKER of the grid (by id) or of its parent grid.
    pub fn worker_of_grid(&self, grid_id: i64) -> bool {
        self.worker_grids.contains(&grid_id)
    }

    /// GRID_WORKER of any grid of that community.
    pub fn is_worker_in(&self, community_id: i64) -> bool {
        self.roles.iter().any(|r| {
            r.role == Role::GridWorker
                && r.grid_id.and_then(|g| self.grid_communities.get(&g)) == Some(&community_id)
        })
    }

    /// UNIT_REP of that organisation.
    pub fn is_rep_of(&self, organization_id: i64) -> bool {
        self.roles
            .iter()
            .any(|r| r.role == Role::UnitRep && r.organization_id == Some(organization_id))
    }

    /// Whether the user belongs to a community: ADMIN, any role scoped to it or to one of its
    /// grids, or an approved member registration there.
    pub fn belongs_to(&self, community_id: i64) -> bool {
        self.is_admin()
            || self.roles.iter().any(|r| {
                r.community_id == Some(community_id)
                    || r.grid_id
                        .and_then(|g| self.grid_communities.get(&g))
                        .is_some_and(|c| *c == community_id)
            })
            || self.registered_communities.contains(&community_id)
    }
}

/// Who is asking: nobody, or a logged-in user.
#[derive(Clone, Debug)]
pub enum Viewer {
    Anonymous,
    User(Arc<AuthUser>),
}

impl Viewer {
    /// The logged-in user, or `UNAUTHENTICATED`.
    pub fn require(&self) -> AppResult<&AuthUser> {
        match self {
            Viewer::User(u) => Ok(u),
            Viewer::Anonymous => Err(AppError::unauthenticated()),
        }
    }

    pub fn user(&self) -> Option<&AuthUser> {
        match self {
            Viewer::User(u) => Some(u),
            Viewer::Anonymous => None,
        }
    }
}

/// Loads a user with roles and scopes; inactive or missing users are `UNAUTHENTICATED`.
pub async fn load_auth_user(db: &DatabaseConnection, user_id: i64) -> AppResult<AuthUser> {
    let user = user::Entity::find_by_id(user_id)
        .one(db)
        .await?
        .filter(|u| u.active)
        .ok_or(AppError::Unauthenticated(ErrorReason::TokenRevoked))?;
    scopes_of(db, user).await
}

/// Loads any user (active or not) with roles and scopes: the target of an account change.
pub async fn load_account(db: &DatabaseConnection, user_id: i64) -> AppResult<AuthUser> {
    let user = user::Entity::find_by_id(user_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound("用户不存在"))?;
    scopes_of(db, user).await
}

/// A user's roles and what their scopes cover (three statements).
async fn scopes_of(db: &DatabaseConnection, user: user::Model) -> AppResult<AuthUser> {
    let user_id = user.id;
    let roles = role_assignment::Entity::find()
        .filter(role_assignment::Column::UserId.eq(user_id))
        .all(db)
        .await?;
    let grid_ids: Vec<i64> = roles.iter().filter_map(|r| r.grid_id).collect();
    // The role grids and the micro-grids inside them, in one statement.
    let grids = if grid_ids.is_empty() {
        Vec::new()
    } else {
        grid::Entity::find()
            .filter(
                sea_orm::Condition::any()
                    .add(grid::Column::Id.is_in(grid_ids.clone()))
                    .add(grid::Column::ParentId.is_in(grid_ids.clone())),
            )
            .all(db)
            .await?
    };
    let worker_roots: Vec<i64> = roles
        .iter()
        .filter(|r| r.role == Role::GridWorker)
        .filter_map(|r| r.grid_id)
        .collect();
    let worker_grids: Vec<i64> = grids
        .iter()
        .filter(|g| {
            worker_roots.contains(&g.id) || g.parent_id.is_some_and(|p| worker_roots.contains(&p))
        })
        .map(|g| g.id)
        .collect();
    let grid_communities: HashMap<i64, i64> =
        grids.iter().map(|g| (g.id, g.community_id)).collect();
    let registered_communities: Vec<i64> = grid_registration::Entity::find()
        .select_only()
        .column(grid_registration::Column::CommunityId)
        .filter(grid_registration::Column::MemberId.eq(user_id))
        .filter(grid_registration::Column::Status.eq(RegistrationStatus::Approved))
        .into_tuple()
        .all(db)
        .await?;
    Ok(AuthUser {
        user,
        roles,
        grid_communities,
        registered_communities,
        worker_grids,
    })
}

/// The token secret of a `--demo` server started without one: generated at random on the
/// first start and kept in the database (`server_setting`), so that tokens survive a
/// restart and every instance on the database shares it. Never a constant of the source.
pub async fn demo_secret(db: &DatabaseConnection) -> AppResult<String> {
    use argon2::password_hash::rand_core::RngCore;
    use sea_orm::{ConnectionTrait, DbBackend, Statement};
    let mut bytes = [0u8; 48];
    OsRng.fill_bytes(&mut bytes);
    let fresh: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let backend = db.get_database_backend();
    let (insert, select) = match backend {
        DbBackend::Postgres => (
            "INSERT INTO server_setting (name, value, created_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING",
            "SELECT value FROM server_setting WHERE name = $1",
        ),
        _ => (
            "INSERT INTO server_setting (name, value, created_at) VALUES (?1, ?2, ?3) ON CONFLICT (name) DO NOTHING",
            "SELECT value FROM server_setting WHERE name = ?1",
        ),
    };
    const NAME: &str = "demo_jwt_secret";
    db.execute_raw(Statement::from_sql_and_values(
        backend,
        insert,
        [NAME.into(), fresh.into(), Utc::now().into()],
    ))
    .await?;
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            backend,
            select,
            [NAME.into()],
        ))
        .await?
        .ok_or_else(|| AppError::internal("demo secret missing after insert"))?;
    Ok(row.try_get_by_index::<String>(0)?)
}
