//! Inputs, payloads, and the query and mutation roots of schedules.

use crate::graphql::scalars::Timestamp;
use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use chrono::Duration;
use entity::{service_slot, shift};
use sea_orm::{
    ColumnTrait, EntityTrait, QueryFilter,
    sea_query::{Expr, ExprTrait},
};

use crate::core::error::{AppError, AppResult};
use crate::core::pagination as connection;
use crate::core::pagination::Conn;
use crate::core::pagination::Page;
use crate::core::validate;
use crate::graphql::context::actor;
use crate::graphql::context::config;
use crate::graphql::context::db;
use crate::graphql::context::events;
use crate::graphql::context::loader;
use crate::graphql::context::parse_id;
use crate::graphql::context::parse_opt_id;
use crate::graphql::scalars::Date;
use crate::nodes::loaders::CommunityKey;
use crate::nodes::loaders::UserKey;
use crate::nodes::place::Community;
use crate::nodes::user::User;
use crate::schedule::loaders::{ShiftKey, SlotKey};
use crate::schedule::rules as svc;
use crate::schedule::rules::NotTaken;

#[allow(unused_imports)]
use super::*;

/// A new weekly service slot for student volunteer assistants.
#[derive(InputObject)]
pub struct CreateServiceSlotInput {
    /// The community.
    pub community_id: ID,
    /// The grid it serves, if one.
    pub grid_id: Option<ID>,
    /// The title.
    pub title: String,
    /// What the students do, one item per entry.
    #[graphql(default)]
    pub tasks: Vec<String>,
    /// The day of the week it runs (required; or the deprecated `weekday`).
    pub day_of_week: Option<Weekday>,
    /// ISO weekday: Monday 1 … Sunday 7.
    #[graphql(deprecation = "Use `dayOfWeek` (an enum).")]
    pub weekday: Option<i32>,
    /// Local `HH:MM` (Asia/Shanghai).
    pub start_time: String,
    /// Local `HH:MM` (Asia/Shanghai).
    pub end_time: String,
    /// How many students one shift takes.
    pub capacity: i32,
    /// First day the slot runs (required; or the deprecated `validFrom`).
    pub start_date: Option<Date>,
    /// Last day the slot runs (required; or the deprecated `validTo`).
    pub end_date: Option<Date>,
    /// First day the slot runs.
    #[graphql(deprecation = "Use `startDate`.")]
    pub valid_from: Option<Date>,
    /// Last day the slot runs.
    #[graphql(deprecation = "Use `endDate`.")]
    pub valid_to: Option<Date>,
    /// Dates without a shift (holidays).
    #[graphql(default)]
    pub skipped_dates: Vec<Date>,
    /// Organisations whose students may sign up.
    #[graphql(default)]
    pub eligible_organization_ids: Vec<ID>,
}

/// New hours or capacity for a slot.
#[derive(InputObject)]
pub struct UpdateServiceSlotInput {
    /// The slot.
    pub slot_id: ID,
    /// New capacity of future shifts; never below the places already taken.
    pub capacity: Option<i32>,
    /// New local start time (future shifts without sign-ups only).
    pub start_time: Option<String>,
    /// The new end time (HH:MM).
    pub end_time: Option<String>,
}

/// The slot after the change.
#[derive(SimpleObject)]
pub struct ServiceSlotPayload {
    /// The slot.
    pub slot: ServiceSlot,
}

/// The shift to sign up for.
#[derive(InputObject)]
pub struct SignUpForShiftInput {
    /// The shift.
    pub shift_id: ID,
}

/// A slot whose future shifts the caller signs up for.
#[derive(InputObject)]
pub struct SignUpForSeriesInput {
    /// The slot.
    pub slot_id: ID,
}

/// The sign-up to cancel.
#[derive(InputObject)]
pub struct SignupInput {
    /// The sign-up.
    pub signup_id: ID,
}

/// The sign-up whose attendance is recorded.
#[derive(InputObject)]
pub struct AttendanceInput {
    /// The sign-up.
    pub signup_id: ID,
    /// When it happened (default now), for attendance recorded afterwards.
    pub at: Option<Timestamp>,
}

