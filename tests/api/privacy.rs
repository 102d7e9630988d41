//! Personal-data rights (PIPL): the caller's own data, whole and only theirs, also as a
//! file; the access log of unmasked views (and not of masked ones), for ADMIN only; erasure
//! that leaves no copy of the name, phone or address in any column of any table and leaves
//! balances and statistics as they were.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::helpers::{TestApp, assert_code, error_code, ok};

const MINE: &str = "{ myPersonalData { profile { id username phone } roles { role } roleHistory { id } registrations { id member { id } } wishesSubmitted { id submittedBy { id } } wishesBenefiting { id } claims { id member { id } } passbooks { id holder { id } balance } ledger { id amount } goodDeeds { id } redemptions { id } signups { id } hours incidentsRaised { id } incidentsReported { id } viewedBy { id path viewer { username } } } }";

async fn count(app: &TestApp, sql: &str) -> i64 {
    let backend = app.db().get_database_backend();
    let row = app
        .db()
        .query_one_raw(Statement::from_string(backend, sql.to_owned()))
        .await
        .expect("count")
        .expect("row");
    row.try_get_by_index::<i64>(0).expect("int")
}

async fn download(app: &TestApp, token: Option<&str>) -> (StatusCode, Option<String>, Value) {
    let mut req = Request::get("/me/personal-data");
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    let resp = app
        .router
        .clone()
        .oneshot(req.body(Body::empty()).expect("request"))
        .await
        .expect("response");
    let status = resp.status();
    let disposition = resp
        .headers()
        .get(header::CONTENT_DISPOSITION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let bytes = resp.into_body().collect().await.expect("body").to_bytes();
    (
        status,
        disposition,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn my_personal_data_is_everything_held_and_only_the_callers() {
    let app = TestApp::with_demo().await;
    // An incident the grid worker reported for resident1, and one without a resident.
    let grid = app.login("grid").await;
    let ht1 = app.grid_id("汇通第一网格").await;
    let resident_id = app.user_id(&app.login("resident1").await).await;
    for raised in [Some(resident_id.clone()), None] {
        let v = app
            .gql(Some(&grid), "mutation($g: ID!, $r: ID) { reportIncident(input: {gridId: $g, location: \"楼下\", category: PAIN, subject: SAFETY, description: \"路灯坏了\", raisedById: $r}) { incident { id } } }", json!({"g": ht1, "r": raised}))
            .await;
        ok(&v);
    }
    for who in ["resident1", "member1", "student1", "grid"] {
        let token = app.login(who).await;
        let id = app.user_id(&token).await;
        let v = app.gql(Some(&token), MINE, json!({})).await;
        let d = &ok(&v)["myPersonalData"];
        assert_eq!(d["profile"]["id"], id.as_str());
        assert_eq!(d["profile"]["username"], who);
        // Each part holds exactly the rows the database holds about the caller.
        let n = |k: &str| d[k].as_array().map_or(0, |a| a.len()) as i64;
        let q = |sql: String| {
            let app = &app;
            async move { count(app, &sql).await }
        };
        assert_eq!(
            n("roles"),
            q(format!(
                "SELECT COUNT(*) FROM role_assignments WHERE user_id = {id}"
            ))
            .await,
            "{who} roles"
        );
        assert_eq!(
            n("roleHistory"),
            q(format!(
                "SELECT COUNT(*) FROM role_grants WHERE user_id = {id}"
            ))
            .await,
            "{who} history"
        );
        assert_eq!(
            n("registrations"),
            q(format!(
                "SELECT COUNT(*) FROM grid_registrations WHERE member_id = {id}"
            ))
            .await,
            "{who} registrations"
        );
        assert_eq!(
            n("wishesSubmitted"),
            q(format!(
                "SELECT COUNT(*) FROM wishes WHERE submitted_by = {id}"
            ))
            .await,
            "{who} wishes"
        );
        assert_eq!(
            n("wishesBenefiting"),
            q(format!(
                "SELECT COUNT(*) FROM wishes WHERE beneficiary_user_id = {id}"
            ))
            .await,
            "{who} benefiting"
        );
        assert_eq!(
            n("claims"),
            q(format!(
                "SELECT COUNT(*) FROM wish_claims WHERE member_id = {id}"
            ))
            .await,
            "{who} claims"
        );
        assert_eq!(
            n("passbooks"),
            q(format!(
                "SELECT COUNT(*) FROM passbooks WHERE holder_id = {id}"
            ))
            .await,
            "{who} passbooks"
        );
        assert_eq!(n("ledger"), q(format!("SELECT COUNT(*) FROM ledger_entries e JOIN passbooks p ON p.id = e.passbook_id WHERE p.holder_id = {id}")).await, "{who} ledger");
        assert_eq!(
            n("signups"),
            q(format!(
                "SELECT COUNT(*) FROM shift_signups WHERE student_id = {id}"
            ))
            .await,
            "{who} signups"
        );
        // And none of anybody else's.
        for (list, path) in [
            ("registrations", "member"),
            ("wishesSubmitted", "submittedBy"),
            ("claims", "member"),
            ("passbooks", "holder"),
        ] {
            for row in d[list].as_array().expect("list") {
                assert_eq!(row[path]["id"], id.as_str(), "{who} {list}: {row}");
            }
        }
        // The phone is the caller's own, whole.
        let phone = d["profile"]["phone"].as_str().expect("phone");
        assert!(!phone.contains('*'), "{phone}");
        // The same as a file to keep; nobody else's token gets it.
        let (status, disposition, file) = download(&app, Some(&token)).await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            disposition
                .as_deref()
                .is_some_and(|d| d.starts_with("attachment;") && d.contains(who)),
            "{disposition:?}"
        );
        assert_eq!(file["profile"]["id"], id.as_str());
        assert_eq!(file["profile"]["phone"], phone);
        assert_eq!(
            file["ledger"].as_array().map(|a| a.len()),
            d["ledger"].as_array().map(|a| a.len())
        );
        assert_eq!(
            file["wishesSubmitted"].as_array().map(|a| a.len()),
            d["wishesSubmitted"].as_array().map(|a| a.len())
        );
    }
    let resident = app.login("resident1").await;
    let v = app.gql(Some(&resident), MINE, json!({})).await;
    // The demo's two and this test's one.
    assert_eq!(
        ok(&v)["myPersonalData"]["incidentsRaised"]
            .as_array()
            .map(Vec::len),
        Some(3)
    );
    // The demo's eight and this test's two.
    let v = app.gql(Some(&grid), MINE, json!({})).await;
    assert_eq!(
        ok(&v)["myPersonalData"]["incidentsReported"]
            .as_array()
            .map(Vec::len),
        Some(10)
    );
    // The member has a passbook and a claim in the demo: the test sees real rows.
    let member = app.login("member1").await;
    let v = app.gql(Some(&member), MINE, json!({})).await;
    assert!(
        !ok(&v)["myPersonalData"]["claims"]
            .as_array()
            .expect("claims")
            .is_empty()
    );
    let (status, _, body) = download(&app, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
    let (status, _, body) = download(&app, Some("forged.token.here")).await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
        "{status}"
    );
    assert_code(&app.gql(None, MINE, json!({})).await, "UNAUTHENTICATED");
}

const LOG: &str = "query($s: ID) { personalDataAccessLog(subjectId: $s, first: 100) { totalCount nodes { field path recordType recordId viewer { username } subject { id } } } }";

#[tokio::test]
async fn unmasked_views_by_staff_are_logged_and_masked_ones_are_not() {
    let app = TestApp::with_demo().await;
    let admin = app.login("admin").await;
    let staff = app.login("staff").await;
    let grid = app.login("grid").await;
    let member = app.login("member1").await;
    let resident = app.login("resident1").await;
    let resident_id = app.user_id(&resident).await;
    let logged = |subject: Option<String>| {
        let app = &app;
        let admin = admin.clone();
        async move {
            let v = app.gql(Some(&admin), LOG, json!({"s": subject})).await;
            ok(&v)["personalDataAccessLog"].clone()
        }
    };
    let before = logged(None).await["totalCount"].as_i64().expect("n");

    // The person themself, a member (masked) and a grid worker (name only) add nothing.
    ok(&app
        .gql(Some(&resident), "{ me { phone } }", json!({}))
        .await);
    let v = app
        .gql(Some(&member), "{ wishes(first: 50) { nodes { beneficiaryPhone claimant { phone } submittedBy { phone } } } }", json!({}))
        .await;
    ok(&v);
    let v = app
        .gql(
            Some(&grid),
            "{ users(first: 100) { nodes { id phone } } }",
            json!({}),
        )
        .await;
    let masked = ok(&v)["users"]["nodes"]
        .as_array()
        .and_then(|a| a.iter().find(|u| u["id"] == resident_id.as_str()))
        .map(|u| u["phone"].clone());
    if let Some(p) = masked {
        assert!(p.as_str().is_some_and(|p| p.contains('*')), "{p}");
    }
    let after_masked = logged(None).await;
    // Grid workers see their own grids' beneficiaries' phones: those are unmasked views.
    let worker_views = after_masked["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .filter(|n| n["viewer"]["username"] != "grid")
        .count() as i64;
    assert_eq!(worker_views, before, "{after_masked}");

    // Staff read the resident's phone: one entry, even when read twice in one request.
    let v = app
        .gql(Some(&staff), "{ a: users(first: 100) { nodes { id phone } } b: users(first: 100) { nodes { id phone } } }", json!({}))
        .await;
    let shown = ok(&v)["a"]["nodes"]
        .as_array()
        .and_then(|a| a.iter().find(|u| u["id"] == resident_id.as_str()))
        .and_then(|u| u["phone"].as_str())
        .expect("phone");
    assert_eq!(shown, "13770003333");
    let mine = logged(Some(resident_id.clone())).await;
    let by_staff: Vec<&Value> = mine["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .filter(|n| n["viewer"]["username"] == "staff")
        .collect();
    assert_eq!(by_staff.len(), 1, "{mine}");
    assert_eq!(by_staff[0]["field"], "PHONE");
    assert_eq!(by_staff[0]["path"], "User.phone");
    assert_eq!(by_staff[0]["subject"]["id"], resident_id.as_str());

    // A wish's beneficiary address read by staff: logged with the wish.
    let v = app
        .gql(
            Some(&staff),
            "{ wishes(first: 50) { nodes { id beneficiaryAddress beneficiary { id } } } }",
            json!({}),
        )
        .await;
    let wish = ok(&v)["wishes"]["nodes"]
        .as_array()
        .and_then(|a| {
            a.iter().find(|w| {
                w["beneficiary"]["id"] == resident_id.as_str()
                    && w["beneficiaryAddress"].is_string()
            })
        })
        .expect("the resident's own wish")
        .clone();
    let mine = logged(Some(resident_id.clone())).await;
    assert!(
        mine["nodes"]
            .as_array()
            .expect("nodes")
            .iter()
            .any(|n| n["path"] == "Wish.beneficiaryAddress"
                && n["field"] == "ADDRESS"
                && n["recordType"] == "Wish"
                && n["recordId"] == wish["id"]),
        "{mine}"
    );
    // The person sees who looked, in their own data.
    let v = app
        .gql(
            Some(&resident),
            "{ myPersonalData { viewedBy { path viewer { username } } } }",
            json!({}),
        )
        .await;
    let seen = &ok(&v)["myPersonalData"]["viewedBy"];
    assert!(
        seen.as_array()
            .expect("list")
            .iter()
            .any(|n| n["viewer"]["username"] == "staff"),
        "{seen}"
    );
    // ADMIN only.
    for who in [&staff, &grid, &resident] {
        assert_code(
            &app.gql(Some(who), LOG, json!({"s": null})).await,
            "FORBIDDEN",
        );
    }
}

/// Every value of every column of every table, as text, that contains `needle`.
pub(crate) async fn occurrences(app: &TestApp, needle: &str) -> Vec<String> {
    let db = app.db();
    let backend = db.get_database_backend();
    let columns_sql = match backend {
        DbBackend::Postgres => {
            "SELECT table_name::text, column_name::text FROM information_schema.columns WHERE table_schema = current_schema()"
        }
        _ => {
            "SELECT m.name, p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'"
        }
    };
    let columns = db
        .query_all_raw(Statement::from_string(backend, columns_sql.to_owned()))
        .await
        .expect("columns");
    assert!(
        columns.len() > 100,
        "every column of every table is scanned"
    );
    let mut found = Vec::new();
    for row in columns {
        let table: String = row.try_get_by_index(0).expect("table");
        let column: String = row.try_get_by_index(1).expect("column");
        let sql = format!(
            "SELECT CAST(\"{column}\" AS TEXT) FROM \"{table}\" WHERE CAST(\"{column}\" AS TEXT) LIKE '%{needle}%'"
        );
        for hit in db
            .query_all_raw(Statement::from_string(backend, sql))
            .await
            .expect("scan")
        {
            let value: String = hit.try_get_by_index(0).expect("text");
            found.push(format!("{table}.{column}: {value}"));
        }
    }
    found
}

#[tokio::test]
async fn erasure_leaves_no_copy_and_every_balance_and_count_as_it_was() {
    let app = TestApp::with_demo().await;
    let admin = app.login("admin").await;
    let staff = app.login("staff").await;
    let resident = app.login("resident1").await;
    let resident_id = app.user_id(&resident).await;
    let huitong = app.community_id("汇通社区").await;
    let ht1 = app.grid_id("汇通第一网格").await;
    let (name, phone, address) = ("王秀英", "13770003333", "汇通路 8 号 3 栋 201");

    // Copies of her data typed into other records by staff.
    let v = app
        .gql(
            Some(&staff),
            "mutation($g: ID!) { submitWish(input: {gridId: $g, title: \"修门口的路灯\", description: \"王秀英家门口的路灯坏了，联系电话 13770003333\", category: OTHER, beneficiaryName: \"王秀英\", beneficiaryPhone: \"13770003333\", beneficiaryAddress: \"汇通路 8 号 3 栋 201\"}) { wish { id } } }",
            json!({"g": ht1}),
        )
        .await;
    ok(&v);
    assert!(!occurrences(&app, name).await.is_empty());
    assert!(!occurrences(&app, phone).await.is_empty());

    let figures = "query($c: ID!, $from: Date!, $to: Date!) { overview(communityId: $c) { totalHouseholds registeredMembers wishes { status count } wishesFulfilledThisMonth pointsEarnedThisMonth pointsRedeemedThisMonth volunteerHoursThisMonth } pointsRanking(communityId: $c, from: $from, to: $to) { points } wishes(first: 1) { totalCount } }";
    let today = api::core::validate::today();
    let span = json!({"c": huitong, "from": (today - chrono::Duration::days(300)).to_string(), "to": today.to_string()});
    let before = app.gql(Some(&admin), figures, span.clone()).await;
    ok(&before);
    let balances = "SELECT CAST(COALESCE(SUM(balance), 0) AS BIGINT) FROM passbooks";
    let ledger = "SELECT CAST(COALESCE(SUM(amount), 0) + COUNT(*) AS BIGINT) FROM ledger_entries";
    let (balance_before, ledger_before) = (count(&app, balances).await, count(&app, ledger).await);
    let her_balance = count(
        &app,
        &format!("SELECT CAST(COALESCE(SUM(balance), 0) AS BIGINT) FROM passbooks WHERE holder_id = {resident_id}"),
    )
    .await;

    let erase = "mutation($u: ID!, $r: String!) { erasePersonalData(input: {userId: $u, reason: $r}) { user { id username displayName phone active } } }";
    let v = app
        .gql(
            Some(&admin),
            erase,
            json!({"u": resident_id, "r": "本人书面申请（王秀英，编号 PIPL-001）"}),
        )
        .await;
    let user = &ok(&v)["erasePersonalData"]["user"];
    assert_eq!(user["displayName"], "已删除用户");
    assert_eq!(user["phone"], Value::Null);
    assert_eq!(user["active"], false);
    assert_eq!(user["username"], format!("erased-{resident_id}"));

    // No copy of the name, the phone, the address or the login name anywhere.
    for needle in [name, phone, address, "resident1"] {
        let left = occurrences(&app, needle).await;
        assert!(left.is_empty(), "{needle} is still held: {left:?}");
    }
    // Balances, ledger and every figure as they were.
    assert_eq!(count(&app, balances).await, balance_before);
    assert_eq!(count(&app, ledger).await, ledger_before);
    assert_eq!(
        count(
            &app,
            &format!(
                "SELECT CAST(COALESCE(SUM(balance), 0) AS BIGINT) FROM passbooks WHERE holder_id = {resident_id}"
            )
        )
        .await,
        her_balance
    );
    let after = app.gql(Some(&admin), figures, span).await;
    assert_eq!(ok(&after), ok(&before));

    // The account is gone for good: old token, login, reactivation.
    assert_code(
        &app.gql(Some(&resident), "{ me { id } }", json!({})).await,
        "UNAUTHENTICATED",
    );
    let v = app
        .gql(None, "mutation { login(input: {username: \"resident1\", password: \"lianxin-demo\"}) { token } }", json!({}))
        .await;
    assert_code(&v, "UNAUTHENTICATED");
    let v = app
        .gql(
            Some(&admin),
            "mutation($u: ID!) { reactivateUser(input: {userId: $u}) { user { id } } }",
            json!({"u": resident_id}),
        )
        .await;
    assert_code(&v, "INVALID_STATE");
    let v = app
        .gql(Some(&admin), erase, json!({"u": resident_id, "r": "再次"}))
        .await;
    assert_code(&v, "INVALID_STATE");
    // Staff may not erase; nobody erases themself; the reason is required.
    let member_id = app.user_id(&app.login("member1").await).await;
    assert_code(
        &app.gql(Some(&staff), erase, json!({"u": member_id, "r": "申请"}))
            .await,
        "FORBIDDEN",
    );
    assert_code(
        &app.gql(Some(&admin), erase, json!({"u": member_id, "r": "  "}))
            .await,
        "BAD_USER_INPUT",
    );
    let admin_id = app.user_id(&admin).await;
    assert_code(
        &app.gql(Some(&admin), erase, json!({"u": admin_id, "r": "申请"}))
            .await,
        "BAD_USER_INPUT",
    );
}

#[tokio::test]
async fn an_erasure_racing_a_password_reset_and_a_role_grant_leaves_no_way_back_in() {
    use api::account::rules::RoleGrant;
    use entity::role_assignment::Role;
    use sea_orm::EntityTrait;
    let app = TestApp::with_demo().await;
    let admin = app.login("admin").await;
    let huitong = app.community_id("汇通社区").await;
    let community: i64 = huitong.parse().expect("id");
    let erase = "mutation($u: ID!) { erasePersonalData(input: {userId: $u, reason: \"本人申请删除\"}) { user { id } } }";
    let reset = "mutation($u: ID!) { resetPassword(input: {userId: $u, newPassword: \"Again-in-2026\"}) { user { id } } }";
    let grant = "mutation($u: ID!, $c: ID!) { grantRole(input: {userId: $u, role: PARTY_MEMBER, communityId: $c}) { grant { id } } }";
    for round in 0..4 {
        let name = format!("leaving{round}");
        let resident = [RoleGrant {
            role: Role::Resident,
            community_id: Some(community),
            grid_id: None,
            organization_id: None,
        }];
        let (id, _) = app.quick_user(&name, &resident).await;
        let (erased, reset_, granted) = tokio::join!(
            app.gql(Some(&admin), erase, json!({"u": id.to_string()})),
            app.gql(Some(&admin), reset, json!({"u": id.to_string()})),
            app.gql(
                Some(&admin),
                grant,
                json!({"u": id.to_string(), "c": huitong})
            ),
        );
        ok(&erased);
        for v in [&reset_, &granted] {
            if let Some(code) = error_code(v) {
                assert_eq!(code, "INVALID_STATE", "round {round}: {v}");
            }
        }
        let row = entity::user::Entity::find_by_id(id)
            .one(app.db())
            .await
            .expect("query")
            .expect("user");
        assert!(
            row.password_hash.starts_with('!'),
            "round {round}: a usable password"
        );
        assert!(!row.active);
        let erased_at = row.erased_at.expect("erased");
        // A grant that won was made before the erasure, never after it.
        if granted["errors"].is_null() {
            let g = entity::role_grant::Entity::find()
                .all(app.db())
                .await
                .expect("grants")
                .into_iter()
                .filter(|g| g.user_id == id && g.role == Role::PartyMember)
                .collect::<Vec<_>>();
            assert_eq!(g.len(), 1);
            assert!(g[0].granted_at <= erased_at, "round {round}");
        }
        for username in [name.as_str(), &format!("erased-{id}")] {
            let v = app
                .gql(
                    None,
                    "mutation($u: String!) { login(input: {username: $u, password: \"Again-in-2026\"}) { token } }",
                    json!({"u": username}),
                )
                .await;
            assert_code(&v, "UNAUTHENTICATED");
        }
    }
    // Once erased, both are refused outright.
    let (id, _) = app.quick_user("gone", &[]).await;
    ok(&app
        .gql(Some(&admin), erase, json!({"u": id.to_string()}))
        .await);
    assert_code(
        &app.gql(Some(&admin), reset, json!({"u": id.to_string()}))
            .await,
        "INVALID_STATE",
    );
    assert_code(
        &app.gql(
            Some(&admin),
            grant,
            json!({"u": id.to_string(), "c": huitong}),
        )
        .await,
        "INVALID_STATE",
    );
}
