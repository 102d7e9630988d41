//! Party-member registration (党员报到): `registerToGrid`, `reviewGridRegistration`,
//! `withdrawGridRegistration`, `gridRegistrations`.

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use entity::grid_registration;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::core::error::{AppError, AppResult};
use crate::core::pagination as connection;
use crate::core::pagination::Conn;
use crate::core::pagination::Page;
use crate::graphql::context::actor;
use crate::graphql::context::db;
use crate::graphql::context::parse_id;
use crate::graphql::context::parse_opt_id;
use crate::nodes::registration::{GridRegistration, RegistrationStatus};
use crate::registration::rules as svc;

/// The community where a party member registers.
#[derive(InputObject)]
pub struct RegisterToGridInput {
    /// The community.
    pub community_id: ID,
    /// Preferred grid; staff assign the grid on approval.
    pub grid_id: Option<ID>,
    /// The member's home party organisation, if it is known to lianxin…
    pub home_organization_id: Option<ID>,
    /// …or its name.
    pub home_organization_name: Option<String>,
    /// Kinds of service offered, e.g. 政策宣传, 邻里互助, 学业辅导.
    pub service_kinds: Vec<String>,
    /// A note.
    pub note: Option<String>,
}

/// A reviewer's decision.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum ReviewDecision {
    /// Approve.
    Approve,
    /// Reject.
    Reject,
}

/// A reviewer's decision on a registration.
#[derive(InputObject)]
pub struct ReviewGridRegistrationInput {
    /// The registration.
    pub registration_id: ID,
    /// Approve or reject.
    pub decision: ReviewDecision,
    /// The grid to assign when approving (defaults to the member's preferred grid).
    pub grid_id: Option<ID>,
    /// Required when rejecting.
    pub reason: Option<String>,
}

/// A registration that its member withdraws.
#[derive(InputObject)]
pub struct WithdrawGridRegistrationInput {
    /// The registration.
    pub registration_id: ID,
    /// Why (shown to the people concerned).
    pub reason: Option<String>,
}

/// The registration after the change.
#[derive(SimpleObject)]
pub struct GridRegistrationPayload {
    /// The registration.
    pub registration: GridRegistration,
}

#[derive(Default)]
pub struct RegistrationQuery;

#[Object]
impl RegistrationQuery {
    /// Registrations the caller may see (staff: their communities; grid workers: their grids; members: their own), newest first.
    #[graphql(complexity = "connection::complexity(child_complexity, first)")]
    async fn grid_registrations(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only items of this community.")] community_id: Option<ID>,
        #[graphql(desc = "Only items of this grid.")] grid_id: Option<ID>,
        #[graphql(desc = "Only items in this status.")] status: Option<RegistrationStatus>,
        #[graphql(desc = "How many items to return (1 to 100, default 20).")] first: Option<i32>,
        #[graphql(
            desc = "Return the items after this cursor (`pageInfo.endCursor` of the previous page)."
        )]
        after: Option<String>,
    ) -> AppResult<Conn<GridRegistration>> {
        let actor = actor(ctx)?;
        let page = Page::new(ctx, first, after.as_deref())?;
        let mut q = grid_registration::Entity::find();
        q = crate::registration::policy::scope(actor).filter(q);
        if let Some(c) = parse_opt_id("communityId", community_id.as_ref())? {
            q = q.filter(grid_registration::Column::CommunityId.eq(c));
        }
        if let Some(g) = parse_opt_id("gridId", grid_id.as_ref())? {
            q = q.filter(grid_registration::Column::GridId.eq(g));
        }
        if let Some(s) = status {
            q = q.filter(
                grid_registration::Column::Status
                    .eq(entity::grid_registration::RegistrationStatus::from(s)),
            );
        }
        Ok(connection::paginate(
            db(ctx)?,
            q,
            grid_registration::Column::Id,
            true,
            page,
            |m| m.id,
            GridRegistration,
        )
        .await?)
    }
}

#[derive(Default)]
pub struct RegistrationMutation;

#[Object]
impl RegistrationMutation {
    /// A party member registers (报到) with the community where they live.
    async fn register_to_grid(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The fields of the operation.")] input: RegisterToGridInput,
    ) -> AppResult<GridRegistrationPayload> {
        let actor = actor(ctx)?;
        let reg = svc::register(
            db(ctx)?,
            actor,
            svc::NewRegistration {
                community_id: parse_id("communityId", &input.community_id)?,
                grid_id: parse_opt_id("gridId", input.grid_id.as_ref())?,
                home_organization_id: parse_opt_id(
                    "homeOrganizationId",
                    input.home_organization_id.as_ref(),
                )?,
                home_organization_name: input.home_organization_name,
                service_kinds: input.service_kinds,
                note: input.note,
            },
        )
        .await?;
        Ok(GridRegistrationPayload {
            registration: GridRegistration(reg),
        })
    }

    /// Staff of the community approve (assigning a grid) or reject (with a reason).
    async fn review_grid_registration(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The fields of the operation.")] input: ReviewGridRegistrationInput,
    ) -> AppResult<GridRegistrationPayload> {
        let actor = actor(ctx)?;
        let id = parse_id("registrationId", &input.registration_id)?;
        let decision = match input.decision {
            ReviewDecision::Approve => svc::Decision::Approve {
                grid_id: parse_opt_id("gridId", input.grid_id.as_ref())?,
            },
            ReviewDecision::Reject => svc::Decision::Reject {
                reason: input
                    .reason
                    .ok_or_else(|| AppError::bad_field("reason", "驳回须填写理由"))?,
            },
        };
        let reg = svc::review(
            db(ctx)?,
            crate::graphql::context::events(ctx)?,
            actor,
            id,
            decision,
        )
        .await?;
        Ok(GridRegistrationPayload {
            registration: GridRegistration(reg),
        })
    }

    /// The member withdraws their pending or approved registration.
    async fn withdraw_grid_registration(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The fields of the operation.")] input: WithdrawGridRegistrationInput,
    ) -> AppResult<GridRegistrationPayload> {
        let actor = actor(ctx)?;
        let id = parse_id("registrationId", &input.registration_id)?;
        let reg = svc::withdraw(db(ctx)?, actor, id, input.reason).await?;
        Ok(GridRegistrationPayload {
            registration: GridRegistration(reg),
        })
    }
}
