//! The GraphQL plumbing every domain uses: the request context (viewer, database, loaders),
//! the live viewer of a connection, scalars, error codes, guards and null propagation. The
//! roots are merged by the roof (`schema.rs`, at the top). Resolvers stay thin: parse input, ask the
//! domain's policy, call its rules, shape the payload.

pub mod context;
pub mod errors;
pub mod guard;
pub mod live;
pub mod loaders;
pub mod nulls;
pub mod order;
pub mod scalars;
pub mod state;
pub mod trusted;
