use sea_orm::entity::prelude::*;

/// Stored status. ACTIVE and EXPIRED are read from SIGNED (or PROPOSED) and the term.
#[derive(Copy, Clone, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum StoredAgreementStatus {
    #[sea_orm(string_value = "DRAFT")]
    Draft,
    #[sea_orm(string_value = "PROPOSED")]
    Proposed,
    #[sea_orm(string_value = "SIGNED")]
    Signed,
    #[sea_orm(string_value = "TERMINATED")]
    Terminated,
}

/// 共建协议.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "agreements")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub title: String,
    /// JSON array of commitments (deliverables).
    pub commitments: String,
    pub start_date: Date,
    pub end_date: Date,
    pub alliance_id: Option<i64>,
    pub status: StoredAgreementStatus,
    pub proposed_by: i64,
    pub proposed_at: Option<DateTimeUtc>,
    pub signed_at: Option<DateTimeUtc>,
    pub terminated_by: Option<i64>,
    pub terminated_at: Option<DateTimeUtc>,
    pub termination_reason: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
