//! Integrity of the new domains (#27): dates within range everywhere, incident history that
//! chains under races, raisers from the grid's community, projects that copy no private
//! text, and the import's and login's bounds.

use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_code, ok};
use crate::incidents::{org_id, reported, step};

const EXTREME_DATES: [&str; 4] = ["+262142-12-31", "-262143-01-01", "0000-01-01", "9999-12-31"];
const EXTREME_INSTANTS: [&str; 3] = [
    "+262142-12-31T00:00:00Z",
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59Z",
];

const INTROSPECT: &str = "{ __schema { queryType { name } mutationType { name } types { name kind enumValues { name } inputFields { name type { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } fields { name args { name type { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } } } }";

/// The named type of a type reference, and whether it is required.
fn named(t: &Value) -> (String, String, bool) {
    let required = t["kind"] == "NON_NULL";
    let mut t = t;
    while t["name"].is_null() {
        t = &t["ofType"];
    }
    (
        t["name"].as_str().unwrap_or("").to_owned(),
        t["kind"].as_str().unwrap_or("").to_owned(),
        required,
    )
}

fn is_list(t: &Value) -> bool {
    let mut t = t;
    loop {
        if t["kind"] == "LIST" {
            return true;
        }
        if t["ofType"].is_null() {
            return false;
        }
        t = &t["ofType"];
    }
}

struct Types(std::collections::HashMap<String, Value>);

impl Types {
    /// A GraphQL literal for a value of type `t`: `target` (a path of field names) gets
    /// `extreme`, every other required field a plain value. `None` if it cannot be built.
    fn literal(&self, t: &Value, target: &[String], extreme: &str, depth: usize) -> Option<String> {
        let (name, kind, _) = named(t);
        let value = match (kind.as_str(), name.as_str()) {
            _ if target.is_empty() && (name == "Date" || name == "DateTime") => {
                format!("\"{extreme}\"")
            }
            ("SCALAR", "ID") => "\"1\"".into(),
            ("SCALAR", "String") => "\"x\"".into(),
            ("SCALAR", "Int" | "Points") => "1".into(),
            ("SCALAR", "Float") => "1.0".into(),
            ("SCALAR", "Boolean") => "true".into(),
            ("SCALAR", "Date") => "\"2026-12-01\"".into(),
            ("SCALAR", "DateTime") => "\"2026-12-01T00:00:00Z\"".into(),
            ("ENUM", _) => self.0[&name]["enumValues"][0]["name"].as_str()?.to_owned(),
            ("INPUT_OBJECT", _) if depth < 3 => {
                let mut parts = Vec::new();
                for f in self.0[&name]["inputFields"].as_array()? {
                    let fname = f["name"].as_str()?.to_owned();
                    let on_path = target.first() == Some(&fname);
                    let (_, _, required) = named(&f["type"]);
                    if on_path {
                        parts.push(format!(
                            "{fname}: {}",
                            self.literal(&f["type"], &target[1..], extreme, depth + 1)?
                        ));
                    } else if required {
                        parts.push(format!(
                            "{fname}: {}",
                            self.literal(&f["type"], &[], "", depth + 1)?
                        ));
                    }
                }
                format!("{{{}}}", parts.join(", "))
            }
            _ => return None,
        };
        Some(if is_list(t) {
            format!("[{value}]")
        } else {
            value
        })
    }

    /// Paths (from an argument) to every Date or DateTime inside a type.
    fn date_paths(&self, t: &Value, depth: usize) -> Vec<(Vec<String>, String)> {
        let (name, kind, _) = named(t);
        if name == "Date" || name == "DateTime" {
            return vec![(Vec::new(), name)];
        }
        if kind != "INPUT_OBJECT" || depth >= 3 {
            return Vec::new();
        }
        let mut out = Vec::new();
        for f in self.0[&name]["inputFields"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let fname = f["name"].as_str().unwrap_or("").to_owned();
            for (mut path, scalar) in self.date_paths(&f["type"], depth + 1) {
                path.insert(0, fname.clone());
                out.push((path, scalar));
            }
        }
        out
    }
}

