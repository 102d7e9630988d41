//! 民生实事 and the Monday grid meeting: an incident adopted as a project of the unit's
//! agreement (and counted by the agreement's statistics), the weekly grid summary and ranking
//! against the rows created, in as many statements for 100 grids as for 10, 网格之星
//! candidates, and the dashboard's incident figures.

use chrono::{Datelike, TimeZone};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    Statement, sea_query::Expr,
};
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_code, error_code, ok};

async fn org(app: &TestApp, name: &str) -> String {
    let admin = app.login("admin").await;
    let v = app
        .gql(
            Some(&admin),
            "{ organizations(first: 100) { nodes { id name } } }",
            json!({}),
        )
        .await;
    ok(&v)["organizations"]["nodes"]
        .as_array()
        .and_then(|a| a.iter().find(|o| o["name"] == name))
        .and_then(|o| o["id"].as_str())
        .expect("organisation")
        .to_owned()
}

async fn agreement(app: &TestApp, title: &str) -> String {
    let admin = app.login("admin").await;
    let v = app
        .gql(
            Some(&admin),
            "{ agreements(first: 100) { nodes { id title } } }",
            json!({}),
        )
        .await;
    ok(&v)["agreements"]["nodes"]
        .as_array()
        .and_then(|a| a.iter().find(|o| o["title"] == title))
        .and_then(|o| o["id"].as_str())
        .expect("agreement")
        .to_owned()
}

