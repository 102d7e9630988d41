//! Batch loads of micro-wishes.

use std::collections::HashMap;

use async_graphql::dataloader::Loader;
use std::sync::OnceLock;

use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, Iterable, JoinType,
    QueryFilter, QueryOrder, QueryTrait, Select, Statement,
    sea_query::{Alias, Expr, ExprTrait, Query, SelectStatement},
};

use crate::core::error::AppError;
use crate::core::rows::{self, Cursor};
use crate::graphql::loaders::{Db, Loaders, group};
use crate::nodes::loaders::{CommunityKey, GridKey, PersonScopeOf, PersonScopes, UserKey};
use entity::{community, grid, user, wish, wish_claim};

/// Claim history of a wish, oldest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ClaimsOfWish(pub i64);

impl Loader<ClaimsOfWish> for Db {
    type Value = Vec<wish_claim::Model>;
    type Error = AppError;

    async fn load(
        &self,
        keys: &[ClaimsOfWish],
    ) -> Result<HashMap<ClaimsOfWish, Self::Value>, AppError> {
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let rows = wish_claim::Entity::find()
            .filter(wish_claim::Column::WishId.is_in(ids))
            .order_by_asc(wish_claim::Column::Id)
            .all(self.conn().await)
            .await?;
        Ok(group(rows, |r| ClaimsOfWish(r.wish_id)))
    }
}

/// The relations a page of wishes joins into its one statement: those the query selects.
#[derive(Clone, Copy, Debug, Default)]
pub struct PageJoins {
    pub grid: bool,
    pub community: bool,
    /// The claimant's account and what the person rule needs of it.
    pub claimant: bool,
    /// The beneficiary's account and what the person rule needs of it.
    pub beneficiary: bool,
    /// The submitter's account and what the person rule needs of it.
    pub submitter: bool,
}

/// Reads a page of wishes (`q`: filtered and ordered; `limit` rows) together with the relations in
/// `joins`, in one statement, and records the joined rows in the request's loaders, so that
/// the fields resolving them read nothing more.
pub async fn page_with_relations(
    db: &DatabaseConnection,
    loaders: &Loaders,
    scopes: &PersonScopes,
    q: Select<wish::Entity>,
    limit: u64,
    joins: PageJoins,
) -> Result<Vec<wish::Model>, AppError> {
    let backend = db.get_database_backend();
    let rows = db
        .query_all_raw(page_statement(backend, q, limit, joins))
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    // The joined rows, primed after the loop, one lock per relation.
    let (mut grids, mut communities) = (Vec::new(), Vec::new());
    let (mut people, mut known) = (Vec::new(), Vec::new());
    // People whose scope this server has not read at their current stamp.
    let mut unknown: Vec<(i64, i64)> = Vec::new();
    for row in rows {
        // The columns come in the order they were selected above: the wish's, then each
        // joined relation's (see `crate::core::rows`).
        let mut cols = Cursor::new(&row);
        let w = rows::wish_model(&mut cols)?;
        if joins.grid {
            grids.push((GridKey(w.grid_id), rows::grid_model(&mut cols)?));
        }
        if joins.community {
            let c = rows::community_model(&mut cols)?;
            communities.push((CommunityKey(w.community_id), c));
        }
        for wanted in [joins.claimant, joins.beneficiary, joins.submitter] {
            if !wanted {
                continue;
            }
            let Some(u) = rows::user_model(&mut cols)? else {
                continue;
            };
            match scopes.get(u.id, u.auth_stamp) {
                Some(scope) => known.push((PersonScopeOf(u.id), Some(scope))),
                None => unknown.push((u.id, u.auth_stamp)),
            }
            people.push((UserKey(u.id), Some(u)));
        }
        out.push(w);
    }
    loaders.prime_all(grids);
    loaders.prime_all(communities);
    loaders.prime_all(people);
    loaders.prime_all(known);
    // One statement for all of them, and only when some are unknown: on a server in use the
    // page is one statement.
    unknown.sort_unstable();
    unknown.dedup();
    if !unknown.is_empty() {
        let ids: Vec<i64> = unknown.iter().map(|(id, _)| *id).collect();
        let roles = crate::nodes::loaders::roles_of_people(db, &ids).await?;
        let mut read = Vec::with_capacity(unknown.len());
        for (id, stamp) in unknown {
            let scope = roles.get(&id).cloned().unwrap_or_default();
            scopes.put(id, stamp, scope.clone());
            read.push((PersonScopeOf(id), Some(scope)));
        }
        loaders.prime_all(read);
    }
    Ok(out)
}

/// The page's statement: `q`'s conditions and order, under a head that selects the wish's
/// columns and those of the relations in `joins`, joined.
///
/// The head (the column lists and joins: about seventy columns) is the same for every page
/// with the same joins, so it is rendered once per database and set of joins; only the
/// conditions, order and limit are rendered per request. Building the whole statement was
/// about a tenth of the server's work per page (benchmark profile).
pub fn page_statement(
    backend: DbBackend,
    q: Select<wish::Entity>,
    limit: u64,
    joins: PageJoins,
) -> Statement {
    let mut stmt = q.into_query();
    stmt.clear_selects();
    let mut tail = backend.build(&stmt);
    if let Some(rest) = tail.sql.strip_prefix(head(backend, None)) {
        let head = head(backend, Some(joins));
        let mut sql = String::with_capacity(head.len() + rest.len() + 16);
        sql.push_str(head);
        sql.push_str(rest);
        sql.push_str(" LIMIT ");
        sql.push_str(&limit.to_string());
        tail.sql = sql;
        return tail;
    }
    // Not the expected shape (never seen): the whole statement, built as it is.
    select_page(&mut stmt, joins);
    crate::core::pagination::with_limit(backend, &stmt, limit)
}

