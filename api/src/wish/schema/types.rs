//! The wish objects: Wish, WishClaim and their enums.

use crate::graphql::scalars::Timestamp;
use async_graphql::{Context, Enum, ID, Object};
use entity::wish;

use crate::core::error::{AppError, AppResult};
use crate::core::mask::Access;
use crate::core::validate;
use crate::graphql::context::loader;
use crate::graphql::context::log_view;
use crate::graphql::context::viewer;
use crate::graphql::scalars::Date;
use crate::nodes::loaders::CommunityKey;
use crate::nodes::loaders::GridKey;
use crate::nodes::loaders::UserKey;
use crate::nodes::place::Community;
use crate::nodes::place::Grid;
use crate::nodes::user::User;
use crate::nodes::user::access_to;
use crate::people::access_log::Field;
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

/// The order of the wish wall.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Default)]
pub enum WishOrder {
    /// Newest first (the default).
    #[default]
    Newest,
    /// Oldest first.
    Oldest,
    /// The nearest deadline first; wishes without a deadline last.
    Deadline,
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
    pub(super) fn stored(self) -> Option<entity::wish::WishStatus> {
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

/// A micro-wish. The beneficiary's full name, phone and address are shown only to staff of the community, grid workers of the grid, the beneficiary and the submitter; the current claimant sees the full name; everyone else a masked name (王**).
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

    /// An unmasked view of the beneficiary's data, for the access log.
    fn log(&self, ctx: &Context<'_>, field: Field, path: &'static str) {
        log_view(
            ctx,
            self.0.beneficiary_user_id,
            field,
            path,
            Some(("Wish", self.0.id)),
        );
    }
}

/// The wish actions open to the viewer now.
#[derive(async_graphql::SimpleObject)]
pub struct WishViewerCan {
    /// `claimWish` would be accepted.
    pub claim: bool,
    /// `releaseWishClaim` would be accepted.
    pub release: bool,
    /// `fulfillWish` would be accepted.
    pub fulfill: bool,
    /// `fulfillWish` would be accepted.
    #[graphql(deprecation = "Use `fulfill` (one spelling, as in `fulfillWish`).")]
    pub fulfil: bool,
    /// `confirmWish` would be accepted.
    pub confirm: bool,
    /// `cancelWish` would be accepted.
    pub cancel: bool,
}

/// A micro-wish (微心愿) of a resident. The beneficiary's full name, phone and address are shown only to staff of the community, grid workers of the grid, the beneficiary and the submitter; the current claimant sees the full name; everyone else a masked name (王**).
#[Object]
impl Wish {
    /// What the viewer may do with this wish now, by the same rules as the mutations (roles, people, statuses, deadline, the claim cap): show only the buttons that will work.
    async fn viewer_can(&self, ctx: &Context<'_>) -> AppResult<WishViewerCan> {
        let me = viewer(ctx).user();
        let (active, grid_worker) = match me {
            Some(u) => {
                let active = loader(ctx)?
                    .load_one(crate::wish::loaders::ActiveClaimsOf(u.id()))
                    .await?
                    .unwrap_or(0);
                let grid = loader(ctx)?.load_one(GridKey(self.0.grid_id)).await?;
                (active, grid.is_some_and(|g| u.is_worker_of(&g)))
            }
            None => (0, false),
        };
        let config = crate::graphql::context::config(ctx)?;
        let a = svc::actions(me, &self.0, grid_worker, active, config);
        Ok(WishViewerCan {
            claim: a.claim,
            release: a.release,
            fulfill: a.fulfil,
            fulfil: a.fulfil,
            confirm: a.confirm,
            cancel: a.cancel,
        })
    }

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
        let shown = self
            .insight(ctx)
            .await?
            .full_only(self.0.beneficiary_phone.as_ref());
        if shown.is_some() {
            self.log(ctx, Field::Phone, "Wish.beneficiaryPhone");
        }
        Ok(shown)
    }
    /// Staff, grid workers, the beneficiary and the submitter only; null for others.
    async fn beneficiary_address(&self, ctx: &Context<'_>) -> AppResult<Option<String>> {
        let shown = self
            .insight(ctx)
            .await?
            .full_only(self.0.beneficiary_address.as_ref());
        if shown.is_some() {
            self.log(ctx, Field::Address, "Wish.beneficiaryAddress");
        }
        Ok(shown)
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
    /// The claimant's note on the fulfillment (`fulfillWish`'s `note`).
    async fn fulfillment_note(&self) -> Option<&str> {
        self.0.fulfil_note.as_deref()
    }
    /// The claimant's note on the fulfilment.
    #[graphql(deprecation = "Use `fulfillmentNote` (one spelling: fulfill, as in `fulfillWish`).")]
    async fn fulfil_note(&self) -> Option<&str> {
        self.0.fulfil_note.as_deref()
    }
    /// Photos of the fulfilment uploaded with it.
    async fn photos(&self, ctx: &Context<'_>) -> AppResult<Vec<crate::files::schema::Photo>> {
        Ok(photos_of(ctx, &self.0)
            .await?
            .into_iter()
            .map(crate::files::schema::Photo)
            .collect())
    }
    /// Addresses of the fulfilment's photos: those given as addresses (older records), then the links of the uploaded ones (as `photos { url }`).
    async fn photo_urls(&self, ctx: &Context<'_>) -> AppResult<Vec<String>> {
        let mut urls: Vec<String> = self
            .0
            .fulfil_photos
            .as_deref()
            .and_then(|p| serde_json::from_str(p).ok())
            .unwrap_or_default();
        for p in photos_of(ctx, &self.0).await? {
            urls.push(crate::files::schema::Photo(p).url_for(ctx)?);
        }
        Ok(urls)
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
    /// The wish claimed (null if the viewer may not see it).
    async fn wish(&self, ctx: &Context<'_>) -> AppResult<Option<Wish>> {
        let w = <entity::wish::Entity as sea_orm::EntityTrait>::find_by_id(self.0.wish_id)
            .one(crate::graphql::context::db(ctx)?)
            .await?;
        Ok(w.filter(|w| policy::scope(viewer(ctx).user()).admits(w))
            .map(Wish))
    }
    /// The party member who claimed.
    async fn claimant(&self, ctx: &Context<'_>) -> AppResult<User> {
        loader(ctx)?
            .load_one(UserKey(self.0.member_id))
            .await?
            .map(User::new)
            .ok_or_else(|| AppError::internal("claim without member"))
    }
    /// The id of the wish claimed (read it with `wish(id)`).
    #[graphql(deprecation = "Use `wish` (an object where one belongs).")]
    async fn wish_id(&self) -> ID {
        ID(self.0.wish_id.to_string())
    }
    /// The party member who claimed.
    #[graphql(deprecation = "Use `claimant` (the one who claims is the claimant, as on `Wish`).")]
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

/// A wish's uploaded photos (none before it is fulfilled: no statement then).
async fn photos_of(
    ctx: &Context<'_>,
    w: &wish::Model,
) -> AppResult<Vec<crate::files::rules::PhotoInfo>> {
    if w.fulfilled_at.is_none() {
        return Ok(Vec::new());
    }
    Ok(loader(ctx)?
        .load_one(crate::files::loaders::PhotosOfWish(w.id))
        .await?
        .unwrap_or_default())
}
