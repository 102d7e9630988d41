//! Abuse found by trying: login bursts, throttles shared by instances and per address,
//! login timing, and bounded error responses.

use std::time::{Duration, Instant};

use axum::{body::Body, http::Request};
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::helpers::{TestApp, assert_code, error_code, ok};

const LOGIN: &str =
    "mutation($u: String!, $p: String!) { login(input: {username: $u, password: $p}) { token } }";

#[tokio::test]
async fn a_burst_of_forty_parallel_guesses_is_throttled_like_a_sequence() {
    let app = TestApp::with_demo().await;
    let results = futures::future::join_all(
        (0..40).map(|_| app.gql(None, LOGIN, json!({"u": "member1", "p": "guess-guess"}))),
    )
    .await;
    let wrong = results
        .iter()
        .filter(|v| error_code(v) == Some("UNAUTHENTICATED"))
        .count();
    let limited = results
        .iter()
        .filter(|v| error_code(v) == Some("RATE_LIMITED"))
        .count();
    assert_eq!((wrong, limited), (10, 30), "{results:?}");
    // The right password waits too; other users are not affected.
    let v = app
        .gql(None, LOGIN, json!({"u": "member1", "p": "lianxin-demo"}))
        .await;
    assert_code(&v, "RATE_LIMITED");
    ok(&app
        .gql(None, LOGIN, json!({"u": "member2", "p": "lianxin-demo"}))
        .await);
}

#[tokio::test]
async fn two_instances_share_one_count() {
    let app = TestApp::with_demo().await;
    // A second instance of the server on the same database.
    let other = api::Application::build((*app.state.config).clone())
        .await
        .expect("second instance");
    let post = |router: axum::Router, password: &'static str| async move {
        let body = json!({"query": LOGIN, "variables": {"u": "resident1", "p": password}});
        let resp = router
            .oneshot(
                Request::post("/graphql")
                    .header("content-type", "application/json")
                    .body(Body::from(body.to_string()))
                    .expect("request"),
            )
            .await
            .expect("infallible");
        let bytes = http_body_util::BodyExt::collect(resp.into_body())
            .await
            .expect("body")
            .to_bytes();
        serde_json::from_slice::<Value>(&bytes).expect("json")
    };
    let mut codes = Vec::new();
    for i in 0..12 {
        let router = if i % 2 == 0 {
            app.router.clone()
        } else {
            other.router.clone()
        };
        let v = post(router, "wrong-password").await;
        codes.push(error_code(&v).unwrap_or("OK").to_owned());
    }
    assert_eq!(
        codes.iter().filter(|c| *c == "UNAUTHENTICATED").count(),
        10,
        "{codes:?}"
    );
    assert_eq!(&codes[10..], ["RATE_LIMITED", "RATE_LIMITED"]);
}

#[tokio::test]
async fn attempts_are_counted_per_client_address_too() {
    let app = TestApp::spawn_with(|c| {
        c.trust_forwarded_for = true;
        c.login_attempts_per_address = 15;
    })
    .await;
    api::demo::seed(&app.state.db, &app.state.config)
        .await
        .expect("demo");
    let from = |addr: &'static str, user: String| {
        let body = json!({"query": LOGIN, "variables": {"u": user, "p": "nope-nope"}});
        Request::post("/graphql")
            .header("content-type", "application/json")
            .header("x-forwarded-for", format!("{addr}, 10.0.0.1"))
            .body(Body::from(body.to_string()))
            .expect("request")
    };
    let mut codes = Vec::new();
    for i in 0..20 {
        let (_, bytes) = app.send(from("203.0.113.7", format!("nobody{i}"))).await;
        let v: Value = serde_json::from_slice(&bytes).expect("json");
        codes.push(error_code(&v).unwrap_or("OK").to_owned());
    }
    assert!(
        codes[..15].iter().all(|c| c == "UNAUTHENTICATED"),
        "{codes:?}"
    );
    assert!(codes[15..].iter().all(|c| c == "RATE_LIMITED"), "{codes:?}");
    // Another address is not affected.
    let (_, bytes) = app.send(from("198.51.100.9", "nobody-else".into())).await;
    let v: Value = serde_json::from_slice(&bytes).expect("json");
    assert_code(&v, "UNAUTHENTICATED");
}

/// The fastest of several runs: load on the machine only ever adds time, so the minimum is
/// the closest to the work a login really does.
fn fastest(v: Vec<Duration>) -> Duration {
    v.into_iter().min().unwrap_or_default()
}

/// Unknown and known usernames answer in the same time for every password length. A
/// shortcut for any of them (no hash) answers about a hundred times faster than a hash, so
/// the band below (a factor of four either way, for a loaded machine) cannot be met by luck.
#[tokio::test]
async fn login_takes_the_same_time_whoever_asks_and_whatever_the_length() {
    let app = TestApp::spawn_with(|c| c.login_attempts_per_user = 10_000).await;
    api::demo::seed(&app.state.db, &app.state.config)
        .await
        .expect("demo");
    for len in [8usize, 64, 1024, 1025, 20_000, 200_000] {
        let password = "x".repeat(len);
        let mut known = Vec::new();
        let mut unknown = Vec::new();
        for i in 0..9 {
            for (who, into) in [("member2", &mut known), ("", &mut unknown)] {
                let user = if who.is_empty() {
                    format!("no-such-user-{len}-{i}")
                } else {
                    who.to_owned()
                };
                let started = Instant::now();
                let v = app
                    .gql(None, LOGIN, json!({"u": user, "p": password}))
                    .await;
                into.push(started.elapsed());
                assert_code(&v, "UNAUTHENTICATED");
            }
        }
        let (k, u) = (fastest(known), fastest(unknown));
        let ratio = k.as_secs_f64() / u.as_secs_f64();
        assert!(
            (0.25..=4.0).contains(&ratio),
            "password of {len} bytes: known {k:?}, unknown {u:?}"
        );
    }
}

#[tokio::test]
async fn error_responses_are_bounded() {
    let app = TestApp::spawn().await;
    // Thousands of unused variables: a few errors and a count of the rest.
    let vars: Vec<String> = (0..3000).map(|i| format!("$v{i}: Int")).collect();
    let q = format!("query Q({}) {{ me {{ id }} }}", vars.join(", "));
    let (_, v) = app
        .post_raw(None, json!({"query": q}).to_string().into_bytes())
        .await;
    let errors = v["errors"].as_array().expect("errors");
    assert!(errors.len() <= 21, "{} errors", errors.len());
    let last = errors.last().expect("an error");
    assert!(
        last["extensions"]["omittedErrors"].as_u64().unwrap_or(0) > 2900,
        "{last}"
    );
    // A deeply nested document: a short message, not an echo of the document.
    let deep = format!("{{ {} }}", "me { ".repeat(3000) + &"}".repeat(3000));
    let (_, v) = app
        .post_raw(None, json!({"query": deep}).to_string().into_bytes())
        .await;
    let text = v.to_string();
    assert!(text.len() < 4000, "{} bytes", text.len());
    for e in v["errors"].as_array().expect("errors") {
        assert!(
            e["message"].as_str().expect("message").chars().count() <= 200,
            "{e}"
        );
        assert!(e["extensions"]["code"].is_string(), "{e}");
    }
}
