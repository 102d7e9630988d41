//! Batch loads of alliances and agreements.

use std::collections::HashMap;

use async_graphql::dataloader::Loader;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::core::error::AppError;
use crate::graphql::loaders::Db;
use crate::graphql::loaders::by_id;
use crate::graphql::loaders::group;
use crate::graphql::loaders::grouped;
use entity::{
    agreement, agreement_activity, agreement_kind, agreement_party, agreement_signature, alliance,
    alliance_member,
};

by_id!(AllianceKey, alliance);
grouped!(PartiesOf, agreement_party, AgreementId, agreement_id);
grouped!(KindsOf, agreement_kind, AgreementId, agreement_id);
grouped!(SignaturesOf, agreement_signature, AgreementId, agreement_id);
grouped!(ActivitiesOf, agreement_activity, AgreementId, agreement_id);
grouped!(MembersOf, alliance_member, AllianceId, alliance_id);

/// Agreements under an alliance.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AgreementsOfAlliance(pub i64);

impl Loader<AgreementsOfAlliance> for Db {
    type Value = Vec<agreement::Model>;
    type Error = AppError;

    async fn load(
        &self,
        keys: &[AgreementsOfAlliance],
    ) -> Result<HashMap<AgreementsOfAlliance, Self::Value>, AppError> {
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let rows = agreement::Entity::find()
            .filter(agreement::Column::AllianceId.is_in(ids))
            .order_by_asc(agreement::Column::Id)
            .all(self.conn().await)
            .await?;
        Ok(group(rows, |r| {
            AgreementsOfAlliance(r.alliance_id.unwrap_or_default())
        }))
    }
}

/// Number of activities held under an alliance's agreements.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ActivityCountOfAlliance(pub i64);

impl Loader<ActivityCountOfAlliance> for Db {
    type Value = i64;
    type Error = AppError;

    async fn load(
        &self,
        keys: &[ActivityCountOfAlliance],
    ) -> Result<HashMap<ActivityCountOfAlliance, i64>, AppError> {
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let agreements: Vec<(i64, Option<i64>)> = agreement::Entity::find()
            .select_only()
            .column(agreement::Column::Id)
            .column(agreement::Column::AllianceId)
            .filter(agreement::Column::AllianceId.is_in(ids))
            .into_tuple()
            .all(self.conn().await)
            .await?;
        let counts: Vec<(i64, i64)> = agreement_activity::Entity::find()
            .select_only()
            .column(agreement_activity::Column::AgreementId)
            .column_as(agreement_activity::Column::Id.count(), "n")
            .filter(
                agreement_activity::Column::AgreementId
                    .is_in(agreements.iter().map(|a| a.0).collect::<Vec<_>>()),
            )
            .group_by(agreement_activity::Column::AgreementId)
            .into_tuple()
            .all(self.conn().await)
            .await?;
        let mut out: HashMap<ActivityCountOfAlliance, i64> = HashMap::new();
        for (agreement_id, n) in counts {
            if let Some((_, Some(alliance))) = agreements.iter().find(|a| a.0 == agreement_id) {
                *out.entry(ActivityCountOfAlliance(*alliance)).or_default() += n;
            }
        }
        Ok(out)
    }
}
