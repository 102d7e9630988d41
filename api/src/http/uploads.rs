//! `POST /uploads`: one file as `wx.uploadFile` sends it — a `multipart/form-data` body with
//! the file part (any field name, with a `filename`) and the `formData` fields as text parts,
//! of which `purpose` (`INCIDENT_PHOTO`, `WISH_PHOTO` or `PEOPLE_IMPORT`) is required.
//!
//! The login gate first (`Authorization: Bearer …`: nothing of the body is read for a caller
//! it refuses); then the body's size ([`MAX_BODY`]) and its parts (at most [`MAX_PARTS`], no
//! name twice) before parsing; then the file's own checks ([`crate::files::pending::keep`]).
//! Answers `201` with `{"id", "purpose", "mediaType", "size", "width", "height",
//! "expiresAt"}`; refusals are coded as GraphQL errors are.

use std::convert::Infallible;

use axum::{
    Json,
    extract::State,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};

use super::gate;
use super::pipeline::Shared;
use crate::core::error::{AppError, ErrorCode};
use crate::files::pending::{self, UploadPurpose};

/// The largest body: a 10 MB file and its fields.
pub const MAX_BODY: usize = pending::MAX_FILE_BYTES + 64 * 1024;
/// The most parts of the body: the file and a few `formData` fields.
pub const MAX_PARTS: usize = 8;

pub(crate) async fn upload(
    State(shared): State<Shared>,
    headers: axum::http::HeaderMap,
    body: axum::body::Body,
) -> Response {
    let user = match gate::login(&shared.state, &headers).await {
        Ok(user) => user,
        Err(refusal) => return refusal,
    };
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let bad =
        |message: &str| gate::coded(StatusCode::BAD_REQUEST, ErrorCode::BadUserInput, message);
    let Ok(boundary) = multer::parse_boundary(&content_type) else {
        return bad("请以 multipart/form-data 上传文件");
    };
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY).await else {
        return gate::coded(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::BadUserInput,
            "文件过大",
        );
    };
    if let Err(refused) = super::upload::check(&content_type, &bytes, MAX_PARTS) {
        return bad(match refused {
            super::upload::Refused::TooManyParts(_) => "上传请求的部分过多",
            super::upload::Refused::DuplicateName(_) => "上传请求中有重名的部分",
            super::upload::Refused::NotMultipart => "请以 multipart/form-data 上传文件",
        });
    }
    let stream = futures_util::stream::once(async move { Ok::<_, Infallible>(bytes) });
    let mut multipart = multer::Multipart::new(stream, boundary);
    let mut purpose = None;
    let mut file: Option<Vec<u8>> = None;
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(_) => return bad("上传请求不是有效的 multipart/form-data"),
        };
        let is_file = field.file_name().is_some();
        let name = field.name().unwrap_or("").to_owned();
        let Ok(data) = field.bytes().await else {
            return bad("上传请求不是有效的 multipart/form-data");
        };
        if is_file {
            if file.is_some() {
                return bad("每次只能上传一个文件");
            }
            file = Some(data.to_vec());
        } else if name == "purpose" {
            let text = String::from_utf8_lossy(&data);
            match UploadPurpose::parse(&text) {
                Some(p) => purpose = Some(p),
                None => {
                    return gate::refuse(&AppError::bad_field(
                        "purpose",
                        "purpose 须为 INCIDENT_PHOTO、WISH_PHOTO 或 PEOPLE_IMPORT",
                    ));
                }
            }
        }
    }
    let Some(purpose) = purpose else {
        return gate::refuse(&AppError::bad_field(
            "purpose",
            "请在 formData 中注明 purpose",
        ));
    };
    let Some(file) = file else {
        return gate::refuse(&AppError::bad_field("file", "未收到文件"));
    };
    match pending::keep(&shared.state.db, user.id(), purpose, file).await {
        Ok(stored) => {
            let ttl = chrono::Duration::from_std(shared.state.config.pending_upload_ttl)
                .unwrap_or_else(|_| chrono::Duration::days(1));
            let body = serde_json::json!({
                "id": stored.id.to_string(),
                "purpose": purpose.as_str(),
                "mediaType": stored.media_type,
                "size": stored.size,
                "width": stored.width,
                "height": stored.height,
                "expiresAt": (stored.created_at + ttl).to_rfc3339(),
            });
            (StatusCode::CREATED, Json(body)).into_response()
        }
        Err(e) => gate::refuse(&e),
    }
}