/// Adds the page's columns to `stmt`, which reads the wishes: every column of the wish, then
/// of each relation in `joins`, in the order `crate::core::rows` reads them, with the joins.
fn select_page(stmt: &mut SelectStatement, joins: PageJoins) {
    for col in wish::Column::iter() {
        stmt.column((wish::Entity, col));
    }
    let on = |alias: &str, col: wish::Column| {
        Expr::col((Alias::new(alias), Alias::new("id"))).equals((wish::Entity, col))
    };
    if joins.grid {
        stmt.join_as(
            JoinType::LeftJoin,
            grid::Entity,
            Alias::new("g"),
            on("g", wish::Column::GridId),
        );
        select_all::<grid::Entity>(stmt, "g");
    }
    if joins.community {
        stmt.join_as(
            JoinType::LeftJoin,
            community::Entity,
            Alias::new("c"),
            on("c", wish::Column::CommunityId),
        );
        select_all::<community::Entity>(stmt, "c");
    }
    for (wanted, alias, col) in [
        (joins.claimant, "cu", wish::Column::ClaimantId),
        (joins.beneficiary, "bu", wish::Column::BeneficiaryUserId),
        (joins.submitter, "su", wish::Column::SubmittedBy),
    ] {
        if wanted {
            stmt.join_as(
                JoinType::LeftJoin,
                user::Entity,
                Alias::new(alias),
                on(alias, col),
            );
            select_all::<user::Entity>(stmt, alias);
        }
    }
}

/// Selects every column of `E`, joined as `alias`.
fn select_all<E: EntityTrait>(stmt: &mut SelectStatement, alias: &str) {
    for col in E::Column::iter() {
        stmt.column((Alias::new(alias), col));
    }
}

/// The head of a page's statement, rendered once: `SELECT <columns> FROM "wishes" <joins>`
/// for `Some(joins)`; for `None`, what a statement of wishes with no columns begins with
/// (`SELECT  FROM "wishes"`), which the head replaces.
fn head(backend: DbBackend, joins: Option<PageJoins>) -> &'static str {
    static HEADS: [OnceLock<String>; 2 * 33] = [const { OnceLock::new() }; 2 * 33];
    let of_backend = match backend {
        DbBackend::Postgres => 0,
        _ => 33,
    };
    let slot = match joins {
        None => 32,
        Some(j) => {
            usize::from(j.grid)
                | usize::from(j.community) << 1
                | usize::from(j.claimant) << 2
                | usize::from(j.beneficiary) << 3
                | usize::from(j.submitter) << 4
        }
    };
    HEADS[of_backend + slot].get_or_init(|| {
        let mut stmt = Query::select().from(wish::Entity).to_owned();
        if let Some(joins) = joins {
            select_page(&mut stmt, joins);
        }
        backend.build(&stmt).sql
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::{ColumnTrait, QueryFilter};

    /// The statement with its cached head is the statement built whole, for every set of
    /// joins and both databases.
    #[test]
    fn the_cached_head_gives_the_statement_built_whole() {
        for backend in [DbBackend::Postgres, DbBackend::Sqlite] {
            for bits in 0..32u8 {
                let joins = PageJoins {
                    grid: bits & 1 != 0,
                    community: bits & 2 != 0,
                    claimant: bits & 4 != 0,
                    beneficiary: bits & 8 != 0,
                    submitter: bits & 16 != 0,
                };
                let q = || {
                    wish::Entity::find()
                        .filter(wish::Column::CommunityId.eq(3))
                        .filter(wish::Column::Id.lt(1000))
                        .order_by_desc(wish::Column::Id)
                };
                let cached = page_statement(backend, q(), 21, joins);
                let mut whole = q().into_query();
                whole.clear_selects();
                select_page(&mut whole, joins);
                let whole = crate::core::pagination::with_limit(backend, &whole, 21);
                assert_eq!(cached.sql, whole.sql);
                assert_eq!(cached.values, whole.values);
                assert!(cached.sql.contains("LEFT JOIN") == (bits != 0));
            }
        }
    }
}

/// How many claims a member holds in force (for `Wish.viewerCan.claim`: one statement per
/// request, whatever the page).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ActiveClaimsOf(pub i64);

impl Loader<ActiveClaimsOf> for Db {
    type Value = u64;
    type Error = AppError;

    async fn load(
        &self,
        keys: &[ActiveClaimsOf],
    ) -> Result<HashMap<ActiveClaimsOf, Self::Value>, AppError> {
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let rows = wish_claim::Entity::find()
            .filter(wish_claim::Column::MemberId.is_in(ids))
            .filter(wish_claim::Column::Status.eq(wish_claim::ClaimStatus::Active))
            .all(self.conn().await)
            .await?;
        let mut counts: HashMap<ActiveClaimsOf, u64> = keys.iter().map(|k| (*k, 0)).collect();
        for r in rows {
            *counts.entry(ActiveClaimsOf(r.member_id)).or_default() += 1;
        }
        Ok(counts)
    }
}
