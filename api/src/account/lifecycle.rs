//! An account's life after it is created: password change and reset, deactivation and
//! reactivation, logging out everywhere. Each raises the user's token version, so every
//! token issued before fails on its next request (the viewer is checked against it).

use entity::user;
use sea_orm::{
    ColumnTrait, EntityTrait, QueryFilter,
    sea_query::{Expr, ExprTrait},
};

use crate::account::{policy, roles};
use crate::auth::{self, AuthUser};
use crate::core::config::Config;
use crate::core::db;
use crate::core::error::ErrorReason;
use crate::core::error::{AppError, AppResult};
use crate::core::validate;

/// The password rule (README, "Accounts"): 8 to 128 characters, at least two kinds among
/// letters, digits and other characters, and not the username.
pub fn strong_password(username: &str, value: &str) -> AppResult<String> {
    // The input field is `newPassword` (changePassword, resetPassword).
    let password =
        validate::password(value).map_err(|e| AppError::bad_field("newPassword", e.message()))?;
    let kinds = [
        value.chars().any(|c| c.is_alphabetic()),
        value.chars().any(|c| c.is_ascii_digit()),
        value.chars().any(|c| !c.is_alphanumeric()),
    ]
    .iter()
    .filter(|k| **k)
    .count();
    if kinds < 2 {
        return Err(AppError::bad_field(
            "newPassword",
            "密码须至少包含字母、数字、符号中的两类",
        ));
    }
    if value.eq_ignore_ascii_case(username) {
        return Err(AppError::bad_field("newPassword", "密码不能与用户名相同"));
    }
    Ok(password)
}

/// A new token for the user after a change of their own password.
pub struct NewToken {
    pub tokens: auth::refresh::TokenPair,
}

/// Changes the caller's own password (the old one required). Every earlier token of the
/// caller stops working; the answer carries a new one. Clears a reset's "must change".
pub async fn change_password(
    db: &sea_orm::DatabaseConnection,
    config: &Config,
    actor: &AuthUser,
    old_password: &str,
    new_password: &str,
) -> AppResult<NewToken> {
    let wrong = AppError::bad_field("oldPassword", "原密码不正确");
    if old_password.len() > 1024 {
        return Err(wrong);
    }
    let new_password = strong_password(&actor.user.username, new_password)?;
    if new_password == old_password {
        return Err(AppError::bad_field("newPassword", "新密码不能与原密码相同"));
    }
    let current = user::Entity::find_by_id(actor.id())
        .one(db)
        .await?
        .ok_or(AppError::unauthenticated())?;
    if !auth::verify_password(old_password.to_owned(), current.password_hash.clone()).await? {
        return Err(wrong);
    }
    let hash = auth::hash_password(new_password).await?;
    // Conditional on the hash just checked: of two concurrent changes, one wins.
    let done = user::Entity::update_many()
        .col_expr(user::Column::PasswordHash, Expr::value(hash))
        .col_expr(user::Column::MustChangePassword, Expr::value(false))
        .col_expr(
            user::Column::TokenVersion,
            Expr::col(user::Column::TokenVersion).add(1),
        )
        .filter(user::Column::Id.eq(current.id))
        .filter(user::Column::PasswordHash.eq(current.password_hash.clone()))
        .exec(db)
        .await?;
    if done.rows_affected != 1 {
        return Err(AppError::conflict(
            ErrorReason::PasswordChangedMeanwhile,
            "密码已被修改，请重新登录后再试",
        ));
    }
    let changed = user::Model {
        token_version: current.token_version + 1,
        ..current
    };
    let tokens = auth::refresh::issue(db, config, &changed, None).await?;
    Ok(NewToken { tokens })
}

/// The target of an account change, checked against the actor's scope.
async fn managed(
    db: &sea_orm::DatabaseConnection,
    actor: &AuthUser,
    user_id: i64,
) -> AppResult<AuthUser> {
    let target = auth::load_account(db, user_id).await?;
    if !policy::may_manage_account(actor, &target) {
        return Err(AppError::forbidden());
    }
    Ok(target)
}

