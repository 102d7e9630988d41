//! Incidents in the schema: `incidents`, `incident(id)` and one mutation per step.

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject, Upload};
use entity::{incident, incident_step};
use sea_orm::EntityTrait;

use crate::alliance::schema::AgreementActivity;
use crate::core::error::{AppError, AppResult};
use crate::core::pagination as connection;
use crate::core::pagination::{Conn, Page};
use crate::files::loaders::PhotosOfIncident;
use crate::files::rules::MAX_PER_STEP;
use crate::files::schema::{Photo, read_photos};
use crate::graphql::context::{actor, config, db, events, loader, parse_id, parse_opt_id, viewer};
use crate::graphql::scalars::Timestamp;
use crate::incident::adoption;
use crate::incident::loaders::{ProjectOf, StepsOf};
use crate::incident::policy;
use crate::incident::rules::{self, Step};
use crate::nodes::loaders::{CommunityKey, GridKey, OrganizationKey, UserKey};
use crate::nodes::place::{Community, Grid, Organization};
use crate::nodes::user::User;

/// The order of an incident list.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Default)]
pub enum IncidentOrder {
    /// Newest first (the default).
    #[default]
    Newest,
    /// The nearest deadline first (the most overdue at the top); incidents without one last.
    Deadline,
}

/// Where an incident is in its handling.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::incident::IncidentStatus")]
pub enum IncidentStatus {
    /// Found and reported by a grid worker.
    Reported,
    /// Solved by the grid worker on the spot (就地解决).
    ResolvedOnSite,
    /// Escalated to the street (吹哨).
    Whistled,
    /// Sent to an organisation with a deadline (派单).
    Dispatched,
    /// Taken by the organisation (报到).
    Accepted,
    /// Handled by the organisation, awaiting the resident's confirmation.
    Handled,
    /// Confirmed with the resident.
    Closed,
    /// Not solved: back with the organisation, with a new deadline.
    Reopened,
}

/// Which of the five points it is (堵点、痛点、盲点、重点、疑点).
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::incident::IncidentCategory")]
pub enum IncidentCategory {
    /// 堵点
    Blockage,
    /// 痛点
    Pain,
    /// 盲点
    BlindSpot,
    /// 重点
    Priority,
    /// 疑点 (a hidden risk)
    HiddenRisk,
}

/// What it is about.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::incident::IncidentSubject")]
pub enum IncidentSubject {
    /// 安全
    Safety,
    /// 环境
    Environment,
    /// 水电气等公用设施
    Utilities,
    /// 邻里纠纷
    NeighbourDispute,
    /// 养老
    ElderlyCare,
    /// 其他
    Other,
}

/// How soon it must be handled (the default deadline of a dispatch: 72, 24 or 4 hours).
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::incident::IncidentUrgency")]
pub enum IncidentUrgency {
    /// 一般
    Normal,
    /// 紧急
    Urgent,
    /// 特急
    Critical,
}

/// The incident steps open to the viewer now (each names the mutation it stands for).
#[derive(SimpleObject)]
pub struct IncidentViewerCan {
    /// `resolveIncidentOnSite` would be accepted.
    pub resolve_on_site: bool,
    /// `whistleIncident` would be accepted.
    pub whistle: bool,
    /// `dispatchIncident` would be accepted as a first dispatch (a WHISTLED incident).
    pub dispatch: bool,
    /// `dispatchIncident` would be accepted as a redispatch (DISPATCHED, REOPENED, or ACCEPTED and past its deadline).
    pub redispatch: bool,
    /// `acceptIncident` would be accepted.
    pub accept: bool,
    /// `handleIncident` would be accepted.
    pub handle: bool,
    /// `closeIncident` would be accepted.
    pub close: bool,
    /// `reopenIncident` would be accepted.
    pub reopen: bool,
}

/// An incident found in a grid.
pub struct Incident(pub incident::Model);

