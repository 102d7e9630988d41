//! The notification room's event: a batch of messages was committed.

use serde::{Deserialize, Serialize};

use crate::core::bus::Topic;

/// Messages of one event were written to the outbox (read them by `batch`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct NotificationsAdded {
    pub batch: String,
}

impl Topic for NotificationsAdded {
    const TOPIC: &'static str = "notify.added";
}
