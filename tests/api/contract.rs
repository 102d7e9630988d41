//! The front-end contract: what tools and generated clients rely on — the standard
//! introspection query, non-null propagation, variable errors, scalar formats, root names,
//! opaque cursors and typed dashboard figures.

use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_code, ok};

/// The shape of the introspection query every tool sends (graphql-js `getIntrospectionQuery`
/// with descriptions, `specifiedByURL`, `isRepeatable` and input value deprecation): about
/// fifteen levels deep through `ofType`.
const INTROSPECTION: &str = r#"
query IntrospectionQuery {
  __schema {
    queryType { name }
    mutationType { name }
    subscriptionType { name }
    types { ...FullType }
    directives {
      name description isRepeatable locations
      args(includeDeprecated: true) { ...InputValue }
    }
  }
}
fragment FullType on __Type {
  kind name description specifiedByURL
  fields(includeDeprecated: true) {
    name description
    args(includeDeprecated: true) { ...InputValue }
    type { ...TypeRef }
    isDeprecated deprecationReason
  }
  inputFields(includeDeprecated: true) { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue {
  name description type { ...TypeRef } defaultValue isDeprecated deprecationReason
}
fragment TypeRef on __Type {
  kind name
  ofType { kind name ofType { kind name ofType { kind name ofType { kind name
    ofType { kind name ofType { kind name ofType { kind name ofType { kind name
      ofType { kind name } } } } } } } } }
}
"#;

#[tokio::test]
async fn the_standard_introspection_query_is_answered_and_ordinary_depth_is_still_limited() {
    let app = TestApp::spawn().await;
    let v = app.gql(None, INTROSPECTION, json!({})).await;
    let schema = &ok(&v)["__schema"];
    assert_eq!(schema["queryType"]["name"], "Query");
    assert_eq!(schema["mutationType"]["name"], "Mutation");
    assert_eq!(schema["subscriptionType"]["name"], "Subscription");
    let types = schema["types"].as_array().expect("types");
    let find = |name: &str| {
        types
            .iter()
            .find(|t| t["name"] == name)
            .cloned()
            .unwrap_or(Value::Null)
    };
    assert_eq!(
        find("DateTime")["specifiedByURL"],
        "https://scalars.graphql.org/andimarek/date-time.html"
    );
    assert!(find("Date")["specifiedByURL"].is_string());
    assert!(
        find("Wish")["fields"]
            .as_array()
            .is_some_and(|f| f.iter().any(|f| f["name"] == "beneficiaryName"))
    );
    // Dashboard figures are typed with the domain enums.
    let status = find("WishStatusCount")["fields"]
        .as_array()
        .and_then(|f| f.iter().find(|f| f["name"] == "status").cloned())
        .expect("status");
    assert_eq!(status["type"]["ofType"]["name"], "WishStatus");
    assert_eq!(status["type"]["ofType"]["kind"], "ENUM");
    // An ordinary query as deep is still refused.
    let deep = "{ grids { nodes { community { grids { nodes { community { grids { nodes { community { grids { nodes { community { name } } } } } } } } } } } } }";
    let v = app.gql(None, deep, json!({})).await;
    assert_code(&v, "GRAPHQL_VALIDATION_FAILED");
    assert!(v["data"].is_null(), "{v}");
}

#[tokio::test]
async fn a_failing_non_null_field_nulls_its_nearest_nullable_parent() {
    let app = TestApp::with_demo().await;
    let member = app.login("member1").await;
    // `registeredMembers` is non-null and refuses `first: 500`: the place's `grid` (nullable)
    // becomes null, even through an alias and a fragment; the key is present, and the
    // community beside it stays.
    let q = "{ me { places { community { name } where: grid { name ...R } } } } fragment R on Grid { registeredMembers(first: 500) { totalCount } }";
    let v = app.gql(Some(&member), q, json!({})).await;
    let places = v["data"]["me"]["places"].as_array().expect("places");
    let grids: Vec<&Value> = places
        .iter()
        .filter(|p| p.as_object().is_some_and(|o| o.contains_key("where")))
        .collect();
    assert!(grids.len() == places.len() && !places.is_empty(), "{v}");
    assert!(
        places
            .iter()
            .all(|p| p["where"].is_null() && p["community"]["name"].is_string()),
        "{v}"
    );
    assert_eq!(
        v["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{v}"
    );
    // A non-null root field that fails takes `data` with it.
    let v = app
        .gql(
            Some(&member),
            "{ me { id } wish(id: \"999999\") { id } }",
            json!({}),
        )
        .await;
    assert!(v["data"].is_null(), "{v}");
    assert_code(&v, "NOT_FOUND");
    // A nullable field keeps its siblings.
    let v = app
        .gql(Some(&member), "{ me { id } myPassbook { id } }", json!({}))
        .await;
    assert!(v["data"]["me"]["id"].is_string(), "{v}");
}

/// A document that passed the full validation without variables skips the full rules when it
/// comes back without variables (the server's fast path); everything else is validated in
/// full each time, and the fast path answers exactly what the full one did.
#[tokio::test]
async fn validation_is_remembered_only_for_what_passed_it() {
    let app = TestApp::with_demo().await;
    let member = app.login("member1").await;
    // A document with a fragment, an alias and nested relations, twice: the same answer.
    let q = "query Wall { wishes(first: 5) { totalCount nodes { ...W who: claimant { displayName } } } } fragment W on Wish { id title status beneficiaryName grid { name } }";
    let first = app.gql(Some(&member), q, json!({})).await;
    assert!(
        ok(&first)["wishes"]["totalCount"].as_i64().unwrap_or(0) > 0,
        "{first}"
    );
    let again = app.gql(Some(&member), q, json!({})).await;
    assert_eq!(first, again);
    // An unknown field is refused every time, with nothing executed: a refused document is
    // never taken as validated.
    for _ in 0..2 {
        let v = app
            .gql(Some(&member), "{ wishes { nodes { id nope } } }", json!({}))
            .await;
        assert_code(&v, "GRAPHQL_VALIDATION_FAILED");
        assert!(v["data"].is_null(), "{v}");
        assert!(
            v["errors"][0]["extensions"]["detail"]
                .as_str()
                .is_some_and(|d| d.contains("nope")),
            "{v}"
        );
    }
    // Validated without variables, the same document with a wrong variable is still refused.
    let q = "query($s: WishStatus) { wishes(status: $s, first: 1) { totalCount } }";
    for _ in 0..2 {
        ok(&app.gql(Some(&member), q, json!({})).await);
    }
    let v = app.gql(Some(&member), q, json!({"s": "NOPE"})).await;
    assert_code(&v, "BAD_REQUEST");
    assert!(v["data"].is_null(), "{v}");
}

#[tokio::test]
async fn variable_problems_are_bad_user_input_naming_the_variable() {
    let app = TestApp::spawn().await;
    let q = "query($id: ID!, $n: Int) { wish(id: $id) { id } wishes(first: $n) { totalCount } }";
    let v = app.gql(None, q, json!({})).await;
    assert_code(&v, "BAD_REQUEST");
    assert_eq!(v["errors"][0]["extensions"]["variable"], "id");
    assert_eq!(v["errors"][0]["message"], "缺少必填变量 $id");
    let v = app.gql(None, q, json!({"id": "1", "n": "twenty"})).await;
    assert_code(&v, "BAD_REQUEST");
    assert_eq!(v["errors"][0]["extensions"]["variable"], "n");
    let v = app.gql(None, q, json!({"id": null})).await;
    assert_eq!(v["errors"][0]["extensions"]["variable"], "id");
    // An enum or input value the schema rejects: coded, short, Chinese, no echo.
    let v = app
        .gql(
            None,
            "query($s: WishStatus) { wishes(status: $s) { totalCount } }",
            json!({"s": "NOPE"}),
        )
        .await;
    assert_code(&v, "BAD_REQUEST");
    let message = v["errors"][0]["message"].as_str().expect("message");
    assert!(
        !message.contains("NOPE") && !message.is_ascii(),
        "{message}"
    );
}

#[tokio::test]
async fn timestamps_have_milliseconds_and_cursors_are_opaque() {
    let app = TestApp::with_demo().await;
    let v = app
        .gql(None, "{ wishes(first: 2) { edges { cursor node { id createdAt } } pageInfo { endCursor hasNextPage } } }", json!({}))
        .await;
    let edges = ok(&v)["wishes"]["edges"].as_array().expect("edges").clone();
    assert_eq!(edges.len(), 2);
    for e in &edges {
        let t = e["node"]["createdAt"].as_str().expect("createdAt");
        // 2026-11-29T13:49:52.731Z
        assert_eq!(t.len(), 24, "{t}");
        assert!(t.ends_with('Z') && t.as_bytes()[19] == b'.', "{t}");
        assert_ne!(e["cursor"], e["node"]["id"], "a cursor is not the bare id");
    }
    // The next page starts after the opaque cursor; a bare id is not a cursor.
    let end = ok(&v)["wishes"]["pageInfo"]["endCursor"].clone();
    let next = app
        .gql(
            None,
            "query($a: String) { wishes(first: 2, after: $a) { nodes { id } } }",
            json!({"a": end}),
        )
        .await;
    let first_next = ok(&next)["wishes"]["nodes"][0]["id"].clone();
    assert_ne!(first_next, edges[1]["node"]["id"]);
    let bare = app
        .gql(
            None,
            "query($a: String) { wishes(first: 2, after: $a) { nodes { id } } }",
            json!({"a": "3"}),
        )
        .await;
    assert_code(&bare, "BAD_USER_INPUT");
}

/// The total is counted only when the client selects `totalCount`.
#[tokio::test]
async fn total_count_is_computed_only_when_selected() {
    let app = TestApp::with_demo().await;
    let staff = app.login("staff").await;
    let (without, v) = app
        .statements_of(
            Some(&staff),
            "{ wishes(first: 5) { nodes { id } } }",
            json!({}),
        )
        .await;
    assert!(v["errors"].is_null(), "{v}");
    let (with, v) = app
        .statements_of(
            Some(&staff),
            "{ wishes(first: 5) { totalCount nodes { id } } }",
            json!({}),
        )
        .await;
    assert!(
        ok(&v)["wishes"]["totalCount"].as_u64().unwrap_or(0) > 0,
        "{v}"
    );
    assert_eq!(with, without + 1, "one COUNT statement, only when asked");
}

async fn get(app: &TestApp, uri: &str, accept: &str) -> (u16, String, Value) {
    use axum::{body::Body, http::Request};
    use tower::ServiceExt;
    let resp = app
        .router
        .clone()
        .oneshot(
            Request::get(uri)
                .header("accept", accept)
                .body(Body::empty())
                .expect("request"),
        )
        .await
        .expect("infallible");
    let status = resp.status().as_u16();
    let ctype = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let bytes = http_body_util::BodyExt::collect(resp.into_body())
        .await
        .expect("body")
        .to_bytes();
    (
        status,
        ctype,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// GraphQL over HTTP: queries by GET (cacheable), never mutations; GraphiQL only for HTML;
/// `application/graphql-response+json` status codes; automatic persisted queries.
#[tokio::test]
async fn get_requests_and_persisted_queries() {
    let app = TestApp::with_demo().await;
    let q = "{ communities { totalCount } }";
    let (status, ctype, v) = get(
        &app,
        &format!("/graphql?query={}", enc(q)),
        "application/json",
    )
    .await;
    assert_eq!(status, 200);
    assert!(ctype.starts_with("application/json"), "{ctype}");
    assert_eq!(ok(&v)["communities"]["totalCount"], 3);
    let (status, ctype, v) = get(
        &app,
        &format!("/graphql?query={}", enc(q)),
        "application/graphql-response+json",
    )
    .await;
    assert_eq!(status, 200);
    assert!(
        ctype.starts_with("application/graphql-response+json"),
        "{ctype}"
    );
    assert_eq!(ok(&v)["communities"]["totalCount"], 3);
    // A request error is 400 in the new media type, 200 in application/json.
    let bad = format!("/graphql?query={}", enc("{ nosuchfield }"));
    let (status, _, v) = get(&app, &bad, "application/graphql-response+json").await;
    assert_eq!(status, 400);
    assert_code(&v, "GRAPHQL_VALIDATION_FAILED");
    let (status, _, _) = get(&app, &bad, "application/json").await;
    assert_eq!(status, 200);
    // Mutations are never run by GET.
    let m =
        "mutation { login(input: {username: \"admin\", password: \"lianxin-demo\"}) { token } }";
    let (status, _, v) = get(
        &app,
        &format!("/graphql?query={}", enc(m)),
        "application/json",
    )
    .await;
    assert_eq!(status, 405);
    assert_code(&v, "BAD_USER_INPUT");
    // Variables and operationName in the URL.
    let (status, _, v) = get(
        &app,
        &format!(
            "/graphql?query={}&variables={}&operationName=Q",
            enc("query Q($n: Int) { wishes(first: $n) { nodes { id } } }"),
            enc("{\"n\": 1}")
        ),
        "application/json",
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(ok(&v)["wishes"]["nodes"].as_array().map(Vec::len), Some(1));

    // APQ: the hash alone is not known yet; with the text it is registered; then the hash
    // alone answers, by POST and by GET.
    use sha2::Digest;
    let hash: String = sha2::Sha256::digest(q.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let ext = json!({"persistedQuery": {"version": 1, "sha256Hash": hash}});
    let (_, v) = app
        .post_raw(None, json!({"extensions": ext}).to_string().into_bytes())
        .await;
    assert_eq!(v["errors"][0]["message"], "PersistedQueryNotFound", "{v}");
    assert_eq!(
        v["errors"][0]["extensions"]["code"],
        "PERSISTED_QUERY_NOT_FOUND"
    );
    let (_, v) = app
        .post_raw(
            None,
            json!({"query": q, "extensions": ext})
                .to_string()
                .into_bytes(),
        )
        .await;
    assert_eq!(ok(&v)["communities"]["totalCount"], 3);
    let (_, v) = app
        .post_raw(None, json!({"extensions": ext}).to_string().into_bytes())
        .await;
    assert_eq!(ok(&v)["communities"]["totalCount"], 3);
    let (status, _, v) = get(
        &app,
        &format!("/graphql?extensions={}", enc(&ext.to_string())),
        "application/json",
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(ok(&v)["communities"]["totalCount"], 3);
    // A text that does not match its hash is refused.
    let (_, v) = app
        .post_raw(
            None,
            json!({"query": "{ me { id } }", "extensions": ext})
                .to_string()
                .into_bytes(),
        )
        .await;
    assert_code(&v, "BAD_USER_INPUT");
}
