//! HTTP: the router and its layers, the GraphQL handler, WebSocket, calendar route,
//! GraphiQL and metrics.

pub mod app;
pub mod graphiql;
pub mod metrics;
