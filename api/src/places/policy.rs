//! What the places domain shows to whom.

use crate::{auth::AuthUser, core::mask::Access};

/// The 连心卡 publishes its grid staff's phones to the people of the community (that is its
/// purpose): users who belong to the community see them whole, everyone else masked. Names
/// and photos of grid staff are public.
pub fn contact_card(viewer: Option<&AuthUser>, community_id: i64) -> Access {
    if viewer.is_some_and(|u| u.belongs_to(community_id)) {
        Access::Full
    } else {
        Access::NameOnly
    }
}
