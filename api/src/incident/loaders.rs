//! Batch loads of incidents and patrols: one statement for every incident or patrol of a
//! page.

use std::collections::HashMap;

use async_graphql::dataloader::Loader;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::core::error::AppError;
use crate::graphql::loaders::{Db, group, grouped};
use entity::{agreement_activity, incident_step, patrol_revision};

grouped!(StepsOf, incident_step, IncidentId, incident_id);
grouped!(RevisionsOf, patrol_revision, PatrolId, patrol_id);

/// The 民生实事 project an incident was adopted as (at most one).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ProjectOf(pub i64);

impl Loader<ProjectOf> for Db {
    type Value = agreement_activity::Model;
    type Error = AppError;

    async fn load(&self, keys: &[ProjectOf]) -> Result<HashMap<ProjectOf, Self::Value>, AppError> {
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let rows = agreement_activity::Entity::find()
            .filter(agreement_activity::Column::IncidentId.is_in(ids))
            .all(self.conn().await)
            .await?;
        Ok(rows
            .into_iter()
            .filter_map(|a| a.incident_id.map(|i| (ProjectOf(i), a)))
            .collect())
    }
}
