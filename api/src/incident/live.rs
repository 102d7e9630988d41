//! The incident domain's live field: `incidentEvents`.

use async_graphql::{Context, Result, SimpleObject, Subscription};
use futures_util::{Stream, stream};
use sea_orm::EntityTrait;

use crate::core::bus;
use crate::graphql::context::{state, viewer};
use crate::graphql::live::{self, Next};
use crate::incident::events::{IncidentChanged, IncidentEventKind};
use crate::incident::schema::Incident;

/// Something that happened to an incident.
#[derive(SimpleObject)]
pub struct IncidentEvent {
    /// The event's cursor: subscribe again with `after: <cursor>` to receive what happened since (events are kept 24 hours).
    pub cursor: String,
    /// What happened.
    pub kind: IncidentEventKind,
    /// The incident after it.
    pub incident: Incident,
}

#[derive(Default)]
pub struct IncidentSubscription;

#[Subscription]
impl IncidentSubscription {
    /// Incident events the subscriber may see: a unit's rep what is dispatched to their organisation, grid workers their grids, staff their communities, a resident what they raised (including OVERDUE, published once per dispatch). Requires a logged-in viewer.
    async fn incident_events(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Replay first the events since this cursor (of an event received \
                          earlier) that the subscriber may see, then go live."
        )]
        after: Option<String>,
    ) -> Result<impl Stream<Item = IncidentEvent>> {
        let st = state(ctx)?.clone();
        viewer(ctx).require()?;
        let live = live::of(ctx);
        let after = after.as_deref().map(bus::parse_cursor).transpose()?;
        let rx = st.events.resume::<IncidentChanged>(&st.db, after).await?;
        Ok(stream::unfold(
            (rx, st, live),
            move |(mut rx, st, live)| async move {
                loop {
                    let bus::Stamped { cursor, event: ev } = rx.next().await?;
                    let who = match live.before_event(&st).await {
                        Next::Send(who) => who,
                        Next::Skip => continue,
                        Next::Closed => return None,
                    };
                    let Ok(Some(i)) = entity::incident::Entity::find_by_id(ev.incident_id)
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
                            cursor: cursor.to_string(),
                            kind: ev.kind,
                            incident: Incident(i),
                        },
                        (rx, st, live),
                    ));
                }
            },
        ))
    }
}
