//! Notifications (#30): the outbox written with the change, the in-app inbox, and delivery
//! over WeChat subscription messages to a local stand-in that checks what WeChat checks.

use std::sync::{Arc, Mutex};

use axum::{
    Json, Router,
    extract::{Query, State},
    routing::post,
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, TransactionTrait};
use serde_json::{Value, json};

use crate::helpers::{TestApp, ok, serve};

const APP_ID: &str = "wx-notify-0123456789";
const APP_SECRET: &str = "stand-in-notify-secret-0123456789";
const CLAIMED_TEMPLATE: &str = "tmpl-wish-claimed";
const RESET_TEMPLATE: &str = "tmpl-password-reset";

/// What the stand-in was sent, and how it should answer.
#[derive(Default)]
struct Seen {
    stable_tokens: Vec<bool>,
    sent: Vec<Value>,
    /// Answer the next send with 40001 (an access token WeChat no longer takes).
    stale_once: bool,
    /// Answer every send with -1 (system busy).
    busy: bool,
    /// openids that refused the template (43101).
    refused: Vec<String>,
}

type Shared = Arc<Mutex<Seen>>;

async fn stable_token(State(seen): State<Shared>, Json(body): Json<Value>) -> Json<Value> {
    if body["grant_type"] != "client_credential"
        || body["appid"] != APP_ID
        || body["secret"] != APP_SECRET
    {
        return Json(json!({"errcode": 40013, "errmsg": "invalid appid"}));
    }
    let mut seen = seen.lock().expect("lock");
    seen.stable_tokens
        .push(body["force_refresh"].as_bool().unwrap_or(false));
    let n = seen.stable_tokens.len();
    Json(json!({"access_token": format!("ACCESS_TOKEN_{n}"), "expires_in": 7200}))
}

/// The longest value WeChat takes per field type (its documented limits).
fn limit(key: &str) -> Option<usize> {
    match key.trim_end_matches(|c: char| c.is_ascii_digit()) {
        "thing" => Some(20),
        "phrase" => Some(5),
        "number" | "character_string" => Some(32),
        "time" | "date" => Some(40),
        _ => None,
    }
}

/// `POST /cgi-bin/message/subscribe/send?access_token=…`, checked as WeChat checks it.
async fn subscribe_send(
    State(seen): State<Shared>,
    Query(q): Query<Value>,
    Json(body): Json<Value>,
) -> Json<Value> {
    let mut seen = seen.lock().expect("lock");
    if !q["access_token"]
        .as_str()
        .is_some_and(|t| t.starts_with("ACCESS_TOKEN_"))
    {
        return Json(json!({"errcode": 40001, "errmsg": "invalid credential"}));
    }
    if seen.stale_once {
        seen.stale_once = false;
        return Json(
            json!({"errcode": 40001, "errmsg": "invalid credential, access_token is invalid or not latest"}),
        );
    }
    if seen.busy {
        return Json(json!({"errcode": -1, "errmsg": "system error"}));
    }
    let touser = body["touser"].as_str().unwrap_or("");
    if !touser.starts_with("o-") {
        return Json(json!({"errcode": 40003, "errmsg": "invalid openid"}));
    }
    if ![CLAIMED_TEMPLATE, RESET_TEMPLATE].contains(&body["template_id"].as_str().unwrap_or("")) {
        return Json(json!({"errcode": 40037, "errmsg": "invalid template_id"}));
    }
    if !["formal", "trial", "developer"].contains(&body["miniprogram_state"].as_str().unwrap_or(""))
    {
        return Json(json!({"errcode": 47003, "errmsg": "argument invalid! miniprogram_state"}));
    }
    let Some(data) = body["data"].as_object() else {
        return Json(json!({"errcode": 47003, "errmsg": "argument invalid! data"}));
    };
    for (key, v) in data {
        let value = v["value"].as_str().unwrap_or("");
        let fits = limit(key).is_some_and(|max| !value.is_empty() && value.chars().count() <= max);
        if !fits {
            return Json(
                json!({"errcode": 47003, "errmsg": format!("argument invalid! data.{key}.value invalid")}),
            );
        }
    }
    if seen.refused.iter().any(|r| r == touser) {
        return Json(json!({"errcode": 43101, "errmsg": "user refuse to accept the msg"}));
    }
    seen.sent.push(body);
    Json(json!({"errcode": 0, "errmsg": "ok"}))
}

async fn stand_in() -> (String, Shared) {
    let seen: Shared = Arc::default();
    let router = Router::new()
        .route("/cgi-bin/stable_token", post(stable_token))
        .route("/cgi-bin/message/subscribe/send", post(subscribe_send))
        .with_state(seen.clone());
    let addr = serve(router).await;
    (format!("http://{addr}"), seen)
}

async fn app_with(base: Option<String>) -> TestApp {
    let app = TestApp::spawn_with(move |c| {
        if let Some(base) = base {
            c.wechat = Some(api::config::WeChatConfig {
                api_base: base,
                app_id: APP_ID.into(),
                app_secret: api::config::Secret::new(APP_SECRET),
            });
        }
        c.notify.wechat_templates = [
            ("WISH_CLAIMED".to_owned(), CLAIMED_TEMPLATE.to_owned()),
            ("PASSWORD_RESET".to_owned(), RESET_TEMPLATE.to_owned()),
        ]
        .into_iter()
        .collect();
        c.notify.retry_base = std::time::Duration::ZERO;
        c.notify.max_attempts = 3;
        c.notify.run_sender = false;
    })
    .await;
    api::demo::seed(&app.state.db, &app.state.config)
        .await
        .expect("demo");
    // The demo's own messages (its changes went through the rules) are cleared: each test
    // counts what it causes.
    entity::notification_delivery::Entity::delete_many()
        .exec(app.db())
        .await
        .expect("clear");
    entity::notification::Entity::delete_many()
        .exec(app.db())
        .await
        .expect("clear");
    app
}

const INBOX: &str = "{ unreadNotificationCount notifications(first: 20) { totalCount nodes { id kind title body page subjectType subjectId readAt } } }";
const CLAIM: &str = "mutation($id: ID!) { claimWish(input: {wishId: $id}) { wish { id status } } }";

