//! Configuration, read from the command line and the environment by the binary.

use std::{net::SocketAddr, time::Duration};

use crate::core::error::AppError;

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Environment {
    Development,
    Production,
}

impl Environment {
    pub fn parse(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "development" | "dev" => Ok(Self::Development),
            "production" | "prod" => Ok(Self::Production),
            other => Err(format!(
                "unknown LIANXIN_ENV `{other}` (development or production)"
            )),
        }
    }
}

/// A secret that is never printed.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Minimum length of the JWT signing secret, in bytes.
pub const MIN_SECRET_LEN: usize = 32;

#[derive(Clone, Debug)]
pub struct Config {
    pub bind: SocketAddr,
    pub database_url: String,
    pub jwt_secret: Secret,
    pub environment: Environment,
    pub token_ttl: Duration,
    /// Allowed CORS origins; empty means any origin (development convenience).
    pub cors_origins: Vec<String>,
    pub request_timeout: Duration,
    pub body_limit: usize,
    /// Largest GraphQL multipart request (a spreadsheet to import, or up to 9 photos), in
    /// bytes. One file is at most 10 MB (a photo at most 5 MB, checked by its rule).
    pub upload_limit: usize,
    pub max_depth: usize,
    pub max_complexity: usize,
    /// Active wish claims a member may hold at once (`LIANXIN_MAX_ACTIVE_CLAIMS`).
    pub max_active_claims: u64,
    /// Largest estimated value of a wish, in yuan (`LIANXIN_MAX_WISH_VALUE`).
    pub max_wish_value: i32,
    /// Points deposited to the claimant when a wish is confirmed, per category.
    pub wish_points: WishPoints,
    /// Hours before a shift's start after which a sign-up can no longer be cancelled.
    pub cancel_hours: i64,
    /// No-shows in a slot's validity period after which a student may not sign up.
    pub max_no_shows: u64,
    /// Points deposited per hour of completed service.
    pub points_per_hour: i64,
    /// Hours a dispatched incident has to be accepted and handled, by urgency (normal,
    /// urgent, critical), when the dispatch names no deadline.
    pub incident_deadline_hours: [i64; 3],
    /// An npm `node_modules` folder holding GraphiQL and React (`LIANXIN_GRAPHIQL_ASSETS`);
    /// when unset, the GraphiQL page loads them from a CDN.
    pub graphiql_assets: Option<std::path::PathBuf>,
    /// Take the client address from the first `X-Forwarded-For` entry (behind a balancer
    /// that sets it) instead of the TCP peer.
    pub trust_forwarded_for: bool,
    /// A tracing span per resolver (async-graphql's Tracing extension).
    pub trace_resolvers: bool,
    /// Login attempts per username in a window (the 11th is refused).
    pub login_attempts_per_user: i64,
    /// Login attempts per client address in a window.
    pub login_attempts_per_address: i64,
    /// The login throttle's window.
    pub login_window: Duration,
    /// How long a refresh token may be traded (30 days).
    pub refresh_ttl: Duration,
    /// The WeChat mini-program's API (`jscode2session`, `stable_token`, the phone number):
    /// none disables `loginWithWeChat`.
    pub wechat: Option<WeChatConfig>,
    /// The address clients reach this server at (`https://api.example.cn`), for absolute
    /// photo URLs (a mini-program's `<image>` has no base); none: URLs are relative.
    pub public_base_url: Option<String>,
    /// Production accepts only these documents, by id (`--trusted-documents`).
    pub trusted_documents: Option<std::sync::Arc<TrustedDocuments>>,
    /// How long a pending upload waits to be attached (24 h).
    pub pending_upload_ttl: Duration,
    /// How long published events are kept for a subscription to resume after (24 h).
    pub event_retention: Duration,
    /// Notifications: templates, retries, the sender's lease.
    pub notify: NotifyConfig,
}

/// How notifications are delivered outside the app.
#[derive(Clone, Debug)]
pub struct NotifyConfig {
    /// The WeChat subscription-message template of each kind (`WISH_CLAIMED` → template id);
    /// a kind without one is not sent over WeChat (skipped with the reason).
    pub wechat_templates: std::collections::HashMap<String, String>,
    /// `miniprogram_state` of the messages: `formal`, `trial` or `developer`.
    pub miniprogram_state: String,
    /// Attempts per delivery before it is FAILED (5).
    pub max_attempts: i32,
    /// The first retry's delay; each next one doubles it (30 s).
    pub retry_base: Duration,
    /// How long a sender holds a delivery it took; after that another may take it (60 s).
    pub lease: Duration,
    /// Deliveries taken per round (50).
    pub batch: u64,
    /// Whether this server runs the sender (on by default; tests run it on demand).
    pub run_sender: bool,
    /// Tencent Cloud SMS, for urgent kinds; none: texts are skipped with the reason.
    pub sms: Option<SmsConfig>,
}

