//! The schedule domain's live field: `shiftEvents(slotId)`.

use async_graphql::{Context, ID, Result, SimpleObject, Subscription};
use futures_util::{Stream, stream};
use sea_orm::EntityTrait;

use super::types::{Shift, ShiftSignup};
use crate::core::bus;
use crate::graphql::context::{parse_id, state};
use crate::graphql::live::{self, Next};
use crate::schedule::events::{ShiftEventKind, SignupChanged};

/// Something that happened on a shift.
#[derive(SimpleObject)]
pub struct ShiftEvent {
    /// The event's cursor: subscribe again with `after: <cursor>` to receive what happened since (events are kept 24 hours).
    pub cursor: String,
    /// What happened.
    pub kind: ShiftEventKind,
    /// The shift.
    pub shift: Shift,
    /// The sign-up concerned.
    pub signup: ShiftSignup,
}

#[derive(Default)]
pub struct ShiftSubscription;

#[Subscription]
impl ShiftSubscription {
    /// Shift events of a slot: sign-up, cancellation, check-in. Students' names are shown as in queries (staff, grid workers, the student).
    async fn shift_events(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only events of shifts of this slot.")] slot_id: ID,
        #[graphql(
            desc = "Replay first the events since this cursor (of an event received \
                          earlier), then go live."
        )]
        after: Option<String>,
    ) -> Result<impl Stream<Item = ShiftEvent>> {
        let slot = parse_id("slotId", &slot_id)?;
        let st = state(ctx)?.clone();
        crate::core::db::get::<entity::service_slot::Entity, _>(&st.db, slot, "排班不存在").await?;
        let live = live::of(ctx);
        let after = after.as_deref().map(bus::parse_cursor).transpose()?;
        let rx = st.events.resume::<SignupChanged>(&st.db, after).await?;
        Ok(stream::unfold(
            (rx, st, live),
            move |(mut rx, st, live)| async move {
                loop {
                    let bus::Stamped { cursor, event: ev } = rx.next().await?;
                    if ev.slot_id != slot {
                        continue;
                    }
                    let who = match live.before_event(&st).await {
                        Next::Send(who) => who,
                        Next::Skip => continue,
                        Next::Closed => return None,
                    };
                    let (Ok(Some(sh)), Ok(Some(signup)), Ok(Some(sl))) = (
                        entity::shift::Entity::find_by_id(ev.shift_id)
                            .one(&st.db)
                            .await,
                        entity::shift_signup::Entity::find_by_id(ev.signup_id)
                            .one(&st.db)
                            .await,
                        entity::service_slot::Entity::find_by_id(ev.slot_id)
                            .one(&st.db)
                            .await,
                    ) else {
                        continue;
                    };
                    let visible =
                        crate::schedule::policy::sees_student(who.user(), &sl, signup.student_id);
                    return Some((
                        ShiftEvent {
                            cursor: cursor.to_string(),
                            kind: ev.kind,
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
}
