//! Party-building alliances (党建联盟) and co-building agreements (共建协议): proposed with
//! frozen text, signed once by a UNIT_REP of every party, active within their term.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{NaiveDate, Utc};
use entity::{
    agreement, agreement::StoredAgreementStatus, agreement_activity, agreement_kind,
    agreement_kind::AgreementKind, agreement_party, agreement_signature, alliance,
    alliance::AllianceScope, alliance_member, community, organization, street,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, DatabaseConnection, DbBackend,
    EntityTrait, PaginatorTrait, QueryFilter, QuerySelect, sea_query::Expr,
};

use crate::auth::AuthUser;
use crate::core::db;
use crate::core::db::get;
use crate::core::error::AppError;
use crate::core::error::AppResult;
use crate::core::validate;

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
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .map_err(|e| AppError::on_unique(e, "联盟名称已存在"))?;
    alliance_member::ActiveModel {
        alliance_id: Set(row.id),
        organization_id: Set(lead.id),
        joined_on: Set(validate::today()),
        left_on: Set(None),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok(row)
}

fn may_manage(actor: &AuthUser, a: &alliance::Model) -> bool {
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
        return Err(AppError::conflict("该组织已加入过此联盟"));
    }
    alliance_member::ActiveModel {
        alliance_id: Set(a.id),
        organization_id: Set(org.id),
        joined_on: Set(joined_on),
        left_on: Set(None),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(|e| AppError::on_unique(e, "该组织已加入过此联盟"))
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
        return Err(AppError::invalid_state("牵头组织不能退出联盟"));
    }
    let m = alliance_member::Entity::find()
        .filter(alliance_member::Column::AllianceId.eq(a.id))
        .filter(alliance_member::Column::OrganizationId.eq(organization_id))
        .one(db)
        .await?
        .ok_or(AppError::NotFound("该组织不是联盟成员"))?;
    if m.left_on.is_some() {
        return Err(AppError::invalid_state("该组织已退出联盟"));
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

struct CheckedText {
    title: String,
    kinds: Vec<AgreementKind>,
    parties: Vec<organization::Model>,
    commitments: String,
    start_date: NaiveDate,
    end_date: NaiveDate,
    alliance_id: Option<i64>,
}

async fn check_text(db: &DatabaseConnection, t: AgreementText) -> AppResult<CheckedText> {
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
fn may_propose(actor: &AuthUser, parties: &[organization::Model]) -> bool {
    actor.is_admin()
        || parties
            .iter()
            .any(|p| actor.is_rep_of(p.id) || p.community_id.is_some_and(|c| actor.is_staff_of(c)))
}

/// Proposes an agreement (text frozen from now on), or saves it as a draft.
pub async fn propose(
    db: &DatabaseConnection,
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
    let now = Utc::now();
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
    txn.commit().await?;
    Ok(row)
}

async fn write_kinds_and_parties(
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
        return Err(AppError::invalid_state("协议已提出，文本不能修改"));
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
        return Err(AppError::invalid_state("协议已提出，文本不能修改"));
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
        .col_expr(agreement::Column::ProposedAt, Expr::value(Utc::now()))
        .filter(agreement::Column::Id.eq(a.id))
        .filter(agreement::Column::Status.eq(StoredAgreementStatus::Draft))
        .exec(db)
        .await?;
    if res.rows_affected != 1 {
        return Err(AppError::invalid_state("只有草稿可以提出"));
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
        AgreementStatus::Active => return Err(AppError::conflict("该组织已签署")),
        _ => return Err(AppError::invalid_state("协议当前状态不能签署")),
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
            StoredAgreementStatus::Signed => AppError::conflict("该组织已签署"),
            _ => AppError::invalid_state("协议当前状态不能签署"),
        });
    }
    let signed_already = agreement_signature::Entity::find()
        .filter(agreement_signature::Column::AgreementId.eq(a.id))
        .filter(agreement_signature::Column::OrganizationId.eq(org_id))
        .count(&txn)
        .await?;
    if signed_already > 0 {
        return Err(AppError::conflict("该组织已签署"));
    }
    let now = Utc::now();
    agreement_signature::ActiveModel {
        agreement_id: Set(a.id),
        organization_id: Set(org_id),
        signed_by: Set(actor.id()),
        signed_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .map_err(|e| AppError::on_unique(e, "该组织已签署"))?;
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
        _ => return Err(AppError::invalid_state("协议已结束")),
    }
    let res = agreement::Entity::update_many()
        .col_expr(
            agreement::Column::Status,
            Expr::value(StoredAgreementStatus::Terminated),
        )
        .col_expr(agreement::Column::TerminatedBy, Expr::value(actor.id()))
        .col_expr(agreement::Column::TerminatedAt, Expr::value(Utc::now()))
        .col_expr(agreement::Column::TerminationReason, Expr::value(reason))
        .filter(agreement::Column::Id.eq(a.id))
        .filter(agreement::Column::Status.ne(StoredAgreementStatus::Terminated))
        .exec(db)
        .await?;
    if res.rows_affected != 1 {
        return Err(AppError::invalid_state("协议已结束"));
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
        return Err(AppError::invalid_state("协议在活动当天未生效"));
    }
    Ok(agreement_activity::ActiveModel {
        agreement_id: Set(a.id),
        held_on: Set(input.held_on),
        title: Set(title),
        participants: Set(participants),
        notes: Set(notes),
        recorded_by: Set(actor.id()),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await?)
}

// ---- statistics -----------------------------------------------------------------------

pub struct Statistics {
    pub by_kind: BTreeMap<AgreementKind, u64>,
    pub by_status: BTreeMap<AgreementStatus, u64>,
    pub active_alliances: u64,
    pub member_units: u64,
    /// "YYYY-MM" → activities held that month.
    pub activities_per_month: BTreeMap<String, u64>,
}

/// Dashboard statistics within a street or a community (agreements with a party located
/// there, or in one of its communities; organisations without a community count for the
/// street). A bounded number of SQL statements, whatever the data.
pub async fn statistics(
    db: &DatabaseConnection,
    street_id: Option<i64>,
    community_id: Option<i64>,
) -> AppResult<Statistics> {
    let today = validate::today();
    let orgs = organization::Entity::find().all(db).await?;
    let communities: HashMap<i64, i64> = community::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.id, c.street_id))
        .collect();
    let in_scope = |o: &organization::Model| match (community_id, street_id) {
        (Some(c), _) => o.community_id == Some(c),
        (None, Some(s)) => o
            .community_id
            .is_none_or(|c| communities.get(&c) == Some(&s)),
        (None, None) => true,
    };
    let scoped: HashSet<i64> = orgs.iter().filter(|o| in_scope(o)).map(|o| o.id).collect();
    let parties = agreement_party::Entity::find().all(db).await?;
    let agreement_ids: HashSet<i64> = parties
        .iter()
        .filter(|p| scoped.contains(&p.organization_id))
        .map(|p| p.agreement_id)
        .collect();
    let ids: Vec<i64> = agreement_ids.iter().copied().collect();
    let agreements = agreement::Entity::find()
        .filter(agreement::Column::Id.is_in(ids.clone()))
        .all(db)
        .await?;
    let kinds = agreement_kind::Entity::find()
        .filter(agreement_kind::Column::AgreementId.is_in(ids.clone()))
        .all(db)
        .await?;
    let mut by_kind: BTreeMap<AgreementKind, u64> = BTreeMap::new();
    for k in &kinds {
        *by_kind.entry(k.kind).or_default() += 1;
    }
    let mut by_status: BTreeMap<AgreementStatus, u64> = BTreeMap::new();
    for a in &agreements {
        *by_status.entry(effective_status(a, today)).or_default() += 1;
    }
    let activities = agreement_activity::Entity::find()
        .filter(agreement_activity::Column::AgreementId.is_in(ids))
        .all(db)
        .await?;
    let mut activities_per_month: BTreeMap<String, u64> = BTreeMap::new();
    for act in &activities {
        *activities_per_month
            .entry(act.held_on.format("%Y-%m").to_string())
            .or_default() += 1;
    }
    let mut alliances = alliance::Entity::find();
    if let Some(c) = community_id {
        alliances = alliances.filter(alliance::Column::CommunityId.eq(c));
    } else if let Some(s) = street_id {
        let in_street: Vec<i64> = communities
            .iter()
            .filter(|(_, st)| **st == s)
            .map(|(c, _)| *c)
            .collect();
        alliances = alliances.filter(
            Condition::any()
                .add(alliance::Column::StreetId.eq(s))
                .add(alliance::Column::CommunityId.is_in(in_street)),
        );
    }
    let alliances = alliances.all(db).await?;
    let members = alliance_member::Entity::find()
        .filter(
            alliance_member::Column::AllianceId
                .is_in(alliances.iter().map(|a| a.id).collect::<Vec<_>>()),
        )
        .filter(alliance_member::Column::LeftOn.is_null())
        .all(db)
        .await?;
    let active_alliances: HashSet<i64> = members.iter().map(|m| m.alliance_id).collect();
    let member_units: HashSet<i64> = members
        .iter()
        .filter(|m| {
            orgs.iter()
                .any(|o| o.id == m.organization_id && !o.kind.is_party())
        })
        .map(|m| m.organization_id)
        .collect();
    Ok(Statistics {
        by_kind,
        by_status,
        active_alliances: active_alliances.len() as u64,
        member_units: member_units.len() as u64,
        activities_per_month,
    })
}

/// Organisations that share an agreement in force on `date` with any of `orgs`.
pub async fn partners_in_force(
    db: &DatabaseConnection,
    orgs: &[i64],
    date: NaiveDate,
) -> AppResult<Vec<i64>> {
    let mine: Vec<i64> = agreement_party::Entity::find()
        .select_only()
        .column(agreement_party::Column::AgreementId)
        .filter(agreement_party::Column::OrganizationId.is_in(orgs.to_vec()))
        .into_tuple()
        .all(db)
        .await?;
    let in_force: Vec<i64> = agreement::Entity::find()
        .select_only()
        .column(agreement::Column::Id)
        .filter(agreement::Column::Id.is_in(mine))
        .filter(active_on(date))
        .into_tuple()
        .all(db)
        .await?;
    Ok(agreement_party::Entity::find()
        .select_only()
        .column(agreement_party::Column::OrganizationId)
        .filter(agreement_party::Column::AgreementId.is_in(in_force))
        .into_tuple()
        .all(db)
        .await?)
}
