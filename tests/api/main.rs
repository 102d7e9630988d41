//! One integration-test binary for the whole server. Runs on SQLite by default and on
//! PostgreSQL when `LIANXIN_TEST_DATABASE_URL=postgres://…` is set.

mod abuse;
mod access;
mod accounts;
mod alliances;
mod auth;
mod bank;
mod binary;
mod browser;
mod budgets;
mod contract;
mod doors;
mod frontend;
mod guessable;
mod hardening;
mod helpers;
mod import;
mod incidents;
mod integrity;
mod limits;
mod live;
mod meeting;
mod miniprogram;
mod operations;
mod patrols;
mod photos;
mod places;
mod privacy;
mod read_policy;
mod readme;
mod registration;
mod roles;
mod schedules;
mod sessions;
mod simulator;
mod wishes;
