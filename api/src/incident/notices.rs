//! What the incident domain tells people: the reps of the unit an incident is dispatched
//! (or reopened) to, and the grid's workers when it is handled. Each recipient may see the
//! incident (`policy::may_see`): the message holds its place and deadline, never the name
//! of the resident who raised it.

use entity::{incident, role_assignment, role_assignment::Role};
use sea_orm::{
    ColumnTrait, EntityTrait, QueryFilter, QuerySelect, QueryTrait, sea_query::Alias,
    sea_query::Expr,
};

use crate::notify::kinds::Kind;
use crate::notify::outbox::local_time;
use crate::notify::outbox::{Message, Recipients};

/// The people holding `role` where `column` is `id`, as the outbox's recipients.
fn holders(role: Role, column: role_assignment::Column, id: i64) -> Recipients {
    let mut q = role_assignment::Entity::find()
        .select_only()
        .filter(role_assignment::Column::Role.eq(role))
        .filter(column.eq(id))
        .into_query();
    q.expr_as(
        Expr::col(role_assignment::Column::UserId),
        Alias::new("uid"),
    );
    Recipients::Query(Box::new(q))
}

fn page(i: &incident::Model) -> Option<String> {
    Some(format!("pages/incident/detail?id={}", i.id))
}

fn deadline(i: &incident::Model) -> String {
    i.deadline.map(local_time).unwrap_or_else(|| "无".into())
}

/// Dispatched (or redispatched) to a unit: its reps.
pub fn dispatched(i: &incident::Model) -> Option<(Recipients, Message)> {
    let org = i.organization_id?;
    Some((
        holders(Role::UnitRep, role_assignment::Column::OrganizationId, org),
        Message {
            kind: Kind::IncidentDispatched,
            title: "新派单待报到".into(),
            body: format!(
                "{}：{}，请在 {} 前办结。",
                i.location,
                i.description,
                deadline(i)
            ),
            page: page(i),
            subject: Some(("Incident", i.id)),
            fields: vec![
                ("thing1", i.location.clone()),
                ("thing2", i.description.clone()),
                ("time3", deadline(i)),
            ],
            dedup_key: None,
        },
    ))
}

/// Handled by the unit: the grid's workers, to confirm with the resident.
pub fn handled(i: &incident::Model) -> (Recipients, Message) {
    (
        holders(Role::GridWorker, role_assignment::Column::GridId, i.grid_id),
        Message {
            kind: Kind::IncidentHandled,
            title: "事件已办结，请回访".into(),
            body: format!(
                "{} 的事件已由承办单位办结，请与居民确认后关闭。",
                i.location
            ),
            page: page(i),
            subject: Some(("Incident", i.id)),
            fields: vec![
                ("thing1", i.location.clone()),
                ("phrase2", "已办结".into()),
                ("time3", local_time(crate::core::clock::now())),
            ],
            dedup_key: None,
        },
    )
}

/// Reopened: back to the unit's reps, with the new deadline.
pub fn reopened(i: &incident::Model) -> Option<(Recipients, Message)> {
    let org = i.organization_id?;
    Some((
        holders(Role::UnitRep, role_assignment::Column::OrganizationId, org),
        Message {
            kind: Kind::IncidentReopened,
            title: "事件被重新打开".into(),
            body: format!(
                "{} 的事件未解决，已退回，请在 {} 前重新办结。",
                i.location,
                deadline(i)
            ),
            page: page(i),
            subject: Some(("Incident", i.id)),
            fields: vec![
                ("thing1", i.location.clone()),
                ("phrase2", "已退回".into()),
                ("time3", deadline(i)),
            ],
            dedup_key: None,
        },
    ))
}

/// Overdue (urgent: sent whatever the quiet hours, by text too): the unit's reps, once per
/// dispatch (the key is the deadline it missed).
pub fn overdue(i: &incident::Model) -> Option<(Recipients, Message)> {
    let org = i.organization_id?;
    Some((
        holders(Role::UnitRep, role_assignment::Column::OrganizationId, org),
        Message {
            kind: Kind::IncidentOverdue,
            title: "派单已超期".into(),
            body: format!(
                "{} 的事件已超过办结期限（{}），请尽快处理。",
                i.location,
                deadline(i)
            ),
            page: page(i),
            subject: Some(("Incident", i.id)),
            fields: vec![
                ("thing1", i.location.clone()),
                ("phrase2", "已超期".into()),
                ("time3", deadline(i)),
            ],
            dedup_key: Some(format!(
                "incident-{}-{}",
                i.id,
                i.deadline.map(|d| d.timestamp()).unwrap_or_default()
            )),
        },
    ))
}
