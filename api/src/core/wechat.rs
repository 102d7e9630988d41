//! The WeChat mini-program server API, as documented by WeChat: `GET /sns/jscode2session`
//! (a `wx.login` code for the user's openid), `POST /cgi-bin/stable_token` (the app's access
//! token, cached until shortly before it expires) and `POST
//! /wxa/business/getuserphonenumber` (a `getPhoneNumber` code for the user's phone). The
//! base address comes from the configuration, so tests point it at a local stand-in.

use std::time::{Duration, Instant};

use serde::Deserialize;

use crate::core::config::WeChatConfig;
use crate::core::error::{AppError, AppResult, ErrorCode, ErrorReason};

/// The HTTP client of outside providers: rustls (ring), 5 s to connect, 10 s per request.
pub fn http() -> &'static reqwest::Client {
    static CLIENT: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();
    CLIENT.get_or_init(|| {
        // ring, not aws-lc-rs (which would add a C build of its own): no post-quantum key
        // exchange, which the providers' HTTPS endpoints do not require.
        #[allow(deprecated)]
        let _ = rustls::crypto::ring::default_provider().install_default();
        reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap_or_else(|e| {
                tracing::error!(error = %e, "the HTTP client could not be built");
                reqwest::Client::new()
            })
    })
}

fn unavailable() -> AppError {
    AppError::refused(
        ErrorCode::Unavailable,
        ErrorReason::WechatUnavailable,
        "微信服务暂时不可用，请稍后再试",
    )
}

fn code_invalid() -> AppError {
    AppError::refused(
        ErrorCode::BadUserInput,
        ErrorReason::WechatCodeInvalid,
        "微信登录凭证无效或已使用，请重新登录",
    )
}

#[derive(Deserialize)]
struct SessionAnswer {
    #[serde(default)]
    openid: Option<String>,
    #[serde(default)]
    errcode: i64,
    #[serde(default)]
    errmsg: String,
}

/// The openid of a `wx.login` code. A refused code (40029 invalid, 40163 used, 40226 a
/// blocked user) is `WECHAT_CODE_INVALID`; anything else WeChat answers (busy, rate-limited,
/// unreachable) is `WECHAT_UNAVAILABLE`.
pub async fn openid_of_code(config: &WeChatConfig, code: &str) -> AppResult<String> {
    let code = code.trim();
    if code.is_empty() || code.len() > 128 {
        return Err(code_invalid());
    }
    let url = format!(
        "{}/sns/jscode2session",
        config.api_base.trim_end_matches('/')
    );
    let answer = http()
        .get(url)
        .query(&[
            ("appid", config.app_id.as_str()),
            ("secret", config.app_secret.expose()),
            ("js_code", code),
            ("grant_type", "authorization_code"),
        ])
        .send()
        .await
        .map_err(|e| {
            tracing::warn!(error = %e, "jscode2session unreachable");
            unavailable()
        })?;
    let answer: SessionAnswer = answer.json().await.map_err(|e| {
        tracing::warn!(error = %e, "jscode2session answered no JSON");
        unavailable()
    })?;
    match (answer.errcode, answer.openid) {
        (0, Some(openid)) if !openid.is_empty() && openid.len() <= 128 => Ok(openid),
        (40029 | 40163 | 40226, _) => Err(code_invalid()),
        (errcode, _) => {
            tracing::warn!(errcode, errmsg = %answer.errmsg, "jscode2session refused");
            Err(unavailable())
        }
    }
}

#[derive(Deserialize)]
struct TokenAnswer {
    #[serde(default)]
    access_token: Option<String>,
    #[serde(default)]
    expires_in: u64,
    #[serde(default)]
    errcode: i64,
}

/// The app's access token, from `stable_token`, kept until a minute before it expires.
/// `force` asks WeChat for a fresh one (after errcode 40001 or 42001).
pub async fn access_token(config: &WeChatConfig, force: bool) -> AppResult<String> {
    static CACHE: tokio::sync::Mutex<Option<(String, String, Instant)>> =
        tokio::sync::Mutex::const_new(None);
    let mut cache = CACHE.lock().await;
    if !force
        && let Some((app, token, until)) = cache.as_ref()
        && *app == config.app_id
        && Instant::now() < *until
    {
        return Ok(token.clone());
    }
    let url = format!(
        "{}/cgi-bin/stable_token",
        config.api_base.trim_end_matches('/')
    );
    let answer: TokenAnswer = http()
        .post(url)
        .json(&serde_json::json!({
            "grant_type": "client_credential",
            "appid": config.app_id,
            "secret": config.app_secret.expose(),
            "force_refresh": force,
        }))
        .send()
        .await
        .map_err(|_| unavailable())?
        .json()
        .await
        .map_err(|_| unavailable())?;
    let Some(token) = answer.access_token.filter(|_| answer.errcode == 0) else {
        tracing::warn!(errcode = answer.errcode, "stable_token refused");
        return Err(unavailable());
    };
    let keep = Duration::from_secs(answer.expires_in.saturating_sub(60).max(1));
    *cache = Some((config.app_id.clone(), token.clone(), Instant::now() + keep));
    Ok(token)
}

#[derive(Deserialize)]
struct PhoneAnswer {
    #[serde(default)]
    errcode: i64,
    #[serde(default)]
    phone_info: Option<PhoneInfo>,
}

#[derive(Deserialize)]
struct PhoneInfo {
    #[serde(rename = "purePhoneNumber", default)]
    pure_phone_number: String,
}

/// The phone number (without country code) WeChat confirmed for a `getPhoneNumber` code.
pub async fn phone_of_code(config: &WeChatConfig, code: &str) -> AppResult<String> {
    let code = code.trim();
    if code.is_empty() || code.len() > 128 {
        return Err(code_invalid());
    }
    let mut force = false;
    loop {
        let token = access_token(config, force).await?;
        let url = format!(
            "{}/wxa/business/getuserphonenumber",
            config.api_base.trim_end_matches('/')
        );
        let answer: PhoneAnswer = http()
            .post(url)
            .query(&[("access_token", token.as_str())])
            .json(&serde_json::json!({ "code": code }))
            .send()
            .await
            .map_err(|_| unavailable())?
            .json()
            .await
            .map_err(|_| unavailable())?;
        match answer.errcode {
            0 => {
                return answer
                    .phone_info
                    .map(|p| p.pure_phone_number)
                    .filter(|p| !p.is_empty())
                    .ok_or_else(unavailable);
            }
            40001 | 42001 if !force => force = true,
            40029 => return Err(code_invalid()),
            errcode => {
                tracing::warn!(errcode, "getuserphonenumber refused");
                return Err(unavailable());
            }
        }
    }
}
