//! Slot, shift and sign-up objects.

use crate::graphql::scalars::Timestamp;
use async_graphql::{Context, Enum, ID, Object, SimpleObject};
use chrono::Utc;
use entity::{service_slot, shift};

use crate::core::error::{AppError, AppResult};
use crate::core::mask::Access;
use crate::graphql::context::loader;
use crate::graphql::context::viewer;
use crate::graphql::scalars::Date;
use crate::nodes::loaders::CommunityKey;
use crate::nodes::loaders::GridKey;
use crate::nodes::loaders::OrganizationKey;
use crate::nodes::loaders::UserKey;
use crate::nodes::place::Community;
use crate::nodes::place::Grid;
use crate::nodes::place::Organization;
use crate::nodes::user::User;
use crate::schedule::loaders::EligibleOrgsOf;
use crate::schedule::loaders::ShiftKey;
use crate::schedule::loaders::SignupsOfShift;
use crate::schedule::loaders::SlotKey;
use crate::schedule::policy;

#[allow(unused_imports)]
use super::*;

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::shift_signup::SignupStatus")]
pub enum SignupStatus {
    SignedUp,
    Cancelled,
    CheckedIn,
    Completed,
    NoShow,
}

/// Why a shift of a series was not taken.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "crate::schedule::rules::NotTaken")]
pub enum NotTakenReason {
    /// No free place.
    Full,
    /// Overlaps another of the student's shifts.
    Overlap,
    /// Already started: sign-up closed.
    Closed,
    /// The student is already signed up.
    AlreadySignedUp,
}

/// A weekly service slot.
pub struct ServiceSlot(pub service_slot::Model);

#[Object]
impl ServiceSlot {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn title(&self) -> &str {
        &self.0.title
    }
    async fn tasks(&self) -> Vec<String> {
        serde_json::from_str(&self.0.tasks).unwrap_or_default()
    }
    /// ISO weekday: Monday 1 … Sunday 7.
    async fn weekday(&self) -> i32 {
        self.0.weekday
    }
    /// Local time (Asia/Shanghai), `HH:MM`.
    async fn start_time(&self) -> &str {
        &self.0.start_time
    }
    /// Local time (Asia/Shanghai), `HH:MM`.
    async fn end_time(&self) -> &str {
        &self.0.end_time
    }
    async fn capacity(&self) -> i32 {
        self.0.capacity
    }
    async fn valid_from(&self) -> Date {
        Date(self.0.valid_from)
    }
    async fn valid_to(&self) -> Date {
        Date(self.0.valid_to)
    }
    /// Dates without a shift (holidays).
    async fn skipped_dates(&self) -> Vec<Date> {
        let raw: Vec<String> = serde_json::from_str(&self.0.skipped_dates).unwrap_or_default();
        raw.iter()
            .filter_map(|d| d.parse().ok())
            .map(Date)
            .collect()
    }
    async fn community(&self, ctx: &Context<'_>) -> AppResult<Community> {
        loader(ctx)?
            .load_one(CommunityKey(self.0.community_id))
            .await?
            .map(Community)
            .ok_or_else(|| AppError::internal("slot without community"))
    }
    async fn grid(&self, ctx: &Context<'_>) -> AppResult<Option<Grid>> {
        match self.0.grid_id {
            None => Ok(None),
            Some(g) => Ok(loader(ctx)?.load_one(GridKey(g)).await?.map(Grid)),
        }
    }
    /// Organisations whose students may sign up (besides those bound to the community by an
    /// ACTIVE co-building agreement).
    async fn eligible_organizations(&self, ctx: &Context<'_>) -> AppResult<Vec<Organization>> {
        let rows = loader(ctx)?
            .load_one(EligibleOrgsOf(self.0.id))
            .await?
            .unwrap_or_default();
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            if let Some(o) = loader(ctx)?
                .load_one(OrganizationKey(r.organization_id))
                .await?
            {
                out.push(Organization(o));
            }
        }
        Ok(out)
    }
}

/// A dated occurrence of a slot.
pub struct Shift(pub shift::Model);

