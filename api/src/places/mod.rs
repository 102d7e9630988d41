//! Places and organisations: streets, communities, grids with their posts, organisations
//! and the 连心卡 contact card. (The node types themselves live in `nodes`.)

pub mod policy;
pub mod rules;
pub mod schema;
