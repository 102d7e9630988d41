use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::json;

use crate::helpers::{SECRET, TestApp, assert_code, b64url, ok};

const ME: &str = "{ me { username displayName roles { role } } }";

#[tokio::test]
async fn login_with_right_password_returns_token_that_answers_me() {
    let app = TestApp::with_demo().await;
    let v = app
        .gql(
            None,
            "mutation { login(input: {username: \"admin\", password: \"lianxin-demo\"}) { token expiresAt user { username } } }",
            json!({}),
        )
        .await;
    let data = ok(&v);
    assert_eq!(data["login"]["user"]["username"], "admin");
    let token = data["login"]["token"].as_str().expect("token");
    let me = app.gql(Some(token), ME, json!({})).await;
    assert_eq!(ok(&me)["me"]["username"], "admin");
    assert_eq!(ok(&me)["me"]["roles"][0]["role"], "ADMIN");
    // Anonymous `me` is null, not an error.
    let anon = app.gql(None, ME, json!({})).await;
    assert!(ok(&anon)["me"].is_null());
}

#[tokio::test]
async fn login_failures_are_unauthenticated_and_do_not_reveal_the_username() {
    let app = TestApp::with_demo().await;
    let q = "mutation($u: String!, $p: String!) { login(input: {username: $u, password: $p}) { token } }";
    let wrong = app
        .gql(None, q, json!({"u": "admin", "p": "wrong-password"}))
        .await;
    assert_code(&wrong, "UNAUTHENTICATED");
    let unknown = app
        .gql(None, q, json!({"u": "nobody", "p": "wrong-password"}))
        .await;
    assert_code(&unknown, "UNAUTHENTICATED");
    assert_eq!(
        wrong["errors"][0]["message"],
        unknown["errors"][0]["message"]
    );
    assert!(wrong["data"].is_null());
}

fn claims(exp_offset: i64, iss: &str, aud: &str) -> serde_json::Value {
    let now = chrono::Utc::now().timestamp();
    json!({ "sub": "1", "iat": now, "exp": now + exp_offset, "iss": iss, "aud": aud })
}

fn sign(claims: &serde_json::Value, secret: &str) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("sign")
}

#[tokio::test]
async fn forged_expired_and_unsigned_tokens_are_refused() {
    let app = TestApp::with_demo().await;
    // Sanity: a well-made token for user 1 (admin) works.
    let good = sign(&claims(3600, "lianxin", "lianxin-api"), SECRET);
    assert_eq!(
        ok(&app.gql(Some(&good), ME, json!({})).await)["me"]["username"],
        "admin"
    );

    let forged = sign(
        &claims(3600, "lianxin", "lianxin-api"),
        "another-secret-another-secret-another",
    );
    let expired = sign(&claims(-3600, "lianxin", "lianxin-api"), SECRET);
    let wrong_iss = sign(&claims(3600, "someone-else", "lianxin-api"), SECRET);
    let wrong_aud = sign(&claims(3600, "lianxin", "other-api"), SECRET);
    let none = format!(
        "{}.{}.",
        b64url(br#"{"alg":"none","typ":"JWT"}"#),
        b64url(
            claims(3600, "lianxin", "lianxin-api")
                .to_string()
                .as_bytes()
        )
    );
    let mut string_exp = claims(3600, "lianxin", "lianxin-api");
    string_exp["exp"] = json!("9999999999");
    let string_exp = sign(&string_exp, SECRET);
    for (name, token) in [
        ("forged", forged.as_str()),
        ("expired", expired.as_str()),
        ("wrong iss", wrong_iss.as_str()),
        ("wrong aud", wrong_aud.as_str()),
        ("alg none", none.as_str()),
        ("string exp", string_exp.as_str()),
        ("garbage", "not-a-token"),
    ] {
        let v = app.gql(Some(token), ME, json!({})).await;
        assert_eq!(
            crate::helpers::error_code(&v),
            Some("UNAUTHENTICATED"),
            "{name} token must be refused, got {v}"
        );
        assert!(v["data"].is_null(), "{name}: no data for a refused token");
    }
}
