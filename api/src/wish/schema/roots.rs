//! The wish inputs, payloads and root fields.

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use entity::wish;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::core::db::get;
use crate::core::error::{AppError, AppResult};
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
use crate::graphql::context::state;
use crate::graphql::context::viewer;
use crate::graphql::scalars::Date;
use crate::wish::loaders::{PageJoins, page_with_relations};
use crate::wish::policy;
use crate::wish::rules as svc;

use super::types::*;

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
    /// Approve it: it is published on the wish wall.
    Approve,
    /// Reject it.
    Reject,
    /// Publish it on the wish wall.
    #[graphql(deprecation = "Use `APPROVE` (every review decides APPROVE or REJECT).")]
    Publish,
}

/// A reviewer's decision on a submitted wish.
#[derive(InputObject)]
pub struct ReviewWishInput {
    /// The wish.
    pub wish_id: ID,
    /// Approve (publish) or reject.
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
    /// Photos of the fulfilment (JPEG, PNG or WebP, at most 5 MB each), sent as a GraphQL multipart request.
    pub photos: Option<Vec<async_graphql::Upload>>,
    /// Photos uploaded ahead with `POST /uploads` (purpose `WISH_PHOTO`), by id; with `photos`, at most 9 in all.
    pub photo_upload_ids: Option<Vec<ID>>,
    /// Addresses of photos kept elsewhere (older clients; at most 9 photos in all).
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
    /// The wish wall, newest first unless `orderBy` says otherwise. Anonymous callers see published and later wishes.
    #[graphql(complexity = "connection::complexity(child_complexity, first)")]
    async fn wishes(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only items of this community.")] community_id: Option<ID>,
        #[graphql(desc = "Only items of this grid.")] grid_id: Option<ID>,
        #[graphql(desc = "Only items in this status.")] status: Option<WishStatus>,
        #[graphql(desc = "Only items in one of these statuses (with `status`, both apply).")]
        statuses: Option<Vec<WishStatus>>,
        #[graphql(desc = "Only wishes of this category.")] category: Option<WishCategory>,
        #[graphql(
            default_with = "Some(false)",
            desc = "Only wishes the caller has claimed."
        )]
        claimed_by_me: Option<bool>,
        #[graphql(
            default_with = "Some(false)",
            desc = "Only wishes the caller submitted."
        )]
        submitted_by_me: Option<bool>,
        #[graphql(
            default_with = "Some(WishOrder::Newest)",
            desc = "The order (a cursor belongs to the order it was read in)."
        )]
        order_by: Option<WishOrder>,
        #[graphql(desc = "How many items to return (1 to 100, default 20).")] first: Option<i32>,
        #[graphql(
            desc = "Return the items after this cursor (`pageInfo.endCursor` of the previous page)."
        )]
        after: Option<String>,
    ) -> AppResult<Conn<Wish>> {
        // Nullable so that an omitted variable lets the default apply.
        let submitted_by_me = submitted_by_me.unwrap_or(false);
        // Nullable so that an omitted variable lets the default apply.
        let claimed_by_me = claimed_by_me.unwrap_or(false);
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
        if let Some(list) = statuses {
            if list.is_empty() || list.len() > 8 {
                return Err(AppError::bad_field(
                    "statuses",
                    "statuses 须列出 1 到 8 个状态",
                ));
            }
            let mut any = sea_orm::Condition::any();
            for s in list {
                any = any.add(svc::status_condition(
                    s.stored(),
                    s == WishStatus::Expired,
                    validate::today(),
                ));
            }
            q = q.filter(any);
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
        let look = ctx.look_ahead();
        let selects = |f: &str| {
            look.field("nodes").field(f).exists()
                || look.field("edges").field("node").field(f).exists()
        };
        let joins = PageJoins {
            grid: selects("grid"),
            community: selects("community"),
            claimant: selects("claimant"),
            beneficiary: [
                "beneficiary",
                "beneficiaryName",
                "beneficiaryNameVisible",
                "beneficiaryPhone",
                "beneficiaryAddress",
            ]
            .into_iter()
            .any(selects),
            submitter: selects("submittedBy"),
        };
        let (db, loaders) = (db(ctx)?, loader(ctx)?);
        let scopes = &*state(ctx)?.person_scopes;
        let fetch = |q, limit| page_with_relations(db, loaders, scopes, q, limit, joins);
        match order_by.unwrap_or_default() {
            order @ (WishOrder::Newest | WishOrder::Oldest) => {
                let newest = order == WishOrder::Newest;
                connection::paginate_with(
                    db,
                    q,
                    wish::Column::Id,
                    newest,
                    page,
                    |m| m.id,
                    Wish,
                    fetch,
                )
                .await
            }
            WishOrder::Deadline => {
                let key = connection::SortKey::Date(wish::Column::Deadline);
                connection::paginate_by_key(
                    db,
                    q,
                    key,
                    wish::Column::Id,
                    page,
                    |m| m.id,
                    |m| connection::SortKey::<wish::Column>::of_date(m.deadline),
                    Wish,
                    fetch,
                )
                .await
            }
        }
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
            WishDecision::Approve | WishDecision::Publish => svc::Review::Publish,
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
            crate::files::schema::read_photos(
                ctx,
                "photos",
                input.photos,
                input.photo_upload_ids,
                crate::files::pending::UploadPurpose::WishPhoto,
                crate::files::rules::MAX_PER_WISH,
            )
            .await?,
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
