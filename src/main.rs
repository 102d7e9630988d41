//! The `lianxin` binary: thin; parses the command line and calls into `api`.

use std::{net::SocketAddr, path::PathBuf, process::ExitCode, time::Duration};

use api::{
    Application, Config,
    config::{DEFAULT_DATABASE_URL, Environment, Secret, WishPoints},
    core::db,
    demo, schema,
};
use clap::{Args, Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "lianxin",
    version,
    about = "连心 lianxin — community party-building GraphQL API"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Clone)]
struct DbArgs {
    /// Database URL: `sqlite://file.db?mode=rwc` or `postgres://user@host/db`.
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
    database_url: String,
}

/// Business rules that a district may tune.
#[derive(Args, Clone)]
struct RuleArgs {
    /// Active wish claims a party member may hold at once.
    #[arg(long, env = "LIANXIN_MAX_ACTIVE_CLAIMS", default_value_t = 3)]
    max_active_claims: u64,
    /// Largest estimated value of a wish, in yuan.
    #[arg(long, env = "LIANXIN_MAX_WISH_VALUE", default_value_t = 500)]
    max_wish_value: i32,
    /// Points for a confirmed wish per category (a category left out keeps its default).
    #[arg(
        long,
        env = "LIANXIN_WISH_POINTS",
        default_value = "GOODS=10,SERVICE=15,COMPANIONSHIP=15,OTHER=10"
    )]
    wish_points: String,
    /// Hours before a shift's start after which a sign-up can no longer be cancelled.
    #[arg(long, env = "LIANXIN_CANCEL_HOURS", default_value_t = 12)]
    cancel_hours: i64,
    /// No-shows within a slot's validity period that block new sign-ups.
    #[arg(long, env = "LIANXIN_MAX_NO_SHOWS", default_value_t = 2)]
    max_no_shows: u64,
    /// Points deposited per hour of completed service.
    #[arg(long, env = "LIANXIN_POINTS_PER_HOUR", default_value_t = 5)]
    points_per_hour: i64,
}

