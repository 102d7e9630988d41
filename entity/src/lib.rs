//! sea-orm entities of lianxin. Plain data: no GraphQL here.

pub mod community;
pub mod grid;
pub mod grid_registration;
pub mod grid_staff;
pub mod organization;
pub mod role_assignment;
pub mod street;
pub mod user;
