//! GraphQL of the moral bank: the objects, then the inputs, payloads and roots.

mod roots;
pub(crate) mod types;

pub use roots::*;
pub use types::*;