/// Runs `steps` on a new incident of 汇通第一网格 ("whistle", "dispatch", "accept", "handle",
/// "close", "resolve"); returns its id.
async fn incident(app: &TestApp, location: &str, steps: &[&str]) -> String {
    let grid = app.login("grid").await;
    let staff = app.login("staff").await;
    let rep = app.login("rep-power").await;
    let power = org(app, "仙林供电所党支部").await;
    let ht1 = app.grid_id("汇通第一网格").await;
    let v = app
        .gql(
            Some(&grid),
            "mutation($g: ID!, $l: String!) { reportIncident(input: {gridId: $g, location: $l, category: PRIORITY, subject: UTILITIES, description: \"商业街用电容量不足\"}) { incident { id } } }",
            json!({"g": ht1, "l": location}),
        )
        .await;
    let id = ok(&v)["reportIncident"]["incident"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    for s in steps {
        let (token, q) = match *s {
            "whistle" => (
                &grid,
                "mutation($i: ID!) { whistleIncident(input: {incidentId: $i, note: \"吹哨\"}) { incident { id } } }",
            ),
            "resolve" => (
                &grid,
                "mutation($i: ID!) { resolveIncidentOnSite(input: {incidentId: $i, note: \"当场解决\"}) { incident { id } } }",
            ),
            "dispatch" => (
                &staff,
                "mutation($i: ID!, $o: ID!) { dispatchIncident(input: {incidentId: $i, organizationId: $o}) { incident { id } } }",
            ),
            "accept" => (
                &rep,
                "mutation($i: ID!) { acceptIncident(input: {incidentId: $i}) { incident { id } } }",
            ),
            "handle" => (
                &rep,
                "mutation($i: ID!) { handleIncident(input: {incidentId: $i, result: \"已增容\"}) { incident { id } } }",
            ),
            "close" => (
                &grid,
                "mutation($i: ID!) { closeIncident(input: {incidentId: $i, rating: 4}) { incident { id } } }",
            ),
            other => panic!("{other}"),
        };
        ok(&app.gql(Some(token), q, json!({"i": id, "o": power})).await);
    }
    id
}

const ADOPT: &str = "mutation($i: ID!, $a: ID!, $t: String) { adoptIncidentAsProject(input: {incidentId: $i, agreementId: $a, title: $t, participants: 5}) { incident { id status project { title isProject } } activity { title participants isProject notes } } }";
const STATS: &str = "query($a: ID!) { agreementStatistics { projectsAdopted activitiesPerMonth { month count } } agreement(id: $a) { activities { title isProject } } }";

fn projects(v: &Value) -> (i64, i64, usize) {
    let d = ok(v);
    let month: i64 = d["agreementStatistics"]["activitiesPerMonth"]
        .as_array()
        .expect("months")
        .iter()
        .map(|m| m["count"].as_i64().unwrap_or(0))
        .sum();
    (
        d["agreementStatistics"]["projectsAdopted"]
            .as_i64()
            .expect("n"),
        month,
        d["agreement"]["activities"]
            .as_array()
            .map_or(0, |a| a.iter().filter(|x| x["isProject"] == true).count()),
    )
}

#[tokio::test]
async fn a_handled_incident_becomes_a_project_of_the_units_active_agreement_once() {
    let app = TestApp::with_demo().await;
    let rep = app.login("rep-power").await;
    let staff = app.login("staff").await;
    let admin = app.login("admin").await;
    let active = agreement(&app, "文宗社区党委—仙林供电所党支部共建共享协议").await;
    let proposed = agreement(&app, "汇通社区党委—仙林供电所党支部服务互助协议").await;
    let others = agreement(
        &app,
        "汇通社区居民党支部—信息工程学院学生党支部结对共建协议",
    )
    .await;
    // The demo already holds one project (汇通商业街电力增容).
    let before = projects(&app.gql(Some(&admin), STATS, json!({"a": active})).await);
    assert_eq!((before.0, before.2), (1, 1));

    let accepted = incident(&app, "汇通路 20 号", &["whistle", "dispatch", "accept"]).await;
    assert_code(
        &app.gql(Some(&rep), ADOPT, json!({"i": accepted, "a": active}))
            .await,
        "INVALID_STATE",
    );
    let handled = incident(
        &app,
        "汇通路 22 号",
        &["whistle", "dispatch", "accept", "handle"],
    )
    .await;
    for (who, agreement, code) in [
        ("rep-power", &proposed, "INVALID_STATE"),
        ("rep-power", &others, "BAD_USER_INPUT"),
        ("grid", &active, "FORBIDDEN"),
        ("rep-school", &active, "NOT_FOUND"),
        ("wz-staff", &active, "NOT_FOUND"),
    ] {
        let token = app.login(who).await;
        let v = app
            .gql(Some(&token), ADOPT, json!({"i": handled, "a": agreement}))
            .await;
        assert_code(&v, code);
    }
    assert_eq!(
        projects(&app.gql(Some(&admin), STATS, json!({"a": active})).await),
        before,
        "refusals record nothing"
    );

    let v = app
        .gql(Some(&rep), ADOPT, json!({"i": handled, "a": active}))
        .await;
    let d = &ok(&v)["adoptIncidentAsProject"];
    // The project copies none of the incident's text (its location, description or result):
    // the agreement's public, anonymous callers included, reads its activities.
    assert_eq!(d["activity"]["title"], "民生实事：水电气保障");
    assert_eq!(d["activity"]["participants"], 5);
    assert_eq!(d["activity"]["isProject"], true);
    assert_eq!(d["activity"]["notes"], Value::Null);
    assert_eq!(d["incident"]["project"]["title"], "民生实事：水电气保障");
    let public = app
        .gql(
            None,
            "query($a: ID!) { agreement(id: $a) { activities { title notes } } }",
            json!({"a": active}),
        )
        .await;
    let text = public.to_string();
    for private in ["汇通路 22 号", "商业街用电容量不足", "已增容"] {
        assert!(!text.contains(private), "{private} in {text}");
    }
    let after = projects(&app.gql(Some(&admin), STATS, json!({"a": active})).await);
    assert_eq!(after, (before.0 + 1, before.1 + 1, before.2 + 1));
    // Once per incident, whoever asks.
    assert_code(
        &app.gql(Some(&staff), ADOPT, json!({"i": handled, "a": active}))
            .await,
        "CONFLICT",
    );

    // Two adoptions of one closed incident at once (the rep and staff): one project.
    let closed = incident(
        &app,
        "汇通路 24 号",
        &["whistle", "dispatch", "accept", "handle", "close"],
    )
    .await;
    let (a, b) = tokio::join!(
        app.gql(Some(&rep), ADOPT, json!({"i": closed, "a": active})),
        app.gql(
            Some(&staff),
            ADOPT,
            json!({"i": closed, "a": active, "t": "另一个名字"})
        ),
    );
    let wins = [&a, &b].iter().filter(|v| v["errors"].is_null()).count();
    assert_eq!(wins, 1, "{a} {b}");
    for v in [&a, &b] {
        if let Some(code) = error_code(v) {
            assert_eq!(code, "CONFLICT", "{v}");
        }
    }
    let now = projects(&app.gql(Some(&admin), STATS, json!({"a": active})).await);
    assert_eq!(now.0, before.0 + 2);

    // An adoption racing the agreement's termination: either the project is recorded and the
    // agreement then ends, or the agreement ended first and the adoption is INVALID_STATE.
    let last = incident(
        &app,
        "汇通路 26 号",
        &["whistle", "dispatch", "accept", "handle"],
    )
    .await;
    let (adopted, terminated) = tokio::join!(
        app.gql(Some(&rep), ADOPT, json!({"i": last, "a": active})),
        app.gql(
            Some(&admin),
            "mutation($a: ID!) { terminateAgreement(input: {agreementId: $a, reason: \"到期前终止\"}) { agreement { status } } }",
            json!({"a": active}),
        ),
    );
    assert_eq!(
        ok(&terminated)["terminateAgreement"]["agreement"]["status"],
        "TERMINATED"
    );
    let end = projects(&app.gql(Some(&admin), STATS, json!({"a": active})).await);
    if adopted["errors"].is_null() {
        assert_eq!(end.0, before.0 + 3);
    } else {
        assert_code(&adopted, "INVALID_STATE");
        assert_eq!(end.0, before.0 + 2);
    }
}

const SUMMARY: &str = "query($c: ID!, $w: Date!) { gridWeeklySummary(communityId: $c, week: $w) { grid { name } weekStart patrols householdsVisited incidentsFound incidentsResolvedOnSite incidentsWhistled incidentsClosed incidentsOverdue wishesPublished wishesConfirmed studentHours score } }";

fn grid_row<'a>(v: &'a Value, name: &str) -> &'a Value {
    ok(v)["gridWeeklySummary"]
        .as_array()
        .and_then(|a| a.iter().find(|g| g["grid"]["name"] == name))
        .expect("grid row")
}

