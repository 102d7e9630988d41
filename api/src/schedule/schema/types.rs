//! Slot, shift and sign-up objects.

use crate::graphql::scalars::Timestamp;
use async_graphql::{Context, Enum, ID, Object, SimpleObject};
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

/// The order of a shift list.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Default)]
pub enum ShiftOrder {
    /// The earliest start first (the default).
    #[default]
    Start,
    /// In the order they were created (shifts of one slot are made in date order).
    Created,
}

/// A day of the week (ISO order, Monday first).
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum Weekday {
    /// 星期一
    Monday,
    /// 星期二
    Tuesday,
    /// 星期三
    Wednesday,
    /// 星期四
    Thursday,
    /// 星期五
    Friday,
    /// 星期六
    Saturday,
    /// 星期日
    Sunday,
}

impl Weekday {
    pub const ALL: [Weekday; 7] = [
        Weekday::Monday,
        Weekday::Tuesday,
        Weekday::Wednesday,
        Weekday::Thursday,
        Weekday::Friday,
        Weekday::Saturday,
        Weekday::Sunday,
    ];

    /// ISO number: Monday 1 … Sunday 7.
    pub fn number(self) -> i32 {
        Self::ALL.iter().position(|d| *d == self).unwrap_or(0) as i32 + 1
    }

    /// The day of an ISO number.
    pub fn of_number(n: i32) -> Option<Self> {
        usize::try_from(n - 1)
            .ok()
            .and_then(|i| Self::ALL.get(i).copied())
    }
}

/// Where a sign-up stands.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::shift_signup::SignupStatus")]
pub enum SignupStatus {
    /// Signed up.
    SignedUp,
    /// Cancelled.
    Cancelled,
    /// Checked in, serving.
    CheckedIn,
    /// Served and checked out.
    Completed,
    /// Did not come.
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

/// A weekly service slot for student volunteer assistants: a weekday and hours, repeated over a period.
#[Object]
impl ServiceSlot {
    /// The id of the service slot.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The title.
    async fn title(&self) -> &str {
        &self.0.title
    }
    /// What the students do, one item per entry.
    async fn tasks(&self) -> Vec<String> {
        serde_json::from_str(&self.0.tasks).unwrap_or_default()
    }
    /// The day of the week it runs.
    async fn day_of_week(&self) -> AppResult<Weekday> {
        Weekday::of_number(self.0.weekday).ok_or_else(|| AppError::internal("slot weekday"))
    }
    /// ISO weekday: Monday 1 … Sunday 7.
    #[graphql(deprecation = "Use `dayOfWeek` (an enum).")]
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
    /// How many students one shift takes.
    async fn capacity(&self) -> i32 {
        self.0.capacity
    }
    /// First day the slot runs.
    async fn start_date(&self) -> Date {
        Date(self.0.valid_from)
    }
    /// Last day the slot runs.
    async fn end_date(&self) -> Date {
        Date(self.0.valid_to)
    }
    /// First day the slot runs.
    #[graphql(deprecation = "Use `startDate` (an object's period is `startDate`/`endDate`).")]
    async fn valid_from(&self) -> Date {
        Date(self.0.valid_from)
    }
    /// Last day the slot runs.
    #[graphql(deprecation = "Use `endDate` (an object's period is `startDate`/`endDate`).")]
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
    /// The community it belongs to.
    async fn community(&self, ctx: &Context<'_>) -> AppResult<Community> {
        loader(ctx)?
            .load_one(CommunityKey(self.0.community_id))
            .await?
            .map(Community)
            .ok_or_else(|| AppError::internal("slot without community"))
    }
    /// The grid the slot serves, if one.
    async fn grid(&self, ctx: &Context<'_>) -> AppResult<Option<Grid>> {
        match self.0.grid_id {
            None => Ok(None),
            Some(g) => Ok(loader(ctx)?.load_one(GridKey(g)).await?.map(Grid)),
        }
    }
    /// Organisations whose students may sign up (besides those bound to the community by an ACTIVE co-building agreement).
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

/// The shift actions open to the viewer now.
#[derive(SimpleObject)]
pub struct ShiftViewerCan {
    /// `signUpForShift` would take a place (a student of an eligible organisation, not blocked for no-shows, before the start, a free place, no sign-up of theirs that is this shift or overlaps it).
    pub sign_up: bool,
    /// `cancelShiftSignup` of the viewer's sign-up (`mySignup`) would be accepted (signed up, not within the cancel window before the start).
    pub cancel: bool,
}

/// A dated occurrence of a slot.
pub struct Shift(pub shift::Model);

/// One dated occurrence of a service slot.
#[Object]
impl Shift {
    /// What the viewer may do with this shift now, by the same rules as the mutations: show only the buttons that will work.
    async fn viewer_can(&self, ctx: &Context<'_>) -> AppResult<ShiftViewerCan> {
        let Some(me) = viewer(ctx).user() else {
            return Ok(ShiftViewerCan {
                sign_up: false,
                cancel: false,
            });
        };
        let config = crate::graphql::context::config(ctx)?;
        let mine = loader(ctx)?
            .load_one(SignupsOfShift(self.0.id))
            .await?
            .unwrap_or_default()
            .into_iter()
            .find(|s| s.student_id == me.id());
        let cancel = mine.as_ref().is_some_and(|s| {
            crate::schedule::rules::cancel_refusal(config, me, s, &self.0).is_none()
        });
        let sign_up = match loader(ctx)?.load_one(SlotKey(self.0.slot_id)).await? {
            Some(slot) if me.has_role(entity::role_assignment::Role::Student) => {
                let db = crate::graphql::context::db(ctx)?;
                crate::schedule::rules::may_sign_up(db, config, me, &self.0, &slot).await?
            }
            _ => false,
        };
        Ok(ShiftViewerCan { sign_up, cancel })
    }

