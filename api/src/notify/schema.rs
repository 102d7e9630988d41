//! The in-app inbox: `notifications`, `unreadNotificationCount`, `markNotificationsRead`,
//! `recordWeChatConsent` and the caller's own `notificationEvents`.

use async_graphql::{Context, Enum, ID, InputObject, Object, Result, SimpleObject, Subscription};
use entity::{notification, wechat_consent};
use futures_util::{Stream, stream};
use sea_orm::{
    ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, sea_query::Expr, sea_query::OnConflict,
};

use crate::core::bus;
use crate::core::error::{AppError, AppResult};
use crate::core::pagination as connection;
use crate::core::pagination::{Conn, Page};
use crate::graphql::context::{actor, db, parse_id, state};
use crate::graphql::live::{self, Next};
use crate::graphql::scalars::Timestamp;
use crate::notify::events::NotificationsAdded;

/// What a notification is about.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "crate::notify::kinds::Kind")]
pub enum NotificationKind {
    /// A wish you submitted or benefit from was claimed.
    WishClaimed,
    /// A wish you submitted or benefit from was fulfilled: confirm it.
    WishFulfilled,
    /// A wish you fulfilled was confirmed.
    WishConfirmed,
    /// A wish expired without being fulfilled.
    WishExpired,
    /// Your grid registration was reviewed.
    RegistrationReviewed,
    /// A good deed of yours was reviewed.
    GoodDeedReviewed,
    /// A reward was redeemed from your passbook.
    RewardRedeemed,
    /// A shift of yours starts soon.
    ShiftReminder,
    /// Your sign-up was cancelled by staff.
    SignupCancelled,
    /// The time of a shift you signed up for changed.
    ShiftChanged,
    /// An incident was dispatched to your organisation.
    IncidentDispatched,
    /// An incident's deadline is within 24 hours.
    IncidentDeadlineNear,
    /// An incident is past its deadline (urgent).
    IncidentOverdue,
    /// An incident of your grid was handled: confirm it with the resident.
    IncidentHandled,
    /// An incident your organisation handled was reopened.
    IncidentReopened,
    /// An agreement awaits your organisation's signature.
    AgreementToSign,
    /// An agreement of your organisation expires within 30 days.
    AgreementExpiring,
    /// You were granted a role.
    RoleGranted,
    /// A role of yours was revoked.
    RoleRevoked,
    /// Your password was reset: log in with the temporary one and change it.
    PasswordReset,
}

/// A message in the caller's inbox.
pub struct Notification(pub notification::Model);

/// A message to the caller (消息): what happened, and where to look.
#[Object]
impl Notification {
    /// The id of the notification.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// What it is about.
    async fn kind(&self) -> AppResult<NotificationKind> {
        crate::notify::kinds::Kind::parse(&self.0.kind)
            .map(Into::into)
            .ok_or_else(|| AppError::internal("unknown notification kind"))
    }
    /// Urgent: sent at once whatever the quiet hours.
    async fn urgent(&self) -> bool {
        self.0.urgent
    }
    /// The title.
    async fn title(&self) -> &str {
        &self.0.title
    }
    /// The text.
    async fn body(&self) -> &str {
        &self.0.body
    }
    /// The mini-program page it opens (`pages/wish/detail?id=12`).
    async fn page(&self) -> Option<&str> {
        self.0.page.as_deref()
    }
    /// The type of what it is about (`Wish`, `Incident`, …).
    async fn subject_type(&self) -> Option<&str> {
        self.0.subject_type.as_deref()
    }
    /// The id of what it is about (read it with the type's lookup, under its own rules).
    async fn subject_id(&self) -> Option<ID> {
        self.0.subject_id.map(|i| ID(i.to_string()))
    }
    /// When it was written.
    async fn created_at(&self) -> Timestamp {
        Timestamp(self.0.created_at)
    }
    /// When the caller marked it read (null: unread).
    async fn read_at(&self) -> Option<Timestamp> {
        self.0.read_at.map(Timestamp)
    }
}

#[derive(Default)]
pub struct NotificationQuery;

