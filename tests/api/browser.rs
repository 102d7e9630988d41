//! The GraphiQL page in a real browser: headless Chromium (Debian's `chromium`, driven by
//! playwright-core from `tests/browser/`) opens GET /graphql, runs `me` without and with a
//! token header, and the result pane shows anonymous and then the admin. A screenshot is saved
//! as `target/browser/graphiql.png`.
//!
//! Needs `npm ci --prefix api/graphiql`, `npm ci --prefix tests/browser` and `/usr/bin/chromium`
//! (`.ci/run` installs all three). Without them the test fails under CI (`CI` set) and is
//! skipped with a message elsewhere.

use std::{path::PathBuf, time::Duration};

use axum::{body::Body, http::Request};
use serde_json::Value;

use crate::helpers::{TestApp, serve};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn assets() -> PathBuf {
    root().join("api/graphiql/node_modules")
}

/// What is missing for the browser test, if anything.
fn missing() -> Vec<String> {
    let chromium = std::env::var("LIANXIN_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let mut missing = Vec::new();
    for (path, hint) in [
        (PathBuf::from(&chromium), "apt-get install chromium"),
        (
            assets().join("graphiql/graphiql.min.js"),
            "npm ci --prefix api/graphiql",
        ),
        (
            root().join("tests/browser/node_modules/playwright-core"),
            "npm ci --prefix tests/browser",
        ),
    ] {
        if !path.exists() {
            missing.push(format!("{} ({hint})", path.display()));
        }
    }
    missing
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graphiql_runs_a_query_with_a_token_header_in_headless_chromium() {
    let missing = missing();
    if !missing.is_empty() {
        assert!(
            std::env::var_os("CI").is_none(),
            "the browser test cannot run under CI; missing: {missing:?}"
        );
        eprintln!("browser test skipped; missing: {missing:?}");
        return;
    }
    let app = TestApp::spawn_with(|c| c.graphiql_assets = Some(assets())).await;
    api::demo::seed(&app.state.db, &app.state.config)
        .await
        .expect("demo data");
    let token = app.login("admin").await;
    let addr = serve(app.router.clone()).await;
    let base = format!("http://{addr}");

    let shots = root().join("target/browser");
    std::fs::create_dir_all(&shots).expect("screenshot folder");
    let shot = shots.join("graphiql.png");
    let _ = std::fs::remove_file(&shot);

    let run = tokio::process::Command::new("node")
        .arg(root().join("tests/browser/graphiql.mjs"))
        .arg(&base)
        .arg(&token)
        .arg(&shot)
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(120), run)
        .await
        .expect("the browser run finishes within 2 minutes")
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let report: Value = serde_json::from_str(stdout.trim().lines().last().unwrap_or(""))
        .unwrap_or_else(|e| {
            panic!(
                "no report from the browser ({e}); stdout: {stdout}; stderr: {}",
                String::from_utf8_lossy(&out.stderr)
            )
        });

    assert!(report["failure"].is_null(), "browser run failed: {report}");
    assert_eq!(report["title"], "lianxin 连心 GraphiQL");
    // Everything came from this server: no CDN, so it works on an offline intranet.
    assert_eq!(report["foreignRequests"], serde_json::json!([]), "{report}");
    assert_eq!(report["pageErrors"], serde_json::json!([]), "{report}");
    // Without the header: anonymous; with it: the admin and their roles.
    assert!(
        report["anonymous"]["data"]["me"].is_null() && report["anonymous"]["errors"].is_null(),
        "{report}"
    );
    assert_eq!(report["withToken"]["data"]["me"]["username"], "admin");
    let roles: Vec<&str> = report["withToken"]["data"]["me"]["roles"]
        .as_array()
        .expect("roles")
        .iter()
        .filter_map(|r| r["role"].as_str())
        .collect();
    assert!(roles.contains(&"ADMIN"), "{report}");
    // The documentation explorer loaded the schema and shows a type's fields.
    // The result pane shows the Chinese labels, drawn with a CJK font.
    let labels = report["labels"]["data"]["enumLabels"]
        .as_array()
        .expect("labels");
    assert!(
        labels
            .iter()
            .any(|l| l["value"] == "PUBLISHED" && l["label"] == "已发布"),
        "{report}"
    );
    assert_eq!(report["cjkGlyphsDiffer"], true, "no CJK font: {report}");
    assert_eq!(report["docs"]["wishesField"], true, "{report}");
    assert_eq!(report["docs"]["typeTitle"], "WishConnection", "{report}");
    assert_eq!(report["docs"]["errorShown"], false, "{report}");
    // The screenshot shows the explorer listing the query root's fields.
    assert_eq!(report["docs"]["shownTitle"], "Query", "{report}");

    let png = std::fs::read(&shot).expect("screenshot written");
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "screenshot is a PNG");
    assert!(png.len() > 10_000, "screenshot is not empty");
}

#[tokio::test]
async fn graphiql_page_loads_its_scripts_from_the_server_or_a_pinned_cdn() {
    let cdn = TestApp::spawn().await;
    let (status, body) = cdn
        .send(
            Request::get("/graphql")
                .header("accept", "text/html,application/xhtml+xml")
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(status, 200);
    let html = String::from_utf8_lossy(&body);
    assert!(
        html.contains("https://unpkg.com/graphiql@3.8.3/graphiql.min.js"),
        "{html}"
    );
    let (status, _) = cdn
        .send(
            Request::get("/graphiql/graphiql.min.js")
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(
        status, 404,
        "no local files without LIANXIN_GRAPHIQL_ASSETS"
    );

    if !assets().join("graphiql/graphiql.min.js").exists() {
        assert!(
            std::env::var_os("CI").is_none(),
            "api/graphiql/node_modules is missing under CI"
        );
        return;
    }
    let local = TestApp::spawn_with(|c| c.graphiql_assets = Some(assets())).await;
    let (_, body) = local
        .send(
            Request::get("/graphql")
                .header("accept", "text/html,application/xhtml+xml")
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    let html = String::from_utf8_lossy(&body);
    assert!(html.contains("/graphiql/graphiql.min.js") && !html.contains("unpkg"));
    let (status, js) = local
        .send(
            Request::get("/graphiql/react.production.min.js")
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(status, 200);
    assert!(String::from_utf8_lossy(&js).contains("react"));
    let (status, _) = local
        .send(
            Request::get("/graphiql/package.json")
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(status, 404, "only the page's own files are served");

    // A folder without the files refuses to start, with the fix in the message.
    let bad = api::config::Config {
        graphiql_assets: Some(root().join("no-such-folder")),
        ..local.state.config.as_ref().clone()
    };
    let err = api::Application::build(bad)
        .await
        .err()
        .expect("missing assets refused");
    assert!(
        err.to_string().contains("npm ci --prefix api/graphiql"),
        "{err}"
    );
}
