use sea_orm::entity::prelude::*;

/// Party organisations (committees down to groups) and units in the area.
#[derive(Copy, Clone, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum OrganizationKind {
    #[sea_orm(string_value = "PARTY_COMMITTEE")]
    PartyCommittee,
    #[sea_orm(string_value = "PARTY_WORKING_COMMITTEE")]
    PartyWorkingCommittee,
    #[sea_orm(string_value = "GENERAL_BRANCH")]
    GeneralBranch,
    #[sea_orm(string_value = "BRANCH")]
    Branch,
    #[sea_orm(string_value = "GROUP")]
    Group,
    #[sea_orm(string_value = "ENTERPRISE")]
    Enterprise,
    #[sea_orm(string_value = "PUBLIC_INSTITUTION")]
    PublicInstitution,
    #[sea_orm(string_value = "SCHOOL")]
    School,
    #[sea_orm(string_value = "HOSPITAL")]
    Hospital,
    #[sea_orm(string_value = "SOCIAL_ORGANIZATION")]
    SocialOrganization,
    #[sea_orm(string_value = "GOVERNMENT_DEPARTMENT")]
    GovernmentDepartment,
}

impl OrganizationKind {
    /// Whether this is a party organisation (as opposed to a unit).
    pub fn is_party(self) -> bool {
        matches!(
            self,
            Self::PartyCommittee
                | Self::PartyWorkingCommittee
                | Self::GeneralBranch
                | Self::Branch
                | Self::Group
        )
    }
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "organizations")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub name: String,
    pub kind: OrganizationKind,
    pub parent_id: Option<i64>,
    pub community_id: Option<i64>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
