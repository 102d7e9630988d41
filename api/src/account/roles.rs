//! Roles granted and revoked with their scope and dates, kept as history (`role_grants`).
//! The roles in force — what every rule reads — are `role_assignments`, each pointing at
//! its grant: a grant is put in force on its first day and taken out after its last day or
//! when revoked ([`apply_due`], run at start and every minute, and at once by a grant or a
//! revocation that takes effect today).

use chrono::NaiveDate;
use entity::{
    community, grid, organization, role_assignment, role_assignment::Role, role_grant, user,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    DatabaseTransaction, DbBackend, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Statement, sea_query::Expr,
};

use crate::account::policy;
use crate::auth::{self, AuthUser};
use crate::core::db;
use crate::core::db::get;
use crate::core::error::ErrorReason;
use crate::core::error::{AppError, AppResult};
use crate::core::validate;

/// A role with its scope, as asked for by a client.
#[derive(Clone, Debug)]
pub struct RoleGrant {
    pub role: Role,
    pub community_id: Option<i64>,
    pub grid_id: Option<i64>,
    pub organization_id: Option<i64>,
}

/// Checks the shape of a role's scope and that the actor may grant it; returns the grant
/// completed with the community it falls in.
pub(crate) async fn check_grant(
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

/// A role to grant to a person, from one day (today when absent) until another (open when
/// absent, inclusive).
pub struct Grant {
    pub user_id: i64,
    pub scope: RoleGrant,
    pub from: Option<NaiveDate>,
    pub until: Option<NaiveDate>,
}

/// Grants a role (ADMIN; COMMUNITY_STAFF within their community, to people of it, never
/// ADMIN). A grant overlapping an unrevoked grant of the same role and scope is a CONFLICT.
/// A grant from today is in force at once.
pub async fn grant_role(
    db: &DatabaseConnection,
    events: &crate::core::bus::Bus,
    actor: &AuthUser,
    input: Grant,
    today: NaiveDate,
) -> AppResult<role_grant::Model> {
    let from = input.from.unwrap_or(today);
    if from < today {
        return Err(AppError::bad_field("from", "开始日期不能早于今天"));
    }
    if input.until.is_some_and(|u| u < from) {
        return Err(AppError::bad_field("until", "结束日期不能早于开始日期"));
    }
    let target = auth::load_account(db, input.user_id).await?;
    if !policy::may_manage_account(actor, &target) {
        return Err(AppError::forbidden());
    }
    let scope = check_grant(db, actor, &input.scope).await?;
    let txn = db::begin_write(db).await?;
    if lock_user(&txn, input.user_id).await?.erased_at.is_some() {
        return Err(AppError::invalid_state(
            ErrorReason::AccountErased,
            "该账号的个人信息已删除",
        ));
    }
    let same = role_grant::Entity::find()
        .filter(role_grant::Column::UserId.eq(input.user_id))
        .filter(role_grant::Column::Role.eq(scope.role))
        .filter(role_grant::Column::RevokedAt.is_null())
        .all(&txn)
        .await?;
    let overlaps = same.iter().any(|g| {
        g.community_id == scope.community_id
            && g.grid_id == scope.grid_id
            && g.organization_id == scope.organization_id
            && g.valid_until.is_none_or(|u| u >= from)
            && input.until.is_none_or(|u| u >= g.valid_from)
    });
    if overlaps {
        return Err(AppError::conflict(
            ErrorReason::RoleAlreadyGranted,
            "该角色在这段时间内已授予",
        ));
    }
    let grant = record_grant(
        &txn,
        input.user_id,
        &scope,
        from,
        input.until,
        Some(actor.id()),
        today,
    )
    .await?;
    let (to, message) = super::notices::role_granted(&grant);
    let told = crate::notify::outbox::enqueue(&txn, to, &message).await?;
    txn.commit().await?;
    crate::notify::outbox::announce(db, events, told).await;
    Ok(grant)
}

/// Revokes a grant (same rights as granting it): out of force at once, kept in the history
/// with who, when and why. A grant already revoked or ended is INVALID_STATE; the last active
/// ADMIN's ADMIN role cannot be revoked.
pub async fn revoke_role(
    db: &DatabaseConnection,
    events: &crate::core::bus::Bus,
    actor: &AuthUser,
    grant_id: i64,
    reason: &str,
    today: NaiveDate,
) -> AppResult<role_grant::Model> {
    let reason = validate::text("reason", reason, 200)?;
    let grant = db::get::<role_grant::Entity, _>(db, grant_id, "角色授予记录不存在").await?;
    let target = auth::load_account(db, grant.user_id).await?;
    if !policy::may_manage_account(actor, &target) {
        return Err(AppError::forbidden());
    }
    check_grant(db, actor, &scope_of(&grant)).await?;
    if grant.revoked_at.is_some() {
        return Err(AppError::invalid_state(
            ErrorReason::RoleAlreadyRevoked,
            "该角色已被撤销",
        ));
    }
    if grant.valid_until.is_some_and(|u| u < today) {
        return Err(AppError::invalid_state(
            ErrorReason::RoleExpired,
            "该角色已到期",
        ));
    }
    let txn = db::begin_write(db).await?;
    if grant.role == Role::Admin
        && target.user.active
        && grant.in_force_on(today)
        && !other_active_admin(&txn, grant.user_id).await?
    {
        return Err(AppError::invalid_state(
            ErrorReason::LastAdmin,
            "不能撤销最后一位管理员的角色",
        ));
    }
    let done = role_grant::Entity::update_many()
        .col_expr(
            role_grant::Column::RevokedAt,
            Expr::value(crate::core::clock::now()),
        )
        .col_expr(role_grant::Column::RevokedBy, Expr::value(actor.id()))
        .col_expr(role_grant::Column::RevokeReason, Expr::value(reason))
        .filter(role_grant::Column::Id.eq(grant_id))
        .filter(role_grant::Column::RevokedAt.is_null())
        .exec(&txn)
        .await?;
    if done.rows_affected != 1 {
        return Err(AppError::conflict(
            ErrorReason::RoleAlreadyRevoked,
            "该角色已被他人撤销",
        ));
    }
    role_assignment::Entity::delete_many()
        .filter(role_assignment::Column::GrantId.eq(grant_id))
        .exec(&txn)
        .await?;
    let (to, message) = super::notices::role_revoked(&grant);
    let told = crate::notify::outbox::enqueue(&txn, to, &message).await?;
    txn.commit().await?;
    crate::notify::outbox::announce(db, events, told).await;
    db::get::<role_grant::Entity, _>(db, grant_id, "角色授予记录不存在").await
}

/// Whether an active ADMIN other than `user_id` holds the role in force. The ADMINs' rows
/// are locked in id order first on PostgreSQL (SQLite's write lock serialises already) and
/// the answer is read after the lock, so that two ADMINs removing each other at once —
/// by deactivation or revocation, in any mix — cannot leave none.
pub async fn other_active_admin(txn: &DatabaseTransaction, user_id: i64) -> AppResult<bool> {
    let holds_admin = || {
        user::Column::Id.in_subquery(
            sea_orm::sea_query::Query::select()
                .column(role_assignment::Column::UserId)
                .from(role_assignment::Entity)
                .and_where(role_assignment::Column::Role.eq(Role::Admin))
                .to_owned(),
        )
    };
    if txn.get_database_backend() == DbBackend::Postgres {
        user::Entity::find()
            .filter(holds_admin())
            .order_by_asc(user::Column::Id)
            .lock_exclusive()
            .all(txn)
            .await?;
    }
    let others = user::Entity::find()
        .filter(holds_admin())
        .filter(user::Column::Active.eq(true))
        .filter(user::Column::Id.ne(user_id))
        .count(txn)
        .await?;
    Ok(others > 0)
}

/// Serialises role changes of one person (PostgreSQL; SQLite's write lock does already).
/// Reads the person's row under lock (on PostgreSQL; SQLite write transactions are
/// serial), so that a change racing an erasure sees it.
async fn lock_user(txn: &DatabaseTransaction, user_id: i64) -> AppResult<user::Model> {
    let mut q = user::Entity::find_by_id(user_id);
    if txn.get_database_backend() == DbBackend::Postgres {
        q = q.lock_exclusive();
    }
    q.one(txn).await?.ok_or(AppError::NotFound("用户不存在"))
}

fn scope_of(g: &role_grant::Model) -> RoleGrant {
    RoleGrant {
        role: g.role,
        community_id: g.community_id,
        grid_id: g.grid_id,
        organization_id: g.organization_id,
    }
}

/// Records a grant made by `by` (none for the system) and puts it in force when `today`
/// falls in its dates. The rights are the caller's to check. Used by `grantRole`,
/// `createUser`, imports and grid posts, so that every role has its history.
pub async fn record_grant(
    txn: &DatabaseTransaction,
    user_id: i64,
    scope: &RoleGrant,
    from: NaiveDate,
    until: Option<NaiveDate>,
    by: Option<i64>,
    today: NaiveDate,
) -> AppResult<role_grant::Model> {
    let grant = role_grant::ActiveModel {
        user_id: Set(user_id),
        role: Set(scope.role),
        community_id: Set(scope.community_id),
        grid_id: Set(scope.grid_id),
        organization_id: Set(scope.organization_id),
        valid_from: Set(from),
        valid_until: Set(until),
        granted_by: Set(by),
        granted_at: Set(crate::core::clock::now()),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    if grant.in_force_on(today) {
        put_in_force(txn, &grant).await?;
    }
    Ok(grant)
}

/// Revokes, by `by` for `reason`, every unrevoked grant of a person's role in a grid (a
/// grid post that ends), and takes the role out of force.
pub async fn revoke_grid_role(
    txn: &DatabaseTransaction,
    user_id: i64,
    role: Role,
    grid_id: i64,
    by: i64,
    reason: &str,
) -> AppResult<()> {
    role_grant::Entity::update_many()
        .col_expr(
            role_grant::Column::RevokedAt,
            Expr::value(crate::core::clock::now()),
        )
        .col_expr(role_grant::Column::RevokedBy, Expr::value(by))
        .col_expr(role_grant::Column::RevokeReason, Expr::value(reason))
        .filter(role_grant::Column::UserId.eq(user_id))
        .filter(role_grant::Column::Role.eq(role))
        .filter(role_grant::Column::GridId.eq(grid_id))
        .filter(role_grant::Column::RevokedAt.is_null())
        .exec(txn)
        .await?;
    role_assignment::Entity::delete_many()
        .filter(role_assignment::Column::UserId.eq(user_id))
        .filter(role_assignment::Column::Role.eq(role))
        .filter(role_assignment::Column::GridId.eq(grid_id))
        .exec(txn)
        .await?;
    Ok(())
}

/// Puts a grant in force (its row in `role_assignments`). The same role and scope already
/// in force is a CONFLICT.
async fn put_in_force(txn: &DatabaseTransaction, g: &role_grant::Model) -> AppResult<()> {
    role_assignment::ActiveModel {
        user_id: Set(g.user_id),
        role: Set(g.role),
        community_id: Set(g.community_id),
        grid_id: Set(g.grid_id),
        organization_id: Set(g.organization_id),
        created_at: Set(crate::core::clock::now()),
        grant_id: Set(Some(g.id)),
        ..Default::default()
    }
    .insert(txn)
    .await
    .map_err(|e| AppError::on_unique(e, ErrorReason::RoleAlreadyGranted, "该角色已在生效"))?;
    Ok(())
}

/// What [`apply_due`] changed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Applied {
    pub put_in_force: u64,
    pub taken_out: u64,
}

/// Brings the roles in force in line with the grants on `today`: grants whose first day has
/// come are put in force, grants past their last day (or revoked) are taken out. Idempotent;
/// several instances may run it at once. The last active ADMIN's role is never taken out
/// (the database refuses; the grant stays in force and a warning is logged).
pub async fn apply_due(db: &DatabaseConnection, today: NaiveDate) -> AppResult<Applied> {
    let backend = db.get_database_backend();
    let p = |n: u8| match backend {
        DbBackend::Postgres => format!("${n}"),
        _ => format!("?{n}"),
    };
    let insert = format!(
        "INSERT INTO role_assignments (user_id, role, community_id, grid_id, organization_id, created_at, grant_id) \
         SELECT g.user_id, g.role, g.community_id, g.grid_id, g.organization_id, {now}, g.id FROM role_grants g \
         WHERE g.revoked_at IS NULL AND g.valid_from <= {today} AND (g.valid_until IS NULL OR g.valid_until >= {today}) \
         AND NOT EXISTS (SELECT 1 FROM role_assignments a WHERE a.grant_id = g.id) \
         ON CONFLICT DO NOTHING",
        now = p(1),
        today = p(2),
    );
    let put = db
        .execute_raw(Statement::from_sql_and_values(
            backend,
            insert,
            [crate::core::clock::now().into(), today.into()],
        ))
        .await?
        .rows_affected();
    let ended: Vec<i64> = role_assignment::Entity::find()
        .select_only()
        .column(role_assignment::Column::Id)
        .filter(
            role_assignment::Column::GrantId.in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(role_grant::Column::Id)
                    .from(role_grant::Entity)
                    .cond_where(
                        sea_orm::Condition::any()
                            .add(role_grant::Column::RevokedAt.is_not_null())
                            .add(role_grant::Column::ValidUntil.lt(today)),
                    )
                    .to_owned(),
            ),
        )
        .into_tuple()
        .all(db)
        .await?;
    let mut taken = 0;
    for id in ended {
        match role_assignment::Entity::delete_by_id(id).exec(db).await {
            Ok(r) => taken += r.rows_affected,
            Err(e) => {
                tracing::warn!(error = %e, assignment = id, "a role past its grant stays in force")
            }
        }
    }
    Ok(Applied {
        put_in_force: put,
        taken_out: taken,
    })
}

/// Runs [`apply_due`] now and then every minute, for the life of the server.
pub fn spawn_job(db: DatabaseConnection) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
        loop {
            tick.tick().await;
            if let Err(e) = apply_due(&db, validate::today()).await {
                tracing::warn!(error = %e.message(), "roles not brought in line with their grants");
            }
        }
    });
}
