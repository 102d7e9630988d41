//! Personal-data rights in the schema: `myPersonalData` (everything held about the caller,
//! through the same types and policies as every other path; also `GET /me/personal-data`),
//! `personalDataAccessLog` (ADMIN) and `erasePersonalData` (ADMIN).

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use entity::{
    good_deed, grid_registration, ledger_entry, passbook, personal_data_access, redemption,
    shift_signup, user, wish, wish_claim,
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::account::audit::AuditEntry;
use crate::account::{policy, privacy};
use crate::auth::AuthUser;
use crate::bank::schema::types::{GoodDeed, LedgerEntry, Passbook, Redemption};
use crate::core::error::{AppError, AppResult};
use crate::core::pagination as connection;
use crate::core::pagination::{Conn, Page};
use crate::graphql::context::{actor, db, loader, parse_id, parse_opt_id};
use crate::graphql::scalars::Timestamp;
use crate::incident::patrol_schema::Patrol;
use crate::incident::schema::{Incident, IncidentStep};
use crate::nodes::loaders::UserKey;
use crate::nodes::place::GridStaff;
use crate::nodes::registration::GridRegistration;
use crate::nodes::user::{RoleAssignment, RoleGrant, User};
use crate::schedule::schema::types::ShiftSignup;
use crate::wish::schema::types::{Wish, WishClaim};

/// The query `GET /me/personal-data` runs: every field of [`PersonalData`].
pub const DOWNLOAD_QUERY: &str = include_str!("personal_data.graphql");

/// Everything lianxin holds about the caller (PIPL, 个人信息保护法), each part shown as the caller sees it anywhere else.
pub struct PersonalData {
    user: user::Model,
}

impl PersonalData {
    fn id(&self) -> i64 {
        self.user.id
    }
}

async fn passbook_ids(ctx: &Context<'_>, holder: i64) -> AppResult<Vec<i64>> {
    Ok(passbook::Entity::find()
        .filter(passbook::Column::HolderId.eq(holder))
        .all(db(ctx)?)
        .await?
        .into_iter()
        .map(|p| p.id)
        .collect())
}

/// Everything held about the caller: profile, roles and their history, registrations, wishes, claims, passbooks with every ledger entry, good deeds, redemptions, sign-ups and hours, incidents raised or reported, and who viewed their phone or address.
#[Object]
impl PersonalData {
    /// When this copy was made.
    async fn generated_at(&self) -> Timestamp {
        Timestamp(crate::core::clock::now())
    }

    /// The profile.
    async fn profile(&self) -> User {
        User::own(self.user.clone())
    }

    /// The roles in force.
    async fn roles(&self, ctx: &Context<'_>) -> AppResult<Vec<RoleAssignment>> {
        let rows = entity::role_assignment::Entity::find()
            .filter(entity::role_assignment::Column::UserId.eq(self.id()))
            .order_by_asc(entity::role_assignment::Column::Id)
            .all(db(ctx)?)
            .await?;
        Ok(rows.into_iter().map(RoleAssignment).collect())
    }

    /// Every role ever granted, with dates and revocations.
    async fn role_history(&self, ctx: &Context<'_>) -> AppResult<Vec<RoleGrant>> {
        let rows = entity::role_grant::Entity::find()
            .filter(entity::role_grant::Column::UserId.eq(self.id()))
            .order_by_asc(entity::role_grant::Column::Id)
            .all(db(ctx)?)
            .await?;
        Ok(rows.into_iter().map(RoleGrant).collect())
    }

    /// Registrations to grids (报到).
    async fn registrations(&self, ctx: &Context<'_>) -> AppResult<Vec<GridRegistration>> {
        let rows = grid_registration::Entity::find()
            .filter(grid_registration::Column::MemberId.eq(self.id()))
            .order_by_asc(grid_registration::Column::Id)
            .all(db(ctx)?)
            .await?;
        Ok(rows.into_iter().map(GridRegistration).collect())
    }

    /// Wishes the caller submitted.
    async fn wishes_submitted(&self, ctx: &Context<'_>) -> AppResult<Vec<Wish>> {
        let rows = wish::Entity::find()
            .filter(wish::Column::SubmittedBy.eq(self.id()))
            .order_by_asc(wish::Column::Id)
            .all(db(ctx)?)
            .await?;
        Ok(rows.into_iter().map(Wish).collect())
    }

    /// Wishes for the caller's benefit.
    async fn wishes_benefiting(&self, ctx: &Context<'_>) -> AppResult<Vec<Wish>> {
        let rows = wish::Entity::find()
            .filter(wish::Column::BeneficiaryUserId.eq(self.id()))
            .order_by_asc(wish::Column::Id)
            .all(db(ctx)?)
            .await?;
        Ok(rows.into_iter().map(Wish).collect())
    }

    /// Wishes the caller claimed (认领), current and past.
    async fn claims(&self, ctx: &Context<'_>) -> AppResult<Vec<WishClaim>> {
        let rows = wish_claim::Entity::find()
            .filter(wish_claim::Column::MemberId.eq(self.id()))
            .order_by_asc(wish_claim::Column::Id)
            .all(db(ctx)?)
            .await?;
        Ok(rows.into_iter().map(WishClaim).collect())
    }

    /// Moral-bank passbooks (道德银行存折).
    async fn passbooks(&self, ctx: &Context<'_>) -> AppResult<Vec<Passbook>> {
        let rows = passbook::Entity::find()
            .filter(passbook::Column::HolderId.eq(self.id()))
            .order_by_asc(passbook::Column::Id)
            .all(db(ctx)?)
            .await?;
        Ok(rows.into_iter().map(Passbook).collect())
    }

    /// Every ledger entry of the caller's passbooks, oldest first.
    async fn ledger(&self, ctx: &Context<'_>) -> AppResult<Vec<LedgerEntry>> {
        let books = passbook_ids(ctx, self.id()).await?;
        let rows = ledger_entry::Entity::find()
            .filter(ledger_entry::Column::PassbookId.is_in(books))
            .order_by_asc(ledger_entry::Column::Id)
            .all(db(ctx)?)
            .await?;
        Ok(rows.into_iter().map(LedgerEntry).collect())
    }

    /// Good deeds on the caller's passbooks or reported by the caller.
    async fn good_deeds(&self, ctx: &Context<'_>) -> AppResult<Vec<GoodDeed>> {
        let books = passbook_ids(ctx, self.id()).await?;
        let rows = good_deed::Entity::find()
            .filter(
                sea_orm::Condition::any()
                    .add(good_deed::Column::PassbookId.is_in(books))
                    .add(good_deed::Column::ReportedBy.eq(self.id())),
            )
            .order_by_asc(good_deed::Column::Id)
            .all(db(ctx)?)
            .await?;
        Ok(rows.into_iter().map(GoodDeed).collect())
    }

    /// Rewards redeemed from the caller's passbooks.
    async fn redemptions(&self, ctx: &Context<'_>) -> AppResult<Vec<Redemption>> {
        let books = passbook_ids(ctx, self.id()).await?;
        let rows = redemption::Entity::find()
            .filter(redemption::Column::PassbookId.is_in(books))
            .order_by_asc(redemption::Column::Id)
            .all(db(ctx)?)
            .await?;
        Ok(rows.into_iter().map(Redemption).collect())
    }

    /// Volunteer sign-ups (a student's shifts), every status.
    async fn signups(&self, ctx: &Context<'_>) -> AppResult<Vec<ShiftSignup>> {
        let rows = self.signup_rows(ctx).await?;
        Ok(rows.into_iter().map(ShiftSignup::own).collect())
    }

    /// Volunteer hours served (completed sign-ups).
    async fn hours(&self, ctx: &Context<'_>) -> AppResult<f64> {
        let minutes: i64 = self
            .signup_rows(ctx)
            .await?
            .iter()
            .filter(|s| s.status == shift_signup::SignupStatus::Completed)
            .filter_map(|s| s.minutes)
            .map(i64::from)
            .sum();
        Ok(minutes as f64 / 60.0)
    }

    /// Incidents the caller raised (as a resident, through a grid worker).
    async fn incidents_raised(&self, ctx: &Context<'_>) -> AppResult<Vec<Incident>> {
        let rows = entity::incident::Entity::find()
            .filter(entity::incident::Column::RaisedBy.eq(self.id()))
            .order_by_asc(entity::incident::Column::Id)
            .all(db(ctx)?)
            .await?;
        Ok(rows.into_iter().map(Incident).collect())
    }

    /// Incidents the caller reported (as a grid worker).
    async fn incidents_reported(&self, ctx: &Context<'_>) -> AppResult<Vec<Incident>> {
        let rows = entity::incident::Entity::find()
            .filter(entity::incident::Column::ReportedBy.eq(self.id()))
            .order_by_asc(entity::incident::Column::Id)
            .all(db(ctx)?)
            .await?;
        Ok(rows.into_iter().map(Incident).collect())
    }

    /// Wishes typed in with the caller's phone number for someone without an account link (a grid worker's entry for a resident), as the caller may see them.
    async fn wishes_by_phone(&self, ctx: &Context<'_>) -> AppResult<Vec<Wish>> {
        let Some(phone) = &self.user.phone else {
            return Ok(Vec::new());
        };
        let rows = wish::Entity::find()
            .filter(wish::Column::BeneficiaryUserId.is_null())
            .filter(wish::Column::BeneficiaryPhone.eq(phone.clone()))
            .order_by_asc(wish::Column::Id)
            .all(db(ctx)?)
            .await?;
        Ok(rows.into_iter().map(Wish).collect())
    }

    /// The caller's grid posts (网格长, 网格员, 辅助员), current and ended.
    async fn grid_posts(&self, ctx: &Context<'_>) -> AppResult<Vec<GridStaff>> {
        let rows = entity::grid_staff::Entity::find()
            .filter(entity::grid_staff::Column::UserId.eq(self.id()))
            .order_by_asc(entity::grid_staff::Column::Id)
            .all(db(ctx)?)
            .await?;
        Ok(rows.into_iter().map(GridStaff).collect())
    }

    /// The caller's patrols (as a grid worker).
    async fn patrols(&self, ctx: &Context<'_>) -> AppResult<Vec<Patrol>> {
        let rows = entity::patrol::Entity::find()
            .filter(entity::patrol::Column::WorkerId.eq(self.id()))
            .order_by_asc(entity::patrol::Column::Id)
            .all(db(ctx)?)
            .await?;
        Ok(rows.into_iter().map(Patrol).collect())
    }

    /// The steps of incidents the caller took (reported, whistled, dispatched, accepted, handled, closed, reopened).
    async fn incident_steps(&self, ctx: &Context<'_>) -> AppResult<Vec<IncidentStep>> {
        let rows = entity::incident_step::Entity::find()
            .filter(entity::incident_step::Column::ActorId.eq(self.id()))
            .order_by_asc(entity::incident_step::Column::Id)
            .all(db(ctx)?)
            .await?;
        Ok(rows.into_iter().map(IncidentStep).collect())
    }

    /// The caller's privileged mutations in the audit log.
    async fn audit_log(&self, ctx: &Context<'_>) -> AppResult<Vec<AuditEntry>> {
        let rows = entity::audit_log::Entity::find()
            .filter(entity::audit_log::Column::UserId.eq(self.id()))
            .order_by_asc(entity::audit_log::Column::Id)
            .all(db(ctx)?)
            .await?;
        Ok(rows.into_iter().map(AuditEntry).collect())
    }

    /// The idempotency keys the caller sent with point-moving mutations.
    async fn idempotency_keys(&self, ctx: &Context<'_>) -> AppResult<Vec<IdempotencyKeyRecord>> {
        let rows = entity::idempotency_key::Entity::find()
            .filter(entity::idempotency_key::Column::UserId.eq(self.id()))
            .order_by_asc(entity::idempotency_key::Column::Id)
            .all(db(ctx)?)
            .await?;
        Ok(rows
            .into_iter()
            .map(|k| IdempotencyKeyRecord {
                key: k.key,
                created_at: Timestamp(k.created_at),
            })
            .collect())
    }

    /// The WeChat user bound to the caller's account (its openid for this mini-program): none or one.
    async fn wechat_bindings(&self, ctx: &Context<'_>) -> AppResult<Vec<WeChatBindingRecord>> {
        Ok(entity::wechat_binding::Entity::find_by_id(self.id())
            .one(db(ctx)?)
            .await?
            .into_iter()
            .map(|b| WeChatBindingRecord {
                openid: b.openid,
                bound_at: Timestamp(b.bound_at),
            })
            .collect())
    }

    /// Every message sent to the caller (the inbox, read or not), newest first.
    async fn notifications(
        &self,
        ctx: &Context<'_>,
    ) -> AppResult<Vec<crate::notify::schema::Notification>> {
        Ok(entity::notification::Entity::find()
            .filter(entity::notification::Column::RecipientId.eq(self.id()))
            .order_by_desc(entity::notification::Column::Id)
            .all(db(ctx)?)
            .await?
            .into_iter()
            .map(crate::notify::schema::Notification)
            .collect())
    }

    /// The caller's notification settings as stored (quiet hours, channels per kind as JSON): none or one.
    async fn notification_preferences(
        &self,
        ctx: &Context<'_>,
    ) -> AppResult<Vec<NotificationPreferenceRecord>> {
        Ok(
            entity::notification_preference::Entity::find_by_id(self.id())
                .one(db(ctx)?)
                .await?
                .into_iter()
                .map(|p| NotificationPreferenceRecord {
                    quiet_start: p.quiet_start,
                    quiet_end: p.quiet_end,
                    channels: p.channels,
                    updated_at: Timestamp(p.updated_at),
                })
                .collect(),
        )
    }

    /// The WeChat subscription messages the caller allowed, per template, not yet spent.
    async fn wechat_consents(
        &self,
        ctx: &Context<'_>,
    ) -> AppResult<Vec<crate::notify::schema::WeChatConsent>> {
        Ok(entity::wechat_consent::Entity::find()
            .filter(entity::wechat_consent::Column::UserId.eq(self.id()))
            .all(db(ctx)?)
            .await?
            .into_iter()
            .map(|c| crate::notify::schema::WeChatConsent {
                template_id: c.template_id,
                remaining: c.remaining,
            })
            .collect())
    }

    /// The caller's sessions: one per refresh token issued (never the token itself).
    async fn sessions(&self, ctx: &Context<'_>) -> AppResult<Vec<SessionRecord>> {
        let rows = entity::refresh_token::Entity::find()
            .filter(entity::refresh_token::Column::UserId.eq(self.id()))
            .order_by_asc(entity::refresh_token::Column::Id)
            .all(db(ctx)?)
            .await?;
        Ok(rows
            .into_iter()
            .map(|t| SessionRecord {
                created_at: Timestamp(t.created_at),
                expires_at: Timestamp(t.expires_at),
                used_at: t.used_at.map(Timestamp),
                revoked_at: t.revoked_at.map(Timestamp),
            })
            .collect())
    }

    /// Files the caller uploaded that no mutation has attached yet (removed after 24 h).
    async fn pending_uploads(&self, ctx: &Context<'_>) -> AppResult<Vec<PendingUploadRecord>> {
        use sea_orm::QuerySelect;
        let rows: Vec<(i64, String, i32, chrono::DateTime<chrono::Utc>)> =
            entity::pending_upload::Entity::find()
                .select_only()
                .column(entity::pending_upload::Column::Id)
                .column(entity::pending_upload::Column::Purpose)
                .column(entity::pending_upload::Column::Size)
                .column(entity::pending_upload::Column::CreatedAt)
                .filter(entity::pending_upload::Column::OwnerId.eq(self.id()))
                .order_by_asc(entity::pending_upload::Column::Id)
                .into_tuple()
                .all(db(ctx)?)
                .await?;
        Ok(rows
            .into_iter()
            .map(|(id, purpose, size, created_at)| PendingUploadRecord {
                id: ID(id.to_string()),
                purpose,
                size,
                created_at: Timestamp(created_at),
            })
            .collect())
    }

    /// The caller's calendar-feed tokens (a student's schedule feed).
    async fn calendar_tokens(&self, ctx: &Context<'_>) -> AppResult<Vec<CalendarTokenRecord>> {
        let rows = entity::calendar_token::Entity::find()
            .filter(entity::calendar_token::Column::UserId.eq(self.id()))
            .order_by_asc(entity::calendar_token::Column::Id)
            .all(db(ctx)?)
            .await?;
        Ok(rows
            .into_iter()
            .map(|t| CalendarTokenRecord {
                path: format!("/calendar/{}.ics", t.token),
                created_at: Timestamp(t.created_at),
            })
            .collect())
    }

    /// Every view of the caller's unmasked phone or address by staff, grid workers or ADMIN, newest first.
    async fn viewed_by(&self, ctx: &Context<'_>) -> AppResult<Vec<PersonalDataAccess>> {
        let rows = personal_data_access::Entity::find()
            .filter(personal_data_access::Column::SubjectId.eq(self.id()))
            .order_by_desc(personal_data_access::Column::Id)
            .all(db(ctx)?)
            .await?;
        Ok(rows.into_iter().map(PersonalDataAccess).collect())
    }
}

impl PersonalData {
    async fn signup_rows(&self, ctx: &Context<'_>) -> AppResult<Vec<shift_signup::Model>> {
        Ok(shift_signup::Entity::find()
            .filter(shift_signup::Column::StudentId.eq(self.id()))
            .order_by_asc(shift_signup::Column::Id)
            .all(db(ctx)?)
            .await?)
    }
}

/// An idempotency key the caller sent.
#[derive(SimpleObject)]
pub struct IdempotencyKeyRecord {
    /// The key.
    pub key: String,
    /// When it was first used.
    pub created_at: Timestamp,
}

/// A calendar-feed token of the caller.
#[derive(SimpleObject)]
pub struct CalendarTokenRecord {
    /// The feed's address (secret).
    pub path: String,
    /// When it was issued.
    pub created_at: Timestamp,
}

/// The WeChat user bound to the caller.
#[derive(SimpleObject)]
pub struct WeChatBindingRecord {
    /// The openid (of this mini-program).
    pub openid: String,
    /// When it was bound.
    pub bound_at: Timestamp,
}

/// A session of the caller (a refresh token issued).
#[derive(SimpleObject)]
pub struct SessionRecord {
    /// When it was issued.
    pub created_at: Timestamp,
    /// When it would stop working.
    pub expires_at: Timestamp,
    /// When it was traded for a new pair.
    pub used_at: Option<Timestamp>,
    /// When it was ended.
    pub revoked_at: Option<Timestamp>,
}

/// A file of the caller waiting to be attached.
#[derive(SimpleObject)]
pub struct PendingUploadRecord {
    /// The upload's id.
    pub id: ID,
    /// What it was uploaded for.
    pub purpose: String,
    /// Its size in bytes.
    pub size: i32,
    /// When it was uploaded.
    pub created_at: Timestamp,
}

/// A person's notification settings, as stored.
#[derive(SimpleObject)]
pub struct NotificationPreferenceRecord {
    /// Quiet hours start (local `HH:MM`).
    pub quiet_start: String,
    /// Quiet hours end (local `HH:MM`).
    pub quiet_end: String,
    /// Channels per kind (JSON).
    pub channels: String,
    /// When they were last changed.
    pub updated_at: Timestamp,
}

/// Where each reference to a person in the database is exported by `myPersonalData`, by (table, column): the field that holds it.
pub const EXPORTED: &[(&str, &str, &str)] = &[
    ("users", "id", "profile"),
    ("role_assignments", "user_id", "roles"),
    ("role_grants", "user_id", "roleHistory"),
    ("grid_registrations", "member_id", "registrations"),
    ("wishes", "submitted_by", "wishesSubmitted"),
    ("wishes", "beneficiary_user_id", "wishesBenefiting"),
    ("wishes", "claimant_id", "claims"),
    ("wish_claims", "member_id", "claims"),
    ("passbooks", "holder_id", "passbooks"),
    ("good_deeds", "reported_by", "goodDeeds"),
    ("shift_signups", "student_id", "signups"),
    ("incidents", "raised_by", "incidentsRaised"),
    ("incidents", "reported_by", "incidentsReported"),
    ("incident_steps", "actor_id", "incidentSteps"),
    ("personal_data_access_log", "subject_id", "viewedBy"),
    ("grid_staff", "user_id", "gridPosts"),
    ("patrols", "worker_id", "patrols"),
    ("audit_log", "user_id", "auditLog"),
    ("idempotency_keys", "user_id", "idempotencyKeys"),
    ("calendar_tokens", "user_id", "calendarTokens"),
    ("wechat_bindings", "user_id", "wechatBindings"),
    ("refresh_tokens", "user_id", "sessions"),
    ("pending_uploads", "owner_id", "pendingUploads"),
    ("notifications", "recipient_id", "notifications"),
    (
        "notification_preferences",
        "user_id",
        "notificationPreferences",
    ),
    ("wechat_consents", "user_id", "wechatConsents"),
];

/// References to a person that `myPersonalData` leaves out, with why: records of what an office holder did in their office (a review, a signature, an operation), kept as the organisation's record and shown where that record is read.
pub const NOT_PERSONAL: &[(&str, &str, &str)] = &[
    (
        "agreement_activities",
        "recorded_by",
        "an activity recorded for an agreement, by office",
    ),
    (
        "agreement_signatures",
        "signed_by",
        "a signature given for an organisation, by office",
    ),
    (
        "agreements",
        "proposed_by",
        "an agreement proposed for an organisation, by office",
    ),
    (
        "agreements",
        "terminated_by",
        "an agreement ended for an organisation, by office",
    ),
    ("alliances", "created_by", "an alliance created by office"),
    (
        "good_deeds",
        "reviewed_by",
        "a review of someone else's good deed, by office",
    ),
    (
        "grid_registrations",
        "reviewed_by",
        "a review of someone else's registration, by office",
    ),
    (
        "ledger_entries",
        "operator_id",
        "the operator of an entry in someone's passbook (the caller's own entries are under ledger)",
    ),
    (
        "personal_data_access_log",
        "viewer_id",
        "the office holder's views of other people's data, kept for those people (ADMIN reads it)",
    ),
    (
        "personal_data_erasures",
        "erased_by",
        "an erasure carried out by office",
    ),
    (
        "personal_data_erasures",
        "user_id",
        "written when the account is erased: it can no longer sign in",
    ),
    (
        "redemptions",
        "created_by",
        "the operator of someone's redemption, by office",
    ),
    (
        "role_grants",
        "granted_by",
        "a role granted to someone else, by office",
    ),
    (
        "role_grants",
        "revoked_by",
        "a role revoked from someone else, by office",
    ),
    (
        "service_slots",
        "created_by",
        "a service slot created by office",
    ),
    (
        "shift_signups",
        "attendance_by",
        "attendance recorded for a student, by office",
    ),
    (
        "uploads",
        "uploaded_by",
        "photos of an incident or a fulfilment, shown with that incident or wish",
    ),
    (
        "wishes",
        "confirmed_by",
        "a confirmation of someone else's wish, by office (the caller's own wishes are exported)",
    ),
    (
        "wishes",
        "reviewed_by",
        "a review of someone else's wish, by office",
    ),
];

/// Which personal value was shown.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum PersonalField {
    /// A phone number.
    Phone,
    /// An address.
    Address,
}

