//! A schema front-end teams can guess (#29): where the GraphQL spec still slipped.

use serde_json::{Value, json};

use crate::helpers::{TestApp, ok};

/// The keys of a JSON object, in the order the response carries them.
fn keys(raw: &str, path: &[&str]) -> Vec<String> {
    // serde_json's `preserve_order` is off here: read the order from the text itself.
    let v: Value = serde_json::from_str(raw).expect("json");
    let mut node = &v;
    for p in path {
        node = &node[*p];
    }
    let object = node.as_object().expect("object");
    let mut found: Vec<(usize, String)> = object
        .keys()
        .map(|k| {
            let needle = format!("\"{k}\":");
            (raw.find(&needle).unwrap_or(usize::MAX), k.clone())
        })
        .collect();
    found.sort();
    found.into_iter().map(|(_, k)| k).collect()
}

#[tokio::test]
async fn an_omitted_variable_lets_the_arguments_default_apply() {
    let app = TestApp::with_demo().await;
    let member = app.login("member1").await;
    for (query, path) in [
        (
            "query($m: Boolean, $s: Boolean) { wishes(claimedByMe: $m, submittedByMe: $s) { totalCount } }",
            "wishes",
        ),
        (
            "query($o: Boolean) { serviceSlots(openForMe: $o) { totalCount } }",
            "serviceSlots",
        ),
        (
            "query($f: Boolean) { shifts(hasFreePlaces: $f) { totalCount } }",
            "shifts",
        ),
        (
            "query($a: Boolean) { rewards(activeOnly: $a) { totalCount } }",
            "rewards",
        ),
    ] {
        let omitted = app.gql(Some(&member), query, json!({})).await;
        let data = ok(&omitted);
        // The same as the argument left out altogether.
        let bare = query
            .split_once('{')
            .map(|(_, rest)| format!("{{{rest}"))
            .expect("body");
        let bare = bare
            .replace("(claimedByMe: $m, submittedByMe: $s)", "")
            .replace("(openForMe: $o)", "")
            .replace("(hasFreePlaces: $f)", "")
            .replace("(activeOnly: $a)", "");
        let plain = app.gql(Some(&member), &bare, json!({})).await;
        assert_eq!(
            data[path]["totalCount"],
            ok(&plain)[path]["totalCount"],
            "{query}"
        );
    }
    // An explicit value still counts.
    let v = app
        .gql(
            Some(&member),
            "query($m: Boolean) { wishes(claimedByMe: $m) { totalCount } }",
            json!({"m": true}),
        )
        .await;
    assert_eq!(ok(&v)["wishes"]["totalCount"], 1);
}

#[tokio::test]
async fn a_subscription_selects_exactly_one_root_field() {
    let app = TestApp::with_demo().await;
    for doc in [
        "subscription { wishEvents(communityId: \"1\") { kind } incidentEvents { kind } }",
        "subscription { wishEvents(communityId: \"1\") { kind } __typename }",
        "subscription S { ...Two } fragment Two on Subscription { wishEvents(communityId: \"1\") { kind } a: wishEvents(communityId: \"2\") { kind } }",
    ] {
        let v = app.gql(None, doc, json!({})).await;
        assert!(v["data"].is_null(), "{doc}: {v}");
        assert_eq!(
            v["errors"][0]["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED",
            "{doc}: {v}"
        );
    }
}

#[tokio::test]
async fn response_keys_follow_the_selection_order() {
    let app = TestApp::with_demo().await;
    let staff = app.login("staff").await;
    let body = json!({"query": "{ me { id roles { role } username displayName } }"}).to_string();
    let req = axum::http::Request::post("/graphql")
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {staff}"))
        .body(axum::body::Body::from(body))
        .expect("request");
    let (_, bytes) = app.send(req).await;
    let raw = String::from_utf8(bytes).expect("utf-8");
    assert_eq!(
        keys(&raw, &["data", "me"]),
        vec!["id", "roles", "username", "displayName"],
        "{raw}"
    );
}
