//! Places and organisations: streets, communities, grids (with micro-grids and staff),
//! organisations and the 连心卡 contact card.

use crate::core::error::AppResult;
use async_graphql::{ComplexObject, Context, ID, InputObject, Object, SimpleObject};
use entity::{community, grid, organization, street};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::core::db::get;
use crate::core::mask::Access;
use crate::core::pagination as connection;
use crate::core::pagination::Conn;
use crate::core::pagination::Page;
use crate::graphql::context::actor;
use crate::graphql::context::db;
use crate::graphql::context::parse_id;
use crate::graphql::context::parse_opt_id;
use crate::graphql::context::viewer;
use crate::graphql::scalars::Date;
use crate::nodes::place::{
    Community, Grid, GridKind, GridStaff, Organization, OrganizationKind, StaffRole, Street,
    grid_filter,
};
use crate::places::policy;
use crate::places::rules as svc;

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
    /// The grid leader.
    pub leader: Option<ContactPerson>,
    /// Grid workers and auxiliaries.
    pub workers: Vec<ContactPerson>,
}

#[ComplexObject]
impl ContactCard {
    /// The grid.
    async fn grid(&self) -> Grid {
        Grid(self.grid_model.clone())
    }
    /// The grid's community.
    async fn community(&self) -> Community {
        Community(self.community_model.clone())
    }
    /// The community office's phone.
    async fn community_phone(&self) -> Option<&str> {
        self.community_model.phone.as_deref()
    }
}

/// A person to contact, as shown on a grid's contact card.
#[derive(SimpleObject)]
pub struct ContactPerson {
    /// The name (masked as `User.displayName` is).
    pub display_name: String,
    /// The post.
    pub role: StaffRole,
    /// A photo of the person.
    pub avatar_url: Option<String>,
    /// The name.
    #[graphql(deprecation = "Use `displayName` (a person's name is `displayName` everywhere).")]
    pub name: String,
    /// A photo of the person.
    #[graphql(deprecation = "Use `avatarUrl` (a person's photo is `avatarUrl` everywhere).")]
    pub photo_url: Option<String>,
    /// Whole for users of the community, masked (138****5678) otherwise.
    pub phone: Option<String>,
}

/// A new street (街道).
#[derive(InputObject)]
pub struct CreateStreetInput {
    /// The name.
    pub name: String,
    /// A contact phone number.
    pub phone: Option<String>,
}

/// The new street.
#[derive(SimpleObject)]
pub struct CreateStreetPayload {
    /// The street it belongs to.
    pub street: Street,
}

/// A new community of a street.
#[derive(InputObject)]
pub struct CreateCommunityInput {
    /// Optional when there is only one street.
    pub street_id: Option<ID>,
    /// The name.
    pub name: String,
    /// A contact phone number.
    pub phone: Option<String>,
    /// The address.
    pub address: Option<String>,
}

/// The new community.
#[derive(SimpleObject)]
pub struct CreateCommunityPayload {
    /// The community it belongs to.
    pub community: Community,
}

/// A new grid of a community.
#[derive(InputObject)]
pub struct CreateGridInput {
    /// The community.
    pub community_id: ID,
    /// Required for MICRO grids: the grid they belong to.
    pub parent_id: Option<ID>,
    /// The name.
    pub name: String,
    /// What the grid covers.
    pub kind: GridKind,
    /// Households in the grid.
    #[graphql(default)]
    pub households: i32,
    /// A free-text description.
    pub description: Option<String>,
}

/// The new grid.
#[derive(SimpleObject)]
pub struct CreateGridPayload {
    /// The grid it belongs to.
    pub grid: Grid,
}

/// A person to put on a grid's staff.
#[derive(InputObject)]
pub struct AssignGridStaffInput {
    /// The grid.
    pub grid_id: ID,
    /// The person.
    pub user_id: ID,
    /// The post.
    pub role: StaffRole,
    /// Defaults to today (Asia/Shanghai).
    pub start_date: Option<Date>,
}

/// The new staff post.
#[derive(SimpleObject)]
pub struct AssignGridStaffPayload {
    /// The staff post.
    pub staff: GridStaff,
}

/// The staff post to end.
#[derive(InputObject)]
pub struct EndGridStaffInput {
    /// The staff post.
    pub staff_id: ID,
    /// Defaults to today (Asia/Shanghai).
    pub end_date: Option<Date>,
}

/// The ended staff post.
#[derive(SimpleObject)]
pub struct EndGridStaffPayload {
    /// The staff post.
    pub staff: GridStaff,
}

/// A new organisation (a party organisation, a unit, a department).
#[derive(InputObject)]
pub struct CreateOrganizationInput {
    /// The name.
    pub name: String,
    /// What kind of organisation.
    pub kind: OrganizationKind,
    /// The organisation it belongs to, if any.
    pub parent_id: Option<ID>,
    /// The community it is in, if one.
    pub community_id: Option<ID>,
}

/// The new organisation.
#[derive(SimpleObject)]
pub struct CreateOrganizationPayload {
    /// The organisation.
    pub organization: Organization,
}

#[derive(Default)]
pub struct GridQuery;

