//! Party-member registration (党员报到) with a community and assignment to a grid.

use entity::{
    community, grid, grid_registration, grid_registration::RegistrationStatus, organization,
    role_assignment::Role,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, sea_query::Expr,
};

use crate::auth::AuthUser;
use crate::core::db;
use crate::core::db::get;
use crate::core::error::AppError;
use crate::core::error::AppResult;
use crate::core::error::ErrorReason;
use crate::core::validate;

pub struct NewRegistration {
    pub community_id: i64,
    pub grid_id: Option<i64>,
    pub home_organization_id: Option<i64>,
    pub home_organization_name: Option<String>,
    pub service_kinds: Vec<String>,
    pub note: Option<String>,
}

/// A party member registers with the community where they live. At most one PENDING or
/// APPROVED registration per member (held by a partial unique index).
pub async fn register(
    db: &DatabaseConnection,
    actor: &AuthUser,
    input: NewRegistration,
) -> AppResult<grid_registration::Model> {
    if !actor.has_role(Role::PartyMember) {
        return Err(AppError::Forbidden("只有党员可以报到"));
    }
    let community = get::<community::Entity, _>(db, input.community_id, "社区不存在").await?;
    if let Some(g) = input.grid_id {
        let grid = get::<grid::Entity, _>(db, g, "网格不存在").await?;
        if grid.community_id != community.id {
            return Err(AppError::bad_field("gridId", "网格不在该社区"));
        }
    }
    let home_name = match input.home_organization_id {
        Some(o) => {
            get::<organization::Entity, _>(db, o, "组织不存在")
                .await?
                .name
        }
        None => validate::text(
            "homeOrganizationName",
            input.home_organization_name.as_deref().unwrap_or(""),
            100,
        )?,
    };
    if input.service_kinds.is_empty() || input.service_kinds.len() > 10 {
        return Err(AppError::bad_field(
            "serviceKinds",
            "请选择 1–10 项服务类型",
        ));
    }
    let mut kinds = Vec::with_capacity(input.service_kinds.len());
    for k in &input.service_kinds {
        let k = validate::text("serviceKinds", k, 20)?;
        if !kinds.contains(&k) {
            kinds.push(k);
        }
    }
    let note = validate::opt_text("note", input.note.as_deref(), 500)?;
    let open = grid_registration::Entity::find()
        .filter(grid_registration::Column::MemberId.eq(actor.id()))
        .filter(open_status())
        .count(db)
        .await?;
    if open > 0 {
        return Err(AppError::conflict(
            ErrorReason::RegistrationExists,
            "已有待审核或已通过的报到",
        ));
    }
    let now = crate::core::clock::now();
    grid_registration::ActiveModel {
        member_id: Set(actor.id()),
        community_id: Set(community.id),
        grid_id: Set(input.grid_id),
        home_organization_id: Set(input.home_organization_id),
        home_organization_name: Set(home_name),
        service_kinds: Set(serde_json::to_string(&kinds).map_err(AppError::internal)?),
        note: Set(note),
        status: Set(RegistrationStatus::Pending),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(|e| {
        AppError::on_unique(
            e,
            ErrorReason::RegistrationExists,
            "已有待审核或已通过的报到",
        )
    })
}

fn open_status() -> Condition {
    Condition::any()
        .add(grid_registration::Column::Status.eq(RegistrationStatus::Pending))
        .add(grid_registration::Column::Status.eq(RegistrationStatus::Approved))
}

pub enum Decision {
    Approve { grid_id: Option<i64> },
    Reject { reason: String },
}

/// Staff of the registration's community approve it (assigning a grid) or reject it.
pub async fn review(
    db: &DatabaseConnection,
    events: &crate::core::bus::Bus,
    actor: &AuthUser,
    registration_id: i64,
    decision: Decision,
) -> AppResult<grid_registration::Model> {
    let reg = get::<grid_registration::Entity, _>(db, registration_id, "报到记录不存在").await?;
    if !actor.is_staff_of(reg.community_id) {
        return Err(AppError::forbidden());
    }
    if reg.status != RegistrationStatus::Pending {
        return Err(AppError::invalid_state(
            ErrorReason::NotPendingReview,
            "只能审核待审核的报到",
        ));
    }
    let now = crate::core::clock::now();
    let mut update = grid_registration::Entity::update_many()
        .col_expr(
            grid_registration::Column::ReviewedBy,
            Expr::value(actor.id()),
        )
        .col_expr(grid_registration::Column::ReviewedAt, Expr::value(now))
        .col_expr(grid_registration::Column::UpdatedAt, Expr::value(now));
    match decision {
        Decision::Approve { grid_id } => {
            let g = grid_id
                .or(reg.grid_id)
                .ok_or_else(|| AppError::bad_field("gridId", "通过报到须指定网格"))?;
            let grid = get::<grid::Entity, _>(db, g, "网格不存在").await?;
            if grid.community_id != reg.community_id {
                return Err(AppError::bad_field("gridId", "网格不在该社区"));
            }
            update = update
                .col_expr(
                    grid_registration::Column::Status,
                    Expr::value(RegistrationStatus::Approved),
                )
                .col_expr(grid_registration::Column::GridId, Expr::value(grid.id));
        }
        Decision::Reject { reason } => {
            let reason = validate::text("reason", &reason, 200)?;
            update = update
                .col_expr(
                    grid_registration::Column::Status,
                    Expr::value(RegistrationStatus::Rejected),
                )
                .col_expr(grid_registration::Column::ReviewReason, Expr::value(reason));
        }
    }
    let txn = db::begin_write(db).await?;
    let res = update
        .filter(grid_registration::Column::Id.eq(reg.id))
        .filter(grid_registration::Column::Status.eq(RegistrationStatus::Pending))
        .exec(&txn)
        .await?;
    if res.rows_affected != 1 {
        return Err(AppError::conflict(
            ErrorReason::RegistrationAlreadyReviewed,
            "该报到已被处理",
        ));
    }
    let reviewed = get::<grid_registration::Entity, _>(&txn, reg.id, "报到记录不存在").await?;
    let (to, message) = reviewed_notice(&reviewed);
    let told = crate::notify::outbox::enqueue(&txn, to, &message).await?;
    txn.commit().await?;
    crate::notify::outbox::announce(db, events, told).await;
    Ok(reviewed)
}

/// The member withdraws their own PENDING or APPROVED registration.
pub async fn withdraw(
    db: &DatabaseConnection,
    actor: &AuthUser,
    registration_id: i64,
    reason: Option<String>,
) -> AppResult<grid_registration::Model> {
    let reg = get::<grid_registration::Entity, _>(db, registration_id, "报到记录不存在").await?;
    if reg.member_id != actor.id() {
        return Err(AppError::Forbidden("只能撤回自己的报到"));
    }
    if !matches!(
        reg.status,
        RegistrationStatus::Pending | RegistrationStatus::Approved
    ) {
        return Err(AppError::invalid_state(
            ErrorReason::RegistrationClosed,
            "该报到已结束，不能撤回",
        ));
    }
    let reason = validate::opt_text("reason", reason.as_deref(), 200)?;
    let now = crate::core::clock::now();
    let txn = db::begin_write(db).await?;
    let res = grid_registration::Entity::update_many()
        .col_expr(
            grid_registration::Column::Status,
            Expr::value(RegistrationStatus::Withdrawn),
        )
        .col_expr(grid_registration::Column::ReviewReason, Expr::value(reason))
        .col_expr(grid_registration::Column::UpdatedAt, Expr::value(now))
        .filter(grid_registration::Column::Id.eq(reg.id))
        .filter(open_status())
        .exec(&txn)
        .await?;
    if res.rows_affected != 1 {
        return Err(AppError::invalid_state(
            ErrorReason::RegistrationClosed,
            "该报到已结束，不能撤回",
        ));
    }
    txn.commit().await?;
    get::<grid_registration::Entity, _>(db, reg.id, "报到记录不存在").await
}

/// The member learns the outcome of their registration (报到) review.
fn reviewed_notice(
    r: &grid_registration::Model,
) -> (
    crate::notify::outbox::Recipients,
    crate::notify::outbox::Message,
) {
    use crate::notify::{kinds::Kind, outbox::*};
    let approved = r.status == RegistrationStatus::Approved;
    let body = if approved {
        "您的报到申请已通过，欢迎参与网格服务。".to_owned()
    } else {
        format!(
            "您的报到申请未通过：{}",
            r.review_reason.as_deref().unwrap_or("")
        )
    };
    (
        Recipients::Users(vec![r.member_id]),
        Message {
            kind: Kind::RegistrationReviewed,
            title: if approved {
                "报到已通过"
            } else {
                "报到未通过"
            }
            .into(),
            body,
            page: Some("pages/registration/index".into()),
            subject: Some(("GridRegistration", r.id)),
            fields: vec![
                ("thing1", "党员报到".into()),
                ("phrase2", if approved { "已通过" } else { "未通过" }.into()),
                ("time3", local_time(crate::core::clock::now())),
            ],
            dedup_key: None,
        },
    )
}