const FIGURES: [&str; 10] = [
    "patrols",
    "householdsVisited",
    "incidentsFound",
    "incidentsResolvedOnSite",
    "incidentsWhistled",
    "incidentsClosed",
    "incidentsOverdue",
    "wishesPublished",
    "wishesConfirmed",
    "studentHours",
];

#[tokio::test]
async fn the_weekly_summary_and_ranking_count_what_was_done_in_the_week() {
    let app = TestApp::with_demo().await;
    let staff = app.login("staff").await;
    let grid = app.login("grid").await;
    let member = app.login("member1").await;
    let huitong = app.community_id("汇通社区").await;
    let ht1 = app.grid_id("汇通第一网格").await;
    let today = api::core::validate::today();
    let monday = today - chrono::Duration::days(today.weekday().num_days_from_monday() as i64);
    let week = json!({"c": huitong, "w": today.to_string()});
    // The demo completes the last three past shifts, this week's included once it has
    // ended (from Wednesday afternoon on): start from this week's shift not yet done, so
    // the test counts the same three hours on every day of the week.
    let shift = entity::shift::Entity::find()
        .filter(entity::shift::Column::SlotId.eq(1))
        .filter(entity::shift::Column::Date.gte(monday))
        .filter(entity::shift::Column::Date.lt(monday + chrono::Duration::days(7)))
        .one(app.db())
        .await
        .expect("query")
        .expect("this week's shift");
    let student = app.user_id(&app.login("student1").await).await;
    entity::shift_signup::Entity::update_many()
        .col_expr(
            entity::shift_signup::Column::Status,
            Expr::value(entity::shift_signup::SignupStatus::SignedUp),
        )
        .col_expr(
            entity::shift_signup::Column::CheckedInAt,
            Expr::value(Option::<chrono::DateTime<chrono::Utc>>::None),
        )
        .col_expr(
            entity::shift_signup::Column::CheckedOutAt,
            Expr::value(Option::<chrono::DateTime<chrono::Utc>>::None),
        )
        .col_expr(
            entity::shift_signup::Column::Minutes,
            Expr::value(Option::<i32>::None),
        )
        .filter(entity::shift_signup::Column::ShiftId.eq(shift.id))
        .filter(entity::shift_signup::Column::StudentId.eq(student.parse::<i64>().expect("id")))
        .exec(app.db())
        .await
        .expect("this week's sign-up undone");
    let before = app.gql(Some(&staff), SUMMARY, week.clone()).await;
    assert_eq!(
        grid_row(&before, "汇通第一网格")["weekStart"],
        monday.to_string()
    );

    // This week in 汇通第一网格: a patrol of 12 households today; three incidents, one
    // resolved on site, two whistled, one of them carried to closing and the other overdue;
    // a wish published and confirmed; a student's completed three-hour shift.
    ok(&app
        .gql(
            Some(&grid),
            "mutation($g: ID!) { logPatrol(input: {gridId: $g, householdsVisited: 12, checklist: [\"SHOPS\"]}) { patrol { id } } }",
            json!({"g": ht1}),
        )
        .await);
    incident(&app, "汇通路 30 号", &["resolve"]).await;
    incident(
        &app,
        "汇通路 32 号",
        &["whistle", "dispatch", "accept", "handle", "close"],
    )
    .await;
    let late = incident(&app, "汇通路 34 号", &["whistle", "dispatch"]).await;
    let week_start = chrono_tz::Asia::Shanghai
        .from_local_datetime(&monday.and_hms_opt(0, 0, 1).expect("time"))
        .earliest()
        .expect("instant")
        .with_timezone(&chrono::Utc);
    let deadline = (api::core::clock::now() - chrono::Duration::minutes(1)).max(week_start);
    entity::incident::Entity::update_many()
        .col_expr(entity::incident::Column::Deadline, Expr::value(deadline))
        .filter(entity::incident::Column::Id.eq(late.parse::<i64>().expect("id")))
        .exec(app.db())
        .await
        .expect("deadline");
    let v = app
        .gql(
            Some(&grid),
            "mutation($g: ID!) { submitWish(input: {gridId: $g, title: \"修自行车\", description: \"车胎漏气\", category: SERVICE, beneficiaryName: \"赵奶奶\"}) { wish { id } } }",
            json!({"g": ht1}),
        )
        .await;
    let wish = ok(&v)["submitWish"]["wish"]["id"].clone();
    for (token, q) in [
        (
            &staff,
            "mutation($id: ID!) { reviewWish(input: {wishId: $id, decision: PUBLISH}) { wish { id } } }",
        ),
        (
            &member,
            "mutation($id: ID!) { claimWish(input: {wishId: $id}) { wish { id } } }",
        ),
        (
            &member,
            "mutation($id: ID!) { fulfillWish(input: {wishId: $id, note: \"已补胎\"}) { wish { id } } }",
        ),
        (
            &grid,
            "mutation($id: ID!) { confirmWish(input: {wishId: $id, rating: 5}) { wish { id } } }",
        ),
    ] {
        ok(&app.gql(Some(token), q, json!({"id": wish})).await);
    }
    let now = api::core::clock::now();
    let done = entity::shift_signup::Entity::update_many()
        .col_expr(
            entity::shift_signup::Column::Status,
            Expr::value(entity::shift_signup::SignupStatus::Completed),
        )
        .col_expr(entity::shift_signup::Column::CheckedInAt, Expr::value(now))
        .col_expr(entity::shift_signup::Column::CheckedOutAt, Expr::value(now))
        .col_expr(entity::shift_signup::Column::Minutes, Expr::value(180))
        .filter(entity::shift_signup::Column::ShiftId.eq(shift.id))
        .filter(entity::shift_signup::Column::StudentId.eq(student.parse::<i64>().expect("id")))
        .exec(app.db())
        .await
        .expect("signup");
    if done.rows_affected == 0 {
        entity::shift_signup::ActiveModel {
            shift_id: Set(shift.id),
            student_id: Set(student.parse().expect("id")),
            status: Set(entity::shift_signup::SignupStatus::Completed),
            signed_up_at: Set(now),
            checked_in_at: Set(Some(now)),
            checked_out_at: Set(Some(now)),
            minutes: Set(Some(180)),
            ..Default::default()
        }
        .insert(app.db())
        .await
        .expect("signup");
    }

    let after = app.gql(Some(&staff), SUMMARY, week.clone()).await;
    let (b, a) = (
        grid_row(&before, "汇通第一网格"),
        grid_row(&after, "汇通第一网格"),
    );
    let delta: Vec<f64> = FIGURES
        .iter()
        .map(|f| a[f].as_f64().unwrap_or(-1.0) - b[f].as_f64().unwrap_or(-1.0))
        .collect();
    assert_eq!(
        delta,
        vec![1.0, 12.0, 3.0, 1.0, 2.0, 1.0, 1.0, 1.0, 1.0, 3.0],
        "{FIGURES:?}"
    );
    // Other grids did nothing this week.
    for row in ok(&after)["gridWeeklySummary"].as_array().expect("rows") {
        if row["grid"]["name"] != "汇通第一网格" {
            let before_row = grid_row(&before, row["grid"]["name"].as_str().expect("name"));
            assert_eq!(row, before_row);
        }
    }
    // The score is the documented one.
    let score = |r: &Value| {
        let n = |k: &str| r[k].as_f64().unwrap_or(0.0) as i64;
        2 * n("incidentsResolvedOnSite")
            + 2 * n("incidentsClosed")
            + n("patrols")
            + n("householdsVisited") / 10
            + 2 * n("wishesConfirmed")
            + n("studentHours")
            - 3 * n("incidentsOverdue")
    };
    assert_eq!(a["score"].as_i64(), Some(score(a)));

    // The ranking: best first, equal scores share a rank, 汇通第一网格 at the top.
    let v = app
        .gql(
            Some(&grid),
            "query($c: ID!, $w: Date!) { gridRanking(communityId: $c, week: $w) { rank summary { grid { name } score } } }",
            week.clone(),
        )
        .await;
    let ranks = ok(&v)["gridRanking"].as_array().expect("ranks").clone();
    assert_eq!(
        ranks.len(),
        ok(&after)["gridWeeklySummary"]
            .as_array()
            .map_or(0, Vec::len)
    );
    assert_eq!(ranks[0]["summary"]["grid"]["name"], "汇通第一网格");
    assert_eq!(ranks[0]["rank"], 1);
    for pair in ranks.windows(2) {
        let (x, y) = (&pair[0], &pair[1]);
        let (sx, sy) = (
            x["summary"]["score"].as_i64(),
            y["summary"]["score"].as_i64(),
        );
        assert!(sx >= sy);
        if sx == sy {
            assert_eq!(x["rank"], y["rank"]);
        } else {
            assert!(y["rank"].as_i64() > x["rank"].as_i64());
        }
    }

    // Who may see the meeting's figures.
    for (who, code) in [
        ("resident1", Some("FORBIDDEN")),
        ("member1", Some("FORBIDDEN")),
        ("rep-power", Some("FORBIDDEN")),
        ("wz-staff", Some("FORBIDDEN")),
        ("admin", None),
        ("grid", None),
    ] {
        let token = app.login(who).await;
        let v = app.gql(Some(&token), SUMMARY, week.clone()).await;
        assert_eq!(error_code(&v), code, "{who}: {v}");
    }
    assert_code(&app.gql(None, SUMMARY, week).await, "UNAUTHENTICATED");
}

