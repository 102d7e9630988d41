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
    /// What happened.
    pub kind: WishEventKind,
    /// The wish after it.
    pub wish: Wish,
}

#[derive(Default)]
pub struct WishSubscription;

#[Subscription]
impl WishSubscription {
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
        let live = live::of(ctx);
        let rx = st.events.subscribe::<WishChanged>();
        Ok(stream::unfold(
            (rx, st, live),
            move |(mut rx, st, live)| async move {
                loop {
                    let ev = bus::next(&mut rx).await?;
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