/// An incident (事件) found in a grid and its handling: reported by a grid worker, resolved on site or whistled to the street, dispatched to a unit that accepts and handles it, closed with the resident. Seen by staff of the community, the grid's workers, the unit it is dispatched to and the resident who raised it.
#[Object]
impl Incident {
    /// What the viewer may do with this incident now, by the same rules as the mutations (who takes each step, the statuses it starts from, the deadline for a redispatch of an accepted incident): show only the buttons that will work.
    async fn viewer_can(&self, ctx: &Context<'_>) -> IncidentViewerCan {
        let a = rules::actions(viewer(ctx).user(), &self.0, crate::core::clock::now());
        IncidentViewerCan {
            resolve_on_site: a.resolve_on_site,
            whistle: a.whistle,
            dispatch: a.dispatch,
            redispatch: a.redispatch,
            accept: a.accept,
            handle: a.handle,
            close: a.close,
            reopen: a.reopen,
        }
    }

    /// The id of the incident.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The grid it was found in.
    async fn grid(&self, ctx: &Context<'_>) -> AppResult<Grid> {
        loader(ctx)?
            .load_one(GridKey(self.0.grid_id))
            .await?
            .map(Grid)
            .ok_or_else(|| AppError::internal("incident without grid"))
    }
    /// The grid's community.
    async fn community(&self, ctx: &Context<'_>) -> AppResult<Community> {
        loader(ctx)?
            .load_one(CommunityKey(self.0.community_id))
            .await?
            .map(Community)
            .ok_or_else(|| AppError::internal("incident without community"))
    }
    /// Where, in words.
    async fn location(&self) -> &str {
        &self.0.location
    }
    /// Which of the five points.
    async fn category(&self) -> IncidentCategory {
        self.0.category.into()
    }
    /// What it is about.
    async fn subject(&self) -> IncidentSubject {
        self.0.subject.into()
    }
    /// What was found.
    async fn description(&self) -> &str {
        &self.0.description
    }
    /// How soon it must be handled.
    async fn urgency(&self) -> IncidentUrgency {
        self.0.urgency.into()
    }
    /// Its status.
    async fn status(&self) -> IncidentStatus {
        self.0.status.into()
    }
    /// Dispatched (or reopened, or accepted) and not handled by its deadline.
    async fn overdue(&self) -> bool {
        self.0.overdue_at(crate::core::clock::now())
    }
    /// The grid worker who reported it (a public office).
    async fn reported_by(&self, ctx: &Context<'_>) -> AppResult<Option<User>> {
        Ok(loader(ctx)?
            .load_one(UserKey(self.0.reported_by))
            .await?
            .map(User::new))
    }
    /// The resident who raised it through the grid worker: shown to that resident, staff of the community and the grid's workers; null for everyone else.
    async fn raised_by(&self, ctx: &Context<'_>) -> AppResult<Option<User>> {
        match self.0.raised_by {
            Some(u) if policy::may_see_raiser(viewer(ctx).user(), &self.0) => {
                Ok(loader(ctx)?.load_one(UserKey(u)).await?.map(User::new))
            }
            _ => Ok(None),
        }
    }
    /// The organisation it is dispatched to.
    async fn organization(&self, ctx: &Context<'_>) -> AppResult<Option<Organization>> {
        match self.0.organization_id {
            None => Ok(None),
            Some(o) => Ok(loader(ctx)?
                .load_one(OrganizationKey(o))
                .await?
                .map(Organization)),
        }
    }
    /// By when the organisation must accept and handle it.
    async fn deadline(&self) -> Option<Timestamp> {
        self.0.deadline.map(Timestamp)
    }
    /// How it was resolved on site, or the organisation's result.
    async fn resolution(&self) -> Option<&str> {
        self.0.resolution.as_deref()
    }
    /// The resident's satisfaction at closing (1–5).
    async fn rating(&self) -> Option<i32> {
        self.0.rating
    }
    /// The 民生实事 project it was adopted as: an activity of the handling unit's agreement.
    async fn project(&self, ctx: &Context<'_>) -> AppResult<Option<AgreementActivity>> {
        Ok(loader(ctx)?
            .load_one(ProjectOf(self.0.id))
            .await?
            .map(AgreementActivity))
    }
    /// Its photos: the report's, then the handling's.
    async fn photos(&self, ctx: &Context<'_>) -> AppResult<Vec<Photo>> {
        Ok(loader(ctx)?
            .load_one(PhotosOfIncident(self.0.id))
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(Photo)
            .collect())
    }
    /// Every step, oldest first, with actor and time.
    async fn history(&self, ctx: &Context<'_>) -> AppResult<Vec<IncidentStep>> {
        Ok(loader(ctx)?
            .load_one(StepsOf(self.0.id))
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(IncidentStep)
            .collect())
    }
    /// When it was reported.
    async fn created_at(&self) -> Timestamp {
        Timestamp(self.0.created_at)
    }
    /// When it last changed.
    async fn updated_at(&self) -> Timestamp {
        Timestamp(self.0.updated_at)
    }
}