/// One view of a person's unmasked phone number or address by someone else.
pub struct PersonalDataAccess(pub personal_data_access::Model);

/// One view of a person's unmasked phone or address by ADMIN, staff or a grid worker.
#[Object]
impl PersonalDataAccess {
    /// The id of the entry.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// Who saw it.
    async fn viewer(&self, ctx: &Context<'_>) -> AppResult<Option<User>> {
        Ok(loader(ctx)?
            .load_one(UserKey(self.0.viewer_id))
            .await?
            .map(User::new))
    }

    /// Whose it was (null for a wish's beneficiary without an account: see the record).
    async fn subject(&self, ctx: &Context<'_>) -> AppResult<Option<User>> {
        match self.0.subject_id {
            None => Ok(None),
            Some(u) => Ok(loader(ctx)?.load_one(UserKey(u)).await?.map(User::new)),
        }
    }

    /// The phone or the address.
    async fn field(&self) -> PersonalField {
        if self.0.field == "ADDRESS" {
            PersonalField::Address
        } else {
            PersonalField::Phone
        }
    }

    /// The schema path it was shown through, e.g. `User.phone`, `Wish.beneficiaryPhone`.
    async fn path(&self) -> &str {
        &self.0.path
    }

    /// The kind of record it was read from (`Wish`), if not the profile.
    async fn record_type(&self) -> Option<&str> {
        self.0.record_type.as_deref()
    }

