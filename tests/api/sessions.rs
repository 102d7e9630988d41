//! Sessions for front-ends (#28): short access tokens with rotating refresh tokens, distinct
//! reasons for every authentication failure, and WeChat login against a local stand-in that
//! speaks WeChat's API (`/sns/jscode2session`, `/cgi-bin/stable_token`,
//! `/wxa/business/getuserphonenumber`) and checks what it is sent.

use std::sync::{Arc, Mutex};

use axum::{
    Json, Router,
    extract::{Query, State},
    routing::{get, post},
};
use serde_json::{Value, json};

use crate::helpers::{TestApp, ok, serve};

const LOGIN: &str = "mutation($u: String!, $p: String!) { login(input: {username: $u, password: $p}) { token expiresAt refreshToken refreshExpiresAt user { username } } }";
const REFRESH: &str = "mutation($r: String!) { refreshToken(input: {refreshToken: $r}) { token refreshToken user { username } } }";

fn reason(v: &Value) -> (&str, &str) {
    let ext = &v["errors"][0]["extensions"];
    (
        ext["code"].as_str().unwrap_or(""),
        ext["reason"].as_str().unwrap_or(""),
    )
}

async fn login_pair(app: &TestApp, username: &str, password: &str) -> (String, String) {
    let v = app
        .gql(None, LOGIN, json!({"u": username, "p": password}))
        .await;
    let l = &ok(&v)["login"];
    (
        l["token"].as_str().expect("token").to_owned(),
        l["refreshToken"].as_str().expect("refresh").to_owned(),
    )
}

async fn refresh(app: &TestApp, token: &str) -> Value {
    app.gql(None, REFRESH, json!({"r": token})).await
}

#[tokio::test]
async fn access_tokens_are_short_and_refresh_tokens_rotate_once_each() {
    let app = TestApp::with_demo().await;
    let v = app
        .gql(None, LOGIN, json!({"u": "member1", "p": "lianxin-demo"}))
        .await;
    let l = &ok(&v)["login"];
    let expires = chrono::DateTime::parse_from_rfc3339(l["expiresAt"].as_str().expect("exp"))
        .expect("rfc3339");
    let left = expires.timestamp() - chrono::Utc::now().timestamp();
    assert!(
        (29 * 60..=30 * 60).contains(&left),
        "access token lives {left} s"
    );
    let refresh_exp =
        chrono::DateTime::parse_from_rfc3339(l["refreshExpiresAt"].as_str().expect("exp"))
            .expect("rfc3339");
    let days = (refresh_exp.timestamp() - chrono::Utc::now().timestamp()) / 86_400;
    assert!((29..=30).contains(&days), "refresh token lives {days} days");
    let first = l["refreshToken"].as_str().expect("refresh").to_owned();

    // A trade: a new pair whose access token works; the old refresh token is retired.
    let v = refresh(&app, &first).await;
    let pair = &ok(&v)["refreshToken"];
    assert_eq!(pair["user"]["username"], "member1");
    let second = pair["refreshToken"].as_str().expect("refresh").to_owned();
    assert_ne!(second, first);
    let access = pair["token"].as_str().expect("token").to_owned();
    let me = app
        .gql(Some(&access), "{ me { username } }", json!({}))
        .await;
    assert_eq!(ok(&me)["me"]["username"], "member1");
    let third = ok(&refresh(&app, &second).await)["refreshToken"]["refreshToken"]
        .as_str()
        .expect("refresh")
        .to_owned();

    // The retired one used again: copied. The whole family ends, the newest token too.
    assert_eq!(
        reason(&refresh(&app, &first).await),
        ("UNAUTHENTICATED", "TOKEN_REVOKED")
    );
    assert_eq!(
        reason(&refresh(&app, &third).await),
        ("UNAUTHENTICATED", "TOKEN_REVOKED")
    );
    // Another login (another family) is untouched.
    let (_, other) = login_pair(&app, "member1", "lianxin-demo").await;
    ok(&refresh(&app, &other).await);
    // Unknown and malformed tokens.
    assert_eq!(
        reason(&refresh(&app, "not-a-token").await),
        ("UNAUTHENTICATED", "TOKEN_INVALID")
    );
    assert_eq!(
        reason(&refresh(&app, &"x".repeat(5000)).await),
        ("UNAUTHENTICATED", "TOKEN_INVALID")
    );
    // The refresh token is never a bearer token.
    let v = app.gql(Some(&other), "{ me { id } }", json!({})).await;
    assert_eq!(reason(&v), ("UNAUTHENTICATED", "TOKEN_INVALID"));
}

