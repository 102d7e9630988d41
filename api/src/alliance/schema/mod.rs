//! GraphQL of alliances and co-building agreements: the objects, then the inputs, payloads
//! and roots.

mod roots;
mod types;

pub use roots::*;
pub use types::*;
