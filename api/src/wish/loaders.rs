//! Batch loads of micro-wishes.

use std::collections::HashMap;

use async_graphql::dataloader::Loader;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::core::error::AppError;
use crate::graphql::loaders::Db;
use crate::graphql::loaders::group;
use entity::wish_claim;

/// Claim history of a wish, oldest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ClaimsOfWish(pub i64);

impl Loader<ClaimsOfWish> for Db {
    type Value = Vec<wish_claim::Model>;
    type Error = AppError;

    async fn load(
        &self,
        keys: &[ClaimsOfWish],
    ) -> Result<HashMap<ClaimsOfWish, Self::Value>, AppError> {
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let rows = wish_claim::Entity::find()
            .filter(wish_claim::Column::WishId.is_in(ids))
            .order_by_asc(wish_claim::Column::Id)
            .all(self.conn().await)
            .await?;
        Ok(group(rows, |r| ClaimsOfWish(r.wish_id)))
    }
}
