//! A party member's registration (报到), shared by the grid (its registered members) and
//! the registration domain.

use crate::core::error::AppResult;
use crate::graphql::scalars::Timestamp;
use async_graphql::{Context, Enum, ID, Object};
use entity::grid_registration;

use super::{
    loaders::{CommunityKey, GridKey, OrganizationKey, UserKey},
    place::{Community, Grid, Organization},
    user::User,
};
use crate::{core::error::AppError, graphql::context::loader};
/// Where a registration stands.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::grid_registration::RegistrationStatus")]
pub enum RegistrationStatus {
    /// Waiting for review.
    Pending,
    /// Approved.
    Approved,
    /// Rejected.
    Rejected,
    /// Withdrawn by the member.
    Withdrawn,
}

/// A party member's registration with a community.
pub struct GridRegistration(pub grid_registration::Model);

/// A party member's registration with the community where they live (在职党员社区报到).
#[Object]
impl GridRegistration {
    /// The id of the grid registration.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The party member who registered.
    async fn member(&self, ctx: &Context<'_>) -> AppResult<User> {
        loader(ctx)?
            .load_one(UserKey(self.0.member_id))
            .await?
            .map(User::new)
            .ok_or_else(|| AppError::internal("registration without member"))
    }
    /// The community they registered with.
    async fn community(&self, ctx: &Context<'_>) -> AppResult<Community> {
        loader(ctx)?
            .load_one(CommunityKey(self.0.community_id))
            .await?
            .map(Community)
            .ok_or_else(|| AppError::internal("registration without community"))
    }
    /// The grid assigned on approval (or the member's preferred grid while pending).
    async fn grid(&self, ctx: &Context<'_>) -> AppResult<Option<Grid>> {
        match self.0.grid_id {
            None => Ok(None),
            Some(g) => Ok(loader(ctx)?.load_one(GridKey(g)).await?.map(Grid)),
        }
    }
    /// The member's own party organisation, if it is in the system.
    async fn home_organization(&self, ctx: &Context<'_>) -> AppResult<Option<Organization>> {
        match self.0.home_organization_id {
            None => Ok(None),
            Some(o) => Ok(loader(ctx)?
                .load_one(OrganizationKey(o))
                .await?
                .map(Organization)),
        }
    }
    /// The name of the member's own party organisation.
    async fn home_organization_name(&self) -> &str {
        &self.0.home_organization_name
    }
    /// Kinds of service the member offers.
    async fn service_kinds(&self) -> Vec<String> {
        serde_json::from_str(&self.0.service_kinds).unwrap_or_default()
    }
    /// The member's note.
    async fn note(&self) -> Option<&str> {
        self.0.note.as_deref()
    }
    /// Its status.
    async fn status(&self) -> RegistrationStatus {
        self.0.status.into()
    }
    /// Rejection reason (or the member's reason when withdrawn).
    async fn review_reason(&self) -> Option<&str> {
        self.0.review_reason.as_deref()
    }
    /// Who reviewed it.
    async fn reviewed_by(&self, ctx: &Context<'_>) -> AppResult<Option<User>> {
        match self.0.reviewed_by {
            None => Ok(None),
            Some(u) => Ok(loader(ctx)?.load_one(UserKey(u)).await?.map(User::new)),
        }
    }
    /// When it was reviewed.
    async fn reviewed_at(&self) -> Option<Timestamp> {
        self.0.reviewed_at.map(Timestamp)
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

/// Registrations a viewer may see, wherever they are reached (the root list, a grid's registered members, payloads): ADMIN all; staff those of their communities; grid workers those of their grids (and the micro-grids inside them); everyone their own.
pub fn visible(
    viewer: &crate::auth::AuthUser,
) -> crate::core::scope::Scope<entity::grid_registration::Entity> {
    use crate::core::scope::Scope;
    use entity::grid_registration;
    if viewer.is_admin() {
        return Scope::Everything;
    }
    Scope::Any(vec![
        Scope::is(grid_registration::Column::MemberId, viewer.id()),
        Scope::one_of(
            grid_registration::Column::CommunityId,
            viewer.staff_communities(),
        ),
        Scope::one_of(
            grid_registration::Column::GridId,
            viewer.worker_grids.clone(),
        ),
    ])
}
