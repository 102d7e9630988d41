//! Who may fetch an uploaded photo: exactly who may see the object it belongs to (the
//! incident's policy, or the wish's).

use entity::{incident, wish};

use crate::auth::AuthUser;

/// What a photo belongs to, loaded.
pub enum Owner {
    Incident(incident::Model),
    Wish(Box<wish::Model>),
}

/// Whether the viewer may fetch a photo of this owner.
pub fn may_fetch(viewer: Option<&AuthUser>, owner: &Owner) -> bool {
    match owner {
        Owner::Incident(i) => crate::incident::policy::may_see(viewer, i),
        Owner::Wish(w) => crate::wish::policy::scope(viewer).admits(w),
    }
}
