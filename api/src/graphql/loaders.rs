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
use entity::{
    agreement, agreement_activity, agreement_kind, agreement_party, agreement_signature, alliance,
    alliance_member, community, good_deed_category, grid, grid_registration,
    grid_registration::RegistrationStatus, grid_staff, ledger_entry, organization, passbook,
    redemption, reward, role_assignment, service_slot, shift, shift_signup,
    slot_eligible_organization, street, user, wish_claim,
};
use futures_util::{FutureExt, future::Shared};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::error::AppError;

/// The loader: a database handle.
pub struct Db(pub DatabaseConnection);

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
    memo: Mutex<HashMap<TypeId, Box<dyn Any + Send + Sync>>>,
}

type Pending<V> = Shared<Pin<Box<dyn Future<Output = Result<Option<V>, AppError>> + Send>>>;

/// Scheduler turns without a new load after which a batch runs.
const QUIET_TURNS: usize = 8;

/// Upper bound of scheduler turns a batch waits for more keys.
const MAX_WAIT_TURNS: usize = 2000;

/// Longest wait for another batch of the request to finish.
const GATE_WAIT: std::time::Duration = std::time::Duration::from_millis(50);

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
    running: usize,
    rounds: u64,
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
                    return;
                }
                if st.running == 0 {
                    st.rounds += 1;
                    st.running += 1;
                    drop(st);
                    self.changed.notify_waiters();
                    return;
                }
            }
            let _ = tokio::time::timeout(GATE_WAIT, changed).await;
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
/// been woken during the poll, so every resolver waits on a load.
#[derive(Default)]
pub struct Stall {
    stalled: AtomicBool,
    changed: tokio::sync::Notify,
}

impl Stall {
    async fn wait(&self) {
        loop {
            let changed = self.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            if self.stalled.load(Ordering::Acquire) {
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
            stall,
            flag: Arc::new(WakeFlag {
                woken: AtomicBool::new(false),
                inner: futures_util::task::AtomicWaker::new(),
            }),
        }
    }
}

struct WakeFlag {
    woken: AtomicBool,
    inner: futures_util::task::AtomicWaker,
}

impl std::task::Wake for WakeFlag {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::Release);
        self.inner.wake();
    }
}

impl<F: Future> Future for Tracked<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<F::Output> {
        let this = self.get_mut();
        this.stall.stalled.store(false, Ordering::Release);
        this.flag.woken.store(false, Ordering::Release);
        this.flag.inner.register(cx.waker());
        let waker = std::task::Waker::from(this.flag.clone());
        let mut inner_cx = std::task::Context::from_waker(&waker);
        let result = this.fut.as_mut().poll(&mut inner_cx);
        if result.is_pending() && !this.flag.woken.load(Ordering::Acquire) {
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
        let spawner = move |fut: Pin<Box<dyn Future<Output = ()> + Send>>| {
            let watched = watched.clone();
            let gate = gate.clone();
            let stall = stall.clone();
            let registered = gate.lock().rounds;
            tokio::spawn(async move {
                gate.enter(registered, &watched, stall.as_deref()).await;
                fut.await;
                gate.leave();
            })
        };
        let inner = DataLoader::new(Db(db), spawner).delay(std::time::Duration::ZERO);
        Self {
            inner: Arc::new(inner),
            asked,
            memo: Mutex::new(HashMap::new()),
        }
    }

    pub async fn load_one<K, V>(&self, key: K) -> Result<Option<V>, AppError>
    where
        K: Send + Sync + std::hash::Hash + Eq + Clone + 'static,
        V: Send + Sync + Clone + 'static,
        Db: Loader<K, Value = V, Error = AppError>,
    {
        self.asked.fetch_add(1, Ordering::AcqRel);
        let pending = {
            let mut memo = self.memo.lock().unwrap_or_else(|e| e.into_inner());
            let Some(map) = memo
                .entry(TypeId::of::<K>())
                .or_insert_with(|| Box::new(HashMap::<K, Pending<V>>::new()))
                .downcast_mut::<HashMap<K, Pending<V>>>()
            else {
                return Err(AppError::internal("loader memo holds another type"));
            };
            map.entry(key.clone())
                .or_insert_with(|| {
                    let inner = self.inner.clone();
                    let fut: Pin<Box<dyn Future<Output = Result<Option<V>, AppError>> + Send>> =
                        Box::pin(async move { inner.load_one(key).await });
                    fut.shared()
                })
                .clone()
        };
        pending.await
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
                    .all(&self.0)
                    .await?;
                Ok(rows.into_iter().map(|m| ($key(m.id), m)).collect())
            }
        }
    };
}

by_id!(StreetKey, street);
by_id!(CommunityKey, community);
by_id!(GridKey, grid);
by_id!(UserKey, user);
by_id!(OrganizationKey, organization);

