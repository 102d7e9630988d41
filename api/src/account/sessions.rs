//! Sessions for front-ends: `refreshToken`, `logout`, and WeChat login (`loginWithWeChat`,
//! `bindWeChat`, `unbindWeChat`).

use async_graphql::{Context, InputObject, Object, SimpleObject};

use crate::account::schema::{LoginPayload, login_payload};
use crate::account::wechat;
use crate::core::error::{AppError, AppResult};
use crate::graphql::context::{actor, config, db};
use crate::graphql::scalars::Timestamp;

/// A refresh token to trade.
#[derive(InputObject)]
pub struct RefreshTokenInput {
    /// The refresh token of the last login or refresh.
    pub refresh_token: String,
}

/// A refresh token whose session ends.
#[derive(InputObject)]
pub struct LogoutInput {
    /// The refresh token of this device's session.
    pub refresh_token: String,
}

/// The session has ended.
#[derive(SimpleObject)]
pub struct LogoutPayload {
    /// When it ended.
    pub at: Timestamp,
}

/// A code from `wx.login`.
#[derive(InputObject)]
pub struct LoginWithWeChatInput {
    /// The code `wx.login` gave the mini-program (valid once, for 5 minutes).
    pub code: String,
}

/// A WeChat login: logged in when the WeChat user is bound to an account, otherwise a ticket for `bindWeChat`.
#[derive(SimpleObject)]
pub struct LoginWithWeChatPayload {
    /// The login, when the WeChat user is bound to an account.
    pub login: Option<LoginPayload>,
    /// When unbound: a ticket for `bindWeChat` (it stands for this WeChat user).
    pub binding_ticket: Option<String>,
    /// When the ticket stops working (10 minutes).
    pub binding_ticket_expires_at: Option<Timestamp>,
}

/// Binds a WeChat user to an account, proven by its username and password, or by the phone number WeChat confirms (`getPhoneNumber`) when staff recorded it for exactly one account.
#[derive(InputObject)]
pub struct BindWeChatInput {
    /// The ticket of `loginWithWeChat`.
    pub ticket: String,
    /// The account's username (with `password`).
    pub username: Option<String>,
    /// The account's password.
    pub password: Option<String>,
    /// Instead of the password: the code of `<button open-type="getPhoneNumber">`.
    pub phone_code: Option<String>,
}

/// The WeChat binding has ended.
#[derive(SimpleObject)]
pub struct UnbindWeChatPayload {
    /// When it ended.
    pub at: Timestamp,
}

#[derive(Default)]
pub struct SessionMutation;

#[Object]
impl SessionMutation {
    /// Trades a refresh token for a new pair (the old one is retired). A retired token used again ends every token of its login (`TOKEN_REVOKED`); an expired one is `TOKEN_EXPIRED`. Refresh one at a time.
    async fn refresh_token(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The fields of the operation.")] input: RefreshTokenInput,
    ) -> AppResult<LoginPayload> {
        let (tokens, user) =
            crate::auth::refresh::refresh(db(ctx)?, config(ctx)?, &input.refresh_token).await?;
        login_payload(db(ctx)?, user, tokens).await
    }

    /// Ends this device's session: its refresh token (and every one traded from the same login) stops working. The access token works until it expires (30 minutes at most); `logoutEverywhere` ends every token at once. An unknown token is not an error.
    async fn logout(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The fields of the operation.")] input: LogoutInput,
    ) -> AppResult<LogoutPayload> {
        crate::auth::refresh::end(db(ctx)?, &input.refresh_token).await?;
        Ok(LogoutPayload {
            at: Timestamp(crate::core::clock::now()),
        })
    }

    /// Logs in with a `wx.login` code: the bound account's tokens, or a binding ticket. Refused codes are `BAD_USER_INPUT` (`WECHAT_CODE_INVALID`); WeChat unreachable or busy is `UNAVAILABLE` (`WECHAT_UNAVAILABLE`).
    async fn login_with_we_chat(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The fields of the operation.")] input: LoginWithWeChatInput,
    ) -> AppResult<LoginWithWeChatPayload> {
        match wechat::login(db(ctx)?, config(ctx)?, &input.code).await? {
            wechat::WeChatLogin::LoggedIn(r) => Ok(LoginWithWeChatPayload {
                login: Some(login_payload(db(ctx)?, r.user, r.tokens).await?),
                binding_ticket: None,
                binding_ticket_expires_at: None,
            }),
            wechat::WeChatLogin::Unbound { ticket, expires_at } => Ok(LoginWithWeChatPayload {
                login: None,
                binding_ticket: Some(ticket),
                binding_ticket_expires_at: Some(Timestamp(expires_at)),
            }),
        }
    }

    /// Binds the ticket's WeChat user to an account and logs it in. The account may have one WeChat user and a WeChat user one account (`CONFLICT`, `WECHAT_ALREADY_BOUND`).
    async fn bind_we_chat(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The fields of the operation.")] input: BindWeChatInput,
    ) -> AppResult<LoginPayload> {
        let client = ctx
            .data_opt::<crate::graphql::state::ClientAddr>()
            .and_then(|c| c.0.as_deref());
        let proof = match (&input.username, &input.password, &input.phone_code) {
            (Some(username), Some(password), None) => {
                wechat::Proof::Password { username, password }
            }
            (None, None, Some(code)) => wechat::Proof::PhoneCode(code),
            _ => {
                return Err(AppError::bad_field(
                    "phoneCode",
                    "请提供用户名和密码，或微信手机号凭证（二选一）",
                ));
            }
        };
        let r = wechat::bind(db(ctx)?, config(ctx)?, client, &input.ticket, proof).await?;
        login_payload(db(ctx)?, r.user, r.tokens).await
    }

    /// Ends the caller's WeChat binding.
    async fn unbind_we_chat(&self, ctx: &Context<'_>) -> AppResult<UnbindWeChatPayload> {
        wechat::unbind(db(ctx)?, actor(ctx)?.id()).await?;
        Ok(UnbindWeChatPayload {
            at: Timestamp(crate::core::clock::now()),
        })
    }
}
