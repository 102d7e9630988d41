//! Passbooks and the immutable ledger: every movement of points goes through `post`, with
//! idempotency keys for retries.

use chrono::Utc;
use entity::{
    grid, idempotency_key, ledger_entry,
    ledger_entry::{EntryKind, EntrySource},
    passbook,
    passbook::PassbookStatus,
};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DatabaseTransaction, EntityTrait,
    QueryFilter, TransactionTrait,
    sea_query::{Expr, ExprTrait},
};

use crate::auth;
use crate::auth::AuthUser;
use crate::core::db::get;
use crate::core::error::AppError;
use crate::core::error::AppResult;
use crate::core::error::ErrorReason;
use crate::core::validate;

#[allow(unused_imports)]
use super::*;

/// One movement of points.
pub struct Posting {
    pub passbook_id: i64,
    pub amount: i64,
    pub kind: EntryKind,
    pub source: EntrySource,
    pub source_id: Option<i64>,
    pub memo: String,
    pub operator_id: Option<i64>,
    pub reverses: Option<i64>,
    /// When it happened, for history written afterwards (default now).
    pub at: Option<chrono::DateTime<Utc>>,
}

/// Moves points and writes the ledger entry, in the caller's transaction. Refuses to take a
/// balance below zero (`BAD_USER_INPUT`) or to move a frozen passbook (`INVALID_STATE`).
pub async fn post<C: ConnectionTrait>(txn: &C, p: Posting) -> AppResult<ledger_entry::Model> {
    let book = passbook::Column::Id.eq(p.passbook_id);
    post_where(txn, book, p).await
}

/// [`post`] to the passbook of `holder` in `community` (their only one), without knowing its
/// id beforehand; `p.passbook_id` is ignored.
pub async fn post_to_holder<C: ConnectionTrait>(
    txn: &C,
    holder: i64,
    community: i64,
    p: Posting,
) -> AppResult<ledger_entry::Model> {
    let book = Condition::all()
        .add(passbook::Column::HolderId.eq(holder))
        .add(passbook::Column::CommunityId.eq(community));
    post_where(txn, book, p).await
}

/// Moves the points of the passbook that `book` selects (one update, returning the new
/// balance) and writes the ledger entry (one insert): two statements.
async fn post_where<C: ConnectionTrait>(
    txn: &C,
    book: impl sea_orm::sea_query::IntoCondition,
    p: Posting,
) -> AppResult<ledger_entry::Model> {
    let book = book.into_condition();
    let updated = passbook::Entity::update_many()
        .col_expr(
            passbook::Column::Balance,
            Expr::col(passbook::Column::Balance).add(p.amount),
        )
        .filter(book.clone())
        .filter(passbook::Column::Status.eq(PassbookStatus::Active))
        .filter(Expr::col(passbook::Column::Balance).add(p.amount).gte(0))
        .exec_with_returning(txn)
        .await?
        .pop();
    let Some(book) = updated else {
        // Only a refused movement reads the passbook, to say why.
        let current = passbook::Entity::find()
            .filter(book)
            .one(txn)
            .await?
            .ok_or(AppError::NotFound("道德存折不存在"))?;
        return Err(if current.status == PassbookStatus::Frozen {
            AppError::invalid_state(ErrorReason::PassbookFrozen, "道德存折已冻结")
        } else {
            AppError::bad_field("quantity", "积分余额不足")
        });
    };
    ledger_entry::ActiveModel {
        passbook_id: Set(book.id),
        amount: Set(p.amount),
        kind: Set(p.kind),
        source: Set(p.source),
        source_id: Set(p.source_id),
        memo: Set(p.memo),
        operator_id: Set(p.operator_id),
        balance_after: Set(book.balance),
        reverses_entry_id: Set(p.reverses),
        created_at: Set(p.at.unwrap_or_else(crate::core::clock::now)),
        ..Default::default()
    }
    .insert(txn)
    .await
    .map_err(|e| AppError::on_unique(e, ErrorReason::PointsAlreadyDeposited, "该笔积分已处理"))
}

/// The passbook number: community and holder, e.g. `DD-0001-00000042`.
pub(crate) fn passbook_number(community_id: i64, holder_id: i64) -> String {
    format!("DD-{community_id:04}-{holder_id:08}")
}

/// Opens a passbook in the caller's transaction (no checks).
pub async fn open_in<C: ConnectionTrait>(
    txn: &C,
    holder_id: i64,
    community_id: i64,
    grid_id: Option<i64>,
) -> AppResult<passbook::Model> {
    passbook::ActiveModel {
        holder_id: Set(holder_id),
        community_id: Set(community_id),
        grid_id: Set(grid_id),
        number: Set(passbook_number(community_id, holder_id)),
        opened_on: Set(validate::today()),
        status: Set(PassbookStatus::Active),
        balance: Set(0),
        created_at: Set(crate::core::clock::now()),
        ..Default::default()
    }
    .insert(txn)
    .await
    .map_err(|e| AppError::on_unique(e, ErrorReason::PassbookExists, "该用户已开通道德存折"))
}

