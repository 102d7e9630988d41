//! Micro-wishes (微心愿): the wish wall, claims and confirmation, with the beneficiary's
//! personal data shown by role.

use crate::graphql::scalars::Timestamp;
use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use entity::wish;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::core::db::get;
use crate::core::error::{AppError, AppResult};
use crate::core::mask::Access;
use crate::core::pagination as connection;
use crate::core::pagination::Conn;
use crate::core::pagination::Page;
use crate::core::validate;
use crate::graphql::context::actor;
use crate::graphql::context::config;
use crate::graphql::context::db;
use crate::graphql::context::events;
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
use crate::nodes::user::access_to;
use crate::wish::loaders::ClaimsOfWish;
use crate::wish::policy;
use crate::wish::rules as svc;
use crate::wish::rules::EffectiveStatus;

/// What a wish asks for.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::wish::WishCategory")]
pub enum WishCategory {
    /// 物品
    Goods,
    /// 服务
    Service,
    /// 陪伴
    Companionship,
    /// Anything else.
    Other,
}

/// Where a wish is in its life.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum WishStatus {
    /// Submitted, waiting for review.
    PendingReview,
    /// On the wish wall, open to claim.
    Published,
    /// Claimed by a party member.
    Claimed,
    /// Reported fulfilled, waiting for confirmation.
    Fulfilled,
    /// Confirmed: done.
    Confirmed,
    /// Rejected in review.
    Rejected,
    /// Cancelled.
    Cancelled,
    /// Past its deadline and not fulfilled.
    Expired,
}

impl From<EffectiveStatus> for WishStatus {
    fn from(s: EffectiveStatus) -> Self {
        use entity::wish::WishStatus as S;
        match s {
            EffectiveStatus::Expired => Self::Expired,
            EffectiveStatus::Stored(S::PendingReview) => Self::PendingReview,
            EffectiveStatus::Stored(S::Published) => Self::Published,
            EffectiveStatus::Stored(S::Claimed) => Self::Claimed,
            EffectiveStatus::Stored(S::Fulfilled) => Self::Fulfilled,
            EffectiveStatus::Stored(S::Confirmed) => Self::Confirmed,
            EffectiveStatus::Stored(S::Rejected) => Self::Rejected,
            EffectiveStatus::Stored(S::Cancelled) => Self::Cancelled,
        }
    }
}

impl WishStatus {
    fn stored(self) -> Option<entity::wish::WishStatus> {
        use entity::wish::WishStatus as S;
        match self {
            Self::PendingReview => Some(S::PendingReview),
            Self::Published => Some(S::Published),
            Self::Claimed => Some(S::Claimed),
            Self::Fulfilled => Some(S::Fulfilled),
            Self::Confirmed => Some(S::Confirmed),
            Self::Rejected => Some(S::Rejected),
            Self::Cancelled => Some(S::Cancelled),
            Self::Expired => None,
        }
    }
}

/// Where a claim of a wish stands.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::wish_claim::ClaimStatus")]
pub enum ClaimStatus {
    /// The member holds the wish.
    Active,
    /// The member gave it up.
    Released,
    /// The wish was fulfilled under this claim.
    Completed,
    /// The wish was cancelled while claimed.
    Cancelled,
}

/// A micro-wish. The beneficiary's full name, phone and address are shown only to staff of
/// the community, grid workers of the grid, the beneficiary and the submitter; the current
/// claimant sees the full name; everyone else a masked name (王**).
pub struct Wish(pub wish::Model);

impl Wish {
    /// The viewer's access to the beneficiary's data on this wish (the wish policy).
    async fn insight(&self, ctx: &Context<'_>) -> AppResult<Access> {
        let v = viewer(ctx).user();
        let person = match (policy::needs_person(v, &self.0), self.0.beneficiary_user_id) {
            (true, Some(u)) => Some(access_to(ctx, u).await?),
            _ => None,
        };
        Ok(policy::insight(v, &self.0, person))
    }
}

