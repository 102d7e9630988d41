//! The moral bank (道德银行): passbooks, an immutable ledger, good deeds, rewards and
//! redemptions, reversals, rankings. Every movement of points goes through [`post`], which
//! moves the balance with a conditional update (never below zero) and writes the entry with
//! its `balance_after` in the caller's transaction.

use chrono::{NaiveDate, Utc};
use entity::{
    good_deed,
    good_deed::DeedStatus,
    good_deed_category, grid, idempotency_key, ledger_entry,
    ledger_entry::{EntryKind, EntrySource},
    passbook,
    passbook::PassbookStatus,
    redemption, reward, user,
};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, EntityTrait,
    PaginatorTrait, QueryFilter, TransactionTrait,
    sea_query::{Alias, Expr, ExprTrait, Order, Query},
};

use crate::auth;
use crate::auth::AuthUser;
use crate::core::db;
use crate::core::db::get;
use crate::core::error::AppError;
use crate::core::error::AppResult;
use crate::core::validate;

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
    let res = passbook::Entity::update_many()
        .col_expr(
            passbook::Column::Balance,
            Expr::col(passbook::Column::Balance).add(p.amount),
        )
        .filter(passbook::Column::Id.eq(p.passbook_id))
        .filter(passbook::Column::Status.eq(PassbookStatus::Active))
        .filter(Expr::col(passbook::Column::Balance).add(p.amount).gte(0))
        .exec(txn)
        .await?;
    let book = get::<passbook::Entity, _>(txn, p.passbook_id, "道德存折不存在").await?;
    if res.rows_affected != 1 {
        return Err(if book.status == PassbookStatus::Frozen {
            AppError::invalid_state("道德存折已冻结")
        } else {
            AppError::bad_field("quantity", "积分余额不足")
        });
    }
    ledger_entry::ActiveModel {
        passbook_id: Set(p.passbook_id),
        amount: Set(p.amount),
        kind: Set(p.kind),
        source: Set(p.source),
        source_id: Set(p.source_id),
        memo: Set(p.memo),
        operator_id: Set(p.operator_id),
        balance_after: Set(book.balance),
        reverses_entry_id: Set(p.reverses),
        created_at: Set(p.at.unwrap_or_else(Utc::now)),
        ..Default::default()
    }
    .insert(txn)
    .await
    .map_err(|e| AppError::on_unique(e, "该笔积分已处理"))
}

/// The passbook number: community and holder, e.g. `DD-0001-00000042`.
fn passbook_number(community_id: i64, holder_id: i64) -> String {
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
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(txn)
    .await
    .map_err(|e| AppError::on_unique(e, "该用户已开通道德存折"))
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
        return Err(AppError::conflict("该用户已开通道德存折"));
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
        created_at: Set(Utc::now()),
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
            let found = find_key(txn, user_id, &key)
                .await?
                .ok_or_else(|| AppError::conflict("请求正在处理，请稍后重试"))?;
            replay(found, request)
        }
        Err(e) => Err(e.into()),
    }
}

