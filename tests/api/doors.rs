//! One door for every request: an open subscription ends with its user's rights (with a
//! documented close code) and shows current data in each event; every REST route passes
//! the same gate as GraphQL; `/files` tells no one whether an id exists.

use std::time::Duration;

use api::http::gate::Gate;
use axum::http::StatusCode;
use futures::StreamExt;
use sea_orm::EntityTrait;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::{SECRET, TestApp, ok, postgres_base_url, serve};
use crate::incidents::{org_id, reported, step};
use crate::live::{Ws, subscribe};

const WISH: &str =
    "subscription { wishEvents(communityId: \"1\") { kind wish { id beneficiaryPhone } } }";
const SHIFT: &str = "subscription { shiftEvents(slotId: \"1\") { kind signup { studentName } } }";
const INCIDENT: &str =
    "subscription { incidentEvents { kind incident { id status history { toStatus } } } }";

/// Reads a socket until it closes: its close code (none if it stayed open 10 s or was
/// dropped without one), and the data messages (`next`) received before.
async fn until_closed(ws: &mut Ws) -> (Option<u16>, Vec<Value>) {
    let mut data = Vec::new();
    loop {
        match tokio::time::timeout(Duration::from_secs(10), ws.next()).await {
            Err(_) | Ok(None) | Ok(Some(Err(_))) => return (None, data),
            Ok(Some(Ok(Message::Close(frame)))) => {
                return (frame.map(|f| u16::from(f.code)), data);
            }
            Ok(Some(Ok(Message::Text(t)))) => {
                let v: Value = serde_json::from_str(&t).unwrap_or_default();
                if v["type"] == "next" {
                    data.push(v);
                }
            }
            Ok(Some(Ok(_))) => {}
        }
    }
}

/// A socket of `token` for each live field: wish, shift and incident events.
async fn three_sockets(url: &str, token: &str) -> Vec<Ws> {
    let mut out = Vec::new();
    for q in [WISH, SHIFT, INCIDENT] {
        out.push(subscribe(url, Some(token), q).await);
    }
    out
}

/// One event of each live field: a wish claimed in 汇通社区, a sign-up on slot 1 and an
/// incident reported in 汇通第一网格.
async fn one_event_of_each(app: &TestApp) {
    let member = app.login("member1").await;
    ok(&app
        .gql(
            Some(&member),
            "mutation { claimWish(input: {wishId: \"1\"}) { wish { id } } }",
            json!({}),
        )
        .await);
    let student = app.login("student1").await;
    ok(&app
        .gql(
            Some(&student),
            "mutation { signUpForSeries(input: {slotId: \"1\"}) { takenCount } }",
            json!({}),
        )
        .await);
    let grid = app.login("grid").await;
    reported(app, &grid, None).await;
}

async fn assert_closed_without_data(sockets: Vec<Ws>, code: u16, what: &str) {
    for (mut ws, field) in sockets
        .into_iter()
        .zip(["wishEvents", "shiftEvents", "incidentEvents"])
    {
        let (closed, data) = until_closed(&mut ws).await;
        assert!(
            data.is_empty(),
            "{what}: {field} sent data after the change: {data:?}"
        );
        assert_eq!(closed, Some(code), "{what}: {field}'s socket");
    }
}

/// Runs a mutation through a second instance on the same database (PostgreSQL), or through
/// the app itself (SQLite, one instance).
async fn through_second(
    app: &TestApp,
    second: Option<&api::Application>,
    token: &str,
    q: &str,
    vars: Value,
) -> Value {
    let Some(second) = second else {
        return app.gql(Some(token), q, vars).await;
    };
    let body = json!({"query": q, "variables": vars}).to_string();
    let req = axum::http::Request::post("/graphql")
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {token}"))
        .body(axum::body::Body::from(body))
        .expect("request");
    let resp = tower::ServiceExt::oneshot(second.router.clone(), req)
        .await
        .expect("send");
    let bytes = http_body_util::BodyExt::collect(resp.into_body())
        .await
        .expect("body")
        .to_bytes();
    serde_json::from_slice(&bytes).expect("json")
}

