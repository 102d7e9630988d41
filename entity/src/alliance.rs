use sea_orm::entity::prelude::*;

#[derive(Copy, Clone, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum AllianceScope {
    #[sea_orm(string_value = "STREET")]
    Street,
    #[sea_orm(string_value = "COMMUNITY")]
    Community,
}

/// 党建联盟.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "alliances")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub name: String,
    pub lead_organization_id: i64,
    pub scope: AllianceScope,
    pub street_id: Option<i64>,
    pub community_id: Option<i64>,
    pub description: Option<String>,
    pub created_by: i64,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
