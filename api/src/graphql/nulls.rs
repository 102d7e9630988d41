//! Non-null propagation (GraphQL spec, "Handling Field Errors"): a field error makes the
//! field `null`; when the field's type is non-null, its nearest nullable ancestor becomes
//! `null` instead (the whole `data` when there is none). async-graphql drops the key of a
//! failed field; this pass restores what the spec requires, from the schema's types and the
//! request's document (aliases and fragments included).

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use async_graphql::{
    ServerResult, Variables,
    extensions::{
        Extension, ExtensionContext, ExtensionFactory, NextExecute, NextParseQuery,
        NextPrepareRequest, NextSubscribe,
    },
};
use futures_util::{StreamExt, stream::BoxStream};

use async_graphql::{
    Name, PathSegment, Response, Value,
    parser::types::{ExecutableDocument, OperationType, Selection, SelectionSet},
};
use tokio::sync::OnceCell;

/// A field's type as introspection describes it.
#[derive(Debug, Clone)]
enum TypeRef {
    NonNull(Box<TypeRef>),
    List(Box<TypeRef>),
    Named(String),
}

impl TypeRef {
    fn from_json(v: &serde_json::Value) -> Option<TypeRef> {
        match v["kind"].as_str()? {
            "NON_NULL" => Some(TypeRef::NonNull(Box::new(Self::from_json(&v["ofType"])?))),
            "LIST" => Some(TypeRef::List(Box::new(Self::from_json(&v["ofType"])?))),
            _ => Some(TypeRef::Named(v["name"].as_str()?.to_owned())),
        }
    }

    fn nullable(&self) -> bool {
        !matches!(self, TypeRef::NonNull(_))
    }

    fn inner(&self) -> &TypeRef {
        match self {
            TypeRef::NonNull(t) => t,
            t => t,
        }
    }
}

struct Types {
    fields: HashMap<String, HashMap<String, TypeRef>>,
    query: String,
    mutation: String,
    subscription: String,
}

const INTROSPECT: &str = "{ __schema { queryType { name } mutationType { name } subscriptionType { name } types { name fields { name type { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } } } }";

type Introspect = Box<
    dyn Fn() -> std::pin::Pin<Box<dyn std::future::Future<Output = async_graphql::Response> + Send>>
        + Send
        + Sync,
>;

/// How to introspect the whole schema, handed in by the roof (which alone names the roots).
static INTROSPECT_WITH: std::sync::OnceLock<Introspect> = std::sync::OnceLock::new();

/// The roof hands in a schema with introspection on, read once when first needed.
pub fn learn_from<E: async_graphql::Executor>(schema: E) {
    let _ = INTROSPECT_WITH.set(Box::new(move || {
        let schema = schema.clone();
        Box::pin(async move {
            schema
                .execute(async_graphql::Request::new(INTROSPECT))
                .await
        })
    }));
}

/// Whether the schema to learn the field types from has been handed in.
pub fn knows_schema() -> bool {
    INTROSPECT_WITH.get().is_some()
}

