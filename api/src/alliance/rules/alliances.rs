//! Agreement status as of a day, and alliances with their members.

use chrono::NaiveDate;
use entity::{
    agreement, agreement::StoredAgreementStatus, alliance, alliance::AllianceScope,
    alliance_member, community, organization, street,
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

#[allow(unused_imports)]
use super::*;

/// The status an agreement reads as today (Asia/Shanghai), without any background job.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AgreementStatus {
    Draft,
    Proposed,
    Active,
    Expired,
    Terminated,
}

impl AgreementStatus {
    pub const ALL: [AgreementStatus; 5] = [
        Self::Draft,
        Self::Proposed,
        Self::Active,
        Self::Expired,
        Self::Terminated,
    ];
}

pub fn effective_status(a: &agreement::Model, today: NaiveDate) -> AgreementStatus {
    use StoredAgreementStatus as S;
    match a.status {
        S::Terminated => AgreementStatus::Terminated,
        S::Draft => AgreementStatus::Draft,
        _ if a.end_date < today => AgreementStatus::Expired,
        S::Signed if a.start_date <= today => AgreementStatus::Active,
        S::Signed | S::Proposed => AgreementStatus::Proposed,
    }
}

/// Filter for agreements that read as `status` on `today`.
pub fn status_condition(status: AgreementStatus, today: NaiveDate) -> Condition {
    use StoredAgreementStatus as S;
    let c = Condition::all();
    match status {
        AgreementStatus::Draft => c.add(agreement::Column::Status.eq(S::Draft)),
        AgreementStatus::Terminated => c.add(agreement::Column::Status.eq(S::Terminated)),
        AgreementStatus::Expired => c
            .add(agreement::Column::Status.is_in([S::Proposed, S::Signed]))
            .add(agreement::Column::EndDate.lt(today)),
        AgreementStatus::Active => active_on(today),
        AgreementStatus::Proposed => c.add(agreement::Column::EndDate.gte(today)).add(
            Condition::any()
                .add(agreement::Column::Status.eq(S::Proposed))
                .add(
                    Condition::all()
                        .add(agreement::Column::Status.eq(S::Signed))
                        .add(agreement::Column::StartDate.gt(today)),
                ),
        ),
    }
}

/// Agreements in force on a date: signed by every party, not terminated, within the term.
pub fn active_on(date: NaiveDate) -> Condition {
    Condition::all()
        .add(agreement::Column::Status.eq(StoredAgreementStatus::Signed))
        .add(agreement::Column::StartDate.lte(date))
        .add(agreement::Column::EndDate.gte(date))
}

// ---- alliances ------------------------------------------------------------------------

pub struct NewAlliance {
    pub name: String,
    pub lead_organization_id: i64,
    pub scope: AllianceScope,
    pub street_id: Option<i64>,
    pub community_id: Option<i64>,
    pub description: Option<String>,
}

