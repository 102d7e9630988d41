//! Business rules. Each function takes a connection (or opens a transaction), checks role,
//! scope and ownership for the acting user, and returns typed errors.

pub mod account;
pub mod alliance;
pub mod bank;
pub mod demo;
pub mod overview;
pub mod place;
pub mod registration;
pub mod schedule;
pub mod validate;
pub mod wish;

use sea_orm::{ConnectionTrait, EntityTrait, PrimaryKeyTrait};

use crate::error::{AppError, AppResult};

/// Loads a row by id or answers `NOT_FOUND` with `what` (e.g. "网格不存在").
pub async fn get<E, C>(db: &C, id: i64, missing: &'static str) -> AppResult<E::Model>
where
    E: EntityTrait,
    <E::PrimaryKey as PrimaryKeyTrait>::ValueType: From<i64>,
    C: ConnectionTrait,
{
    E::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound(missing))
}
