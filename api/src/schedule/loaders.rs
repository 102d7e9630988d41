//! Batch loads of schedules.

use std::collections::HashMap;

use async_graphql::dataloader::Loader;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::core::error::AppError;
use crate::graphql::loaders::Db;
use crate::graphql::loaders::by_id;
use crate::graphql::loaders::group;
use crate::graphql::loaders::grouped;
use entity::{service_slot, shift, shift_signup, slot_eligible_organization};

by_id!(SlotKey, service_slot);
by_id!(ShiftKey, shift);
grouped!(EligibleOrgsOf, slot_eligible_organization, SlotId, slot_id);

/// Sign-ups of a shift that are not cancelled, in sign-up order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SignupsOfShift(pub i64);

impl Loader<SignupsOfShift> for Db {
    type Value = Vec<shift_signup::Model>;
    type Error = AppError;

    async fn load(
        &self,
        keys: &[SignupsOfShift],
    ) -> Result<HashMap<SignupsOfShift, Self::Value>, AppError> {
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let rows = shift_signup::Entity::find()
            .filter(shift_signup::Column::ShiftId.is_in(ids))
            .filter(shift_signup::Column::Status.ne(entity::shift_signup::SignupStatus::Cancelled))
            .order_by_asc(shift_signup::Column::Id)
            .all(self.conn().await)
            .await?;
        Ok(group(rows, |r| SignupsOfShift(r.shift_id)))
    }
}
