//! DataLoaders: one batched query per relation, so a page's SQL statement count does not
//! grow with its size. One `DataLoader<Db>` is created per request (no cross-user caching).

use std::{
    any::{Any, TypeId},
    collections::HashMap,
    future::Future,
    pin::Pin,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
};

use async_graphql::dataloader::{DataLoader, Loader};
use futures_util::{FutureExt, future::Shared};
use sea_orm::DatabaseConnection;

use crate::core::error::AppError;

/// The loader: a database handle, and the gate of the request's batches.
pub struct Db {
    conn: DatabaseConnection,
    gate: Arc<Gate>,
}

tokio::task_local! {
    /// Whether the batch running on this task has taken its keys (see [`Db::conn`]).
    static TOOK_KEYS: std::cell::Cell<bool>;
}

impl Db {
    /// The connection for a batch's statements. The batch has taken its keys by now: it waits
    /// here until every batch of its round has too, so that no batch of the round can finish
    /// (and lead the request to ask for more keys) while another one may still gather keys.
    /// Which keys go into which statement thus never depends on timing.
    pub async fn conn(&self) -> &DatabaseConnection {
        let first = TOOK_KEYS
            .try_with(|took| !took.replace(true))
            .unwrap_or(false);
        if first {
            self.gate.took_keys();
            self.gate.all_took_keys().await;
        }
        &self.conn
    }
}

/// The loaders of one request: a DataLoader with a per-request cache (never shared between
/// users) and a count of the loads asked for so far.
///
/// async-graphql polls the items of a long list in slices, so the keys of a page arrive over
/// several scheduler turns. A batch therefore waits until no new load has been asked for
/// during a couple of turns before it runs: a page of 100 then costs the same statements as
/// a page of 10, whatever the speed of the machine.
pub struct Loaders {
    inner: Arc<DataLoader<Db>>,
    asked: Arc<AtomicU64>,
    /// Every key asked for in this request, with its (possibly still running) load: a key
    /// is loaded once, even when asked for again while its batch is in flight.
    memo: Arc<Mutex<MemoMap>>,
}

type MemoMap = HashMap<TypeId, Box<dyn Any + Send + Sync>>;

/// Forgets every load of one [`Loaders`]: a subscription renews its loaders before each
/// event, so an event shows the rows as they are then, and the memo does not grow for the
/// life of a connection.
#[derive(Clone)]
pub struct Renew(Arc<Mutex<MemoMap>>);

impl Renew {
    pub fn now(&self) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }
}

type Pending<V> = Shared<Pin<Box<dyn Future<Output = Result<Option<V>, AppError>> + Send>>>;

/// A key of the request: a row already read (primed by a page that joined it), or a load.
enum Memo<V> {
    Ready(Option<V>),
    Loading(Pending<V>),
}

/// Scheduler turns without a new load after which a batch runs.
const QUIET_TURNS: usize = 8;

/// Upper bound of scheduler turns a batch waits for more keys.
const MAX_WAIT_TURNS: usize = 2000;

/// Longest wait for another batch of the request to finish, and the safety valve of a batch
/// waiting for its request to stall. A request always stalls or finishes, so the valve only
/// guards against a bug; it is long enough that a busy machine (a request preempted for tens
/// of milliseconds while it asks for a page's keys) does not split a batch.
const GATE_WAIT: std::time::Duration = std::time::Duration::from_millis(500);

/// Starts the batches of one request in rounds.
///
/// When the request is stalled (no new load asked for a while) and no batch is running, a
/// new round starts and releases every batch registered before it, together. A batch
/// registered while a round runs (its keys come from that round's results) waits for the
/// next round. The number of batches thus follows the shape of the query, not the number of
/// rows or the timing of the database.
#[derive(Default)]
struct Gate {
    state: Mutex<GateState>,
    changed: tokio::sync::Notify,
}

