//! Shared plumbing: configuration, errors, the database (write transactions, statement
//! counting), pagination, input validation, masking and time.

pub mod bus;
pub mod cache;
pub mod clock;
pub mod config;
pub mod db;
pub mod error;
pub mod mask;
pub mod metrics;
pub mod pagination;
pub mod rows;
pub mod scope;
pub mod telemetry;
pub mod validate;
pub mod wechat;