/// The sign-up after the change.
#[derive(SimpleObject)]
pub struct ShiftSignupPayload {
    /// The sign-up.
    pub signup: ShiftSignup,
}

/// A token for the caller's calendar feed.
#[derive(SimpleObject)]
pub struct CalendarTokenPayload {
    /// A secret token for the calendar feed address; keep it private.
    pub token: String,
    /// GET this path for the iCalendar feed.
    pub path: String,
}

#[derive(Default)]
pub struct ScheduleQuery;

#[Object]
impl ScheduleQuery {
    /// Service slots, filtered by community, grid, day of the week, or open to the calling student.
    #[graphql(complexity = "connection::complexity(child_complexity, first)")]
    async fn service_slots(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only items of this community.")] community_id: Option<ID>,
        #[graphql(desc = "Only items of this grid.")] grid_id: Option<ID>,
        #[graphql(desc = "Only slots on this day of the week.")] day_of_week: Option<Weekday>,
        #[graphql(
            desc = "Only slots on this weekday (1 = Monday … 7 = Sunday).",
            deprecation = "Use `dayOfWeek` (an enum)."
        )]
        weekday: Option<i32>,
        #[graphql(
            default_with = "Some(false)",
            desc = "Only slots the caller may sign up for."
        )]
        open_for_me: Option<bool>,
        #[graphql(desc = "How many items to return (1 to 100, default 20).")] first: Option<i32>,
        #[graphql(
            desc = "Return the items after this cursor (`pageInfo.endCursor` of the previous page)."
        )]
        after: Option<String>,
    ) -> AppResult<Conn<ServiceSlot>> {
        // Nullable so that an omitted variable lets the default apply.
        let open_for_me = open_for_me.unwrap_or(false);
        let page = Page::new(ctx, first, after.as_deref())?;
        let mut q = service_slot::Entity::find();
        if let Some(c) = parse_opt_id("communityId", community_id.as_ref())? {
            q = q.filter(service_slot::Column::CommunityId.eq(c));
        }
        if let Some(g) = parse_opt_id("gridId", grid_id.as_ref())? {
            q = q.filter(service_slot::Column::GridId.eq(g));
        }
        let weekday = validate::renamed(
            "dayOfWeek",
            day_of_week.map(Weekday::number),
            "weekday",
            weekday,
        )?;
        if let Some(w) = weekday {
            q = q.filter(service_slot::Column::Weekday.eq(w));
        }
        if open_for_me {
            let me = actor(ctx)?;
            let ids = svc::open_slot_ids(db(ctx)?, me).await?;
            q = q.filter(service_slot::Column::Id.is_in(ids));
        }
        Ok(connection::paginate(
            db(ctx)?,
            q,
            service_slot::Column::Id,
            false,
            page,
            |m| m.id,
            ServiceSlot,
        )
        .await?)
    }

    /// One shift (shifts are public, as in `shifts`).
    async fn shift(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The shift.")] id: ID,
    ) -> AppResult<Shift> {
        let id = parse_id("id", &id)?;
        Ok(Shift(
            crate::core::db::get::<shift::Entity, _>(db(ctx)?, id, "班次不存在").await?,
        ))
    }

    /// One service slot (slots are public, as in `serviceSlots`).
    async fn service_slot(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The slot.")] id: ID,
    ) -> AppResult<ServiceSlot> {
        let id = parse_id("id", &id)?;
        Ok(ServiceSlot(
            crate::core::db::get::<service_slot::Entity, _>(db(ctx)?, id, "排班不存在").await?,
        ))
    }

    /// Shifts, filtered by slot, community, local date range, free places or not yet started; the earliest first. Upcoming open shifts: `shifts(upcoming: true, hasFreePlaces: true)`.
    #[graphql(complexity = "connection::complexity(child_complexity, first)")]
    async fn shifts(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only shifts of this slot.")] slot_id: Option<ID>,
        #[graphql(desc = "Only items of this community.")] community_id: Option<ID>,
        #[graphql(desc = "From this day (inclusive).")] from: Option<Date>,
        #[graphql(desc = "To this day (inclusive).")] to: Option<Date>,
        #[graphql(default_with = "Some(false)", desc = "Only shifts with places left.")]
        has_free_places: Option<bool>,
        #[graphql(
            default_with = "Some(false)",
            desc = "Only shifts that have not started yet."
        )]
        upcoming: Option<bool>,
        #[graphql(
            default_with = "Some(ShiftOrder::Start)",
            desc = "The order (a cursor belongs to the order it was read in)."
        )]
        order_by: Option<ShiftOrder>,
        #[graphql(desc = "How many items to return (1 to 100, default 20).")] first: Option<i32>,
        #[graphql(
            desc = "Return the items after this cursor (`pageInfo.endCursor` of the previous page)."
        )]
        after: Option<String>,
    ) -> AppResult<Conn<Shift>> {
        // Nullable so that an omitted variable lets the default apply.
        let has_free_places = has_free_places.unwrap_or(false);
        let page = Page::new(ctx, first, after.as_deref())?;
        let mut q = shift::Entity::find();
        if let Some(s) = parse_opt_id("slotId", slot_id.as_ref())? {
            q = q.filter(shift::Column::SlotId.eq(s));
        }
        if let Some(c) = parse_opt_id("communityId", community_id.as_ref())? {
            q = q.filter(
                shift::Column::SlotId.in_subquery(
                    sea_orm::sea_query::Query::select()
                        .column(service_slot::Column::Id)
                        .from(service_slot::Entity)
                        .and_where(Expr::col(service_slot::Column::CommunityId).eq(c))
                        .to_owned(),
                ),
            );
        }
        if let Some(f) = from {
            q = q.filter(shift::Column::Date.gte(f.0));
        }
        if let Some(t) = to {
            q = q.filter(shift::Column::Date.lte(t.0));
        }
        if has_free_places {
            q = q.filter(svc::has_free_places());
        }
        if upcoming.unwrap_or(false) {
            q = q.filter(shift::Column::StartsAt.gt(crate::core::clock::now()));
        }
        let db = db(ctx)?;
        match order_by.unwrap_or_default() {
            ShiftOrder::Created => {
                connection::paginate(db, q, shift::Column::Id, false, page, |m| m.id, Shift).await
            }
            ShiftOrder::Start => {
                connection::paginate_by_key(
                    db,
                    q,
                    connection::SortKey::Time(shift::Column::StartsAt),
                    shift::Column::Id,
                    page,
                    |m| m.id,
                    |m| connection::SortKey::<shift::Column>::of_time(Some(m.starts_at)),
                    Shift,
                    |q, limit| connection::fetch_models(db, q, limit),
                )
                .await
            }
        }
    }

    /// The calling student's sign-ups with shifts between two local dates (inclusive). A plain list, not a connection: a calendar view reads a bounded range (at most 400 days) whole.
    async fn my_schedule(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "From this day (inclusive; default today, Asia/Shanghai).")] from: Option<
            Date,
        >,
        #[graphql(desc = "To this day (inclusive; default four weeks after `from`).")] to: Option<
            Date,
        >,
    ) -> AppResult<Vec<ShiftSignup>> {
        let me = actor(ctx)?;
        let from = from.unwrap_or(Date(validate::today()));
        let to = to.unwrap_or(Date(from.0 + Duration::days(28)));
        if to.0 < from.0 || (to.0 - from.0).num_days() > 400 {
            return Err(AppError::bad_field("to", "日期区间无效（最长 400 天）"));
        }
        let start = validate::local_midnight(from.0);
        let end = validate::local_midnight(to.0 + Duration::days(1));
        let rows = svc::schedule(db(ctx)?, me.id(), start, end).await?;
        Ok(rows.into_iter().map(|(s, _)| ShiftSignup::own(s)).collect())
    }

    /// Hours of completed service per community (the student, their organisation's rep, staff and ADMIN).
    async fn hours_certificate(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The student (default: the caller).")] student_id: Option<ID>,
        #[graphql(desc = "First day counted.")] from: Date,
        #[graphql(desc = "Last day counted.")] to: Date,
    ) -> AppResult<HoursCertificate> {
        let me = actor(ctx)?;
        let sid = match &student_id {
            Some(id) => parse_id("studentId", id)?,
            None => me.id(),
        };
        let lines = svc::certificate(db(ctx)?, me, sid, from.0, to.0).await?;
        let student = loader(ctx)?
            .load_one(UserKey(sid))
            .await?
            .ok_or(AppError::NotFound("学生不存在"))?;
        let mut communities = Vec::with_capacity(lines.len());
        for l in &lines {
            if let Some(c) = loader(ctx)?.load_one(CommunityKey(l.community_id)).await? {
                communities.push(CommunityHours {
                    community: Community(c),
                    hours: l.minutes as f64 / 60.0,
                    shifts: l.shifts,
                });
            }
        }
        Ok(HoursCertificate {
            student: User::new(student),
            from,
            to,
            total_hours: lines.iter().map(|l| l.minutes).sum::<i64>() as f64 / 60.0,
            total_shifts: lines.iter().map(|l| l.shifts).sum(),
            communities,
        })
    }
}