/// Groups rows by a foreign key into lists.
fn group<K: std::hash::Hash + Eq, V>(rows: Vec<V>, key: impl Fn(&V) -> K) -> HashMap<K, Vec<V>> {
    let mut map: HashMap<K, Vec<V>> = HashMap::new();
    for row in rows {
        map.entry(key(&row)).or_default().push(row);
    }
    map
}

/// Current posts (no end date) of a grid, leader first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CurrentStaffOfGrid(pub i64);

impl Loader<CurrentStaffOfGrid> for Db {
    type Value = Vec<grid_staff::Model>;
    type Error = AppError;

    async fn load(
        &self,
        keys: &[CurrentStaffOfGrid],
    ) -> Result<HashMap<CurrentStaffOfGrid, Self::Value>, AppError> {
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let rows = grid_staff::Entity::find()
            .filter(grid_staff::Column::GridId.is_in(ids))
            .filter(grid_staff::Column::EndDate.is_null())
            .order_by_asc(grid_staff::Column::Id)
            .all(&self.0)
            .await?;
        Ok(group(rows, |r| CurrentStaffOfGrid(r.grid_id)))
    }
}

/// Micro-grids inside a grid.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MicroGridsOf(pub i64);

impl Loader<MicroGridsOf> for Db {
    type Value = Vec<grid::Model>;
    type Error = AppError;

    async fn load(
        &self,
        keys: &[MicroGridsOf],
    ) -> Result<HashMap<MicroGridsOf, Self::Value>, AppError> {
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let rows = grid::Entity::find()
            .filter(grid::Column::ParentId.is_in(ids))
            .order_by_asc(grid::Column::Id)
            .all(&self.0)
            .await?;
        Ok(group(rows, |r| {
            MicroGridsOf(r.parent_id.unwrap_or_default())
        }))
    }
}

/// Child organisations of an organisation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ChildOrganizationsOf(pub i64);

impl Loader<ChildOrganizationsOf> for Db {
    type Value = Vec<organization::Model>;
    type Error = AppError;

    async fn load(
        &self,
        keys: &[ChildOrganizationsOf],
    ) -> Result<HashMap<ChildOrganizationsOf, Self::Value>, AppError> {
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let rows = organization::Entity::find()
            .filter(organization::Column::ParentId.is_in(ids))
            .order_by_asc(organization::Column::Id)
            .all(&self.0)
            .await?;
        Ok(group(rows, |r| {
            ChildOrganizationsOf(r.parent_id.unwrap_or_default())
        }))
    }
}

/// Roles of a user.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RolesOf(pub i64);

impl Loader<RolesOf> for Db {
    type Value = Vec<role_assignment::Model>;
    type Error = AppError;

    async fn load(&self, keys: &[RolesOf]) -> Result<HashMap<RolesOf, Self::Value>, AppError> {
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let rows = role_assignment::Entity::find()
            .filter(role_assignment::Column::UserId.is_in(ids))
            .order_by_asc(role_assignment::Column::Id)
            .all(&self.0)
            .await?;
        Ok(group(rows, |r| RolesOf(r.user_id)))
    }
}

/// Number of approved member registrations of a grid.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RegisteredCountOf(pub i64);

impl Loader<RegisteredCountOf> for Db {
    type Value = i64;
    type Error = AppError;

    async fn load(
        &self,
        keys: &[RegisteredCountOf],
    ) -> Result<HashMap<RegisteredCountOf, i64>, AppError> {
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let rows: Vec<(Option<i64>, i64)> = grid_registration::Entity::find()
            .select_only()
            .column(grid_registration::Column::GridId)
            .column_as(grid_registration::Column::Id.count(), "n")
            .filter(grid_registration::Column::GridId.is_in(ids))
            .filter(grid_registration::Column::Status.eq(RegistrationStatus::Approved))
            .group_by(grid_registration::Column::GridId)
            .into_tuple()
            .all(&self.0)
            .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(g, n)| g.map(|g| (RegisteredCountOf(g), n)))
            .collect())
    }
}

by_id!(PassbookKey, passbook);
by_id!(RewardKey, reward);
by_id!(DeedCategoryKey, good_deed_category);
by_id!(LedgerEntryKey, ledger_entry);

/// Claim history of a wish, oldest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ClaimsOfWish(pub i64);

impl Loader<ClaimsOfWish> for Db {
    type Value = Vec<wish_claim::Model>;
    type Error = AppError;

    async fn load(
        &self,
        keys: &[ClaimsOfWish],
    ) -> Result<HashMap<ClaimsOfWish, Self::Value>, AppError> {
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let rows = wish_claim::Entity::find()
            .filter(wish_claim::Column::WishId.is_in(ids))
            .order_by_asc(wish_claim::Column::Id)
            .all(&self.0)
            .await?;
        Ok(group(rows, |r| ClaimsOfWish(r.wish_id)))
    }
}

/// The redemption a ledger entry paid for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RedemptionOfEntry(pub i64);

impl Loader<RedemptionOfEntry> for Db {
    type Value = redemption::Model;
    type Error = AppError;

