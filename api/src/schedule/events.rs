//! Typed events of the schedule domain, published by its rules after a change commits.

use serde::{Deserialize, Serialize};

/// What happened to a sign-up.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize, async_graphql::Enum)]
pub enum ShiftEventKind {
    /// A student signed up.
    SignedUp,
    /// A sign-up was cancelled.
    Cancelled,
    /// A student checked in.
    CheckedIn,
}

/// A change of a sign-up for a shift of a slot.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignupChanged {
    pub kind: ShiftEventKind,
    pub slot_id: i64,
    pub shift_id: i64,
    pub signup_id: i64,
}

impl crate::core::bus::Topic for SignupChanged {
    const TOPIC: &'static str = "shift.signup_changed";
}
