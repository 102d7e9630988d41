//! The rules of incidents: every step is a conditional update from the statuses it may start
//! from (so of two concurrent steps one wins), written with its history step in one
//! transaction. A step refused because another just won is CONFLICT; a step from a wrong
//! status is INVALID_STATE.

use chrono::{DateTime, Duration, Utc};
use entity::{
    alliance,
    alliance::AllianceScope,
    alliance_member, community, grid, incident,
    incident::{IncidentCategory, IncidentStatus, IncidentSubject, IncidentUrgency},
    incident_step, organization,
    organization::OrganizationKind,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, DatabaseConnection,
    DatabaseTransaction, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect, sea_query::Expr,
};

use crate::auth::AuthUser;
use crate::core::bus::Bus;
use crate::core::config::Config;
use crate::core::db::{self, get};
use crate::core::error::{AppError, AppResult, ErrorReason};
use crate::core::validate;
use crate::files::images::Image;
use crate::files::rules as files;
use crate::incident::events::{IncidentChanged, IncidentEventKind};
use crate::incident::policy;

/// A new incident, as the grid worker reports it.
pub struct NewIncident {
    pub grid_id: i64,
    pub location: String,
    pub category: IncidentCategory,
    pub subject: IncidentSubject,
    pub description: String,
    pub urgency: IncidentUrgency,
    /// The resident who raised it, if it came from one.
    pub raised_by: Option<i64>,
    /// Checked photos (at most 6).
    pub photos: Vec<Image>,
}

/// Reports an incident found in a grid (a grid worker of the grid).
pub async fn report(
    db: &DatabaseConnection,
    events: &Bus,
    actor: &AuthUser,
    input: NewIncident,
) -> AppResult<incident::Model> {
    let grid = get::<grid::Entity, _>(db, input.grid_id, "网格不存在").await?;
    if !policy::may_work_grid(actor, grid.id) {
        return Err(AppError::forbidden());
    }
    let location = validate::text("location", &input.location, 200)?;
    let description = validate::text("description", &input.description, 2000)?;
    if let Some(r) = input.raised_by {
        if r == actor.id() {
            return Err(AppError::bad_field("raisedById", "提出人应为居民本人"));
        }
        // The raiser is a resident of the grid's community: anyone else would be given
        // sight of the incident by being named.
        let raiser = crate::auth::load_auth_user(db, r)
            .await
            .map_err(|_| AppError::bad_field("raisedById", "提出人不存在"))?;
        if !raiser.has_role(entity::role_assignment::Role::Resident)
            || !raiser.belongs_to(grid.community_id)
        {
            return Err(AppError::bad_field(
                "raisedById",
                "提出人须为本网格所在社区的居民",
            ));
        }
    }
    let now = crate::core::clock::now();
    let txn = db::begin_write(db).await?;
    let created = incident::ActiveModel {
        grid_id: Set(grid.id),
        community_id: Set(grid.community_id),
        location: Set(location),
        category: Set(input.category),
        subject: Set(input.subject),
        description: Set(description),
        urgency: Set(input.urgency),
        reported_by: Set(actor.id()),
        raised_by: Set(input.raised_by),
        status: Set(IncidentStatus::Reported),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let first = step_row(&created, None, actor, None).insert(&txn).await?;
    store_photos(&txn, &created, first.id, actor, input.photos).await?;
    txn.commit().await?;
    publish(db, events, &created, IncidentEventKind::Reported).await;
    Ok(created)
}

/// One step of the machine: what it sets, and its history note.
pub enum Step {
    /// 就地解决 (a grid worker of the grid).
    ResolveOnSite { note: String },
    /// 吹哨: escalated to the street (a grid worker of the grid).
    Whistle { note: String },
    /// 派单 to an organisation with a deadline (staff of the community).
    Dispatch {
        organization_id: i64,
        deadline: Option<DateTime<Utc>>,
    },
    /// 报到: the unit takes it (a rep of the organisation).
    Accept,
    /// The unit's result, with checked photos (a rep of the organisation).
    Handle { result: String, photos: Vec<Image> },
    /// Confirmed with the resident (a grid worker of the grid).
    Close { rating: i32, note: Option<String> },
    /// Not solved: back to the unit with a new deadline (a grid worker of the grid).
    Reopen { note: String },
}

impl Step {
    fn to(&self) -> IncidentStatus {
        match self {
            Step::ResolveOnSite { .. } => IncidentStatus::ResolvedOnSite,
            Step::Whistle { .. } => IncidentStatus::Whistled,
            Step::Dispatch { .. } => IncidentStatus::Dispatched,
            Step::Accept => IncidentStatus::Accepted,
            Step::Handle { .. } => IncidentStatus::Handled,
            Step::Close { .. } => IncidentStatus::Closed,
            Step::Reopen { .. } => IncidentStatus::Reopened,
        }
    }

    fn verb(&self) -> &'static str {
        match self {
            Step::ResolveOnSite { .. } => "就地解决",
            Step::Whistle { .. } => "吹哨上报",
            Step::Dispatch { .. } => "派单",
            Step::Accept => "报到接单",
            Step::Handle { .. } => "办结",
            Step::Close { .. } => "关闭",
            Step::Reopen { .. } => "重新打开",
        }
    }
}

