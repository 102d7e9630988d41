//! Subscriptions over graphql-transport-ws: events arrive with the same masking as queries,
//! only for those who may see them, and (on PostgreSQL) across server instances.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest, http::HeaderValue};

use crate::helpers::{TestApp, ok, postgres_base_url, serve};

pub(crate) type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub(crate) async fn subscribe(url: &str, token: Option<&str>, query: &str) -> Ws {
    let mut req = url.into_client_request().expect("request");
    req.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        HeaderValue::from_static("graphql-transport-ws"),
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(req)
        .await
        .expect("connect");
    let payload = token
        .map(|t| json!({"Authorization": format!("Bearer {t}")}))
        .unwrap_or(json!({}));
    ws.send(Message::text(
        json!({"type": "connection_init", "payload": payload}).to_string(),
    ))
    .await
    .expect("init");
    let ack = next_message(&mut ws, Duration::from_secs(5))
        .await
        .expect("ack");
    assert_eq!(ack["type"], "connection_ack", "{ack}");
    ws.send(Message::text(
        json!({"id": "1", "type": "subscribe", "payload": {"query": query}}).to_string(),
    ))
    .await
    .expect("subscribe");
    // Give the server a moment to register the subscription.
    tokio::time::sleep(Duration::from_millis(200)).await;
    ws
}

pub(crate) async fn next_message(ws: &mut Ws, wait: Duration) -> Option<Value> {
    loop {
        let msg = tokio::time::timeout(wait, ws.next()).await.ok()??.ok()?;
        if let Message::Text(t) = msg {
            let v: Value = serde_json::from_str(&t).ok()?;
            if v["type"] == "ping" {
                continue;
            }
            return Some(v);
        }
    }
}

const WISH_EVENTS: &str = "subscription { wishEvents(communityId: \"1\") { kind wish { id status beneficiaryName beneficiaryPhone } } }";

#[tokio::test]
async fn wish_events_arrive_masked_and_only_for_those_who_may_see_them() {
    let app = TestApp::with_demo().await;
    let addr = serve(app.router.clone()).await;
    let url = format!("ws://{addr}/graphql/ws");
    // On PostgreSQL, mutate through a second instance on the same database.
    let second = match postgres_base_url() {
        Some(_) => {
            let mut config = (*app.state.config).clone();
            config.database_url = app.state.config.database_url.clone();
            Some(
                api::Application::build(config)
                    .await
                    .expect("second instance"),
            )
        }
        None => None,
    };
    let staff_token = app.login("staff").await;
    let mut anon = subscribe(&url, None, WISH_EVENTS).await;
    let mut staff = subscribe(&url, Some(&staff_token), WISH_EVENTS).await;
    let member1 = app.login("member1").await;
    let resident = app.login("resident1").await;
    let mutate = |token: String, q: &'static str| {
        let router = second.as_ref().map(|s| s.router.clone());
        let app = &app;
        async move {
            match router {
                Some(r) => {
                    let body = json!({"query": q}).to_string();
                    let req = axum::http::Request::post("/graphql")
                        .header("content-type", "application/json")
                        .header("authorization", format!("Bearer {token}"))
                        .body(axum::body::Body::from(body))
                        .expect("request");
                    let resp = tower::ServiceExt::oneshot(r, req).await.expect("send");
                    let bytes = http_body_util::BodyExt::collect(resp.into_body())
                        .await
                        .expect("body")
                        .to_bytes();
                    serde_json::from_slice::<Value>(&bytes).expect("json")
                }
                None => app.gql(Some(&token), q, json!({})).await,
            }
        }
    };
    ok(&mutate(
        member1,
        "mutation { claimWish(input: {wishId: \"1\"}) { wish { id } } }",
    )
    .await);
    let ev = next_message(&mut anon, Duration::from_secs(5))
        .await
        .expect("anonymous event");
    assert_eq!(ev["type"], "next", "{ev}");
    let p = &ev["payload"]["data"]["wishEvents"];
    assert_eq!(p["kind"], "CLAIMED");
    assert_eq!(p["wish"]["beneficiaryName"], "王**");
    assert!(p["wish"]["beneficiaryPhone"].is_null());
    let ev = next_message(&mut staff, Duration::from_secs(5))
        .await
        .expect("staff event");
    assert_eq!(
        ev["payload"]["data"]["wishEvents"]["wish"]["beneficiaryName"],
        "王秀英"
    );
    assert_eq!(
        ev["payload"]["data"]["wishEvents"]["wish"]["beneficiaryPhone"],
        "13770003333"
    );
    // A cancelled wish is no longer public: staff hear of it, anonymous callers do not.
    ok(&mutate(
        resident,
        "mutation { cancelWish(input: {wishId: \"1\", reason: \"已解决\"}) { wish { id } } }",
    )
    .await);
    let ev = next_message(&mut staff, Duration::from_secs(5))
        .await
        .expect("staff cancel event");
    assert_eq!(ev["payload"]["data"]["wishEvents"]["kind"], "CANCELLED");
    assert!(
        next_message(&mut anon, Duration::from_millis(500))
            .await
            .is_none(),
        "anonymous must not see a cancelled wish"
    );
}

