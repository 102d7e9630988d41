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
        }
    }
}

/// Generic message sent for internal errors.
pub const INTERNAL_MESSAGE: &str = "服务器内部错误，请稍后再试";

/// An expected failure (with a short Chinese message) or an opaque internal one.
///
/// Deliberately not `Display`: async-graphql would otherwise convert it with its message
/// only, dropping the code.
#[derive(Clone, Debug)]
pub enum AppError {
    Unauthenticated(&'static str),
    Forbidden(&'static str),
    NotFound(&'static str),
    BadInput {
        message: String,
        field: Option<&'static str>,
    },
    Conflict(String),
    InvalidState(String),
    RateLimited,
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
            Self::RateLimited => ErrorCode::RateLimited,
            Self::Unavailable => ErrorCode::Unavailable,
            Self::Internal(_) => ErrorCode::Internal,
        }
    }

    pub fn message(&self) -> String {
        match self {
            Self::Unauthenticated(m) | Self::Forbidden(m) | Self::NotFound(m) => (*m).to_owned(),
            Self::BadInput { message, .. } => message.clone(),
            Self::Conflict(m) | Self::InvalidState(m) => m.clone(),
            Self::RateLimited => "操作过于频繁，请稍后再试".to_owned(),
            Self::Unavailable => "数据库连接中断，请重试".to_owned(),
            Self::Internal(_) => INTERNAL_MESSAGE.to_owned(),
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
        Self::Unauthenticated("请先登录")
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
        let field = match &err {
            AppError::BadInput { field, .. } => *field,
            _ => None,
        };
        async_graphql::Error::new(err.message()).extend_with(|_, ext| {
            ext.set("code", code);
            if let Some(field) = field {
                ext.set("field", field);
            }
        })
    }
}
