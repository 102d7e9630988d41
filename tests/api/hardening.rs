//! Hardening: query limits refused before execution, login throttling, the audit log, and
//! 2,000 malformed or hostile requests that each get a coded error.

use axum::{
    body::Body,
    http::{Request, StatusCode},
};
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_code, error_code, ok};

#[tokio::test]
async fn aliases_directives_and_fragment_cycles_are_refused_before_running() {
    let app = TestApp::with_demo().await;
    let token = app.login("admin").await;
    let aliases = |n: usize| {
        let fields: Vec<String> = (0..n)
            .map(|i| format!("a{i}: grids(first: 1) {{ totalCount }}"))
            .collect();
        format!("{{ {} }}", fields.join(" "))
    };
    let v = app.gql(Some(&token), &aliases(15), json!({})).await;
    assert_eq!(ok(&v)["a14"]["totalCount"], 9);
    let before = app.statements();
    let v = app.gql(Some(&token), &aliases(16), json!({})).await;
    assert_code(&v, "GRAPHQL_VALIDATION_FAILED");
    assert!(v["data"].is_null());
    // Only the caller's token was checked (3 statements), nothing of the query ran.
    assert!(app.statements() - before <= 3);
    // The same texts again come from the parsed-document cache with the same verdicts.
    assert_code(
        &app.gql(Some(&token), &aliases(16), json!({})).await,
        "GRAPHQL_VALIDATION_FAILED",
    );
    let v = app.gql(Some(&token), &aliases(15), json!({})).await;
    assert_eq!(ok(&v)["a14"]["totalCount"], 9);
    let bomb = format!(
        "{{ {} }}",
        (0..500)
            .map(|i| format!("t{i}: __typename"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    assert_code(
        &app.gql(None, &bomb, json!({})).await,
        "GRAPHQL_VALIDATION_FAILED",
    );
    let directives = format!("{{ me {} {{ id }} }}", "@include(if: true) ".repeat(51));
    assert_code(
        &app.gql(None, &directives, json!({})).await,
        "GRAPHQL_VALIDATION_FAILED",
    );
    let cycle =
        "query { me { ...A } } fragment A on User { id ...B } fragment B on User { username ...A }";
    assert_code(
        &app.gql(None, cycle, json!({})).await,
        "GRAPHQL_VALIDATION_FAILED",
    );
    // The server keeps answering.
    assert_eq!(
        ok(&app
            .gql(Some(&token), "{ me { username } }", json!({}))
            .await)["me"]["username"],
        "admin"
    );
}

#[tokio::test]
async fn ten_failed_logins_lock_that_username_only() {
    let app = TestApp::with_demo().await;
    let q = "mutation($u: String!, $p: String!) { login(input: {username: $u, password: $p}) { token } }";
    for _ in 0..10 {
        assert_code(
            &app.gql(None, q, json!({"u": "member1", "p": "guess-guess"}))
                .await,
            "UNAUTHENTICATED",
        );
    }
    assert_code(
        &app.gql(None, q, json!({"u": "member1", "p": "guess-guess"}))
            .await,
        "RATE_LIMITED",
    );
    // Even the right password waits now.
    assert_code(
        &app.gql(None, q, json!({"u": "member1", "p": "lianxin-demo"}))
            .await,
        "RATE_LIMITED",
    );
    // Other users log in as usual.
    ok(&app
        .gql(None, q, json!({"u": "member2", "p": "lianxin-demo"}))
        .await);
}

#[tokio::test]
async fn privileged_mutations_are_audited_and_readable_by_admin_only() {
    let app = TestApp::with_demo().await;
    let staff = app.login("staff").await;
    let v = app
        .gql(Some(&staff), "mutation { createGrid(input: {communityId: \"1\", name: \"审计网格\", kind: DEDICATED}) { grid { id } } }", json!({}))
        .await;
    let grid = ok(&v)["createGrid"]["grid"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    // The same text twice: the second comes from the parsed-document cache and is audited too.
    for _ in 0..2 {
        let v = app
            .gql(Some(&staff), "mutation { createGrid(input: {communityId: \"2\", name: \"越权\", kind: DEDICATED}) { grid { id } } }", json!({}))
            .await;
        assert_code(&v, "FORBIDDEN");
    }
    // Mutations that did not run are not audited: refused by validation, by the alias guard,
    // or not the operation selected from a document of several.
    let v = app
        .gql(Some(&staff), "mutation { createGrid(input: {communityId: \"1\", name: \"未运行\", kind: DEDICATED}) { nope } }", json!({}))
        .await;
    assert_code(&v, "GRAPHQL_VALIDATION_FAILED");
    let bomb: Vec<String> = (0..16)
        .map(|i| format!("a{i}: createGrid(input: {{communityId: \"1\", name: \"炸{i}\", kind: DEDICATED}}) {{ grid {{ id }} }}"))
        .collect();
    let v = app
        .gql(
            Some(&staff),
            &format!("mutation {{ {} }}", bomb.join(" ")),
            json!({}),
        )
        .await;
    assert_code(&v, "GRAPHQL_VALIDATION_FAILED");
    let two = json!({
        "query": "query Q { me { id } } mutation M { createGrid(input: {communityId: \"1\", name: \"没选中\", kind: DEDICATED}) { grid { id } } }",
        "operationName": "Q",
    });
    let (_, v) = app
        .post_raw(Some(&staff), two.to_string().into_bytes())
        .await;
    assert!(ok(&v)["me"]["id"].is_string(), "{v}");
    let q = "{ auditLog(first: 10) { totalCount nodes { operation targetType targetId outcome user { username } createdAt requestId } } }";
    assert_code(&app.gql(Some(&staff), q, json!({})).await, "FORBIDDEN");
    let admin = app.login("admin").await;
    let v = app.gql(Some(&admin), q, json!({})).await;
    let nodes = ok(&v)["auditLog"]["nodes"]
        .as_array()
        .expect("nodes")
        .clone();
    assert_eq!(nodes[0]["operation"], "createGrid");
    assert_eq!(nodes[0]["outcome"], "FORBIDDEN");
    assert_eq!(nodes[0]["user"]["username"], "staff");
    assert_eq!(nodes[1]["operation"], "createGrid");
    assert_eq!(nodes[1]["outcome"], "FORBIDDEN");
    assert_eq!(nodes[2]["outcome"], "OK");
    assert_eq!(nodes[2]["targetId"], grid.as_str());
    assert_eq!(nodes[2]["targetType"], "grid");
    assert_eq!(ok(&v)["auditLog"]["totalCount"], 3, "{v}");
}

/// A tiny deterministic generator.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[(self.next() as usize) % items.len()]
    }
}

#[tokio::test]
async fn two_thousand_malformed_requests_each_get_a_coded_error() {
    let app = TestApp::with_demo().await;
    let staff = app.login("staff").await;
    let resident = app.login("resident1").await;
    let mut rng = Rng(42);
    let huge = "汇".repeat(200_000);
    let ids = [
        "abc",
        "-1",
        "0",
        "1e5",
        "99999999999999999999999999",
        "",
        " ",
        "1; DROP TABLE users",
        "null",
        "٣",
    ];
    let enums = ["BOGUS", "comprehensive", "123", "MICRO_GRID"];
    let codes = [
        "BAD_USER_INPUT",
        "BAD_REQUEST",
        "GRAPHQL_VALIDATION_FAILED",
        "GRAPHQL_PARSE_FAILED",
        "NOT_FOUND",
        "FORBIDDEN",
        "UNAUTHENTICATED",
        "CONFLICT",
        "INVALID_STATE",
    ];
    let mut counts = std::collections::HashMap::new();
    for i in 0..2000 {
        let kind = rng.next() % 10;
        let token = if rng.next().is_multiple_of(2) {
            Some(staff.as_str())
        } else {
            Some(resident.as_str())
        };
        let body: Vec<u8> = match kind {
            0 => (0..(rng.next() % 64)).map(|_| (rng.next() % 256) as u8).collect(),
            1 => {
                let mut b = br#"{"query": "{ me { id } }", "variables": {"x": ""#.to_vec();
                b.extend_from_slice(&[0xff, 0xfe, 0xc3, 0x28]);
                b.extend_from_slice(br#""}}"#);
                b
            }
            2 => json!({"query": rng.next(), "variables": "not an object"}).to_string().into_bytes(),
            3 => json!({"query": "mutation($n: String!) { createGrid(input: {communityId: \"1\", name: $n, kind: DEDICATED}) { grid { id } } }", "variables": {"n": huge}}).to_string().into_bytes(),
            4 => json!({"query": format!("mutation {{ createGrid(input: {{communityId: \"1\", name: \"x{i}\", kind: {}}}) {{ grid {{ id }} }} }}", rng.pick(&enums))}).to_string().into_bytes(),
            5 => json!({"query": "mutation($q: Int!) { redeemReward(input: {rewardId: \"1\", quantity: $q}) { redemption { id } } }", "variables": {"q": -((rng.next() % 1000) as i64) - 1}}).to_string().into_bytes(),
            6 => json!({"query": "query($id: ID!) { wish(id: $id) { id } grid(id: $id) { id } }", "variables": {"id": rng.pick(&ids)}}).to_string().into_bytes(),
            7 => json!({"query": "query($f: Int) { grids(first: $f) { totalCount } }", "variables": {"f": rng.pick(&[json!(-1), json!(0), json!(101), json!("ten"), json!(1.5), json!(i64::MAX)])}}).to_string().into_bytes(),
            8 => {
                let garbage: String = (0..(rng.next() % 80)).map(|_| *rng.pick(&['{', '}', '(', ')', 'a', ' ', '"', '$', '@', '.', '…'])).collect();
                json!({"query": garbage}).to_string().into_bytes()
            }
            _ => json!({"query": "mutation($d: Date!) { reportGoodDeed(input: {categoryId: \"1\", description: \"x\", occurredOn: $d}) { goodDeed { id } } }", "variables": {"d": rng.pick(&["2026-13-01", "yesterday", "2026-02-30", "", "9999-99-99"])}}).to_string().into_bytes(),
        };
        let (status, v) = app.post_raw(token, body).await;
        assert_ne!(
            status,
            StatusCode::INTERNAL_SERVER_ERROR,
            "request {i} (kind {kind}) got 500: {v}"
        );
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            *counts.entry("413").or_insert(0) += 1;
            continue;
        }
        let code = error_code(&v)
            .map(str::to_owned)
            .unwrap_or_else(|| panic!("request {i} (kind {kind}) without a coded error: {v}"));
        assert!(
            codes.contains(&code.as_str()),
            "request {i} (kind {kind}): unexpected code {code}: {v}"
        );
        let text = v["errors"].to_string().to_lowercase();
        assert!(
            !text.contains("panicked") && !text.contains("sqlx") && !text.contains("select "),
            "{text}"
        );
        *counts
            .entry(
                if ["BAD_USER_INPUT", "BAD_REQUEST"].contains(&code.as_str()) {
                    "bad"
                } else {
                    "other"
                },
            )
            .or_insert(0) += 1;
    }
    assert!(counts.len() >= 2, "{counts:?}");
    let (status, _) = app
        .send(
            Request::get("/healthz")
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let v: Value = app
        .gql(None, "{ grids(first: 1) { totalCount } }", json!({}))
        .await;
    assert_eq!(ok(&v)["grids"]["totalCount"], 9);
}