    async fn load(
        &self,
        keys: &[RedemptionOfEntry],
    ) -> Result<HashMap<RedemptionOfEntry, Self::Value>, AppError> {
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let rows = redemption::Entity::find()
            .filter(redemption::Column::LedgerEntryId.is_in(ids))
            .all(&self.0)
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| (RedemptionOfEntry(r.ledger_entry_id), r))
            .collect())
    }
}

/// The reversal of a ledger entry, if any.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ReversalOf(pub i64);

impl Loader<ReversalOf> for Db {
    type Value = ledger_entry::Model;
    type Error = AppError;

    async fn load(
        &self,
        keys: &[ReversalOf],
    ) -> Result<HashMap<ReversalOf, Self::Value>, AppError> {
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let rows = ledger_entry::Entity::find()
            .filter(ledger_entry::Column::ReversesEntryId.is_in(ids))
            .all(&self.0)
            .await?;
        Ok(rows
            .into_iter()
            .filter_map(|r| r.reverses_entry_id.map(|k| (ReversalOf(k), r)))
            .collect())
    }
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
                    .all(&self.0)
                    .await?;
                Ok(group(rows, |r| $key(r.$field)))
            }
        }
    };
}

by_id!(AllianceKey, alliance);
grouped!(PartiesOf, agreement_party, AgreementId, agreement_id);
grouped!(KindsOf, agreement_kind, AgreementId, agreement_id);
grouped!(SignaturesOf, agreement_signature, AgreementId, agreement_id);
grouped!(ActivitiesOf, agreement_activity, AgreementId, agreement_id);
grouped!(MembersOf, alliance_member, AllianceId, alliance_id);

/// Agreements under an alliance.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AgreementsOfAlliance(pub i64);

impl Loader<AgreementsOfAlliance> for Db {
    type Value = Vec<agreement::Model>;
    type Error = AppError;

    async fn load(
        &self,
        keys: &[AgreementsOfAlliance],
    ) -> Result<HashMap<AgreementsOfAlliance, Self::Value>, AppError> {
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let rows = agreement::Entity::find()
            .filter(agreement::Column::AllianceId.is_in(ids))
            .order_by_asc(agreement::Column::Id)
            .all(&self.0)
            .await?;
        Ok(group(rows, |r| {
            AgreementsOfAlliance(r.alliance_id.unwrap_or_default())
        }))
    }
}

/// Number of activities held under an alliance's agreements.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ActivityCountOfAlliance(pub i64);

impl Loader<ActivityCountOfAlliance> for Db {
    type Value = i64;
    type Error = AppError;

    async fn load(
        &self,
        keys: &[ActivityCountOfAlliance],
    ) -> Result<HashMap<ActivityCountOfAlliance, i64>, AppError> {
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let agreements: Vec<(i64, Option<i64>)> = agreement::Entity::find()
            .select_only()
            .column(agreement::Column::Id)
            .column(agreement::Column::AllianceId)
            .filter(agreement::Column::AllianceId.is_in(ids))
            .into_tuple()
            .all(&self.0)
            .await?;
        let counts: Vec<(i64, i64)> = agreement_activity::Entity::find()
            .select_only()
            .column(agreement_activity::Column::AgreementId)
            .column_as(agreement_activity::Column::Id.count(), "n")
            .filter(
                agreement_activity::Column::AgreementId
                    .is_in(agreements.iter().map(|a| a.0).collect::<Vec<_>>()),
            )
            .group_by(agreement_activity::Column::AgreementId)
            .into_tuple()
            .all(&self.0)
            .await?;
        let mut out: HashMap<ActivityCountOfAlliance, i64> = HashMap::new();
        for (agreement_id, n) in counts {
            if let Some((_, Some(alliance))) = agreements.iter().find(|a| a.0 == agreement_id) {
                *out.entry(ActivityCountOfAlliance(*alliance)).or_default() += n;
            }
        }
        Ok(out)
    }
}

by_id!(SlotKey, service_slot);
by_id!(ShiftKey, shift);
grouped!(EligibleOrgsOf, slot_eligible_organization, SlotId, slot_id);

/// Sign-ups of a shift that are not cancelled, in sign-up order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SignupsOfShift(pub i64);

impl Loader<SignupsOfShift> for Db {
    type Value = Vec<shift_signup::Model>;
    type Error = AppError;

    async fn load(
        &self,
        keys: &[SignupsOfShift],
    ) -> Result<HashMap<SignupsOfShift, Self::Value>, AppError> {
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let rows = shift_signup::Entity::find()
            .filter(shift_signup::Column::ShiftId.is_in(ids))
            .filter(shift_signup::Column::Status.ne(entity::shift_signup::SignupStatus::Cancelled))
            .order_by_asc(shift_signup::Column::Id)
            .all(&self.0)
            .await?;
        Ok(group(rows, |r| SignupsOfShift(r.shift_id)))
    }
}
