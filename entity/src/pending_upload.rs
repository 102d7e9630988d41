use sea_orm::entity::prelude::*;

/// A file uploaded on its own (`POST /uploads`), checked, waiting for a mutation of its owner to attach it.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "pending_uploads")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub owner_id: i64,
    /// `INCIDENT_PHOTO`, `WISH_PHOTO` or `PEOPLE_IMPORT`.
    pub purpose: String,
    pub media_type: String,
    pub content: Vec<u8>,
    pub size: i32,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub thumbnail: Option<Vec<u8>>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
