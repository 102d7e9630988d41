use sea_orm::entity::prelude::*;

#[derive(Copy, Clone, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum GridKind {
    #[sea_orm(string_value = "COMPREHENSIVE")]
    Comprehensive,
    #[sea_orm(string_value = "DEDICATED")]
    Dedicated,
    #[sea_orm(string_value = "MICRO")]
    Micro,
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "grids")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub community_id: i64,
    pub parent_id: Option<i64>,
    pub name: String,
    pub kind: GridKind,
    pub households: i32,
    pub description: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
