//! Micro-wishes (微心愿): the wish wall, claims and confirmation, with the beneficiary's
//! personal data shown by role.

mod live;
mod roots;
pub(crate) mod types;

pub use live::*;
pub use roots::*;
pub use types::*;
