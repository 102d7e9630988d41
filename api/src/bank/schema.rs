//! The moral bank (道德银行): passbooks and their ledger, good deeds, the 爱心超市 rewards,
//! redemptions, reversals and rankings.

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{good_deed, good_deed_category, ledger_entry, passbook, redemption, reward};
use sea_orm::{
    ColumnTrait, EntityTrait, QueryFilter, QueryOrder,
    sea_query::{Expr, ExprTrait, Query},
};

use crate::bank::loaders::DeedCategoryKey;
use crate::bank::loaders::LedgerEntryKey;
use crate::bank::loaders::PassbookKey;
use crate::bank::loaders::RedemptionOfEntry;
use crate::bank::loaders::ReversalOf;
use crate::bank::loaders::RewardKey;
use crate::bank::policy;
use crate::bank::rules as svc;
use crate::core::db::get;
use crate::core::error::{AppError, AppResult};
use crate::core::pagination as connection;
use crate::core::pagination::Conn;
use crate::core::pagination::Page;
use crate::graphql::context::actor;
use crate::graphql::context::db;
use crate::graphql::context::loader;
use crate::graphql::context::parse_id;
use crate::graphql::context::parse_opt_id;
use crate::graphql::context::viewer;
use crate::graphql::scalars::Date;
use crate::nodes::loaders::CommunityKey;
use crate::nodes::loaders::GridKey;
use crate::nodes::loaders::UserKey;
use crate::nodes::place::Community;
use crate::nodes::place::Grid;
use crate::nodes::user::User;

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