pub(crate) fn parse_local_time_pair(
    start: Option<String>,
    end: Option<String>,
) -> AppResult<Option<(String, String)>> {
    match (start, end) {
        (None, None) => Ok(None),
        (Some(s), Some(e)) => Ok(Some((s, e))),
        _ => Err(AppError::bad_field("startTime", "开始与结束时间须同时修改")),
    }
}

#[derive(Default)]
pub struct ScheduleMutation;

#[Object]
impl ScheduleMutation {
    /// Staff of the community create a weekly slot; its shifts are generated at once.
    async fn create_service_slot(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The fields of the operation.")] input: CreateServiceSlotInput,
    ) -> AppResult<ServiceSlotPayload> {
        let me = actor(ctx)?;
        let mut eligible = Vec::with_capacity(input.eligible_organization_ids.len());
        for o in &input.eligible_organization_ids {
            eligible.push(parse_id("eligibleOrganizationIds", o)?);
        }
        let slot = svc::create_slot(
            db(ctx)?,
            me,
            svc::NewSlot {
                community_id: parse_id("communityId", &input.community_id)?,
                grid_id: parse_opt_id("gridId", input.grid_id.as_ref())?,
                title: input.title,
                tasks: input.tasks,
                weekday: validate::renamed_required(
                    "dayOfWeek",
                    input.day_of_week.map(Weekday::number),
                    "weekday",
                    input.weekday,
                )?,
                start_time: input.start_time,
                end_time: input.end_time,
                capacity: input.capacity,
                valid_from: validate::renamed_required(
                    "startDate",
                    input.start_date,
                    "validFrom",
                    input.valid_from,
                )?
                .0,
                valid_to: validate::renamed_required(
                    "endDate",
                    input.end_date,
                    "validTo",
                    input.valid_to,
                )?
                .0,
                skipped_dates: input.skipped_dates.into_iter().map(|d| d.0).collect(),
                eligible_organization_ids: eligible,
            },
        )
        .await?;
        Ok(ServiceSlotPayload {
            slot: ServiceSlot(slot),
        })
    }