fn deadline_after(config: &Config, urgency: IncidentUrgency, from: DateTime<Utc>) -> DateTime<Utc> {
    let hours = match urgency {
        IncidentUrgency::Normal => config.incident_deadline_hours[0],
        IncidentUrgency::Urgent => config.incident_deadline_hours[1],
        IncidentUrgency::Critical => config.incident_deadline_hours[2],
    };
    from + Duration::hours(hours)
}

/// The steps open to a viewer now, by the same conditions as [`advance`]: who may take each
/// step (`policy::may_step`), the statuses it starts from (`policy::steps_from`), and for a
/// dispatch of an ACCEPTED incident its deadline having passed.
pub struct Actions {
    pub resolve_on_site: bool,
    pub whistle: bool,
    /// A first dispatch (from WHISTLED).
    pub dispatch: bool,
    /// A dispatch again (DISPATCHED, REOPENED, or ACCEPTED and overdue).
    pub redispatch: bool,
    pub accept: bool,
    pub handle: bool,
    pub close: bool,
    pub reopen: bool,
}

pub fn actions(viewer: Option<&AuthUser>, i: &incident::Model, now: DateTime<Utc>) -> Actions {
    let can = |to: IncidentStatus| {
        viewer.is_some_and(|v| policy::may_see(Some(v), i) && policy::may_step(v, i, to))
            && policy::steps_from(to).contains(&i.status)
            && (to != IncidentStatus::Dispatched
                || i.status != IncidentStatus::Accepted
                || i.deadline.is_some_and(|d| d < now))
    };
    let dispatch = can(IncidentStatus::Dispatched);
    Actions {
        resolve_on_site: can(IncidentStatus::ResolvedOnSite),
        whistle: can(IncidentStatus::Whistled),
        dispatch: dispatch && i.status == IncidentStatus::Whistled,
        redispatch: dispatch && i.status != IncidentStatus::Whistled,
        accept: can(IncidentStatus::Accepted),
        handle: can(IncidentStatus::Handled),
        close: can(IncidentStatus::Closed),
        reopen: can(IncidentStatus::Reopened),
    }
}

