//! Trusted documents: the front-ends' operations registered ahead, addressed by id.
//!
//! A request names one with `documentId` (POST body, or `GET /graphql?documentId=…`);
//! `extensions.persistedQuery.sha256Hash` (Apollo's form) is read as the same id. In
//! production, once a manifest is loaded, nothing else runs: a document's text or an unknown
//! id answers `PERSISTED_QUERY_NOT_FOUND` with `extensions.reason: DOCUMENT_NOT_TRUSTED`.
//! In development both run (GraphiQL and introspection need free documents).
//!
//! A manifest is a JSON object `{ "<id>": "<document>" }` (graphql-codegen's client preset
//! writes `persisted-documents.json` so, with ids by its `hashAlgorithm`), or a folder of
//! `.graphql` files (`docs/operations/`), each addressed by the SHA-256 of its text (hex,
//! `sha256:` prefix accepted).

use std::path::{Path, PathBuf};

use crate::core::config::TrustedDocuments;

/// The SHA-256 of a document's text, in hex.
pub fn document_id(text: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Loads manifests and folders into one table of trusted documents.
pub fn load(paths: &[PathBuf]) -> anyhow::Result<TrustedDocuments> {
    let mut docs = TrustedDocuments::default();
    for path in paths {
        if path.is_dir() {
            add_folder(&mut docs, path)?;
        } else {
            add_manifest(&mut docs, path)?;
        }
    }
    Ok(docs)
}

fn add_folder(docs: &mut TrustedDocuments, dir: &Path) -> anyhow::Result<()> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "graphql"))
        .collect();
    files.sort();
    for file in files {
        let text = std::fs::read_to_string(&file)?;
        check(&text, &file.display().to_string())?;
        docs.texts.insert(document_id(&text));
        docs.by_id.insert(document_id(&text), text);
    }
    Ok(())
}

fn add_manifest(docs: &mut TrustedDocuments, file: &Path) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(file)?;
    let map: std::collections::BTreeMap<String, String> = serde_json::from_str(&text)
        .map_err(|e| anyhow::anyhow!("{}: not a manifest of documents ({e})", file.display()))?;
    for (id, document) in map {
        check(&document, &format!("{} ({id})", file.display()))?;
        docs.texts.insert(document_id(&document));
        docs.by_id.insert(normalise(&id), document);
    }
    Ok(())
}

/// A document must parse: a manifest with a broken one is refused at start, not at use.
fn check(text: &str, name: &str) -> anyhow::Result<()> {
    async_graphql::parser::parse_query(text)
        .map(|_| ())
        .map_err(|e| anyhow::anyhow!("{name}: not a GraphQL document ({e})"))
}

/// An id as looked up: lower-case, without a `sha256:` prefix.
pub fn normalise(id: &str) -> String {
    let id = id.trim();
    id.strip_prefix("sha256:")
        .unwrap_or(id)
        .to_ascii_lowercase()
}

/// The refusal of a document that is not trusted.
pub fn refusal() -> async_graphql::ServerError {
    let mut err = async_graphql::ServerError::new("只接受已登记的查询文档", None);
    let ext = err.extensions.get_or_insert_with(Default::default);
    ext.set("code", "PERSISTED_QUERY_NOT_FOUND");
    ext.set(
        "reason",
        crate::core::error::reason_name(crate::core::error::ErrorReason::DocumentNotTrusted),
    );
    err
}

/// The id a request names: `documentId`, or Apollo's `extensions.persistedQuery.sha256Hash`.
pub fn named_id(document_id: Option<&str>, request: &async_graphql::Request) -> Option<String> {
    document_id.map(normalise).or_else(|| {
        let pq = request.extensions.get("persistedQuery")?;
        let pq = serde_json::to_value(pq).ok()?;
        pq["sha256Hash"].as_str().map(normalise)
    })
}

/// Production with a manifest: every operation on every door (POST, GET, WebSocket, SSE)
/// must be a trusted text, whichever way it arrived.
pub struct TrustedOnly(pub std::sync::Arc<TrustedDocuments>);

impl async_graphql::extensions::ExtensionFactory for TrustedOnly {
    fn create(&self) -> std::sync::Arc<dyn async_graphql::extensions::Extension> {
        std::sync::Arc::new(TrustedOnlyExtension(self.0.clone()))
    }
}

struct TrustedOnlyExtension(std::sync::Arc<TrustedDocuments>);

#[async_trait::async_trait]
impl async_graphql::extensions::Extension for TrustedOnlyExtension {
    async fn prepare_request(
        &self,
        ctx: &async_graphql::extensions::ExtensionContext<'_>,
        mut request: async_graphql::Request,
        next: async_graphql::extensions::NextPrepareRequest<'_>,
    ) -> async_graphql::ServerResult<async_graphql::Request> {
        if request.query.trim().is_empty()
            && let Some(id) = named_id(None, &request)
            && let Some(text) = self.0.by_id.get(&id)
        {
            request.query = text.clone();
            request.extensions.remove("persistedQuery");
        }
        if !self.0.texts.contains(&document_id(&request.query)) {
            return Err(refusal());
        }
        next.run(ctx, request).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_the_sha256_of_the_text_with_or_without_a_prefix() {
        assert_eq!(
            document_id("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(normalise(" sha256:ABC "), "abc");
    }
}