#[Object]
impl GridQuery {
    /// Streets, in id order.
    #[graphql(complexity = "connection::complexity(child_complexity, first)")]
    async fn streets(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many items to return (1 to 100, default 20).")] first: Option<i32>,
        #[graphql(
            desc = "Return the items after this cursor (`pageInfo.endCursor` of the previous page)."
        )]
        after: Option<String>,
    ) -> AppResult<Conn<Street>> {
        let page = Page::new(ctx, first, after.as_deref())?;
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

    /// Communities, in id order.
    #[graphql(complexity = "connection::complexity(child_complexity, first)")]
    async fn communities(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only items of this street.")] street_id: Option<ID>,
        #[graphql(desc = "How many items to return (1 to 100, default 20).")] first: Option<i32>,
        #[graphql(
            desc = "Return the items after this cursor (`pageInfo.endCursor` of the previous page)."
        )]
        after: Option<String>,
    ) -> AppResult<Conn<Community>> {
        let page = Page::new(ctx, first, after.as_deref())?;
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

    /// A community by id.
    async fn community(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The id of the community.")] id: ID,
    ) -> AppResult<Community> {
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
        #[graphql(desc = "Only items of this community.")] community_id: Option<ID>,
        #[graphql(desc = "Only items of this kind.")] kind: Option<GridKind>,
        #[graphql(desc = "Only items inside this parent.")] parent_id: Option<ID>,
        #[graphql(desc = "How many items to return (1 to 100, default 20).")] first: Option<i32>,
        #[graphql(
            desc = "Return the items after this cursor (`pageInfo.endCursor` of the previous page)."
        )]
        after: Option<String>,
    ) -> AppResult<Conn<Grid>> {
        let page = Page::new(ctx, first, after.as_deref())?;
        let mut q = grid_filter(parse_opt_id("communityId", community_id.as_ref())?, kind);
        if let Some(p) = parse_opt_id("parentId", parent_id.as_ref())? {
            q = q.filter(grid::Column::ParentId.eq(p));
        }
        Ok(
            connection::paginate(db(ctx)?, q, grid::Column::Id, false, page, |m| m.id, Grid)
                .await?,
        )
    }

    /// A grid by id.
    async fn grid(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The id of the grid.")] id: ID,
    ) -> AppResult<Grid> {
        let id = parse_id("id", &id)?;
        Ok(Grid(
            get::<grid::Entity, _>(db(ctx)?, id, "网格不存在").await?,
        ))
    }

    /// 连心卡 of a grid: leader and workers with phones (whole for the people of the community and for a member holding an active claim on a wish of the grid), and the community's phone.
    async fn contact_card(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The grid.")] grid_id: ID,
    ) -> AppResult<ContactCard> {
        let grid_id = parse_id("gridId", &grid_id)?;
        let card = svc::contact_card(db(ctx)?, grid_id).await?;
        let mut access = policy::contact_card(viewer(ctx).user(), card.community.id);
        // A 圆梦人 with an active claim here reaches the grid's staff too.
        if access != Access::Full
            && let Some(me) = viewer(ctx).user()
            && crate::wish::policy::holds_active_claim_in_grid(db(ctx)?, me, grid_id).await?
        {
            access = Access::Full;
        }
        let person = |post: &entity::grid_staff::Model, user: &entity::user::Model| ContactPerson {
            display_name: access.name(&user.display_name),
            name: access.name(&user.display_name),
            role: post.role.into(),
            avatar_url: user.avatar_url.clone(),
            photo_url: user.avatar_url.clone(),
            phone: user.phone.as_deref().map(|p| access.phone(p)),
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
            phones_visible: access == Access::Full,
            leader,
            workers,
        })
    }

    /// Organisations, filtered by kind, community, parent, or party organisations only.
    #[graphql(complexity = "connection::complexity(child_complexity, first)")]
    async fn organizations(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only items of this kind.")] kind: Option<OrganizationKind>,
        #[graphql(desc = "Only items of this community.")] community_id: Option<ID>,
        #[graphql(desc = "Only items inside this parent.")] parent_id: Option<ID>,
        #[graphql(desc = "Only party organisations.")] party_only: Option<bool>,
        #[graphql(desc = "How many items to return (1 to 100, default 20).")] first: Option<i32>,
        #[graphql(
            desc = "Return the items after this cursor (`pageInfo.endCursor` of the previous page)."
        )]
        after: Option<String>,
    ) -> AppResult<Conn<Organization>> {
        use entity::organization::OrganizationKind as K;
        let page = Page::new(ctx, first, after.as_deref())?;
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

    /// An organisation by id.
    async fn organization(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The id of the organization.")] id: ID,
    ) -> AppResult<Organization> {
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
        #[graphql(desc = "The fields of the operation.")] input: CreateStreetInput,
    ) -> AppResult<CreateStreetPayload> {
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
        #[graphql(desc = "The fields of the operation.")] input: CreateCommunityInput,
    ) -> AppResult<CreateCommunityPayload> {
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
        #[graphql(desc = "The fields of the operation.")] input: CreateGridInput,
    ) -> AppResult<CreateGridPayload> {
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

    /// Assigns a leader, worker or auxiliary to a grid (staff of the community). A grid has at most one current leader.
    async fn assign_grid_staff(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The fields of the operation.")] input: AssignGridStaffInput,
    ) -> AppResult<AssignGridStaffPayload> {
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
        #[graphql(desc = "The fields of the operation.")] input: EndGridStaffInput,
    ) -> AppResult<EndGridStaffPayload> {
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
        #[graphql(desc = "The fields of the operation.")] input: CreateOrganizationInput,
    ) -> AppResult<CreateOrganizationPayload> {
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
