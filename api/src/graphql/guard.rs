//! Request guards beyond async-graphql's own limits: at most 15 aliases of one field in a
//! selection set (alias bombs), checked right after parsing, before anything runs; and the
//! audit log of every privileged mutation.

use std::{collections::HashMap, sync::Arc};

use crate::core::error::ErrorCode;
use async_graphql::{
    Response, ServerError, ServerResult, Value, Variables,
    extensions::{Extension, ExtensionContext, ExtensionFactory, NextExecute, NextParseQuery},
    parser::types::{
        DocumentOperations, ExecutableDocument, OperationType, Selection, SelectionSet,
    },
};
use entity::audit_log;
use sea_orm::{ActiveModelTrait, ActiveValue::Set};

use crate::auth::Viewer;
use crate::graphql::state::AppState;

/// Most aliases of one field allowed in one selection set.
pub const MAX_SAME_FIELD: usize = 15;
/// Most fields (aliased or not) in one selection set.
pub const MAX_FIELDS_IN_SET: usize = 200;

pub struct Guards;

impl ExtensionFactory for Guards {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(GuardsExtension::default())
    }
}

#[derive(Default)]
struct GuardsExtension {
    /// The request's document, kept at parse time for the audit after execution.
    document: std::sync::Mutex<Option<ExecutableDocument>>,
}

fn check_set(set: &SelectionSet, depth: usize) -> Result<(), String> {
    // Deeper documents are refused by the schema's own recursion limit.
    if depth > 64 {
        return Ok(());
    }
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
                check_set(&f.node.selection_set.node, depth + 1)?;
            }
            Selection::InlineFragment(fr) => check_set(&fr.node.selection_set.node, depth + 1)?,
            Selection::FragmentSpread(_) => {}
        }
    }
    Ok(())
}

/// The response keys of a selection set at its level (fragments merged, in order), each
/// with the selection sets below it (the spec's CollectFields, without type conditions).
pub(crate) fn collect<'a>(
    doc: &'a ExecutableDocument,
    set: &'a SelectionSet,
    out: &mut Vec<(String, Vec<&'a SelectionSet>)>,
    depth: usize,
) {
    if depth > 32 {
        return;
    }
    for item in &set.items {
        match &item.node {
            Selection::Field(f) => {
                let key = f
                    .node
                    .alias
                    .as_ref()
                    .map(|a| a.node.to_string())
                    .unwrap_or_else(|| f.node.name.node.to_string());
                let below = &f.node.selection_set.node;
                match out.iter_mut().find(|(k, _)| *k == key) {
                    Some((_, sets)) => sets.push(below),
                    None => out.push((key, vec![below])),
                }
            }
            Selection::InlineFragment(fr) => {
                collect(doc, &fr.node.selection_set.node, out, depth + 1)
            }
            Selection::FragmentSpread(spread) => {
                if let Some(fragment) = doc.fragments.get(&spread.node.fragment_name.node) {
                    collect(doc, &fragment.node.selection_set.node, out, depth + 1);
                }
            }
        }
    }
}

