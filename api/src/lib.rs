//! lianxin (连心): a GraphQL API for community party-building and volunteer coordination.
//!
//! The house is split by domain first: each domain folder holds its GraphQL `schema`, its
//! business `rules` (no GraphQL), its read-and-write `policy`, its batch `loaders` and its
//! `events`. `core`, `auth`, `graphql` and `http` are shared plumbing; `nodes` holds the node
//! types every domain returns (users, places, organisations).

pub mod auth;
pub mod core;
pub mod graphql;
pub mod http;
pub mod nodes;
pub mod notify;
pub mod people;

pub mod account;
pub mod alliance;
pub mod bank;
pub mod files;
pub mod incident;
pub mod overview;
pub mod places;
pub mod registration;
pub mod schedule;
pub mod wish;

pub mod demo;

/// The roof: the schema merged from every domain (only `http` and the binary use it).
pub mod schema;

pub use core::config::{self, Config};
pub use http::app::Application;
