//! The event bus, keyed by the event's type: each domain defines its typed events (a
//! [`Topic`]) and publishes them after its transaction commits; each domain serves its own
//! live fields by subscribing to its own types. The bus names no domain.
//!
//! Every event is first written to `live_events`, whose id is the event's **cursor**: it
//! rises with each event, across topics and instances. A subscription started `after` a
//! cursor first replays the events of its topic since then (at most [`REPLAY_MAX`], kept for
//! `Config::event_retention`, 24 h by default), then goes live ([`Bus::resume`]).
//!
//! With SQLite (one instance) events go through an in-process broadcast channel per topic;
//! with PostgreSQL they are published with `pg_notify` as `{"topic", "cursor", "event"}` JSON
//! and every instance LISTENs and forwards them to its own subscribers of that topic, so
//! events cross instances with no extra service.

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

/// An event with its cursor.
#[derive(Clone, Debug, PartialEq)]
pub struct Stamped<T> {
    pub cursor: i64,
    pub event: T,
}

/// Most events replayed to a subscription resumed after a cursor (the oldest are dropped).
pub const REPLAY_MAX: u64 = 1000;

/// Parses a cursor a client sent back (`after`).
pub fn parse_cursor(text: &str) -> crate::core::error::AppResult<i64> {
    text.trim()
        .parse::<i64>()
        .ok()
        .filter(|c| *c >= 0)
        .ok_or_else(|| crate::core::error::AppError::bad_field("after", "游标无效"))
}

/// A subscription's events: those missed since a cursor first, then live ones, each once.
pub struct Resumed<T> {
    backlog: std::collections::VecDeque<Stamped<T>>,
    rx: broadcast::Receiver<Stamped<T>>,
    last: i64,
}

impl<T: Topic> Resumed<T> {
    /// The next event; `None` once the bus is gone.
    pub async fn next(&mut self) -> Option<Stamped<T>> {
        if let Some(ev) = self.backlog.pop_front() {
            self.last = ev.cursor;
            return Some(ev);
        }
        loop {
            let ev = next(&mut self.rx).await?;
            // Live events already replayed are skipped (uncursored ones, cursor 0, pass).
            if ev.cursor == 0 || ev.cursor > self.last {
                self.last = self.last.max(ev.cursor);
                return Some(ev);
            }
        }
    }
}

/// One topic's channel, with a way to deliver it an event that arrived as JSON.
/// Delivers an event that arrived as JSON, with its cursor, to a topic's subscribers.
type DeliverJson = Box<dyn Fn(i64, &serde_json::Value) + Send + Sync>;

struct Channel {
    sender: Box<dyn Any + Send + Sync>,
    deliver_json: DeliverJson,
}

#[derive(Clone, Default)]
pub struct Bus {
    channels: Arc<Mutex<HashMap<&'static str, Channel>>>,
}

impl Bus {
    fn sender<T: Topic>(&self) -> broadcast::Sender<Stamped<T>> {
        let mut channels = self.channels.lock().unwrap_or_else(|e| e.into_inner());
        let channel = channels.entry(T::TOPIC).or_insert_with(|| {
            let tx = broadcast::channel::<Stamped<T>>(CAPACITY).0;
            let json_tx = tx.clone();
            Channel {
                sender: Box::new(tx),
                deliver_json: Box::new(move |cursor, value| {
                    if let Ok(event) = serde_json::from_value::<T>(value.clone()) {
                        let _ = json_tx.send(Stamped { cursor, event });
                    }
                }),
            }
        });
        match channel
            .sender
            .downcast_ref::<broadcast::Sender<Stamped<T>>>()
        {
            Some(tx) => tx.clone(),
            // Two types under one topic name: a programming error, kept apart (never mixed).
            None => {
                tracing::error!(topic = T::TOPIC, "two event types share a topic");
                broadcast::channel::<Stamped<T>>(1).0
            }
        }
    }

    /// This instance's subscribers of `T` receive what is published from now on.
    pub fn subscribe<T: Topic>(&self) -> broadcast::Receiver<Stamped<T>> {
        self.sender::<T>().subscribe()
    }

