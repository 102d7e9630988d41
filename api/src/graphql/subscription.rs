//! Subscriptions over graphql-transport-ws at /graphql/ws, authenticated in
//! `connection_init` with the same JWT: `wishEvents(communityId)`, `shiftEvents(slotId)` and
//! `incidentEvents`.
//! A subscriber receives only events it may see, with the same masking as queries.

use async_graphql::{Context, ID, Result, SimpleObject, Subscription};
use futures_util::{Stream, stream};
use sea_orm::EntityTrait;

use std::sync::Arc;

use crate::events::Event;
use crate::graphql::context::parse_id;
use crate::graphql::context::state;
use crate::graphql::context::viewer;
use crate::graphql::live::{Live, Next};
use crate::incident::events::{IncidentChanged, IncidentEventKind};
use crate::incident::schema::Incident;
use crate::schedule::events::{ShiftEventKind, SignupChanged};
use crate::schedule::schema::Shift;
use crate::schedule::schema::ShiftSignup;
use crate::wish::events::{WishChanged, WishEventKind};
use crate::wish::schema::Wish;

/// Something that happened to a wish.
#[derive(SimpleObject)]
pub struct WishEvent {
    /// What happened.
    pub kind: WishEventKind,
    /// The wish after it.
    pub wish: Wish,
}

/// Something that happened to an incident.
#[derive(SimpleObject)]
pub struct IncidentEvent {
    /// What happened.
    pub kind: IncidentEventKind,
    /// The incident after it.
    pub incident: Incident,
}

/// Something that happened on a shift.
#[derive(SimpleObject)]
pub struct ShiftEvent {
    /// What happened.
    pub kind: ShiftEventKind,
    /// The shift.
    pub shift: Shift,
    /// The sign-up concerned.
    pub signup: ShiftSignup,
}

/// The next event of the bus, skipping over those lost to lag; `None` once it is closed.
async fn next_event(rx: &mut tokio::sync::broadcast::Receiver<Event>) -> Option<Event> {
    loop {
        match rx.recv().await {
            Ok(ev) => return Some(ev),
            Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
            Err(_) => return None,
        }
    }
}

/// The connection's live viewer: checked again before each event (see
/// [`crate::graphql::live`]). A subscription run outside a WebSocket connection (a test
/// through the schema) has the viewer of its request, unchecked.
fn live(ctx: &Context<'_>) -> Arc<Live> {
    ctx.data_opt::<Arc<Live>>().cloned().unwrap_or_else(|| {
        Arc::new(match viewer(ctx) {
            crate::auth::Viewer::Anonymous => Live::anonymous(None),
            crate::auth::Viewer::User(u) => Live::fixed(u.clone()),
        })
    })
}

#[derive(Default)]
pub struct SubscriptionRoot;

/// Live events over graphql-transport-ws at `/graphql/ws`.
#[Subscription(name = "Subscription")]
impl SubscriptionRoot {
    /// Wish events of a community: published, claimed, released, fulfilled, confirmed,
    /// cancelled. Only wishes the subscriber may see, masked as in queries.
    async fn wish_events(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only events of this community.")] community_id: ID,
    ) -> Result<impl Stream<Item = WishEvent>> {
        let community = parse_id("communityId", &community_id)?;
        let st = state(ctx)?.clone();
        crate::core::db::get::<entity::community::Entity, _>(&st.db, community, "社区不存在")
            .await?;
        let live = live(ctx);
        let rx = st.events.subscribe();
        Ok(stream::unfold(
            (rx, st, live),
            move |(mut rx, st, live)| async move {
                loop {
                    let ev = next_event(&mut rx).await?;
                    let Event::Wish(WishChanged {
                        kind,
                        wish_id,
                        community_id,
                    }) = ev
                    else {
                        continue;
                    };
                    if community_id != community {
                        continue;
                    }
                    let who = match live.before_event(&st).await {
                        Next::Send(who) => who,
                        Next::Skip => continue,
                        Next::Closed => return None,
                    };
                    let Ok(Some(w)) = entity::wish::Entity::find_by_id(wish_id).one(&st.db).await
                    else {
                        continue;
                    };
                    if !crate::wish::policy::scope(who.user()).admits(&w) {
                        continue;
                    }
                    return Some((
                        WishEvent {
                            kind,
                            wish: Wish(w),
                        },
                        (rx, st, live),
                    ));
                }
            },
        ))
    }

