//! Batch loads of photos: one statement for every incident or wish of a page.

use std::collections::HashMap;

use async_graphql::dataloader::Loader;
use entity::upload;
use sea_orm::{ColumnTrait, QueryFilter};

use crate::core::error::AppError;
use crate::files::rules::{PhotoInfo, infos};
use crate::graphql::loaders::{Db, group};

/// An incident's photos, step by step and in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PhotosOfIncident(pub i64);

/// A wish's fulfilment photos, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PhotosOfWish(pub i64);

impl Loader<PhotosOfIncident> for Db {
    type Value = Vec<PhotoInfo>;
    type Error = AppError;

    async fn load(
        &self,
        keys: &[PhotosOfIncident],
    ) -> Result<HashMap<PhotosOfIncident, Self::Value>, AppError> {
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let rows = infos()
            .filter(upload::Column::IncidentId.is_in(ids))
            .into_model::<PhotoInfo>()
            .all(self.conn().await)
            .await?;
        Ok(group(rows, |r| {
            PhotosOfIncident(r.incident_id.unwrap_or_default())
        }))
    }
}

impl Loader<PhotosOfWish> for Db {
    type Value = Vec<PhotoInfo>;
    type Error = AppError;

    async fn load(
        &self,
        keys: &[PhotosOfWish],
    ) -> Result<HashMap<PhotosOfWish, Self::Value>, AppError> {
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let rows = infos()
            .filter(upload::Column::WishId.is_in(ids))
            .into_model::<PhotoInfo>()
            .all(self.conn().await)
            .await?;
        Ok(group(rows, |r| PhotosOfWish(r.wish_id.unwrap_or_default())))
    }
}
