//! Party-building alliances and co-building agreements (党建联盟, 共建协议).

pub mod loaders;
pub mod rules;
pub mod schema;
