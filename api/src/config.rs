//! Configuration, read from the command line and the environment by the binary.

use std::{net::SocketAddr, time::Duration};

use crate::error::AppError;

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
    pub max_depth: usize,
    pub max_complexity: usize,
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
            token_ttl: Duration::from_secs(12 * 3600),
            cors_origins: Vec::new(),
            request_timeout: Duration::from_secs(30),
            body_limit: 1024 * 1024,
            max_depth: 12,
            max_complexity: 5000,
        })
    }

    pub fn is_production(&self) -> bool {
        self.environment == Environment::Production
    }
}

/// The default database: a SQLite file `lianxin.db` in the working directory.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://lianxin.db?mode=rwc";
