//! The wish domain's live field: `wishEvents(communityId)`.

use async_graphql::{Context, ID, Result, SimpleObject, Subscription};
use futures_util::{Stream, stream};
use sea_orm::EntityTrait;

use super::types::Wish;
use crate::core::bus;
use crate::graphql::context::{parse_id, state};
use crate::graphql::live::{self, Next};
use crate::wish::events::{WishChanged, WishEventKind};

/// Something that happened to a wish.
#[derive(SimpleObject)]
pub struct WishEvent {
    /// The event's cursor: subscribe again with `after: <cursor>` to receive what happened since (events are kept 24 hours).
    pub cursor: String,
    /// What happened.
    pub kind: WishEventKind,
    /// The wish after it.
    pub wish: Wish,
}

#[derive(Default)]
pub struct WishSubscription;

#[Subscription]
impl WishSubscription {
    /// Wish events of a community: published, claimed, released, fulfilled, confirmed, cancelled. Only wishes the subscriber may see, masked as in queries.
    async fn wish_events(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only events of this community.")] community_id: ID,
        #[graphql(
            desc = "Replay first the events since this cursor (of an event received \
                          earlier) that the subscriber may see, then go live."
        )]
        after: Option<String>,
    ) -> Result<impl Stream<Item = WishEvent>> {
        let community = parse_id("communityId", &community_id)?;
        let st = state(ctx)?.clone();
        crate::core::db::get::<entity::community::Entity, _>(&st.db, community, "社区不存在")
            .await?;
        let live = live::of(ctx);
        let after = after.as_deref().map(bus::parse_cursor).transpose()?;
        let rx = st.events.resume::<WishChanged>(&st.db, after).await?;
        Ok(stream::unfold(
            (rx, st, live),
            move |(mut rx, st, live)| async move {
                loop {
                    let bus::Stamped { cursor, event: ev } = rx.next().await?;
                    if ev.community_id != community {
                        continue;
                    }
                    let who = match live.before_event(&st).await {
                        Next::Send(who) => who,
                        Next::Skip => continue,
                        Next::Closed => return None,
                    };
                    let Ok(Some(w)) = entity::wish::Entity::find_by_id(ev.wish_id)
                        .one(&st.db)
                        .await
                    else {
                        continue;
                    };
                    if !crate::wish::policy::scope(who.user()).admits(&w) {
                        continue;
                    }
                    return Some((
                        WishEvent {
                            cursor: cursor.to_string(),
                            kind: ev.kind,
                            wish: Wish(w),
                        },
                        (rx, st, live),
                    ));
                }
            },
        ))
    }
}
