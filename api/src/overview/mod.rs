//! Dashboard figures of a community (no personal data).

pub mod rules;
pub mod schema;
