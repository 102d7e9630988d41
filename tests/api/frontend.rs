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
    let persisted = std::env::temp_dir().join(format!("lx-persisted-{}", std::process::id()));
    std::fs::create_dir_all(&persisted).expect("dir");
    let run = tokio::process::Command::new("node")
        .arg(folder().join("check.mjs"))
        .arg(format!("http://{addr}"))
        .env("LIANXIN_PERSISTED_OUT", &persisted)
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
    for step in [
        "lint",
        "inspector",
        "released",
        "spec",
        "codegen",
        "apollo",
        "sse",
        "persisted",
    ] {
        assert_eq!(
            report["steps"][step]["ok"], true,
            "{step}: {}",
            report["steps"][step]["detail"]
        );
    }
    // The naming pass renamed fields without breaking a client of the released schema: each
    // old name is still there, deprecated.
    let released = &report["steps"]["released"]["detail"];
    assert_eq!(released["breaking"], 0, "{released}");
    for path in [
        "WishClaim.member",
        "WishClaim.wishId",
        "Wish.fulfilNote",
        "ServiceSlot.weekday",
        "ServiceSlot.validFrom",
        "ContactPerson.name",
        "RoleGrant.from",
    ] {
        assert!(
            released["deprecations"]
                .as_array()
                .is_some_and(|d| d.iter().any(|p| p == path)),
            "{path} not deprecated: {released}"
        );
    }
    assert_eq!(
        report["steps"]["spec"]["detail"].as_array().map(Vec::len),
        Some(4),
        "{}",
        report["steps"]["spec"]["detail"]
    );
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
    // graphql-sse received the release of that claim.
    let sse = &report["steps"]["sse"]["detail"];
    assert_eq!(sse["event"]["kind"], "RELEASED", "{sse}");

    // graphql-codegen's persisted-documents.json, as written, is what production trusts.
    let manifest = report["steps"]["persisted"]["detail"]["manifest"]
        .as_str()
        .expect("manifest path")
        .to_owned();
    let trusted = api::graphql::trusted::load(&[std::path::PathBuf::from(&manifest)])
        .expect("codegen's manifest loads");
    std::fs::remove_dir_all(&persisted).ok();
    let wall_id = trusted
        .by_id
        .iter()
        .find(|(_, doc)| doc.contains("query WishWall"))
        .map(|(id, _)| id.clone())
        .expect("the wish wall is in the manifest");
    let trusted = std::sync::Arc::new(trusted);
    let production = TestApp::spawn_with(move |c| {
        c.environment = api::config::Environment::Production;
        c.trusted_documents = Some(trusted);
    })
    .await;
    api::demo::seed(&production.state.db, &production.state.config)
        .await
        .expect("demo");
    let (_, v) = production
        .post_raw(
            None,
            serde_json::json!({"documentId": wall_id, "variables": {"communityId": "1", "after": null}})
                .to_string()
                .into_bytes(),
        )
        .await;
    assert!(
        v["data"]["wishes"]["totalCount"]
            .as_i64()
            .is_some_and(|n| n >= 1),
        "{v}"
    );
    let v = production
        .gql(
            None,
            "query { wishes { totalCount } }",
            serde_json::json!({}),
        )
        .await;
    assert_eq!(
        v["errors"][0]["extensions"]["reason"], "DOCUMENT_NOT_TRUSTED",
        "{v}"
    );
}
