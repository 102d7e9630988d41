//! One delivery as the sender hands it to a channel, and what the channel makes of it.

use entity::{notification, notification_delivery};

/// What became of one attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Delivered (with the provider's id of the message, if it gives one).
    Sent(Option<String>),
    /// Not delivered, worth trying again (the provider was unreachable or busy).
    Retry(String),
    /// Not delivered and not worth trying again (the provider refused it).
    Failed(String),
    /// Not sent on purpose: no consent, quiet hours, channel off, no address.
    Skipped(String),
}

/// A delivery with what it needs.
pub struct Outgoing {
    pub delivery: notification_delivery::Model,
    pub message: notification::Model,
    pub openid: Option<String>,
    pub phone: Option<String>,
}
