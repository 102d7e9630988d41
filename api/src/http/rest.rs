//! The REST routes: the calendar feed, the personal-data download, spreadsheets and photos.
//! Each passes its gate ([`super::gate`]) before any work.

use axum::{
    extract::State,
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};

use super::gate;
use super::pipeline::{Shared, client_addr, execute};
use crate::auth::{self, Viewer};
use crate::core::error::AppError;

/// GET /calendar/{token}.ics: a student's upcoming shifts as iCalendar. The token is the
/// feed's own secret; the account behind it must still be active (checked on every fetch).
pub(crate) async fn calendar(
    State(shared): State<Shared>,
    axum::extract::Path(file): axum::extract::Path<String>,
) -> Response {
    let Some(token) = file
        .strip_suffix(".ics")
        .filter(|t| !t.is_empty() && t.len() <= 128)
    else {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    };
    match crate::schedule::rules::calendar_feed(&shared.state.db, token).await {
        Ok(Some(body)) => (
            [
                (header::CONTENT_TYPE, "text/calendar; charset=utf-8"),
                (header::CACHE_CONTROL, "private, max-age=300"),
            ],
            body,
        )
            .into_response(),
        Ok(None) => (StatusCode::NOT_FOUND, "not found").into_response(),
        Err(e) => {
            if let AppError::Internal(detail) = &e {
                tracing::error!(%detail, "calendar feed failed");
            }
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}

/// `GET /me/personal-data` with `Authorization: Bearer …`: everything held about the caller
/// (`myPersonalData`, every field) as a JSON file to keep. Past the login gate, runs the
/// same query through the same pipeline and policies as `POST /graphql`.
pub(crate) async fn personal_data(
    State(shared): State<Shared>,
    parts: axum::http::request::Parts,
) -> Response {
    let client = client_addr(&shared.state.config, &parts);
    let headers = parts.headers;
    if let Err(refusal) = gate::login(&shared.state, &headers).await {
        return refusal;
    }
    let request = async_graphql::Request::new(crate::account::privacy_schema::DOWNLOAD_QUERY);
    let response = execute(shared, client, headers, request, None, false).await;
    let (head, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return gate::refuse(&AppError::internal("personal data: body unreadable"));
    };
    let parsed: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
    let data = &parsed["data"]["myPersonalData"];
    if data.is_null() || parsed.get("errors").is_some_and(|e| !e.is_null()) {
        return Response::from_parts(head, axum::body::Body::from(bytes));
    }
    let username = data["profile"]["username"].as_str().unwrap_or("me");
    let file: String = username
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let body = serde_json::to_vec_pretty(data).unwrap_or_default();
    (
        [
            (
                header::CONTENT_TYPE,
                "application/json; charset=utf-8".to_owned(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"lianxin-personal-data-{file}.json\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        body,
    )
        .into_response()
}

/// `GET /templates/people.xlsx`: the spreadsheet `importPeople` reads, with an example row
/// and the columns explained.
pub(crate) async fn people_template() -> Response {
    match crate::account::register::template() {
        Ok(bytes) => xlsx_file("people.xlsx", bytes),
        Err(e) => gate::refuse(&e),
    }
}

/// `GET /communities/{id}/register.xlsx` with `Authorization: Bearer …` (ADMIN; staff of the
/// community): the community's register of people.
pub(crate) async fn community_register(
    State(shared): State<Shared>,
    axum::extract::Path(id): axum::extract::Path<String>,
    headers: HeaderMap,
) -> Response {
    let actor = match gate::login(&shared.state, &headers).await {
        Ok(user) => user,
        Err(refusal) => return refusal,
    };
    let result = async {
        let id = crate::core::validate::id("id", &id)?;
        crate::account::register::register(&shared.state.db, &actor, id).await
    }
    .await;
    match result {
        Ok(bytes) => xlsx_file(&format!("register-{id}.xlsx"), bytes),
        Err(e) => gate::refuse(&e),
    }
}

/// A photo's query: its signed link.
#[derive(serde::Deserialize)]
pub(crate) struct FileQuery {
    access: Option<String>,
}

/// `GET /files/{id}`: a photo, to a viewer who may see what it belongs to (by the link's
/// viewer, or the `Authorization` header).
pub(crate) async fn file(
    State(shared): State<Shared>,
    axum::extract::Path(id): axum::extract::Path<String>,
    axum::extract::Query(q): axum::extract::Query<FileQuery>,
    headers: HeaderMap,
) -> Response {
    serve_file(shared, id, q, headers, false).await
}

/// `GET /files/{id}/thumb`: a photo's thumbnail, under the same rule.
pub(crate) async fn file_thumbnail(
    State(shared): State<Shared>,
    axum::extract::Path(id): axum::extract::Path<String>,
    axum::extract::Query(q): axum::extract::Query<FileQuery>,
    headers: HeaderMap,
) -> Response {
    serve_file(shared, id, q, headers, true).await
}

/// [`gate::Gate::FileLink`]: the viewer of the signed link or of the header, held to the
/// same checks as a login (active, token version, must-change).
async fn file_viewer(
    shared: &Shared,
    id: i64,
    q: &FileQuery,
    headers: &HeaderMap,
) -> Result<Viewer, AppError> {
    let viewer = match q.access.as_deref() {
        Some(token) => match auth::verify_file_link(&shared.state.config, token, id)? {
            Some((user, version)) => Viewer::User(
                shared
                    .state
                    .viewers
                    .viewer(&shared.state.db, user, version)
                    .await?,
            ),
            None => Viewer::Anonymous,
        },
        None => gate::identify(&shared.state, headers).await?,
    };
    match viewer {
        Viewer::User(user) => Ok(Viewer::User(gate::admit(user)?)),
        Viewer::Anonymous => Ok(Viewer::Anonymous),
    }
}

async fn serve_file(
    shared: Shared,
    id: String,
    q: FileQuery,
    headers: HeaderMap,
    thumbnail: bool,
) -> Response {
    // A malformed id is a missing one.
    let Ok(id) = crate::core::validate::id("id", &id) else {
        return gate::refuse(&AppError::NotFound("文件不存在"));
    };
    let viewer = match file_viewer(&shared, id, &q, &headers).await {
        Ok(v) => v,
        Err(e) => return gate::refuse(&e),
    };
    match photo_for(&shared.state.db, viewer.user(), id, thumbnail).await {
        Ok((media_type, bytes)) => (
            [
                (header::CONTENT_TYPE, media_type),
                (header::CACHE_CONTROL, "private, max-age=3600".to_owned()),
                (
                    header::HeaderName::from_static("x-content-type-options"),
                    "nosniff".to_owned(),
                ),
            ],
            bytes,
        )
            .into_response(),
        Err(e) => gate::refuse(&e),
    }
}

/// A photo's bytes (or its thumbnail's) and media type, for a viewer who may see what it
/// belongs to: the incident's policy or the wish's. Anyone else, logged in or not, is told
/// it does not exist, exactly as for an id that does not (no existence oracle).
async fn photo_for(
    db: &sea_orm::DatabaseConnection,
    viewer: Option<&auth::AuthUser>,
    id: i64,
    thumbnail: bool,
) -> Result<(String, Vec<u8>), AppError> {
    use crate::core::db::get;
    const MISSING: AppError = AppError::NotFound("文件不存在");
    let file = crate::files::rules::find(db, id)
        .await
        .map_err(|e| match e {
            AppError::NotFound(_) => MISSING,
            e => e,
        })?;
    let allowed = match (file.incident_id, file.wish_id) {
        (Some(i), _) => {
            let i = get::<entity::incident::Entity, _>(db, i, "文件不存在").await?;
            crate::incident::policy::may_see(viewer, &i)
        }
        (None, Some(w)) => {
            let w = get::<entity::wish::Entity, _>(db, w, "文件不存在").await?;
            crate::wish::policy::scope(viewer).admits(&w)
        }
        (None, None) => false,
    };
    if !allowed {
        return Err(MISSING);
    }
    Ok(if thumbnail {
        let media = if file.thumbnail.starts_with(b"\x89PNG") {
            "image/png"
        } else {
            "image/jpeg"
        };
        (media.to_owned(), file.thumbnail)
    } else {
        (file.media_type, file.content)
    })
}

fn xlsx_file(name: &str, bytes: Vec<u8>) -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_owned(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        bytes,
    )
        .into_response()
}
