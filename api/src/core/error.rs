//! The one error type of lianxin. Every error reaching a client carries `extensions.code`;
//! internal details are logged and never sent.

use async_graphql::ErrorExtensions;
use sea_orm::{DbErr, SqlErr};

/// Machine-readable error codes that front-ends translate (DOMAIN.md).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ErrorCode {
    Unauthenticated,
    Forbidden,
    NotFound,
    BadUserInput,
    Conflict,
    InvalidState,
    RateLimited,
    /// The database connection was lost mid-request: nothing was committed, send it again.
    Unavailable,
    Internal,
    /// The document is not GraphQL text (a developer's mistake).
    GraphqlParseFailed,
    /// The document does not fit the schema or its limits (a developer's mistake).
    GraphqlValidationFailed,
    /// Variables or argument values that do not fit the schema's types: a missing or
    /// mistyped variable, an unknown enum value, a missing input field, an unparsable scalar
    /// (a developer's mistake; `BAD_USER_INPUT` is for what a person typed).
    BadRequest,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unauthenticated => "UNAUTHENTICATED",
            Self::Forbidden => "FORBIDDEN",
            Self::NotFound => "NOT_FOUND",
            Self::BadUserInput => "BAD_USER_INPUT",
            Self::Conflict => "CONFLICT",
            Self::InvalidState => "INVALID_STATE",
            Self::RateLimited => "RATE_LIMITED",
            Self::Unavailable => "UNAVAILABLE",
            Self::Internal => "INTERNAL",
            Self::GraphqlParseFailed => "GRAPHQL_PARSE_FAILED",
            Self::GraphqlValidationFailed => "GRAPHQL_VALIDATION_FAILED",
            Self::BadRequest => "BAD_REQUEST",
        }
    }
}

/// Why a request was refused, sent as `extensions.reason` beside the code: one stable name
/// per distinct case, so that a client branches on it rather than on the message.
#[derive(async_graphql::Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum ErrorReason {
    /// UNAUTHENTICATED: the operation needs a login and none was sent.
    AuthenticationRequired,
    /// UNAUTHENTICATED: the access token has expired; refresh it (`refreshToken`).
    TokenExpired,
    /// UNAUTHENTICATED: the token is not one this server issued (forged, damaged, another
    /// kind of token).
    TokenInvalid,
    /// UNAUTHENTICATED: the token was ended: the account was deactivated or erased, its
    /// password changed or reset, `logoutEverywhere` was called, or a refresh token was used
    /// twice (every token of its family ends).
    TokenRevoked,
    /// UNAUTHENTICATED: the username or password is wrong (never says which).
    InvalidCredentials,
    /// RATE_LIMITED: too many failed logins for this username or from this address.
    LoginThrottled,
    /// FORBIDDEN: the password was reset; only `me` and `changePassword` run until it is
    /// changed.
    PasswordChangeRequired,
    /// UNAUTHENTICATED: a photo's signed link is invalid or has expired.
    LinkInvalid,
    /// BAD_USER_INPUT: WeChat refused the login code (expired, used, or from another app).
    WechatCodeInvalid,
    /// UNAVAILABLE: WeChat's server did not answer or was busy; try again.
    WechatUnavailable,
    /// BAD_USER_INPUT: the WeChat binding ticket is invalid or has expired (log in with
    /// WeChat again).
    BindingTicketInvalid,
    /// CONFLICT: this WeChat user is bound to another account, or this account to another
    /// WeChat user.
    WechatAlreadyBound,
    /// NOT_FOUND: the account has no WeChat binding.
    WechatNotBound,
    /// BAD_USER_INPUT: the phone number WeChat confirmed is not the phone of exactly one
    /// account (recorded by staff); bind with the username and password instead.
    PhoneNotRegistered,
    /// NOT_FOUND: no pending upload of the caller has this id (another user's, attached
    /// already, or expired).
    UploadNotFound,
    /// BAD_USER_INPUT: the upload was made for another purpose (a photo where a spreadsheet
    /// is asked, say).
    UploadWrongPurpose,
    /// PERSISTED_QUERY_NOT_FOUND: this server accepts only its trusted documents, and the
    /// request named none of them (or sent a document's text).
    DocumentNotTrusted,
}

/// Generic message sent for internal errors.
pub const INTERNAL_MESSAGE: &str = "服务器内部错误，请稍后再试";

