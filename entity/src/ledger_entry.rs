use sea_orm::entity::prelude::*;

#[derive(Copy, Clone, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum EntryKind {
    #[sea_orm(string_value = "EARN")]
    Earn,
    #[sea_orm(string_value = "REDEEM")]
    Redeem,
    #[sea_orm(string_value = "REVERSAL")]
    Reversal,
    #[sea_orm(string_value = "ADJUSTMENT")]
    Adjustment,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum EntrySource {
    #[sea_orm(string_value = "WISH")]
    Wish,
    #[sea_orm(string_value = "SHIFT")]
    Shift,
    #[sea_orm(string_value = "GOOD_DEED")]
    GoodDeed,
    #[sea_orm(string_value = "REDEMPTION")]
    Redemption,
    #[sea_orm(string_value = "MANUAL")]
    Manual,
}

/// An immutable ledger entry (a database trigger refuses UPDATE and DELETE).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "ledger_entries")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub passbook_id: i64,
    pub amount: i64,
    pub kind: EntryKind,
    pub source: EntrySource,
    pub source_id: Option<i64>,
    pub memo: String,
    pub operator_id: Option<i64>,
    pub balance_after: i64,
    pub reverses_entry_id: Option<i64>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
