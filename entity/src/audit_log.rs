use sea_orm::entity::prelude::*;

/// One privileged mutation: who, what, when, on what, and how it ended.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_log")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub user_id: Option<i64>,
    pub operation: String,
    pub target_type: Option<String>,
    pub target_id: Option<String>,
    /// `OK` or the error code.
    pub outcome: String,
    pub request_id: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
