//! Places and organisations shared by every domain: streets, communities, grids with their
//! posts, organisations.

use crate::graphql::scalars::Timestamp;
use async_graphql::{Context, Enum, ID, Object};
use entity::{community, grid, grid_registration, grid_staff, organization, street};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::{
    loaders::{
        ChildOrganizationsOf, CommunityKey, CurrentStaffOfGrid, GridKey, MicroGridsOf,
        OrganizationKey, RegisteredCountOf, StreetKey, UserKey,
    },
    user::User,
};
use crate::{
    core::{
        error::{AppError, AppResult},
        pagination::{self as connection, Conn, Page},
    },
    graphql::{
        context::{db, loader},
        scalars::Date,
    },
};
/// What a grid covers.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::grid::GridKind")]
pub enum GridKind {
    /// 综合网格
    Comprehensive,
    /// 专属网格
    Dedicated,
    /// 微网格
    Micro,
}

/// A post on a grid's staff.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::grid_staff::StaffRole")]
pub enum StaffRole {
    /// 网格长
    Leader,
    /// 网格员
    Worker,
    /// 网格辅助员
    Auxiliary,
}

/// What kind of organisation.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::organization::OrganizationKind")]
pub enum OrganizationKind {
    /// 党委
    PartyCommittee,
    /// 党工委
    PartyWorkingCommittee,
    /// 党总支
    GeneralBranch,
    /// 党支部
    Branch,
    /// 党小组
    Group,
    /// 企业
    Enterprise,
    /// 事业单位
    PublicInstitution,
    /// 学校
    School,
    /// 医院
    Hospital,
    /// 社会组织
    SocialOrganization,
    /// 政府部门
    GovernmentDepartment,
}

/// 街道
pub struct Street(pub street::Model);

/// A street (街道), the level above communities.
#[Object]
impl Street {
    /// The id of the street.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// A contact phone number.
    async fn phone(&self) -> Option<&str> {
        self.0.phone.as_deref()
    }
    /// The street's communities.
    #[graphql(complexity = "connection::complexity(child_complexity, first)")]
    async fn communities(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many items to return (1 to 100, default 20).")] first: Option<i32>,
        #[graphql(
            desc = "Return the items after this cursor (`pageInfo.endCursor` of the previous page)."
        )]
        after: Option<String>,
    ) -> AppResult<Conn<Community>> {
        let page = Page::new(ctx, first, after.as_deref())?;
        let q = community::Entity::find().filter(community::Column::StreetId.eq(self.0.id));
        Ok(connection::paginate(
            db(ctx)?,
            q,
            community::Column::Id,
            false,
            page,
            |m| m.id,
            Community,
        )
        .await?)
    }
}

/// 社区
pub struct Community(pub community::Model);

/// A community (社区) of a street, with its grids and organisations.
#[Object]
impl Community {
    /// The id of the community.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// The community office's public phone.
    async fn phone(&self) -> Option<&str> {
        self.0.phone.as_deref()
    }
    /// The address.
    async fn address(&self) -> Option<&str> {
        self.0.address.as_deref()
    }
    /// The street it belongs to.
    async fn street(&self, ctx: &Context<'_>) -> AppResult<Street> {
        loader(ctx)?
            .load_one(StreetKey(self.0.street_id))
            .await?
            .map(Street)
            .ok_or_else(|| AppError::internal("community without street"))
    }
    /// Grids of the community (top-level grids unless `kind` is MICRO).
    #[graphql(complexity = "connection::complexity(child_complexity, first)")]
    async fn grids(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only items of this kind.")] kind: Option<GridKind>,
        #[graphql(desc = "How many items to return (1 to 100, default 20).")] first: Option<i32>,
        #[graphql(
            desc = "Return the items after this cursor (`pageInfo.endCursor` of the previous page)."
        )]
        after: Option<String>,
    ) -> AppResult<Conn<Grid>> {
        let page = Page::new(ctx, first, after.as_deref())?;
        let q = grid_filter(Some(self.0.id), kind);
        Ok(
            connection::paginate(db(ctx)?, q, grid::Column::Id, false, page, |m| m.id, Grid)
                .await?,
        )
    }
}

pub fn grid_filter(
    community: Option<i64>,
    kind: Option<GridKind>,
) -> sea_orm::Select<grid::Entity> {
    let mut q = grid::Entity::find();
    if let Some(c) = community {
        q = q.filter(grid::Column::CommunityId.eq(c));
    }
    if let Some(k) = kind {
        q = q.filter(grid::Column::Kind.eq(entity::grid::GridKind::from(k)));
    }
    q
}

/// 网格: a comprehensive or dedicated grid, or a micro-grid inside one.
pub struct Grid(pub grid::Model);

