//! Party-building alliances (党建联盟) and co-building agreements (共建协议): proposed with
//! frozen text, signed once by a UNIT_REP of every party, active within their term.

mod agreements;
mod alliances;
mod statistics;

pub use agreements::*;
pub use alliances::*;
pub use statistics::*;
