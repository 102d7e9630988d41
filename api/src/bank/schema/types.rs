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

/// Whether a passbook can be used.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::passbook::PassbookStatus")]
pub enum PassbookStatus {
    /// In use.
    Active,
    /// Frozen: no earning or spending.
    Frozen,
}

/// What a ledger entry does to a balance.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::ledger_entry::EntryKind")]
pub enum EntryKind {
    /// Points earned.
    Earn,
    /// Points spent on a reward.
    Redeem,
    /// An earlier entry undone.
    Reversal,
    /// A correction by staff.
    Adjustment,
}

/// What a ledger entry was earned or spent for.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::ledger_entry::EntrySource")]
pub enum EntrySource {
    /// A fulfilled wish.
    Wish,
    /// A volunteer shift.
    Shift,
    /// An approved good deed.
    GoodDeed,
    /// A redeemed reward.
    Redemption,
    /// Entered by staff.
    Manual,
}

/// Where a good deed's review stands.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::good_deed::DeedStatus")]
pub enum GoodDeedStatus {
    /// Waiting for review.
    Pending,
    /// Approved and credited.
    Approved,
    /// Rejected.
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

/// A resident's moral-bank passbook (道德银行存折): points earned and spent.
#[Object]
impl Passbook {
    /// The id of the passbook.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The passbook number printed on the paper passbook.
    async fn number(&self) -> &str {
        &self.0.number
    }
    /// The holder: whoever may read the passbook sees them whole (bank policy).
    async fn holder(&self, ctx: &Context<'_>) -> AppResult<User> {
        let u = user_of(ctx, self.0.holder_id).await?;
        Ok(User::granted(u.model, policy::HOLDER_OF_READABLE_PASSBOOK))
    }
    /// The community it belongs to.
    async fn community(&self, ctx: &Context<'_>) -> AppResult<Community> {
        loader(ctx)?
            .load_one(CommunityKey(self.0.community_id))
            .await?
            .map(Community)
            .ok_or_else(|| AppError::internal("passbook without community"))
    }
    /// The grid the holder lives in.
    async fn grid(&self, ctx: &Context<'_>) -> AppResult<Option<Grid>> {
        match self.0.grid_id {
            None => Ok(None),
            Some(g) => Ok(loader(ctx)?.load_one(GridKey(g)).await?.map(Grid)),
        }
    }
    /// The day it was opened.
    async fn opened_on(&self) -> Date {
        Date(self.0.opened_on)
    }
    /// Its status.
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
        #[graphql(desc = "How many items to return (1 to 100, default 20).")] first: Option<i32>,
        #[graphql(
            desc = "Return the items after this cursor (`pageInfo.endCursor` of the previous page)."
        )]
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

/// One entry of a passbook's ledger: points earned, redeemed, reversed or adjusted.
#[Object]
impl LedgerEntry {
    /// The id of the ledger entry.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// Positive for deposits, negative for withdrawals.
    async fn amount(&self) -> i64 {
        self.0.amount
    }
    /// Earning, redemption, reversal or adjustment.
    async fn kind(&self) -> EntryKind {
        self.0.kind.into()
    }
    /// What it was for.
    async fn source(&self) -> EntrySource {
        self.0.source.into()
    }
    /// The wish, shift or good deed the points came from.
    async fn source_id(&self) -> Option<ID> {
        self.0.source_id.map(|s| ID(s.to_string()))
    }
    /// A short text about the entry.
    async fn memo(&self) -> &str {
        &self.0.memo
    }
    /// Who made the entry.
    async fn operator(&self, ctx: &Context<'_>) -> AppResult<Option<User>> {
        match self.0.operator_id {
            None => Ok(None),
            Some(u) => Ok(Some(user_of(ctx, u).await?)),
        }
    }
    /// The passbook's balance right after this entry.
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
    /// When it was created.
    async fn created_at(&self) -> Timestamp {
        Timestamp(self.0.created_at)
    }
}

/// A category of the good-deed rules catalogue.
pub struct GoodDeedCategory(pub good_deed_category::Model);

/// A kind of good deed, with the points it earns.
#[Object]
impl GoodDeedCategory {
    /// The id of the good deed category.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Default points for an approved deed.
    async fn points(&self) -> i32 {
        self.0.points
    }
    /// Whether new good deeds may use it.
    async fn active(&self) -> bool {
        self.0.active
    }
}

/// A reported good deed (好人好事).
pub struct GoodDeed(pub good_deed::Model);

/// A good deed reported for a moral-bank passbook, reviewed by staff.
#[Object]
impl GoodDeed {
    /// The id of the good deed.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The passbook credited; null for a viewer who may not read it (a grid worker who reported the deed sees the deed, not the holder's balance).
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
    /// The category.
    async fn category(&self, ctx: &Context<'_>) -> AppResult<GoodDeedCategory> {
        loader(ctx)?
            .load_one(DeedCategoryKey(self.0.category_id))
            .await?
            .map(GoodDeedCategory)
            .ok_or_else(|| AppError::internal("deed without category"))
    }
    /// A free-text description.
    async fn description(&self) -> &str {
        &self.0.description
    }
    /// The day it happened.
    async fn occurred_on(&self) -> Date {
        Date(self.0.occurred_on)
    }
    /// Who reported it.
    async fn reported_by(&self, ctx: &Context<'_>) -> AppResult<User> {
        user_of(ctx, self.0.reported_by).await
    }
    /// Its status.
    async fn status(&self) -> GoodDeedStatus {
        self.0.status.into()
    }
    /// Points deposited on approval.
    async fn points(&self) -> Option<i32> {
        self.0.points
    }
    /// The reviewer's reason (for a rejection).
    async fn review_reason(&self) -> Option<&str> {
        self.0.review_reason.as_deref()
    }
    /// When it was reviewed.
    async fn reviewed_at(&self) -> Option<Timestamp> {
        self.0.reviewed_at.map(Timestamp)
    }
    /// When it was created.
    async fn created_at(&self) -> Timestamp {
        Timestamp(self.0.created_at)
    }
}

/// A reward of the 爱心超市.
pub struct Reward(pub reward::Model);

/// A reward of a community's moral bank, bought with points.
#[Object]
impl Reward {
    /// The id of the reward.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// A free-text description.
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
    /// Points per item.
    async fn cost(&self) -> i32 {
        self.0.cost
    }
    /// Pieces left.
    async fn stock(&self) -> i32 {
        self.0.stock
    }
    /// Whether it can be redeemed.
    async fn active(&self) -> bool {
        self.0.active
    }
    /// The community whose moral bank offers it.
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

/// A reward redeemed with passbook points.
#[Object]
impl Redemption {
    /// The id of the redemption.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The reward.
    async fn reward(&self, ctx: &Context<'_>) -> AppResult<Reward> {
        loader(ctx)?
            .load_one(RewardKey(self.0.reward_id))
            .await?
            .map(Reward)
            .ok_or_else(|| AppError::internal("redemption without reward"))
    }
    /// How many pieces.
    async fn quantity(&self) -> i32 {
        self.0.quantity
    }
    /// Points spent.
    async fn points(&self) -> i64 {
        self.0.points
    }
    /// The ledger entry that took the points.
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
    /// When it was created.
    async fn created_at(&self) -> Timestamp {
        Timestamp(self.0.created_at)
    }
}

/// A place in the points ranking.
#[derive(SimpleObject)]
pub struct RankingEntry {
    /// The place (1 is first; equal points share a place).
    pub rank: i32,
    /// The passbook and its holder.
    pub holder: User,
    /// Points earned in the period.
    pub points: i64,
}
