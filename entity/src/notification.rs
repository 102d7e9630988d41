use sea_orm::entity::prelude::*;

/// A message to one person: their in-app inbox, and the outbox its deliveries come from.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "notifications")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub recipient_id: i64,
    pub kind: String,
    pub urgent: bool,
    pub title: String,
    pub body: String,
    pub page: Option<String>,
    pub subject_type: Option<String>,
    pub subject_id: Option<i64>,
    /// The template's fields (JSON object: WeChat's `thing1`, `time2`, …).
    pub fields: String,
    pub dedup_key: Option<String>,
    pub batch: String,
    pub created_at: DateTimeUtc,
    pub read_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
