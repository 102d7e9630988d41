//! Database connection: SQLite (WAL, busy timeout, foreign keys) or PostgreSQL, migrations,
//! a counter of executed SQL statements, and write transactions that begin IMMEDIATE on SQLite.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use migration::{Migrator, MigratorTrait};

use crate::core::error::{AppError, AppResult};
use sea_orm::{
    ConnectOptions, Database, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr,
    SqliteTransactionMode, TransactionOptions, TransactionTrait,
};

/// Counts SQL statements sent to the database (for tests and the benchmark).
#[derive(Clone, Default, Debug)]
pub struct StatementCounter(Arc<AtomicU64>);

impl StatementCounter {
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Connects to `url`, creating a SQLite file if missing.
pub async fn connect(url: &str) -> Result<(DatabaseConnection, StatementCounter), DbErr> {
    let mut opts = ConnectOptions::new(url.to_owned());
    let sqlite = url.starts_with("sqlite:");
    opts.sqlx_logging(false)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(30))
        .max_connections(if sqlite { 8 } else { 20 })
        .min_connections(1)
        // sqlx pings a pooled connection on every checkout by default: one round trip more
        // per request for both processes. Only a connection idle long enough to have been
        // dropped by the server or the network is pinged.
        .test_before_acquire_if_idle_for(Duration::from_secs(10));
    // After a lost connection has been seen (the server restarted, failed over or ended the
    // backends), every connection is pinged before it is handed out for a while, so the
    // dead ones still in the pool are dropped at once instead of failing a request each.
    opts.map_sqlx_postgres_before_acquire(|conn, _meta| {
        Box::pin(async move {
            if !recently_lost() {
                return Ok(true);
            }
            use sea_orm::sqlx::Connection;
            Ok(conn.ping().await.is_ok())
        })
    });
    if sqlite {
        opts.map_sqlx_sqlite_opts(|o| {
            o.create_if_missing(true)
                .journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(30))
                .foreign_keys(true)
                // 16 MB of page cache per connection (SQLite's default is 2 MB): at ten
                // times the benchmark's volume the indexes' upper pages no longer stayed
                // cached, and every read did more work (benchmark).
                .pragma("cache_size", "-16000")
        });
    }
    let mut db = Database::connect(opts).await?;
    let counter = StatementCounter::default();
    let inner = counter.0.clone();
    db.set_metric_callback(move |info| {
        tracing::trace!(target: "lianxin::sql", sql = %info.statement.sql, "statement");
        inner.fetch_add(1, Ordering::Relaxed);
    });
    Ok((db, counter))
}

/// When a lost connection was last seen (milliseconds since the epoch; 0: never).
static LOST_AT: AtomicU64 = AtomicU64::new(0);
/// How long after a lost connection every connection is pinged before use.
const PING_AFTER_LOSS: Duration = Duration::from_secs(30);

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Records that a connection was found dead.
pub fn note_connection_lost() {
    LOST_AT.store(now_ms(), Ordering::Relaxed);
}

fn recently_lost() -> bool {
    let at = LOST_AT.load(Ordering::Relaxed);
    at != 0 && now_ms().saturating_sub(at) < PING_AFTER_LOSS.as_millis() as u64
}

/// Whether an error means the connection to the database is gone (the server ended the
/// backend, restarted, or the network dropped it), rather than that the statement failed.
pub fn connection_lost(err: &DbErr) -> bool {
    use sea_orm::{RuntimeErr, sqlx};
    match err {
        DbErr::ConnectionAcquire(_) => true,
        DbErr::Conn(RuntimeErr::SqlxError(e))
        | DbErr::Exec(RuntimeErr::SqlxError(e))
        | DbErr::Query(RuntimeErr::SqlxError(e)) => match &**e {
            sqlx::Error::Io(_) | sqlx::Error::Protocol(_) | sqlx::Error::PoolClosed => true,
            sqlx::Error::WorkerCrashed => true,
            sqlx::Error::Database(d) => d.code().is_some_and(|c| {
                // admin_shutdown, crash_shutdown, cannot_connect_now; connection exceptions
                c.starts_with("57P0") || c.starts_with("08")
            }),
            _ => false,
        },
        _ => false,
    }
}

pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await
}

/// Begins a transaction that will write. On SQLite it takes the write lock at once
/// (`BEGIN IMMEDIATE`) so that it waits for the busy timeout instead of failing later.
///
/// A transaction that could not begin because its connection was found dead is begun again
/// once, on another connection (nothing of it ran).
pub async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    match begin_write_once(db).await {
        Err(e) if connection_lost(&e) => {
            tracing::warn!(error = %e, "a transaction's connection was lost before it began");
            note_connection_lost();
            begin_write_once(db).await
        }
        other => other,
    }
}

async fn begin_write_once(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    if db.get_database_backend() == DbBackend::Sqlite {
        db.begin_with_options(TransactionOptions {
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..Default::default()
        })
        .await
    } else {
        db.begin().await
    }
}

/// Loads a row by id or answers `NOT_FOUND` with `missing` (e.g. "网格不存在").
pub async fn get<E, C>(db: &C, id: i64, missing: &'static str) -> AppResult<E::Model>
where
    E: sea_orm::EntityTrait,
    <E::PrimaryKey as sea_orm::PrimaryKeyTrait>::ValueType: From<i64>,
    C: sea_orm::ConnectionTrait,
{
    E::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound(missing))
}

/// The join from `A` to the row of `B` that `A`'s column `from` points at (`to`, `B`'s key),
/// for entities whose relations are not declared.
pub fn belongs_to<A, B>(from: A::Column, to: B::Column) -> sea_orm::RelationDef
where
    A: sea_orm::EntityTrait,
    B: sea_orm::EntityTrait,
{
    A::belongs_to(B::default()).from(from).to(to).into()
}

/// A row of `A` by id with the row of `B` it points at ([`belongs_to`]), in one statement;
/// `NOT_FOUND` with `missing` when either is absent.
pub async fn get_with<A, B, C>(
    db: &C,
    id: i64,
    from: A::Column,
    to: B::Column,
    missing: &'static str,
) -> AppResult<(A::Model, B::Model)>
where
    A: sea_orm::EntityTrait,
    B: sea_orm::EntityTrait,
    <A::PrimaryKey as sea_orm::PrimaryKeyTrait>::ValueType: From<i64>,
    C: sea_orm::ConnectionTrait,
{
    use sea_orm::QuerySelect;
    A::find_by_id(id)
        .join(sea_orm::JoinType::InnerJoin, belongs_to::<A, B>(from, to))
        .select_also(B::default())
        .one(db)
        .await?
        .and_then(|(a, b)| b.map(|b| (a, b)))
        .ok_or(AppError::NotFound(missing))
}

/// Takes a job's PostgreSQL advisory lock for the transaction (`pg_try_advisory_xact_lock`):
/// false when another instance holds it. On SQLite (one instance) it is always taken; the
/// job's lock in the process serialises its runs there.
pub async fn try_job_lock(txn: &DatabaseTransaction, key: i64) -> Result<bool, DbErr> {
    use sea_orm::{ConnectionTrait, DbBackend, Statement};
    if txn.get_database_backend() != DbBackend::Postgres {
        return Ok(true);
    }
    let row = txn
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pg_try_advisory_xact_lock($1)",
            [key.into()],
        ))
        .await?;
    match row {
        Some(r) => r.try_get_by_index(0),
        None => Ok(false),
    }
}
