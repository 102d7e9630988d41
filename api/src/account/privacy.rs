//! Personal-data rights (PIPL, 个人信息保护法): the access log of unmasked views, and
//! erasure. What is held about a person (`myPersonalData`) is read through the same types
//! and policies as every other path (`account::privacy_schema`).

use std::collections::HashSet;

use entity::{personal_data_erasure, user, wish};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    DbBackend, EntityTrait, QueryFilter, Statement, sea_query::Expr, sea_query::ExprTrait,
};

use crate::account::{policy, roles};
use crate::auth::{self, AuthUser};
use crate::core::db;
use crate::core::error::ErrorReason;
use crate::core::error::{AppError, AppResult};
use crate::core::validate;

pub use crate::people::access_log::{AccessLog, Field, View, write};

/// What an erased person's name becomes.
pub const ERASED_NAME: &str = "已删除用户";
/// What every copy of an erased person's name, phone or address in other records becomes.
pub const ERASED_TEXT: &str = "[已删除]";

/// Erases a person's personal data on a verified request (ADMIN): name, phone, username and
/// avatar are replaced by placeholders, the copies on wishes they benefit from are cleared,
/// their calendar tokens and login-throttle entry are deleted, and in every row linked to
/// them — a row whose reference to a user names them (author, beneficiary, raiser, holder,
/// operator…), the entries of their passbooks, the wishes typed with their phone — each
/// whole occurrence of their full name, address or phone (in any spelling: `139-1234-5678`,
/// `139 1234 5678`, `+8613912345678`) is replaced by [`ERASED_TEXT`]. Other people's rows are
/// never rewritten, and no fragment of another word is (a name is replaced only where it
/// stands on its own). Ledger memos are redacted through the one path the ledger's
/// immutability allows (the memo alone, with the marker). The account is deactivated for
/// good. Amounts, counts and statuses are not touched. One transaction.
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
        return Err(AppError::invalid_state(
            ErrorReason::AccountErased,
            "该用户的个人信息已删除",
        ));
    }
    let txn = db::begin_write(db).await?;
    if target.is_admin() && target.user.active && !roles::other_active_admin(&txn, user_id).await? {
        return Err(AppError::invalid_state(
            ErrorReason::LastAdmin,
            "不能删除最后一位管理员",
        ));
    }
    // The copies made of the person's profile on wishes: those linked to the account, and
    // those typed in with the person's phone number.
    let mut copied = sea_orm::Condition::any().add(wish::Column::BeneficiaryUserId.eq(user_id));
    if let Some(phone) = &target.user.phone {
        copied = copied.add(wish::Column::BeneficiaryPhone.eq(phone.clone()));
    }
    let copies = wish::Entity::find()
        .filter(copied.clone())
        .all(&txn)
        .await?;
    let mut names: Vec<String> = std::iter::once(target.user.display_name.clone())
        .chain(copies.iter().flat_map(|w| {
            [
                Some(w.beneficiary_name.clone()),
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
    names.sort_by_key(|v| std::cmp::Reverse(v.chars().count()));
    let phones: Vec<String> = std::iter::once(target.user.phone.clone())
        .chain(copies.iter().map(|w| w.beneficiary_phone.clone()))
        .flatten()
        .map(|p| p.chars().filter(char::is_ascii_digit).collect::<String>())
        .filter(|p| p.len() >= 7)
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();

    personal_data_erasure::ActiveModel {
        user_id: Set(user_id),
        erased_by: Set(actor.id()),
        reason: Set(reason),
        created_at: Set(crate::core::clock::now()),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .map_err(|e| AppError::on_unique(e, ErrorReason::AccountErased, "该用户的个人信息已删除"))?;
    // The traces that serve no record: the calendar feed's tokens, the login throttle's entry.
    entity::calendar_token::Entity::delete_many()
        .filter(entity::calendar_token::Column::UserId.eq(user_id))
        .exec(&txn)
        .await?;
    // Sessions, the WeChat binding and files never attached go with them.
    entity::refresh_token::Entity::delete_many()
        .filter(entity::refresh_token::Column::UserId.eq(user_id))
        .exec(&txn)
        .await?;
    entity::wechat_binding::Entity::delete_many()
        .filter(entity::wechat_binding::Column::UserId.eq(user_id))
        .exec(&txn)
        .await?;
    entity::pending_upload::Entity::delete_many()
        .filter(entity::pending_upload::Column::OwnerId.eq(user_id))
        .exec(&txn)
        .await?;
    let backend = txn.get_database_backend();
    let throttle_key = crate::account::rules::throttle::user_key(&target.user.username);
    txn.execute_raw(Statement::from_sql_and_values(
        backend,
        match backend {
            DbBackend::Postgres => "DELETE FROM login_throttle WHERE key = $1",
            _ => "DELETE FROM login_throttle WHERE key = ?1",
        },
        [throttle_key.into()],
    ))
    .await?;
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
        .col_expr(
            user::Column::ErasedAt,
            Expr::value(crate::core::clock::now()),
        )
        .filter(user::Column::Id.eq(user_id))
        .filter(user::Column::ErasedAt.is_null())
        .exec(&txn)
        .await?;
    if done.rows_affected != 1 {
        return Err(AppError::conflict(
            ErrorReason::AccountErased,
            "该用户的个人信息已被删除",
        ));
    }
    // The free text of every row linked to the person, before the copies' own fields are
    // cleared (the wishes typed with their phone are found by it).
    let copy_ids: Vec<i64> = copies.iter().map(|w| w.id).collect();
    redact_linked(&txn, user_id, &copy_ids, &names, &phones).await?;
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
        .filter(wish::Column::Id.is_in(copy_ids))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    db::get::<user::Entity, _>(db, user_id, "用户不存在").await
}

/// Columns the erasure never rewrites (`*`: the whole table): the migration records, the
/// users table (the person's own row is rewritten field by field above), a wish's copied
/// beneficiary name (cleared as a field), and an agreement's text, frozen once proposed (a
/// document of organisations, not of a person).
const UNTOUCHED: &[(&str, &str)] = &[
    ("seaql_migrations", "*"),
    ("users", "*"),
    ("wishes", "beneficiary_name"),
    ("agreements", "title"),
    ("agreements", "commitments"),
];

/// Every column referencing `users(id)`, as (table, column), from the database catalogue.
pub async fn user_references<C: ConnectionTrait>(conn: &C) -> AppResult<Vec<(String, String)>> {
    let backend = conn.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => {
            "SELECT kcu.table_name::text, kcu.column_name::text \
             FROM information_schema.referential_constraints rc \
             JOIN information_schema.key_column_usage kcu \
               ON kcu.constraint_name = rc.constraint_name AND kcu.constraint_schema = rc.constraint_schema \
             JOIN information_schema.constraint_column_usage ccu \
               ON ccu.constraint_name = rc.unique_constraint_name AND ccu.constraint_schema = rc.unique_constraint_schema \
             WHERE kcu.constraint_schema = current_schema() AND ccu.table_name = 'users' \
             ORDER BY 1, 2"
        }
        _ => {
            "SELECT m.name, f.\"from\" FROM sqlite_master m JOIN pragma_foreign_key_list(m.name) f \
             WHERE m.type = 'table' AND f.\"table\" = 'users' ORDER BY 1, 2"
        }
    };
    let rows = conn
        .query_all_raw(Statement::from_string(backend, sql))
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        out.push((row.try_get_by_index(0)?, row.try_get_by_index(1)?));
    }
    out.dedup();
    Ok(out)
}

/// Every column of every table of the application's schema, by table.
async fn all_columns<C: ConnectionTrait>(
    conn: &C,
) -> AppResult<std::collections::BTreeMap<String, Vec<String>>> {
    let backend = conn.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => {
            "SELECT table_name::text, column_name::text FROM information_schema.columns \
             WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position"
        }
        _ => {
            "SELECT m.name, p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p \
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' ORDER BY m.name, p.cid"
        }
    };
    let rows = conn
        .query_all_raw(Statement::from_string(backend, sql))
        .await?;
    let mut out: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for row in rows {
        let table: String = row.try_get_by_index(0)?;
        out.entry(table).or_default().push(row.try_get_by_index(1)?);
    }
    Ok(out)
}

/// Redacts the person's values in the free text of every row linked to them (see
/// [`erase`]): rows are read, redacted here (whole occurrences only), and written back one
/// by one where something changed.
async fn redact_linked<C: ConnectionTrait>(
    conn: &C,
    user_id: i64,
    copy_ids: &[i64],
    names: &[String],
    phones: &[String],
) -> AppResult<()> {
    if names.is_empty() && phones.is_empty() {
        return Ok(());
    }
    let backend = conn.get_database_backend();
    let quote = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
    let mut links: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for (table, column) in user_references(conn).await? {
        links
            .entry(table)
            .or_default()
            .push(format!("{} = {user_id}", quote(&column)));
    }
    links
        .entry("ledger_entries".into())
        .or_default()
        .push(format!(
            "passbook_id IN (SELECT id FROM passbooks WHERE holder_id = {user_id})"
        ));
    if !copy_ids.is_empty() {
        let ids: Vec<String> = copy_ids.iter().map(i64::to_string).collect();
        links
            .entry("wishes".into())
            .or_default()
            .push(format!("id IN ({})", ids.join(", ")));
    }
    let texts: HashSet<(String, String)> = text_columns(conn).await?.into_iter().collect();
    let columns = all_columns(conn).await?;
    for (table, conditions) in links {
        let Some(all) = columns.get(&table) else {
            continue;
        };
        if !all.iter().any(|c| c == "id") {
            continue;
        }
        let free: Vec<&String> = all
            .iter()
            .filter(|c| texts.contains(&(table.clone(), (*c).clone())))
            .filter(|c| {
                !UNTOUCHED
                    .iter()
                    .any(|(t, u)| *t == table && (*u == "*" || *u == c.as_str()))
            })
            .collect();
        if free.is_empty() {
            continue;
        }
        let list: Vec<String> = free.iter().map(|c| quote(c)).collect();
        // The rows are read and written back in this transaction: on PostgreSQL they are
        // locked as they are read, so a change racing the erasure is not overwritten (on
        // SQLite the transaction is the only writer).
        let lock = match backend {
            DbBackend::Postgres => " FOR UPDATE",
            _ => "",
        };
        let sql = format!(
            "SELECT id, {} FROM {} WHERE {}{lock}",
            list.join(", "),
            quote(&table),
            conditions.join(" OR ")
        );
        let rows = conn
            .query_all_raw(Statement::from_string(backend, sql))
            .await?;
        for row in rows {
            let id: i64 = row.try_get_by_index(0)?;
            let mut sets = Vec::new();
            let mut values: Vec<sea_orm::Value> = Vec::new();
            for (i, column) in free.iter().enumerate() {
                let Some(text) = row.try_get_by_index::<Option<String>>(i + 1)? else {
                    continue;
                };
                let redacted = redact(&text, names, phones);
                if redacted != text {
                    values.push(redacted.into());
                    let n = values.len();
                    sets.push(match backend {
                        DbBackend::Postgres => format!("{} = ${n}", quote(column)),
                        _ => format!("{} = ?{n}", quote(column)),
                    });
                }
            }
            if sets.is_empty() {
                continue;
            }
            let sql = format!(
                "UPDATE {} SET {} WHERE id = {id}",
                quote(&table),
                sets.join(", ")
            );
            conn.execute_raw(Statement::from_sql_and_values(backend, sql, values))
                .await?;
        }
    }
    Ok(())
}

/// `text` with each whole occurrence of a name or address, and each spelling of a phone
/// number (digits with spaces or hyphens between them, with or without +86), replaced by
/// [`ERASED_TEXT`]. A value is whole where no ASCII letter or digit touches it.
pub fn redact(text: &str, names: &[String], phones: &[String]) -> String {
    let mut out = text.to_owned();
    for name in names {
        out = replace_whole(&out, name);
    }
    for phone in phones {
        out = replace_phone(&out, phone);
    }
    out
}

fn replace_whole(text: &str, value: &str) -> String {
    let touches = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    let mut before: Option<char> = None;
    while let Some(at) = rest.find(value) {
        let prev = rest[..at].chars().next_back().or(before);
        let next = rest[at + value.len()..].chars().next();
        let edge_in = value
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric());
        let edge_out = value
            .chars()
            .next_back()
            .is_some_and(|c| c.is_ascii_alphanumeric());
        let whole = !(edge_in && touches(prev) || edge_out && touches(next));
        out.push_str(&rest[..at]);
        if whole {
            out.push_str(ERASED_TEXT);
        } else {
            out.push_str(value);
        }
        before = value.chars().next_back();
        rest = &rest[at + value.len()..];
    }
    out.push_str(rest);
    out
}