#[derive(Default)]
struct GateState {
    /// Batches released and not finished.
    running: usize,
    rounds: u64,
    /// Batches spawned and not yet released.
    waiting: usize,
    /// Batches of the current round that have not yet taken their keys.
    to_take: usize,
}

impl Gate {
    fn lock(&self) -> std::sync::MutexGuard<'_, GateState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits until this batch (registered at round `registered`) may run.
    async fn enter(&self, registered: u64, asked: &AtomicU64, stall: Option<&Stall>) {
        loop {
            let changed = self.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            {
                let mut st = self.lock();
                if st.rounds > registered {
                    st.running += 1;
                    st.waiting -= 1;
                    return;
                }
            }
            match stall {
                Some(st) => st.wait().await,
                None => wait_for_quiet(asked).await,
            }
            {
                let mut st = self.lock();
                if st.rounds > registered {
                    st.running += 1;
                    st.waiting -= 1;
                    return;
                }
                if st.running == 0 && st.to_take == 0 {
                    // Every batch waiting now was registered before this round: all of them
                    // run in it, and each must take its keys before any of them finishes.
                    st.rounds += 1;
                    st.running += 1;
                    st.to_take = st.waiting;
                    st.waiting -= 1;
                    drop(st);
                    self.changed.notify_waiters();
                    return;
                }
            }
            let _ = tokio::time::timeout(GATE_WAIT, changed).await;
        }
    }

    /// Registers a batch spawned now; returns the round it waits to follow.
    fn register(&self) -> u64 {
        let mut st = self.lock();
        st.waiting += 1;
        st.rounds
    }

    /// A batch of the current round has taken its keys (or finished without any).
    fn took_keys(&self) {
        {
            let mut st = self.lock();
            st.to_take = st.to_take.saturating_sub(1);
        }
        self.changed.notify_waiters();
    }

    /// Waits until every batch of the current round has taken its keys.
    async fn all_took_keys(&self) {
        let deadline = tokio::time::Instant::now() + GATE_WAIT;
        loop {
            let changed = self.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            if self.lock().to_take == 0 {
                return;
            }
            if tokio::time::timeout_at(deadline, changed).await.is_err() {
                return;
            }
        }
    }

    fn leave(&self) {
        {
            let mut st = self.lock();
            st.running = st.running.saturating_sub(1);
        }
        self.changed.notify_waiters();
    }
}

/// Whether a request's resolution is stalled: its future returned `Pending` without having
/// been woken during the poll, and has not been woken since, so every resolver waits on a
/// load. A finished batch wakes the request (its results are ready): until the request has
/// been polled again and has asked for the keys those results lead to, it is not stalled.
#[derive(Default)]
pub struct Stall {
    stalled: AtomicBool,
    /// Woken since the start of the last poll.
    woken: AtomicBool,
    changed: tokio::sync::Notify,
}

impl Stall {
    fn is_stalled(&self) -> bool {
        self.stalled.load(Ordering::Acquire) && !self.woken.load(Ordering::Acquire)
    }

    async fn wait(&self) {
        loop {
            let changed = self.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            if self.is_stalled() {
                return;
            }
            if tokio::time::timeout(GATE_WAIT, changed).await.is_err() {
                // Safety valve: never hold a batch for long.
                return;
            }
        }
    }
}

/// Polls a request's future and tells its [`Stall`] when it has nothing left to do.
pub struct Tracked<F> {
    fut: Pin<Box<F>>,
    stall: Arc<Stall>,
    /// The waker handed to the inner future (made once, pointing at the latest task waker).
    flag: Arc<WakeFlag>,
}

impl<F> Tracked<F> {
    pub fn new(fut: F, stall: Arc<Stall>) -> Self {
        Self {
            fut: Box::pin(fut),
            flag: Arc::new(WakeFlag {
                stall: stall.clone(),
                inner: futures_util::task::AtomicWaker::new(),
            }),
            stall,
        }
    }
}