/// One step of an incident.
pub struct IncidentStep(pub incident_step::Model);

/// One step of an incident's handling: from which status to which, by whom, when, with what note.
#[Object]
impl IncidentStep {
    /// The status before (null for the report).
    async fn from_status(&self) -> Option<IncidentStatus> {
        self.0.from_status.map(Into::into)
    }
    /// The status after.
    async fn to_status(&self) -> IncidentStatus {
        self.0.to_status.into()
    }
    /// Who took the step.
    async fn actor(&self, ctx: &Context<'_>) -> AppResult<Option<User>> {
        Ok(loader(ctx)?
            .load_one(UserKey(self.0.actor_id))
            .await?
            .map(User::new))
    }
    /// The organisation it concerned (dispatch, acceptance, handling).
    async fn organization(&self, ctx: &Context<'_>) -> AppResult<Option<Organization>> {
        match self.0.organization_id {
            None => Ok(None),
            Some(o) => Ok(loader(ctx)?
                .load_one(OrganizationKey(o))
                .await?
                .map(Organization)),
        }
    }
    /// The note, result or reason given.
    async fn note(&self) -> Option<&str> {
        self.0.note.as_deref()
    }
    /// The photos sent with the step (the report and the handling have them).
    async fn photos(&self, ctx: &Context<'_>) -> AppResult<Vec<Photo>> {
        if !matches!(
            self.0.to_status,
            entity::incident::IncidentStatus::Reported | entity::incident::IncidentStatus::Handled
        ) {
            return Ok(Vec::new());
        }
        Ok(loader(ctx)?
            .load_one(PhotosOfIncident(self.0.incident_id))
            .await?
            .unwrap_or_default()
            .into_iter()
            .filter(|p| p.incident_step_id == Some(self.0.id))
            .map(Photo)
            .collect())
    }
    /// When.
    async fn at(&self) -> Timestamp {
        Timestamp(self.0.created_at)
    }
}

#[derive(Default)]
pub struct IncidentQuery;