fn replace_phone(text: &str, digits: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let starts = (chars[i] == '+' || chars[i].is_ascii_digit())
            && (i == 0 || !chars[i - 1].is_ascii_alphanumeric());
        if starts && let Some(end) = phone_at(&chars, i, digits) {
            out.push_str(ERASED_TEXT);
            i = end;
            continue;
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

/// The end of a spelling of `digits` starting at `start`, if there is one: an optional `+86`
/// (or `86`), then the digits with at most one space or hyphen between two of them, not
/// followed by another digit.
fn phone_at(chars: &[char], start: usize, digits: &str) -> Option<usize> {
    let want: Vec<char> = digits.chars().collect();
    for prefix in ["+86", "86", ""] {
        let mut i = start;
        let mut ok = true;
        for p in prefix.chars() {
            if chars.get(i) == Some(&p) {
                i += 1;
            } else {
                ok = false;
                break;
            }
        }
        if !ok {
            continue;
        }
        if !prefix.is_empty() && matches!(chars.get(i), Some(' ' | '-')) {
            i += 1;
        }
        let mut matched = 0;
        while matched < want.len() {
            match chars.get(i) {
                Some(c) if *c == want[matched] => {
                    matched += 1;
                    i += 1;
                }
                Some(' ' | '-')
                    if matched > 0 && chars.get(i + 1).is_some_and(|c| *c == want[matched]) =>
                {
                    i += 1;
                }
                _ => break,
            }
        }
        if matched == want.len() && !chars.get(i).is_some_and(|c| c.is_ascii_digit()) {
            return Some(i);
        }
    }
    None
}

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

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn only_whole_values_and_every_spelling_of_the_phone_are_redacted() {
        let names = vec!["an".to_owned(), "王芳".to_owned()];
        let phones = vec!["13912345678".to_owned()];
        assert_eq!(
            redact("Wanda Plaza, Change the lamp, call an", &names, &phones),
            "Wanda Plaza, Change the lamp, call [已删除]"
        );
        assert_eq!(redact("王芳的心愿", &names, &phones), "[已删除]的心愿");
        for spelling in [
            "13912345678",
            "139-1234-5678",
            "139 1234 5678",
            "+8613912345678",
            "+86 139 1234 5678",
        ] {
            assert_eq!(
                redact(&format!("电话 {spelling}。"), &names, &phones),
                "电话 [已删除]。",
                "{spelling}"
            );
        }
        assert_eq!(redact("139123456789", &names, &phones), "139123456789");
        assert_eq!(
            redact("image/png", &["ma".to_owned()], &phones),
            "image/png"
        );
    }
}
