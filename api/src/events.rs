//! Live events for subscriptions. With SQLite (one instance) events go through an in-process
//! broadcast channel; with PostgreSQL they are published with `pg_notify` and every instance
//! LISTENs and forwards them to its own subscribers, so events cross instances with no extra
//! service.

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

pub const CHANNEL: &str = "lianxin_events";

/// Every domain's typed events, as carried by the bus (and, on PostgreSQL, as JSON through
/// NOTIFY). Each domain defines its own in its `events.rs`; its rules publish them.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "type")]
pub enum Event {
    Wish(crate::wish::events::WishChanged),
    Shift(crate::schedule::events::SignupChanged),
    Incident(crate::incident::events::IncidentChanged),
}

impl From<crate::incident::events::IncidentChanged> for Event {
    fn from(e: crate::incident::events::IncidentChanged) -> Self {
        Event::Incident(e)
    }
}

impl From<crate::wish::events::WishChanged> for Event {
    fn from(e: crate::wish::events::WishChanged) -> Self {
        Event::Wish(e)
    }
}

impl From<crate::schedule::events::SignupChanged> for Event {
    fn from(e: crate::schedule::events::SignupChanged) -> Self {
        Event::Shift(e)
    }
}

#[derive(Clone)]
pub struct Events {
    tx: broadcast::Sender<Event>,
}

impl Default for Events {
    fn default() -> Self {
        Self {
            tx: broadcast::channel(1024).0,
        }
    }
}

impl Events {
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.tx.subscribe()
    }

    /// Delivers to this instance's subscribers.
    pub fn deliver(&self, event: Event) {
        let _ = self.tx.send(event);
    }

    /// Publishes an event after a successful change: through PostgreSQL NOTIFY (all
    /// instances, this one included, receive it), or in-process for SQLite.
    pub async fn publish(&self, db: &DatabaseConnection, event: impl Into<Event>) {
        let event = event.into();
        if db.get_database_backend() == DbBackend::Postgres {
            let Ok(payload) = serde_json::to_string(&event) else {
                return;
            };
            let stmt = Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT pg_notify($1, $2)",
                [CHANNEL.into(), payload.into()],
            );
            if let Err(e) = db.execute_raw(stmt).await {
                tracing::warn!(error = %e, "event not published");
            }
        } else {
            self.deliver(event);
        }
    }

    /// Forwards PostgreSQL notifications to this instance's subscribers, reconnecting on
    /// failure.
    pub fn listen_postgres(&self, url: String) {
        let events = self.clone();
        tokio::spawn(async move {
            loop {
                match sea_orm::sqlx::postgres::PgListener::connect(&url).await {
                    Ok(mut listener) => {
                        if let Err(e) = listener.listen(CHANNEL).await {
                            tracing::warn!(error = %e, "LISTEN failed");
                        } else {
                            loop {
                                match listener.recv().await {
                                    Ok(n) => {
                                        if let Ok(ev) = serde_json::from_str::<Event>(n.payload()) {
                                            events.deliver(ev);
                                        }
                                    }
                                    Err(e) => {
                                        tracing::warn!(error = %e, "event listener lost its connection");
                                        break;
                                    }
                                }
                            }
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "event listener cannot connect"),
                }
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            }
        });
    }
}