#[Object]
impl IncidentQuery {
    /// Incidents the caller may see, newest first unless `orderBy` says otherwise (staff: their communities; grid workers: their grids; a unit's rep: what is dispatched to their organisation; a resident: what they raised).
    #[graphql(complexity = "connection::complexity(child_complexity, first)")]
    async fn incidents(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only this community's.")] community_id: Option<ID>,
        #[graphql(desc = "Only this grid's.")] grid_id: Option<ID>,
        #[graphql(desc = "Only those dispatched to this organisation.")] organization_id: Option<
            ID,
        >,
        #[graphql(desc = "Only in this status.")] status: Option<IncidentStatus>,
        #[graphql(desc = "Only overdue (true) or not overdue (false).")] overdue: Option<bool>,
        #[graphql(
            default_with = "Some(IncidentOrder::Newest)",
            desc = "The order (a cursor belongs to the order it was read in)."
        )]
        order_by: Option<IncidentOrder>,
        #[graphql(desc = "How many items to return (1 to 100, default 20).")] first: Option<i32>,
        #[graphql(
            desc = "Return the items after this cursor (`pageInfo.endCursor` of the previous page)."
        )]
        after: Option<String>,
    ) -> AppResult<Conn<Incident>> {
        let page = Page::new(ctx, first, after.as_deref())?;
        let filter = rules::IncidentFilter {
            community_id: parse_opt_id("communityId", community_id.as_ref())?,
            grid_id: parse_opt_id("gridId", grid_id.as_ref())?,
            organization_id: parse_opt_id("organizationId", organization_id.as_ref())?,
            status: status.map(Into::into),
            overdue,
        };
        let q = rules::list(viewer(ctx).user(), &filter)?;
        let db = db(ctx)?;
        match order_by.unwrap_or_default() {
            IncidentOrder::Newest => {
                connection::paginate(db, q, incident::Column::Id, true, page, |m| m.id, Incident)
                    .await
            }
            IncidentOrder::Deadline => {
                connection::paginate_by_key(
                    db,
                    q,
                    connection::SortKey::Time(incident::Column::Deadline),
                    incident::Column::Id,
                    page,
                    |m| m.id,
                    |m| connection::SortKey::<incident::Column>::of_time(m.deadline),
                    Incident,
                    |q, limit| connection::fetch_models(db, q, limit),
                )
                .await
            }
        }
    }

    /// One incident, if the caller may see it.
    async fn incident(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The incident.")] id: ID,
    ) -> AppResult<Incident> {
        let id = parse_id("id", &id)?;
        let v = viewer(ctx).user();
        if v.is_none() {
            return Err(AppError::unauthenticated());
        }
        let found = incident::Entity::find_by_id(id).one(db(ctx)?).await?;
        match found {
            Some(i) if policy::may_see(v, &i) => Ok(Incident(i)),
            _ => Err(AppError::NotFound("事件不存在")),
        }
    }
}

/// An incident found on a patrol.
#[derive(InputObject)]
pub struct ReportIncidentInput {
    /// The grid (the caller works in it).
    pub grid_id: ID,
    /// Where, in words (up to 200 characters).
    pub location: String,
    /// Which of the five points.
    pub category: IncidentCategory,
    /// What it is about.
    pub subject: IncidentSubject,
    /// What was found (up to 2000 characters).
    pub description: String,
    /// How soon it must be handled (default NORMAL).
    pub urgency: Option<IncidentUrgency>,
    /// The resident who raised it, if it came from one.
    pub raised_by_id: Option<ID>,
    /// Up to 6 photos (JPEG, PNG or WebP, at most 5 MB each), sent as a GraphQL multipart request.
    pub photos: Option<Vec<Upload>>,
    /// Photos uploaded ahead with `POST /uploads` (purpose `INCIDENT_PHOTO`), by id; with `photos`, at most 6 in all.
    pub photo_upload_ids: Option<Vec<ID>>,
}

/// An incident and a note for the step.
#[derive(InputObject)]
pub struct IncidentNoteInput {
    /// The incident.
    pub incident_id: ID,
    /// What was done or why (up to 1000 characters).
    pub note: String,
}

/// Where to send an incident.
#[derive(InputObject)]
pub struct DispatchIncidentInput {
    /// The incident: WHISTLED, DISPATCHED or REOPENED, or ACCEPTED once overdue (a redispatch replaces the unit); an ACCEPTED incident within its deadline is INVALID_STATE.
    pub incident_id: ID,
    /// A street department, or a current member unit of an alliance covering the community.
    pub organization_id: ID,
    /// By when it must be handled (default: 72, 24 or 4 hours by urgency).
    pub deadline: Option<Timestamp>,
}

