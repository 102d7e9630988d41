use api::account::rules::RoleGrant;
use entity::{grid, grid::GridKind, role_assignment::Role};
use sea_orm::{ActiveModelTrait, ActiveValue::Set};
use serde_json::json;

use crate::helpers::{TestApp, assert_code, error_code, ok};

const CARD: &str = "query($g: ID!) { contactCard(gridId: $g) { phonesVisible communityPhone grid { name } community { name } leader { name role phone } workers { name role phone } } }";

#[tokio::test]
async fn contact_card_masks_phones_for_outsiders_and_shows_them_to_the_community() {
    let app = TestApp::with_demo().await;
    let ht1 = app.grid_id("汇通第一网格").await;
    let anon = app.gql(None, CARD, json!({"g": ht1})).await;
    let card = &ok(&anon)["contactCard"];
    assert_eq!(card["leader"]["name"], "李网格");
    assert_eq!(card["leader"]["phone"], "138****5678");
    assert_eq!(card["workers"][0]["phone"], "138****0002");
    assert_eq!(card["workers"][1]["role"], "AUXILIARY");
    assert_eq!(card["communityPhone"], "025-85550101");
    assert_eq!(card["phonesVisible"], false);

    // A resident of 汇通 sees the phones whole.
    let resident = app.login("resident1").await;
    let v = app.gql(Some(&resident), CARD, json!({"g": ht1})).await;
    let card = &ok(&v)["contactCard"];
    assert_eq!(card["leader"]["phone"], "13812345678");
    assert_eq!(card["workers"][0]["phone"], "13851700002");
    assert_eq!(card["phonesVisible"], true);

    // Staff of another community do not.
    let wz_staff = app.login("wz-staff").await;
    let v = app.gql(Some(&wz_staff), CARD, json!({"g": ht1})).await;
    assert_eq!(ok(&v)["contactCard"]["leader"]["phone"], "138****5678");

    // User.phone on the grid follows the same rule.
    let q = "query($g: ID!) { grid(id: $g) { leader { phone } } }";
    let v = app.gql(None, q, json!({"g": ht1})).await;
    assert_eq!(ok(&v)["grid"]["leader"]["phone"], "138****5678");
    let staff = app.login("staff").await;
    let v = app.gql(Some(&staff), q, json!({"g": ht1})).await;
    assert_eq!(ok(&v)["grid"]["leader"]["phone"], "13812345678");

    let missing = app.gql(None, CARD, json!({"g": "999999"})).await;
    assert_code(&missing, "NOT_FOUND");
}

const ASSIGN: &str = "mutation($g: ID!, $u: ID!, $r: StaffRole!) { assignGridStaff(input: {gridId: $g, userId: $u, role: $r}) { staff { role user { displayName } grid { leader { displayName } } } } }";

#[tokio::test]
async fn a_grid_cannot_get_a_second_current_leader() {
    let app = TestApp::with_demo().await;
    let staff = app.login("staff").await;
    let ht1 = app.grid_id("汇通第一网格").await;
    let member1 = app.login("member1").await;
    let member1_id = app.user_id(&member1).await;
    let v = app
        .gql(
            Some(&staff),
            ASSIGN,
            json!({"g": ht1, "u": member1_id, "r": "LEADER"}),
        )
        .await;
    assert_code(&v, "CONFLICT");

    // Ending the current leader's post frees the place.
    let posts = app
        .gql(
            Some(&staff),
            "query($g: ID!) { grid(id: $g) { staff { id role } } }",
            json!({"g": ht1}),
        )
        .await;
    let leader_post = posts["data"]["grid"]["staff"]
        .as_array()
        .and_then(|a| a.iter().find(|p| p["role"] == "LEADER"))
        .and_then(|p| p["id"].as_str())
        .expect("leader post")
        .to_owned();
    let v = app
        .gql(
            Some(&staff),
            "mutation($s: ID!) { endGridStaff(input: {staffId: $s}) { staff { endDate } } }",
            json!({"s": leader_post}),
        )
        .await;
    assert!(ok(&v)["endGridStaff"]["staff"]["endDate"].is_string());
    let v = app
        .gql(
            Some(&staff),
            ASSIGN,
            json!({"g": ht1, "u": member1_id, "r": "LEADER"}),
        )
        .await;
    assert_eq!(
        ok(&v)["assignGridStaff"]["staff"]["grid"]["leader"]["displayName"],
        "王建华"
    );
}