#[Object]
impl NotificationQuery {
    /// The caller's inbox, newest first.
    #[graphql(complexity = "connection::complexity(child_complexity, first)")]
    async fn notifications(
        &self,
        ctx: &Context<'_>,
        #[graphql(default_with = "Some(false)", desc = "Only unread messages.")]
        unread_only: Option<bool>,
        #[graphql(desc = "How many items to return (1 to 100, default 20).")] first: Option<i32>,
        #[graphql(
            desc = "Return the items after this cursor (`pageInfo.endCursor` of the previous page)."
        )]
        after: Option<String>,
    ) -> AppResult<Conn<Notification>> {
        let me = actor(ctx)?;
        let page = Page::new(ctx, first, after.as_deref())?;
        let mut q =
            notification::Entity::find().filter(notification::Column::RecipientId.eq(me.id()));
        if unread_only.unwrap_or(false) {
            q = q.filter(notification::Column::ReadAt.is_null());
        }
        connection::paginate(
            db(ctx)?,
            q,
            notification::Column::Id,
            true,
            page,
            |m| m.id,
            Notification,
        )
        .await
    }

    /// How many of the caller's messages are unread.
    async fn unread_notification_count(&self, ctx: &Context<'_>) -> AppResult<i64> {
        let me = actor(ctx)?;
        let n = notification::Entity::find()
            .filter(notification::Column::RecipientId.eq(me.id()))
            .filter(notification::Column::ReadAt.is_null())
            .count(db(ctx)?)
            .await?;
        Ok(i64::try_from(n).unwrap_or(i64::MAX))
    }
}

/// Messages to mark read: some by id, or all.
#[derive(InputObject)]
pub struct MarkNotificationsReadInput {
    /// These messages of the caller's (up to 100; others' ids are ignored).
    pub ids: Option<Vec<ID>>,
    /// Every unread message of the caller's.
    pub all: Option<bool>,
}

/// The result of marking messages read.
#[derive(SimpleObject)]
pub struct MarkNotificationsReadPayload {
    /// How many messages were unread and are read now.
    pub marked: i64,
    /// The caller's unread messages left.
    pub unread_count: i64,
}

/// Consents the person gave by a tap in the mini-program (`wx.requestSubscribeMessage`).
#[derive(InputObject)]
pub struct RecordWeChatConsentInput {
    /// The templates the person accepted (one message each).
    pub template_ids: Vec<String>,
}

/// One template's remaining consents.
#[derive(SimpleObject)]
pub struct WeChatConsent {
    /// The template.
    pub template_id: String,
    /// Messages of this template the person may still be sent.
    pub remaining: i32,
}

/// The caller's consents after recording.
#[derive(SimpleObject)]
pub struct RecordWeChatConsentPayload {
    /// Every template the caller has consents for.
    pub consents: Vec<WeChatConsent>,
}

#[derive(Default)]
pub struct NotificationMutation;

#[Object]
impl NotificationMutation {
    /// Marks the caller's messages read (by id, or all).
    async fn mark_notifications_read(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The fields of the operation.")] input: MarkNotificationsReadInput,
    ) -> AppResult<MarkNotificationsReadPayload> {
        let me = actor(ctx)?;
        let db = db(ctx)?;
        let mut q = notification::Entity::update_many()
            .col_expr(
                notification::Column::ReadAt,
                Expr::value(crate::core::clock::now()),
            )
            .filter(notification::Column::RecipientId.eq(me.id()))
            .filter(notification::Column::ReadAt.is_null());
        match (input.ids, input.all.unwrap_or(false)) {
            (None, true) => {}
            (Some(ids), false) if !ids.is_empty() && ids.len() <= 100 => {
                let ids = ids
                    .iter()
                    .map(|i| parse_id("ids", i))
                    .collect::<AppResult<Vec<_>>>()?;
                q = q.filter(notification::Column::Id.is_in(ids));
            }
            _ => {
                return Err(AppError::bad_field(
                    "ids",
                    "须给出 1 到 100 个消息 id，或 all: true",
                ));
            }
        }
        let marked = q.exec(db).await?.rows_affected;
        let unread = notification::Entity::find()
            .filter(notification::Column::RecipientId.eq(me.id()))
            .filter(notification::Column::ReadAt.is_null())
            .count(db)
            .await?;
        Ok(MarkNotificationsReadPayload {
            marked: i64::try_from(marked).unwrap_or(i64::MAX),
            unread_count: i64::try_from(unread).unwrap_or(i64::MAX),
        })
    }

