//! 民生实事: a handled incident adopted by the handling unit as a project of one of its
//! co-building agreements, recorded as an activity of that agreement (so the agreement's
//! statistics count it). An incident is adopted at most once (a UNIQUE index holds it).

use entity::{agreement, agreement_activity, incident, incident::IncidentStatus, organization};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, DbBackend, EntityTrait,
    QueryFilter, QuerySelect,
};

use crate::alliance::rules::{AgreementStatus, effective_status, parties_of};
use crate::auth::AuthUser;
use crate::core::db::{self, get};
use crate::core::error::ErrorReason;
use crate::core::error::{AppError, AppResult};
use crate::core::validate;
use crate::incident::policy;

/// What the unit calls the project.
pub struct Adoption {
    pub incident_id: i64,
    pub agreement_id: i64,
    pub title: Option<String>,
    pub participants: i32,
}

/// Records a HANDLED or CLOSED incident as a project (an activity held today) of an ACTIVE
/// agreement to which the handling unit is a party. By the unit's rep or staff of the
/// community. The incident and agreement rows are read under lock in the writing
/// transaction, so a termination racing the adoption is seen by one or the other.
pub async fn adopt(
    db: &DatabaseConnection,
    actor: &AuthUser,
    input: Adoption,
) -> AppResult<(incident::Model, agreement_activity::Model)> {
    let found = get::<incident::Entity, _>(db, input.incident_id, "事件不存在").await?;
    if !policy::may_see(Some(actor), &found) {
        return Err(AppError::NotFound("事件不存在"));
    }
    if !policy::may_adopt(actor, &found) {
        return Err(AppError::forbidden());
    }
    let title = match input.title.as_deref().map(str::trim) {
        Some(t) if !t.is_empty() => validate::text("title", t, 100)?,
        // Never the incident's text (its location may be a resident's door): the kind of
        // matter it was.
        _ => format!("民生实事：{}", subject_label(found.subject)),
    };
    let participants = validate::count("participants", input.participants, 100_000)?;
    let agreement = get::<agreement::Entity, _>(db, input.agreement_id, "协议不存在").await?;
    let parties: Vec<i64> = parties_of(db, agreement.id)
        .await?
        .iter()
        .map(|o: &organization::Model| o.id)
        .collect();
    if !found.organization_id.is_some_and(|o| parties.contains(&o)) {
        return Err(AppError::bad_field(
            "agreementId",
            "须为办理单位作为一方的共建协议",
        ));
    }
    let txn = db::begin_write(db).await?;
    let postgres = db.get_database_backend() == DbBackend::Postgres;
    let mut lock_i = incident::Entity::find_by_id(found.id);
    let mut lock_a = agreement::Entity::find_by_id(agreement.id);
    if postgres {
        lock_i = lock_i.lock_exclusive();
        lock_a = lock_a.lock_exclusive();
    }
    let i = lock_i
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound("事件不存在"))?;
    let a = lock_a
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound("协议不存在"))?;
    if !matches!(i.status, IncidentStatus::Handled | IncidentStatus::Closed) {
        return Err(AppError::invalid_state(
            ErrorReason::IncidentNotFinished,
            "只有已办结或已关闭的事件可作为民生实事",
        ));
    }
    let today = validate::today();
    if effective_status(&a, today) != AgreementStatus::Active {
        return Err(AppError::invalid_state(
            ErrorReason::AgreementNotActive,
            "协议当前未生效",
        ));
    }
    let taken = agreement_activity::Entity::find()
        .select_only()
        .column(agreement_activity::Column::Id)
        .filter(agreement_activity::Column::IncidentId.eq(i.id))
        .into_tuple::<i64>()
        .one(&txn)
        .await?;
    if taken.is_some() {
        return Err(AppError::conflict(
            ErrorReason::IncidentAlreadyAdopted,
            "该事件已作为民生实事",
        ));
    }
    let activity = agreement_activity::ActiveModel {
        agreement_id: Set(a.id),
        held_on: Set(today),
        title: Set(title),
        participants: Set(participants),
        // The agreement's public reads its activities: a project links to its incident
        // (shown under the incident's policy) and copies none of its text.
        notes: Set(None),
        recorded_by: Set(actor.id()),
        created_at: Set(crate::core::clock::now()),
        incident_id: Set(Some(i.id)),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .map_err(|e| {
        AppError::on_unique(
            e,
            ErrorReason::IncidentAlreadyAdopted,
            "该事件已作为民生实事",
        )
    })?;
    txn.commit().await?;
    Ok((i, activity))
}

/// The kind of matter an incident was, as a project's default title names it.
fn subject_label(subject: entity::incident::IncidentSubject) -> &'static str {
    use entity::incident::IncidentSubject::*;
    match subject {
        Safety => "平安建设",
        Environment => "环境整治",
        Utilities => "水电气保障",
        NeighbourDispute => "邻里纠纷调解",
        ElderlyCare => "为老服务",
        Other => "为民办事",
    }
}