    /// Changes capacity or times without ever dropping a sign-up.
    async fn update_service_slot(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The fields of the operation.")] input: UpdateServiceSlotInput,
    ) -> AppResult<ServiceSlotPayload> {
        let me = actor(ctx)?;
        let id = parse_id("slotId", &input.slot_id)?;
        let times = parse_local_time_pair(input.start_time, input.end_time)?;
        let slot = svc::update_slot(db(ctx)?, me, id, input.capacity, times).await?;
        Ok(ServiceSlotPayload {
            slot: ServiceSlot(slot),
        })
    }

    /// An eligible student signs up for one shift (never more than capacity).
    async fn sign_up_for_shift(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The fields of the operation.")] input: SignUpForShiftInput,
    ) -> AppResult<ShiftSignupPayload> {
        let me = actor(ctx)?;
        let id = parse_id("shiftId", &input.shift_id)?;
        let (s, shift, slot) = svc::sign_up(db(ctx)?, events(ctx)?, config(ctx)?, me, id).await?;
        // The shift and slot just read and written: the payload reads nothing more.
        let loaders = loader(ctx)?;
        loaders.prime(ShiftKey(shift.id), Some(shift));
        loaders.prime(SlotKey(slot.id), Some(slot));
        Ok(ShiftSignupPayload {
            signup: ShiftSignup::for_viewer(ctx, s).await?,
        })
    }

