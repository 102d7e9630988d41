//! Party-member registration (党员报到): `registerToGrid`, `reviewGridRegistration`,
//! `withdrawGridRegistration`, `gridRegistrations`.

use async_graphql::{Context, Enum, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use entity::grid_registration;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::{
    account::User,
    actor,
    connection::{self, Conn, Page},
    db,
    grid::{Community, Grid, Organization},
    loader,
    loaders::{CommunityKey, GridKey, OrganizationKey, UserKey},
    parse_id, parse_opt_id,
};
use crate::{error::AppError, service::registration as svc};

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::grid_registration::RegistrationStatus")]
pub enum RegistrationStatus {
    Pending,
    Approved,
    Rejected,
    Withdrawn,
}

/// A party member's registration with a community.
pub struct GridRegistration(pub grid_registration::Model);

#[Object]
impl GridRegistration {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn member(&self, ctx: &Context<'_>) -> Result<User> {
        loader(ctx)?
            .load_one(UserKey(self.0.member_id))
            .await?
            .map(User)
            .ok_or_else(|| AppError::internal("registration without member").into())
    }
    async fn community(&self, ctx: &Context<'_>) -> Result<Community> {
        loader(ctx)?
            .load_one(CommunityKey(self.0.community_id))
            .await?
            .map(Community)
            .ok_or_else(|| AppError::internal("registration without community").into())
    }
    /// The grid assigned on approval (or the member's preferred grid while pending).
    async fn grid(&self, ctx: &Context<'_>) -> Result<Option<Grid>> {
        match self.0.grid_id {
            None => Ok(None),
            Some(g) => Ok(loader(ctx)?.load_one(GridKey(g)).await?.map(Grid)),
        }
    }
    async fn home_organization(&self, ctx: &Context<'_>) -> Result<Option<Organization>> {
        match self.0.home_organization_id {
            None => Ok(None),
            Some(o) => Ok(loader(ctx)?
                .load_one(OrganizationKey(o))
                .await?
                .map(Organization)),
        }
    }
    async fn home_organization_name(&self) -> &str {
        &self.0.home_organization_name
    }
    /// Kinds of service the member offers.
    async fn service_kinds(&self) -> Vec<String> {
        serde_json::from_str(&self.0.service_kinds).unwrap_or_default()
    }
    async fn note(&self) -> Option<&str> {
        self.0.note.as_deref()
    }
    async fn status(&self) -> RegistrationStatus {
        self.0.status.into()
    }
    /// Rejection reason (or the member's reason when withdrawn).
    async fn review_reason(&self) -> Option<&str> {
        self.0.review_reason.as_deref()
    }
    async fn reviewed_by(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        match self.0.reviewed_by {
            None => Ok(None),
            Some(u) => Ok(loader(ctx)?.load_one(UserKey(u)).await?.map(User)),
        }
    }
    async fn reviewed_at(&self) -> Option<DateTime<Utc>> {
        self.0.reviewed_at
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

#[derive(InputObject)]
pub struct RegisterToGridInput {
    pub community_id: ID,
    /// Preferred grid; staff assign the grid on approval.
    pub grid_id: Option<ID>,
    /// The member's home party organisation, if it is known to lianxin…
    pub home_organization_id: Option<ID>,
    /// …or its name.
    pub home_organization_name: Option<String>,
    /// Kinds of service offered, e.g. 政策宣传, 邻里互助, 学业辅导.
    pub service_kinds: Vec<String>,
    pub note: Option<String>,
}

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum ReviewDecision {
    Approve,
    Reject,
}

#[derive(InputObject)]
pub struct ReviewGridRegistrationInput {
    pub registration_id: ID,
    pub decision: ReviewDecision,
    /// The grid to assign when approving (defaults to the member's preferred grid).
    pub grid_id: Option<ID>,
    /// Required when rejecting.
    pub reason: Option<String>,
}

#[derive(InputObject)]
pub struct WithdrawGridRegistrationInput {
    pub registration_id: ID,
    pub reason: Option<String>,
}

#[derive(SimpleObject)]
pub struct GridRegistrationPayload {
    pub registration: GridRegistration,
}

#[derive(Default)]
pub struct RegistrationQuery;

#[Object]
impl RegistrationQuery {
    /// Registrations the caller may see (staff: their communities; grid workers: their
    /// grids; members: their own), newest first.
    #[graphql(complexity = "connection::complexity(child_complexity, first)")]
    async fn grid_registrations(
        &self,
        ctx: &Context<'_>,
        community_id: Option<ID>,
        grid_id: Option<ID>,
        status: Option<RegistrationStatus>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Conn<GridRegistration>> {
        let actor = actor(ctx)?;
        let page = Page::new(first, after.as_deref())?;
        let mut q = grid_registration::Entity::find();
        if let Some(cond) = svc::visible(actor) {
            q = q.filter(cond);
        }
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
        input: RegisterToGridInput,
    ) -> Result<GridRegistrationPayload> {
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
        input: ReviewGridRegistrationInput,
    ) -> Result<GridRegistrationPayload> {
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
        let reg = svc::review(db(ctx)?, actor, id, decision).await?;
        Ok(GridRegistrationPayload {
            registration: GridRegistration(reg),
        })
    }

    /// The member withdraws their pending or approved registration.
    async fn withdraw_grid_registration(
        &self,
        ctx: &Context<'_>,
        input: WithdrawGridRegistrationInput,
    ) -> Result<GridRegistrationPayload> {
        let actor = actor(ctx)?;
        let id = parse_id("registrationId", &input.registration_id)?;
        let reg = svc::withdraw(db(ctx)?, actor, id, input.reason).await?;
        Ok(GridRegistrationPayload {
            registration: GridRegistration(reg),
        })
    }
}
