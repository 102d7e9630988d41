//! An account's life: password change and reset, deactivation, logging out everywhere.
//! Every earlier token stops at once; a reset forces a change; staff act only within their
//! community and never on ADMIN or staff; the last ADMIN stays.

use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_code, ok};

const ME: &str = "{ me { id username } }";
const WALL: &str = "{ wishes(first: 5) { nodes { id } } }";

async fn run(app: &TestApp, token: &str, q: &str, vars: Value) -> Value {
    app.gql(Some(token), q, vars).await
}

#[tokio::test]
async fn logout_everywhere_and_a_password_change_stop_every_earlier_token() {
    let app = TestApp::with_demo().await;
    let phone = app.login("member1").await;
    let laptop = app.login("member1").await;
    ok(&run(&app, &phone, ME, json!({})).await);

    // Log out everywhere: both tokens fail on their very next request.
    let v = run(
        &app,
        &laptop,
        "mutation { logoutEverywhere { at } }",
        json!({}),
    )
    .await;
    assert!(ok(&v)["logoutEverywhere"]["at"].is_string(), "{v}");
    for token in [&phone, &laptop] {
        assert_code(&run(&app, token, ME, json!({})).await, "UNAUTHENTICATED");
    }

    // A password change: wrong old password and weak new ones are refused and change nothing.
    let token = app.login("member1").await;
    let change = "mutation($o: String!, $n: String!) { changePassword(input: {oldPassword: $o, newPassword: $n}) { token expiresAt } }";
    for (old, new, field) in [
        ("wrong-password1", "Another-pass-9", "oldPassword"),
        ("lianxin-demo", "short1", "newPassword"),
        ("lianxin-demo", "onlyletterspassword", "newPassword"),
        ("lianxin-demo", "member1", "newPassword"),
        ("lianxin-demo", "lianxin-demo", "newPassword"),
    ] {
        let v = run(&app, &token, change, json!({"o": old, "n": new})).await;
        assert_code(&v, "BAD_USER_INPUT");
        assert_eq!(v["errors"][0]["extensions"]["field"], field, "{v}");
    }
    ok(&run(&app, &token, ME, json!({})).await);
    let v = run(
        &app,
        &token,
        change,
        json!({"o": "lianxin-demo", "n": "Gongjian-2026"}),
    )
    .await;
    let fresh = ok(&v)["changePassword"]["token"]
        .as_str()
        .expect("new token")
        .to_owned();
    assert_code(&run(&app, &token, ME, json!({})).await, "UNAUTHENTICATED");
    assert_eq!(
        ok(&run(&app, &fresh, ME, json!({})).await)["me"]["username"],
        "member1"
    );
    // The old password no longer logs in; the new one does.
    let v = app
        .gql(
            None,
            "mutation { login(input: {username: \"member1\", password: \"lianxin-demo\"}) { token } }",
            json!({}),
        )
        .await;
    assert_code(&v, "UNAUTHENTICATED");
    app.login_as("member1", "Gongjian-2026").await;
}

