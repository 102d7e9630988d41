//! Batch loads of the moral bank.

use std::collections::HashMap;

use async_graphql::dataloader::Loader;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::core::error::AppError;
use crate::graphql::loaders::Db;
use crate::graphql::loaders::by_id;
use entity::{good_deed_category, ledger_entry, passbook, redemption, reward};

by_id!(PassbookKey, passbook);
by_id!(RewardKey, reward);
by_id!(DeedCategoryKey, good_deed_category);
by_id!(LedgerEntryKey, ledger_entry);

/// The redemption a ledger entry paid for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RedemptionOfEntry(pub i64);

impl Loader<RedemptionOfEntry> for Db {
    type Value = redemption::Model;
    type Error = AppError;

    async fn load(
        &self,
        keys: &[RedemptionOfEntry],
    ) -> Result<HashMap<RedemptionOfEntry, Self::Value>, AppError> {
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let rows = redemption::Entity::find()
            .filter(redemption::Column::LedgerEntryId.is_in(ids))
            .all(self.conn().await)
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| (RedemptionOfEntry(r.ledger_entry_id), r))
            .collect())
    }
}

/// The reversal of a ledger entry, if any.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ReversalOf(pub i64);

impl Loader<ReversalOf> for Db {
    type Value = ledger_entry::Model;
    type Error = AppError;

    async fn load(
        &self,
        keys: &[ReversalOf],
    ) -> Result<HashMap<ReversalOf, Self::Value>, AppError> {
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let rows = ledger_entry::Entity::find()
            .filter(ledger_entry::Column::ReversesEntryId.is_in(ids))
            .all(self.conn().await)
            .await?;
        Ok(rows
            .into_iter()
            .filter_map(|r| r.reverses_entry_id.map(|k| (ReversalOf(k), r)))
            .collect())
    }
}