#[Object]
impl Shift {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn slot(&self, ctx: &Context<'_>) -> AppResult<ServiceSlot> {
        loader(ctx)?
            .load_one(SlotKey(self.0.slot_id))
            .await?
            .map(ServiceSlot)
            .ok_or_else(|| AppError::internal("shift without slot"))
    }
    /// Local date.
    async fn date(&self) -> Date {
        Date(self.0.date)
    }
    async fn starts_at(&self) -> Timestamp {
        Timestamp(self.0.starts_at)
    }
    async fn ends_at(&self) -> Timestamp {
        Timestamp(self.0.ends_at)
    }
    async fn capacity(&self) -> i32 {
        self.0.capacity
    }
    /// Places taken (never more than capacity).
    async fn taken(&self) -> i32 {
        self.0.taken
    }
    async fn free_places(&self) -> i32 {
        std::cmp::max(self.0.capacity - self.0.taken, 0)
    }
    /// Whether sign-up is still open (not started, places left).
    async fn open(&self) -> bool {
        self.0.starts_at > Utc::now() && self.0.taken < self.0.capacity
    }
    /// Sign-ups (not cancelled). Names are shown to staff, grid workers and the student.
    async fn signups(&self, ctx: &Context<'_>) -> AppResult<Vec<ShiftSignup>> {
        let rows = loader(ctx)?
            .load_one(SignupsOfShift(self.0.id))
            .await?
            .unwrap_or_default();
        let slot = loader(ctx)?.load_one(SlotKey(self.0.slot_id)).await?;
        let me = viewer(ctx).user();
        Ok(rows
            .into_iter()
            .map(|model| {
                let visible = slot
                    .as_ref()
                    .is_some_and(|sl| policy::sees_student(me, sl, model.student_id));
                ShiftSignup { model, visible }
            })
            .collect())
    }
}

/// A student's sign-up for a shift. `visible` is decided by whoever builds it: whether the
/// viewer may see the student's name (staff, grid workers, the student).
pub struct ShiftSignup {
    pub model: entity::shift_signup::Model,
    pub visible: bool,
}

impl ShiftSignup {
    /// A sign-up seen by its own student (the student's schedule and series payload).
    pub fn own(model: entity::shift_signup::Model) -> Self {
        Self {
            model,
            visible: true,
        }
    }

    /// A sign-up whose visibility is decided by the schedule policy from the viewer and
    /// the shift's slot.
    pub async fn for_viewer(
        ctx: &Context<'_>,
        model: entity::shift_signup::Model,
    ) -> AppResult<Self> {
        let sh = loader(ctx)?.load_one(ShiftKey(model.shift_id)).await?;
        let slot = match sh {
            Some(sh) => loader(ctx)?.load_one(SlotKey(sh.slot_id)).await?,
            None => None,
        };
        let visible = slot
            .as_ref()
            .is_some_and(|sl| policy::sees_student(viewer(ctx).user(), sl, model.student_id));
        Ok(Self { model, visible })
    }
}

#[Object]
impl ShiftSignup {
    async fn id(&self) -> ID {
        ID(self.model.id.to_string())
    }
    async fn shift(&self, ctx: &Context<'_>) -> AppResult<Shift> {
        loader(ctx)?
            .load_one(ShiftKey(self.model.shift_id))
            .await?
            .map(Shift)
            .ok_or_else(|| AppError::internal("signup without shift"))
    }
    async fn status(&self) -> SignupStatus {
        self.model.status.into()
    }
    /// The student (staff, grid workers and the student themself; null for others).
    async fn student(&self, ctx: &Context<'_>) -> AppResult<Option<User>> {
        if !self.visible {
            return Ok(None);
        }
        Ok(loader(ctx)?
            .load_one(UserKey(self.model.student_id))
            .await?
            .map(|u| User::granted(u, Access::NameOnly)))
    }
    /// The student's name, masked (林**) for those who may not see it.
    async fn student_name(&self, ctx: &Context<'_>) -> AppResult<String> {
        let name = loader(ctx)?
            .load_one(UserKey(self.model.student_id))
            .await?
            .map(|u| u.display_name)
            .unwrap_or_default();
        let access = if self.visible {
            Access::NameOnly
        } else {
            Access::Masked
        };
        Ok(access.name(&name))
    }
    async fn signed_up_at(&self) -> Timestamp {
        Timestamp(self.model.signed_up_at)
    }
    async fn checked_in_at(&self) -> Option<Timestamp> {
        self.model.checked_in_at.map(Timestamp)
    }
    async fn checked_out_at(&self) -> Option<Timestamp> {
        self.model.checked_out_at.map(Timestamp)
    }
    /// Hours credited (completed shifts).
    async fn hours(&self) -> Option<f64> {
        self.model.minutes.map(|m| f64::from(m) / 60.0)
    }
}

/// One shift of a series sign-up: taken, or why not.
#[derive(SimpleObject)]
pub struct SeriesItem {
    pub shift: Shift,
    pub taken: bool,
    pub reason: Option<NotTakenReason>,
    pub signup: Option<ShiftSignup>,
}

#[derive(SimpleObject)]
pub struct SignUpForSeriesPayload {
    pub items: Vec<SeriesItem>,
    pub taken_count: i32,
}

#[derive(SimpleObject)]
pub struct CommunityHours {
    pub community: Community,
    pub hours: f64,
    pub shifts: i64,
}

/// Total hours of completed service per community in a period.
#[derive(SimpleObject)]
pub struct HoursCertificate {
    pub student: User,
    pub from: Date,
    pub to: Date,
    pub total_hours: f64,
    pub total_shifts: i64,
    pub communities: Vec<CommunityHours>,
}
