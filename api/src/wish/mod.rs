//! Micro-wishes (微心愿): submitted, reviewed, claimed by one member, fulfilled, confirmed.

pub mod events;
pub mod loaders;
pub mod notices;
pub mod policy;
pub mod rules;
pub mod schema;