#[tokio::test]
async fn a_reset_forces_a_change_and_staff_reset_only_within_their_community() {
    let app = TestApp::with_demo().await;
    let resident = app.login("resident1").await;
    let resident_id = app.user_id(&resident).await;
    let admin_id = app.user_id(&app.login("admin").await).await;
    let staff_id = app.user_id(&app.login("staff").await).await;
    let staff = app.login("staff").await;
    let other_staff = app.login("wz-staff").await;
    let member = app.login("member1").await;
    let reset = "mutation($id: ID!, $p: String!) { resetPassword(input: {userId: $id, newPassword: $p}) { user { id username } } }";

    // Outside the caller's scope: another community's staff, a member, staff on ADMIN or on staff.
    for (token, target) in [
        (&other_staff, &resident_id),
        (&member, &resident_id),
        (&staff, &admin_id),
        (&other_staff, &staff_id),
    ] {
        let v = run(
            &app,
            token,
            reset,
            json!({"id": target, "p": "Temp-pass-1"}),
        )
        .await;
        assert_code(&v, "FORBIDDEN");
    }
    ok(&run(&app, &resident, ME, json!({})).await);
    let v = run(
        &app,
        &staff,
        reset,
        json!({"id": "999999", "p": "Temp-pass-1"}),
    )
    .await;
    assert_code(&v, "NOT_FOUND");

    // Staff of the resident's community reset: the resident's token stops at once.
    let v = run(
        &app,
        &staff,
        reset,
        json!({"id": resident_id, "p": "Temp-pass-1"}),
    )
    .await;
    assert_eq!(ok(&v)["resetPassword"]["user"]["username"], "resident1");
    assert_code(
        &run(&app, &resident, ME, json!({})).await,
        "UNAUTHENTICATED",
    );

    // The login says a change is due; until then only `me` and changePassword answer.
    let v = app
        .gql(
            None,
            "mutation { login(input: {username: \"resident1\", password: \"Temp-pass-1\"}) { token mustChangePassword } }",
            json!({}),
        )
        .await;
    assert_eq!(ok(&v)["login"]["mustChangePassword"], true);
    let temp = v["data"]["login"]["token"]
        .as_str()
        .expect("token")
        .to_owned();
    let v = run(&app, &temp, WALL, json!({})).await;
    assert_code(&v, "FORBIDDEN");
    assert_eq!(
        v["errors"][0]["extensions"]["reason"],
        "PASSWORD_CHANGE_REQUIRED"
    );
    let v = run(
        &app,
        &temp,
        "mutation { logoutEverywhere { at } } ",
        json!({}),
    )
    .await;
    ok(&v);
    let temp = app.login_as("resident1", "Temp-pass-1").await;
    ok(&run(&app, &temp, ME, json!({})).await);
    let v = run(
        &app,
        &temp,
        "mutation { changePassword(input: {oldPassword: \"Temp-pass-1\", newPassword: \"Mine-at-last-2\"}) { token } }",
        json!({}),
    )
    .await;
    let mine = ok(&v)["changePassword"]["token"]
        .as_str()
        .expect("token")
        .to_owned();
    ok(&run(&app, &mine, WALL, json!({})).await);
    let v = app
        .gql(
            None,
            "mutation { login(input: {username: \"resident1\", password: \"Mine-at-last-2\"}) { mustChangePassword } }",
            json!({}),
        )
        .await;
    assert_eq!(ok(&v)["login"]["mustChangePassword"], false);
}

