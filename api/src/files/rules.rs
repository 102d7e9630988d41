//! Storing photos with the step or wish they belong to, and fetching one for a viewer.

use entity::upload;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ConnectionTrait, DatabaseConnection, EntityTrait,
    QueryOrder, QuerySelect,
};

use crate::auth::AuthUser;
use crate::core::db::get;
use crate::core::error::{AppError, AppResult};
use crate::files::images::Image;

/// Most photos of an incident's report or handling step.
pub const MAX_PER_STEP: usize = 6;
/// Most photos of a wish's fulfilment.
pub const MAX_PER_WISH: usize = 9;

/// What a set of photos is attached to.
#[derive(Clone, Copy)]
pub enum Attach {
    IncidentStep { incident_id: i64, step_id: i64 },
    Wish(i64),
}

/// Stores photos in the caller's transaction, in order.
pub async fn store(
    txn: &impl ConnectionTrait,
    to: Attach,
    uploader: &AuthUser,
    photos: Vec<Image>,
) -> AppResult<()> {
    let now = crate::core::clock::now();
    for (position, p) in photos.into_iter().enumerate() {
        // A pending upload is attached once: taken out in this transaction.
        if let Some(pending) = p.pending_id {
            crate::files::pending::take(txn, uploader.id(), pending).await?;
        }
        let (incident_id, incident_step_id, wish_id) = match to {
            Attach::IncidentStep {
                incident_id,
                step_id,
            } => (Some(incident_id), Some(step_id), None),
            Attach::Wish(w) => (None, None, Some(w)),
        };
        upload::ActiveModel {
            media_type: Set(p.media_type.to_owned()),
            size: Set(i32::try_from(p.content.len()).map_err(AppError::internal)?),
            content: Set(p.content),
            width: Set(p.width as i32),
            height: Set(p.height as i32),
            thumbnail: Set(p.thumbnail),
            incident_id: Set(incident_id),
            incident_step_id: Set(incident_step_id),
            wish_id: Set(wish_id),
            position: Set(position as i32),
            uploaded_by: Set(uploader.id()),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(txn)
        .await?;
    }
    Ok(())
}

/// A photo's description, without its bytes.
#[derive(Clone, Debug, sea_orm::FromQueryResult)]
pub struct PhotoInfo {
    pub id: i64,
    pub media_type: String,
    pub size: i32,
    pub width: i32,
    pub height: i32,
    pub incident_id: Option<i64>,
    pub incident_step_id: Option<i64>,
    pub wish_id: Option<i64>,
    pub position: i32,
}

/// Photo descriptions, in step and position order.
pub fn infos() -> sea_orm::Select<upload::Entity> {
    upload::Entity::find()
        .select_only()
        .column(upload::Column::Id)
        .column(upload::Column::MediaType)
        .column(upload::Column::Size)
        .column(upload::Column::Width)
        .column(upload::Column::Height)
        .column(upload::Column::IncidentId)
        .column(upload::Column::IncidentStepId)
        .column(upload::Column::WishId)
        .column(upload::Column::Position)
        .order_by_asc(upload::Column::IncidentStepId)
        .order_by_asc(upload::Column::Position)
}

/// A stored photo with what it belongs to. Whether a viewer may have it is the owner's rule
/// (the incident's or the wish's policy), applied where it is served.
pub async fn find(db: &DatabaseConnection, id: i64) -> AppResult<upload::Model> {
    get::<upload::Entity, _>(db, id, "文件不存在").await
}
