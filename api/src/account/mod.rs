//! Accounts: login, users and their roles, the person rule for personal data, the audit log.

pub mod audit;
pub mod import;
pub mod lifecycle;
pub mod notices;
pub mod policy;
pub mod privacy;
pub mod privacy_schema;
pub mod register;
pub mod roles;
pub mod rules;
pub mod schema;
pub mod sessions;
pub mod wechat;
