//! Uploads in two steps, for clients that send one file per request (`wx.uploadFile`):
//! `POST /uploads` checks a file as the multipart path does and keeps it as a pending upload
//! of its owner; a mutation names it by id (`photoUploadIds`, `fileUploadId`) and takes it
//! out in its own transaction (attached once). Another user's id, one of another purpose or
//! one already attached is `NOT_FOUND` (`UPLOAD_NOT_FOUND`). Those never attached are removed
//! after `Config::pending_upload_ttl` (24 h) by [`expire`].

use entity::pending_upload;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, Set,
};

use crate::core::error::{AppError, AppResult, ErrorCode, ErrorReason};
use crate::files::images::{self, Image};

/// What a pending upload is for (the `purpose` field of `POST /uploads`).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum UploadPurpose {
    /// A photo of an incident's report or handling.
    IncidentPhoto,
    /// A photo of a wish's fulfilment.
    WishPhoto,
    /// A spreadsheet for `importPeople` (.xlsx or UTF-8 .csv).
    PeopleImport,
}

impl UploadPurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::IncidentPhoto => "INCIDENT_PHOTO",
            Self::WishPhoto => "WISH_PHOTO",
            Self::PeopleImport => "PEOPLE_IMPORT",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text.trim() {
            "INCIDENT_PHOTO" => Some(Self::IncidentPhoto),
            "WISH_PHOTO" => Some(Self::WishPhoto),
            "PEOPLE_IMPORT" => Some(Self::PeopleImport),
            _ => None,
        }
    }
}

/// The largest spreadsheet uploaded on its own, in bytes.
pub const MAX_FILE_BYTES: usize = 10 * 1024 * 1024;
/// Pending uploads a person may have at once.
pub const MAX_PENDING: u64 = 30;

fn not_found() -> AppError {
    AppError::refused(
        ErrorCode::NotFound,
        ErrorReason::UploadNotFound,
        "上传的文件不存在、已使用或已过期",
    )
}

/// A stored pending upload, as answered to the client.
pub struct Stored {
    pub id: i64,
    pub media_type: String,
    pub size: usize,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// Checks a file for its purpose (images: type by content, size, pixel budget, metadata
/// removed, thumbnail; spreadsheets: .xlsx or UTF-8 text, size) and keeps it for its owner.
pub async fn keep(
    db: &DatabaseConnection,
    owner: i64,
    purpose: UploadPurpose,
    bytes: Vec<u8>,
) -> AppResult<Stored> {
    let pending = pending_upload::Entity::find()
        .filter(pending_upload::Column::OwnerId.eq(owner))
        .count(db)
        .await?;
    if pending >= MAX_PENDING {
        return Err(AppError::bad_field(
            "file",
            format!("最多保留 {MAX_PENDING} 个未使用的上传，请先使用或等待过期"),
        ));
    }
    let now = crate::core::clock::now();
    let row = match purpose {
        UploadPurpose::IncidentPhoto | UploadPurpose::WishPhoto => {
            let image = tokio::task::spawn_blocking(move || images::process("file", &bytes))
                .await
                .map_err(AppError::internal)??;
            pending_upload::ActiveModel {
                owner_id: Set(owner),
                purpose: Set(purpose.as_str().to_owned()),
                media_type: Set(image.media_type.to_owned()),
                size: Set(i32::try_from(image.content.len()).map_err(AppError::internal)?),
                content: Set(image.content),
                width: Set(Some(image.width as i32)),
                height: Set(Some(image.height as i32)),
                thumbnail: Set(Some(image.thumbnail)),
                created_at: Set(now),
                ..Default::default()
            }
        }
        UploadPurpose::PeopleImport => {
            if bytes.is_empty() || bytes.len() > MAX_FILE_BYTES {
                return Err(AppError::bad_field("file", "文件为空或超过 10 MB"));
            }
            let media_type = if bytes.starts_with(b"PK\x03\x04") {
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            } else if std::str::from_utf8(&bytes).is_ok() {
                "text/csv"
            } else {
                return Err(AppError::bad_field(
                    "file",
                    "只接受 .xlsx 或 UTF-8 编码的 .csv 文件",
                ));
            };
            pending_upload::ActiveModel {
                owner_id: Set(owner),
                purpose: Set(purpose.as_str().to_owned()),
                media_type: Set(media_type.to_owned()),
                size: Set(i32::try_from(bytes.len()).map_err(AppError::internal)?),
                content: Set(bytes),
                width: Set(None),
                height: Set(None),
                thumbnail: Set(None),
                created_at: Set(now),
                ..Default::default()
            }
        }
    };
    let row = row.insert(db).await?;
    Ok(Stored {
        id: row.id,
        media_type: row.media_type,
        size: row.size as usize,
        width: row.width.map(|w| w as u32),
        height: row.height.map(|h| h as u32),
        created_at: row.created_at,
    })
}

/// Reads the caller's pending uploads of `purpose` by id (in the order given), as images to
/// store; each is taken out when stored ([`take`]).
pub async fn photos(
    db: &DatabaseConnection,
    owner: i64,
    purpose: UploadPurpose,
    ids: &[i64],
) -> AppResult<Vec<Image>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut unique = ids.to_vec();
    unique.sort_unstable();
    unique.dedup();
    if unique.len() != ids.len() {
        return Err(AppError::bad_field(
            "photoUploadIds",
            "同一上传不能使用两次",
        ));
    }
    let rows = pending_upload::Entity::find()
        .filter(pending_upload::Column::Id.is_in(ids.to_vec()))
        .filter(pending_upload::Column::OwnerId.eq(owner))
        .all(db)
        .await?;
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        let row = rows.iter().find(|r| r.id == *id).ok_or_else(not_found)?;
        if row.purpose != purpose.as_str() {
            return Err(AppError::refused(
                ErrorCode::BadUserInput,
                ErrorReason::UploadWrongPurpose,
                "上传文件的用途不符",
            ));
        }
        let (Some(width), Some(height), Some(thumbnail)) =
            (row.width, row.height, row.thumbnail.clone())
        else {
            return Err(not_found());
        };
        out.push(Image {
            pending_id: Some(row.id),
            media_type: match row.media_type.as_str() {
                "image/png" => "image/png",
                "image/webp" => "image/webp",
                _ => "image/jpeg",
            },
            content: row.content.clone(),
            width: width as u32,
            height: height as u32,
            thumbnail,
        });
    }
    Ok(out)
}