#[tokio::test]
async fn every_date_argument_refuses_extreme_values_with_a_code_and_no_panic() {
    let app = TestApp::with_demo().await;
    let admin = app.login("admin").await;
    let schema = app.gql(Some(&admin), INTROSPECT, json!({})).await;
    let s = &ok(&schema)["__schema"];
    let types = Types(
        s["types"]
            .as_array()
            .expect("types")
            .iter()
            .map(|t| (t["name"].as_str().unwrap_or("").to_owned(), t.clone()))
            .collect(),
    );
    let mut checked = 0;
    for (root, keyword) in [
        (s["queryType"]["name"].as_str().expect("query"), "query"),
        (
            s["mutationType"]["name"].as_str().expect("mutation"),
            "mutation",
        ),
    ] {
        for field in types.0[root]["fields"].as_array().expect("fields") {
            let fname = field["name"].as_str().expect("name");
            let args = field["args"].as_array().expect("args");
            for arg in args {
                let aname = arg["name"].as_str().expect("arg");
                for (path, scalar) in types.date_paths(&arg["type"], 0) {
                    let extremes: &[&str] = if scalar == "Date" {
                        &EXTREME_DATES
                    } else {
                        &EXTREME_INSTANTS
                    };
                    for extreme in extremes {
                        let mut rendered = Vec::new();
                        let mut complete = true;
                        for other in args {
                            let oname = other["name"].as_str().expect("arg");
                            let (_, _, required) = named(&other["type"]);
                            let literal = if oname == aname {
                                types.literal(&other["type"], &path, extreme, 0)
                            } else if required {
                                types.literal(&other["type"], &[], "", 0)
                            } else {
                                continue;
                            };
                            match literal {
                                Some(l) => rendered.push(format!("{oname}: {l}")),
                                None => complete = false,
                            }
                        }
                        if !complete {
                            continue;
                        }
                        let q = format!(
                            "{keyword} {{ {fname}({}) {{ __typename }} }}",
                            rendered.join(", ")
                        );
                        let v = app.gql(Some(&admin), &q, json!({})).await;
                        let code = v["errors"][0]["extensions"]["code"].as_str().unwrap_or("");
                        // A value out of range is refused by the scalar (BAD_REQUEST: the
                        // client sent what the type does not take) or by the rule that
                        // reads it (BAD_USER_INPUT).
                        assert!(
                            ["BAD_REQUEST", "BAD_USER_INPUT"].contains(&code),
                            "{fname}({aname}.{}) = {extreme}: {v}",
                            path.join(".")
                        );
                        checked += 1;
                    }
                }
            }
        }
    }
    assert!(checked > 20, "only {checked} date arguments found");

    // Years and quarters: out of range is BAD_USER_INPUT on the named field.
    let huitong = app.community_id("汇通社区").await;
    for year in [i32::MAX, i32::MIN, 1899, 2200] {
        let v = app
            .gql(
                Some(&admin),
                "query($c: ID!, $y: Int!) { gridStarCandidates(communityId: $c, year: $y, quarter: 4) { score } }",
                json!({"c": huitong, "y": year}),
            )
            .await;
        assert_code(&v, "BAD_USER_INPUT");
        assert_eq!(v["errors"][0]["extensions"]["field"], "year", "{v}");
    }
    // Inside the range, the last week of the range answers.
    let v = app
        .gql(
            Some(&admin),
            "query($c: ID!) { gridWeeklySummary(communityId: $c, week: \"2199-12-31\") { weekStart } }",
            json!({"c": huitong}),
        )
        .await;
    ok(&v);
}

