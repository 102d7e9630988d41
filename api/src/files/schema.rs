//! Photos in the schema: the `Photo` object with its signed links, and reading `Upload`s.

use std::io::Read;

use async_graphql::{Context, ID, Object, Upload};

use crate::auth;
use crate::core::error::{AppError, AppResult};
use crate::files::images::{self, Image};
use crate::files::rules::PhotoInfo;
use crate::graphql::context::{config, viewer};

/// An uploaded photo.
pub struct Photo(pub PhotoInfo);

impl Photo {
    /// The photo's link for the viewer of the request.
    pub fn url_for(&self, ctx: &Context<'_>) -> AppResult<String> {
        self.link(ctx, "")
    }

    fn link(&self, ctx: &Context<'_>, suffix: &str) -> AppResult<String> {
        let who = viewer(ctx).user().map(|u| (u.id(), u.user.token_version));
        let token = auth::issue_file_link(config(ctx)?, self.0.id, who)?;
        let base = config(ctx)?
            .public_base_url
            .as_deref()
            .unwrap_or("")
            .trim_end_matches('/');
        Ok(format!("{base}/files/{}{suffix}?access={token}", self.0.id))
    }
}

/// An uploaded photo: checked JPEG, PNG or WebP, metadata (EXIF, GPS) removed, with a thumbnail of at most 320 px. Its links work for an hour and only for the viewer who read them, while that viewer may still see what the photo belongs to; `GET /files/{id}` with an `Authorization` header works too.
#[Object]
impl Photo {
    /// The id of the photo.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// `image/jpeg` or `image/png`.
    async fn media_type(&self) -> &str {
        &self.0.media_type
    }
    /// Its size in bytes.
    async fn size(&self) -> i32 {
        self.0.size
    }
    /// Its width in pixels.
    async fn width(&self) -> i32 {
        self.0.width
    }
    /// Its height in pixels.
    async fn height(&self) -> i32 {
        self.0.height
    }
    /// A link to the photo (relative to the server, valid for an hour).
    async fn url(&self, ctx: &Context<'_>) -> AppResult<String> {
        self.link(ctx, "")
    }
    /// A link to its thumbnail (at most 320 px wide and high; valid for an hour).
    async fn thumbnail_url(&self, ctx: &Context<'_>) -> AppResult<String> {
        self.link(ctx, "/thumb")
    }
}

/// Reads and checks the photos of an input: files sent with the request (`Upload`), then the caller's pending uploads named by id (`photoUploadIds`, `POST /uploads`), at most `max` in all, each an image of at most 5 MB. Decoding runs off the async threads.
pub async fn read_photos(
    ctx: &Context<'_>,
    field: &'static str,
    uploads: Option<Vec<Upload>>,
    upload_ids: Option<Vec<ID>>,
    purpose: crate::files::pending::UploadPurpose,
    max: usize,
) -> AppResult<Vec<Image>> {
    let uploads = uploads.unwrap_or_default();
    let upload_ids = upload_ids.unwrap_or_default();
    if uploads.len() + upload_ids.len() > max {
        return Err(AppError::bad_field(field, format!("最多 {max} 张照片")));
    }
    let mut ids = Vec::with_capacity(upload_ids.len());
    for id in &upload_ids {
        ids.push(crate::graphql::context::parse_id("photoUploadIds", id)?);
    }
    let pending = if ids.is_empty() {
        Vec::new()
    } else {
        let owner = viewer(ctx).require()?.id();
        crate::files::pending::photos(crate::graphql::context::db(ctx)?, owner, purpose, &ids)
            .await?
    };
    let mut out = Vec::with_capacity(uploads.len());
    for upload in uploads {
        let value = upload
            .value(ctx)
            .map_err(|_| AppError::bad_field(field, "未收到文件"))?;
        let too_big = || AppError::bad_field(field, "每张照片不能超过 5 MB");
        if value.size().map_err(AppError::internal)? > images::MAX_BYTES as u64 {
            return Err(too_big());
        }
        let mut bytes = Vec::new();
        value
            .into_read()
            .take(images::MAX_BYTES as u64 + 1)
            .read_to_end(&mut bytes)
            .map_err(AppError::internal)?;
        let image = tokio::task::spawn_blocking(move || images::process(field, &bytes))
            .await
            .map_err(AppError::internal)??;
        out.push(image);
    }
    out.extend(pending);
    Ok(out)
}
