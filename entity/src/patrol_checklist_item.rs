use sea_orm::entity::prelude::*;

/// One item of the street's patrol checklist for a kind of grid.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "patrol_checklist_items")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub grid_kind: String,
    pub code: String,
    pub label: String,
    pub position: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
