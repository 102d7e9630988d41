//! The example operations for front-end teams under docs/operations/ (one file per screen)
//! each run against the demo data; and the dashboard overview's figures.

use serde_json::{Value, json};

use crate::helpers::{TestApp, ok};

#[tokio::test]
async fn every_documented_operation_runs_against_the_demo_data() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/operations");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("docs/operations")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    files.sort();
    assert!(files.len() >= 6, "one file per screen");
    let app = TestApp::with_demo().await;
    for path in files {
        let text = std::fs::read_to_string(&path).expect("read");
        let who = text
            .lines()
            .find_map(|l| l.split("Run as:").nth(1))
            .map(str::trim)
            .unwrap_or_else(|| panic!("{}: no `Run as:` line", path.display()));
        let variables: Value = text
            .lines()
            .find_map(|l| l.strip_prefix("# variables:"))
            .map(|v| serde_json::from_str(v.trim()).expect("variables JSON"))
            .unwrap_or(json!({}));
        let token = if who == "anonymous" {
            None
        } else {
            Some(app.login(who).await)
        };
        let v = app.gql(token.as_deref(), &text, variables).await;
        let data = ok(&v);
        let first = data
            .as_object()
            .and_then(|o| o.values().next())
            .expect("data");
        assert!(!first.is_null(), "{} returned null", path.display());
    }
}

#[tokio::test]
async fn the_overview_matches_the_demo_in_a_bounded_number_of_statements() {
    let app = TestApp::with_demo().await;
    let q = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/docs/operations/dashboard.graphql"
    ))
    .expect("read");
    let before = app.statements();
    let v = app.gql(None, &q, json!({"communityId": "1"})).await;
    let statements = app.statements() - before;
    let o = &ok(&v)["overview"];
    assert!(statements <= 25, "overview took {statements} statements");
    let find = |list: &Value, key: &str, value: &str, field: &str| {
        list.as_array()
            .and_then(|a| a.iter().find(|x| x[key] == value))
            .map(|x| x[field].as_i64().unwrap_or(0))
            .unwrap_or(0)
    };
    assert_eq!(find(&o["grids"], "kind", "COMPREHENSIVE", "grids"), 2);
    assert_eq!(
        find(&o["grids"], "kind", "COMPREHENSIVE", "households"),
        806
    );
    assert_eq!(find(&o["grids"], "kind", "MICRO", "grids"), 2);
    assert_eq!(o["totalHouseholds"], 806);
    assert_eq!(find(&o["staff"], "role", "LEADER", "count"), 4);
    assert_eq!(find(&o["staff"], "role", "WORKER", "count"), 1);
    assert_eq!(o["registeredMembers"], 1);
    assert_eq!(find(&o["wishes"], "status", "PUBLISHED", "count"), 1);
    assert_eq!(find(&o["wishes"], "status", "CLAIMED", "count"), 1);
    assert_eq!(find(&o["wishes"], "status", "CONFIRMED", "count"), 1);
    assert_eq!(find(&o["wishes"], "status", "PENDING_REVIEW", "count"), 1);
    // The demo holds a wish in every status of 汇通社区's card previews (FULFILLED, REJECTED,
    // CANCELLED there; the EXPIRED one is 文宗社区's).
    assert_eq!(find(&o["wishes"], "status", "FULFILLED", "count"), 1);
    assert_eq!(find(&o["wishes"], "status", "REJECTED", "count"), 1);
    assert_eq!(find(&o["wishes"], "status", "CANCELLED", "count"), 1);
    assert_eq!(o["wishesFulfilledThisMonth"], 2);
    assert!(o["pointsEarnedThisMonth"].as_i64().unwrap_or(0) >= 23);
    assert_eq!(o["pointsRedeemedThisMonth"], 10);
    let active = o["agreements"]["byStatus"]
        .as_array()
        .expect("status")
        .iter()
        .find(|s| s["status"] == "ACTIVE")
        .map(|s| s["count"].as_u64().unwrap_or(0));
    assert_eq!(active, Some(1));
    // The demo's grid work: one incident in every status, one of them overdue.
    let incidents = o["incidents"].as_array().expect("incidents");
    assert_eq!(incidents.len(), 8);
    assert!(incidents.iter().all(|s| s["count"] == 1), "{incidents:?}");
    assert_eq!(o["incidentsOverdue"], 1);
}

#[tokio::test]
async fn the_grid_workers_day_and_the_units_inbox_show_the_demos_work() {
    let app = TestApp::with_demo().await;
    let read = |name: &str| {
        std::fs::read_to_string(format!(
            "{}/docs/operations/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .expect("read")
    };
    let grid = app.login("grid").await;
    let v = app
        .gql(
            Some(&grid),
            &read("grid-workers-day.graphql"),
            json!({"gridId": app.grid_id("汇通第一网格").await, "communityId": app.community_id("汇通社区").await, "week": api::core::validate::today().to_string()}),
        )
        .await;
    let d = ok(&v);
    assert_eq!(d["patrolChecklist"].as_array().map(Vec::len), Some(16));
    assert_eq!(d["patrols"]["nodes"].as_array().map(Vec::len), Some(7));
    assert_eq!(d["incidents"]["totalCount"], 8);
    // The grid's worker sees who raised what (two were raised by a resident).
    let raised = d["incidents"]["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .filter(|n| !n["raisedBy"].is_null())
        .count();
    assert_eq!(raised, 2);

    let rep = app.login("rep-power").await;
    let v = app
        .gql(Some(&rep), &read("unit-inbox.graphql"), json!({}))
        .await;
    let d = ok(&v);
    // Dispatched to the power branch: dispatched (overdue), accepted, handled (a project),
    // closed and reopened.
    assert_eq!(d["overdue"]["totalCount"], 1);
    assert_eq!(d["overdue"]["nodes"][0]["status"], "DISPATCHED");
    assert_eq!(d["incidents"]["totalCount"], 5);
    let nodes = d["incidents"]["nodes"].as_array().expect("nodes");
    let mut statuses: Vec<&str> = nodes.iter().filter_map(|n| n["status"].as_str()).collect();
    statuses.sort_unstable();
    assert_eq!(
        statuses,
        ["ACCEPTED", "CLOSED", "DISPATCHED", "HANDLED", "REOPENED"]
    );
    let projects: Vec<&Value> = nodes.iter().filter(|n| !n["project"].is_null()).collect();
    assert_eq!(projects.len(), 1);
    assert_eq!(
        projects[0]["project"]["title"],
        "民生实事：汇通商业街电力增容"
    );
}