#[tokio::test]
async fn the_summary_of_100_grids_runs_as_many_statements_as_of_10() {
    let app = TestApp::with_demo().await;
    let xianhe = app.community_id("仙鹤社区").await;
    let community: i64 = xianhe.parse().expect("id");
    let admin = app.login("admin").await;
    let add = |from: usize, to: usize| {
        let app = &app;
        async move {
            for i in from..to {
                entity::grid::ActiveModel {
                    community_id: Set(community),
                    parent_id: Set(None),
                    name: Set(format!("仙鹤批量网格{i:03}")),
                    kind: Set(entity::grid::GridKind::Comprehensive),
                    households: Set(200),
                    description: Set(None),
                    created_at: Set(api::core::clock::now()),
                    ..Default::default()
                }
                .insert(app.db())
                .await
                .expect("grid");
            }
        }
    };
    let today = api::core::validate::today().to_string();
    let mut counts = Vec::new();
    for (from, to, total) in [(0, 9, 10), (9, 99, 100)] {
        add(from, to).await;
        for q in [
            SUMMARY,
            "query($c: ID!, $w: Date!) { gridRanking(communityId: $c, week: $w) { rank summary { grid { name } score } } }",
        ] {
            let (n, v) = app
                .statements_of(Some(&admin), q, json!({"c": xianhe, "w": today}))
                .await;
            let rows = ok(&v)
                .as_object()
                .and_then(|o| o.values().next())
                .and_then(Value::as_array)
                .map_or(0, Vec::len);
            assert_eq!(rows, total);
            counts.push(n);
        }
    }
    assert_eq!(counts[0], counts[2], "summary: {counts:?}");
    assert_eq!(counts[1], counts[3], "ranking: {counts:?}");
    assert!(counts[0] <= 12, "{counts:?}");
}