struct WakeFlag {
    stall: Arc<Stall>,
    inner: futures_util::task::AtomicWaker,
}

impl std::task::Wake for WakeFlag {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.stall.woken.store(true, Ordering::Release);
        self.inner.wake();
    }
}

impl<F: Future> Future for Tracked<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<F::Output> {
        let this = self.get_mut();
        this.stall.stalled.store(false, Ordering::Release);
        this.stall.woken.store(false, Ordering::Release);
        this.flag.inner.register(cx.waker());
        let waker = std::task::Waker::from(this.flag.clone());
        let mut inner_cx = std::task::Context::from_waker(&waker);
        let result = this.fut.as_mut().poll(&mut inner_cx);
        if result.is_pending() && !this.stall.woken.load(Ordering::Acquire) {
            this.stall.stalled.store(true, Ordering::Release);
            this.stall.changed.notify_waiters();
        }
        result
    }
}

/// Yields until no new load has been asked for during `QUIET_TURNS` scheduler turns.
async fn wait_for_quiet(watched: &AtomicU64) {
    let mut last = watched.load(Ordering::Acquire);
    let mut quiet = 0;
    for _ in 0..MAX_WAIT_TURNS {
        tokio::task::yield_now().await;
        let now = watched.load(Ordering::Acquire);
        if now == last {
            quiet += 1;
            if quiet >= QUIET_TURNS {
                return;
            }
        } else {
            quiet = 0;
            last = now;
        }
    }
}