/// Takes one step of an incident, checked against its policy, as a conditional update.
pub async fn advance(
    db: &DatabaseConnection,
    events: &Bus,
    config: &Config,
    actor: &AuthUser,
    incident_id: i64,
    step_: Step,
) -> AppResult<incident::Model> {
    let current = get::<incident::Entity, _>(db, incident_id, "事件不存在").await?;
    if !policy::may_see(Some(actor), &current) {
        return Err(AppError::NotFound("事件不存在"));
    }
    let to = step_.to();
    if !policy::may_step(actor, &current, to) {
        return Err(AppError::forbidden());
    }
    let now = crate::core::clock::now();
    let mut sets: Vec<(incident::Column, Expr)> = vec![
        (incident::Column::Status, Expr::value(to)),
        (incident::Column::UpdatedAt, Expr::value(now)),
    ];
    // Only the unit it is dispatched to now may accept or handle: a redispatch in between
    // makes the rep's step a wrong state.
    let mut also = Condition::all();
    let mut organization = None;
    let note: Option<String> = match &step_ {
        Step::ResolveOnSite { note } => {
            let note = validate::text("note", note, 1000)?;
            sets.push((incident::Column::Resolution, Expr::value(note.clone())));
            Some(note)
        }
        Step::Whistle { note } | Step::Reopen { note } => Some(validate::text("note", note, 1000)?),
        Step::Dispatch {
            organization_id,
            deadline,
        } => {
            check_dispatch_target(db, &current, *organization_id).await?;
            let deadline = match deadline {
                Some(d) if *d <= now => {
                    return Err(AppError::bad_field("deadline", "期限须晚于现在"));
                }
                Some(d) => *d,
                None => deadline_after(config, current.urgency, now),
            };
            sets.push((
                incident::Column::OrganizationId,
                Expr::value(*organization_id),
            ));
            sets.push((incident::Column::Deadline, Expr::value(deadline)));
            // A new dispatch has a new deadline: its overdue is announced anew.
            sets.push((
                incident::Column::OverdueNotifiedAt,
                Expr::value(Option::<DateTime<Utc>>::None),
            ));
            organization = Some(*organization_id);
            None
        }
        Step::Accept => {
            also = also.add(incident::Column::OrganizationId.eq(current.organization_id));
            organization = current.organization_id;
            None
        }
        Step::Handle { result, .. } => {
            let result = validate::text("result", result, 2000)?;
            sets.push((incident::Column::Resolution, Expr::value(result.clone())));
            also = also.add(incident::Column::OrganizationId.eq(current.organization_id));
            organization = current.organization_id;
            Some(result)
        }
        Step::Close { rating, note } => {
            if !(1..=5).contains(rating) {
                return Err(AppError::bad_field("rating", "满意度须为 1–5"));
            }
            sets.push((incident::Column::Rating, Expr::value(*rating)));
            match note {
                Some(n) if !n.trim().is_empty() => Some(validate::text("note", n, 1000)?),
                _ => None,
            }
        }
    };
    if let Step::Reopen { .. } = step_ {
        // Back to the same unit, with a new deadline of the incident's urgency.
        sets.push((
            incident::Column::Deadline,
            Expr::value(deadline_after(config, current.urgency, now)),
        ));
        sets.push((
            incident::Column::OverdueNotifiedAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        ));
        organization = current.organization_id;
    }
    let from = policy::steps_from(to);
    if matches!(step_, Step::Dispatch { .. }) {
        // An ACCEPTED incident is redispatched only once it is overdue (`may_redispatch`).
        also = also.add(
            Condition::any()
                .add(incident::Column::Status.ne(IncidentStatus::Accepted))
                .add(incident::Column::Deadline.lt(now)),
        );
    }
    let txn = db::begin_write(db).await?;
    // The status the step starts from is read inside the write transaction, under the row's
    // lock (PostgreSQL: FOR UPDATE; SQLite: the transaction is IMMEDIATE, one writer), so the
    // history's steps chain whatever runs at once: each step's from is the previous one's to.
    let mut locked = incident::Entity::find_by_id(incident_id);
    if db.get_database_backend() == sea_orm::DbBackend::Postgres {
        locked = locked.lock_exclusive();
    }
    let Some(locked) = locked.one(&txn).await? else {
        return Err(AppError::NotFound("事件不存在"));
    };
    let mut q = incident::Entity::update_many()
        .filter(incident::Column::Id.eq(incident_id))
        .filter(incident::Column::Status.is_in(from.iter().copied()))
        .filter(also);
    for (col, expr) in sets {
        q = q.col_expr(col, expr);
    }
    let Some(updated) = q.exec_with_returning(&txn).await?.pop() else {
        drop(txn);
        return Err(refusal(db, incident_id, &current, &step_).await?);
    };
    let mut step_row = step_row(&updated, Some(locked.status), actor, note);
    step_row.organization_id = Set(organization);
    let taken = step_row.insert(&txn).await?;
    if let Step::Handle { photos, .. } = step_ {
        store_photos(&txn, &updated, taken.id, actor, photos).await?;
    }
    let notice = match updated.status {
        IncidentStatus::Dispatched => super::notices::dispatched(&updated),
        IncidentStatus::Handled => Some(super::notices::handled(&updated)),
        IncidentStatus::Reopened => super::notices::reopened(&updated),
        _ => None,
    };
    let told = match notice {
        Some((to, message)) => crate::notify::outbox::enqueue(&txn, to, &message).await?,
        None => Default::default(),
    };
    txn.commit().await?;
    publish(db, events, &updated, IncidentEventKind::of(updated.status)).await;
    crate::notify::outbox::announce(db, events, told).await;
    Ok(updated)
}

