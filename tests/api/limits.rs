use axum::{
    body::Body,
    http::{Request, StatusCode},
};
use serde_json::json;

use crate::helpers::{TestApp, assert_code, ok};

#[tokio::test]
async fn too_deep_or_too_complex_queries_are_refused_before_running() {
    let app = TestApp::with_demo().await;
    let mut deep = String::from("{ grids { nodes { ");
    for _ in 0..8 {
        deep.push_str("parent { microGrids { ");
    }
    deep.push_str("name");
    for _ in 0..8 {
        deep.push_str(" } }");
    }
    deep.push_str(" } } }");
    let before = app.statements();
    let v = app.gql(None, &deep, json!({})).await;
    assert_code(&v, "GRAPHQL_VALIDATION_FAILED");
    assert!(v["data"].is_null());
    assert_eq!(
        app.statements(),
        before,
        "a refused query must not touch the database"
    );

    let complex = "{ a: grids(first: 100) { nodes { community { grids(first: 100) { nodes { name staff { user { displayName } } } } } } } }";
    let before = app.statements();
    let v = app.gql(None, complex, json!({})).await;
    assert_code(&v, "GRAPHQL_VALIDATION_FAILED");
    assert_eq!(app.statements(), before);

    // A page size over 100 is refused with a coded error.
    let v = app
        .gql(None, "{ grids(first: 101) { totalCount } }", json!({}))
        .await;
    assert_code(&v, "BAD_USER_INPUT");
    // The server keeps answering.
    let v = app
        .gql(None, "{ grids(first: 2) { totalCount } }", json!({}))
        .await;
    assert_eq!(ok(&v)["grids"]["totalCount"], 9);
}

#[tokio::test]
async fn oversized_bodies_get_413_and_batches_or_bad_json_a_coded_error() {
    let app = TestApp::with_demo().await;
    let big = format!(
        "{{\"query\": \"{{ me {{ id }} }}\", \"variables\": {{\"pad\": \"{}\"}}}}",
        "x".repeat(2 * 1024 * 1024)
    );
    let (status, _) = app.post_raw(None, big.into_bytes()).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);

    let batch = json!([{ "query": "{ me { id } }" }, { "query": "{ me { id } }" }]).to_string();
    let (status, v) = app.post_raw(None, batch.into_bytes()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_code(&v, "BAD_USER_INPUT");

    let (status, v) = app.post_raw(None, b"{not json".to_vec()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_code(&v, "BAD_USER_INPUT");

    let (status, body) = app
        .send(
            Request::get("/healthz")
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(String::from_utf8_lossy(&body).contains("ok"));
}

#[tokio::test]
async fn graphiql_is_served_in_development_and_off_in_production() {
    let app = TestApp::spawn().await;
    let (status, body) = app
        .send(
            Request::get("/graphql")
                .header("accept", "text/html,application/xhtml+xml")
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(String::from_utf8_lossy(&body).contains("graphiql"));

    let prod = TestApp::spawn_with(|c| c.environment = api::config::Environment::Production).await;
    let (status, _) = prod
        .send(
            Request::get("/graphql")
                .header("accept", "text/html,application/xhtml+xml")
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_ne!(status, StatusCode::OK);
    let v = prod
        .gql(None, "{ __schema { types { name } } }", json!({}))
        .await;
    assert!(
        v["data"]["__schema"].is_null(),
        "introspection must be off: {v}"
    );
    let v = prod.gql(None, "{ grid { nam } }", json!({})).await;
    assert!(!v.to_string().contains("Did you mean"), "{v}");
}

#[tokio::test]
async fn exported_schema_matches_schema_graphql() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql");
    let file = std::fs::read_to_string(path).expect("schema.graphql");
    assert!(
        file == api::schema::sdl(),
        "schema.graphql is out of date: run `cargo run -- export-schema`"
    );
}

#[tokio::test]
async fn metrics_count_requests_errors_latency_and_statements() {
    let app = TestApp::with_demo().await;
    app.gql(
        None,
        "query Grids { grids(first: 2) { totalCount } }",
        json!({}),
    )
    .await;
    app.gql(
        None,
        "query Missing { grid(id: \"999\") { name } }",
        json!({}),
    )
    .await;
    let (status, body) = app
        .send(
            Request::get("/metrics")
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let text = String::from_utf8(body).expect("utf-8");
    assert!(text.contains("lianxin_graphql_requests_total 2"), "{text}");
    assert!(
        text.contains("lianxin_graphql_errors_total{code=\"NOT_FOUND\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("lianxin_graphql_request_duration_seconds_count{operation=\"Grids\"} 1"),
        "{text}"
    );
    let statements: u64 = text
        .lines()
        .find_map(|l| l.strip_prefix("lianxin_sql_statements_total "))
        .and_then(|n| n.parse().ok())
        .expect("statements");
    assert!(statements > 0);
    assert!(text.contains("lianxin_db_pool_connections{state=\"open\"}"));
}