/// An expected failure (with a short Chinese message) or an opaque internal one.
///
/// Deliberately not `Display`: async-graphql would otherwise convert it with its message
/// only, dropping the code.
#[derive(Clone, Debug)]
pub enum AppError {
    Unauthenticated(ErrorReason),
    Forbidden(&'static str),
    NotFound(&'static str),
    BadInput {
        message: String,
        field: Option<&'static str>,
    },
    Conflict(String),
    InvalidState(String),
    RateLimited(Option<ErrorReason>),
    /// A refusal with its own code, reason and message.
    Refused {
        code: ErrorCode,
        reason: ErrorReason,
        message: &'static str,
    },
    /// The database connection was lost (a restart, a failover): sent as `UNAVAILABLE`,
    /// asking the client to send the request again.
    Unavailable,
    /// Logged with its detail, sent as `INTERNAL` with a generic message.
    Internal(String),
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn bad_input(message: impl Into<String>) -> Self {
        Self::BadInput {
            message: message.into(),
            field: None,
        }
    }

    pub fn bad_field(field: &'static str, message: impl Into<String>) -> Self {
        Self::BadInput {
            message: message.into(),
            field: Some(field),
        }
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::Conflict(message.into())
    }

    pub fn invalid_state(message: impl Into<String>) -> Self {
        Self::InvalidState(message.into())
    }

    pub fn internal(detail: impl std::fmt::Display) -> Self {
        Self::Internal(detail.to_string())
    }

    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Unauthenticated(_) => ErrorCode::Unauthenticated,
            Self::Forbidden(_) => ErrorCode::Forbidden,
            Self::NotFound(_) => ErrorCode::NotFound,
            Self::BadInput { .. } => ErrorCode::BadUserInput,
            Self::Conflict(_) => ErrorCode::Conflict,
            Self::InvalidState(_) => ErrorCode::InvalidState,
            Self::RateLimited(_) => ErrorCode::RateLimited,
            Self::Refused { code, .. } => *code,
            Self::Unavailable => ErrorCode::Unavailable,
            Self::Internal(_) => ErrorCode::Internal,
        }
    }

    pub fn message(&self) -> String {
        match self {
            Self::Unauthenticated(reason) => unauthenticated_message(*reason).to_owned(),
            Self::Forbidden(m) | Self::NotFound(m) => (*m).to_owned(),
            Self::Refused { message, .. } => (*message).to_owned(),
            Self::BadInput { message, .. } => message.clone(),
            Self::Conflict(m) | Self::InvalidState(m) => m.clone(),
            Self::RateLimited(_) => "操作过于频繁，请稍后再试".to_owned(),
            Self::Unavailable => "数据库连接中断，请重试".to_owned(),
            Self::Internal(_) => INTERNAL_MESSAGE.to_owned(),
        }
    }

    /// The reason sent as `extensions.reason`, when the refusal has one.
    pub fn reason(&self) -> Option<ErrorReason> {
        match self {
            Self::Unauthenticated(reason) => Some(*reason),
            Self::RateLimited(reason) => *reason,
            Self::Refused { reason, .. } => Some(*reason),
            Self::Forbidden(m) if *m == crate::auth::MUST_CHANGE_MESSAGE => {
                Some(ErrorReason::PasswordChangeRequired)
            }
            _ => None,
        }
    }

    /// A refusal with a code, a reason and a message.
    pub const fn refused(code: ErrorCode, reason: ErrorReason, message: &'static str) -> Self {
        Self::Refused {
            code,
            reason,
            message,
        }
    }

    /// Maps a unique-constraint violation to `CONFLICT` with `message`; anything else is internal.
    pub fn on_unique(err: DbErr, message: &str) -> Self {
        match err.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => Self::Conflict(message.to_owned()),
            _ => Self::from(err),
        }
    }

    /// Whether a database error is a unique-constraint violation.
    pub fn is_unique_violation(err: &DbErr) -> bool {
        matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
    }

    pub fn unauthenticated() -> Self {
        Self::Unauthenticated(ErrorReason::AuthenticationRequired)
    }

    pub fn forbidden() -> Self {
        Self::Forbidden("无权进行此操作")
    }
}

impl From<DbErr> for AppError {
    fn from(err: DbErr) -> Self {
        if crate::core::db::connection_lost(&err) {
            tracing::warn!(error = %err, "database connection lost");
            crate::core::db::note_connection_lost();
            return Self::Unavailable;
        }
        match err.sql_err() {
            Some(SqlErr::ForeignKeyConstraintViolation(_)) => {
                tracing::warn!(error = %err, "foreign key violation");
                Self::NotFound("引用的对象不存在")
            }
            _ => Self::Internal(format!("database: {err}")),
        }
    }
}

impl From<AppError> for async_graphql::Error {
    fn from(err: AppError) -> Self {
        if let AppError::Internal(detail) = &err {
            tracing::error!(%detail, "internal error");
        }
        let code = err.code().as_str();
        let reason = err.reason();
        let field = match &err {
            AppError::BadInput { field, .. } => *field,
            _ => None,
        };
        async_graphql::Error::new(err.message()).extend_with(|_, ext| {
            ext.set("code", code);
            if let Some(reason) = reason {
                ext.set("reason", reason_name(reason));
            }
            if let Some(field) = field {
                ext.set("field", field);
            }
        })
    }
}

/// The message of an authentication failure.
fn unauthenticated_message(reason: ErrorReason) -> &'static str {
    match reason {
        ErrorReason::TokenExpired => "登录已过期，请刷新登录凭证",
        ErrorReason::TokenInvalid => "登录凭证无效，请重新登录",
        ErrorReason::TokenRevoked => "登录凭证已失效，请重新登录",
        ErrorReason::InvalidCredentials => "用户名或密码错误",
        ErrorReason::LinkInvalid => "链接无效或已过期",
        _ => "请先登录",
    }
}

/// The name of a reason as the schema spells it (`TOKEN_EXPIRED`).
pub fn reason_name(reason: ErrorReason) -> String {
    match async_graphql::InputType::to_value(&reason) {
        async_graphql::Value::Enum(name) => name.to_string(),
        other => other.to_string(),
    }
}
