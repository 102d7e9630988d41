//! Patrols (网格巡查): one per worker, grid and date, amended by logging again with every
//! version kept; checklist items from the catalogue of the grid's kind; who may log and who
//! sees them.

use chrono::Duration;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_code, error_code, ok};

const LOG: &str = "mutation($in: LogPatrolInput!) { logPatrol(input: $in) { patrol { id date householdsVisited notes revision checklist { code label } worker { username } grid { name } revisions { revision householdsVisited checklist { code } notes } } } }";

fn patrol(v: &Value) -> &Value {
    &ok(v)["logPatrol"]["patrol"]
}

#[tokio::test]
async fn a_patrol_is_logged_once_per_day_and_amended_with_every_version_kept() {
    let app = TestApp::with_demo().await;
    let grid = app.login("grid").await;
    let ht1 = app.grid_id("汇通第一网格").await;
    let today = api::core::validate::today();
    let v = app
        .gql(
            Some(&grid),
            "query($g: ID!) { patrolChecklist(gridId: $g) { code label } }",
            json!({"g": ht1}),
        )
        .await;
    let items = ok(&v)["patrolChecklist"].as_array().expect("items").clone();
    assert_eq!(items.len(), 16, "十必到六必访");
    assert_eq!(
        items[0],
        json!({"code": "ELDERLY_ALONE", "label": "独居老人家必到"})
    );

    let v = app
        .gql(Some(&grid), LOG, json!({"in": {"gridId": ht1, "householdsVisited": 12, "checklist": ["ELDERLY_ALONE", "SHOPS", "SHOPS"], "notes": "3 栋楼道堆物"}}))
        .await;
    let first = patrol(&v).clone();
    assert_eq!(first["date"], today.to_string());
    assert_eq!(first["revision"], 1);
    assert_eq!(first["worker"]["username"], "grid");
    assert_eq!(
        first["checklist"],
        json!([{"code": "ELDERLY_ALONE", "label": "独居老人家必到"}, {"code": "SHOPS", "label": "沿街商铺必到"}])
    );
    // Again the same day: the same patrol, amended, both versions kept.
    let v = app
        .gql(Some(&grid), LOG, json!({"in": {"gridId": ht1, "date": today.to_string(), "householdsVisited": 15, "checklist": ["ELDERLY_ALONE"]}}))
        .await;
    let second = patrol(&v);
    assert_eq!(second["id"], first["id"]);
    assert_eq!(second["revision"], 2);
    assert_eq!(second["householdsVisited"], 15);
    assert_eq!(second["notes"], Value::Null);
    assert_eq!(
        second["revisions"],
        json!([
            {"revision": 1, "householdsVisited": 12, "checklist": [{"code": "ELDERLY_ALONE"}, {"code": "SHOPS"}], "notes": "3 栋楼道堆物"},
            {"revision": 2, "householdsVisited": 15, "checklist": [{"code": "ELDERLY_ALONE"}], "notes": null}
        ])
    );
    // Yesterday is another patrol: the demo logged it, so this amends it.
    let yesterday = (today - Duration::days(1)).to_string();
    let v = app
        .gql(Some(&grid), LOG, json!({"in": {"gridId": ht1, "date": yesterday, "householdsVisited": 8, "checklist": []}}))
        .await;
    assert_ne!(patrol(&v)["id"], first["id"]);
    assert_eq!(patrol(&v)["revision"], 2);

    // Bad input loses nothing.
    for bad in [
        json!({"gridId": ht1, "householdsVisited": 1, "checklist": ["LOOK_GATES"]}),
        json!({"gridId": ht1, "householdsVisited": -1, "checklist": []}),
        json!({"gridId": ht1, "date": (today + Duration::days(1)).to_string(), "householdsVisited": 1, "checklist": []}),
        json!({"gridId": ht1, "date": (today - Duration::days(31)).to_string(), "householdsVisited": 1, "checklist": []}),
    ] {
        assert_code(
            &app.gql(Some(&grid), LOG, json!({"in": bad})).await,
            "BAD_USER_INPUT",
        );
    }
    // Only a grid worker of the grid logs.
    for who in ["staff", "wz1-leader", "resident1", "rep-power"] {
        let token = app.login(who).await;
        let v = app
            .gql(
                Some(&token),
                LOG,
                json!({"in": {"gridId": ht1, "householdsVisited": 1, "checklist": []}}),
            )
            .await;
        assert_code(&v, "FORBIDDEN");
    }

    // Who sees them, with the filters.
    let list = "query($from: Date, $to: Date) { patrols(from: $from, to: $to) { totalCount nodes { date worker { username } } } }";
    let count = |v: &Value| ok(v)["patrols"]["totalCount"].as_i64().expect("n");
    for who in ["grid", "staff", "admin"] {
        let token = app.login(who).await;
        let v = app.gql(Some(&token), list, json!({})).await;
        // Today's and the demo's week of patrols (the seven days before today).
        assert_eq!(count(&v), 1 + 7, "{who}: {v}");
        let v = app
            .gql(Some(&token), list, json!({"from": today.to_string()}))
            .await;
        assert_eq!(count(&v), 1, "{who}");
    }
    let v = app
        .gql(Some(&app.login("wz-staff").await), list, json!({}))
        .await;
    assert_eq!(count(&v), 0);
    for who in ["resident1", "member1", "rep-power"] {
        let v = app.gql(Some(&app.login(who).await), list, json!({})).await;
        assert_code(&v, "FORBIDDEN");
    }
    let v = app
        .gql(
            Some(&grid),
            list,
            json!({"from": today.to_string(), "to": yesterday}),
        )
        .await;
    assert_code(&v, "BAD_USER_INPUT");
}

#[tokio::test]
async fn concurrent_logs_of_one_day_lose_no_version() {
    let app = TestApp::with_demo().await;
    let grid = app.login("grid").await;
    let ht1 = app.grid_id("汇通第一网格").await;
    let send = |n: i64| {
        let (app, grid, ht1) = (&app, grid.clone(), ht1.clone());
        async move {
            app.gql(
                Some(&grid),
                LOG,
                json!({"in": {"gridId": ht1, "householdsVisited": n, "checklist": []}}),
            )
            .await
        }
    };
    let results = futures::future::join_all((1..=4).map(send)).await;
    let wins = results.iter().filter(|v| v["errors"].is_null()).count();
    for v in &results {
        if let Some(code) = error_code(v) {
            assert_eq!(code, "CONFLICT", "{v}");
        }
    }
    assert!(wins >= 1);
    let v = app
        .gql(
            Some(&grid),
            "query($d: Date) { patrols(from: $d) { totalCount nodes { revision revisions { revision } } } }",
            json!({"d": api::core::validate::today().to_string()}),
        )
        .await;
    let d = ok(&v);
    assert_eq!(d["patrols"]["totalCount"], 1, "one patrol for the day");
    assert_eq!(d["patrols"]["nodes"][0]["revision"], wins as i64);
    assert_eq!(
        d["patrols"]["nodes"][0]["revisions"]
            .as_array()
            .map(Vec::len),
        Some(wins)
    );
}
