//! Passbook, ledger, good-deed and reward objects.

use crate::graphql::scalars::Timestamp;
use async_graphql::{Context, Enum, ID, Object, SimpleObject};
use entity::{good_deed, good_deed_category, ledger_entry, passbook, redemption, reward};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::bank::loaders::DeedCategoryKey;
use crate::bank::loaders::LedgerEntryKey;
use crate::bank::loaders::PassbookKey;
use crate::bank::loaders::RedemptionOfEntry;
use crate::bank::loaders::ReversalOf;
use crate::bank::loaders::RewardKey;
use crate::bank::policy;
use crate::core::error::{AppError, AppResult};
use crate::core::pagination as connection;
use crate::core::pagination::Conn;
use crate::core::pagination::Page;
use crate::graphql::context::db;
use crate::graphql::context::loader;
use crate::graphql::context::viewer;
use crate::graphql::scalars::Date;
use crate::nodes::loaders::CommunityKey;
use crate::nodes::loaders::GridKey;
use crate::nodes::loaders::UserKey;
use crate::nodes::place::Community;
use crate::nodes::place::Grid;
use crate::nodes::user::User;

#[allow(unused_imports)]
use super::*;

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::passbook::PassbookStatus")]
pub enum PassbookStatus {
    Active,
    Frozen,
}

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::ledger_entry::EntryKind")]
pub enum EntryKind {
    Earn,
    Redeem,
    Reversal,
    Adjustment,
}

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::ledger_entry::EntrySource")]
pub enum EntrySource {
    Wish,
    Shift,
    GoodDeed,
    Redemption,
    Manual,
}

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::good_deed::DeedStatus")]
pub enum GoodDeedStatus {
    Pending,
    Approved,
    Rejected,
}

pub(crate) async fn user_of(ctx: &Context<'_>, id: i64) -> AppResult<User> {
    loader(ctx)?
        .load_one(UserKey(id))
        .await?
        .map(User::new)
        .ok_or_else(|| AppError::internal("missing user"))
}

/// 道德存折. Readable by its holder and staff of its community.
pub struct Passbook(pub passbook::Model);