#[tokio::test]
async fn shift_events_follow_sign_ups_and_a_bad_token_is_refused() {
    let app = TestApp::with_demo().await;
    let addr = serve(app.router.clone()).await;
    let url = format!("ws://{addr}/graphql/ws");
    let grid = app.login("grid").await;
    let q = "subscription { shiftEvents(slotId: \"1\") { kind signup { studentName status } shift { id } } }";
    let mut ws = subscribe(&url, Some(&grid), q).await;
    let student = app.login("student1").await;
    let v = app
        .gql(
            Some(&student),
            "mutation { signUpForSeries(input: {slotId: \"1\"}) { takenCount } }",
            json!({}),
        )
        .await;
    let taken = ok(&v)["signUpForSeries"]["takenCount"]
        .as_i64()
        .expect("count");
    assert!(taken >= 1);
    let ev = next_message(&mut ws, Duration::from_secs(5))
        .await
        .expect("event");
    let p = &ev["payload"]["data"]["shiftEvents"];
    assert_eq!(p["kind"], "SIGNED_UP");
    assert_eq!(p["signup"]["studentName"], "林小舟");
    // A forged token is refused at connection_init.
    let mut req = url.as_str().into_client_request().expect("request");
    req.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        HeaderValue::from_static("graphql-transport-ws"),
    );
    let (mut bad, _) = tokio_tungstenite::connect_async(req)
        .await
        .expect("connect");
    bad.send(Message::text(
        json!({"type": "connection_init", "payload": {"Authorization": "Bearer forged"}})
            .to_string(),
    ))
    .await
    .expect("init");
    let answer = tokio::time::timeout(Duration::from_secs(5), bad.next())
        .await
        .expect("answer");
    // graphql-ws: a refused connection_init closes with 4403 Forbidden.
    match answer {
        Some(Ok(Message::Close(Some(frame)))) => {
            assert_eq!(u16::from(frame.code), 4403, "{frame:?}");
            assert_eq!(frame.reason.as_str(), "Forbidden");
        }
        other => panic!("expected a 4403 close, got {other:?}"),
    }
}