    /// The id of that record.
    async fn record_id(&self) -> Option<ID> {
        self.0.record_id.map(|r| ID(r.to_string()))
    }

    /// The request (X-Request-Id), to match with server logs.
    async fn request_id(&self) -> Option<&str> {
        self.0.request_id.as_deref()
    }

    /// When.
    async fn at(&self) -> Timestamp {
        Timestamp(self.0.created_at)
    }
}

#[derive(Default)]
pub struct PrivacyQuery;

#[Object]
impl PrivacyQuery {
    /// Everything held about the caller (PIPL): profile, roles, registrations, wishes, claims, passbooks and ledger, good deeds, redemptions, sign-ups and hours, incidents raised or reported, and who viewed their phone or address. Also downloadable as a JSON file from `GET /me/personal-data` with the same token.
    async fn my_personal_data(&self, ctx: &Context<'_>) -> AppResult<PersonalData> {
        let me: &AuthUser = actor(ctx)?;
        Ok(PersonalData {
            user: me.user.clone(),
        })
    }

    /// Views of people's unmasked phones and addresses by ADMIN, staff and grid workers, newest first (ADMIN only).
    #[graphql(complexity = "connection::complexity(child_complexity, first)")]
    async fn personal_data_access_log(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only views by this person.")] viewer_id: Option<ID>,
        #[graphql(desc = "Only views of this person's data.")] subject_id: Option<ID>,
        #[graphql(desc = "How many items to return (1 to 100, default 20).")] first: Option<i32>,
        #[graphql(
            desc = "Return the items after this cursor (`pageInfo.endCursor` of the previous page)."
        )]
        after: Option<String>,
    ) -> AppResult<Conn<PersonalDataAccess>> {
        if !policy::may_read_access_log(actor(ctx)?) {
            return Err(AppError::Forbidden(
                "只有街道管理员可以查看个人信息访问记录",
            ));
        }
        let page = Page::new(ctx, first, after.as_deref())?;
        let mut q = personal_data_access::Entity::find();
        if let Some(v) = parse_opt_id("viewerId", viewer_id.as_ref())? {
            q = q.filter(personal_data_access::Column::ViewerId.eq(v));
        }
        if let Some(s) = parse_opt_id("subjectId", subject_id.as_ref())? {
            q = q.filter(personal_data_access::Column::SubjectId.eq(s));
        }
        connection::paginate(
            db(ctx)?,
            q,
            personal_data_access::Column::Id,
            true,
            page,
            |m| m.id,
            PersonalDataAccess,
        )
        .await
    }
}

/// A person whose personal data is erased, and the verified request's reason.
#[derive(InputObject)]
pub struct ErasePersonalDataInput {
    /// The person.
    pub user_id: ID,
    /// The verified request (e.g. its reference and date), up to 500 characters.
    pub reason: String,
}

/// The erased account: placeholders instead of personal data, deactivated for good.
#[derive(SimpleObject)]
pub struct ErasePersonalDataPayload {
    /// The account after the erasure.
    pub user: User,
}

#[derive(Default)]
pub struct PrivacyMutation;

#[Object]
impl PrivacyMutation {
    /// Erases a person's personal data on a verified request (ADMIN): name, phone and username become placeholders everywhere they were copied, the account is deactivated for good; balances, counts and statistics stay as they were.
    async fn erase_personal_data(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The fields of the operation.")] input: ErasePersonalDataInput,
    ) -> AppResult<ErasePersonalDataPayload> {
        let id = parse_id("userId", &input.user_id)?;
        let user = privacy::erase(db(ctx)?, actor(ctx)?, id, &input.reason).await?;
        Ok(ErasePersonalDataPayload {
            user: User::new(user),
        })
    }
}
