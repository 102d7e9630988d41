//! Micro-wishes (微心愿): submitted for a resident, reviewed by staff, claimed by exactly one
//! party member at a time, fulfilled, and confirmed with points for the claimant.

use crate::notify::outbox as notify;
use chrono::NaiveDate;
use entity::{
    grid,
    ledger_entry::{EntryKind, EntrySource},
    role_assignment::Role,
    user, wish,
    wish::{WishCategory, WishStatus},
    wish_claim,
    wish_claim::ClaimStatus,
};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, Condition, DatabaseConnection, DatabaseTransaction, DbBackend, EntityTrait,
    PaginatorTrait, QueryFilter, QuerySelect,
    sea_query::{Expr, ExprTrait, SubQueryStatement},
};

use super::events::{WishChanged, WishEventKind};
use crate::auth::AuthUser;
use crate::bank::rules as bank;
use crate::core::bus::Bus;
use crate::core::config::Config;
use crate::core::db;
use crate::core::db::get;
use crate::core::error::AppError;
use crate::core::error::AppResult;
use crate::core::error::ErrorReason;
use crate::core::validate;

/// The statuses a wish may be cancelled from (the cancellation's condition and `viewerCan`).
pub const CANCEL_FROM: [WishStatus; 3] = [
    WishStatus::PendingReview,
    WishStatus::Published,
    WishStatus::Claimed,
];

/// What a viewer may do with a wish now, by the same conditions as the mutations: the roles
/// and people each mutation admits, the statuses its conditional update starts from (and the
/// deadline where it checks one), and for a claim the member's cap (`active_claims`: the
/// viewer's claims in force). `grid_worker`: the viewer works the wish's grid (or its parent).
pub struct Actions {
    pub claim: bool,
    pub release: bool,
    pub fulfil: bool,
    pub confirm: bool,
    pub cancel: bool,
}

pub fn actions(
    viewer: Option<&AuthUser>,
    w: &wish::Model,
    grid_worker: bool,
    active_claims: u64,
    config: &Config,
) -> Actions {
    let Some(me) = viewer else {
        return Actions {
            claim: false,
            release: false,
            fulfil: false,
            confirm: false,
            cancel: false,
        };
    };
    let effective = effective_status(w, validate::today());
    let mine = w.claimant_id == Some(me.id());
    Actions {
        claim: me.has_role(Role::PartyMember)
            && effective == EffectiveStatus::Stored(WishStatus::Published)
            && w.submitted_by != me.id()
            && w.beneficiary_user_id != Some(me.id())
            && active_claims < config.max_active_claims,
        release: mine && w.status == WishStatus::Claimed,
        fulfil: mine && effective == EffectiveStatus::Stored(WishStatus::Claimed),
        confirm: (w.beneficiary_user_id == Some(me.id()) || grid_worker)
            && w.status == WishStatus::Fulfilled
            && w.claimant_id.is_some(),
        cancel: super::policy::may_cancel(me, w) && CANCEL_FROM.contains(&w.status),
    }
}