    /// Records the subscription-message consents the caller just gave (one tap adds one message per accepted template; each message sent spends one).
    async fn record_we_chat_consent(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The fields of the operation.")] input: RecordWeChatConsentInput,
    ) -> AppResult<RecordWeChatConsentPayload> {
        let me = actor(ctx)?;
        let db = db(ctx)?;
        if input.template_ids.is_empty() || input.template_ids.len() > 10 {
            return Err(AppError::bad_field(
                "templateIds",
                "须给出 1 到 10 个模板 id",
            ));
        }
        let now = crate::core::clock::now();
        let mut seen = std::collections::HashSet::new();
        for t in &input.template_ids {
            let t = t.trim();
            if t.is_empty()
                || t.len() > 64
                || !t
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            {
                return Err(AppError::bad_field("templateIds", "模板 id 无效"));
            }
            if !seen.insert(t.to_owned()) {
                continue;
            }
            wechat_consent::Entity::insert(wechat_consent::ActiveModel {
                user_id: sea_orm::Set(me.id()),
                template_id: sea_orm::Set(t.to_owned()),
                remaining: sea_orm::Set(1),
                updated_at: sea_orm::Set(now),
            })
            .on_conflict(
                OnConflict::columns([wechat_consent::Column::UserId, wechat_consent::Column::TemplateId])
                    .value(
                        wechat_consent::Column::Remaining,
                        Expr::cust("CASE WHEN wechat_consents.remaining < 1000 THEN wechat_consents.remaining + 1 ELSE 1000 END"),
                    )
                    .value(wechat_consent::Column::UpdatedAt, Expr::value(now))
                    .to_owned(),
            )
            .exec_without_returning(db)
            .await?;
        }
        let consents = wechat_consent::Entity::find()
            .filter(wechat_consent::Column::UserId.eq(me.id()))
            .all(db)
            .await?
            .into_iter()
            .map(|c| WeChatConsent {
                template_id: c.template_id,
                remaining: c.remaining,
            })
            .collect();
        Ok(RecordWeChatConsentPayload { consents })
    }
}

#[derive(Default)]
pub struct NotificationSubscription;

#[Subscription]
impl NotificationSubscription {
    /// The caller's new messages as they are written.
    async fn notification_events(
        &self,
        ctx: &Context<'_>,
    ) -> Result<impl Stream<Item = Notification>> {
        let me = actor(ctx)?.id();
        let st = state(ctx)?.clone();
        let live = live::of(ctx);
        let rx = st.events.resume::<NotificationsAdded>(&st.db, None).await?;
        Ok(stream::unfold(
            (rx, st, live, Vec::new()),
            move |(mut rx, st, live, mut ready)| async move {
                loop {
                    if let Some(n) = ready.pop() {
                        return Some((Notification(n), (rx, st, live, ready)));
                    }
                    let bus::Stamped { event, .. } = rx.next().await?;
                    let mine = notification::Entity::find()
                        .filter(notification::Column::Batch.eq(event.batch))
                        .filter(notification::Column::RecipientId.eq(me))
                        .all(&st.db)
                        .await
                        .unwrap_or_default();
                    if mine.is_empty() {
                        continue;
                    }
                    match live.before_event(&st).await {
                        Next::Send(_) => ready = mine,
                        Next::Skip => continue,
                        Next::Closed => return None,
                    }
                }
            },
        ))
    }
}

/// An outside channel a message may go by (the in-app inbox always receives it).
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::notification_delivery::Channel")]
pub enum NotificationChannel {
    /// A WeChat subscription message (needs the person's consent per message).
    Wechat,
    /// A text message (urgent kinds only).
    Sms,
    /// An email (unit reps and staff).
    Email,
}

/// The outside channels one kind may use.
#[derive(SimpleObject, InputObject)]
#[graphql(input_name = "KindChannelsInput")]
pub struct KindChannels {
    /// The kind.
    pub kind: NotificationKind,
    /// The channels it may use (empty: the inbox only).
    pub channels: Vec<NotificationChannel>,
}

/// A person's notification settings.
#[derive(SimpleObject)]
pub struct NotificationPreferences {
    /// Quiet hours start, local `HH:MM` (Asia/Shanghai); urgent kinds ignore quiet hours.
    pub quiet_start: String,
    /// Quiet hours end, local `HH:MM` (equal to the start: no quiet hours).
    pub quiet_end: String,
    /// Kinds limited to some channels (a kind not listed uses all of its channels).
    pub channels: Vec<KindChannels>,
}

/// New notification settings (fields left out are kept).
#[derive(InputObject)]
pub struct UpdateNotificationPreferencesInput {
    /// Quiet hours start, local `HH:MM`.
    pub quiet_start: Option<String>,
    /// Quiet hours end, local `HH:MM`.
    pub quiet_end: Option<String>,
    /// Kinds and the channels each may use (replaces the listed kinds' settings).
    pub channels: Option<Vec<KindChannels>>,
}

