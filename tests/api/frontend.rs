//! The tools front-end teams point at the server, run against a live server with demo data
//! (`tests/frontend/check.mjs`): graphql-schema-linter with descriptions required,
//! graphql-inspector comparing the live introspection with `schema.graphql` (no change at
//! all), graphql-codegen over the live schema and every documented operation followed by
//! `tsc --noEmit --strict`, and Apollo Client with graphql-ws (log in, page the wish wall
//! with cursors, subscribe to `wishEvents`, claim a wish and receive the event).
//!
//! Needs `npm ci --prefix tests/frontend` (`.ci/run` runs it). Without it the test fails under
//! CI (`CI` set) and is skipped with a message elsewhere.

use std::{path::PathBuf, time::Duration};

use serde_json::Value;

use crate::helpers::{TestApp, serve};

fn folder() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/frontend")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codegen_inspector_linter_and_apollo_work_against_the_live_server() {
    if !folder().join("node_modules/@graphql-codegen/cli").exists() {
        assert!(
            std::env::var_os("CI").is_none(),
            "the front-end tools are not installed under CI (npm ci --prefix tests/frontend)"
        );
        eprintln!("front-end tools test skipped: run npm ci --prefix tests/frontend");
        return;
    }
    let app = TestApp::with_demo().await;
    let addr = serve(app.router.clone()).await;
    let run = tokio::process::Command::new("node")
        .arg(folder().join("check.mjs"))
        .arg(format!("http://{addr}"))
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(240), run)
        .await
        .expect("the tools finish within 4 minutes")
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let report: Value = serde_json::from_str(stdout.trim().lines().last().unwrap_or(""))
        .unwrap_or_else(|e| {
            panic!(
                "no report from the tools ({e}); stdout: {stdout}; stderr: {}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
    for step in ["lint", "inspector", "codegen", "apollo"] {
        assert_eq!(
            report["steps"][step]["ok"], true,
            "{step}: {}",
            report["steps"][step]["detail"]
        );
    }
    let apollo = &report["steps"]["apollo"]["detail"];
    // Two pages of the wall cover every wish member1 may see there, without overlap.
    let pages = &apollo["pages"];
    assert_eq!(pages[0], 2, "{apollo}");
    assert_eq!(
        pages[0].as_i64().zip(pages[1].as_i64()).map(|(a, b)| a + b),
        apollo["total"].as_i64(),
        "{apollo}"
    );
    assert_eq!(apollo["event"]["kind"], "CLAIMED", "{apollo}");
}