#[tokio::test]
async fn deactivation_stops_tokens_at_once_and_the_last_admin_stays() {
    let app = TestApp::with_demo().await;
    let resident = app.login("resident1").await;
    let resident_id = app.user_id(&resident).await;
    let staff = app.login("staff").await;
    let other_staff = app.login("wz-staff").await;
    let admin = app.login("admin").await;
    let admin_id = app.user_id(&admin).await;
    let deactivate =
        "mutation($id: ID!) { deactivateUser(input: {userId: $id}) { user { id active } } }";
    let reactivate =
        "mutation($id: ID!) { reactivateUser(input: {userId: $id}) { user { id active } } }";

    assert_code(
        &run(&app, &other_staff, deactivate, json!({"id": resident_id})).await,
        "FORBIDDEN",
    );
    let v = run(&app, &staff, deactivate, json!({"id": resident_id})).await;
    assert_eq!(ok(&v)["deactivateUser"]["user"]["active"], false);
    assert_code(
        &run(&app, &resident, ME, json!({})).await,
        "UNAUTHENTICATED",
    );
    let v = app
        .gql(
            None,
            "mutation { login(input: {username: \"resident1\", password: \"lianxin-demo\"}) { token } }",
            json!({}),
        )
        .await;
    assert_code(&v, "UNAUTHENTICATED");
    assert_code(
        &run(&app, &staff, deactivate, json!({"id": resident_id})).await,
        "INVALID_STATE",
    );
    let v = run(&app, &staff, reactivate, json!({"id": resident_id})).await;
    assert_eq!(ok(&v)["reactivateUser"]["user"]["active"], true);
    // The token from before the deactivation stays dead; a new login works.
    assert_code(
        &run(&app, &resident, ME, json!({})).await,
        "UNAUTHENTICATED",
    );
    ok(&run(&app, &app.login("resident1").await, ME, json!({})).await);

    // The only ADMIN cannot deactivate themself.
    let v = run(&app, &admin, deactivate, json!({"id": admin_id})).await;
    assert_code(&v, "INVALID_STATE");
    ok(&run(&app, &admin, ME, json!({})).await);
    // The database holds the rule too: a direct update that skips the rules is refused.
    {
        use sea_orm::{ColumnTrait, QueryFilter, sea_query::Expr};
        let direct = entity::user::Entity::update_many()
            .col_expr(entity::user::Column::Active, Expr::value(false))
            .filter(entity::user::Column::Id.eq(admin_id.parse::<i64>().expect("id")))
            .exec(app.db())
            .await;
        assert!(direct.is_err(), "the database let the last ADMIN go");
        ok(&run(&app, &admin, ME, json!({})).await);
    }

    // Two ADMINs deactivating each other at once: exactly one succeeds.
    let second = app
        .create_user_with(
            "admin2",
            &[api::account::rules::RoleGrant {
                role: entity::role_assignment::Role::Admin,
                community_id: None,
                grid_id: None,
                organization_id: None,
            }],
        )
        .await;
    let second_id = app.user_id(&second).await;
    let (a, b) = tokio::join!(
        run(&app, &admin, deactivate, json!({"id": second_id})),
        run(&app, &second, deactivate, json!({"id": admin_id})),
    );
    let wins = [&a, &b].iter().filter(|v| v["errors"].is_null()).count();
    assert_eq!(wins, 1, "{a} {b}");
    let alive = [
        run(&app, &admin, ME, json!({})).await,
        run(&app, &second, ME, json!({})).await,
    ]
    .iter()
    .filter(|v| v["errors"].is_null())
    .count();
    assert_eq!(alive, 1, "one ADMIN is left");
}

#[tokio::test]
async fn the_viewer_costs_one_statement_and_follows_role_changes_at_once() {
    let app = TestApp::with_demo().await;
    let resident = app.login("resident1").await;
    let id: i64 = app.user_id(&resident).await.parse().expect("id");
    // Loaded once; afterwards a request reads only the user's row for the viewer (SQLite), or
    // nothing while the server listens for changed users (PostgreSQL).
    let (n, v) = app.statements_of(Some(&resident), ME, json!({})).await;
    ok(&v);
    let expected = if app.state.viewers.listening() { 0 } else { 1 };
    assert_eq!(n, expected, "statements for `me`");
    // A role granted in the database (any path, even one that forgets the cache) shows on
    // the next request once the server has heard of it (at once on SQLite): the database
    // raises the user's stamp, and announces the change on PostgreSQL.
    let roles = "{ me { roles { role } } }";
    let before = run(&app, &resident, roles, json!({})).await;
    assert!(!before.to_string().contains("PARTY_MEMBER"), "{before}");
    app.grant_directly(id, entity::role_assignment::Role::PartyMember, None)
        .await;
    let after = run(&app, &resident, roles, json!({})).await;
    assert!(after.to_string().contains("PARTY_MEMBER"), "{after}");
}

