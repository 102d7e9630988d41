//! The 爱心超市: rewards, redemptions, reversals and rankings.

use chrono::NaiveDate;
use entity::{
    ledger_entry,
    ledger_entry::{EntryKind, EntrySource},
    passbook, redemption, reward, user,
};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    sea_query::{Alias, Expr, ExprTrait, Order, Query},
};

use crate::auth::AuthUser;
use crate::core::db;
use crate::core::db::get;
use crate::core::error::AppError;
use crate::core::error::AppResult;
use crate::core::error::ErrorReason;
use crate::core::validate;

#[allow(unused_imports)]
use super::*;

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
        created_at: Set(crate::core::clock::now()),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(|e| AppError::on_unique(e, ErrorReason::NameTaken, "本社区已有同名奖品"))
}

/// Staff of the reward's community add to its stock (delta > 0) or take from it (delta < 0):
/// one conditional update, so a concurrent redemption is never lost and the stock never
/// goes below zero (CONFLICT instead).
pub async fn adjust_stock(
    db: &DatabaseConnection,
    actor: &AuthUser,
    reward_id: i64,
    delta: i32,
) -> AppResult<reward::Model> {
    let r = get::<reward::Entity, _>(db, reward_id, "奖品不存在").await?;
    if !actor.is_staff_of(r.community_id) {
        return Err(AppError::forbidden());
    }
    if delta == 0 || !(-1_000_000..=1_000_000).contains(&delta) {
        return Err(AppError::bad_field(
            "delta",
            "库存调整数须在 -1000000 到 1000000 之间且不为 0",
        ));
    }
    let res = reward::Entity::update_many()
        .col_expr(
            reward::Column::Stock,
            Expr::col(reward::Column::Stock).add(delta),
        )
        .filter(reward::Column::Id.eq(r.id))
        .filter(Expr::col(reward::Column::Stock).add(delta).gte(0))
        .filter(Expr::col(reward::Column::Stock).add(delta).lte(1_000_000))
        .exec(db)
        .await?;
    if res.rows_affected != 1 {
        return Err(AppError::conflict(
            ErrorReason::StockBelowRedeemed,
            "库存不足，不能减少这么多",
        ));
    }
    get::<reward::Entity, _>(db, r.id, "奖品不存在").await
}

/// The holder redeems a reward of their community: stock and balance are checked and the
/// ledger entry written in one transaction.
pub async fn redeem(
    db: &DatabaseConnection,
    actor: &AuthUser,
    reward_id: i64,
    quantity: i32,
    key: Option<&str>,
) -> AppResult<Redeemed> {
    if !(1..=100).contains(&quantity) {
        return Err(AppError::bad_field("quantity", "数量须在 1 到 100 之间"));
    }
    let request = format!("redeemReward:{reward_id}:{quantity}");
    let txn = db::begin_write(db).await?;
    let idem = idem_start(&txn, actor.id(), key, &request).await?;
    if let Idem::Replay(id) = idem {
        txn.rollback().await?;
        let row = get::<redemption::Entity, _>(db, id, "兑换记录不存在").await?;
        let entry =
            get::<ledger_entry::Entity, _>(db, row.ledger_entry_id, "积分记录不存在").await?;
        let reward = get::<reward::Entity, _>(db, row.reward_id, "奖品不存在").await?;
        return Ok(Redeemed {
            redemption: row,
            entry,
            reward,
        });
    }
    // The reward is not read first: one conditional update takes the stock of an active
    // reward of the member's own community, and only a refused redemption reads to say why.
    let holder_community = sea_orm::sea_query::Query::select()
        .column(passbook::Column::CommunityId)
        .from(passbook::Entity)
        .and_where(passbook::Column::HolderId.eq(actor.id()))
        .to_owned();
    let taken = reward::Entity::update_many()
        .col_expr(
            reward::Column::Stock,
            Expr::col(reward::Column::Stock).sub(quantity),
        )
        .filter(reward::Column::Id.eq(reward_id))
        .filter(reward::Column::Active.eq(true))
        .filter(reward::Column::Stock.gte(quantity))
        .filter(reward::Column::CommunityId.in_subquery(holder_community))
        .exec_with_returning(&txn)
        .await?
        .pop();
    let Some(item) = taken else {
        txn.rollback().await?;
        return Err(redeem_refusal(db, actor, reward_id).await);
    };
    let points = i64::from(item.cost) * i64::from(quantity);
    let entry = post_to_holder(
        &txn,
        actor.id(),
        item.community_id,
        Posting {
            passbook_id: 0,
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
        passbook_id: Set(entry.passbook_id),
        quantity: Set(quantity),
        points: Set(points),
        ledger_entry_id: Set(entry.id),
        reversed: Set(false),
        created_by: Set(actor.id()),
        created_at: Set(crate::core::clock::now()),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    idem_finish(&txn, &idem, row.id).await?;
    txn.commit().await?;
    Ok(Redeemed {
        redemption: row,
        entry,
        reward: item,
    })
}

/// A redemption with the ledger entry and the reward as they are after it.
pub struct Redeemed {
    pub redemption: redemption::Model,
    pub entry: ledger_entry::Model,
    pub reward: reward::Model,
}

/// Why a redemption was refused, in the order a member would check: the reward exists, they
/// have a passbook, of the reward's community, the reward is offered, and in stock.
async fn redeem_refusal(db: &DatabaseConnection, actor: &AuthUser, reward_id: i64) -> AppError {
    let item = match get::<reward::Entity, _>(db, reward_id, "奖品不存在").await {
        Ok(item) => item,
        Err(e) => return e,
    };
    let book = match passbook_of(db, actor.id()).await {
        Ok(Some(book)) => book,
        Ok(None) => return AppError::Forbidden("尚未开通道德存折，不能兑换"),
        Err(e) => return e,
    };
    if item.community_id != book.community_id {
        return AppError::Forbidden("只能兑换本社区的奖品");
    }
    if !item.active {
        return AppError::invalid_state(ErrorReason::RewardInactive, "该奖品已下架");
    }
    AppError::conflict(ErrorReason::OutOfStock, "库存不足")
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
        return Err(AppError::invalid_state(
            ErrorReason::ReversalNotReversible,
            "冲正记录不能再冲正",
        ));
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
        return Err(AppError::conflict(
            ErrorReason::EntryAlreadyReversed,
            "该记录已冲正",
        ));
    }
    // The reward's row before the passbook's, in the order a redemption takes them, so that
    // a reversal racing a redemption never deadlocks.
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
        AppError::Conflict(..) => {
            AppError::conflict(ErrorReason::EntryAlreadyReversed, "该记录已冲正")
        }
        other => other,
    })?;
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