// Parsed once at start: the size of `Serve` (its many settings) costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum Command {
    /// Runs the server (migrations run at start).
    Serve {
        #[arg(long, env = "LIANXIN_BIND", default_value = "127.0.0.1:8080")]
        bind: SocketAddr,
        #[command(flatten)]
        db: DbArgs,
        /// Fill an empty database with demo data and print the demo accounts.
        #[arg(long, env = "LIANXIN_DEMO")]
        demo: bool,
        /// Token signing secret (at least 32 bytes); required unless --demo.
        #[arg(long, env = "LIANXIN_JWT_SECRET", hide_env_values = true)]
        jwt_secret: Option<String>,
        /// `development` (GraphiQL on) or `production` (GraphiQL, introspection and suggestions off).
        #[arg(long = "env", env = "LIANXIN_ENV", default_value = "development")]
        environment: String,
        /// Access token lifetime in minutes (refresh it with `refreshToken`).
        #[arg(long, env = "LIANXIN_TOKEN_TTL_MINUTES", default_value_t = 30)]
        token_ttl_minutes: u64,
        /// Refresh token lifetime in days.
        #[arg(long, env = "LIANXIN_REFRESH_TTL_DAYS", default_value_t = 30)]
        refresh_ttl_days: u64,
        /// The WeChat API's base address (`https://api.weixin.qq.com`); with the app id and
        /// secret it enables `loginWithWeChat`.
        #[arg(
            long,
            env = "LIANXIN_WECHAT_API_BASE",
            default_value = "https://api.weixin.qq.com"
        )]
        wechat_api_base: String,
        /// The mini-program's AppID.
        #[arg(long, env = "LIANXIN_WECHAT_APP_ID")]
        wechat_app_id: Option<String>,
        /// The mini-program's AppSecret.
        #[arg(long, env = "LIANXIN_WECHAT_APP_SECRET", hide_env_values = true)]
        wechat_app_secret: Option<String>,
        /// WeChat subscription-message templates per notification kind, comma-separated
        /// (`WISH_CLAIMED=<template id>,INCIDENT_DISPATCHED=<template id>`); a kind without one
        /// is not sent over WeChat.
        #[arg(long, env = "LIANXIN_WECHAT_TEMPLATES")]
        wechat_templates: Option<String>,
        /// Tencent Cloud SMS endpoint (texts for urgent notifications).
        #[arg(
            long,
            env = "LIANXIN_SMS_ENDPOINT",
            default_value = "https://sms.tencentcloudapi.com"
        )]
        sms_endpoint: String,
        /// Tencent Cloud SecretId; with the key, the app id and the sign name it enables texts.
        #[arg(long, env = "LIANXIN_SMS_SECRET_ID")]
        sms_secret_id: Option<String>,
        /// Tencent Cloud SecretKey.
        #[arg(long, env = "LIANXIN_SMS_SECRET_KEY", hide_env_values = true)]
        sms_secret_key: Option<String>,
        /// The SMS application (`SmsSdkAppId`).
        #[arg(long, env = "LIANXIN_SMS_SDK_APP_ID")]
        sms_sdk_app_id: Option<String>,
        /// The approved SMS signature (签名).
        #[arg(long, env = "LIANXIN_SMS_SIGN_NAME")]
        sms_sign_name: Option<String>,
        /// Tencent Cloud region.
        #[arg(long, env = "LIANXIN_SMS_REGION", default_value = "ap-guangzhou")]
        sms_region: String,
        /// SMS template per notification kind, comma-separated (`INCIDENT_OVERDUE=<id>`).
        #[arg(long, env = "LIANXIN_SMS_TEMPLATES")]
        sms_templates: Option<String>,
        /// Texts per person per local day.
        #[arg(long, env = "LIANXIN_SMS_DAILY_CAP", default_value_t = 5)]
        sms_daily_cap: u64,
        /// `miniprogram_state` of subscription messages: `formal`, `trial` or `developer`.
        #[arg(
            long,
            env = "LIANXIN_WECHAT_MINIPROGRAM_STATE",
            default_value = "formal"
        )]
        wechat_miniprogram_state: String,
        /// The address clients reach this server at (`https://api.example.cn`), for absolute
        /// photo URLs.
        #[arg(long, env = "LIANXIN_PUBLIC_BASE_URL")]
        public_base_url: Option<String>,
        /// Trusted documents, comma-separated: JSON manifests (`{ "<id>": "<document>" }`,
        /// as graphql-codegen's persisted-documents output writes them) or folders of
        /// `.graphql` files (each addressed by the SHA-256 of its text, e.g.
        /// `docs/operations`). In production only these run.
        #[arg(long, env = "LIANXIN_TRUSTED_DOCUMENTS", value_delimiter = ',')]
        trusted_documents: Vec<PathBuf>,
        /// Allowed CORS origins, comma-separated; empty allows any origin.
        #[arg(long, env = "LIANXIN_CORS_ORIGINS", value_delimiter = ',')]
        cors_origins: Vec<String>,
        /// Request timeout in seconds.
        #[arg(long, env = "LIANXIN_REQUEST_TIMEOUT_SECS", default_value_t = 30)]
        request_timeout_secs: u64,
        /// Serve GraphiQL's scripts from this npm `node_modules` folder instead of a CDN
        /// (`npm ci --prefix api/graphiql`, then `api/graphiql/node_modules`).
        #[arg(long, env = "LIANXIN_GRAPHIQL_ASSETS")]
        graphiql_assets: Option<PathBuf>,
        /// Take the client address for the login throttle from the first X-Forwarded-For
        /// entry (only behind a balancer that sets it).
        #[arg(long, env = "LIANXIN_TRUST_FORWARDED_FOR")]
        trust_forwarded_for: bool,
        /// A tracing span per resolver (async-graphql's Tracing extension), under each
        /// request's span: follow one request field by field with RUST_LOG=debug. Off by
        /// default (it costs a span per field).
        #[arg(long, env = "LIANXIN_TRACE_RESOLVERS")]
        trace_resolvers: bool,
        /// Login attempts per username in 10 minutes.
        #[arg(long, env = "LIANXIN_LOGIN_ATTEMPTS_PER_USER", default_value_t = 10)]
        login_attempts_per_user: i64,
        /// Login attempts per client address in 10 minutes.
        #[arg(
            long,
            env = "LIANXIN_LOGIN_ATTEMPTS_PER_ADDRESS",
            default_value_t = 300
        )]
        login_attempts_per_address: i64,
        #[command(flatten)]
        rules: RuleArgs,
    },
    /// Runs the database migrations and exits.
    Migrate {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Writes the GraphQL schema (SDL) to a file, or checks that the file matches.
    ExportSchema {
        #[arg(long, default_value = "schema.graphql")]
        output: PathBuf,
        /// Fail if the file differs from the schema instead of writing it.
        #[arg(long)]
        check: bool,
    },
    /// Creates an ADMIN account (or resets its password).
    CreateAdmin {
        #[command(flatten)]
        db: DbArgs,
        #[arg(long)]
        username: String,
        #[arg(long, env = "LIANXIN_ADMIN_PASSWORD", hide_env_values = true)]
        password: String,
    },
}