#[tokio::test]
async fn concurrent_leader_assignments_have_exactly_one_winner() {
    let app = TestApp::with_demo().await;
    let staff = app.login("staff").await;
    let huitong = app.community_id("汇通社区").await;
    let v = app
        .gql(
            Some(&staff),
            "mutation($c: ID!) { createGrid(input: {communityId: $c, name: \"新网格\", kind: DEDICATED}) { grid { id } } }",
            json!({"c": huitong}),
        )
        .await;
    let grid_id = ok(&v)["createGrid"]["grid"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let community: i64 = huitong.parse().expect("id");
    let mut ids = Vec::new();
    for i in 0..10 {
        let token = app
            .create_user_with(
                &format!("cand{i}"),
                &[RoleGrant {
                    role: Role::Resident,
                    community_id: Some(community),
                    grid_id: None,
                    organization_id: None,
                }],
            )
            .await;
        ids.push(app.user_id(&token).await);
    }
    let results = futures::future::join_all(ids.iter().map(|u| {
        app.gql(
            Some(&staff),
            ASSIGN,
            json!({"g": grid_id, "u": u, "r": "LEADER"}),
        )
    }))
    .await;
    let wins = results.iter().filter(|v| v.get("errors").is_none()).count();
    let conflicts = results
        .iter()
        .filter(|v| error_code(v) == Some("CONFLICT"))
        .count();
    assert_eq!((wins, conflicts), (1, 9), "{results:?}");
    let v = app
        .gql(
            None,
            "query($g: ID!) { grid(id: $g) { staff { role } } }",
            json!({"g": grid_id}),
        )
        .await;
    assert_eq!(ok(&v)["grid"]["staff"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn grids_filter_by_community_and_kind_and_micro_grids_need_a_parent() {
    let app = TestApp::with_demo().await;
    let huitong = app.community_id("汇通社区").await;
    let v = app
        .gql(None, "query($c: ID!) { grids(communityId: $c, kind: MICRO) { totalCount nodes { parent { name } } } }", json!({"c": huitong}))
        .await;
    let d = ok(&v);
    assert_eq!(d["grids"]["totalCount"], 2);
    assert_eq!(d["grids"]["nodes"][0]["parent"]["name"], "汇通第一网格");
    let staff = app.login("staff").await;
    let v = app
        .gql(Some(&staff), "mutation($c: ID!) { createGrid(input: {communityId: $c, name: \"孤立微网格\", kind: MICRO}) { grid { id } } }", json!({"c": huitong}))
        .await;
    assert_code(&v, "BAD_USER_INPUT");
    assert_eq!(v["errors"][0]["extensions"]["field"], "parentId");
    let v = app
        .gql(Some(&staff), "mutation($c: ID!) { createGrid(input: {communityId: $c, name: \"负数网格\", kind: COMPREHENSIVE, households: -5}) { grid { id } } }", json!({"c": huitong}))
        .await;
    assert_code(&v, "BAD_USER_INPUT");
}

#[tokio::test]
async fn listing_100_grids_runs_as_many_statements_as_listing_10() {
    let app = TestApp::with_demo().await;
    // Fill up to well over 100 grids with leaders and registrations via the demo's rows.
    let community: i64 = app.community_id("仙鹤社区").await.parse().expect("id");
    for i in 0..110 {
        grid::ActiveModel {
            community_id: Set(community),
            parent_id: Set(None),
            name: Set(format!("批量网格{i:03}")),
            kind: Set(if i % 2 == 0 {
                GridKind::Comprehensive
            } else {
                GridKind::Dedicated
            }),
            households: Set(300 + i),
            description: Set(None),
            created_at: Set(api::core::clock::now()),
            ..Default::default()
        }
        .insert(app.db())
        .await
        .expect("grid");
    }
    let token = app.login("admin").await;
    let q = "query($n: Int!) { grids(first: $n) { totalCount nodes { name community { name street { name } } leader { displayName phone } staff { role user { displayName } } microGrids { name } registeredMemberCount } } }";
    let mut counts = Vec::new();
    for n in [10, 100] {
        let (count, v) = app.statements_of(Some(&token), q, json!({"n": n})).await;
        assert_eq!(ok(&v)["grids"]["nodes"].as_array().map(Vec::len), Some(n));
        counts.push(count);
    }
    assert_eq!(
        counts[0], counts[1],
        "statements for 10 vs 100 grids: {counts:?}"
    );
    assert!(counts[0] <= 15, "too many statements: {counts:?}");
}

#[tokio::test]
async fn errors_never_leak_sql_paths_or_panics() {
    let app = TestApp::with_demo().await;
    let admin = app.login("admin").await;
    let mut responses = Vec::new();
    responses.push(
        app.gql(None, "{ grid(id: \"424242\") { name } }", json!({}))
            .await,
    );
    responses.push(
        app.gql(None, "{ grid(id: \"abc\") { name } }", json!({}))
            .await,
    );
    responses.push(
        app.gql(
            None,
            "{ grid(id: \"99999999999999999999999\") { name } }",
            json!({}),
        )
        .await,
    );
    let dup = "mutation { createCommunity(input: {name: \"汇通社区\"}) { community { id } } }";
    responses.push(app.gql(Some(&admin), dup, json!({})).await);
    let dup_org = "mutation { createOrganization(input: {name: \"汇通社区居民党支部\", kind: BRANCH}) { organization { id } } }";
    responses.push(app.gql(Some(&admin), dup_org, json!({})).await);
    let bad_parent = "mutation { createOrganization(input: {name: \"孤儿支部\", kind: BRANCH, parentId: \"777777\"}) { organization { id } } }";
    responses.push(app.gql(Some(&admin), bad_parent, json!({})).await);
    responses.push(app.gql(None, "{ nope }", json!({})).await);
    assert_code(&responses[0], "NOT_FOUND");
    assert_code(&responses[1], "BAD_USER_INPUT");
    assert_code(&responses[2], "BAD_USER_INPUT");
    assert_code(&responses[3], "CONFLICT");
    assert_code(&responses[4], "CONFLICT");
    assert_code(&responses[5], "NOT_FOUND");
    assert_code(&responses[6], "GRAPHQL_VALIDATION_FAILED");
    for v in &responses {
        let text = v["errors"].to_string().to_lowercase();
        for needle in [
            "select",
            "insert",
            "constraint",
            "sqlx",
            "sqlite",
            "postgres",
            "panicked",
            ".rs",
            "/work",
            "unique",
        ] {
            assert!(!text.contains(needle), "error leaks `{needle}`: {text}");
        }
    }
}