/// ADMIN creates any alliance; staff a community-scoped one in their community. The lead
/// organisation joins at once.
pub async fn create_alliance(
    db: &DatabaseConnection,
    actor: &AuthUser,
    input: NewAlliance,
) -> AppResult<alliance::Model> {
    let allowed = actor.is_admin()
        || (input.scope == AllianceScope::Community
            && input.community_id.is_some_and(|c| actor.is_staff_of(c)));
    if !allowed {
        return Err(AppError::forbidden());
    }
    let name = validate::text("name", &input.name, 100)?;
    let description = validate::opt_text("description", input.description.as_deref(), 1000)?;
    let lead = get::<organization::Entity, _>(db, input.lead_organization_id, "组织不存在").await?;
    let (street_id, community_id) = match input.scope {
        AllianceScope::Street => {
            let s = match input.street_id {
                Some(s) => get::<street::Entity, _>(db, s, "街道不存在").await?.id,
                None => {
                    street::Entity::find()
                        .one(db)
                        .await?
                        .ok_or_else(|| AppError::bad_field("streetId", "请指定街道"))?
                        .id
                }
            };
            (Some(s), None)
        }
        AllianceScope::Community => {
            let c = input
                .community_id
                .ok_or_else(|| AppError::bad_field("communityId", "社区联盟须指定社区"))?;
            let c = get::<community::Entity, _>(db, c, "社区不存在").await?;
            (Some(c.street_id), Some(c.id))
        }
    };
    let txn = db::begin_write(db).await?;
    let row = alliance::ActiveModel {
        name: Set(name),
        lead_organization_id: Set(lead.id),
        scope: Set(input.scope),
        street_id: Set(if input.scope == AllianceScope::Street {
            street_id
        } else {
            None
        }),
        community_id: Set(community_id),
        description: Set(description),
        created_by: Set(actor.id()),
        created_at: Set(crate::core::clock::now()),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .map_err(|e| AppError::on_unique(e, ErrorReason::NameTaken, "联盟名称已存在"))?;
    alliance_member::ActiveModel {
        alliance_id: Set(row.id),
        organization_id: Set(lead.id),
        joined_on: Set(validate::today()),
        left_on: Set(None),
        created_at: Set(crate::core::clock::now()),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok(row)
}

pub(crate) fn may_manage(actor: &AuthUser, a: &alliance::Model) -> bool {
    actor.is_admin()
        || actor.is_rep_of(a.lead_organization_id)
        || a.community_id.is_some_and(|c| actor.is_staff_of(c))
}

/// The lead organisation's UNIT_REP (or ADMIN, or staff of a community alliance) adds a
/// member; an organisation joins once.
pub async fn add_member(
    db: &DatabaseConnection,
    actor: &AuthUser,
    alliance_id: i64,
    organization_id: i64,
    joined_on: Option<NaiveDate>,
) -> AppResult<alliance_member::Model> {
    let a = get::<alliance::Entity, _>(db, alliance_id, "联盟不存在").await?;
    if !may_manage(actor, &a) {
        return Err(AppError::forbidden());
    }
    let org = get::<organization::Entity, _>(db, organization_id, "组织不存在").await?;
    let joined_on = joined_on.unwrap_or_else(validate::today);
    if joined_on > validate::today() + chrono::Duration::days(366) {
        return Err(AppError::bad_field("joinedOn", "加入日期不合理"));
    }
    let existing = alliance_member::Entity::find()
        .filter(alliance_member::Column::AllianceId.eq(a.id))
        .filter(alliance_member::Column::OrganizationId.eq(org.id))
        .count(db)
        .await?;
    if existing > 0 {
        return Err(AppError::conflict(
            ErrorReason::AlreadyAllianceMember,
            "该组织已加入过此联盟",
        ));
    }
    alliance_member::ActiveModel {
        alliance_id: Set(a.id),
        organization_id: Set(org.id),
        joined_on: Set(joined_on),
        left_on: Set(None),
        created_at: Set(crate::core::clock::now()),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(|e| {
        AppError::on_unique(
            e,
            ErrorReason::AlreadyAllianceMember,
            "该组织已加入过此联盟",
        )
    })
}

/// A member leaves (its own rep, the lead's rep, ADMIN); the membership stays as history.
pub async fn leave(
    db: &DatabaseConnection,
    actor: &AuthUser,
    alliance_id: i64,
    organization_id: i64,
    left_on: Option<NaiveDate>,
) -> AppResult<alliance_member::Model> {
    let a = get::<alliance::Entity, _>(db, alliance_id, "联盟不存在").await?;
    if !may_manage(actor, &a) && !actor.is_rep_of(organization_id) {
        return Err(AppError::forbidden());
    }
    if organization_id == a.lead_organization_id {
        return Err(AppError::invalid_state(
            ErrorReason::LeadCannotLeave,
            "牵头组织不能退出联盟",
        ));
    }
    let m = alliance_member::Entity::find()
        .filter(alliance_member::Column::AllianceId.eq(a.id))
        .filter(alliance_member::Column::OrganizationId.eq(organization_id))
        .one(db)
        .await?
        .ok_or(AppError::NotFound("该组织不是联盟成员"))?;
    if m.left_on.is_some() {
        return Err(AppError::invalid_state(
            ErrorReason::AlreadyLeftAlliance,
            "该组织已退出联盟",
        ));
    }
    let left_on = left_on.unwrap_or_else(validate::today);
    if left_on < m.joined_on {
        return Err(AppError::bad_field("leftOn", "退出日期不能早于加入日期"));
    }
    alliance_member::Entity::update_many()
        .col_expr(alliance_member::Column::LeftOn, Expr::value(left_on))
        .filter(alliance_member::Column::Id.eq(m.id))
        .filter(alliance_member::Column::LeftOn.is_null())
        .exec(db)
        .await?;
    get::<alliance_member::Entity, _>(db, m.id, "成员不存在").await
}
