//! The node types that every domain returns: users, places and organisations, and the
//! registration a grid lists. They live here, below the domains, so that no two domain
//! folders import each other.

pub mod labels;
pub mod loaders;
pub mod place;
pub mod registration;
pub mod user;

pub use place::{Community, Grid, GridStaff, Organization, Street};
pub use registration::GridRegistration;
pub use user::{RoleAssignment, User};