/// Why a conditional step did not apply: another step won the race since the incident was
/// read (CONFLICT), or it was never in a state to take it (INVALID_STATE).
async fn refusal(
    db: &DatabaseConnection,
    incident_id: i64,
    before: &incident::Model,
    step_: &Step,
) -> AppResult<AppError> {
    let now = get::<incident::Entity, _>(db, incident_id, "事件不存在").await?;
    let from = policy::steps_from(step_.to());
    let raced = from.contains(&before.status) && now.status != before.status;
    let duplicate = now.status == step_.to() && matches!(step_, Step::Accept);
    Ok(if duplicate {
        // The same step again (a retried acceptance): it is done, by this unit.
        AppError::conflict(
            ErrorReason::IncidentAlreadyAccepted,
            "事件已接单，无需重复操作",
        )
    } else if raced {
        AppError::conflict(
            ErrorReason::IncidentChangedMeanwhile,
            format!("事件已被他人处理，不能{}", step_.verb()),
        )
    } else if matches!(step_, Step::Handle { .. })
        && now.status == entity::incident::IncidentStatus::Dispatched
    {
        AppError::invalid_state(
            ErrorReason::IncidentNotAcceptedYet,
            "事件尚未接单，不能办结",
        )
    } else {
        AppError::invalid_state(
            ErrorReason::IncidentWrongStatus,
            format!("事件当前状态不能{}", step_.verb()),
        )
    })
}

/// An organisation an incident of this community may be dispatched to: a street department
/// (GOVERNMENT_DEPARTMENT), or a current member of an alliance covering the community (a
/// community alliance there, or a street alliance of its street).
async fn check_dispatch_target(
    db: &DatabaseConnection,
    i: &incident::Model,
    organization_id: i64,
) -> AppResult<()> {
    let org = get::<organization::Entity, _>(db, organization_id, "组织不存在").await?;
    if org.kind == OrganizationKind::GovernmentDepartment {
        return Ok(());
    }
    let community = get::<community::Entity, _>(db, i.community_id, "社区不存在").await?;
    let today = validate::today();
    let covering = alliance::Entity::find()
        .filter(
            Condition::any()
                .add(
                    Condition::all()
                        .add(alliance::Column::Scope.eq(AllianceScope::Community))
                        .add(alliance::Column::CommunityId.eq(community.id)),
                )
                .add(
                    Condition::all()
                        .add(alliance::Column::Scope.eq(AllianceScope::Street))
                        .add(alliance::Column::StreetId.eq(community.street_id)),
                ),
        )
        .all(db)
        .await?
        .into_iter()
        .map(|a| a.id)
        .collect::<Vec<_>>();
    let member = alliance_member::Entity::find()
        .filter(alliance_member::Column::AllianceId.is_in(covering))
        .filter(alliance_member::Column::OrganizationId.eq(organization_id))
        .filter(alliance_member::Column::JoinedOn.lte(today))
        .filter(
            Condition::any()
                .add(alliance_member::Column::LeftOn.is_null())
                .add(alliance_member::Column::LeftOn.gte(today)),
        )
        .count(db)
        .await?;
    if member == 0 {
        return Err(AppError::bad_field(
            "organizationId",
            "只能派给街道部门或覆盖本社区的党建联盟现有成员单位",
        ));
    }
    Ok(())
}

fn step_row(
    i: &incident::Model,
    from: Option<IncidentStatus>,
    actor: &AuthUser,
    note: Option<String>,
) -> incident_step::ActiveModel {
    incident_step::ActiveModel {
        incident_id: Set(i.id),
        from_status: Set(from),
        to_status: Set(i.status),
        actor_id: Set(actor.id()),
        organization_id: Set(i.organization_id),
        note: Set(note),
        created_at: Set(crate::core::clock::now()),
        ..Default::default()
    }
}

async fn store_photos(
    txn: &DatabaseTransaction,
    i: &incident::Model,
    step_id: i64,
    actor: &AuthUser,
    photos: Vec<Image>,
) -> AppResult<()> {
    if photos.len() > files::MAX_PER_STEP {
        return Err(AppError::bad_field("photos", "最多 6 张照片"));
    }
    files::store(
        txn,
        files::Attach::IncidentStep {
            incident_id: i.id,
            step_id,
        },
        actor,
        photos,
    )
    .await
}