async fn second_instance(app: &TestApp) -> Option<api::Application> {
    postgres_base_url()?;
    let config = (*app.state.config).clone();
    let second = api::Application::build(config)
        .await
        .expect("second instance");
    Some(second)
}

#[tokio::test]
async fn open_subscriptions_end_at_deactivation_logout_everywhere_and_password_change() {
    for change in ["deactivate", "logout everywhere", "change password"] {
        let app = TestApp::with_demo().await;
        let second = second_instance(&app).await;
        let url = format!("ws://{}/graphql/ws", serve(app.router.clone()).await);
        let staff = app.login("staff").await;
        let staff_id = app.user_id(&staff).await;
        let sockets = three_sockets(&url, &staff).await;
        let v = match change {
            "deactivate" => {
                let admin = app.login("admin").await;
                through_second(
                    &app,
                    second.as_ref(),
                    &admin,
                    "mutation($id: ID!) { deactivateUser(input: {userId: $id}) { user { id } } }",
                    json!({"id": staff_id}),
                )
                .await
            }
            "logout everywhere" => {
                let other_device = app.login("staff").await;
                through_second(
                    &app,
                    second.as_ref(),
                    &other_device,
                    "mutation { logoutEverywhere { at } }",
                    json!({}),
                )
                .await
            }
            _ => {
                let other_device = app.login("staff").await;
                through_second(
                    &app,
                    second.as_ref(),
                    &other_device,
                    "mutation { changePassword(input: {oldPassword: \"lianxin-demo\", newPassword: \"new-pass-2026\"}) { token } }",
                    json!({}),
                )
                .await
            }
        };
        ok(&v);
        app.settle().await;
        one_event_of_each(&app).await;
        assert_closed_without_data(sockets, 4401, change).await;
    }
}

#[tokio::test]
async fn open_subscriptions_end_when_a_role_is_revoked_also_on_another_instance() {
    let app = TestApp::with_demo().await;
    let second = second_instance(&app).await;
    let url = format!("ws://{}/graphql/ws", serve(app.router.clone()).await);
    let admin = app.login("admin").await;
    let resident = app.login("resident1").await;
    let resident_id = app.user_id(&resident).await;
    let huitong = app.community_id("汇通社区").await;
    let v = app
        .gql(
            Some(&admin),
            "mutation($in: GrantRoleInput!) { grantRole(input: $in) { grant { id } } }",
            json!({"in": {"userId": resident_id, "role": "COMMUNITY_STAFF", "communityId": huitong}}),
        )
        .await;
    let grant = ok(&v)["grantRole"]["grant"]["id"].clone();
    // As staff, the new rights show the beneficiary's phone.
    let mut staff_socket = subscribe(&url, Some(&resident), WISH).await;
    let member = app.login("member1").await;
    ok(&app
        .gql(
            Some(&member),
            "mutation { claimWish(input: {wishId: \"1\"}) { wish { id } } }",
            json!({}),
        )
        .await);
    let ev = crate::live::next_message(&mut staff_socket, Duration::from_secs(5))
        .await
        .expect("the event, as staff");
    assert_eq!(
        ev["payload"]["data"]["wishEvents"]["wish"]["beneficiaryPhone"], "13770003333",
        "{ev}"
    );
    drop(staff_socket);
    ok(&app
        .gql(
            Some(&member),
            "mutation { releaseWishClaim(input: {wishId: \"1\", reason: \"另有安排\"}) { wish { id } } }",
            json!({}),
        )
        .await);

    let sockets = three_sockets(&url, &resident).await;
    ok(&through_second(
        &app,
        second.as_ref(),
        &admin,
        "mutation($id: ID!) { revokeRole(input: {grantId: $id, reason: \"调离\"}) { grant { id } } }",
        json!({"id": grant}),
    )
    .await);
    app.settle().await;
    one_event_of_each(&app).await;
    assert_closed_without_data(sockets, 4403, "revokeRole").await;
}