/// Connection params as clients send them (`authToken`, lower-case `authorization`), and an
/// unknown community answered NOT_FOUND instead of silence.
#[tokio::test]
async fn websocket_params_and_unknown_ids_follow_the_contract() {
    let app = TestApp::with_demo().await;
    let token = app.login("staff").await;
    let addr = serve(app.router.clone()).await;
    let url = format!("ws://{addr}/graphql/ws");
    for payload in [
        json!({"authToken": token}),
        json!({"authorization": format!("Bearer {token}")}),
    ] {
        let mut req = url.as_str().into_client_request().expect("request");
        req.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            HeaderValue::from_static("graphql-transport-ws"),
        );
        let (mut ws, _) = tokio_tungstenite::connect_async(req)
            .await
            .expect("connect");
        ws.send(Message::text(
            json!({"type": "connection_init", "payload": payload}).to_string(),
        ))
        .await
        .expect("init");
        let ack = next_message(&mut ws, Duration::from_secs(5))
            .await
            .expect("ack");
        assert_eq!(ack["type"], "connection_ack", "{ack}");
        ws.send(Message::text(
            json!({"id": "1", "type": "subscribe", "payload": {"query": "{ me { username } }"}})
                .to_string(),
        ))
        .await
        .expect("query");
        let v = next_message(&mut ws, Duration::from_secs(5))
            .await
            .expect("result");
        assert_eq!(v["payload"]["data"]["me"]["username"], "staff", "{v}");
        ws.send(Message::text(
            json!({"id": "2", "type": "subscribe", "payload": {"query": "subscription { wishEvents(communityId: \"9999\") { kind } }"}})
                .to_string(),
        ))
        .await
        .expect("subscribe");
        let mut v = next_message(&mut ws, Duration::from_secs(5))
            .await
            .expect("answer");
        while v["type"] == "complete" && v["id"] == "1" {
            v = next_message(&mut ws, Duration::from_secs(5))
                .await
                .expect("answer");
        }
        // An execution result with the coded error (graphql-ws `next`), not silence.
        assert_eq!(v["type"], "next", "{v}");
        assert_eq!(
            v["payload"]["errors"][0]["extensions"]["code"], "NOT_FOUND",
            "{v}"
        );
    }
}

