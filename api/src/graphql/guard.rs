//! Request guards beyond async-graphql's own limits: at most 15 aliases of one field in a
//! selection set (alias bombs), checked right after parsing, before anything runs; and the
//! audit log of every privileged mutation.

use std::{collections::HashMap, sync::Arc};

use async_graphql::{
    ServerError, ServerResult, Value, Variables,
    extensions::{
        Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextResolve, ResolveInfo,
    },
    parser::types::{DocumentOperations, ExecutableDocument, Selection, SelectionSet},
};
use chrono::Utc;
use entity::audit_log;
use sea_orm::{ActiveModelTrait, ActiveValue::Set};

use crate::{auth::Viewer, state::AppState};

/// Most aliases of one field allowed in one selection set.
pub const MAX_SAME_FIELD: usize = 15;
/// Most fields (aliased or not) in one selection set.
pub const MAX_FIELDS_IN_SET: usize = 200;

pub struct Guards;

impl ExtensionFactory for Guards {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(GuardsExtension)
    }
}

struct GuardsExtension;

fn check_set(set: &SelectionSet) -> Result<(), String> {
    let mut counts: HashMap<&str, usize> = HashMap::new();
    if set.items.len() > MAX_FIELDS_IN_SET {
        return Err(format!("一个选择集最多 {MAX_FIELDS_IN_SET} 个字段"));
    }
    for item in &set.items {
        match &item.node {
            Selection::Field(f) => {
                let n = counts.entry(f.node.name.node.as_str()).or_default();
                *n += 1;
                if *n > MAX_SAME_FIELD {
                    return Err(format!(
                        "字段 {} 重复（别名）超过 {MAX_SAME_FIELD} 次",
                        f.node.name.node
                    ));
                }
                check_set(&f.node.selection_set.node)?;
            }
            Selection::InlineFragment(fr) => check_set(&fr.node.selection_set.node)?,
            Selection::FragmentSpread(_) => {}
        }
    }
    Ok(())
}

fn check_document(doc: &ExecutableDocument) -> Result<(), String> {
    match &doc.operations {
        DocumentOperations::Single(op) => check_set(&op.node.selection_set.node)?,
        DocumentOperations::Multiple(ops) => {
            for op in ops.values() {
                check_set(&op.node.selection_set.node)?;
            }
        }
    }
    for fragment in doc.fragments.values() {
        check_set(&fragment.node.selection_set.node)?;
    }
    Ok(())
}

/// The first `id` found in a payload, with the type name of the object holding it.
fn first_id(value: &Value) -> Option<String> {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(id)) = map.get("id") {
                return Some(id.clone());
            }
            map.values().find_map(first_id)
        }
        Value::List(items) => items.iter().find_map(first_id),
        _ => None,
    }
}

#[async_trait::async_trait]
impl Extension for GuardsExtension {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let doc = next.run(ctx, query, variables).await?;
        check_document(&doc).map_err(|m| ServerError::new(m, None))?;
        Ok(doc)
    }

    async fn resolve(
        &self,
        ctx: &ExtensionContext<'_>,
        info: ResolveInfo<'_>,
        next: NextResolve<'_>,
    ) -> ServerResult<Option<Value>> {
        let audited = info.parent_type == "MutationRoot" && info.name != "login";
        if !audited {
            return next.run(ctx, info).await;
        }
        let operation = info.name.to_owned();
        let target_type = info
            .return_type
            .trim_end_matches('!')
            .trim_end_matches("Payload")
            .to_owned();
        let result = next.run(ctx, info).await;
        let user_id = match ctx.data_opt::<Viewer>() {
            Some(Viewer::User(u)) => Some(u.id()),
            _ => None,
        };
        // Anonymous calls change nothing (they are refused); they are not audited.
        if let (Some(state), Some(user_id)) = (ctx.data_opt::<AppState>(), user_id) {
            let (outcome, target) = match &result {
                Ok(Some(v)) => ("OK".to_owned(), first_id(v)),
                Ok(None) => ("OK".to_owned(), None),
                Err(e) => (
                    e.extensions
                        .as_ref()
                        .and_then(|x| x.get("code"))
                        .map(|c| c.to_string().trim_matches('"').to_owned())
                        .unwrap_or_else(|| "INTERNAL".to_owned()),
                    None,
                ),
            };
            let request_id = ctx.data_opt::<RequestId>().map(|r| r.0.clone());
            let row = audit_log::ActiveModel {
                user_id: Set(Some(user_id)),
                operation: Set(operation),
                target_type: Set(Some(target_type)),
                target_id: Set(target),
                outcome: Set(outcome),
                request_id: Set(request_id),
                created_at: Set(Utc::now()),
                ..Default::default()
            };
            if let Err(e) = row.insert(&state.db).await {
                tracing::error!(error = %e, "audit log write failed");
            }
        }
        result
    }
}

/// The request id (`x-request-id`), for logs and the audit trail.
#[derive(Clone, Debug)]
pub struct RequestId(pub String);
