//! Good deeds: reported, reviewed, deposited once.

use chrono::NaiveDate;
use entity::{
    good_deed,
    good_deed::DeedStatus,
    good_deed_category,
    ledger_entry::{EntryKind, EntrySource},
    passbook,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter,
    sea_query::Expr,
};

use crate::auth::AuthUser;
use crate::core::db;
use crate::core::db::get;
use crate::core::error::AppError;
use crate::core::error::AppResult;
use crate::core::error::ErrorReason;
use crate::core::validate;

#[allow(unused_imports)]
use super::*;

// ---- good deeds -----------------------------------------------------------------------

pub struct NewGoodDeed {
    /// The person who did it; `None` for the reporter themself.
    pub holder_id: Option<i64>,
    pub category_id: i64,
    pub description: String,
    pub occurred_on: NaiveDate,
}

/// Reported by the holder, or by a grid worker of the holder's community.
pub async fn report_good_deed(
    db: &DatabaseConnection,
    actor: &AuthUser,
    input: NewGoodDeed,
) -> AppResult<good_deed::Model> {
    let holder_id = input.holder_id.unwrap_or(actor.id());
    let book = passbook_of(db, holder_id)
        .await?
        .ok_or(AppError::NotFound("尚未开通道德存折"))?;
    let for_someone_else = holder_id != actor.id();
    if for_someone_else
        && !actor.is_worker_in(book.community_id)
        && !actor.is_staff_of(book.community_id)
    {
        return Err(AppError::forbidden());
    }
    let category =
        get::<good_deed_category::Entity, _>(db, input.category_id, "好人好事类别不存在").await?;
    if !category.active {
        return Err(AppError::bad_field("categoryId", "该类别已停用"));
    }
    let description = validate::text("description", &input.description, 500)?;
    let today = validate::today();
    if input.occurred_on > today || input.occurred_on < today - chrono::Duration::days(366) {
        return Err(AppError::bad_field(
            "occurredOn",
            "日期须在一年内且不晚于今天",
        ));
    }
    Ok(good_deed::ActiveModel {
        passbook_id: Set(book.id),
        category_id: Set(category.id),
        description: Set(description),
        occurred_on: Set(input.occurred_on),
        reported_by: Set(actor.id()),
        status: Set(DeedStatus::Pending),
        points: Set(None),
        created_at: Set(crate::core::clock::now()),
        ..Default::default()
    }
    .insert(db)
    .await?)
}

pub enum DeedDecision {
    Approve { points: Option<i32> },
    Reject { reason: String },
}

/// Staff of the passbook's community approve (depositing the points once) or reject.
pub async fn review_good_deed(
    db: &DatabaseConnection,
    events: &crate::core::bus::Bus,
    actor: &AuthUser,
    deed_id: i64,
    decision: DeedDecision,
    key: Option<&str>,
) -> AppResult<good_deed::Model> {
    let deed = get::<good_deed::Entity, _>(db, deed_id, "好人好事记录不存在").await?;
    let book = get::<passbook::Entity, _>(db, deed.passbook_id, "道德存折不存在").await?;
    if !actor.is_staff_of(book.community_id) {
        return Err(AppError::forbidden());
    }
    let request = match &decision {
        DeedDecision::Approve { points } => format!("reviewGoodDeed:{deed_id}:approve:{points:?}"),
        DeedDecision::Reject { reason } => format!("reviewGoodDeed:{deed_id}:reject:{reason}"),
    };
    let txn = db::begin_write(db).await?;
    let idem = idem_start(&txn, actor.id(), key, &request).await?;
    if let Idem::Replay(id) = idem {
        txn.rollback().await?;
        return get::<good_deed::Entity, _>(db, id, "好人好事记录不存在").await;
    }
    let now = crate::core::clock::now();
    let update = good_deed::Entity::update_many()
        .col_expr(good_deed::Column::ReviewedBy, Expr::value(actor.id()))
        .col_expr(good_deed::Column::ReviewedAt, Expr::value(now))
        .filter(good_deed::Column::Id.eq(deed.id))
        .filter(good_deed::Column::Status.eq(DeedStatus::Pending));
    match decision {
        DeedDecision::Approve { points } => {
            let category =
                get::<good_deed_category::Entity, _>(&txn, deed.category_id, "类别不存在").await?;
            let points = points.unwrap_or(category.points);
            if !(1..=1000).contains(&points) {
                return Err(AppError::bad_field("points", "积分须在 1 到 1000 之间"));
            }
            let res = update
                .col_expr(good_deed::Column::Status, Expr::value(DeedStatus::Approved))
                .col_expr(good_deed::Column::Points, Expr::value(points))
                .exec(&txn)
                .await?;
            if res.rows_affected != 1 {
                return Err(AppError::invalid_state(
                    ErrorReason::NotPendingReview,
                    "只能审核待审核的记录",
                ));
            }
            post(
                &txn,
                Posting {
                    passbook_id: book.id,
                    amount: i64::from(points),
                    kind: EntryKind::Earn,
                    source: EntrySource::GoodDeed,
                    source_id: Some(deed.id),
                    memo: format!("好人好事：{}", category.name),
                    operator_id: Some(actor.id()),
                    reverses: None,
                    at: None,
                },
            )
            .await?;
        }
        DeedDecision::Reject { reason } => {
            let reason = validate::text("reason", &reason, 200)?;
            let res = update
                .col_expr(good_deed::Column::Status, Expr::value(DeedStatus::Rejected))
                .col_expr(good_deed::Column::ReviewReason, Expr::value(reason))
                .exec(&txn)
                .await?;
            if res.rows_affected != 1 {
                return Err(AppError::invalid_state(
                    ErrorReason::NotPendingReview,
                    "只能审核待审核的记录",
                ));
            }
        }
    }
    idem_finish(&txn, &idem, deed.id).await?;
    let reviewed = get::<good_deed::Entity, _>(&txn, deed.id, "好人好事记录不存在").await?;
    let (to, message) = reviewed_notice(&reviewed, book.holder_id);
    let told = crate::notify::outbox::enqueue(&txn, to, &message).await?;
    txn.commit().await?;
    crate::notify::outbox::announce(db, events, told).await;
    Ok(reviewed)
}

/// The passbook's holder learns the outcome of a good deed's review (and the points).
fn reviewed_notice(
    d: &good_deed::Model,
    holder: i64,
) -> (
    crate::notify::outbox::Recipients,
    crate::notify::outbox::Message,
) {
    use crate::notify::{kinds::Kind, outbox::*};
    let approved = d.status == DeedStatus::Approved;
    let body = if approved {
        format!(
            "您的好人好事已通过审核，存入 {} 积分。",
            d.points.unwrap_or(0)
        )
    } else {
        format!(
            "您的好人好事未通过审核：{}",
            d.review_reason.as_deref().unwrap_or("")
        )
    };
    (
        Recipients::Users(vec![holder]),
        Message {
            kind: Kind::GoodDeedReviewed,
            title: if approved {
                "好人好事已通过"
            } else {
                "好人好事未通过"
            }
            .into(),
            body,
            page: Some("pages/passbook/index".into()),
            subject: Some(("GoodDeed", d.id)),
            fields: vec![
                ("thing1", "好人好事".into()),
                ("phrase2", if approved { "已通过" } else { "未通过" }.into()),
                ("time3", local_time(crate::core::clock::now())),
            ],
            dedup_key: None,
        },
    )
}