#[Object]
impl Passbook {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn number(&self) -> &str {
        &self.0.number
    }
    /// The holder: whoever may read the passbook sees them whole (bank policy).
    async fn holder(&self, ctx: &Context<'_>) -> AppResult<User> {
        let u = user_of(ctx, self.0.holder_id).await?;
        Ok(User::granted(u.model, policy::HOLDER_OF_READABLE_PASSBOOK))
    }
    async fn community(&self, ctx: &Context<'_>) -> AppResult<Community> {
        loader(ctx)?
            .load_one(CommunityKey(self.0.community_id))
            .await?
            .map(Community)
            .ok_or_else(|| AppError::internal("passbook without community"))
    }
    async fn grid(&self, ctx: &Context<'_>) -> AppResult<Option<Grid>> {
        match self.0.grid_id {
            None => Ok(None),
            Some(g) => Ok(loader(ctx)?.load_one(GridKey(g)).await?.map(Grid)),
        }
    }
    async fn opened_on(&self) -> Date {
        Date(self.0.opened_on)
    }
    async fn status(&self) -> PassbookStatus {
        self.0.status.into()
    }
    /// Always the sum of the entries; never negative.
    async fn balance(&self) -> i64 {
        self.0.balance
    }
    /// Ledger entries, newest first.
    #[graphql(complexity = "connection::complexity(child_complexity, first)")]
    async fn entries(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> AppResult<Conn<LedgerEntry>> {
        let page = Page::new(ctx, first, after.as_deref())?;
        let q = ledger_entry::Entity::find().filter(ledger_entry::Column::PassbookId.eq(self.0.id));
        Ok(connection::paginate(
            db(ctx)?,
            q,
            ledger_entry::Column::Id,
            true,
            page,
            |m| m.id,
            LedgerEntry,
        )
        .await?)
    }
}

/// An immutable ledger entry.
pub struct LedgerEntry(pub ledger_entry::Model);

#[Object]
impl LedgerEntry {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// Positive for deposits, negative for withdrawals.
    async fn amount(&self) -> i64 {
        self.0.amount
    }
    async fn kind(&self) -> EntryKind {
        self.0.kind.into()
    }
    async fn source(&self) -> EntrySource {
        self.0.source.into()
    }
    /// The wish, shift or good deed the points came from.
    async fn source_id(&self) -> Option<ID> {
        self.0.source_id.map(|s| ID(s.to_string()))
    }
    async fn memo(&self) -> &str {
        &self.0.memo
    }
    async fn operator(&self, ctx: &Context<'_>) -> AppResult<Option<User>> {
        match self.0.operator_id {
            None => Ok(None),
            Some(u) => Ok(Some(user_of(ctx, u).await?)),
        }
    }
    async fn balance_after(&self) -> i64 {
        self.0.balance_after
    }
    /// For a reversal: the entry it corrects.
    async fn reverses(&self, ctx: &Context<'_>) -> AppResult<Option<LedgerEntry>> {
        match self.0.reverses_entry_id {
            None => Ok(None),
            Some(e) => Ok(loader(ctx)?
                .load_one(LedgerEntryKey(e))
                .await?
                .map(LedgerEntry)),
        }
    }
    /// The reversal that corrected this entry, if any.
    async fn reversed_by(&self, ctx: &Context<'_>) -> AppResult<Option<LedgerEntry>> {
        Ok(loader(ctx)?
            .load_one(ReversalOf(self.0.id))
            .await?
            .map(LedgerEntry))
    }
    /// For a redemption: what was redeemed.
    async fn redemption(&self, ctx: &Context<'_>) -> AppResult<Option<Redemption>> {
        Ok(loader(ctx)?
            .load_one(RedemptionOfEntry(self.0.id))
            .await?
            .map(Redemption))
    }
    async fn created_at(&self) -> Timestamp {
        Timestamp(self.0.created_at)
    }
}

/// A category of the good-deed rules catalogue.
pub struct GoodDeedCategory(pub good_deed_category::Model);

#[Object]
impl GoodDeedCategory {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Default points for an approved deed.
    async fn points(&self) -> i32 {
        self.0.points
    }
    async fn active(&self) -> bool {
        self.0.active
    }
}

/// A reported good deed (好人好事).
pub struct GoodDeed(pub good_deed::Model);

#[Object]
impl GoodDeed {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The passbook credited; null for a viewer who may not read it (a grid worker who
    /// reported the deed sees the deed, not the holder's balance).
    async fn passbook(&self, ctx: &Context<'_>) -> AppResult<Option<Passbook>> {
        let Some(me) = viewer(ctx).user() else {
            return Ok(None);
        };
        Ok(loader(ctx)?
            .load_one(PassbookKey(self.0.passbook_id))
            .await?
            .filter(|b| policy::may_read(me, b))
            .map(Passbook))
    }
    async fn category(&self, ctx: &Context<'_>) -> AppResult<GoodDeedCategory> {
        loader(ctx)?
            .load_one(DeedCategoryKey(self.0.category_id))
            .await?
            .map(GoodDeedCategory)
            .ok_or_else(|| AppError::internal("deed without category"))
    }
    async fn description(&self) -> &str {
        &self.0.description
    }
    async fn occurred_on(&self) -> Date {
        Date(self.0.occurred_on)
    }
    async fn reported_by(&self, ctx: &Context<'_>) -> AppResult<User> {
        user_of(ctx, self.0.reported_by).await
    }
    async fn status(&self) -> GoodDeedStatus {
        self.0.status.into()
    }
    /// Points deposited on approval.
    async fn points(&self) -> Option<i32> {
        self.0.points
    }
    async fn review_reason(&self) -> Option<&str> {
        self.0.review_reason.as_deref()
    }
    async fn reviewed_at(&self) -> Option<Timestamp> {
        self.0.reviewed_at.map(Timestamp)
    }
    async fn created_at(&self) -> Timestamp {
        Timestamp(self.0.created_at)
    }
}

/// A reward of the 爱心超市.
pub struct Reward(pub reward::Model);

#[Object]
impl Reward {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
    /// Points per item.
    async fn cost(&self) -> i32 {
        self.0.cost
    }
    async fn stock(&self) -> i32 {
        self.0.stock
    }
    async fn active(&self) -> bool {
        self.0.active
    }
    async fn community(&self, ctx: &Context<'_>) -> AppResult<Community> {
        loader(ctx)?
            .load_one(CommunityKey(self.0.community_id))
            .await?
            .map(Community)
            .ok_or_else(|| AppError::internal("reward without community"))
    }
}

/// A redemption of points for a reward.
pub struct Redemption(pub redemption::Model);

#[Object]
impl Redemption {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn reward(&self, ctx: &Context<'_>) -> AppResult<Reward> {
        loader(ctx)?
            .load_one(RewardKey(self.0.reward_id))
            .await?
            .map(Reward)
            .ok_or_else(|| AppError::internal("redemption without reward"))
    }
    async fn quantity(&self) -> i32 {
        self.0.quantity
    }
    async fn points(&self) -> i64 {
        self.0.points
    }
    async fn entry(&self, ctx: &Context<'_>) -> AppResult<LedgerEntry> {
        loader(ctx)?
            .load_one(LedgerEntryKey(self.0.ledger_entry_id))
            .await?
            .map(LedgerEntry)
            .ok_or_else(|| AppError::internal("redemption without entry"))
    }
    /// Whether staff reversed it (points and stock returned).
    async fn reversed(&self) -> bool {
        self.0.reversed
    }
    async fn created_at(&self) -> Timestamp {
        Timestamp(self.0.created_at)
    }
}

#[derive(SimpleObject)]
pub struct RankingEntry {
    pub rank: i32,
    pub holder: User,
    /// Points earned in the period.
    pub points: i64,
}
