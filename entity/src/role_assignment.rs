use sea_orm::entity::prelude::*;

#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum Role {
    #[sea_orm(string_value = "ADMIN")]
    Admin,
    #[sea_orm(string_value = "COMMUNITY_STAFF")]
    CommunityStaff,
    #[sea_orm(string_value = "GRID_WORKER")]
    GridWorker,
    #[sea_orm(string_value = "PARTY_MEMBER")]
    PartyMember,
    #[sea_orm(string_value = "UNIT_REP")]
    UnitRep,
    #[sea_orm(string_value = "STUDENT")]
    Student,
    #[sea_orm(string_value = "RESIDENT")]
    Resident,
}

/// One role of a user, with its scope (a community, a grid or an organisation).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "role_assignments")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub user_id: i64,
    pub role: Role,
    pub community_id: Option<i64>,
    pub grid_id: Option<i64>,
    pub organization_id: Option<i64>,
    pub created_at: DateTimeUtc,
    /// The grant this role is in force by (`role_grants`).
    pub grant_id: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
