//! Inputs, payloads, and the query and mutation roots of the moral bank.

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use entity::{good_deed, good_deed_category, passbook, reward};
use sea_orm::{
    ColumnTrait, EntityTrait, QueryFilter, QueryOrder,
    sea_query::{Expr, ExprTrait, Query},
};

use crate::bank::loaders::{LedgerEntryKey, RewardKey};
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
use crate::nodes::user::User;

#[allow(unused_imports)]
use super::*;

/// A resident for whom to open a moral-bank passbook.
#[derive(InputObject)]
pub struct OpenPassbookInput {
    /// The resident who holds the passbook.
    pub holder_id: ID,
    /// The community whose moral bank keeps it.
    pub community_id: ID,
    /// The grid the resident lives in.
    pub grid_id: Option<ID>,
}

/// The passbook after the change.
#[derive(SimpleObject)]
pub struct PassbookPayload {
    /// The passbook.
    pub passbook: Passbook,
}

/// A good deed to report.
#[derive(InputObject)]
pub struct ReportGoodDeedInput {
    /// Who did it; omit for yourself. Grid workers and staff report for people of their community.
    pub holder_id: Option<ID>,
    /// The good-deed category.
    pub category_id: ID,
    /// A free-text description.
    pub description: String,
    /// The day it happened.
    pub occurred_on: Date,
}

/// A reviewer's decision on a good deed.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum GoodDeedDecision {
    /// Approve: the points are credited.
    Approve,
    /// Reject: no points.
    Reject,
}

/// A reviewer's decision on a good deed.
#[derive(InputObject)]
pub struct ReviewGoodDeedInput {
    /// The good deed.
    pub good_deed_id: ID,
    /// Approve or reject.
    pub decision: GoodDeedDecision,
    /// Points to deposit (defaults to the category's).
    pub points: Option<i32>,
    /// Required when rejecting.
    pub reason: Option<String>,
    /// A retry with the same key returns the first result and moves no points twice.
    pub idempotency_key: Option<String>,
}

/// The good deed after the change.
#[derive(SimpleObject)]
pub struct GoodDeedPayload {
    /// The good deed.
    pub good_deed: GoodDeed,
}

/// A new reward of a community's moral bank.
#[derive(InputObject)]
pub struct CreateRewardInput {
    /// The community.
    pub community_id: ID,
    /// The name.
    pub name: String,
    /// A free-text description.
    pub description: Option<String>,
    /// Points a piece costs.
    pub cost: i32,
    /// Pieces available.
    pub stock: i32,
}

/// The reward after the change.
#[derive(SimpleObject)]
pub struct RewardPayload {
    /// The reward.
    pub reward: Reward,
}

/// A change of a reward's stock.
#[derive(InputObject)]
pub struct AdjustRewardStockInput {
    /// The reward.
    pub reward_id: ID,
    /// Added to the stock (negative to take away); the stock never goes below zero.
    pub delta: i32,
}

/// A reward to redeem with passbook points.
#[derive(InputObject)]
pub struct RedeemRewardInput {
    /// The reward.
    pub reward_id: ID,
    /// How many pieces.
    #[graphql(default = 1)]
    pub quantity: i32,
    /// A retry with the same key returns the first result and moves no points twice.
    pub idempotency_key: Option<String>,
}

/// The redemption.
#[derive(SimpleObject)]
pub struct RedeemRewardPayload {
    /// The redemption.
    pub redemption: Redemption,
}

/// A ledger entry to reverse, and why.
#[derive(InputObject)]
pub struct ReverseLedgerEntryInput {
    /// The ledger entry.
    pub entry_id: ID,
    /// Why (kept with the reversal).
    pub reason: String,
    /// A retry with the same key returns the first result and moves no points twice.
    pub idempotency_key: Option<String>,
}

