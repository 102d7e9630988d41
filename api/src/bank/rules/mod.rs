//! The moral bank (道德银行): passbooks, an immutable ledger, good deeds, rewards and
//! redemptions, reversals, rankings.

mod deeds;
mod ledger;
mod rewards;

pub use deeds::*;
pub use ledger::*;
pub use rewards::*;
