use sea_orm::entity::prelude::*;

/// One view of another person's unmasked phone number or address (PIPL access log).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "personal_data_access_log")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub viewer_id: i64,
    /// The person whose data was shown (none for a wish beneficiary without an account).
    pub subject_id: Option<i64>,
    /// `PHONE` or `ADDRESS`.
    pub field: String,
    /// The schema path it was shown through, e.g. `User.phone`.
    pub path: String,
    pub record_type: Option<String>,
    pub record_id: Option<i64>,
    pub request_id: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
