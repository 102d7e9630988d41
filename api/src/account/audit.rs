//! The audit log of privileged mutations, for ADMIN.

use crate::graphql::scalars::Timestamp;
use async_graphql::{Context, ID, Object};
use entity::audit_log;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::core::error::{AppError, AppResult};
use crate::core::pagination as connection;
use crate::core::pagination::Conn;
use crate::core::pagination::Page;
use crate::graphql::context::actor;
use crate::graphql::context::db;
use crate::graphql::context::loader;
use crate::graphql::context::parse_opt_id;
use crate::nodes::loaders::UserKey;
use crate::nodes::user::User;

/// One privileged mutation: who, what, when, on what, and how it ended.
pub struct AuditEntry(pub audit_log::Model);

/// One mutation that ran, for the audit log: who, what, when, with which outcome.
#[Object]
impl AuditEntry {
    /// The id of the audit entry.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// Who ran the mutation (null for an anonymous caller).
    async fn user(&self, ctx: &Context<'_>) -> AppResult<Option<User>> {
        match self.0.user_id {
            None => Ok(None),
            Some(u) => Ok(loader(ctx)?.load_one(UserKey(u)).await?.map(User::new)),
        }
    }
    /// The mutation, e.g. `claimWish`.
    async fn operation(&self) -> &str {
        &self.0.operation
    }
    /// The kind of object the mutation returned, e.g. `Wish`.
    async fn target_type(&self) -> Option<&str> {
        self.0.target_type.as_deref()
    }
    /// The id of the object it returned.
    async fn target_id(&self) -> Option<&str> {
        self.0.target_id.as_deref()
    }
    /// `OK`, or the error code it ended with.
    async fn outcome(&self) -> &str {
        &self.0.outcome
    }
    /// The request id (X-Request-Id) for matching with server logs.
    async fn request_id(&self) -> Option<&str> {
        self.0.request_id.as_deref()
    }
    /// When it ran.
    async fn created_at(&self) -> Timestamp {
        Timestamp(self.0.created_at)
    }
}

#[derive(Default)]
pub struct AuditQuery;

#[Object]
impl AuditQuery {
    /// Privileged mutations, newest first (ADMIN only).
    #[graphql(complexity = "connection::complexity(child_complexity, first)")]
    async fn audit_log(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only entries of this person.")] user_id: Option<ID>,
        #[graphql(desc = "Only entries of this mutation (e.g. claimWish).")] operation: Option<
            String,
        >,
        #[graphql(desc = "How many items to return (1 to 100, default 20).")] first: Option<i32>,
        #[graphql(
            desc = "Return the items after this cursor (`pageInfo.endCursor` of the previous page)."
        )]
        after: Option<String>,
    ) -> AppResult<Conn<AuditEntry>> {
        let me = actor(ctx)?;
        if !crate::account::policy::may_read_audit_log(me) {
            return Err(AppError::Forbidden("只有街道管理员可以查看审计日志"));
        }
        let page = Page::new(ctx, first, after.as_deref())?;
        let mut q = audit_log::Entity::find();
        if let Some(u) = parse_opt_id("userId", user_id.as_ref())? {
            q = q.filter(audit_log::Column::UserId.eq(u));
        }
        if let Some(op) = operation {
            q = q.filter(audit_log::Column::Operation.eq(op));
        }
        Ok(connection::paginate(
            db(ctx)?,
            q,
            audit_log::Column::Id,
            true,
            page,
            |m| m.id,
            AuditEntry,
        )
        .await?)
    }
}