/// A micro-wish (微心愿) of a resident. The beneficiary's full name, phone and address are shown only to staff of the community, grid workers of the grid, the beneficiary and the submitter; the current claimant sees the full name; everyone else a masked name (王**).
#[Object]
impl Wish {
    /// The id of the wish.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The title.
    async fn title(&self) -> &str {
        &self.0.title
    }
    /// A free-text description.
    async fn description(&self) -> &str {
        &self.0.description
    }
    /// The category.
    async fn category(&self) -> WishCategory {
        self.0.category.into()
    }
    /// Reads EXPIRED once past the deadline and not fulfilled.
    async fn status(&self) -> WishStatus {
        svc::effective_status(&self.0, validate::today()).into()
    }
    /// Estimated value in yuan.
    async fn estimated_value(&self) -> i32 {
        self.0.estimated_value
    }
    /// The day by which the wish should be fulfilled; after it an unfulfilled wish reads as EXPIRED.
    async fn deadline(&self) -> Option<Date> {
        self.0.deadline.map(Date)
    }
    /// The community of the wish.
    async fn community(&self, ctx: &Context<'_>) -> AppResult<Community> {
        loader(ctx)?
            .load_one(CommunityKey(self.0.community_id))
            .await?
            .map(Community)
            .ok_or_else(|| AppError::internal("wish without community"))
    }
    /// The grid of the wish.
    async fn grid(&self, ctx: &Context<'_>) -> AppResult<Grid> {
        loader(ctx)?
            .load_one(GridKey(self.0.grid_id))
            .await?
            .map(Grid)
            .ok_or_else(|| AppError::internal("wish without grid"))
    }
    /// The beneficiary's name: full for those allowed, masked (王**) for everyone else.
    async fn beneficiary_name(&self, ctx: &Context<'_>) -> AppResult<String> {
        Ok(self.insight(ctx).await?.name(&self.0.beneficiary_name))
    }
    /// Whether `beneficiaryName` is shown whole to this caller.
    async fn beneficiary_name_visible(&self, ctx: &Context<'_>) -> AppResult<bool> {
        Ok(self.insight(ctx).await? != Access::Masked)
    }
    /// Staff, grid workers, the beneficiary and the submitter only; null for others.
    async fn beneficiary_phone(&self, ctx: &Context<'_>) -> AppResult<Option<String>> {
        Ok(self
            .insight(ctx)
            .await?
            .full_only(self.0.beneficiary_phone.as_ref()))
    }
    /// Staff, grid workers, the beneficiary and the submitter only; null for others.
    async fn beneficiary_address(&self, ctx: &Context<'_>) -> AppResult<Option<String>> {
        Ok(self
            .insight(ctx)
            .await?
            .full_only(self.0.beneficiary_address.as_ref()))
    }
    /// The beneficiary's account, if they have one (same visibility as the phone).
    async fn beneficiary(&self, ctx: &Context<'_>) -> AppResult<Option<User>> {
        match (self.insight(ctx).await?, self.0.beneficiary_user_id) {
            (Access::Full, Some(u)) => Ok(loader(ctx)?.load_one(UserKey(u)).await?.map(User::new)),
            _ => Ok(None),
        }
    }
    /// Who submitted it (same visibility as the phone).
    async fn submitted_by(&self, ctx: &Context<'_>) -> AppResult<Option<User>> {
        if self.insight(ctx).await? != Access::Full {
            return Ok(None);
        }
        Ok(loader(ctx)?
            .load_one(UserKey(self.0.submitted_by))
            .await?
            .map(User::new))
    }
    /// The party member holding the claim now (圆梦人).
    async fn claimant(&self, ctx: &Context<'_>) -> AppResult<Option<User>> {
        match self.0.claimant_id {
            None => Ok(None),
            Some(u) => Ok(loader(ctx)?.load_one(UserKey(u)).await?.map(User::new)),
        }
    }
    /// Every claim, released ones included, oldest first.
    async fn claims(&self, ctx: &Context<'_>) -> AppResult<Vec<WishClaim>> {
        let rows = loader(ctx)?
            .load_one(ClaimsOfWish(self.0.id))
            .await?
            .unwrap_or_default();
        Ok(rows.into_iter().map(WishClaim).collect())
    }
    /// Why it was rejected.
    async fn review_reason(&self) -> Option<&str> {
        self.0.review_reason.as_deref()
    }
    /// When it was reviewed.
    async fn reviewed_at(&self) -> Option<Timestamp> {
        self.0.reviewed_at.map(Timestamp)
    }
    /// The claimant's note on the fulfilment.
    async fn fulfil_note(&self) -> Option<&str> {
        self.0.fulfil_note.as_deref()
    }
    /// Photos of the fulfilment.
    async fn photo_urls(&self) -> Vec<String> {
        self.0
            .fulfil_photos
            .as_deref()
            .and_then(|p| serde_json::from_str(p).ok())
            .unwrap_or_default()
    }
    /// When the claimant reported it fulfilled.
    async fn fulfilled_at(&self) -> Option<Timestamp> {
        self.0.fulfilled_at.map(Timestamp)
    }
    /// 1–5, given at confirmation.
    async fn rating(&self) -> Option<i32> {
        self.0.rating
    }
    /// The beneficiary's words on the fulfilment.
    async fn feedback(&self) -> Option<&str> {
        self.0.feedback.as_deref()
    }
    /// When it was confirmed.
    async fn confirmed_at(&self) -> Option<Timestamp> {
        self.0.confirmed_at.map(Timestamp)
    }
    /// Why it was cancelled.
    async fn cancel_reason(&self) -> Option<&str> {
        self.0.cancel_reason.as_deref()
    }
    /// When it was created.
    async fn created_at(&self) -> Timestamp {
        Timestamp(self.0.created_at)
    }
    /// When it last changed.
    async fn updated_at(&self) -> Timestamp {
        Timestamp(self.0.updated_at)
    }
}

