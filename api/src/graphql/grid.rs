//! Places and organisations: streets, communities, grids (with micro-grids and staff),
//! organisations and the 连心卡 contact card.

use async_graphql::{ComplexObject, Context, Enum, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{community, grid, grid_registration, grid_staff, organization, street};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::{
    account::User,
    actor,
    connection::{self, Conn, Page},
    db, loader,
    loaders::{
        ChildOrganizationsOf, CommunityKey, CurrentStaffOfGrid, GridKey, MicroGridsOf,
        OrganizationKey, RegisteredCountOf, StreetKey, UserKey,
    },
    parse_id, parse_opt_id,
    scalars::Date,
    viewer,
};
use crate::{
    error::AppError,
    service::{get, place as svc, validate},
};

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

#[Object]
impl Street {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn phone(&self) -> Option<&str> {
        self.0.phone.as_deref()
    }
    #[graphql(complexity = "connection::complexity(child_complexity, first)")]
    async fn communities(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Conn<Community>> {
        let page = Page::new(first, after.as_deref())?;
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

#[Object]
impl Community {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// The community office's public phone.
    async fn phone(&self) -> Option<&str> {
        self.0.phone.as_deref()
    }
    async fn address(&self) -> Option<&str> {
        self.0.address.as_deref()
    }
    async fn street(&self, ctx: &Context<'_>) -> Result<Street> {
        loader(ctx)?
            .load_one(StreetKey(self.0.street_id))
            .await?
            .map(Street)
            .ok_or_else(|| AppError::internal("community without street").into())
    }
    /// Grids of the community (top-level grids unless `kind` is MICRO).
    #[graphql(complexity = "connection::complexity(child_complexity, first)")]
    async fn grids(
        &self,
        ctx: &Context<'_>,
        kind: Option<GridKind>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Conn<Grid>> {
        let page = Page::new(first, after.as_deref())?;
        let q = grid_filter(Some(self.0.id), kind);
        Ok(
            connection::paginate(db(ctx)?, q, grid::Column::Id, false, page, |m| m.id, Grid)
                .await?,
        )
    }
}

fn grid_filter(community: Option<i64>, kind: Option<GridKind>) -> sea_orm::Select<grid::Entity> {
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

#[Object]
impl Grid {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn kind(&self) -> GridKind {
        self.0.kind.into()
    }
    /// 户数
    async fn households(&self) -> i32 {
        self.0.households
    }
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn community(&self, ctx: &Context<'_>) -> Result<Community> {
        loader(ctx)?
            .load_one(CommunityKey(self.0.community_id))
            .await?
            .map(Community)
            .ok_or_else(|| AppError::internal("grid without community").into())
    }
    /// The grid a micro-grid belongs to.
    async fn parent(&self, ctx: &Context<'_>) -> Result<Option<Grid>> {
        match self.0.parent_id {
            None => Ok(None),
            Some(p) => Ok(loader(ctx)?.load_one(GridKey(p)).await?.map(Grid)),
        }
    }
    async fn micro_grids(&self, ctx: &Context<'_>) -> Result<Vec<Grid>> {
        let rows = loader(ctx)?
            .load_one(MicroGridsOf(self.0.id))
            .await?
            .unwrap_or_default();
        Ok(rows.into_iter().map(Grid).collect())
    }
    /// Current posts: leader, workers and auxiliaries.
    async fn staff(&self, ctx: &Context<'_>) -> Result<Vec<GridStaff>> {
        let rows = loader(ctx)?
            .load_one(CurrentStaffOfGrid(self.0.id))
            .await?
            .unwrap_or_default();
        Ok(rows.into_iter().map(GridStaff).collect())
    }
    /// The current grid leader (网格长).
    async fn leader(&self, ctx: &Context<'_>) -> Result<Option<User>> {
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
            .map(User))
    }
    /// Number of party members registered (报到, approved) to this grid.
    async fn registered_member_count(&self, ctx: &Context<'_>) -> Result<i64> {
        Ok(loader(ctx)?
            .load_one(RegisteredCountOf(self.0.id))
            .await?
            .unwrap_or(0))
    }
    /// Party members registered to this grid (users of the community only).
    #[graphql(complexity = "connection::complexity(child_complexity, first)")]
    async fn registered_members(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Conn<super::registration::GridRegistration>> {
        let v = super::actor(ctx)?;
        if !v.belongs_to(self.0.community_id) {
            return Err(AppError::Forbidden("只有本社区用户可以查看报到党员").into());
        }
        let page = Page::new(first, after.as_deref())?;
        let q = grid_registration::Entity::find()
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
            super::registration::GridRegistration,
        )
        .await?)
    }
}

/// A post in a grid.
pub struct GridStaff(pub grid_staff::Model);

#[Object]
impl GridStaff {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn role(&self) -> StaffRole {
        self.0.role.into()
    }
    async fn start_date(&self) -> Date {
        Date(self.0.start_date)
    }
    async fn end_date(&self) -> Option<Date> {
        self.0.end_date.map(Date)
    }
    async fn user(&self, ctx: &Context<'_>) -> Result<User> {
        loader(ctx)?
            .load_one(UserKey(self.0.user_id))
            .await?
            .map(User)
            .ok_or_else(|| AppError::internal("post without user").into())
    }
    async fn grid(&self, ctx: &Context<'_>) -> Result<Grid> {
        loader(ctx)?
            .load_one(GridKey(self.0.grid_id))
            .await?
            .map(Grid)
            .ok_or_else(|| AppError::internal("post without grid").into())
    }
}

/// A party organisation or a unit.
pub struct Organization(pub organization::Model);

#[Object]
impl Organization {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn kind(&self) -> OrganizationKind {
        self.0.kind.into()
    }
    /// Whether this is a party organisation (not a unit).
    async fn is_party_organization(&self) -> bool {
        self.0.kind.is_party()
    }
    async fn parent(&self, ctx: &Context<'_>) -> Result<Option<Organization>> {
        match self.0.parent_id {
            None => Ok(None),
            Some(p) => Ok(loader(ctx)?
                .load_one(OrganizationKey(p))
                .await?
                .map(Organization)),
        }
    }
    async fn children(&self, ctx: &Context<'_>) -> Result<Vec<Organization>> {
        let rows = loader(ctx)?
            .load_one(ChildOrganizationsOf(self.0.id))
            .await?
            .unwrap_or_default();
        Ok(rows.into_iter().map(Organization).collect())
    }
    /// The community the organisation is located in.
    async fn community(&self, ctx: &Context<'_>) -> Result<Option<Community>> {
        match self.0.community_id {
            None => Ok(None),
            Some(c) => Ok(loader(ctx)?.load_one(CommunityKey(c)).await?.map(Community)),
        }
    }
}

/// 连心卡: who to call in a grid. Phones are masked for callers outside the community.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct ContactCard {
    #[graphql(skip)]
    pub grid_model: grid::Model,
    #[graphql(skip)]
    pub community_model: community::Model,
    /// Whether phones are shown whole to this caller.
    pub phones_visible: bool,
    pub leader: Option<ContactPerson>,
    /// Grid workers and auxiliaries.
    pub workers: Vec<ContactPerson>,
}

#[ComplexObject]
impl ContactCard {
    async fn grid(&self) -> Grid {
        Grid(self.grid_model.clone())
    }
    async fn community(&self) -> Community {
        Community(self.community_model.clone())
    }
    /// The community office's phone.
    async fn community_phone(&self) -> Option<&str> {
        self.community_model.phone.as_deref()
    }
}

#[derive(SimpleObject)]
pub struct ContactPerson {
    pub name: String,
    pub role: StaffRole,
    pub photo_url: Option<String>,
    /// Whole for users of the community, masked (138****5678) otherwise.
    pub phone: Option<String>,
}

#[derive(InputObject)]
pub struct CreateStreetInput {
    pub name: String,
    pub phone: Option<String>,
}

#[derive(SimpleObject)]
pub struct CreateStreetPayload {
    pub street: Street,
}

#[derive(InputObject)]
pub struct CreateCommunityInput {
    /// Optional when there is only one street.
    pub street_id: Option<ID>,
    pub name: String,
    pub phone: Option<String>,
    pub address: Option<String>,
}

#[derive(SimpleObject)]
pub struct CreateCommunityPayload {
    pub community: Community,
}

#[derive(InputObject)]
pub struct CreateGridInput {
    pub community_id: ID,
    /// Required for MICRO grids: the grid they belong to.
    pub parent_id: Option<ID>,
    pub name: String,
    pub kind: GridKind,
    #[graphql(default)]
    pub households: i32,
    pub description: Option<String>,
}

#[derive(SimpleObject)]
pub struct CreateGridPayload {
    pub grid: Grid,
}

#[derive(InputObject)]
pub struct AssignGridStaffInput {
    pub grid_id: ID,
    pub user_id: ID,
    pub role: StaffRole,
    /// Defaults to today (Asia/Shanghai).
    pub start_date: Option<Date>,
}

#[derive(SimpleObject)]
pub struct AssignGridStaffPayload {
    pub staff: GridStaff,
}

#[derive(InputObject)]
pub struct EndGridStaffInput {
    pub staff_id: ID,
    /// Defaults to today (Asia/Shanghai).
    pub end_date: Option<Date>,
}

#[derive(SimpleObject)]
pub struct EndGridStaffPayload {
    pub staff: GridStaff,
}

#[derive(InputObject)]
pub struct CreateOrganizationInput {
    pub name: String,
    pub kind: OrganizationKind,
    pub parent_id: Option<ID>,
    pub community_id: Option<ID>,
}

#[derive(SimpleObject)]
pub struct CreateOrganizationPayload {
    pub organization: Organization,
}

#[derive(Default)]
pub struct GridQuery;

#[Object]
impl GridQuery {
    #[graphql(complexity = "connection::complexity(child_complexity, first)")]
    async fn streets(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Conn<Street>> {
        let page = Page::new(first, after.as_deref())?;
        Ok(connection::paginate(
            db(ctx)?,
            street::Entity::find(),
            street::Column::Id,
            false,
            page,
            |m| m.id,
            Street,
        )
        .await?)
    }

    #[graphql(complexity = "connection::complexity(child_complexity, first)")]
    async fn communities(
        &self,
        ctx: &Context<'_>,
        street_id: Option<ID>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Conn<Community>> {
        let page = Page::new(first, after.as_deref())?;
        let mut q = community::Entity::find();
        if let Some(s) = parse_opt_id("streetId", street_id.as_ref())? {
            q = q.filter(community::Column::StreetId.eq(s));
        }
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

    async fn community(&self, ctx: &Context<'_>, id: ID) -> Result<Community> {
        let id = parse_id("id", &id)?;
        Ok(Community(
            get::<community::Entity, _>(db(ctx)?, id, "社区不存在").await?,
        ))
    }

    /// Grids, filtered by community, kind and parent grid.
    #[graphql(complexity = "connection::complexity(child_complexity, first)")]
    async fn grids(
        &self,
        ctx: &Context<'_>,
        community_id: Option<ID>,
        kind: Option<GridKind>,
        parent_id: Option<ID>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Conn<Grid>> {
        let page = Page::new(first, after.as_deref())?;
        let mut q = grid_filter(parse_opt_id("communityId", community_id.as_ref())?, kind);
        if let Some(p) = parse_opt_id("parentId", parent_id.as_ref())? {
            q = q.filter(grid::Column::ParentId.eq(p));
        }
        Ok(
            connection::paginate(db(ctx)?, q, grid::Column::Id, false, page, |m| m.id, Grid)
                .await?,
        )
    }

    async fn grid(&self, ctx: &Context<'_>, id: ID) -> Result<Grid> {
        let id = parse_id("id", &id)?;
        Ok(Grid(
            get::<grid::Entity, _>(db(ctx)?, id, "网格不存在").await?,
        ))
    }

    /// 连心卡 of a grid: leader and workers with phones, and the community's phone.
    async fn contact_card(&self, ctx: &Context<'_>, grid_id: ID) -> Result<ContactCard> {
        let grid_id = parse_id("gridId", &grid_id)?;
        let card = svc::contact_card(db(ctx)?, grid_id).await?;
        let visible = viewer(ctx)
            .user()
            .is_some_and(|u| u.belongs_to(card.community.id));
        let person = |post: &entity::grid_staff::Model, user: &entity::user::Model| ContactPerson {
            name: user.display_name.clone(),
            role: post.role.into(),
            photo_url: user.avatar_url.clone(),
            phone: user.phone.as_ref().map(|p| {
                if visible {
                    p.clone()
                } else {
                    validate::mask_phone(p)
                }
            }),
        };
        let leader = card
            .staff
            .iter()
            .find(|(p, _)| p.role == entity::grid_staff::StaffRole::Leader)
            .map(|(p, u)| person(p, u));
        let workers = card
            .staff
            .iter()
            .filter(|(p, _)| p.role != entity::grid_staff::StaffRole::Leader)
            .map(|(p, u)| person(p, u))
            .collect();
        Ok(ContactCard {
            grid_model: card.grid,
            community_model: card.community,
            phones_visible: visible,
            leader,
            workers,
        })
    }

    /// Organisations, filtered by kind, community, parent, or party organisations only.
    #[graphql(complexity = "connection::complexity(child_complexity, first)")]
    async fn organizations(
        &self,
        ctx: &Context<'_>,
        kind: Option<OrganizationKind>,
        community_id: Option<ID>,
        parent_id: Option<ID>,
        party_only: Option<bool>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Conn<Organization>> {
        use entity::organization::OrganizationKind as K;
        let page = Page::new(first, after.as_deref())?;
        let mut q = organization::Entity::find();
        if let Some(k) = kind {
            q = q.filter(organization::Column::Kind.eq(K::from(k)));
        }
        if let Some(c) = parse_opt_id("communityId", community_id.as_ref())? {
            q = q.filter(organization::Column::CommunityId.eq(c));
        }
        if let Some(p) = parse_opt_id("parentId", parent_id.as_ref())? {
            q = q.filter(organization::Column::ParentId.eq(p));
        }
        if party_only == Some(true) {
            q = q.filter(organization::Column::Kind.is_in([
                K::PartyCommittee,
                K::PartyWorkingCommittee,
                K::GeneralBranch,
                K::Branch,
                K::Group,
            ]));
        }
        Ok(connection::paginate(
            db(ctx)?,
            q,
            organization::Column::Id,
            false,
            page,
            |m| m.id,
            Organization,
        )
        .await?)
    }

    async fn organization(&self, ctx: &Context<'_>, id: ID) -> Result<Organization> {
        let id = parse_id("id", &id)?;
        Ok(Organization(
            get::<organization::Entity, _>(db(ctx)?, id, "组织不存在").await?,
        ))
    }
}

#[derive(Default)]
pub struct GridMutation;

#[Object]
impl GridMutation {
    /// Creates a street (ADMIN).
    async fn create_street(
        &self,
        ctx: &Context<'_>,
        input: CreateStreetInput,
    ) -> Result<CreateStreetPayload> {
        let actor = actor(ctx)?;
        let street =
            svc::create_street(db(ctx)?, actor, &input.name, input.phone.as_deref()).await?;
        Ok(CreateStreetPayload {
            street: Street(street),
        })
    }

    /// Creates a community (ADMIN).
    async fn create_community(
        &self,
        ctx: &Context<'_>,
        input: CreateCommunityInput,
    ) -> Result<CreateCommunityPayload> {
        let actor = actor(ctx)?;
        let community = svc::create_community(
            db(ctx)?,
            actor,
            svc::NewCommunity {
                street_id: parse_opt_id("streetId", input.street_id.as_ref())?,
                name: input.name,
                phone: input.phone,
                address: input.address,
            },
        )
        .await?;
        Ok(CreateCommunityPayload {
            community: Community(community),
        })
    }

    /// Creates a grid or micro-grid (staff of the community).
    async fn create_grid(
        &self,
        ctx: &Context<'_>,
        input: CreateGridInput,
    ) -> Result<CreateGridPayload> {
        let actor = actor(ctx)?;
        let grid = svc::create_grid(
            db(ctx)?,
            actor,
            svc::NewGrid {
                community_id: parse_id("communityId", &input.community_id)?,
                parent_id: parse_opt_id("parentId", input.parent_id.as_ref())?,
                name: input.name,
                kind: input.kind.into(),
                households: input.households,
                description: input.description,
            },
        )
        .await?;
        Ok(CreateGridPayload { grid: Grid(grid) })
    }

    /// Assigns a leader, worker or auxiliary to a grid (staff of the community). A grid has
    /// at most one current leader.
    async fn assign_grid_staff(
        &self,
        ctx: &Context<'_>,
        input: AssignGridStaffInput,
    ) -> Result<AssignGridStaffPayload> {
        let actor = actor(ctx)?;
        let post = svc::assign_grid_staff(
            db(ctx)?,
            actor,
            svc::NewStaff {
                grid_id: parse_id("gridId", &input.grid_id)?,
                user_id: parse_id("userId", &input.user_id)?,
                role: input.role.into(),
                start_date: input.start_date.map(|d| d.0),
            },
        )
        .await?;
        Ok(AssignGridStaffPayload {
            staff: GridStaff(post),
        })
    }

    /// Ends a post in a grid (staff of the community).
    async fn end_grid_staff(
        &self,
        ctx: &Context<'_>,
        input: EndGridStaffInput,
    ) -> Result<EndGridStaffPayload> {
        let actor = actor(ctx)?;
        let id = parse_id("staffId", &input.staff_id)?;
        let post = svc::end_grid_staff(db(ctx)?, actor, id, input.end_date.map(|d| d.0)).await?;
        Ok(EndGridStaffPayload {
            staff: GridStaff(post),
        })
    }

    /// Creates an organisation (ADMIN, or staff for one located in their community).
    async fn create_organization(
        &self,
        ctx: &Context<'_>,
        input: CreateOrganizationInput,
    ) -> Result<CreateOrganizationPayload> {
        let actor = actor(ctx)?;
        let org = svc::create_organization(
            db(ctx)?,
            actor,
            svc::NewOrganization {
                name: input.name,
                kind: input.kind.into(),
                parent_id: parse_opt_id("parentId", input.parent_id.as_ref())?,
                community_id: parse_opt_id("communityId", input.community_id.as_ref())?,
            },
        )
        .await?;
        Ok(CreateOrganizationPayload {
            organization: Organization(org),
        })
    }
}