/// Refuses alias bombs and oversized selection sets, and a subscription selecting other than
/// exactly one root field (the spec's single root field rule), before anything runs.
pub fn check_document(doc: &ExecutableDocument) -> Result<(), String> {
    let operations: Vec<&async_graphql::parser::types::OperationDefinition> = match &doc.operations
    {
        DocumentOperations::Single(op) => vec![&op.node],
        DocumentOperations::Multiple(ops) => ops.values().map(|o| &o.node).collect(),
    };
    for op in operations {
        check_set(&op.selection_set.node, 0)?;
        if op.ty == OperationType::Subscription {
            let mut keys = Vec::new();
            collect(doc, &op.selection_set.node, &mut keys, 0);
            if keys.len() != 1 || keys[0].0.starts_with("__") {
                return Err("订阅只能选择一个根字段（不含 __typename）".to_owned());
            }
        }
    }
    for fragment in doc.fragments.values() {
        check_set(&fragment.node.selection_set.node, 0)?;
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

/// Root fields (response key, field name) of the operation `operation_name` selects in
/// `doc`, if it is a mutation. A document of several operations runs only the named one.
pub fn mutation_fields(
    doc: &ExecutableDocument,
    operation_name: Option<&str>,
) -> Vec<(String, String)> {
    operation(doc, operation_name)
        .filter(|op| op.ty == OperationType::Mutation)
        .into_iter()
        .flat_map(|op| op.selection_set.node.items.iter())
        .filter_map(|item| match &item.node {
            Selection::Field(f) => {
                let name = f.node.name.node.to_string();
                let key = f
                    .node
                    .alias
                    .as_ref()
                    .map(|a| a.node.to_string())
                    .unwrap_or_else(|| name.clone());
                Some((key, name))
            }
            _ => None,
        })
        .collect()
}

/// The operation a request runs: the named one, or the only one of the document.
pub fn operation<'a>(
    doc: &'a ExecutableDocument,
    operation_name: Option<&str>,
) -> Option<&'a async_graphql::parser::types::OperationDefinition> {
    match (&doc.operations, operation_name) {
        (DocumentOperations::Single(op), _) => Some(&op.node),
        (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name).map(|o| &o.node),
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => {
            ops.values().next().map(|o| &o.node)
        }
        _ => None,
    }
}

/// Root fields a user whose password was reset may use before changing it.
const BEFORE_PASSWORD_CHANGE: &[&str] = &["changePassword", "logoutEverywhere", "me", "__typename"];

/// Whether the operation selects only root fields open to a user who must change their
/// password first (fragments on the root are followed).
pub fn allowed_before_password_change(
    doc: &ExecutableDocument,
    operation_name: Option<&str>,
) -> bool {
    fn all_allowed(
        doc: &ExecutableDocument,
        set: &async_graphql::parser::types::SelectionSet,
    ) -> bool {
        set.items.iter().all(|item| match &item.node {
            Selection::Field(f) => BEFORE_PASSWORD_CHANGE.contains(&f.node.name.node.as_str()),
            Selection::InlineFragment(fr) => all_allowed(doc, &fr.node.selection_set.node),
            Selection::FragmentSpread(sp) => doc
                .fragments
                .get(&sp.node.fragment_name.node)
                .is_some_and(|fr| all_allowed(doc, &fr.node.selection_set.node)),
        })
    }
    operation(doc, operation_name).is_some_and(|op| all_allowed(doc, &op.selection_set.node))
}

/// The first problem with the request's variables that can be named before execution: a
/// required variable missing (or null), or a value of the wrong kind for a built-in scalar.
/// Returns the variable's name and a short message.
pub fn check_variables(
    doc: &ExecutableDocument,
    operation_name: Option<&str>,
    variables: &async_graphql::Variables,
) -> Option<(String, String)> {
    use async_graphql::{
        Value as ConstValue,
        parser::types::{BaseType, Type},
    };
    fn fits(ty: &Type, v: &ConstValue) -> bool {
        if matches!(v, ConstValue::Null) {
            return ty.nullable;
        }
        match &ty.base {
            BaseType::List(item) => match v {
                ConstValue::List(items) => items.iter().all(|x| fits(item, x)),
                // A single value is coerced to a list of one.
                other => fits(item, other),
            },
            BaseType::Named(name) => match (name.as_str(), v) {
                ("Int", ConstValue::Number(n)) => {
                    n.as_i64().is_some_and(|i| i32::try_from(i).is_ok())
                }
                ("Int", _) => false,
                ("Float", ConstValue::Number(_)) => true,
                ("Float", _) => false,
                ("String", ConstValue::String(_)) => true,
                ("String", _) => false,
                ("Boolean", ConstValue::Boolean(_)) => true,
                ("Boolean", _) => false,
                ("ID", ConstValue::String(_)) => true,
                ("ID", ConstValue::Number(n)) => n.is_i64() || n.is_u64(),
                ("ID", _) => false,
                // Enums, input objects and custom scalars are checked by the schema.
                _ => true,
            },
        }
    }
    let op = operation(doc, operation_name)?;
    for def in &op.variable_definitions {
        let def = &def.node;
        let name = def.name.node.to_string();
        let ty = &def.var_type.node;
        match variables.get(&def.name.node) {
            None if !ty.nullable && def.default_value.is_none() => {
                return Some((name.clone(), format!("缺少必填变量 ${name}")));
            }
            Some(v) if !fits(ty, v) => {
                return Some((name.clone(), format!("变量 ${name} 的值不是 {ty} 类型")));
            }
            _ => {}
        }
    }
    None
}

