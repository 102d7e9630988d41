//! Typed events of the wish domain, published by its rules after a change commits.

use serde::{Deserialize, Serialize};

/// What happened to a wish.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize, async_graphql::Enum)]
pub enum WishEventKind {
    /// Published on the wall.
    Published,
    /// Claimed by a party member.
    Claimed,
    /// Given up by its claimant.
    Released,
    /// Reported fulfilled.
    Fulfilled,
    /// Confirmed by the beneficiary or staff.
    Confirmed,
    /// Cancelled.
    Cancelled,
}

/// A change of a wish in a community.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WishChanged {
    pub kind: WishEventKind,
    pub wish_id: i64,
    pub community_id: i64,
}

impl WishChanged {
    pub fn of(kind: WishEventKind, w: &entity::wish::Model) -> Self {
        Self {
            kind,
            wish_id: w.id,
            community_id: w.community_id,
        }
    }
}

impl crate::core::bus::Topic for WishChanged {
    const TOPIC: &'static str = "wish.changed";
}