/// An incident to accept.
#[derive(InputObject)]
pub struct IncidentInput {
    /// The incident.
    pub incident_id: ID,
}

/// The unit's result.
#[derive(InputObject)]
pub struct HandleIncidentInput {
    /// The incident.
    pub incident_id: ID,
    /// What was done (up to 2000 characters; required, or the deprecated `result`): read back as `Incident.resolution`.
    pub resolution: Option<String>,
    /// What was done (up to 2000 characters).
    #[graphql(deprecation = "Use `resolution` (an input field is named as the field it sets).")]
    pub result: Option<String>,
    /// Up to 6 photos of the result (JPEG, PNG or WebP, at most 5 MB each), sent as a GraphQL multipart request.
    pub photos: Option<Vec<Upload>>,
    /// Photos uploaded ahead with `POST /uploads` (purpose `INCIDENT_PHOTO`), by id; with `photos`, at most 6 in all.
    pub photo_upload_ids: Option<Vec<ID>>,
}

/// The resident's confirmation.
#[derive(InputObject)]
pub struct CloseIncidentInput {
    /// The incident.
    pub incident_id: ID,
    /// The resident's satisfaction, 1 to 5.
    pub rating: i32,
    /// A note (optional).
    pub note: Option<String>,
}

/// The incident after the step.
#[derive(SimpleObject)]
pub struct IncidentPayload {
    /// The incident.
    pub incident: Incident,
}

/// A handled incident to adopt as a project.
#[derive(InputObject)]
pub struct AdoptIncidentAsProjectInput {
    /// The incident (HANDLED or CLOSED).
    pub incident_id: ID,
    /// An ACTIVE co-building agreement of the unit that handled it.
    pub agreement_id: ID,
    /// The project's name (default: 民生实事：and the incident's location; up to 100 characters).
    pub title: Option<String>,
    /// How many took part (default 0).
    pub participants: Option<i32>,
}

/// The incident and the activity it was recorded as.
#[derive(SimpleObject)]
pub struct AdoptIncidentAsProjectPayload {
    /// The incident.
    pub incident: Incident,
    /// The agreement's new activity.
    pub activity: AgreementActivity,
}

/// The photos of a report or a handling step: sent with the request or uploaded ahead.
async fn step_photos(
    ctx: &Context<'_>,
    photos: Option<Vec<Upload>>,
    upload_ids: Option<Vec<ID>>,
) -> AppResult<Vec<crate::files::images::Image>> {
    read_photos(
        ctx,
        "photos",
        photos,
        upload_ids,
        crate::files::pending::UploadPurpose::IncidentPhoto,
        MAX_PER_STEP,
    )
    .await
}

#[derive(Default)]
pub struct IncidentMutation;

impl IncidentMutation {
    async fn step(ctx: &Context<'_>, id: &ID, step: Step) -> AppResult<IncidentPayload> {
        let id = parse_id("incidentId", id)?;
        let i = rules::advance(db(ctx)?, events(ctx)?, config(ctx)?, actor(ctx)?, id, step).await?;
        Ok(IncidentPayload {
            incident: Incident(i),
        })
    }
}

#[Object]
impl IncidentMutation {
    /// Reports an incident found in a grid (a grid worker of the grid).
    async fn report_incident(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The fields of the operation.")] input: ReportIncidentInput,
    ) -> AppResult<IncidentPayload> {
        let i = rules::report(
            db(ctx)?,
            events(ctx)?,
            actor(ctx)?,
            rules::NewIncident {
                grid_id: parse_id("gridId", &input.grid_id)?,
                location: input.location,
                category: input.category.into(),
                subject: input.subject.into(),
                description: input.description,
                urgency: input.urgency.unwrap_or(IncidentUrgency::Normal).into(),
                raised_by: parse_opt_id("raisedById", input.raised_by_id.as_ref())?,
                photos: step_photos(ctx, input.photos, input.photo_upload_ids).await?,
            },
        )
        .await?;
        Ok(IncidentPayload {
            incident: Incident(i),
        })
    }

