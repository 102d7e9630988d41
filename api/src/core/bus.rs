//! The event bus, keyed by the event's type: each domain defines its typed events (a
//! [`Topic`]) and publishes them after its transaction commits; each domain serves its own
//! live fields by subscribing to its own types. The bus names no domain.
//!
//! With SQLite (one instance) events go through an in-process broadcast channel per topic;
//! with PostgreSQL they are published with `pg_notify` as `{"topic", "event"}` JSON and every
//! instance LISTENs and forwards them to its own subscribers of that topic, so events cross
//! instances with no extra service.

use std::{
    any::Any,
    collections::HashMap,
    sync::{Arc, Mutex},
};

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
use serde::{Serialize, de::DeserializeOwned};
use tokio::sync::broadcast;

/// The PostgreSQL channel the bus publishes on.
pub const CHANNEL: &str = "lianxin_events";

/// Events buffered per topic for a slow subscriber (beyond, it skips what it missed).
const CAPACITY: usize = 1024;

/// A typed event the bus carries, under a name unique to its type.
pub trait Topic: Clone + Send + Sync + Serialize + DeserializeOwned + 'static {
    const TOPIC: &'static str;
}

/// One topic's channel, with a way to deliver it an event that arrived as JSON.
struct Channel {
    sender: Box<dyn Any + Send + Sync>,
    deliver_json: Box<dyn Fn(&serde_json::Value) + Send + Sync>,
}

#[derive(Clone, Default)]
pub struct Bus {
    channels: Arc<Mutex<HashMap<&'static str, Channel>>>,
}

impl Bus {
    fn sender<T: Topic>(&self) -> broadcast::Sender<T> {
        let mut channels = self.channels.lock().unwrap_or_else(|e| e.into_inner());
        let channel = channels.entry(T::TOPIC).or_insert_with(|| {
            let tx = broadcast::channel::<T>(CAPACITY).0;
            let json_tx = tx.clone();
            Channel {
                sender: Box::new(tx),
                deliver_json: Box::new(move |value| {
                    if let Ok(event) = serde_json::from_value::<T>(value.clone()) {
                        let _ = json_tx.send(event);
                    }
                }),
            }
        });
        match channel.sender.downcast_ref::<broadcast::Sender<T>>() {
            Some(tx) => tx.clone(),
            // Two types under one topic name: a programming error, kept apart (never mixed).
            None => {
                tracing::error!(topic = T::TOPIC, "two event types share a topic");
                broadcast::channel::<T>(1).0
            }
        }
    }

    /// This instance's subscribers of `T` receive what is published from now on.
    pub fn subscribe<T: Topic>(&self) -> broadcast::Receiver<T> {
        self.sender::<T>().subscribe()
    }

    /// Delivers to this instance's subscribers of `T`.
    pub fn deliver<T: Topic>(&self, event: T) {
        let _ = self.sender::<T>().send(event);
    }

    /// Delivers an event that arrived as JSON (from another instance, through PostgreSQL)
    /// to the subscribers of its topic; topics nobody here subscribes to are dropped.
    fn deliver_json(&self, payload: &str) {
        let Ok(value) = serde_json::from_str::<serde_json::Value>(payload) else {
            return;
        };
        let Some(topic) = value["topic"].as_str() else {
            return;
        };
        let channels = self.channels.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(channel) = channels.get(topic) {
            (channel.deliver_json)(&value["event"]);
        }
    }

    /// Publishes an event after a successful change: through PostgreSQL NOTIFY (all
    /// instances, this one included, receive it), or in-process for SQLite.
    pub async fn publish<T: Topic>(&self, db: &DatabaseConnection, event: T) {
        if db.get_database_backend() != DbBackend::Postgres {
            self.deliver(event);
            return;
        }
        let payload = serde_json::json!({ "topic": T::TOPIC, "event": event }).to_string();
        let stmt = Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pg_notify($1, $2)",
            [CHANNEL.into(), payload.into()],
        );
        if let Err(e) = db.execute_raw(stmt).await {
            tracing::warn!(error = %e, topic = T::TOPIC, "event not published");
        }
    }

    /// Forwards PostgreSQL notifications to this instance's subscribers, reconnecting on
    /// failure.
    pub fn listen_postgres(&self, url: String) {
        let bus = self.clone();
        tokio::spawn(async move {
            loop {
                match sea_orm::sqlx::postgres::PgListener::connect(&url).await {
                    Ok(mut listener) => {
                        if let Err(e) = listener.listen(CHANNEL).await {
                            tracing::warn!(error = %e, "LISTEN failed");
                        } else {
                            loop {
                                match listener.recv().await {
                                    Ok(n) => bus.deliver_json(n.payload()),
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

/// The next event of a subscription, skipping over those lost to lag; `None` once closed.
pub async fn next<T: Topic>(rx: &mut broadcast::Receiver<T>) -> Option<T> {
    loop {
        match rx.recv().await {
            Ok(ev) => return Some(ev),
            Err(broadcast::error::RecvError::Lagged(_)) => continue,
            Err(_) => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    struct Rang {
        n: i64,
    }
    impl Topic for Rang {
        const TOPIC: &'static str = "test.rang";
    }

    #[tokio::test]
    async fn events_reach_the_subscribers_of_their_type_only_also_as_json() {
        let bus = Bus::default();
        let mut rx = bus.subscribe::<Rang>();
        bus.deliver(Rang { n: 1 });
        bus.deliver_json(r#"{"topic": "test.rang", "event": {"n": 2}}"#);
        bus.deliver_json(r#"{"topic": "other", "event": {"n": 3}}"#);
        assert_eq!(next(&mut rx).await, Some(Rang { n: 1 }));
        assert_eq!(next(&mut rx).await, Some(Rang { n: 2 }));
        assert!(rx.try_recv().is_err());
    }
}
