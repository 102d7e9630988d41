//! Student assistant schedules (网格员助理排班): slots, shifts, sign-ups, attendance,
//! certificates and the calendar feed.

pub mod events;
pub mod loaders;
pub mod policy;
pub mod rules;
pub mod schema;