    /// Shift events of a slot: sign-up, cancellation, check-in. Students' names are shown as
    /// in queries (staff, grid workers, the student).
    async fn shift_events(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only events of shifts of this slot.")] slot_id: ID,
    ) -> Result<impl Stream<Item = ShiftEvent>> {
        let slot = parse_id("slotId", &slot_id)?;
        let st = state(ctx)?.clone();
        crate::core::db::get::<entity::service_slot::Entity, _>(&st.db, slot, "排班不存在").await?;
        let live = live(ctx);
        let rx = st.events.subscribe();
        Ok(stream::unfold(
            (rx, st, live),
            move |(mut rx, st, live)| async move {
                loop {
                    let ev = next_event(&mut rx).await?;
                    let Event::Shift(SignupChanged {
                        kind,
                        slot_id,
                        shift_id,
                        signup_id,
                    }) = ev
                    else {
                        continue;
                    };
                    if slot_id != slot {
                        continue;
                    }
                    let who = match live.before_event(&st).await {
                        Next::Send(who) => who,
                        Next::Skip => continue,
                        Next::Closed => return None,
                    };
                    let (Ok(Some(sh)), Ok(Some(signup)), Ok(Some(sl))) = (
                        entity::shift::Entity::find_by_id(shift_id)
                            .one(&st.db)
                            .await,
                        entity::shift_signup::Entity::find_by_id(signup_id)
                            .one(&st.db)
                            .await,
                        entity::service_slot::Entity::find_by_id(slot_id)
                            .one(&st.db)
                            .await,
                    ) else {
                        continue;
                    };
                    let visible =
                        crate::schedule::policy::sees_student(who.user(), &sl, signup.student_id);
                    return Some((
                        ShiftEvent {
                            kind,
                            shift: Shift(sh),
                            signup: ShiftSignup {
                                model: signup,
                                visible,
                            },
                        },
                        (rx, st, live),
                    ));
                }
            },
        ))
    }

    /// Incident events the subscriber may see: a unit's rep what is dispatched to their
    /// organisation, grid workers their grids, staff their communities, a resident what they
    /// raised (including OVERDUE, published once per dispatch). Requires a logged-in viewer.
    async fn incident_events(
        &self,
        ctx: &Context<'_>,
    ) -> Result<impl Stream<Item = IncidentEvent>> {
        let st = state(ctx)?.clone();
        viewer(ctx).require()?;
        let live = live(ctx);
        let rx = st.events.subscribe();
        Ok(stream::unfold(
            (rx, st, live),
            move |(mut rx, st, live)| async move {
                loop {
                    let ev = next_event(&mut rx).await?;
                    let Event::Incident(IncidentChanged { kind, incident_id }) = ev else {
                        continue;
                    };
                    let who = match live.before_event(&st).await {
                        Next::Send(who) => who,
                        Next::Skip => continue,
                        Next::Closed => return None,
                    };
                    let Ok(Some(i)) = entity::incident::Entity::find_by_id(incident_id)
                        .one(&st.db)
                        .await
                    else {
                        continue;
                    };
                    if !crate::incident::policy::may_see(who.user(), &i) {
                        continue;
                    }
                    return Some((
                        IncidentEvent {
                            kind,
                            incident: Incident(i),
                        },
                        (rx, st, live),
                    ));
                }
            },
        ))
    }
}