#[tokio::test]
async fn an_open_subscription_ends_when_its_token_expires() {
    let app = TestApp::with_demo().await;
    let url = format!("ws://{}/graphql/ws", serve(app.router.clone()).await);
    let staff = app.login("staff").await;
    let staff_id: i64 = app.user_id(&staff).await.parse().expect("id");
    let version = entity::user::Entity::find_by_id(staff_id)
        .one(app.db())
        .await
        .expect("query")
        .expect("user")
        .token_version;
    let now = chrono::Utc::now().timestamp();
    let claims = api::auth::Claims {
        sub: staff_id.to_string(),
        exp: now + 2,
        iat: now,
        iss: "lianxin".into(),
        aud: "lianxin-api".into(),
        ver: version,
    };
    let short = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .expect("token");
    let started = std::time::Instant::now();
    let mut ws = subscribe(&url, Some(&short), WISH).await;
    // No event is needed: the socket closes at the token's expiry.
    let (closed, data) = until_closed(&mut ws).await;
    assert!(data.is_empty());
    assert_eq!(closed, Some(4401));
    assert!(started.elapsed() < Duration::from_secs(6));
}

#[tokio::test]
async fn each_incident_event_shows_the_history_as_it_is_then() {
    let app = TestApp::with_demo().await;
    let url = format!("ws://{}/graphql/ws", serve(app.router.clone()).await);
    let staff = app.login("staff").await;
    let grid = app.login("grid").await;
    let rep = app.login("rep-power").await;
    let power = org_id(&app, "仙林供电所党支部").await;
    let mut ws = subscribe(&url, Some(&staff), INCIDENT).await;
    // The next event of incident `id`: its history, checked against its status.
    async fn history_of_next(ws: &mut Ws, id: &str) -> Vec<String> {
        loop {
            let ev = crate::live::next_message(ws, Duration::from_secs(5))
                .await
                .expect("an incident event");
            let incident = &ev["payload"]["data"]["incidentEvents"]["incident"];
            if incident["id"] != id {
                continue;
            }
            let history: Vec<String> = incident["history"]
                .as_array()
                .expect("history")
                .iter()
                .map(|s| s["toStatus"].as_str().unwrap_or("").to_owned())
                .collect();
            assert_eq!(
                history.last().map(String::as_str),
                incident["status"].as_str(),
                "{ev}"
            );
            return history;
        }
    }
    // Each step, then its event: the event shows the history as it is then (one memo per
    // connection would have kept the first read, [REPORTED], for every event).
    let id = reported(&app, &grid, None).await;
    let mut seen = vec![history_of_next(&mut ws, &id).await];
    ok(&step(
        &app,
        &grid,
        "whistleIncident",
        json!({"incidentId": id, "note": "需供电所增容"}),
    )
    .await);
    seen.push(history_of_next(&mut ws, &id).await);
    ok(&step(
        &app,
        &staff,
        "dispatchIncident",
        json!({"incidentId": id, "organizationId": power}),
    )
    .await);
    seen.push(history_of_next(&mut ws, &id).await);
    ok(&step(&app, &rep, "acceptIncident", json!({"incidentId": id})).await);
    seen.push(history_of_next(&mut ws, &id).await);
    assert_eq!(
        seen,
        vec![
            vec!["REPORTED"],
            vec!["REPORTED", "WHISTLED"],
            vec!["REPORTED", "WHISTLED", "DISPATCHED"],
            vec!["REPORTED", "WHISTLED", "DISPATCHED", "ACCEPTED"],
        ]
    );
}

