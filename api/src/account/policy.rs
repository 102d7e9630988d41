//! Who may manage accounts and read the account logs. The person rule (who sees a person's
//! personal data) is `people::policy`, re-exported here for the account domain.

use entity::role_assignment::Role;

use crate::auth::AuthUser;

pub use crate::people::policy::*;

/// The personal-data access log: ADMIN only.
pub fn may_read_access_log(viewer: &AuthUser) -> bool {
    viewer.is_admin()
}

/// Erasing a person's personal data on a verified request: ADMIN only.
pub fn may_erase_personal_data(viewer: &AuthUser) -> bool {
    viewer.is_admin()
}

/// The audit log of privileged mutations: ADMIN only.
pub fn may_read_audit_log(viewer: &AuthUser) -> bool {
    viewer.is_admin()
}

/// Who may reset another person's password, deactivate or reactivate them: ADMIN for
/// everyone; COMMUNITY_STAFF for a person who belongs to one of their communities and is
/// neither ADMIN nor staff (staff are managed by ADMIN).
pub fn may_manage_account(actor: &AuthUser, target: &AuthUser) -> bool {
    if actor.is_admin() {
        return true;
    }
    if target.is_admin() || target.has_role(Role::CommunityStaff) {
        return false;
    }
    actor
        .staff_communities()
        .into_iter()
        .any(|c| target.belongs_to(c))
}
