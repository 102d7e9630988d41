//! WeChat login: a `wx.login` code is exchanged for the user's openid; an openid bound to an
//! account logs it in, an unbound one gets a binding ticket (10 minutes) that `bindWeChat`
//! turns into a binding with the account's username and password, or with the phone number
//! WeChat confirms (`getPhoneNumber`) when it is the phone staff recorded for exactly one
//! account. One openid per account, one account per openid (the database holds both).

use chrono::Utc;
use entity::{user, wechat_binding};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};
use serde::{Deserialize, Serialize};

use crate::account::rules::LoginResult;
use crate::auth;
use crate::core::config::{Config, WeChatConfig};
use crate::core::error::{AppError, AppResult, ErrorCode, ErrorReason};

/// How long a binding ticket works.
pub const TICKET_MINUTES: i64 = 10;
const TICKET_AUDIENCE: &str = "lianxin-wechat-binding";

#[derive(Serialize, Deserialize)]
struct TicketClaims {
    /// The openid.
    sub: String,
    exp: i64,
    iat: i64,
    iss: String,
    aud: String,
}

/// What a WeChat login gives: a login, or a ticket to bind the WeChat user to an account.
pub enum WeChatLogin {
    LoggedIn(Box<LoginResult>),
    Unbound {
        ticket: String,
        expires_at: chrono::DateTime<Utc>,
    },
}

fn configured(config: &Config) -> AppResult<&WeChatConfig> {
    config.wechat.as_ref().ok_or(AppError::refused(
        ErrorCode::Unavailable,
        ErrorReason::WechatUnavailable,
        "本服务未配置微信登录",
    ))
}

fn ticket_invalid() -> AppError {
    AppError::refused(
        ErrorCode::BadUserInput,
        ErrorReason::BindingTicketInvalid,
        "绑定凭证无效或已过期，请重新用微信登录",
    )
}

fn already_bound() -> AppError {
    AppError::refused(
        ErrorCode::Conflict,
        ErrorReason::WechatAlreadyBound,
        "该微信或该账号已绑定",
    )
}

fn issue_ticket(config: &Config, openid: &str) -> AppResult<(String, chrono::DateTime<Utc>)> {
    let now = Utc::now();
    let exp = now + chrono::Duration::minutes(TICKET_MINUTES);
    let claims = TicketClaims {
        sub: openid.to_owned(),
        exp: exp.timestamp(),
        iat: now.timestamp(),
        iss: auth::ISSUER.to_owned(),
        aud: TICKET_AUDIENCE.to_owned(),
    };
    let ticket = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(config.jwt_secret.expose().as_bytes()),
    )
    .map_err(AppError::internal)?;
    Ok((ticket, exp))
}

fn openid_of_ticket(config: &Config, ticket: &str) -> AppResult<String> {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_issuer(&[auth::ISSUER]);
    validation.set_audience(&[TICKET_AUDIENCE]);
    validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
    validation.leeway = 5;
    jsonwebtoken::decode::<TicketClaims>(
        ticket.trim(),
        &DecodingKey::from_secret(config.jwt_secret.expose().as_bytes()),
        &validation,
    )
    .map(|d| d.claims.sub)
    .map_err(|_| ticket_invalid())
}

/// `loginWithWeChat`: the account bound to the code's openid, logged in; or a ticket.
pub async fn login(db: &DatabaseConnection, config: &Config, code: &str) -> AppResult<WeChatLogin> {
    let openid = crate::core::wechat::openid_of_code(configured(config)?, code).await?;
    let bound = wechat_binding::Entity::find()
        .filter(wechat_binding::Column::Openid.eq(openid.clone()))
        .one(db)
        .await?;
    let Some(bound) = bound else {
        let (ticket, expires_at) = issue_ticket(config, &openid)?;
        return Ok(WeChatLogin::Unbound { ticket, expires_at });
    };
    let user = user::Entity::find_by_id(bound.user_id)
        .one(db)
        .await?
        .filter(|u| u.active && u.erased_at.is_none())
        .ok_or(AppError::Unauthenticated(ErrorReason::InvalidCredentials))?;
    let tokens = auth::refresh::issue(db, config, &user, None).await?;
    Ok(WeChatLogin::LoggedIn(Box::new(LoginResult {
        tokens,
        user,
    })))
}

/// How `bindWeChat` proves the account.
pub enum Proof<'a> {
    Password {
        username: &'a str,
        password: &'a str,
    },
    PhoneCode(&'a str),
}

/// `bindWeChat`: binds the ticket's openid to the proven account and logs it in.
pub async fn bind(
    db: &DatabaseConnection,
    config: &Config,
    client: Option<&str>,
    ticket: &str,
    proof: Proof<'_>,
) -> AppResult<LoginResult> {
    let wechat = configured(config)?;
    let openid = openid_of_ticket(config, ticket)?;
    let user = match proof {
        Proof::Password { username, password } => {
            crate::account::rules::authenticate(db, config, client, username, password).await?
        }
        Proof::PhoneCode(code) => {
            let phone = crate::core::wechat::phone_of_code(wechat, code).await?;
            let mut found = user::Entity::find()
                .filter(user::Column::Phone.eq(phone))
                .filter(user::Column::Active.eq(true))
                .filter(user::Column::ErasedAt.is_null())
                .all(db)
                .await?;
            if found.len() != 1 {
                return Err(AppError::refused(
                    ErrorCode::BadUserInput,
                    ErrorReason::PhoneNotRegistered,
                    "该手机号未登记或对应多个账号，请用用户名和密码绑定",
                ));
            }
            found.remove(0)
        }
    };
    wechat_binding::ActiveModel {
        user_id: Set(user.id),
        openid: Set(openid),
        bound_at: Set(crate::core::clock::now()),
    }
    .insert(db)
    .await
    .map_err(|e| {
        if AppError::is_unique_violation(&e) {
            already_bound()
        } else {
            AppError::from(e)
        }
    })?;
    let tokens = auth::refresh::issue(db, config, &user, None).await?;
    Ok(LoginResult { tokens, user })
}

/// `unbindWeChat`: the caller's own binding ends (their next WeChat login gets a ticket).
pub async fn unbind(db: &DatabaseConnection, user_id: i64) -> AppResult<()> {
    let done = wechat_binding::Entity::delete_many()
        .filter(wechat_binding::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    if done.rows_affected == 0 {
        return Err(AppError::refused(
            ErrorCode::NotFound,
            ErrorReason::WechatNotBound,
            "该账号未绑定微信",
        ));
    }
    Ok(())
}