impl Loaders {
    /// Loaders for a request whose resolution is polled through [`Tracked`] with `stall`:
    /// batches start as soon as the request has nothing left to do but wait for them. Without
    /// it (subscriptions), a batch waits for a few scheduler turns without new loads.
    pub fn new(db: DatabaseConnection, stall: Option<Arc<Stall>>) -> Self {
        let asked = Arc::new(AtomicU64::new(0));
        let gate = Arc::new(Gate::default());
        let watched = asked.clone();
        let batches = gate.clone();
        let spawner = move |fut: Pin<Box<dyn Future<Output = ()> + Send>>| {
            let watched = watched.clone();
            let gate = batches.clone();
            let stall = stall.clone();
            let registered = gate.register();
            tokio::spawn(TOOK_KEYS.scope(std::cell::Cell::new(false), async move {
                gate.enter(registered, &watched, stall.as_deref()).await;
                fut.await;
                if !TOOK_KEYS.with(|took| took.replace(true)) {
                    gate.took_keys();
                }
                gate.leave();
            }))
        };
        let inner =
            DataLoader::new(Db { conn: db, gate }, spawner).delay(std::time::Duration::ZERO);
        Self {
            inner: Arc::new(inner),
            asked,
            memo: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// The handle that forgets these loaders' loads (see [`Renew`]).
    pub fn renewer(&self) -> Renew {
        Renew(self.memo.clone())
    }

    /// Records a row a statement of this request has already read (a page that joined its
    /// relations), so that asking for it later costs nothing. A key already asked for keeps
    /// its load.
    pub fn prime<K, V>(&self, key: K, value: Option<V>)
    where
        K: Send + Sync + std::hash::Hash + Eq + Clone + 'static,
        V: Send + Sync + Clone + 'static,
        // The value type is the loader's: a primed row is found by the loads of its key.
        Db: Loader<K, Value = V, Error = AppError>,
    {
        self.prime_all(vec![(key, value)]);
    }

    /// [`Loaders::prime`] for many rows of one relation, under one lock (a page primes a
    /// hundred or more).
    pub fn prime_all<K, V>(&self, rows: Vec<(K, Option<V>)>)
    where
        K: Send + Sync + std::hash::Hash + Eq + Clone + 'static,
        V: Send + Sync + Clone + 'static,
        // The value type is the loader's: a primed row is found by the loads of its key.
        Db: Loader<K, Value = V, Error = AppError>,
    {
        if rows.is_empty() {
            return;
        }
        self.with_memo(|map: &mut HashMap<K, Memo<V>>| {
            map.reserve(rows.len());
            for (key, value) in rows {
                map.entry(key).or_insert(Memo::Ready(value));
            }
        });
    }

    /// Runs `f` on the request's loads of key type `K` (`None` if the memo is corrupt).
    fn with_memo<K, V, R>(&self, f: impl FnOnce(&mut HashMap<K, Memo<V>>) -> R) -> Option<R>
    where
        K: Send + Sync + std::hash::Hash + Eq + 'static,
        V: Send + Sync + Clone + 'static,
    {
        let mut memo = self.memo.lock().unwrap_or_else(|e| e.into_inner());
        memo.entry(TypeId::of::<K>())
            .or_insert_with(|| Box::new(HashMap::<K, Memo<V>>::with_capacity(32)))
            .downcast_mut::<HashMap<K, Memo<V>>>()
            .map(f)
    }

    pub async fn load_one<K, V>(&self, key: K) -> Result<Option<V>, AppError>
    where
        K: Send + Sync + std::hash::Hash + Eq + Clone + 'static,
        V: Send + Sync + Clone + 'static,
        Db: Loader<K, Value = V, Error = AppError>,
    {
        self.asked.fetch_add(1, Ordering::AcqRel);
        let pending = self
            .with_memo(|map: &mut HashMap<K, Memo<V>>| {
                match map.entry(key.clone()).or_insert_with(|| {
                    let inner = self.inner.clone();
                    let fut: Pin<Box<dyn Future<Output = Result<Option<V>, AppError>> + Send>> =
                        Box::pin(async move { inner.load_one(key).await });
                    Memo::Loading(fut.shared())
                }) {
                    Memo::Ready(value) => Memo::Ready(value.clone()),
                    Memo::Loading(pending) => Memo::Loading(pending.clone()),
                }
            })
            .ok_or_else(|| AppError::internal("loader memo holds another type"))?;
        match pending {
            // Read already: nothing to wait for.
            Memo::Ready(value) => Ok(value),
            Memo::Loading(pending) => pending.await,
        }
    }
}

/// Rows by primary key.
macro_rules! by_id {
    ($key:ident, $m:ident) => {
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub struct $key(pub i64);

        impl Loader<$key> for Db {
            type Value = $m::Model;
            type Error = AppError;

            async fn load(&self, keys: &[$key]) -> Result<HashMap<$key, $m::Model>, AppError> {
                let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
                let rows = $m::Entity::find()
                    .filter($m::Column::Id.is_in(ids))
                    .all(self.conn().await)
                    .await?;
                Ok(rows.into_iter().map(|m| ($key(m.id), m)).collect())
            }
        }
    };
}
pub(crate) use by_id;

/// Groups rows by a foreign key into lists.
pub(crate) fn group<K: std::hash::Hash + Eq, V>(
    rows: Vec<V>,
    key: impl Fn(&V) -> K,
) -> HashMap<K, Vec<V>> {
    let mut map: HashMap<K, Vec<V>> = HashMap::new();
    for row in rows {
        map.entry(key(&row)).or_default().push(row);
    }
    map
}
/// Rows grouped by a foreign key, in id order.
macro_rules! grouped {
    ($key:ident, $m:ident, $col:ident, $field:ident) => {
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub struct $key(pub i64);

        impl Loader<$key> for Db {
            type Value = Vec<$m::Model>;
            type Error = AppError;

            async fn load(&self, keys: &[$key]) -> Result<HashMap<$key, Self::Value>, AppError> {
                let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
                let rows = $m::Entity::find()
                    .filter($m::Column::$col.is_in(ids))
                    .order_by_asc($m::Column::Id)
                    .all(self.conn().await)
                    .await?;
                Ok(group(rows, |r| $key(r.$field)))
            }
        }
    };
}
pub(crate) use grouped;
