//! Agreement statistics for dashboards.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::NaiveDate;
use entity::{
    agreement, agreement_activity, agreement_kind, agreement_kind::AgreementKind, agreement_party,
    alliance, alliance_member, community, organization,
};
use sea_orm::{ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect};

use crate::core::error::AppResult;
use crate::core::validate;

#[allow(unused_imports)]
use super::*;

// ---- statistics -----------------------------------------------------------------------

pub struct Statistics {
    pub by_kind: BTreeMap<AgreementKind, u64>,
    pub by_status: BTreeMap<AgreementStatus, u64>,
    pub active_alliances: u64,
    pub member_units: u64,
    /// "YYYY-MM" → activities held that month.
    pub activities_per_month: BTreeMap<String, u64>,
    /// Activities that are incidents adopted as projects (民生实事).
    pub projects_adopted: u64,
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
    let projects_adopted = activities
        .iter()
        .filter(|a| a.incident_id.is_some())
        .count() as u64;
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
        projects_adopted,
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