    /// An eligible student signs up for every remaining shift of a slot; each shift is reported taken or with the reason it was not.
    async fn sign_up_for_series(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The fields of the operation.")] input: SignUpForSeriesInput,
    ) -> AppResult<SignUpForSeriesPayload> {
        let me = actor(ctx)?;
        let id = parse_id("slotId", &input.slot_id)?;
        let items = svc::sign_up_series(db(ctx)?, events(ctx)?, config(ctx)?, me, id).await?;
        let taken_count = items.iter().filter(|i| i.signup.is_some()).count() as i32;
        Ok(SignUpForSeriesPayload {
            items: items
                .into_iter()
                .map(|i| SeriesItem {
                    shift: Shift(i.shift),
                    taken: i.signup.is_some(),
                    reason: i.reason.map(|r: NotTaken| r.into()),
                    signup: i.signup.map(ShiftSignup::own),
                })
                .collect(),
            taken_count,
        })
    }

    /// The student cancels, until the configured hours before the start.
    async fn cancel_shift_signup(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The fields of the operation.")] input: SignupInput,
    ) -> AppResult<ShiftSignupPayload> {
        let me = actor(ctx)?;
        let id = parse_id("signupId", &input.signup_id)?;
        let s = svc::cancel(db(ctx)?, events(ctx)?, config(ctx)?, me, id).await?;
        Ok(ShiftSignupPayload {
            signup: ShiftSignup::for_viewer(ctx, s).await?,
        })
    }

    /// A grid worker of the grid or staff check a student in.
    async fn check_in(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The fields of the operation.")] input: AttendanceInput,
    ) -> AppResult<ShiftSignupPayload> {
        let me = actor(ctx)?;
        let id = parse_id("signupId", &input.signup_id)?;
        let s = svc::check_in(db(ctx)?, events(ctx)?, me, id, input.at.map(|t| t.0)).await?;
        Ok(ShiftSignupPayload {
            signup: ShiftSignup::for_viewer(ctx, s).await?,
        })
    }

    /// Checks a student out: hours credited and points deposited once.
    async fn check_out(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The fields of the operation.")] input: AttendanceInput,
    ) -> AppResult<ShiftSignupPayload> {
        let me = actor(ctx)?;
        let id = parse_id("signupId", &input.signup_id)?;
        let s = svc::check_out(db(ctx)?, config(ctx)?, me, id, input.at.map(|t| t.0)).await?;
        Ok(ShiftSignupPayload {
            signup: ShiftSignup::for_viewer(ctx, s).await?,
        })
    }

    /// Marks a student who did not come.
    async fn mark_no_show(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The fields of the operation.")] input: SignupInput,
    ) -> AppResult<ShiftSignupPayload> {
        let me = actor(ctx)?;
        let id = parse_id("signupId", &input.signup_id)?;
        let s = svc::mark_no_show(db(ctx)?, me, id).await?;
        Ok(ShiftSignupPayload {
            signup: ShiftSignup::for_viewer(ctx, s).await?,
        })
    }

    /// Issues a new secret calendar token for the calling student; the old one stops working.
    async fn rotate_calendar_token(&self, ctx: &Context<'_>) -> AppResult<CalendarTokenPayload> {
        let me = actor(ctx)?;
        let token = svc::rotate_calendar_token(db(ctx)?, me).await?;
        let path = format!("/calendar/{token}.ics");
        Ok(CalendarTokenPayload { token, path })
    }
}
