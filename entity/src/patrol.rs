use sea_orm::entity::prelude::*;

/// A grid worker's round of a grid on a date (its latest version).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "patrols")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub grid_id: i64,
    pub worker_id: i64,
    pub date: Date,
    pub households_visited: i32,
    /// JSON array of checklist item codes done.
    pub checklist: String,
    pub notes: Option<String>,
    /// 1 for the first log, raised by each amendment.
    pub revision: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
