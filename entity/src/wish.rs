use sea_orm::entity::prelude::*;

#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum WishCategory {
    #[sea_orm(string_value = "GOODS")]
    Goods,
    #[sea_orm(string_value = "SERVICE")]
    Service,
    #[sea_orm(string_value = "COMPANIONSHIP")]
    Companionship,
    #[sea_orm(string_value = "OTHER")]
    Other,
}

/// Stored status. EXPIRED is not stored: a wish past its deadline and not fulfilled reads as EXPIRED.
#[derive(Copy, Clone, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum WishStatus {
    #[sea_orm(string_value = "PENDING_REVIEW")]
    PendingReview,
    #[sea_orm(string_value = "PUBLISHED")]
    Published,
    #[sea_orm(string_value = "CLAIMED")]
    Claimed,
    #[sea_orm(string_value = "FULFILLED")]
    Fulfilled,
    #[sea_orm(string_value = "CONFIRMED")]
    Confirmed,
    #[sea_orm(string_value = "REJECTED")]
    Rejected,
    #[sea_orm(string_value = "CANCELLED")]
    Cancelled,
}

impl WishStatus {
    /// Statuses that turn into EXPIRED once the deadline has passed.
    pub const EXPIRABLE: [WishStatus; 3] = [
        WishStatus::PendingReview,
        WishStatus::Published,
        WishStatus::Claimed,
    ];
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "wishes")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub community_id: i64,
    pub grid_id: i64,
    pub title: String,
    pub description: String,
    pub category: WishCategory,
    pub submitted_by: i64,
    pub beneficiary_user_id: Option<i64>,
    pub beneficiary_name: String,
    pub beneficiary_phone: Option<String>,
    pub beneficiary_address: Option<String>,
    pub estimated_value: i32,
    pub deadline: Option<Date>,
    pub status: WishStatus,
    pub claimant_id: Option<i64>,
    pub review_reason: Option<String>,
    pub reviewed_by: Option<i64>,
    pub reviewed_at: Option<DateTimeUtc>,
    pub fulfil_note: Option<String>,
    /// JSON array of photo URLs.
    pub fulfil_photos: Option<String>,
    pub fulfilled_at: Option<DateTimeUtc>,
    pub rating: Option<i32>,
    pub feedback: Option<String>,
    pub confirmed_by: Option<i64>,
    pub confirmed_at: Option<DateTimeUtc>,
    pub cancel_reason: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
