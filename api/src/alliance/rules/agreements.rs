//! Agreements: proposed with frozen text, signed by every party, terminated, activities.

use std::collections::HashSet;

use chrono::NaiveDate;
use entity::{
    agreement, agreement::StoredAgreementStatus, agreement_activity, agreement_kind,
    agreement_kind::AgreementKind, agreement_party, agreement_signature, alliance, organization,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, DbBackend, EntityTrait,
    PaginatorTrait, QueryFilter, QuerySelect, sea_query::Expr,
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

// ---- agreements -----------------------------------------------------------------------

pub struct AgreementText {
    pub title: String,
    pub kinds: Vec<AgreementKind>,
    pub party_ids: Vec<i64>,
    pub commitments: Vec<String>,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    pub alliance_id: Option<i64>,
}

pub(crate) struct CheckedText {
    title: String,
    kinds: Vec<AgreementKind>,
    parties: Vec<organization::Model>,
    commitments: String,
    start_date: NaiveDate,
    end_date: NaiveDate,
    alliance_id: Option<i64>,
}

pub(crate) async fn check_text(
    db: &DatabaseConnection,
    t: AgreementText,
) -> AppResult<CheckedText> {
    let title = validate::text("title", &t.title, 100)?;
    let mut kinds: Vec<AgreementKind> = t.kinds.clone();
    kinds.sort();
    kinds.dedup();
    if kinds.is_empty() {
        return Err(AppError::bad_field("kinds", "至少选择一种共建类型"));
    }
    let ids: Vec<i64> = t
        .party_ids
        .iter()
        .copied()
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    if ids.len() < 2 {
        return Err(AppError::bad_field("partyIds", "协议至少需要两个党组织"));
    }
    if ids.len() > 20 {
        return Err(AppError::bad_field("partyIds", "协议参与方过多"));
    }
    let parties = organization::Entity::find()
        .filter(organization::Column::Id.is_in(ids.clone()))
        .all(db)
        .await?;
    if parties.len() != ids.len() {
        return Err(AppError::NotFound("参与组织不存在"));
    }
    if parties.iter().any(|p| !p.kind.is_party()) {
        return Err(AppError::bad_field("partyIds", "协议双方须为党组织"));
    }
    if t.commitments.is_empty() || t.commitments.len() > 30 {
        return Err(AppError::bad_field("commitments", "请填写 1–30 项共建承诺"));
    }
    let mut commitments = Vec::with_capacity(t.commitments.len());
    for c in &t.commitments {
        commitments.push(validate::text("commitments", c, 300)?);
    }
    if t.end_date < t.start_date {
        return Err(AppError::bad_field("endDate", "结束日期不能早于开始日期"));
    }
    if (t.end_date - t.start_date).num_days() > 3660 {
        return Err(AppError::bad_field("endDate", "协议期限不能超过十年"));
    }
    if let Some(a) = t.alliance_id {
        get::<alliance::Entity, _>(db, a, "联盟不存在").await?;
    }
    Ok(CheckedText {
        title,
        kinds,
        parties,
        commitments: serde_json::to_string(&commitments).map_err(AppError::internal)?,
        start_date: t.start_date,
        end_date: t.end_date,
        alliance_id: t.alliance_id,
    })
}

/// Who may propose: a UNIT_REP of one of the parties, staff of a community where a party is
/// located, or ADMIN.
pub(crate) fn may_propose(actor: &AuthUser, parties: &[organization::Model]) -> bool {
    actor.is_admin()
        || parties
            .iter()
            .any(|p| actor.is_rep_of(p.id) || p.community_id.is_some_and(|c| actor.is_staff_of(c)))
}

/// Proposes an agreement (text frozen from now on), or saves it as a draft.
pub async fn propose(
    db: &DatabaseConnection,
    events: &crate::core::bus::Bus,
    actor: &AuthUser,
    text: AgreementText,
    as_draft: bool,
) -> AppResult<agreement::Model> {
    let party_ids = text.party_ids.clone();
    if party_ids.is_empty() {
        return Err(AppError::bad_field("partyIds", "协议至少需要两个党组织"));
    }
    // Authorisation first, on the organisations named.
    let named = organization::Entity::find()
        .filter(organization::Column::Id.is_in(party_ids))
        .all(db)
        .await?;
    if !may_propose(actor, &named) {
        return Err(AppError::forbidden());
    }
    let t = check_text(db, text).await?;
    let now = crate::core::clock::now();
    let txn = db::begin_write(db).await?;
    let row = agreement::ActiveModel {
        title: Set(t.title),
        commitments: Set(t.commitments),
        start_date: Set(t.start_date),
        end_date: Set(t.end_date),
        alliance_id: Set(t.alliance_id),
        status: Set(if as_draft {
            StoredAgreementStatus::Draft
        } else {
            StoredAgreementStatus::Proposed
        }),
        proposed_by: Set(actor.id()),
        proposed_at: Set((!as_draft).then_some(now)),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    write_kinds_and_parties(&txn, row.id, &t.kinds, &t.parties).await?;
    let told = if as_draft {
        Default::default()
    } else {
        let parties: Vec<i64> = t.parties.iter().map(|p| p.id).collect();
        let (to, message) = to_sign_notice(&row, &parties, actor.id());
        crate::notify::outbox::enqueue(&txn, to, &message).await?
    };
    txn.commit().await?;
    crate::notify::outbox::announce(db, events, told).await;
    Ok(row)
}

/// The reps of the parties (but the proposer) are asked to sign a proposed agreement.
fn to_sign_notice(
    a: &agreement::Model,
    parties: &[i64],
    proposer: i64,
) -> (
    crate::notify::outbox::Recipients,
    crate::notify::outbox::Message,
) {
    use crate::notify::{kinds::Kind, outbox::*};
    use entity::{role_assignment, role_assignment::Role};
    use sea_orm::{QuerySelect, QueryTrait, sea_query::Alias, sea_query::Expr};
    let mut q = role_assignment::Entity::find()
        .select_only()
        .filter(role_assignment::Column::Role.eq(Role::UnitRep))
        .filter(role_assignment::Column::OrganizationId.is_in(parties.to_vec()))
        .filter(role_assignment::Column::UserId.ne(proposer))
        .into_query();
    q.expr_as(
        Expr::col(role_assignment::Column::UserId),
        Alias::new("uid"),
    );
    (
        Recipients::Query(Box::new(q)),
        Message {
            kind: Kind::AgreementToSign,
            title: "共建协议待签署".into(),
            body: format!("共建协议「{}」已提出，请代表本单位查看并签署。", a.title),
            page: Some(format!("pages/agreement/detail?id={}", a.id)),
            subject: Some(("Agreement", a.id)),
            fields: vec![
                ("thing1", a.title.clone()),
                ("phrase2", "待签署".into()),
                ("time3", local_time(crate::core::clock::now())),
            ],
            dedup_key: None,
        },
    )
}

pub(crate) async fn write_kinds_and_parties(
    txn: &sea_orm::DatabaseTransaction,
    agreement_id: i64,
    kinds: &[AgreementKind],
    parties: &[organization::Model],
) -> AppResult<()> {
    for k in kinds {
        agreement_kind::ActiveModel {
            agreement_id: Set(agreement_id),
            kind: Set(*k),
            ..Default::default()
        }
        .insert(txn)
        .await?;
    }
    for p in parties {
        agreement_party::ActiveModel {
            agreement_id: Set(agreement_id),
            organization_id: Set(p.id),
            ..Default::default()
        }
        .insert(txn)
        .await?;
    }
    Ok(())
}

/// Changes a draft's text. Once proposed, the text is frozen (`INVALID_STATE`; a database
/// trigger holds it too).
pub async fn update_draft(
    db: &DatabaseConnection,
    actor: &AuthUser,
    agreement_id: i64,
    text: AgreementText,
) -> AppResult<agreement::Model> {
    let a = get::<agreement::Entity, _>(db, agreement_id, "协议不存在").await?;
    let parties = parties_of(db, a.id).await?;
    if !may_propose(actor, &parties) {
        return Err(AppError::forbidden());
    }
    if a.status != StoredAgreementStatus::Draft {
        return Err(AppError::invalid_state(
            ErrorReason::AgreementAlreadyProposed,
            "协议已提出，文本不能修改",
        ));
    }
    let t = check_text(db, text).await?;
    if !may_propose(actor, &t.parties) {
        return Err(AppError::forbidden());
    }
    let txn = db::begin_write(db).await?;
    let res = agreement::Entity::update_many()
        .col_expr(agreement::Column::Title, Expr::value(t.title))
        .col_expr(agreement::Column::Commitments, Expr::value(t.commitments))
        .col_expr(agreement::Column::StartDate, Expr::value(t.start_date))
        .col_expr(agreement::Column::EndDate, Expr::value(t.end_date))
        .col_expr(agreement::Column::AllianceId, Expr::value(t.alliance_id))
        .filter(agreement::Column::Id.eq(a.id))
        .filter(agreement::Column::Status.eq(StoredAgreementStatus::Draft))
        .exec(&txn)
        .await?;
    if res.rows_affected != 1 {
        return Err(AppError::invalid_state(
            ErrorReason::AgreementAlreadyProposed,
            "协议已提出，文本不能修改",
        ));
    }
    agreement_kind::Entity::delete_many()
        .filter(agreement_kind::Column::AgreementId.eq(a.id))
        .exec(&txn)
        .await?;
    agreement_party::Entity::delete_many()
        .filter(agreement_party::Column::AgreementId.eq(a.id))
        .exec(&txn)
        .await?;
    write_kinds_and_parties(&txn, a.id, &t.kinds, &t.parties).await?;
    txn.commit().await?;
    get::<agreement::Entity, _>(db, a.id, "协议不存在").await
}

/// Turns a draft into a proposal: from now on the text is frozen.
pub async fn submit_draft(
    db: &DatabaseConnection,
    actor: &AuthUser,
    agreement_id: i64,
) -> AppResult<agreement::Model> {
    let a = get::<agreement::Entity, _>(db, agreement_id, "协议不存在").await?;
    let parties = parties_of(db, a.id).await?;
    if !may_propose(actor, &parties) {
        return Err(AppError::forbidden());
    }
    let res = agreement::Entity::update_many()
        .col_expr(
            agreement::Column::Status,
            Expr::value(StoredAgreementStatus::Proposed),
        )
        .col_expr(
            agreement::Column::ProposedAt,
            Expr::value(crate::core::clock::now()),
        )
        .filter(agreement::Column::Id.eq(a.id))
        .filter(agreement::Column::Status.eq(StoredAgreementStatus::Draft))
        .exec(db)
        .await?;
    if res.rows_affected != 1 {
        return Err(AppError::invalid_state(
            ErrorReason::AgreementNotDraft,
            "只有草稿可以提出",
        ));
    }
    get::<agreement::Entity, _>(db, a.id, "协议不存在").await
}

pub async fn parties_of(
    db: &impl sea_orm::ConnectionTrait,
    agreement_id: i64,
) -> AppResult<Vec<organization::Model>> {
    let ids: Vec<i64> = agreement_party::Entity::find()
        .select_only()
        .column(agreement_party::Column::OrganizationId)
        .filter(agreement_party::Column::AgreementId.eq(agreement_id))
        .into_tuple()
        .all(db)
        .await?;
    Ok(organization::Entity::find()
        .filter(organization::Column::Id.is_in(ids))
        .all(db)
        .await?)
}

/// A UNIT_REP signs for their own organisation, once. The last signature makes the
/// agreement SIGNED (ACTIVE within its term) in the same transaction; concurrent signatures
/// are serialised on the agreement row.
pub async fn sign(
    db: &DatabaseConnection,
    actor: &AuthUser,
    agreement_id: i64,
    organization_id: Option<i64>,
) -> AppResult<agreement::Model> {
    let a = get::<agreement::Entity, _>(db, agreement_id, "协议不存在").await?;
    let parties = parties_of(db, a.id).await?;
    let org_id = match organization_id {
        Some(o) => o,
        None => {
            let mine: Vec<i64> = parties
                .iter()
                .filter(|p| actor.is_rep_of(p.id))
                .map(|p| p.id)
                .collect();
            match mine.as_slice() {
                [only] => *only,
                [] => return Err(AppError::Forbidden("只有参与方的联络人可以签署")),
                _ => {
                    return Err(AppError::bad_field(
                        "organizationId",
                        "请指定代表哪个组织签署",
                    ));
                }
            }
        }
    };
    if !actor.is_rep_of(org_id) {
        return Err(AppError::Forbidden("只能代表本组织签署"));
    }
    if !parties.iter().any(|p| p.id == org_id) {
        return Err(AppError::Forbidden("该组织不是协议参与方"));
    }
    let today = validate::today();
    match effective_status(&a, today) {
        AgreementStatus::Proposed => {}
        AgreementStatus::Active => {
            return Err(AppError::conflict(
                ErrorReason::AgreementAlreadySigned,
                "该组织已签署",
            ));
        }
        _ => {
            return Err(AppError::invalid_state(
                ErrorReason::AgreementNotSignable,
                "协议当前状态不能签署",
            ));
        }
    }
    let txn = db::begin_write(db).await?;
    let mut lock = agreement::Entity::find_by_id(a.id);
    if db.get_database_backend() == DbBackend::Postgres {
        lock = lock.lock_exclusive();
    }
    let current = lock
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound("协议不存在"))?;
    if current.status != StoredAgreementStatus::Proposed {
        return Err(match current.status {
            StoredAgreementStatus::Signed => {
                AppError::conflict(ErrorReason::AgreementAlreadySigned, "该组织已签署")
            }
            _ => AppError::invalid_state(ErrorReason::AgreementNotSignable, "协议当前状态不能签署"),
        });
    }
    let signed_already = agreement_signature::Entity::find()
        .filter(agreement_signature::Column::AgreementId.eq(a.id))
        .filter(agreement_signature::Column::OrganizationId.eq(org_id))
        .count(&txn)
        .await?;
    if signed_already > 0 {
        return Err(AppError::conflict(
            ErrorReason::AgreementAlreadySigned,
            "该组织已签署",
        ));
    }
    let now = crate::core::clock::now();
    agreement_signature::ActiveModel {
        agreement_id: Set(a.id),
        organization_id: Set(org_id),
        signed_by: Set(actor.id()),
        signed_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .map_err(|e| AppError::on_unique(e, ErrorReason::AgreementAlreadySigned, "该组织已签署"))?;
    let signatures = agreement_signature::Entity::find()
        .filter(agreement_signature::Column::AgreementId.eq(a.id))
        .count(&txn)
        .await?;
    if signatures as usize >= parties.len() {
        agreement::Entity::update_many()
            .col_expr(
                agreement::Column::Status,
                Expr::value(StoredAgreementStatus::Signed),
            )
            .col_expr(agreement::Column::SignedAt, Expr::value(now))
            .filter(agreement::Column::Id.eq(a.id))
            .filter(agreement::Column::Status.eq(StoredAgreementStatus::Proposed))
            .exec(&txn)
            .await?;
    }
    txn.commit().await?;
    get::<agreement::Entity, _>(db, a.id, "协议不存在").await
}

/// A party's rep or ADMIN ends an agreement early, with a reason.
pub async fn terminate(
    db: &DatabaseConnection,
    actor: &AuthUser,
    agreement_id: i64,
    reason: &str,
) -> AppResult<agreement::Model> {
    let a = get::<agreement::Entity, _>(db, agreement_id, "协议不存在").await?;
    let parties = parties_of(db, a.id).await?;
    if !actor.is_admin() && !parties.iter().any(|p| actor.is_rep_of(p.id)) {
        return Err(AppError::forbidden());
    }
    let reason = validate::text("reason", reason, 300)?;
    match effective_status(&a, validate::today()) {
        AgreementStatus::Proposed | AgreementStatus::Active | AgreementStatus::Draft => {}
        _ => {
            return Err(AppError::invalid_state(
                ErrorReason::AgreementEnded,
                "协议已结束",
            ));
        }
    }
    let res = agreement::Entity::update_many()
        .col_expr(
            agreement::Column::Status,
            Expr::value(StoredAgreementStatus::Terminated),
        )
        .col_expr(agreement::Column::TerminatedBy, Expr::value(actor.id()))
        .col_expr(
            agreement::Column::TerminatedAt,
            Expr::value(crate::core::clock::now()),
        )
        .col_expr(agreement::Column::TerminationReason, Expr::value(reason))
        .filter(agreement::Column::Id.eq(a.id))
        .filter(agreement::Column::Status.ne(StoredAgreementStatus::Terminated))
        .exec(db)
        .await?;
    if res.rows_affected != 1 {
        return Err(AppError::invalid_state(
            ErrorReason::AgreementEnded,
            "协议已结束",
        ));
    }
    get::<agreement::Entity, _>(db, a.id, "协议不存在").await
}

pub struct NewActivity {
    pub held_on: NaiveDate,
    pub title: String,
    pub participants: i32,
    pub notes: Option<String>,
}

/// Records an activity held under an agreement that was in force on that day (a party's
/// rep, staff of a party's community, or ADMIN).
pub async fn record_activity(
    db: &DatabaseConnection,
    actor: &AuthUser,
    agreement_id: i64,
    input: NewActivity,
) -> AppResult<agreement_activity::Model> {
    let a = get::<agreement::Entity, _>(db, agreement_id, "协议不存在").await?;
    let parties = parties_of(db, a.id).await?;
    if !may_propose(actor, &parties) {
        return Err(AppError::forbidden());
    }
    let title = validate::text("title", &input.title, 100)?;
    let participants = validate::count("participants", input.participants, 100_000)?;
    let notes = validate::opt_text("notes", input.notes.as_deref(), 2000)?;
    if input.held_on > validate::today() {
        return Err(AppError::bad_field("heldOn", "活动日期不能晚于今天"));
    }
    let in_force = a.status == StoredAgreementStatus::Signed
        && a.start_date <= input.held_on
        && input.held_on <= a.end_date;
    if !in_force {
        return Err(AppError::invalid_state(
            ErrorReason::AgreementNotActiveOnDate,
            "协议在活动当天未生效",
        ));
    }
    Ok(agreement_activity::ActiveModel {
        agreement_id: Set(a.id),
        held_on: Set(input.held_on),
        title: Set(title),
        participants: Set(participants),
        notes: Set(notes),
        recorded_by: Set(actor.id()),
        created_at: Set(crate::core::clock::now()),
        incident_id: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?)
}