#[tokio::test]
async fn two_trades_of_one_refresh_token_racing_end_its_family() {
    let app = TestApp::with_demo().await;
    let (_, token) = login_pair(&app, "member1", "lianxin-demo").await;
    let (a, b) = tokio::join!(refresh(&app, &token), refresh(&app, &token));
    let won: Vec<&Value> = [&a, &b]
        .into_iter()
        .filter(|v| v["errors"].is_null())
        .collect();
    // At most one trade succeeds; the loser counts as a reuse and ends the family, so the
    // winner's new refresh token no longer works either.
    assert!(won.len() <= 1, "{a} {b}");
    for v in [&a, &b] {
        if !v["errors"].is_null() {
            assert_eq!(reason(v), ("UNAUTHENTICATED", "TOKEN_REVOKED"), "{v}");
        }
    }
    if let Some(w) = won.first() {
        let new = w["data"]["refreshToken"]["refreshToken"]
            .as_str()
            .expect("refresh");
        assert_eq!(
            reason(&refresh(&app, new).await),
            ("UNAUTHENTICATED", "TOKEN_REVOKED")
        );
    }
}

#[tokio::test]
async fn every_revocation_ends_the_refresh_tokens_and_logout_ends_one_family() {
    let app = TestApp::with_demo().await;
    let admin = app.login("admin").await;
    // logoutEverywhere.
    let (access, r1) = login_pair(&app, "member1", "lianxin-demo").await;
    let (_, r2) = login_pair(&app, "member1", "lianxin-demo").await;
    ok(&app
        .gql(
            Some(&access),
            "mutation { logoutEverywhere { at } }",
            json!({}),
        )
        .await);
    for r in [&r1, &r2] {
        assert_eq!(
            reason(&refresh(&app, r).await),
            ("UNAUTHENTICATED", "TOKEN_REVOKED")
        );
    }
    // changePassword: earlier refresh tokens end; the new pair it returns works.
    let (access, before) = login_pair(&app, "member1", "lianxin-demo").await;
    let v = app
        .gql(
            Some(&access),
            "mutation { changePassword(input: {oldPassword: \"lianxin-demo\", newPassword: \"Changed-pass-9\"}) { token refreshToken } }",
            json!({}),
        )
        .await;
    let new_refresh = ok(&v)["changePassword"]["refreshToken"]
        .as_str()
        .expect("refresh")
        .to_owned();
    assert_eq!(
        reason(&refresh(&app, &before).await),
        ("UNAUTHENTICATED", "TOKEN_REVOKED")
    );
    ok(&refresh(&app, &new_refresh).await);
    // resetPassword and deactivation (by ADMIN).
    let mut ended = Vec::new();
    for (mutation, username) in [
        (
            "mutation($id: ID!) { resetPassword(input: {userId: $id, newPassword: \"Temp-pass-77\"}) { user { id } } }",
            "resident1",
        ),
        (
            "mutation($id: ID!) { deactivateUser(input: {userId: $id}) { user { id } } }",
            "member2",
        ),
    ] {
        let (access, r) = login_pair(&app, username, "lianxin-demo").await;
        let id = app.user_id(&access).await;
        ok(&app.gql(Some(&admin), mutation, json!({"id": id})).await);
        assert_eq!(
            reason(&refresh(&app, &r).await),
            ("UNAUTHENTICATED", "TOKEN_REVOKED"),
            "{mutation}"
        );
        ended.push((id, r));
    }
    // A reactivated account's old refresh tokens stay ended.
    let (member2, old) = &ended[1];
    ok(&app
        .gql(
            Some(&admin),
            "mutation($id: ID!) { reactivateUser(input: {userId: $id}) { user { id } } }",
            json!({"id": member2}),
        )
        .await);
    assert_eq!(
        reason(&refresh(&app, old).await),
        ("UNAUTHENTICATED", "TOKEN_REVOKED")
    );
    // Erasure removes them outright.
    let (access, r) = login_pair(&app, "student1", "lianxin-demo").await;
    let id = app.user_id(&access).await;
    ok(&app
        .gql(
            Some(&admin),
            "mutation($id: ID!) { erasePersonalData(input: {userId: $id, reason: \"本人申请注销\"}) { user { id } } }",
            json!({"id": id}),
        )
        .await);
    assert_eq!(
        reason(&refresh(&app, &r).await),
        ("UNAUTHENTICATED", "TOKEN_INVALID")
    );
    // logout ends this device's family only.
    let (_, phone) = login_pair(&app, "grid", "lianxin-demo").await;
    let (_, tablet) = login_pair(&app, "grid", "lianxin-demo").await;
    ok(&app
        .gql(
            None,
            "mutation($r: String!) { logout(input: {refreshToken: $r}) { at } }",
            json!({"r": phone}),
        )
        .await);
    assert_eq!(
        reason(&refresh(&app, &phone).await),
        ("UNAUTHENTICATED", "TOKEN_REVOKED")
    );
    ok(&refresh(&app, &tablet).await);
}