/// The reversal entry.
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
    async fn passbook(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The id of the passbook.")] id: ID,
    ) -> AppResult<Passbook> {
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
        #[graphql(desc = "Only items of this community.")] community_id: Option<ID>,
        #[graphql(desc = "Only items in this status.")] status: Option<GoodDeedStatus>,
        #[graphql(desc = "How many items to return (1 to 100, default 20).")] first: Option<i32>,
        #[graphql(
            desc = "Return the items after this cursor (`pageInfo.endCursor` of the previous page)."
        )]
        after: Option<String>,
    ) -> AppResult<Conn<GoodDeed>> {
        let me = actor(ctx)?;
        let page = Page::new(ctx, first, after.as_deref())?;
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
        #[graphql(desc = "Only items of this community.")] community_id: Option<ID>,
        #[graphql(
            default_with = "Some(true)",
            desc = "Only rewards that can be redeemed."
        )]
        active_only: Option<bool>,
        #[graphql(desc = "How many items to return (1 to 100, default 20).")] first: Option<i32>,
        #[graphql(
            desc = "Return the items after this cursor (`pageInfo.endCursor` of the previous page)."
        )]
        after: Option<String>,
    ) -> AppResult<Conn<Reward>> {
        // Nullable so that an omitted variable lets the default apply.
        let active_only = active_only.unwrap_or(true);
        let page = Page::new(ctx, first, after.as_deref())?;
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

    /// Points earned in a period (dates in Asia/Shanghai, inclusive), per person, highest first. A plain list of at most `first` (≤ 100) places, not a connection: a ranking's order is the points, so a cursor would not stay put as points change.
    async fn points_ranking(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only items of this community.")] community_id: ID,
        #[graphql(desc = "Only items of this grid.")] grid_id: Option<ID>,
        #[graphql(desc = "Count points earned from this day (inclusive).")] from: Date,
        #[graphql(desc = "Count points earned up to this day (inclusive).")] to: Date,
        #[graphql(default_with = "Some(20)", desc = "How many places to return.")] first: Option<
            i32,
        >,
    ) -> AppResult<Vec<RankingEntry>> {
        // Nullable so that an omitted variable lets the default apply.
        let first = first.unwrap_or(20);
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
        #[graphql(desc = "The fields of the operation.")] input: OpenPassbookInput,
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
        #[graphql(desc = "The fields of the operation.")] input: ReportGoodDeedInput,
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
        #[graphql(desc = "The fields of the operation.")] input: ReviewGoodDeedInput,
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
        let deed = svc::review_good_deed(
            db(ctx)?,
            crate::graphql::context::events(ctx)?,
            me,
            id,
            decision,
            input.idempotency_key.as_deref(),
        )
        .await?;
        Ok(GoodDeedPayload {
            good_deed: GoodDeed(deed),
        })
    }

    /// Staff add a reward to their community's 爱心超市.
    async fn create_reward(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The fields of the operation.")] input: CreateRewardInput,
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

    /// Staff add to a reward's stock or take from it (never below zero).
    async fn adjust_reward_stock(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The fields of the operation.")] input: AdjustRewardStockInput,
    ) -> AppResult<RewardPayload> {
        let me = actor(ctx)?;
        let id = parse_id("rewardId", &input.reward_id)?;
        let r = svc::adjust_stock(db(ctx)?, me, id, input.delta).await?;
        Ok(RewardPayload { reward: Reward(r) })
    }

    /// The holder redeems points for a reward: no overdraft, no overselling.
    async fn redeem_reward(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The fields of the operation.")] input: RedeemRewardInput,
    ) -> AppResult<RedeemRewardPayload> {
        let me = actor(ctx)?;
        let id = parse_id("rewardId", &input.reward_id)?;
        let done = svc::redeem(
            db(ctx)?,
            me,
            id,
            input.quantity,
            input.idempotency_key.as_deref(),
        )
        .await?;
        // The payload's entry and reward are the rows just written: nothing to read again.
        let loaders = loader(ctx)?;
        loaders.prime(LedgerEntryKey(done.entry.id), Some(done.entry));
        loaders.prime(RewardKey(done.reward.id), Some(done.reward));
        Ok(RedeemRewardPayload {
            redemption: Redemption(done.redemption),
        })
    }

    /// Staff correct an entry with a compensating one (once per entry).
    async fn reverse_ledger_entry(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The fields of the operation.")] input: ReverseLedgerEntryInput,
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
