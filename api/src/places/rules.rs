//! Places and organisations: streets, communities, grids and their staff, organisations.

use chrono::NaiveDate;
use entity::{
    community, grid, grid::GridKind, grid_staff, grid_staff::StaffRole, organization,
    organization::OrganizationKind, role_assignment, role_assignment::Role, street, user,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter,
};

use crate::auth::AuthUser;
use crate::core::db;
use crate::core::db::get;
use crate::core::error::AppError;
use crate::core::error::AppResult;
use crate::core::error::ErrorReason;
use crate::core::validate;

pub async fn create_street(
    db: &DatabaseConnection,
    actor: &AuthUser,
    name: &str,
    phone: Option<&str>,
) -> AppResult<street::Model> {
    if !actor.is_admin() {
        return Err(AppError::forbidden());
    }
    let name = validate::text("name", name, 50)?;
    let phone = validate::opt_phone(phone)?;
    street::ActiveModel {
        name: Set(name),
        phone: Set(phone),
        created_at: Set(crate::core::clock::now()),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(|e| AppError::on_unique(e, ErrorReason::NameTaken, "街道名称已存在"))
}

pub struct NewCommunity {
    pub street_id: Option<i64>,
    pub name: String,
    pub phone: Option<String>,
    pub address: Option<String>,
}

/// Creates a community (ADMIN). Without a street, the only street is used.
pub async fn create_community(
    db: &DatabaseConnection,
    actor: &AuthUser,
    input: NewCommunity,
) -> AppResult<community::Model> {
    if !actor.is_admin() {
        return Err(AppError::forbidden());
    }
    let name = validate::text("name", &input.name, 50)?;
    let phone = validate::opt_phone(input.phone.as_deref())?;
    let address = validate::opt_text("address", input.address.as_deref(), 200)?;
    let street_id = match input.street_id {
        Some(id) => get::<street::Entity, _>(db, id, "街道不存在").await?.id,
        None => {
            let streets = street::Entity::find().all(db).await?;
            match streets.as_slice() {
                [only] => only.id,
                [] => return Err(AppError::bad_field("streetId", "请先创建街道")),
                _ => return Err(AppError::bad_field("streetId", "请指定街道")),
            }
        }
    };
    community::ActiveModel {
        street_id: Set(street_id),
        name: Set(name),
        phone: Set(phone),
        address: Set(address),
        created_at: Set(crate::core::clock::now()),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(|e| AppError::on_unique(e, ErrorReason::NameTaken, "该街道已有同名社区"))
}

pub struct NewGrid {
    pub community_id: i64,
    pub parent_id: Option<i64>,
    pub name: String,
    pub kind: GridKind,
    pub households: i32,
    pub description: Option<String>,
}

/// Creates a grid or micro-grid (staff of the community).
pub async fn create_grid(
    db: &DatabaseConnection,
    actor: &AuthUser,
    input: NewGrid,
) -> AppResult<grid::Model> {
    let community = get::<community::Entity, _>(db, input.community_id, "社区不存在").await?;
    if !actor.is_staff_of(community.id) {
        return Err(AppError::forbidden());
    }
    let name = validate::text("name", &input.name, 50)?;
    let households = validate::count("households", input.households, 100_000)?;
    let description = validate::opt_text("description", input.description.as_deref(), 500)?;
    match (input.kind, input.parent_id) {
        (GridKind::Micro, None) => {
            return Err(AppError::bad_field("parentId", "微网格须指定所属网格"));
        }
        (GridKind::Micro, Some(parent_id)) => {
            let parent = get::<grid::Entity, _>(db, parent_id, "上级网格不存在").await?;
            if parent.community_id != community.id {
                return Err(AppError::bad_field("parentId", "上级网格不在该社区"));
            }
            if parent.kind == GridKind::Micro {
                return Err(AppError::bad_field("parentId", "微网格下不能再设微网格"));
            }
        }
        (_, Some(_)) => {
            return Err(AppError::bad_field(
                "parentId",
                "只有微网格可以指定上级网格",
            ));
        }
        (_, None) => {}
    }
    grid::ActiveModel {
        community_id: Set(community.id),
        parent_id: Set(input.parent_id),
        name: Set(name),
        kind: Set(input.kind),
        households: Set(households),
        description: Set(description),
        created_at: Set(crate::core::clock::now()),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(|e| AppError::on_unique(e, ErrorReason::NameTaken, "该社区已有同名网格"))
}

pub struct NewStaff {
    pub grid_id: i64,
    pub user_id: i64,
    pub role: StaffRole,
    pub start_date: Option<NaiveDate>,
}

/// Assigns a user to a post in a grid (staff of the grid's community). The user also gets the
/// GRID_WORKER role for that grid. A grid has at most one current leader.
pub async fn assign_grid_staff(
    db: &DatabaseConnection,
    actor: &AuthUser,
    input: NewStaff,
) -> AppResult<grid_staff::Model> {
    let grid = get::<grid::Entity, _>(db, input.grid_id, "网格不存在").await?;
    if !actor.is_staff_of(grid.community_id) {
        return Err(AppError::forbidden());
    }
    let person = get::<user::Entity, _>(db, input.user_id, "用户不存在").await?;
    if !person.active {
        return Err(AppError::bad_field("userId", "该账号已停用"));
    }
    let start_date = input.start_date.unwrap_or_else(validate::today);
    let txn = db::begin_write(db).await?;
    let current = grid_staff::Entity::find()
        .filter(grid_staff::Column::GridId.eq(grid.id))
        .filter(grid_staff::Column::EndDate.is_null())
        .all(&txn)
        .await?;
    if current.iter().any(|s| s.user_id == person.id) {
        return Err(AppError::conflict(
            ErrorReason::AlreadyGridStaff,
            "该用户已在此网格任职",
        ));
    }
    if input.role == StaffRole::Leader && current.iter().any(|s| s.role == StaffRole::Leader) {
        return Err(AppError::conflict(
            ErrorReason::GridHasLeader,
            "该网格已有网格长",
        ));
    }
    let post = grid_staff::ActiveModel {
        grid_id: Set(grid.id),
        user_id: Set(person.id),
        role: Set(input.role),
        start_date: Set(start_date),
        end_date: Set(None),
        created_at: Set(crate::core::clock::now()),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .map_err(|e| AppError::on_unique(e, ErrorReason::GridHasLeader, "该网格已有网格长"))?;
    let has_role = role_assignment::Entity::find()
        .filter(role_assignment::Column::UserId.eq(person.id))
        .filter(role_assignment::Column::Role.eq(Role::GridWorker))
        .filter(role_assignment::Column::GridId.eq(grid.id))
        .count(&txn)
        .await?
        > 0;
    if !has_role {
        let today = validate::today();
        let scope = crate::account::rules::RoleGrant {
            role: Role::GridWorker,
            community_id: None,
            grid_id: Some(grid.id),
            organization_id: None,
        };
        crate::account::roles::record_grant(
            &txn,
            person.id,
            &scope,
            start_date.max(today),
            None,
            Some(actor.id()),
            today,
        )
        .await?;
    }
    txn.commit().await?;
    Ok(post)
}

/// Ends a post (staff of the grid's community); the user loses the GRID_WORKER role there.
pub async fn end_grid_staff(
    db: &DatabaseConnection,
    actor: &AuthUser,
    assignment_id: i64,
    end_date: Option<NaiveDate>,
) -> AppResult<grid_staff::Model> {
    let post = get::<grid_staff::Entity, _>(db, assignment_id, "任职记录不存在").await?;
    let grid = get::<grid::Entity, _>(db, post.grid_id, "网格不存在").await?;
    if !actor.is_staff_of(grid.community_id) {
        return Err(AppError::forbidden());
    }
    if post.end_date.is_some() {
        return Err(AppError::invalid_state(
            ErrorReason::PostEnded,
            "该任职已结束",
        ));
    }
    let end_date = end_date.unwrap_or_else(validate::today);
    if end_date < post.start_date {
        return Err(AppError::bad_field("endDate", "结束日期不能早于开始日期"));
    }
    let txn = db::begin_write(db).await?;
    let res = grid_staff::Entity::update_many()
        .col_expr(
            grid_staff::Column::EndDate,
            sea_orm::sea_query::Expr::value(end_date),
        )
        .filter(grid_staff::Column::Id.eq(post.id))
        .filter(grid_staff::Column::EndDate.is_null())
        .exec(&txn)
        .await?;
    if res.rows_affected != 1 {
        return Err(AppError::invalid_state(
            ErrorReason::PostEnded,
            "该任职已结束",
        ));
    }
    crate::account::roles::revoke_grid_role(
        &txn,
        post.user_id,
        Role::GridWorker,
        grid.id,
        actor.id(),
        "网格任职结束",
    )
    .await?;
    txn.commit().await?;
    get::<grid_staff::Entity, _>(db, post.id, "任职记录不存在").await
}

pub struct NewOrganization {
    pub name: String,
    pub kind: OrganizationKind,
    pub parent_id: Option<i64>,
    pub community_id: Option<i64>,
}

/// Creates an organisation (ADMIN, or staff for one located in their community).
pub async fn create_organization(
    db: &DatabaseConnection,
    actor: &AuthUser,
    input: NewOrganization,
) -> AppResult<organization::Model> {
    let allowed = actor.is_admin() || input.community_id.is_some_and(|c| actor.is_staff_of(c));
    if !allowed {
        return Err(AppError::forbidden());
    }
    let name = validate::text("name", &input.name, 100)?;
    if let Some(c) = input.community_id {
        get::<community::Entity, _>(db, c, "社区不存在").await?;
    }
    if let Some(p) = input.parent_id {
        get::<organization::Entity, _>(db, p, "上级组织不存在").await?;
    }
    organization::ActiveModel {
        name: Set(name),
        kind: Set(input.kind),
        parent_id: Set(input.parent_id),
        community_id: Set(input.community_id),
        created_at: Set(crate::core::clock::now()),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(|e| AppError::on_unique(e, ErrorReason::NameTaken, "组织名称已存在"))
}

/// What a 连心卡 shows: the grid, its community and its current staff with their users.
pub struct ContactCard {
    pub grid: grid::Model,
    pub community: community::Model,
    pub staff: Vec<(grid_staff::Model, user::Model)>,
}

pub async fn contact_card(db: &DatabaseConnection, grid_id: i64) -> AppResult<ContactCard> {
    let grid = get::<grid::Entity, _>(db, grid_id, "网格不存在").await?;
    let community = get::<community::Entity, _>(db, grid.community_id, "社区不存在").await?;
    let posts = grid_staff::Entity::find()
        .filter(grid_staff::Column::GridId.eq(grid.id))
        .filter(grid_staff::Column::EndDate.is_null())
        .all(db)
        .await?;
    let users = user::Entity::find()
        .filter(user::Column::Id.is_in(posts.iter().map(|p| p.user_id).collect::<Vec<_>>()))
        .all(db)
        .await?;
    let mut staff: Vec<_> = posts
        .into_iter()
        .filter_map(|p| {
            users
                .iter()
                .find(|u| u.id == p.user_id)
                .cloned()
                .map(|u| (p, u))
        })
        .collect();
    staff.sort_by_key(|(p, _)| (staff_rank(p.role), p.id));
    Ok(ContactCard {
        grid,
        community,
        staff,
    })
}

fn staff_rank(role: StaffRole) -> u8 {
    match role {
        StaffRole::Leader => 0,
        StaffRole::Worker => 1,
        StaffRole::Auxiliary => 2,
    }
}
