//! The community's spreadsheet: a template to fill in, an import that checks the whole file
//! first (one bad row among 1,000 creates nothing and names that row), a good file that
//! creates every account, role and passbook, and the register that exports exactly the
//! community's people, for its staff only.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use calamine::{Data, Reader, Xlsx};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::helpers::{TestApp, assert_code, ok};

const IMPORT: &str = "mutation($in: ImportPeopleInput!) { importPeople(input: $in) { created passbooksOpened problems { row column reason } } }";

/// Sends `importPeople` as a GraphQL multipart request with `file`.
async fn import(
    app: &TestApp,
    token: Option<&str>,
    community: &str,
    name: &str,
    file: &[u8],
    password: Option<&str>,
) -> Value {
    app.gql_upload(
        token,
        IMPORT,
        json!({"in": {"communityId": community, "file": null, "initialPassword": password}}),
        "variables.in.file",
        name,
        file,
    )
    .await
}

async fn get(
    app: &TestApp,
    path: &str,
    token: Option<&str>,
) -> (StatusCode, Option<String>, Vec<u8>) {
    let mut req = Request::get(path);
    if let Some(t) = token {
        req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    let resp = app
        .router
        .clone()
        .oneshot(req.body(Body::empty()).expect("request"))
        .await
        .expect("response");
    let status = resp.status();
    let kind = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let bytes = resp
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes()
        .to_vec();
    (status, kind, bytes)
}

fn sheet(bytes: &[u8]) -> Vec<Vec<String>> {
    let mut book: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes.to_vec())).expect("an xlsx file");
    let range = book
        .worksheet_range_at(0)
        .expect("a sheet")
        .expect("readable");
    range
        .rows()
        .map(|r| {
            r.iter()
                .map(|c| match c {
                    Data::Float(f) => format!("{f}"),
                    other => other.to_string(),
                })
                .collect()
        })
        .collect()
}

pub(crate) fn csv_of(rows: &[[&str; 6]]) -> Vec<u8> {
    let mut out = String::from("\u{feff}用户名,姓名,手机号,身份,网格,开通存折\n");
    for r in rows {
        out.push_str(&r.join(","));
        out.push('\n');
    }
    out.into_bytes()
}

async fn user_count(app: &TestApp) -> u64 {
    use sea_orm::{EntityTrait, PaginatorTrait};
    entity::user::Entity::find()
        .count(app.db())
        .await
        .expect("count")
}