/// Every route of the router with an example address and its gate, as this test knows them.
/// A route added to the router but not here (or with another gate) fails the test.
const KNOWN_ROUTES: &[(&str, &str, Gate)] = &[
    (
        "/graphql",
        "/graphql?query=%7B%20me%20%7B%20id%20%7D%20%7D",
        Gate::GraphQL,
    ),
    ("/graphql/ws", "", Gate::GraphQL),
    ("/graphql/stream", "", Gate::GraphQL),
    ("/uploads", "", Gate::Login),
    ("/healthz", "/healthz", Gate::Open),
    ("/metrics", "/metrics", Gate::Open),
    ("/graphiql/{file}", "", Gate::Open),
    (
        "/templates/people.xlsx",
        "/templates/people.xlsx",
        Gate::Open,
    ),
    ("/calendar/{file}", "", Gate::CalendarToken),
    ("/me/personal-data", "/me/personal-data", Gate::Login),
    (
        "/communities/{id}/register.xlsx",
        "/communities/1/register.xlsx",
        Gate::Login,
    ),
    ("/files/{id}", "/files/{photo}", Gate::FileLink),
    ("/files/{id}/thumb", "/files/{photo}/thumb", Gate::FileLink),
];

fn code_and_reason(body: &[u8]) -> (String, String) {
    let v: Value = serde_json::from_slice(body).unwrap_or_default();
    let ext = &v["errors"][0]["extensions"];
    (
        ext["code"].as_str().unwrap_or("").to_owned(),
        ext["reason"].as_str().unwrap_or("").to_owned(),
    )
}

/// A photo of an incident in 汇通第一网格 (seen by 汇通社区's staff and the grid's workers).
async fn incident_photo(app: &TestApp) -> String {
    let grid = app.login("grid").await;
    let ht1 = app.grid_id("汇通第一网格").await;
    let img = image::RgbImage::from_fn(40, 30, |x, y| image::Rgb([x as u8, y as u8, 9]));
    let mut png = std::io::Cursor::new(Vec::new());
    img.write_to(&mut png, image::ImageFormat::Png)
        .expect("png");
    let v = app
        .gql_files(
            Some(&grid),
            "mutation($in: ReportIncidentInput!) { reportIncident(input: $in) { incident { photos { id } } } }",
            json!({"in": {"gridId": ht1, "location": "汇通路 3 号", "category": "PAIN", "subject": "SAFETY", "description": "路灯损坏", "photos": [null]}}),
            &[("variables.in.photos.0", "lamp.png", png.get_ref())],
        )
        .await;
    ok(&v)["reportIncident"]["incident"]["photos"][0]["id"]
        .as_str()
        .expect("photo id")
        .to_owned()
}

