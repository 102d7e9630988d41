use sea_orm::entity::prelude::*;

/// One version of a patrol, kept when it is logged or amended.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "patrol_revisions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub patrol_id: i64,
    pub revision: i32,
    pub households_visited: i32,
    pub checklist: String,
    pub notes: Option<String>,
    pub recorded_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