#[tokio::test]
async fn the_template_lists_the_columns_the_import_reads() {
    let app = TestApp::with_demo().await;
    let (status, kind, bytes) = get(&app, "/templates/people.xlsx", None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(kind.is_some_and(|k| k.contains("spreadsheetml")));
    let rows = sheet(&bytes);
    assert_eq!(
        rows[0],
        ["用户名", "姓名", "手机号", "身份", "网格", "开通存折"]
    );
    assert_eq!(rows.len(), 2, "header and one example");
    // The template, filled in as it comes, imports.
    let staff = app.login("staff").await;
    let huitong = app.community_id("汇通社区").await;
    let v = import(&app, Some(&staff), &huitong, "people.xlsx", &bytes, None).await;
    let out = &ok(&v)["importPeople"];
    assert_eq!(out["created"], 1, "{v}");
    assert_eq!(out["problems"], json!([]));
}

#[tokio::test]
async fn one_bad_row_among_a_thousand_creates_nothing_and_a_good_file_creates_everything() {
    let app = TestApp::with_demo().await;
    let staff = app.login("staff").await;
    let huitong = app.community_id("汇通社区").await;
    let names: Vec<(String, String, String)> = (0..1000)
        .map(|i| {
            (
                format!("import{i:04}"),
                format!("居民{i:04}"),
                format!("1390000{i:04}"),
            )
        })
        .collect();
    let rows = |bad: Option<usize>| -> Vec<u8> {
        let mut out = String::from("用户名,姓名,手机号,身份,网格,开通存折\n");
        for (i, (u, n, p)) in names.iter().enumerate() {
            let phone = if Some(i) == bad { "12345" } else { p.as_str() };
            let grid = if i % 2 == 0 { "汇通第一网格" } else { "" };
            let role = if i % 10 == 0 { "党员" } else { "居民" };
            out.push_str(&format!("{u},{n},{phone},{role},{grid},是\n"));
        }
        out.into_bytes()
    };
    let before = user_count(&app).await;
    let v = import(
        &app,
        Some(&staff),
        &huitong,
        "people.csv",
        &rows(Some(499)),
        Some("Welcome-2026"),
    )
    .await;
    let out = &ok(&v)["importPeople"];
    assert_eq!(out["created"], 0);
    assert_eq!(
        out["problems"],
        json!([{"row": 501, "column": "手机号", "reason": out["problems"][0]["reason"]}]),
        "{v}"
    );
    assert!(
        out["problems"][0]["reason"]
            .as_str()
            .is_some_and(|r| !r.is_empty())
    );
    assert_eq!(user_count(&app).await, before, "nothing was created");

    let v = import(
        &app,
        Some(&staff),
        &huitong,
        "people.csv",
        &rows(None),
        Some("Welcome-2026"),
    )
    .await;
    let out = &ok(&v)["importPeople"];
    assert_eq!(out["created"], 1000, "{v}");
    assert_eq!(out["passbooksOpened"], 1000);
    assert_eq!(out["problems"], json!([]));
    assert_eq!(user_count(&app).await, before + 1000);
    // Every person has their role in the community, granted by the staff member (history),
    // and a passbook in their grid; the initial password must be changed.
    let admin = app.login("admin").await;
    let v = app
        .gql(Some(&admin), "query($c: ID!) { users(communityId: $c, role: PARTY_MEMBER, first: 100) { totalCount } }", json!({"c": huitong}))
        .await;
    assert!(ok(&v)["users"]["totalCount"].as_i64().expect("n") >= 100);
    let v = app
        .gql(
            None,
            "mutation { login(input: {username: \"import0002\", password: \"Welcome-2026\"}) { token mustChangePassword } }",
            json!({}),
        )
        .await;
    let login = &ok(&v)["login"];
    assert_eq!(login["mustChangePassword"], true);
    let token = login["token"].as_str().expect("token").to_owned();
    let v = app
        .gql(Some(&token), "{ me { displayName phone roles { role community { name } } roleHistory { grantedBy { username } } } }", json!({}))
        .await;
    let me = &ok(&v)["me"];
    assert_eq!(me["displayName"], "居民0002");
    assert_eq!(me["phone"], "13900000002");
    assert_eq!(
        me["roles"],
        json!([{"role": "RESIDENT", "community": {"name": "汇通社区"}}])
    );
    assert_eq!(me["roleHistory"][0]["grantedBy"]["username"], "staff");
    {
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        let book = entity::passbook::Entity::find()
            .filter(
                entity::passbook::Column::HolderId.is_in(
                    entity::user::Entity::find()
                        .filter(entity::user::Column::Username.eq("import0002"))
                        .all(app.db())
                        .await
                        .expect("user")
                        .into_iter()
                        .map(|u| u.id),
                ),
            )
            .one(app.db())
            .await
            .expect("query")
            .expect("a passbook");
        assert_eq!(book.balance, 0);
        assert!(book.grid_id.is_some(), "row 2 named its grid");
    }
    // The same file again: every username is taken now and every phone held, and all are
    // reported, row by row.
    let v = import(
        &app,
        Some(&staff),
        &huitong,
        "people.csv",
        &rows(None),
        None,
    )
    .await;
    let out = &ok(&v)["importPeople"];
    assert_eq!(out["created"], 0);
    let problems = out["problems"].as_array().expect("problems");
    let count = |needle: &str| {
        problems
            .iter()
            .filter(|p| p["reason"].as_str().unwrap_or("").contains(needle))
            .count()
    };
    assert_eq!(count("用户名"), 1000);
    assert_eq!(count("已被其他账号使用"), 1000);
    assert_eq!(problems.len(), 2000);
}

#[tokio::test]
async fn every_kind_of_bad_row_is_reported_with_its_reason() {
    let app = TestApp::with_demo().await;
    let staff = app.login("staff").await;
    let huitong = app.community_id("汇通社区").await;
    let before = user_count(&app).await;
    let file = csv_of(&[
        ["good1", "好人", "13911112222", "居民", "", "是"],
        ["resident1", "重名", "", "居民", "", ""],
        ["twice", "甲", "", "居民", "", ""],
        ["twice", "乙", "", "居民", "", ""],
        ["nogrid", "丙", "", "居民", "火星网格", ""],
        ["badrole", "丁", "", "网格长", "", ""],
        ["bad name!", "戊", "", "居民", "", ""],
        ["noname", "", "", "党员", "", ""],
        ["badbook", "己", "", "居民", "", "也许"],
        ["wz", "庚", "", "居民", "文宗第一网格", ""],
    ]);
    let v = import(&app, Some(&staff), &huitong, "people.csv", &file, None).await;
    let out = &ok(&v)["importPeople"];
    assert_eq!(out["created"], 0);
    let rows: Vec<i64> = out["problems"]
        .as_array()
        .expect("problems")
        .iter()
        .map(|p| p["row"].as_i64().expect("row"))
        .collect();
    // Header is row 1: resident1 (taken) 3, the second "twice" 5, 6 grid, 7 role,
    // 8 username, 9 name, 10 passbook, 11 another community's grid.
    assert_eq!(rows, [3, 5, 6, 7, 8, 9, 10, 11], "{v}");
    assert_eq!(user_count(&app).await, before);

    // A missing column, an empty file, a file that is not a spreadsheet.
    let v = import(
        &app,
        Some(&staff),
        &huitong,
        "people.csv",
        "用户名,手机号\nabc,13900001111\n".as_bytes(),
        None,
    )
    .await;
    let problems = &ok(&v)["importPeople"]["problems"];
    assert_eq!(problems.as_array().map(Vec::len), Some(2), "{v}");
    assert_eq!(problems[0]["row"], 1);
    let v = import(&app, Some(&staff), &huitong, "people.csv", b"", None).await;
    assert_eq!(
        ok(&v)["importPeople"]["problems"][0]["reason"],
        "文件是空的"
    );
    let v = import(
        &app,
        Some(&staff),
        &huitong,
        "people.xlsx",
        &[0xff, 0xfe, 0x00, 0x41, 0x00, 0x42],
        None,
    )
    .await;
    assert_eq!(ok(&v)["importPeople"]["problems"][0]["row"], 0, "{v}");
    let v = import(
        &app,
        Some(&staff),
        &huitong,
        "people.xlsx",
        b"PK\x03\x04 not really a zip",
        None,
    )
    .await;
    assert_eq!(ok(&v)["importPeople"]["problems"][0]["row"], 0, "{v}");
    // A weak initial password is bad input; another community's staff are refused.
    let good = csv_of(&[["good2", "好人二", "", "居民", "", ""]]);
    let v = import(
        &app,
        Some(&staff),
        &huitong,
        "people.csv",
        &good,
        Some("short"),
    )
    .await;
    assert_code(&v, "BAD_USER_INPUT");
    let v = import(
        &app,
        Some(&app.login("wz-staff").await),
        &huitong,
        "people.csv",
        &good,
        None,
    )
    .await;
    assert_code(&v, "FORBIDDEN");
    let v = import(&app, None, &huitong, "people.csv", &good, None).await;
    assert_code(&v, "UNAUTHENTICATED");
    assert_eq!(user_count(&app).await, before);
    // A file a client names itself, without uploading it, is refused before anything runs
    // (async-graphql would otherwise index a file that is not there).
    for forged in [
        app.gql(Some(&staff), IMPORT, json!({"in": {"communityId": huitong, "file": "#__graphql_file__:0"}})).await,
        app.gql(Some(&staff), IMPORT, json!({"in": {"communityId": huitong, "file": "#__graphql_file__:x"}})).await,
        app.gql(Some(&staff), "mutation { importPeople(input: {communityId: \"1\", file: \"#__graphql_file__:7\"}) { created } }", json!({})).await,
        app.gql_upload(
            Some(&staff),
            "mutation($in: ImportPeopleInput!, $other: ImportPeopleInput!) { a: importPeople(input: $in) { created } b: importPeople(input: $other) { created } }",
            json!({"in": {"communityId": huitong, "file": null}, "other": {"communityId": huitong, "file": "#__graphql_file__:3"}}),
            "variables.in.file",
            "people.csv",
            &good,
        )
        .await,
    ] {
        assert_code(&forged, "BAD_USER_INPUT");
    }
    // Without an initial password the account waits for a reset.
    let v = import(&app, Some(&staff), &huitong, "people.csv", &good, None).await;
    assert_eq!(ok(&v)["importPeople"]["created"], 1);
    let v = app
        .gql(
            None,
            "mutation { login(input: {username: \"good2\", password: \"!unset\"}) { token } }",
            json!({}),
        )
        .await;
    assert_code(&v, "UNAUTHENTICATED");
}

#[tokio::test]
async fn an_xlsx_with_numeric_phones_imports() {
    let app = TestApp::with_demo().await;
    let staff = app.login("staff").await;
    let huitong = app.community_id("汇通社区").await;
    let mut book = rust_xlsxwriter::Workbook::new();
    let ws = book.add_worksheet();
    for (c, h) in ["姓名", "用户名", "身份", "手机号"].iter().enumerate() {
        ws.write_string(0, c as u16, *h).expect("cell");
    }
    ws.write_string(1, 0, "陈阿婆").expect("cell");
    ws.write_string(1, 1, "chen-apo").expect("cell");
    ws.write_string(1, 2, "居民").expect("cell");
    ws.write_number(1, 3, 13912345678.0).expect("cell");
    let bytes = book.save_to_buffer().expect("xlsx");
    let v = import(
        &app,
        Some(&staff),
        &huitong,
        "名册.xlsx",
        &bytes,
        Some("Welcome-2026"),
    )
    .await;
    assert_eq!(ok(&v)["importPeople"]["created"], 1, "{v}");
    let token = app.login_as("chen-apo", "Welcome-2026").await;
    let v = app.gql(Some(&token), "{ me { phone } }", json!({})).await;
    assert_eq!(ok(&v)["me"]["phone"], "13912345678");
}

#[tokio::test]
async fn the_register_holds_exactly_the_communitys_people_for_its_staff() {
    let app = TestApp::with_demo().await;
    let staff = app.login("staff").await;
    let admin = app.login("admin").await;
    let huitong = app.community_id("汇通社区").await;
    let path = format!("/communities/{huitong}/register.xlsx");
    let (status, kind, bytes) = get(&app, &path, Some(&staff)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(kind.is_some_and(|k| k.contains("spreadsheetml")));
    let rows = sheet(&bytes);
    assert_eq!(rows[0][..3], ["用户名", "姓名", "手机号"]);
    let mut exported: Vec<String> = rows[1..].iter().map(|r| r[0].clone()).collect();
    exported.sort();
    // The same people `users(communityId)` lists for ADMIN, and no one else.
    let v = app
        .gql(
            Some(&admin),
            "query($c: ID!) { users(communityId: $c, first: 100) { nodes { username } } }",
            json!({"c": huitong}),
        )
        .await;
    let mut listed: Vec<String> = ok(&v)["users"]["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|n| n["username"].as_str().expect("name").to_owned())
        .collect();
    listed.sort();
    assert_eq!(exported, listed);
    assert!(exported.contains(&"resident1".to_owned()));
    assert!(!exported.contains(&"wz-staff".to_owned()));
    let resident = rows.iter().find(|r| r[0] == "resident1").expect("resident");
    assert_eq!(resident[1], "王秀英");
    assert_eq!(resident[2], "13770003333");
    // Each phone exported is in the access log.
    let v = app
        .gql(
            Some(&admin),
            "{ personalDataAccessLog(first: 100) { nodes { path viewer { username } } } }",
            json!({}),
        )
        .await;
    let exported_views = ok(&v)["personalDataAccessLog"]["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .filter(|n| n["path"] == "register.xlsx" && n["viewer"]["username"] == "staff")
        .count();
    let phones = rows[1..]
        .iter()
        .filter(|r| !r[2].is_empty() && r[0] != "staff")
        .count();
    assert_eq!(exported_views, phones);
    // Another community's staff, a resident, nobody: refused with a code.
    for (token, status, code) in [
        (
            Some(app.login("wz-staff").await),
            StatusCode::FORBIDDEN,
            "FORBIDDEN",
        ),
        (
            Some(app.login("resident1").await),
            StatusCode::FORBIDDEN,
            "FORBIDDEN",
        ),
        (None, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED"),
    ] {
        let (s, _, body) = get(&app, &path, token.as_deref()).await;
        assert_eq!(s, status);
        let v: Value = serde_json::from_slice(&body).expect("json");
        assert_eq!(v["errors"][0]["extensions"]["code"], code);
    }
}

#[tokio::test]
async fn an_import_racing_create_user_for_one_username_gives_it_to_exactly_one() {
    let app = TestApp::with_demo().await;
    let staff = app.login("staff").await;
    let huitong = app.community_id("汇通社区").await;
    for round in 0..4 {
        let contested = format!("contested{round}");
        let mut file = String::from("用户名,姓名,手机号,身份,网格,开通存折\n");
        for i in 0..200 {
            file.push_str(&format!("race{round}x{i:03},居民{i:03},,居民,,否\n"));
        }
        file.push_str(&format!("{contested},争用者,,居民,,否\n"));
        let before = user_count(&app).await;
        let create = "mutation($u: String!, $c: ID!) { createUser(input: {username: $u, password: \"password-123\", displayName: \"先来者\", roles: [{role: RESIDENT, communityId: $c}]}) { user { id } } }";
        let (imported, created) = tokio::join!(
            import(
                &app,
                Some(&staff),
                &huitong,
                "people.csv",
                file.as_bytes(),
                Some("Welcome-2026")
            ),
            app.gql(Some(&staff), create, json!({"u": contested, "c": huitong})),
        );
        let import_won =
            imported["errors"].is_null() && imported["data"]["importPeople"]["created"] == 201;
        let create_won = created["errors"].is_null();
        assert!(
            import_won != create_won,
            "round {round}: {imported} {created}"
        );
        let after = user_count(&app).await;
        if import_won {
            assert_code(&created, "CONFLICT");
            assert_eq!(after, before + 201);
        } else {
            // The whole import is refused: nothing of it is left (a taken name found by the
            // file's check is reported as a problem; one taken during the insert is CONFLICT).
            let reported = imported["data"]["importPeople"]["problems"]
                .as_array()
                .is_some_and(|p| p.len() == 1 && p[0]["row"] == 202);
            assert!(
                reported || crate::helpers::error_code(&imported) == Some("CONFLICT"),
                "round {round}: {imported}"
            );
            assert_eq!(after, before + 1);
        }
    }
}
