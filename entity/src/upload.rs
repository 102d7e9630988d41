use sea_orm::entity::prelude::*;

/// An uploaded image (checked, metadata stripped, with a thumbnail), kept in the database. It belongs to an incident's step or to a wish's fulfilment.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "uploads")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub media_type: String,
    pub content: Vec<u8>,
    pub size: i32,
    pub width: i32,
    pub height: i32,
    pub thumbnail: Vec<u8>,
    pub incident_id: Option<i64>,
    pub incident_step_id: Option<i64>,
    pub wish_id: Option<i64>,
    pub position: i32,
    pub uploaded_by: i64,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
