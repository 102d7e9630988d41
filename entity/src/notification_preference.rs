use sea_orm::entity::prelude::*;

/// A person's notification settings: channels per kind and quiet hours.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "notification_preferences")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: i64,
    /// Local `HH:MM` (Asia/Shanghai).
    pub quiet_start: String,
    /// Local `HH:MM` (Asia/Shanghai).
    pub quiet_end: String,
    /// JSON object: kind → the outside channels it may use (absent: every channel).
    pub channels: String,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
