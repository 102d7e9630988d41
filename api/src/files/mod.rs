//! Uploaded photos (incident reports and handling, wish fulfilment): checked by content,
//! metadata stripped, thumbnailed, kept in the database and served by `GET /files/{id}` to
//! those the owning object's policy lets see it.

pub mod images;
pub mod loaders;
pub mod policy;
pub mod rules;
pub mod schema;