#[tokio::test]
async fn every_route_passes_its_gate_with_the_codes_graphql_gives() {
    // The router's table and this test's list the same routes with the same gates.
    let mut router_routes: Vec<(&str, Gate)> = api::http::gate::ROUTES
        .iter()
        .map(|r| (r.path, r.gate))
        .collect();
    let mut known: Vec<(&str, Gate)> = KNOWN_ROUTES.iter().map(|(p, _, g)| (*p, *g)).collect();
    router_routes.sort_by_key(|r| r.0);
    known.sort_by_key(|r| r.0);
    assert_eq!(
        router_routes, known,
        "a route without its gate in this test"
    );

    let app = TestApp::with_demo().await;
    let photo = incident_photo(&app).await;
    let admin = app.login("admin").await;
    // A must-change token: staff after a reset, logged in with the temporary password.
    let staff_id = app.user_id(&app.login("staff").await).await;
    ok(&app
        .gql(
            Some(&admin),
            "mutation($id: ID!) { resetPassword(input: {userId: $id, newPassword: \"temp-pass-2026\"}) { user { id } } }",
            json!({"id": staff_id}),
        )
        .await);
    let must_change = app.login_as("staff", "temp-pass-2026").await;
    // An old token version: grid's token before logoutEverywhere.
    let old = app.login("grid").await;
    let newer = app.login("grid").await;
    ok(&app
        .gql(
            Some(&newer),
            "mutation { logoutEverywhere { at } }",
            json!({}),
        )
        .await);
    // A deactivated account: wz-staff.
    let gone = app.login("wz-staff").await;
    let gone_id = app.user_id(&gone).await;
    ok(&app
        .gql(
            Some(&admin),
            "mutation($id: ID!) { deactivateUser(input: {userId: $id}) { user { id } } }",
            json!({"id": gone_id}),
        )
        .await);
    app.settle().await;

    // GraphQL's answers, which every route must match.
    let v = app
        .gql(
            Some(&must_change),
            "{ communities(first: 1) { nodes { id } } }",
            json!({}),
        )
        .await;
    assert_eq!(v["errors"][0]["extensions"]["code"], "FORBIDDEN", "{v}");
    assert_eq!(
        v["errors"][0]["extensions"]["reason"],
        "PASSWORD_CHANGE_REQUIRED"
    );
    for token in [&old, &gone] {
        let v = app.gql(Some(token), "{ me { id } }", json!({})).await;
        assert_eq!(
            v["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
            "{v}"
        );
    }

    for (path, example, gate) in KNOWN_ROUTES {
        // The POST routes (`/uploads`) are checked below.
        if !matches!(gate, Gate::Login | Gate::FileLink) || example.is_empty() {
            continue;
        }
        let url = example.replace("{photo}", &photo);
        let (status, _, body) = app.get_bytes(Some(&must_change), &url).await;
        assert_eq!(
            status,
            StatusCode::FORBIDDEN,
            "{path} with a must-change token"
        );
        assert_eq!(
            code_and_reason(&body),
            ("FORBIDDEN".into(), "PASSWORD_CHANGE_REQUIRED".into()),
            "{path}"
        );
        for (who, token) in [
            ("an old token version", &old),
            ("a deactivated account", &gone),
        ] {
            let (status, _, body) = app.get_bytes(Some(token), &url).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{path} with {who}");
            assert_eq!(
                code_and_reason(&body).0,
                "UNAUTHENTICATED",
                "{path} with {who}"
            );
        }
        let (status, _, _) = app.get_bytes(None, &url).await;
        let expected = if *gate == Gate::Login {
            StatusCode::UNAUTHORIZED
        } else {
            StatusCode::NOT_FOUND
        };
        assert_eq!(status, expected, "{path} anonymous");
    }
    // The POST doors (a wx.uploadFile upload, a GraphQL SSE stream) answer the same, before
    // reading the body.
    let post = |path: &'static str, token: Option<String>| {
        let app = &app;
        async move {
            let mut req = axum::http::Request::post(path)
                .header("content-type", "multipart/form-data; boundary=x")
                .header("accept", "text/event-stream");
            if let Some(t) = token {
                req = req.header("authorization", format!("Bearer {t}"));
            }
            app.send(
                req.body(axum::body::Body::from("--x--\r\n"))
                    .expect("request"),
            )
            .await
        }
    };
    for path in ["/uploads", "/graphql/stream"] {
        let (status, body) = post(path, Some(must_change.clone())).await;
        assert_eq!(
            status,
            StatusCode::FORBIDDEN,
            "{path} with a must-change token"
        );
        assert_eq!(
            code_and_reason(&body),
            ("FORBIDDEN".into(), "PASSWORD_CHANGE_REQUIRED".into()),
            "{path}"
        );
        for (who, token) in [
            ("an old token version", &old),
            ("a deactivated account", &gone),
        ] {
            let (status, body) = post(path, Some(token.clone())).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{path} with {who}");
            assert_eq!(
                code_and_reason(&body),
                ("UNAUTHENTICATED".into(), "TOKEN_REVOKED".into()),
                "{path} with {who}"
            );
        }
    }
    let (status, body) = post("/uploads", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "/uploads anonymous");
    assert_eq!(
        code_and_reason(&body),
        ("UNAUTHENTICATED".into(), "AUTHENTICATION_REQUIRED".into())
    );
    // The GraphQL routes: GET with the must-change token runs nothing but `me`.
    let (status, _, body) = app
        .get_bytes(
            Some(&must_change),
            "/graphql?query=%7B%20communities(first%3A%201)%20%7B%20nodes%20%7B%20id%20%7D%20%7D%20%7D",
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        code_and_reason(&body),
        ("FORBIDDEN".into(), "PASSWORD_CHANGE_REQUIRED".into())
    );
    // The WebSocket refuses a must-change token at connection_init with 4403.
    let url = format!("ws://{}/graphql/ws", serve(app.router.clone()).await);
    let mut req = tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(
        url.as_str(),
    )
    .expect("request");
    req.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        tokio_tungstenite::tungstenite::http::HeaderValue::from_static("graphql-transport-ws"),
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(req)
        .await
        .expect("connect");
    futures::SinkExt::send(
        &mut ws,
        Message::text(
            json!({"type": "connection_init", "payload": {"Authorization": format!("Bearer {must_change}")}})
                .to_string(),
        ),
    )
    .await
    .expect("init");
    assert_eq!(until_closed(&mut ws).await.0, Some(4403));

    // The calendar feed: its token stops working when the account is deactivated.
    let student = app.login("student1").await;
    let v = app
        .gql(
            Some(&student),
            "mutation { rotateCalendarToken { path } }",
            json!({}),
        )
        .await;
    let feed = ok(&v)["rotateCalendarToken"]["path"]
        .as_str()
        .expect("path")
        .to_owned();
    assert_eq!(app.get_bytes(None, &feed).await.0, StatusCode::OK);
    let student_id = app.user_id(&student).await;
    ok(&app
        .gql(
            Some(&admin),
            "mutation($id: ID!) { deactivateUser(input: {userId: $id}) { user { id } } }",
            json!({"id": student_id}),
        )
        .await);
    assert_eq!(app.get_bytes(None, &feed).await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn files_answer_a_missing_and_a_forbidden_id_alike() {
    let app = TestApp::with_demo().await;
    let photo = incident_photo(&app).await;
    let staff = app.login("staff").await;
    assert_eq!(
        app.get_bytes(Some(&staff), &format!("/files/{photo}"))
            .await
            .0,
        StatusCode::OK,
        "staff of the community see the photo"
    );
    let member = app.login("member1").await;
    let other_staff = app.login("wz-staff").await;
    for (who, token) in [
        ("anonymous", None),
        ("a member", Some(member.as_str())),
        ("another community's staff", Some(other_staff.as_str())),
    ] {
        for suffix in ["", "/thumb"] {
            let forbidden = app
                .get_bytes(token, &format!("/files/{photo}{suffix}"))
                .await;
            let missing = app
                .get_bytes(token, &format!("/files/987654321{suffix}"))
                .await;
            let malformed = app.get_bytes(token, &format!("/files/x{suffix}")).await;
            assert_eq!(forbidden.0, StatusCode::NOT_FOUND, "{who}");
            assert_eq!(forbidden, missing, "{who}: forbidden and missing differ");
            assert_eq!(
                forbidden, malformed,
                "{who}: forbidden and malformed differ"
            );
        }
    }
}

#[tokio::test]
async fn resolver_spans_can_be_switched_on_without_changing_answers() {
    let app = TestApp::spawn_with(|c| c.trace_resolvers = true).await;
    api::demo::seed(&app.state.db, &app.state.config)
        .await
        .expect("demo data");
    let admin = app.login("admin").await;
    let v = app
        .gql(
            Some(&admin),
            "{ me { username roles { role } } }",
            json!({}),
        )
        .await;
    assert_eq!(ok(&v)["me"]["username"], "admin");
    assert_eq!(ok(&v)["me"]["roles"][0]["role"], "ADMIN");
}
