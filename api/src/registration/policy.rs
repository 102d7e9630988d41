//! Who may see party members' registrations (报到).

use entity::grid_registration;

use crate::{auth::AuthUser, core::scope::Scope};

/// Registrations a viewer may see, wherever they are reached (the root list, a grid's
/// registered members, payloads): ADMIN all; staff those of their communities; grid workers
/// those of their grids (and the micro-grids inside them); everyone their own.
pub fn scope(viewer: &AuthUser) -> Scope<grid_registration::Entity> {
    if viewer.is_admin() {
        return Scope::Everything;
    }
    Scope::Any(vec![
        Scope::is(grid_registration::Column::MemberId, viewer.id()),
        Scope::one_of(
            grid_registration::Column::CommunityId,
            viewer.staff_communities(),
        ),
        Scope::one_of(
            grid_registration::Column::GridId,
            viewer.worker_grids.clone(),
        ),
    ])
}