    /// Events of `T` from now on, after those published since `after` (replayed from
    /// `live_events`, at most [`REPLAY_MAX`], the newest kept).
    pub async fn resume<T: Topic>(
        &self,
        db: &DatabaseConnection,
        after: Option<i64>,
    ) -> crate::core::error::AppResult<Resumed<T>> {
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
        // Subscribed first, so that nothing published while the backlog is read is lost.
        let rx = self.subscribe::<T>();
        let mut backlog = std::collections::VecDeque::new();
        let mut last = 0;
        if let Some(after) = after {
            last = after;
            let mut rows = entity::live_event::Entity::find()
                .filter(entity::live_event::Column::Topic.eq(T::TOPIC))
                .filter(entity::live_event::Column::Id.gt(after))
                .order_by_desc(entity::live_event::Column::Id)
                .limit(REPLAY_MAX)
                .all(db)
                .await?;
            rows.reverse();
            for row in rows {
                if let Ok(event) = serde_json::from_str::<T>(&row.payload) {
                    backlog.push_back(Stamped {
                        cursor: row.id,
                        event,
                    });
                }
            }
        }
        Ok(Resumed { backlog, rx, last })
    }

    /// Delivers to this instance's subscribers of `T`.
    pub fn deliver<T: Topic>(&self, cursor: i64, event: T) {
        let _ = self.sender::<T>().send(Stamped { cursor, event });
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
        let cursor = value["cursor"].as_i64().unwrap_or(0);
        let channels = self.channels.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(channel) = channels.get(topic) {
            (channel.deliver_json)(cursor, &value["event"]);
        }
    }

    /// Publishes an event after a successful change: recorded in `live_events` (its id is
    /// the cursor) and announced through PostgreSQL NOTIFY in the same statement (all
    /// instances, this one included, receive it), or recorded and delivered in-process for
    /// SQLite (an event that could not be recorded there is still delivered, with cursor 0:
    /// it cannot be replayed).
    pub async fn publish<T: Topic>(&self, db: &DatabaseConnection, event: T) {
        use sea_orm::{ActiveModelTrait, Set};
        let text = serde_json::to_string(&event).unwrap_or_default();
        if db.get_database_backend() == DbBackend::Postgres {
            // One statement: the record and the announcement carrying its cursor.
            let stmt = Statement::from_sql_and_values(
                DbBackend::Postgres,
                "WITH e AS (INSERT INTO live_events (topic, payload, created_at) VALUES ($1, $2, now()) RETURNING id) \
                 SELECT pg_notify($3, json_build_object('topic', $1::text, 'cursor', e.id, 'event', $2::json)::text) FROM e",
                [T::TOPIC.into(), text.into(), CHANNEL.into()],
            );
            if let Err(e) = db.execute_raw(stmt).await {
                tracing::warn!(error = %e, topic = T::TOPIC, "event not published");
            }
            return;
        }
        let cursor = match (entity::live_event::ActiveModel {
            topic: Set(T::TOPIC.to_owned()),
            payload: Set(text),
            created_at: Set(chrono::Utc::now()),
            ..Default::default()
        })
        .insert(db)
        .await
        {
            Ok(row) => row.id,
            Err(e) => {
                tracing::warn!(error = %e, topic = T::TOPIC, "event not recorded");
                0
            }
        };
        self.deliver(cursor, event);
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

/// Removes recorded events older than `keep` (a job; any number of instances may run it).
pub async fn prune(
    db: &DatabaseConnection,
    keep: std::time::Duration,
) -> crate::core::error::AppResult<u64> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let before = chrono::Utc::now()
        - chrono::Duration::from_std(keep).unwrap_or_else(|_| chrono::Duration::days(1));
    Ok(entity::live_event::Entity::delete_many()
        .filter(entity::live_event::Column::CreatedAt.lt(before))
        .exec(db)
        .await?
        .rows_affected)
}

/// The next event of a subscription, skipping over those lost to lag; `None` once closed.
pub async fn next<T: Clone>(rx: &mut broadcast::Receiver<T>) -> Option<T> {
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
        bus.deliver(7, Rang { n: 1 });
        bus.deliver_json(r#"{"topic": "test.rang", "cursor": 9, "event": {"n": 2}}"#);
        bus.deliver_json(r#"{"topic": "other", "cursor": 10, "event": {"n": 3}}"#);
        let stamped = |cursor, n| {
            Some(Stamped {
                cursor,
                event: Rang { n },
            })
        };
        assert_eq!(next(&mut rx).await, stamped(7, 1));
        assert_eq!(next(&mut rx).await, stamped(9, 2));
        assert!(rx.try_recv().is_err());
    }
}
