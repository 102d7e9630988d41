//! The access log of personal data: each unmasked view of another person's phone or
//! address by an office holder, collected per request and written in one statement.

use std::sync::Mutex;

use entity::personal_data_access;
use sea_orm::{ActiveValue::Set, DatabaseConnection, EntityTrait};

use crate::auth::AuthUser;
use crate::core::error::AppResult;
use crate::people::policy;

/// Which personal value was shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Field {
    Phone,
    Address,
}

impl Field {
    fn as_str(self) -> &'static str {
        match self {
            Field::Phone => "PHONE",
            Field::Address => "ADDRESS",
        }
    }
}

/// One unmasked view, as the resolver that showed it describes it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct View {
    pub viewer_id: i64,
    pub subject_id: Option<i64>,
    pub field: Field,
    /// The schema path, e.g. `User.phone`.
    pub path: &'static str,
    /// The record it was read from, e.g. (`Wish`, 12).
    pub record: Option<(&'static str, i64)>,
}

impl View {
    /// The view of `subject`'s `field` by `viewer`, if the log keeps it: ADMIN, staff and grid
    /// workers looking at another person's value ([`policy::access_is_logged`]).
    pub fn of(
        viewer: Option<&AuthUser>,
        subject_id: Option<i64>,
        field: Field,
        path: &'static str,
        record: Option<(&'static str, i64)>,
    ) -> Option<View> {
        let viewer = viewer?;
        if subject_id == Some(viewer.id()) || !policy::access_is_logged(viewer) {
            return None;
        }
        Some(View {
            viewer_id: viewer.id(),
            subject_id,
            field,
            path,
            record,
        })
    }
}

/// The unmasked views of one request, written in one statement when it ends (each distinct
/// view once).
#[derive(Default)]
pub struct AccessLog {
    views: Mutex<Vec<View>>,
}

impl AccessLog {
    pub fn push(&self, view: View) {
        let mut views = self.views.lock().unwrap_or_else(|e| e.into_inner());
        if !views.contains(&view) {
            views.push(view);
        }
    }

    fn take(&self) -> Vec<View> {
        std::mem::take(&mut *self.views.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Writes the request's views (nothing when there are none).
    pub async fn flush(&self, db: &DatabaseConnection, request_id: Option<&str>) -> AppResult<()> {
        write(db, self.take(), request_id).await
    }
}

/// Writes views to the access log in one statement.
pub async fn write(
    db: &DatabaseConnection,
    views: Vec<View>,
    request_id: Option<&str>,
) -> AppResult<()> {
    if views.is_empty() {
        return Ok(());
    }
    let now = crate::core::clock::now();
    let rows = views
        .into_iter()
        .map(|v| personal_data_access::ActiveModel {
            viewer_id: Set(v.viewer_id),
            subject_id: Set(v.subject_id),
            field: Set(v.field.as_str().to_owned()),
            path: Set(v.path.to_owned()),
            record_type: Set(v.record.map(|r| r.0.to_owned())),
            record_id: Set(v.record.map(|r| r.1)),
            request_id: Set(request_id.map(|r| r.chars().take(100).collect())),
            created_at: Set(now),
            ..Default::default()
        });
    personal_data_access::Entity::insert_many(rows)
        .exec_without_returning(db)
        .await?;
    Ok(())
}
