use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub phone: Option<String>,
    pub avatar_url: Option<String>,
    pub password_hash: String,
    pub active: bool,
    pub created_at: DateTimeUtc,
    /// Raised to make every earlier token fail (password change, deactivation, log out).
    pub token_version: i64,
    /// Raised by the database when the user's roles, registrations or worker grids change.
    pub auth_stamp: i64,
    /// Set by a password reset until the user changes their password.
    pub must_change_password: bool,
    /// When the person's personal data was erased (PIPL); the account stays inactive.
    pub erased_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