/// One claim of a wish.
pub struct WishClaim(pub entity::wish_claim::Model);

/// A party member's claim of a wish.
#[Object]
impl WishClaim {
    /// The id of the wish claim.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The party member who claimed.
    async fn member(&self, ctx: &Context<'_>) -> AppResult<User> {
        loader(ctx)?
            .load_one(UserKey(self.0.member_id))
            .await?
            .map(User::new)
            .ok_or_else(|| AppError::internal("claim without member"))
    }
    /// Its status.
    async fn status(&self) -> ClaimStatus {
        self.0.status.into()
    }
    /// When it was claimed.
    async fn claimed_at(&self) -> Timestamp {
        Timestamp(self.0.claimed_at)
    }
    /// When the claim ended.
    async fn ended_at(&self) -> Option<Timestamp> {
        self.0.ended_at.map(Timestamp)
    }
    /// Why the claim was given up.
    async fn release_reason(&self) -> Option<&str> {
        self.0.release_reason.as_deref()
    }
}

/// A new micro-wish.
#[derive(InputObject)]
pub struct SubmitWishInput {
    /// The grid.
    pub grid_id: ID,
    /// The title.
    pub title: String,
    /// A free-text description.
    pub description: String,
    /// The category.
    pub category: WishCategory,
    /// In yuan; capped by configuration.
    #[graphql(default)]
    pub estimated_value: i32,
    /// The day by which the wish should be fulfilled; after it an unfulfilled wish reads as EXPIRED.
    pub deadline: Option<Date>,
    /// For a grid worker submitting for a resident without the app (required then).
    pub beneficiary_name: Option<String>,
    /// A grid worker may name the beneficiary's account instead.
    pub beneficiary_user_id: Option<ID>,
    /// The beneficiary's phone (personal data: shown only per the wish rule).
    pub beneficiary_phone: Option<String>,
    /// The beneficiary's address (personal data: shown only per the wish rule).
    pub beneficiary_address: Option<String>,
}

/// A reviewer's decision on a submitted wish.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum WishDecision {
    /// Publish it on the wish wall.
    Publish,
    /// Reject it.
    Reject,
}

/// A reviewer's decision on a submitted wish.
#[derive(InputObject)]
pub struct ReviewWishInput {
    /// The wish.
    pub wish_id: ID,
    /// Publish or reject.
    pub decision: WishDecision,
    /// Required when rejecting.
    pub reason: Option<String>,
}

/// The wish to claim.
#[derive(InputObject)]
pub struct ClaimWishInput {
    /// The wish.
    pub wish_id: ID,
}