/// The bytes of the caller's pending spreadsheet.
pub async fn file(db: &DatabaseConnection, owner: i64, id: i64) -> AppResult<Vec<u8>> {
    let row = pending_upload::Entity::find_by_id(id)
        .filter(pending_upload::Column::OwnerId.eq(owner))
        .one(db)
        .await?
        .ok_or_else(not_found)?;
    if row.purpose != UploadPurpose::PeopleImport.as_str() {
        return Err(AppError::refused(
            ErrorCode::BadUserInput,
            ErrorReason::UploadWrongPurpose,
            "上传文件的用途不符",
        ));
    }
    Ok(row.content)
}

/// Takes a pending upload out (in the attaching transaction): exactly once.
pub async fn take(db: &impl ConnectionTrait, owner: i64, id: i64) -> AppResult<()> {
    let done = pending_upload::Entity::delete_many()
        .filter(pending_upload::Column::Id.eq(id))
        .filter(pending_upload::Column::OwnerId.eq(owner))
        .exec(db)
        .await?;
    if done.rows_affected != 1 {
        return Err(not_found());
    }
    Ok(())
}

/// Removes pending uploads older than `ttl` (a job; any number of instances may run it).
pub async fn expire(db: &DatabaseConnection, ttl: std::time::Duration) -> AppResult<u64> {
    let before = crate::core::clock::now()
        - chrono::Duration::from_std(ttl).unwrap_or_else(|_| chrono::Duration::days(1));
    Ok(pending_upload::Entity::delete_many()
        .filter(pending_upload::Column::CreatedAt.lt(before))
        .exec(db)
        .await?
        .rows_affected)
}

/// Runs [`expire`] and the bus's [`crate::core::bus::prune`] every ten minutes.
pub fn spawn_housekeeping(
    db: DatabaseConnection,
    upload_ttl: std::time::Duration,
    event_retention: std::time::Duration,
) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(600));
        loop {
            tick.tick().await;
            if let Err(e) = expire(&db, upload_ttl).await {
                tracing::warn!(error = %e.message(), "pending uploads not expired");
            }
            if let Err(e) = crate::core::bus::prune(&db, event_retention).await {
                tracing::warn!(error = %e.message(), "events not pruned");
            }
        }
    });
}