#[tokio::test]
async fn each_authentication_failure_has_its_own_reason() {
    let app = TestApp::spawn_with(|c| c.login_attempts_per_user = 3).await;
    api::demo::seed(&app.state.db, &app.state.config)
        .await
        .expect("demo");
    // A wrong password: INVALID_CREDENTIALS (the login screen shows it; no "go to login").
    let v = app
        .gql(None, LOGIN, json!({"u": "member1", "p": "wrong-password"}))
        .await;
    assert_eq!(reason(&v), ("UNAUTHENTICATED", "INVALID_CREDENTIALS"));
    let v = app
        .gql(
            None,
            LOGIN,
            json!({"u": "nobody-here", "p": "wrong-password"}),
        )
        .await;
    assert_eq!(reason(&v), ("UNAUTHENTICATED", "INVALID_CREDENTIALS"));
    // Throttled: RATE_LIMITED with LOGIN_THROTTLED.
    for _ in 0..3 {
        app.gql(None, LOGIN, json!({"u": "member1", "p": "wrong-password"}))
            .await;
    }
    let v = app
        .gql(None, LOGIN, json!({"u": "member1", "p": "lianxin-demo"}))
        .await;
    assert_eq!(reason(&v), ("RATE_LIMITED", "LOGIN_THROTTLED"));
    // No token where one is needed: AUTHENTICATION_REQUIRED.
    let v = app
        .gql(None, "mutation { logoutEverywhere { at } }", json!({}))
        .await;
    assert_eq!(reason(&v), ("UNAUTHENTICATED", "AUTHENTICATION_REQUIRED"));
    // A forged token (signed with another secret) and a damaged one: TOKEN_INVALID.
    let now = chrono::Utc::now().timestamp();
    let claims = |exp: i64| json!({"sub": "1", "exp": exp, "iat": now - 3600, "iss": "lianxin", "aud": "lianxin-api", "ver": 0});
    let sign = |secret: &str, exp: i64| {
        jsonwebtoken::encode(
            &jsonwebtoken::Header::default(),
            &claims(exp),
            &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
        )
        .expect("sign")
    };
    let forged = sign("another-secret-that-is-long-enough-for-hs256", now + 600);
    for token in [forged.as_str(), "abc.def.ghi"] {
        let v = app.gql(Some(token), "{ me { id } }", json!({})).await;
        assert_eq!(reason(&v), ("UNAUTHENTICATED", "TOKEN_INVALID"), "{token}");
    }
    // An expired token of ours: TOKEN_EXPIRED (refresh it).
    let expired = sign(crate::helpers::SECRET, now - 120);
    let v = app.gql(Some(&expired), "{ me { id } }", json!({})).await;
    assert_eq!(reason(&v), ("UNAUTHENTICATED", "TOKEN_EXPIRED"));
    // A REST route answers the same reason.
    let (status, _, body) = app.get_bytes(Some(&expired), "/me/personal-data").await;
    assert_eq!(status, axum::http::StatusCode::UNAUTHORIZED);
    let body: Value = serde_json::from_slice(&body).expect("json");
    assert_eq!(reason(&body), ("UNAUTHENTICATED", "TOKEN_EXPIRED"));
    // A revoked one (logoutEverywhere): TOKEN_REVOKED.
    let token = app.login("grid").await;
    ok(&app
        .gql(
            Some(&token),
            "mutation { logoutEverywhere { at } }",
            json!({}),
        )
        .await);
    app.settle().await;
    let v = app.gql(Some(&token), "{ me { id } }", json!({})).await;
    assert_eq!(reason(&v), ("UNAUTHENTICATED", "TOKEN_REVOKED"));
}