/// A claim that its party member gives up, and why.
#[derive(InputObject)]
pub struct ReleaseWishClaimInput {
    /// The wish.
    pub wish_id: ID,
    /// Why (shown to the people concerned).
    pub reason: String,
}

/// A claimed wish that its claimant reports as fulfilled.
#[derive(InputObject)]
pub struct FulfillWishInput {
    /// The wish.
    pub wish_id: ID,
    /// What was done.
    pub note: String,
    /// Addresses of photos of the fulfilment.
    #[graphql(default)]
    pub photo_urls: Vec<String>,
}

/// A fulfilled wish that the beneficiary or staff confirm.
#[derive(InputObject)]
pub struct ConfirmWishInput {
    /// The wish.
    pub wish_id: ID,
    /// 1–5.
    pub rating: i32,
    /// The beneficiary's words on the fulfilment.
    pub feedback: Option<String>,
}

/// A wish to cancel and why.
#[derive(InputObject)]
pub struct CancelWishInput {
    /// The wish.
    pub wish_id: ID,
    /// Why (shown to the people concerned).
    pub reason: Option<String>,
}

/// The wish after the change.
#[derive(SimpleObject)]
pub struct WishPayload {
    /// The wish.
    pub wish: Wish,
}

#[derive(Default)]
pub struct WishQuery;

#[Object]
impl WishQuery {
    /// The wish wall, newest first. Anonymous callers see published and later wishes.
    #[graphql(complexity = "connection::complexity(child_complexity, first)")]
    async fn wishes(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only items of this community.")] community_id: Option<ID>,
        #[graphql(desc = "Only items of this grid.")] grid_id: Option<ID>,
        #[graphql(desc = "Only items in this status.")] status: Option<WishStatus>,
        #[graphql(desc = "Only wishes of this category.")] category: Option<WishCategory>,
        #[graphql(default, desc = "Only wishes the caller has claimed.")] claimed_by_me: bool,
        #[graphql(default, desc = "Only wishes the caller submitted.")] submitted_by_me: bool,
        #[graphql(desc = "How many items to return (1 to 100, default 20).")] first: Option<i32>,
        #[graphql(
            desc = "Return the items after this cursor (`pageInfo.endCursor` of the previous page)."
        )]
        after: Option<String>,
    ) -> AppResult<Conn<Wish>> {
        let page = Page::new(ctx, first, after.as_deref())?;
        let me = viewer(ctx).user();
        let mut q = wish::Entity::find();
        q = policy::scope(me).filter(q);
        if let Some(c) = parse_opt_id("communityId", community_id.as_ref())? {
            q = q.filter(wish::Column::CommunityId.eq(c));
        }
        if let Some(g) = parse_opt_id("gridId", grid_id.as_ref())? {
            q = q.filter(wish::Column::GridId.eq(g));
        }
        if let Some(s) = status {
            q = q.filter(svc::status_condition(
                s.stored(),
                s == WishStatus::Expired,
                validate::today(),
            ));
        }
        if let Some(c) = category {
            q = q.filter(wish::Column::Category.eq(entity::wish::WishCategory::from(c)));
        }
        if claimed_by_me || submitted_by_me {
            let me = actor(ctx)?;
            if claimed_by_me {
                q = q.filter(wish::Column::ClaimantId.eq(me.id()));
            }
            if submitted_by_me {
                q = q.filter(wish::Column::SubmittedBy.eq(me.id()));
            }
        }
        Ok(connection::paginate(db(ctx)?, q, wish::Column::Id, true, page, |m| m.id, Wish).await?)
    }

    /// One wish, with its claim history.
    async fn wish(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The id of the wish.")] id: ID,
    ) -> AppResult<Wish> {
        let id = parse_id("id", &id)?;
        let w = get::<wish::Entity, _>(db(ctx)?, id, "心愿不存在").await?;
        if !policy::scope(viewer(ctx).user()).admits(&w) {
            return Err(AppError::NotFound("心愿不存在"));
        }
        Ok(Wish(w))
    }
}

#[derive(Default)]
pub struct WishMutation;