/// The schema's field types, read once by introspection of a development build of it.
async fn types() -> Option<&'static Types> {
    static TYPES: OnceCell<Option<Types>> = OnceCell::const_new();
    TYPES
        .get_or_init(|| async {
            let res = (INTROSPECT_WITH.get()?)().await;
            let json = serde_json::to_value(&res.data).ok()?;
            let s = &json["__schema"];
            let mut fields = HashMap::new();
            for t in s["types"].as_array()? {
                let Some(name) = t["name"].as_str() else {
                    continue;
                };
                let mut map = HashMap::new();
                for f in t["fields"].as_array().into_iter().flatten() {
                    if let (Some(n), Some(ty)) =
                        (f["name"].as_str(), TypeRef::from_json(&f["type"]))
                    {
                        map.insert(n.to_owned(), ty);
                    }
                }
                fields.insert(name.to_owned(), map);
            }
            Some(Types {
                fields,
                query: s["queryType"]["name"].as_str()?.to_owned(),
                mutation: s["mutationType"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                subscription: s["subscriptionType"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            })
        })
        .await
        .as_ref()
}

/// Fields of `sets` (fragments followed) whose response key is `key`: their names and
/// their selection sets.
fn find<'a>(
    doc: &'a ExecutableDocument,
    sets: &[&'a SelectionSet],
    key: &str,
    name: &mut Option<String>,
    out: &mut Vec<&'a SelectionSet>,
    depth: usize,
) {
    if depth > 32 {
        return;
    }
    for set in sets {
        for item in &set.items {
            match &item.node {
                Selection::Field(f) => {
                    if f.node.response_key().node.as_str() == key {
                        name.get_or_insert_with(|| f.node.name.node.to_string());
                        out.push(&f.node.selection_set.node);
                    }
                }
                Selection::InlineFragment(i) => {
                    find(
                        doc,
                        &[&i.node.selection_set.node],
                        key,
                        name,
                        out,
                        depth + 1,
                    );
                }
                Selection::FragmentSpread(s) => {
                    if let Some(frag) = doc.fragments.get(&s.node.fragment_name.node) {
                        find(
                            doc,
                            &[&frag.node.selection_set.node],
                            key,
                            name,
                            out,
                            depth + 1,
                        );
                    }
                }
            }
        }
    }
}

/// Whether each position along `path` may be null (a field's type, or a list's items).
fn nullability(
    types: &Types,
    doc: &ExecutableDocument,
    root: &str,
    root_set: &SelectionSet,
    path: &[PathSegment],
) -> Option<Vec<bool>> {
    let mut out = Vec::with_capacity(path.len());
    let mut parent = root.to_owned();
    let mut sets: Vec<&SelectionSet> = vec![root_set];
    let mut current: Option<TypeRef> = None;
    for seg in path {
        match seg {
            PathSegment::Field(key) => {
                let mut name = None;
                let mut next = Vec::new();
                find(doc, &sets, key, &mut name, &mut next, 0);
                let name = name?;
                let ty = types.fields.get(&parent)?.get(&name)?.clone();
                out.push(ty.nullable());
                if let TypeRef::Named(n) = innermost(&ty) {
                    parent = n.clone();
                }
                current = Some(ty.inner().clone());
                sets = next;
            }
            PathSegment::Index(_) => {
                let TypeRef::List(item) = current.take()? else {
                    return None;
                };
                out.push(item.nullable());
                current = Some(item.inner().clone());
            }
        }
    }
    Some(out)
}

fn innermost(t: &TypeRef) -> &TypeRef {
    match t {
        TypeRef::NonNull(i) | TypeRef::List(i) => innermost(i),
        t => t,
    }
}

/// Sets the value at `path` to null, if its container exists.
fn set_null(data: &mut Value, path: &[PathSegment]) {
    let Some((last, parents)) = path.split_last() else {
        *data = Value::Null;
        return;
    };
    let mut cur = data;
    for seg in parents {
        cur = match (seg, cur) {
            (PathSegment::Field(k), Value::Object(map)) => match map.get_mut(k.as_str()) {
                Some(v) => v,
                None => return,
            },
            (PathSegment::Index(i), Value::List(list)) => match list.get_mut(*i) {
                Some(v) => v,
                None => return,
            },
            _ => return,
        };
    }
    match (last, cur) {
        (PathSegment::Field(k), Value::Object(map)) => {
            map.insert(Name::new(k), Value::Null);
        }
        (PathSegment::Index(i), Value::List(list)) => {
            if let Some(v) = list.get_mut(*i) {
                *v = Value::Null;
            }
        }
        _ => {}
    }
}

/// Applies non-null propagation to the field errors of a response.
pub async fn propagate(
    response: &mut Response,
    doc: &ExecutableDocument,
    operation_name: Option<&str>,
) {
    if response.errors.iter().all(|e| e.path.is_empty()) {
        return;
    }
    let Some(types) = types().await else {
        return;
    };
    let Some(op) = super::guard::operation(doc, operation_name) else {
        return;
    };
    let root = match op.ty {
        OperationType::Query => types.query.as_str(),
        OperationType::Mutation => types.mutation.as_str(),
        OperationType::Subscription => types.subscription.as_str(),
    };
    let paths: Vec<Vec<PathSegment>> = response
        .errors
        .iter()
        .filter(|e| !e.path.is_empty())
        .map(|e| e.path.clone())
        .collect();
    for path in paths {
        let Some(nullable) = nullability(types, doc, root, &op.selection_set.node, &path) else {
            continue;
        };
        match nullable.iter().rposition(|n| *n) {
            Some(at) => set_null(&mut response.data, &path[..=at]),
            None => response.data = Value::Null,
        }
    }
}

/// Non-null propagation for the WebSocket path, where responses (subscription events
/// included) are written by async-graphql-axum: the document is kept when it is parsed and
/// every response of the operation passes through [`propagate`].
pub struct Propagation;

/// The document of the operation and the operation's name.
type KeptDocument = Arc<Mutex<Option<(Arc<ExecutableDocument>, Option<String>)>>>;

#[derive(Default)]
struct PropagationExtension {
    doc: KeptDocument,
    operation_name: Mutex<Option<String>>,
}

fn kept(doc: &KeptDocument) -> Option<(Arc<ExecutableDocument>, Option<String>)> {
    doc.lock().unwrap_or_else(|e| e.into_inner()).clone()
}

impl ExtensionFactory for Propagation {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(PropagationExtension::default())
    }
}

#[async_trait::async_trait]
impl Extension for PropagationExtension {
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        request: async_graphql::Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<async_graphql::Request> {
        *self
            .operation_name
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = request.operation_name.clone();
        next.run(ctx, request).await
    }

    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let doc = next.run(ctx, query, variables).await?;
        let name = self
            .operation_name
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        *self.doc.lock().unwrap_or_else(|e| e.into_inner()) = Some((Arc::new(doc.clone()), name));
        Ok(doc)
    }

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        let mut response = next.run(ctx, operation_name).await;
        if let Some((doc, _)) = kept(&self.doc) {
            propagate(&mut response, &doc, operation_name).await;
            super::order::reorder(&mut response.data, &doc, operation_name);
        }
        response
    }

    fn subscribe<'s>(
        &self,
        ctx: &ExtensionContext<'_>,
        stream: BoxStream<'s, Response>,
        next: NextSubscribe<'_>,
    ) -> BoxStream<'s, Response> {
        let doc = self.doc.clone();
        next.run(ctx, stream)
            .then(move |mut response| {
                let doc = doc.clone();
                async move {
                    if let Some((doc, name)) = kept(&doc) {
                        propagate(&mut response, &doc, name.as_deref()).await;
                        super::order::reorder(&mut response.data, &doc, name.as_deref());
                    }
                    response
                }
            })
            .boxed()
    }
}
