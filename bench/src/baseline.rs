//! The baseline: the same wishes page as the GraphQL query, from a plain axum JSON route with
//! the same sea-orm queries (token check and viewer, count, page, grids, communities, users).
//! Part of the benchmark only, never of the production router.
//!
//! Beside it, the floor: the same JSON from one hand-written, joined, prepared SQL statement
//! per page (the token checked without the database; the viewer's row, their scope, the page,
//! its grid, community and claimant, and the claimant's public office in that one statement).
//! It computes the masks of the benchmark's viewers (party members with no staff or grid
//! roles): the best the database allows for this page.

use std::{collections::HashSet, sync::Arc};

use axum::{
    Json, Router,
    extract::{Query, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::get,
};
use entity::{community, grid, user, wish};
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde::Deserialize;
use serde_json::json;

#[derive(Clone)]
struct S {
    db: DatabaseConnection,
    config: Arc<api::Config>,
    statements: api::core::db::StatementCounter,
}

#[derive(Deserialize)]
struct Page {
    first: Option<u64>,
}

pub fn router(
    db: DatabaseConnection,
    statements: api::core::db::StatementCounter,
    config: api::Config,
) -> Router {
    Router::new()
        .route("/baseline/wishes", get(wishes))
        .route("/floor/wishes", get(floor))
        .route("/metrics", get(metrics))
        .with_state(S {
            db,
            config: Arc::new(config),
            statements,
        })
}

/// The statement count, in the server's `/metrics` format.
async fn metrics(State(s): State<S>) -> String {
    format!("lianxin_sql_statements_total {}\n", s.statements.get())
}

/// Serves the baseline in its own process, as the server runs in its own: the client's
/// work is not on the baseline's runtime, and both get the same pool settings.
pub async fn serve(database_url: &str, bind: &str, secret: &str) -> anyhow::Result<()> {
    let (db, statements) = api::core::db::connect(database_url).await?;
    let config = api::Config::new(database_url, api::config::Secret::new(secret))
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let listener = tokio::net::TcpListener::bind(bind).await?;
    axum::serve(listener, router(db, statements, config)).await?;
    Ok(())
}

async fn wishes(State(s): State<S>, headers: HeaderMap, Query(p): Query<Page>) -> Response {
    match page(&s, &headers, p.first.unwrap_or(20).min(100)).await {
        Ok(v) => Json(v).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

async fn page(s: &S, headers: &HeaderMap, first: u64) -> anyhow::Result<serde_json::Value> {
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    let (uid, _) =
        api::auth::verify_token(&s.config, token).map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let viewer = api::auth::load_auth_user(&s.db, uid)
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let mut q = wish::Entity::find();
    if let Some(cond) = api::wish::policy::scope(Some(&viewer)).condition() {
        q = q.filter(cond);
    }
    let total = q.clone().count(&s.db).await?;
    let rows = q
        .order_by_desc(wish::Column::Id)
        .limit(first + 1)
        .all(&s.db)
        .await?;
    let rows: Vec<_> = rows.into_iter().take(first as usize).collect();
    let grid_ids: Vec<i64> = rows
        .iter()
        .map(|w| w.grid_id)
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let grids = grid::Entity::find()
        .filter(grid::Column::Id.is_in(grid_ids))
        .all(&s.db)
        .await?;
    let community_ids: Vec<i64> = rows
        .iter()
        .map(|w| w.community_id)
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let communities = community::Entity::find()
        .filter(community::Column::Id.is_in(community_ids))
        .all(&s.db)
        .await?;
    let user_ids: Vec<i64> = rows
        .iter()
        .filter_map(|w| w.claimant_id)
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let users = user::Entity::find()
        .filter(user::Column::Id.is_in(user_ids))
        .all(&s.db)
        .await?;
    let today = api::core::validate::today();
    let nodes: Vec<_> = rows
        .iter()
        .map(|w| {
            let g = grids.iter().find(|g| g.id == w.grid_id);
            // The plain route skips the beneficiary's account (the benchmark's wishes have none).
            let name = api::wish::policy::insight(Some(&viewer), w, None).name(&w.beneficiary_name);
            json!({
                "id": w.id.to_string(),
                "title": w.title,
                "status": format!("{:?}", api::wish::rules::effective_status(w, today)),
                "beneficiaryName": name,
                "grid": g.map(|g| json!({"name": g.name})),
                "community": communities.iter().find(|c| c.id == w.community_id).map(|c| json!({"name": c.name})),
                "beneficiary": null,
                "claimant": w.claimant_id.and_then(|id| users.iter().find(|u| u.id == id)).map(|u| json!({"displayName": u.display_name})),
            })
        })
        .collect();
    Ok(json!({"data": {"wishes": {"totalCount": total, "nodes": nodes}}}))
}

async fn floor(State(s): State<S>, headers: HeaderMap, Query(p): Query<Page>) -> Response {
    match floor_page(&s, &headers, p.first.unwrap_or(20).min(100)).await {
        Ok(v) => Json(v).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

/// The floor's one statement. `$1` the viewer, `$2` their token version; the limit is written
/// in (`{limit}`), so that PostgreSQL keeps one generic plan for it.
const FLOOR_SQL: &str = "WITH staff AS (
    SELECT community_id FROM role_assignments WHERE user_id = $1 AND role = 'COMMUNITY_STAFF'
), worker AS (
    SELECT g.id FROM grids g JOIN role_assignments r
      ON r.user_id = $1 AND r.role = 'GRID_WORKER' AND (g.id = r.grid_id OR g.parent_id = r.grid_id)
)
SELECT w.id, w.title, w.status, w.deadline, w.beneficiary_name, w.claimant_id,
  g.name AS grid_name, c.name AS community_name, cu.display_name AS claimant_name,
  (SELECT TRUE FROM role_assignments pr WHERE pr.user_id = w.claimant_id
    AND pr.role IN ('ADMIN', 'COMMUNITY_STAFF', 'GRID_WORKER', 'UNIT_REP') LIMIT 1) IS NOT NULL
    AS claimant_public,
  (w.submitted_by = $1 OR w.beneficiary_user_id = $1
    OR w.community_id IN (SELECT community_id FROM staff)
    OR w.grid_id IN (SELECT id FROM worker)) AS record_full
FROM wishes w
JOIN grids g ON g.id = w.grid_id
JOIN communities c ON c.id = w.community_id
LEFT JOIN users cu ON cu.id = w.claimant_id
WHERE EXISTS (SELECT 1 FROM users v WHERE v.id = $1 AND v.active AND v.token_version = $2)
  AND (w.status IN ('PUBLISHED', 'CLAIMED', 'FULFILLED', 'CONFIRMED')
    OR w.submitted_by = $1 OR w.beneficiary_user_id = $1 OR w.claimant_id = $1
    OR w.community_id IN (SELECT community_id FROM staff)
    OR w.grid_id IN (SELECT id FROM worker))
ORDER BY w.id DESC
LIMIT {limit}";

async fn floor_page(s: &S, headers: &HeaderMap, first: u64) -> anyhow::Result<serde_json::Value> {
    use api::core::mask::Access;
    use sea_orm::{ActiveEnum, ConnectionTrait, DbBackend, Statement};
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    let (uid, version) =
        api::auth::verify_token(&s.config, token).map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let backend = s.db.get_database_backend();
    let sql = FLOOR_SQL.replace("{limit}", &first.to_string());
    let sql = match backend {
        DbBackend::Postgres => sql,
        // SQLite numbers its parameters ?1, ?2…
        _ => sql.replace('$', "?"),
    };
    let rows =
        s.db.query_all_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [uid.into(), version.into()],
        ))
        .await?;
    let today = api::core::validate::today();
    let mut nodes = Vec::with_capacity(rows.len());
    for r in rows {
        let status: wish::WishStatus = r.try_get("", "status")?;
        let deadline: Option<chrono::NaiveDate> = r.try_get("", "deadline")?;
        let claimant: Option<i64> = r.try_get("", "claimant_id")?;
        let expired =
            deadline.is_some_and(|d| d < today) && wish::WishStatus::EXPIRABLE.contains(&status);
        let record = if r.try_get::<bool>("", "record_full")? {
            Access::Full
        } else if claimant == Some(uid) {
            Access::NameOnly
        } else {
            Access::Masked
        };
        let beneficiary: String = r.try_get("", "beneficiary_name")?;
        let claimant_name: Option<String> = r.try_get("", "claimant_name")?;
        let claimant_level = if claimant == Some(uid) {
            Access::Full
        } else if r.try_get::<bool>("", "claimant_public")? {
            Access::NameOnly
        } else {
            Access::Masked
        };
        let id: i64 = r.try_get("", "id")?;
        nodes.push(json!({
            "id": id.to_string(),
            "title": r.try_get::<String>("", "title")?,
            "status": if expired { "EXPIRED".to_owned() } else { status.to_value() },
            "beneficiaryName": record.name(&beneficiary),
            "grid": {"name": r.try_get::<String>("", "grid_name")?},
            "community": {"name": r.try_get::<String>("", "community_name")?},
            "beneficiary": null,
            "claimant": claimant_name.map(|n| json!({"displayName": claimant_level.name(&n)})),
        }));
    }
    Ok(json!({"data": {"wishes": {"nodes": nodes}}}))
}