/// What the WeChat stand-in was asked.
#[derive(Default)]
struct Seen {
    sessions: usize,
    stable_tokens: Vec<bool>,
    /// Answer the next phone request with 40001 (an access token WeChat no longer takes).
    stale_once: bool,
}

type Shared = Arc<Mutex<Seen>>;

const APP_ID: &str = "wx5f0d1e2c3b4a5968";
const APP_SECRET: &str = "stand-in-app-secret-0123456789ab";

/// `GET /sns/jscode2session`: codes `code-<x>` are the WeChat user `o-<x>`; `used` and
/// `bad` are refused as WeChat refuses them; `busy` is WeChat's system error.
async fn jscode2session(State(seen): State<Shared>, Query(q): Query<Value>) -> Json<Value> {
    seen.lock().expect("lock").sessions += 1;
    if q["appid"] != APP_ID || q["secret"] != APP_SECRET {
        return Json(json!({"errcode": 40125, "errmsg": "invalid appsecret"}));
    }
    if q["grant_type"] != "authorization_code" {
        return Json(json!({"errcode": 40002, "errmsg": "invalid grant_type"}));
    }
    let code = q["js_code"].as_str().unwrap_or("");
    Json(match code {
        "busy" => json!({"errcode": -1, "errmsg": "system error"}),
        "used" => json!({"errcode": 40163, "errmsg": "code been used"}),
        c if c.starts_with("code-") => json!({
            "openid": format!("o-{}", &c[5..]),
            "session_key": "c2Vzc2lvbi1rZXk=",
        }),
        _ => json!({"errcode": 40029, "errmsg": "invalid code"}),
    })
}

/// `POST /cgi-bin/stable_token`.
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

/// `POST /wxa/business/getuserphonenumber?access_token=…`: codes `phone-<digits>`.
async fn phone_number(
    State(seen): State<Shared>,
    Query(q): Query<Value>,
    Json(body): Json<Value>,
) -> Json<Value> {
    let token = q["access_token"].as_str().unwrap_or("");
    if !token.starts_with("ACCESS_TOKEN_") {
        return Json(json!({"errcode": 40001, "errmsg": "invalid credential"}));
    }
    {
        let mut seen = seen.lock().expect("lock");
        if seen.stale_once {
            seen.stale_once = false;
            return Json(
                json!({"errcode": 40001, "errmsg": "invalid credential, access_token is invalid or not latest"}),
            );
        }
    }
    let code = body["code"].as_str().unwrap_or("");
    let Some(phone) = code.strip_prefix("phone-") else {
        return Json(json!({"errcode": 40029, "errmsg": "invalid code"}));
    };
    Json(json!({
        "errcode": 0,
        "errmsg": "ok",
        "phone_info": {
            "phoneNumber": phone,
            "purePhoneNumber": phone,
            "countryCode": "86",
            "watermark": {"timestamp": 1_700_000_000, "appid": APP_ID}
        }
    }))
}

/// Starts the stand-in; returns its base address and what it saw.
async fn wechat_stand_in() -> (String, Shared) {
    let seen: Shared = Arc::default();
    let router = Router::new()
        .route("/sns/jscode2session", get(jscode2session))
        .route("/cgi-bin/stable_token", post(stable_token))
        .route("/wxa/business/getuserphonenumber", post(phone_number))
        .with_state(seen.clone());
    let addr = serve(router).await;
    (format!("http://{addr}"), seen)
}

async fn wechat_app(base: &str) -> TestApp {
    let base = base.to_owned();
    let app = TestApp::spawn_with(move |c| {
        c.wechat = Some(api::config::WeChatConfig {
            api_base: base,
            app_id: APP_ID.into(),
            app_secret: api::config::Secret::new(APP_SECRET),
        });
    })
    .await;
    api::demo::seed(&app.state.db, &app.state.config)
        .await
        .expect("demo");
    app
}

const WX_LOGIN: &str = "mutation($c: String!) { loginWithWeChat(input: {code: $c}) { login { token refreshToken user { username } } bindingTicket bindingTicketExpiresAt } }";
const WX_BIND: &str = "mutation($in: BindWeChatInput!) { bindWeChat(input: $in) { token refreshToken user { username } } }";