/// Filters of the `incidents` list.
#[derive(Default)]
pub struct IncidentFilter {
    pub community_id: Option<i64>,
    pub grid_id: Option<i64>,
    pub organization_id: Option<i64>,
    pub status: Option<IncidentStatus>,
    pub overdue: Option<bool>,
}

/// The incidents the viewer may see, narrowed by the filters.
pub fn list(
    viewer: Option<&AuthUser>,
    f: &IncidentFilter,
) -> AppResult<sea_orm::Select<incident::Entity>> {
    let scope = policy::visible(viewer).ok_or_else(AppError::unauthenticated)?;
    let mut q = incident::Entity::find().filter(scope);
    if let Some(c) = f.community_id {
        q = q.filter(incident::Column::CommunityId.eq(c));
    }
    if let Some(g) = f.grid_id {
        q = q.filter(incident::Column::GridId.eq(g));
    }
    if let Some(o) = f.organization_id {
        q = q.filter(incident::Column::OrganizationId.eq(o));
    }
    if let Some(s) = f.status {
        q = q.filter(incident::Column::Status.eq(s));
    }
    if let Some(overdue) = f.overdue {
        let cond = overdue_condition(crate::core::clock::now());
        q = q.filter(if overdue { cond } else { cond.not() });
    }
    Ok(q)
}

/// Overdue as a filter: dispatched, reopened or accepted, past the deadline.
pub fn overdue_condition(now: DateTime<Utc>) -> Condition {
    Condition::all()
        .add(incident::Column::Status.is_in([
            IncidentStatus::Dispatched,
            IncidentStatus::Reopened,
            IncidentStatus::Accepted,
        ]))
        .add(incident::Column::Deadline.lt(now))
}

async fn publish(
    db: &DatabaseConnection,
    events: &Bus,
    i: &incident::Model,
    kind: IncidentEventKind,
) {
    events
        .publish(
            db,
            IncidentChanged {
                kind,
                incident_id: i.id,
            },
        )
        .await;
}

/// A key of PostgreSQL's advisory locks, held while one instance runs the overdue job.
const OVERDUE_LOCK: i64 = 0x6c69_616e_7869_6e01;

/// Runs of the overdue job in this process (SQLite serves one instance).
static OVERDUE_RUNNING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The overdue job: marks every incident that is overdue at `now` and not yet announced for
/// its current dispatch, and publishes one OVERDUE event for each. Only one runner at a time:
/// a PostgreSQL advisory lock across instances (another holder: this run does nothing), a
/// lock in the process on SQLite. The marking is a conditional update, so even two runners
/// could not announce one incident twice. Returns the incidents announced.
pub async fn announce_overdue(
    db: &DatabaseConnection,
    events: &Bus,
    now: DateTime<Utc>,
) -> AppResult<Vec<i64>> {
    use sea_orm::TransactionTrait;
    let Ok(_running) = OVERDUE_RUNNING.try_lock() else {
        return Ok(Vec::new());
    };
    let txn = db.begin().await?;
    if !db::try_job_lock(&txn, OVERDUE_LOCK).await? {
        return Ok(Vec::new());
    }
    let marked = incident::Entity::update_many()
        .col_expr(incident::Column::OverdueNotifiedAt, Expr::value(now))
        .filter(overdue_condition(now))
        .filter(incident::Column::OverdueNotifiedAt.is_null())
        .exec_with_returning(&txn)
        .await?;
    let mut told = Vec::new();
    for i in &marked {
        if let Some((to, message)) = super::notices::overdue(i) {
            told.push(crate::notify::outbox::enqueue(&txn, to, &message).await?);
        }
    }
    txn.commit().await?;
    crate::notify::outbox::announce_all(db, events, told).await;
    for i in &marked {
        publish(db, events, i, IncidentEventKind::Overdue).await;
    }
    Ok(marked.iter().map(|i| i.id).collect())
}

/// Runs [`announce_overdue`] every minute for the life of the server.
pub fn spawn_overdue_job(db: DatabaseConnection, events: Bus) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
        loop {
            tick.tick().await;
            if let Err(e) = announce_overdue(&db, &events, crate::core::clock::now()).await {
                tracing::warn!(error = %e.message(), "overdue incidents not announced");
            }
        }
    });
}
