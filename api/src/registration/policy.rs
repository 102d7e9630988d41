//! Who may see party members' registrations (报到): the rule lives with the registration
//! node that every domain returns (`nodes::registration::visible`).

pub use crate::nodes::registration::visible as scope;