async fn find_key<C: ConnectionTrait>(
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

fn replay(found: idempotency_key::Model, request: &str) -> AppResult<Idem> {
    if found.request != request {
        return Err(AppError::conflict("该幂等键已用于其他请求"));
    }
    found
        .result_id
        .map(Idem::Replay)
        .ok_or_else(|| AppError::conflict("请求正在处理，请稍后重试"))
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

// ---- good deeds -----------------------------------------------------------------------

pub struct NewGoodDeed {
    /// The person who did it; `None` for the reporter themself.
    pub holder_id: Option<i64>,
    pub category_id: i64,
    pub description: String,
    pub occurred_on: NaiveDate,
}

/// Reported by the holder, or by a grid worker of the holder's community.
pub async fn report_good_deed(
    db: &DatabaseConnection,
    actor: &AuthUser,
    input: NewGoodDeed,
) -> AppResult<good_deed::Model> {
    let holder_id = input.holder_id.unwrap_or(actor.id());
    let book = passbook_of(db, holder_id)
        .await?
        .ok_or(AppError::NotFound("尚未开通道德存折"))?;
    let for_someone_else = holder_id != actor.id();
    if for_someone_else
        && !actor.is_worker_in(book.community_id)
        && !actor.is_staff_of(book.community_id)
    {
        return Err(AppError::forbidden());
    }
    let category =
        get::<good_deed_category::Entity, _>(db, input.category_id, "好人好事类别不存在").await?;
    if !category.active {
        return Err(AppError::bad_field("categoryId", "该类别已停用"));
    }
    let description = validate::text("description", &input.description, 500)?;
    let today = validate::today();
    if input.occurred_on > today || input.occurred_on < today - chrono::Duration::days(366) {
        return Err(AppError::bad_field(
            "occurredOn",
            "日期须在一年内且不晚于今天",
        ));
    }
    Ok(good_deed::ActiveModel {
        passbook_id: Set(book.id),
        category_id: Set(category.id),
        description: Set(description),
        occurred_on: Set(input.occurred_on),
        reported_by: Set(actor.id()),
        status: Set(DeedStatus::Pending),
        points: Set(None),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await?)
}

pub enum DeedDecision {
    Approve { points: Option<i32> },
    Reject { reason: String },
}

/// Staff of the passbook's community approve (depositing the points once) or reject.
pub async fn review_good_deed(
    db: &DatabaseConnection,
    actor: &AuthUser,
    deed_id: i64,
    decision: DeedDecision,
    key: Option<&str>,
) -> AppResult<good_deed::Model> {
    let deed = get::<good_deed::Entity, _>(db, deed_id, "好人好事记录不存在").await?;
    let book = get::<passbook::Entity, _>(db, deed.passbook_id, "道德存折不存在").await?;
    if !actor.is_staff_of(book.community_id) {
        return Err(AppError::forbidden());
    }
    let request = match &decision {
        DeedDecision::Approve { points } => format!("reviewGoodDeed:{deed_id}:approve:{points:?}"),
        DeedDecision::Reject { reason } => format!("reviewGoodDeed:{deed_id}:reject:{reason}"),
    };
    let txn = db::begin_write(db).await?;
    let idem = idem_start(&txn, actor.id(), key, &request).await?;
    if let Idem::Replay(id) = idem {
        txn.rollback().await?;
        return get::<good_deed::Entity, _>(db, id, "好人好事记录不存在").await;
    }
    let now = Utc::now();
    let update = good_deed::Entity::update_many()
        .col_expr(good_deed::Column::ReviewedBy, Expr::value(actor.id()))
        .col_expr(good_deed::Column::ReviewedAt, Expr::value(now))
        .filter(good_deed::Column::Id.eq(deed.id))
        .filter(good_deed::Column::Status.eq(DeedStatus::Pending));
    match decision {
        DeedDecision::Approve { points } => {
            let category =
                get::<good_deed_category::Entity, _>(&txn, deed.category_id, "类别不存在").await?;
            let points = points.unwrap_or(category.points);
            if !(1..=1000).contains(&points) {
                return Err(AppError::bad_field("points", "积分须在 1 到 1000 之间"));
            }
            let res = update
                .col_expr(good_deed::Column::Status, Expr::value(DeedStatus::Approved))
                .col_expr(good_deed::Column::Points, Expr::value(points))
                .exec(&txn)
                .await?;
            if res.rows_affected != 1 {
                return Err(AppError::invalid_state("只能审核待审核的记录"));
            }
            post(
                &txn,
                Posting {
                    passbook_id: book.id,
                    amount: i64::from(points),
                    kind: EntryKind::Earn,
                    source: EntrySource::GoodDeed,
                    source_id: Some(deed.id),
                    memo: format!("好人好事：{}", category.name),
                    operator_id: Some(actor.id()),
                    reverses: None,
                    at: None,
                },
            )
            .await?;
        }
        DeedDecision::Reject { reason } => {
            let reason = validate::text("reason", &reason, 200)?;
            let res = update
                .col_expr(good_deed::Column::Status, Expr::value(DeedStatus::Rejected))
                .col_expr(good_deed::Column::ReviewReason, Expr::value(reason))
                .exec(&txn)
                .await?;
            if res.rows_affected != 1 {
                return Err(AppError::invalid_state("只能审核待审核的记录"));
            }
        }
    }
    idem_finish(&txn, &idem, deed.id).await?;
    txn.commit().await?;
    get::<good_deed::Entity, _>(db, deed.id, "好人好事记录不存在").await
}

// ---- rewards and redemptions ----------------------------------------------------------

pub struct NewReward {
    pub community_id: i64,
    pub name: String,
    pub description: Option<String>,
    pub cost: i32,
    pub stock: i32,
}

pub async fn create_reward(
    db: &DatabaseConnection,
    actor: &AuthUser,
    input: NewReward,
) -> AppResult<reward::Model> {
    if !actor.is_staff_of(input.community_id) {
        return Err(AppError::forbidden());
    }
    get::<entity::community::Entity, _>(db, input.community_id, "社区不存在").await?;
    let name = validate::text("name", &input.name, 50)?;
    let description = validate::opt_text("description", input.description.as_deref(), 500)?;
    if !(1..=100_000).contains(&input.cost) {
        return Err(AppError::bad_field("cost", "所需积分须在 1 到 100000 之间"));
    }
    let stock = validate::count("stock", input.stock, 1_000_000)?;
    reward::ActiveModel {
        community_id: Set(input.community_id),
        name: Set(name),
        description: Set(description),
        cost: Set(input.cost),
        stock: Set(stock),
        active: Set(true),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(|e| AppError::on_unique(e, "本社区已有同名奖品"))
}

/// The holder redeems a reward of their community: stock and balance are checked and the
/// ledger entry written in one transaction.
pub async fn redeem(
    db: &DatabaseConnection,
    actor: &AuthUser,
    reward_id: i64,
    quantity: i32,
    key: Option<&str>,
) -> AppResult<redemption::Model> {
    if !(1..=100).contains(&quantity) {
        return Err(AppError::bad_field("quantity", "数量须在 1 到 100 之间"));
    }
    let item = get::<reward::Entity, _>(db, reward_id, "奖品不存在").await?;
    let book = passbook_of(db, actor.id())
        .await?
        .ok_or(AppError::Forbidden("尚未开通道德存折，不能兑换"))?;
    if item.community_id != book.community_id {
        return Err(AppError::Forbidden("只能兑换本社区的奖品"));
    }
    if !item.active {
        return Err(AppError::invalid_state("该奖品已下架"));
    }
    let request = format!("redeemReward:{reward_id}:{quantity}");
    let txn = db::begin_write(db).await?;
    let idem = idem_start(&txn, actor.id(), key, &request).await?;
    if let Idem::Replay(id) = idem {
        txn.rollback().await?;
        return get::<redemption::Entity, _>(db, id, "兑换记录不存在").await;
    }
    let res = reward::Entity::update_many()
        .col_expr(
            reward::Column::Stock,
            Expr::col(reward::Column::Stock).sub(quantity),
        )
        .filter(reward::Column::Id.eq(item.id))
        .filter(reward::Column::Stock.gte(quantity))
        .exec(&txn)
        .await?;
    if res.rows_affected != 1 {
        return Err(AppError::conflict("库存不足"));
    }
    let points = i64::from(item.cost) * i64::from(quantity);
    let entry = post(
        &txn,
        Posting {
            passbook_id: book.id,
            amount: -points,
            kind: EntryKind::Redeem,
            source: EntrySource::Redemption,
            source_id: None,
            memo: format!("兑换：{} × {quantity}", item.name),
            operator_id: Some(actor.id()),
            reverses: None,
            at: None,
        },
    )
    .await?;
    let row = redemption::ActiveModel {
        reward_id: Set(item.id),
        passbook_id: Set(book.id),
        quantity: Set(quantity),
        points: Set(points),
        ledger_entry_id: Set(entry.id),
        reversed: Set(false),
        created_by: Set(actor.id()),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    idem_finish(&txn, &idem, row.id).await?;
    txn.commit().await?;
    Ok(row)
}

/// Staff correct a mistake with a compensating entry; once per entry. Reversing a
/// redemption also returns its items to stock.
pub async fn reverse_entry(
    db: &DatabaseConnection,
    actor: &AuthUser,
    entry_id: i64,
    reason: &str,
    key: Option<&str>,
) -> AppResult<ledger_entry::Model> {
    let entry = get::<ledger_entry::Entity, _>(db, entry_id, "积分记录不存在").await?;
    let book = get::<passbook::Entity, _>(db, entry.passbook_id, "道德存折不存在").await?;
    if !actor.is_staff_of(book.community_id) {
        return Err(AppError::forbidden());
    }
    let reason = validate::text("reason", reason, 200)?;
    if entry.kind == EntryKind::Reversal {
        return Err(AppError::invalid_state("冲正记录不能再冲正"));
    }
    let request = format!("reverseLedgerEntry:{entry_id}:{reason}");
    let txn = db::begin_write(db).await?;
    let idem = idem_start(&txn, actor.id(), key, &request).await?;
    if let Idem::Replay(id) = idem {
        txn.rollback().await?;
        return get::<ledger_entry::Entity, _>(db, id, "积分记录不存在").await;
    }
    let already = ledger_entry::Entity::find()
        .filter(ledger_entry::Column::ReversesEntryId.eq(entry.id))
        .count(&txn)
        .await?;
    if already > 0 {
        return Err(AppError::conflict("该记录已冲正"));
    }
    let reversal = post(
        &txn,
        Posting {
            passbook_id: book.id,
            amount: -entry.amount,
            kind: EntryKind::Reversal,
            source: entry.source,
            source_id: entry.source_id,
            memo: format!("冲正：{reason}"),
            operator_id: Some(actor.id()),
            reverses: Some(entry.id),
            at: None,
        },
    )
    .await
    .map_err(|e| match e {
        AppError::BadInput { .. } => AppError::bad_field("entryId", "余额不足，无法冲正"),
        AppError::Conflict(_) => AppError::conflict("该记录已冲正"),
        other => other,
    })?;
    if entry.kind == EntryKind::Redeem
        && let Some(r) = redemption::Entity::find()
            .filter(redemption::Column::LedgerEntryId.eq(entry.id))
            .one(&txn)
            .await?
    {
        redemption::Entity::update_many()
            .col_expr(redemption::Column::Reversed, Expr::value(true))
            .filter(redemption::Column::Id.eq(r.id))
            .exec(&txn)
            .await?;
        reward::Entity::update_many()
            .col_expr(
                reward::Column::Stock,
                Expr::col(reward::Column::Stock).add(r.quantity),
            )
            .filter(reward::Column::Id.eq(r.reward_id))
            .exec(&txn)
            .await?;
    }
    idem_finish(&txn, &idem, reversal.id).await?;
    txn.commit().await?;
    Ok(reversal)
}

// ---- rankings -------------------------------------------------------------------------

pub struct RankRow {
    pub holder: user::Model,
    pub passbook_id: i64,
    pub points: i64,
}

/// Points earned (EARN entries) in `[from, to]` (dates in Asia/Shanghai), per holder, highest first.
pub async fn ranking(
    db: &DatabaseConnection,
    community_id: i64,
    grid_id: Option<i64>,
    from: NaiveDate,
    to: NaiveDate,
    limit: u64,
) -> AppResult<Vec<RankRow>> {
    if to < from {
        return Err(AppError::bad_field("to", "结束日期不能早于开始日期"));
    }
    if (to - from).num_days() > 3660 {
        return Err(AppError::bad_field("from", "统计区间过长"));
    }
    let start = validate::local_midnight(from);
    let end = validate::local_midnight(to + chrono::Duration::days(1));
    let points = Alias::new("points");
    let mut q = Query::select();
    q.column((ledger_entry::Entity, ledger_entry::Column::PassbookId))
        .expr_as(
            Expr::col((ledger_entry::Entity, ledger_entry::Column::Amount))
                .sum()
                .cast_as(Alias::new("BIGINT")),
            points.clone(),
        )
        .from(ledger_entry::Entity)
        .inner_join(
            passbook::Entity,
            Expr::col((passbook::Entity, passbook::Column::Id))
                .equals((ledger_entry::Entity, ledger_entry::Column::PassbookId)),
        )
        .and_where(Expr::col((passbook::Entity, passbook::Column::CommunityId)).eq(community_id))
        .and_where(Expr::col((ledger_entry::Entity, ledger_entry::Column::Kind)).eq("EARN"))
        .and_where(Expr::col((ledger_entry::Entity, ledger_entry::Column::CreatedAt)).gte(start))
        .and_where(Expr::col((ledger_entry::Entity, ledger_entry::Column::CreatedAt)).lt(end))
        .group_by_col((ledger_entry::Entity, ledger_entry::Column::PassbookId))
        .order_by_expr(Expr::col(points.clone()), Order::Desc)
        .order_by(
            (ledger_entry::Entity, ledger_entry::Column::PassbookId),
            Order::Asc,
        )
        .limit(limit);
    if let Some(g) = grid_id {
        q.and_where(Expr::col((passbook::Entity, passbook::Column::GridId)).eq(g));
    }
    let stmt = db.get_database_backend().build(&q);
    let rows = db.query_all_raw(stmt).await?;
    let mut pairs = Vec::with_capacity(rows.len());
    for row in rows {
        let book: i64 = row.try_get("", "passbook_id")?;
        let pts: i64 = row.try_get("", "points")?;
        pairs.push((book, pts));
    }
    let books = passbook::Entity::find()
        .filter(passbook::Column::Id.is_in(pairs.iter().map(|p| p.0).collect::<Vec<_>>()))
        .all(db)
        .await?;
    let holders = user::Entity::find()
        .filter(user::Column::Id.is_in(books.iter().map(|b| b.holder_id).collect::<Vec<_>>()))
        .all(db)
        .await?;
    Ok(pairs
        .into_iter()
        .filter_map(|(book, pts)| {
            let b = books.iter().find(|x| x.id == book)?;
            let h = holders.iter().find(|u| u.id == b.holder_id)?;
            Some(RankRow {
                holder: h.clone(),
                passbook_id: book,
                points: pts,
            })
        })
        .collect())
}
