//! The demo's grid work: a week of 汇通第一网格's patrols (the seven days before today) and
//! one incident in every status, dispatched to 仙林供电所党支部 where dispatched; the handled
//! one adopted as a 民生实事 project under the branch's ACTIVE agreement, and one overdue.

use chrono::Duration;
use entity::{
    agreement, incident,
    incident::{IncidentCategory as Cat, IncidentSubject as Sub, IncidentUrgency as Urg},
    user,
};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, sea_query::Expr};

use crate::auth::{self, AuthUser};
use crate::core::bus::Bus;
use crate::core::config::Config;
use crate::core::error::{AppError, AppResult};
use crate::core::validate;
use crate::incident::{adoption, patrol, rules, rules::Step};

async fn by_name(db: &DatabaseConnection, name: &str) -> AppResult<AuthUser> {
    let u = user::Entity::find()
        .filter(user::Column::Username.eq(name))
        .one(db)
        .await?
        .ok_or_else(|| AppError::internal("demo user"))?;
    auth::load_auth_user(db, u.id).await
}

pub async fn seed(
    db: &DatabaseConnection,
    config: &Config,
    ht1: i64,
    power_branch: i64,
) -> AppResult<()> {
    let events = Bus::default();
    let grid = by_name(db, "grid").await?;
    let staff = by_name(db, "staff").await?;
    let rep = by_name(db, "rep-power").await?;
    let resident = by_name(db, "resident1").await?;
    let today = validate::today();

    let items = [
        vec!["ELDERLY_ALONE", "SHOPS", "FIRE_EXITS"],
        vec!["RENTALS", "PUBLIC_FACILITIES"],
        vec!["ELDERLY_ALONE", "DISABLED", "LOW_INCOME"],
        vec!["SHOPS", "CONSTRUCTION"],
        vec!["VISIT_PARTY_MEMBERS", "DISPUTES"],
        vec!["ELDERLY_ALONE", "FIRE_EXITS", "NEW_RESIDENTS"],
        vec!["VISIT_VETERANS", "PUBLIC_FACILITIES"],
    ];
    for (days_back, checklist) in (1..=7).rev().zip(items) {
        patrol::log(
            db,
            &grid,
            patrol::PatrolLog {
                grid_id: ht1,
                date: Some(today - Duration::days(days_back)),
                households_visited: 8 + (days_back as i32 * 3) % 7,
                checklist: checklist.into_iter().map(str::to_owned).collect(),
                notes: Some("日常走访，重点关注独居老人和沿街商铺用电".into()),
            },
        )
        .await?;
    }

    let report = |location: &str, category, subject, description: &str, urgency, raised| {
        rules::NewIncident {
            grid_id: ht1,
            location: location.into(),
            category,
            subject,
            description: description.into(),
            urgency,
            raised_by: raised,
            photos: Vec::new(),
        }
    };
    let step = |id: i64, actor: &'static str, s: Step| {
        let (events, grid, staff, rep) = (&events, &grid, &staff, &rep);
        async move {
            let who = match actor {
                "grid" => grid,
                "staff" => staff,
                _ => rep,
            };
            rules::advance(db, events, config, who, id, s).await
        }
    };
    let dispatch = || Step::Dispatch {
        organization_id: power_branch,
        deadline: None,
    };
    let note = |n: &str| n.to_owned();

    // REPORTED
    rules::report(
        db,
        &events,
        &grid,
        report(
            "汇通路 8 号 3 栋楼道",
            Cat::HiddenRisk,
            Sub::Safety,
            "楼道堆放杂物，堵塞消防通道",
            Urg::Normal,
            None,
        ),
    )
    .await?;
    // RESOLVED_ON_SITE
    let i = rules::report(
        db,
        &events,
        &grid,
        report(
            "汇通路 10 号门口",
            Cat::Pain,
            Sub::Environment,
            "垃圾桶满溢无人清运",
            Urg::Normal,
            Some(resident.id()),
        ),
    )
    .await?;
    step(
        i.id,
        "grid",
        Step::ResolveOnSite {
            note: note("联系保洁当场清运"),
        },
    )
    .await?;
    // WHISTLED
    let i = rules::report(
        db,
        &events,
        &grid,
        report(
            "汇通菜场西侧",
            Cat::Blockage,
            Sub::NeighbourDispute,
            "占道经营影响通行，多次劝导无效",
            Urg::Normal,
            None,
        ),
    )
    .await?;
    step(
        i.id,
        "grid",
        Step::Whistle {
            note: note("需城管和市场监管协同"),
        },
    )
    .await?;
    // DISPATCHED, and overdue: its deadline has passed without the branch reporting in.
    let i = rules::report(
        db,
        &events,
        &grid,
        report(
            "汇通路 12 号沿街商铺",
            Cat::HiddenRisk,
            Sub::Utilities,
            "商铺用电负荷过大，电线老化发热",
            Urg::Urgent,
            None,
        ),
    )
    .await?;
    step(
        i.id,
        "grid",
        Step::Whistle {
            note: note("需供电所检查线路"),
        },
    )
    .await?;
    step(i.id, "staff", dispatch()).await?;
    incident::Entity::update_many()
        .col_expr(
            incident::Column::Deadline,
            Expr::value(crate::core::clock::now() - Duration::hours(6)),
        )
        .filter(incident::Column::Id.eq(i.id))
        .exec(db)
        .await?;
    // ACCEPTED
    let i = rules::report(
        db,
        &events,
        &grid,
        report(
            "汇通路 5 号小区",
            Cat::Pain,
            Sub::Utilities,
            "小区路灯三盏不亮",
            Urg::Normal,
            None,
        ),
    )
    .await?;
    step(
        i.id,
        "grid",
        Step::Whistle {
            note: note("路灯归供电所维护"),
        },
    )
    .await?;
    step(i.id, "staff", dispatch()).await?;
    step(i.id, "rep", Step::Accept).await?;
    // HANDLED, adopted as the branch's 民生实事 project
    let i = rules::report(
        db,
        &events,
        &grid,
        report(
            "汇通商业街",
            Cat::Priority,
            Sub::Utilities,
            "商业街用电容量不足，夏季经常跳闸",
            Urg::Normal,
            None,
        ),
    )
    .await?;
    step(
        i.id,
        "grid",
        Step::Whistle {
            note: note("需供电所增容"),
        },
    )
    .await?;
    step(i.id, "staff", dispatch()).await?;
    step(i.id, "rep", Step::Accept).await?;
    step(
        i.id,
        "rep",
        Step::Handle {
            result: "新增箱式变压器一台，商业街分路供电".into(),
            photos: Vec::new(),
        },
    )
    .await?;
    let a2 = agreement::Entity::find()
        .filter(agreement::Column::Title.eq("文宗社区党委—仙林供电所党支部共建共享协议"))
        .one(db)
        .await?
        .ok_or_else(|| AppError::internal("demo agreement"))?;
    adoption::adopt(
        db,
        &rep,
        adoption::Adoption {
            incident_id: i.id,
            agreement_id: a2.id,
            title: Some("民生实事：汇通商业街电力增容".into()),
            participants: 6,
        },
    )
    .await?;
    // CLOSED
    let i = rules::report(
        db,
        &events,
        &grid,
        report(
            "汇通路 8 号 1 栋",
            Cat::Pain,
            Sub::ElderlyCare,
            "独居老人家中插座老化",
            Urg::Urgent,
            Some(resident.id()),
        ),
    )
    .await?;
    step(
        i.id,
        "grid",
        Step::Whistle {
            note: note("请供电所党员上门"),
        },
    )
    .await?;
    step(i.id, "staff", dispatch()).await?;
    step(i.id, "rep", Step::Accept).await?;
    step(
        i.id,
        "rep",
        Step::Handle {
            result: "更换插座和入户线".into(),
            photos: Vec::new(),
        },
    )
    .await?;
    step(
        i.id,
        "grid",
        Step::Close {
            rating: 5,
            note: Some("老人很满意".into()),
        },
    )
    .await?;
    // REOPENED
    let i = rules::report(
        db,
        &events,
        &grid,
        report(
            "汇通路 3 号路口",
            Cat::BlindSpot,
            Sub::Safety,
            "路口监控盲区，夜间无照明",
            Urg::Normal,
            None,
        ),
    )
    .await?;
    step(
        i.id,
        "grid",
        Step::Whistle {
            note: note("需加装照明"),
        },
    )
    .await?;
    step(i.id, "staff", dispatch()).await?;
    step(i.id, "rep", Step::Accept).await?;
    step(
        i.id,
        "rep",
        Step::Handle {
            result: "已加装一盏路灯".into(),
            photos: Vec::new(),
        },
    )
    .await?;
    step(
        i.id,
        "grid",
        Step::Reopen {
            note: note("居民反映仍然偏暗，需再加一盏"),
        },
    )
    .await?;
    Ok(())
}