/// The status a wish reads as: EXPIRED once past its deadline and not fulfilled.
pub fn effective_status(w: &wish::Model, today: NaiveDate) -> EffectiveStatus {
    let expired =
        w.deadline.is_some_and(|d| d < today) && WishStatus::EXPIRABLE.contains(&w.status);
    if expired {
        EffectiveStatus::Expired
    } else {
        EffectiveStatus::Stored(w.status)
    }
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum EffectiveStatus {
    Stored(WishStatus),
    Expired,
}

/// Filter for wishes that read as `status` today.
pub fn status_condition(status: Option<WishStatus>, expired: bool, today: NaiveDate) -> Condition {
    let not_expired = Condition::any()
        .add(wish::Column::Deadline.is_null())
        .add(wish::Column::Deadline.gte(today));
    if expired {
        return Condition::all()
            .add(wish::Column::Status.is_in(WishStatus::EXPIRABLE))
            .add(wish::Column::Deadline.lt(today));
    }
    match status {
        None => Condition::all(),
        Some(s) if WishStatus::EXPIRABLE.contains(&s) => Condition::all()
            .add(wish::Column::Status.eq(s))
            .add(not_expired),
        Some(s) => Condition::all().add(wish::Column::Status.eq(s)),
    }
}

pub struct NewWish {
    pub grid_id: i64,
    pub title: String,
    pub description: String,
    pub category: WishCategory,
    pub estimated_value: i32,
    pub deadline: Option<NaiveDate>,
    /// Set by a grid worker for a resident without the app.
    pub beneficiary_name: Option<String>,
    pub beneficiary_user_id: Option<i64>,
    pub beneficiary_phone: Option<String>,
    pub beneficiary_address: Option<String>,
}

/// A resident submits a wish for themself, or a grid worker for a resident of their grid.
pub async fn submit(
    db: &DatabaseConnection,
    config: &Config,
    actor: &AuthUser,
    input: NewWish,
) -> AppResult<wish::Model> {
    let grid = get::<grid::Entity, _>(db, input.grid_id, "网格不存在").await?;
    let worker = actor.is_worker_of(&grid) || actor.is_staff_of(grid.community_id);
    let resident = actor
        .roles
        .iter()
        .any(|r| r.role == Role::Resident && r.community_id == Some(grid.community_id));
    if !worker && !resident {
        return Err(AppError::Forbidden(
            "只有本社区居民或本网格网格员可以提交心愿",
        ));
    }
    let title = validate::text("title", &input.title, 50)?;
    let description = validate::text("description", &input.description, 1000)?;
    if !(0..=config.max_wish_value).contains(&input.estimated_value) {
        return Err(AppError::bad_field(
            "estimatedValue",
            format!("心愿估值须在 0 到 {} 元之间", config.max_wish_value),
        ));
    }
    if input.deadline.is_some_and(|d| d < validate::today()) {
        return Err(AppError::bad_field("deadline", "截止日期不能早于今天"));
    }
    let phone = validate::opt_phone(input.beneficiary_phone.as_deref())?;
    let address = validate::opt_text(
        "beneficiaryAddress",
        input.beneficiary_address.as_deref(),
        200,
    )?;
    let (beneficiary_user_id, name, phone) = if worker {
        match input.beneficiary_user_id {
            Some(uid) => {
                let u = get::<user::Entity, _>(db, uid, "受益人账号不存在").await?;
                let name =
                    validate::opt_text("beneficiaryName", input.beneficiary_name.as_deref(), 30)?
                        .unwrap_or(u.display_name.clone());
                (Some(u.id), name, phone.or(u.phone))
            }
            None => {
                let name = validate::text(
                    "beneficiaryName",
                    input.beneficiary_name.as_deref().unwrap_or(""),
                    30,
                )?;
                (None, name, phone)
            }
        }
    } else {
        if input.beneficiary_user_id.is_some_and(|u| u != actor.id()) {
            return Err(AppError::Forbidden("居民只能为自己提交心愿"));
        }
        let name = validate::opt_text("beneficiaryName", input.beneficiary_name.as_deref(), 30)?
            .unwrap_or(actor.user.display_name.clone());
        (Some(actor.id()), name, phone.or(actor.user.phone.clone()))
    };
    let now = crate::core::clock::now();
    Ok(wish::ActiveModel {
        community_id: Set(grid.community_id),
        grid_id: Set(grid.id),
        title: Set(title),
        description: Set(description),
        category: Set(input.category),
        submitted_by: Set(actor.id()),
        beneficiary_user_id: Set(beneficiary_user_id),
        beneficiary_name: Set(name),
        beneficiary_phone: Set(phone),
        beneficiary_address: Set(address),
        estimated_value: Set(input.estimated_value),
        deadline: Set(input.deadline),
        status: Set(WishStatus::PendingReview),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?)
}

/// Moves a wish from one of `from` to a new state with a conditional update; `false` if the
/// wish was not in one of those states (or expired) any more.
async fn transition(
    txn: &DatabaseTransaction,
    wish_id: i64,
    from: &[WishStatus],
    check_deadline: bool,
    sets: Vec<(wish::Column, Expr)>,
) -> AppResult<Option<wish::Model>> {
    transition_if(txn, wish_id, from, check_deadline, sets, Condition::all()).await
}

/// The conditional update of a wish from one of `from` (and within its deadline when
/// `check_deadline`), also only where `also` holds; the updated row (RETURNING), or `None`
/// when the condition did not hold.
async fn transition_if(
    txn: &DatabaseTransaction,
    wish_id: i64,
    from: &[WishStatus],
    check_deadline: bool,
    sets: Vec<(wish::Column, Expr)>,
    also: Condition,
) -> AppResult<Option<wish::Model>> {
    let mut q = wish::Entity::update_many()
        .filter(also)
        .col_expr(
            wish::Column::UpdatedAt,
            Expr::value(crate::core::clock::now()),
        )
        .filter(wish::Column::Id.eq(wish_id))
        .filter(wish::Column::Status.is_in(from.iter().copied()));
    if check_deadline {
        let today = validate::today();
        q = q.filter(
            Condition::any()
                .add(wish::Column::Deadline.is_null())
                .add(wish::Column::Deadline.gte(today)),
        );
    }
    for (col, expr) in sets {
        q = q.col_expr(col, expr);
    }
    Ok(q.exec_with_returning(txn).await?.pop())
}

fn state_error(w: &wish::Model, action: &str) -> AppError {
    match effective_status(w, validate::today()) {
        EffectiveStatus::Expired => AppError::invalid_state(
            ErrorReason::WishExpired,
            format!("心愿已过期，不能{action}"),
        ),
        _ => AppError::invalid_state(
            ErrorReason::WishWrongStatus,
            format!("心愿当前状态不能{action}"),
        ),
    }
}

async fn reload(db: &DatabaseConnection, id: i64) -> AppResult<wish::Model> {
    get::<wish::Entity, _>(db, id, "心愿不存在").await
}

pub enum Review {
    Publish,
    Reject { reason: String },
}

/// Staff of the wish's community publish or reject it.
pub async fn review(
    db: &DatabaseConnection,
    events: &Bus,
    actor: &AuthUser,
    wish_id: i64,
    decision: Review,
) -> AppResult<wish::Model> {
    let w = reload(db, wish_id).await?;
    if !actor.is_staff_of(w.community_id) {
        return Err(AppError::forbidden());
    }
    let mut sets = vec![
        (wish::Column::ReviewedBy, Expr::value(actor.id())),
        (
            wish::Column::ReviewedAt,
            Expr::value(crate::core::clock::now()),
        ),
    ];
    match decision {
        Review::Publish => sets.push((wish::Column::Status, Expr::value(WishStatus::Published))),
        Review::Reject { reason } => {
            let reason = validate::text("reason", &reason, 200)?;
            sets.push((wish::Column::Status, Expr::value(WishStatus::Rejected)));
            sets.push((wish::Column::ReviewReason, Expr::value(reason)));
        }
    }
    let txn = db::begin_write(db).await?;
    let Some(w) = transition(&txn, w.id, &[WishStatus::PendingReview], true, sets).await? else {
        return Err(state_error(&w, "审核"));
    };
    txn.commit().await?;
    if w.status == WishStatus::Published {
        events
            .publish(db, WishChanged::of(WishEventKind::Published, &w))
            .await;
    }
    Ok(w)
}

/// A party member claims a published wish. Exactly one active claim per wish under any
/// concurrency: the conditional update decides, the partial unique index backs it.
pub async fn claim(
    db: &DatabaseConnection,
    events: &Bus,
    config: &Config,
    actor: &AuthUser,
    wish_id: i64,
) -> AppResult<wish::Model> {
    if !actor.has_role(Role::PartyMember) {
        return Err(AppError::Forbidden("只有党员可以认领心愿"));
    }
    // The wish is not read first: the conditional update below holds every condition of a
    // claim (state, deadline, not one's own, the member's cap), and only a refused claim reads
    // the wish to say why. A claim costs the viewer, the update and its claim row (and on
    // PostgreSQL the member's lock and the notification).
    let txn = db::begin_write(db).await?;
    if db.get_database_backend() == DbBackend::Postgres {
        // Serialise one member's claims so the active-claim cap holds under concurrency.
        user::Entity::find_by_id(actor.id())
            .lock_exclusive()
            .one(&txn)
            .await?;
    }
    // The cap is part of the update's condition: on PostgreSQL the lock above has made every
    // earlier claim of this member visible to this statement; on SQLite the write lock has.
    let cap = i64::try_from(config.max_active_claims).unwrap_or(i64::MAX);
    let conditions = Condition::all()
        .add(wish::Column::SubmittedBy.ne(actor.id()))
        .add(
            Condition::any()
                .add(wish::Column::BeneficiaryUserId.is_null())
                .add(wish::Column::BeneficiaryUserId.ne(actor.id())),
        )
        .add(
            Expr::SubQuery(
                None,
                Box::new(SubQueryStatement::SelectStatement(
                    sea_orm::sea_query::Query::select()
                        .expr(Expr::col(wish_claim::Column::Id).count())
                        .from(wish_claim::Entity)
                        .and_where(wish_claim::Column::MemberId.eq(actor.id()))
                        .and_where(wish_claim::Column::Status.eq(ClaimStatus::Active))
                        .to_owned(),
                )),
            )
            .lt(cap),
        );
    let won = transition_if(
        &txn,
        wish_id,
        &[WishStatus::Published],
        true,
        vec![
            (wish::Column::Status, Expr::value(WishStatus::Claimed)),
            (wish::Column::ClaimantId, Expr::value(actor.id())),
        ],
        conditions,
    )
    .await?;
    let Some(w) = won else {
        txn.rollback().await?;
        claim_refusal(db, actor, wish_id).await?;
        let active = wish_claim::Entity::find()
            .filter(wish_claim::Column::MemberId.eq(actor.id()))
            .filter(wish_claim::Column::Status.eq(ClaimStatus::Active))
            .count(db)
            .await?;
        let now = reload(db, wish_id).await?;
        return Err(match effective_status(&now, validate::today()) {
            EffectiveStatus::Stored(WishStatus::Published)
                if active >= config.max_active_claims =>
            {
                AppError::invalid_state(
                    ErrorReason::ClaimCapReached,
                    format!("最多同时认领 {} 个心愿", config.max_active_claims),
                )
            }
            // Lost a race: someone else holds it (or held it and gave it back meanwhile).
            EffectiveStatus::Stored(
                WishStatus::Claimed | WishStatus::Fulfilled | WishStatus::Published,
            ) => AppError::conflict(ErrorReason::WishTaken, "心愿已被他人认领，请稍后再试"),
            _ => state_error(&now, "认领"),
        });
    };
    wish_claim::Entity::insert(wish_claim::ActiveModel {
        wish_id: Set(w.id),
        member_id: Set(actor.id()),
        status: Set(ClaimStatus::Active),
        claimed_at: Set(crate::core::clock::now()),
        ..Default::default()
    })
    .exec_without_returning(&txn)
    .await
    .map_err(|e| AppError::on_unique(e, ErrorReason::WishTaken, "心愿已被他人认领"))?;
    let (to, message) = super::notices::claimed(&w);
    let told = notify::enqueue(&txn, to, &message).await?;
    txn.commit().await?;
    events
        .publish(db, WishChanged::of(WishEventKind::Claimed, &w))
        .await;
    notify::announce(db, events, told).await;
    Ok(w)
}

/// Why a member may not claim a wish whatever its state: it does not exist, it is their
/// own, or they hold it already.
async fn claim_refusal(db: &DatabaseConnection, actor: &AuthUser, wish_id: i64) -> AppResult<()> {
    let w = reload(db, wish_id).await?;
    if w.submitted_by == actor.id() || w.beneficiary_user_id == Some(actor.id()) {
        return Err(AppError::Forbidden("不能认领自己提交或受益的心愿"));
    }
    if w.claimant_id == Some(actor.id()) {
        return Err(AppError::conflict(
            ErrorReason::WishAlreadyYours,
            "您已认领该心愿",
        ));
    }
    Ok(())
}

async fn end_active_claim(
    txn: &DatabaseTransaction,
    wish_id: i64,
    status: ClaimStatus,
    reason: Option<String>,
) -> AppResult<()> {
    wish_claim::Entity::update_many()
        .col_expr(wish_claim::Column::Status, Expr::value(status))
        .col_expr(
            wish_claim::Column::EndedAt,
            Expr::value(crate::core::clock::now()),
        )
        .col_expr(wish_claim::Column::ReleaseReason, Expr::value(reason))
        .filter(wish_claim::Column::WishId.eq(wish_id))
        .filter(wish_claim::Column::Status.eq(ClaimStatus::Active))
        .exec(txn)
        .await?;
    Ok(())
}

/// The claimant gives the wish back: PUBLISHED again, history kept.
pub async fn release(
    db: &DatabaseConnection,
    events: &Bus,
    actor: &AuthUser,
    wish_id: i64,
    reason: &str,
) -> AppResult<wish::Model> {
    let w = reload(db, wish_id).await?;
    if w.claimant_id != Some(actor.id()) {
        return if w.status == WishStatus::Claimed {
            Err(AppError::Forbidden("只有认领人可以放弃认领"))
        } else {
            Err(state_error(&w, "放弃认领"))
        };
    }
    let reason = validate::text("reason", reason, 200)?;
    let txn = db::begin_write(db).await?;
    let updated = transition(
        &txn,
        w.id,
        &[WishStatus::Claimed],
        false,
        vec![
            (wish::Column::Status, Expr::value(WishStatus::Published)),
            (wish::Column::ClaimantId, Expr::value(Option::<i64>::None)),
        ],
    )
    .await?;
    let Some(updated) = updated else {
        return Err(state_error(&w, "放弃认领"));
    };
    end_active_claim(&txn, w.id, ClaimStatus::Released, Some(reason)).await?;
    txn.commit().await?;
    let w = updated;
    events
        .publish(db, WishChanged::of(WishEventKind::Released, &w))
        .await;
    Ok(w)
}

/// The claimant reports the wish fulfilled, with a note and photos: uploaded ones (checked
/// and stored with the wish) and, for older clients, addresses of photos kept elsewhere;
/// at most 9 in all.
pub async fn fulfil(
    db: &DatabaseConnection,
    events: &Bus,
    actor: &AuthUser,
    wish_id: i64,
    note: &str,
    photos: Vec<String>,
    uploads: Vec<crate::files::images::Image>,
) -> AppResult<wish::Model> {
    let w = reload(db, wish_id).await?;
    if w.claimant_id != Some(actor.id()) {
        return if w.status == WishStatus::Claimed {
            Err(AppError::Forbidden("只有认领人可以提交完成情况"))
        } else {
            Err(state_error(&w, "提交完成"))
        };
    }
    let note = validate::text("note", note, 1000)?;
    if photos.len() + uploads.len() > crate::files::rules::MAX_PER_WISH {
        return Err(AppError::bad_field("photos", "最多 9 张照片"));
    }
    let mut urls = Vec::with_capacity(photos.len());
    for p in &photos {
        urls.push(
            validate::opt_url("photoUrls", Some(p))?
                .ok_or_else(|| AppError::bad_field("photoUrls", "照片链接不能为空"))?,
        );
    }
    let photos = serde_json::to_string(&urls).map_err(AppError::internal)?;
    let txn = db::begin_write(db).await?;
    let updated = transition(
        &txn,
        w.id,
        &[WishStatus::Claimed],
        true,
        vec![
            (wish::Column::Status, Expr::value(WishStatus::Fulfilled)),
            (wish::Column::FulfilNote, Expr::value(note)),
            (wish::Column::FulfilPhotos, Expr::value(photos)),
            (
                wish::Column::FulfilledAt,
                Expr::value(crate::core::clock::now()),
            ),
        ],
    )
    .await?;
    let Some(updated) = updated else {
        return Err(state_error(&w, "提交完成"));
    };
    crate::files::rules::store(
        &txn,
        crate::files::rules::Attach::Wish(updated.id),
        actor,
        uploads,
    )
    .await?;
    let (to, message) = super::notices::fulfilled(&updated);
    let told = notify::enqueue(&txn, to, &message).await?;
    txn.commit().await?;
    let w = updated;
    events
        .publish(db, WishChanged::of(WishEventKind::Fulfilled, &w))
        .await;
    notify::announce(db, events, told).await;
    Ok(w)
}

/// The beneficiary or a grid worker of the grid confirms, with a rating and feedback. The
/// claimant's points are deposited in the same transaction, exactly once.
pub async fn confirm(
    db: &DatabaseConnection,
    events: &Bus,
    config: &Config,
    actor: &AuthUser,
    wish_id: i64,
    rating: i32,
    feedback: Option<String>,
) -> AppResult<wish::Model> {
    let w = reload(db, wish_id).await?;
    let grid = get::<grid::Entity, _>(db, w.grid_id, "网格不存在").await?;
    let allowed = w.beneficiary_user_id == Some(actor.id()) || actor.is_worker_of(&grid);
    if !allowed {
        return Err(AppError::Forbidden("只有受益人或本网格网格员可以确认"));
    }
    if !(1..=5).contains(&rating) {
        return Err(AppError::bad_field("rating", "评分须为 1 到 5"));
    }
    let feedback = validate::opt_text("feedback", feedback.as_deref(), 500)?;
    let claimant = w.claimant_id.ok_or_else(|| state_error(&w, "确认"))?;
    let txn = db::begin_write(db).await?;
    let updated = transition(
        &txn,
        w.id,
        &[WishStatus::Fulfilled],
        false,
        vec![
            (wish::Column::Status, Expr::value(WishStatus::Confirmed)),
            (wish::Column::Rating, Expr::value(rating)),
            (wish::Column::Feedback, Expr::value(feedback)),
            (wish::Column::ConfirmedBy, Expr::value(actor.id())),
            (
                wish::Column::ConfirmedAt,
                Expr::value(crate::core::clock::now()),
            ),
        ],
    )
    .await?;
    let Some(updated) = updated else {
        return Err(state_error(&w, "确认"));
    };
    end_active_claim(&txn, w.id, ClaimStatus::Completed, None).await?;
    let book = bank::ensure_passbook(&txn, claimant, w.community_id, None).await?;
    let points = config.wish_points.for_category(w.category);
    let (to, message) = super::notices::confirmed(&updated, claimant, points);
    let told = notify::enqueue(&txn, to, &message).await?;
    bank::post(
        &txn,
        bank::Posting {
            passbook_id: book.id,
            amount: points,
            kind: EntryKind::Earn,
            source: EntrySource::Wish,
            source_id: Some(w.id),
            // The wish is the entry's source (`sourceId`): its title, which may name the
            // beneficiary, is read there under the wish's policy, never copied into the
            // immutable ledger.
            memo: format!("圆梦微心愿 #{}", w.id),
            operator_id: Some(actor.id()),
            reverses: None,
            at: None,
        },
    )
    .await?;
    txn.commit().await?;
    let w = updated;
    events
        .publish(db, WishChanged::of(WishEventKind::Confirmed, &w))
        .await;
    notify::announce(db, events, told).await;
    Ok(w)
}

/// The submitter or staff cancel a wish before it is fulfilled.
pub async fn cancel(
    db: &DatabaseConnection,
    events: &Bus,
    actor: &AuthUser,
    wish_id: i64,
    reason: Option<String>,
) -> AppResult<wish::Model> {
    let w = reload(db, wish_id).await?;
    if !super::policy::may_cancel(actor, &w) {
        return Err(AppError::Forbidden("只有提交人或社区工作者可以取消心愿"));
    }
    let reason = validate::opt_text("reason", reason.as_deref(), 200)?;
    let txn = db::begin_write(db).await?;
    let updated = transition(
        &txn,
        w.id,
        &CANCEL_FROM,
        false,
        vec![
            (wish::Column::Status, Expr::value(WishStatus::Cancelled)),
            (wish::Column::ClaimantId, Expr::value(Option::<i64>::None)),
            (wish::Column::CancelReason, Expr::value(reason)),
        ],
    )
    .await?;
    let Some(updated) = updated else {
        return Err(AppError::invalid_state(
            ErrorReason::WishNotCancellable,
            "心愿已完成或已结束，不能取消",
        ));
    };
    end_active_claim(&txn, w.id, ClaimStatus::Cancelled, None).await?;
    txn.commit().await?;
    let w = updated;
    events
        .publish(db, WishChanged::of(WishEventKind::Cancelled, &w))
        .await;
    Ok(w)
}

/// Runs of the expiry job in this process (SQLite serves one instance).
static EXPIRY_RUNNING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Tells the people of each wish whose deadline passed in the last two days that it
/// expired: once per wish (the outbox's key), whatever restarts or instances run the job.
/// Returns how many wishes had their message written now.
pub async fn announce_expired(
    db: &DatabaseConnection,
    events: &Bus,
    today: NaiveDate,
) -> AppResult<usize> {
    let Ok(_running) = EXPIRY_RUNNING.try_lock() else {
        return Ok(0);
    };
    let txn = db::begin_write(db).await?;
    let lately = wish::Entity::find()
        .filter(wish::Column::Status.is_in(WishStatus::EXPIRABLE))
        .filter(wish::Column::Deadline.lt(today))
        .filter(wish::Column::Deadline.gte(today - chrono::Duration::days(2)))
        .all(&txn)
        .await?;
    let mut told = Vec::new();
    for w in &lately {
        let (to, message) = super::notices::expired(w);
        told.push(notify::enqueue(&txn, to, &message).await?);
    }
    txn.commit().await?;
    let written = told.iter().filter(|t| t.batch.is_some()).count();
    notify::announce_all(db, events, told).await;
    Ok(written)
}

/// Runs [`announce_expired`] every ten minutes for the life of the server.
pub fn spawn_expiry_job(db: DatabaseConnection, events: Bus) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(600));
        loop {
            tick.tick().await;
            if let Err(e) = announce_expired(&db, &events, validate::today()).await {
                tracing::warn!(error = %e.message(), "expired wishes not announced");
            }
        }
    });
}
