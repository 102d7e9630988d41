//! Notifications (消息提醒): a message to one person is written to the outbox in the same
//! transaction as the change that causes it (`outbox`), read in the app's inbox (`schema`),
//! and delivered on the outside channels by the sender (`sender`, `wechat`). The domain that
//! owns an event decides its recipients and writes its texts through its own read policy;
//! this room only stores and delivers, and names no domain.

pub mod delivery;
pub mod events;
pub mod kinds;
pub mod outbox;
pub mod schema;
pub mod sender;
pub mod sms;
pub mod wechat;