    /// The id of the shift.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The slot.
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
    /// When it starts.
    async fn starts_at(&self) -> Timestamp {
        Timestamp(self.0.starts_at)
    }
    /// When it ends.
    async fn ends_at(&self) -> Timestamp {
        Timestamp(self.0.ends_at)
    }
    /// How many students it takes.
    async fn capacity(&self) -> i32 {
        self.0.capacity
    }
    /// Places taken (never more than capacity).
    async fn taken(&self) -> i32 {
        self.0.taken
    }
    /// Places left.
    async fn free_places(&self) -> i32 {
        std::cmp::max(self.0.capacity - self.0.taken, 0)
    }
    /// Whether sign-up is still open (not started, places left).
    async fn open(&self) -> bool {
        self.0.starts_at > crate::core::clock::now() && self.0.taken < self.0.capacity
    }
    /// The caller's own sign-up for this shift (not cancelled), if any; null when anonymous.
    async fn my_signup(&self, ctx: &Context<'_>) -> AppResult<Option<ShiftSignup>> {
        let Some(me) = viewer(ctx).user() else {
            return Ok(None);
        };
        let rows = loader(ctx)?
            .load_one(SignupsOfShift(self.0.id))
            .await?
            .unwrap_or_default();
        Ok(rows
            .into_iter()
            .find(|s| s.student_id == me.id())
            .map(ShiftSignup::own))
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

/// A student's sign-up for a shift. `visible` is decided by whoever builds it: whether the viewer may see the student's name (staff, grid workers, the student).
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

    /// A sign-up whose visibility is decided by the schedule policy from the viewer and the shift's slot.
    pub async fn for_viewer(
        ctx: &Context<'_>,
        model: entity::shift_signup::Model,
    ) -> AppResult<Self> {
        if let Some(visible) = policy::sees_student_settled(viewer(ctx).user(), model.student_id) {
            return Ok(Self { model, visible });
        }
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

/// A student's sign-up for a shift.
#[Object]
impl ShiftSignup {
    /// The id of the shift signup.
    async fn id(&self) -> ID {
        ID(self.model.id.to_string())
    }
    /// The shift.
    async fn shift(&self, ctx: &Context<'_>) -> AppResult<Shift> {
        loader(ctx)?
            .load_one(ShiftKey(self.model.shift_id))
            .await?
            .map(Shift)
            .ok_or_else(|| AppError::internal("signup without shift"))
    }
    /// Its status.
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
    /// When the student signed up.
    async fn signed_up_at(&self) -> Timestamp {
        Timestamp(self.model.signed_up_at)
    }
    /// When the student checked in.
    async fn checked_in_at(&self) -> Option<Timestamp> {
        self.model.checked_in_at.map(Timestamp)
    }
    /// When the student checked out.
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
    /// The shift.
    pub shift: Shift,
    /// Whether the caller now holds it.
    pub taken: bool,
    /// Why it was not taken (full, overlapping, past).
    pub reason: Option<NotTakenReason>,
    /// The sign-up, when taken.
    pub signup: Option<ShiftSignup>,
}

/// Each future shift of the slot, taken or not.
#[derive(SimpleObject)]
pub struct SignUpForSeriesPayload {
    /// Each future shift, taken or not.
    pub items: Vec<SeriesItem>,
    /// Shifts taken.
    pub taken_count: i32,
}

/// Volunteer hours served in one community.
#[derive(SimpleObject)]
pub struct CommunityHours {
    /// The community it belongs to.
    pub community: Community,
    /// Hours served.
    pub hours: f64,
    /// Shifts served.
    pub shifts: i64,
}

/// Total hours of completed service per community in a period.
#[derive(SimpleObject)]
pub struct HoursCertificate {
    /// The student.
    pub student: User,
    /// First day counted.
    pub from: Date,
    /// Last day counted.
    pub to: Date,
    /// Hours served in the period.
    pub total_hours: f64,
    /// Shifts served in the period.
    pub total_shifts: i64,
    /// Hours per community.
    pub communities: Vec<CommunityHours>,
}
