//! Typed events of the incident domain, published by its rules after a change commits.

use serde::{Deserialize, Serialize};

/// What happened to an incident.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize, async_graphql::Enum)]
pub enum IncidentEventKind {
    /// Reported by a grid worker.
    Reported,
    /// Solved on the spot.
    ResolvedOnSite,
    /// Escalated to the street.
    Whistled,
    /// Sent to an organisation (again, for a redispatch).
    Dispatched,
    /// Taken by the organisation.
    Accepted,
    /// Handled by the organisation.
    Handled,
    /// Closed with the resident.
    Closed,
    /// Sent back to the organisation.
    Reopened,
    /// Its deadline passed before it was handled (published once per dispatch).
    Overdue,
}

/// A change of an incident.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentChanged {
    pub kind: IncidentEventKind,
    pub incident_id: i64,
}

impl IncidentEventKind {
    /// The event of a step into `status`.
    pub fn of(status: entity::incident::IncidentStatus) -> Self {
        use entity::incident::IncidentStatus::*;
        match status {
            Reported => Self::Reported,
            ResolvedOnSite => Self::ResolvedOnSite,
            Whistled => Self::Whistled,
            Dispatched => Self::Dispatched,
            Accepted => Self::Accepted,
            Handled => Self::Handled,
            Closed => Self::Closed,
            Reopened => Self::Reopened,
        }
    }
}

impl crate::core::bus::Topic for IncidentChanged {
    const TOPIC: &'static str = "incident.changed";
}