    /// Records that the grid worker solved a REPORTED incident on the spot (就地解决).
    async fn resolve_incident_on_site(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The fields of the operation.")] input: IncidentNoteInput,
    ) -> AppResult<IncidentPayload> {
        Self::step(
            ctx,
            &input.incident_id,
            Step::ResolveOnSite { note: input.note },
        )
        .await
    }

    /// Escalates a REPORTED incident to the street (吹哨; a grid worker of the grid).
    async fn whistle_incident(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The fields of the operation.")] input: IncidentNoteInput,
    ) -> AppResult<IncidentPayload> {
        Self::step(ctx, &input.incident_id, Step::Whistle { note: input.note }).await
    }

    /// Sends a whistled (or overdue, or reopened) incident to an organisation with a deadline (staff of the community).
    async fn dispatch_incident(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The fields of the operation.")] input: DispatchIncidentInput,
    ) -> AppResult<IncidentPayload> {
        let organization_id = parse_id("organizationId", &input.organization_id)?;
        Self::step(
            ctx,
            &input.incident_id,
            Step::Dispatch {
                organization_id,
                deadline: input.deadline.map(|d| d.0),
            },
        )
        .await
    }

    /// Takes a dispatched incident for the organisation (报到; a UNIT_REP of it). Of two reps accepting at once, one succeeds and the other gets CONFLICT.
    async fn accept_incident(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The fields of the operation.")] input: IncidentInput,
    ) -> AppResult<IncidentPayload> {
        Self::step(ctx, &input.incident_id, Step::Accept).await
    }

    /// Records the organisation's result (a UNIT_REP of it).
    async fn handle_incident(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The fields of the operation.")] input: HandleIncidentInput,
    ) -> AppResult<IncidentPayload> {
        Self::step(
            ctx,
            &input.incident_id,
            Step::Handle {
                result: crate::core::validate::renamed_required(
                    "resolution",
                    input.resolution,
                    "result",
                    input.result,
                )?,
                photos: step_photos(ctx, input.photos, input.photo_upload_ids).await?,
            },
        )
        .await
    }

    /// Closes a handled incident after confirming with the resident (a grid worker of the grid), with their satisfaction.
    async fn close_incident(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The fields of the operation.")] input: CloseIncidentInput,
    ) -> AppResult<IncidentPayload> {
        Self::step(
            ctx,
            &input.incident_id,
            Step::Close {
                rating: input.rating,
                note: input.note,
            },
        )
        .await
    }

    /// Records a HANDLED or CLOSED incident as a 民生实事 project: an activity, held today, of an ACTIVE agreement of the unit that handled it (the unit's rep, or staff of the community). Once per incident.
    async fn adopt_incident_as_project(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The fields of the operation.")] input: AdoptIncidentAsProjectInput,
    ) -> AppResult<AdoptIncidentAsProjectPayload> {
        let (i, a) = adoption::adopt(
            db(ctx)?,
            actor(ctx)?,
            adoption::Adoption {
                incident_id: parse_id("incidentId", &input.incident_id)?,
                agreement_id: parse_id("agreementId", &input.agreement_id)?,
                title: input.title,
                participants: input.participants.unwrap_or(0),
            },
        )
        .await?;
        Ok(AdoptIncidentAsProjectPayload {
            incident: Incident(i),
            activity: AgreementActivity(a),
        })
    }

    /// Sends a handled incident back to its organisation with a new deadline (a grid worker of the grid).
    async fn reopen_incident(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The fields of the operation.")] input: IncidentNoteInput,
    ) -> AppResult<IncidentPayload> {
        Self::step(ctx, &input.incident_id, Step::Reopen { note: input.note }).await
    }
}
