//! Student assistant schedules (网格员助理排班): weekly slots, their dated shifts, sign-ups
//! that never exceed capacity, attendance that credits hours and points once, and the
//! student's calendar — one file per seam.

mod attendance;
mod calendar;
pub mod reminders;
mod signups;
mod slots;

pub use attendance::*;
pub use calendar::*;
pub use signups::*;
pub use slots::*;