/// Resets another person's password (ADMIN; staff within their community). The person must
/// change it at their next login; their earlier tokens stop working.
pub async fn reset_password(
    db: &sea_orm::DatabaseConnection,
    events: &crate::core::bus::Bus,
    actor: &AuthUser,
    user_id: i64,
    new_password: &str,
) -> AppResult<user::Model> {
    let target = managed(db, actor, user_id).await?;
    let erased = || AppError::invalid_state(ErrorReason::AccountErased, "该账号的个人信息已删除");
    if target.user.erased_at.is_some() {
        return Err(erased());
    }
    let password = strong_password(&target.user.username, new_password)?;
    let hash = auth::hash_password(password).await?;
    // Never on an erased account, even one erased while the password was being hashed.
    let txn = db::begin_write(db).await?;
    let done = user::Entity::update_many()
        .col_expr(user::Column::PasswordHash, Expr::value(hash))
        .col_expr(user::Column::MustChangePassword, Expr::value(true))
        .col_expr(
            user::Column::TokenVersion,
            Expr::col(user::Column::TokenVersion).add(1),
        )
        .filter(user::Column::Id.eq(user_id))
        .filter(user::Column::ErasedAt.is_null())
        .exec(&txn)
        .await?;
    if done.rows_affected != 1 {
        return Err(erased());
    }
    let (to, message) = super::notices::password_reset(user_id);
    let told = crate::notify::outbox::enqueue(&txn, to, &message).await?;
    txn.commit().await?;
    crate::notify::outbox::announce(db, events, told).await;
    reload(db, user_id).await
}

/// Deactivates or reactivates a person (ADMIN; staff within their community). A
/// deactivated person's tokens stop working at once and they cannot log in. The last active
/// ADMIN cannot be deactivated.
pub async fn set_active(
    db: &sea_orm::DatabaseConnection,
    actor: &AuthUser,
    user_id: i64,
    active: bool,
) -> AppResult<user::Model> {
    let target = managed(db, actor, user_id).await?;
    if target.user.erased_at.is_some() {
        return Err(AppError::invalid_state(
            ErrorReason::AccountErased,
            "该账号的个人信息已删除，不能再启用",
        ));
    }
    if target.user.active == active {
        return Err(if active {
            AppError::invalid_state(ErrorReason::AccountNotDeactivated, "该账号未停用")
        } else {
            AppError::invalid_state(ErrorReason::AccountDeactivated, "该账号已停用")
        });
    }
    let txn = db::begin_write(db).await?;
    if !active && target.is_admin() && !roles::other_active_admin(&txn, user_id).await? {
        return Err(AppError::invalid_state(
            ErrorReason::LastAdmin,
            "不能停用最后一位管理员",
        ));
    }
    let mut change = user::Entity::update_many()
        .col_expr(user::Column::Active, Expr::value(active))
        .filter(user::Column::Id.eq(user_id))
        .filter(user::Column::Active.eq(!active));
    if !active {
        change = change.col_expr(
            user::Column::TokenVersion,
            Expr::col(user::Column::TokenVersion).add(1),
        );
    }
    if change.exec(&txn).await?.rows_affected != 1 {
        return Err(AppError::conflict(
            ErrorReason::AccountChangedMeanwhile,
            "账号状态已被他人修改",
        ));
    }
    txn.commit().await?;
    reload(db, user_id).await
}

/// Makes every token of the caller issued so far fail on its next request.
pub async fn logout_everywhere(
    db: &sea_orm::DatabaseConnection,
    actor: &AuthUser,
) -> AppResult<()> {
    user::Entity::update_many()
        .col_expr(
            user::Column::TokenVersion,
            Expr::col(user::Column::TokenVersion).add(1),
        )
        .filter(user::Column::Id.eq(actor.id()))
        .exec(db)
        .await?;
    Ok(())
}

async fn reload(db: &sea_orm::DatabaseConnection, user_id: i64) -> AppResult<user::Model> {
    user::Entity::find_by_id(user_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound("用户不存在"))
}
