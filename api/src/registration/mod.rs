//! Party members' registration (党员报到) with a community and its grid.

pub mod policy;
pub mod rules;
pub mod schema;
