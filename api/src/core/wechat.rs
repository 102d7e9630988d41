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

/// Why WeChat did not take a subscription message.
#[derive(Debug, PartialEq, Eq)]
pub enum SendRefusal {
    /// 43101: the user has not allowed (or no longer allows) this template.
    NotAllowed,
    /// Another errcode, with WeChat's message: not worth retrying (a bad template, field or
    /// openid).
    Rejected(i64, String),
    /// Unreachable, busy or rate-limited: worth retrying.
    Unavailable(String),
}

#[derive(Deserialize)]
struct SendAnswer {
    #[serde(default)]
    errcode: i64,
    #[serde(default)]
    errmsg: String,
}

/// Sends a one-time subscription message (`POST /cgi-bin/message/subscribe/send`) to an
/// openid: the template, the mini-program page it opens, the mini-program's state and the
/// template's fields (`{"thing1": {"value": …}}`). A stale access token (40001, 42001) is
/// fetched again once.
pub async fn send_subscribe_message(
    config: &WeChatConfig,
    openid: &str,
    template_id: &str,
    page: Option<&str>,
    state: &str,
    data: &serde_json::Value,
) -> Result<(), SendRefusal> {
    let mut force = false;
    loop {
        let token = access_token(config, force)
            .await
            .map_err(|_| SendRefusal::Unavailable("stable_token 不可用".into()))?;
        let url = format!(
            "{}/cgi-bin/message/subscribe/send",
            config.api_base.trim_end_matches('/')
        );
        let mut body = serde_json::json!({
            "touser": openid,
            "template_id": template_id,
            "miniprogram_state": state,
            "lang": "zh_CN",
            "data": data,
        });
        if let Some(page) = page {
            body["page"] = page.into();
        }
        let answer: SendAnswer = http()
            .post(url)
            .query(&[("access_token", token.as_str())])
            .json(&body)
            .send()
            .await
            .map_err(|e| SendRefusal::Unavailable(format!("unreachable: {}", e.without_url())))?
            .json()
            .await
            .map_err(|_| SendRefusal::Unavailable("an answer that is not JSON".into()))?;
        match answer.errcode {
            0 => return Ok(()),
            40001 | 42001 if !force => force = true,
            43101 => return Err(SendRefusal::NotAllowed),
            -1 | 45009 | 45011 => {
                return Err(SendRefusal::Unavailable(format!(
                    "errcode {}: {}",
                    answer.errcode, answer.errmsg
                )));
            }
            errcode => return Err(SendRefusal::Rejected(errcode, answer.errmsg)),
        }
    }
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