async fn user_of(ctx: &Context<'_>, id: i64) -> AppResult<User> {
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
        let page = Page::new(first, after.as_deref())?;
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
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
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
    async fn reviewed_at(&self) -> Option<DateTime<Utc>> {
        self.0.reviewed_at
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
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
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

#[derive(SimpleObject)]
pub struct RankingEntry {
    pub rank: i32,
    pub holder: User,
    /// Points earned in the period.
    pub points: i64,
}

#[derive(InputObject)]
pub struct OpenPassbookInput {
    pub holder_id: ID,
    pub community_id: ID,
    pub grid_id: Option<ID>,
}

#[derive(SimpleObject)]
pub struct PassbookPayload {
    pub passbook: Passbook,
}

#[derive(InputObject)]
pub struct ReportGoodDeedInput {
    /// Who did it; omit for yourself. Grid workers and staff report for people of their community.
    pub holder_id: Option<ID>,
    pub category_id: ID,
    pub description: String,
    pub occurred_on: Date,
}

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum GoodDeedDecision {
    Approve,
    Reject,
}

#[derive(InputObject)]
pub struct ReviewGoodDeedInput {
    pub good_deed_id: ID,
    pub decision: GoodDeedDecision,
    /// Points to deposit (defaults to the category's).
    pub points: Option<i32>,
    /// Required when rejecting.
    pub reason: Option<String>,
    /// A retry with the same key returns the first result and moves no points twice.
    pub idempotency_key: Option<String>,
}

#[derive(SimpleObject)]
pub struct GoodDeedPayload {
    pub good_deed: GoodDeed,
}

#[derive(InputObject)]
pub struct CreateRewardInput {
    pub community_id: ID,
    pub name: String,
    pub description: Option<String>,
    pub cost: i32,
    pub stock: i32,
}

#[derive(SimpleObject)]
pub struct RewardPayload {
    pub reward: Reward,
}

#[derive(InputObject)]
pub struct RedeemRewardInput {
    pub reward_id: ID,
    #[graphql(default = 1)]
    pub quantity: i32,
    /// A retry with the same key returns the first result and moves no points twice.
    pub idempotency_key: Option<String>,
}

#[derive(SimpleObject)]
pub struct RedeemRewardPayload {
    pub redemption: Redemption,
}

#[derive(InputObject)]
pub struct ReverseLedgerEntryInput {
    pub entry_id: ID,
    pub reason: String,
    /// A retry with the same key returns the first result and moves no points twice.
    pub idempotency_key: Option<String>,
}

#[derive(SimpleObject)]
pub struct ReverseLedgerEntryPayload {
    /// The compensating entry.
    pub reversal: LedgerEntry,
}

#[derive(Default)]
pub struct BankQuery;

#[Object]
impl BankQuery {
    /// The caller's passbook, or null if none has been opened.
    async fn my_passbook(&self, ctx: &Context<'_>) -> AppResult<Option<Passbook>> {
        let me = actor(ctx)?;
        Ok(svc::passbook_of(db(ctx)?, me.id()).await?.map(Passbook))
    }

    /// A passbook: its holder and staff of its community only.
    async fn passbook(&self, ctx: &Context<'_>, id: ID) -> AppResult<Passbook> {
        let me = actor(ctx)?;
        let id = parse_id("id", &id)?;
        let book = get::<passbook::Entity, _>(db(ctx)?, id, "道德存折不存在").await?;
        if !policy::may_read(me, &book) {
            return Err(AppError::Forbidden("无权查看该道德存折"));
        }
        Ok(Passbook(book))
    }

    /// The rules catalogue of good deeds.
    async fn good_deed_categories(&self, ctx: &Context<'_>) -> AppResult<Vec<GoodDeedCategory>> {
        let rows = good_deed_category::Entity::find()
            .order_by_asc(good_deed_category::Column::Id)
            .all(db(ctx)?)
            .await
            .map_err(AppError::from)?;
        Ok(rows.into_iter().map(GoodDeedCategory).collect())
    }

    /// Good deeds the caller may see (own, reported by them, or of their community for staff), newest first.
    #[graphql(complexity = "connection::complexity(child_complexity, first)")]
    async fn good_deeds(
        &self,
        ctx: &Context<'_>,
        community_id: Option<ID>,
        status: Option<GoodDeedStatus>,
        first: Option<i32>,
        after: Option<String>,
    ) -> AppResult<Conn<GoodDeed>> {
        let me = actor(ctx)?;
        let page = Page::new(first, after.as_deref())?;
        let books_in = |communities: Vec<i64>| {
            good_deed::Column::PassbookId.in_subquery(
                Query::select()
                    .column(passbook::Column::Id)
                    .from(passbook::Entity)
                    .and_where(Expr::col(passbook::Column::CommunityId).is_in(communities))
                    .to_owned(),
            )
        };
        let mut q = good_deed::Entity::find();
        if let Some(cond) = policy::good_deeds(me) {
            q = q.filter(cond);
        }
        if let Some(c) = parse_opt_id("communityId", community_id.as_ref())? {
            q = q.filter(books_in(vec![c]));
        }
        if let Some(s) = status {
            q = q.filter(good_deed::Column::Status.eq(entity::good_deed::DeedStatus::from(s)));
        }
        Ok(connection::paginate(
            db(ctx)?,
            q,
            good_deed::Column::Id,
            true,
            page,
            |m| m.id,
            GoodDeed,
        )
        .await?)
    }

    /// The 爱心超市 catalogue.
    #[graphql(complexity = "connection::complexity(child_complexity, first)")]
    async fn rewards(
        &self,
        ctx: &Context<'_>,
        community_id: Option<ID>,
        #[graphql(default = true)] active_only: bool,
        first: Option<i32>,
        after: Option<String>,
    ) -> AppResult<Conn<Reward>> {
        let page = Page::new(first, after.as_deref())?;
        let mut q = reward::Entity::find();
        if let Some(c) = parse_opt_id("communityId", community_id.as_ref())? {
            q = q.filter(reward::Column::CommunityId.eq(c));
        }
        if active_only {
            q = q.filter(reward::Column::Active.eq(true));
        }
        Ok(connection::paginate(
            db(ctx)?,
            q,
            reward::Column::Id,
            false,
            page,
            |m| m.id,
            Reward,
        )
        .await?)
    }

    /// Points earned in a period (dates in Asia/Shanghai, inclusive), per person, highest first.
    async fn points_ranking(
        &self,
        ctx: &Context<'_>,
        community_id: ID,
        grid_id: Option<ID>,
        from: Date,
        to: Date,
        #[graphql(default = 20)] first: i32,
    ) -> AppResult<Vec<RankingEntry>> {
        if !(1..=100).contains(&first) {
            return Err(AppError::bad_field("first", "first 须在 1 到 100 之间"));
        }
        let community = parse_id("communityId", &community_id)?;
        let grid = parse_opt_id("gridId", grid_id.as_ref())?;
        let rows = svc::ranking(db(ctx)?, community, grid, from.0, to.0, first as u64).await?;
        let granted = policy::ranking_holder(viewer(ctx).user(), community);
        Ok(rows
            .into_iter()
            .enumerate()
            .map(|(i, r)| RankingEntry {
                rank: i as i32 + 1,
                holder: User::granted(r.holder, granted),
                points: r.points,
            })
            .collect())
    }
}

#[derive(Default)]
pub struct BankMutation;

#[Object]
impl BankMutation {
    /// Staff open a passbook for a person of their community (one per person).
    async fn open_passbook(
        &self,
        ctx: &Context<'_>,
        input: OpenPassbookInput,
    ) -> AppResult<PassbookPayload> {
        let me = actor(ctx)?;
        let book = svc::open_passbook(
            db(ctx)?,
            me,
            parse_id("holderId", &input.holder_id)?,
            parse_id("communityId", &input.community_id)?,
            parse_opt_id("gridId", input.grid_id.as_ref())?,
        )
        .await?;
        Ok(PassbookPayload {
            passbook: Passbook(book),
        })
    }

    /// The holder, or a grid worker or staff of the holder's community, reports a good deed.
    async fn report_good_deed(
        &self,
        ctx: &Context<'_>,
        input: ReportGoodDeedInput,
    ) -> AppResult<GoodDeedPayload> {
        let me = actor(ctx)?;
        let deed = svc::report_good_deed(
            db(ctx)?,
            me,
            svc::NewGoodDeed {
                holder_id: parse_opt_id("holderId", input.holder_id.as_ref())?,
                category_id: parse_id("categoryId", &input.category_id)?,
                description: input.description,
                occurred_on: input.occurred_on.0,
            },
        )
        .await?;
        Ok(GoodDeedPayload {
            good_deed: GoodDeed(deed),
        })
    }

    /// Staff approve (depositing the points once) or reject a good deed.
    async fn review_good_deed(
        &self,
        ctx: &Context<'_>,
        input: ReviewGoodDeedInput,
    ) -> AppResult<GoodDeedPayload> {
        let me = actor(ctx)?;
        let id = parse_id("goodDeedId", &input.good_deed_id)?;
        let decision = match input.decision {
            GoodDeedDecision::Approve => svc::DeedDecision::Approve {
                points: input.points,
            },
            GoodDeedDecision::Reject => svc::DeedDecision::Reject {
                reason: input
                    .reason
                    .ok_or_else(|| AppError::bad_field("reason", "驳回须填写理由"))?,
            },
        };
        let deed =
            svc::review_good_deed(db(ctx)?, me, id, decision, input.idempotency_key.as_deref())
                .await?;
        Ok(GoodDeedPayload {
            good_deed: GoodDeed(deed),
        })
    }

    /// Staff add a reward to their community's 爱心超市.
    async fn create_reward(
        &self,
        ctx: &Context<'_>,
        input: CreateRewardInput,
    ) -> AppResult<RewardPayload> {
        let me = actor(ctx)?;
        let r = svc::create_reward(
            db(ctx)?,
            me,
            svc::NewReward {
                community_id: parse_id("communityId", &input.community_id)?,
                name: input.name,
                description: input.description,
                cost: input.cost,
                stock: input.stock,
            },
        )
        .await?;
        Ok(RewardPayload { reward: Reward(r) })
    }

    /// The holder redeems points for a reward: no overdraft, no overselling.
    async fn redeem_reward(
        &self,
        ctx: &Context<'_>,
        input: RedeemRewardInput,
    ) -> AppResult<RedeemRewardPayload> {
        let me = actor(ctx)?;
        let id = parse_id("rewardId", &input.reward_id)?;
        let r = svc::redeem(
            db(ctx)?,
            me,
            id,
            input.quantity,
            input.idempotency_key.as_deref(),
        )
        .await?;
        Ok(RedeemRewardPayload {
            redemption: Redemption(r),
        })
    }

    /// Staff correct an entry with a compensating one (once per entry).
    async fn reverse_ledger_entry(
        &self,
        ctx: &Context<'_>,
        input: ReverseLedgerEntryInput,
    ) -> AppResult<ReverseLedgerEntryPayload> {
        let me = actor(ctx)?;
        let id = parse_id("entryId", &input.entry_id)?;
        let e = svc::reverse_entry(
            db(ctx)?,
            me,
            id,
            &input.reason,
            input.idempotency_key.as_deref(),
        )
        .await?;
        Ok(ReverseLedgerEntryPayload {
            reversal: LedgerEntry(e),
        })
    }
}
