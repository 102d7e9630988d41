use sea_orm::entity::prelude::*;

#[derive(Copy, Clone, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum SignupStatus {
    #[sea_orm(string_value = "SIGNED_UP")]
    SignedUp,
    #[sea_orm(string_value = "CANCELLED")]
    Cancelled,
    #[sea_orm(string_value = "CHECKED_IN")]
    CheckedIn,
    #[sea_orm(string_value = "COMPLETED")]
    Completed,
    #[sea_orm(string_value = "NO_SHOW")]
    NoShow,
}

impl SignupStatus {
    /// Statuses that hold a place.
    pub const HOLDING: [SignupStatus; 3] = [
        SignupStatus::SignedUp,
        SignupStatus::CheckedIn,
        SignupStatus::Completed,
    ];
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "shift_signups")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub shift_id: i64,
    pub student_id: i64,
    pub status: SignupStatus,
    pub signed_up_at: DateTimeUtc,
    pub cancelled_at: Option<DateTimeUtc>,
    pub checked_in_at: Option<DateTimeUtc>,
    pub checked_out_at: Option<DateTimeUtc>,
    pub attendance_by: Option<i64>,
    /// Minutes credited on completion.
    pub minutes: Option<i32>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
