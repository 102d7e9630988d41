use sea_orm::entity::prelude::*;

/// A weekly service slot for student assistants. Times are local (Asia/Shanghai), `HH:MM`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "service_slots")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub community_id: i64,
    pub grid_id: Option<i64>,
    pub title: String,
    /// JSON array of tasks.
    pub tasks: String,
    /// ISO weekday, Monday = 1.
    pub weekday: i32,
    pub start_time: String,
    pub end_time: String,
    pub capacity: i32,
    pub valid_from: Date,
    pub valid_to: Date,
    /// JSON array of skipped dates (`YYYY-MM-DD`).
    pub skipped_dates: String,
    pub created_by: i64,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