#[tokio::test]
async fn concurrent_steps_chain_in_the_history() {
    let app = TestApp::with_demo().await;
    let grid = app.login("grid").await;
    let staff = app.login("staff").await;
    let power = org_id(&app, "仙林供电所党支部").await;
    for round in 0..3 {
        let id = reported(&app, &grid, None).await;
        ok(&step(
            &app,
            &grid,
            "whistleIncident",
            json!({"incidentId": id, "note": format!("第{round}次")}),
        )
        .await);
        // Two dispatches at once: both may succeed, the second from DISPATCHED.
        let (a, b) = tokio::join!(
            step(
                &app,
                &staff,
                "dispatchIncident",
                json!({"incidentId": id, "organizationId": power}),
            ),
            step(
                &app,
                &staff,
                "dispatchIncident",
                json!({"incidentId": id, "organizationId": power}),
            ),
        );
        let succeeded = [&a, &b].iter().filter(|v| v["errors"].is_null()).count();
        assert!(succeeded >= 1, "{a} {b}");
        let v = app
            .gql(
                Some(&staff),
                "query($id: ID!) { incident(id: $id) { status history { fromStatus toStatus } } }",
                json!({"id": id}),
            )
            .await;
        let incident = &ok(&v)["incident"];
        let history = incident["history"].as_array().expect("history");
        for pair in history.windows(2) {
            assert_eq!(pair[1]["fromStatus"], pair[0]["toStatus"], "{v}");
        }
        assert_eq!(
            history.last().expect("a step")["toStatus"],
            incident["status"],
            "{v}"
        );
        assert_eq!(history.len(), 2 + succeeded, "{v}");
    }
}

#[tokio::test]
async fn an_overdue_accepted_incident_may_be_redispatched_and_one_within_its_deadline_not() {
    let app = TestApp::with_demo().await;
    let grid = app.login("grid").await;
    let staff = app.login("staff").await;
    let rep = app.login("rep-power").await;
    let power = org_id(&app, "仙林供电所党支部").await;
    let id = reported(&app, &grid, None).await;
    ok(&step(
        &app,
        &grid,
        "whistleIncident",
        json!({"incidentId": id, "note": "增容"}),
    )
    .await);
    ok(&step(
        &app,
        &staff,
        "dispatchIncident",
        json!({"incidentId": id, "organizationId": power}),
    )
    .await);
    ok(&step(&app, &rep, "acceptIncident", json!({"incidentId": id})).await);
    // Within its deadline: the unit keeps it.
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
    // Overdue: staff may send it again.
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
    entity::incident::Entity::update_many()
        .col_expr(
            entity::incident::Column::Deadline,
            Expr::value(api::core::clock::now() - chrono::Duration::hours(1)),
        )
        .filter(entity::incident::Column::Id.eq(id.parse::<i64>().expect("id")))
        .exec(app.db())
        .await
        .expect("deadline");
    let v = step(
        &app,
        &staff,
        "dispatchIncident",
        json!({"incidentId": id, "organizationId": power}),
    )
    .await;
    assert_eq!(
        ok(&v)["dispatchIncident"]["incident"]["status"],
        "DISPATCHED"
    );
    let v = app
        .gql(
            Some(&staff),
            "query($id: ID!) { incident(id: $id) { overdue history { fromStatus toStatus } } }",
            json!({"id": id}),
        )
        .await;
    let history = ok(&v)["incident"]["history"]
        .as_array()
        .expect("history")
        .clone();
    let last = history.last().expect("step");
    assert_eq!(
        (last["fromStatus"].as_str(), last["toStatus"].as_str()),
        (Some("ACCEPTED"), Some("DISPATCHED"))
    );
    assert_eq!(ok(&v)["incident"]["overdue"], false, "a new deadline");
}

