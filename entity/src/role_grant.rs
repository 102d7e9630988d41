use sea_orm::entity::prelude::*;

use crate::role_assignment::Role;

/// A role granted to a user with its scope and dates; kept after it ends or is revoked (the history). The grants in force are mirrored in `role_assignments`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "role_grants")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub user_id: i64,
    pub role: Role,
    pub community_id: Option<i64>,
    pub grid_id: Option<i64>,
    pub organization_id: Option<i64>,
    /// First day in force (Asia/Shanghai).
    pub valid_from: Date,
    /// Last day in force, inclusive; open when `None`.
    pub valid_until: Option<Date>,
    pub granted_by: Option<i64>,
    pub granted_at: DateTimeUtc,
    pub revoked_by: Option<i64>,
    pub revoked_at: Option<DateTimeUtc>,
    pub revoke_reason: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    /// Whether the grant is in force on `day`.
    pub fn in_force_on(&self, day: Date) -> bool {
        self.revoked_at.is_none()
            && self.valid_from <= day
            && self.valid_until.is_none_or(|u| day <= u)
    }
}