/// Whether the operation to run is a mutation (or cannot be chosen).
pub fn is_mutation(doc: &ExecutableDocument, operation_name: Option<&str>) -> bool {
    match (&doc.operations, operation_name) {
        (DocumentOperations::Single(op), _) => op.node.ty == OperationType::Mutation,
        (DocumentOperations::Multiple(ops), Some(name)) => ops
            .get(name)
            .is_some_and(|op| op.node.ty == OperationType::Mutation),
        (DocumentOperations::Multiple(ops), None) => {
            ops.values().any(|op| op.node.ty == OperationType::Mutation)
        }
    }
}

/// Whether the operation to run selects only introspection (`__schema`, `__type`,
/// `__typename`), through fragments too.
pub fn only_introspection(doc: &ExecutableDocument, operation_name: Option<&str>) -> bool {
    let op = operation(doc, operation_name);
    fn all_meta(
        doc: &ExecutableDocument,
        set: &async_graphql::parser::types::SelectionSet,
        depth: usize,
    ) -> bool {
        depth < 16
            && !set.items.is_empty()
            && set.items.iter().all(|item| match &item.node {
                Selection::Field(f) => f.node.name.node.starts_with("__"),
                Selection::InlineFragment(i) => {
                    all_meta(doc, &i.node.selection_set.node, depth + 1)
                }
                Selection::FragmentSpread(s) => doc
                    .fragments
                    .get(&s.node.fragment_name.node)
                    .is_some_and(|f| all_meta(doc, &f.node.selection_set.node, depth + 1)),
            })
    }
    op.is_some_and(|op| op.ty == OperationType::Query && all_meta(doc, &op.selection_set.node, 0))
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
        check_document(&doc).map_err(|m| {
            let mut e = ServerError::new(m, None);
            e.extensions
                .get_or_insert_with(Default::default)
                .set("code", ErrorCode::GraphqlValidationFailed.as_str());
            e
        })?;
        *self.document.lock().unwrap_or_else(|e| e.into_inner()) = Some(doc.clone());
        Ok(doc)
    }

    /// Writes the audit log of a mutation's root fields once it has run (no per-field hook,
    /// so queries pay nothing for it).
    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        let response = next.run(ctx, operation_name).await;
        let document = self
            .document
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        let fields = document
            .map(|doc| mutation_fields(&doc, operation_name))
            .unwrap_or_default();
        if fields.is_empty() {
            return response;
        }
        if let Some(state) = ctx.data_opt::<AppState>() {
            state.viewers.check_all();
        }
        let user_id = match ctx.data_opt::<Viewer>() {
            Some(Viewer::User(u)) => Some(u.id()),
            _ => None,
        };
        if let (Some(state), Some(user_id)) = (ctx.data_opt::<AppState>(), user_id) {
            let request_id = ctx.data_opt::<RequestId>().map(|r| r.0.clone());
            audit(state, user_id, request_id, fields, &response).await;
        }
        response
    }
}

/// Whether a response comes from running the operation: errors raised before execution
/// (parsing, limits, validation) have no path, those of fields always have one.
pub fn executed(response: &Response) -> bool {
    response.errors.iter().all(|e| !e.path.is_empty())
}