#[tokio::test]
async fn the_raiser_must_be_a_resident_of_the_grids_community() {
    let app = TestApp::with_demo().await;
    let grid = app.login("grid").await;
    let ht1 = app.grid_id("汇通第一网格").await;
    let admin = app.login("admin").await;
    let count = |v: &Value| ok(v)["incidents"]["totalCount"].as_i64().expect("count");
    let before = count(
        &app.gql(Some(&admin), "{ incidents { totalCount } }", json!({}))
            .await,
    );
    for who in ["wz-staff", "rep-power", "admin"] {
        let token = app.login(who).await;
        let id = app.user_id(&token).await;
        let v = step(
            &app,
            &grid,
            "reportIncident",
            json!({"gridId": ht1, "location": "汇通路 9 号", "category": "PAIN", "subject": "SAFETY", "description": "路灯", "raisedById": id}),
        )
        .await;
        assert_code(&v, "BAD_USER_INPUT");
        assert_eq!(
            v["errors"][0]["extensions"]["field"], "raisedById",
            "{who}: {v}"
        );
    }
    let after = count(
        &app.gql(Some(&admin), "{ incidents { totalCount } }", json!({}))
            .await,
    );
    assert_eq!(before, after, "nothing recorded");
    // A resident of 汇通社区 may be named.
    let resident = app.user_id(&app.login("resident1").await).await;
    let v = step(
        &app,
        &grid,
        "reportIncident",
        json!({"gridId": ht1, "location": "汇通路 9 号", "category": "PAIN", "subject": "SAFETY", "description": "路灯", "raisedById": resident}),
    )
    .await;
    ok(&v);
}

const IMPORT: &str = "mutation($in: ImportPeopleInput!) { importPeople(input: $in) { created problems { row column reason } } }";

async fn import_csv(app: &TestApp, rows: &[[&str; 6]]) -> Value {
    let staff = app.login("staff").await;
    let huitong = app.community_id("汇通社区").await;
    app.gql_upload(
        Some(&staff),
        IMPORT,
        json!({"in": {"communityId": huitong, "file": null}}),
        "variables.in.file",
        "people.csv",
        &crate::import::csv_of(rows),
    )
    .await
}