#[tokio::test]
async fn wechat_login_binds_once_and_then_logs_in() {
    let (base, seen) = wechat_stand_in().await;
    let app = wechat_app(&base).await;
    // Unbound: a ticket, no tokens.
    let v = app.gql(None, WX_LOGIN, json!({"c": "code-alice"})).await;
    let p = &ok(&v)["loginWithWeChat"];
    assert!(p["login"].is_null(), "{p}");
    let ticket = p["bindingTicket"].as_str().expect("ticket").to_owned();
    assert!(p["bindingTicketExpiresAt"].is_string());
    // A wrong password binds nothing.
    let v = app
        .gql(
            None,
            WX_BIND,
            json!({"in": {"ticket": ticket, "username": "member1", "password": "wrong"}}),
        )
        .await;
    assert_eq!(reason(&v), ("UNAUTHENTICATED", "INVALID_CREDENTIALS"));
    // A forged ticket.
    let v = app
        .gql(
            None,
            WX_BIND,
            json!({"in": {"ticket": "eyJhbGciOiJIUzI1NiJ9.e30.x", "username": "member1", "password": "lianxin-demo"}}),
        )
        .await;
    assert_eq!(reason(&v), ("BAD_USER_INPUT", "BINDING_TICKET_INVALID"));
    // Bound with the username and password: logged in.
    let v = app
        .gql(
            None,
            WX_BIND,
            json!({"in": {"ticket": ticket, "username": "member1", "password": "lianxin-demo"}}),
        )
        .await;
    assert_eq!(ok(&v)["bindWeChat"]["user"]["username"], "member1");
    // The same WeChat user again: logged in at once, with a refresh token.
    let v = app.gql(None, WX_LOGIN, json!({"c": "code-alice"})).await;
    let login = &ok(&v)["loginWithWeChat"]["login"];
    assert_eq!(login["user"]["username"], "member1");
    let access = login["token"].as_str().expect("token").to_owned();
    ok(&refresh(&app, login["refreshToken"].as_str().expect("refresh")).await);
    // One openid per account, one account per openid.
    let other = app.gql(None, WX_LOGIN, json!({"c": "code-bob"})).await;
    let bob_ticket = ok(&other)["loginWithWeChat"]["bindingTicket"]
        .as_str()
        .expect("ticket")
        .to_owned();
    let v = app
        .gql(
            None,
            WX_BIND,
            json!({"in": {"ticket": bob_ticket, "username": "member1", "password": "lianxin-demo"}}),
        )
        .await;
    assert_eq!(reason(&v), ("CONFLICT", "WECHAT_ALREADY_BOUND"));
    let v = app
        .gql(
            None,
            WX_BIND,
            json!({"in": {"ticket": ticket, "username": "grid", "password": "lianxin-demo"}}),
        )
        .await;
    assert_eq!(reason(&v), ("CONFLICT", "WECHAT_ALREADY_BOUND"));
    // The openid is personal data: in the download.
    let (_, _, body) = app.get_bytes(Some(&access), "/me/personal-data").await;
    let data: Value = serde_json::from_slice(&body).expect("json");
    assert_eq!(data["wechatBindings"][0]["openid"], "o-alice", "{data}");
    assert!(data["sessions"].as_array().is_some_and(|s| s.len() >= 2));
    // Unbinding: the next WeChat login asks to bind again.
    ok(&app
        .gql(Some(&access), "mutation { unbindWeChat { at } }", json!({}))
        .await);
    let v = app
        .gql(Some(&access), "mutation { unbindWeChat { at } }", json!({}))
        .await;
    assert_eq!(reason(&v), ("NOT_FOUND", "WECHAT_NOT_BOUND"));
    let v = app.gql(None, WX_LOGIN, json!({"c": "code-alice"})).await;
    assert!(ok(&v)["loginWithWeChat"]["login"].is_null());
    // Every WeChat login asked WeChat once (four of them).
    assert_eq!(seen.lock().expect("lock").sessions, 4);
}

