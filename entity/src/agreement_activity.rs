use sea_orm::entity::prelude::*;

/// An activity held under an agreement.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "agreement_activities")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub agreement_id: i64,
    pub held_on: Date,
    pub title: String,
    pub participants: i32,
    pub notes: Option<String>,
    pub recorded_by: i64,
    pub created_at: DateTimeUtc,
    /// The incident adopted as a project (民生实事), if it is one.
    pub incident_id: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