#[Object]
impl WishMutation {
    /// A resident submits a wish for themself, or a grid worker for a resident of the grid.
    async fn submit_wish(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The fields of the operation.")] input: SubmitWishInput,
    ) -> AppResult<WishPayload> {
        let actor = actor(ctx)?;
        let w = svc::submit(
            db(ctx)?,
            config(ctx)?,
            actor,
            svc::NewWish {
                grid_id: parse_id("gridId", &input.grid_id)?,
                title: input.title,
                description: input.description,
                category: input.category.into(),
                estimated_value: input.estimated_value,
                deadline: input.deadline.map(|d| d.0),
                beneficiary_name: input.beneficiary_name,
                beneficiary_user_id: parse_opt_id(
                    "beneficiaryUserId",
                    input.beneficiary_user_id.as_ref(),
                )?,
                beneficiary_phone: input.beneficiary_phone,
                beneficiary_address: input.beneficiary_address,
            },
        )
        .await?;
        Ok(WishPayload { wish: Wish(w) })
    }

    /// Staff of the community publish or reject a wish.
    async fn review_wish(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The fields of the operation.")] input: ReviewWishInput,
    ) -> AppResult<WishPayload> {
        let actor = actor(ctx)?;
        let id = parse_id("wishId", &input.wish_id)?;
        let decision = match input.decision {
            WishDecision::Publish => svc::Review::Publish,
            WishDecision::Reject => svc::Review::Reject {
                reason: input
                    .reason
                    .ok_or_else(|| AppError::bad_field("reason", "驳回须填写理由"))?,
            },
        };
        let w = svc::review(db(ctx)?, events(ctx)?, actor, id, decision).await?;
        Ok(WishPayload { wish: Wish(w) })
    }

    /// A party member claims a published wish (exactly one claimant at a time).
    async fn claim_wish(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The fields of the operation.")] input: ClaimWishInput,
    ) -> AppResult<WishPayload> {
        let actor = actor(ctx)?;
        let id = parse_id("wishId", &input.wish_id)?;
        let w = svc::claim(db(ctx)?, events(ctx)?, config(ctx)?, actor, id).await?;
        Ok(WishPayload { wish: Wish(w) })
    }

    /// The claimant gives the wish back (it is published again; the history is kept).
    async fn release_wish_claim(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The fields of the operation.")] input: ReleaseWishClaimInput,
    ) -> AppResult<WishPayload> {
        let actor = actor(ctx)?;
        let id = parse_id("wishId", &input.wish_id)?;
        let w = svc::release(db(ctx)?, events(ctx)?, actor, id, &input.reason).await?;
        Ok(WishPayload { wish: Wish(w) })
    }

    /// The claimant reports the wish fulfilled.
    async fn fulfill_wish(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The fields of the operation.")] input: FulfillWishInput,
    ) -> AppResult<WishPayload> {
        let actor = actor(ctx)?;
        let id = parse_id("wishId", &input.wish_id)?;
        let w = svc::fulfil(
            db(ctx)?,
            events(ctx)?,
            actor,
            id,
            &input.note,
            input.photo_urls,
        )
        .await?;
        Ok(WishPayload { wish: Wish(w) })
    }

    /// The beneficiary or a grid worker confirms; the claimant's points are deposited once.
    async fn confirm_wish(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The fields of the operation.")] input: ConfirmWishInput,
    ) -> AppResult<WishPayload> {
        let actor = actor(ctx)?;
        let id = parse_id("wishId", &input.wish_id)?;
        let w = svc::confirm(
            db(ctx)?,
            events(ctx)?,
            config(ctx)?,
            actor,
            id,
            input.rating,
            input.feedback,
        )
        .await?;
        Ok(WishPayload { wish: Wish(w) })
    }

    /// The submitter or staff cancel a wish before it is fulfilled.
    async fn cancel_wish(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The fields of the operation.")] input: CancelWishInput,
    ) -> AppResult<WishPayload> {
        let actor = actor(ctx)?;
        let id = parse_id("wishId", &input.wish_id)?;
        let w = svc::cancel(db(ctx)?, events(ctx)?, actor, id, input.reason).await?;
        Ok(WishPayload { wish: Wish(w) })
    }
}
