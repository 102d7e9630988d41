//! Relay connections: `first`/`after` (first 1..=100, default 20), `edges`, `nodes`,
//! `pageInfo`, `totalCount`. Cursors are opaque strings (a versioned keyset position,
//! base64url-encoded), so that a sort order other than the id can come later.

use async_graphql::{
    OutputType, SimpleObject,
    connection::{Connection, Edge, EmptyFields},
};
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Select,
};

use crate::core::error::AppError;
use crate::core::error::AppResult;

pub const DEFAULT_PAGE: i32 = 20;
pub const MAX_PAGE: i32 = 100;

#[derive(SimpleObject)]
pub struct ConnectionFields {
    /// Number of items matching the filters, over all pages.
    pub total_count: u64,
}

pub type Conn<N> = Connection<String, N, ConnectionFields, EmptyFields>;

/// Checked paging arguments.
#[derive(Clone, Copy, Debug)]
pub struct Page {
    pub first: u64,
    pub after: Option<i64>,
    /// Whether the client selected `totalCount` (the count is only run then).
    pub count: bool,
}

impl Page {
    /// The paging arguments of the connection field being resolved (`ctx`).
    pub fn new(
        ctx: &async_graphql::Context<'_>,
        first: Option<i32>,
        after: Option<&str>,
    ) -> AppResult<Self> {
        let count = ctx.look_ahead().field("totalCount").exists();
        let first = first.unwrap_or(DEFAULT_PAGE);
        if !(1..=MAX_PAGE).contains(&first) {
            return Err(AppError::bad_field(
                "first",
                format!("first 须在 1 到 {MAX_PAGE} 之间"),
            ));
        }
        let after = match after {
            None => None,
            Some(c) => {
                Some(decode_cursor(c).ok_or_else(|| AppError::bad_field("after", "分页游标无效"))?)
            }
        };
        Ok(Self {
            first: first as u64,
            after,
            count,
        })
    }
}

/// The opaque cursor of a row id.
pub fn encode_cursor(id: i64) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("v1:{id}"))
}

/// The row id of a cursor made by [`encode_cursor`].
pub fn decode_cursor(cursor: &str) -> Option<i64> {
    use base64::Engine;
    if cursor.len() > 64 {
        return None;
    }
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()?;
    let text = std::str::from_utf8(&raw).ok()?;
    text.strip_prefix("v1:")?
        .parse::<i64>()
        .ok()
        .filter(|v| *v >= 0)
}

/// Complexity of a connection field: its children count once per requested item.
pub fn complexity(child: usize, first: Option<i32>) -> usize {
    let n = first.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE) as usize;
    n.saturating_mul(child).saturating_add(2)
}

/// Runs a page of `query` ordered by `id_col` (descending when `newest_first`), and its total
/// count only when `totalCount` was selected: one or two SQL statements.
pub async fn paginate<E, N>(
    db: &DatabaseConnection,
    query: Select<E>,
    id_col: E::Column,
    newest_first: bool,
    page: Page,
    id_of: impl Fn(&E::Model) -> i64,
    node: impl Fn(E::Model) -> N,
) -> AppResult<Conn<N>>
where
    E: EntityTrait,
    E::Model: Sync,
    N: OutputType,
{
    let total = if page.count {
        query.clone().count(db).await?
    } else {
        0
    };
    let mut q = query;
    if let Some(after) = page.after {
        q = if newest_first {
            q.filter(id_col.lt(after))
        } else {
            q.filter(id_col.gt(after))
        };
    }
    q = if newest_first {
        q.order_by_desc(id_col)
    } else {
        q.order_by_asc(id_col)
    };
    let mut rows = q.limit(page.first + 1).all(db).await?;
    let has_next = rows.len() as u64 > page.first;
    rows.truncate(page.first as usize);
    let mut conn = Connection::with_additional_fields(
        page.after.is_some(),
        has_next,
        ConnectionFields { total_count: total },
    );
    conn.edges.extend(
        rows.into_iter()
            .map(|m| Edge::new(encode_cursor(id_of(&m)), node(m))),
    );
    Ok(conn)
}
