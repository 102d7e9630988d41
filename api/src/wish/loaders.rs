//! Batch loads of micro-wishes.

use std::collections::HashMap;

use async_graphql::dataloader::Loader;
use sea_orm::{
    ActiveEnum, ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait,
    FromQueryResult, IdenStatic, Iterable, JoinType, QueryFilter, QueryOrder, QueryTrait, Select,
    sea_query::{Alias, Expr, ExprTrait, SelectStatement, SimpleExpr},
};

use crate::core::error::AppError;
use crate::graphql::loaders::{Db, Loaders, group};
use crate::nodes::loaders::{CommunityKey, GridKey, PersonScope, PersonScopeOf, UserKey};
use entity::{community, grid, role_assignment::Role, user, wish, wish_claim};

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
            stmt.expr_as(
                person_scope_of(backend, alias),
                Alias::new(format!("{alias}_scope")),
            );
        }
    }
    let rows = db
        .query_all_raw(crate::core::pagination::with_limit(backend, &stmt, limit))
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let w = wish::Model::from_query_result(&row, "")?;
        if joins.grid {
            let g = grid::Model::from_query_result_optional(&row, "g_")?;
            loaders.prime(GridKey(w.grid_id), g);
        }
        if joins.community {
            let c = community::Model::from_query_result_optional(&row, "c_")?;
            loaders.prime(CommunityKey(w.community_id), c);
        }
        for (wanted, alias) in [
            (joins.claimant, "cu"),
            (joins.beneficiary, "bu"),
            (joins.submitter, "su"),
        ] {
            if !wanted {
                continue;
            }
            if let Some(u) = user::Model::from_query_result_optional(&row, &format!("{alias}_"))? {
                let scope: Option<String> = row.try_get("", &format!("{alias}_scope"))?;
                loaders.prime(PersonScopeOf(u.id), Some(parse_scope(scope.as_deref())?));
                loaders.prime(UserKey(u.id), Some(u));
            }
        }
        out.push(w);
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

/// The roles of the user joined as `alias`, as a JSON array of [role, community, community
/// of the grid]: what [`PersonScope`] is made of.
fn person_scope_of(backend: DbBackend, alias: &str) -> SimpleExpr {
    let rows = "FROM role_assignments ra LEFT JOIN grids rg ON rg.id = ra.grid_id";
    Expr::cust(match backend {
        DbBackend::Postgres => format!(
            "(SELECT COALESCE(json_agg(json_build_array(ra.role, ra.community_id, rg.community_id)), '[]')::text {rows} WHERE ra.user_id = \"{alias}\".\"id\")"
        ),
        _ => format!(
            "(SELECT json_group_array(json_array(ra.role, ra.community_id, rg.community_id)) {rows} WHERE ra.user_id = \"{alias}\".\"id\")"
        ),
    })
}

fn parse_scope(json: Option<&str>) -> Result<PersonScope, AppError> {
    let roles: Vec<(String, Option<i64>, Option<i64>)> = match json {
        Some(j) => serde_json::from_str(j)
            .map_err(|_| AppError::internal("unreadable roles of a joined user"))?,
        None => Vec::new(),
    };
    let mut parsed = Vec::with_capacity(roles.len());
    for (role, community, grid_community) in roles {
        let role = Role::try_from_value(&role)
            .map_err(|_| AppError::internal("unknown role of a joined user"))?;
        parsed.push((role, community, grid_community));
    }
    Ok(PersonScope::from_roles(parsed))
}
