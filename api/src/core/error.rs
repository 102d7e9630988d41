//! The one error type of lianxin. Every error reaching a client carries `extensions.code`;
//! internal details are logged and never sent.

use async_graphql::ErrorExtensions;
use sea_orm::{DbErr, SqlErr};

/// Machine-readable error codes that front-ends translate (README, "API conventions").
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
    /// Variables or argument values that do not fit the schema's types: a missing or mistyped variable, an unknown enum value, a missing input field, an unparsable scalar (a developer's mistake; `BAD_USER_INPUT` is for what a person typed).
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

/// Why a request was refused, sent as `extensions.reason` beside the code: one stable name per distinct case, so that a client branches on it rather than on the message.
#[derive(async_graphql::Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum ErrorReason {
    /// FORBIDDEN: the caller's roles and scopes do not allow this (the message says what).
    NotAllowed,
    /// NOT_FOUND: no such record, or none the caller may see (the message names the kind).
    RecordNotFound,
    /// BAD_USER_INPUT: a value a person typed is not accepted (`extensions.field` names it).
    InvalidInput,
    /// RATE_LIMITED: too many requests of this kind; wait.
    TooManyRequests,
    /// UNAVAILABLE: the database connection was lost; nothing was committed; send it again.
    DatabaseUnavailable,
    /// GRAPHQL_PARSE_FAILED or GRAPHQL_VALIDATION_FAILED: the document is not GraphQL, or does not fit the schema (`extensions.detail` says where).
    InvalidDocument,
    /// GRAPHQL_VALIDATION_FAILED: the document is nested deeper than the limit (`extensions.limit`).
    DepthLimitExceeded,
    /// GRAPHQL_VALIDATION_FAILED: the document costs more than the limit (`extensions.limit`).
    CostLimitExceeded,
    /// BAD_REQUEST: an enum value the type does not have (`extensions.allowedValues`).
    InvalidEnumValue,
    /// BAD_REQUEST: a required input field is missing (`extensions.field`).
    MissingInputField,
    /// BAD_REQUEST: a value does not fit its type (`extensions.field`).
    InvalidValue,
    /// BAD_REQUEST: a variable is missing or of the wrong type (`extensions.variable`).
    InvalidVariable,
    /// BAD_USER_INPUT: the HTTP request itself is malformed (not JSON, a batch, a broken multipart body, a mutation by GET).
    RequestInvalid,
    /// BAD_USER_INPUT: the request body or a file is larger than allowed (HTTP 413).
    BodyTooLarge,
    /// PERSISTED_QUERY_NOT_FOUND: the hash is not known yet; send the query text with it.
    PersistedQueryUnknown,
    /// UNAUTHENTICATED: the operation needs a login and none was sent.
    AuthenticationRequired,
    /// UNAUTHENTICATED: the access token has expired; refresh it (`refreshToken`).
    TokenExpired,
    /// UNAUTHENTICATED: the token is not one this server issued (forged, damaged, another kind of token).
    TokenInvalid,
    /// UNAUTHENTICATED: the token was ended: the account was deactivated or erased, its password changed or reset, `logoutEverywhere` was called, or a refresh token was used twice (every token of its family ends).
    TokenRevoked,
    /// UNAUTHENTICATED: the username or password is wrong (never says which).
    InvalidCredentials,
    /// RATE_LIMITED: too many failed logins for this username or from this address.
    LoginThrottled,
    /// FORBIDDEN: the password was reset; only `me` and `changePassword` run until it is changed.
    PasswordChangeRequired,
    /// UNAUTHENTICATED: a photo's signed link is invalid or has expired.
    LinkInvalid,
    /// BAD_USER_INPUT: WeChat refused the login code (expired, used, or from another app).
    WechatCodeInvalid,
    /// UNAVAILABLE: WeChat's server did not answer or was busy; try again.
    WechatUnavailable,
    /// BAD_USER_INPUT: the WeChat binding ticket is invalid or has expired (log in with WeChat again).
    BindingTicketInvalid,
    /// CONFLICT: this WeChat user is bound to another account, or this account to another WeChat user.
    WechatAlreadyBound,
    /// NOT_FOUND: the account has no WeChat binding.
    WechatNotBound,
    /// BAD_USER_INPUT: the phone number WeChat confirmed is not the phone of exactly one account (recorded by staff); bind with the username and password instead.
    PhoneNotRegistered,
    /// NOT_FOUND: no pending upload of the caller has this id (another user's, attached already, or expired).
    UploadNotFound,
    /// BAD_USER_INPUT: the upload was made for another purpose (a photo where a spreadsheet is asked, say).
    UploadWrongPurpose,
    /// PERSISTED_QUERY_NOT_FOUND: this server accepts only its trusted documents, and the request named none of them (or sent a document's text).
    DocumentNotTrusted,
    /// CONFLICT: the account was changed by someone else meanwhile; reload and retry.
    AccountChangedMeanwhile,
    /// INVALID_STATE (or CONFLICT): the account's personal data was erased.
    AccountErased,
    /// INVALID_STATE: the agreement was proposed; its text can no longer change.
    AgreementAlreadyProposed,
    /// CONFLICT: this organisation has signed already.
    AgreementAlreadySigned,
    /// INVALID_STATE: the agreement has ended.
    AgreementEnded,
    /// INVALID_STATE: the agreement is not in force.
    AgreementNotActive,
    /// INVALID_STATE: the agreement was not in force on the activity's day.
    AgreementNotActiveOnDate,
    /// INVALID_STATE: only a draft can be proposed.
    AgreementNotDraft,
    /// INVALID_STATE: the agreement cannot be signed in its status.
    AgreementNotSignable,
    /// CONFLICT: the organisation has been a member of this alliance.
    AlreadyAllianceMember,
    /// CONFLICT: the person already holds a post in this grid.
    AlreadyGridStaff,
    /// INVALID_STATE: the organisation has left the alliance.
    AlreadyLeftAlliance,
    /// CONFLICT: the caller is signed up for this shift already.
    AlreadySignedUp,
    /// INVALID_STATE: the sign-up cannot be checked in now.
    CheckInNotAllowed,
    /// INVALID_STATE: the sign-up cannot be checked out now.
    CheckOutNotAllowed,
    /// INVALID_STATE: the database holds data; demo data is not written.
    DatabaseNotEmpty,
    /// CONFLICT: the ledger entry has been reversed already.
    EntryAlreadyReversed,
    /// CONFLICT: the grid has a leader already.
    GridHasLeader,
    /// CONFLICT: the idempotency key was used for another request.
    IdempotencyKeyReused,
    /// CONFLICT: the incident was adopted as a project already.
    IncidentAlreadyAdopted,
    /// INVALID_STATE: only a handled or closed incident can be adopted.
    IncidentNotFinished,
    /// INVALID_STATE: the last active ADMIN must stay.
    LastAdmin,
    /// INVALID_STATE: the leading organisation cannot leave its alliance.
    LeadCannotLeave,
    /// CONFLICT: the name is taken where it must be unique.
    NameTaken,
    /// INVALID_STATE: the sign-up has not been checked in.
    NotCheckedIn,
    /// INVALID_STATE: only what waits for review can be reviewed.
    NotPendingReview,
    /// CONFLICT: the reward is out of stock.
    OutOfStock,
    /// CONFLICT: the person has a passbook already.
    PassbookExists,
    /// INVALID_STATE: the passbook is frozen.
    PassbookFrozen,
    /// CONFLICT: the password was changed meanwhile; log in again.
    PasswordChangedMeanwhile,
    /// CONFLICT: the patrol was changed at the same time; retry.
    PatrolChangedMeanwhile,
    /// CONFLICT: these points were deposited already.
    PointsAlreadyDeposited,
    /// INVALID_STATE: the post has ended.
    PostEnded,
    /// CONFLICT: the registration was reviewed by someone else.
    RegistrationAlreadyReviewed,
    /// INVALID_STATE: the registration has ended; it cannot be withdrawn.
    RegistrationClosed,
    /// CONFLICT: a pending or approved registration exists.
    RegistrationExists,
    /// CONFLICT: the same request is being processed; retry shortly.
    RequestInProgress,
    /// INVALID_STATE: a reversal cannot be reversed.
    ReversalNotReversible,
    /// INVALID_STATE: the reward is withdrawn.
    RewardInactive,
    /// CONFLICT: the role is granted for that time already.
    RoleAlreadyGranted,
    /// INVALID_STATE or CONFLICT: the role was revoked already.
    RoleAlreadyRevoked,
    /// INVALID_STATE: the role has expired.
    RoleExpired,
    /// CONFLICT: the shift's places changed meanwhile; retry.
    ShiftChangedMeanwhile,
    /// CONFLICT: the shift has no place left.
    ShiftFull,
    /// INVALID_STATE: the shift has not started.
    ShiftNotStarted,
    /// CONFLICT: the shift overlaps one the caller signed up for.
    ShiftOverlaps,
    /// INVALID_STATE: the shift has started; sign-up is closed.
    ShiftStarted,
    /// CONFLICT: the sign-up changed meanwhile; retry.
    SignupChangedMeanwhile,
    /// INVALID_STATE: the sign-up can no longer be cancelled.
    SignupNotCancellable,
    /// CONFLICT: the stock cannot go below what is redeemed.
    StockBelowRedeemed,
    /// CONFLICT: the username is taken.
    UsernameTaken,
    /// CONFLICT: the caller holds this wish already.
    WishAlreadyYours,
    /// INVALID_STATE: the wish is finished or closed; it cannot be cancelled.
    WishNotCancellable,
    /// CONFLICT: someone else holds the wish.
    WishTaken,
    /// INVALID_STATE: the account is not deactivated.
    AccountNotDeactivated,
    /// INVALID_STATE: the account is deactivated already.
    AccountDeactivated,
    /// CONFLICT: the incident is accepted already (a retried acceptance).
    IncidentAlreadyAccepted,
    /// CONFLICT: someone else moved the incident on meanwhile.
    IncidentChangedMeanwhile,
    /// INVALID_STATE: the incident is dispatched but not accepted yet.
    IncidentNotAcceptedYet,
    /// INVALID_STATE: the incident's status does not allow this step.
    IncidentWrongStatus,
    /// CONFLICT: a shift has more sign-ups than the new capacity.
    CapacityBelowSignups,
    /// CONFLICT: a shift has sign-ups; its times cannot change.
    ShiftHasSignups,
    /// INVALID_STATE: too close to the shift's start to cancel.
    CancelWindowClosed,
    /// INVALID_STATE: only a signed-up, not checked-in student can be marked absent.
    NoShowNotAllowed,
    /// INVALID_STATE: the wish has expired.
    WishExpired,
    /// INVALID_STATE: the wish's status does not allow this action.
    WishWrongStatus,
    /// INVALID_STATE: the caller holds as many claims as allowed at once.
    ClaimCapReached,
}

