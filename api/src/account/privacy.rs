//! Personal-data rights (PIPL, 个人信息保护法): the access log of unmasked views, and
//! erasure. What is held about a person (`myPersonalData`) is read through the same types
//! and policies as every other path (`account::privacy_schema`).

use std::collections::HashSet;

use chrono::Utc;
use entity::{personal_data_erasure, user, wish};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    DbBackend, EntityTrait, QueryFilter, Statement, sea_query::Expr, sea_query::ExprTrait,
};

use crate::account::{policy, roles};
use crate::auth::{self, AuthUser};
use crate::core::db;
use crate::core::error::{AppError, AppResult};
use crate::core::validate;

pub use crate::people::access_log::{AccessLog, Field, View, write};

/// What an erased person's name becomes.
pub const ERASED_NAME: &str = "已删除用户";
/// What every copy of an erased person's name, phone or address in other records becomes.
pub const ERASED_TEXT: &str = "[已删除]";

/// Erases a person's personal data on a verified request (ADMIN): name, phone, username and
/// avatar are replaced by placeholders, the copies on wishes they benefit from are cleared,
/// and every other copy of those values in any text of any table (notes, reasons, audit and
/// idempotency records) is replaced by [`ERASED_TEXT`]. The account is deactivated for good.
/// Amounts, counts and statuses are not touched, so balances and statistics stay as they
/// were. One transaction.
pub async fn erase(
    db: &DatabaseConnection,
    actor: &AuthUser,
    user_id: i64,
    reason: &str,
) -> AppResult<user::Model> {
    if !policy::may_erase_personal_data(actor) {
        return Err(AppError::forbidden());
    }
    let reason = validate::text("reason", reason, 500)?;
    if user_id == actor.id() {
        return Err(AppError::bad_field("userId", "不能删除自己的个人信息"));
    }
    let target = auth::load_account(db, user_id).await?;
    if target.user.erased_at.is_some() {
        return Err(AppError::invalid_state("该用户的个人信息已删除"));
    }
    let txn = db::begin_write(db).await?;
    if target.is_admin() && target.user.active && !roles::other_active_admin(&txn, user_id).await? {
        return Err(AppError::invalid_state("不能删除最后一位管理员"));
    }
    // Every value to erase: the profile and the copies made of it on wishes — those linked to
    // the account, and those typed in with the person's phone number.
    let mut copied = sea_orm::Condition::any().add(wish::Column::BeneficiaryUserId.eq(user_id));
    if let Some(phone) = &target.user.phone {
        copied = copied.add(wish::Column::BeneficiaryPhone.eq(phone.clone()));
    }
    let copies = wish::Entity::find()
        .filter(copied.clone())
        .all(&txn)
        .await?;
    let mut values: Vec<String> = [
        Some(target.user.display_name.clone()),
        target.user.phone.clone(),
        Some(target.user.username.clone()),
    ]
    .into_iter()
    .flatten()
    .chain(copies.iter().flat_map(|w| {
        [
            Some(w.beneficiary_name.clone()),
            w.beneficiary_phone.clone(),
            w.beneficiary_address.clone(),
        ]
        .into_iter()
        .flatten()
    }))
    .map(|v| v.trim().to_owned())
    .filter(|v| v.chars().count() >= 2 && v != ERASED_NAME)
    .collect::<HashSet<_>>()
    .into_iter()
    .collect();
    // Longer values first, so a name inside an address goes with the address.
    values.sort_by_key(|v| std::cmp::Reverse(v.chars().count()));

    personal_data_erasure::ActiveModel {
        user_id: Set(user_id),
        erased_by: Set(actor.id()),
        reason: Set(reason),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .map_err(|e| AppError::on_unique(e, "该用户的个人信息已删除"))?;
    let done = user::Entity::update_many()
        .col_expr(user::Column::DisplayName, Expr::value(ERASED_NAME))
        .col_expr(user::Column::Phone, Expr::value(Option::<String>::None))
        .col_expr(user::Column::AvatarUrl, Expr::value(Option::<String>::None))
        .col_expr(
            user::Column::Username,
            Expr::value(format!("erased-{user_id}")),
        )
        .col_expr(user::Column::PasswordHash, Expr::value("!erased"))
        .col_expr(user::Column::Active, Expr::value(false))
        .col_expr(user::Column::MustChangePassword, Expr::value(false))
        .col_expr(
            user::Column::TokenVersion,
            Expr::col(user::Column::TokenVersion).add(1),
        )
        .col_expr(user::Column::ErasedAt, Expr::value(Utc::now()))
        .filter(user::Column::Id.eq(user_id))
        .filter(user::Column::ErasedAt.is_null())
        .exec(&txn)
        .await?;
    if done.rows_affected != 1 {
        return Err(AppError::conflict("该用户的个人信息已被删除"));
    }
    wish::Entity::update_many()
        .col_expr(wish::Column::BeneficiaryName, Expr::value(ERASED_NAME))
        .col_expr(
            wish::Column::BeneficiaryPhone,
            Expr::value(Option::<String>::None),
        )
        .col_expr(
            wish::Column::BeneficiaryAddress,
            Expr::value(Option::<String>::None),
        )
        .filter(copied)
        .exec(&txn)
        .await?;
    if !values.is_empty() {
        for (table, column) in text_columns(&txn).await? {
            let untouched = UNTOUCHED
                .iter()
                .any(|(t, c)| *t == table && (*c == "*" || *c == column));
            if !untouched {
                replace_in(&txn, &table, &column, &values).await?;
            }
        }
    }
    txn.commit().await?;
    db::get::<user::Entity, _>(db, user_id, "用户不存在").await
}

/// Columns the erasure's search-and-replace never rewrites (`*`: the whole table): the
/// migration records, and other people's own names — two residents may share a name, and
/// the erased person's own row and wish copies are cleared field by field above.
const UNTOUCHED: &[(&str, &str)] = &[
    ("seaql_migrations", "*"),
    ("users", "*"),
    ("wishes", "beneficiary_name"),
];

/// Every text column of every table of the application's schema (also the erasure test's
/// scan).
pub async fn text_columns<C: ConnectionTrait>(conn: &C) -> AppResult<Vec<(String, String)>> {
    let backend = conn.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => {
            "SELECT table_name::text, column_name::text FROM information_schema.columns \
             WHERE table_schema = current_schema() AND data_type IN ('text', 'character varying') \
             ORDER BY table_name, column_name"
        }
        _ => {
            "SELECT m.name, p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p \
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND upper(p.type) = 'TEXT' \
             ORDER BY m.name, p.name"
        }
    };
    let rows = conn
        .query_all_raw(Statement::from_string(backend, sql))
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let table: String = row.try_get_by_index(0)?;
        let column: String = row.try_get_by_index(1)?;
        out.push((table, column));
    }
    Ok(out)
}