/// A grid (网格) of a community, or a micro-grid inside a grid, with its staff.
#[Object]
impl Grid {
    /// The id of the grid.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// The kind.
    async fn kind(&self) -> GridKind {
        self.0.kind.into()
    }
    /// 户数
    async fn households(&self) -> i32 {
        self.0.households
    }
    /// A free-text description.
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
    /// When it was created.
    async fn created_at(&self) -> Timestamp {
        Timestamp(self.0.created_at)
    }
    /// The community of the grid.
    async fn community(&self, ctx: &Context<'_>) -> AppResult<Community> {
        loader(ctx)?
            .load_one(CommunityKey(self.0.community_id))
            .await?
            .map(Community)
            .ok_or_else(|| AppError::internal("grid without community"))
    }
    /// The grid a micro-grid belongs to.
    async fn parent(&self, ctx: &Context<'_>) -> AppResult<Option<Grid>> {
        match self.0.parent_id {
            None => Ok(None),
            Some(p) => Ok(loader(ctx)?.load_one(GridKey(p)).await?.map(Grid)),
        }
    }
    /// Micro-grids inside this grid.
    async fn micro_grids(&self, ctx: &Context<'_>) -> AppResult<Vec<Grid>> {
        let rows = loader(ctx)?
            .load_one(MicroGridsOf(self.0.id))
            .await?
            .unwrap_or_default();
        Ok(rows.into_iter().map(Grid).collect())
    }
    /// Current posts: leader, workers and auxiliaries.
    async fn staff(&self, ctx: &Context<'_>) -> AppResult<Vec<GridStaff>> {
        let rows = loader(ctx)?
            .load_one(CurrentStaffOfGrid(self.0.id))
            .await?
            .unwrap_or_default();
        Ok(rows.into_iter().map(GridStaff).collect())
    }
    /// The current grid leader (网格长).
    async fn leader(&self, ctx: &Context<'_>) -> AppResult<Option<User>> {
        let rows = loader(ctx)?
            .load_one(CurrentStaffOfGrid(self.0.id))
            .await?
            .unwrap_or_default();
        let Some(post) = rows
            .into_iter()
            .find(|p| p.role == entity::grid_staff::StaffRole::Leader)
        else {
            return Ok(None);
        };
        Ok(loader(ctx)?
            .load_one(UserKey(post.user_id))
            .await?
            .map(User::new))
    }
    /// Number of party members registered (报到, approved) to this grid.
    async fn registered_member_count(&self, ctx: &Context<'_>) -> AppResult<i64> {
        Ok(loader(ctx)?
            .load_one(RegisteredCountOf(self.0.id))
            .await?
            .unwrap_or(0))
    }
    /// Party members registered to this grid, as far as the registration policy shows them (staff of the community, grid workers of the grid, the member themself).
    #[graphql(complexity = "connection::complexity(child_complexity, first)")]
    async fn registered_members(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many items to return (1 to 100, default 20).")] first: Option<i32>,
        #[graphql(
            desc = "Return the items after this cursor (`pageInfo.endCursor` of the previous page)."
        )]
        after: Option<String>,
    ) -> AppResult<Conn<crate::nodes::registration::GridRegistration>> {
        let v = crate::graphql::context::actor(ctx)?;
        let page = Page::new(ctx, first, after.as_deref())?;
        let q = super::registration::visible(v)
            .filter(grid_registration::Entity::find())
            .filter(grid_registration::Column::GridId.eq(self.0.id))
            .filter(
                grid_registration::Column::Status
                    .eq(entity::grid_registration::RegistrationStatus::Approved),
            );
        Ok(connection::paginate(
            db(ctx)?,
            q,
            grid_registration::Column::Id,
            false,
            page,
            |m| m.id,
            crate::nodes::registration::GridRegistration,
        )
        .await?)
    }
}

/// A post in a grid.
pub struct GridStaff(pub grid_staff::Model);

/// A post on a grid's staff: who, which role, from when to when.
#[Object]
impl GridStaff {
    /// The id of the grid staff.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The role.
    async fn role(&self) -> StaffRole {
        self.0.role.into()
    }
    /// First day on the post.
    async fn start_date(&self) -> Date {
        Date(self.0.start_date)
    }
    /// Last day on the post; null while it lasts.
    async fn end_date(&self) -> Option<Date> {
        self.0.end_date.map(Date)
    }
    /// The person on the post.
    async fn user(&self, ctx: &Context<'_>) -> AppResult<User> {
        loader(ctx)?
            .load_one(UserKey(self.0.user_id))
            .await?
            .map(User::new)
            .ok_or_else(|| AppError::internal("post without user"))
    }
    /// The grid.
    async fn grid(&self, ctx: &Context<'_>) -> AppResult<Grid> {
        loader(ctx)?
            .load_one(GridKey(self.0.grid_id))
            .await?
            .map(Grid)
            .ok_or_else(|| AppError::internal("post without grid"))
    }
}

/// A party organisation or a unit.
pub struct Organization(pub organization::Model);

/// An organisation: a party organisation, a company, a school, a street department or a social group.
#[Object]
impl Organization {
    /// The id of the organization.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// The kind.
    async fn kind(&self) -> OrganizationKind {
        self.0.kind.into()
    }
    /// Whether this is a party organisation (not a unit).
    async fn is_party_organization(&self) -> bool {
        self.0.kind.is_party()
    }
    /// The organisation it belongs to.
    async fn parent(&self, ctx: &Context<'_>) -> AppResult<Option<Organization>> {
        match self.0.parent_id {
            None => Ok(None),
            Some(p) => Ok(loader(ctx)?
                .load_one(OrganizationKey(p))
                .await?
                .map(Organization)),
        }
    }
    /// Organisations that belong to it.
    async fn children(&self, ctx: &Context<'_>) -> AppResult<Vec<Organization>> {
        let rows = loader(ctx)?
            .load_one(ChildOrganizationsOf(self.0.id))
            .await?
            .unwrap_or_default();
        Ok(rows.into_iter().map(Organization).collect())
    }
    /// The community the organisation is located in.
    async fn community(&self, ctx: &Context<'_>) -> AppResult<Option<Community>> {
        match self.0.community_id {
            None => Ok(None),
            Some(c) => Ok(loader(ctx)?.load_one(CommunityKey(c)).await?.map(Community)),
        }
    }
}