fn usernames(v: &Value) -> Vec<String> {
    ok(v)["users"]["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .filter_map(|n| n["username"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn users_lists_only_the_callers_scope_with_masked_fields() {
    let app = TestApp::with_demo().await;
    let list = "query($role: Role, $c: ID, $g: ID, $active: Boolean) { users(role: $role, communityId: $c, gridId: $g, active: $active, first: 100) { totalCount nodes { id username displayName phone } } }";
    let none = json!({});
    assert_code(&app.gql(None, list, none.clone()).await, "UNAUTHENTICATED");
    for who in ["resident1", "member1", "rep-school"] {
        let token = app.login(who).await;
        assert_code(&run(&app, &token, list, none.clone()).await, "FORBIDDEN");
    }

    // ADMIN: everyone.
    let admin = app.login("admin").await;
    let all = run(&app, &admin, list, none.clone()).await;
    let count = entity::user::Entity::find()
        .count(app.db())
        .await
        .expect("count");
    assert_eq!(ok(&all)["users"]["totalCount"], count, "{all}");

    // Staff of 汇通: the people of 汇通, never those of 文宗 only; full phones.
    let staff = app.login("staff").await;
    let huitong = app.community_id("汇通社区").await;
    let wenzong = app.community_id("文宗社区").await;
    let mine = run(&app, &staff, list, none.clone()).await;
    let names = usernames(&mine);
    for expected in ["staff", "grid", "member1", "resident1"] {
        assert!(
            names.contains(&expected.to_owned()),
            "{expected} missing: {names:?}"
        );
    }
    for outsider in ["wz-staff", "admin", "rep-power"] {
        assert!(
            !names.contains(&outsider.to_owned()),
            "{outsider} listed: {names:?}"
        );
    }
    let resident = ok(&mine)["users"]["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .find(|n| n["username"] == "resident1")
        .expect("resident1")
        .clone();
    assert!(
        !resident["phone"].as_str().unwrap_or("*").contains('*'),
        "{resident}"
    );
    // A filter never widens the scope: 文宗 through 汇通's staff is empty.
    let v = run(&app, &staff, list, json!({"c": wenzong})).await;
    assert_eq!(ok(&v)["users"]["totalCount"], 0, "{v}");
    let v = run(
        &app,
        &staff,
        list,
        json!({"c": huitong, "role": "RESIDENT"}),
    )
    .await;
    let residents = usernames(&v);
    assert!(residents.contains(&"resident1".to_owned()), "{v}");
    assert!(!residents.contains(&"staff".to_owned()), "{v}");

    // Deactivated people are found with active: false.
    let resident_id = app.user_id(&app.login("resident1").await).await;
    ok(&run(
        &app,
        &staff,
        "mutation($id: ID!) { deactivateUser(input: {userId: $id}) { user { id } } }",
        json!({"id": resident_id}),
    )
    .await);
    let v = run(&app, &staff, list, json!({"active": false})).await;
    assert_eq!(usernames(&v), vec!["resident1".to_owned()], "{v}");

    // A grid worker lists the people of their grids, phones masked by the person rule.
    let grid = app.login("grid").await;
    let ht1 = app.grid_id("汇通第一网格").await;
    let v = run(&app, &grid, list, json!({"g": ht1})).await;
    let nodes = ok(&v)["users"]["nodes"].as_array().expect("nodes").clone();
    assert!(!nodes.is_empty(), "{v}");
    for n in nodes.iter().filter(|n| n["username"] != "grid") {
        assert!(
            n["phone"].is_null() || n["phone"].as_str().is_some_and(|p| p.contains('*')),
            "{n}"
        );
    }
    let v = run(&app, &grid, list, json!({"c": wenzong})).await;
    assert_eq!(ok(&v)["users"]["totalCount"], 0, "{v}");
}

#[tokio::test]
async fn a_password_change_racing_a_reset_always_ends_with_the_reset_in_force() {
    let app = TestApp::with_demo().await;
    let staff = app.login("staff").await;
    let change = "mutation { changePassword(input: {oldPassword: \"lianxin-demo\", newPassword: \"Own-choice-3\"}) { token } }";
    let reset = "mutation($id: ID!) { resetPassword(input: {userId: $id, newPassword: \"Temp-pass-1\"}) { user { id } } }";
    for round in 0..4 {
        let username = format!("race{round}");
        let token = app
            .create_user_with(
                &username,
                &[api::account::rules::RoleGrant {
                    role: entity::role_assignment::Role::Resident,
                    community_id: Some(app.community_id("汇通社区").await.parse().expect("id")),
                    grid_id: None,
                    organization_id: None,
                }],
            )
            .await;
        let id = app.user_id(&token).await;
        let (changed, was_reset) = tokio::join!(
            run(&app, &token, change, json!({})),
            run(&app, &staff, reset, json!({"id": id})),
        );
        // The reset always applies; the change either ran before it or lost: CONFLICT (the
        // hash moved under it), its token already refused, or the old password no longer
        // being the current one.
        ok(&was_reset);
        if !changed["errors"].is_null() {
            let e = &changed["errors"][0]["extensions"];
            let lost = matches!(e["code"].as_str(), Some("CONFLICT" | "UNAUTHENTICATED"))
                || (e["code"] == "BAD_USER_INPUT" && e["field"] == "oldPassword");
            assert!(lost, "round {round}: {changed}");
        }
        // Whatever the order: the temporary password logs in and must be changed, the
        // chosen one does not log in, and no token from before (the change's included) works.
        let v = app
            .gql(
                None,
                "mutation($u: String!) { login(input: {username: $u, password: \"Temp-pass-1\"}) { mustChangePassword } }",
                json!({"u": username}),
            )
            .await;
        assert_eq!(ok(&v)["login"]["mustChangePassword"], true, "round {round}");
        let v = app
            .gql(
                None,
                "mutation($u: String!) { login(input: {username: $u, password: \"Own-choice-3\"}) { token } }",
                json!({"u": username}),
            )
            .await;
        assert_code(&v, "UNAUTHENTICATED");
        assert_code(&run(&app, &token, ME, json!({})).await, "UNAUTHENTICATED");
        if let Some(t) = changed["data"]["changePassword"]["token"].as_str() {
            assert_code(&run(&app, t, ME, json!({})).await, "UNAUTHENTICATED");
        }
    }
}

/// On PostgreSQL a known viewer is served without reading their row while the server listens
/// for changed users; a change of the row made anywhere (here a direct UPDATE, as another
/// instance or the command line would make it) is announced at commit and the next request
/// reads the row again. A mutation run by this server takes effect on the very next request.
/// On SQLite the row is read on every request.
#[tokio::test]
async fn a_cached_viewer_is_read_again_as_soon_as_their_row_changes_anywhere() {
    use sea_orm::{ConnectionTrait, DbBackend};
    let app = TestApp::with_demo().await;
    let postgres = app.db().get_database_backend() == DbBackend::Postgres;
    let resident = app.login("resident1").await;
    let id: i64 = app.user_id(&resident).await.parse().expect("id");
    let staff = app.login("staff").await;
    assert_eq!(app.state.viewers.listening(), postgres);
    ok(&run(&app, &resident, ME, json!({})).await);
    let before = app.statements();
    let v = run(&app, &resident, ME, json!({})).await;
    assert_eq!(ok(&v)["me"]["username"], "resident1");
    let n = app.statements() - before;
    assert_eq!(n, if postgres { 0 } else { 1 }, "`me` ran {n} statements");

    // Deactivated behind the server's back: refused once the change is announced.
    app.db()
        .execute_unprepared(&format!("UPDATE users SET active = FALSE WHERE id = {id}"))
        .await
        .expect("direct update");
    app.settle().await;
    assert_code(
        &run(&app, &resident, ME, json!({})).await,
        "UNAUTHENTICATED",
    );
    app.db()
        .execute_unprepared(&format!("UPDATE users SET active = TRUE WHERE id = {id}"))
        .await
        .expect("direct update");
    app.settle().await;
    ok(&run(&app, &resident, ME, json!({})).await);

    // A deactivation through the API: refused on the very next request, with no wait.
    ok(&run(&app, &resident, ME, json!({})).await);
    let v = run(
        &app,
        &staff,
        "mutation($id: ID!) { deactivateUser(input: {userId: $id}) { user { active } } }",
        json!({"id": id.to_string()}),
    )
    .await;
    assert_eq!(ok(&v)["deactivateUser"]["user"]["active"], false);
    assert_code(
        &run(&app, &resident, ME, json!({})).await,
        "UNAUTHENTICATED",
    );
}
