//! Batch loads of micro-wishes.

use std::collections::HashMap;

use async_graphql::dataloader::Loader;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, IdenStatic, Iterable, JoinType,
    QueryFilter, QueryOrder, QueryTrait, Select,
    sea_query::{Alias, Expr, ExprTrait, SelectStatement},
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
    let mut stmt = q.into_query();
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
        select_prefixed::<grid::Entity>(&mut stmt, "g");
    }
    if joins.community {
        stmt.join_as(
            JoinType::LeftJoin,
            community::Entity,
            Alias::new("c"),
            on("c", wish::Column::CommunityId),
        );
        select_prefixed::<community::Entity>(&mut stmt, "c");
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
            select_prefixed::<user::Entity>(&mut stmt, alias);
        }
    }
    let rows = db
        .query_all_raw(crate::core::pagination::with_limit(backend, &stmt, limit))
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    // People whose scope this server has not read at their current stamp.
    let mut unknown: Vec<(i64, i64)> = Vec::new();
    for row in rows {
        // The columns come in the order they were selected above: the wish's, then each
        // joined relation's (see `crate::core::rows`).
        let mut cols = Cursor::new(&row);
        let w = rows::wish_model(&mut cols)?;
        if joins.grid {
            let g = rows::grid_model(&mut cols)?;
            loaders.prime(GridKey(w.grid_id), g);
        }
        if joins.community {
            let c = rows::community_model(&mut cols)?;
            loaders.prime(CommunityKey(w.community_id), c);
        }
        for wanted in [joins.claimant, joins.beneficiary, joins.submitter] {
            if !wanted {
                continue;
            }
            let Some(u) = rows::user_model(&mut cols)? else {
                continue;
            };
            match scopes.get(u.id, u.auth_stamp) {
                Some(scope) => loaders.prime(PersonScopeOf(u.id), Some(scope)),
                None => unknown.push((u.id, u.auth_stamp)),
            }
            loaders.prime(UserKey(u.id), Some(u));
        }
        out.push(w);
    }
    // One statement for all of them, and only when some are unknown: on a server in use the
    // page is one statement.
    unknown.sort_unstable();
    unknown.dedup();
    if !unknown.is_empty() {
        let ids: Vec<i64> = unknown.iter().map(|(id, _)| *id).collect();
        let roles = crate::nodes::loaders::roles_of_people(db, &ids).await?;
        for (id, stamp) in unknown {
            let scope = roles.get(&id).cloned().unwrap_or_default();
            scopes.put(id, stamp, scope.clone());
            loaders.prime(PersonScopeOf(id), Some(scope));
        }
    }
    Ok(out)
}

/// Selects every column of `E`, joined as `alias`, named `{alias}_{column}`.
fn select_prefixed<E: EntityTrait>(stmt: &mut SelectStatement, alias: &str) {
    for col in E::Column::iter() {
        stmt.expr_as(
            Expr::col((Alias::new(alias), col)),
            Alias::new(format!("{alias}_{}", col.as_str())),
        );
    }
}
