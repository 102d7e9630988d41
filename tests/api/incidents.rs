//! Grid incidents (网格吹哨、部门报到): the whole path and every out-of-order step, who may
//! take each step and who sees what, dispatch only to a street department or a current
//! alliance member, two reps accepting at once, a redispatch racing an acceptance, overdue.

use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_code, error_code, ok};

const FIELDS: &str = "id status overdue deadline resolution rating organization { name } raisedBy { username } reportedBy { username } history { fromStatus toStatus actor { username } organization { name } note }";

pub(crate) async fn org_id(app: &TestApp, name: &str) -> String {
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

pub(crate) async fn step(app: &TestApp, token: &str, mutation: &str, input: Value) -> Value {
    let q = format!(
        "mutation($in: {}Input!) {{ {mutation}(input: $in) {{ incident {{ {FIELDS} }} }} }}",
        match mutation {
            "resolveIncidentOnSite" | "whistleIncident" | "reopenIncident" =>
                "IncidentNote".to_owned(),
            "acceptIncident" => "Incident".to_owned(),
            other => {
                let mut c = other.chars();
                c.next()
                    .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                    .unwrap_or_default()
            }
        }
    );
    app.gql(Some(token), &q, json!({"in": input})).await
}

fn status(v: &Value, mutation: &str) -> String {
    ok(v)[mutation]["incident"]["status"]
        .as_str()
        .expect("status")
        .to_owned()
}

pub(crate) async fn reported(app: &TestApp, worker: &str, raised_by: Option<&str>) -> String {
    let ht1 = app.grid_id("汇通第一网格").await;
    let v = step(
        app,
        worker,
        "reportIncident",
        json!({"gridId": ht1, "location": "汇通路 12 号楼下", "category": "HIDDEN_RISK", "subject": "UTILITIES", "description": "沿街商铺用电负荷过大，电线老化", "urgency": "URGENT", "raisedById": raised_by}),
    )
    .await;
    assert_eq!(status(&v, "reportIncident"), "REPORTED");
    ok(&v)["reportIncident"]["incident"]["id"]
        .as_str()
        .expect("id")
        .to_owned()
}

#[tokio::test]
async fn the_whole_path_with_every_out_of_order_step_refused() {
    let app = TestApp::with_demo().await;
    let grid = app.login("grid").await;
    let staff = app.login("staff").await;
    let rep = app.login("rep-power").await;
    let resident = app.login("resident1").await;
    let resident_id = app.user_id(&resident).await;
    let power = org_id(&app, "仙林供电所党支部").await;
    let not_member = org_id(&app, "汇通社区居民党支部").await;
    let id = reported(&app, &grid, Some(&resident_id)).await;
    let note = |n: &str| json!({"incidentId": id, "note": n});

    // From REPORTED: no dispatch, close or reopen yet; the unit cannot even see it.
    assert_code(
        &step(
            &app,
            &staff,
            "dispatchIncident",
            json!({"incidentId": id, "organizationId": power}),
        )
        .await,
        "INVALID_STATE",
    );
    assert_code(
        &step(
            &app,
            &grid,
            "closeIncident",
            json!({"incidentId": id, "rating": 5}),
        )
        .await,
        "INVALID_STATE",
    );
    assert_code(
        &step(&app, &grid, "reopenIncident", note("再看看")).await,
        "INVALID_STATE",
    );
    assert_code(
        &step(&app, &rep, "acceptIncident", json!({"incidentId": id})).await,
        "NOT_FOUND",
    );
    // Staff do not whistle for the grid worker.
    assert_code(
        &step(&app, &staff, "whistleIncident", note("越权")).await,
        "FORBIDDEN",
    );

    let v = step(&app, &grid, "whistleIncident", note("需供电所增容")).await;
    assert_eq!(status(&v, "whistleIncident"), "WHISTLED");
    assert_code(
        &step(&app, &grid, "whistleIncident", note("再吹")).await,
        "INVALID_STATE",
    );
    assert_code(
        &step(&app, &grid, "resolveIncidentOnSite", note("已解决")).await,
        "INVALID_STATE",
    );
    // Only a street department or a current alliance member; the grid worker may not send.
    assert_code(
        &step(
            &app,
            &staff,
            "dispatchIncident",
            json!({"incidentId": id, "organizationId": not_member}),
        )
        .await,
        "BAD_USER_INPUT",
    );
    assert_code(
        &step(
            &app,
            &grid,
            "dispatchIncident",
            json!({"incidentId": id, "organizationId": power}),
        )
        .await,
        "FORBIDDEN",
    );
    assert_code(&step(&app, &staff, "dispatchIncident", json!({"incidentId": id, "organizationId": power, "deadline": "2020-01-01T00:00:00+08:00"})).await, "BAD_USER_INPUT");

    let v = step(
        &app,
        &staff,
        "dispatchIncident",
        json!({"incidentId": id, "organizationId": power}),
    )
    .await;
    let inc = &ok(&v)["dispatchIncident"]["incident"];
    assert_eq!(inc["status"], "DISPATCHED");
    assert_eq!(inc["organization"]["name"], "仙林供电所党支部");
    assert_eq!(inc["overdue"], false);
    // URGENT: 24 hours by default.
    let deadline =
        chrono::DateTime::parse_from_rfc3339(inc["deadline"].as_str().expect("deadline"))
            .expect("time");
    let hours = (deadline.with_timezone(&chrono::Utc) - api::core::clock::now()).num_minutes()
        as f64
        / 60.0;
    assert!((23.5..=24.0).contains(&hours), "{hours}");
    let v = step(
        &app,
        &rep,
        "handleIncident",
        json!({"incidentId": id, "result": "未接单先办结"}),
    )
    .await;
    assert_code(&v, "INVALID_STATE");
    assert_eq!(
        v["errors"][0]["extensions"]["reason"], "INCIDENT_NOT_ACCEPTED_YET",
        "{v}"
    );
    assert_code(
        &step(
            &app,
            &grid,
            "closeIncident",
            json!({"incidentId": id, "rating": 5}),
        )
        .await,
        "INVALID_STATE",
    );
    // Another unit's rep neither sees nor accepts it.
    assert_code(
        &step(
            &app,
            &app.login("rep-huitong").await,
            "acceptIncident",
            json!({"incidentId": id}),
        )
        .await,
        "NOT_FOUND",
    );

    let v = step(&app, &rep, "acceptIncident", json!({"incidentId": id})).await;
    assert_eq!(status(&v, "acceptIncident"), "ACCEPTED");
    // The same rep accepting again (a retry): not "taken by someone else".
    let v = step(&app, &rep, "acceptIncident", json!({"incidentId": id})).await;
    assert_code(&v, "CONFLICT");
    assert_eq!(
        v["errors"][0]["extensions"]["reason"], "INCIDENT_ALREADY_ACCEPTED",
        "{v}"
    );
    let v = step(
        &app,
        &rep,
        "handleIncident",
        json!({"incidentId": id, "result": "已更换线路并增容"}),
    )
    .await;
    assert_eq!(status(&v, "handleIncident"), "HANDLED");
    assert_code(
        &step(
            &app,
            &grid,
            "closeIncident",
            json!({"incidentId": id, "rating": 6}),
        )
        .await,
        "BAD_USER_INPUT",
    );
    // The resident is not satisfied: back to the unit, which reports in again.
    let v = step(&app, &grid, "reopenIncident", note("晚高峰仍跳闸")).await;
    assert_eq!(status(&v, "reopenIncident"), "REOPENED");
    let v = step(&app, &rep, "acceptIncident", json!({"incidentId": id})).await;
    assert_eq!(status(&v, "acceptIncident"), "ACCEPTED");
    step(
        &app,
        &rep,
        "handleIncident",
        json!({"incidentId": id, "result": "新增一台变压器"}),
    )
    .await;
    let v = step(
        &app,
        &grid,
        "closeIncident",
        json!({"incidentId": id, "rating": 5, "note": "居民满意"}),
    )
    .await;
    let inc = &ok(&v)["closeIncident"]["incident"];
    assert_eq!(inc["status"], "CLOSED");
    assert_eq!(inc["rating"], 5);
    assert_eq!(inc["resolution"], "新增一台变压器");
    assert_code(
        &step(&app, &grid, "reopenIncident", note("又坏了")).await,
        "INVALID_STATE",
    );
    // Every step, with actor and organisation.
    let history: Vec<(String, String)> = inc["history"]
        .as_array()
        .expect("history")
        .iter()
        .map(|s| {
            (
                s["toStatus"].as_str().unwrap_or("").to_owned(),
                s["actor"]["username"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    let expected = [
        ("REPORTED", "grid"),
        ("WHISTLED", "grid"),
        ("DISPATCHED", "staff"),
        ("ACCEPTED", "rep-power"),
        ("HANDLED", "rep-power"),
        ("REOPENED", "grid"),
        ("ACCEPTED", "rep-power"),
        ("HANDLED", "rep-power"),
        ("CLOSED", "grid"),
    ];
    assert_eq!(
        history,
        expected
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect::<Vec<_>>()
    );
    assert_eq!(
        inc["history"][2]["organization"]["name"],
        "仙林供电所党支部"
    );
    assert_eq!(inc["history"][1]["note"], "需供电所增容");

    // A REPORTED incident can instead be solved on the spot, and then nothing else.
    let other = reported(&app, &grid, None).await;
    let v = step(
        &app,
        &grid,
        "resolveIncidentOnSite",
        json!({"incidentId": other, "note": "已协调商户错峰用电"}),
    )
    .await;
    assert_eq!(status(&v, "resolveIncidentOnSite"), "RESOLVED_ON_SITE");
    assert_code(
        &step(
            &app,
            &grid,
            "whistleIncident",
            json!({"incidentId": other, "note": "x"}),
        )
        .await,
        "INVALID_STATE",
    );
}

#[tokio::test]
async fn each_viewer_sees_only_their_incidents_and_the_raiser_stays_private() {
    let app = TestApp::with_demo().await;
    let grid = app.login("grid").await;
    let staff = app.login("staff").await;
    let rep = app.login("rep-power").await;
    let resident = app.login("resident1").await;
    let resident_id = app.user_id(&resident).await;
    let power = org_id(&app, "仙林供电所党支部").await;
    let id = reported(&app, &grid, Some(&resident_id)).await;
    let list = "{ incidents(first: 50) { totalCount nodes { id raisedBy { username } reportedBy { username } } } }";
    let one = "query($id: ID!) { incident(id: $id) { id raisedBy { username } } }";
    let count = |v: &Value| ok(v)["incidents"]["totalCount"].as_i64().expect("n");
    let node = |v: &Value| {
        ok(v)["incidents"]["nodes"]
            .as_array()
            .and_then(|a| a.iter().find(|n| n["id"] == id.as_str()))
            .cloned()
    };
    // The demo's eight incidents of 汇通第一网格, as each viewer sees them: the grid's worker
    // and staff all of them, the resident the two she raised, the power branch the five
    // dispatched to it, everybody else none.
    for (who, demo) in [
        ("grid", 8),
        ("staff", 8),
        ("admin", 8),
        ("resident1", 2),
        ("rep-power", 5),
        ("member1", 0),
        ("wz-staff", 0),
        ("rep-huitong", 0),
        ("student1", 0),
    ] {
        let token = app.login(who).await;
        let v = app.gql(Some(&token), list, json!({})).await;
        let sees = ["grid", "staff", "admin", "resident1"].contains(&who);
        assert_eq!(count(&v), demo + i64::from(sees), "{who}: {v}");
        if sees {
            assert_eq!(
                node(&v).expect("the new incident")["raisedBy"]["username"],
                "resident1"
            );
            let v = app.gql(Some(&token), one, json!({"id": id})).await;
            assert_eq!(ok(&v)["incident"]["raisedBy"]["username"], "resident1");
        } else {
            assert!(node(&v).is_none(), "{who}");
            assert_code(
                &app.gql(Some(&token), one, json!({"id": id})).await,
                "NOT_FOUND",
            );
        }
    }
    let _ = (&grid, &resident);
    assert_code(&app.gql(None, list, json!({})).await, "UNAUTHENTICATED");
    assert_code(
        &app.gql(None, one, json!({"id": id})).await,
        "UNAUTHENTICATED",
    );
    // Raisers of the demo's incidents stay hidden from the unit.
    let v = app.gql(Some(&rep), list, json!({})).await;
    assert!(
        ok(&v)["incidents"]["nodes"]
            .as_array()
            .expect("nodes")
            .iter()
            .all(|n| n["raisedBy"].is_null())
    );

    // Once dispatched, the unit sees it — but not who raised it.
    step(
        &app,
        &grid,
        "whistleIncident",
        json!({"incidentId": id, "note": "吹哨"}),
    )
    .await;
    step(
        &app,
        &staff,
        "dispatchIncident",
        json!({"incidentId": id, "organizationId": power}),
    )
    .await;
    let v = app.gql(Some(&rep), list, json!({})).await;
    assert_eq!(count(&v), 6);
    let mine = node(&v).expect("dispatched to the unit");
    assert_eq!(mine["raisedBy"], Value::Null);
    assert_eq!(mine["reportedBy"]["username"], "grid");
    // The demo has one DISPATCHED and one CLOSED incident of the branch.
    let v = app
        .gql(Some(&staff), "query($o: ID!) { a: incidents(organizationId: $o, status: DISPATCHED) { totalCount } b: incidents(status: CLOSED) { totalCount } }", json!({"o": power}))
        .await;
    assert_eq!(ok(&v)["a"]["totalCount"], 2);
    assert_eq!(ok(&v)["b"]["totalCount"], 1);
}

#[tokio::test]
async fn two_reps_accepting_at_once_give_one_success_and_one_conflict() {
    let app = TestApp::with_demo().await;
    let grid = app.login("grid").await;
    let staff = app.login("staff").await;
    let power = org_id(&app, "仙林供电所党支部").await;
    let (_, second) = app
        .quick_user(
            "rep-power-2",
            &[api::account::rules::RoleGrant {
                role: entity::role_assignment::Role::UnitRep,
                community_id: None,
                grid_id: None,
                organization_id: Some(power.parse().expect("id")),
            }],
        )
        .await;
    let first = app.login("rep-power").await;
    for _ in 0..3 {
        let id = reported(&app, &grid, None).await;
        step(
            &app,
            &grid,
            "whistleIncident",
            json!({"incidentId": id, "note": "吹哨"}),
        )
        .await;
        step(
            &app,
            &staff,
            "dispatchIncident",
            json!({"incidentId": id, "organizationId": power}),
        )
        .await;
        let (a, b) = tokio::join!(
            step(&app, &first, "acceptIncident", json!({"incidentId": id})),
            step(&app, &second, "acceptIncident", json!({"incidentId": id})),
        );
        let codes: Vec<Option<&str>> = [&a, &b].iter().map(|v| error_code(v)).collect();
        assert!(
            codes.contains(&None) && codes.contains(&Some("CONFLICT")),
            "{a} {b}"
        );
        let v = app
            .gql(
                Some(&staff),
                "query($id: ID!) { incident(id: $id) { status history { toStatus } } }",
                json!({"id": id}),
            )
            .await;
        let accepted = ok(&v)["incident"]["history"]
            .as_array()
            .expect("history")
            .iter()
            .filter(|s| s["toStatus"] == "ACCEPTED")
            .count();
        assert_eq!(accepted, 1, "one acceptance in the history");
    }
}

#[tokio::test]
async fn a_redispatch_racing_an_acceptance_leaves_one_consistent_outcome() {
    let app = TestApp::with_demo().await;
    let grid = app.login("grid").await;
    let staff = app.login("staff").await;
    let rep = app.login("rep-power").await;
    let power = org_id(&app, "仙林供电所党支部").await;
    let hospital = org_id(&app, "仙林鼓楼医院").await;
    for _ in 0..3 {
        let id = reported(&app, &grid, None).await;
        step(
            &app,
            &grid,
            "whistleIncident",
            json!({"incidentId": id, "note": "吹哨"}),
        )
        .await;
        step(
            &app,
            &staff,
            "dispatchIncident",
            json!({"incidentId": id, "organizationId": power}),
        )
        .await;
        let (accepted, redispatched) = tokio::join!(
            step(&app, &rep, "acceptIncident", json!({"incidentId": id})),
            step(
                &app,
                &staff,
                "dispatchIncident",
                json!({"incidentId": id, "organizationId": hospital})
            ),
        );
        let wins = [&accepted, &redispatched]
            .iter()
            .filter(|v| v["errors"].is_null())
            .count();
        assert_eq!(wins, 1, "{accepted} {redispatched}");
        for v in [&accepted, &redispatched] {
            if let Some(code) = error_code(v) {
                assert!(
                    ["CONFLICT", "INVALID_STATE", "NOT_FOUND"].contains(&code),
                    "{v}"
                );
            }
        }
        let v = app
            .gql(
                Some(&staff),
                "query($id: ID!) { incident(id: $id) { status organization { name } } }",
                json!({"id": id}),
            )
            .await;
        let inc = &ok(&v)["incident"];
        if accepted["errors"].is_null() {
            assert_eq!(inc["status"], "ACCEPTED");
            assert_eq!(inc["organization"]["name"], "仙林供电所党支部");
        } else {
            assert_eq!(inc["status"], "DISPATCHED");
            assert_eq!(inc["organization"]["name"], "仙林鼓楼医院");
        }
    }
}

#[tokio::test]
async fn an_incident_past_its_deadline_is_overdue_and_filterable() {
    let app = TestApp::with_demo().await;
    let grid = app.login("grid").await;
    let staff = app.login("staff").await;
    let power = org_id(&app, "仙林供电所党支部").await;
    let late = reported(&app, &grid, None).await;
    let on_time = reported(&app, &grid, None).await;
    for id in [&late, &on_time] {
        step(
            &app,
            &grid,
            "whistleIncident",
            json!({"incidentId": id, "note": "吹哨"}),
        )
        .await;
        step(
            &app,
            &staff,
            "dispatchIncident",
            json!({"incidentId": id, "organizationId": power}),
        )
        .await;
    }
    {
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
        entity::incident::Entity::update_many()
            .col_expr(
                entity::incident::Column::Deadline,
                Expr::value(api::core::clock::now() - chrono::Duration::hours(1)),
            )
            .filter(entity::incident::Column::Id.eq(late.parse::<i64>().expect("id")))
            .exec(app.db())
            .await
            .expect("deadline");
    }
    let v = app
        .gql(Some(&staff), "{ overdue: incidents(overdue: true) { nodes { id overdue } } fine: incidents(overdue: false) { nodes { id overdue } } }", json!({}))
        .await;
    let d = ok(&v);
    // The late one and the demo's overdue incident; every one shown is overdue.
    let overdue = d["overdue"]["nodes"].as_array().expect("nodes");
    assert_eq!(overdue.len(), 2, "{overdue:?}");
    assert!(overdue.iter().all(|n| n["overdue"] == true));
    assert!(overdue.iter().any(|n| n["id"] == late.as_str()));
    assert!(!overdue.iter().any(|n| n["id"] == on_time.as_str()));
    assert!(
        d["fine"]["nodes"]
            .as_array()
            .expect("nodes")
            .iter()
            .any(|n| n["id"] == on_time.as_str() && n["overdue"] == false)
    );
    // Overdue, it may be sent to another unit.
    let hospital = org_id(&app, "仙林鼓楼医院").await;
    let v = step(
        &app,
        &staff,
        "dispatchIncident",
        json!({"incidentId": late, "organizationId": hospital}),
    )
    .await;
    assert_eq!(ok(&v)["dispatchIncident"]["incident"]["overdue"], false);
}

/// The OVERDUE events on the bus for `id` until the sentinel (an event for incident 0)
/// arrives, which is published after everything else.
async fn overdue_events(
    app: &TestApp,
    rx: &mut tokio::sync::broadcast::Receiver<
        api::core::bus::Stamped<api::incident::events::IncidentChanged>,
    >,
    id: i64,
) -> usize {
    use api::incident::events::{IncidentChanged, IncidentEventKind};
    app.state
        .events
        .publish(
            app.db(),
            IncidentChanged {
                kind: IncidentEventKind::Reported,
                incident_id: 0,
            },
        )
        .await;
    let mut n = 0;
    loop {
        let ev = tokio::time::timeout(std::time::Duration::from_secs(10), rx.recv())
            .await
            .expect("the sentinel arrives")
            .expect("bus open");
        let IncidentChanged { kind, incident_id } = ev.event;
        if incident_id == 0 {
            return n;
        }
        if incident_id == id && kind == IncidentEventKind::Overdue {
            n += 1;
        }
    }
}

#[tokio::test]
async fn an_overdue_incident_is_announced_once_per_dispatch() {
    use api::incident::rules::announce_overdue;
    let app = TestApp::with_demo().await;
    let grid = app.login("grid").await;
    let staff = app.login("staff").await;
    let power = org_id(&app, "仙林供电所党支部").await;
    let id = reported(&app, &grid, None).await;
    step(
        &app,
        &grid,
        "whistleIncident",
        json!({"incidentId": id, "note": "吹哨"}),
    )
    .await;
    step(
        &app,
        &staff,
        "dispatchIncident",
        json!({"incidentId": id, "organizationId": power}),
    )
    .await;
    let num: i64 = id.parse().expect("id");
    let mut rx = app
        .state
        .events
        .subscribe::<api::incident::events::IncidentChanged>();
    let events = app.state.events.clone();

    // Within its 24 hours: not this one (the demo's overdue incident is announced now).
    let now = api::core::clock::now();
    let first = announce_overdue(app.db(), &events, now).await.expect("job");
    assert_eq!(first.len(), 1);
    assert!(!first.contains(&num));
    // A clock 25 hours on, two runners at once: announced exactly once.
    let later = now + chrono::Duration::hours(25);
    let (a, b) = tokio::join!(
        announce_overdue(app.db(), &events, later),
        announce_overdue(app.db(), &events, later),
    );
    let announced: Vec<i64> = a.expect("job").into_iter().chain(b.expect("job")).collect();
    assert_eq!(announced, vec![num]);
    assert!(
        announce_overdue(app.db(), &events, later + chrono::Duration::hours(1))
            .await
            .expect("job")
            .is_empty()
    );
    assert_eq!(overdue_events(&app, &mut rx, num).await, 1);

    // Redispatched, it has a new deadline and is announced again once it passes.
    let hospital = org_id(&app, "仙林鼓楼医院").await;
    step(
        &app,
        &staff,
        "dispatchIncident",
        json!({"incidentId": id, "organizationId": hospital}),
    )
    .await;
    assert!(
        announce_overdue(app.db(), &events, now + chrono::Duration::hours(1))
            .await
            .expect("job")
            .is_empty()
    );
    let again = announce_overdue(app.db(), &events, later + chrono::Duration::hours(2))
        .await
        .expect("job");
    assert_eq!(again, vec![num]);
    assert_eq!(overdue_events(&app, &mut rx, num).await, 1);
    // Handled incidents are never overdue.
    let v = app
        .gql(
            Some(&staff),
            "query($o: ID!) { incidents(organizationId: $o, overdue: true) { totalCount } }",
            json!({"o": hospital}),
        )
        .await;
    assert_eq!(
        ok(&v)["incidents"]["totalCount"],
        0,
        "the clock of the query is the real one"
    );
}

#[tokio::test]
async fn a_page_of_incidents_with_their_history_costs_the_same_for_2_as_for_8() {
    let app = TestApp::with_demo().await;
    let staff = app.login("staff").await;
    let q = "query($n: Int!) { incidents(first: $n) { nodes { id grid { name } organization { name } reportedBy { displayName } photos { id } project { title } history { toStatus actor { displayName } organization { name } photos { id } } } } }";
    let mut counts = Vec::new();
    for n in [2, 8] {
        let (count, v) = app.statements_of(Some(&staff), q, json!({"n": n})).await;
        let nodes = ok(&v)["incidents"]["nodes"]
            .as_array()
            .expect("nodes")
            .clone();
        assert_eq!(nodes.len(), n);
        // The demo's incidents have their steps (the closed one: report, whistle, dispatch,
        // accept, handle, close).
        assert!(
            nodes
                .iter()
                .all(|i| !i["history"].as_array().expect("steps").is_empty())
        );
        counts.push(count);
    }
    assert_eq!(
        counts[0], counts[1],
        "statements for 2 vs 8 incidents: {counts:?}"
    );
    let patrols = "query($n: Int!) { patrols(first: $n) { nodes { date worker { displayName } revisions { revision } } } }";
    let mut counts = Vec::new();
    for n in [2, 7] {
        let (count, v) = app
            .statements_of(Some(&staff), patrols, json!({"n": n}))
            .await;
        assert_eq!(ok(&v)["patrols"]["nodes"].as_array().map(Vec::len), Some(n));
        counts.push(count);
    }
    assert_eq!(
        counts[0], counts[1],
        "statements for 2 vs 7 patrols: {counts:?}"
    );
}
