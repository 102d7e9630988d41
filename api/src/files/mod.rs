//! Uploaded photos (incident reports and handling, wish fulfilment): checked by content,
//! metadata stripped, thumbnailed, kept in the database. They are served by `GET /files/{id}`
//! (in `http`) to those the owning object's policy lets see it — the incident's or the
//! wish's: a photo has no rule of its own.

pub mod images;
pub mod loaders;
pub mod pending;
pub mod rules;
pub mod schema;