/// mimalloc instead of glibc's malloc: with many short-lived allocations on several threads
/// (tokio workers and SQLite's connection threads), glibc spent a quarter of the server's CPU
/// in malloc/free and arena consolidation under load (benchmark profile).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    api::core::telemetry::init("info,sqlx=warn");
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve {
            bind,
            db,
            demo,
            jwt_secret,
            environment,
            token_ttl_minutes,
            refresh_ttl_days,
            wechat_api_base,
            wechat_app_id,
            wechat_app_secret,
            wechat_templates,
            wechat_miniprogram_state,
            sms_endpoint,
            sms_secret_id,
            sms_secret_key,
            sms_sdk_app_id,
            sms_sign_name,
            sms_region,
            sms_templates,
            sms_daily_cap,
            public_base_url,
            trusted_documents,
            cors_origins,
            request_timeout_secs,
            graphiql_assets,
            trust_forwarded_for,
            trace_resolvers,
            login_attempts_per_user,
            login_attempts_per_address,
            rules,
        } => {
            let environment = Environment::parse(&environment).map_err(anyhow::Error::msg)?;
            let secret = match (jwt_secret, demo) {
                (Some(s), _) => s,
                // Generated on the first start and kept with the database.
                (None, true) => {
                    let (conn, _) = db::connect(&db.database_url).await?;
                    db::migrate(&conn).await?;
                    let secret = api::auth::demo_secret(&conn)
                        .await
                        .map_err(|e| anyhow::anyhow!(e.message()))?;
                    conn.close().await.ok();
                    secret
                }
                (None, false) => anyhow::bail!(
                    "LIANXIN_JWT_SECRET is required (at least 32 bytes) unless --demo"
                ),
            };
            let mut config = Config::new(db.database_url, Secret::new(secret))
                .map_err(|e| anyhow::anyhow!(e.message()))?;
            config.bind = bind;
            config.environment = environment;
            config.token_ttl = Duration::from_secs(token_ttl_minutes.clamp(1, 24 * 60) * 60);
            config.refresh_ttl = Duration::from_secs(refresh_ttl_days.clamp(1, 365) * 24 * 3600);
            if let (Some(app_id), Some(secret)) = (wechat_app_id, wechat_app_secret) {
                config.wechat = Some(api::config::WeChatConfig {
                    api_base: wechat_api_base,
                    app_id,
                    app_secret: Secret::new(secret),
                });
            }
            config.public_base_url = public_base_url;
            config.notify.wechat_templates =
                templates_by_kind("--wechat-templates", wechat_templates.as_deref())?;
            if !["formal", "trial", "developer"].contains(&wechat_miniprogram_state.as_str()) {
                anyhow::bail!("--wechat-miniprogram-state must be formal, trial or developer");
            }
            config.notify.miniprogram_state = wechat_miniprogram_state;
            if let (Some(id), Some(key), Some(app), Some(sign)) =
                (sms_secret_id, sms_secret_key, sms_sdk_app_id, sms_sign_name)
            {
                let templates = templates_by_kind("--sms-templates", sms_templates.as_deref())?;
                config.notify.sms = Some(api::config::SmsConfig {
                    endpoint: sms_endpoint,
                    secret_id: id,
                    secret_key: Secret::new(key),
                    sdk_app_id: app,
                    sign_name: sign,
                    region: sms_region,
                    templates,
                    daily_cap: sms_daily_cap.max(1),
                });
            }
            if !trusted_documents.is_empty() {
                let manifest = api::graphql::trusted::load(&trusted_documents)?;
                println!("trusted documents: {}", manifest.by_id.len());
                config.trusted_documents = Some(std::sync::Arc::new(manifest));
            }
            config.cors_origins = cors_origins
                .into_iter()
                .filter(|o| !o.trim().is_empty())
                .collect();
            config.request_timeout = Duration::from_secs(request_timeout_secs.max(1));
            config.graphiql_assets = graphiql_assets;
            config.trust_forwarded_for = trust_forwarded_for;
            config.trace_resolvers = trace_resolvers;
            config.login_attempts_per_user = login_attempts_per_user.max(1);
            config.login_attempts_per_address = login_attempts_per_address.max(1);
            config.max_active_claims = rules.max_active_claims.max(1);
            if !(0..=100_000).contains(&rules.max_wish_value) {
                anyhow::bail!("LIANXIN_MAX_WISH_VALUE must be 0..=100000");
            }
            config.max_wish_value = rules.max_wish_value;
            config.wish_points =
                WishPoints::parse(&rules.wish_points).map_err(anyhow::Error::msg)?;
            if !(0..=720).contains(&rules.cancel_hours)
                || !(0..=1000).contains(&rules.points_per_hour)
            {
                anyhow::bail!(
                    "LIANXIN_CANCEL_HOURS must be 0..=720 and LIANXIN_POINTS_PER_HOUR 0..=1000"
                );
            }
            config.cancel_hours = rules.cancel_hours;
            config.max_no_shows = rules.max_no_shows.max(1);
            config.points_per_hour = rules.points_per_hour;
            let app = Application::build(config).await?;
            if demo {
                if demo::is_empty(&app.state.db)
                    .await
                    .map_err(|e| anyhow::anyhow!(e.message()))?
                {
                    let accounts = demo::seed(&app.state.db, &app.state.config)
                        .await
                        .map_err(|e| anyhow::anyhow!("demo data: {:?}", e))?;
                    println!(
                        "demo data written; every account's password is `{}`:",
                        demo::DEMO_PASSWORD
                    );
                    for a in accounts {
                        println!("  {:<12} {}", a.username, a.description);
                    }
                } else {
                    println!(
                        "the database already has data: demo data not written; the demo accounts (password `{}`) are:",
                        demo::DEMO_PASSWORD
                    );
                    for a in demo::accounts() {
                        println!("  {:<12} {}", a.username, a.description);
                    }
                }
            }
            let listener = app.bind().await?;
            let addr = listener.local_addr()?;
            tracing::info!(%addr, "lianxin listening; GraphQL at http://{addr}/graphql");
            println!("lianxin listening on http://{addr}/graphql");
            app.run_until_stopped(listener).await
        }
        Command::Migrate { db } => {
            let (conn, _) = db::connect(&db.database_url).await?;
            db::migrate(&conn).await?;
            println!("migrations applied");
            Ok(())
        }
        Command::ExportSchema { output, check } => {
            let sdl = schema::sdl();
            if check {
                let current = std::fs::read_to_string(&output).unwrap_or_default();
                if current != sdl {
                    anyhow::bail!(
                        "{} is out of date: run `lianxin export-schema`",
                        output.display()
                    );
                }
                println!("{} is up to date", output.display());
            } else {
                std::fs::write(&output, sdl)?;
                println!("wrote {}", output.display());
            }
            Ok(())
        }
        Command::CreateAdmin {
            db,
            username,
            password,
        } => {
            let (conn, _) = db::connect(&db.database_url).await?;
            db::migrate(&conn).await?;
            let user = api::account::rules::ensure_admin(&conn, &username, &password)
                .await
                .map_err(|e| anyhow::anyhow!(e.message()))?;
            println!("admin `{}` ready (id {})", user.username, user.id);
            Ok(())
        }
    }
}

/// A `KIND=template,KIND=template` list of a flag (`--wechat-templates`), checked against the
/// notification kinds.
fn templates_by_kind(
    flag: &str,
    text: Option<&str>,
) -> anyhow::Result<std::collections::HashMap<String, String>> {
    let mut out = std::collections::HashMap::new();
    for pair in text
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        let (kind, template) = pair
            .split_once('=')
            .ok_or_else(|| anyhow::anyhow!("bad {flag} entry `{pair}` (KIND=template)"))?;
        let kind = kind.trim().to_ascii_uppercase();
        if api::notify::kinds::Kind::parse(&kind).is_none() {
            anyhow::bail!("unknown notification kind `{kind}` in {flag}");
        }
        out.insert(kind, template.trim().to_owned());
    }
    Ok(out)
}