#[tokio::test]
async fn wechat_refusals_and_outages_are_coded_and_a_phone_binds_by_staff_record() {
    let (base, seen) = wechat_stand_in().await;
    let app = wechat_app(&base).await;
    for (code, expected) in [
        ("used", ("BAD_USER_INPUT", "WECHAT_CODE_INVALID")),
        ("nonsense", ("BAD_USER_INPUT", "WECHAT_CODE_INVALID")),
        ("busy", ("UNAVAILABLE", "WECHAT_UNAVAILABLE")),
    ] {
        let v = app.gql(None, WX_LOGIN, json!({"c": code})).await;
        assert_eq!(reason(&v), expected, "{code}: {v}");
    }
    // WeChat unreachable.
    let dead = TestApp::spawn_with(|c| {
        c.wechat = Some(api::config::WeChatConfig {
            api_base: "http://127.0.0.1:9".into(),
            app_id: APP_ID.into(),
            app_secret: api::config::Secret::new(APP_SECRET),
        });
    })
    .await;
    let v = dead.gql(None, WX_LOGIN, json!({"c": "code-x"})).await;
    assert_eq!(reason(&v), ("UNAVAILABLE", "WECHAT_UNAVAILABLE"));
    // Not configured at all.
    let off = TestApp::spawn().await;
    let v = off.gql(None, WX_LOGIN, json!({"c": "code-x"})).await;
    assert_eq!(reason(&v), ("UNAVAILABLE", "WECHAT_UNAVAILABLE"));

    // The phone WeChat confirms is resident1's, recorded by staff: bound. The access token
    // is fetched once, refreshed (force) once when WeChat says it is stale.
    let ticket = ok(&app.gql(None, WX_LOGIN, json!({"c": "code-carol"})).await)["loginWithWeChat"]
        ["bindingTicket"]
        .as_str()
        .expect("ticket")
        .to_owned();
    seen.lock().expect("lock").stale_once = true;
    let v = app
        .gql(
            None,
            WX_BIND,
            json!({"in": {"ticket": ticket, "phoneCode": "phone-13770003333"}}),
        )
        .await;
    assert_eq!(ok(&v)["bindWeChat"]["user"]["username"], "resident1");
    assert_eq!(seen.lock().expect("lock").stable_tokens, vec![false, true]);
    // A phone no account holds: refused with a reason; nothing bound.
    let ticket = ok(&app.gql(None, WX_LOGIN, json!({"c": "code-dave"})).await)
        ["loginWithWeChat"]["bindingTicket"]
        .as_str()
        .expect("ticket")
        .to_owned();
    let v = app
        .gql(
            None,
            WX_BIND,
            json!({"in": {"ticket": ticket, "phoneCode": "phone-13900000000"}}),
        )
        .await;
    assert_eq!(reason(&v), ("BAD_USER_INPUT", "PHONE_NOT_REGISTERED"));
    // Both proofs, or none: a coded input error.
    let v = app
        .gql(None, WX_BIND, json!({"in": {"ticket": ticket}}))
        .await;
    assert_eq!(reason(&v).0, "BAD_USER_INPUT");
    // The cached access token served the second phone request.
    assert_eq!(seen.lock().expect("lock").stable_tokens.len(), 2);
    // Erasure removes the binding: the WeChat user is unbound again.
    let admin = app.login("admin").await;
    let resident = app.login("resident1").await;
    let id = app.user_id(&resident).await;
    ok(&app
        .gql(
            Some(&admin),
            "mutation($id: ID!) { erasePersonalData(input: {userId: $id, reason: \"本人申请\"}) { user { id } } }",
            json!({"id": id}),
        )
        .await);
    let v = app.gql(None, WX_LOGIN, json!({"c": "code-carol"})).await;
    assert!(ok(&v)["loginWithWeChat"]["login"].is_null());
}

#[tokio::test]
async fn a_refresh_racing_logout_everywhere_leaves_no_working_token() {
    let app = TestApp::with_demo().await;
    for _ in 0..5 {
        let (access, token) = login_pair(&app, "member1", "lianxin-demo").await;
        let (traded, out) = tokio::join!(
            refresh(&app, &token),
            app.gql(
                Some(&access),
                "mutation { logoutEverywhere { at } }",
                json!({})
            )
        );
        ok(&out);
        app.settle().await;
        // Whichever ran first, what the trade may have issued ends with the logout.
        if traded["errors"].is_null() {
            let pair = &traded["data"]["refreshToken"];
            let new_refresh = pair["refreshToken"].as_str().expect("refresh");
            assert_eq!(
                reason(&refresh(&app, new_refresh).await),
                ("UNAUTHENTICATED", "TOKEN_REVOKED")
            );
            let new_access = pair["token"].as_str().expect("token");
            let v = app.gql(Some(new_access), "{ me { id } }", json!({})).await;
            assert_eq!(reason(&v), ("UNAUTHENTICATED", "TOKEN_REVOKED"), "{v}");
        } else {
            assert_eq!(reason(&traded), ("UNAUTHENTICATED", "TOKEN_REVOKED"));
        }
        assert_eq!(
            reason(&refresh(&app, &token).await),
            ("UNAUTHENTICATED", "TOKEN_REVOKED")
        );
    }
}
