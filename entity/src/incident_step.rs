use sea_orm::entity::prelude::*;

use crate::incident::IncidentStatus;

/// One step of an incident's handling: from which status to which, by whom, when.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "incident_steps")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub incident_id: i64,
    pub from_status: Option<IncidentStatus>,
    pub to_status: IncidentStatus,
    pub actor_id: i64,
    pub organization_id: Option<i64>,
    pub note: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