#[tokio::test]
async fn the_websocket_schema_refuses_alias_bombs_with_a_code_too() {
    let app = TestApp::with_demo().await;
    let token = app.login("admin").await;
    let addr = serve(app.router.clone()).await;
    let url = format!("ws://{addr}/graphql/ws");
    let aliases: Vec<String> = (0..16).map(|i| format!("a{i}: me {{ id }}")).collect();
    let query = format!("{{ {} }}", aliases.join(" "));
    let mut ws = subscribe(&url, Some(&token), &query).await;
    let msg = next_message(&mut ws, Duration::from_secs(5))
        .await
        .expect("an answer");
    let errors = match msg["type"].as_str() {
        Some("error") => msg["payload"].clone(),
        _ => msg["payload"]["errors"].clone(),
    };
    assert_eq!(
        errors[0]["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED",
        "{msg}"
    );
    assert!(msg["payload"]["data"].is_null(), "{msg}");
}

#[tokio::test]
async fn non_null_propagation_holds_over_the_websocket_too() {
    let app = TestApp::with_demo().await;
    let addr = serve(app.router.clone()).await;
    let url = format!("ws://{addr}/graphql/ws");
    let member = app.login("member1").await;
    // A query over the socket: `registeredMembers` (non-null) refuses `first: 500`, so the
    // nullable `grid` of each place above it becomes null, its key present (as over HTTP).
    let mut ws = subscribe(
        &url,
        Some(&member),
        "{ me { places { community { name } where: grid { name ...R } } } } fragment R on Grid { registeredMembers(first: 500) { totalCount } }",
    )
    .await;
    let msg = next_message(&mut ws, Duration::from_secs(5))
        .await
        .expect("an answer");
    assert_eq!(msg["type"], "next", "{msg}");
    let places = msg["payload"]["data"]["me"]["places"]
        .as_array()
        .expect("places");
    assert!(!places.is_empty(), "{msg}");
    for p in places {
        assert!(p.as_object().expect("place").contains_key("where"), "{p}");
        assert!(p["where"].is_null(), "{p}");
        assert!(p["community"]["name"].is_string(), "{p}");
    }
    assert_eq!(
        msg["payload"]["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{msg}"
    );

    // A subscription event: the claimant's roles are not the resident's to read: they
    // answer an empty list, and the claimant and the rest of the event arrive.
    let mut events = subscribe(
        &url,
        Some(&app.login("resident1").await),
        "subscription Claims { wishEvents(communityId: \"1\") { kind wish { id claimant { username roles { role } } } } }",
    )
    .await;
    let member1 = app.login("member1").await;
    ok(&app
        .gql(
            Some(&member1),
            "mutation { claimWish(input: {wishId: \"1\"}) { wish { id } } }",
            json!({}),
        )
        .await);
    let msg = next_message(&mut events, Duration::from_secs(5))
        .await
        .expect("an event");
    assert_eq!(msg["type"], "next", "{msg}");
    let event = &msg["payload"]["data"]["wishEvents"];
    assert_eq!(event["kind"], "CLAIMED", "{msg}");
    assert_eq!(event["wish"]["id"], "1", "{msg}");
    assert_eq!(event["wish"]["claimant"]["username"], "member1", "{msg}");
    assert_eq!(event["wish"]["claimant"]["roles"], json!([]), "{msg}");
    assert!(msg["payload"]["errors"].is_null(), "{msg}");
}

const INCIDENT_EVENTS: &str = "subscription { incidentEvents { kind incident { id status organization { name } raisedBy { username } } } }";

/// The next `incidentEvents` message of `kind`, skipping others (events of earlier steps may
/// arrive first).
async fn next_incident_event(ws: &mut Ws, kind: &str) -> Option<Value> {
    loop {
        let ev = next_message(ws, Duration::from_secs(5)).await?;
        if ev["payload"]["data"]["incidentEvents"]["kind"] == kind {
            return Some(ev);
        }
    }
}

#[tokio::test]
async fn incident_events_reach_the_unit_dispatched_to_and_no_other() {
    let app = TestApp::with_demo().await;
    let addr = serve(app.router.clone()).await;
    let url = format!("ws://{addr}/graphql/ws");
    let rep = app.login("rep-power").await;
    let other_rep = app.login("rep-huitong").await;
    let staff = app.login("staff").await;
    let grid = app.login("grid").await;
    let mut power = subscribe(&url, Some(&rep), INCIDENT_EVENTS).await;
    let mut huitong = subscribe(&url, Some(&other_rep), INCIDENT_EVENTS).await;
    let mut staff_ws = subscribe(&url, Some(&staff), INCIDENT_EVENTS).await;
    // Anonymous callers are refused.
    let mut anon = subscribe(&url, None, INCIDENT_EVENTS).await;
    let refused = next_message(&mut anon, Duration::from_secs(5))
        .await
        .expect("an answer");
    assert_eq!(
        refused["payload"]["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
        "{refused}"
    );

    let v = app
        .gql(
            Some(&grid),
            "mutation { reportIncident(input: {gridId: \"1\", location: \"汇通路 12 号\", category: HIDDEN_RISK, subject: UTILITIES, description: \"电线老化\"}) { incident { id } } }",
            json!({}),
        )
        .await;
    let id = ok(&v)["reportIncident"]["incident"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let ev = next_incident_event(&mut staff_ws, "REPORTED")
        .await
        .expect("staff hear of the report");
    assert_eq!(
        ev["payload"]["data"]["incidentEvents"]["incident"]["id"],
        id.as_str()
    );
    ok(&app
        .gql(
            Some(&grid),
            "mutation($i: ID!) { whistleIncident(input: {incidentId: $i, note: \"吹哨\"}) { incident { id } } }",
            json!({"i": id}),
        )
        .await);
    let orgs = app
        .gql(
            Some(&staff),
            "{ organizations(first: 100) { nodes { id name } } }",
            json!({}),
        )
        .await;
    let power_id = ok(&orgs)["organizations"]["nodes"]
        .as_array()
        .and_then(|a| a.iter().find(|o| o["name"] == "仙林供电所党支部"))
        .and_then(|o| o["id"].as_str())
        .expect("org")
        .to_owned();
    ok(&app
        .gql(
            Some(&staff),
            "mutation($i: ID!, $o: ID!) { dispatchIncident(input: {incidentId: $i, organizationId: $o}) { incident { id } } }",
            json!({"i": id, "o": power_id}),
        )
        .await);
    let ev = next_incident_event(&mut power, "DISPATCHED")
        .await
        .expect("the unit hears of its dispatch");
    let inc = &ev["payload"]["data"]["incidentEvents"]["incident"];
    assert_eq!(inc["id"], id.as_str());
    assert_eq!(inc["organization"]["name"], "仙林供电所党支部");
    assert_eq!(inc["raisedBy"], Value::Null);
    assert!(
        next_message(&mut huitong, Duration::from_millis(500))
            .await
            .is_none(),
        "another unit hears nothing"
    );
}
