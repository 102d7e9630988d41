use sea_orm::entity::prelude::*;

#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum AgreementKind {
    #[sea_orm(string_value = "JOINT_ACTIVITIES")]
    JointActivities,
    #[sea_orm(string_value = "MUTUAL_SERVICE")]
    MutualService,
    #[sea_orm(string_value = "SHARED_VENUES")]
    SharedVenues,
    #[sea_orm(string_value = "JOINT_EPIDEMIC_PREVENTION")]
    JointEpidemicPrevention,
    #[sea_orm(string_value = "OTHER")]
    Other,
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "agreement_kinds")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub agreement_id: i64,
    pub kind: AgreementKind,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