fn preferences_of(p: Option<entity::notification_preference::Model>) -> NotificationPreferences {
    let (start, end) = crate::notify::sender::DEFAULT_QUIET;
    let Some(p) = p else {
        return NotificationPreferences {
            quiet_start: start.into(),
            quiet_end: end.into(),
            channels: Vec::new(),
        };
    };
    let map: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&p.channels).unwrap_or_default();
    let channels = crate::notify::kinds::Kind::ALL
        .into_iter()
        .filter_map(|k| {
            let list = map.get(k.as_str())?.as_array()?;
            Some(KindChannels {
                kind: k.into(),
                channels: list
                    .iter()
                    .filter_map(|c| match c.as_str()? {
                        "WECHAT" => Some(NotificationChannel::Wechat),
                        "SMS" => Some(NotificationChannel::Sms),
                        "EMAIL" => Some(NotificationChannel::Email),
                        _ => None,
                    })
                    .collect(),
            })
        })
        .collect();
    NotificationPreferences {
        quiet_start: p.quiet_start,
        quiet_end: p.quiet_end,
        channels,
    }
}

fn hhmm(field: &'static str, v: &str) -> AppResult<String> {
    let ok = v.len() == 5
        && v.as_bytes()[2] == b':'
        && v[..2].parse::<u32>().is_ok_and(|h| h < 24)
        && v[3..].parse::<u32>().is_ok_and(|m| m < 60);
    if ok {
        Ok(v.to_owned())
    } else {
        Err(AppError::bad_field(field, "时间须为 HH:MM（00:00–23:59）"))
    }
}

#[derive(Default)]
pub struct NotificationPreferenceQuery;

#[Object]
impl NotificationPreferenceQuery {
    /// The caller's notification settings (defaults: quiet hours 22:00–07:00, every channel).
    async fn notification_preferences(
        &self,
        ctx: &Context<'_>,
    ) -> AppResult<NotificationPreferences> {
        let me = actor(ctx)?;
        let p = entity::notification_preference::Entity::find_by_id(me.id())
            .one(db(ctx)?)
            .await?;
        Ok(preferences_of(p))
    }
}

#[derive(Default)]
pub struct NotificationPreferenceMutation;

#[Object]
impl NotificationPreferenceMutation {
    /// Changes the caller's quiet hours and the channels of some kinds.
    async fn update_notification_preferences(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The fields of the operation.")] input: UpdateNotificationPreferencesInput,
    ) -> AppResult<NotificationPreferences> {
        use entity::notification_preference as np;
        let me = actor(ctx)?;
        let db = db(ctx)?;
        let current = np::Entity::find_by_id(me.id()).one(db).await?;
        let (start, end) = crate::notify::sender::DEFAULT_QUIET;
        let quiet_start = match &input.quiet_start {
            Some(v) => hhmm("quietStart", v)?,
            None => current
                .as_ref()
                .map_or(start.to_owned(), |c| c.quiet_start.clone()),
        };
        let quiet_end = match &input.quiet_end {
            Some(v) => hhmm("quietEnd", v)?,
            None => current
                .as_ref()
                .map_or(end.to_owned(), |c| c.quiet_end.clone()),
        };
        let kinds = crate::notify::kinds::Kind::ALL.len();
        if input
            .channels
            .as_ref()
            .is_some_and(|c| c.len() > kinds || c.iter().any(|k| k.channels.len() > 3))
        {
            return Err(AppError::bad_field(
                "channels",
                "每类消息列一次，每类最多 3 个渠道",
            ));
        }
        let mut map: serde_json::Map<String, serde_json::Value> = current
            .as_ref()
            .and_then(|c| serde_json::from_str(&c.channels).ok())
            .unwrap_or_default();
        for kc in input.channels.unwrap_or_default() {
            let kind: crate::notify::kinds::Kind = kc.kind.into();
            let mut names: Vec<&str> = kc
                .channels
                .into_iter()
                .map(|c| crate::notify::sender::channel_name(c.into()))
                .collect();
            names.sort_unstable();
            names.dedup();
            map.insert(kind.as_str().to_owned(), serde_json::json!(names));
        }
        let row = np::ActiveModel {
            user_id: sea_orm::Set(me.id()),
            quiet_start: sea_orm::Set(quiet_start),
            quiet_end: sea_orm::Set(quiet_end),
            channels: sea_orm::Set(serde_json::Value::Object(map).to_string()),
            updated_at: sea_orm::Set(crate::core::clock::now()),
        };
        np::Entity::insert(row)
            .on_conflict(
                OnConflict::column(np::Column::UserId)
                    .update_columns([
                        np::Column::QuietStart,
                        np::Column::QuietEnd,
                        np::Column::Channels,
                        np::Column::UpdatedAt,
                    ])
                    .to_owned(),
            )
            .exec_without_returning(db)
            .await?;
        Ok(preferences_of(
            np::Entity::find_by_id(me.id()).one(db).await?,
        ))
    }
}
