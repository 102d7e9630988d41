use sea_orm::entity::prelude::*;

#[derive(Copy, Clone, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum StaffRole {
    #[sea_orm(string_value = "LEADER")]
    Leader,
    #[sea_orm(string_value = "WORKER")]
    Worker,
    #[sea_orm(string_value = "AUXILIARY")]
    Auxiliary,
}

/// A post in a grid: leader (网格长), worker (网格员) or auxiliary (辅助员). Current while `end_date` is empty.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "grid_staff")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub grid_id: i64,
    pub user_id: i64,
    pub role: StaffRole,
    pub start_date: Date,
    pub end_date: Option<Date>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