/// The holder's passbook, opened if missing (for deposits such as a confirmed wish).
pub async fn ensure_passbook<C: ConnectionTrait>(
    txn: &C,
    holder_id: i64,
    community_id: i64,
    grid_id: Option<i64>,
) -> AppResult<passbook::Model> {
    if let Some(b) = passbook_of(txn, holder_id).await? {
        return Ok(b);
    }
    open_in(txn, holder_id, community_id, grid_id).await
}

pub async fn passbook_of<C: ConnectionTrait>(
    db: &C,
    holder_id: i64,
) -> AppResult<Option<passbook::Model>> {
    Ok(passbook::Entity::find()
        .filter(passbook::Column::HolderId.eq(holder_id))
        .one(db)
        .await?)
}

/// Staff open a passbook for a person of their community; a person has at most one.
pub async fn open_passbook(
    db: &DatabaseConnection,
    actor: &AuthUser,
    holder_id: i64,
    community_id: i64,
    grid_id: Option<i64>,
) -> AppResult<passbook::Model> {
    if !actor.is_staff_of(community_id) {
        return Err(AppError::forbidden());
    }
    let holder = auth::load_auth_user(db, holder_id)
        .await
        .map_err(|_| AppError::NotFound("用户不存在"))?;
    if !holder.belongs_to(community_id) {
        return Err(AppError::bad_field("holderId", "该用户不属于本社区"));
    }
    if let Some(g) = grid_id {
        let grid = get::<grid::Entity, _>(db, g, "网格不存在").await?;
        if grid.community_id != community_id {
            return Err(AppError::bad_field("gridId", "网格不在该社区"));
        }
    }
    if passbook_of(db, holder_id).await?.is_some() {
        return Err(AppError::conflict(
            ErrorReason::PassbookExists,
            "该用户已开通道德存折",
        ));
    }
    open_in(db, holder_id, community_id, grid_id).await
}

// ---- idempotency ----------------------------------------------------------------------

/// How a point-moving request with an idempotency key begins.
pub enum Idem {
    /// No key was given.
    None,
    /// First time: the key row to complete with the result.
    Fresh(i64),
    /// Seen before with the same input: the first result.
    Replay(i64),
}

/// Records `key` for `user` and `request` in the transaction, or finds the first result.
/// The same key with other input is `CONFLICT`. Concurrent first uses are decided by the
/// unique (user, key) index inside a savepoint.
pub async fn idem_start(
    txn: &DatabaseTransaction,
    user_id: i64,
    key: Option<&str>,
    request: &str,
) -> AppResult<Idem> {
    let Some(key) = key else {
        return Ok(Idem::None);
    };
    let key = validate::text("idempotencyKey", key, 100)?;
    if let Some(found) = find_key(txn, user_id, &key).await? {
        return replay(found, request);
    }
    let savepoint = txn.begin().await?;
    let inserted = idempotency_key::ActiveModel {
        user_id: Set(user_id),
        key: Set(key.clone()),
        request: Set(request.to_owned()),
        result_id: Set(None),
        created_at: Set(crate::core::clock::now()),
        ..Default::default()
    }
    .insert(&savepoint)
    .await;
    match inserted {
        Ok(row) => {
            savepoint.commit().await?;
            Ok(Idem::Fresh(row.id))
        }
        Err(e) if AppError::is_unique_violation(&e) => {
            savepoint.rollback().await?;
            let found = find_key(txn, user_id, &key).await?.ok_or_else(|| {
                AppError::conflict(ErrorReason::RequestInProgress, "请求正在处理，请稍后重试")
            })?;
            replay(found, request)
        }
        Err(e) => Err(e.into()),
    }
}

pub(crate) async fn find_key<C: ConnectionTrait>(
    db: &C,
    user_id: i64,
    key: &str,
) -> AppResult<Option<idempotency_key::Model>> {
    Ok(idempotency_key::Entity::find()
        .filter(idempotency_key::Column::UserId.eq(user_id))
        .filter(idempotency_key::Column::Key.eq(key))
        .one(db)
        .await?)
}

pub(crate) fn replay(found: idempotency_key::Model, request: &str) -> AppResult<Idem> {
    if found.request != request {
        return Err(AppError::conflict(
            ErrorReason::IdempotencyKeyReused,
            "该幂等键已用于其他请求",
        ));
    }
    found.result_id.map(Idem::Replay).ok_or_else(|| {
        AppError::conflict(ErrorReason::RequestInProgress, "请求正在处理，请稍后重试")
    })
}

/// Completes a fresh key with the result id.
pub async fn idem_finish(txn: &DatabaseTransaction, idem: &Idem, result_id: i64) -> AppResult<()> {
    if let Idem::Fresh(row) = idem {
        idempotency_key::Entity::update_many()
            .col_expr(idempotency_key::Column::ResultId, Expr::value(result_id))
            .filter(idempotency_key::Column::Id.eq(*row))
            .exec(txn)
            .await?;
    }
    Ok(())
}