/// Generic message sent for internal errors.
pub const INTERNAL_MESSAGE: &str = "服务器内部错误，请稍后再试";

/// An expected failure (with a short Chinese message) or an opaque internal one.
///
/// Deliberately not `Display`: async-graphql would otherwise convert it with its message only, dropping the code.
#[derive(Clone, Debug)]
pub enum AppError {
    Unauthenticated(ErrorReason),
    Forbidden(&'static str),
    NotFound(&'static str),
    BadInput {
        message: String,
        field: Option<&'static str>,
    },
    Conflict(ErrorReason, String),
    InvalidState(ErrorReason, String),
    RateLimited(Option<ErrorReason>),
    /// A refusal with its own code, reason and message.
    Refused {
        code: ErrorCode,
        reason: ErrorReason,
        message: &'static str,
    },
    /// The database connection was lost (a restart, a failover): sent as `UNAVAILABLE`, asking the client to send the request again.
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

    pub fn conflict(reason: ErrorReason, message: impl Into<String>) -> Self {
        Self::Conflict(reason, message.into())
    }

    pub fn invalid_state(reason: ErrorReason, message: impl Into<String>) -> Self {
        Self::InvalidState(reason, message.into())
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
            Self::Conflict(..) => ErrorCode::Conflict,
            Self::InvalidState(..) => ErrorCode::InvalidState,
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
            Self::Conflict(_, m) | Self::InvalidState(_, m) => m.clone(),
            Self::RateLimited(_) => "操作过于频繁，请稍后再试".to_owned(),
            Self::Unavailable => "数据库连接中断，请重试".to_owned(),
            Self::Internal(_) => INTERNAL_MESSAGE.to_owned(),
        }
    }

    /// The reason sent as `extensions.reason`: every refusal has one (an internal error is not a refusal).
    pub fn reason(&self) -> Option<ErrorReason> {
        match self {
            Self::Unauthenticated(reason) => Some(*reason),
            Self::RateLimited(reason) => Some(reason.unwrap_or(ErrorReason::TooManyRequests)),
            Self::Refused { reason, .. } => Some(*reason),
            Self::Conflict(reason, _) | Self::InvalidState(reason, _) => Some(*reason),
            Self::Forbidden(_) => Some(ErrorReason::NotAllowed),
            Self::NotFound(_) => Some(ErrorReason::RecordNotFound),
            Self::BadInput { .. } => Some(ErrorReason::InvalidInput),
            Self::Unavailable => Some(ErrorReason::DatabaseUnavailable),
            // An internal error is not a refusal: nothing for the client to act on.
            Self::Internal(_) => None,
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

    /// Maps a unique-constraint violation to `CONFLICT` with `reason` and `message`; anything else is internal.
    pub fn on_unique(err: DbErr, reason: ErrorReason, message: &str) -> Self {
        match err.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => {
                Self::Conflict(reason, message.to_owned())
            }
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