#[tokio::test]
async fn grid_star_candidates_are_the_quarters_workers_by_their_documented_score() {
    let app = TestApp::with_demo().await;
    let staff = app.login("staff").await;
    let huitong = app.community_id("汇通社区").await;
    let today = api::core::validate::today();
    let quarter = (today.month0() / 3 + 1) as i32;
    incident(&app, "汇通路 40 号", &["resolve"]).await;
    incident(
        &app,
        "汇通路 42 号",
        &["whistle", "dispatch", "accept", "handle", "close"],
    )
    .await;
    let q = "query($c: ID!, $y: Int!, $q: Int!) { gridStarCandidates(communityId: $c, year: $y, quarter: $q) { worker { username } score patrols householdsVisited incidentsReported incidentsResolvedOnSite incidentsClosed } }";
    let v = app
        .gql(
            Some(&staff),
            q,
            json!({"c": huitong, "y": today.year(), "q": quarter}),
        )
        .await;
    let list = ok(&v)["gridStarCandidates"]
        .as_array()
        .expect("list")
        .clone();
    let top = &list[0];
    assert_eq!(top["worker"]["username"], "grid");
    // Against the rows: the same figures straight from the tables.
    let grid_id: i64 = app
        .user_id(&app.login("grid").await)
        .await
        .parse()
        .expect("id");
    let start = chrono::NaiveDate::from_ymd_opt(today.year(), (quarter as u32 - 1) * 3 + 1, 1)
        .expect("date");
    let scalar = |sql: String| {
        let app = &app;
        async move {
            let backend = app.db().get_database_backend();
            let row = app
                .db()
                .query_one_raw(Statement::from_string(backend, sql))
                .await
                .expect("query")
                .expect("row");
            row.try_get_by_index::<i64>(0).expect("n")
        }
    };
    let patrols = scalar(format!(
        "SELECT COUNT(*) FROM patrols WHERE worker_id = {grid_id} AND date >= '{start}'"
    ))
    .await;
    let households = scalar(format!(
        "SELECT CAST(COALESCE(SUM(households_visited), 0) AS BIGINT) FROM patrols WHERE worker_id = {grid_id} AND date >= '{start}'"
    ))
    .await;
    let reported = scalar(format!(
        "SELECT COUNT(*) FROM incidents WHERE reported_by = {grid_id}"
    ))
    .await;
    let resolved = scalar(format!(
        "SELECT COUNT(*) FROM incident_steps WHERE actor_id = {grid_id} AND to_status = 'RESOLVED_ON_SITE'"
    ))
    .await;
    let closed = scalar(format!(
        "SELECT COUNT(*) FROM incident_steps WHERE actor_id = {grid_id} AND to_status = 'CLOSED'"
    ))
    .await;
    assert_eq!(
        [
            &top["patrols"],
            &top["householdsVisited"],
            &top["incidentsReported"],
            &top["incidentsResolvedOnSite"],
            &top["incidentsClosed"],
        ],
        [
            &json!(patrols),
            &json!(households),
            &json!(reported),
            &json!(resolved),
            &json!(closed)
        ]
    );
    assert_eq!(
        top["score"].as_i64(),
        Some(patrols + households / 10 + 2 * reported + 3 * resolved + 2 * closed)
    );
    assert!(reported >= 10 && closed >= 2 && resolved >= 2);
    // Scores are in order; residents and other communities' staff may not look.
    for pair in list.windows(2) {
        assert!(pair[0]["score"].as_i64() >= pair[1]["score"].as_i64());
    }
    for who in ["resident1", "wz-staff"] {
        let token = app.login(who).await;
        let v = app
            .gql(
                Some(&token),
                q,
                json!({"c": huitong, "y": today.year(), "q": quarter}),
            )
            .await;
        assert_code(&v, "FORBIDDEN");
    }
    let v = app
        .gql(
            Some(&staff),
            q,
            json!({"c": huitong, "y": today.year(), "q": 5}),
        )
        .await;
    assert_code(&v, "BAD_USER_INPUT");
}

