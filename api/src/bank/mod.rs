//! The moral bank (道德银行): passbooks, the immutable ledger, good deeds, rewards.

pub mod loaders;
pub mod policy;
pub mod rules;
pub mod schema;
