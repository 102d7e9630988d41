//! lianxin (连心): a GraphQL API for community party-building and volunteer coordination.

pub mod app;
pub mod auth;
pub mod config;
pub mod db;
pub mod error;
pub mod events;
pub mod graphiql;
pub mod graphql;
pub mod metrics;
pub mod service;
pub mod state;
pub mod telemetry;

pub use app::Application;
pub use config::Config;