/// Tencent Cloud SMS (`SendSms`, API 3.0).
#[derive(Clone, Debug)]
pub struct SmsConfig {
    /// `https://sms.tencentcloudapi.com` (tests: a local stand-in).
    pub endpoint: String,
    pub secret_id: String,
    pub secret_key: Secret,
    /// The SMS application (`SmsSdkAppId`).
    pub sdk_app_id: String,
    /// The approved signature (签名).
    pub sign_name: String,
    /// `ap-guangzhou`.
    pub region: String,
    /// The approved template per notification kind.
    pub templates: std::collections::HashMap<String, String>,
    /// Texts per person per local day (5).
    pub daily_cap: u64,
}

impl Default for NotifyConfig {
    fn default() -> Self {
        Self {
            wechat_templates: std::collections::HashMap::new(),
            miniprogram_state: "formal".into(),
            max_attempts: 5,
            retry_base: Duration::from_secs(30),
            lease: Duration::from_secs(60),
            batch: 50,
            run_sender: true,
            sms: None,
        }
    }
}

/// The WeChat mini-program's credentials and the API's base address
/// (`https://api.weixin.qq.com`; tests point it at a local stand-in).
#[derive(Clone, Debug)]
pub struct WeChatConfig {
    pub api_base: String,
    pub app_id: String,
    pub app_secret: Secret,
}

/// Trusted documents by id: the front-ends' operations, registered ahead.
#[derive(Clone, Debug, Default)]
pub struct TrustedDocuments {
    pub by_id: std::collections::HashMap<String, String>,
    /// The SHA-256 of every trusted text, to admit a text sent in full.
    pub texts: std::collections::HashSet<String>,
}

/// Points for a confirmed wish, per category.
#[derive(Clone, Copy, Debug)]
pub struct WishPoints {
    pub goods: i64,
    pub service: i64,
    pub companionship: i64,
    pub other: i64,
}

impl Default for WishPoints {
    fn default() -> Self {
        Self {
            goods: 10,
            service: 15,
            companionship: 15,
            other: 10,
        }
    }
}

impl WishPoints {
    pub fn for_category(&self, c: entity::wish::WishCategory) -> i64 {
        use entity::wish::WishCategory::*;
        match c {
            Goods => self.goods,
            Service => self.service,
            Companionship => self.companionship,
            Other => self.other,
        }
    }

    /// Parses `GOODS=10,SERVICE=15,COMPANIONSHIP=15,OTHER=10` (any subset).
    pub fn parse(s: &str) -> Result<Self, String> {
        let mut p = Self::default();
        for part in s.split(',').map(str::trim).filter(|x| !x.is_empty()) {
            let (k, v) = part
                .split_once('=')
                .ok_or_else(|| format!("bad wish points `{part}`"))?;
            let v: i64 = v
                .trim()
                .parse()
                .map_err(|_| format!("bad wish points `{part}`"))?;
            if !(1..=1000).contains(&v) {
                return Err(format!("wish points must be 1..=1000: `{part}`"));
            }
            match k.trim() {
                "GOODS" => p.goods = v,
                "SERVICE" => p.service = v,
                "COMPANIONSHIP" => p.companionship = v,
                "OTHER" => p.other = v,
                other => return Err(format!("unknown wish category `{other}`")),
            }
        }
        Ok(p)
    }
}

impl Config {
    /// A configuration with the defaults, for the given database and secret.
    pub fn new(database_url: impl Into<String>, jwt_secret: Secret) -> Result<Self, AppError> {
        if jwt_secret.expose().len() < MIN_SECRET_LEN {
            return Err(AppError::bad_input(format!(
                "LIANXIN_JWT_SECRET must be at least {MIN_SECRET_LEN} bytes"
            )));
        }
        Ok(Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            database_url: database_url.into(),
            jwt_secret,
            environment: Environment::Development,
            token_ttl: Duration::from_secs(30 * 60),
            cors_origins: Vec::new(),
            request_timeout: Duration::from_secs(30),
            body_limit: 1024 * 1024,
            upload_limit: 48 * 1024 * 1024,
            max_depth: 12,
            max_complexity: 5000,
            max_active_claims: 3,
            max_wish_value: 500,
            wish_points: WishPoints::default(),
            cancel_hours: 12,
            max_no_shows: 2,
            points_per_hour: 5,
            incident_deadline_hours: [72, 24, 4],
            graphiql_assets: None,
            trust_forwarded_for: false,
            trace_resolvers: false,
            login_attempts_per_user: 10,
            login_attempts_per_address: 300,
            login_window: Duration::from_secs(600),
            refresh_ttl: Duration::from_secs(30 * 24 * 3600),
            wechat: None,
            public_base_url: None,
            trusted_documents: None,
            pending_upload_ttl: Duration::from_secs(24 * 3600),
            event_retention: Duration::from_secs(24 * 3600),
            notify: NotifyConfig::default(),
        })
    }

    pub fn is_production(&self) -> bool {
        self.environment == Environment::Production
    }
}

/// The default database: a SQLite file `lianxin.db` in the working directory.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://lianxin.db?mode=rwc";