/// Replaces every occurrence of `values` in one column by [`ERASED_TEXT`]: one statement.
async fn replace_in<C: ConnectionTrait>(
    conn: &C,
    table: &str,
    column: &str,
    values: &[String],
) -> AppResult<()> {
    let backend = conn.get_database_backend();
    let quote = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
    let (t, c) = (quote(table), quote(column));
    let param = |n: usize| match backend {
        DbBackend::Postgres => format!("${n}"),
        _ => format!("?{n}"),
    };
    let contains = |p: &str| match backend {
        DbBackend::Postgres => format!("strpos({c}, {p}) > 0"),
        _ => format!("instr({c}, {p}) > 0"),
    };
    let placeholder = param(values.len() + 1);
    let mut set = c.clone();
    let mut any = Vec::with_capacity(values.len());
    for i in 1..=values.len() {
        let p = param(i);
        set = format!("REPLACE({set}, {p}, {placeholder})");
        any.push(contains(&p));
    }
    let sql = format!("UPDATE {t} SET {c} = {set} WHERE {}", any.join(" OR "));
    let mut params: Vec<sea_orm::Value> = values.iter().map(|v| v.clone().into()).collect();
    params.push(ERASED_TEXT.into());
    conn.execute_raw(Statement::from_sql_and_values(backend, sql, params))
        .await?;
    Ok(())
}