#[tokio::test]
async fn overdue_incidents_are_counted_against_their_unit() {
    let app = TestApp::with_demo().await;
    let staff = app.login("staff").await;
    let huitong = app.community_id("汇通社区").await;
    let q = "query($c: ID!) { incidentLoadByUnit(communityId: $c) { organization { name } open overdue } }";
    // The demo: the power branch holds the dispatched (overdue), accepted and reopened ones.
    let v = app.gql(Some(&staff), q, json!({"c": huitong})).await;
    assert_eq!(
        ok(&v)["incidentLoadByUnit"],
        json!([{"organization": {"name": "仙林供电所党支部"}, "open": 3, "overdue": 1}])
    );
    // A second unit with one incident, not overdue: listed after the branch.
    incident(&app, "汇通路 50 号", &["whistle", "dispatch"]).await;
    let hospital = org(&app, "仙林鼓楼医院").await;
    let late = incident(&app, "汇通路 52 号", &["whistle"]).await;
    ok(&app
        .gql(
            Some(&staff),
            "mutation($i: ID!, $o: ID!) { dispatchIncident(input: {incidentId: $i, organizationId: $o}) { incident { id } } }",
            json!({"i": late, "o": hospital}),
        )
        .await);
    let v = app.gql(Some(&staff), q, json!({"c": huitong})).await;
    assert_eq!(
        ok(&v)["incidentLoadByUnit"],
        json!([
            {"organization": {"name": "仙林供电所党支部"}, "open": 4, "overdue": 1},
            {"organization": {"name": "仙林鼓楼医院"}, "open": 1, "overdue": 0}
        ])
    );
    for who in ["grid", "wz-staff", "rep-power", "resident1"] {
        let token = app.login(who).await;
        assert_code(
            &app.gql(Some(&token), q, json!({"c": huitong})).await,
            "FORBIDDEN",
        );
    }
}