/// Writes the audit log of a mutation's root fields (`fields`, from [`mutation_fields`]) once
/// it has run: who, which mutation, its target and its outcome. Anonymous calls change
/// nothing (they are refused) and are not audited; `login` is not audited.
pub async fn audit(
    state: &AppState,
    user_id: i64,
    request_id: Option<String>,
    fields: Vec<(String, String)>,
    response: &Response,
) {
    let data = match &response.data {
        Value::Object(map) => Some(map),
        _ => None,
    };
    // Logins and token trades are not actions on the data (their payloads hold tokens).
    const NOT_AUDITED: &[&str] = &["login", "refreshToken", "loginWithWeChat", "bindWeChat"];
    for (key, name) in fields
        .into_iter()
        .filter(|(_, n)| !NOT_AUDITED.contains(&n.as_str()))
    {
        let error = response.errors.iter().find(
            |e| matches!(e.path.first(), Some(async_graphql::PathSegment::Field(f)) if *f == key),
        );
        let payload = data.and_then(|d| d.get(key.as_str()));
        let (outcome, target_type, target_id) = match (error, payload) {
            (Some(e), _) => (
                e.extensions
                    .as_ref()
                    .and_then(|x| x.get("code"))
                    .map(|c| c.to_string().trim_matches('"').to_owned())
                    .unwrap_or_else(|| "ERROR".to_owned()),
                None,
                None,
            ),
            (None, Some(Value::Object(p))) => (
                "OK".to_owned(),
                p.keys().next().map(|k| k.to_string()),
                first_id(&Value::Object(p.clone())),
            ),
            (None, _) => ("OK".to_owned(), None, None),
        };
        let row = audit_log::ActiveModel {
            user_id: Set(Some(user_id)),
            operation: Set(name),
            target_type: Set(target_type),
            target_id: Set(target_id),
            outcome: Set(outcome),
            request_id: Set(request_id.clone()),
            created_at: Set(crate::core::clock::now()),
            ..Default::default()
        };
        if let Err(e) = row.insert(&state.db).await {
            tracing::error!(error = %e, "audit log write failed");
        }
    }
}

/// The request id (`x-request-id`), for logs and the audit trail.
#[derive(Clone, Debug)]
pub struct RequestId(pub String);

/// A parsed document with the guard's verdict on it.
pub struct Parsed {
    pub doc: ExecutableDocument,
    /// Why the guard refuses it, if it does.
    pub refused: Option<String>,
    /// Whether the document has passed the schema's full validation in a request without
    /// variables: with the same (empty) variables it passes again, so such a request is
    /// executed with only the checks that do not depend on the document alone (the
    /// complexity and depth limits), see `build_validated_schema` of the roof.
    valid_without_variables: std::sync::atomic::AtomicBool,
}

impl Parsed {
    /// See `valid_without_variables`.
    pub fn valid_without_variables(&self) -> bool {
        self.valid_without_variables
            .load(std::sync::atomic::Ordering::Acquire)
    }

    /// Records that a request without variables passed the full validation.
    pub fn passed_without_variables(&self) {
        self.valid_without_variables
            .store(true, std::sync::atomic::Ordering::Release);
    }
}

/// Parsed documents by query text. Front-ends send the same few operations over and over,
/// and parsing is a noticeable share of a small request; a hit costs a clone of the tree.
pub struct Documents {
    map: crate::core::cache::Bounded<String, Arc<Parsed>>,
}

impl Default for Documents {
    fn default() -> Self {
        Self {
            map: crate::core::cache::Bounded::new(MAX_DOCUMENTS),
        }
    }
}

/// Distinct documents kept (the least recently used leave first).
const MAX_DOCUMENTS: usize = 256;
/// Longer query texts are parsed every time.
const MAX_CACHED_QUERY: usize = 4 * 1024;

impl Documents {
    /// The parsed document of `query`, or `None` when it does not parse (the schema then
    /// reports the syntax error itself).
    pub fn get(&self, query: &str) -> Option<Arc<Parsed>> {
        let cacheable = query.len() <= MAX_CACHED_QUERY;
        if cacheable && let Some(p) = self.map.get(query) {
            return Some(p);
        }
        let doc = async_graphql::parser::parse_query(query).ok()?;
        let parsed = Arc::new(Parsed {
            refused: check_document(&doc).err(),
            doc,
            valid_without_variables: Default::default(),
        });
        if cacheable {
            self.map.put(query.to_owned(), parsed.clone());
        }
        Some(parsed)
    }
}
