//! GraphQL of schedules: the objects, then the inputs, payloads and roots.

mod live;
mod roots;
pub(crate) mod types;

pub use live::*;
pub use roots::*;
pub use types::*;