#[tokio::test]
async fn the_import_names_usernames_taken_in_another_case_and_phones_held_twice() {
    let app = TestApp::with_demo().await;
    app.create_user_with("CaseTaken", &[]).await;
    let v = import_csv(
        &app,
        &[
            ["casetaken", "甲", "13800000001", "居民", "", ""],
            ["fresh1", "乙", "13800000002", "居民", "", ""],
            ["fresh2", "丙", "13800000002", "居民", "", ""],
            ["fresh3", "丁", "13900001111", "居民", "", ""],
        ],
    )
    .await;
    let out = &ok(&v)["importPeople"];
    assert_eq!(out["created"], 0, "{v}");
    let problems: Vec<(i64, String)> = out["problems"]
        .as_array()
        .expect("problems")
        .iter()
        .map(|p| {
            (
                p["row"].as_i64().unwrap_or(0),
                p["reason"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    assert!(
        problems
            .iter()
            .any(|(r, why)| *r == 2 && why.contains("已被使用")),
        "{problems:?}"
    );
    assert!(
        problems
            .iter()
            .any(|(r, why)| *r == 4 && why.contains("第 3 行重复")),
        "{problems:?}"
    );
    assert!(
        problems
            .iter()
            .any(|(r, why)| *r == 5 && why.contains("已被其他账号使用")),
        "{problems:?}"
    );
    assert_eq!(problems.len(), 3, "{problems:?}");
}

#[tokio::test]
async fn a_300_kb_username_is_refused_like_any_wrong_login_and_stores_nothing_of_it() {
    let app = TestApp::spawn().await;
    let long = "a".repeat(300 * 1024);
    let v = app
        .gql(
            None,
            "mutation($u: String!) { login(input: {username: $u, password: \"whatever-1\"}) { token } }",
            json!({"u": long}),
        )
        .await;
    assert_code(&v, "UNAUTHENTICATED");
    use sea_orm::{ConnectionTrait, Statement};
    let backend = app.db().get_database_backend();
    let row = app
        .db()
        .query_one_raw(Statement::from_string(
            backend,
            "SELECT MAX(LENGTH(key)) FROM login_throttle",
        ))
        .await
        .expect("query")
        .expect("row");
    let longest: Option<i64> = row.try_get_by_index(0).ok();
    assert!(longest.unwrap_or(0) < 100, "{longest:?}");
}

#[tokio::test]
async fn change_password_names_new_password_as_the_field_to_fix() {
    let app = TestApp::with_demo().await;
    let member = app.login("member1").await;
    for new in ["short", "onlyletters"] {
        let v = app
            .gql(
                Some(&member),
                "mutation($n: String!) { changePassword(input: {oldPassword: \"lianxin-demo\", newPassword: $n}) { token } }",
                json!({"n": new}),
            )
            .await;
        assert_code(&v, "BAD_USER_INPUT");
        assert_eq!(v["errors"][0]["extensions"]["field"], "newPassword", "{v}");
    }
}

/// Every row of every table, by table and id, as JSON (blobs left out).
async fn dump(app: &TestApp) -> std::collections::BTreeMap<(String, i64), Value> {
    use sea_orm::{ConnectionTrait, DbBackend, FromQueryResult, JsonValue, Statement};
    let db = app.db();
    let backend = db.get_database_backend();
    let columns_sql = match backend {
        DbBackend::Postgres => {
            "SELECT table_name::text, column_name::text FROM information_schema.columns WHERE table_schema = current_schema() ORDER BY 1, ordinal_position"
        }
        _ => {
            "SELECT m.name, p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' ORDER BY 1, p.cid"
        }
    };
    let mut tables: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for row in db
        .query_all_raw(Statement::from_string(backend, columns_sql))
        .await
        .expect("columns")
    {
        let table: String = row.try_get_by_index(0).expect("table");
        let column: String = row.try_get_by_index(1).expect("column");
        if !["content", "thumbnail"].contains(&column.as_str()) {
            tables.entry(table).or_default().push(column);
        }
    }
    let mut out = std::collections::BTreeMap::new();
    for (table, columns) in tables {
        if table == "seaql_migrations"
            || table == "login_throttle"
            || !columns.contains(&"id".to_owned())
        {
            continue;
        }
        let list: Vec<String> = columns.iter().map(|c| format!("\"{c}\"")).collect();
        let sql = format!("SELECT {} FROM \"{table}\"", list.join(", "));
        let rows = JsonValue::find_by_statement(Statement::from_string(backend, sql))
            .all(db)
            .await
            .expect("dump");
        for row in rows {
            let id = row["id"].as_i64().expect("id");
            out.insert((table.clone(), id), row);
        }
    }
    out
}

#[tokio::test]
async fn erasure_rewrites_only_the_persons_rows_and_never_fails() {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
    let app = TestApp::with_demo().await;
    let admin = app.login("admin").await;
    let grid = app.login("grid").await;
    let staff = app.login("staff").await;
    let member = app.login("member1").await;
    let ht1 = app.grid_id("汇通第一网格").await;
    let huitong: i64 = app.community_id("汇通社区").await.parse().expect("id");
    let resident = |c| api::account::rules::RoleGrant {
        role: entity::role_assignment::Role::Resident,
        community_id: Some(c),
        grid_id: None,
        organization_id: None,
    };
    // Two residents with two-letter logins (and names), with phones of their own.
    let mut people = Vec::new();
    for (login, phone) in [("an", "13912345678"), ("ma", "13887654321")] {
        let token = app.create_user_with(login, &[resident(huitong)]).await;
        let id: i64 = app.user_id(&token).await.parse().expect("id");
        entity::user::Entity::update_many()
            .col_expr(entity::user::Column::Phone, Expr::value(phone))
            .filter(entity::user::Column::Id.eq(id))
            .exec(app.db())
            .await
            .expect("phone");
        people.push((login, id, phone));
    }
    app.settle().await;
    let (_, an_id, _) = people[0];
    // Other people's texts that hold the two logins as fragments of other words.
    for (location, description) in [
        ("Wanda Plaza", "Change the broken lamp"),
        ("Mall of image/png", "manual check"),
    ] {
        ok(&app
            .gql(
                Some(&grid),
                "mutation($g: ID!, $l: String!, $d: String!) { reportIncident(input: {gridId: $g, location: $l, category: PAIN, subject: SAFETY, description: $d}) { incident { id } } }",
                json!({"g": ht1, "l": location, "d": description}),
            )
            .await);
    }
    // A wish for `an`, titled with her name and describing her phone in three spellings,
    // confirmed: its points go to the claimant's ledger.
    let v = app
        .gql(
            Some(&grid),
            "mutation($g: ID!, $b: ID!) { submitWish(input: {gridId: $g, title: \"an 的暖水袋\", description: \"联系 139-1234-5678、139 1234 5678 或 +8613912345678；送到 Wanda Plaza\", category: GOODS, beneficiaryUserId: $b}) { wish { id } } }",
            json!({"g": ht1, "b": an_id.to_string()}),
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
            "mutation($id: ID!) { fulfillWish(input: {wishId: $id, note: \"已送达 an\"}) { wish { id } } }",
        ),
        (
            &grid,
            "mutation($id: ID!) { confirmWish(input: {wishId: $id, rating: 5}) { wish { id } } }",
        ),
    ] {
        ok(&app.gql(Some(token), q, json!({"id": wish})).await);
    }
    let references = api::account::privacy::user_references(app.db())
        .await
        .expect("references");
    assert!(references.len() > 10, "{references:?}");

    // Traces of `an` that serve no record: a failed login, a calendar token.
    assert_code(
        &app.gql(
            None,
            "mutation { login(input: {username: \"an\", password: \"wrong-password-1\"}) { token } }",
            json!({}),
        )
        .await,
        "UNAUTHENTICATED",
    );
    {
        use sea_orm::ActiveModelTrait;
        entity::calendar_token::ActiveModel {
            user_id: sea_orm::Set(an_id),
            token: sea_orm::Set("an-calendar-token".into()),
            created_at: sea_orm::Set(api::core::clock::now()),
            ..Default::default()
        }
        .insert(app.db())
        .await
        .expect("token");
    }
    let throttled = |app: &TestApp| {
        let db = app.db().clone();
        async move {
            use sea_orm::{ConnectionTrait, Statement};
            let key = api::account::rules::throttle::user_key("an");
            let backend = db.get_database_backend();
            let sql = match backend {
                sea_orm::DbBackend::Postgres => {
                    "SELECT COUNT(*) FROM login_throttle WHERE key = $1"
                }
                _ => "SELECT COUNT(*) FROM login_throttle WHERE key = ?1",
            };
            let row = db
                .query_one_raw(Statement::from_sql_and_values(backend, sql, [key.into()]))
                .await
                .expect("query")
                .expect("row");
            row.try_get_by_index::<i64>(0).expect("count")
        }
    };
    assert_eq!(throttled(&app).await, 1);
    // A manual adjustment on `an`'s own passbook whose memo names her and her phone: the
    // ledger is immutable, save for the redaction path.
    {
        use entity::ledger_entry::{EntryKind, EntrySource};
        let book = api::bank::rules::ensure_passbook(app.db(), an_id, huitong, None)
            .await
            .expect("passbook");
        api::bank::rules::post(
            app.db(),
            api::bank::rules::Posting {
                passbook_id: book.id,
                amount: 7,
                kind: EntryKind::Adjustment,
                source: EntrySource::Manual,
                source_id: None,
                memo: "补记：an 协助邻居，电话 139 1234 5678".into(),
                operator_id: None,
                reverses: None,
                at: None,
            },
        )
        .await
        .expect("entry");
    }
    for (login, id, phone) in people.clone() {
        let before = dump(&app).await;
        let v = app
            .gql(
                Some(&admin),
                "mutation($u: ID!) { erasePersonalData(input: {userId: $u, reason: \"本人申请\"}) { user { id displayName } } }",
                json!({"u": id.to_string()}),
            )
            .await;
        assert_eq!(
            ok(&v)["erasePersonalData"]["user"]["displayName"],
            "已删除用户",
            "{login}: {v}"
        );
        let after = dump(&app).await;
        // Every row that changed is the person's: it refers to them.
        let mut changed = 0;
        for (key, row) in &before {
            let Some(now) = after.get(key) else { continue };
            if now == row {
                continue;
            }
            changed += 1;
            let (table, row_id) = key;
            let her_books: Vec<i64> = before
                .iter()
                .filter(|((t, _), r)| t == "passbooks" && r["holder_id"].as_i64() == Some(id))
                .map(|((_, pid), _)| *pid)
                .collect();
            let theirs = (table == "users" && *row_id == id)
                || (table == "ledger_entries"
                    && row["passbook_id"]
                        .as_i64()
                        .is_some_and(|b| her_books.contains(&b)))
                || references
                    .iter()
                    .any(|(t, c)| t == table && row[c.as_str()].as_i64() == Some(id));
            assert!(
                theirs,
                "{login}: another person's row was rewritten: {table} {row} -> {now}"
            );
        }
        assert!(changed >= 1, "{login}");
        // Her phone, in any spelling, is nowhere.
        for spelling in [
            phone.to_owned(),
            format!("{}-{}-{}", &phone[..3], &phone[3..7], &phone[7..]),
            format!("{} {} {}", &phone[..3], &phone[3..7], &phone[7..]),
        ] {
            let left = crate::privacy::occurrences(&app, &spelling).await;
            assert!(
                left.is_empty(),
                "{login}: {spelling} is still held: {left:?}"
            );
        }
    }
    assert_eq!(
        throttled(&app).await,
        0,
        "the throttle forgot the erased login"
    );
    {
        let entries = entity::ledger_entry::Entity::find()
            .filter(entity::ledger_entry::Column::Amount.eq(7))
            .all(app.db())
            .await
            .expect("entries");
        let mine: Vec<_> = entries
            .iter()
            .filter(|e| e.memo.starts_with("补记"))
            .collect();
        assert_eq!(mine.len(), 1);
        assert_eq!(mine[0].memo, "补记：[已删除] 协助邻居，电话 [已删除]");
        // Nothing else of an entry may change, redaction or not.
        use sea_orm::ConnectionTrait;
        let refused = app
            .db()
            .execute_unprepared(&format!(
                "UPDATE ledger_entries SET amount = 8, memo = '[已删除]' WHERE id = {}",
                mine[0].id
            ))
            .await;
        assert!(refused.is_err(), "the amount changed");
    }
    assert_eq!(
        app.get_bytes(None, "/calendar/an-calendar-token.ics")
            .await
            .0,
        axum::http::StatusCode::NOT_FOUND
    );
    {
        use sea_orm::PaginatorTrait;
        let tokens = entity::calendar_token::Entity::find()
            .filter(entity::calendar_token::Column::UserId.eq(an_id))
            .count(app.db())
            .await
            .expect("count");
        assert_eq!(tokens, 0);
    }
    // Other people's texts kept every fragment.
    let left = crate::privacy::occurrences(&app, "Wanda Plaza").await;
    assert!(
        left.iter().any(|l| l.contains("incidents.location")),
        "{left:?}"
    );
    assert!(
        !crate::privacy::occurrences(&app, "image/png")
            .await
            .is_empty()
    );
    assert!(
        !crate::privacy::occurrences(&app, "Change the broken lamp")
            .await
            .is_empty()
    );
    // The wish's own text is hers: the phone is gone from it, the place stays.
    let v = app
        .gql(
            Some(&admin),
            "query($id: ID!) { wish(id: $id) { title description } }",
            json!({"id": wish}),
        )
        .await;
    let w = &ok(&v)["wish"];
    assert_eq!(w["title"], "[已删除] 的暖水袋", "{w}");
    assert_eq!(
        w["description"], "联系 [已删除]、[已删除] 或 [已删除]；送到 Wanda Plaza",
        "{w}"
    );
}

#[tokio::test]
async fn the_download_covers_every_reference_to_a_person_in_the_database() {
    let app = TestApp::with_demo().await;
    let references = api::account::privacy::user_references(app.db())
        .await
        .expect("references");
    let exported = api::account::privacy_schema::EXPORTED;
    let not_personal = api::account::privacy_schema::NOT_PERSONAL;
    for (table, column) in &references {
        let covered = exported.iter().any(|(t, c, _)| t == table && c == column)
            || not_personal
                .iter()
                .any(|(t, c, why)| t == table && c == column && !why.is_empty());
        assert!(
            covered,
            "{table}.{column} refers to a person: export it or say why it is not personal"
        );
    }
    // Each exported field is in the download, for a grid worker with posts, patrols,
    // incident steps and audited mutations.
    let grid = app.login("grid").await;
    let ht1 = app.grid_id("汇通第一网格").await;
    ok(&app
        .gql(
            Some(&grid),
            "mutation($g: ID!) { logPatrol(input: {gridId: $g, householdsVisited: 3, checklist: [\"SHOPS\"]}) { patrol { id } } }",
            json!({"g": ht1}),
        )
        .await);
    let (status, _, body) = app.get_bytes(Some(&grid), "/me/personal-data").await;
    assert_eq!(status, axum::http::StatusCode::OK);
    let data: Value = serde_json::from_slice(&body).expect("json");
    for (_, _, field) in exported {
        assert!(!data[field].is_null(), "{field} missing from the download");
    }
    for field in ["gridPosts", "patrols", "incidentSteps", "auditLog"] {
        assert!(
            data[field].as_array().is_some_and(|a| !a.is_empty()),
            "{field}: {}",
            data[field]
        );
    }
}

#[tokio::test]
async fn after_postgres_ends_every_connection_no_request_answers_internal() {
    use sea_orm::ConnectionTrait;
    if crate::helpers::postgres_base_url().is_none() {
        eprintln!("PostgreSQL only: a dropped connection cannot happen to SQLite's file");
        return;
    }
    let app = TestApp::with_demo().await;
    let grid = app.login("grid").await;
    let member = app.login("member1").await;
    let ht1 = app.grid_id("汇通第一网格").await;
    const WALL: &str = "{ wishes(first: 10) { totalCount nodes { id title grid { name } } } }";
    const PATROL: &str = "mutation($g: ID!) { logPatrol(input: {gridId: $g, householdsVisited: 2, checklist: [\"SHOPS\"]}) { patrol { id } } }";
    for round in 0..3 {
        // Fill the pool with connections, then end every backend of the database while a
        // load of reads and writes runs.
        futures::future::join_all((0..24).map(|_| app.gql(Some(&member), WALL, json!({})))).await;
        let kill = async {
            tokio::time::sleep(std::time::Duration::from_millis(5 * round)).await;
            app.db()
                .execute_unprepared(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                     WHERE datname = current_database() AND pid <> pg_backend_pid()",
                )
                .await
                .expect("terminate");
        };
        let load = futures::future::join_all((0..40).map(|i| {
            let (token, q, vars) = if i % 4 == 0 {
                (&grid, PATROL, json!({"g": ht1}))
            } else {
                (&member, WALL, json!({}))
            };
            app.gql(Some(token), q, vars)
        }));
        let ((), results) = tokio::join!(kill, load);
        for (i, v) in results.iter().enumerate() {
            let code = crate::helpers::error_code(v);
            assert_ne!(code, Some("INTERNAL"), "round {round}, request {i}: {v}");
            if i % 4 != 0 {
                ok(v);
            } else {
                // A write: done, lost with its connection (asking to retry), or the patrol
                // race's own CONFLICT (one patrol per worker, grid and day).
                assert!(
                    matches!(code, None | Some("UNAVAILABLE") | Some("CONFLICT")),
                    "{v}"
                );
            }
        }
        // And after it, everything answers.
        ok(&app.gql(Some(&member), WALL, json!({})).await);
        ok(&app.gql(Some(&grid), PATROL, json!({"g": ht1})).await);
    }
}