/// Binds a WeChat openid to the person and sets their quiet hours off (so that the time of
/// day the test runs at does not matter).
async fn reachable(app: &TestApp, token: &str, openid: &str) -> i64 {
    let id: i64 = app.user_id(token).await.parse().expect("id");
    entity::wechat_binding::Entity::insert(entity::wechat_binding::ActiveModel {
        user_id: sea_orm::Set(id),
        openid: sea_orm::Set(openid.into()),
        bound_at: sea_orm::Set(api::core::clock::now()),
    })
    .exec_without_returning(app.db())
    .await
    .expect("bind");
    ok(&app
        .gql(Some(token), "mutation { updateNotificationPreferences(input: {quietStart: \"00:00\", quietEnd: \"00:00\"}) { quietStart } }", json!({}))
        .await);
    id
}

async fn deliveries(app: &TestApp) -> Vec<entity::notification_delivery::Model> {
    entity::notification_delivery::Entity::find()
        .all(app.db())
        .await
        .expect("deliveries")
}

async fn send_round(app: &TestApp, worker: &str) -> usize {
    api::notify::sender::run_once(app.db(), &app.state.config, worker)
        .await
        .expect("round")
}

#[tokio::test]
async fn a_claim_tells_the_wishs_owner_in_the_inbox_and_no_one_else() {
    let app = app_with(None).await;
    let resident = app.login("resident1").await;
    let member = app.login("member1").await;
    let grid = app.login("grid").await;
    // Wish 1: resident1's own, published.
    let v = app.gql(Some(&member), CLAIM, json!({"id": "1"})).await;
    assert_eq!(ok(&v)["claimWish"]["wish"]["status"], "CLAIMED");
    let inbox = app.gql(Some(&resident), INBOX, json!({})).await;
    let d = ok(&inbox);
    assert_eq!(d["unreadNotificationCount"], 1, "{d}");
    let n = &d["notifications"]["nodes"][0];
    assert_eq!(n["kind"], "WISH_CLAIMED");
    assert_eq!(n["subjectType"], "Wish");
    assert_eq!(n["subjectId"], "1");
    assert_eq!(n["page"], "pages/wish/detail?id=1");
    assert!(
        n["body"].as_str().expect("body").contains("想要一台收音机"),
        "{n}"
    );
    // The claimant's name is not in it.
    let who = app
        .gql(Some(&member), "{ me { displayName } }", json!({}))
        .await;
    let name = ok(&who)["me"]["displayName"]
        .as_str()
        .expect("name")
        .to_owned();
    assert!(!n["body"].as_str().expect("body").contains(&name));
    // The claimant and others are not told.
    for t in [&member, &grid] {
        let v = app.gql(Some(t), INBOX, json!({})).await;
        assert_eq!(ok(&v)["notifications"]["totalCount"], 0, "{v}");
    }
    // Anonymous callers have no inbox.
    let v = app.gql(None, INBOX, json!({})).await;
    assert_eq!(v["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
    // Another person's message cannot be marked read by id.
    let id = n["id"].clone();
    let v = app
        .gql(
            Some(&grid),
            "mutation($id: ID!) { markNotificationsRead(input: {ids: [$id]}) { marked } }",
            json!({"id": id}),
        )
        .await;
    assert_eq!(ok(&v)["markNotificationsRead"]["marked"], 0);
    let v = app
        .gql(Some(&resident), "mutation($id: ID!) { markNotificationsRead(input: {ids: [$id]}) { marked unreadCount } }", json!({"id": id}))
        .await;
    assert_eq!(
        ok(&v)["markNotificationsRead"],
        json!({"marked": 1, "unreadCount": 0})
    );
    let v = app
        .gql(
            Some(&resident),
            "{ notifications(unreadOnly: true) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(ok(&v)["notifications"]["totalCount"], 0);
    // The inbox is part of the person's data download.
    let v = app
        .gql(
            Some(&resident),
            "{ myPersonalData { notifications { kind readAt } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        ok(&v)["myPersonalData"]["notifications"][0]["kind"],
        "WISH_CLAIMED"
    );
    // A refused claim writes nothing.
    let before = entity::notification::Entity::find()
        .all(app.db())
        .await
        .expect("rows")
        .len();
    let v = app.gql(Some(&member), CLAIM, json!({"id": "1"})).await;
    assert!(!v["errors"].is_null());
    let after = entity::notification::Entity::find()
        .all(app.db())
        .await
        .expect("rows")
        .len();
    assert_eq!(before, after);
}

#[tokio::test]
async fn a_rolled_back_change_notifies_no_one_and_one_statement_reaches_many() {
    let app = app_with(None).await;
    let db = app.db();
    let message = api::notify::outbox::Message {
        kind: api::notify::kinds::Kind::RoleGranted,
        title: "测试".into(),
        body: "测试".into(),
        page: None,
        subject: None,
        fields: vec![],
        dedup_key: None,
    };
    let txn = db.begin().await.expect("txn");
    let written = api::notify::outbox::enqueue(
        &txn,
        api::notify::outbox::Recipients::Users(vec![1, 2, 3]),
        &message,
    )
    .await
    .expect("enqueue");
    assert!(written.batch.is_some());
    txn.rollback().await.expect("rollback");
    assert!(
        entity::notification::Entity::find()
            .all(db)
            .await
            .expect("rows")
            .is_empty()
    );
    assert!(deliveries(&app).await.is_empty());
    // Every active user, by one query, in two statements; a reminder written twice is kept once.
    let everyone = || {
        let mut q = sea_orm::sea_query::Query::select();
        q.expr_as(
            sea_orm::sea_query::Expr::col(entity::user::Column::Id),
            sea_orm::sea_query::Alias::new("uid"),
        )
        .from(entity::user::Entity);
        api::notify::outbox::Recipients::Query(Box::new(q))
    };
    let reminder = api::notify::outbox::Message {
        dedup_key: Some("shift-1".into()),
        kind: api::notify::kinds::Kind::ShiftReminder,
        ..message
    };
    let before = app.statements();
    let txn = db.begin().await.expect("txn");
    let _ = api::notify::outbox::enqueue(&txn, everyone(), &reminder)
        .await
        .expect("enqueue");
    txn.commit().await.expect("commit");
    assert_eq!(
        app.statements() - before,
        2,
        "two inserts, whatever the number of people"
    );
    let users = entity::user::Entity::find()
        .filter(entity::user::Column::Active.eq(true))
        .all(db)
        .await
        .expect("users")
        .len();
    let rows = entity::notification::Entity::find()
        .all(db)
        .await
        .expect("rows")
        .len();
    assert_eq!(rows, users);
    assert_eq!(
        deliveries(&app).await.len(),
        users,
        "one WeChat delivery each"
    );
    let txn = db.begin().await.expect("txn");
    let again = api::notify::outbox::enqueue(&txn, everyone(), &reminder)
        .await
        .expect("enqueue");
    txn.commit().await.expect("commit");
    assert!(again.batch.is_none());
    assert_eq!(
        entity::notification::Entity::find()
            .all(db)
            .await
            .expect("rows")
            .len(),
        users
    );
}

#[tokio::test]
async fn an_incident_step_tells_the_units_reps_and_the_grids_workers_only() {
    let app = app_with(None).await;
    let staff = app.login("staff").await;
    let admin = app.login("admin").await;
    let v = app
        .gql(Some(&admin), "{ incidents(status: WHISTLED) { nodes { id } } d: incidents(status: DISPATCHED) { nodes { organization { id } } } }", json!({}))
        .await;
    let id = ok(&v)["incidents"]["nodes"][0]["id"].clone();
    let org = ok(&v)["d"]["nodes"][0]["organization"]["id"].clone();
    let v = app
        .gql(Some(&staff), "mutation($id: ID!, $o: ID!) { dispatchIncident(input: {incidentId: $id, organizationId: $o}) { incident { status location } } }", json!({"id": id, "o": org}))
        .await;
    let location = ok(&v)["dispatchIncident"]["incident"]["location"]
        .as_str()
        .expect("location")
        .to_owned();
    let kinds = |v: &Value| -> Vec<String> {
        ok(v)["notifications"]["nodes"]
            .as_array()
            .expect("nodes")
            .iter()
            .map(|n| n["kind"].as_str().unwrap_or("").to_owned())
            .collect()
    };
    let power = app.login("rep-power").await;
    let v = app.gql(Some(&power), INBOX, json!({})).await;
    assert_eq!(kinds(&v), ["INCIDENT_DISPATCHED"], "{v}");
    assert!(
        ok(&v)["notifications"]["nodes"][0]["body"]
            .as_str()
            .expect("body")
            .contains(&location)
    );
    for other in ["rep-school", "rep-huitong", "resident1", "member1"] {
        let t = app.login(other).await;
        let v = app.gql(Some(&t), INBOX, json!({})).await;
        assert!(kinds(&v).is_empty(), "{other}: {v}");
    }
    // Accepted and handled by the unit: the grid's workers are asked to confirm.
    ok(&app.gql(Some(&power), "mutation($id: ID!) { acceptIncident(input: {incidentId: $id}) { incident { status } } }", json!({"id": id})).await);
    ok(&app.gql(Some(&power), "mutation($id: ID!) { handleIncident(input: {incidentId: $id, resolution: \"已修复\"}) { incident { status } } }", json!({"id": id})).await);
    let grid = app.login("grid").await;
    let v = app.gql(Some(&grid), INBOX, json!({})).await;
    assert_eq!(kinds(&v), ["INCIDENT_HANDLED"], "{v}");
    // Reopened: back to the unit's reps.
    ok(&app.gql(Some(&grid), "mutation($id: ID!) { reopenIncident(input: {incidentId: $id, note: \"仍漏水\"}) { incident { status } } }", json!({"id": id})).await);
    let v = app.gql(Some(&power), INBOX, json!({})).await;
    assert_eq!(
        kinds(&v),
        ["INCIDENT_REOPENED", "INCIDENT_DISPATCHED"],
        "{v}"
    );
}

#[tokio::test]
async fn wechat_messages_spend_consents_refresh_a_stale_token_and_stop_at_a_refusal() {
    let (base, seen) = stand_in().await;
    let app = app_with(Some(base)).await;
    let resident = app.login("resident1").await;
    let member = app.login("member1").await;
    let staff = app.login("staff").await;
    let resident_id = reachable(&app, &resident, "o-resident1").await;
    // No consent yet: the claim's message is skipped, with why.
    ok(&app.gql(Some(&member), CLAIM, json!({"id": "1"})).await);
    assert_eq!(send_round(&app, "w1").await, 1);
    let d = deliveries(&app).await;
    assert_eq!(
        d[0].status,
        entity::notification_delivery::DeliveryStatus::Skipped
    );
    assert!(
        d[0].reason.as_deref().is_some_and(|r| r.contains("授权")),
        "{d:?}"
    );
    assert!(seen.lock().expect("lock").sent.is_empty());
    // Two taps: two messages allowed.
    let v = app
        .gql(Some(&resident), "mutation($t: [String!]!) { recordWeChatConsent(input: {templateIds: $t}) { consents { templateId remaining } } }", json!({"t": [CLAIMED_TEMPLATE]}))
        .await;
    ok(&v);
    let v = app
        .gql(Some(&resident), "mutation($t: [String!]!) { recordWeChatConsent(input: {templateIds: $t}) { consents { templateId remaining } } }", json!({"t": [CLAIMED_TEMPLATE, RESET_TEMPLATE]}))
        .await;
    let consents = ok(&v)["recordWeChatConsent"]["consents"].clone();
    assert!(
        consents
            .as_array()
            .expect("list")
            .contains(&json!({"templateId": CLAIMED_TEMPLATE, "remaining": 2})),
        "{consents}"
    );
    // A long title is cut to WeChat's 20 characters for a `thing` field.
    let title = "请帮忙把楼下的旧自行车搬到社区回收点并且顺便修一下楼道里的灯";
    let v = app
        .gql(Some(&resident), "mutation($in: SubmitWishInput!) { submitWish(input: $in) { wish { id } } }", json!({"in": {"gridId": app.grid_id("汇通第一网格").await, "title": title, "description": "谢谢", "category": "SERVICE", "estimatedValue": 0}}))
        .await;
    let wish = ok(&v)["submitWish"]["wish"]["id"].clone();
    ok(&app.gql(Some(&staff), "mutation($id: ID!) { reviewWish(input: {wishId: $id, decision: APPROVE}) { wish { status } } }", json!({"id": wish})).await);
    // A member claims it: sent, with the token refreshed once on 40001.
    seen.lock().expect("lock").stale_once = true;
    ok(&app.gql(Some(&member), CLAIM, json!({"id": wish})).await);
    assert_eq!(send_round(&app, "w1").await, 1);
    {
        let seen = seen.lock().expect("lock");
        assert_eq!(seen.sent.len(), 1, "{:?}", seen.sent);
        let m = &seen.sent[0];
        assert_eq!(m["touser"], "o-resident1");
        assert_eq!(m["template_id"], CLAIMED_TEMPLATE);
        assert_eq!(
            m["page"],
            format!("pages/wish/detail?id={}", wish.as_str().expect("id"))
        );
        assert_eq!(m["miniprogram_state"], "formal");
        let thing = m["data"]["thing1"]["value"].as_str().expect("thing1");
        assert_eq!(thing.chars().count(), 20, "{thing}");
        assert!(thing.ends_with('…') && title.starts_with(thing.trim_end_matches('…')));
        assert_eq!(m["data"]["phrase2"]["value"], "已认领");
        assert!(
            seen.stable_tokens.contains(&true),
            "a forced refresh after 40001: {:?}",
            seen.stable_tokens
        );
    }
    let remaining = || async {
        entity::wechat_consent::Entity::find()
            .filter(entity::wechat_consent::Column::UserId.eq(resident_id))
            .filter(entity::wechat_consent::Column::TemplateId.eq(CLAIMED_TEMPLATE))
            .one(app.db())
            .await
            .expect("consent")
            .map(|c| c.remaining)
    };
    assert_eq!(remaining().await, Some(1), "one consent spent");
    // WeChat busy: retried with backoff, then FAILED after the last attempt, consent kept.
    seen.lock().expect("lock").busy = true;
    ok(&app.gql(Some(&staff), "mutation($id: ID!) { resetPassword(input: {userId: $id, newPassword: \"Temp-pass-1\"}) { user { id } } }", json!({"id": resident_id.to_string()})).await);
    let reset = |d: &[entity::notification_delivery::Model]| {
        d.iter().max_by_key(|d| d.id).cloned().expect("delivery")
    };
    assert_eq!(send_round(&app, "w1").await, 1);
    let d = reset(&deliveries(&app).await);
    assert_eq!(
        d.status,
        entity::notification_delivery::DeliveryStatus::Pending,
        "{d:?}"
    );
    assert_eq!(d.attempts, 1);
    assert!(
        d.reason.as_deref().is_some_and(|r| r.contains("-1")),
        "{d:?}"
    );
    send_round(&app, "w1").await;
    send_round(&app, "w1").await;
    let d = reset(&deliveries(&app).await);
    assert_eq!(
        d.status,
        entity::notification_delivery::DeliveryStatus::Failed,
        "{d:?}"
    );
    assert_eq!(d.attempts, 3);
    assert_eq!(
        send_round(&app, "w1").await,
        0,
        "a failed delivery is not taken again"
    );
    // A refusal (43101) voids the remaining consents of that template.
    {
        let mut s = seen.lock().expect("lock");
        s.busy = false;
        s.refused.push("o-resident1".into());
    }
    ok(&app.gql(Some(&member), "mutation { releaseWishClaim(input: {wishId: \"1\", reason: \"临时有事\"}) { wish { status } } }", json!({})).await);
    ok(&app.gql(Some(&member), CLAIM, json!({"id": "1"})).await);
    send_round(&app, "w1").await;
    let d = reset(&deliveries(&app).await);
    assert_eq!(
        d.status,
        entity::notification_delivery::DeliveryStatus::Failed,
        "{d:?}"
    );
    assert!(
        d.reason.as_deref().is_some_and(|r| r.contains("43101")),
        "{d:?}"
    );
    assert_eq!(remaining().await, Some(0));
}

#[tokio::test]
async fn quiet_hours_and_switched_off_channels_skip_with_why() {
    let (base, _seen) = stand_in().await;
    let app = app_with(Some(base)).await;
    let resident = app.login("resident1").await;
    let member = app.login("member1").await;
    reachable(&app, &resident, "o-resident1").await;
    ok(&app.gql(Some(&resident), "mutation { recordWeChatConsent(input: {templateIds: [\"tmpl-wish-claimed\"]}) { consents { remaining } } }", json!({})).await);
    // Quiet all day but one minute: a claim's message is held back.
    let now = api::core::clock::now().with_timezone(&chrono_tz::Asia::Shanghai);
    let start = (now - chrono::Duration::hours(1))
        .format("%H:%M")
        .to_string();
    let end = (now + chrono::Duration::hours(1))
        .format("%H:%M")
        .to_string();
    let v = app
        .gql(Some(&resident), "mutation($s: String!, $e: String!) { updateNotificationPreferences(input: {quietStart: $s, quietEnd: $e}) { quietStart quietEnd channels { kind } } }", json!({"s": start, "e": end}))
        .await;
    assert_eq!(
        ok(&v)["updateNotificationPreferences"]["quietStart"],
        start.as_str()
    );
    ok(&app.gql(Some(&member), CLAIM, json!({"id": "1"})).await);
    send_round(&app, "w1").await;
    let d = deliveries(&app).await;
    assert_eq!(
        d[0].status,
        entity::notification_delivery::DeliveryStatus::Skipped
    );
    assert_eq!(d[0].reason.as_deref(), Some("免打扰时段"));
    // WeChat switched off for claims: skipped for that reason, other kinds untouched.
    let v = app
        .gql(Some(&resident), "mutation { updateNotificationPreferences(input: {quietStart: \"00:00\", quietEnd: \"00:00\", channels: [{kind: WISH_CLAIMED, channels: []}]}) { channels { kind channels } } }", json!({}))
        .await;
    assert_eq!(
        ok(&v)["updateNotificationPreferences"]["channels"],
        json!([{"kind": "WISH_CLAIMED", "channels": []}])
    );
    ok(&app.gql(Some(&member), "mutation { releaseWishClaim(input: {wishId: \"1\", reason: \"临时有事\"}) { wish { status } } }", json!({})).await);
    ok(&app.gql(Some(&member), CLAIM, json!({"id": "1"})).await);
    send_round(&app, "w1").await;
    let d = deliveries(&app).await;
    let last = d.iter().max_by_key(|d| d.id).expect("delivery");
    assert_eq!(
        last.status,
        entity::notification_delivery::DeliveryStatus::Skipped
    );
    assert_eq!(last.reason.as_deref(), Some("已在偏好中关闭该渠道"));
    // Bad times are refused with the field.
    let v = app
        .gql(Some(&resident), "mutation { updateNotificationPreferences(input: {quietStart: \"25:00\"}) { quietStart } }", json!({}))
        .await;
    assert_eq!(v["errors"][0]["extensions"]["field"], "quietStart");
    // A list longer than the kinds is refused before it is read.
    let many: Vec<Value> = (0..21)
        .map(|_| json!({"kind": "WISH_CLAIMED", "channels": ["WECHAT"]}))
        .collect();
    let v = app
        .gql(Some(&resident), "mutation($c: [KindChannelsInput!]) { updateNotificationPreferences(input: {channels: $c}) { quietStart } }", json!({"c": many}))
        .await;
    assert_eq!(v["errors"][0]["extensions"]["field"], "channels", "{v}");
    // Urgent kinds go through quiet hours: see the overdue text's test.
}

#[tokio::test]
async fn two_senders_deliver_each_message_once_and_a_dead_senders_lease_runs_out() {
    let (base, seen) = stand_in().await;
    let app = app_with(Some(base)).await;
    let db = app.db();
    // Forty people bound and consenting; one message each.
    let users: Vec<i64> = entity::user::Entity::find()
        .all(db)
        .await
        .expect("users")
        .into_iter()
        .map(|u| u.id)
        .take(40)
        .collect();
    for id in &users {
        entity::wechat_binding::Entity::insert(entity::wechat_binding::ActiveModel {
            user_id: sea_orm::Set(*id),
            openid: sea_orm::Set(format!("o-{id}")),
            bound_at: sea_orm::Set(api::core::clock::now()),
        })
        .exec_without_returning(db)
        .await
        .expect("bind");
        entity::wechat_consent::Entity::insert(entity::wechat_consent::ActiveModel {
            user_id: sea_orm::Set(*id),
            template_id: sea_orm::Set(RESET_TEMPLATE.into()),
            remaining: sea_orm::Set(5),
            updated_at: sea_orm::Set(api::core::clock::now()),
        })
        .exec_without_returning(db)
        .await
        .expect("consent");
        entity::notification_preference::Entity::insert(
            entity::notification_preference::ActiveModel {
                user_id: sea_orm::Set(*id),
                quiet_start: sea_orm::Set("00:00".into()),
                quiet_end: sea_orm::Set("00:00".into()),
                channels: sea_orm::Set("{}".into()),
                updated_at: sea_orm::Set(api::core::clock::now()),
            },
        )
        .exec_without_returning(db)
        .await
        .expect("preferences");
    }
    let message = api::notify::outbox::Message {
        kind: api::notify::kinds::Kind::PasswordReset,
        title: "测试".into(),
        body: "测试".into(),
        page: None,
        subject: None,
        fields: vec![("thing1", "密码已重置".into())],
        dedup_key: None,
    };
    let txn = db.begin().await.expect("txn");
    let _ = api::notify::outbox::enqueue(
        &txn,
        api::notify::outbox::Recipients::Users(users.clone()),
        &message,
    )
    .await
    .expect("enqueue");
    txn.commit().await.expect("commit");
    // A sender that took five deliveries and died: their lease is in the past now.
    let dead: Vec<i64> = deliveries(&app)
        .await
        .iter()
        .map(|d| d.id)
        .take(5)
        .collect();
    entity::notification_delivery::Entity::update_many()
        .col_expr(
            entity::notification_delivery::Column::Status,
            sea_orm::sea_query::Expr::value(entity::notification_delivery::DeliveryStatus::Sending),
        )
        .col_expr(
            entity::notification_delivery::Column::Worker,
            sea_orm::sea_query::Expr::value("dead"),
        )
        .col_expr(
            entity::notification_delivery::Column::Attempts,
            sea_orm::sea_query::Expr::value(1),
        )
        .col_expr(
            entity::notification_delivery::Column::LeaseUntil,
            sea_orm::sea_query::Expr::value(api::core::clock::now() - chrono::Duration::seconds(1)),
        )
        .filter(entity::notification_delivery::Column::Id.is_in(dead.clone()))
        .exec(db)
        .await
        .expect("dead sender");
    // Two senders at once, small batches, until nothing is left.
    let config = Arc::new({
        let mut c = (*app.state.config).clone();
        c.notify.batch = 3;
        c
    });
    let run = |name: &'static str| {
        let db = db.clone();
        let config = config.clone();
        tokio::spawn(async move {
            let mut n = 0;
            loop {
                let got = api::notify::sender::run_once(&db, &config, name)
                    .await
                    .expect("round");
                if got == 0 {
                    return n;
                }
                n += got;
            }
        })
    };
    let (a, b) = (run("a"), run("b"));
    let (a, b) = (a.await.expect("a"), b.await.expect("b"));
    assert_eq!(a + b, users.len(), "{a} + {b}");
    let sent = seen.lock().expect("lock").sent.clone();
    let mut to: Vec<&str> = sent.iter().filter_map(|m| m["touser"].as_str()).collect();
    to.sort_unstable();
    let before = to.len();
    to.dedup();
    assert_eq!(before, to.len(), "a message sent twice");
    assert_eq!(to.len(), users.len());
    let d = deliveries(&app).await;
    assert!(
        d.iter()
            .all(|d| d.status == entity::notification_delivery::DeliveryStatus::Sent),
        "{d:?}"
    );
    // The five taken by the dead sender were taken again once: two attempts each.
    assert!(
        d.iter()
            .all(|d| d.attempts == if dead.contains(&d.id) { 2 } else { 1 }),
        "{d:?}"
    );
}

const SMS_ID: &str = "AKIDstandin0123456789";
const SMS_KEY: &str = "stand-in-sms-secret-key-0123456789";

#[derive(Default)]
struct Texts {
    accepted: Vec<Value>,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn mac(key: &[u8], data: &[u8]) -> Vec<u8> {
    use hmac::Mac;
    let mut m = hmac::Hmac::<sha2::Sha256>::new_from_slice(key).expect("key");
    m.update(data);
    m.finalize().into_bytes().to_vec()
}

/// Tencent Cloud's `SendSms`: the TC3-HMAC-SHA256 signature is recomputed from the request as
/// received (its method, path, `content-type` and `host` headers and body), as the cloud does.
async fn send_sms(
    State(texts): State<Arc<Mutex<Texts>>>,
    headers: axum::http::HeaderMap,
    body: String,
) -> Json<Value> {
    use sha2::Digest;
    let header = |n: &str| {
        headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    let fail = |code: &str, msg: &str| {
        Json(json!({"Response": {"Error": {"Code": code, "Message": msg}, "RequestId": "req-1"}}))
    };
    if header("x-tc-action") != "SendSms" || header("x-tc-version") != "2021-01-11" {
        return fail("InvalidAction", "action or version");
    }
    let timestamp: i64 = header("x-tc-timestamp").parse().unwrap_or(0);
    if (chrono::Utc::now().timestamp() - timestamp).abs() > 300 {
        return fail("AuthFailure.SignatureExpire", "timestamp");
    }
    let date = chrono::DateTime::<chrono::Utc>::from_timestamp(timestamp, 0)
        .expect("ts")
        .format("%Y-%m-%d")
        .to_string();
    let canonical = format!(
        "POST\n/\n\ncontent-type:{}\nhost:{}\n\ncontent-type;host\n{}",
        header("content-type"),
        header("host"),
        hex(&sha2::Sha256::digest(body.as_bytes()))
    );
    let scope = format!("{date}/sms/tc3_request");
    let to_sign = format!(
        "TC3-HMAC-SHA256\n{timestamp}\n{scope}\n{}",
        hex(&sha2::Sha256::digest(canonical.as_bytes()))
    );
    let signing = mac(
        &mac(
            &mac(format!("TC3{SMS_KEY}").as_bytes(), date.as_bytes()),
            b"sms",
        ),
        b"tc3_request",
    );
    let expected = format!(
        "TC3-HMAC-SHA256 Credential={SMS_ID}/{scope}, SignedHeaders=content-type;host, Signature={}",
        hex(&mac(&signing, to_sign.as_bytes()))
    );
    if header("authorization") != expected {
        return fail(
            "AuthFailure.SignatureFailure",
            "The provided credentials could not be validated.",
        );
    }
    let v: Value = serde_json::from_str(&body).unwrap_or_default();
    if v["SmsSdkAppId"] != "1400000001" || v["SignName"] != "连心社区" {
        return fail("FailedOperation.SignatureIncorrectOrUnapproved", "sign");
    }
    let phone = v["PhoneNumberSet"][0].as_str().unwrap_or("").to_owned();
    texts.lock().expect("lock").accepted.push(v);
    Json(
        json!({"Response": {"SendStatusSet": [{"SerialNo": "5000:1045710669157053657849499619", "PhoneNumber": phone, "Fee": 1, "SessionContext": "", "Code": "Ok", "Message": "send success", "IsoCode": "CN"}], "RequestId": "req-2"}}),
    )
}

#[tokio::test]
async fn an_overdue_incident_texts_the_units_rep_signed_for_tencent_cloud_within_a_daily_cap() {
    let texts: Arc<Mutex<Texts>> = Arc::default();
    let addr = serve(
        Router::new()
            .route("/", post(send_sms))
            .with_state(texts.clone()),
    )
    .await;
    let endpoint = format!("http://{addr}");
    let sms = move |key: &str| api::config::SmsConfig {
        endpoint: endpoint.clone(),
        secret_id: SMS_ID.into(),
        secret_key: api::config::Secret::new(key),
        sdk_app_id: "1400000001".into(),
        sign_name: "连心社区".into(),
        region: "ap-guangzhou".into(),
        templates: [("INCIDENT_OVERDUE".to_owned(), "2000001".to_owned())]
            .into_iter()
            .collect(),
        daily_cap: 1,
    };
    let good = sms(SMS_KEY);
    let app = TestApp::spawn_with(move |c| {
        c.notify.sms = Some(good);
        c.notify.run_sender = false;
    })
    .await;
    api::demo::seed(&app.state.db, &app.state.config)
        .await
        .expect("demo");
    entity::notification_delivery::Entity::delete_many()
        .exec(app.db())
        .await
        .expect("clear");
    entity::notification::Entity::delete_many()
        .exec(app.db())
        .await
        .expect("clear");
    // The rep's quiet hours cover the present hour: an urgent text goes all the same.
    let power = app.login("rep-power").await;
    let now = api::core::clock::now().with_timezone(&chrono_tz::Asia::Shanghai);
    let quiet = json!({
        "s": (now - chrono::Duration::hours(1)).format("%H:%M").to_string(),
        "e": (now + chrono::Duration::hours(1)).format("%H:%M").to_string(),
    });
    ok(&app
        .gql(Some(&power), "mutation($s: String!, $e: String!) { updateNotificationPreferences(input: {quietStart: $s, quietEnd: $e}) { quietStart } }", quiet)
        .await);
    // The demo's DISPATCHED incident is past its deadline: the overdue job announces it.
    let announced = api::incident::rules::announce_overdue(
        app.db(),
        &app.state.events,
        api::core::clock::now(),
    )
    .await
    .expect("job");
    assert_eq!(announced.len(), 1);
    let phone = ok(&app.gql(Some(&power), "{ me { phone } }", json!({})).await)["me"]["phone"]
        .as_str()
        .expect("phone")
        .to_owned();
    let v = app.gql(Some(&power), INBOX, json!({})).await;
    let n = &ok(&v)["notifications"]["nodes"][0];
    assert_eq!(n["kind"], "INCIDENT_OVERDUE");
    // Running the job again announces nothing new.
    assert!(
        api::incident::rules::announce_overdue(
            app.db(),
            &app.state.events,
            api::core::clock::now()
        )
        .await
        .expect("job")
        .is_empty()
    );
    send_round(&app, "w1").await;
    let d = deliveries(&app).await;
    let of = |c: entity::notification_delivery::Channel| {
        d.iter()
            .find(|d| d.channel == c)
            .cloned()
            .expect("delivery")
    };
    let text = of(entity::notification_delivery::Channel::Sms);
    // Urgent: sent within the rep's quiet hours.
    assert_eq!(
        text.status,
        entity::notification_delivery::DeliveryStatus::Sent,
        "{d:?}"
    );
    assert_eq!(
        text.provider_ref.as_deref(),
        Some("5000:1045710669157053657849499619")
    );
    {
        let t = texts.lock().expect("lock");
        assert_eq!(t.accepted.len(), 1);
        assert_eq!(
            t.accepted[0]["PhoneNumberSet"],
            json!([format!("+86{phone}")])
        );
        assert_eq!(t.accepted[0]["TemplateId"], "2000001");
    }
    assert_eq!(
        of(entity::notification_delivery::Channel::Wechat).status,
        entity::notification_delivery::DeliveryStatus::Skipped
    );
    assert_eq!(
        of(entity::notification_delivery::Channel::Email)
            .reason
            .as_deref(),
        Some("未配置邮件服务")
    );
    // A second urgent text the same day: over the cap of one, skipped.
    let power_id: i64 = app.user_id(&power).await.parse().expect("id");
    let urgent = api::notify::outbox::Message {
        kind: api::notify::kinds::Kind::IncidentOverdue,
        title: "派单已超期".into(),
        body: "测试".into(),
        page: None,
        subject: None,
        fields: vec![("thing1", "测试".into())],
        dedup_key: None,
    };
    let txn = app.db().begin().await.expect("txn");
    let _ = api::notify::outbox::enqueue(
        &txn,
        api::notify::outbox::Recipients::Users(vec![power_id]),
        &urgent,
    )
    .await
    .expect("enqueue");
    txn.commit().await.expect("commit");
    send_round(&app, "w1").await;
    let capped = deliveries(&app)
        .await
        .into_iter()
        .filter(|d| d.channel == entity::notification_delivery::Channel::Sms)
        .max_by_key(|d| d.id)
        .expect("sms");
    assert_eq!(
        capped.reason.as_deref(),
        Some("今日短信已达上限"),
        "{capped:?}"
    );
    // A wrong key is refused by the cloud's signature check: FAILED with its code, not retried.
    let mut wrong = (*app.state.config).clone();
    let mut bad = sms("not-the-key");
    bad.daily_cap = 10;
    wrong.notify.sms = Some(bad);
    let txn = app.db().begin().await.expect("txn");
    let _ = api::notify::outbox::enqueue(
        &txn,
        api::notify::outbox::Recipients::Users(vec![power_id]),
        &urgent,
    )
    .await
    .expect("enqueue");
    txn.commit().await.expect("commit");
    api::notify::sender::run_once(app.db(), &wrong, "w2")
        .await
        .expect("round");
    let refused = deliveries(&app)
        .await
        .into_iter()
        .filter(|d| d.channel == entity::notification_delivery::Channel::Sms)
        .max_by_key(|d| d.id)
        .expect("sms");
    assert_eq!(
        refused.status,
        entity::notification_delivery::DeliveryStatus::Failed,
        "{refused:?}"
    );
    assert!(
        refused
            .reason
            .as_deref()
            .is_some_and(|r| r.starts_with("AuthFailure.SignatureFailure")),
        "{refused:?}"
    );
    assert_eq!(texts.lock().expect("lock").accepted.len(), 1);
}

#[tokio::test]
async fn a_review_tells_the_member_or_the_holder_the_outcome() {
    let app = app_with(None).await;
    let staff = app.login("staff").await;
    let grid = app.login("grid").await;
    let member2 = app.login("member2").await;
    let resident = app.login("resident1").await;
    // member2's registration (报到) is pending in the demo.
    let pending = entity::grid_registration::Entity::find()
        .filter(
            entity::grid_registration::Column::Status
                .eq(entity::grid_registration::RegistrationStatus::Pending),
        )
        .one(app.db())
        .await
        .expect("db")
        .expect("a pending registration");
    let v = app
        .gql(Some(&staff), "mutation($id: ID!, $g: ID!) { reviewGridRegistration(input: {registrationId: $id, decision: APPROVE, gridId: $g}) { registration { status } } }", json!({"id": pending.id.to_string(), "g": app.grid_id("汇通第一网格").await}))
        .await;
    ok(&v);
    let v = app.gql(Some(&member2), INBOX, json!({})).await;
    let n = &ok(&v)["notifications"]["nodes"][0];
    assert_eq!(n["kind"], "REGISTRATION_REVIEWED", "{v}");
    assert_eq!(n["title"], "报到已通过");
    // A good deed reported for resident1 and approved: she learns the points.
    let resident_id = app.user_id(&resident).await;
    let v = app
        .gql(Some(&grid), "mutation($h: ID!, $d: Date!) { reportGoodDeed(input: {holderId: $h, categoryId: \"1\", description: \"帮邻居收快递\", occurredOn: $d}) { goodDeed { id } } }", json!({"h": resident_id, "d": api::core::clock::today().to_string()}))
        .await;
    let deed = ok(&v)["reportGoodDeed"]["goodDeed"]["id"].clone();
    let v = app
        .gql(Some(&staff), "mutation($id: ID!) { reviewGoodDeed(input: {goodDeedId: $id, decision: APPROVE, points: 7}) { goodDeed { status } } }", json!({"id": deed}))
        .await;
    ok(&v);
    let v = app.gql(Some(&resident), INBOX, json!({})).await;
    let n = &ok(&v)["notifications"]["nodes"][0];
    assert_eq!(n["kind"], "GOOD_DEED_REVIEWED", "{v}");
    assert!(n["body"].as_str().expect("body").contains("7 积分"), "{n}");
    // Nobody else was told: the reviewer and the reporter have empty inboxes.
    for t in [&staff, &grid] {
        let v = app.gql(Some(t), INBOX, json!({})).await;
        assert_eq!(ok(&v)["notifications"]["totalCount"], 0, "{v}");
    }
}

#[tokio::test]
async fn shift_reminders_go_the_evening_before_and_an_hour_before_once_each() {
    let app = app_with(None).await;
    let student = app.login("student1").await;
    // An upcoming shift after tomorrow that the student signs up for now.
    let v = app
        .gql(Some(&student), "{ shifts(upcoming: true, hasFreePlaces: true, first: 100) { nodes { id date startsAt viewerCan { signUp } } } }", json!({}))
        .await;
    let tomorrow = api::core::clock::today() + chrono::Duration::days(1);
    let pick = ok(&v)["shifts"]["nodes"]
        .as_array()
        .expect("shifts")
        .iter()
        .find(|s| {
            s["viewerCan"]["signUp"] == true
                && s["date"]
                    .as_str()
                    .and_then(|d| d.parse::<chrono::NaiveDate>().ok())
                    .is_some_and(|d| d > tomorrow)
        })
        .cloned()
        .expect("a shift the student may sign up for after tomorrow");
    ok(&app
        .gql(
            Some(&student),
            "mutation($id: ID!) { signUpForShift(input: {shiftId: $id}) { signup { status } } }",
            json!({"id": pick["id"]}),
        )
        .await);
    let id = pick["id"].as_str().expect("id").to_owned();
    let date: chrono::NaiveDate = pick["date"].as_str().expect("date").parse().expect("date");
    let starts: chrono::DateTime<chrono::Utc> = pick["startsAt"]
        .as_str()
        .expect("start")
        .parse()
        .expect("start");
    let reminders = || async {
        let v = app.gql(Some(&student), INBOX, json!({})).await;
        ok(&v)["notifications"]["nodes"]
            .as_array()
            .expect("nodes")
            .iter()
            .filter(|n| n["kind"] == "SHIFT_REMINDER" && n["subjectId"] == id.as_str())
            .map(|n| n["title"].as_str().unwrap_or("").to_owned())
            .collect::<Vec<_>>()
    };
    let at = |d: chrono::NaiveDate, h: u32, m: u32| {
        d.and_hms_opt(h, m, 0)
            .expect("time")
            .and_local_timezone(chrono_tz::Asia::Shanghai)
            .single()
            .expect("local")
            .with_timezone(&chrono::Utc)
    };
    let run = |now| api::schedule::rules::reminders::remind_due(app.db(), &app.state.events, now);
    // 19:55 the evening before: not yet.
    run(at(date - chrono::Duration::days(1), 19, 55))
        .await
        .expect("job");
    assert!(reminders().await.is_empty());
    // 20:05: the evening reminder, once however often the job runs.
    let evening = at(date - chrono::Duration::days(1), 20, 5);
    assert!(run(evening).await.expect("job") >= 1);
    assert_eq!(run(evening).await.expect("job"), 0, "written again");
    assert_eq!(reminders().await, ["明日服务提醒"]);
    // Half an hour before the start: the hour-before reminder, once.
    let soon = starts - chrono::Duration::minutes(30);
    assert!(run(soon).await.expect("job") >= 1);
    assert_eq!(run(soon).await.expect("job"), 0);
    assert_eq!(reminders().await, ["服务一小时后开始", "明日服务提醒"]);
    // Nobody else was reminded of this shift.
    let other = app.login("member1").await;
    let v = app.gql(Some(&other), INBOX, json!({})).await;
    assert_eq!(ok(&v)["notifications"]["totalCount"], 0);
}

#[tokio::test]
async fn a_proposed_agreement_asks_the_other_parties_reps_to_sign() {
    let app = app_with(None).await;
    let org_of = |token: String| {
        let app = &app;
        async move {
            let v = app
                .gql(
                    Some(&token),
                    "{ me { roles { role organization { id } } } }",
                    json!({}),
                )
                .await;
            ok(&v)["me"]["roles"]
                .as_array()
                .expect("roles")
                .iter()
                .find(|r| r["role"] == "UNIT_REP")
                .map(|r| r["organization"]["id"].clone())
                .expect("a rep")
        }
    };
    let school = app.login("rep-school").await;
    let power = app.login("rep-power").await;
    let (school_org, power_org) = (org_of(school.clone()).await, org_of(power.clone()).await);
    let today = api::core::clock::today();
    let propose = "mutation($p: [ID!]!, $s: Date!, $e: Date!, $d: Boolean) { proposeAgreement(input: {title: \"校企共建志愿服务协议\", kinds: [MUTUAL_SERVICE], partyIds: $p, commitments: [\"每月一次志愿服务\"], startDate: $s, endDate: $e, asDraft: $d}) { agreement { id status } } }";
    let vars = |draft: bool| json!({"p": [school_org, power_org], "s": today.to_string(), "e": (today + chrono::Duration::days(365)).to_string(), "d": draft});
    // A draft asks no one.
    ok(&app.gql(Some(&school), propose, vars(true)).await);
    let v = app.gql(Some(&power), INBOX, json!({})).await;
    assert_eq!(ok(&v)["notifications"]["totalCount"], 0);
    let v = app.gql(Some(&school), propose, vars(false)).await;
    let id = ok(&v)["proposeAgreement"]["agreement"]["id"].clone();
    let v = app.gql(Some(&power), INBOX, json!({})).await;
    let n = &ok(&v)["notifications"]["nodes"][0];
    assert_eq!(n["kind"], "AGREEMENT_TO_SIGN", "{v}");
    assert_eq!(n["subjectId"], id);
    // The proposer and reps of other units are not asked.
    for t in [school, app.login("rep-huitong").await] {
        let v = app.gql(Some(&t), INBOX, json!({})).await;
        assert_eq!(ok(&v)["notifications"]["totalCount"], 0, "{v}");
    }
}

#[tokio::test]
async fn an_expired_wish_is_announced_once_to_its_people() {
    let app = app_with(None).await;
    let today = api::core::clock::today();
    // The demo's 文宗 wish passed its deadline two days ago.
    let written = api::wish::rules::announce_expired(app.db(), &app.state.events, today)
        .await
        .expect("job");
    assert_eq!(written, 1);
    assert_eq!(
        api::wish::rules::announce_expired(app.db(), &app.state.events, today)
            .await
            .expect("job"),
        0,
        "announced again"
    );
    let rows = entity::notification::Entity::find()
        .filter(entity::notification::Column::Kind.eq("WISH_EXPIRED"))
        .all(app.db())
        .await
        .expect("rows");
    let wish = entity::wish::Entity::find_by_id(rows[0].subject_id.expect("subject"))
        .one(app.db())
        .await
        .expect("db")
        .expect("wish");
    assert!(wish.deadline.is_some_and(|d| d < today));
    let mut expected = vec![wish.submitted_by];
    expected.extend(wish.beneficiary_user_id);
    expected.extend(wish.claimant_id);
    expected.sort_unstable();
    expected.dedup();
    let mut got: Vec<i64> = rows.iter().map(|r| r.recipient_id).collect();
    got.sort_unstable();
    assert_eq!(got, expected);
    // A wish whose deadline passed long ago is not announced again (the job looks two days back).
    assert_eq!(
        api::wish::rules::announce_expired(
            app.db(),
            &app.state.events,
            today + chrono::Duration::days(5)
        )
        .await
        .expect("job"),
        0
    );
}
