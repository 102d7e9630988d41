//! HTTP: the router and its layers, the GraphQL handler, WebSocket, calendar route,
//! GraphiQL and metrics.

pub mod app;
pub mod gate;
pub mod graphiql;
pub mod pipeline;
pub mod rest;
pub mod sse;
pub mod upload;
pub mod uploads;
pub mod ws;
